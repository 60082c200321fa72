//! The axum app: the `/api/v1` handlers, the gate in front of them (stats, faults, API key or
//! bearer token, latency, slow answers after writes), the OAuth token endpoint, the `/admin`
//! handlers (stats, faults, OAuth, and the front-desk simulation that changes reservations and
//! rooms), and JSON errors for every bad request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, RawPathParamsRejection};
use axum::extract::{
    FromRequest, FromRequestParts, MatchedPath, Path, Query, RawPathParams, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::faults::{Faults, Rejection, Target};
use super::oauth::{BearerCheck, OAuthConfigBody, TokenError};
use super::seed::{Guest, Preference, RESERVATION_STATES, format_cents, parse_cents};
use super::store::{
    Charge, GuestFilter, NEW_RESERVATION_STATE, NewReservation, ReservationFilter, StoreError,
    WriteOutcome,
};

type St = State<Arc<Shared>>;
type ApiResult<T> = Result<Json<T>, ApiError>;

const PREFERENCES: &str = "/api/v1/hotels/{hotel}/guests/{guestId}/preferences";
const NOTES: &str = "/api/v1/hotels/{hotel}/reservations/{confirmation}/notes";
const CHECKOUT: &str = "/api/v1/hotels/{hotel}/reservations/{confirmation}/checkout";
const CHARGES: &str = "/api/v1/hotels/{hotel}/reservations/{confirmation}/charges";

/// The write routes, which `timeoutAfterApply` slows down.
fn is_write(method: &Method, path: &str) -> bool {
    match *method {
        Method::PUT => path == PREFERENCES || path == CHECKOUT,
        Method::POST => path == NOTES || path == CHARGES,
        _ => false,
    }
}

/// The OHIP-style token endpoint (answered only while OAuth is configured).
const TOKEN_PATH: &str = "/oauth/v1/tokens";

/// Builds the whole app around the shared state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    const H: &str = "/api/v1/hotels/{hotel}";
    let api = Router::new()
        .route("/api/v1/echo", any(echo))
        .route(&format!("{H}/ping"), get(ping))
        .route(&format!("{H}/guests"), get(search_guests))
        .route(&format!("{H}/guests/{{guestId}}"), get(get_guest))
        .route(PREFERENCES, put(replace_preferences))
        .route(&format!("{H}/reservations"), get(list_reservations))
        .route(
            &format!("{H}/reservations/{{confirmation}}"),
            get(get_reservation),
        )
        .route(NOTES, post(add_note))
        .route(CHECKOUT, put(set_checkout))
        .route(CHARGES, post(post_charge))
        .route(
            &format!("{H}/reservations/{{confirmation}}/folio"),
            get(folio),
        )
        .route(&format!("{H}/rooms"), get(list_rooms))
        .route(&format!("{H}/rooms/{{number}}"), get(get_room))
        .route(
            &format!("{H}/operations/{{operationId}}"),
            get(get_operation),
        )
        // Unknown `/api/v1` paths still go through the gate (and count in the stats).
        .route("/api/v1", any(not_found))
        .route("/api/v1/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    let admin = Router::new()
        .route(
            "/admin/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route(
            "/admin/stats",
            get(|State(s): St| async move { Json(s.stats().stats.clone()) }),
        )
        .route("/admin/reset-stats", post(reset_stats))
        .route("/admin/faults", get(get_faults).put(put_faults))
        .route(
            "/admin/oauth",
            get(get_oauth).put(put_oauth).delete(delete_oauth),
        )
        .route("/admin/oauth/revoke-all", post(revoke_all))
        .route(
            "/admin/hotels/{hotel}/reservations",
            post(admin_create_reservation),
        )
        .route(
            "/admin/hotels/{hotel}/reservations/{confirmation}/state",
            put(admin_set_state),
        )
        .route("/admin/hotels/{hotel}/rooms/{number}", put(admin_set_room))
        .method_not_allowed_fallback(method_not_allowed);
    let oauth = Router::new().route(TOKEN_PATH, any(token));
    api.merge(oauth)
        .merge(admin)
        .fallback(not_found)
        .with_state(shared)
}

/// A JSON error: `{"error": {"code", "message"}}`, plus `Retry-After` for 429s (and scripted
/// failures that ask for it) and `WWW-Authenticate` for some 401s.
#[derive(Debug, thiserror::Error)]
#[error("{status} {message}")]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    retry_after_seconds: Option<u64>,
    www_authenticate: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after_seconds: None,
            www_authenticate: None,
        }
    }

    fn unauthorized(message: &str, www_authenticate: Option<&'static str>) -> ApiError {
        ApiError {
            www_authenticate,
            ..ApiError::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// An extractor's rejection: JSON that does not fit the expected shape (axum's 422) is a
    /// plain 400 like every other bad input; 413 and 415 keep their status.
    fn rejected(status: StatusCode, message: String) -> ApiError {
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        ApiError::new(status, message)
    }

    fn code(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "BAD_REQUEST",
            401 => "UNAUTHORIZED",
            403 => "FORBIDDEN",
            404 => "NOT_FOUND",
            405 => "METHOD_NOT_ALLOWED",
            409 => "CONFLICT",
            413 => "PAYLOAD_TOO_LARGE",
            415 => "UNSUPPORTED_MEDIA_TYPE",
            429 => "RATE_LIMITED",
            503 => "UNAVAILABLE",
            500..=599 => "INTERNAL_ERROR",
            _ => "ERROR",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code(), "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self.www_authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// A status from a fault setting, which `set_faults` does not validate: 400–599, else 503.
fn fault_status(status: u16) -> StatusCode {
    StatusCode::from_u16(status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match e {
            StoreError::UnknownHotel(_) | StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> ApiError {
        match r {
            Rejection::Scripted {
                status,
                retry_after_seconds,
            } => ApiError {
                retry_after_seconds,
                ..ApiError::new(fault_status(status), "injected failure (failNext)")
            },
            Rejection::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the PMS is unavailable (injected fault)",
            ),
            Rejection::RateLimited {
                retry_after_seconds,
            } => ApiError {
                retry_after_seconds: Some(retry_after_seconds),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate limited (injected fault)",
                )
            },
            Rejection::Error { status } => ApiError::new(fault_status(status), "injected error"),
        }
    }
}

/// `WWW-Authenticate` on token endpoint 401s (RFC 6749 §5.2 asks for one with Basic).
const BASIC_CHALLENGE: &str = "Basic realm=\"mock-pms\"";

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        match e {
            TokenError::Unauthorized(message) => {
                ApiError::unauthorized(message, Some(BASIC_CHALLENGE))
            }
            TokenError::BadRequest(message) => ApiError::bad_request(message),
            TokenError::UnsupportedMediaType => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string())
            }
        }
    }
}

