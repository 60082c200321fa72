//! A mock PMS served from the test process itself, outside every host: it keeps what it was
//! given while hosts are killed and restarted, and several hosts can share it.

use jack_pms_host::mock_pms::{MockPms, Seed, load_seed};
use secrecy::SecretString;
use serde_json::Value;

/// A running mock PMS. Dropping it stops it.
pub struct ExternalPms {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its API key.
    pub key: String,
    /// A client for the test's own calls.
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The seed of `examples/mock-seed.json`.
pub fn example_seed() -> Seed {
    load_seed(&super::root().join("examples/mock-seed.json")).expect("seed")
}

impl ExternalPms {
    /// Serves `seed` on a free loopback port with a random API key.
    pub async fn start(seed: Seed) -> ExternalPms {
        let key = super::random_key();
        let pms = MockPms::new(
            seed,
            SecretString::from(key.clone()),
            chrono::Utc::now().date_naive(),
        )
        .expect("mock PMS");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(pms.serve(listener, async move {
            let _ = stopped.await;
        }));
        ExternalPms {
            base,
            key,
            http: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// GET `path` with the API key; panics unless 200.
    pub async fn get(&self, path: &str) -> Value {
        mock_get(&self.http, &self.base, &self.key, path).await
    }

    /// Sets the faults (`{}` clears them).
    pub async fn faults(&self, faults: Value) {
        let r = self
            .http
            .put(format!("{}/admin/faults", self.base))
            .json(&faults)
            .send()
            .await
            .expect("faults");
        assert!(r.status().is_success(), "faults: {}", r.status());
    }

    /// A reservation's comment texts, in the order the PMS stored them.
    pub async fn comments(&self, hotel: &str, number: &str) -> Vec<String> {
        comments(&self.http, &self.base, &self.key, hotel, number).await
    }
}

impl Drop for ExternalPms {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// GET on a mock PMS (with its API key): the JSON body; panics unless 200.
pub async fn mock_get(http: &reqwest::Client, base: &str, key: &str, path: &str) -> Value {
    let r = http
        .get(format!("{base}{path}"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("mock PMS GET");
    let (status, body) = super::read(r).await;
    assert_eq!(status, 200, "mock PMS GET {path}: {body}");
    body
}

/// A reservation's comment texts at a mock PMS, in the order it stored them.
pub async fn comments(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    hotel: &str,
    number: &str,
) -> Vec<String> {
    let r = mock_get(
        http,
        base,
        key,
        &format!("/api/v1/hotels/{hotel}/reservations/{number}"),
    )
    .await;
    r["comments"]
        .as_array()
        .unwrap_or_else(|| panic!("no comments in {r}"))
        .iter()
        .map(|c| c["text"].as_str().expect("comment text").to_owned())
        .collect()
}
