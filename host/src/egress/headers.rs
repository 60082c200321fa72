//! Headers a guest may not set: credentials (the host applies them), transport headers (the
//! host's HTTP client computes them) and content negotiation (the host decides what encodings
//! and ranges it accepts, so that every response reaches the secret scrubber whole and decoded).
//!
//! Names are compared case-insensitively and with `_` read as `-`: CGI-style servers (PHP, many
//! gateways) expose `x_api_key` as `HTTP_X_API_KEY`, the same variable as `x-api-key`.

/// Why a header is refused, or `None` when the guest may set it. `auth_header` is the header the
/// manifest's auth scheme uses, which is a credential header whatever its name.
pub fn refusal(name: &str, auth_header: Option<&str>) -> Option<&'static str> {
    let name = name.to_ascii_lowercase().replace('_', "-");
    const CREDENTIALS: &[&str] = &[
        "authorization",
        "cookie",
        "cookie2",
        "x-api-key",
        "x-app-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "x-client-secret",
    ];
    const TRANSPORT: &[&str] = &[
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
    ];
    const NEGOTIATION: &[&str] = &[
        "accept-encoding",
        "range",
        "if-range",
        "content-encoding",
        "want-digest",
        "want-content-digest",
    ];
    if CREDENTIALS.contains(&name.as_str())
        || name.starts_with("proxy-")
        || auth_header.is_some_and(|h| h.to_ascii_lowercase().replace('_', "-") == name)
    {
        Some("credential headers are set by the host, never by the adapter")
    } else if TRANSPORT.contains(&name.as_str()) {
        Some("transport headers are set by the host's HTTP client")
    } else if NEGOTIATION.contains(&name.as_str()) {
        Some("content negotiation is the host's: it decodes every response before scrubbing it")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn credential_and_transport_headers_are_refused() {
        for h in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "x-app-key",
            "Proxy-Authorization",
            "proxy-foo",
            "Host",
            "x_api_key",
            "X_API_KEY",
            "x-api_key",
            "proxy_authorization",
            "Accept-Encoding",
            "accept_encoding",
            "Range",
            "TE",
            "If-Range",
        ] {
            assert!(refusal(h, None).is_some(), "{h}");
        }
        assert!(refusal("x-custom-key", Some("X-Custom-Key")).is_some());
        assert!(refusal("x_custom_key", Some("X-Custom-Key")).is_some());
        assert!(refusal("x-custom-key", Some("x_custom_key")).is_some());
        for h in ["accept", "content-type", "x-hotelid", "x-request-id"] {
            assert!(refusal(h, None).is_none(), "{h}");
        }
    }
}