/// `Json` whose rejections are JSON errors.
struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(e) => Err(ApiError::rejected(e.status(), e.body_text())),
        }
    }
}

/// `Query` whose rejections are JSON errors.
struct Params<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(e) => Err(ApiError::rejected(e.status(), e.body_text())),
        }
    }
}

/// `Path` whose rejections are JSON errors.
struct Segments<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Segments(value)),
            Err(e) => Err(ApiError::rejected(e.status(), e.body_text())),
        }
    }
}

/// The method as counted in the stats: standard methods by name, others as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    STANDARD
        .iter()
        .find(|(m, _)| m == method)
        .map_or("OTHER", |(_, label)| label)
}

/// Applies the faults to an arrived request: the latency to wait out, or the refusal (counted).
fn check_faults(s: &Shared, target: Target) -> Result<Duration, ApiError> {
    let verdict = s.faults().check(Utc::now(), Instant::now(), target);
    verdict.map_err(|rejection| {
        s.stats().stats.rejected.faults += 1;
        ApiError::from(rejection)
    })
}

/// `WWW-Authenticate` on `/api/v1` 401s while OAuth is configured (RFC 6750 §3): a bare
/// challenge when no usable token came, `invalid_token` for an unknown, revoked or expired one.
const BEARER_CHALLENGE: &str = "Bearer";
const INVALID_TOKEN_CHALLENGE: &str = "Bearer error=\"invalid_token\"";

