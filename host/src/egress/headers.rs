//! Headers a guest may not set: credentials (the host applies them) and transport headers (the
//! host's HTTP client computes them).

/// Why a header is refused, or `None` when the guest may set it. `auth_header` is the header the
/// manifest's auth scheme uses, which is a credential header whatever its name.
pub fn refusal(name: &str, auth_header: Option<&str>) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
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
    if CREDENTIALS.contains(&name.as_str())
        || name.starts_with("proxy-")
        || auth_header.is_some_and(|h| h.eq_ignore_ascii_case(&name))
    {
        Some("credential headers are set by the host, never by the adapter")
    } else if TRANSPORT.contains(&name.as_str()) {
        Some("transport headers are set by the host's HTTP client")
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
        ] {
            assert!(refusal(h, None).is_some(), "{h}");
        }
        assert!(refusal("x-custom-key", Some("X-Custom-Key")).is_some());
        for h in ["accept", "content-type", "x-hotelid", "x-request-id"] {
            assert!(refusal(h, None).is_none(), "{h}");
        }
    }
}
