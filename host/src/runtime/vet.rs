//! Vetting a component's imports and exports before it may run (DESIGN §4): everything an adapter
//! can touch is named by its imports, so an import outside the allowed set refuses the whole
//! component, with the exact reason for each offending import.

use super::wit::WitVersion;
use std::fmt;

/// Why a component is refused: one line per offending import or missing export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct VetError {
    /// The reasons.
    pub reasons: Vec<String>,
}

impl fmt::Display for VetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "component refused: {}", self.reasons.join("; "))
    }
}

/// What vetting concluded about one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportVerdict {
    /// Provided by the host.
    Allowed(&'static str),
    /// Refused, with the reason.
    Refused(String),
}

const JACK_IMPORTS: &[&str] = &["http", "log", "config", "types"];
const WASI_ALLOWED: &[(&str, &[&str], &str)] = &[
    (
        "io",
        &["error", "poll", "streams"],
        "WASI streams (used only for stdout/stderr)",
    ),
    (
        "cli",
        &[
            "environment",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ],
        "WASI cli, served empty: no environment, no arguments, no stdin; stdout/stderr go to the log",
    ),
    (
        "clocks",
        &["wall-clock", "monotonic-clock"],
        "clocks (harmless)",
    ),
    (
        "random",
        &["random", "insecure", "insecure-seed"],
        "randomness (harmless)",
    ),
];

/// The verdict on one import name (`wasi:io/streams@0.2.6`).
pub fn judge_import(name: &str) -> ImportVerdict {
    let refused = |why: &str| ImportVerdict::Refused(format!("import `{name}`: {why}"));
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    let Some((package, interface)) = path.split_once('/') else {
        return refused(
            "a bare function import; adapters may import only jack:pms interfaces and harmless WASI",
        );
    };
    match package {
        "jack:pms" if JACK_IMPORTS.contains(&interface) => {
            if version.starts_with("0.1.") {
                ImportVerdict::Allowed("jack:pms host interface")
            } else {
                refused("this host provides jack:pms 0.1.x only")
            }
        }
        "wasi:filesystem" => refused("filesystem access is never granted to adapters"),
        "wasi:sockets" => refused("raw sockets are never granted; use the jack:pms/http import"),
        "wasi:http" => {
            refused("wasi:http would bypass the host's egress policy; use the jack:pms/http import")
        }
        _ => {
            let family = package.strip_prefix("wasi:");
            match family.and_then(|f| WASI_ALLOWED.iter().find(|(p, _, _)| *p == f)) {
                Some((_, interfaces, why)) if interfaces.contains(&interface) => {
                    if version.starts_with("0.2.") {
                        ImportVerdict::Allowed(why)
                    } else {
                        refused("this host provides WASI 0.2.x only")
                    }
                }
                _ => refused(
                    "not provided by jack-pms (adapters may import jack:pms/{http,log,config} and harmless WASI)",
                ),
            }
        }
    }
}

/// Vets a component's import and export names; returns the WIT version it implements.
pub fn vet<'a>(
    imports: impl IntoIterator<Item = &'a str>,
    exports: &[&str],
) -> Result<WitVersion, VetError> {
    let mut reasons: Vec<String> = imports
        .into_iter()
        .filter_map(|name| match judge_import(name) {
            ImportVerdict::Allowed(_) => None,
            ImportVerdict::Refused(why) => Some(why),
        })
        .collect();
    let version = WitVersion::detect(exports.iter().copied());
    if version.is_none() {
        reasons.push(format!(
            "exports no supported adapter interface (found: {}; this host loads {})",
            if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            },
            super::wit::SUPPORTED
                .iter()
                .map(|(_, e)| *e)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match version {
        Some(v) if reasons.is_empty() => Ok(v),
        _ => Err(VetError { reasons }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORTS: &[&str] = &["jack:pms/adapter@0.1.0"];

    #[test]
    fn the_usual_rust_guest_imports_pass() {
        let imports = [
            "jack:pms/http@0.1.0",
            "jack:pms/types@0.1.0",
            "wasi:io/streams@0.2.6",
            "wasi:cli/environment@0.2.6",
            "wasi:cli/terminal-stderr@0.2.6",
            "wasi:clocks/monotonic-clock@0.2.3",
            "wasi:random/random@0.2.0",
        ];
        assert_eq!(vet(imports, EXPORTS), Ok(WitVersion::V0_1));
    }

    #[test]
    fn dangerous_imports_are_refused_each_with_its_reason() {
        let e = vet(
            [
                "wasi:filesystem/preopens@0.2.6",
                "wasi:sockets/tcp@0.2.6",
                "wasi:http/outgoing-handler@0.2.6",
                "evil:x/y@1.0.0",
            ],
            EXPORTS,
        )
        .unwrap_err();
        assert_eq!(e.reasons.len(), 4);
        let text = e.to_string();
        assert!(text.contains("filesystem access"), "{text}");
        assert!(text.contains("raw sockets"), "{text}");
        assert!(text.contains("egress policy"), "{text}");
        assert!(text.contains("evil:x/y@1.0.0"), "{text}");
    }

    #[test]
    fn versions_and_exports_are_checked() {
        assert!(vet(["wasi:io/streams@0.3.0"], EXPORTS).is_err());
        assert!(vet(["jack:pms/http@0.2.0"], EXPORTS).is_err());
        let e = vet([], &["jack:pms/adapter@9.0.0"]).unwrap_err();
        assert!(e.to_string().contains("jack:pms/adapter@0.1.0"), "{e}");
    }
}
