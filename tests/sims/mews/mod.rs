//! A Mews Connector API simulator for the end-to-end tests: an axum [`Router`] over shared
//! [`Sim`] state, served over HTTPS by `support::tls::serve_https`.
//!
//! What it does as Mews documents it (vendor-api NOTES §2): POST only
//! (`/api/connector/v1/<resource>/<action>`); `ClientToken`, `AccessToken` and `Client` in every
//! body (401 with `Message` and `RequestId` otherwise); `Limitation`/`Cursor` pagination (the
//! cursor is the last item's id, `null` when the page is empty); a sliding window of 200 requests
//! per `AccessToken` per 30 s with 429 and `Retry-After` (window configurable for tests); 408 when
//! a query asks for more than an operation's heavy-query threshold; strict JSON (400). Answers
//! are built from Mews' documented examples (`vendor-api/mews/examples/*.json`) with the fields
//! the scenario sets. Every received body is recorded, tokens included, and faults (a status and
//! a raw body, malformed or not) can be queued per operation.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Mews' public demo tokens ("Gross pricing" environment of the docs): fixtures only.
pub const CLIENT_TOKEN: &str = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D";
/// See [`CLIENT_TOKEN`].
pub const ACCESS_TOKEN: &str = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D";
/// The accommodation service of the simulated enterprise (from the documented examples).
pub const SERVICE_ID: &str = "bd26d8db-86da-4f96-9efc-e5a4654a4a94";

pub const EXAMPLES: &str = "tests/vendor-api/mews/examples";

/// The first item of list `field` in documented example `file` (a response), as a template.
fn template(file: &str, field: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(EXAMPLES)
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read Mews example {}: {e}", path.display()));
    let value: Value = serde_json::from_str(&text).expect("example JSON");
    value[field][0].clone()
}

fn set(target: &mut Value, fields: Value) {
    if let (Some(t), Value::Object(f)) = (target.as_object_mut(), fields) {
        t.extend(f);
    }
}

/// One request the simulator received.
#[derive(Clone, Debug)]
pub struct Received {
    /// `<resource>/<action>` (e.g. `reservations/getAll/2023-06-06`).
    pub operation: String,
    /// The body as received (tokens included), or `Null` when not JSON.
    pub body: Value,
    /// The status answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

/// A queued answer for the next request to one operation.
#[derive(Clone, Debug)]
pub struct Fault {
    /// HTTP status.
    pub status: u16,
    /// Raw body (may be malformed JSON on purpose).
    pub body: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Carry the operation out first, then answer with the fault (a lost answer).
    pub apply: bool,
}

impl Fault {
    /// `status` with `body`, nothing applied.
    pub fn new(status: u16, body: &str) -> Fault {
        Fault {
            status,
            body: body.to_string(),
            headers: Vec::new(),
            apply: false,
        }
    }
}

#[derive(Default)]
struct Data {
    customers: Vec<Value>,
    reservations: Vec<Value>,
    resources: Vec<Value>,
    notes: Vec<Value>,
    order_items: Vec<Value>,
    payments: Vec<Value>,
    orders: Vec<Value>,
}

struct Inner {
    data: Data,
    received: Vec<Received>,
    window: (usize, Duration),
    hits: HashMap<String, VecDeque<Instant>>,
    heavy: HashMap<String, u32>,
    faults: HashMap<String, VecDeque<Fault>>,
    next_id: u64,
}

/// The simulator's state, shared by the router and the test.
pub struct Sim {
    inner: Mutex<Inner>,
}

/// A reservation to seed (times in UTC, RFC 3339).
pub struct Booking<'a> {
    /// Id.
    pub id: &'a str,
    /// Confirmation number.
    pub number: &'a str,
    /// Service order state.
    pub state: &'a str,
    /// Owner customer id.
    pub account: &'a str,
    /// Scheduled start.
    pub start: &'a str,
    /// Scheduled end.
    pub end: &'a str,
    /// Assigned resource id.
    pub room: Option<&'a str>,
}

