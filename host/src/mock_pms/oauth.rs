//! OAuth 2 in the style of Oracle OPERA Cloud's OHIP: the client authenticates to
//! `POST /oauth/v1/tokens` with HTTP Basic (`client_id:client_secret`) plus an `x-app-key`, asks
//! for `grant_type=client_credentials` or `grant_type=password`, and gets an opaque bearer token
//! that `/api/v1` then accepts together with the same `x-app-key`.
//!
//! This file holds the configuration, the issued tokens and the credential checks; the HTTP side
//! is in `routes`. Every credential comparison is constant-time (for equal lengths), and no
//! secret (configured or presented) is logged or shown by `Debug`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::Deserialize;

use super::ct_eq;

/// Configuration of the mock's OAuth 2 token endpoint (see [`super::MockPms::with_oauth`]).
///
/// `Debug` shows no secret: every credential is a [`SecretString`].
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Client id, expected as the user part of the token request's HTTP Basic credentials.
    pub client_id: SecretString,
    /// Client secret, expected as the password part of the HTTP Basic credentials.
    pub client_secret: SecretString,
    /// Application key, expected in `x-app-key` on token requests and on bearer-authenticated
    /// `/api/v1` requests.
    pub app_key: SecretString,
    /// User name for `grant_type=password`; that grant is offered only when both `username`
    /// and `password` are set.
    pub username: Option<SecretString>,
    /// Password for `grant_type=password`.
    pub password: Option<SecretString>,
    /// How long an issued token stays valid ([`OAuthConfig::DEFAULT_TOKEN_LIFETIME`] unless
    /// changed; capped at [`OAuthConfig::MAX_TOKEN_LIFETIME`]). `expires_in` reports it in whole
    /// seconds, rounded down; zero issues tokens that are already expired.
    pub token_lifetime: Duration,
}

impl OAuthConfig {
    /// Token lifetime unless set otherwise: one hour, as OHIP.
    pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

    /// Longest token lifetime honoured (ten years); longer lifetimes are cut to this.
    pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(MAX_LIFETIME_SECONDS);

    /// Client credentials only (no password grant), tokens valid for an hour.
    pub fn new(
        client_id: SecretString,
        client_secret: SecretString,
        app_key: SecretString,
    ) -> OAuthConfig {
        OAuthConfig {
            client_id,
            client_secret,
            app_key,
            username: None,
            password: None,
            token_lifetime: OAuthConfig::DEFAULT_TOKEN_LIFETIME,
        }
    }

    /// Also offers `grant_type=password` for this user.
    pub fn with_password_grant(
        self,
        username: SecretString,
        password: SecretString,
    ) -> OAuthConfig {
        OAuthConfig {
            username: Some(username),
            password: Some(password),
            ..self
        }
    }

    /// Sets the lifetime of issued tokens.
    pub fn with_token_lifetime(self, token_lifetime: Duration) -> OAuthConfig {
        OAuthConfig {
            token_lifetime,
            ..self
        }
    }

    /// The lifetime actually used, capped so that `Instant` arithmetic cannot overflow.
    fn lifetime(&self) -> Duration {
        self.token_lifetime.min(OAuthConfig::MAX_TOKEN_LIFETIME)
    }

    /// The configured user, if the password grant is offered.
    fn user(&self) -> Option<(&SecretString, &SecretString)> {
        self.username.as_ref().zip(self.password.as_ref())
    }
}

const MAX_LIFETIME_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// Body of `PUT /admin/oauth` (a development tool: it carries secrets in clear JSON).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OAuthConfigBody {
    // Plain strings only because `secrecy`'s serde feature is off; they are moved into
    // `SecretString`s at once. No `Debug`, so they cannot be logged by accident.
    client_id: String,
    client_secret: String,
    app_key: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    token_lifetime_seconds: Option<u64>,
}

