//! The `/v1` handlers (DESIGN §5). Each parses and checks its input, calls the service, and
//! answers with the read envelope, a write result or a problem.

use super::AppState;
use super::auth::Caller;
use super::envelope::Envelope;
use super::params::{
    DateQuery, GuestPath, HotelPath, IdempotencyKey, LastEventId, OperationActionPath,
    OperationPath, ReservationPath, RoomPath, SyncPath, WebhookPath, idempotency_key,
};
use super::problem::{Problem, ProblemType};
use crate::model::{Charge, Guest, GuestQuery, Money, Preference, Reservation, RoomStatus};
use crate::service::{HotelHealth, HotelSummary, OperationRecord, WriteState, Written};
use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;

type ApiResult<T> = Result<Json<T>, Problem>;

/// A write's answer: 200 once the PMS applied it, 202 while it is stored and queued.
pub struct WriteAnswer(Written);

type WriteResult = Result<WriteAnswer, Problem>;

impl axum::response::IntoResponse for WriteAnswer {
    fn into_response(self) -> axum::response::Response {
        let status = match self.0.status {
            WriteState::Applied => axum::http::StatusCode::OK,
            _ => axum::http::StatusCode::ACCEPTED,
        };
        (status, Json(self.0)).into_response()
    }
}

/// The JSON body, or the problem of its rejection: 413 over [`super::MAX_BODY_BYTES`], 415
/// without `Content-Type: application/json`, 400 for anything else.
fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    json.map(|Json(v)| v)
        .map_err(|e| rejected(e.status(), e.body_text()))
}

/// The path's parameters, or a 400 (a percent-encoding that is not UTF-8, an unknown stream).
fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, Problem> {
    p.map(|Path(v)| v)
        .map_err(|e| rejected(e.status(), e.body_text()))
}

/// A framework rejection as a problem: 413 and 415 keep their status, anything else about the
/// request's shape (axum answers 422 for a body of the wrong shape) is the documented 400.
fn rejected(status: axum::http::StatusCode, text: String) -> Problem {
    use axum::http::StatusCode;
    let status = match status {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => status,
        _ => StatusCode::BAD_REQUEST,
    };
    Problem::new(
        status,
        ProblemType::for_status(status),
        crate::untrusted::escape(&text, 300),
    )
}

/// The query's parameters, or a 400 naming what is wrong.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(v)| v)
        .map_err(|e| rejected(e.status(), e.body_text()))
}

/// Hotels, their adapters and whether they are ready.
#[utoipa::path(get, path = "/v1/hotels", tag = "hotels", operation_id = "listHotels",
    security(("bearer" = [])),
    responses((status = 200, description = "every hotel of this host", body = Vec<HotelSummary>)))]
pub async fn hotels(State(s): State<AppState>, _caller: Caller) -> ApiResult<Vec<HotelSummary>> {
    Ok(Json(s.service.hotels()))
}

/// `healthCheck`: PMS reachability and credentials, with the host's own figures for the hotel
/// (rate-limit usage, cache, outbox, coordination).
#[utoipa::path(get, path = "/v1/hotels/{hotel}/health", tag = "hotels", operation_id = "getHealth",
    security(("bearer" = [])), params(HotelPath),
    responses((status = 200, description = "the hotel's health, also when its PMS is down", body = HotelHealth)))]
pub async fn health(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<HotelPath>, PathRejection>,
) -> ApiResult<HotelHealth> {
    let p = path(p)?;
    Ok(Json(s.service.health(&p.hotel).await?))
}

/// `getGuest` by id (`<vendor>:<pmsId>`).
#[utoipa::path(get, path = "/v1/hotels/{hotel}/guests/{guestId}", tag = "guests", operation_id = "getGuest",
    security(("bearer" = [])), params(GuestPath),
    responses((status = 200, description = "the guest's profile", body = Envelope<Guest>)))]
pub async fn get_guest(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<GuestPath>, PathRejection>,
) -> ApiResult<Envelope<Guest>> {
    let p = path(p)?;
    Ok(Json(
        s.service.get_guest(&p.hotel, &p.guest_id).await?.into(),
    ))
}

