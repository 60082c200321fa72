//! The `allowed_hosts` grammar of adapter manifests, its `{config-key}` placeholders and matching.
//!
//! Grammar of one entry: `[scheme://]host[:port]`, where `scheme` is `https` (the default) or
//! `http`, `host` is a DNS name, an IP literal, or `*.domain` (any name with at least one more
//! label in front of `domain`), and any part may hold `{key}` placeholders resolved from the
//! hotel's settings. A placeholder may also stand for a whole origin (`{baseUrl}` =
//! `https://pms.example:8443`), in which case its scheme and port are used. Paths are not allowed:
//! the allowlist is about origins. Pure functions only: no I/O, no wasmtime.

use std::collections::BTreeMap;
use std::fmt;
use url::Url;

/// A manifest entry or placeholder value that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed host `{entry}`: {message}")]
pub struct AllowlistError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong.
    pub message: String,
}

/// URL scheme of an allowed origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http` (only ever used for loopback, and only when the operator allows it).
    Http,
    /// `https`
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A host pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// This host exactly (lowercase).
    Exact(String),
    /// Any host ending in `.<suffix>` (lowercase suffix, without the leading dot).
    Subdomains(String),
}

/// One allowed origin, after placeholders were resolved for a hotel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    /// Scheme.
    pub scheme: Scheme,
    /// Host.
    pub host: HostPattern,
    /// Port (the scheme's default when the entry names none).
    pub port: u16,
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        match &self.host {
            HostPattern::Exact(h) => write!(f, "{scheme}://{h}:{}", self.port),
            HostPattern::Subdomains(s) => write!(f, "{scheme}://*.{s}:{}", self.port),
        }
    }
}

impl AllowedOrigin {
    /// True when `url`'s scheme, host and port are this origin's.
    pub fn matches(&self, url: &Url) -> bool {
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return false,
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(0);
        scheme == self.scheme
            && port == self.port
            && match &self.host {
                HostPattern::Exact(h) => host == *h,
                HostPattern::Subdomains(suffix) => {
                    host.len() > suffix.len() + 1
                        && host.ends_with(suffix.as_str())
                        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                }
            }
    }
}

/// The `{key}` placeholders an entry uses, for checking them against the manifest's config keys.
pub fn placeholders(entry: &str) -> Result<Vec<String>, AllowlistError> {
    let mut keys = Vec::new();
    let mut rest = entry;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .ok_or_else(|| err(entry, "a `{` has no matching `}`"))?;
        let key = &after[..end];
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(err(
                entry,
                format!("`{{{key}}}` is not a valid placeholder"),
            ));
        }
        keys.push(key.to_string());
        rest = &after[end + 1..];
    }
    if rest.contains('}') {
        return Err(err(entry, "a `}` has no matching `{`"));
    }
    Ok(keys)
}

fn err(entry: &str, message: impl Into<String>) -> AllowlistError {
    AllowlistError {
        entry: entry.to_string(),
        message: message.into(),
    }
}

/// Checks the grammar of a manifest entry, with placeholders standing for a sample host.
pub fn check_syntax(entry: &str) -> Result<(), AllowlistError> {
    let samples: BTreeMap<String, String> = placeholders(entry)?
        .into_iter()
        .map(|k| (k, "placeholder.example".to_string()))
        .collect();
    resolve(entry, &samples).map(|_| ())
}

/// Resolves `entry`'s placeholders from `settings` and parses the result.
pub fn resolve(
    entry: &str,
    settings: &BTreeMap<String, String>,
) -> Result<AllowedOrigin, AllowlistError> {
    let mut text = String::new();
    let mut rest = entry;
    for key in placeholders(entry)? {
        let token = format!("{{{key}}}");
        let at = rest
            .find(&token)
            .ok_or_else(|| err(entry, "placeholder parsing failed"))?;
        let value = settings
            .get(&key)
            .ok_or_else(|| err(entry, format!("the hotel's settings do not set `{key}`")))?;
        let before = &rest[..at];
        match value.split_once("://") {
            // A placeholder holding a whole origin, either alone or after a scheme that must agree.
            Some((value_scheme, _)) => {
                let written = format!("{text}{before}");
                if !(written.is_empty() || written == format!("{value_scheme}://")) {
                    return Err(err(
                        entry,
                        format!(
                            "`{key}` is `{value}`, whose scheme does not fit the entry's `{written}`"
                        ),
                    ));
                }
                text = value.clone();
            }
            None => {
                text.push_str(before);
                text.push_str(value);
            }
        }
        rest = &rest[at + token.len()..];
    }
    text.push_str(rest);
    parse_origin(entry, &text)
}

