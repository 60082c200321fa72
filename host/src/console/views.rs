//! The console's pages as askama templates (`host/templates/console/`): every value is
//! HTML-escaped by the template engine; nothing here builds markup by hand.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Renders a template, or a plain error page if it cannot be (a bug, logged).
pub trait Page: Template {
    /// The page as HTML.
    fn html(&self) -> Html<String> {
        match self.render() {
            Ok(html) => Html(html),
            Err(e) => {
                tracing::error!(error = %e, "console: a page failed to render");
                Html("<!DOCTYPE html><title>Error</title><p>This page failed to render.</p>".into())
            }
        }
    }
}

impl<T: Template> Page for T {}

/// What every page of a logged-in person shows around its content.
pub struct Frame {
    /// Who is logged in.
    pub name: String,
    /// Their role's name.
    pub role: &'static str,
    /// The session's CSRF token, for every form.
    pub csrf: String,
    /// Which navigation entry is the current page.
    pub active: &'static str,
}

/// The login form.
#[derive(Template)]
#[template(path = "console/login.html")]
pub struct Login {
    /// Where to go after login.
    pub next: String,
    /// The login form's own token.
    pub login_token: String,
    /// Why the last try failed.
    pub problem: Option<String>,
}

/// An error page.
#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    /// Heading.
    pub title: String,
    /// What happened, for a person.
    pub message: String,
}

/// An error page with its status.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        ErrorPage {
            title: title.to_owned(),
            message: message.to_owned(),
        }
        .html(),
    )
        .into_response()
}

/// One hotel's row.
pub struct HotelRow {
    /// Hotel id.
    pub id: String,
    /// Hotel name.
    pub name: String,
    /// Adapter.
    pub adapter: String,
    /// Adapter version.
    pub version: Option<String>,
    /// `reachable`, `unreachable`, `unavailable` (not loaded).
    pub pms: String,
    /// Badge class of `pms`.
    pub pms_class: &'static str,
    /// The health check's detail or the load problem.
    pub detail: Option<String>,
    /// Token validity.
    pub token: String,
    /// Rate-limit usage, one line.
    pub rate_limits: String,
    /// Cache hit ratio and counts.
    pub cache: String,
    /// Breaker state.
    pub breaker: String,
    /// Badge class of `breaker`.
    pub breaker_class: &'static str,
    /// Queue depth.
    pub queue: String,
    /// One line per sync stream.
    pub sync: Vec<String>,
}

/// The Hotels page.
#[derive(Template)]
#[template(path = "console/hotels.html")]
pub struct Hotels {
    pub frame: Frame,
    pub rows: Vec<HotelRow>,
    /// How old a PMS health answer may be.
    pub max_age_secs: u64,
}

/// The rows of the Hotels page, for its live refresh.
#[derive(Template)]
#[template(path = "console/hotel_rows.html")]
pub struct HotelRows {
    pub rows: Vec<HotelRow>,
}

/// An action button of a write.
pub struct ActionButton {
    /// `retry`, `resend`, `cancel`, `approve`, `reject`.
    pub action: &'static str,
    /// The button's text.
    pub label: &'static str,
    /// The form asks for a reason.
    pub needs_reason: bool,
}

/// One write's row.
pub struct WriteRow {
    pub id: String,
    pub hotel: String,
    pub operation: String,
    pub target: String,
    pub caller: String,
    pub created_at: String,
    /// What it writes: only for roles that see personal data.
    pub summary: Option<String>,
    pub state: &'static str,
    pub state_label: String,
    pub state_class: &'static str,
    pub next_attempt: Option<String>,
    pub attempts: u32,
    pub error: Option<String>,
    /// The actions this person may take on it now.
    pub actions: Vec<ActionButton>,
}

/// The Writes page.
#[derive(Template)]
#[template(path = "console/writes.html")]
pub struct Writes {
    pub frame: Frame,
    pub rows: Vec<WriteRow>,
    pub hotels: Vec<String>,
    pub hotel: Option<String>,
    pub notice: Option<String>,
}

/// One audit row.
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub hotel: String,
    pub operation: String,
    pub operation_id: String,
    pub target: String,
    pub event: String,
    pub attempt: Option<u32>,
    pub outcome: String,
    /// Only for roles that see personal data.
    pub detail: Option<String>,
}

/// The audit page's filter, as typed.
#[derive(Default)]
pub struct AuditFilterView {
    pub hotel: String,
    pub operation: String,
    pub actor: String,
    pub since: String,
    pub until: String,
}

/// The chain's verification.
pub struct VerificationView {
    pub intact: bool,
    pub rows: u64,
    pub problems: Vec<String>,
    pub heads: Vec<crate::state::audit::ChainHead>,
}

/// The Audit log page.
#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct Audit {
    pub frame: Frame,
    pub verification: VerificationView,
    pub filter: AuditFilterView,
    pub rows: Vec<AuditRow>,
    pub problem: Option<String>,
}

/// One operation's audit trail.
#[derive(Template)]
#[template(path = "console/audit_operation.html")]
pub struct AuditOperation {
    pub frame: Frame,
    pub id: String,
    pub state: Option<String>,
    pub rows: Vec<AuditRow>,
}

/// One event's row.
pub struct EventRow {
    pub id: String,
    pub at: String,
    pub hotel: String,
    pub kind: String,
    pub about: String,
}

/// The Events page.
#[derive(Template)]
#[template(path = "console/events.html")]
pub struct Events {
    pub frame: Frame,
    pub hotels: Vec<String>,
    pub hotel: Option<String>,
    pub stream: String,
    pub recent: Vec<EventRow>,
}

/// One adapter's reviewer report.
pub struct AdapterView {
    pub name: String,
    pub problem: Option<String>,
    pub facts: Vec<(String, String)>,
    pub imports: Vec<ImportView>,
    pub manifest: Vec<(String, String)>,
    pub hotels: Vec<HotelReview>,
}

/// One import and the host's verdict.
pub struct ImportView {
    pub name: String,
    pub allowed: bool,
    pub why: String,
}

/// What an adapter's manifest becomes for one hotel.
pub struct HotelReview {
    pub id: String,
    pub facts: Vec<(String, String)>,
}

/// The Adapters page.
#[derive(Template)]
#[template(path = "console/adapters.html")]
pub struct Adapters {
    pub frame: Frame,
    pub adapters: Vec<AdapterView>,
}

/// One staff alert.
pub struct AlertRow {
    pub at: String,
    pub hotel: String,
    /// `write_failed`, `critical_write_queued`, `awaiting_approval`, `pms_down`.
    pub kind: String,
    /// Badge class.
    pub class: &'static str,
    /// The write concerned.
    pub operation_id: Option<String>,
    /// What happened (for viewers, only for alerts not about a write: a write's error may
    /// quote what it holds).
    pub message: String,
}

/// The Alerts page.
#[derive(Template)]
#[template(path = "console/alerts.html")]
pub struct Alerts {
    pub frame: Frame,
    pub hotels: Vec<String>,
    pub hotel: Option<String>,
    pub rows: Vec<AlertRow>,
    /// The PMS-down threshold, for people.
    pub pms_down_after: String,
}
