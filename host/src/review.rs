//! The security reviewer's report of an adapter: what its component imports (and the host's
//! verdict on each import), what its manifest asks for, and what that becomes for one hotel
//! (origins, credentials and where each comes from, headers, rate limits, sandbox limits, pin).
//! `jack-pms adapter inspect` prints it; the console's Adapters page shows it. Never a secret
//! value: secrets appear by name and source only.

use crate::config::{HotelSettings, Limits};
use crate::egress::allowlist;
use crate::manifest::Manifest;
use crate::runtime::vet::{ImportVerdict, judge_import};
use crate::runtime::wit::docs::{self, InterfaceDocs};
use serde_json::json;

/// Each import with the host's verdict (allowed and what it provides, or refused and why) and
/// its documentation.
pub fn imports_json(imports: &[String]) -> Vec<serde_json::Value> {
    imports
        .iter()
        .map(|name| {
            let mut entry = match judge_import(name) {
                ImportVerdict::Allowed(why) => {
                    json!({ "name": name, "allowed": true, "provides": why })
                }
                ImportVerdict::Refused(why) => {
                    json!({ "name": name, "allowed": false, "reason": why })
                }
            };
            if let Some(d) = docs::for_item(name) {
                entry["docs"] = interface_json(&d);
            }
            entry
        })
        .collect()
}

/// Each export with its documentation.
pub fn exports_json(exports: &[String]) -> Vec<serde_json::Value> {
    exports
        .iter()
        .map(|name| match docs::for_item(name) {
            Some(d) => json!({ "name": name, "docs": interface_json(&d) }),
            None => json!({ "name": name }),
        })
        .collect()
}

/// What the manifest (read from `path`) asks for.
pub fn manifest_json(m: &Manifest, path: &str) -> serde_json::Value {
    json!({
        "path": path,
        "name": m.name,
        "vendor": m.vendor,
        "version": m.version,
        "wit": m.wit,
        "allowedHosts": m.allowed_hosts,
        "allowedHostPlaceholders": m.allowed_hosts.iter().flat_map(|h| allowlist::placeholders(h).unwrap_or_default()).collect::<Vec<_>>(),
        "auth": m.auth.kind().name(),
        "authHeader": m.auth.header(),
        "authSchemes": m.auth_schemes().map(|a| a.kind().name()).collect::<Vec<_>>(),
        "authChoice": m.auth_choice,
        "requestHeadersFromConfig": m.request_headers,
        "secrets": m.secrets,
        "configKeys": m.config_keys,
        "optionalConfigKeys": m.optional_config_keys,
        "timeZoneKey": m.time_zone_key,
        "noRetryStatuses": m.no_retry_statuses,
        "noteMaxChars": m.note_max_chars,
        "tokenEndpoints": m.auth_schemes().filter_map(|a| a.oauth()).map(|(o, _)| match &o.token_origin {
            Some(origin) => format!("{origin}{}", o.token_path),
            None => format!("{} on the API's origin", o.token_path),
        }).collect::<Vec<_>>(),
        "rateLimits": m.rate_limits.iter().map(|r| json!({"requests": r.requests, "perSeconds": r.per_seconds, "scope": format!("{:?}", r.scope).to_lowercase()})).collect::<Vec<_>>(),
    })
}

fn interface_json(d: &InterfaceDocs) -> serde_json::Value {
    json!({
        "docs": d.docs,
        "functions": d.functions.iter().map(|(name, docs)| json!({ "name": name, "docs": docs })).collect::<Vec<_>>(),
    })
}

/// The sandbox limits.
pub fn limits_json(l: &crate::config::Limits) -> serde_json::Value {
    json!({
        "memoryMib": l.memory_bytes >> 20,
        "deadlineMs": u64::try_from(l.deadline.as_millis()).unwrap_or(u64::MAX),
        "maxRequestsPerCall": l.max_requests_per_call,
        "maxResponseBytes": l.max_response_bytes,
        "maxResultBytes": l.max_result_bytes,
        "maxLogLinesPerCall": l.max_log_lines_per_call,
        "maxLogBytesPerCall": l.max_log_bytes_per_call,
        "maxConcurrentCalls": l.max_concurrent_calls,
    })
}

/// What the manifest becomes for hotel `h`: the origins it may reach, the scheme and where each
/// secret comes from (never a value), the headers the host sets, the rate limits, the sandbox
/// `limits`, and whether the component (`sha256`, hex) matches the hotel's pin.
pub fn hotel_json(
    m: &Manifest,
    h: &HotelSettings,
    allow_unpinned: bool,
    limits: &Limits,
    sha256: &str,
) -> serde_json::Value {
    let base = json!({ "id": h.id });
    let fail = |e: String| {
        let mut v = base.clone();
        v["error"] = json!(e);
        v
    };
    let origins: Result<Vec<String>, String> = m
        .allowed_hosts
        .iter()
        .map(|e| {
            allowlist::resolve(e, &h.settings)
                .map(|o| o.to_string())
                .map_err(|e| e.to_string())
        })
        .collect();
    let origins = match origins {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let auth = match m.auth_for(&h.settings) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let secrets: serde_json::Map<String, serde_json::Value> = auth
        .secret_names()
        .into_iter()
        .map(|name| {
            let source = match h.secrets.get(name) {
                Some(crate::config::SecretRef::Env(var)) => format!("environment variable {var}"),
                Some(crate::config::SecretRef::Vault(v)) => format!("the vault (as `{v}`)"),
                None => format!("the vault (as `{name}`)"),
            };
            (name.to_string(), json!(source))
        })
        .collect();
    let headers: serde_json::Map<String, serde_json::Value> = m
        .request_headers
        .iter()
        .map(|(header, key)| {
            (
                header.clone(),
                json!(
                    h.settings
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| format!("(setting `{key}` unset)"))
                ),
            )
        })
        .collect();
    let rate_limits: Vec<serde_json::Value> = match &h.rate_limits {
        Some(limits) => limits
            .iter()
            .map(|l| json!({"requests": l.requests, "perSeconds": l.per.as_secs(), "scope": format!("{:?}", l.scope).to_lowercase(), "from": "hotel config"}))
            .collect(),
        None => m
            .rate_limits
            .iter()
            .map(|r| json!({"requests": r.requests, "perSeconds": r.per_seconds, "scope": format!("{:?}", r.scope).to_lowercase(), "from": "manifest"}))
            .collect(),
    };
    let pin = match h.sha256 {
        Some(p) if hex::encode(p) == sha256 => "pinned, and the component matches".to_string(),
        Some(p) => format!(
            "pinned to {}, which is NOT this component: the host refuses it",
            hex::encode(p)
        ),
        None if allow_unpinned => "not pinned (allowUnpinned is on: development only)".into(),
        None => "not pinned: the host refuses to run it until the hotel pins its sha256".into(),
    };
    let mut v = base;
    v["adapter"] = json!(h.adapter);
    v["allowedOrigins"] = json!(origins);
    v["auth"] = json!(auth.kind().name());
    v["secrets"] = json!(secrets);
    v["requestHeaders"] = json!(headers);
    v["rateLimits"] = json!(rate_limits);
    v["limits"] = limits_json(limits);
    v["pin"] = json!(pin);
    v
}
