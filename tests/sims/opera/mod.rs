//! An OHIP simulator (Oracle OPERA Cloud's REST APIs) for the opera adapter's tests: the token
//! endpoint with expiring tokens, the crm/rsv/csh/hsk endpoints the adapter uses with the
//! response shapes of Oracle's OpenAPI files (`schema_for` names the definition each answer
//! follows, and a test validates them), `hasMore`/`offset`/`limit` paging with OHIP's 1,000-record
//! ceiling, 204 for "not found", 401 for a missing, unknown or expired token, and scripted faults
//! (429 bursts, 5xx, slow and malformed answers). It records every request (headers without the
//! secrets) so that tests can assert on exactly what the adapter sent.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// OHIP's search ceiling: "TotalResults=1000 means, it returns maximum 1000 matching records".
pub const CEILING: usize = 1000;

/// A guest profile.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub id: String,
    pub given: String,
    pub surname: String,
    /// (address, primary)
    pub emails: Vec<(String, bool)>,
    /// (number, primary)
    pub phones: Vec<(String, bool)>,
    pub memberships: Vec<String>,
    pub vip: Option<String>,
    pub language: Option<String>,
    /// (group, code, description)
    pub preferences: Vec<(String, String, Option<String>)>,
}

/// A reservation comment.
#[derive(Clone, Debug)]
pub struct Comment {
    pub title: Option<String>,
    pub text: String,
    pub created: String,
}

/// A folio posting.
#[derive(Clone, Debug)]
pub struct Posting {
    pub transaction_no: u64,
    pub code: String,
    pub amount: f64,
    pub currency: String,
    pub reference: Option<String>,
    pub remark: Option<String>,
}

/// A reservation.
#[derive(Clone, Debug)]
pub struct Reservation {
    pub id: String,
    pub confirmation: String,
    pub profile_id: String,
    pub given: String,
    pub surname: String,
    /// `pMS_ResStatusType`.
    pub status: String,
    pub arrival: String,
    pub departure: String,
    pub room: Option<String>,
    pub room_type: String,
    pub adults: u32,
    pub children: u32,
    /// OHIP wall clock, `2031-03-12 11:00:00.0`.
    pub expected_departure: Option<String>,
    pub comments: Vec<Comment>,
    pub postings: Vec<Posting>,
    /// Opening balance before postings.
    pub balance: f64,
    pub currency: String,
}

impl Reservation {
    /// A reserved two-adult stay.
    pub fn new(n: usize, arrival: &str, departure: &str, profile_id: &str) -> Reservation {
        Reservation {
            id: format!("{}", 500_000 + n),
            confirmation: format!("{}", 800_000 + n),
            profile_id: profile_id.into(),
            given: format!("Guest{n}"),
            surname: format!("Family{n}"),
            status: "Reserved".into(),
            arrival: arrival.into(),
            departure: departure.into(),
            room: None,
            room_type: "STDK".into(),
            adults: 2,
            children: 0,
            expected_departure: None,
            comments: vec![],
            postings: vec![],
            balance: 0.0,
            currency: "EUR".into(),
        }
    }

    fn checked_in(&self) -> bool {
        matches!(
            self.status.as_str(),
            "InHouse" | "DueOut" | "CheckedOut" | "PendingCheckout"
        )
    }
}

/// A room on the housekeeping board.
#[derive(Clone, Debug)]
pub struct Room {
    pub id: String,
    /// `housekeepingRoomStatusType`.
    pub status: String,
    /// Vacant or Occupied.
    pub front_office: String,
}

/// A scripted answer to the next API request (token requests are not affected).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this status with an empty body.
    Status(u16),
    /// Answer this status with this body.
    Body(u16, String),
    /// Wait, then answer normally.
    Slow(Duration),
}

/// One request as the simulator saw it; `authorization` and `x-app-key` are replaced by
/// `<present>` (the secrets are not kept).
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

/// The credentials the token endpoint accepts.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub app_key: String,
    pub username: String,
    pub password: String,
}

