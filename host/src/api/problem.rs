//! RFC 9457 `application/problem+json` errors: the one error type of the API. Every failure of
//! the service, of authentication and of request parsing becomes a [`Problem`] here.

use crate::model::PmsError;
use crate::runtime::CallError;
use crate::service::ServiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The kinds of problem the API answers, each with its `type` URI
/// (`urn:jack-pms:problem:<kind>`) and its title. The OpenAPI document lists them all, so a
/// generated client can switch on `type` exhaustively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum ProblemType {
    /// The request is malformed (syntax, a value out of range, a missing field).
    #[serde(rename = "urn:jack-pms:problem:bad-request")]
    BadRequest,
    /// No bearer token, or one the host does not know.
    #[serde(rename = "urn:jack-pms:problem:unauthorized")]
    Unauthorized,
    /// The token lacks the scope the action needs (`operator`, `approver`).
    #[serde(rename = "urn:jack-pms:problem:forbidden")]
    Forbidden,
    /// No such route, or the PMS has no such guest, reservation, room or operation.
    #[serde(rename = "urn:jack-pms:problem:not-found")]
    NotFound,
    /// The route exists but not with this method (the `Allow` header lists those it has).
    #[serde(rename = "urn:jack-pms:problem:method-not-allowed")]
    MethodNotAllowed,
    /// The request body is larger than the API takes ([`super::MAX_BODY_BYTES`]).
    #[serde(rename = "urn:jack-pms:problem:payload-too-large")]
    PayloadTooLarge,
    /// The request body is not `application/json`.
    #[serde(rename = "urn:jack-pms:problem:unsupported-media-type")]
    UnsupportedMediaType,
    /// The host failed while answering; it keeps serving other requests.
    #[serde(rename = "urn:jack-pms:problem:internal")]
    Internal,
    /// The hotel id is not one of this host's hotels.
    #[serde(rename = "urn:jack-pms:problem:unknown-hotel")]
    UnknownHotel,
    /// The hotel is configured but its adapter could not be loaded.
    #[serde(rename = "urn:jack-pms:problem:hotel-unavailable")]
    HotelUnavailable,
    /// The write (of this idempotency key) failed for good or was cancelled.
    #[serde(rename = "urn:jack-pms:problem:write-failed")]
    WriteFailed,
    /// The write breaks one of the hotel's guardrails (`rule` names it).
    #[serde(rename = "urn:jack-pms:problem:write-refused")]
    WriteRefused,
    /// The `Idempotency-Key` was first used for another write (`operationId` names it).
    #[serde(rename = "urn:jack-pms:problem:idempotency-key-reused")]
    IdempotencyKeyReused,
    /// The write's state does not allow the action now (approving a write that is not held).
    #[serde(rename = "urn:jack-pms:problem:operation-state")]
    OperationState,
    /// The same job (a sync stream) is already running.
    #[serde(rename = "urn:jack-pms:problem:busy")]
    Busy,
    /// The host's state (its database) could not store or read the request.
    #[serde(rename = "urn:jack-pms:problem:state-unavailable")]
    StateUnavailable,
    /// The adapter ran out of time.
    #[serde(rename = "urn:jack-pms:problem:adapter-timeout")]
    AdapterTimeout,
    /// The adapter trapped, ran out of memory or answered something invalid.
    #[serde(rename = "urn:jack-pms:problem:adapter-failure")]
    AdapterFailure,
    /// No sandbox instance is free now (`retryAfter` says when to try again).
    #[serde(rename = "urn:jack-pms:problem:host-busy")]
    HostBusy,
    /// The adapter's circuit breaker is open after repeated failures (`retryAfter`).
    #[serde(rename = "urn:jack-pms:problem:adapter-suspended")]
    AdapterSuspended,
    /// The PMS refused the host's credentials.
    #[serde(rename = "urn:jack-pms:problem:pms-unauthorized")]
    PmsUnauthorized,
    /// The PMS (or the host's limiter for it) is rate limiting (`retryAfter`).
    #[serde(rename = "urn:jack-pms:problem:pms-rate-limited")]
    PmsRateLimited,
    /// The PMS cannot be reached or answers that it is down.
    #[serde(rename = "urn:jack-pms:problem:pms-unavailable")]
    PmsUnavailable,
    /// The hotel's PMS (its adapter) does not support this operation.
    #[serde(rename = "urn:jack-pms:problem:unsupported")]
    Unsupported,
    /// The PMS refused the change (a state conflict on its side).
    #[serde(rename = "urn:jack-pms:problem:conflict")]
    Conflict,
    /// The PMS (or the adapter, for it) refused the request's content: valid for this API, not
    /// for this PMS (more decimals than the currency has, an unknown article code, …).
    #[serde(rename = "urn:jack-pms:problem:pms-refused")]
    PmsRefused,
    /// The adapter reported an error of its own.
    #[serde(rename = "urn:jack-pms:problem:adapter-error")]
    AdapterError,
    /// `POST /v1/admin/reload` on a host not started from a config file.
    #[serde(rename = "urn:jack-pms:problem:reload-unavailable")]
    ReloadUnavailable,
}

