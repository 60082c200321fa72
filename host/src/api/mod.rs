//! Jack's HTTP API (DESIGN §5): JSON over `/v1`, bearer tokens, RFC 9457 problems, the read
//! envelope, and the OpenAPI document generated from the handlers at `/openapi.json`.

pub mod auth;
pub mod doc;
pub mod envelope;
pub mod params;
pub mod problem;
pub mod routes;

use crate::config::ApiToken;
use crate::service::Service;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub service: Arc<Service>,
    /// Accepted tokens.
    pub tokens: Arc<Vec<ApiToken>>,
    /// Re-reads the config's hotels (`POST /v1/admin/reload`); `None` when the host was not
    /// started from a config file.
    pub reloader: Option<Arc<dyn Reload>>,
}

/// What `POST /v1/admin/reload` runs. The host's assembly provides it (it knows the config file
/// and the secrets); the API only asks, so it depends on nothing above it.
pub trait Reload: Send + Sync {
    /// Re-reads the hotels; an invalid config changes nothing and answers why.
    fn reload(&self) -> BoxFuture<'_, Result<crate::service::ReloadReport, String>>;
}

pub use doc::ApiDoc;

/// The largest request body the API takes (413 `payload-too-large` beyond it). Jack's writes are
/// a few hundred bytes; a vendor webhook batch of many events stays well under it.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Prometheus metrics (unauthenticated, like `/healthz`: no secret and no guest data in them).
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.service.render_metrics().await,
    )
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/hotels", get(routes::hotels))
        .route("/hotels/{hotel}/health", get(routes::health))
        .route("/hotels/{hotel}/guests", get(routes::search_guests))
        .route("/hotels/{hotel}/guests/{guestId}", get(routes::get_guest))
        .route(
            "/hotels/{hotel}/guests/{guestId}/preferences",
            put(routes::update_preferences),
        )
        .route(
            "/hotels/{hotel}/reservations/{confirmationNumber}",
            get(routes::get_reservation),
        )
        .route(
            "/hotels/{hotel}/reservations/{confirmationNumber}/notes",
            post(routes::add_note),
        )
        .route(
            "/hotels/{hotel}/reservations/{confirmationNumber}/checkout",
            put(routes::update_checkout),
        )
        .route(
            "/hotels/{hotel}/reservations/{confirmationNumber}/charges",
            post(routes::post_charge),
        )
        .route(
            "/hotels/{hotel}/reservations/{confirmationNumber}/balance",
            get(routes::balance),
        )
        .route("/hotels/{hotel}/arrivals", get(routes::arrivals))
        .route("/hotels/{hotel}/departures", get(routes::departures))
        .route("/hotels/{hotel}/in-house", get(routes::in_house))
        .route("/hotels/{hotel}/rooms", get(routes::rooms))
        .route("/hotels/{hotel}/rooms/{roomNumber}", get(routes::room))
        .route("/operations/{id}", get(routes::operation))
        .route("/operations/{id}/{action}", post(routes::operation_action))
        .route("/events", get(routes::events))
        .route(
            "/hotels/{hotel}/sync/{stream}",
            axum::routing::post(routes::sync_now),
        )
        .route(
            "/webhooks/{hotel}/{vendor}",
            axum::routing::post(routes::vendor_webhook),
        )
        .route("/admin/reload", post(routes::reload));
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route(
            "/openapi.json",
            get(|| async { axum::Json(doc::document()) }),
        )
        .route("/metrics", get(metrics))
        .nest("/v1", v1)
        .fallback(|| async { problem::Problem::no_route() })
        // Every error answer is a problem, also those the framework gives (a rejected path, an
        // unknown method with its `Allow` header, an oversized body).
        .layer(axum::middleware::map_response(as_problem))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(state)
}

/// The answer to a request whose handler panicked. The panic's message stays in the log (the
/// panic hook wrote it there); the caller learns only that the host failed. Writes interrupted
/// this way are queued again by the write path itself, never left pending.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    tracing::error!("a request handler panicked; answered 500");
    problem::Problem::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        problem::ProblemType::Internal,
        "the host failed while answering this request; it keeps serving others",
    )
    .into_response()
}

/// Turns an error answer that is not a problem yet (one the framework gave: axum's 405 with its
/// `Allow` header, a body over [`MAX_BODY_BYTES`], a path it could not parse) into one, keeping
/// its status and headers; its text becomes the detail, escaped and bounded.
async fn as_problem(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Framework answers are one short line; more than this is cut.
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let detail = match std::str::from_utf8(&text) {
        Ok(t) if !t.trim().is_empty() => crate::untrusted::escape(t.trim(), 300),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let problem = problem::Problem::new(status, problem::ProblemType::for_status(status), detail);
    let mut answer = problem.into_response();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    for (name, value) in parts.headers.drain().filter_map(|(n, v)| n.map(|n| (n, v))) {
        answer.headers_mut().entry(name).or_insert(value);
    }
    answer
}