/// Everything the simulator holds; tests lock it to seed data, script faults and read records.
pub struct SimState {
    pub hotel: String,
    pub credentials: Credentials,
    pub token_ttl: Duration,
    tokens: HashMap<String, Instant>,
    pub tokens_issued: u32,
    /// Grant types of the tokens issued, in order.
    pub grants: Vec<String>,
    /// `enterpriseId` headers seen on token requests.
    pub enterprise_ids: Vec<String>,
    /// API requests refused with 401.
    pub unauthorized: u32,
    pub profiles: Vec<Profile>,
    pub reservations: Vec<Reservation>,
    pub rooms: Vec<Room>,
    pub transaction_codes: Vec<String>,
    pub faults: VecDeque<Fault>,
    /// Scripted answers to the next writes only (reads pass): the adapter reads before it writes.
    pub write_faults: VecDeque<Fault>,
    /// Answer getReservation with the request's credential headers as a comment, as a careless
    /// PMS echoing its input would (the host must scrub them before the adapter reads them).
    pub echo_credentials: bool,
    /// Every API request (not the token requests), in order.
    pub requests: Vec<Recorded>,
    next_transaction: u64,
    next_comment: u64,
}

impl SimState {
    /// Writes (every request but GET), in order.
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests
            .iter()
            .filter(|r| r.method != "GET")
            .cloned()
            .collect()
    }

    /// Every token issued so far (for tests that look for them where they must not be).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.tokens.keys().cloned().collect()
    }

    /// Makes every token issued so far expire now (as if an hour had passed).
    pub fn expire_tokens(&mut self) {
        let now = Instant::now();
        for expiry in self.tokens.values_mut() {
            *expiry = now;
        }
    }

    pub fn reservation(&self, confirmation: &str) -> Option<&Reservation> {
        self.reservations
            .iter()
            .find(|r| r.confirmation == confirmation)
    }
}

/// A running simulator's state handle.
#[derive(Clone)]
pub struct Sim(pub Arc<Mutex<SimState>>);

impl Sim {
    /// A simulator for `hotel` accepting `credentials`, with no data.
    pub fn new(hotel: &str, credentials: Credentials) -> Sim {
        Sim(Arc::new(Mutex::new(SimState {
            hotel: hotel.into(),
            credentials,
            token_ttl: Duration::from_secs(3600),
            tokens: HashMap::new(),
            tokens_issued: 0,
            grants: vec![],
            enterprise_ids: vec![],
            unauthorized: 0,
            profiles: vec![],
            reservations: vec![],
            rooms: vec![],
            transaction_codes: vec!["2004".into(), "MINIBAR".into()],
            faults: VecDeque::new(),
            write_faults: VecDeque::new(),
            echo_credentials: false,
            requests: vec![],
            next_transaction: 1_000_001,
            next_comment: 900_001,
        })))
    }

    /// The state, locked.
    pub fn state(&self) -> MutexGuard<'_, SimState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The axum router serving OHIP.
    pub fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }
}

fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn empty(status: u16) -> Response {
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// `exceptionDetailType`.
pub fn ohip_error(status: u16, title: &str, code: &str, detail: &str) -> Response {
    json_response(
        status,
        json!({
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
            "title": title,
            "status": status,
            "detail": detail,
            "o:errorCode": code,
        }),
    )
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(
    State(sim): State<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    if path == "/oauth/v1/tokens" && method == Method::POST {
        return token(&sim, &headers, &body);
    }
    let fault = {
        let mut state = sim.state();
        let recorded = Recorded {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    let name = k.as_str().to_ascii_lowercase();
                    let value = if name == "authorization" || name == "x-app-key" {
                        "<present>".to_string()
                    } else {
                        v.to_str().unwrap_or_default().to_string()
                    };
                    (name, value)
                })
                .collect(),
            body: serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
        };
        state.requests.push(recorded);
        match state.faults.pop_front() {
            Some(fault) => Some(fault),
            None if method != Method::GET => state.write_faults.pop_front(),
            None => None,
        }
    };
    match fault {
        Some(Fault::Status(status)) => return empty(status),
        Some(Fault::Body(status, text)) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                [("content-type", "application/json")],
                text,
            )
                .into_response();
        }
        Some(Fault::Slow(wait)) => tokio::time::sleep(wait).await,
        None => {}
    }
    let mut state = sim.state();
    // OHIP checks the token and the app key (401, no body), then the hotel header (403).
    let token = header(&headers, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string));
    let token_ok = token
        .as_ref()
        .and_then(|t| state.tokens.get(t))
        .is_some_and(|expiry| Instant::now() < *expiry);
    let app_key_ok = header(&headers, "x-app-key").as_deref() == Some(&state.credentials.app_key);
    if !token_ok || !app_key_ok {
        state.unauthorized += 1;
        return empty(401);
    }
    if header(&headers, "x-hotelid").as_deref() != Some(state.hotel.as_str()) {
        return empty(403);
    }
    let pairs = query_pairs(&query);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let hotel = state.hotel.clone();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["crm", "v1", "profiles"]) => search_profiles(&state, &pairs),
        ("GET", ["crm", "v1", "profiles", id]) => match state.profiles.iter().find(|p| p.id == *id)
        {
            Some(p) => json_response(200, profile_json(p)),
            None => empty(204),
        },
        ("GET", ["crm", "v1", "profiles", id, "preferences"]) => {
            match state.profiles.iter().find(|p| p.id == *id) {
                Some(p) if !p.preferences.is_empty() => json_response(
                    200,
                    json!({
                        "preferenceCollections": preference_groups(&p.preferences),
                        "profileIdList": [{"id": p.id, "type": "Profile"}],
                    }),
                ),
                _ => empty(204),
            }
        }
        ("POST", ["crm", "v1", "profiles", id, "preferences"]) => {
            let id = id.to_string();
            post_preferences(&mut state, &id, &body)
        }
        (
            "DELETE",
            [
                "crm",
                "v1",
                "profiles",
                id,
                "preferenceType",
                group,
                "preferences",
                code,
            ],
        ) => {
            let (id, group, code) = (decode(id), decode(group), decode(code));
            match state.profiles.iter_mut().find(|p| p.id == id) {
                Some(p) => {
                    let before = p.preferences.len();
                    p.preferences
                        .retain(|(g, c, _)| !(*g == group && *c == code));
                    if p.preferences.len() == before {
                        ohip_error(
                            404,
                            "Preference not found",
                            "CRM00404",
                            "no such preference",
                        )
                    } else {
                        json_response(200, json!({}))
                    }
                }
                None => ohip_error(404, "Profile not found", "CRM00001", "no such profile"),
            }
        }
        ("GET", ["rsv", "v1", "hotels", h, "reservations"]) if *h == hotel => {
            search_reservations(&state, &pairs)
        }
        ("GET", ["rsv", "v1", "hotels", h, "reservations", id]) if *h == hotel => {
            match state.reservations.iter().find(|r| r.id == *id) {
                Some(r) => {
                    let mut r = r.clone();
                    if state.echo_credentials {
                        r.comments.push(Comment {
                            title: None,
                            text: format!(
                                "echo authorization={} x-app-key={}",
                                header(&headers, "authorization").unwrap_or_default(),
                                header(&headers, "x-app-key").unwrap_or_default()
                            ),
                            created: "2031-03-10 23:59:00.0".into(),
                        });
                    }
                    json_response(
                        200,
                        json!({"reservations": {"reservation": [reservation_json(&r, &hotel)]}}),
                    )
                }
                None => empty(204),
            }
        }
        ("PUT", ["rsv", "v1", "hotels", h, "reservations", id]) if *h == hotel => {
            let id = id.to_string();
            put_reservation(&mut state, &id, &body)
        }
        ("POST", ["csh", "v1", "hotels", h, "reservations", id, "charges"]) if *h == hotel => {
            let id = id.to_string();
            post_charges(&mut state, &id, &body)
        }
        ("GET", ["csh", "v1", "hotels", h, "reservations", id, "folios"]) if *h == hotel => {
            match state.reservations.iter().find(|r| r.id == *id) {
                Some(r) if r.checked_in() => json_response(200, folio_json(r)),
                _ => empty(204),
            }
        }
        ("GET", ["hsk", "v1", "hotels", h, "housekeepingOverview"]) if *h == hotel => {
            housekeeping(&state, &pairs)
        }
        _ => ohip_error(
            404,
            "Resource not found",
            "GEN00404",
            &format!("{method} {path} is not an OHIP operation this simulator knows"),
        ),
    }
}

