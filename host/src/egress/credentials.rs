//! Credential schemes the host applies to outbound requests. The guest names a scheme; the host
//! reads the secrets from the [`SecretStore`] at send time and writes them into the request.
//! Nothing here ever hands a secret back to the caller except for scrubbing.

use super::EgressError;
use crate::vault::{Secret, SecretStore};
use std::collections::BTreeMap;

/// The scheme names of the WIT `credential-scheme` enum and of manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    /// No credentials.
    None,
    /// API key in a header.
    ApiKeyHeader,
    /// Credentials merged into the JSON body.
    JsonBodyCredentials,
    /// OAuth 2 client credentials.
    OAuth2ClientCredentials,
    /// OAuth 2 password grant.
    OAuth2Password,
}

impl SchemeKind {
    /// The manifest / WIT name.
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::None => "none",
            SchemeKind::ApiKeyHeader => "api-key-header",
            SchemeKind::JsonBodyCredentials => "json-body-credentials",
            SchemeKind::OAuth2ClientCredentials => "oauth2-client-credentials",
            SchemeKind::OAuth2Password => "oauth2-password",
        }
    }
}

/// OAuth 2 parameters (OHIP: `POST /oauth/v1/tokens`, Basic client credentials, `x-app-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2 {
    /// Token endpoint path: on the API request's origin, or on `token_origin` when set.
    pub token_path: String,
    /// The token endpoint's origin when it is not the API's (`https://identity.apaleo.com`);
    /// always one of the manifest's allowed hosts.
    pub token_origin: Option<String>,
    /// Secret holding the client id.
    pub client_id: String,
    /// Secret holding the client secret.
    pub client_secret: String,
    /// Header carrying the application key, if the vendor wants one.
    pub app_key_header: Option<String>,
    /// Secret holding the application key.
    pub app_key: Option<String>,
    /// Secrets holding user name and password (password grant).
    pub user: Option<(String, String)>,
    /// Requested scope.
    pub scope: Option<String>,
    /// Hotel settings sent as headers of the same name on token requests (OHIP `enterpriseId`).
    pub token_headers_from_config: Vec<String>,
}

/// The auth scheme an adapter's manifest declares, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `header: <secret>`.
    ApiKeyHeader {
        /// Header name.
        header: String,
        /// Secret name.
        secret: String,
    },
    /// Fields merged into the top level of a JSON object body.
    JsonBodyCredentials {
        /// JSON field → secret name (`ClientToken` → `clientToken`).
        fields: BTreeMap<String, String>,
        /// JSON field → constant value (`Client` → `Jack 1.0`); not secret.
        constants: BTreeMap<String, String>,
    },
    /// OAuth 2 client credentials grant.
    OAuth2ClientCredentials(OAuth2),
    /// OAuth 2 password grant.
    OAuth2Password(OAuth2),
}

impl Auth {
    /// The scheme's kind.
    pub fn kind(&self) -> SchemeKind {
        match self {
            Auth::None => SchemeKind::None,
            Auth::ApiKeyHeader { .. } => SchemeKind::ApiKeyHeader,
            Auth::JsonBodyCredentials { .. } => SchemeKind::JsonBodyCredentials,
            Auth::OAuth2ClientCredentials(_) => SchemeKind::OAuth2ClientCredentials,
            Auth::OAuth2Password(_) => SchemeKind::OAuth2Password,
        }
    }

    /// Every secret name the scheme reads.
    pub fn secret_names(&self) -> Vec<&str> {
        match self {
            Auth::None => vec![],
            Auth::ApiKeyHeader { secret, .. } => vec![secret],
            Auth::JsonBodyCredentials { fields, .. } => {
                fields.values().map(String::as_str).collect()
            }
            Auth::OAuth2ClientCredentials(o) | Auth::OAuth2Password(o) => {
                let mut names = vec![o.client_id.as_str(), o.client_secret.as_str()];
                names.extend(o.app_key.as_deref());
                if let Some((u, p)) = &o.user {
                    names.extend([u.as_str(), p.as_str()]);
                }
                names
            }
        }
    }

    /// A header the scheme writes, which the guest therefore may not set.
    pub fn header(&self) -> Option<&str> {
        match self {
            Auth::ApiKeyHeader { header, .. } => Some(header),
            Auth::OAuth2ClientCredentials(o) | Auth::OAuth2Password(o) => {
                o.app_key_header.as_deref()
            }
            _ => None,
        }
    }

