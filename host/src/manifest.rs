//! Adapter manifests: `<name>.toml` beside `<name>.wasm` (DESIGN §3). What a security reviewer
//! reads with the component: where the adapter may connect, which credential scheme the host
//! applies for it, which secrets and settings it needs, and its default rate limit.

use crate::egress::allowlist;
use crate::egress::credentials::{Auth, OAuth2};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The WIT package versions this host can load.
pub const SUPPORTED_WIT: &[&str] = &["jack:pms@0.1.0"];

/// Why a manifest is refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Unreadable file.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// File.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// Malformed TOML, unknown key or wrong type.
    #[error("manifest {path}: {message}")]
    Parse {
        /// File.
        path: String,
        /// Parser message (names the key and line).
        message: String,
    },
    /// A value is not acceptable.
    #[error("manifest {path}: `{key}`: {message}")]
    Invalid {
        /// File.
        path: String,
        /// Key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    vendor: String,
    version: String,
    wit: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    /// One `[auth]` table, or several `[[auth]]` tables when the vendor offers more than one
    /// scheme (OHIP: both OAuth grants); read by hand so that errors keep naming the key.
    auth: toml::Value,
    #[serde(default)]
    auth_choice: Option<String>,
    #[serde(default)]
    request_headers_from_config: BTreeMap<String, String>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    config_keys: Vec<String>,
    #[serde(default)]
    optional_config_keys: Vec<String>,
    #[serde(default)]
    time_zone_key: Option<String>,
    #[serde(default)]
    no_retry_statuses: Vec<u16>,
    #[serde(default)]
    note_max_chars: Option<u32>,
    #[serde(default)]
    rate_limit: Vec<RateLimit>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "scheme", rename_all = "kebab-case", deny_unknown_fields)]
enum RawAuth {
    None,
    ApiKeyHeader {
        header: String,
        secret: String,
    },
    JsonBodyCredentials {
        fields: BTreeMap<String, String>,
        #[serde(default)]
        constants: BTreeMap<String, String>,
    },
    #[serde(rename = "oauth2-client-credentials")]
    OAuth2ClientCredentials(RawOAuth2),
    #[serde(rename = "oauth2-password")]
    OAuth2Password(RawOAuth2),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth2 {
    /// Token endpoint on the origin of the API request (OHIP).
    token_path: Option<String>,
    /// Token endpoint on another origin, absolute (Apaleo's identity server); the origin must be
    /// one of `allowed_hosts`.
    token_url: Option<String>,
    client_id_secret: String,
    client_secret_secret: String,
    app_key_header: Option<String>,
    app_key_secret: Option<String>,
    username_secret: Option<String>,
    password_secret: Option<String>,
    scope: Option<String>,
    #[serde(default)]
    token_headers_from_config: Vec<String>,
}

/// A default rate limit the adapter declares.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed…
    pub requests: u32,
    /// …per this many seconds…
    pub per_seconds: u32,
    /// …per `hotel`, `credential` or `environment`.
    pub scope: RateScope,
}

pub use crate::egress::limits::RateScope;

impl RateLimit {
    /// The egress pipeline's form.
    pub fn to_limit(&self) -> crate::egress::limits::RateLimit {
        crate::egress::limits::RateLimit {
            requests: self.requests,
            per: std::time::Duration::from_secs(u64::from(self.per_seconds)),
            scope: self.scope,
        }
    }
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Adapter name (matches the file name).
    pub name: String,
    /// Vendor key.
    pub vendor: String,
    /// Adapter version.
    pub version: String,
    /// WIT package the component is built against (`jack:pms@0.1.0`).
    pub wit: String,
    /// One-line description.
    pub description: Option<String>,
    /// `allowed_hosts` entries as written (placeholders unresolved).
    pub allowed_hosts: Vec<String>,
    /// The default auth scheme: the only one, or the first of several.
    pub auth: Auth,
    /// Further schemes a hotel may pick instead of [`Manifest::auth`] (`[[auth]]` tables).
    pub other_auth: Vec<Auth>,
    /// The hotel setting that picks the scheme when there are several (its value is the
    /// scheme's name); unset for a hotel means the default.
    pub auth_choice: Option<String>,
    /// Request headers the host sets on every request of the adapter from the hotel's
    /// settings (header name → config key), e.g. OHIP's `x-hotelid`; the guest may not set them.
    pub request_headers: BTreeMap<String, String>,
    /// Secret names the adapter needs.
    pub secrets: Vec<String>,
    /// Config keys the adapter reads; a hotel must set each.
    pub config_keys: Vec<String>,
    /// Config keys the adapter reads when a hotel sets them (listed for the reviewer).
    pub optional_config_keys: Vec<String>,
    /// The config key through which the adapter reads the hotel's IANA time zone, if it needs
    /// one (Mews `enterpriseTimeZone`, OHIP `timeZone`). The host fills it from the hotel's
    /// `timeZone`, so the zone is configured once and host and adapter agree on "today".
    pub time_zone_key: Option<String>,
    /// Answers the host hands to the adapter at once instead of retrying (only 408 and 5xx are
    /// ever retried): for a vendor whose 408 means "this query is too heavy", where resending
    /// the same request cannot succeed but a smaller page can (Mews).
    pub no_retry_statuses: Vec<u16>,
    /// The longest reservation note the vendor keeps, in characters (the host refuses longer
    /// ones before sending; 4,000 when the manifest says nothing).
    pub note_max_chars: Option<u32>,
    /// Default rate limits.
    pub rate_limits: Vec<RateLimit>,
}