fn decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn token(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut state = sim.state();
    let c = state.credentials.clone();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.client_id, c.client_secret))
    );
    if header(headers, "authorization").as_deref() != Some(basic.as_str())
        || header(headers, "x-app-key").as_deref() != Some(c.app_key.as_str())
    {
        return empty(401);
    }
    if let Some(enterprise) = header(headers, "enterpriseid") {
        state.enterprise_ids.push(enterprise);
    }
    let form = query_pairs(&String::from_utf8_lossy(body));
    let grant = first(&form, "grant_type").unwrap_or_default().to_string();
    match grant.as_str() {
        "client_credentials" => {}
        "password"
            if first(&form, "username") == Some(c.username.as_str())
                && first(&form, "password") == Some(c.password.as_str()) => {}
        "password" => return empty(401),
        _ => return empty(400),
    }
    state.tokens_issued += 1;
    let access = format!("ohip-token-{}-{:x}", state.tokens_issued, rand_u64());
    let ttl = state.token_ttl;
    state.tokens.insert(access.clone(), Instant::now() + ttl);
    state.grants.push(grant);
    json_response(
        200,
        json!({
            "access_token": access,
            "expires_in": ttl.as_secs(),
            "token_type": "Bearer",
            "oracle_tk_context": "user_assertion",
        }),
    )
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

/// OHIP's paging fields for `total` matches served from `offset` with `count` on this page.
fn paging(total: usize, offset: usize, limit: usize, count: usize) -> Value {
    let capped = total.min(CEILING);
    json!({
        "totalPages": capped.div_ceil(limit.max(1)),
        "offset": offset,
        "limit": limit,
        "hasMore": offset + count < capped,
        "totalResults": capped,
        "count": count,
    })
}

fn page_bounds(pairs: &[(String, String)], default_limit: usize) -> (usize, usize) {
    let limit = first(pairs, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(default_limit)
        .clamp(1, 200);
    let offset = first(pairs, "offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    (offset, limit)
}

fn search_profiles(state: &SimState, pairs: &[(String, String)]) -> Response {
    let matches: Vec<&Profile> = state
        .profiles
        .iter()
        .filter(|p| {
            first(pairs, "email")
                .is_none_or(|e| p.emails.iter().any(|(a, _)| a.eq_ignore_ascii_case(e)))
                && first(pairs, "phone").is_none_or(|n| p.phones.iter().any(|(x, _)| x == n))
                && first(pairs, "profileName").is_none_or(|s| p.surname.eq_ignore_ascii_case(s))
                && first(pairs, "givenName").is_none_or(|g| p.given.eq_ignore_ascii_case(g))
        })
        .collect();
    if matches.is_empty() {
        return empty(204);
    }
    let (offset, limit) = page_bounds(pairs, 20);
    let page: Vec<Value> = matches
        .iter()
        .skip(offset)
        .take(limit)
        .map(|p| {
            json!({
                "profileIdList": [{"id": p.id, "type": "Profile"}],
                "profile": {"profileType": "Guest", "statusCode": "Active"},
            })
        })
        .collect();
    let mut summaries = paging(matches.len(), offset, limit, page.len());
    summaries["profileInfo"] = Value::Array(page);
    json_response(200, json!({ "profileSummaries": summaries }))
}

fn preference_groups(prefs: &[(String, String, Option<String>)]) -> Vec<Value> {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for (group, code, description) in prefs {
        let mut entry = json!({"preferenceCode": code, "preferenceValue": code, "global": false});
        if let Some(d) = description {
            entry["description"] = json!(d);
        }
        match groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, list)) => list.push(entry),
            None => groups.push((group.clone(), vec![entry])),
        }
    }
    groups
        .into_iter()
        .map(|(g, list)| json!({"preferenceType": g, "preference": list}))
        .collect()
}

