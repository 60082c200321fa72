//! Host-owned OAuth 2 (OHIP's `POST /oauth/v1/tokens`): client-credentials and password grants,
//! Basic client authentication, the application-key header. One token per hotel, fetched once
//! however many calls need it (other callers wait for the refresh in progress), refreshed at 5/6
//! of its lifetime (50 of 60 minutes) and, on a 401, once more. The guest never sees a token:
//! it is written into requests here and scrubbed from everything that comes back.

use super::credentials::{Applied, OAuth2};
use super::{Destination, EgressError, Method, PreparedRequest, Transport};
use crate::vault::Secret;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Lifetime assumed when the token endpoint does not say (OHIP: "typically 3600").
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Largest token endpoint answer read.
const MAX_TOKEN_RESPONSE: u64 = 64 << 10;

#[derive(Clone)]
struct Token {
    access: Secret,
    refresh_at: Instant,
    valid_until: DateTime<Utc>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// The tokens of every hotel.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<String, Slot>>,
    /// Kept apart from the slots so that health checks never wait for a refresh.
    valid_until: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl TokenCache {
    fn slot(&self, hotel: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(hotel.to_string()).or_default().clone()
    }

    /// Until when `hotel`'s token is valid, if it has one (never the token itself).
    pub fn valid_until(&self, hotel: &str) -> Option<DateTime<Utc>> {
        self.valid_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hotel)
            .copied()
    }

    /// The current token of `hotel`, for scrubbing.
    pub fn current(&self, hotel: &str) -> Option<Secret> {
        self.slot(hotel)
            .try_lock()
            .ok()
            .and_then(|t| t.as_ref().map(|t| t.access.clone()))
    }

    /// The credentials for one request: a valid token (fetched or refreshed when due, or when
    /// `rejected` is the token the PMS just refused) and the application key.
    pub async fn applied(
        &self,
        transport: &dyn Transport,
        destination: &Destination,
        oauth: &OAuth2,
        password_grant: bool,
        url: &Url,
        rejected: Option<&Secret>,
    ) -> Result<Applied, EgressError> {
        let slot = self.slot(&destination.hotel);
        // Holding the slot's lock while fetching makes concurrent callers wait for this one
        // refresh instead of each asking for a token.
        let mut guard = slot.lock().await;
        let due = match &*guard {
            None => true,
            Some(t) => {
                Instant::now() >= t.refresh_at
                    || rejected.is_some_and(|r| r.expose() == t.access.expose())
            }
        };
        if due {
            let token = fetch(transport, destination, oauth, password_grant, url).await?;
            self.valid_until
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(destination.hotel.clone(), token.valid_until);
            *guard = Some(token);
        }
        let token = match &*guard {
            Some(t) => t.access.clone(),
            None => return Err(EgressError::Credentials("no OAuth token".into())),
        };
        drop(guard);
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
}

async fn fetch(
    transport: &dyn Transport,
    destination: &Destination,
    oauth: &OAuth2,
    password_grant: bool,
    url: &Url,
) -> Result<Token, EgressError> {
    let secret = |name: &str| {
        destination
            .secrets
            .get(&destination.hotel, name)
            .map_err(|e| EgressError::Credentials(e.to_string()))
    };
    let base = match &oauth.token_origin {
        Some(origin) => Url::parse(origin)
            .map_err(|e| EgressError::Credentials(format!("token origin `{origin}`: {e}")))?,
        None => url.clone(),
    };
    let token_url = base
        .join(&oauth.token_path)
        .map_err(|e| EgressError::Credentials(format!("token path `{}`: {e}", oauth.token_path)))?;
    if token_url.origin() != base.origin() {
        return Err(EgressError::Credentials(format!(
            "token path `{}` leaves the token endpoint's origin",
            oauth.token_path
        )));
    }
    // Another origin than the API's must still be allowed for this hotel (the manifest lists it).
    if oauth.token_origin.is_some() && !destination.allowlist.iter().any(|o| o.matches(&token_url))
    {
        return Err(EgressError::ForbiddenDestination(format!(
            "the token endpoint {} is not in the allowlist of adapter `{}` for hotel `{}`",
            token_url.origin().ascii_serialization(),
            destination.adapter,
            destination.hotel
        )));
    }
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
        url: token_url,
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
        .unwrap_or(DEFAULT_LIFETIME);
    tracing::info!(hotel = %destination.hotel, valid_for_s = lifetime.as_secs(), "obtained an OAuth token");
    Ok(Token {
        access: Secret::new(grant.access_token),
        refresh_at: Instant::now() + lifetime.mul_f64(5.0 / 6.0),
        valid_until: Utc::now()
            + chrono::Duration::from_std(lifetime).unwrap_or_else(|_| chrono::Duration::hours(1)),
    })
}
