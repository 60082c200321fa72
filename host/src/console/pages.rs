//! The console's pages and the one action form. Each handler asks the service (the same walk
//! as the API's) and fills a template; what a role may not see is left out here, before
//! rendering, and what it may not do is refused here whatever the page showed.

use super::ConsoleState;
use super::auth::Staff;
use super::board::MAX_AGE;
use super::views::{self, Frame, Page};
use crate::service::{HotelHealth, HotelSummary, StaffAction, WriteState};
use crate::staff::Role;
use crate::state::audit::{AuditFilter, AuditRecord};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// Rows a page shows at most (the newest).
const PAGE_ROWS: u32 = 500;
/// How often the Hotels page's rows are sent again.
const HOTELS_EVERY: Duration = Duration::from_secs(5);
/// Events the Events page starts with.
const RECENT_EVENTS: u32 = 50;
/// How often a live event stream checks that its session is still live.
const SESSION_CHECK_EVERY: Duration = Duration::from_secs(15);

fn frame(staff: &Staff, active: &'static str) -> Frame {
    Frame {
        name: staff.name.clone(),
        role: staff.role.as_str(),
        csrf: staff.csrf(),
        active,
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A service error as a page (the service's messages hold no secret: they are the API's).
fn failed(e: impl std::fmt::Display) -> Response {
    views::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        &crate::untrusted::escape(&e.to_string(), 300),
    )
}

/// `GET /console`
pub async fn home(_staff: Staff) -> Redirect {
    Redirect::to("/console/hotels")
}

/// Any other `/console/…` path.
pub async fn not_found() -> Response {
    views::error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page in the console.",
    )
}

/// A handler that panicked: a page, not a dropped connection.
pub fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a console handler panicked; answered 500");
    views::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "The host failed while answering. It keeps serving; try again.",
    )
}

// ---------------------------------------------------------------------------------------------
// Hotels

