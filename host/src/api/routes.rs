//! The `/v1` handlers (DESIGN §5). Each parses and checks its input, calls the service, and
//! answers with the read envelope, a write result or a problem.

use super::AppState;
use super::auth::Caller;
use super::envelope::Envelope;
use super::problem::Problem;
use crate::model::{Charge, Guest, GuestQuery, Money, Preference, Reservation, RoomStatus};
use crate::service::{HotelHealth, HotelSummary, OperationRecord, WriteState, Written};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
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

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    json.map(|Json(v)| v)
        .map_err(|e| Problem::bad_request(e.body_text()))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(v)| v)
        .map_err(|e| Problem::bad_request(e.body_text()))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 255 => Ok(Some(k)),
            _ => Err(Problem::bad_request(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )),
        },
    }
}

/// Hotels, their adapters and whether they are ready.
#[utoipa::path(get, path = "/v1/hotels", tag = "hotels", security(("bearer" = [])),
    responses((status = 200, body = Vec<HotelSummary>), (status = 401, body = Problem)))]
pub async fn hotels(State(s): State<AppState>, _caller: Caller) -> ApiResult<Vec<HotelSummary>> {
    Ok(Json(s.service.hotels()))
}

/// `healthCheck`: PMS reachability and credentials.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/health", tag = "hotels", security(("bearer" = [])),
    params(("hotel" = String, Path, description = "Hotel id")),
    responses((status = 200, body = HotelHealth), (status = 404, body = Problem)))]
pub async fn health(
    State(s): State<AppState>,
    _caller: Caller,
    Path(hotel): Path<String>,
) -> ApiResult<HotelHealth> {
    Ok(Json(s.service.health(&hotel).await?))
}

/// `getGuest` by id (`<vendor>:<pmsId>`).
#[utoipa::path(get, path = "/v1/hotels/{hotel}/guests/{guestId}", tag = "guests", security(("bearer" = [])),
    params(("hotel" = String, Path), ("guestId" = String, Path, description = "`<vendor>:<pmsId>`")),
    responses((status = 200, body = Envelope<Guest>), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn get_guest(
    State(s): State<AppState>,
    _caller: Caller,
    Path((hotel, guest)): Path<(String, String)>,
) -> ApiResult<Envelope<Guest>> {
    Ok(Json(s.service.get_guest(&hotel, &guest).await?.into()))
}

/// `searchGuests` by e-mail, phone and/or name.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/guests", tag = "guests", security(("bearer" = [])),
    params(("hotel" = String, Path), ("email" = Option<String>, Query), ("phone" = Option<String>, Query), ("name" = Option<String>, Query)),
    responses((status = 200, body = Envelope<Vec<Guest>>), (status = 400, body = Problem)))]
pub async fn search_guests(
    State(s): State<AppState>,
    _caller: Caller,
    Path(hotel): Path<String>,
    q: Result<Query<GuestQuery>, QueryRejection>,
) -> ApiResult<Envelope<Vec<Guest>>> {
    Ok(Json(
        s.service.search_guests(&hotel, query(q)?).await?.into(),
    ))
}

/// Body of `PUT …/preferences`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// The guest's new preferences (replacing the old ones).
    pub preferences: Vec<Preference>,
}

/// `updateGuestPreferences`.
#[utoipa::path(put, path = "/v1/hotels/{hotel}/guests/{guestId}/preferences", tag = "guests", security(("bearer" = [])),
    params(("hotel" = String, Path), ("guestId" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PreferencesBody,
    responses((status = 200, description = "applied by the PMS", body = Written), (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written), (status = 409, description = "the idempotency key's write failed or was cancelled", body = Problem), (status = 400, body = Problem)))]
pub async fn update_preferences(
    State(s): State<AppState>,
    caller: Caller,
    Path((hotel, guest)): Path<(String, String)>,
    headers: HeaderMap,
    json: Result<Json<PreferencesBody>, JsonRejection>,
) -> WriteResult {
    let b = body(json)?;
    Ok(WriteAnswer(
        s.service
            .update_guest_preferences(
                &hotel,
                &guest,
                b.preferences,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// `getReservation` by confirmation number.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}", tag = "reservations", security(("bearer" = [])),
    params(("hotel" = String, Path), ("confirmationNumber" = String, Path)),
    responses((status = 200, body = Envelope<Reservation>), (status = 404, body = Problem)))]
pub async fn get_reservation(
    State(s): State<AppState>,
    _caller: Caller,
    Path((hotel, number)): Path<(String, String)>,
) -> ApiResult<Envelope<Reservation>> {
    Ok(Json(
        s.service.get_reservation(&hotel, &number).await?.into(),
    ))
}

/// `?date=YYYY-MM-DD`, optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// Hotel-local date, `YYYY-MM-DD`; the hotel's today (in its `timeZone`) when absent.
    pub date: Option<String>,
}

/// `getArrivals` for a hotel-local date (default: today at the hotel): reservations arriving
/// that day that are happening, never cancelled or no-show ones.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/arrivals", tag = "reservations", security(("bearer" = [])),
    params(("hotel" = String, Path), DateQuery),
    responses((status = 200, body = Envelope<Vec<Reservation>>), (status = 400, body = Problem)))]
