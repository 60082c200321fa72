//! Every request an adapter sent to a simulator, checked against the vendor's published contract
//! (`tests/vendor-api/`): OHIP's Swagger 2 specs per module, Cloudbeds' OpenAPI 3 spec, and, as
//! Mews publishes no machine-readable spec, the shapes of Mews' documented request examples.
//!
//! The simulators record what they received; the vendor tests run these checks after their
//! end-to-end runs, so every request the real adapter components sent is held to what the
//! vendor documents: its operation exists, its query parameters and form fields are declared
//! (with the declared types and enums), required headers are there and match their patterns,
//! and JSON bodies validate against the declared schema.

use serde_json::{Map, Value, json};
use std::path::Path;

/// A path template (`/hotels/{hotelId}/reservations`) matches `path` segment by segment.
fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// Percent-decoded `name=value` pairs of a query string.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Whether `value` (a query or form string) fits the scalar `schema` (type, enum, pattern).
fn scalar_fits(schema: &Value, value: &str) -> Result<(), String> {
    let ty = schema["type"].as_str().unwrap_or("string");
    let typed = match ty {
        "integer" => value
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{value}` is not an integer"))?,
        "number" => value
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .ok_or_else(|| format!("`{value}` is not a number"))?,
        "boolean" => match value {
            "true" | "false" => Value::Bool(value == "true"),
            // Cloudbeds' form examples send booleans as 1/0 too.
            "1" | "0" => Value::Bool(value == "1"),
            _ => return Err(format!("`{value}` is not a boolean")),
        },
        "array" => {
            // A repeated or comma-separated parameter: each item must fit the item schema.
            for item in value.split(',') {
                scalar_fits(&schema["items"], item)?;
            }
            return Ok(());
        }
        _ => Value::String(value.to_owned()),
    };
    let mut check = Map::new();
    for key in [
        "enum",
        "pattern",
        "maxLength",
        "minLength",
        "minimum",
        "maximum",
    ] {
        if let Some(v) = schema.get(key) {
            check.insert(key.to_owned(), v.clone());
        }
    }
    if check.is_empty() {
        return Ok(());
    }
    let validator = jsonschema::options()
        .should_validate_formats(false)
        .build(&Value::Object(check))
        .map_err(|e| format!("unusable schema: {e}"))?;
    validator
        .validate(&typed)
        .map_err(|e| format!("`{value}`: {e}"))
}

/// One request as the OHIP simulator recorded it.
pub struct OhipRequest<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// The path, `/rsv/v1/hotels/H/reservations`.
    pub path: &'a str,
    /// The raw query string.
    pub query: &'a str,
    /// Lowercase header names and values (credentials redacted to `<present>`).
    pub headers: Vec<(&'a str, &'a str)>,
    /// The JSON body, `Null` when none.
    pub body: &'a Value,
}

/// What is wrong with `request` by OHIP's specs in `specs` (the module's Swagger 2 file found by
/// its `basePath`); empty when it conforms.
pub fn ohip(specs: &Path, request: &OhipRequest<'_>) -> Vec<String> {
    let mut found = Vec::new();
    let label = format!("{} {}", request.method, request.path);
    let Some((document, template)) = std::fs::read_dir(specs)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok()?;
            let base = doc["basePath"].as_str()?.to_owned();
            let rest = request.path.strip_prefix(&base)?.to_owned();
            let template = doc["paths"]
                .as_object()?
                .keys()
                .find(|t| template_matches(t, &rest))?
                .clone();
            Some((doc, template))
        })
        .next()
    else {
        return vec![format!("{label}: no OHIP operation has this path")];
    };
    let item = &document["paths"][&template];
    let Some(operation) = item.get(request.method.to_ascii_lowercase()) else {
        return vec![format!(
            "{label}: OHIP declares no {} on {template}",
            request.method
        )];
    };
    let resolve = |p: &Value| -> Value {
        match p["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/parameters/"))
        {
            Some(name) => document["parameters"][name].clone(),
            None => p.clone(),
        }
    };
    let params: Vec<Value> = item["parameters"]
        .as_array()
        .into_iter()
        .chain(operation["parameters"].as_array())
        .flatten()
        .map(resolve)
        .collect();
    let declared = |name: &str, place: &str| {
        params.iter().find(|p| {
            p["in"] == place
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    for (name, value) in query_pairs(request.query) {
        match declared(&name, "query") {
            None => found.push(format!("{label}: query parameter `{name}` is not declared")),
            Some(p) => {
                if let Err(e) = scalar_fits(p, &value) {
                    found.push(format!("{label}: query `{name}`: {e}"));
                }
            }
        }
    }
    for p in params.iter().filter(|p| p["in"] == "header") {
        let name = p["name"].as_str().unwrap_or_default().to_ascii_lowercase();
        match request.headers.iter().find(|(k, _)| *k == name) {
            None if p["required"] == true => {
                found.push(format!("{label}: required header `{name}` is missing"));
            }
            Some((_, value)) if *value != "<present>" => {
                if let Err(e) = scalar_fits(p, value) {
                    found.push(format!("{label}: header `{name}`: {e}"));
                }
            }
            _ => {}
        }
    }
    if let Some(body) = params.iter().find(|p| p["in"] == "body") {
        if request.body.is_null() {
            if body["required"] == true {
                found.push(format!("{label}: the required body is missing"));
            }
        } else {
            let mut root = document.clone();
            if let Some(object) = root.as_object_mut() {
                object.remove("paths");
                object.insert("allOf".into(), json!([body["schema"]]));
            }
            match jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .should_validate_formats(false)
                .build(&root)
            {
                Ok(v) => found.extend(
                    v.iter_errors(request.body)
                        .map(|e| format!("{label}: body: {e} at {}", e.instance_path)),
                ),
                Err(e) => found.push(format!("{label}: unusable body schema: {e}")),
            }
        }
    } else if !request.body.is_null() {
        found.push(format!(
            "{label}: a body was sent to an operation that takes none"
        ));
    }
    found
}

/// What is wrong with one Cloudbeds call (`/{call}` of API v1.3) by the published OpenAPI 3
/// spec: its query parameters (reads) or form fields (writes) must be declared, required ones
/// present, and each scalar must fit its declared type and enum.
pub fn cloudbeds(
    spec: &Value,
    call: &str,
    write: bool,
    params: &[(String, String)],
) -> Vec<String> {
    let label = call;
    let Some(item) = spec["paths"].get(format!("/{call}")) else {
        return vec![format!("{label}: not an operation of the Cloudbeds spec")];
    };
    let resolve = |v: &Value| -> Value {
        match v["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/"))
        {
            Some(path) => path
                .split('/')
                .fold(&spec["components"], |at, part| &at[part])
                .clone(),
            None => v.clone(),
        }
    };
    let mut found = Vec::new();
    if write {
        let Some(operation) = ["post", "put", "delete"]
            .into_iter()
            .find_map(|m| item.get(m))
        else {
            return vec![format!("{label}: the spec has no write operation here")];
        };
        let schema = resolve(
            &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"],
        );
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let top: Vec<String> = params
            .iter()
            .map(|(k, _)| k.split('[').next().unwrap_or(k).to_owned())
            .collect();
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !top.iter().any(|t| t == name) {
                found.push(format!("{label}: required form field `{name}` is missing"));
            }
        }
        for (key, value) in params {
            let name = key.split('[').next().unwrap_or(key);
            match properties.get(name).map(resolve) {
                None => found.push(format!("{label}: form field `{name}` is not declared")),
                Some(p) if !key.contains('[') => {
                    if let Err(e) = scalar_fits(&p, value) {
                        found.push(format!("{label}: form field `{name}`: {e}"));
                    }
                }
                Some(_) => {}
            }
        }
    } else {
        let Some(operation) = item.get("get") else {
            return vec![format!("{label}: the spec has no GET here")];
        };
        let declared: Vec<Value> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(resolve)
            .collect();
        for (name, value) in params {
            match declared
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name.as_str())
            {
                None => found.push(format!("{label}: query parameter `{name}` is not declared")),
                Some(p) => {
                    if let Err(e) = scalar_fits(&p["schema"], value) {
                        found.push(format!("{label}: query `{name}`: {e}"));
                    }
                }
            }
        }
    }
    found
}

/// Fields Mews documents for an operation that its example request happens not to show:
/// (operation, field path, JSON type, where Mews documents it). Only these are accepted beyond
/// the examples; each is cited (vendor-api NOTES, Mews' `connector-api` pages).
const MEWS_DOCUMENTED_BEYOND_EXAMPLES: &[(&str, &str, &str, &str)] = &[
    (
        "customers/update",
        "DietaryRequirements",
        "string",
        "operations/customers.md, Update customer (NOTES §2 row 8, at most 255 characters)",
    ),
    (
        "orderItems/getAll",
        "AccountingStates",
        "array",
        "operations/orderitems.md filters (NOTES §2 row 10: Open, Closed, Inactive, Canceled)",
    ),
    (
        "orders/add",
        "Items[].UnitAmount.GrossValue",
        "number",
        "_objects.md Amount parameters: GrossValue or NetValue (NOTES §2 row 9)",
    ),
];

/// What is wrong with one Mews request body by the shape of Mews' documented example of the
/// operation (`examples/<operation with - for />.request.json`): every field sent must appear
/// in the example, with the example's JSON type (nested objects and list items likewise).
/// Mews publishes no machine-readable spec; its examples are the contract it documents.
pub fn mews(examples: &Path, operation: &str, body: &Value) -> Vec<String> {
    let file = examples.join(format!("{}.request.json", operation.replace('/', "-")));
    let Some(example) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return vec![format!(
            "{operation}: Mews documents no example request for it"
        )];
    };
    let mut found = Vec::new();
    shape(operation, "", &example, body, &mut found);
    found
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shape(operation: &str, at: &str, example: &Value, sent: &Value, found: &mut Vec<String>) {
    match (example, sent) {
        // The example shows no value: any is as documented.
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(e), Value::Object(s)) => {
            for (key, value) in s {
                let path = format!("{at}.{key}");
                match e.get(key) {
                    None => match MEWS_DOCUMENTED_BEYOND_EXAMPLES
                        .iter()
                        .find(|(op, field, _, _)| *op == operation && *field == &path[1..])
                    {
                        Some((_, _, ty, _)) if *ty == kind(value) => {}
                        Some((_, _, ty, source)) => found.push(format!(
                            "{operation}: `{}` is a {} where Mews documents a {ty} ({source})",
                            &path[1..],
                            kind(value)
                        )),
                        None => found.push(format!(
                            "{operation}: `{}` is not in Mews' documented example",
                            &path[1..]
                        )),
                    },
                    Some(documented) => shape(operation, &path, documented, value, found),
                }
            }
        }
        (Value::Array(e), Value::Array(s)) => {
            if let Some(first) = e.first() {
                for item in s {
                    shape(operation, &format!("{at}[]"), first, item, found);
                }
            }
        }
        (e, s) if kind(e) != kind(s) => found.push(format!(
            "{operation}: `{}` is a {} where Mews' example has a {}",
            at.trim_start_matches('.'),
            kind(s),
            kind(e)
        )),
        _ => {}
    }
}
