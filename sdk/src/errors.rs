//! Shorthands for building [`PmsError`] values, and the mapping from HTTP status codes.

use crate::PmsError;

/// `unsupported` with a reason naming the operation.
pub fn unsupported(what: &str) -> PmsError {
    PmsError::Unsupported(format!("{what} is not supported by this adapter"))
}

/// `invalid-request` with a message.
pub fn invalid_request(message: impl Into<String>) -> PmsError {
    PmsError::InvalidRequest(message.into())
}

/// `internal` with a message.
pub fn internal(message: impl Into<String>) -> PmsError {
    PmsError::Internal(message.into())
}

/// Maps an HTTP error status to the matching [`PmsError`]; `None` for 1xx–3xx.
///
/// `detail` is the vendor's message (put into the error's string); `retry_after_ms` is the parsed
/// `Retry-After` header, used for 429.
///
/// | status | error |
/// |---|---|
/// | 400, 422 | `invalid-request` |
/// | 401, 403 | `unauthorized` |
/// | 404, 410 | `not-found` |
/// | 408, 5xx | `unavailable` |
/// | 409, 412 | `conflict` |
/// | 429 | `rate-limited` |
/// | any other 4xx | `internal` |
pub fn from_status(status: u16, detail: &str, retry_after_ms: Option<u64>) -> Option<PmsError> {
    let with = |what: &str| {
        if detail.is_empty() {
            format!("HTTP {status}: {what}")
        } else {
            format!("HTTP {status}: {detail}")
        }
    };
    Some(match status {
        0..=399 => return None,
        400 | 422 => PmsError::InvalidRequest(with("the PMS refused the request as invalid")),
        401 | 403 => PmsError::Unauthorized(with("the PMS refused the credentials")),
        404 | 410 => PmsError::NotFound,
        408 => PmsError::Unavailable(with("the PMS timed out")),
        409 | 412 => PmsError::Conflict(with("the PMS refused the change")),
        429 => PmsError::RateLimited(retry_after_ms),
        500..=599 => PmsError::Unavailable(with("the PMS failed")),
        _ => PmsError::Internal(with("unexpected status")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_contract() {
        assert_eq!(from_status(200, "", None), None);
        assert_eq!(from_status(304, "", None), None);
        assert!(
            matches!(from_status(400, "bad", None), Some(PmsError::InvalidRequest(m)) if m.contains("bad"))
        );
        assert!(matches!(
            from_status(401, "", None),
            Some(PmsError::Unauthorized(_))
        ));
        assert_eq!(from_status(404, "", None), Some(PmsError::NotFound));
        assert!(matches!(
            from_status(408, "", None),
            Some(PmsError::Unavailable(_))
        ));
        assert!(matches!(
            from_status(409, "", None),
            Some(PmsError::Conflict(_))
        ));
        assert_eq!(
            from_status(429, "", Some(2000)),
            Some(PmsError::RateLimited(Some(2000)))
        );
        assert!(matches!(
            from_status(503, "", None),
            Some(PmsError::Unavailable(_))
        ));
        assert!(matches!(
            from_status(418, "", None),
            Some(PmsError::Internal(_))
        ));
    }
}