fn hotel_row(summary: HotelSummary, health: Result<HotelHealth, String>) -> views::HotelRow {
    let mut row = views::HotelRow {
        id: summary.id,
        name: summary.name,
        adapter: summary.adapter,
        version: summary.adapter_version,
        pms: "unavailable".into(),
        pms_class: "bad",
        detail: summary.problem,
        token: "–".into(),
        rate_limits: "–".into(),
        cache: "–".into(),
        breaker: "–".into(),
        breaker_class: "",
        queue: "–".into(),
        sync: Vec::new(),
    };
    let h = match health {
        Ok(h) => h,
        Err(e) => {
            if row.detail.is_none() {
                row.detail = Some(crate::untrusted::escape(&e, 200));
            }
            return row;
        }
    };
    (row.pms, row.pms_class) = if h.healthy {
        (format!("reachable · {} ms", h.latency_ms), "ok")
    } else {
        ("unreachable".into(), "bad")
    };
    row.detail = h.detail.map(|d| crate::untrusted::escape(&d, 200));
    row.token = match h.token_valid_until {
        Some(t) if t > Utc::now() => format!("{} UTC", time(t)),
        Some(t) => format!("expired {} UTC", time(t)),
        None => "no OAuth token".into(),
    };
    row.rate_limits = if h.rate_limits.is_empty() {
        "none".into()
    } else {
        h.rate_limits
            .iter()
            .map(|r| {
                let paused = r
                    .paused_for_ms
                    .map(|ms| format!(", paused {} s", ms.div_ceil(1000)))
                    .unwrap_or_default();
                format!("{}/{} per {} s{paused}", r.used, r.limit, r.per_seconds)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    row.cache = format!(
        "{:.0}% ({} hits, {} misses)",
        h.cache.hit_ratio * 100.0,
        h.cache.hits,
        h.cache.misses
    );
    (row.breaker, row.breaker_class) = match h.breaker.reopens_in_ms {
        Some(ms) => (
            format!(
                "open · {} failures · {} s left",
                h.breaker.failures,
                ms.div_ceil(1000)
            ),
            "bad",
        ),
        None if h.breaker.failures > 0 => {
            (format!("closed · {} failures", h.breaker.failures), "warn")
        }
        None => ("closed".into(), "ok"),
    };
    row.queue = h.queue_depth.to_string();
    row.sync = h
        .sync
        .iter()
        .map(|s| {
            if !s.enabled {
                return format!("{}: off", s.stream);
            }
            let outcome = match &s.outcome {
                Some(crate::report::RunOutcome::Ok { items, events }) => {
                    format!("ok ({items} items, {events} events)")
                }
                Some(crate::report::RunOutcome::Error { message }) => {
                    format!("error: {}", crate::untrusted::escape(message, 120))
                }
                None => "not run yet".into(),
            };
            let last = s
                .last_finished
                .map(|t| format!(" at {}", time(t)))
                .unwrap_or_default();
            let next = s
                .next_run
                .map(|t| format!("; next {}", time(t)))
                .unwrap_or_default();
            format!("{}: {outcome}{last}{next}", s.stream)
        })
        .collect();
    row
}

async fn hotel_rows(state: &ConsoleState) -> Vec<views::HotelRow> {
    state
        .board
        .hotels()
        .await
        .into_iter()
        .map(|(s, h)| hotel_row(s, h))
        .collect()
}

/// `GET /console/hotels`
pub async fn hotels(State(state): State<ConsoleState>, staff: Staff) -> Response {
    views::Hotels {
        frame: frame(&staff, "hotels"),
        rows: hotel_rows(&state).await,
        max_age_secs: MAX_AGE.as_secs(),
    }
    .html()
    .into_response()
}

/// `GET /console/hotels/stream`: the Hotels page's rows every few seconds, as HTML rendered
/// (and escaped) here, for the page's script to put in place.
pub async fn hotels_stream(State(state): State<ConsoleState>, staff: Staff) -> Response {
    let stream = futures_util::stream::unfold((state, staff), |(state, staff)| async move {
        tokio::time::sleep(HOTELS_EVERY).await;
        if !staff.still_valid(&state).await {
            return None;
        }
        let rows = views::HotelRows {
            rows: hotel_rows(&state).await,
        }
        .html()
        .0;
        let event = Event::default().event("rows").data(rows);
        Some((Ok::<_, Infallible>(event), (state, staff)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Writes

/// `?hotel=&done=&op=` of the Writes page.
#[derive(Debug, Default, Deserialize)]
pub struct WritesQuery {
    hotel: Option<String>,
    /// The action just taken (from the redirect after a form).
    done: Option<String>,
    /// The operation it was taken on.
    op: Option<String>,
}

fn state_view(state: WriteState, outcome_unknown: bool) -> (String, &'static str) {
    match state {
        WriteState::AwaitingApproval => ("awaiting approval".into(), "warn"),
        WriteState::Failed if outcome_unknown => ("failed · outcome unknown".into(), "bad"),
        WriteState::Failed => ("failed".into(), "bad"),
        WriteState::Queued => ("queued".into(), "warn"),
        WriteState::Pending => ("being attempted".into(), "warn"),
        WriteState::Applied => ("applied".into(), "ok"),
        WriteState::Cancelled => ("cancelled".into(), ""),
    }
}

/// The buttons `role` gets for a write in `state`.
fn buttons(role: Role, state: WriteState) -> Vec<views::ActionButton> {
    let button =
        |action: &'static str, label: &'static str, needs_reason: bool| views::ActionButton {
            action,
            label,
            needs_reason,
        };
    let mut out = Vec::new();
    match state {
        WriteState::AwaitingApproval => {
            if role.approves() {
                out.push(button("approve", "Approve", false));
                out.push(button("reject", "Reject", true));
            }
            if role.operates() {
                out.push(button("cancel", "Cancel", true));
            }
        }
        WriteState::Failed if role.operates() => {
            out.push(button("retry", "Retry", false));
            out.push(button("resend", "Resend", true));
            out.push(button("cancel", "Cancel", true));
        }
        WriteState::Queued | WriteState::Pending if role.operates() => {
            out.push(button("cancel", "Cancel", true));
        }
        _ => {}
    }
    out
}

/// Known hotel ids, for filters.
fn hotel_ids(state: &ConsoleState) -> Vec<String> {
    state.service.hotels().into_iter().map(|h| h.id).collect()
}

/// A hotel filter naming a configured hotel, or none.
fn known_hotel(state: &ConsoleState, hotel: Option<String>) -> Option<String> {
    hotel.filter(|h| state.service.hotels().iter().any(|x| &x.id == h))
}

/// `GET /console/writes`
pub async fn writes(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<WritesQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|q| q.0).unwrap_or_default();
    let hotel = known_hotel(&state, q.hotel);
    let found = match state
        .service
        .writes_for_staff(hotel.as_deref(), PAGE_ROWS)
        .await
    {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    let sees = staff.role.sees_personal_data();
    let rows = found
        .into_iter()
        .map(|w| {
            let (state_label, state_class) = state_view(w.record.state, w.outcome_unknown);
            views::WriteRow {
                actions: buttons(staff.role, w.record.state),
                id: w.record.id,
                hotel: w.record.hotel,
                operation: w.record.operation,
                target: w.record.target,
                caller: w.record.caller,
                created_at: time(w.record.created_at),
                summary: sees.then_some(w.summary),
                state: w.record.state.as_str(),
                state_label,
                state_class,
                next_attempt: w.record.next_attempt_at.map(time),
                attempts: w.record.attempts,
                error: w
                    .record
                    .error
                    .filter(|_| sees)
                    .map(|e| crate::untrusted::escape(&e, 300)),
            }
        })
        .collect();
    let notice = match (q.done.as_deref().and_then(past_tense), q.op) {
        (Some(done), Some(op)) if valid_operation_id(&op) => {
            Some(format!("Operation {op} {done}."))
        }
        _ => None,
    };
    views::Writes {
        frame: frame(&staff, "writes"),
        rows,
        hotels: hotel_ids(&state),
        hotel,
        notice,
    }
    .html()
    .into_response()
}

fn past_tense(action: &str) -> Option<&'static str> {
    Some(match action {
        "retry" => "is queued again",
        "resend" => "is queued to be sent again without a read-back",
        "cancel" => "is cancelled",
        "approve" => "is approved and queued",
        "reject" => "is rejected",
        _ => return None,
    })
}

/// Operation ids are generated by the host: letters, digits, `-`, `_`.
fn valid_operation_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The action form's fields.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    /// For resend: the person confirms the PMS does not hold the write.
    #[serde(default)]
    confirm: String,
}

/// `POST /console/writes/{id}/{action}`
pub async fn act(
    State(state): State<ConsoleState>,
    staff: Staff,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<ActionForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return views::error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form was incomplete.",
        );
    };
    if let Err(refused) = staff.check_form(&headers, &form.csrf) {
        return refused.into_response();
    }
    let action = match action.as_str() {
        "retry" => StaffAction::Retry,
        "resend" => StaffAction::Resend,
        "cancel" => StaffAction::Cancel,
        "approve" => StaffAction::Approve,
        "reject" => StaffAction::Reject,
        _ => return not_found().await,
    };
    if !valid_operation_id(&id) {
        return not_found().await;
    }
    if !staff.role.may(action) {
        tracing::warn!(staff = %staff.name, role = staff.role.as_str(), operation_id = %id, ?action, "console action refused: role");
        return views::error_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!("The {} role may not do this.", staff.role.as_str()),
        );
    }
    // Cancelling, rejecting and resending need a reason: they decide something the guest or
    // the hotel will ask about.
    let needs_reason = matches!(
        action,
        StaffAction::Cancel | StaffAction::Reject | StaffAction::Resend
    );
    let reason = if form.reason.trim().is_empty() {
        if needs_reason {
            return views::error_page(
                StatusCode::BAD_REQUEST,
                "Reason needed",
                "Say why: the reason goes into the audit log.",
            );
        }
        None
    } else {
        match crate::state::check_reason(&form.reason) {
            Ok(r) => Some(r),
            Err(e) => return views::error_page(StatusCode::BAD_REQUEST, "Bad reason", &e),
        }
    };
    if action == StaffAction::Resend && form.confirm != "yes" {
        return views::error_page(
            StatusCode::BAD_REQUEST,
            "Confirmation needed",
            "Resend sends the write again without checking the PMS first: confirm that you \
             checked the PMS does not hold it.",
        );
    }
    let actor = staff.actor();
    let by = crate::state::Staff {
        actor: &actor,
        reason,
    };
    match state.service.act(&id, action, &by).await {
        Ok(record) => {
            tracing::info!(staff = %staff.name, operation_id = %id, ?action, state = %record.state, "console action");
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("done", action_name(action))
                .append_pair("op", &id)
                .finish();
            Redirect::to(&format!("/console/writes?{query}")).into_response()
        }
        Err(crate::service::ServiceError::NotFound(m)) => views::error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            &crate::untrusted::escape(&m, 200),
        ),
        Err(crate::service::ServiceError::NotNow(m)) => views::error_page(
            StatusCode::CONFLICT,
            "Not possible now",
            &crate::untrusted::escape(&m, 300),
        ),
        Err(e) => failed(e),
    }
}

fn action_name(action: StaffAction) -> &'static str {
    match action {
        StaffAction::Retry => "retry",
        StaffAction::Resend => "resend",
        StaffAction::Cancel => "cancel",
        StaffAction::Approve => "approve",
        StaffAction::Reject => "reject",
    }
}

// ---------------------------------------------------------------------------------------------
// Audit

/// The Audit page's filter, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    hotel: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

/// A `datetime-local` value (UTC, as the page says), or a problem naming the field.
fn local_time(field: &str, value: &str) -> Result<Option<DateTime<Utc>>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| format!("{field}: expected a date and time such as 2026-12-08T09:30"))
}

