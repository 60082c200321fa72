//! The egress pipeline: everything between an adapter's `http.send` and the PMS (DESIGN §1, §4).
//!
//! Order of the steps in [`Egress::send`]:
//! 1. the URL's scheme, host and port against the adapter's allowlist resolved for the hotel
//!    ([`allowlist`]); https only, plain http only to loopback when `egress.allowLoopbackHttp`;
//! 2. guest headers against the forbidden list ([`headers`]);
//! 3. credentials applied by the host from the [`SecretStore`] ([`credentials`]);
//! 4. the rate limits of the hotel, credential and environment ([`limits`]): a request over budget
//!    waits its turn up to the call's deadline; a 429 pauses the buckets it came through;
//! 5. the request through the [`Transport`], whose DNS resolver refuses loopback, private and
//!    link-local addresses unless allowed ([`address`]), with the response size cap; retried per
//!    the hotel's policy ([`retry`]): 429 always (the PMS did not process it), 5xx, 408,
//!    timeouts and connection failures only for reads;
//! 6. redirects followed by hand, each hop re-checked from step 1;
//! 7. secret values scrubbed from the response ([`scrub`]).
//!
//! No wasmtime here: this module is usable and testable on its own.

pub mod address;
pub mod allowlist;
pub mod credentials;
pub mod headers;
pub mod limits;
pub mod oauth;
pub mod retry;
pub mod scrub;
mod transport;

pub use transport::{PreparedRequest, RawResponse, ReqwestTransport, Transport, send_with};

use crate::vault::{Secret, SecretStore};
use address::AddressPolicy;
use allowlist::AllowedOrigin;
use credentials::{Applied, Auth, SchemeKind};
use limits::{RateLimit, RateLimiter, RateLimits, RateScope};
use oauth::TokenStore;
use retry::RetryPolicy;
use scrub::Scrubber;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Operator-wide outbound policy (`egress:` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Plain http to loopback allowed.
    pub allow_loopback_http: bool,
    /// Loopback addresses allowed.
    pub allow_loopback: bool,
    /// Private addresses allowed.
    pub allow_private: bool,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Redirect hops followed.
    pub max_redirects: u32,
    /// Longest pause a vendor's `Retry-After` (or an adapter's `rate-limited`) may impose;
    /// longer ones are cut to this and logged.
    pub max_retry_after: Duration,
    /// Extra certificate authorities trusted for TLS (PEM), beside the public web roots.
    pub trusted_ca_pems: Vec<Vec<u8>>,
    /// Fixed addresses for host names (lowercase), checked against the address policy like
    /// resolved ones.
    pub resolve: BTreeMap<String, SocketAddr>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow_loopback_http: false,
            allow_loopback: false,
            allow_private: false,
            request_timeout: Duration::from_secs(10),
            max_redirects: 5,
            max_retry_after: Duration::from_secs(300),
            trusted_ca_pems: Vec::new(),
            resolve: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// The address part of the policy.
    pub fn addresses(&self) -> AddressPolicy {
        AddressPolicy {
            allow_loopback: self.allow_loopback,
            allow_private: self.allow_private,
        }
    }
}

/// Why a request was not delivered. Messages never contain secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// Destination refused by policy.
    #[error("destination refused: {0}")]
    ForbiddenDestination(String),
    /// Header refused.
    #[error("header `{0}` refused")]
    ForbiddenHeader(String),
    /// Credentials could not be applied.
    #[error("credentials: {0}")]
    Credentials(String),
    /// Response larger than the cap.
    #[error("response larger than {0} bytes")]
    ResponseTooLarge(u64),
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// Connection failed.
    #[error("connection failed: {0}")]
    Connection(String),
    /// Malformed request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// HTTP method of an outbound request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
}

impl Method {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// A request as the guest asked for it.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// Method.
    pub method: Method,
    /// URL.
    pub url: String,
    /// Guest headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
    /// Credentials asked for.
    pub credentials: SchemeKind,
}

