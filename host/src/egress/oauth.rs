//! Host-owned OAuth 2 (OHIP's `POST /oauth/v1/tokens`): client-credentials and password grants,
//! Basic client authentication, the application-key header.
//!
//! - The token endpoint is fixed by the manifest and the hotel's settings, never by the guest's
//!   request: `token_url` when the manifest gives one, else `token_path` on the adapter's one
//!   allowed origin (a manifest with several origins must name its `token_url`). Client
//!   credentials therefore only ever go to that endpoint.
//! - One token per (hotel, token endpoint, grant and scope, API origin): a token is written only
//!   into requests to the origin it was fetched for (redirects to another origin never carry
//!   it), fetched once however many calls need it (other callers wait for the refresh in
//!   progress), and refreshed at 5/6 of its lifetime (50 of 60 minutes).
//! - A 401 refreshes a token at most once per [`REJECTION_WINDOW`]: an endpoint that always
//!   answers 401 cannot make the host hammer the token endpoint.
//!
//! The guest never sees a token: it is written into requests here and scrubbed from everything
//! that comes back.
//!
//! Where tokens are kept, and how one refresh is shared by everyone who needs the token, is the
//! [`TokenStore`]'s business: [`TokenCache`] keeps them in this process (one host); hosts that
//! must share one token per hotel use another implementation of the trait.

use super::credentials::{Applied, OAuth2};
use super::{Destination, EgressError, Method, PreparedRequest, Transport};
use crate::vault::Secret;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Lifetime assumed when the token endpoint does not say (OHIP: "typically 3600").
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Largest token endpoint answer read.
const MAX_TOKEN_RESPONSE: u64 = 64 << 10;
/// A token fetched because the PMS refused the previous one is not replaced on a 401 again
/// before this much time has passed.
pub const REJECTION_WINDOW: Duration = Duration::from_secs(60);
/// Longest token lifetime believed (a year): a larger `expires_in` is garbage, not a promise.
const MAX_LIFETIME: Duration = Duration::from_secs(365 * 86_400);

#[derive(Clone)]
struct Token {
    access: Secret,
    refresh_at: Instant,
    valid_until: DateTime<Utc>,
    /// Set when this token replaced one the PMS refused with a 401.
    replaced_rejected_at: Option<Instant>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// What one token is for: a token is never used for another key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// The hotel whose credentials got it.
    pub hotel: String,
    /// The token endpoint, as a URL.
    pub endpoint: String,
    /// `client_credentials` or `password`, and the scope asked for.
    pub grant: String,
    /// The origin of the API requests the token is written into.
    pub audience: String,
}

/// A token as the token endpoint issued it.
pub struct FetchedToken {
    /// The access token.
    pub access: Secret,
    /// How long the endpoint said it lasts (at most a year: a longer `expires_in` is garbage).
    pub lifetime: Duration,
}

/// Where OAuth tokens are kept, and how their refreshes are shared.
pub trait TokenStore: Send + Sync {
    /// A valid token for `key`. The kept one, unless there is none, it is due for refresh
    /// (5/6 of its lifetime), or `rejected` is the kept one (the PMS just answered 401 with it)
    /// and no token replaced a rejected one within the last [`REJECTION_WINDOW`]: then the
    /// token `fetch` gets is kept and returned. Concurrent callers for one key wait for one
    /// fetch instead of each running theirs; `fetch` is not polled unless it is needed.
    fn token<'a>(
        &'a self,
        key: &'a TokenKey,
        rejected: Option<&'a Secret>,
        fetch: BoxFuture<'a, Result<FetchedToken, EgressError>>,
    ) -> BoxFuture<'a, Result<Secret, EgressError>>;

    /// Until when `hotel`'s newest token is valid, if it has one (never the token itself).
    fn valid_until<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, Option<DateTime<Utc>>>;

    /// Every token of `hotel` this process holds, for scrubbing answers. A token being
    /// refreshed right now may be missing: the request that fetched it scrubs it itself.
    fn current(&self, hotel: &str) -> Vec<Secret>;
}

/// The tokens of every hotel, in this process (the default).
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<TokenKey, Slot>>,
    /// Kept apart from the slots so that health checks never wait for a refresh.
    valid_until: Mutex<HashMap<String, DateTime<Utc>>>,
}

