//! A small Apaleo simulator for the partner-adapter proof (`tests/partner.rs`).
//!
//! It serves the part of Apaleo's public API the example adapter (`examples/partner-adapter`)
//! uses, with Apaleo's shapes and habits:
//! - `POST /connect/token`: OAuth 2 client credentials with HTTP Basic client authentication
//!   (Apaleo's identity server answers a wrong client with 400 `invalid_client`). The real
//!   endpoint lives on identity.apaleo.com; here it shares the API's origin (see the adapter's
//!   README on why).
//! - Every API call needs a Bearer token the simulator issued (401 otherwise).
//! - `GET /booking/v1/reservations` with `propertyIds`, `status` (comma-separated),
//!   `dateFilter` + `from`/`to` (pure dates, `to` exclusive), `externalCode`, `textSearch`,
//!   `pageNumber`/`pageSize`; the answer is `{ "reservations": […], "count": total }`, and an
//!   empty result is `204 No Content`, as Apaleo does.
//! - `GET`/`PATCH /booking/v1/reservations/{id}` (PATCH takes a JSON Patch on `/comment` and
//!   `/guestComment` and answers 204).
//! - `GET /inventory/v1/properties/{id}` and `GET /inventory/v1/units` (`propertyId`,
//!   `textSearch`, paging; units carry `status.condition` and `status.maintenance`).
//!
//! The seed data is relative to today (UTC) in a property with a fixed UTC offset, so that the
//! conformance profile's `date = "today"` finds the same arrivals and departures every day.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

/// The simulated property.
pub const PROPERTY: &str = "MUC";
/// Its fixed UTC offset.
const OFFSET: &str = "+01:00";

/// A reservation, days relative to today.
#[derive(Clone, Debug)]
pub struct SimReservation {
    pub id: String,
    pub status: &'static str,
    pub arrival_day: i64,
    pub departure_day: i64,
    /// Unit name (`101`), when one is assigned.
    pub unit: Option<&'static str>,
    pub unit_group: &'static str,
    pub adults: u32,
    pub children_ages: Vec<u32>,
    pub comment: Option<String>,
    pub guest_comment: Option<String>,
    pub external_code: Option<String>,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub language: &'static str,
    /// Apaleo's balance (negative: the guest owes), in cents.
    pub balance_cents: i64,
    pub property: &'static str,
}

/// A unit.
#[derive(Clone, Debug)]
pub struct SimUnit {
    pub name: &'static str,
    pub unit_group: &'static str,
    pub condition: &'static str,
    pub occupied: bool,
    pub maintenance: Option<&'static str>,
}

/// A request the simulator received (path and query; never headers).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
}

struct Inner {
    client_id: String,
    client_secret: String,
    tokens: HashSet<String>,
    token_requests: usize,
    reservations: Vec<SimReservation>,
    units: Vec<SimUnit>,
    seen: Vec<Seen>,
    today: chrono::NaiveDate,
}

/// The simulator's shared state; clone it into tests to inspect what happened.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Mutex<Inner>>,
}

