//! Throwaway PostgreSQL databases for tests and benchmarks: each [`ScratchDb`] is a database of
//! its own, created on the server named by `JACK_PMS_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, the server every machine of this project runs)
//! and dropped when the value is dropped, so runs never see each other's rows.

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The server scratch databases are made on, unless `JACK_PMS_TEST_POSTGRES` names another.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct ScratchDb {
    name: String,
    server: String,
}

fn server() -> String {
    std::env::var("JACK_PMS_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

impl ScratchDb {
    /// Creates a new, empty database with a random name.
    pub async fn create() -> Result<ScratchDb, sqlx::Error> {
        let server = server();
        let name = format!("jack_pms_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server).await?;
        // The name is ours (letters, digits, underscores): safe to splice into DDL.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(ScratchDb { name, server })
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        match url::Url::parse(&self.server) {
            Ok(mut u) => {
                u.set_path(&self.name);
                u.to_string()
            }
            Err(_) => format!("{}/{}", self.server.trim_end_matches('/'), self.name),
        }
    }

    /// Drops the database now (closing any connection still open to it).
    pub async fn drop_now(&self) -> Result<(), sqlx::Error> {
        drop_database(&self.server, &self.name).await
    }
}

/// `DROP DATABASE name WITH (FORCE)` on `server`.
async fn drop_database(server: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // Drop runs outside any async context it could borrow: a thread of its own with a
        // small runtime. A failure only leaves a database behind; it is reported, not fatal.
        let (server, name) = (self.server.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    rt.block_on(drop_database(&server, &name))
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = result {
                eprintln!("cannot drop scratch database {name}: {e}");
            }
        })
        .join();
        if done.is_err() {
            eprintln!("the thread dropping a scratch database panicked");
        }
    }
}