fn bounded(value: &str, max: usize) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.chars().take(max).collect())
}

fn audit_rows(records: Vec<AuditRecord>, sees: bool) -> Vec<views::AuditRow> {
    records
        .into_iter()
        .rev()
        .map(|r| views::AuditRow {
            at: r.at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            actor: r.actor,
            hotel: r.hotel,
            operation: r.operation,
            operation_id: r.operation_id,
            target: r.target,
            event: r.event,
            attempt: r.attempt,
            outcome: r.outcome,
            detail: r
                .detail
                .filter(|_| sees)
                .map(|d| crate::untrusted::escape(&d, 500)),
        })
        .collect()
}

async fn verification(state: &ConsoleState) -> Result<views::VerificationView, Response> {
    let v = state.service.verify_audit().await.map_err(failed)?;
    Ok(views::VerificationView {
        intact: v.intact(),
        rows: v.rows,
        problems: v
            .problems
            .iter()
            .map(|p| crate::untrusted::escape(p, 300))
            .collect(),
        heads: v.heads,
    })
}

/// `GET /console/audit`
pub async fn audit(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|q| q.0).unwrap_or_default();
    let times = local_time("From", &q.since).and_then(|s| Ok((s, local_time("To", &q.until)?)));
    let (problem, filter) = match times {
        Ok((since, until)) => (
            None,
            AuditFilter {
                hotel: bounded(&q.hotel, 64),
                since,
                until,
                operation: bounded(&q.operation, 64),
                actor: bounded(&q.actor, 80),
                limit: Some(PAGE_ROWS),
                ..AuditFilter::default()
            },
        ),
        Err(p) => (
            Some(p),
            AuditFilter {
                limit: Some(PAGE_ROWS),
                ..AuditFilter::default()
            },
        ),
    };
    let verification = match verification(&state).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rows = match state.service.audit(&filter).await {
        Ok(rows) => rows,
        Err(e) => return failed(e),
    };
    views::Audit {
        frame: frame(&staff, "audit"),
        verification,
        filter: views::AuditFilterView {
            hotel: q.hotel.chars().take(64).collect(),
            operation: q.operation.chars().take(64).collect(),
            actor: q.actor.chars().take(80).collect(),
            since: q.since.chars().take(19).collect(),
            until: q.until.chars().take(19).collect(),
        },
        rows: audit_rows(rows, staff.role.sees_personal_data()),
        problem,
    }
    .html()
    .into_response()
}

