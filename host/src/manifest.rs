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
    auth: RawAuth,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    config_keys: Vec<String>,
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
    token_path: String,
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
    /// Auth scheme.
    pub auth: Auth,
    /// Secret names the adapter needs.
    pub secrets: Vec<String>,
    /// Config keys the adapter reads.
    pub config_keys: Vec<String>,
    /// Default rate limits.
    pub rate_limits: Vec<RateLimit>,
}

impl Manifest {
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
        let auth = match raw.auth {
            RawAuth::None => Auth::None,
            RawAuth::ApiKeyHeader { header, secret } => {
                if header.is_empty()
                    || !header
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Err(invalid(
                        "auth.header",
                        format!("`{header}` is not a header name"),
                    ));
                }
                Auth::ApiKeyHeader { header, secret }
            }
            RawAuth::JsonBodyCredentials { fields, constants } => {
                if fields.is_empty() {
                    return Err(invalid(
                        "auth.fields",
                        "json-body-credentials needs at least one field".into(),
                    ));
                }
                Auth::JsonBodyCredentials { fields, constants }
            }
            RawAuth::OAuth2ClientCredentials(o) => Auth::OAuth2ClientCredentials(oauth(o)),
            RawAuth::OAuth2Password(o) => {
                if o.username_secret.is_none() || o.password_secret.is_none() {
                    return Err(invalid(
                        "auth",
                        "oauth2-password needs username_secret and password_secret".into(),
                    ));
                }
                Auth::OAuth2Password(oauth(o))
            }
        };
        for name in auth.secret_names() {
            if !raw.secrets.iter().any(|s| s == name) {
                return Err(invalid(
                    "auth",
                    format!("uses secret `{name}`, which `secrets` does not declare"),
                ));
            }
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
            secrets: raw.secrets,
            config_keys: raw.config_keys,
            rate_limits: raw.rate_limit,
        })
    }
}

fn oauth(o: RawOAuth2) -> OAuth2 {
    OAuth2 {
        token_path: o.token_path,
        client_id: o.client_id_secret,
        client_secret: o.client_secret_secret,
        app_key_header: o.app_key_header,
        app_key: o.app_key_secret,
        user: o.username_secret.zip(o.password_secret),
        scope: o.scope,
        token_headers_from_config: o.token_headers_from_config,
    }
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
