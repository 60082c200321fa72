//! The OpenAPI document (`/openapi.json`), generated from the handlers' annotations and
//! completed here with what every route shares: the problems each can answer (all as
//! `application/problem+json`, with their headers), the bearer scheme, and the links the
//! stateful fuzzer and a client follow from a write to its operation and from a list to its
//! items.
//!
//! [`ERRORS`] is the one table of which error statuses a route can answer beyond those every
//! route of its shape answers; a unit test holds every operation of the document to it.

use super::problem::{Problem, ProblemType};
use super::routes;
use utoipa::OpenApi;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{
    Content, ObjectBuilder, RefOr, ResponseBuilder, Schema, Type, link::LinkBuilder,
};

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jack-pms",
        description = "Jack's gateway to hotel property management systems. Every error is an \
            RFC 9457 `application/problem+json` `Problem`; switch on its `type`.",
    ),
    paths(
        routes::hotels, routes::health, routes::get_guest, routes::search_guests,
        routes::update_preferences, routes::get_reservation, routes::arrivals, routes::departures,
        routes::in_house, routes::add_note, routes::update_checkout, routes::post_charge,
        routes::balance, routes::rooms, routes::room, routes::operation, routes::events,
        routes::vendor_webhook, routes::sync_now, routes::reload, routes::operation_action,
    ),
    components(schemas(
        Problem, ProblemType, crate::events::log::StoredEvent, super::params::SyncStream,
        crate::service::StaffAction,
    )),
    modifiers(&BearerAuth, &ProblemResponses, &Links)
)]
pub struct ApiDoc;

/// The document as served (`GET /openapi.json`, `jack-pms openapi`): [`ApiDoc`] with utoipa's
/// link objects spelled as OpenAPI spells them. utoipa 5 serializes `Link` with its Rust field
/// names (`operation_id`, `request_body`), which validators and fuzzers reject as a link without
/// a target; this renames them.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    describe_event_stream(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for operation in paths.values_mut().filter_map(|i| i.as_object_mut()) {
            for op in operation.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut())
                else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut())
                    else {
                        continue;
                    };
                    for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                        for (from, to) in [
                            ("operation_id", "operationId"),
                            ("operation_ref", "operationRef"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(v) = link.remove(from) {
                                link.insert(to.to_owned(), v);
                            }
                        }
                    }
                }
            }
        }
    }
    doc
}

/// Describes each event of `GET /v1/events` (OpenAPI 3.2's reading of a `text/event-stream`
/// schema, which fuzzers apply per event): `id` and `event` strings and a `data` string holding
/// an `Event` as JSON. utoipa has no `contentMediaType`/`contentSchema`, so this is written here.
fn describe_event_stream(doc: &mut serde_json::Value) {
    let event = serde_json::json!({
        "type": "object",
        "description": "One server-sent event: `id` (resume with it as `Last-Event-ID`), `event` (the type), `data` (an Event as JSON).",
        "required": ["id", "event", "data"],
        "properties": {
            "id": { "type": "string", "pattern": "^\\d+$" },
            "event": { "type": "string" },
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": { "$ref": "#/components/schemas/Event" }
            }
        }
    });
    if let Some(content) = doc
        .pointer_mut("/paths/~1v1~1events/get/responses/200/content/text~1event-stream")
        .and_then(|c| c.as_object_mut())
    {
        content.insert("schema".to_owned(), event);
    }
}

/// Error statuses a route answers beyond those of its shape (every route: 500; a route with a
/// bearer token: 401; with parameters or a body: 400; with a JSON body: 413 and 415), keyed by
/// operation id.
pub const ERRORS: &[(&str, &[u16])] = &[
    ("listHotels", &[]),
    ("getHealth", &[404, 503]),
    ("getGuest", PMS_READ),
    ("searchGuests", PMS_READ),
    ("getReservation", PMS_READ),
    ("getArrivals", PMS_READ),
    ("getDepartures", PMS_READ),
    ("getInHouseGuests", PMS_READ),
    ("getBalance", PMS_READ),
    ("getAllRoomStatuses", PMS_READ),
    ("getRoomStatus", PMS_READ),
    ("updateGuestPreferences", PMS_WRITE),
    ("addReservationNote", PMS_WRITE),
    ("updateCheckoutTime", PMS_WRITE),
    ("postCharge", PMS_WRITE),
    ("getOperation", &[404]),
    ("actOnOperation", &[403, 404, 409]),
    ("streamEvents", &[404, 503]),
    ("receiveVendorWebhook", &[401, 404, 503]),
    ("runSync", &[404, 409, 502, 503, 504]),
    ("reloadConfig", &[501]),
];