impl Manifest {
    /// Every scheme the manifest declares, the default first.
    pub fn auth_schemes(&self) -> impl Iterator<Item = &Auth> {
        std::iter::once(&self.auth).chain(&self.other_auth)
    }

    /// The scheme a hotel with `settings` uses: the one its `auth_choice` setting names, or the
    /// default when it names none. A name the manifest does not declare is refused.
    pub fn auth_for(&self, settings: &BTreeMap<String, String>) -> Result<&Auth, String> {
        let Some(chosen) = self.auth_choice.as_ref().and_then(|key| settings.get(key)) else {
            return Ok(&self.auth);
        };
        self.auth_schemes()
            .find(|a| a.kind().name() == chosen)
            .ok_or_else(|| {
                let declared: Vec<&str> = self.auth_schemes().map(|a| a.kind().name()).collect();
                format!(
                    "setting `{}` is `{chosen}`, but adapter `{}` declares only {}",
                    self.auth_choice.as_deref().unwrap_or_default(),
                    self.name,
                    declared.join(", ")
                )
            })
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Parses and validates manifest `text`; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        let invalid = |key: &str, message: String| ManifestError::Invalid {
            path: path.into(),
            key: key.into(),
            message,
        };
        if !SUPPORTED_WIT.contains(&raw.wit.as_str()) {
            return Err(invalid(
                "wit",
                format!(
                    "`{}` is not supported; this host loads {}",
                    raw.wit,
                    SUPPORTED_WIT.join(", ")
                ),
            ));
        }
        for (i, entry) in raw.allowed_hosts.iter().enumerate() {
            allowlist::check_syntax(entry)
                .map_err(|e| invalid(&format!("allowed_hosts[{i}]"), e.message))?;
            for key in
                allowlist::placeholders(entry).map_err(|e| invalid("allowed_hosts", e.message))?
            {
                if !raw.config_keys.contains(&key) {
                    return Err(invalid(
                        &format!("allowed_hosts[{i}]"),
                        format!("placeholder `{{{key}}}` is not one of config_keys"),
                    ));
                }
            }
        }
        let tables: Vec<toml::Value> = match raw.auth {
            toml::Value::Array(tables) => tables,
            table => vec![table],
        };
        let mut schemes = Vec::new();
        for (i, table) in tables.into_iter().enumerate() {
            let key = if i == 0 {
                "auth".to_string()
            } else {
                format!("auth[{i}]")
            };
            let parsed: RawAuth =
                table
                    .try_into()
                    .map_err(|e: toml::de::Error| ManifestError::Parse {
                        path: path.into(),
                        message: format!("`{key}`: {}", e.message()),
                    })?;
            let scheme = auth(parsed).map_err(|(k, m)| invalid(&k, m))?;
            if let Some((o, _)) = scheme.oauth()
                && let Some(origin) = &o.token_origin
                && !raw.allowed_hosts.iter().any(|h| {
                    allowlist::resolve(h, &BTreeMap::new())
                        .is_ok_and(|a| a.to_string().trim_end_matches(":443") == origin)
                })
            {
                return Err(invalid(
                    &format!("{key}.token_url"),
                    format!("its origin {origin} is not one of allowed_hosts"),
                ));
            }
            // A token endpoint given by path lives on "the" API origin: there must be exactly
            // one, or the guest's choice of origin would pick where client credentials go.
            if let Some((o, _)) = scheme.oauth()
                && o.token_origin.is_none()
                && (raw.allowed_hosts.len() != 1
                    || raw.allowed_hosts.iter().any(|h| h.contains('*')))
            {
                return Err(invalid(
                    &format!("{key}.token_path"),
                    "a token endpoint given by path needs exactly one allowed host, without a wildcard; with several, name it with token_url".into(),
                ));
            }
            for name in scheme.secret_names() {
                if !raw.secrets.iter().any(|s| s == name) {
                    return Err(invalid(
                        &key,
                        format!("uses secret `{name}`, which `secrets` does not declare"),
                    ));
                }
            }
            if schemes.iter().any(|s: &Auth| s.kind() == scheme.kind()) {
                return Err(invalid(
                    &key,
                    format!("scheme `{}` is declared twice", scheme.kind().name()),
                ));
            }
            schemes.push(scheme);
        }
        if schemes.is_empty() {
            return Err(invalid("auth", "declares no scheme".into()));
        }
        if schemes.len() > 1 && raw.auth_choice.is_none() {
            return Err(invalid(
                "auth_choice",
                "several [[auth]] schemes need `auth_choice`, the hotel setting that picks one"
                    .into(),
            ));
        }
        for (header, key) in &raw.request_headers_from_config {
            let field = format!("request_headers_from_config.{header}");
            if header.is_empty()
                || !header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(&field, format!("`{header}` is not a header name")));
            }
            if let Some(reason) = crate::egress::headers::refusal(header, None).or_else(|| {
                schemes
                    .iter()
                    .filter_map(Auth::header)
                    .any(|h| h.eq_ignore_ascii_case(header))
                    .then_some("the auth scheme sets it")
            }) {
                return Err(invalid(
                    &field,
                    format!("cannot be set from config: {reason}"),
                ));
            }
            if !raw.config_keys.contains(key) {
                return Err(invalid(
                    &field,
                    format!("`{key}` is not one of config_keys"),
                ));
            }
        }
        let auth = schemes.remove(0);
        if let Some(both) = raw
            .optional_config_keys
            .iter()
            .find(|k| raw.config_keys.contains(k))
        {
            return Err(invalid(
                "optional_config_keys",
                format!("`{both}` is also in config_keys; a key is either required or optional"),
            ));
        }
        if let Some(key) = &raw.time_zone_key
            && !raw.config_keys.contains(key)
            && !raw.optional_config_keys.contains(key)
        {
            return Err(invalid(
                "time_zone_key",
                format!("`{key}` is not one of config_keys or optional_config_keys"),
            ));
        }
        if let Some(status) = raw
            .no_retry_statuses
            .iter()
            .find(|s| !(**s == 408 || (500..=599).contains(*s)))
        {
            return Err(invalid(
                "no_retry_statuses",
                format!("{status} is never retried; list 408 or 5xx statuses only"),
            ));
        }
        if raw.note_max_chars.is_some_and(|n| n == 0 || n > 1_000_000) {
            return Err(invalid(
                "note_max_chars",
                "must be 1 to 1000000 characters".into(),
            ));
        }
        for limit in &raw.rate_limit {
            if limit.requests == 0 || limit.per_seconds == 0 {
                return Err(invalid(
                    "rate_limit",
                    "requests and per_seconds must be positive".into(),
                ));
            }
        }
        Ok(Manifest {
            name: raw.name,
            vendor: raw.vendor,
            version: raw.version,
            wit: raw.wit,
            description: raw.description,
            allowed_hosts: raw.allowed_hosts,
            auth,
            other_auth: schemes,
            auth_choice: raw.auth_choice,
            request_headers: raw.request_headers_from_config,
            secrets: raw.secrets,
            config_keys: raw.config_keys,
            optional_config_keys: raw.optional_config_keys,
            time_zone_key: raw.time_zone_key,
            no_retry_statuses: raw.no_retry_statuses,
            note_max_chars: raw.note_max_chars,
            rate_limits: raw.rate_limit,
        })
    }
}

