//! `jack-pms adapter inspect`: everything a security reviewer needs from a component and its
//! manifest, without running the adapter.

use crate::egress::allowlist;
use crate::manifest::Manifest;
use crate::runtime::loader::{sha256_hex, surface};
use crate::runtime::vet::{ImportVerdict, judge_import, vet};
use anyhow::Context;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

pub fn inspect(file: &Path, manifest: Option<&Path>, as_json: bool) -> anyhow::Result<ExitCode> {
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
    let imports: Vec<_> = s
        .imports
        .iter()
        .map(|name| match judge_import(name) {
            ImportVerdict::Allowed(why) => {
                json!({ "name": name, "allowed": true, "provides": why })
            }
            ImportVerdict::Refused(why) => json!({ "name": name, "allowed": false, "reason": why }),
        })
        .collect();
    let manifest_json = match &manifest {
        Ok(m) => json!({
            "path": manifest_path.display().to_string(),
            "name": m.name,
            "vendor": m.vendor,
            "version": m.version,
            "wit": m.wit,
            "allowedHosts": m.allowed_hosts,
            "allowedHostPlaceholders": m.allowed_hosts.iter().flat_map(|h| allowlist::placeholders(h).unwrap_or_default()).collect::<Vec<_>>(),
            "auth": m.auth.kind().name(),
            "authHeader": m.auth.header(),
            "secrets": m.secrets,
            "configKeys": m.config_keys,
            "rateLimits": m.rate_limits.iter().map(|r| json!({"requests": r.requests, "perSeconds": r.per_seconds, "scope": format!("{:?}", r.scope).to_lowercase()})).collect::<Vec<_>>(),
        }),
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
        "exports": s.exports,
        "manifest": manifest_json,
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
    }
    println!("\nexports:");
    for e in r["exports"].as_array().into_iter().flatten() {
        println!("  {}", s(e));
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
    for rl in m["rateLimits"].as_array().into_iter().flatten() {
        println!(
            "  rate limit    {} requests / {} s per {}",
            rl["requests"],
            rl["perSeconds"],
            s(&rl["scope"])
        );
    }
    for why in r["refusals"].as_array().into_iter().flatten() {
        println!("\nREFUSED: {}", s(why));
    }
}