/// A read through the adapter: the hotel or the thing may be unknown, the PMS may refuse the
/// request's content or not support it, the adapter may fail, the PMS may be down or limiting,
/// the call may run out of time.
const PMS_READ: &[u16] = &[404, 422, 501, 502, 503, 504];
/// A write: a read's failures, plus a failed or conflicting write (409) and a guardrail (422).
const PMS_WRITE: &[u16] = &[404, 409, 422, 501, 502, 503, 504];

/// The problem types an error status can carry, for the responses' descriptions.
fn kinds(status: u16) -> &'static [ProblemType] {
    use ProblemType as P;
    match status {
        400 => &[P::BadRequest],
        401 => &[P::Unauthorized],
        403 => &[P::Forbidden],
        404 => &[P::UnknownHotel, P::NotFound],
        409 => &[P::WriteFailed, P::Conflict, P::OperationState, P::Busy],
        413 => &[P::PayloadTooLarge],
        415 => &[P::UnsupportedMediaType],
        422 => &[P::WriteRefused, P::IdempotencyKeyReused, P::PmsRefused],
        500 => &[P::Internal, P::StateUnavailable],
        501 => &[P::Unsupported, P::ReloadUnavailable],
        502 => &[P::AdapterFailure, P::PmsUnauthorized, P::AdapterError],
        503 => &[
            P::HotelUnavailable,
            P::PmsUnavailable,
            P::PmsRateLimited,
            P::HostBusy,
            P::AdapterSuspended,
        ],
        504 => &[P::AdapterTimeout],
        _ => &[],
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token of `server.tokens` (stored as its SHA-256; `jack-pms token new`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds each operation's error responses (see [`ERRORS`]), every one a `Problem` as
/// `application/problem+json`.
struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                let extra = ERRORS
                    .iter()
                    .find(|(op, _)| *op == id)
                    .map(|(_, statuses)| *statuses)
                    .unwrap_or(&[]);
                for status in shape_errors(operation)
                    .into_iter()
                    .chain(extra.iter().copied())
                {
                    operation
                        .responses
                        .responses
                        .insert(status.to_string(), RefOr::T(problem_response(status)));
                }
            }
        }
    }
}

/// The error statuses every operation of this shape answers.
fn shape_errors(operation: &Operation) -> Vec<u16> {
    let mut statuses = vec![500];
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        statuses.push(401);
    }
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if has_params || operation.request_body.is_some() {
        statuses.push(400);
    }
    if let Some(body) = &operation.request_body {
        statuses.push(413);
        if body.content.contains_key("application/json") {
            statuses.push(415);
        }
    }
    statuses
}

fn problem_response(status: u16) -> utoipa::openapi::Response {
    let kinds = kinds(status);
    let mut description = String::from("A problem: ");
    for (i, kind) in kinds.iter().enumerate() {
        if i > 0 {
            description.push_str(", ");
        }
        let urn = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        description.push_str(&format!("`{urn}` ({})", kind.title()));
    }
    let example = kinds.first().map(|kind| {
        serde_json::json!({
            "type": kind,
            "title": kind.title(),
            "status": status,
            "detail": "what happened in this case",
        })
    });
    let mut content = Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
        "Problem",
    ))));
    content.example = example;
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content);
    if status == 401 {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(string_schema())
                .description(Some("`Bearer`"))
                .build(),
        );
    }
    if matches!(status, 503) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(integer_schema())
                .description(Some(
                    "Seconds to wait, when known (also the problem's `retryAfter`)",
                ))
                .build(),
        );
    }
    response.build()
}

fn string_schema() -> Schema {
    Schema::Object(ObjectBuilder::new().schema_type(Type::String).build())
}

fn integer_schema() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .build(),
    )
}

/// Links from answers to the operations that take their ids: a write's `operationId` to
/// `getOperation`, a listed reservation to `getReservation` and its balance, a guest to
/// `getGuest`, a listed room to `getRoomStatus`.
struct Links;

