//! `jack-pms adapter inspect`: everything a security reviewer needs from a component and its
//! manifest, without running the adapter.

use crate::manifest::Manifest;
use crate::runtime::loader::{sha256_hex, surface};
use crate::runtime::vet::vet;
use anyhow::Context;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// Prints the reviewer's report of `file` (and its manifest); with `for_hotel` (a config file
/// and a hotel id) also what the manifest resolves to for that hotel. Exit 2 when the host would
/// refuse the component.
pub fn inspect(
    file: &Path,
    manifest: Option<&Path>,
    for_hotel: Option<(&Path, &str)>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let manifest_path = manifest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.with_extension("toml"));
    let manifest = Manifest::load(&manifest_path).map_err(anyhow::Error::from);
    // Compilation only reads the component's types: nothing is instantiated or run.
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::new(&engine, &bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid WebAssembly component: {e:#}",
            file.display()
        )
    })?;
    let s = surface(&engine, &component);
    let exports: Vec<&str> = s.exports.iter().map(String::as_str).collect();
    let verdict = vet(s.imports.iter().map(String::as_str), &exports);
    let imports = crate::review::imports_json(&s.imports);
    let exports_json = crate::review::exports_json(&s.exports);
    let hotel_json = match (for_hotel, &manifest) {
        (Some((config, hotel)), Ok(m)) => Some(resolve_for_hotel(m, config, hotel, &bytes)?),
        _ => None,
    };
    let manifest_json = match &manifest {
        Ok(m) => crate::review::manifest_json(m, &manifest_path.display().to_string()),
        Err(e) => json!({ "path": manifest_path.display().to_string(), "error": e.to_string() }),
    };
    let report = json!({
        "file": file.display().to_string(),
        "sha256": sha256_hex(&bytes),
        "size": bytes.len(),
        "wit": verdict.as_ref().ok().map(|v| v.package()),
        "loadable": verdict.is_ok() && manifest.is_ok(),
        "refusals": verdict.as_ref().err().map(|e| e.reasons.clone()).unwrap_or_default(),
        "imports": imports,
        "exports": exports_json,
        "manifest": manifest_json,
        "defaultLimits": crate::review::limits_json(&crate::config::Limits::default()),
        "hotel": hotel_json,
    });
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report["loadable"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_report(r: &serde_json::Value) {
    let s = |v: &serde_json::Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    println!("component   {}", s(&r["file"]));
    println!("sha256      {}", s(&r["sha256"]));
    println!("size        {} bytes", r["size"]);
    println!(
        "wit         {}",
        r["wit"].as_str().unwrap_or("none supported")
    );
    println!(
        "loadable    {}",
        if r["loadable"] == true { "yes" } else { "NO" }
    );
    println!("\nimports (everything the adapter can call):");
    for i in r["imports"].as_array().into_iter().flatten() {
        if i["allowed"] == true {
            println!("  ok       {}  ({})", s(&i["name"]), s(&i["provides"]));
        } else {
            println!("  REFUSED  {}", s(&i["reason"]));
        }
        print_docs(&i["docs"]);
    }
    println!("\nexports (what the host calls):");
    for e in r["exports"].as_array().into_iter().flatten() {
        println!("  {}", s(&e["name"]));
        print_docs(&e["docs"]);
    }
    let m = &r["manifest"];
    println!("\nmanifest    {}", s(&m["path"]));
    if let Some(err) = m.get("error") {
        println!("  ERROR: {}", s(err));
        return;
    }
    println!(
        "  adapter       {} {} (vendor {})",
        s(&m["name"]),
        s(&m["version"]),
        s(&m["vendor"])
    );
    println!(
        "  allowed hosts {}",
        m["allowedHosts"]
            .as_array()
            .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "none (no network)".into())
    );
    println!(
        "  auth          {}{}",
        s(&m["auth"]),
        m["authHeader"]
            .as_str()
            .map(|h| format!(" (header {h}, set by the host)"))
            .unwrap_or_default()
    );
    if let Some(choice) = m["authChoice"].as_str() {
        println!(
            "  auth choice   setting `{choice}` picks one of {}",
            m["authSchemes"]
                .as_array()
                .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        );
    }
    if let Some(headers) = m["requestHeadersFromConfig"]
        .as_object()
        .filter(|h| !h.is_empty())
    {
        println!(
            "  host headers  {} (set by the host from the hotel's settings)",
            headers
                .iter()
                .map(|(h, k)| format!("{h} = setting {}", s(k)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "  secrets       {} (values held by the host, never given to the adapter)",
        m["secrets"]
            .as_array()
            .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    );
    println!(
        "  config keys   {}",
        m["configKeys"]
            .as_array()
            .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    );
    if let Some(optional) = m["optionalConfigKeys"].as_array().filter(|a| !a.is_empty()) {
        println!(
            "  optional keys {}",
            optional.iter().map(s).collect::<Vec<_>>().join(", ")
        );
    }
    for endpoint in m["tokenEndpoints"].as_array().into_iter().flatten() {
        println!(
            "  token from    {} (asked by the host, never the adapter)",
            s(endpoint)
        );
    }
    for rl in m["rateLimits"].as_array().into_iter().flatten() {
        println!(
            "  rate limit    {} requests / {} s per {}",
            rl["requests"],
            rl["perSeconds"],
            s(&rl["scope"])
        );
    }
    let limits = if r["hotel"].is_object() {
        &r["hotel"]["limits"]
    } else {
        &r["defaultLimits"]
    };
    println!(
        "  sandbox       {} MiB memory, {} ms per call, {} requests per call, {} bytes per response",
        limits["memoryMib"],
        limits["deadlineMs"],
        limits["maxRequestsPerCall"],
        limits["maxResponseBytes"]
    );
    println!(
        "                {} bytes out of the sandbox per transfer, {} log lines and {} log bytes per call",
        limits["maxResultBytes"], limits["maxLogLinesPerCall"], limits["maxLogBytesPerCall"]
    );
    let h = &r["hotel"];
    if h.is_object() {
        println!("\nfor hotel {} ({})", s(&h["id"]), s(&h["config"]));
        if let Some(e) = h.get("error") {
            println!("  ERROR: {}", s(e));
        } else {
            println!(
                "  may connect   {}",
                h["allowedOrigins"]
                    .as_array()
                    .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "nowhere".into())
            );
            println!("  auth          {}", s(&h["auth"]));
            for (name, source) in h["secrets"].as_object().into_iter().flatten() {
                println!("  secret        {name} from {}", s(source));
            }
            for (header, value) in h["requestHeaders"].as_object().into_iter().flatten() {
                println!("  host header   {header}: {}", s(value));
            }
            for rl in h["rateLimits"].as_array().into_iter().flatten() {
                println!(
                    "  rate limit    {} requests / {} s per {}",
                    rl["requests"],
                    rl["perSeconds"],
                    s(&rl["scope"])
                );
            }
            println!("  pin           {}", s(&h["pin"]));
        }
    }
    for why in r["refusals"].as_array().into_iter().flatten() {
        println!("\nREFUSED: {}", s(why));
    }
}

fn print_docs(docs: &serde_json::Value) {
    if let Some(text) = docs["docs"].as_str().filter(|t| !t.is_empty()) {
        println!("           {text}");
    }
    for f in docs["functions"].as_array().into_iter().flatten() {
        println!(
            "           - {}: {}",
            f["name"].as_str().unwrap_or_default(),
            f["docs"].as_str().unwrap_or_default()
        );
    }
}

/// [`crate::review::hotel_json`] for hotel `hotel` of the config at `config_path`.
fn resolve_for_hotel(
    m: &Manifest,
    config_path: &Path,
    hotel: &str,
    bytes: &[u8],
) -> anyhow::Result<serde_json::Value> {
    let config = crate::config::Config::load(config_path)?;
    let h = config
        .hotels
        .iter()
        .find(|h| h.id == hotel)
        .with_context(|| format!("{} has no hotel `{hotel}`", config_path.display()))?;
    let mut v = crate::review::hotel_json(
        m,
        h,
        config.adapters.allow_unpinned,
        config.adapters.limits_for(&m.name),
        &sha256_hex(bytes),
    );
    v["config"] = json!(config_path.display().to_string());
    Ok(v)
}
