//! `jack-pms token new|hash`: make API tokens and the hashes the config stores.

use anyhow::Context;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::process::ExitCode;

pub fn new() -> anyhow::Result<ExitCode> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("jpms_{}", hex::encode(bytes));
    println!("token:  {token}");
    println!("sha256: {}", hex::encode(Sha256::digest(token.as_bytes())));
    Ok(ExitCode::SUCCESS)
}

pub fn hash() -> anyhow::Result<ExitCode> {
    let mut token = String::new();
    std::io::stdin()
        .read_to_string(&mut token)
        .context("cannot read the token from stdin")?;
    let token = token.trim();
    anyhow::ensure!(!token.is_empty(), "no token on stdin");
    println!("{}", hex::encode(Sha256::digest(token.as_bytes())));
    Ok(ExitCode::SUCCESS)
}