fn guest(
    id: &str,
    status: &'static str,
    (arrival_day, departure_day): (i64, i64),
    unit: Option<&'static str>,
    (first_name, last_name, email): (&'static str, &'static str, &'static str),
) -> SimReservation {
    SimReservation {
        id: id.to_string(),
        status,
        arrival_day,
        departure_day,
        unit,
        unit_group: "DBL",
        adults: 2,
        children_ages: vec![],
        comment: None,
        guest_comment: None,
        external_code: None,
        first_name,
        last_name,
        email,
        phone: "+49 89 1234567",
        language: "de",
        balance_cents: 0,
        property: PROPERTY,
    }
}

/// The seed: 9 reservations of MUC (3 arrive today, 2 leave today, 4 in house) and one of
/// another property of the same account, and 7 units.
fn seed() -> (Vec<SimReservation>, Vec<SimUnit>) {
    let mut chen = guest(
        "FHXZQNDK-1",
        "InHouse",
        (-1, 2),
        Some("101"),
        ("Sarah", "Chen", "sarah.chen@example.com"),
    );
    chen.children_ages = vec![7];
    chen.comment = Some("Late check-out requested".into());
    chen.guest_comment = Some("Feather pillows, please".into());
    chen.phone = "+31 6 12345678";
    chen.language = "en";
    chen.balance_cents = -12_050;
    let mut weber = guest(
        "LQRVTMWE-1",
        "Confirmed",
        (0, 3),
        None,
        ("Jonas", "Weber", "jonas.weber@example.com"),
    );
    weber.adults = 1;
    weber.unit_group = "SGL";
    weber.external_code = Some("BDC-448812".into());
    let haddad = guest(
        "PZNCYKHA-1",
        "Confirmed",
        (0, 1),
        Some("103"),
        ("Amira", "Haddad", "amira.haddad@example.com"),
    );
    let mut novak = guest(
        "WMTRBQJL-1",
        "InHouse",
        (0, 1),
        Some("104"),
        ("Lukas", "Novák", "lukas.novak@example.com"),
    );
    novak.balance_cents = 5_000;
    let rossi = guest(
        "GDKSVRXE-1",
        "InHouse",
        (-2, 0),
        Some("105"),
        ("Elena", "Rossi", "elena.rossi@example.com"),
    );
    let baker = guest(
        "NYBHZCQW-1",
        "CheckedOut",
        (-3, 0),
        Some("102"),
        ("Tom", "Baker", "tom.baker@example.com"),
    );
    let lopez = guest(
        "TQFJMWPR-1",
        "Canceled",
        (0, 2),
        None,
        ("María", "López", "maria.lopez@example.com"),
    );
    let mut sato = guest(
        "KVXLDNGS-1",
        "InHouse",
        (-1, 4),
        Some("201"),
        ("Kenji", "Sato", "kenji.sato@example.com"),
    );
    sato.unit_group = "STE";
    let no_show = guest(
        "BRMXQZTA-1",
        "NoShow",
        (0, 2),
        None,
        ("Paul", "Meyer", "paul.meyer@example.com"),
    );
    let mut elsewhere = guest(
        "ZZBERLIN-1",
        "InHouse",
        (0, 2),
        None,
        ("Sarah", "Chen", "sarah.chen@example.com"),
    );
    elsewhere.property = "BER";
    let unit = |name, unit_group, condition, occupied, maintenance| SimUnit {
        name,
        unit_group,
        condition,
        occupied,
        maintenance,
    };
    (
        vec![
            chen, weber, haddad, novak, rossi, baker, lopez, sato, no_show, elsewhere,
        ],
        vec![
            unit("101", "DBL", "Clean", true, None),
            unit("102", "DBL", "Dirty", false, None),
            unit("103", "DBL", "CleanToBeInspected", false, None),
            unit("104", "DBL", "Clean", true, None),
            unit("105", "DBL", "Dirty", true, None),
            unit("201", "STE", "Clean", true, None),
            unit("202", "STE", "Dirty", false, Some("OutOfOrder")),
        ],
    )
}

impl Sim {
    /// A simulator accepting the client `client_id` / `client_secret`.
    pub fn new(client_id: &str, client_secret: &str) -> Sim {
        let (reservations, units) = seed();
        Sim {
            inner: Arc::new(Mutex::new(Inner {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                tokens: HashSet::new(),
                token_requests: 0,
                reservations,
                units,
                seen: Vec::new(),
                today: chrono::Utc::now().date_naive(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The router (serve it with `support::tls::serve_https`).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/connect/token", post(token))
            .route("/inventory/v1/properties/{id}", get(property))
            .route("/inventory/v1/units", get(units))
            .route("/booking/v1/reservations", get(reservations))
            .route(
                "/booking/v1/reservations/{id}",
                get(reservation).patch(patch_reservation),
            )
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(self.clone())
    }

    /// The current comment of reservation `id`.
    pub fn comment(&self, id: &str) -> Option<String> {
        self.lock()
            .reservations
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.comment.clone())
    }

    /// Token requests received (good or bad).
    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }

    /// API requests received so far (token requests excluded).
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Sets a unit's condition (a housekeeper at work).
    pub fn set_condition(&self, unit: &str, condition: &'static str) {
        if let Some(u) = self.lock().units.iter_mut().find(|u| u.name == unit) {
            u.condition = condition;
        }
    }
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "messages": [message] }))).into_response()
}