/// `searchGuests` by e-mail, phone and/or name: give at least one (400 otherwise); every one
/// given must match.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/guests", tag = "guests", operation_id = "searchGuests",
    security(("bearer" = [])), params(HotelPath, GuestQuery),
    responses((status = 200, description = "the matching guests (possibly none)", body = Envelope<Vec<Guest>>)))]
pub async fn search_guests(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<HotelPath>, PathRejection>,
    q: Result<Query<GuestQuery>, QueryRejection>,
) -> ApiResult<Envelope<Vec<Guest>>> {
    let p = path(p)?;
    Ok(Json(
        s.service.search_guests(&p.hotel, query(q)?).await?.into(),
    ))
}

/// Body of `PUT …/preferences`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"preferences": [{"category": "PILLOW", "code": "FEATHER", "description": "Feather pillow"}]}))]
pub struct PreferencesBody {
    /// The guest's new preferences, replacing the old ones (the hotel's
    /// `maxPreferencesPerGuest` caps how many: 422 `preferences.count` beyond it).
    pub preferences: Vec<Preference>,
}

/// `updateGuestPreferences`.
#[utoipa::path(put, path = "/v1/hotels/{hotel}/guests/{guestId}/preferences", tag = "guests",
    operation_id = "updateGuestPreferences", security(("bearer" = [])),
    params(GuestPath, IdempotencyKey), request_body = PreferencesBody,
    responses(
        (status = 200, description = "applied by the PMS", body = Written),
        (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written)))]
pub async fn update_preferences(
    State(s): State<AppState>,
    caller: Caller,
    p: Result<Path<GuestPath>, PathRejection>,
    headers: HeaderMap,
    json: Result<Json<PreferencesBody>, JsonRejection>,
) -> WriteResult {
    let p = path(p)?;
    let b = body(json)?;
    Ok(WriteAnswer(
        s.service
            .update_guest_preferences(
                &p.hotel,
                &p.guest_id,
                b.preferences,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// `getReservation` by confirmation number.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}", tag = "reservations",
    operation_id = "getReservation", security(("bearer" = [])), params(ReservationPath),
    responses((status = 200, description = "the reservation", body = Envelope<Reservation>)))]
pub async fn get_reservation(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<ReservationPath>, PathRejection>,
) -> ApiResult<Envelope<Reservation>> {
    let p = path(p)?;
    Ok(Json(
        s.service
            .get_reservation(&p.hotel, &p.confirmation_number)
            .await?
            .into(),
    ))
}

/// `getArrivals` for a hotel-local date (default: today at the hotel): reservations arriving
/// that day that are happening, never cancelled or no-show ones.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/arrivals", tag = "reservations", operation_id = "getArrivals",
    security(("bearer" = [])), params(HotelPath, DateQuery),
    responses((status = 200, description = "the day's arrivals", body = Envelope<Vec<Reservation>>)))]
pub async fn arrivals(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<HotelPath>, PathRejection>,
    q: Result<Query<DateQuery>, QueryRejection>,
) -> ApiResult<Envelope<Vec<Reservation>>> {
    let p = path(p)?;
    Ok(Json(
        s.service
            .arrivals(&p.hotel, query(q)?.date.as_deref())
            .await?
            .into(),
    ))
}

/// `getDepartures` for a hotel-local date (default: today at the hotel): reservations
/// departing that day that are happening, never cancelled or no-show ones.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/departures", tag = "reservations", operation_id = "getDepartures",
    security(("bearer" = [])), params(HotelPath, DateQuery),
    responses((status = 200, description = "the day's departures", body = Envelope<Vec<Reservation>>)))]
pub async fn departures(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<HotelPath>, PathRejection>,
    q: Result<Query<DateQuery>, QueryRejection>,
) -> ApiResult<Envelope<Vec<Reservation>>> {
    let p = path(p)?;
    Ok(Json(
        s.service
            .departures(&p.hotel, query(q)?.date.as_deref())
            .await?
            .into(),
    ))
}

/// `getInHouseGuests`: the reservations checked in now.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/in-house", tag = "reservations", operation_id = "getInHouseGuests",
    security(("bearer" = [])), params(HotelPath),
    responses((status = 200, description = "the stays in house", body = Envelope<Vec<Reservation>>)))]
pub async fn in_house(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<HotelPath>, PathRejection>,
) -> ApiResult<Envelope<Vec<Reservation>>> {
    let p = path(p)?;
    Ok(Json(s.service.in_house(&p.hotel).await?.into()))
}