/// `GET /console/audit/{id}`: one operation's steps, oldest first.
pub async fn audit_operation(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if !valid_operation_id(&id) {
        return not_found().await;
    }
    let rows = match state
        .service
        .audit(&AuditFilter {
            operation_id: Some(id.clone()),
            limit: Some(PAGE_ROWS),
            ..AuditFilter::default()
        })
        .await
    {
        Ok(rows) => rows,
        Err(e) => return failed(e),
    };
    let now = state
        .service
        .operation(&id)
        .await
        .ok()
        .map(|r| r.state.as_str().to_owned());
    if rows.is_empty() && now.is_none() {
        return not_found().await;
    }
    let mut rows = audit_rows(rows, staff.role.sees_personal_data());
    // Steps read best oldest first.
    rows.reverse();
    views::AuditOperation {
        frame: frame(&staff, "audit"),
        id,
        state: now,
        rows,
    }
    .html()
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Events

/// `?hotel=` of the Events page and its stream.
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    hotel: Option<String>,
}

/// What an event is about, in one line: the ids in its data (never names or notes).
fn about(data: &serde_json::Value) -> String {
    const IDS: [&str; 6] = [
        "confirmationNumber",
        "roomNumber",
        "operationId",
        "operation",
        "guestId",
        "status",
    ];
    let mut parts = Vec::new();
    for key in IDS {
        if let Some(v) = data.get(key).and_then(|v| v.as_str()) {
            parts.push(format!("{key} {}", crate::untrusted::escape(v, 80)));
        }
    }
    parts.join(" · ")
}