fn pairs(query: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Checks the Bearer token and records the request; `Some` is the 401 to answer.
fn unauthorized(
    sim: &Sim,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<Response> {
    let mut inner = sim.lock();
    inner.seen.push(Seen {
        method: method.into(),
        path: path.into(),
        query: query.to_vec(),
    });
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(t) if inner.tokens.contains(t) => None,
        _ => Some(
            (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer error=\"invalid_token\"")],
            )
                .into_response(),
        ),
    }
}

async fn token(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = sim.lock();
    inner.token_requests += 1;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    if param(&form, "grant_type") != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "unsupported_grant_type" })),
        )
            .into_response();
    }
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let expected = format!("{}:{}", inner.client_id, inner.client_secret);
    if basic.as_deref() != Some(expected.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let token = format!("apaleo-sim-token-{}", inner.token_requests);
    inner.tokens.insert(token.clone());
    axum::Json(json!({
        "access_token": token,
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": "reservations.read reservations.manage setup.read",
    }))
    .into_response()
}

async fn property(State(sim): State<Sim>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = unauthorized(
        &sim,
        &headers,
        "GET",
        &format!("/inventory/v1/properties/{id}"),
        &[],
    ) {
        return r;
    }
    if id != PROPERTY {
        return problem(StatusCode::NOT_FOUND, "property not found");
    }
    axum::Json(json!({
        "id": PROPERTY,
        "code": PROPERTY,
        "name": "Jack Test Hotel Munich",
        "description": "Simulated property",
        "companyName": "Jack Test Hotels GmbH",
        "timeZone": "Europe/Berlin",
        "currencyCode": "EUR",
        "location": { "addressLine1": "Marienplatz 1", "postalCode": "80331", "city": "München", "countryCode": "DE" },
        "created": "2020-01-01T00:00:00+01:00",
        "status": "Live",
        "isArchived": false,
    }))
    .into_response()
}

fn unit_group(code: &str) -> Value {
    let name = match code {
        "SGL" => "Single",
        "STE" => "Suite",
        _ => "Double",
    };
    json!({ "id": format!("{PROPERTY}-{code}"), "code": code, "name": name, "description": name, "type": "BedRoom" })
}

fn unit_json(u: &SimUnit) -> Value {
    let mut status = json!({ "isOccupied": u.occupied, "condition": u.condition });
    if let Some(kind) = u.maintenance {
        status["maintenance"] = json!({ "id": format!("MNT-{}", u.name), "type": kind });
    }
    json!({
        "id": format!("{PROPERTY}-{}", u.name),
        "name": u.name,
        "description": format!("Room {}", u.name),
        "property": { "id": PROPERTY, "code": PROPERTY, "name": "Jack Test Hotel Munich" },
        "unitGroup": unit_group(u.unit_group),
        "status": status,
        "maxPersons": 2,
        "created": "2020-01-01T00:00:00+01:00",
    })
}

/// `pageNumber`/`pageSize` (both optional; Apaleo's maximum page size is 1000) as (skip,
/// take); `Err` is the 400 message.
fn page(query: &[(String, String)], total: usize) -> Result<(usize, usize), &'static str> {
    let number = match param(query, "pageNumber") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err("pageNumber must be at least 1");
            }
        },
    };
    let size = match param(query, "pageSize") {
        None => total.max(1),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err("pageSize must be between 1 and 1000");
            }
        },
    };
    Ok(((number - 1).saturating_mul(size), size))
}

async fn units(State(sim): State<Sim>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let query = pairs(q);
    if let Some(r) = unauthorized(&sim, &headers, "GET", "/inventory/v1/units", &query) {
        return r;
    }
    let inner = sim.lock();
    let text = param(&query, "textSearch").map(str::to_lowercase);
    let matching: Vec<&SimUnit> = inner
        .units
        .iter()
        .filter(|_| param(&query, "propertyId").is_none_or(|p| p == PROPERTY))
        .filter(|u| {
            text.as_deref()
                .is_none_or(|t| u.name.to_lowercase().contains(t))
        })
        .collect();
    let (skip, size) = match page(&query, matching.len()) {
        Ok(p) => p,
        Err(m) => return problem(StatusCode::BAD_REQUEST, m),
    };
    let items: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(size)
        .map(|u| unit_json(u))
        .collect();
    if items.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    axum::Json(json!({ "units": items, "count": matching.len() })).into_response()
}