/// `profile` (getProfile 200).
pub fn profile_json(p: &Profile) -> Value {
    let mut customer = json!({
        "personName": [
            {"givenName": p.given, "surname": p.surname, "nameType": "Primary"},
            {"givenName": p.given.to_uppercase(), "surname": p.surname.to_uppercase(), "nameType": "Alternate"},
        ],
    });
    if let Some(language) = &p.language {
        customer["language"] = json!(language);
    }
    if let Some(vip) = &p.vip {
        customer["vipStatus"] = json!(vip);
    }
    json!({
        "profileIdList": [{"id": p.id, "type": "Profile"}],
        "profileDetails": {
            "customer": customer,
            "emails": {
                "emailInfo": p.emails.iter().enumerate().map(|(i, (a, primary))| json!({
                    "email": {"emailAddress": a, "type": "HOME", "primaryInd": primary, "orderSequence": i + 1},
                    "id": format!("E{i}"), "type": "Email",
                })).collect::<Vec<_>>(),
                "totalResults": p.emails.len(), "count": p.emails.len(),
            },
            "telephones": {
                "telephoneInfo": p.phones.iter().enumerate().map(|(i, (n, primary))| json!({
                    "telephone": {"phoneNumber": n, "phoneTechType": "MOBILE", "primaryInd": primary, "orderSequence": i + 1},
                    "id": format!("T{i}"), "type": "Telephone",
                })).collect::<Vec<_>>(),
                "totalResults": p.phones.len(), "count": p.phones.len(),
            },
            "profileMemberships": {
                "profileMembership": p.memberships.iter().map(|l| json!({
                    "membershipType": "OR", "membershipLevel": l, "primaryMembership": true,
                })).collect::<Vec<_>>(),
                "totalResults": p.memberships.len(), "count": p.memberships.len(),
            },
            "preferenceCollection": {"preferenceType": preference_groups(&p.preferences)},
            "profileType": "Guest",
            "statusCode": "Active",
        },
    })
}

fn post_preferences(state: &mut SimState, id: &str, body: &[u8]) -> Response {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return ohip_error(400, "Invalid request", "CRM00400", "the body is not JSON");
    };
    let Some(profile) = state.profiles.iter_mut().find(|p| p.id == id) else {
        return ohip_error(404, "Profile not found", "CRM00001", "no such profile");
    };
    let Some(groups) = doc["preferenceCollections"].as_array() else {
        return ohip_error(
            400,
            "Invalid request",
            "CRM00400",
            "preferenceCollections is required",
        );
    };
    for group in groups {
        let name = group["preferenceType"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for p in group["preference"].as_array().into_iter().flatten() {
            let code = p["preferenceCode"].as_str().unwrap_or_default().to_string();
            if name.is_empty() || code.is_empty() {
                return ohip_error(
                    400,
                    "Invalid preference",
                    "CRM00401",
                    "preferenceType and preferenceCode are required",
                );
            }
            if profile
                .preferences
                .iter()
                .any(|(g, c, _)| *g == name && *c == code)
            {
                return ohip_error(
                    409,
                    "Preference exists",
                    "CRM00409",
                    "the profile already has this preference",
                );
            }
            profile.preferences.push((
                name.clone(),
                code,
                p["description"].as_str().map(str::to_string),
            ));
        }
    }
    json_response(201, json!({}))
}

fn money(amount: f64, currency: &str) -> Value {
    json!({"amount": amount, "currencyCode": currency})
}

fn ids_json(r: &Reservation) -> Value {
    json!([
        {"id": r.id, "type": "Reservation"},
        {"id": r.confirmation, "type": "Confirmation"},
    ])
}

fn balance(r: &Reservation) -> f64 {
    r.balance + r.postings.iter().map(|p| p.amount).sum::<f64>()
}