fn event_row(e: &crate::events::log::StoredEvent) -> views::EventRow {
    views::EventRow {
        id: e.id.clone(),
        at: crate::untrusted::escape(&e.occurred_at, 40),
        hotel: e.hotel.clone(),
        kind: e.kind.clone(),
        about: about(&e.data),
    }
}

/// The newest `count` events of the log (every hotel's), oldest first.
async fn last_events(
    state: &ConsoleState,
    count: u32,
) -> Result<Vec<crate::events::log::StoredEvent>, crate::events::EventLogError> {
    let log = state.service.tracker().log();
    let last = log.last_id().await?;
    log.since(last.saturating_sub(i64::from(count)), count)
        .await
}

/// `GET /console/events`
pub async fn events(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let hotel = known_hotel(&state, query.ok().and_then(|q| q.0.hotel));
    let recent = match last_events(&state, RECENT_EVENTS * 20).await {
        Ok(events) => events
            .iter()
            .rev()
            .filter(|e| hotel.as_ref().is_none_or(|h| &e.hotel == h))
            .take(RECENT_EVENTS as usize)
            .map(event_row)
            .collect(),
        Err(e) => return failed(e),
    };
    let stream = match &hotel {
        Some(h) => format!("/console/events/stream?hotel={h}"),
        None => "/console/events/stream".into(),
    };
    views::Events {
        frame: frame(&staff, "events"),
        hotels: hotel_ids(&state),
        hotel,
        stream,
        recent,
    }
    .html()
    .into_response()
}

