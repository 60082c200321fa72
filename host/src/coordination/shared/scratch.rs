//! Throwaway Redis state for tests and benchmarks: a [`ScratchPrefix`] is a key prefix of its
//! own on the server every machine of this project runs (127.0.0.1:6379), whose keys are
//! deleted when it is dropped; an [`OwnRedis`] is a `redis-server` process of the test's own, on
//! a free port, that it can stop and start again (Redis going away mid-run).

use crate::config::RedisSettings;
use std::time::Duration;

/// The Redis server of every machine of this project.
pub const DEFAULT_SERVER: &str = "redis://127.0.0.1:6379/0";

/// A key prefix of its own; its keys on [`DEFAULT_SERVER`] are deleted when it is dropped.
pub struct ScratchPrefix(pub String);

impl ScratchPrefix {
    /// A new random prefix (`jack-test-…`).
    pub fn new() -> ScratchPrefix {
        ScratchPrefix(format!("jack-test-{}", uuid::Uuid::new_v4().simple()))
    }

    /// Settings for the Redis at `url` under this prefix (250 ms timeout).
    pub fn settings(&self, url: &str) -> RedisSettings {
        RedisSettings {
            url: secrecy::SecretString::from(url.to_owned()),
            key_prefix: self.0.clone(),
            timeout: Duration::from_millis(250),
        }
    }

    /// Every key under the prefix with its value as bytes (hash fields and values joined; set
    /// and sorted-set members joined), for tests that look for plaintext.
    pub fn dump(&self, url: &str) -> ::redis::RedisResult<Vec<(String, Vec<u8>)>> {
        let client = ::redis::Client::open(url)?;
        let mut conn = client.get_connection()?;
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg(format!("{}:*", self.0))
            .query(&mut conn)?;
        let mut out = Vec::new();
        for key in keys {
            let kind: String = ::redis::cmd("TYPE").arg(&key).query(&mut conn)?;
            let value: Vec<u8> = match kind.as_str() {
                "string" => ::redis::cmd("GET")
                    .arg(&key)
                    .query(&mut conn)
                    .unwrap_or_default(),
                "hash" => {
                    let all: Vec<Vec<u8>> = ::redis::cmd("HGETALL")
                        .arg(&key)
                        .query(&mut conn)
                        .unwrap_or_default();
                    all.concat()
                }
                "zset" | "set" => {
                    let all: Vec<Vec<u8>> =
                        ::redis::cmd(if kind == "set" { "SMEMBERS" } else { "ZRANGE" })
                            .arg(&key)
                            .arg_if(kind == "zset", 0)
                            .arg_if(kind == "zset", -1)
                            .query(&mut conn)
                            .unwrap_or_default();
                    all.concat()
                }
                _ => Vec::new(),
            };
            out.push((key, value));
        }
        Ok(out)
    }
}

impl Default for ScratchPrefix {
    fn default() -> ScratchPrefix {
        ScratchPrefix::new()
    }
}

impl Drop for ScratchPrefix {
    fn drop(&mut self) {
        let Ok(client) = ::redis::Client::open(DEFAULT_SERVER) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg(format!("{}:*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        for key in keys {
            let _: Result<(), _> = ::redis::cmd("DEL").arg(key).query(&mut conn);
        }
    }
}

trait ArgIf {
    fn arg_if(&mut self, yes: bool, arg: i64) -> &mut Self;
}

impl ArgIf for ::redis::Cmd {
    fn arg_if(&mut self, yes: bool, arg: i64) -> &mut Self {
        if yes {
            self.arg(arg);
        }
        self
    }
}

/// A Redis server of a test's own, on a free port, that it can stop and start again.
pub struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    /// Starts `redis-server` (from the `PATH`) on a free loopback port, nothing kept on disk.
    pub fn start() -> std::io::Result<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut own = OwnRedis { port, child: None };
        own.resume()?;
        Ok(own)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts it again on the same port (empty, as Redis restarted without persistence is).
    pub fn resume(&mut self) -> std::io::Result<()> {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        for _ in 0..250 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "redis-server did not listen on port {} within 5 s",
                self.port
            ),
        ))
    }

    /// Kills it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
