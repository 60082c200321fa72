//! `jack-pms mock-pms`: the mock PMS on its own.

use crate::mock_pms::{MockPms, load_seed};
use anyhow::Context;
use secrecy::SecretString;
use std::path::Path;
use std::process::ExitCode;

pub fn run(listen: &str, seed: &Path, api_key_env: &str) -> anyhow::Result<ExitCode> {
    let key = std::env::var(api_key_env)
        .ok()
        .filter(|k| !k.is_empty())
        .with_context(|| format!("set the API key the mock PMS should expect in ${api_key_env}"))?;
    let addr: std::net::SocketAddr = listen
        .parse()
        .with_context(|| format!("`{listen}` is not an address"))?;
    let seed = load_seed(seed)?;
    let mock = MockPms::new(
        seed,
        SecretString::from(key),
        chrono::Utc::now().date_naive(),
    )?;
    super::tokio_runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "mock PMS listening (admin endpoints under /admin)");
        mock.serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}