pub async fn arrivals(
    State(s): State<AppState>,
    _caller: Caller,
    Path(hotel): Path<String>,
    q: Result<Query<DateQuery>, QueryRejection>,
) -> ApiResult<Envelope<Vec<Reservation>>> {
    Ok(Json(
        s.service
            .arrivals(&hotel, query(q)?.date.as_deref())
            .await?
            .into(),
    ))
}

/// `getDepartures` for a hotel-local date (default: today at the hotel): reservations
/// departing that day that are happening, never cancelled or no-show ones.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/departures", tag = "reservations", security(("bearer" = [])),
    params(("hotel" = String, Path), DateQuery),
    responses((status = 200, body = Envelope<Vec<Reservation>>), (status = 400, body = Problem)))]
pub async fn departures(
    State(s): State<AppState>,
    _caller: Caller,
    Path(hotel): Path<String>,
    q: Result<Query<DateQuery>, QueryRejection>,
) -> ApiResult<Envelope<Vec<Reservation>>> {
    Ok(Json(
        s.service
            .departures(&hotel, query(q)?.date.as_deref())
            .await?
            .into(),
    ))
}

/// `getInHouseGuests`.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/in-house", tag = "reservations", security(("bearer" = [])),
    params(("hotel" = String, Path)),
    responses((status = 200, body = Envelope<Vec<Reservation>>)))]
pub async fn in_house(
    State(s): State<AppState>,
    _caller: Caller,
    Path(hotel): Path<String>,
) -> ApiResult<Envelope<Vec<Reservation>>> {
    Ok(Json(s.service.in_house(&hotel).await?.into()))
}

/// Body of `POST …/notes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note text.
    pub note: String,
}