impl ProblemType {
    /// The short summary of the kind (RFC 9457 `title`: the same for every problem of a kind).
    pub fn title(self) -> &'static str {
        match self {
            ProblemType::BadRequest => "The request is invalid",
            ProblemType::Unauthorized => "Authentication required",
            ProblemType::Forbidden => "The token may not do this",
            ProblemType::NotFound => "Not found",
            ProblemType::MethodNotAllowed => "Method not allowed",
            ProblemType::PayloadTooLarge => "The request body is too large",
            ProblemType::UnsupportedMediaType => "The request body must be JSON",
            ProblemType::Internal => "Internal error",
            ProblemType::UnknownHotel => "Unknown hotel",
            ProblemType::HotelUnavailable => "The hotel's adapter is unavailable",
            ProblemType::WriteFailed => "The write will not be applied",
            ProblemType::WriteRefused => "The write breaks one of the hotel's guardrails",
            ProblemType::IdempotencyKeyReused => {
                "The Idempotency-Key was first used for another write"
            }
            ProblemType::OperationState => "The write's state does not allow this",
            ProblemType::Busy => "Already running",
            ProblemType::StateUnavailable => "The host could not store the request",
            ProblemType::AdapterTimeout => "The adapter ran out of time",
            ProblemType::AdapterFailure => "The adapter failed",
            ProblemType::HostBusy => "No sandbox instance is free",
            ProblemType::AdapterSuspended => "The adapter is suspended",
            ProblemType::PmsUnauthorized => "The PMS refused the host's credentials",
            ProblemType::PmsRateLimited => "The PMS is rate limiting",
            ProblemType::PmsUnavailable => "The PMS is unavailable",
            ProblemType::Unsupported => "The hotel's PMS does not support this operation",
            ProblemType::Conflict => "The PMS refused the change",
            ProblemType::PmsRefused => "The PMS refused the request's content",
            ProblemType::AdapterError => "The adapter reported an error",
            ProblemType::ReloadUnavailable => "Reload is not available",
        }
    }

    /// The kind an error status stands for when the framework, not a handler, answered it
    /// (a rejected path or body, an unknown method), so that [`super::as_problem`] can turn
    /// the answer into a problem.
    pub fn for_status(status: StatusCode) -> ProblemType {
        match status {
            StatusCode::UNAUTHORIZED => ProblemType::Unauthorized,
            StatusCode::FORBIDDEN => ProblemType::Forbidden,
            StatusCode::NOT_FOUND => ProblemType::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ProblemType::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ProblemType::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemType::UnsupportedMediaType,
            s if s.is_client_error() => ProblemType::BadRequest,
            _ => ProblemType::Internal,
        }
    }
}

/// An RFC 9457 problem, answered as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "urn:jack-pms:problem:unknown-hotel",
    "title": "Unknown hotel",
    "status": 404,
    "detail": "unknown hotel `NOPE`"
}))]
pub struct Problem {
    /// What kind of problem this is: switch on it, not on `title` or `detail`.
    #[serde(rename = "type")]
    pub kind: ProblemType,
    /// The kind's short summary (the same for every problem of the kind).
    pub title: &'static str,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What happened in this case, for a person to read (never a secret).
    pub detail: String,
    /// Seconds to wait before retrying (also the `Retry-After` header), when known.
    #[serde(skip_serializing_if = "Option::is_none", rename = "retryAfter")]
    #[schema(minimum = 1)]
    pub retry_after: Option<u32>,
    /// The write's operation id, when the problem is about a stored write.
    #[serde(skip_serializing_if = "Option::is_none", rename = "operationId")]
    pub operation_id: Option<String>,
    /// The guardrail a refused write broke (`charge.amount.max`, …), for `write-refused`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

impl Problem {
    /// A problem of `kind` with `status`.
    pub fn new(status: StatusCode, kind: ProblemType, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            title: kind.title(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
            operation_id: None,
            rule: None,
        }
    }