/// Accepts the API key or, when OAuth is configured, a valid bearer token with the app key.
fn authorize(s: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let header = |name| headers.get(name).map(HeaderValue::as_bytes);
    if s.key_matches(header("x-api-key").unwrap_or_default()) {
        return Ok(());
    }
    let oauth = s.oauth();
    if !oauth.configured() {
        return Err(ApiError::unauthorized("missing or wrong x-api-key", None));
    }
    let bearer = header(header::AUTHORIZATION.as_str());
    match oauth.check_bearer(bearer, header("x-app-key"), Instant::now()) {
        BearerCheck::Valid => Ok(()),
        BearerCheck::NotPresented => Err(ApiError::unauthorized(
            "missing or wrong x-api-key, and no bearer token",
            Some(BEARER_CHALLENGE),
        )),
        BearerCheck::WrongAppKey => Err(ApiError::unauthorized(
            "missing or wrong x-app-key for the bearer token",
            Some(BEARER_CHALLENGE),
        )),
        BearerCheck::InvalidToken => Err(ApiError::unauthorized(
            "the bearer token is unknown, revoked or expired",
            Some(INVALID_TOKEN_CHALLENGE),
        )),
    }
}

/// In front of every `/api/v1` route: count the request, apply faults, check the key or token,
/// wait out the injected latency, run the handler, and for a write picked by
/// `timeoutAfterApply`, hold the answer back. No lock is held across a sleep.
async fn gate(
    State(s): St,
    params: Result<RawPathParams, RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    let write = is_write(req.method(), path);
    let route = format!("{} {path}", method_label(req.method()));
    let hotel = params
        .ok()
        .and_then(|p| {
            p.iter()
                .find(|(name, _)| *name == "hotel")
                .map(|(_, v)| v.to_owned())
        })
        .filter(|h| s.store().has_hotel(h));
    s.stats().arrived(route, hotel.clone());

    let latency = match check_faults(&s, Target::Api) {
        Ok(latency) => latency,
        Err(refused) => return refused.into_response(),
    };
    if let Err(e) = authorize(&s, req.headers()) {
        s.stats().stats.rejected.unauthorized += 1;
        return e.into_response();
    }
    s.stats().accepted(Instant::now(), hotel.as_deref());
    let hold = if write {
        s.faults().take_write_delay()
    } else {
        None
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = next.run(req).await;
    if let Some(hold) = hold {
        tracing::debug!(
            delay_ms = hold.as_millis(),
            "mock PMS holding a write's answer (timeoutAfterApply)"
        );
        tokio::time::sleep(hold).await;
    }
    response
}

// ---- OAuth token endpoint ----------------------------------------------------------------

/// `POST /oauth/v1/tokens`: a 404 as for any unknown path unless OAuth is configured. Then
/// counted, faulted (`failNextToken` instead of `failNext`), the client authenticated (Basic and
/// `x-app-key`), the latency waited out, and the grant handled.
async fn token(
    State(s): St,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !s.oauth().configured() {
        return not_found(uri).await.into_response();
    }
    s.stats()
        .token_request(format!("{} {TOKEN_PATH}", method_label(&method)));
    let latency = match check_faults(&s, Target::Token) {
        Ok(latency) => latency,
        Err(refused) => return refused.into_response(),
    };
    let header = |name| headers.get(name).map(HeaderValue::as_bytes);
    let client = s
        .oauth()
        .authenticate_client(header(header::AUTHORIZATION.as_str()), header("x-app-key"));
    if let Err(e) = client {
        s.stats().stats.rejected.unauthorized += 1;
        return ApiError::from(e).into_response();
    }
    s.stats().accepted(Instant::now(), None);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match grant(&s, &method, &headers, body) {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// The grant part of the token endpoint, for an authenticated client.
fn grant(
    s: &Shared,
    method: &Method,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if method != Method::POST {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {TOKEN_PATH}"),
        ));
    }
    if !has_media_type(headers, "application/x-www-form-urlencoded") {
        return Err(TokenError::UnsupportedMediaType.into());
    }
    let body = body.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    let issued = s.oauth().grant(&body, Instant::now())?;
    s.stats().stats.tokens_issued += 1;
    tracing::debug!(expires_in = issued.expires_in, "mock PMS issued a token");
    let body = json!({
        "access_token": issued.access_token.expose_secret(),
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "oracle_tk_context": "user_assertion",
    });
    let no_store = [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ];
    Ok((no_store, Json(body)).into_response())
}

/// Whether `Content-Type` is `essence` (parameters such as `charset` allowed).
fn has_media_type(headers: &HeaderMap, essence: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(essence))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route for {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

// ---- paging ------------------------------------------------------------------------------

/// `page` and `pageSize` query parameters, as given.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    page: Option<String>,
    page_size: Option<String>,
}

/// One page of a list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListPage<T> {
    items: Vec<T>,
    page: u64,
    page_size: u64,
    total_pages: u64,
    total_items: u64,
}