/// Body of `POST …/notes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Guest asked for a late check-out if possible."}))]
pub struct NoteBody {
    /// The note: at least one character that is not white space, no control characters but
    /// line feeds, at most 4,000 characters (a vendor that keeps fewer refuses longer ones with
    /// 422 `note.length`).
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\x00-\x09\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x09\x0B-\x1F\x7F-\x9F]*$"
    )]
    pub note: String,
}

/// `addReservationNote`.
#[utoipa::path(post, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/notes", tag = "reservations",
    operation_id = "addReservationNote", security(("bearer" = [])),
    params(ReservationPath, IdempotencyKey), request_body = NoteBody,
    responses(
        (status = 200, description = "applied by the PMS", body = Written),
        (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written)))]
pub async fn add_note(
    State(s): State<AppState>,
    caller: Caller,
    p: Result<Path<ReservationPath>, PathRejection>,
    headers: HeaderMap,
    json: Result<Json<NoteBody>, JsonRejection>,
) -> WriteResult {
    let p = path(p)?;
    let b = body(json)?;
    Ok(WriteAnswer(
        s.service
            .add_note(
                &p.hotel,
                &p.confirmation_number,
                &b.note,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// Body of `PUT …/checkout`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CheckoutBody {
    /// New expected check-out, RFC 3339 with an offset. It must fall between the stay's arrival
    /// day and `checkoutWindowHours` after its departure day at the hotel (422 otherwise).
    #[schema(format = DateTime, example = "2024-01-18T13:00:00+01:00")]
    pub checkout_time: String,
}

/// `updateCheckoutTime`.
#[utoipa::path(put, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/checkout", tag = "reservations",
    operation_id = "updateCheckoutTime", security(("bearer" = [])),
    params(ReservationPath, IdempotencyKey), request_body = CheckoutBody,
    responses(
        (status = 200, description = "applied by the PMS", body = Written),
        (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written)))]
pub async fn update_checkout(
    State(s): State<AppState>,
    caller: Caller,
    p: Result<Path<ReservationPath>, PathRejection>,
    headers: HeaderMap,
    json: Result<Json<CheckoutBody>, JsonRejection>,
) -> WriteResult {
    let p = path(p)?;
    let b = body(json)?;
    Ok(WriteAnswer(
        s.service
            .update_checkout(
                &p.hotel,
                &p.confirmation_number,
                &b.checkout_time,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// `postCharge`. Send an `Idempotency-Key` so that a retried request cannot post twice.
/// Charges over the hotel's `approvalThreshold` are held (202, `awaiting_approval`) until staff
/// approve them.
#[utoipa::path(post, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/charges", tag = "folio",
    operation_id = "postCharge", security(("bearer" = [])),
    params(ReservationPath, IdempotencyKey), request_body = Charge,
    responses(
        (status = 200, description = "applied by the PMS", body = Written),
        (status = 202, description = "stored and queued (or held for approval): the host applies it when it can", body = Written)))]
pub async fn post_charge(
    State(s): State<AppState>,
    caller: Caller,
    p: Result<Path<ReservationPath>, PathRejection>,
    headers: HeaderMap,
    json: Result<Json<Charge>, JsonRejection>,
) -> WriteResult {
    let p = path(p)?;
    let charge = body(json)?;
    Ok(WriteAnswer(
        s.service
            .post_charge(
                &p.hotel,
                &p.confirmation_number,
                charge,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// `getBalance`: what the reservation's folio owes (charges less payments).
#[utoipa::path(get, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/balance", tag = "folio",
    operation_id = "getBalance", security(("bearer" = [])), params(ReservationPath),
    responses((status = 200, description = "the open balance", body = Envelope<Money>)))]
pub async fn balance(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<ReservationPath>, PathRejection>,
) -> ApiResult<Envelope<Money>> {
    let p = path(p)?;
    Ok(Json(
        s.service
            .balance(&p.hotel, &p.confirmation_number)
            .await?
            .into(),
    ))
}

/// `getAllRoomStatuses`.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/rooms", tag = "rooms", operation_id = "getAllRoomStatuses",
    security(("bearer" = [])), params(HotelPath),
    responses((status = 200, description = "every room's status", body = Envelope<Vec<RoomStatus>>)))]
pub async fn rooms(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<HotelPath>, PathRejection>,
) -> ApiResult<Envelope<Vec<RoomStatus>>> {
    let p = path(p)?;
    Ok(Json(s.service.rooms(&p.hotel).await?.into()))
}

/// `getRoomStatus`.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/rooms/{roomNumber}", tag = "rooms", operation_id = "getRoomStatus",
    security(("bearer" = [])), params(RoomPath),
    responses((status = 200, description = "the room's status", body = Envelope<RoomStatus>)))]
pub async fn room(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<RoomPath>, PathRejection>,
) -> ApiResult<Envelope<RoomStatus>> {
    let p = path(p)?;
    Ok(Json(s.service.room(&p.hotel, &p.room_number).await?.into()))
}

/// A write's state, from its operation id.
#[utoipa::path(get, path = "/v1/operations/{id}", tag = "operations", operation_id = "getOperation",
    security(("bearer" = [])), params(OperationPath),
    responses((status = 200, description = "the write and where it stands", body = OperationRecord)))]