/// One `[auth]` table as the scheme it declares; errors name the key.
fn auth(raw: RawAuth) -> Result<Auth, (String, String)> {
    let auth = match raw {
        RawAuth::None => Auth::None,
        RawAuth::ApiKeyHeader { header, secret } => {
            if header.is_empty()
                || !header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err((
                    "auth.header".to_string(),
                    format!("`{header}` is not a header name"),
                ));
            }
            Auth::ApiKeyHeader { header, secret }
        }
        RawAuth::JsonBodyCredentials { fields, constants } => {
            if fields.is_empty() {
                return Err((
                    "auth.fields".to_string(),
                    "json-body-credentials needs at least one field".into(),
                ));
            }
            Auth::JsonBodyCredentials { fields, constants }
        }
        RawAuth::OAuth2ClientCredentials(o) => Auth::OAuth2ClientCredentials(oauth(o)?),
        RawAuth::OAuth2Password(o) => {
            if o.username_secret.is_none() || o.password_secret.is_none() {
                return Err((
                    "auth".to_string(),
                    "oauth2-password needs username_secret and password_secret".into(),
                ));
            }
            Auth::OAuth2Password(oauth(o)?)
        }
    };
    Ok(auth)
}

fn oauth(o: RawOAuth2) -> Result<OAuth2, (String, String)> {
    let invalid = |key: &str, m: String| (format!("auth.{key}"), m);
    let (token_path, token_origin) = match (o.token_path, o.token_url) {
        (Some(path), None) => {
            if !path.starts_with('/') {
                return Err(invalid(
                    "token_path",
                    format!("`{path}` is not a path starting with /"),
                ));
            }
            (path, None)
        }
        (None, Some(full)) => {
            let url = url::Url::parse(&full)
                .map_err(|e| invalid("token_url", format!("`{full}`: {e}")))?;
            if url.scheme() != "https" || url.host_str().is_none() {
                return Err(invalid(
                    "token_url",
                    format!("`{full}` is not an https URL"),
                ));
            }
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            (path, Some(url.origin().ascii_serialization()))
        }
        _ => {
            return Err(invalid(
                "token_path",
                "give exactly one of token_path (on the API's origin) or token_url (absolute)"
                    .into(),
            ));
        }
    };
    Ok(OAuth2 {
        token_path,
        token_origin,
        client_id: o.client_id_secret,
        client_secret: o.client_secret_secret,
        app_key_header: o.app_key_header,
        app_key: o.app_key_secret,
        user: o.username_secret.zip(o.password_secret),
        scope: o.scope,
        token_headers_from_config: o.token_headers_from_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mock_manifest_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/mock/mock.toml");
        let m = Manifest::load(&path).unwrap();
        assert_eq!(m.name, "mock");
        assert!(matches!(m.auth, Auth::ApiKeyHeader { .. }));
    }

    #[test]
    fn the_opera_manifest_declares_both_grants_and_the_hotel_header() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/opera/opera.toml");
        let m = Manifest::load(&path).unwrap();
        assert!(matches!(m.auth, Auth::OAuth2ClientCredentials(_)));
        assert!(matches!(m.other_auth[..], [Auth::OAuth2Password(_)]));
        assert_eq!(m.request_headers["x-hotelid"], "hotelId");
        let settings = |choice: Option<&str>| {
            let mut s = BTreeMap::new();
            if let Some(c) = choice {
                s.insert("authScheme".to_string(), c.to_string());
            }
            s
        };
        assert_eq!(
            m.auth_for(&settings(None)).unwrap().kind(),
            crate::egress::credentials::SchemeKind::OAuth2ClientCredentials
        );
        let password = m.auth_for(&settings(Some("oauth2-password"))).unwrap();
        assert!(password.secret_names().contains(&"username"));
        assert!(!m.auth.secret_names().contains(&"username"));
        let e = m.auth_for(&settings(Some("api-key-header"))).unwrap_err();
        assert!(
            e.contains("authScheme") && e.contains("oauth2-password"),
            "{e}"
        );
    }

    #[test]
    fn several_schemes_and_hotel_headers_are_checked() {
        let base = |extra: &str| {
            format!(
                "name = \"x\"\nvendor = \"x\"\nversion = \"1.0.0\"\nwit = \"jack:pms@0.1.0\"\nconfig_keys = [\"hotelId\"]\nsecrets = [\"k\"]\n{extra}"
            )
        };
        let two = "[[auth]]\nscheme = \"none\"\n[[auth]]\nscheme = \"api-key-header\"\nheader = \"x-api-key\"\nsecret = \"k\"\n";
        let e = Manifest::parse(&base(two), "x.toml").unwrap_err();
        assert!(e.to_string().contains("auth_choice"), "{e}");
        let m =
            Manifest::parse(&base(&format!("auth_choice = \"scheme\"\n{two}")), "x.toml").unwrap();
        assert_eq!(m.auth_schemes().count(), 2);
        let e = Manifest::parse(
            &base(
                "auth_choice = \"s\"\n[[auth]]\nscheme = \"none\"\n[[auth]]\nscheme = \"none\"\n",
            ),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let e = Manifest::parse(
            &base("[[auth]]\nscheme = \"api-key-header\"\nheader = \"x-api-key\"\nsecret = \"missing\"\n"),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("`missing`"), "{e}");
        for (headers, needle) in [
            ("{ \"x-hotelid\" = \"nope\" }", "config_keys"),
            ("{ \"authorization\" = \"hotelId\" }", "credential"),
            ("{ \"x y\" = \"hotelId\" }", "header name"),
        ] {
            let e = Manifest::parse(
                &base(&format!(
                    "request_headers_from_config = {headers}\n[auth]\nscheme = \"none\"\n"
                )),
                "x.toml",
            )
            .unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
        let m = Manifest::parse(
            &base("request_headers_from_config = { \"x-hotelid\" = \"hotelId\" }\n[auth]\nscheme = \"none\"\n"),
            "x.toml",
        )
        .unwrap();
        assert_eq!(m.request_headers["x-hotelid"], "hotelId");
    }

    #[test]
    fn a_token_endpoint_on_another_origin_must_be_an_allowed_host() {
        let manifest = |hosts: &str, endpoint: &str| {
            format!(
                "name = \"x\"\nvendor = \"x\"\nversion = \"1.0.0\"\nwit = \"jack:pms@0.1.0\"\nallowed_hosts = [{hosts}]\nsecrets = [\"id\", \"key\"]\noptional_config_keys = [\"pageSize\"]\n[auth]\nscheme = \"oauth2-client-credentials\"\n{endpoint}\nclient_id_secret = \"id\"\nclient_secret_secret = \"key\"\n"
            )
        };
        let m = Manifest::parse(
            &manifest(
                r#""https://api.pms.example", "https://id.pms.example""#,
                r#"token_url = "https://id.pms.example/connect/token""#,
            ),
            "x.toml",
        )
        .unwrap();
        let (o, _) = m.auth.oauth().unwrap();
        assert_eq!(o.token_origin.as_deref(), Some("https://id.pms.example"));
        assert_eq!(o.token_path, "/connect/token");
        assert_eq!(m.optional_config_keys, vec!["pageSize".to_string()]);
        let e = Manifest::parse(
            &manifest(
                r#""https://api.pms.example""#,
                r#"token_url = "https://id.pms.example/connect/token""#,
            ),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not one of allowed_hosts"), "{e}");
        let e = Manifest::parse(
            &manifest(
                r#""https://api.pms.example""#,
                "token_url = \"https://id.pms.example/t\"\ntoken_path = \"/t\"",
            ),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e = Manifest::parse(
            &manifest(
                r#""https://api.pms.example""#,
                r#"token_url = "http://api.pms.example/t""#,
            ),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not an https URL"), "{e}");
        // A token path with several origins (or a wildcard) would let the guest's request pick
        // where client credentials go.
        for hosts in [
            r#""https://api.pms.example", "https://other.pms.example""#,
            r#""https://*.pms.example""#,
        ] {
            let e = Manifest::parse(&manifest(hosts, r#"token_path = "/oauth/token""#), "x.toml")
                .unwrap_err();
            assert!(
                e.to_string().contains("auth.token_path")
                    && e.to_string().contains("exactly one allowed host"),
                "{e}"
            );
        }
        Manifest::parse(
            &manifest(
                r#""https://api.pms.example""#,
                r#"token_path = "/oauth/token""#,
            ),
            "x.toml",
        )
        .unwrap();
    }

    #[test]
    fn refusals_name_the_key() {
        let base = |extra: &str| {
            format!(
                "name = \"x\"\nvendor = \"x\"\nversion = \"1.0.0\"\nwit = \"jack:pms@0.1.0\"\n{extra}"
            )
        };
        let e = Manifest::parse(
            &base("allowed_hosts = [\"https://{host}\"]\n[auth]\nscheme = \"none\"\n"),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("config_keys"), "{e}");
        let e = Manifest::parse(
            &base("[auth]\nscheme = \"api-key-header\"\nheader = \"x-api-key\"\nsecret = \"k\"\n"),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("`k`"), "{e}");
        let e = Manifest::parse(&base("[auth]\nscheme = \"magic\"\n"), "x.toml").unwrap_err();
        assert!(e.to_string().contains("magic"), "{e}");
        let e = Manifest::parse(&base("colour = 1\n[auth]\nscheme = \"none\"\n"), "x.toml")
            .unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