/// `reservationInfoType` (lists).
pub fn reservation_info_json(r: &Reservation, hotel: &str) -> Value {
    let mut stay = json!({
        "arrivalDate": r.arrival,
        "departureDate": r.departure,
        "adultCount": r.adults,
        "childCount": r.children,
        "roomClass": "ALL",
        "roomType": r.room_type,
        "numberOfRooms": 1,
        "ratePlanCode": "BAR",
        "rateAmount": money(120.0, &r.currency),
        "balance": money(balance(r), &r.currency),
    });
    if let Some(room) = &r.room {
        stay["roomId"] = json!(room);
    }
    if let Some(t) = &r.expected_departure {
        stay["expectedTimes"] = json!({"reservationExpectedDepartureTime": t});
    }
    json!({
        "reservationIdList": ids_json(r),
        "roomStay": stay,
        "reservationGuest": {
            "id": r.profile_id, "type": "Profile",
            "givenName": r.given, "surname": r.surname, "nameType": "Guest",
        },
        "hotelId": hotel,
        "hotelName": "Hotel Simulated",
        "roomStayReservation": true,
        "reservationStatus": r.status,
        "computedReservationStatus": r.status,
    })
}

/// `hotelReservationType` (getReservation).
pub fn reservation_json(r: &Reservation, hotel: &str) -> Value {
    let mut stay = json!({
        "arrivalDate": r.arrival,
        "departureDate": r.departure,
        "guestCounts": {"adults": r.adults, "children": r.children},
        "currentRoomInfo": {"roomType": r.room_type},
    });
    if let Some(room) = &r.room {
        stay["currentRoomInfo"]["roomId"] = json!(room);
    }
    if let Some(t) = &r.expected_departure {
        stay["expectedTimes"] = json!({"reservationExpectedDepartureTime": t});
    }
    json!({
        "reservationIdList": ids_json(r),
        "roomStay": stay,
        "reservationGuests": [{
            "profileInfo": {
                "profileIdList": [{"id": r.profile_id, "type": "Profile"}],
                "profile": {"customer": {"personName": [
                    {"givenName": r.given, "surname": r.surname, "nameType": "Primary"}
                ]}},
            },
            "primary": true,
        }],
        "comments": r.comments.iter().enumerate().map(|(i, c)| {
            let mut comment = json!({
                "text": {"value": c.text},
                "notificationLocation": "RESERVATION",
                "type": "RESERVATION",
                "internal": false,
                "createDateTime": c.created,
                "creatorId": "JACK@SIM",
            });
            if let Some(title) = &c.title {
                comment["commentTitle"] = json!(title);
            }
            json!({"comment": comment, "id": format!("{}", 700_000 + i), "type": "Comment"})
        }).collect::<Vec<_>>(),
        "hotelId": hotel,
        "reservationStatus": r.status,
        "computedReservationStatus": r.status,
    })
}

fn search_reservations(state: &SimState, pairs: &[(String, String)]) -> Response {
    let confirmations: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "confirmationNumberList")
        .map(|(_, v)| v.as_str())
        .collect();
    let matches: Vec<&Reservation> = state
        .reservations
        .iter()
        .filter(|r| {
            (confirmations.is_empty() || confirmations.contains(&r.confirmation.as_str()))
                && first(pairs, "arrivalStartDate").is_none_or(|d| r.arrival.as_str() >= d)
                && first(pairs, "arrivalEndDate").is_none_or(|d| r.arrival.as_str() <= d)
                && first(pairs, "departureStartDate").is_none_or(|d| r.departure.as_str() >= d)
                && first(pairs, "departureEndDate").is_none_or(|d| r.departure.as_str() <= d)
                && match first(pairs, "searchType") {
                    None => true,
                    Some("InHouse") => matches!(r.status.as_str(), "InHouse" | "DueOut"),
                    Some(_) => false,
                }
        })
        .collect();
    if matches.is_empty() {
        return empty(204);
    }
    let (offset, limit) = page_bounds(pairs, 20);
    let end = (offset + limit).min(matches.len()).min(CEILING);
    let page: Vec<Value> = matches
        .get(offset.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|r| reservation_info_json(r, &state.hotel))
        .collect();
    let mut reservations = paging(matches.len(), offset, limit, page.len());
    reservations["reservationInfo"] = Value::Array(page);
    json_response(200, json!({ "reservations": reservations }))
}