impl OAuthConfigBody {
    /// Checks the values and builds the configuration. Errors never quote a value.
    pub fn into_config(self) -> Result<OAuthConfig, String> {
        let secret = SecretString::from;
        let (client_id, client_secret, app_key) = (
            secret(self.client_id),
            secret(self.client_secret),
            secret(self.app_key),
        );
        let (username, password) = (self.username.map(secret), self.password.map(secret));
        let blank = |s: &SecretString| s.expose_secret().trim().is_empty();
        for (name, value) in [
            ("clientId", &client_id),
            ("clientSecret", &client_secret),
            ("appKey", &app_key),
        ] {
            if blank(value) {
                return Err(format!("{name} must not be empty"));
            }
        }
        let mut config = OAuthConfig::new(client_id, client_secret, app_key);
        match (username, password) {
            (None, None) => {}
            (Some(username), Some(password)) => {
                if blank(&username) || blank(&password) {
                    return Err("username and password must not be empty".into());
                }
                config = config.with_password_grant(username, password);
            }
            _ => return Err("give both username and password, or neither".into()),
        }
        if let Some(seconds) = self.token_lifetime_seconds {
            if seconds > MAX_LIFETIME_SECONDS {
                return Err(format!(
                    "tokenLifetimeSeconds {seconds} is more than {MAX_LIFETIME_SECONDS}"
                ));
            }
            config = config.with_token_lifetime(Duration::from_secs(seconds));
        }
        Ok(config)
    }
}

/// Why a token request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    /// Wrong or missing client credentials, app key or user: 401.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Malformed request or unknown grant: 400.
    #[error("{0}")]
    BadRequest(String),
    /// The body is not `application/x-www-form-urlencoded`: 415.
    #[error("the token request must be application/x-www-form-urlencoded")]
    UnsupportedMediaType,
}

/// How a bearer-authenticated `/api/v1` request fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerCheck {
    /// No `Authorization: Bearer` header.
    NotPresented,
    /// A valid token and the right app key.
    Valid,
    /// A bearer token came without the right `x-app-key`.
    WrongAppKey,
    /// The token is unknown, revoked or expired.
    InvalidToken,
}

/// A token just issued.
pub(crate) struct Issued {
    pub access_token: SecretString,
    pub expires_in: u64,
}

/// A token that was issued, keyed in [`OAuthState`] by its first [`SELECTOR_LEN`] characters.
struct Token {
    token: SecretString,
    expires_at: Instant,
}

/// Characters of a token used to find it; the whole token is then compared in constant time.
const SELECTOR_LEN: usize = 16;

/// Most tokens kept at once; beyond this, expired tokens are dropped, then the ones closest to
/// expiry (which a client then sees as invalid).
pub(crate) const MAX_TOKENS: usize = 10_000;

/// The configuration (if any) and the tokens issued under it.
#[derive(Default)]
pub(crate) struct OAuthState {
    config: Option<OAuthConfig>,
    tokens: HashMap<String, Token>,
}

/// Shows the (redacted) configuration and how many tokens are held, never a token or its
/// selector.
impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("config", &self.config)
            .field("tokens_held", &self.tokens.len())
            .finish()
    }
}

impl OAuthState {
    /// Whether the token endpoint and bearer tokens are on.
    pub fn configured(&self) -> bool {
        self.config.is_some()
    }

    /// The configuration, if any.
    pub fn config(&self) -> Option<&OAuthConfig> {
        self.config.as_ref()
    }

    /// Replaces (or removes) the configuration; every token issued so far is revoked.
    pub fn set(&mut self, config: Option<OAuthConfig>) {
        self.config = config;
        self.tokens.clear();
    }

    /// Revokes every issued token; returns how many were still held.
    pub fn revoke_all(&mut self) -> usize {
        let held = self.tokens.len();
        self.tokens.clear();
        held
    }

    /// Tokens held and not yet expired.
    pub fn active_tokens(&self, now: Instant) -> usize {
        self.tokens.values().filter(|t| now < t.expires_at).count()
    }

    /// Checks the token request's `Authorization: Basic` and `x-app-key`.
    pub fn authenticate_client(
        &self,
        authorization: Option<&[u8]>,
        app_key: Option<&[u8]>,
    ) -> Result<(), TokenError> {
        let Some(config) = &self.config else {
            return Err(TokenError::Unauthorized("OAuth is not configured"));
        };
        let basic = authorization
            .and_then(|h| strip_scheme(h, b"basic"))
            .and_then(decode_basic)
            .ok_or(TokenError::Unauthorized(
                "missing or malformed Basic client credentials",
            ))?;
        let expected = SecretString::from(format!(
            "{}:{}",
            config.client_id.expose_secret(),
            config.client_secret.expose_secret()
        ));
        let client_ok = ct_eq(expected.expose_secret().as_bytes(), basic.expose_secret());
        let app_ok = ct_eq(
            config.app_key.expose_secret().as_bytes(),
            app_key.unwrap_or_default(),
        );
        match (client_ok, app_ok) {
            (true, true) => Ok(()),
            (false, _) => Err(TokenError::Unauthorized("wrong client credentials")),
            (true, false) => Err(TokenError::Unauthorized("missing or wrong x-app-key")),
        }
    }