fn parse_origin(entry: &str, text: &str) -> Result<AllowedOrigin, AllowlistError> {
    let (scheme, rest) = match text.split_once("://") {
        Some(("https", rest)) => (Scheme::Https, rest),
        Some(("http", rest)) => (Scheme::Http, rest),
        Some((other, _)) => {
            return Err(err(
                entry,
                format!("scheme `{other}` is not allowed (https or http only)"),
            ));
        }
        None => (Scheme::Https, text),
    };
    // A whole-origin placeholder value may carry a path (a base URL): the origin is what counts.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(err(entry, "user information in a host is not allowed"));
    }
    let wildcard = authority.starts_with("*.");
    let probe = format!(
        "{}://{}",
        if scheme == Scheme::Https {
            "https"
        } else {
            "http"
        },
        if wildcard {
            authority.replacen('*', "wildcard", 1)
        } else {
            authority.to_string()
        }
    );
    let url = Url::parse(&probe)
        .map_err(|e| err(entry, format!("`{authority}` is not a host[:port]: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| err(entry, "no host"))?
        .to_ascii_lowercase();
    if host.contains('*') {
        return Err(err(
            entry,
            "`*` is only allowed as the first label (`*.example.com`)",
        ));
    }
    let port = url.port().unwrap_or(scheme.default_port());
    let host = if wildcard {
        let suffix = host
            .strip_prefix("wildcard.")
            .ok_or_else(|| err(entry, "bad wildcard"))?
            .to_string();
        if !suffix.contains('.') {
            return Err(err(
                entry,
                "a wildcard must cover a registrable domain (`*.example.com`, not `*.com`)",
            ));
        }
        HostPattern::Subdomains(suffix)
    } else {
        HostPattern::Exact(host)
    };
    Ok(AllowedOrigin { scheme, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn exact_hosts_default_to_https_443() {
        let o = resolve("api.mews.com", &settings(&[])).unwrap();
        assert!(o.matches(&url("https://api.mews.com/api/connector/v1/x")));
        assert!(o.matches(&url("https://API.mews.com:443/")));
        assert!(!o.matches(&url("http://api.mews.com/")));
        assert!(!o.matches(&url("https://api.mews.com:8443/")));
        assert!(!o.matches(&url("https://api.mews.com.evil.example/")));
        assert!(!o.matches(&url("https://evilapi.mews.com/")));
    }

    #[test]
    fn wildcards_need_one_more_label() {
        let o = resolve("https://*.hospitality.oraclecloud.com", &settings(&[])).unwrap();
        assert!(o.matches(&url("https://acme.hospitality.oraclecloud.com/")));
        assert!(o.matches(&url("https://a.b.hospitality.oraclecloud.com/")));
        assert!(!o.matches(&url("https://hospitality.oraclecloud.com/")));
        assert!(!o.matches(&url("https://xhospitality.oraclecloud.com/")));
        assert!(check_syntax("*.com").is_err());
        assert!(check_syntax("https://api.*.com").is_err());
    }

    #[test]
    fn placeholders_resolve_per_hotel() {
        let o = resolve(
            "https://{hostname}",
            &settings(&[("hostname", "acme.example.com")]),
        )
        .unwrap();
        assert!(o.matches(&url("https://acme.example.com/rsv/v1")));
        // A whole origin, with scheme, port and even a path, in the value.
        let o = resolve(
            "{baseUrl}",
            &settings(&[("baseUrl", "http://127.0.0.1:9090/api")]),
        )
        .unwrap();
        assert_eq!(
            o,
            AllowedOrigin {
                scheme: Scheme::Http,
                host: HostPattern::Exact("127.0.0.1".into()),
                port: 9090
            }
        );
        let o = resolve(
            "https://{hostname}",
            &settings(&[("hostname", "https://x.example.com")]),
        )
        .unwrap();
        assert!(o.matches(&url("https://x.example.com/")));
        let e = resolve(
            "https://{hostname}",
            &settings(&[("hostname", "http://x.example.com")]),
        )
        .unwrap_err();
        assert!(e.message.contains("scheme"), "{e}");
        let e = resolve("https://{hostname}", &settings(&[])).unwrap_err();
        assert!(e.message.contains("`hostname`"), "{e}");
    }

    #[test]
    fn bad_entries_are_refused_with_reasons() {
        assert!(check_syntax("ftp://x.example.com").is_err());
        assert!(check_syntax("https://user@x.example.com").is_err());
        assert!(check_syntax("https://{unclosed").is_err());
        assert!(check_syntax("https://x.example.com:99999").is_err());
        assert!(check_syntax("https://{hostname}").is_ok());
        assert_eq!(placeholders("https://{a}.{b}:1").unwrap(), vec!["a", "b"]);
    }
}