/// The token endpoint for `destination`: fixed by the manifest and hotel, whatever the request.
pub fn token_endpoint(destination: &Destination, oauth: &OAuth2) -> Result<Url, EgressError> {
    use super::allowlist::{HostPattern, Scheme};
    let base = match &oauth.token_origin {
        Some(origin) => Url::parse(origin)
            .map_err(|e| EgressError::Credentials(format!("token origin `{origin}`: {e}")))?,
        None => match destination.allowlist.as_slice() {
            [only] => match &only.host {
                HostPattern::Exact(host) => {
                    let scheme = match only.scheme {
                        Scheme::Http => "http",
                        Scheme::Https => "https",
                    };
                    Url::parse(&format!("{scheme}://{host}:{}", only.port)).map_err(|e| {
                        EgressError::Credentials(format!("allowed origin `{only}`: {e}"))
                    })?
                }
                HostPattern::Subdomains(_) => {
                    return Err(EgressError::Credentials(format!(
                        "token_path needs one exact allowed origin, but `{only}` is a wildcard: the manifest must name its token_url"
                    )));
                }
            },
            several => {
                return Err(EgressError::Credentials(format!(
                    "token_path needs exactly one allowed origin, but adapter `{}` allows {}: the manifest must name its token_url",
                    destination.adapter,
                    several.len()
                )));
            }
        },
    };
    let url = base
        .join(&oauth.token_path)
        .map_err(|e| EgressError::Credentials(format!("token path `{}`: {e}", oauth.token_path)))?;
    if url.origin() != base.origin() {
        return Err(EgressError::Credentials(format!(
            "token path `{}` leaves the token endpoint's origin",
            oauth.token_path
        )));
    }
    if !destination.allowlist.iter().any(|o| o.matches(&url)) {
        return Err(EgressError::ForbiddenDestination(format!(
            "the token endpoint {} is not in the allowlist of adapter `{}` for hotel `{}`",
            url.origin().ascii_serialization(),
            destination.adapter,
            destination.hotel
        )));
    }
    Ok(url)
}

impl TokenCache {
    fn slot(&self, key: &TokenKey) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }

    async fn token_now(
        &self,
        key: &TokenKey,
        rejected: Option<&Secret>,
        fetch: BoxFuture<'_, Result<FetchedToken, EgressError>>,
    ) -> Result<Secret, EgressError> {
        let slot = self.slot(key);
        // Holding the slot's lock while fetching makes concurrent callers wait for this one
        // refresh instead of each asking for a token.
        let mut guard = slot.lock().await;
        let (due, after_rejection) = match &*guard {
            None => (true, false),
            Some(t) => {
                let refused = rejected.is_some_and(|r| r.expose() == t.access.expose());
                let recently_replaced = t
                    .replaced_rejected_at
                    .is_some_and(|at| at.elapsed() < REJECTION_WINDOW);
                if refused && recently_replaced {
                    tracing::warn!(hotel = %key.hotel, "the PMS refused an OAuth token that replaced a refused one less than {} s ago; not refreshing again", REJECTION_WINDOW.as_secs());
                }
                (
                    Instant::now() >= t.refresh_at || (refused && !recently_replaced),
                    refused,
                )
            }
        };
        if due {
            let fetched = fetch.await?;
            let token = Token {
                refresh_at: Instant::now() + fetched.lifetime.mul_f64(5.0 / 6.0),
                valid_until: Utc::now()
                    + chrono::Duration::from_std(fetched.lifetime)
                        .unwrap_or_else(|_| chrono::Duration::hours(1)),
                access: fetched.access,
                replaced_rejected_at: after_rejection.then(Instant::now),
            };
            self.valid_until
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.hotel.clone(), token.valid_until);
            *guard = Some(token);
        }
        match &*guard {
            Some(t) => Ok(t.access.clone()),
            None => Err(EgressError::Credentials("no OAuth token".into())),
        }
    }
}

impl TokenStore for TokenCache {
    fn token<'a>(
        &'a self,
        key: &'a TokenKey,
        rejected: Option<&'a Secret>,
        fetch: BoxFuture<'a, Result<FetchedToken, EgressError>>,
    ) -> BoxFuture<'a, Result<Secret, EgressError>> {
        Box::pin(self.token_now(key, rejected, fetch))
    }

    fn valid_until<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, Option<DateTime<Utc>>> {
        let until = self
            .valid_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hotel)
            .copied();
        Box::pin(std::future::ready(until))
    }

    fn current(&self, hotel: &str) -> Vec<Secret> {
        let slots: Vec<Slot> = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| k.hotel == hotel)
            .map(|(_, s)| s.clone())
            .collect();
        slots
            .iter()
            .filter_map(|s| {
                s.try_lock()
                    .ok()
                    .and_then(|t| t.as_ref().map(|t| t.access.clone()))
            })
            .collect()
    }
}

