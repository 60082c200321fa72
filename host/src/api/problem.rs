//! RFC 9457 `application/problem+json` errors: the one error type of the API. Every failure of
//! the service, of authentication and of request parsing becomes a [`Problem`] here.

use crate::model::PmsError;
use crate::runtime::CallError;
use crate::service::ServiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:jack-pms:problem:<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
    /// Seconds to wait before retrying, when known.
    #[serde(skip_serializing_if = "Option::is_none", rename = "retryAfter")]
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
    pub fn new(
        status: StatusCode,
        kind: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            kind: format!("urn:jack-pms:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
            operation_id: None,
            rule: None,
        }
    }

    /// 400 for malformed input.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is invalid",
            detail,
        )
    }

    /// 401 for a missing or wrong token.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    /// 404 for an unknown route.
    pub fn no_route() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
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
            ServiceError::UnknownHotel(_) => Problem::new(
                StatusCode::NOT_FOUND,
                "unknown-hotel",
                "Unknown hotel",
                detail,
            ),
            ServiceError::HotelUnavailable { .. } => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "hotel-unavailable",
                "The hotel's adapter is unavailable",
                detail,
            ),
            ServiceError::BadInput(_) => Problem::bad_request(detail),
            ServiceError::NotFound(_) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
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
                ..Problem::new(
                    StatusCode::CONFLICT,
                    "write-failed",
                    "The write will not be applied",
                    detail,
                )
            },
            ServiceError::Guardrail { rule, .. } => Problem {
                rule: Some(rule),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "write-refused",
                    "The write breaks one of the hotel's guardrails",
                    detail,
                )
            },
            ServiceError::Unauthorized(_) => Problem::unauthorized(detail),
            ServiceError::Busy(_) => {
                Problem::new(StatusCode::CONFLICT, "busy", "Already running", detail)
            }
            ServiceError::State(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "state-unavailable",
                "The host could not store the request",
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
                "adapter-timeout",
                "The adapter ran out of time",
                detail,
            ),
            CallError::Trap { .. }
            | CallError::Memory { .. }
            | CallError::TooMuchData { .. }
            | CallError::InvalidOutput { .. } => Problem::new(
                StatusCode::BAD_GATEWAY,
                "adapter-failure",
                "The adapter failed",
                detail,
            ),
            CallError::Instantiate { .. } => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "host-busy",
                    "No sandbox instance is free",
                    detail,
                )
            },
            CallError::CircuitOpen { retry_after, .. } => Problem {
                retry_after: Some(seconds(retry_after.as_secs())),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "adapter-suspended",
                    "The adapter is suspended",
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
        PmsError::NotFound => Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found in the PMS",
            detail,
        ),
        PmsError::Unauthorized(_) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "pms-unauthorized",
            "The PMS refused the host's credentials",
            detail,
        ),
        PmsError::RateLimited(ms) => Problem {
            retry_after: Some(seconds(ms.map(|ms| ms.div_ceil(1000)).unwrap_or(1))),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "pms-rate-limited",
                "The PMS is rate limiting",
                detail,
            )
        },
        PmsError::Unavailable(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "pms-unavailable",
            "The PMS is unavailable",
            detail,
        ),
        PmsError::InvalidRequest(_) => Problem::bad_request(detail),
        PmsError::Unsupported(_) => Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            "unsupported",
            "The hotel's PMS does not support this operation",
            detail,
        ),
        PmsError::Conflict(_) => Problem::new(
            StatusCode::CONFLICT,
            "conflict",
            "The PMS refused the change",
            detail,
        ),
        PmsError::Internal(_) => Problem::new(
            StatusCode::BAD_GATEWAY,
            "adapter-error",
            "The adapter reported an error",
            detail,
        ),
    }
}