/// A response as the guest will see it (already scrubbed).
#[derive(Debug, Clone)]
pub struct InboundResponse {
    /// Status.
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Where one adapter, serving one hotel, may send requests and with which credentials.
pub struct Destination {
    /// Hotel id.
    pub hotel: String,
    /// Adapter name.
    pub adapter: String,
    /// Allowed origins, resolved for the hotel.
    pub allowlist: Vec<AllowedOrigin>,
    /// The manifest's auth scheme.
    pub auth: Auth,
    /// Where secrets come from.
    pub secrets: Arc<dyn SecretStore>,
    /// Retry policy (used for reads; 429s are retried for every request).
    pub retry: RetryPolicy,
    /// Rate limits that apply to every request.
    pub rate_limits: Vec<RateLimit>,
    /// Headers for OAuth token requests, from the hotel's settings (OHIP `enterpriseId`).
    pub token_headers: Vec<(String, String)>,
    /// Headers set on every request from the hotel's settings (the manifest's
    /// `request_headers_from_config`, OHIP `x-hotelid`); the guest may not set them.
    pub request_headers: Vec<(String, String)>,
    /// Statuses handed to the adapter on the first answer instead of retried by the host
    /// (the manifest's `no_retry_statuses`: Mews' 408 for a query too heavy for its page).
    pub no_retry_statuses: Vec<u16>,
}

/// The shortest pause after a 429, even one with `Retry-After: 0`.
const MIN_RATE_LIMIT_PAUSE: Duration = Duration::from_millis(100);

/// Per-request options from the call.
#[derive(Debug, Clone, Copy)]
pub struct SendOptions {
    /// Response body cap.
    pub max_response_bytes: u64,
    /// The call's deadline: no wait or retry runs past it.
    pub deadline: Instant,
    /// True when the call is a read, so that failures may be retried.
    pub read_only: bool,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("hotel", &self.hotel)
            .field("adapter", &self.adapter)
            .field("allowlist", &self.allowlist)
            .field("auth", &self.auth.kind().name())
            .finish()
    }
}

/// The egress pipeline, shared by all calls.
pub struct Egress {
    policy: Policy,
    transport: Arc<dyn Transport>,
    limits: Arc<dyn RateLimiter>,
    tokens: Arc<dyn TokenStore>,
    scrubbers: moka::sync::Cache<[u8; 32], Arc<Scrubber>>,
}

/// The scrubber cache: a few sets of secrets per hotel, forgotten after ten idle minutes.
fn scrubber_cache() -> moka::sync::Cache<[u8; 32], Arc<Scrubber>> {
    moka::sync::Cache::builder()
        .max_capacity(16_384)
        .time_to_idle(Duration::from_secs(600))
        .build()
}

impl Egress {
    /// The production pipeline: reqwest with rustls and the policy's address filter.
    pub fn new(policy: Policy) -> Result<Egress, EgressError> {
        let transport = ReqwestTransport::new(&policy)?;
        Ok(Egress::with_transport(policy, Arc::new(transport)))
    }

    /// A pipeline over another transport (tests and benchmarks answer in-process).
    pub fn with_transport(policy: Policy, transport: Arc<dyn Transport>) -> Egress {
        Egress {
            policy,
            transport,
            limits: Arc::new(RateLimits::default()),
            tokens: Arc::new(oauth::TokenCache::default()),
            scrubbers: scrubber_cache(),
        }
    }

