//! The path, query and header parameters of the routes, as types: each handler extracts one,
//! and the OpenAPI document states the same constraints the handler enforces (a client
//! generated from the document sends nothing the host refuses for its shape).

use super::problem::Problem;
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The longest `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// `/v1/hotels/{hotel}/…`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HotelPath {
    /// Jack's id of the hotel (`hotels[].id` in the config).
    #[param(pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: String,
}

/// `/v1/hotels/{hotel}/guests/{guestId}…`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct GuestPath {
    /// Jack's id of the hotel.
    #[param(pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: String,
    /// The guest: `<vendor>:<pmsId>` as the API answers it, or the bare PMS id. A vendor
    /// prefix other than the hotel's is not found.
    #[param(min_length = 1, example = "mock:G1001")]
    pub guest_id: String,
}

/// `/v1/hotels/{hotel}/reservations/{confirmationNumber}…`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct ReservationPath {
    /// Jack's id of the hotel.
    #[param(pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: String,
    /// The reservation's confirmation number in the PMS.
    #[param(min_length = 1, example = "CONF1001")]
    pub confirmation_number: String,
}

/// `/v1/hotels/{hotel}/rooms/{roomNumber}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct RoomPath {
    /// Jack's id of the hotel.
    #[param(pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: String,
    /// The room number as the PMS spells it.
    #[param(min_length = 1, example = "101")]
    pub room_number: String,
}

/// A sync stream of a hotel (`hotels[].sync` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SyncStream {
    /// Today's (and `lookAheadDays`') arrivals.
    Arrivals,
    /// Today's (and `lookAheadDays`') departures.
    Departures,
    /// The guests in house.
    InHouse,
    /// Every room's housekeeping status.
    RoomStatus,
}

impl SyncStream {
    /// The stream's name in the config and the scheduler.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStream::Arrivals => "arrivals",
            SyncStream::Departures => "departures",
            SyncStream::InHouse => "inHouse",
            SyncStream::RoomStatus => "roomStatus",
        }
    }
}

/// `/v1/hotels/{hotel}/sync/{stream}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SyncPath {
    /// Jack's id of the hotel.
    #[param(pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: String,
    /// Which stream to run.
    pub stream: SyncStream,
}

/// `/v1/operations/{id}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OperationPath {
    /// The write's operation id, as its 200/202 answer gave it.
    #[param(min_length = 1, example = "op_01J9Z3K8T3X6Q2W5B4N7M1C0DE")]
    pub id: String,
}

/// `/v1/operations/{id}/{action}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OperationActionPath {
    /// The write's operation id.
    #[param(min_length = 1, example = "op_01J9Z3K8T3X6Q2W5B4N7M1C0DE")]
    pub id: String,
    /// What to do: `retry`, `resend`, `cancel` (scope `operator`), `approve`, `reject` (scope
    /// `approver`).
    pub action: crate::service::StaffAction,
}

/// `/v1/webhooks/{hotel}/{vendor}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// Jack's id of the hotel.
    #[param(pattern = "^[A-Za-z0-9_-]+$", example = "DEMO1")]
    pub hotel: String,
    /// The vendor sending (`mews`).
    #[param(min_length = 1, example = "mews")]
    pub vendor: String,
}

/// `?date=YYYY-MM-DD`, optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// Hotel-local date, `YYYY-MM-DD`; the hotel's today (in its `timeZone`) when absent.
    #[param(nullable = false, format = Date, pattern = r"^\d{4}-\d{2}-\d{2}$", example = "2024-01-15")]
    pub date: Option<String>,
}

/// The optional `Idempotency-Key` header of every write (documentation; read with
/// [`idempotency_key`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Any 1 to 255 visible ASCII characters (a UUID is a good choice). A request with a key
    /// already used for the hotel answers the first write's outcome instead of writing again;
    /// without a key, a retried request writes again.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$",
        example = "6f1c2a7e-3b9d-4e51-9a0c-2d8e5f7b1a43"
    )]
    pub idempotency_key: Option<String>,
}

/// The `Last-Event-ID` header of the event stream (documentation; the stream reads it).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct LastEventId {
    /// Resume after this event id (the `id:` of the last event received).
    #[serde(rename = "Last-Event-ID")]
    #[param(nullable = false, pattern = r"^\d{1,18}$", example = "1042")]
    pub last_event_id: Option<String>,
}

/// The request's `Idempotency-Key`, checked as the document states it: 1 to
/// [`MAX_IDEMPOTENCY_KEY`] visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(k)
                if !k.is_empty()
                    && k.len() <= MAX_IDEMPOTENCY_KEY
                    && k.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(Some(k))
            }
            _ => Err(Problem::bad_request(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )),
        },
    }
}