fn day(today: chrono::NaiveDate, offset: i64) -> chrono::NaiveDate {
    today + chrono::Duration::days(offset)
}

fn reservation_json(r: &SimReservation, inner: &Inner) -> Value {
    let arrival = day(inner.today, r.arrival_day);
    let departure = day(inner.today, r.departure_day);
    let nights = (r.departure_day - r.arrival_day).max(1);
    let mut v = json!({
        "id": r.id,
        "bookingId": r.id.split('-').next().unwrap_or_default(),
        "status": r.status,
        "arrival": format!("{arrival}T15:00:00{OFFSET}"),
        "departure": format!("{departure}T11:00:00{OFFSET}"),
        "created": format!("{}T09:12:44{OFFSET}", day(inner.today, r.arrival_day - 30)),
        "modified": format!("{}T09:12:44{OFFSET}", day(inner.today, r.arrival_day - 30)),
        "property": { "id": r.property, "code": r.property, "name": "Jack Test Hotel", "description": "Simulated property" },
        "ratePlan": { "id": format!("{}-FLEX-{}", r.property, r.unit_group), "code": "FLEX", "name": "Flexible", "description": "Flexible", "isSubjectToCityTax": false },
        "unitGroup": unit_group(r.unit_group),
        "totalGrossAmount": { "amount": 120.0 * nights as f64, "currency": "EUR" },
        "adults": r.adults,
        "childrenAges": r.children_ages,
        "channelCode": if r.external_code.is_some() { "BookingCom" } else { "Direct" },
        "source": "Jack simulator",
        "primaryGuest": {
            "firstName": r.first_name,
            "lastName": r.last_name,
            "email": r.email,
            "phone": r.phone,
            "address": { "addressLine1": "Musterstraße 1", "postalCode": "10115", "city": "Berlin", "countryCode": "DE" },
            "preferredLanguage": r.language,
        },
        "guaranteeType": "CreditCard",
        "balance": { "amount": r.balance_cents as f64 / 100.0, "currency": "EUR" },
        "hasCityTax": false,
        "isOpenForCharges": matches!(r.status, "Confirmed" | "InHouse"),
        "allFoliosHaveInvoice": false,
        "isPreCheckedIn": false,
        "isUnitAssignmentLocked": false,
        "timeSlices": [],
        "actions": [],
    });
    if let Some(name) = r.unit {
        let group = inner
            .units
            .iter()
            .find(|u| u.name == name)
            .map_or(r.unit_group, |u| u.unit_group);
        v["unit"] = json!({
            "id": format!("{}-{name}", r.property),
            "name": name,
            "description": format!("Room {name}"),
            "unitGroupId": format!("{}-{group}", r.property),
        });
    }
    for (key, value) in [
        ("comment", &r.comment),
        ("guestComment", &r.guest_comment),
        ("externalCode", &r.external_code),
    ] {
        if let Some(text) = value {
            v[key] = json!(text);
        }
    }
    if matches!(r.status, "InHouse" | "CheckedOut") {
        v["checkInTime"] = json!(format!("{arrival}T15:42:10{OFFSET}"));
    }
    if r.status == "CheckedOut" {
        v["checkOutTime"] = json!(format!("{departure}T10:05:31{OFFSET}"));
    }
    if r.status == "Canceled" {
        v["cancellationTime"] = json!(format!("{}T08:00:00{OFFSET}", day(inner.today, -5)));
    }
    if r.status == "NoShow" {
        v["noShowTime"] = json!(format!("{}T23:59:00{OFFSET}", arrival));
    }
    v
}

/// The date part of a `from`/`to` value (a pure date, or a date-time whose date is used).
fn filter_date(value: &str) -> Option<chrono::NaiveDate> {
    value.get(..10)?.parse().ok()
}