const MAX_PAGE_SIZE: u64 = 100;

/// Cuts one page out of `all`: page defaults to 1, pageSize to 50 (at most 100).
fn paginate<T: Clone>(all: Vec<&T>, paging: &Paging) -> ApiResult<ListPage<T>> {
    let positive = |name: &str, value: &Option<String>, default: u64| match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::bad_request(format!("{name} `{v}` is not a positive integer"))
            }),
    };
    let page = positive("page", &paging.page, 1)?;
    let page_size = positive("pageSize", &paging.page_size, 50)?.min(MAX_PAGE_SIZE);
    let total_items = all.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    // page_size is at most 100, so the cast cannot truncate.
    let items = all
        .into_iter()
        .skip(skip)
        .take(page_size as usize)
        .cloned()
        .collect();
    let total_pages = total_items.div_ceil(page_size).max(1);
    Ok(Json(ListPage {
        items,
        page,
        page_size,
        total_pages,
        total_items,
    }))
}

/// A filter value that was given must not be blank.
fn filter(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.trim().is_empty() => {
            Err(ApiError::bad_request(format!("{name} must not be empty")))
        }
        other => Ok(other),
    }
}

fn required(name: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{name} must not be empty")));
    }
    Ok(())
}

// ---- reads -------------------------------------------------------------------------------

async fn ping(State(s): St, Segments(hotel): Segments<String>) -> ApiResult<Value> {
    s.store().hotel(&hotel)?;
    Ok(Json(json!({"status": "ok", "version": "mock-1"})))
}

async fn get_guest(
    State(s): St,
    Segments((hotel, id)): Segments<(String, String)>,
) -> ApiResult<Guest> {
    let store = s.store();
    let guest = store.hotel(&hotel)?.guests.get(&id).cloned();
    guest
        .map(Json)
        .ok_or_else(|| StoreError::NotFound(format!("guest `{id}`")).into())
}

#[derive(Debug, Deserialize)]
struct GuestQuery {
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn search_guests(
    State(s): St,
    Segments(hotel): Segments<String>,
    Params(q): Params<GuestQuery>,
) -> ApiResult<ListPage<Guest>> {
    let filter = GuestFilter {
        email: filter("email", q.email)?,
        phone: filter("phone", q.phone)?,
        name: filter("name", q.name)?,
    };
    let store = s.store();
    let guests = store
        .hotel(&hotel)?
        .guests
        .values()
        .filter(|g| filter.matches(g))
        .collect();
    paginate(guests, &q.paging)
}

#[derive(Debug, Deserialize)]
struct ReservationQuery {
    arrival: Option<String>,
    departure: Option<String>,
    state: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn list_reservations(
    State(s): St,
    Segments(hotel): Segments<String>,
    Params(q): Params<ReservationQuery>,
) -> ApiResult<ListPage<super::store::Reservation>> {
    let date = |name: &str, value: Option<String>| {
        value
            .map(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| {
                    ApiError::bad_request(format!("{name} `{v}` is not a YYYY-MM-DD date"))
                })
            })
            .transpose()
    };
    let state = filter("state", q.state)?;
    if let Some(state) = state.as_deref().filter(|s| !RESERVATION_STATES.contains(s)) {
        let known = RESERVATION_STATES.join(", ");
        return Err(ApiError::bad_request(format!(
            "state `{state}` is not one of {known}"
        )));
    }
    let filter = ReservationFilter {
        arrival: date("arrival", q.arrival)?,
        departure: date("departure", q.departure)?,
        state,
    };
    let store = s.store();
    let found = store
        .hotel(&hotel)?
        .reservations
        .values()
        .filter(|r| filter.matches(r))
        .collect();
    paginate(found, &q.paging)
}

async fn get_reservation(
    State(s): St,
    Segments((hotel, confirmation)): Segments<(String, String)>,
) -> ApiResult<super::store::Reservation> {
    let store = s.store();
    Ok(Json(
        store.hotel(&hotel)?.reservation(&confirmation)?.clone(),
    ))
}