    /// Handles the form of an authenticated token request: checks the grant (and for the
    /// password grant the user), then issues a token valid from `now`.
    pub fn grant(&mut self, form_body: &[u8], now: Instant) -> Result<Issued, TokenError> {
        let Some(config) = &self.config else {
            return Err(TokenError::Unauthorized("OAuth is not configured"));
        };
        let mut form = parse_form(form_body).map_err(TokenError::BadRequest)?;
        let grant_type = form
            .remove("grant_type")
            .ok_or_else(|| TokenError::BadRequest("grant_type is missing".into()))?;
        match grant_type.expose_secret() {
            "client_credentials" => {}
            "password" => {
                let Some((username, password)) = config.user() else {
                    return Err(TokenError::BadRequest(
                        "grant_type password is not enabled for this client".into(),
                    ));
                };
                let given_user = form.remove("username");
                let given_password = form.remove("password");
                let (Some(given_user), Some(given_password)) = (given_user, given_password) else {
                    return Err(TokenError::Unauthorized("username or password is missing"));
                };
                // Both compared, whatever the first comparison gave.
                let user_ok = ct_eq(
                    username.expose_secret().as_bytes(),
                    given_user.expose_secret().as_bytes(),
                );
                let password_ok = ct_eq(
                    password.expose_secret().as_bytes(),
                    given_password.expose_secret().as_bytes(),
                );
                if !(user_ok & password_ok) {
                    return Err(TokenError::Unauthorized("wrong username or password"));
                }
            }
            other => {
                return Err(TokenError::BadRequest(format!(
                    "grant_type `{}` is not supported (use client_credentials or password)",
                    other.escape_debug()
                )));
            }
        }
        let lifetime = config.lifetime();
        Ok(Issued {
            access_token: self.issue(now, lifetime),
            expires_in: lifetime.as_secs(),
        })
    }

    /// Stores a fresh random token that expires `lifetime` after `now`.
    fn issue(&mut self, now: Instant, lifetime: Duration) -> SecretString {
        if self.tokens.len() >= MAX_TOKENS {
            self.tokens.retain(|_, t| now < t.expires_at);
        }
        while self.tokens.len() >= MAX_TOKENS {
            let soonest = self
                .tokens
                .iter()
                .min_by_key(|(_, t)| t.expires_at)
                .map(|(selector, _)| selector.clone());
            match soonest {
                Some(selector) => self.tokens.remove(&selector),
                None => break,
            };
        }
        // `now` is a recent Instant and lifetime is at most ten years, so this does not
        // overflow in practice; if it did, the token would simply never expire.
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        loop {
            let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
            // 32 bytes encode to 43 ASCII characters, so the selector is always a prefix.
            let selector = token.get(..SELECTOR_LEN).unwrap_or(&token).to_owned();
            if let std::collections::hash_map::Entry::Vacant(slot) = self.tokens.entry(selector) {
                let token = SecretString::from(token);
                slot.insert(Token {
                    token: token.clone(),
                    expires_at,
                });
                return token;
            }
        }
    }

    /// Checks `Authorization: Bearer` and `x-app-key` on an `/api/v1` request.
    pub fn check_bearer(
        &self,
        authorization: Option<&[u8]>,
        app_key: Option<&[u8]>,
        now: Instant,
    ) -> BearerCheck {
        let Some(config) = &self.config else {
            return BearerCheck::NotPresented;
        };
        let Some(presented) = authorization.and_then(|h| strip_scheme(h, b"bearer")) else {
            return BearerCheck::NotPresented;
        };
        if !ct_eq(
            config.app_key.expose_secret().as_bytes(),
            app_key.unwrap_or_default(),
        ) {
            return BearerCheck::WrongAppKey;
        }
        let held = presented
            .get(..SELECTOR_LEN)
            .and_then(|selector| std::str::from_utf8(selector).ok())
            .and_then(|selector| self.tokens.get(selector));
        match held {
            Some(t) if ct_eq(t.token.expose_secret().as_bytes(), presented) => {
                if now < t.expires_at {
                    BearerCheck::Valid
                } else {
                    BearerCheck::InvalidToken
                }
            }
            _ => BearerCheck::InvalidToken,
        }
    }
}