    /// The same pipeline with its rate-limit buckets and OAuth tokens kept by `limits` and
    /// `tokens` instead of this process (several hosts sharing one vendor budget and one token
    /// per hotel). Without it both live in this process.
    pub fn coordinated_by(
        mut self,
        limits: Arc<dyn RateLimiter>,
        tokens: Arc<dyn TokenStore>,
    ) -> Egress {
        self.limits = limits;
        self.tokens = tokens;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The rate-limit buckets (for health and metrics).
    pub fn limits(&self) -> &dyn RateLimiter {
        self.limits.as_ref()
    }

    /// The OAuth tokens (for health: validity only).
    pub fn tokens(&self) -> &dyn TokenStore {
        self.tokens.as_ref()
    }

    /// Sends `request` for `destination`, through every step of the pipeline.
    pub async fn send(
        &self,
        destination: &Destination,
        request: OutboundRequest,
        options: SendOptions,
    ) -> Result<InboundResponse, EgressError> {
        let mut applied = Vec::new();
        let result = self
            .send_inner(destination, request, options, &mut applied)
            .await;
        // Built after sending, so that it knows every value the request carried (a token
        // fetched for this very request included).
        let scrubber = self.scrubber(destination, &applied);
        result
            .map(|r| InboundResponse {
                status: r.status,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, scrubber.text(&v)))
                    .collect(),
                body: scrubber.bytes(r.body),
            })
            .map_err(|e| scrub_error(&scrubber, e))
    }

    /// Every secret the destination's auth scheme names, in all forms a server might echo.
    /// Missing secrets are skipped: they cannot have been sent.
    fn scrubber(&self, destination: &Destination, applied: &[Secret]) -> Arc<Scrubber> {
        let secrets: Vec<Secret> = destination
            .auth
            .secret_names()
            .into_iter()
            .filter_map(|name| destination.secrets.get(&destination.hotel, name).ok())
            // Only OAuth destinations have tokens.
            .chain(
                destination
                    .auth
                    .oauth()
                    .into_iter()
                    .flat_map(|_| self.tokens.current(&destination.hotel)),
            )
            .chain(applied.iter().cloned())
            .collect();
        // Building the automaton costs more than most requests (every fragment of every secret
        // is a pattern), so one is kept per set of values, keyed by a hash of them (never the
        // values themselves); tokens and rotated secrets make new sets, old ones age out.
        let mut key = Sha256::new();
        let mut values: Vec<&str> = secrets.iter().map(|s| s.expose()).collect();
        values.sort_unstable();
        values.dedup();
        for v in &values {
            key.update(v.as_bytes());
            key.update([0xff]);
        }
        let key: [u8; 32] = key.finalize().into();
        self.scrubbers
            .get_with(key, || Arc::new(Scrubber::new(values.iter().copied())))
    }

    async fn send_inner(
        &self,
        destination: &Destination,
        request: OutboundRequest,
        options: SendOptions,
        used: &mut Vec<Secret>,
    ) -> Result<RawResponse, EgressError> {
        let url = Url::parse(&request.url).map_err(|e| {
            EgressError::InvalidRequest(format!("`{}` is not a URL: {e}", request.url))
        })?;
        self.check_destination(destination, &url)?;
        for (name, value) in &request.headers {
            if let Some(reason) = headers::refusal(name, destination.auth.header()) {
                return Err(EgressError::ForbiddenHeader(format!("{name}: {reason}")));
            }
            if destination
                .request_headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case(name))
            {
                return Err(EgressError::ForbiddenHeader(format!(
                    "{name}: the host sets it from the hotel's settings"
                )));
            }
            if value.contains(['\r', '\n']) {
                return Err(EgressError::InvalidRequest(format!(
                    "header `{name}` has a line break in its value"
                )));
            }
        }
        let oauth = destination
            .auth
            .oauth()
            .filter(|_| request.credentials == destination.auth.kind());
        let mut rejected: Option<Secret> = None;
        let mut refused: Option<RawResponse> = None;
        loop {
            let mut body = request.body.clone();
            let applied = match oauth {
                Some((o, password)) => {
                    oauth::applied(
                        self.tokens.as_ref(),
                        self.transport.as_ref(),
                        destination,
                        o,
                        password,
                        &url,
                        rejected.as_ref(),
                    )
                    .await?
                }
                None => credentials::apply(
                    &destination.auth,
                    request.credentials,
                    &destination.hotel,
                    destination.secrets.as_ref(),
                    &mut body,
                )?,
            };
            used.extend(applied.used.iter().cloned());
            // The token cache kept the refused token (it was refreshed after a 401 moments
            // ago): sending it again would only earn the same 401.
            if let (Some(r), Some(first)) = (&rejected, refused.take())
                && applied
                    .used
                    .first()
                    .is_some_and(|t| t.expose() == r.expose())
            {
                return Ok(first);
            }
            let response = self
                .hops(destination, &request, url.clone(), body, &applied, options)
                .await?;
            // A 401 on a token we believed valid: refresh once and try once more.
            if response.status == 401 && oauth.is_some() && rejected.is_none() {
                tracing::info!(hotel = %destination.hotel, "the PMS refused the OAuth token; refreshing it once");
                rejected = applied.used.first().cloned();
                refused = Some(response);
                continue;
            }
            return Ok(response);
        }
    }

    /// Sends one request, following redirects hop by hop (each re-checked).
    async fn hops(
        &self,
        destination: &Destination,
        request: &OutboundRequest,
        mut url: Url,
        mut body: Option<Vec<u8>>,
        applied: &Applied,
        options: SendOptions,
    ) -> Result<RawResponse, EgressError> {
        let origin = url.origin();
        let mut method = request.method;
        for hop in 0..=self.policy.max_redirects {
            let mut headers = request.headers.clone();
            // Credentials, and the hotel's headers, travel only to the origin they were
            // applied for.
            if url.origin() == origin {
                headers.extend(destination.request_headers.iter().cloned());
                headers.extend(
                    applied
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.expose().to_string())),
                );
            }
            let prepared = PreparedRequest {
                method,
                url: url.clone(),
                headers,
                body: body.clone(),
                max_response_bytes: options.max_response_bytes,
            };
            let response = self
                .attempt(destination, applied, prepared, options)
                .await?;
            let location = match response.status {
                301 | 302 | 303 | 307 | 308 => response
                    .headers
                    .iter()
                    .find(|(k, _)| k == "location")
                    .map(|(_, v)| v.clone()),
                _ => None,
            };
            let Some(location) = location else {
                return Ok(response);
            };
            if hop == self.policy.max_redirects {
                return Err(EgressError::Connection(format!(
                    "more than {} redirects",
                    self.policy.max_redirects
                )));
            }
            let next = url.join(&location).map_err(|e| {
                EgressError::Connection(format!(
                    "redirect to an invalid location `{location}`: {e}"
                ))
            })?;
            self.check_destination(destination, &next).map_err(|e| {
                EgressError::ForbiddenDestination(format!("redirect to {next} refused: {e}"))
            })?;
            if next.origin() != origin
                && body.is_some()
                && request.credentials == SchemeKind::JsonBodyCredentials
            {
                return Err(EgressError::ForbiddenDestination(format!(
                    "redirect to {next} would carry body credentials to another origin"
                )));
            }
            if response.status == 303
                || (matches!(response.status, 301 | 302) && method == Method::Post)
            {
                method = Method::Get;
                body = None;
            }
            url = next;
        }
        Err(EgressError::Connection("redirect loop".into()))
    }

    /// Steps 4 and 5 for one hop: rate limits, the transport, and retries.
    async fn attempt(
        &self,
        destination: &Destination,
        applied: &Applied,
        prepared: PreparedRequest,
        options: SendOptions,
    ) -> Result<RawResponse, EgressError> {
        let buckets = self.buckets(destination, &prepared.url, applied);
        let policy = &destination.retry;
        // Attempts that count against `pms.retry.maxAttempts` (5xx, 408, connection errors);
        // 429s do not: waiting one out is a pause, bounded by the call's deadline.
        let mut attempt = 1;
        let mut rate_limited: u32 = 0;
        loop {
            for (key, limit) in &buckets {
                if !self.limits.acquire(key, *limit, options.deadline).await {
                    return Err(EgressError::Connection(format!(
                        "the rate limit of hotel `{}` leaves no slot before the call's deadline",
                        destination.hotel
                    )));
                }
            }
            let result = self.transport.send(prepared.clone()).await;
            crate::metrics::metrics()
                .outbound_status(&destination.hotel, result.as_ref().ok().map(|r| r.status));
            // `wait` is how long until the next attempt may start; for a 429 the paused buckets
            // do the waiting, so nothing more is slept here.
            let (retryable, wait, sleep, counts) = match &result {
                Ok(r) if r.status == 429 => {
                    // The PMS did not process the request: pause everyone behind the same
                    // buckets, then send it again whatever the operation. Without a
                    // Retry-After the limiter backs off by itself; a Retry-After of 0 still
                    // waits a little, so that a vendor answering 429 forever is not hammered.
                    rate_limited = rate_limited.saturating_add(1);
                    let asked = retry::retry_after(&r.headers, chrono::Utc::now())
                        .unwrap_or_else(|| policy.delay(rate_limited))
                        .max(MIN_RATE_LIMIT_PAUSE);
                    let (pause, clamped) =
                        retry::clamp_vendor_delay(asked, self.policy.max_retry_after);
                    // Environment buckets are shared by every hotel on the origin: one
                    // hotel's 429 must not stall the others (if the whole environment is over
                    // its limit, each hotel gets its own 429 and pauses itself).
                    for (key, limit) in &buckets {
                        if limit.scope != RateScope::Environment {
                            self.limits.pause(key, *limit, pause, clamped).await;
                        }
                    }
                    let pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
                    if clamped {
                        tracing::warn!(hotel = %destination.hotel, pause_ms, asked_s = asked.as_secs(), "the PMS answered 429 with a Retry-After beyond egress.maxRetryAfterMs; pausing for the maximum instead");
                    } else {
                        tracing::warn!(hotel = %destination.hotel, pause_ms, "the PMS answered 429; pausing this hotel's requests");
                    }
                    // With no bucket of its own to pause (a destination without a declared
                    // limit), the request itself waits.
                    let paused = buckets
                        .iter()
                        .any(|(_, l)| l.scope != RateScope::Environment);
                    (true, pause, !paused, false)
                }
                Ok(r) => (
                    options.read_only
                        && (r.status >= 500 || r.status == 408)
                        && !destination.no_retry_statuses.contains(&r.status),
                    policy.delay(attempt),
                    true,
                    true,
                ),
                Err(EgressError::Timeout | EgressError::Connection(_)) => {
                    (options.read_only, policy.delay(attempt), true, true)
                }
                Err(_) => (false, Duration::ZERO, false, false),
            };
            // Past the deadline the adapter gets the last answer itself (a 429 keeps its
            // Retry-After for the caller).
            let out_of_time = Instant::now()
                .checked_add(wait)
                .is_none_or(|t| t >= options.deadline);
            if !retryable || (counts && attempt >= policy.max_attempts) || out_of_time {
                if retryable && matches!(result, Err(EgressError::Timeout)) {
                    tracing::warn!(hotel = %destination.hotel, attempts = attempt, "the PMS keeps timing out");
                    crate::metrics::metrics()
                        .pms_timeouts
                        .get_or_create(&crate::metrics::HotelLabels {
                            hotel: destination.hotel.clone(),
                        })
                        .inc();
                }
                return result;
            }
            tracing::debug!(hotel = %destination.hotel, attempt, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "retrying an outbound request");
            if sleep {
                tokio::time::sleep(wait).await;
            }
            if counts {
                attempt += 1;
            }
        }
    }

    /// The buckets a request goes through: one per declared limit, keyed by its scope.
    fn buckets(
        &self,
        destination: &Destination,
        url: &Url,
        applied: &Applied,
    ) -> Vec<(String, RateLimit)> {
        destination
            .rate_limits
            .iter()
            .map(|limit| {
                let key = match limit.scope {
                    RateScope::Hotel => format!("hotel:{}", destination.hotel),
                    RateScope::Environment => format!(
                        "environment:{}:{}",
                        destination.adapter,
                        url.origin().ascii_serialization()
                    ),
                    RateScope::Credential => {
                        // Keyed by a hash of the credential, never the credential itself.
                        let mut hash = Sha256::new();
                        for secret in &applied.used {
                            hash.update(secret.expose().as_bytes());
                            hash.update([0]);
                        }
                        format!(
                            "credential:{}:{}",
                            destination.adapter,
                            &hex::encode(hash.finalize())[..16]
                        )
                    }
                };
                (key, *limit)
            })
            .collect()
    }

    /// Steps 1 and (for IP literals) 4 of the pipeline for one URL.
    fn check_destination(&self, destination: &Destination, url: &Url) -> Result<(), EgressError> {
        let refuse = |m: String| Err(EgressError::ForbiddenDestination(m));
        let host = match url.host() {
            Some(h) => h,
            None => return refuse(format!("{url} has no host")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("user information in URLs is not allowed".into());
        }
        let literal: Option<IpAddr> = match host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        };
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback = literal.is_some_and(|ip| ip.is_loopback())
                    || url
                        .host_str()
                        .is_some_and(|h| h.eq_ignore_ascii_case("localhost"));
                if !(loopback && self.policy.allow_loopback_http) {
                    return refuse(format!(
                        "{url}: plain http is allowed only to loopback, and only with egress.allowLoopbackHttp"
                    ));
                }
            }
            other => {
                return refuse(format!(
                    "{url}: scheme `{other}` is not allowed (https only)"
                ));
            }
        }
        if !destination.allowlist.iter().any(|o| o.matches(url)) {
            let allowed: Vec<String> = destination
                .allowlist
                .iter()
                .map(ToString::to_string)
                .collect();
            return refuse(format!(
                "{}://{}:{} is not in the allowlist of adapter `{}` for hotel `{}` (allowed: {})",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or(0),
                destination.adapter,
                destination.hotel,
                if allowed.is_empty() {
                    "nothing".into()
                } else {
                    allowed.join(", ")
                }
            ));
        }
        if let Some(ip) = literal {
            self.policy
                .addresses()
                .check(ip)
                .map_err(EgressError::ForbiddenDestination)?;
        }
        Ok(())
    }
}

/// An error as the guest and the log may see it: secrets scrubbed, and (since parts of it come
/// from the guest's URL or the vendor's `Location`) control characters escaped and its length
/// bounded.
fn scrub_error(scrubber: &Scrubber, error: EgressError) -> EgressError {
    let clean = |m: &str| crate::untrusted::error_text(&scrubber.text(m));
    match error {
        EgressError::ForbiddenDestination(m) => EgressError::ForbiddenDestination(clean(&m)),
        EgressError::ForbiddenHeader(m) => EgressError::ForbiddenHeader(clean(&m)),
        EgressError::Credentials(m) => EgressError::Credentials(clean(&m)),
        EgressError::Connection(m) => EgressError::Connection(clean(&m)),
        EgressError::InvalidRequest(m) => EgressError::InvalidRequest(clean(&m)),
        other => other,
    }
}

#[cfg(test)]
mod tests;