/// `addReservationNote`.
#[utoipa::path(post, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/notes", tag = "reservations", security(("bearer" = [])),
    params(("hotel" = String, Path), ("confirmationNumber" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = NoteBody,
    responses((status = 200, description = "applied by the PMS", body = Written), (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written), (status = 409, description = "the idempotency key's write failed or was cancelled", body = Problem), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn add_note(
    State(s): State<AppState>,
    caller: Caller,
    Path((hotel, number)): Path<(String, String)>,
    headers: HeaderMap,
    json: Result<Json<NoteBody>, JsonRejection>,
) -> WriteResult {
    let b = body(json)?;
    Ok(WriteAnswer(
        s.service
            .add_note(
                &hotel,
                &number,
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
    /// New expected check-out, RFC 3339.
    #[schema(example = "2024-01-18T13:00:00+01:00")]
    pub checkout_time: String,
}

/// `updateCheckoutTime`.
#[utoipa::path(put, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/checkout", tag = "reservations", security(("bearer" = [])),
    params(("hotel" = String, Path), ("confirmationNumber" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CheckoutBody,
    responses((status = 200, description = "applied by the PMS", body = Written), (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written), (status = 409, description = "the idempotency key's write failed or was cancelled", body = Problem), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn update_checkout(
    State(s): State<AppState>,
    caller: Caller,
    Path((hotel, number)): Path<(String, String)>,
    headers: HeaderMap,
    json: Result<Json<CheckoutBody>, JsonRejection>,
) -> WriteResult {
    let b = body(json)?;
    Ok(WriteAnswer(
        s.service
            .update_checkout(
                &hotel,
                &number,
                &b.checkout_time,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// `postCharge`. Send an `Idempotency-Key` so that a retried request cannot post twice.
#[utoipa::path(post, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/charges", tag = "folio", security(("bearer" = [])),
    params(("hotel" = String, Path), ("confirmationNumber" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = Charge,
    responses((status = 200, description = "applied by the PMS", body = Written), (status = 202, description = "stored and queued: the host applies it when the PMS can take it", body = Written), (status = 409, description = "the idempotency key's write failed or was cancelled", body = Problem), (status = 400, body = Problem)))]
pub async fn post_charge(
    State(s): State<AppState>,
    caller: Caller,
    Path((hotel, number)): Path<(String, String)>,
    headers: HeaderMap,
    json: Result<Json<Charge>, JsonRejection>,
) -> WriteResult {
    let charge = body(json)?;
    Ok(WriteAnswer(
        s.service
            .post_charge(
                &hotel,
                &number,
                charge,
                &caller.name,
                idempotency_key(&headers)?,
            )
            .await?,
    ))
}

/// `getBalance`.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/reservations/{confirmationNumber}/balance", tag = "folio", security(("bearer" = [])),
    params(("hotel" = String, Path), ("confirmationNumber" = String, Path)),
    responses((status = 200, body = Envelope<Money>), (status = 404, body = Problem)))]
pub async fn balance(
    State(s): State<AppState>,
    _caller: Caller,
    Path((hotel, number)): Path<(String, String)>,
) -> ApiResult<Envelope<Money>> {
    Ok(Json(s.service.balance(&hotel, &number).await?.into()))
}

/// `getAllRoomStatuses`.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/rooms", tag = "rooms", security(("bearer" = [])),
    params(("hotel" = String, Path)),
    responses((status = 200, body = Envelope<Vec<RoomStatus>>)))]
pub async fn rooms(
    State(s): State<AppState>,
    _caller: Caller,
    Path(hotel): Path<String>,
) -> ApiResult<Envelope<Vec<RoomStatus>>> {
    Ok(Json(s.service.rooms(&hotel).await?.into()))
}

/// `getRoomStatus`.
#[utoipa::path(get, path = "/v1/hotels/{hotel}/rooms/{roomNumber}", tag = "rooms", security(("bearer" = [])),
    params(("hotel" = String, Path), ("roomNumber" = String, Path)),
    responses((status = 200, body = Envelope<RoomStatus>), (status = 404, body = Problem)))]
pub async fn room(
    State(s): State<AppState>,
    _caller: Caller,
    Path((hotel, room)): Path<(String, String)>,
) -> ApiResult<Envelope<RoomStatus>> {
    Ok(Json(s.service.room(&hotel, &room).await?.into()))
}

/// A write's state.
#[utoipa::path(get, path = "/v1/operations/{id}", tag = "operations", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OperationRecord), (status = 404, body = Problem)))]
pub async fn operation(
    State(s): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<OperationRecord> {
    Ok(Json(s.service.operation(&id).await?))
}

/// Server-sent change events (`reservation.created`, `guest.arrived`, `room.status_changed`,
/// `write.failed`, `pms.unavailable`, …). Send `Last-Event-ID` to resume after the last event
/// received (from the bounded durable log); `?hotel=` for one hotel's events.
#[utoipa::path(get, path = "/v1/events", tag = "events", security(("bearer" = [])),
    params(("hotel" = Option<String>, Query), ("Last-Event-ID" = Option<String>, Header)),
    responses((status = 200, description = "text/event-stream of change events"), (status = 401, body = Problem)))]
pub async fn events(
    State(s): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    q: Result<Query<crate::events::sse::EventsQuery>, QueryRejection>,
) -> Result<axum::response::Response, Problem> {
    let q = query(q)?;
    if let Some(h) = &q.hotel
        && !s.service.hotels().iter().any(|x| &x.id == h)
    {
        return Err(crate::service::ServiceError::UnknownHotel(h.clone()).into());
    }
    let log = s.service.tracker().log().clone();
    Ok(crate::events::sse::events_response(log, &headers, q).await)
}

/// `?token=` of a vendor webhook.
#[derive(Debug, Deserialize)]
pub struct WebhookQuery {
    token: Option<String>,
}

/// A vendor's webhook (Mews general webhooks): authenticated by the shared token in the URL
/// (`hotels[].inboundWebhook`), not by a bearer token. Invalidates the affected cached reads
/// and refreshes the matching sync streams now.
#[utoipa::path(post, path = "/v1/webhooks/{hotel}/{vendor}", tag = "events",
    params(("hotel" = String, Path), ("vendor" = String, Path), ("token" = String, Query)),
    request_body(content = serde_json::Value, description = "the vendor's payload (Mews: {EnterpriseId, IntegrationId, Events: [{Discriminator, Value: {Id}}]})"),
    responses((status = 202, body = crate::service::WebhookReceipt), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn vendor_webhook(
    State(s): State<AppState>,
    Path((hotel, vendor)): Path<(String, String)>,
    q: Result<Query<WebhookQuery>, QueryRejection>,
    body: axum::body::Bytes,
) -> Result<(axum::http::StatusCode, Json<crate::service::WebhookReceipt>), Problem> {
    let q = query(q)?;
    let receipt = s
        .service
        .vendor_webhook(&hotel, &vendor, q.token.as_deref(), &body)
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(receipt)))
}

/// Runs one sync stream of a hotel now (`arrivals`, `departures`, `inHouse`, `roomStatus`) and
/// answers with its outcome; its change events go to `/v1/events` and the webhooks. 409 while a
/// run of the same stream is in progress.
#[utoipa::path(post, path = "/v1/hotels/{hotel}/sync/{stream}", tag = "events", security(("bearer" = [])),
    params(("hotel" = String, Path), ("stream" = String, Path)),
    responses((status = 200, body = crate::sync::scheduler::RunOutcome), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn sync_now(
    State(s): State<AppState>,
    _caller: Caller,
    Path((hotel, stream)): Path<(String, String)>,
) -> ApiResult<crate::sync::scheduler::RunOutcome> {
    Ok(Json(s.service.sync_now(&hotel, &stream).await?))
}

/// Re-reads the config file's hotels and the adapters they use, without a restart: new hotels
/// serve at once, changed settings, secret references, pins and components take effect, removed
/// hotels stop. An invalid config changes nothing and answers 400 with the reason.
#[utoipa::path(post, path = "/v1/admin/reload", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = crate::service::ReloadReport), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 501, body = Problem)))]
pub async fn reload(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<crate::service::ReloadReport> {
    let Some(reloader) = &s.reloader else {
        return Err(Problem::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "reload-unavailable",
            "Reload is not available",
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