/// The credentials after `<scheme> ` in an `Authorization` header (scheme case-insensitive).
fn strip_scheme<'a>(header: &'a [u8], scheme: &[u8]) -> Option<&'a [u8]> {
    let (name, rest) = header.split_at_checked(scheme.len())?;
    if !name.eq_ignore_ascii_case(scheme) || !rest.starts_with(b" ") {
        return None;
    }
    Some(rest.trim_ascii())
}

/// Decodes Basic credentials (`base64(id:secret)`, padded or not).
fn decode_basic(encoded: &[u8]) -> Option<SecretSlice<u8>> {
    STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .ok()
        .map(SecretSlice::from)
}

/// Parses an `application/x-www-form-urlencoded` body. Every value is kept as a secret (a form
/// may carry a password); a repeated name is an error, as RFC 6749 requires.
pub(crate) fn parse_form(body: &[u8]) -> Result<BTreeMap<String, SecretString>, String> {
    let mut form = BTreeMap::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => pair.split_at(at),
            None => (pair, &b"="[..]),
        };
        // `value` starts with the `=`.
        let value = value.get(1..).unwrap_or_default();
        let name = percent_decode(name).ok_or("the form is not valid URL encoding")?;
        let value = percent_decode(value).ok_or("the form is not valid URL encoding")?;
        if form.contains_key(&name) {
            return Err(format!("form field `{}` is repeated", name.escape_debug()));
        }
        form.insert(name, SecretString::from(value));
    }
    Ok(form)
}