/// `GET /console/events/stream`: new events as they happen, each `data:` a small JSON object
/// (id, time, hotel, type, what it is about) that the page's script shows as text.
pub async fn events_stream(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let hotel = known_hotel(&state, query.ok().and_then(|q| q.0.hotel));
    let rx = state.service.tracker().log().subscribe();
    let mut check = tokio::time::interval(SESSION_CHECK_EVERY);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = (rx, hotel, (state, staff, check));
    let stream = futures_util::stream::unfold(start, |(mut rx, hotel, mut session)| async move {
        loop {
            let received = tokio::select! {
                received = rx.recv() => received,
                _ = session.2.tick() => {
                    // The session may have ended (logout, password change, idle timeout).
                    if !session.1.still_valid(&session.0).await {
                        return None;
                    }
                    continue;
                }
            };
            match received {
                Ok(e) if hotel.as_ref().is_none_or(|h| &e.hotel == h) => {
                    let row = event_row(&e);
                    let data = serde_json::json!({
                        "id": row.id, "at": row.at, "hotel": row.hotel,
                        "type": row.kind, "about": row.about,
                    });
                    let event = Event::default().event("change").data(data.to_string());
                    return Some((Ok::<_, Infallible>(event), (rx, hotel, session)));
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let event = Event::default()
                        .event("lagged")
                        .data(format!("{n} events were skipped; reload to see them"));
                    return Some((Ok(event), (rx, hotel, session)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Alerts

/// Alerts the Alerts page shows at most, and how many recent events it looks through.
const ALERTS_SHOWN: usize = 200;
const ALERTS_SCANNED: u32 = 5_000;

/// `GET /console/alerts`
pub async fn alerts(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let hotel = known_hotel(&state, query.ok().and_then(|q| q.0.hotel));
    let events = match last_events(&state, ALERTS_SCANNED).await {
        Ok(events) => events,
        Err(e) => return failed(e),
    };
    let sees = staff.role.sees_personal_data();
    let rows = events
        .iter()
        .rev()
        .filter(|e| e.kind == "staff.alert")
        .filter(|e| hotel.as_ref().is_none_or(|h| &e.hotel == h))
        .take(ALERTS_SHOWN)
        .map(|e| {
            let field = |k: &str| e.data.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            let kind = field("alert").unwrap_or_else(|| "alert".into());
            let operation_id = field("operationId").filter(|id| valid_operation_id(id));
            let message = if operation_id.is_some() && !sees {
                format!(
                    "{} {}",
                    field("operation").unwrap_or_default(),
                    kind.replace('_', " ")
                )
            } else {
                field("message").unwrap_or_default()
            };
            views::AlertRow {
                at: crate::untrusted::escape(&e.occurred_at, 40),
                hotel: e.hotel.clone(),
                class: match kind.as_str() {
                    "awaiting_approval" | "critical_write_queued" => "warn",
                    _ => "bad",
                },
                kind: crate::untrusted::escape(&kind, 40),
                operation_id,
                message: crate::untrusted::escape(&message, 500),
            }
        })
        .collect();
    let after = state.pms_down_alert_after.as_secs();
    views::Alerts {
        frame: frame(&staff, "alerts"),
        hotels: hotel_ids(&state),
        hotel,
        rows,
        pms_down_after: if after % 60 == 0 {
            format!("{} min", after / 60)
        } else {
            format!("{after} s")
        },
    }
    .html()
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Adapters

/// A JSON value as one line of text (arrays joined, objects as `key: value` pairs).
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "–".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "none".into(),
        serde_json::Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(map) if map.is_empty() => "none".into(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", text(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn facts(v: &serde_json::Value, skip: &[&str]) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), text(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /console/adapters`
pub async fn adapters(State(state): State<ConsoleState>, staff: Staff) -> Response {
    let hotels = state.service.hotel_settings();
    let mut names: Vec<String> = hotels.iter().map(|h| h.adapter.clone()).collect();
    names.sort();
    names.dedup();
    let runtime = state.service.runtime();
    let adapters = names
        .into_iter()
        .map(|name| match runtime.load(&name) {
            Ok(a) => {
                let sha = a.sha256_hex();
                let manifest = crate::review::manifest_json(&a.manifest, &format!("{name}.toml"));
                views::AdapterView {
                    facts: vec![
                        ("version".into(), a.manifest.version.clone()),
                        ("WIT".into(), a.version.package().to_owned()),
                        ("sha256".into(), sha.clone()),
                        ("size".into(), format!("{} bytes", a.size)),
                        ("exports".into(), a.exports.join(", ")),
                    ],
                    imports: crate::review::imports_json(&a.imports)
                        .iter()
                        .map(|i| views::ImportView {
                            name: text(&i["name"]),
                            allowed: i["allowed"] == true,
                            why: text(if i["allowed"] == true {
                                &i["provides"]
                            } else {
                                &i["reason"]
                            }),
                        })
                        .collect(),
                    manifest: facts(&manifest, &["path", "name", "version"]),
                    hotels: hotels
                        .iter()
                        .filter(|h| h.adapter == name)
                        .map(|h| views::HotelReview {
                            id: h.id.clone(),
                            facts: facts(
                                &crate::review::hotel_json(
                                    &a.manifest,
                                    h,
                                    state.adapters.allow_unpinned,
                                    state.adapters.limits_for(&name),
                                    &sha,
                                ),
                                &["id", "adapter"],
                            ),
                        })
                        .collect(),
                    name,
                    problem: None,
                }
            }
            Err(e) => views::AdapterView {
                problem: Some(crate::untrusted::escape(&e.to_string(), 500)),
                name,
                facts: Vec::new(),
                imports: Vec::new(),
                manifest: Vec::new(),
                hotels: Vec::new(),
            },
        })
        .collect();
    views::Adapters {
        frame: frame(&staff, "adapters"),
        adapters,
    }
    .html()
    .into_response()
}