async fn folio(
    State(s): St,
    Segments((hotel, confirmation)): Segments<(String, String)>,
) -> ApiResult<Value> {
    let store = s.store();
    let hotel = store.hotel(&hotel)?;
    let postings = &hotel.reservation(&confirmation)?.postings;
    let balance = postings
        .iter()
        .try_fold(0i64, |sum, p| sum.checked_add(p.cents))
        .ok_or_else(|| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "folio balance overflows")
        })?;
    let balance = json!({"amount": format_cents(balance), "currency": hotel.currency});
    Ok(Json(json!({"balance": balance, "postings": postings})))
}

async fn list_rooms(
    State(s): St,
    Segments(hotel): Segments<String>,
    Params(paging): Params<Paging>,
) -> ApiResult<ListPage<super::store::Room>> {
    let store = s.store();
    paginate(store.hotel(&hotel)?.rooms.values().collect(), &paging)
}

async fn get_room(
    State(s): St,
    Segments((hotel, number)): Segments<(String, String)>,
) -> ApiResult<Value> {
    let store = s.store();
    let room = store.hotel(&hotel)?.rooms.get(&number);
    let room = room.ok_or_else(|| StoreError::NotFound(format!("room `{number}`")))?;
    Ok(Json(json!(room)))
}

async fn get_operation(
    State(s): St,
    Segments((hotel, op)): Segments<(String, String)>,
) -> ApiResult<Value> {
    let store = s.store();
    let operation = store.hotel(&hotel)?.operations.get(&op);
    let operation = operation.ok_or_else(|| StoreError::NotFound(format!("operation `{op}`")))?;
    Ok(Json(json!(operation)))
}

/// Echoes the request, credentials included (on purpose: tests check the host scrubs them).
async fn echo(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Value> {
    let body = body.map_err(|e| ApiError::rejected(e.status(), e.body_text()))?;
    let mut echoed: BTreeMap<&str, String> = BTreeMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        echoed
            .entry(name.as_str())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    Ok(Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or(""),
        "headers": echoed,
        "body": String::from_utf8_lossy(&body),
    })))
}

// ---- writes ------------------------------------------------------------------------------

