//! The two readers of change events the tests use: a webhook receiver that checks every
//! signature, and an SSE client on `GET /v1/events`.

use super::{Stack, TOKEN};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jack_pms_host::events::webhooks::verify_signature;
use secrecy::SecretString;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long connecting an SSE client may take.
const DEADLINE: Duration = Duration::from_secs(60);

/// One event as a client saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    /// The log id (SSE `id:` / `x-jack-event-id`).
    pub id: String,
    /// The type (SSE `event:` / `x-jack-event-type`).
    pub kind: String,
    /// The whole event object (SSE `data:` / webhook body).
    pub body: Value,
}

impl Seen {
    /// (type, hotel, the confirmation or room number the event is about, or "").
    pub fn key(&self) -> (String, String, String) {
        let data = &self.body["data"];
        let subject = data["reservation"]["confirmationNumber"]
            .as_str()
            .or_else(|| data["room"]["roomNumber"].as_str())
            .unwrap_or_default();
        (
            self.kind.clone(),
            self.body["hotel"].as_str().unwrap_or_default().to_owned(),
            subject.to_owned(),
        )
    }
}

/// What a collector has gathered so far.
pub type Collected = Arc<Mutex<Vec<Seen>>>;

pub fn snapshot(c: &Collected) -> Vec<Seen> {
    c.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

// ---- webhook receiver --------------------------------------------------------------------

/// A webhook receiver on an ephemeral loopback port. Deliveries with a valid signature (and
/// headers that match the body) are recorded and get 200; others are recorded in `bad` and get
/// 401.
pub struct Receiver {
    /// Where it listens.
    pub url: String,
    /// Good deliveries, in arrival order.
    pub got: Collected,
    /// Refused deliveries.
    pub bad: Arc<Mutex<Vec<String>>>,
}

pub async fn start_receiver(secret: &str) -> Receiver {
    let got: Collected = Arc::default();
    let bad: Arc<Mutex<Vec<String>>> = Arc::default();
    let secret = SecretString::from(secret.to_owned());
    let (got2, bad2) = (got.clone(), bad.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let (got, bad, secret) = (got2.clone(), bad2.clone(), secret.clone());
            async move {
                let h = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let (id, kind) = (h("x-jack-event-id"), h("x-jack-event-type"));
                let signed = verify_signature(
                    &secret,
                    &h("x-jack-timestamp"),
                    &body,
                    &h("x-jack-signature"),
                );
                let json: Value = serde_json::from_slice(&body).unwrap_or_default();
                let problem = if !signed {
                    Some("bad signature".to_owned())
                } else if json.get("text").is_none()
                    && (json["id"] != id.as_str() || json["type"] != kind.as_str())
                {
                    // (A Slack-format body is `{"text": …}`: only the headers name the event.)
                    Some(format!(
                        "headers ({id}, {kind}) do not match the body {json}"
                    ))
                } else {
                    None
                };
                if let Some(problem) = problem {
                    bad.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("event {id}: {problem}"));
                    return StatusCode::UNAUTHORIZED;
                }
                got.lock().unwrap_or_else(|e| e.into_inner()).push(Seen {
                    id,
                    kind,
                    body: json,
                });
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver { url, got, bad }
}

impl Receiver {
    pub fn assert_no_bad_deliveries(&self) {
        let bad = self.bad.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            bad.is_empty(),
            "deliveries refused by the receiver: {bad:?}"
        );
    }
}

// ---- SSE client --------------------------------------------------------------------------

/// Opens `GET /v1/events` (with `Last-Event-ID` when given) and collects its events in the
/// background until the test ends. Returns once the response headers arrived, i.e. once the
/// server has subscribed.
pub async fn open_sse(stack: &Stack, query: &str, last_event_id: Option<&str>) -> Collected {
    // No overall timeout: the stream is meant to stay open.
    let client = reqwest::Client::new();
    let mut request = client
        .get(stack.url(&format!("/v1/events{query}")))
        .bearer_auth(TOKEN)
        .header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let mut response = tokio::time::timeout(DEADLINE, request.send())
        .await
        .expect("SSE connect timed out")
        .expect("SSE connect");
    assert_eq!(response.status(), 200, "GET /v1/events");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let seen: Collected = Arc::default();
    let out = seen.clone();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            // Events end with a blank line; the server writes `\n` line ends.
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(event) = parse_sse_block(&block) {
                    out.lock().unwrap_or_else(|e| e.into_inner()).push(event);
                }
            }
        }
    });
    seen
}

/// One SSE event from its lines (`id:`, `event:`, `data:`); None for keep-alive comments.
fn parse_sse_block(block: &str) -> Option<Seen> {
    let (mut id, mut kind, mut data) = (None, None, String::new());
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => kind = Some(value.to_owned()),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
    }
    if data.is_empty() && id.is_none() {
        return None;
    }
    let body: Value = serde_json::from_str(&data)
        .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {data}"));
    Some(Seen {
        id: id.unwrap_or_else(|| panic!("SSE event without an id: {block}")),
        kind: kind.unwrap_or_else(|| "message".into()),
        body,
    })
}
