//! Bearer-token authentication. Tokens are configured as SHA-256 hashes; the caller's name goes
//! into the logs (and the audit log). Authentication is a type in each handler's signature.

use super::AppState;
use super::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's configured name.
    pub name: String,
    /// What the token may do beyond reads and writes.
    pub scopes: Vec<crate::config::TokenScope>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| Problem::unauthorized("send `Authorization: Bearer <token>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Problem::unauthorized("the Authorization header is not `Bearer <token>`")
            })?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare against every token without stopping early, in constant time per token.
        let mut found = None;
        for t in state.tokens.iter() {
            if constant_time_eq(&t.sha256, &digest) {
                found = Some(Caller {
                    name: t.name.clone(),
                    scopes: t.scopes.clone(),
                });
            }
        }
        found.ok_or_else(|| Problem::unauthorized("the token is not valid"))
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