pub async fn operation(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<OperationPath>, PathRejection>,
) -> ApiResult<OperationRecord> {
    let p = path(p)?;
    Ok(Json(s.service.operation(&p.id).await?))
}

/// Body of `POST /v1/operations/{id}/{action}` (optional).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The guest disputes the charge at the desk."}))]
pub struct ActionBody {
    /// Why, for the audit log (sealed there like every detail): at least one character that is
    /// not white space, no control characters but line feeds, at most 500 characters.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x09\x0B-\x1F\x7F-\x9F]*$"
    )]
    pub reason: Option<String>,
}

/// A person's decision on a stored write, for staff tools: `retry` or `resend` a failed or
/// cancelled write (resend: you checked the PMS does not hold it, so it is not read back first),
/// `cancel` one not yet applied, `approve` or `reject` one held for approval. Needs a token with
/// the `operator` (retry, resend, cancel) or `approver` (approve, reject) scope; the audit log
/// records the token's name and the reason, when given. Answers the write as it stands after
/// the decision.
#[utoipa::path(post, path = "/v1/operations/{id}/{action}", tag = "operations", operation_id = "actOnOperation",
    security(("bearer" = [])), params(OperationActionPath), request_body = Option<ActionBody>,
    responses((status = 200, description = "the write after the decision", body = OperationRecord)))]
pub async fn operation_action(
    State(s): State<AppState>,
    caller: Caller,
    p: Result<Path<OperationActionPath>, PathRejection>,
    // No body, `null` (which the document allows) or the object.
    json: Result<Option<Json<Option<ActionBody>>>, JsonRejection>,
) -> ApiResult<OperationRecord> {
    let p = path(p)?;
    let body = json.map_err(|e| rejected(e.status(), e.body_text()))?;
    let reason = body.and_then(|Json(b)| b).and_then(|b| b.reason);
    let reason = reason
        .as_deref()
        .map(crate::state::check_reason)
        .transpose()
        .map_err(Problem::bad_request)?;
    let needs = p.action.scope();
    if !caller.scopes.contains(&needs) {
        return Err(Problem::new(
            axum::http::StatusCode::FORBIDDEN,
            ProblemType::Forbidden,
            format!(
                "this token lacks the `{}` scope (server.tokens[].scopes)",
                needs.as_str()
            ),
        ));
    }
    tracing::info!(caller = %caller.name, operation_id = %p.id, action = ?p.action, "staff action");
    Ok(Json(
        s.service
            .act(
                &p.id,
                p.action,
                &crate::state::Staff {
                    actor: &caller.name,
                    reason,
                },
            )
            .await?,
    ))
}

/// Server-sent change events (`reservation.created`, `guest.arrived`, `room.status_changed`,
/// `write.failed`, `pms.unavailable`, `staff.alert`, …): each as `id: <event id>`, `event: <type>`,
/// `data: <Event JSON>`. Send `Last-Event-ID` to resume after the last event received (from
/// the bounded durable log); without it the stream starts at the log's end. `?hotel=` keeps one
/// hotel's events. The stream stays open; comments keep it alive.
#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "streamEvents",
    security(("bearer" = [])), params(crate::events::sse::EventsQuery, LastEventId),
    responses((status = 200, description = "a text/event-stream of change events, each `data:` an Event",
        content_type = "text/event-stream", body = String)))]