/// Counts the write and answers `{"requestId"}`.
fn ack(s: &Shared, outcome: Result<WriteOutcome, StoreError>) -> ApiResult<Value> {
    let outcome = outcome?;
    {
        let mut stats = s.stats();
        if outcome.replayed {
            stats.stats.writes_deduplicated += 1;
        } else {
            stats.stats.writes_applied += 1;
        }
    }
    tracing::debug!(request_id = %outcome.request_id, replayed = outcome.replayed, "mock PMS write");
    Ok(Json(json!({"requestId": outcome.request_id})))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreferencesBody {
    operation_id: String,
    preferences: Vec<Preference>,
}

async fn replace_preferences(
    State(s): St,
    Segments((hotel, guest_id)): Segments<(String, String)>,
    Body(body): Body<PreferencesBody>,
) -> ApiResult<Value> {
    required("operationId", &body.operation_id)?;
    for p in &body.preferences {
        required("preference group", &p.group)?;
        required("preference code", &p.code)?;
    }
    let outcome =
        s.store()
            .replace_preferences(&hotel, &body.operation_id, &guest_id, body.preferences);
    ack(&s, outcome)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoteBody {
    operation_id: String,
    text: String,
}

async fn add_note(
    State(s): St,
    Segments((hotel, confirmation)): Segments<(String, String)>,
    Body(body): Body<NoteBody>,
) -> ApiResult<Value> {
    required("operationId", &body.operation_id)?;
    required("text", &body.text)?;
    let outcome = s
        .store()
        .add_note(&hotel, &body.operation_id, &confirmation, body.text);
    ack(&s, outcome)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutBody {
    operation_id: String,
    checkout_time: String,
}

async fn set_checkout(
    State(s): St,
    Segments((hotel, confirmation)): Segments<(String, String)>,
    Body(body): Body<CheckoutBody>,
) -> ApiResult<Value> {
    required("operationId", &body.operation_id)?;
    let time = DateTime::parse_from_rfc3339(&body.checkout_time).map_err(|e| {
        ApiError::bad_request(format!(
            "checkoutTime `{}` is not RFC 3339: {e}",
            body.checkout_time
        ))
    })?;
    let outcome = s
        .store()
        .set_checkout(&hotel, &body.operation_id, &confirmation, time);
    ack(&s, outcome)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChargeBody {
    operation_id: String,
    amount: String,
    currency: String,
    description: String,
    #[serde(default)]
    code: Option<String>,
}

async fn post_charge(
    State(s): St,
    Segments((hotel, confirmation)): Segments<(String, String)>,
    Body(body): Body<ChargeBody>,
) -> ApiResult<Value> {
    required("operationId", &body.operation_id)?;
    required("description", &body.description)?;
    let cents = parse_cents(&body.amount).map_err(ApiError::bad_request)?;
    let charge = Charge {
        cents,
        currency: body.currency,
        description: body.description,
        code: body.code,
    };
    let outcome = s
        .store()
        .post_charge(&hotel, &body.operation_id, &confirmation, charge);
    ack(&s, outcome)
}

// ---- admin -------------------------------------------------------------------------------

async fn reset_stats(State(s): St) -> Json<Value> {
    s.stats().reset();
    Json(json!({"status": "ok"}))
}

async fn get_faults(State(s): St) -> Json<Faults> {
    Json(s.faults().faults.clone())
}

async fn put_faults(State(s): St, Body(faults): Body<Faults>) -> ApiResult<Faults> {
    faults.validate().map_err(ApiError::bad_request)?;
    tracing::info!(?faults, "mock PMS faults set");
    s.faults().set(faults.clone());
    Ok(Json(faults))
}

/// What `GET`/`PUT /admin/oauth` show: never a credential.
fn oauth_summary(s: &Shared) -> Value {
    let oauth = s.oauth();
    let active_tokens = oauth.active_tokens(Instant::now());
    match oauth.config() {
        None => json!({"enabled": false, "activeTokens": active_tokens}),
        Some(config) => json!({
            "enabled": true,
            "passwordGrant": config.username.is_some() && config.password.is_some(),
            "tokenLifetimeSeconds": config.token_lifetime.as_secs(),
            "activeTokens": active_tokens,
        }),
    }
}

async fn get_oauth(State(s): St) -> Json<Value> {
    Json(oauth_summary(&s))
}

/// `PUT /admin/oauth` (development tool): sets the OAuth configuration from JSON and revokes
/// every token. Errors never quote the body, which holds secrets.
async fn put_oauth(State(s): St, headers: HeaderMap, body: Bytes) -> ApiResult<Value> {
    if !has_media_type(&headers, "application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected `Content-Type: application/json`",
        ));
    }
    let parsed: OAuthConfigBody = serde_json::from_slice(&body).map_err(|e| {
        let shown = e.to_string();
        // Syntax errors and missing/unknown field names quote no value; type errors might.
        let detail = if e.is_data()
            && !(shown.starts_with("missing field") || shown.starts_with("unknown field"))
        {
            format!(
                "a value has the wrong type at line {} column {}",
                e.line(),
                e.column()
            )
        } else {
            shown
        };
        ApiError::bad_request(format!(
            "expected {{clientId, clientSecret, appKey, username?, password?, \
             tokenLifetimeSeconds?}}: {detail}"
        ))
    })?;
    let config = parsed.into_config().map_err(ApiError::bad_request)?;
    s.set_oauth(Some(config));
    Ok(Json(oauth_summary(&s)))
}

async fn delete_oauth(State(s): St) -> Json<Value> {
    s.set_oauth(None);
    Json(oauth_summary(&s))
}

async fn revoke_all(State(s): St) -> Json<Value> {
    let revoked = s.oauth().revoke_all();
    tracing::info!(revoked, "mock PMS revoked every token");
    Json(json!({"status": "ok", "revoked": revoked}))
}

// ---- admin: front desk -------------------------------------------------------------------
//
// What front-desk and housekeeping staff do to the simulated hotel, so that tests can change
// it between syncs: book, check in or out, cancel, clean a room. No key, like every `/admin`
// route; the `/api/v1` stats and faults do not apply.

/// Body of `POST /admin/hotels/{hotel}/reservations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewReservationBody {
    /// New to the hotel.
    confirmation_number: String,
    /// An existing guest of the hotel.
    guest_id: String,
    /// `YYYY-MM-DD`.
    arrival: String,
    /// `YYYY-MM-DD`, after the arrival.
    departure: String,
    /// An existing room of the hotel.
    #[serde(default)]
    room: Option<String>,
    /// Room type code.
    #[serde(default)]
    room_type: Option<String>,
    /// Default 1.
    #[serde(default)]
    adults: Option<u32>,
    /// Default 0.
    #[serde(default)]
    children: u32,
    /// Default `RESERVED` (booked, not yet arrived).
    #[serde(default)]
    state: Option<String>,
}

/// `POST /admin/hotels/{hotel}/reservations`: books a reservation (201 with it). 404 for an
/// unknown hotel, guest or room, 409 for a confirmation number in use, 400 for bad dates or
/// state.
async fn admin_create_reservation(
    State(s): St,
    Segments(hotel): Segments<String>,
    Body(body): Body<NewReservationBody>,
) -> Result<(StatusCode, Json<super::store::Reservation>), ApiError> {
    let date = |name: &str, value: &str| {
        NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(format!("{name} `{value}` is not a YYYY-MM-DD date"))
        })
    };
    let new = NewReservation {
        arrival: date("arrival", &body.arrival)?,
        departure: date("departure", &body.departure)?,
        confirmation: body.confirmation_number,
        guest_id: body.guest_id,
        room: body.room,
        room_type: body.room_type,
        adults: body.adults.unwrap_or(1),
        children: body.children,
        state: body
            .state
            .unwrap_or_else(|| NEW_RESERVATION_STATE.to_owned()),
    };
    let created = s.store().create_reservation(&hotel, new)?;
    tracing::info!(%hotel, confirmation = %created.confirmation, state = %created.state, "mock PMS front desk: reservation created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Body of `PUT /admin/hotels/{hotel}/reservations/{confirmation}/state`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    /// One of [`RESERVATION_STATES`].
    state: String,
}

