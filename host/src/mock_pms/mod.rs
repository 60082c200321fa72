//! TEMPORARY scaffold until the real module lands.
#![allow(missing_docs, dead_code)]
#[derive(Debug, thiserror::Error)]
#[error("seed")]
pub struct SeedError;
pub struct Seed;
#[derive(Clone)]
pub struct MockPms;
impl MockPms {
    pub fn new(
        _seed: Seed,
        _k: secrecy::SecretString,
        _t: chrono::NaiveDate,
    ) -> Result<MockPms, SeedError> {
        Err(SeedError)
    }
    pub async fn serve(
        self,
        _l: tokio::net::TcpListener,
        _s: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        Ok(())
    }
}
pub fn load_seed(_p: &std::path::Path) -> Result<Seed, SeedError> {
    Err(SeedError)
}