    /// The OAuth parameters and whether the grant is `password`, for the OAuth schemes.
    pub fn oauth(&self) -> Option<(&OAuth2, bool)> {
        match self {
            Auth::OAuth2ClientCredentials(o) => Some((o, false)),
            Auth::OAuth2Password(o) => Some((o, true)),
            _ => None,
        }
    }
}

/// The credentials written into one request: extra headers and possibly a rewritten body.
#[derive(Debug, Default)]
pub struct Applied {
    /// Headers to add.
    pub headers: Vec<(String, Secret)>,
    /// The values used, for scrubbing the response.
    pub used: Vec<Secret>,
}

/// Applies `auth` (which the guest asked for as `requested`) for `hotel`, reading secrets from
/// `store`. May rewrite `body` (JSON body credentials).
pub fn apply(
    auth: &Auth,
    requested: SchemeKind,
    hotel: &str,
    store: &dyn SecretStore,
    body: &mut Option<Vec<u8>>,
) -> Result<Applied, EgressError> {
    // Whatever scheme the request names: a guest body never carries a credential field.
    if let Auth::JsonBodyCredentials { fields, .. } = auth {
        refuse_guest_body_credentials(fields, body.as_deref())?;
    }
    if requested == SchemeKind::None {
        return Ok(Applied::default());
    }
    if requested != auth.kind() {
        return Err(EgressError::Credentials(format!(
            "the request asks for `{}` but the manifest declares `{}`",
            requested.name(),
            auth.kind().name()
        )));
    }
    let secret = |name: &str| {
        store
            .get(hotel, name)
            .map_err(|e| EgressError::Credentials(e.to_string()))
    };
    match auth {
        Auth::None => Ok(Applied::default()),
        Auth::ApiKeyHeader {
            header,
            secret: name,
        } => {
            let value = secret(name)?;
            Ok(Applied {
                headers: vec![(header.clone(), value.clone())],
                used: vec![value],
            })
        }
        Auth::JsonBodyCredentials { fields, constants } => {
            let raw = body.as_deref().unwrap_or(b"{}");
            let mut object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(raw).map_err(|_| {
                    EgressError::Credentials(
                        "json-body-credentials needs a JSON object body".into(),
                    )
                })?;
            let mut used = Vec::new();
            for (field, name) in fields {
                let value = secret(name)?;
                object.insert(
                    field.clone(),
                    serde_json::Value::String(value.expose().to_string()),
                );
                used.push(value);
            }
            for (field, value) in constants {
                object.insert(field.clone(), serde_json::Value::String(value.clone()));
            }
            let bytes = serde_json::to_vec(&object)
                .map_err(|e| EgressError::InvalidRequest(format!("cannot encode the body: {e}")))?;
            *body = Some(bytes);
            Ok(Applied {
                headers: vec![],
                used,
            })
        }
        // Tokens need the transport; the pipeline gets them from its token cache.
        Auth::OAuth2ClientCredentials(_) | Auth::OAuth2Password(_) => Err(
            EgressError::Credentials("OAuth credentials are applied by the token cache".into()),
        ),
    }
}