    /// 400 for malformed input.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, ProblemType::BadRequest, detail)
    }

    /// 401 for a missing or wrong token.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, ProblemType::Unauthorized, detail)
    }

    /// 404 for an unknown route.
    pub fn no_route() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            ProblemType::NotFound,
            "no such endpoint; see /openapi.json",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Problem {
        let detail = e.to_string();
        match e {
            ServiceError::UnknownHotel(_) => {
                Problem::new(StatusCode::NOT_FOUND, ProblemType::UnknownHotel, detail)
            }
            ServiceError::HotelUnavailable { .. } => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemType::HotelUnavailable,
                detail,
            ),
            ServiceError::BadInput(_) => Problem::bad_request(detail),
            ServiceError::NotFound(_) => {
                Problem::new(StatusCode::NOT_FOUND, ProblemType::NotFound, detail)
            }
            ServiceError::Call(call) => call.into(),
            ServiceError::Refused {
                operation_id,
                error,
            } => Problem {
                operation_id: Some(operation_id),
                ..error.into()
            },
            ServiceError::WriteFailed { operation_id, .. } => Problem {
                operation_id: Some(operation_id),
                ..Problem::new(StatusCode::CONFLICT, ProblemType::WriteFailed, detail)
            },
            ServiceError::IdempotencyKeyReused { operation_id } => Problem {
                operation_id: Some(operation_id),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemType::IdempotencyKeyReused,
                    detail,
                )
            },
            ServiceError::Guardrail { rule, .. } => Problem {
                rule: Some(rule),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemType::WriteRefused,
                    detail,
                )
            },
            ServiceError::Unauthorized(_) => Problem::unauthorized(detail),
            ServiceError::NotNow(_) => {
                Problem::new(StatusCode::CONFLICT, ProblemType::OperationState, detail)
            }
            ServiceError::Busy(_) => Problem::new(StatusCode::CONFLICT, ProblemType::Busy, detail),
            ServiceError::State(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ProblemType::StateUnavailable,
                detail,
            ),
        }
    }
}

impl From<CallError> for Problem {
    fn from(e: CallError) -> Problem {
        let detail = e.to_string();
        match e {
            CallError::Pms(pms) => pms_problem(pms, detail),
            CallError::Deadline { .. } => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                ProblemType::AdapterTimeout,
                detail,
            ),
            CallError::Trap { .. }
            | CallError::Memory { .. }
            | CallError::TooMuchData { .. }
            | CallError::InvalidOutput { .. } => {
                Problem::new(StatusCode::BAD_GATEWAY, ProblemType::AdapterFailure, detail)
            }
            CallError::Instantiate { .. } => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ProblemType::HostBusy,
                    detail,
                )
            },
            CallError::CircuitOpen { retry_after, .. } => Problem {
                retry_after: Some(seconds(retry_after.as_secs())),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ProblemType::AdapterSuspended,
                    detail,
                )
            },
        }
    }
}

/// A `Retry-After` in whole seconds: at least 1, at most what a `u32` holds (136 years).
fn seconds(secs: u64) -> u32 {
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

fn pms_problem(e: PmsError, detail: String) -> Problem {
    match e {
        PmsError::NotFound => Problem::new(StatusCode::NOT_FOUND, ProblemType::NotFound, detail),
        PmsError::Unauthorized(_) => Problem::new(
            StatusCode::BAD_GATEWAY,
            ProblemType::PmsUnauthorized,
            detail,
        ),
        PmsError::RateLimited(ms) => Problem {
            retry_after: Some(seconds(ms.map(|ms| ms.div_ceil(1000)).unwrap_or(1))),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemType::PmsRateLimited,
                detail,
            )
        },
        PmsError::Unavailable(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemType::PmsUnavailable,
            detail,
        ),
        // The caller's request was valid for this API (it got this far); the PMS's rules said
        // no. 422, so a client can tell it from a malformed request of its own (400).
        PmsError::InvalidRequest(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemType::PmsRefused,
            detail,
        ),
        PmsError::Unsupported(_) => Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            ProblemType::Unsupported,
            detail,
        ),
        PmsError::Conflict(_) => Problem::new(StatusCode::CONFLICT, ProblemType::Conflict, detail),
        PmsError::Internal(_) => {
            Problem::new(StatusCode::BAD_GATEWAY, ProblemType::AdapterError, detail)
        }
    }
}