/// The credentials for one request to `url`: a valid token for its origin from `tokens`
/// (fetched or refreshed when due, or when `rejected` is the token the PMS just refused and the
/// [`REJECTION_WINDOW`] allows it) and the application key.
pub async fn applied(
    tokens: &dyn TokenStore,
    transport: &dyn Transport,
    destination: &Destination,
    oauth: &OAuth2,
    password_grant: bool,
    url: &Url,
    rejected: Option<&Secret>,
) -> Result<Applied, EgressError> {
    let endpoint = token_endpoint(destination, oauth)?;
    let key = TokenKey {
        hotel: destination.hotel.clone(),
        endpoint: endpoint.to_string(),
        grant: format!(
            "{}:{}",
            if password_grant {
                "password"
            } else {
                "client_credentials"
            },
            oauth.scope.as_deref().unwrap_or_default()
        ),
        audience: url.origin().ascii_serialization(),
    };
    let fetch = Box::pin(fetch(
        transport,
        destination,
        oauth,
        password_grant,
        &endpoint,
    ));
    let token = tokens.token(&key, rejected, fetch).await?;
    let secret = |name: &str| {
        destination
            .secrets
            .get(&destination.hotel, name)
            .map_err(|e| EgressError::Credentials(e.to_string()))
    };
    let mut headers = vec![(
        "authorization".to_string(),
        Secret::new(format!("Bearer {}", token.expose())),
    )];
    let mut used = vec![token];
    if let (Some(header), Some(name)) = (&oauth.app_key_header, &oauth.app_key) {
        let key = secret(name)?;
        headers.push((header.clone(), key.clone()));
        used.push(key);
    }
    Ok(Applied { headers, used })
}

async fn fetch(
    transport: &dyn Transport,
    destination: &Destination,
    oauth: &OAuth2,
    password_grant: bool,
    token_url: &Url,
) -> Result<FetchedToken, EgressError> {
    let secret = |name: &str| {
        destination
            .secrets
            .get(&destination.hotel, name)
            .map_err(|e| EgressError::Credentials(e.to_string()))
    };
    let basic = {
        let (id, key) = (secret(&oauth.client_id)?, secret(&oauth.client_secret)?);
        let pair = zeroize::Zeroizing::new(format!("{}:{}", id.expose(), key.expose()));
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
        )
    };
    let mut headers = vec![
        ("authorization".to_string(), basic),
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("accept".to_string(), "application/json".to_string()),
    ];
    if let (Some(header), Some(name)) = (&oauth.app_key_header, &oauth.app_key) {
        headers.push((header.clone(), secret(name)?.expose().to_string()));
    }
    headers.extend(destination.token_headers.iter().cloned());
    // Built in its own scope: the serializer must not live across the await below.
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match (password_grant, &oauth.user) {
            (true, Some((user, password))) => {
                form.append_pair("grant_type", "password");
                form.append_pair("username", secret(user)?.expose());
                form.append_pair("password", secret(password)?.expose());
            }
            (true, None) => {
                return Err(EgressError::Credentials(
                    "the password grant needs username and password secrets".into(),
                ));
            }
            (false, _) => {
                form.append_pair("grant_type", "client_credentials");
            }
        }
        if let Some(scope) = &oauth.scope {
            form.append_pair("scope", scope);
        }
        zeroize::Zeroizing::new(form.finish())
    };
    let request = PreparedRequest {
        method: Method::Post,
        url: token_url.clone(),
        headers,
        body: Some(body.as_bytes().to_vec()),
        max_response_bytes: MAX_TOKEN_RESPONSE,
    };
    let response = transport.send(request).await?;
    if response.status != 200 {
        // The body is not quoted: a token endpoint may echo what it was sent.
        return Err(EgressError::Credentials(format!(
            "the token endpoint {} answered {}{}",
            oauth.token_path,
            response.status,
            if response.status == 401 {
                " (client credentials, application key or user refused)"
            } else {
                ""
            }
        )));
    }
    #[derive(serde::Deserialize)]
    struct Grant {
        access_token: String,
        expires_in: Option<u64>,
    }
    let grant: Grant = serde_json::from_slice(&response.body).map_err(|_| {
        EgressError::Credentials(format!(
            "the token endpoint {} sent an answer without a token",
            oauth.token_path
        ))
    })?;
    if grant.access_token.is_empty() {
        return Err(EgressError::Credentials(
            "the token endpoint sent an empty token".into(),
        ));
    }
    let lifetime = grant
        .expires_in
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME)
        .min(MAX_LIFETIME);
    tracing::info!(hotel = %destination.hotel, valid_for_s = lifetime.as_secs(), "obtained an OAuth token");
    Ok(FetchedToken {
        access: Secret::new(grant.access_token),
        lifetime,
    })
}