/// A target parameter and the runtime expression that fills it from the answer or request.
type LinkParameters = &'static [(&'static str, &'static str)];

/// (operation, status, link name, target operation, target parameters)
const LINKS: &[(&str, &str, &str, &str, LinkParameters)] = &[
    (
        "updateGuestPreferences",
        "200",
        "operation",
        "getOperation",
        WRITE_LINK,
    ),
    (
        "updateGuestPreferences",
        "202",
        "operation",
        "getOperation",
        WRITE_LINK,
    ),
    (
        "addReservationNote",
        "200",
        "operation",
        "getOperation",
        WRITE_LINK,
    ),
    (
        "addReservationNote",
        "202",
        "operation",
        "getOperation",
        WRITE_LINK,
    ),
    (
        "updateCheckoutTime",
        "200",
        "operation",
        "getOperation",
        WRITE_LINK,
    ),
    (
        "updateCheckoutTime",
        "202",
        "operation",
        "getOperation",
        WRITE_LINK,
    ),
    ("postCharge", "200", "operation", "getOperation", WRITE_LINK),
    ("postCharge", "202", "operation", "getOperation", WRITE_LINK),
    (
        "getArrivals",
        "200",
        "reservation",
        "getReservation",
        FIRST_RESERVATION,
    ),
    (
        "getDepartures",
        "200",
        "reservation",
        "getReservation",
        FIRST_RESERVATION,
    ),
    (
        "getInHouseGuests",
        "200",
        "reservation",
        "getReservation",
        FIRST_RESERVATION,
    ),
    (
        "getInHouseGuests",
        "200",
        "balance",
        "getBalance",
        FIRST_RESERVATION,
    ),
    (
        "getReservation",
        "200",
        "guest",
        "getGuest",
        RESERVATION_GUEST,
    ),
    (
        "getReservation",
        "200",
        "note",
        "addReservationNote",
        RESERVATION_SELF,
    ),
    ("searchGuests", "200", "guest", "getGuest", FIRST_GUEST),
    (
        "getAllRoomStatuses",
        "200",
        "room",
        "getRoomStatus",
        FIRST_ROOM,
    ),
    (
        "actOnOperation",
        "200",
        "operation",
        "getOperation",
        ACTED_ON,
    ),
];
const WRITE_LINK: LinkParameters = &[("id", "$response.body#/operationId")];
const ACTED_ON: LinkParameters = &[("id", "$response.body#/id")];
const FIRST_RESERVATION: LinkParameters = &[
    ("hotel", "$request.path.hotel"),
    (
        "confirmationNumber",
        "$response.body#/data/0/confirmationNumber",
    ),
];
const RESERVATION_GUEST: LinkParameters = &[
    ("hotel", "$request.path.hotel"),
    ("guestId", "$response.body#/data/guestId"),
];
const RESERVATION_SELF: LinkParameters = &[
    ("hotel", "$request.path.hotel"),
    (
        "confirmationNumber",
        "$response.body#/data/confirmationNumber",
    ),
];
const FIRST_GUEST: LinkParameters = &[
    ("hotel", "$request.path.hotel"),
    ("guestId", "$response.body#/data/0/id"),
];
const FIRST_ROOM: LinkParameters = &[
    ("hotel", "$request.path.hotel"),
    ("roomNumber", "$response.body#/data/0/roomNumber"),
];

impl utoipa::Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                for (_, status, name, target, parameters) in
                    LINKS.iter().filter(|(op, ..)| *op == id)
                {
                    let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status)
                    else {
                        continue;
                    };
                    let mut link = LinkBuilder::new().operation_id(*target);
                    for (parameter, expression) in parameters.iter() {
                        link = link.parameter(*parameter, *expression);
                    }
                    response
                        .links
                        .insert((*name).to_string(), RefOr::T(link.build()));
                }
            }
        }
    }
}

