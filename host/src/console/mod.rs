//! The staff console at `/console`: the writes that need a person, the health of every hotel,
//! the audit log, the live events and the adapters' reviewer reports, for hotel staff and Jack's
//! operators in a browser.
//!
//! Server-rendered HTML (askama templates, escaped by default) with one small script and one
//! stylesheet embedded in the binary: no front-end build, no CDN, no external font. Staff log
//! in with their own accounts ([`crate::staff`]); Jack's bearer tokens do not open it and its
//! session cookie does not open `/v1`. Every state-changing request carries the session's CSRF
//! token and must come from the console's own origin. The console's answers are HTML, so it is
//! merged beside the API's router rather than under its problem+json layers.

mod assets;
mod auth;
mod board;
mod pages;
mod views;

use crate::config::{AdapterSettings, ConsoleSettings};
use crate::service::Service;
use crate::staff::accounts::Accounts;
use crate::staff::sessions::{SessionLimits, Sessions};
use crate::staff::throttle::LoginThrottle;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// What the console's handlers reach.
#[derive(Clone)]
pub struct ConsoleState {
    service: Arc<Service>,
    accounts: Accounts,
    sessions: Sessions,
    throttle: Arc<LoginThrottle>,
    settings: ConsoleSettings,
    adapters: Arc<AdapterSettings>,
    board: Arc<board::HealthBoard>,
    /// How long a PMS may be down before it is an alert (`events.pmsDownAlertAfterSecs`).
    pms_down_alert_after: std::time::Duration,
}

impl ConsoleState {
    /// The console over `service`, with accounts and sessions in `db` (the state database),
    /// as `config` sets it up (`server.console`, the adapters' limits, the alert threshold).
    pub fn new(
        service: Arc<Service>,
        db: crate::db::Db,
        config: &crate::config::Config,
    ) -> Result<ConsoleState, crate::staff::StaffError> {
        let settings = config.server.console.clone();
        let adapters = config.adapters.clone();
        let sessions = Sessions::new(
            db.clone(),
            SessionLimits {
                idle: settings.idle,
                lifetime: settings.lifetime,
            },
        );
        Ok(ConsoleState {
            board: Arc::new(board::HealthBoard::new(service.clone())),
            service,
            accounts: Accounts::new(db)?,
            sessions,
            throttle: Arc::new(LoginThrottle::default()),
            settings,
            adapters: Arc::new(adapters),
            pms_down_alert_after: config.events.pms_down_alert_after,
        })
    }
}

/// The largest form the console takes (a reason is at most 500 characters).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The console's routes, under `/console`.
pub fn router<S>(state: ConsoleState) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/console", get(pages::home))
        .route("/console/", get(pages::home))
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/hotels", get(pages::hotels))
        .route("/console/hotels/stream", get(pages::hotels_stream))
        .route("/console/writes", get(pages::writes))
        .route("/console/writes/{id}/{action}", post(pages::act))
        .route("/console/alerts", get(pages::alerts))
        .route("/console/audit", get(pages::audit))
        .route("/console/audit/{id}", get(pages::audit_operation))
        .route("/console/events", get(pages::events))
        .route("/console/events/stream", get(pages::events_stream))
        .route("/console/adapters", get(pages::adapters))
        .route("/console/assets/{file}", get(assets::serve))
        // Not a fallback: the API's router has that, and axum merges only one.
        .route(
            "/console/{*rest}",
            get(pages::not_found).post(pages::not_found),
        )
        .layer(axum::middleware::map_response(assets::security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            pages::panicked,
        ))
        .with_state(state)
}