impl Sim {
    /// An empty enterprise with Mews' documented limits: 200 requests per 30 s per access token,
    /// and 408 above 1000 items per page.
    pub fn new() -> Arc<Sim> {
        Arc::new(Sim {
            inner: Mutex::new(Inner {
                data: Data::default(),
                received: Vec::new(),
                window: (200, Duration::from_secs(30)),
                hits: HashMap::new(),
                heavy: HashMap::new(),
                faults: HashMap::new(),
                next_id: 1,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The router: `POST /api/connector/v1/{*operation}`.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/api/connector/v1/{*operation}", post(handle))
            .with_state(self.clone())
    }

    /// The rate window: at most `limit` requests per access token in any `per`.
    pub fn set_window(&self, limit: usize, per: Duration) {
        self.lock().window = (limit, per);
    }

    /// Answers 408 when a page of `operation` asks for more than `count` items.
    pub fn set_heavy_threshold(&self, operation: &str, count: u32) {
        self.lock().heavy.insert(operation.to_string(), count);
    }

    /// Queues `fault` as the next answer to `operation` (after the token and rate checks).
    pub fn inject(&self, operation: &str, fault: Fault) {
        self.lock()
            .faults
            .entry(operation.to_string())
            .or_default()
            .push_back(fault);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// What `operation` received so far.
    pub fn received_for(&self, operation: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.operation == operation)
            .collect()
    }

    /// Forgets what was received.
    pub fn clear_received(&self) {
        self.lock().received.clear();
    }

    /// Adds a customer (documented shape).
    pub fn add_customer(&self, id: &str, first: &str, last: &str, email: &str) {
        let mut c = template("customers-getAll.response.json", "Customers");
        set(
            &mut c,
            json!({"Id": id, "FirstName": first, "LastName": last, "Email": email,
                   "Classifications": ["Returning"], "DietaryRequirements": null,
                   "PreferredSpaceFeatures": ["OceanView"]}),
        );
        self.lock().data.customers.push(c);
    }

    /// Adds a room (a `Space` resource).
    pub fn add_room(&self, id: &str, name: &str, state: &str) {
        let mut r = template("resources-getAll.response.json", "Resources");
        set(
            &mut r,
            json!({"Id": id, "Name": name, "State": state, "IsActive": true}),
        );
        self.lock().data.resources.push(r);
    }

    /// Adds a reservation of the accommodation service.
    pub fn add_reservation(&self, b: Booking<'_>) {
        let mut r = template(
            "reservations-getAll-2023-06-06.response.json",
            "Reservations",
        );
        set(
            &mut r,
            json!({"Id": b.id, "Number": b.number, "State": b.state, "AccountId": b.account,
                   "ServiceId": SERVICE_ID, "ScheduledStartUtc": b.start, "StartUtc": b.start,
                   "ScheduledEndUtc": b.end, "EndUtc": b.end, "AssignedResourceId": b.room,
                   "ActualStartUtc": null, "ActualEndUtc": null}),
        );
        self.lock().data.reservations.push(r);
    }

    /// Adds an order item on `account` (open, gross value `amount`).
    pub fn add_order_item(&self, id: &str, account: &str, reservation: &str, amount: f64) {
        let mut i = template("orderItems-getAll.response.json", "OrderItems");
        set(
            &mut i,
            json!({"Id": id, "AccountId": account, "ServiceOrderId": reservation,
                   "AccountingState": "Open",
                   "Amount": {"Currency": "EUR", "NetValue": amount, "GrossValue": amount,
                              "TaxValues": [], "Breakdown": {"Items": []}}}),
        );
        self.lock().data.order_items.push(i);
    }

    /// Adds a payment by `account` towards `reservation` (none: a payment on the account alone);
    /// `amount` is negative, as Mews sends payments.
    pub fn add_payment(
        &self,
        id: &str,
        account: &str,
        reservation: Option<&str>,
        amount: f64,
        accounting_state: &str,
    ) {
        let mut p = template("payments-getAll.response.json", "Payments");
        set(
            &mut p,
            json!({"Id": id, "AccountId": account, "AccountingState": accounting_state,
                   "ReservationId": reservation,
                   "Amount": {"Currency": "EUR", "NetValue": amount, "GrossValue": amount,
                              "TaxValues": [], "Breakdown": {"Items": []}}}),
        );
        self.lock().data.payments.push(p);
    }

    /// A stored reservation by confirmation number.
    pub fn reservation(&self, number: &str) -> Option<Value> {
        self.lock()
            .data
            .reservations
            .iter()
            .find(|r| r["Number"] == number)
            .cloned()
    }

    /// A stored customer.
    pub fn customer(&self, id: &str) -> Option<Value> {
        self.lock()
            .data
            .customers
            .iter()
            .find(|c| c["Id"] == id)
            .cloned()
    }

    /// Every stored note.
    pub fn notes(&self) -> Vec<Value> {
        self.lock().data.notes.clone()
    }

    /// Every stored order item.
    pub fn order_items(&self) -> Vec<Value> {
        self.lock().data.order_items.clone()
    }

    /// Sets a resource's state (front desk / housekeeping at Mews).
    pub fn set_room_state(&self, name: &str, state: &str) {
        for r in self.lock().data.resources.iter_mut() {
            if r["Name"] == name {
                r["State"] = json!(state);
            }
        }
    }
}

fn answer(status: u16, body: Value, request_id: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [
            ("content-type", "application/json"),
            ("request-id", request_id),
        ],
        body.to_string(),
    )
        .into_response()
}

fn error(status: u16, message: &str, request_id: &str) -> Response {
    answer(
        status,
        json!({"Message": message, "RequestId": request_id}),
        request_id,
    )
}

async fn handle(
    State(sim): State<Arc<Sim>>,
    Path(operation): Path<String>,
    body: Bytes,
) -> Response {
    let mut inner = sim.lock();
    let request_id = format!("sim-req-{}", inner.next_id);
    inner.next_id += 1;
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let (status, response) = inner.dispatch(&operation, parsed.as_ref(), &request_id);
    inner.received.push(Received {
        operation,
        body: parsed.unwrap_or(Value::Null),
        status,
        at: Instant::now(),
    });
    response
}

/// Items of `all` matching `keep`, paginated by `Limitation`.
type Answer = (u16, Response);

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

fn in_list(filter: &Value, value: &Value) -> bool {
    match strings(filter) {
        Some(list) => value.as_str().is_some_and(|v| list.iter().any(|l| l == v)),
        None => true,
    }
}

fn instant(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// Whether `value` lies in the half-open interval `{StartUtc, EndUtc}` (no filter: true).
fn in_interval(interval: &Value, value: &Value) -> Result<bool, String> {
    if interval.is_null() {
        return Ok(true);
    }
    let (Some(start), Some(end)) = (instant(&interval["StartUtc"]), instant(&interval["EndUtc"]))
    else {
        return Err("Invalid time interval.".into());
    };
    if end - start > chrono::Duration::days(93) {
        return Err("Time interval exceeds the maximum length of 3 months.".into());
    }
    Ok(instant(value).is_some_and(|v| (start <= v && v < end) || (start == end && v == start)))
}

impl Inner {
    fn next(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012}", self.next_id)
    }

    fn dispatch(&mut self, operation: &str, body: Option<&Value>, rid: &str) -> Answer {
        let Some(body) = body.filter(|b| b.is_object()) else {
            return (400, error(400, "Invalid JSON.", rid));
        };
        let client = body["ClientToken"].as_str();
        let access = body["AccessToken"].as_str();
        if client != Some(CLIENT_TOKEN)
            || access != Some(ACCESS_TOKEN)
            || body["Client"].as_str().is_none_or(str::is_empty)
        {
            return (
                401,
                error(401, "Invalid ClientToken, AccessToken or Client.", rid),
            );
        }
        // Sliding window per access token, anchored to the requests themselves.
        let (limit, per) = self.window;
        let now = Instant::now();
        let hits = self.hits.entry(ACCESS_TOKEN.to_string()).or_default();
        while hits.front().is_some_and(|t| now.duration_since(*t) >= per) {
            hits.pop_front();
        }
        if hits.len() >= limit {
            let oldest = hits.front().copied().unwrap_or(now);
            let wait = per.saturating_sub(now.duration_since(oldest));
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut r = error(429, "Too many requests.", rid);
            r.headers_mut().insert(
                "retry-after",
                secs.max(1).to_string().parse().expect("header value"),
            );
            return (429, r);
        }
        hits.push_back(now);
        if let Some(fault) = self.faults.get_mut(operation).and_then(VecDeque::pop_front) {
            if fault.apply {
                let _ = self.operation(operation, body, rid);
            }
            let mut r = (
                StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                fault.body,
            )
                .into_response();
            for (k, v) in fault.headers {
                if let (Ok(k), Ok(v)) = (
                    axum::http::HeaderName::from_bytes(k.as_bytes()),
                    v.parse::<axum::http::HeaderValue>(),
                ) {
                    r.headers_mut().insert(k, v);
                }
            }
            return (fault.status, r);
        }
        match self.operation(operation, body, rid) {
            Ok(v) => (200, answer(200, v, rid)),
            Err((status, message)) => (status, error(status, &message, rid)),
        }
    }

    fn page(
        &self,
        operation: &str,
        body: &Value,
        items: Vec<Value>,
    ) -> Result<(Vec<Value>, Value), (u16, String)> {
        let count = body["Limitation"]["Count"]
            .as_u64()
            .filter(|c| (1..=1000).contains(c))
            .ok_or((400, "Invalid Limitation.".to_string()))?;
        if self
            .heavy
            .get(operation)
            .is_some_and(|max| count > u64::from(*max))
        {
            return Err((
                408,
                "The request timed out; use a smaller Limitation.".into(),
            ));
        }
        let start = match body["Limitation"]["Cursor"].as_str() {
            Some(cursor) => {
                items
                    .iter()
                    .position(|i| i["Id"] == cursor)
                    .ok_or((400, "Invalid Cursor.".to_string()))?
                    + 1
            }
            None => 0,
        };
        let page: Vec<Value> = items.into_iter().skip(start).take(count as usize).collect();
        let cursor = page.last().map(|i| i["Id"].clone()).unwrap_or(Value::Null);
        Ok((page, cursor))
    }

    fn operation(&mut self, operation: &str, b: &Value, rid: &str) -> Result<Value, (u16, String)> {
        let bad = |m: &str| (400u16, m.to_string());
        match operation {
            "customers/getAll" => {
                if !b["Extent"].is_object() {
                    return Err(bad("Invalid Extent."));
                }
                let emails = strings(&b["Emails"])
                    .map(|l| l.into_iter().map(|e| e.to_lowercase()).collect::<Vec<_>>());
                let items = self
                    .data
                    .customers
                    .iter()
                    .filter(|c| in_list(&b["CustomerIds"], &c["Id"]))
                    .filter(|c| in_list(&b["FirstNames"], &c["FirstName"]))
                    .filter(|c| in_list(&b["LastNames"], &c["LastName"]))
                    .filter(|c| {
                        emails.as_ref().is_none_or(|l| {
                            c["Email"]
                                .as_str()
                                .is_some_and(|e| l.contains(&e.to_lowercase()))
                        })
                    })
                    .cloned()
                    .collect();
                let (page, cursor) = self.page(operation, b, items)?;
                Ok(json!({"Customers": page, "Documents": null, "Cursor": cursor}))
            }
            "customers/update" => {
                let id = b["CustomerId"].as_str().ok_or(bad("Invalid CustomerId."))?;
                let c = self
                    .data
                    .customers
                    .iter_mut()
                    .find(|c| c["Id"] == id)
                    .ok_or(bad("Invalid CustomerId."))?;
                for field in ["Classifications", "DietaryRequirements", "Notes", "Options"] {
                    if !b[field].is_null() {
                        c[field] = b[field].clone();
                    }
                }
                Ok(c.clone())
            }
            "reservations/getAll/2023-06-06" => {
                let mut items = Vec::new();
                for r in &self.data.reservations {
                    let colliding = if b["CollidingUtc"].is_null() {
                        true
                    } else {
                        let (Some(s), Some(e)) = (
                            instant(&b["CollidingUtc"]["StartUtc"]),
                            instant(&b["CollidingUtc"]["EndUtc"]),
                        ) else {
                            return Err(bad("Invalid CollidingUtc."));
                        };
                        instant(&r["StartUtc"]).is_some_and(|rs| rs < e)
                            && instant(&r["EndUtc"]).is_some_and(|re| re > s)
                    };
                    if in_list(&b["ServiceIds"], &r["ServiceId"])
                        && in_list(&b["Numbers"], &r["Number"])
                        && in_list(&b["ReservationIds"], &r["Id"])
                        && in_list(&b["AccountIds"], &r["AccountId"])
                        && in_list(&b["States"], &r["State"])
                        && in_interval(&b["ScheduledStartUtc"], &r["ScheduledStartUtc"])
                            .map_err(|m| bad(&m))?
                        && in_interval(&b["ScheduledEndUtc"], &r["ScheduledEndUtc"])
                            .map_err(|m| bad(&m))?
                        && colliding
                    {
                        items.push(r.clone());
                    }
                }
                let (page, cursor) = self.page(operation, b, items)?;
                Ok(json!({"Reservations": page, "Cursor": cursor}))
            }
            "reservations/updateInterval" => {
                let id = b["ReservationId"]
                    .as_str()
                    .ok_or(bad("Invalid ReservationId."))?;
                if !b["ChargeCancellationFee"].is_boolean() {
                    return Err(bad("Invalid ChargeCancellationFee."));
                }
                let end = b["EndUtc"].clone();
                if !end.is_null() && instant(&end).is_none() {
                    return Err(bad("Invalid EndUtc."));
                }
                let r = self
                    .data
                    .reservations
                    .iter_mut()
                    .find(|r| r["Id"] == id)
                    .ok_or(bad("Invalid ReservationId."))?;
                if r["State"] == "Processed" || r["State"] == "Canceled" {
                    return Err((403, "The reservation can no longer be changed.".into()));
                }
                if !end.is_null() {
                    r["ScheduledEndUtc"] = end.clone();
                    r["EndUtc"] = end;
                }
                Ok(json!({}))
            }
            "resources/getAll" => {
                let inactive = b["Extent"]["Inactive"].as_bool().unwrap_or(false);
                let items = self
                    .data
                    .resources
                    .iter()
                    .filter(|r| in_list(&b["ResourceIds"], &r["Id"]))
                    .filter(|r| in_list(&b["Names"], &r["Name"]))
                    .filter(|r| inactive || r["IsActive"] == true)
                    .cloned()
                    .collect();
                let (page, cursor) = self.page(operation, b, items)?;
                Ok(json!({"Resources": page, "ResourceCategories": null,
                          "ResourceCategoryAssignments": null,
                          "ResourceCategoryImageAssignments": null, "ResourceFeatures": null,
                          "ResourceFeatureAssignments": null, "Cursor": cursor}))
            }
            "serviceOrderNotes/getAll" => {
                let items = self
                    .data
                    .notes
                    .iter()
                    .filter(|n| in_list(&b["ServiceOrderIds"], &n["OrderId"]))
                    .cloned()
                    .collect();
                let (page, cursor) = self.page(operation, b, items)?;
                Ok(json!({"ServiceOrderNotes": page, "Cursor": cursor}))
            }
            "serviceOrderNotes/add" => {
                let list = b["ServiceOrderNotes"]
                    .as_array()
                    .cloned()
                    .ok_or(bad("Invalid ServiceOrderNotes."))?;
                let mut added = Vec::new();
                for n in list {
                    let order = n["ServiceOrderId"].clone();
                    if !self.data.reservations.iter().any(|r| r["Id"] == order) {
                        return Err(bad("Invalid ServiceOrderId."));
                    }
                    let text = n["Text"].as_str().ok_or(bad("Invalid Text."))?;
                    let mut note = template(
                        "serviceOrderNotes-getAll.response.json",
                        "ServiceOrderNotes",
                    );
                    let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
                    set(
                        &mut note,
                        json!({"Id": self.next(), "OrderId": order, "Text": text,
                               "CreatedUtc": now, "UpdatedUtc": now}),
                    );
                    added.push(note);
                }
                self.data.notes.extend(added.iter().cloned());
                Ok(json!({"ServiceOrderNotes": added}))
            }
            "orders/add" => {
                if b["ServiceId"] != SERVICE_ID {
                    return Err(bad("Invalid ServiceId."));
                }
                let account = b["AccountId"].clone();
                if !self.data.customers.iter().any(|c| c["Id"] == account) {
                    return Err(bad("Invalid AccountId."));
                }
                let items = b["Items"].as_array().cloned().unwrap_or_default();
                if items.is_empty() && b["ProductOrders"].is_null() {
                    return Err(bad("Invalid Items."));
                }
                let order_id = self.next();
                for item in items {
                    let unit = &item["UnitAmount"];
                    // The demo enterprise prices gross: a NetValue alone is refused.
                    let value = unit["GrossValue"]
                        .as_f64()
                        .ok_or(bad("Invalid UnitAmount: GrossValue is required."))?;
                    let count = item["UnitCount"]
                        .as_f64()
                        .ok_or(bad("Invalid UnitCount."))?;
                    let currency = unit["Currency"].clone();
                    let mut oi = template("orderItems-getAll.response.json", "OrderItems");
                    let amount = json!({"Currency": currency, "NetValue": value * count,
                                        "GrossValue": value * count, "TaxValues": [],
                                        "Breakdown": {"Items": []}});
                    set(
                        &mut oi,
                        json!({"Id": self.next(), "AccountId": account,
                               "ServiceId": SERVICE_ID, "ServiceOrderId": order_id,
                               "ExternalIdentifier": item["ExternalIdentifier"],
                               "BillingName": item["Name"], "UnitCount": item["UnitCount"],
                               "Amount": amount, "AccountingState": "Open",
                               "Notes": b["Notes"]}),
                    );
                    self.data.order_items.push(oi);
                }
                self.data
                    .orders
                    .push(json!({"Id": order_id, "Body": b, "RequestId": rid}));
                Ok(json!({"OrderId": order_id}))
            }
            "orderItems/getAll" => {
                let items = self
                    .data
                    .order_items
                    .iter()
                    .filter(|i| in_list(&b["AccountIds"], &i["AccountId"]))
                    .filter(|i| in_list(&b["ServiceOrderIds"], &i["ServiceOrderId"]))
                    .filter(|i| in_list(&b["AccountingStates"], &i["AccountingState"]))
                    .cloned()
                    .collect();
                let (page, cursor) = self.page(operation, b, items)?;
                Ok(json!({"OrderItems": page, "Cursor": cursor}))
            }
            "payments/getAll" => {
                let items = self
                    .data
                    .payments
                    .iter()
                    .filter(|p| in_list(&b["AccountIds"], &p["AccountId"]))
                    .filter(|p| in_list(&b["ReservationIds"], &p["ReservationId"]))
                    .filter(|p| in_list(&b["AccountingStates"], &p["AccountingState"]))
                    .cloned()
                    .collect();
                let (page, cursor) = self.page(operation, b, items)?;
                Ok(json!({"Payments": page, "Cursor": cursor}))
            }
            other => Err((404, format!("No operation {other}."))),
        }
    }
}
