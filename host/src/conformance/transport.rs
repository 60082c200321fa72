//! The suite's side of the wire: every request the adapter makes (after the host's policy checks
//! and credentials) reaches this transport, which forwards it to the PMS under test, answers it
//! from fixtures, or answers with the fault a scenario injects; and records what was asked.

use crate::egress::{EgressError, PreparedRequest, RawResponse, Transport};
use jack_pms_sdk::testing::fixtures::Fixtures;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// Where normal answers come from.
pub enum Backend {
    /// A running PMS (or simulator): each request goes to this origin, path and query kept.
    Against {
        /// The PMS's base URL (scheme, host, port and an optional path prefix).
        base: url::Url,
        /// The client used to reach it.
        client: reqwest::Client,
    },
    /// Recorded exchanges.
    Fixtures(Fixtures),
}

/// A malformed body the suite sends to prove the adapter does not trap on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// JSON cut off mid-way.
    TruncatedJson,
    /// An HTML error page with a 200.
    Html,
    /// Bytes that are not UTF-8.
    Binary,
    /// Valid JSON of an unexpected shape.
    WrongShape,
    /// `null`.
    Null,
}

impl Garbage {
    /// Every kind.
    pub const ALL: [Garbage; 5] = [
        Garbage::TruncatedJson,
        Garbage::Html,
        Garbage::Binary,
        Garbage::WrongShape,
        Garbage::Null,
    ];

    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Garbage::TruncatedJson => "truncated JSON",
            Garbage::Html => "an HTML page",
            Garbage::Binary => "non-UTF-8 bytes",
            Garbage::WrongShape => "JSON of another shape",
            Garbage::Null => "null",
        }
    }

    /// Whether no honest reading of the body exists, so the answer must be an error.
    pub fn must_fail(self) -> bool {
        matches!(
            self,
            Garbage::TruncatedJson | Garbage::Html | Garbage::Binary
        )
    }

    fn body(self) -> Vec<u8> {
        match self {
            Garbage::TruncatedJson => br#"{"data": [{"id": "1", "name": "#.to_vec(),
            Garbage::Html => b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            Garbage::Binary => vec![0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96, 0xc3, 0x28],
            Garbage::WrongShape => {
                br#"{"unexpected": {"shape": [1, 2, 3]}, "success": "maybe"}"#.to_vec()
            }
            Garbage::Null => b"null".to_vec(),
        }
    }
}

/// What the transport does with the adapter's requests right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Normal answers from the backend.
    Pass,
    /// Answer every request with this status (and a small JSON error body).
    Status(u16),
    /// Answer every request with 200 and a malformed body.
    Garbage(Garbage),
}

/// One request the adapter made.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// URL as the adapter built it (before forwarding).
    pub url: String,
    /// Body length.
    pub body: Option<Vec<u8>>,
}

/// The harness transport.
pub struct Harness {
    backend: Backend,
    /// The OAuth token endpoint (its origin when not the API's, and its path), whose requests
    /// faults spare (the scenario is about the adapter's mapping, not the host's token client)
    /// unless `fault_tokens` is set.
    token_endpoint: Option<(Option<String>, String)>,
    state: Mutex<State>,
}

struct State {
    mode: Mode,
    fault_tokens: bool,
    seen: Vec<Seen>,
    unmatched: Vec<String>,
}

impl Harness {
    /// A transport over `backend`; `token_endpoint` is the manifest's OAuth token endpoint, if
    /// any: its origin when it is not the API's, and its path.
    pub fn new(backend: Backend, token_endpoint: Option<(Option<String>, String)>) -> Harness {
        Harness {
            backend,
            token_endpoint,
            state: Mutex::new(State {
                mode: Mode::Pass,
                fault_tokens: false,
                seen: Vec::new(),
                unmatched: Vec::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the mode for the following requests and forgets what was seen. `fault_tokens`
    /// applies the fault to OAuth token requests too.
    pub fn set(&self, mode: Mode, fault_tokens: bool) {
        let mut s = self.state();
        s.mode = mode;
        s.fault_tokens = fault_tokens;
        s.seen.clear();
        s.unmatched.clear();
    }

    /// The adapter's requests since the last [`Harness::set`] (token requests excluded).
    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// Requests no fixture matched since the last [`Harness::set`].
    pub fn unmatched(&self) -> Vec<String> {
        self.state().unmatched.clone()
    }

    fn is_token_request(&self, request: &PreparedRequest) -> bool {
        self.token_endpoint.as_ref().is_some_and(|(origin, path)| {
            request.url.path() == path.split('?').next().unwrap_or_default()
                && origin
                    .as_deref()
                    .is_none_or(|o| request.url.origin().ascii_serialization() == o)
        })
    }

    async fn answer(&self, request: PreparedRequest) -> Result<RawResponse, EgressError> {
        let token = self.is_token_request(&request);
        let mode = {
            let mut s = self.state();
            if !token {
                s.seen.push(Seen {
                    method: request.method.as_str().to_string(),
                    url: request.url.to_string(),
                    body: request.body.clone(),
                });
            }
            if token && !s.fault_tokens {
                Mode::Pass
            } else {
                s.mode
            }
        };
        match mode {
            Mode::Status(status) => Ok(RawResponse {
                status,
                headers: if status == 429 {
                    vec![
                        ("content-type".into(), "application/json".into()),
                        ("retry-after".into(), "1".into()),
                    ]
                } else {
                    vec![("content-type".into(), "application/json".into())]
                },
                body: format!(
                    r#"{{"error":"injected by the conformance suite","status":{status}}}"#
                )
                .into_bytes(),
            }),
            Mode::Garbage(g) => Ok(RawResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: g.body(),
            }),
            Mode::Pass => match &self.backend {
                Backend::Against { base, client } => forward(client, base, request).await,
                Backend::Fixtures(fixtures) => {
                    if token {
                        return Ok(RawResponse {
                            status: 200,
                            headers: vec![("content-type".into(), "application/json".into())],
                            body: br#"{"access_token":"conformance-token","token_type":"Bearer","expires_in":3600}"#.to_vec(),
                        });
                    }
                    let method = request.method.as_str();
                    match fixtures.find(method, request.url.as_str(), request.body.as_deref()) {
                        Some(e) => Ok(RawResponse {
                            status: e.response.status,
                            headers: e.response.header_list(),
                            body: e.response.body_bytes(),
                        }),
                        None => {
                            self.state()
                                .unmatched
                                .push(format!("{method} {}", request.url.path()));
                            Ok(RawResponse {
                                status: 404,
                                headers: vec![("content-type".into(), "application/json".into())],
                                body: br#"{"error":"no fixture matches this request"}"#.to_vec(),
                            })
                        }
                    }
                }
            },
        }
    }
}

/// Sends `request` to `base`'s origin with the same path and query (behind `base`'s path prefix).
async fn forward(
    client: &reqwest::Client,
    base: &url::Url,
    mut request: PreparedRequest,
) -> Result<RawResponse, EgressError> {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{}", request.url.path()));
    url.set_query(request.url.query());
    request.url = url;
    crate::egress::send_with(client, request)
        .await
        .map_err(|e| match e {
            EgressError::Connection(m) => {
                EgressError::Connection(format!("the PMS under test: {m}"))
            }
            other => other,
        })
}

impl Transport for Harness {
    fn send(
        &self,
        request: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>> {
        Box::pin(self.answer(request))
    }
}