pub async fn events(
    State(s): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    q: Result<Query<crate::events::sse::EventsQuery>, QueryRejection>,
) -> Result<axum::response::Response, Problem> {
    let q = query(q)?;
    if let Some(v) = headers.get("last-event-id") {
        let id = v.to_str().unwrap_or_default();
        if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Problem::bad_request(
                "Last-Event-ID must be the id of an event: 1 to 18 digits",
            ));
        }
    }
    if let Some(h) = &q.hotel
        && !s.service.hotels().iter().any(|x| &x.id == h)
    {
        return Err(crate::service::ServiceError::UnknownHotel(h.clone()).into());
    }
    let log = s.service.tracker().log().clone();
    Ok(crate::events::sse::events_response(log, &headers, q).await)
}

/// `?token=` of a vendor webhook.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// The hotel's `inboundWebhook` token (the vendor is configured with the whole URL).
    #[param(nullable = false, min_length = 1)]
    token: Option<String>,
}

/// A vendor's webhook (Mews general webhooks): authenticated by the shared token in the URL
/// (`hotels[].inboundWebhook`), not by a bearer token. Invalidates the affected cached reads
/// and refreshes the matching sync streams now.
#[utoipa::path(post, path = "/v1/webhooks/{hotel}/{vendor}", tag = "events", operation_id = "receiveVendorWebhook",
    params(WebhookPath, WebhookQuery),
    request_body(content = serde_json::Value, description = "the vendor's payload (Mews: {EnterpriseId, IntegrationId, Events: [{Discriminator, Value: {Id}}]})",
        example = json!({"EnterpriseId": "8a4f…", "IntegrationId": "c2d1…", "Events": [{"Discriminator": "ServiceOrderUpdated", "Value": {"Id": "R1001"}}]})),
    responses((status = 202, description = "accepted: what it invalidated and refreshed", body = crate::service::WebhookReceipt)))]
pub async fn vendor_webhook(
    State(s): State<AppState>,
    p: Result<Path<WebhookPath>, PathRejection>,
    q: Result<Query<WebhookQuery>, QueryRejection>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<(axum::http::StatusCode, Json<crate::service::WebhookReceipt>), Problem> {
    let p = path(p)?;
    let q = query(q)?;
    let body = body.map_err(|e| rejected(e.status(), e.body_text()))?;
    let receipt = s
        .service
        .vendor_webhook(&p.hotel, &p.vendor, q.token.as_deref(), &body)
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(receipt)))
}

/// Runs one sync stream of a hotel now and answers with its outcome; its change events go to
/// `/v1/events` and the webhooks. 409 while a run of the same stream is in progress.
#[utoipa::path(post, path = "/v1/hotels/{hotel}/sync/{stream}", tag = "events", operation_id = "runSync",
    security(("bearer" = [])), params(SyncPath),
    responses((status = 200, description = "the run's outcome", body = crate::sync::scheduler::RunOutcome)))]
pub async fn sync_now(
    State(s): State<AppState>,
    _caller: Caller,
    p: Result<Path<SyncPath>, PathRejection>,
) -> ApiResult<crate::sync::scheduler::RunOutcome> {
    let p = path(p)?;
    Ok(Json(s.service.sync_now(&p.hotel, p.stream.as_str()).await?))
}

/// Re-reads the config file's hotels and the adapters they use, without a restart: new hotels
/// serve at once, changed settings, secret references, pins and components take effect, removed
/// hotels stop. An invalid config changes nothing and answers 400 with the reason.
#[utoipa::path(post, path = "/v1/admin/reload", tag = "admin", operation_id = "reloadConfig",
    security(("bearer" = [])),
    responses((status = 200, description = "what the reload changed", body = crate::service::ReloadReport)))]
pub async fn reload(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<crate::service::ReloadReport> {
    let Some(reloader) = &s.reloader else {
        return Err(Problem::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            ProblemType::ReloadUnavailable,
            "this host was not started from a config file",
        ));
    };
    tracing::info!(caller = %caller.name, "reload requested");
    reloader
        .reload()
        .await
        .map(Json)
        .map_err(|e| Problem::bad_request(format!("the config was not reloaded: {e}")))
}