/// Decodes `+` and `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(input: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = char::from(*bytes.next()?).to_digit(16)?;
                let lo = char::from(*bytes.next()?).to_digit(16)?;
                // Two hex digits are at most 0xff.
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig::new(
            SecretString::from("client-1"),
            SecretString::from("s3cr:et"),
            SecretString::from("app-key-1"),
        )
        .with_password_grant(SecretString::from("ana"), SecretString::from("pw 1&2"))
    }

    fn state() -> OAuthState {
        let mut state = OAuthState::default();
        state.set(Some(config()));
        state
    }

    fn basic(id_secret: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(id_secret)).into_bytes()
    }

    #[test]
    fn forms_decode_plus_and_percent_escapes() {
        let form =
            parse_form(b"grant_type=password&username=ana&password=pw+1%262&empty=&flag").unwrap();
        assert_eq!(form["password"].expose_secret(), "pw 1&2");
        assert_eq!(form["empty"].expose_secret(), "");
        assert_eq!(form["flag"].expose_secret(), "");
        assert!(parse_form(b"a=1&a=2").unwrap_err().contains("repeated"));
        assert!(parse_form(b"a=%zz").is_err());
        assert!(parse_form(b"a=%4").is_err());
        assert!(parse_form(b"a=%ff").is_err(), "not UTF-8");
        assert!(parse_form(b"").unwrap().is_empty());
    }

    #[test]
    fn client_authentication_needs_basic_and_app_key() {
        let state = state();
        let good = basic("client-1:s3cr:et");
        assert_eq!(
            state.authenticate_client(Some(&good), Some(b"app-key-1")),
            Ok(())
        );
        let lower = format!("basic   {}", STANDARD_NO_PAD.encode("client-1:s3cr:et"));
        assert_eq!(
            state.authenticate_client(Some(lower.as_bytes()), Some(b"app-key-1")),
            Ok(()),
            "scheme is case-insensitive and padding optional"
        );
        for (auth, key) in [
            (Some(basic("client-1:s3cr:eT")), Some(&b"app-key-1"[..])),
            (Some(basic("client-1")), Some(b"app-key-1")),
            (Some(b"Basic !!!".to_vec()), Some(b"app-key-1")),
            (Some(b"Bearer abc".to_vec()), Some(b"app-key-1")),
            (None, Some(b"app-key-1")),
            (Some(good.clone()), Some(b"app-key-2")),
            (Some(good.clone()), None),
        ] {
            assert!(matches!(
                state.authenticate_client(auth.as_deref(), key),
                Err(TokenError::Unauthorized(_))
            ));
        }
        assert!(
            OAuthState::default()
                .authenticate_client(Some(&good), Some(b"app-key-1"))
                .is_err()
        );
    }

    #[test]
    fn grants_issue_distinct_tokens_that_expire() {
        let mut state = state();
        let t0 = Instant::now();
        let a = state
            .grant(b"grant_type=client_credentials&scope=x", t0)
            .unwrap();
        let b = state
            .grant(b"grant_type=password&username=ana&password=pw+1%262", t0)
            .unwrap();
        assert_eq!(a.expires_in, 3600);
        assert_ne!(
            a.access_token.expose_secret(),
            b.access_token.expose_secret()
        );
        let bearer = |t: &Issued| format!("Bearer {}", t.access_token.expose_secret());
        for t in [&a, &b] {
            let header = bearer(t);
            assert_eq!(
                state.check_bearer(Some(header.as_bytes()), Some(b"app-key-1"), t0),
                BearerCheck::Valid
            );
            assert_eq!(
                state.check_bearer(Some(header.as_bytes()), Some(b"app-key-2"), t0),
                BearerCheck::WrongAppKey
            );
            assert_eq!(
                state.check_bearer(
                    Some(header.as_bytes()),
                    Some(b"app-key-1"),
                    t0 + Duration::from_secs(3600)
                ),
                BearerCheck::InvalidToken
            );
        }
        let mut forged = a.access_token.expose_secret().to_owned();
        forged.push('x');
        assert_eq!(
            state.check_bearer(
                Some(format!("Bearer {forged}").as_bytes()),
                Some(b"app-key-1"),
                t0
            ),
            BearerCheck::InvalidToken
        );
        assert_eq!(
            state.check_bearer(Some(b"Bearer short"), Some(b"app-key-1"), t0),
            BearerCheck::InvalidToken
        );
        assert_eq!(
            state.check_bearer(None, Some(b"app-key-1"), t0),
            BearerCheck::NotPresented
        );
        assert_eq!(state.active_tokens(t0), 2);
        assert_eq!(state.revoke_all(), 2);
        assert_eq!(
            state.check_bearer(Some(bearer(&a).as_bytes()), Some(b"app-key-1"), t0),
            BearerCheck::InvalidToken
        );
    }

    #[test]
    fn bad_grants_are_refused() {
        let mut state = state();
        let now = Instant::now();
        for (form, unauthorized) in [
            (&b""[..], false),
            (b"grant_type=authorization_code", false),
            (b"grant_type=client_credentials&grant_type=password", false),
            (b"grant_type=password&username=ana", true),
            (b"grant_type=password&username=ana&password=pw", true),
            (b"grant_type=password&username=bob&password=pw+1%262", true),
        ] {
            let error = state.grant(form, now).err().unwrap();
            assert_eq!(
                matches!(error, TokenError::Unauthorized(_)),
                unauthorized,
                "{error}"
            );
        }
        state.set(Some(OAuthConfig::new(
            SecretString::from("c"),
            SecretString::from("s"),
            SecretString::from("k"),
        )));
        assert!(matches!(
            state.grant(b"grant_type=password&username=ana&password=x", now),
            Err(TokenError::BadRequest(_))
        ));
    }

    #[test]
    fn token_store_is_bounded() {
        let mut state = state();
        let t0 = Instant::now();
        let first = state.issue(t0, Duration::from_secs(10));
        for i in 0..MAX_TOKENS {
            state.issue(
                t0 + Duration::from_millis(i as u64 + 1),
                Duration::from_secs(10),
            );
        }
        assert_eq!(state.tokens.len(), MAX_TOKENS);
        let header = format!("Bearer {}", first.expose_secret());
        assert_eq!(
            state.check_bearer(Some(header.as_bytes()), Some(b"app-key-1"), t0),
            BearerCheck::InvalidToken,
            "the token closest to expiry was dropped"
        );
    }

    #[test]
    fn debug_and_admin_errors_show_no_secret() {
        let shown = format!("{:?}", config());
        for secret in ["client-1", "s3cr:et", "app-key-1", "ana", "pw 1&2"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let body: OAuthConfigBody = serde_json::from_str(
            r#"{"clientId": "c", "clientSecret": "s", "appKey": "k", "username": "only-user"}"#,
        )
        .unwrap();
        let error = body.into_config().err().unwrap();
        assert!(!error.contains("only-user"), "{error}");
    }
}