/// `PUT /admin/hotels/{hotel}/reservations/{confirmation}/state`: checks in (`IN_HOUSE`), out
/// (`CHECKED_OUT`), cancels (`CANCELLED`), …; answers the updated reservation. 404 for an
/// unknown hotel or reservation, 400 for an unknown state.
async fn admin_set_state(
    State(s): St,
    Segments((hotel, confirmation)): Segments<(String, String)>,
    Body(body): Body<StateBody>,
) -> ApiResult<super::store::Reservation> {
    let updated = s
        .store()
        .set_reservation_state(&hotel, &confirmation, &body.state)?;
    tracing::info!(%hotel, %confirmation, state = %updated.state, "mock PMS front desk: reservation state set");
    Ok(Json(updated))
}

/// Body of `PUT /admin/hotels/{hotel}/rooms/{number}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoomBody {
    /// One of [`super::seed::HOUSEKEEPING_STATES`].
    housekeeping: String,
    /// Occupancy; unchanged when absent.
    #[serde(default)]
    occupied: Option<bool>,
}

/// `PUT /admin/hotels/{hotel}/rooms/{number}`: sets the housekeeping state (and occupancy);
/// answers the room. 404 for an unknown hotel or room, 400 for an unknown state.
async fn admin_set_room(
    State(s): St,
    Segments((hotel, number)): Segments<(String, String)>,
    Body(body): Body<RoomBody>,
) -> ApiResult<super::store::Room> {
    let room = s.store().set_room(
        &hotel,
        &number,
        &body.housekeeping,
        body.occupied,
        Utc::now(),
    )?;
    tracing::info!(%hotel, room = %number, housekeeping = %room.housekeeping, "mock PMS front desk: room set");
    Ok(Json(room))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{NaiveDate, TimeDelta};
    use reqwest::StatusCode;
    use secrecy::SecretString;
    use serde_json::{Value, json};

    use crate::mock_pms::{MockPms, load_seed};

    const KEY: &str = "routes-test-key";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 6, 15).unwrap()
    }

    /// The example seed's mock PMS, served on an ephemeral loopback port until the test ends.
    async fn serve() -> String {
        let seed =
            load_seed(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mock-seed.json"))
                .unwrap();
        let pms = MockPms::new(seed, SecretString::from(KEY), today()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(pms.serve(listener, std::future::pending()));
        base
    }

    /// Sends `body` (admin routes need no key); returns status and JSON.
    async fn send(method: reqwest::Method, url: String, body: Value) -> (StatusCode, Value) {
        let r = reqwest::Client::new()
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET on the API, with the key.
    async fn api(url: String) -> Value {
        let r = reqwest::Client::new()
            .get(url)
            .header("x-api-key", KEY)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.json().await.unwrap()
    }

    #[tokio::test]
    async fn admin_books_a_reservation_the_api_then_serves() {
        let base = serve().await;
        let url = format!("{base}/admin/hotels/DEMO1/reservations");
        let arrival = today().to_string();
        let departure = (today() + TimeDelta::days(2)).to_string();
        let body = json!({"confirmationNumber": "NEW1", "guestId": "G1003",
            "arrival": arrival, "departure": departure, "room": "204"});
        let (status, created) = send(reqwest::Method::POST, url.clone(), body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["state"], "RESERVED");
        assert_eq!(created["guestName"], "Amélie Dubois");
        let listed = api(format!(
            "{base}/api/v1/hotels/DEMO1/reservations?arrival={arrival}&state=RESERVED"
        ))
        .await;
        let numbers: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["confirmation"].as_str())
            .collect();
        assert!(numbers.contains(&"NEW1"), "{numbers:?}");

        let (status, e) = send(reqwest::Method::POST, url.clone(), body.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["error"]["code"], "CONFLICT");
        let cases = [
            (
                json!({"guestId": "G9999", "confirmationNumber": "NEW2"}),
                StatusCode::NOT_FOUND,
            ),
            (
                json!({"confirmationNumber": "NEW2", "departure": arrival}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"confirmationNumber": "NEW2", "arrival": "15/06/2030"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"confirmationNumber": "NEW2", "state": "CHECKED_IN"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                json!({"confirmationNumber": "NEW2", "colour": "red"}),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (change, want) in cases {
            let mut bad = body.clone();
            for (k, v) in change.as_object().unwrap() {
                bad[k] = v.clone();
            }
            let (status, e) = send(reqwest::Method::POST, url.clone(), bad.clone()).await;
            assert_eq!(status, want, "{bad} -> {e}");
        }
        let (status, _) = send(
            reqwest::Method::POST,
            format!("{base}/admin/hotels/NOPE/reservations"),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn admin_checks_in_out_and_cancels() {
        let base = serve().await;
        let state = |n: &str| format!("{base}/admin/hotels/DEMO1/reservations/{n}/state");
        for (number, to) in [
            ("CONF1005", "IN_HOUSE"),
            ("CONF1002", "CHECKED_OUT"),
            ("CONF1006", "CANCELLED"),
        ] {
            let (status, r) = send(reqwest::Method::PUT, state(number), json!({"state": to})).await;
            assert_eq!(status, StatusCode::OK, "{r}");
            assert_eq!(r["state"], to);
            let seen = api(format!("{base}/api/v1/hotels/DEMO1/reservations/{number}")).await;
            assert_eq!(seen["state"], to);
        }
        let (status, e) = send(
            reqwest::Method::PUT,
            state("CONF1001"),
            json!({"state": "CHECKED_IN"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("IN_HOUSE"));
        let (status, _) = send(
            reqwest::Method::PUT,
            state("NOPE"),
            json!({"state": "IN_HOUSE"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = send(reqwest::Method::PUT, state("CONF1001"), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn admin_sets_housekeeping() {
        let base = serve().await;
        let room = |n: &str| format!("{base}/admin/hotels/DEMO1/rooms/{n}");
        let (status, r) = send(
            reqwest::Method::PUT,
            room("104"),
            json!({"housekeeping": "CLEAN"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(
            (r["housekeeping"].as_str(), r["occupied"].as_bool()),
            (Some("CLEAN"), Some(false))
        );
        let seen = api(format!("{base}/api/v1/hotels/DEMO1/rooms/104")).await;
        assert_eq!(seen["housekeeping"], "CLEAN");
        let (status, r) = send(
            reqwest::Method::PUT,
            room("104"),
            json!({"housekeeping": "DIRTY", "occupied": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["occupied"], true);
        for (number, body, want) in [
            (
                "104",
                json!({"housekeeping": "SPOTLESS"}),
                StatusCode::BAD_REQUEST,
            ),
            ("104", json!({"state": "CLEAN"}), StatusCode::BAD_REQUEST),
            (
                "999",
                json!({"housekeeping": "CLEAN"}),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (status, e) = send(reqwest::Method::PUT, room(number), body).await;
            assert_eq!(status, want, "{e}");
        }
    }
}