fn put_reservation(state: &mut SimState, id: &str, body: &[u8]) -> Response {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return ohip_error(400, "Invalid request", "RSV00400", "the body is not JSON");
    };
    let Some(instruction) = doc["reservations"].as_array().and_then(|r| r.first()) else {
        return ohip_error(
            400,
            "Invalid request",
            "RSV00400",
            "reservations[] is required",
        );
    };
    let hotel = state.hotel.clone();
    let created = format!("2031-03-10 09:{:02}:00.0", state.next_comment % 60);
    state.next_comment += 1;
    let Some(r) = state.reservations.iter_mut().find(|r| r.id == id) else {
        return ohip_error(
            404,
            "Reservation not found",
            "RSV00001",
            "no such reservation",
        );
    };
    match &instruction["comments"] {
        Value::Null => {}
        Value::Array(comments) => {
            for c in comments {
                let Some(text) = c["comment"]["text"]["value"].as_str() else {
                    return ohip_error(
                        400,
                        "Invalid comment",
                        "RSV00402",
                        "comment.text.value is required",
                    );
                };
                r.comments.push(Comment {
                    title: c["comment"]["commentTitle"].as_str().map(str::to_string),
                    text: text.to_string(),
                    created: created.clone(),
                });
            }
        }
        // What Oracle's example sends (`{"commentInfo": [...]}`) is not what the schema says.
        _ => {
            return ohip_error(
                400,
                "Invalid request",
                "RSV00403",
                "comments must be an array of commentInfoType",
            );
        }
    }
    if let Some(t) =
        instruction["roomStay"]["expectedTimes"]["reservationExpectedDepartureTime"].as_str()
    {
        r.expected_departure = Some(t.to_string());
    }
    let answer = json!({"reservations": {"reservation": [reservation_json(r, &hotel)]}});
    json_response(200, answer)
}

fn post_charges(state: &mut SimState, id: &str, body: &[u8]) -> Response {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return ohip_error(400, "Invalid request", "CSH00400", "the body is not JSON");
    };
    let codes = state.transaction_codes.clone();
    let mut transaction = state.next_transaction;
    let Some(r) = state.reservations.iter_mut().find(|r| r.id == id) else {
        return ohip_error(
            404,
            "Reservation not found",
            "CSH00001",
            "no such reservation",
        );
    };
    if !r.checked_in() {
        return ohip_error(
            409,
            "Reservation is not checked in",
            "CSH00012",
            "charges can only be posted to a checked-in reservation",
        );
    }
    let mut postings = Vec::new();
    for c in doc["criteria"]["charges"].as_array().into_iter().flatten() {
        let code = c["transactionCode"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !codes.contains(&code) {
            return ohip_error(
                400,
                "Invalid transaction code",
                "CSH00107",
                &format!("transaction code `{code}` does not exist"),
            );
        }
        let Some(amount) = c["price"]["amount"].as_f64() else {
            return ohip_error(400, "Invalid price", "CSH00108", "price.amount is required");
        };
        let posting = Posting {
            transaction_no: transaction,
            code,
            amount,
            currency: c["price"]["currencyCode"]
                .as_str()
                .unwrap_or("EUR")
                .to_string(),
            reference: c["postingReference"].as_str().map(str::to_string),
            remark: c["postingRemark"].as_str().map(str::to_string),
        };
        transaction += 1;
        postings.push(posting_json(&posting));
        r.postings.push(posting);
    }
    state.next_transaction = transaction;
    json_response(201, json!({ "postings": postings }))
}

fn posting_json(p: &Posting) -> Value {
    let mut v = json!({
        "transactionNo": p.transaction_no,
        "transactionCode": p.code,
        "transactionType": "Revenue",
        "postedAmount": money(p.amount, &p.currency),
        "price": money(p.amount, &p.currency),
        "quantity": 1,
        "folioWindowNo": 1,
    });
    if let Some(r) = &p.reference {
        v["reference"] = json!(r);
    }
    if let Some(r) = &p.remark {
        v["remark"] = json!(r);
    }
    v
}