/// The operations of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_an_id_in_the_error_table_and_a_problem_for_each_error() {
        let doc = document();
        let mut seen = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let id = op["operationId"].as_str().unwrap_or_else(|| {
                    panic!("{method} {path} has no operationId");
                });
                assert!(
                    ERRORS.iter().any(|(op, _)| *op == id),
                    "{id} is missing from ERRORS"
                );
                seen.push(id.to_string());
                for (status, response) in op["responses"].as_object().expect("responses") {
                    let code: u16 = status.parse().expect("numeric status");
                    if code >= 400 {
                        let content = &response["content"]["application/problem+json"];
                        assert_eq!(
                            content["schema"]["$ref"], "#/components/schemas/Problem",
                            "{id} {status}"
                        );
                        assert!(response["content"].get("application/json").is_none());
                    }
                }
                assert!(op["responses"].get("500").is_some(), "{id} lacks 500");
                if op.get("security").is_some() {
                    assert!(op["responses"].get("401").is_some(), "{id} lacks 401");
                }
                if op.get("requestBody").is_some() {
                    assert!(op["responses"].get("413").is_some(), "{id} lacks 413");
                }
            }
        }
        for (op, _) in ERRORS {
            assert!(
                seen.iter().any(|s| s == op),
                "ERRORS names {op}, which is not a route"
            );
        }
    }

    #[test]
    fn the_problem_type_is_an_enum_of_every_kind() {
        let doc = document();
        let listed = doc["components"]["schemas"]["ProblemType"]["enum"]
            .as_array()
            .expect("ProblemType is an enum");
        assert!(listed.contains(&serde_json::json!("urn:jack-pms:problem:unknown-hotel")));
        assert!(listed.contains(&serde_json::json!("urn:jack-pms:problem:payload-too-large")));
        for status in [
            400, 401, 403, 404, 409, 413, 415, 422, 500, 501, 502, 503, 504,
        ] {
            for kind in kinds(status) {
                let urn = serde_json::to_value(kind).expect("serializes");
                assert!(listed.contains(&urn), "{urn} not in the enum");
            }
        }
    }

    #[test]
    fn links_point_at_operations_that_exist() {
        let doc = document();
        let ids: Vec<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .flat_map(|item| item.as_object().expect("item").values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        for (op, status, name, target, _) in LINKS {
            assert!(ids.contains(op) && ids.contains(target), "{op} → {target}");
            let found = doc["paths"]
                .as_object()
                .expect("paths")
                .values()
                .any(|item| {
                    item.as_object().expect("item").values().any(|o| {
                        let link = &o["responses"][*status]["links"][*name];
                        o["operationId"] == *op && link["operationId"] == *target
                    })
                });
            assert!(found, "{op} {status} lacks link {name}");
        }
    }

    #[test]
    fn every_example_is_valid_against_its_own_schema() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut checked = 0;
        for (name, schema) in schemas {
            let Some(example) = schema.get("example") else {
                continue;
            };
            // The root names the schema and keeps every other one reachable by its `$ref`.
            let root = serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": { "schemas": doc["components"]["schemas"] },
            });
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .expect("a valid schema");
            let errors: Vec<String> = validator
                .iter_errors(example)
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{name}'s example: {}", errors.join("; "));
            checked += 1;
        }
        for named in [
            "Problem",
            "Guest",
            "Reservation",
            "Charge",
            "Event",
            "Written",
            "Meta",
        ] {
            assert!(
                schemas[named].get("example").is_some(),
                "{named} has no example"
            );
        }
        assert!(checked >= 10, "only {checked} examples checked");
    }

    #[test]
    fn every_reference_resolves() {
        fn walk(value: &serde_json::Value, doc: &serde_json::Value, at: &str) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                        let pointer = target.trim_start_matches('#');
                        assert!(
                            doc.pointer(pointer).is_some(),
                            "{at}: {target} does not resolve"
                        );
                    }
                    for (key, v) in map {
                        walk(v, doc, &format!("{at}/{key}"));
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(v, doc, &format!("{at}/{i}"));
                    }
                }
                _ => {}
            }
        }
        let doc = document();
        walk(&doc, &doc, "");
    }

    #[test]
    fn the_committed_copy_of_the_document_is_current() {
        // sdk/typescript generates the client's types from this copy; regenerate it with
        // `cargo run -p jack-pms-host -- openapi > sdk/typescript/openapi.json`.
        let committed = include_str!("../../../sdk/typescript/openapi.json");
        let committed: serde_json::Value =
            serde_json::from_str(committed).expect("sdk/typescript/openapi.json is JSON");
        assert!(
            committed == document(),
            "sdk/typescript/openapi.json is out of date: run \
             `cargo run -p jack-pms-host -- openapi > sdk/typescript/openapi.json` and \
             `npm --prefix sdk/typescript run generate`"
        );
    }
}
