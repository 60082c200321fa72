//! Jack's HTTP API (DESIGN §5): JSON over `/v1`, bearer tokens, RFC 9457 problems, the read
//! envelope, and the OpenAPI document generated from the handlers at `/openapi.json`.

pub mod auth;
pub mod envelope;
pub mod problem;
pub mod routes;

use crate::config::ApiToken;
use crate::service::Service;
use axum::Router;
use axum::routing::{get, post, put};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use utoipa::OpenApi;

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

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "jack-pms", description = "Jack's gateway to hotel property management systems."),
    paths(
        routes::hotels, routes::health, routes::get_guest, routes::search_guests, routes::update_preferences,
        routes::get_reservation, routes::arrivals, routes::departures, routes::in_house, routes::add_note,
        routes::update_checkout, routes::post_charge, routes::balance, routes::rooms, routes::room, routes::operation, routes::events, routes::vendor_webhook, routes::sync_now, routes::reload,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

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
        .route("/hotels/{hotel}/guests/{guest}", get(routes::get_guest))
        .route(
            "/hotels/{hotel}/guests/{guest}/preferences",
            put(routes::update_preferences),
        )
        .route(
            "/hotels/{hotel}/reservations/{number}",
            get(routes::get_reservation),
        )
        .route(
            "/hotels/{hotel}/reservations/{number}/notes",
            post(routes::add_note),
        )
        .route(
            "/hotels/{hotel}/reservations/{number}/checkout",
            put(routes::update_checkout),
        )
        .route(
            "/hotels/{hotel}/reservations/{number}/charges",
            post(routes::post_charge),
        )
        .route(
            "/hotels/{hotel}/reservations/{number}/balance",
            get(routes::balance),
        )
        .route("/hotels/{hotel}/arrivals", get(routes::arrivals))
        .route("/hotels/{hotel}/departures", get(routes::departures))
        .route("/hotels/{hotel}/in-house", get(routes::in_house))
        .route("/hotels/{hotel}/rooms", get(routes::rooms))
        .route("/hotels/{hotel}/rooms/{room}", get(routes::room))
        .route("/operations/{id}", get(routes::operation))
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
            get(|| async { axum::Json(ApiDoc::openapi()) }),
        )
        .route("/metrics", get(metrics))
        .nest("/v1", v1)
        .fallback(|| async { problem::Problem::no_route() })
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "see /openapi.json",
            )
        })
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
        "internal",
        "Internal error",
        "the host failed while answering this request; it keeps serving others",
    )
    .into_response()
}