/// `folio` (getFolio 200).
pub fn folio_json(r: &Reservation) -> Value {
    let total = balance(r);
    json!({
        "reservationFolioInformation": {
            "reservationInfo": {
                "reservationIdList": ids_json(r),
                "revenuesAndBalances": {"balance": money(total, &r.currency)},
            },
            "folioWindows": [{
                "folioWindowNo": 1,
                "balance": money(total, &r.currency),
                "folios": [{"postings": r.postings.iter().map(posting_json).collect::<Vec<_>>()}],
            }],
        }
    })
}

fn housekeeping(state: &SimState, pairs: &[(String, String)]) -> Response {
    let from = first(pairs, "fromRoomNumber");
    let to = first(pairs, "toRoomNumber");
    let matches: Vec<&Room> = state
        .rooms
        .iter()
        .filter(|r| {
            from.is_none_or(|f| r.id.as_str() >= f) && to.is_none_or(|t| r.id.as_str() <= t)
        })
        .collect();
    if matches.is_empty() {
        return empty(204);
    }
    let (offset, limit) = page_bounds(pairs, 20);
    let page: Vec<Value> = matches
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| room_json(r))
        .collect();
    let mut info = paging(matches.len(), offset, limit, page.len());
    info["housekeepingRooms"] = json!({"room": page, "hotelId": state.hotel});
    json_response(200, json!({ "housekeepingRoomInfo": info }))
}

/// One room of `housekeepingBoard`.
pub fn room_json(r: &Room) -> Value {
    json!({
        "roomType": {"roomType": "STDK", "roomClass": "ALL", "pseudoRoom": false},
        "floor": "1",
        "roomId": r.id,
        "housekeeping": {"housekeepingRoomStatus": {
            "reservationStatusList": [if r.front_office == "Occupied" { "StayOver" } else { "NotReserved" }],
            "housekeepingRoomStatus": r.status,
            "frontOfficeStatus": r.front_office,
            "housekeepingStatus": r.front_office,
        }},
    })
}

/// The Oracle spec file and definition each simulator answer follows (for the schema test).
pub fn schema_for(path: &str, method: &str) -> Option<(&'static str, &'static str)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    Some(match (method, segments.as_slice()) {
        ("POST", ["oauth", "v1", "tokens"]) => ("oauth.json", "OAuth2TokenResponse"),
        ("GET", ["crm", "v1", "profiles"]) => ("crm-profiles.trimmed.json", "profileSummaries"),
        ("GET", ["crm", "v1", "profiles", _]) => ("crm-profiles.trimmed.json", "profile"),
        ("GET", ["crm", "v1", "profiles", _, "preferences"]) => {
            ("crm-profiles.trimmed.json", "preference")
        }
        ("POST", ["crm", "v1", "profiles", _, "preferences"]) => {
            ("crm-profiles.trimmed.json", "status")
        }
        ("GET", ["rsv", "v1", "hotels", _, "reservations"]) => {
            ("rsv-reservations.trimmed.json", "reservationsDetails")
        }
        ("GET", ["rsv", "v1", "hotels", _, "reservations", _]) => {
            ("rsv-reservations.trimmed.json", "reservation")
        }
        ("PUT", ["rsv", "v1", "hotels", _, "reservations", _]) => {
            ("rsv-reservations.trimmed.json", "changeReservationDetails")
        }
        ("POST", ["csh", "v1", "hotels", _, "reservations", _, "charges"]) => {
            ("csh-cashiering.trimmed.json", "billingChargesDetails")
        }
        ("GET", ["csh", "v1", "hotels", _, "reservations", _, "folios"]) => {
            ("csh-cashiering.trimmed.json", "folio")
        }
        ("GET", ["hsk", "v1", "hotels", _, "housekeepingOverview"]) => {
            ("hsk-housekeeping.trimmed.json", "housekeepingBoard")
        }
        _ => return None,
    })
}