async fn reservations(
    State(sim): State<Sim>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = pairs(q);
    if let Some(r) = unauthorized(&sim, &headers, "GET", "/booking/v1/reservations", &query) {
        return r;
    }
    let inner = sim.lock();
    let list = |key: &str| -> Option<Vec<String>> {
        let values: Vec<String> = query
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect();
        (!values.is_empty()).then_some(values)
    };
    let properties = list("propertyIds");
    let statuses = list("status");
    if let Some(bad) = statuses.iter().flatten().find(|s| {
        !["Confirmed", "InHouse", "CheckedOut", "Canceled", "NoShow"].contains(&s.as_str())
    }) {
        return problem(StatusCode::BAD_REQUEST, &format!("unknown status `{bad}`"));
    }
    let date_filter = param(&query, "dateFilter");
    let (from, to) = (param(&query, "from"), param(&query, "to"));
    let range = match (date_filter, from, to) {
        (None, None, None) => None,
        (Some(f @ ("Arrival" | "Departure" | "Stay")), from, to)
            if from.is_some() || to.is_some() =>
        {
            let parse = |v: Option<&str>| match v {
                None => Ok(None),
                Some(v) => filter_date(v).map(Some).ok_or(()),
            };
            match (parse(from), parse(to)) {
                (Ok(from), Ok(to)) => Some((f, from, to)),
                _ => {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        "from and to must be ISO 8601 dates",
                    );
                }
            }
        }
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "dateFilter must be Arrival, Departure or Stay, with at least one of from and to",
            );
        }
    };
    let text = param(&query, "textSearch").map(str::to_lowercase);
    let external = param(&query, "externalCode");
    let today = inner.today;
    let matching: Vec<&SimReservation> = inner
        .reservations
        .iter()
        .filter(|r| {
            properties
                .as_ref()
                .is_none_or(|p| p.iter().any(|p| p == r.property))
        })
        .filter(|r| {
            statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == r.status))
        })
        .filter(|r| external.is_none_or(|e| r.external_code.as_deref() == Some(e)))
        .filter(|r| {
            text.as_deref().is_none_or(|t| {
                [r.first_name, r.last_name, r.email]
                    .iter()
                    .any(|f| f.to_lowercase().contains(t))
            })
        })
        .filter(|r| {
            let Some((filter, from, to)) = range else {
                return true;
            };
            let (start, end) = (day(today, r.arrival_day), day(today, r.departure_day));
            let inside =
                |d: chrono::NaiveDate| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d < t);
            match filter {
                "Arrival" => inside(start),
                "Departure" => inside(end),
                _ => from.is_none_or(|f| end > f) && to.is_none_or(|t| start < t),
            }
        })
        .collect();
    let (skip, size) = match page(&query, matching.len()) {
        Ok(p) => p,
        Err(m) => return problem(StatusCode::BAD_REQUEST, m),
    };
    let items: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(size)
        .map(|r| reservation_json(r, &inner))
        .collect();
    if items.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    axum::Json(json!({ "reservations": items, "count": matching.len() })).into_response()
}

async fn reservation(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = unauthorized(
        &sim,
        &headers,
        "GET",
        &format!("/booking/v1/reservations/{id}"),
        &[],
    ) {
        return r;
    }
    let inner = sim.lock();
    match inner.reservations.iter().find(|r| r.id == id) {
        Some(r) => axum::Json(reservation_json(r, &inner)).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            &format!("reservation {id} not found"),
        ),
    }
}

async fn patch_reservation(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(r) = unauthorized(
        &sim,
        &headers,
        "PATCH",
        &format!("/booking/v1/reservations/{id}"),
        &[],
    ) {
        return r;
    }
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON Patch array",
        );
    };
    let mut inner = sim.lock();
    let Some(r) = inner.reservations.iter_mut().find(|r| r.id == id) else {
        return problem(
            StatusCode::NOT_FOUND,
            &format!("reservation {id} not found"),
        );
    };
    // Validate every operation before applying any (a patch applies whole or not at all).
    let mut changes = Vec::new();
    for op in &ops {
        let (Some(kind), Some(path)) = (op["op"].as_str(), op["path"].as_str()) else {
            return problem(StatusCode::BAD_REQUEST, "each operation needs op and path");
        };
        if !matches!(path, "/comment" | "/guestComment") {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("path {path} cannot be patched by this simulator"),
            );
        }
        let value = match kind {
            "replace" | "add" => match op["value"].as_str() {
                Some(v) => Some(v.to_string()),
                None => return problem(StatusCode::BAD_REQUEST, "value must be a string"),
            },
            "remove" => None,
            other => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    &format!("op {other} is not supported"),
                );
            }
        };
        changes.push((path, value));
    }
    for (path, value) in changes {
        match path {
            "/comment" => r.comment = value,
            _ => r.guest_comment = value,
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