/// Refuses a guest JSON body that already holds one of the scheme's credential fields, at any
/// depth and in any letter case (Mews, like many JSON stacks, matches names case-insensitively):
/// the host is the only writer of credentials, as with credential headers. A body that is not
/// JSON is left to the merge, which refuses it with its own message.
fn refuse_guest_body_credentials(
    fields: &BTreeMap<String, String>,
    body: Option<&[u8]>,
) -> Result<(), EgressError> {
    fn find<'a>(
        value: &serde_json::Value,
        fields: &'a BTreeMap<String, String>,
    ) -> Option<&'a str> {
        match value {
            serde_json::Value::Object(map) => map.iter().find_map(|(key, inner)| {
                fields
                    .keys()
                    .find(|f| f.eq_ignore_ascii_case(key))
                    .map(String::as_str)
                    .or_else(|| find(inner, fields))
            }),
            serde_json::Value::Array(items) => items.iter().find_map(|v| find(v, fields)),
            _ => None,
        }
    }
    let Some(value) = body.and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok()) else {
        return Ok(());
    };
    match find(&value, fields) {
        Some(field) => Err(EgressError::ForbiddenHeader(format!(
            "JSON body field `{field}`: credential fields are written by the host, never by the adapter"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::VaultError;

    struct Fixed;
    impl SecretStore for Fixed {
        fn get(&self, _hotel: &str, name: &str) -> Result<Secret, VaultError> {
            Ok(Secret::new(format!("value-of-{name}")))
        }
    }

    #[test]
    fn api_key_header_is_added() {
        let auth = Auth::ApiKeyHeader {
            header: "x-api-key".into(),
            secret: "apiKey".into(),
        };
        let mut body = None;
        let applied = apply(&auth, SchemeKind::ApiKeyHeader, "H", &Fixed, &mut body).unwrap();
        assert_eq!(applied.headers[0].0, "x-api-key");
        assert_eq!(applied.headers[0].1.expose(), "value-of-apiKey");
    }

    #[test]
    fn json_body_credentials_are_merged_by_the_host() {
        let auth = Auth::JsonBodyCredentials {
            fields: [
                ("ClientToken".into(), "clientToken".into()),
                ("AccessToken".into(), "accessToken".into()),
            ]
            .into(),
            constants: [("Client".into(), "Jack 1.0".into())].into(),
        };
        let mut body = Some(br#"{"Limitation":{"Count":10}}"#.to_vec());
        apply(
            &auth,
            SchemeKind::JsonBodyCredentials,
            "H",
            &Fixed,
            &mut body,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(body.as_deref().unwrap()).unwrap();
        assert_eq!(v["ClientToken"], "value-of-clientToken");
        assert_eq!(v["AccessToken"], "value-of-accessToken");
        assert_eq!(v["Client"], "Jack 1.0");
        assert_eq!(v["Limitation"]["Count"], 10);
        let mut bad = Some(b"[1]".to_vec());
        assert!(
            apply(
                &auth,
                SchemeKind::JsonBodyCredentials,
                "H",
                &Fixed,
                &mut bad
            )
            .is_err()
        );
    }

    #[test]
    fn a_guest_body_carrying_a_credential_field_is_refused() {
        let auth = Auth::JsonBodyCredentials {
            fields: [
                ("ClientToken".into(), "clientToken".into()),
                ("AccessToken".into(), "accessToken".into()),
            ]
            .into(),
            constants: [("Client".into(), "Jack 1.0".into())].into(),
        };
        for (guest, scheme) in [
            (
                &br#"{"ClientToken":"guess","Limitation":{"Count":10}}"#[..],
                SchemeKind::JsonBodyCredentials,
            ),
            (
                br#"{"accesstoken":"guess"}"#,
                SchemeKind::JsonBodyCredentials,
            ),
            (
                br#"{"Items":[{"Name":"x","AccessToken":"smuggled"}]}"#,
                SchemeKind::JsonBodyCredentials,
            ),
            (br#"{"AccessToken":"guess"}"#, SchemeKind::None),
        ] {
            let mut body = Some(guest.to_vec());
            let e = apply(&auth, scheme, "H", &Fixed, &mut body).unwrap_err();
            assert!(
                matches!(&e, EgressError::ForbiddenHeader(m) if m.contains("Token") && m.contains("host")),
                "{e:?}"
            );
            assert_eq!(
                body.as_deref(),
                Some(guest),
                "a refused body is left as it was"
            );
        }
        // The constant is not a credential: the host writes it over whatever the guest sent.
        let mut body = Some(br#"{"Client":"guest 0.0"}"#.to_vec());
        apply(
            &auth,
            SchemeKind::JsonBodyCredentials,
            "H",
            &Fixed,
            &mut body,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(body.as_deref().unwrap()).unwrap();
        assert_eq!(v["Client"], "Jack 1.0");
    }

    #[test]
    fn a_scheme_other_than_the_manifests_is_refused() {
        let auth = Auth::ApiKeyHeader {
            header: "x-api-key".into(),
            secret: "apiKey".into(),
        };
        let e = apply(
            &auth,
            SchemeKind::JsonBodyCredentials,
            "H",
            &Fixed,
            &mut None,
        )
        .unwrap_err();
        assert!(matches!(e, EgressError::Credentials(m) if m.contains("api-key-header")));
        assert!(
            apply(&auth, SchemeKind::None, "H", &Fixed, &mut None)
                .unwrap()
                .headers
                .is_empty()
        );
    }
}
