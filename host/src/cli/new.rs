//! `jack-pms adapter new NAME`: writes a ready-to-build adapter crate outside the jack-pms tree.
//! As generated it speaks the mock PMS's API, builds with `cargo build --target wasm32-wasip2`,
//! passes its native tests and the conformance suite against the mock PMS; the partner then
//! replaces the vendor-specific parts.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Template files: (path in the new crate, text with `{{name}}`, `{{crate}}`, `{{type}}`,
/// `{{sdk}}` placeholders).
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    ("{{name}}.toml", include_str!("template/manifest.toml.tmpl")),
    (
        "conformance.toml",
        include_str!("template/conformance.toml.tmpl"),
    ),
    ("README.md", include_str!("template/README.md.tmpl")),
    ("src/lib.rs", include_str!("template/lib.rs.tmpl")),
    ("src/wire.rs", include_str!("template/wire.rs.tmpl")),
    (
        "tests/mapping.rs",
        include_str!("template/mapping_test.rs.tmpl"),
    ),
    (
        "tests/fixtures/reservation.json",
        include_str!("template/fixture_reservation.json.tmpl"),
    ),
];

/// The SDK of this jack-pms checkout, if the binary runs from one.
fn default_sdk() -> Option<PathBuf> {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    sdk.join("Cargo.toml")
        .exists()
        .then(|| sdk.canonicalize().ok())
        .flatten()
}

/// Checks `name`: it becomes the manifest's name and vendor key, the file names and the crate.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!(
            "`{name}` is not an adapter name: use 1 to 32 lowercase letters, digits or `_`, starting with a letter (it becomes the vendor key and the file names)"
        );
    }
    Ok(())
}

/// `Cloud_pms` → `CloudPms`, then `Adapter` appended so it never clashes with the SDK's trait.
fn type_name(name: &str) -> String {
    let camel: String = name
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}Adapter")
}

/// Writes the crate for `name` into `dir` (default `./NAME`), depending on the SDK at `sdk`.
pub fn run(name: &str, dir: Option<&Path>, sdk: Option<&Path>) -> anyhow::Result<ExitCode> {
    check_name(name)?;
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty; choose another --dir",
            dir.display()
        );
    }
    let sdk = match sdk {
        Some(p) => p
            .canonicalize()
            .with_context(|| format!("the SDK path {} does not exist", p.display()))?,
        None => default_sdk().context(
            "cannot find the jack-pms SDK next to this binary; pass --sdk PATH (the `sdk` directory of a jack-pms checkout)",
        )?,
    };
    if !sdk.join("Cargo.toml").exists() {
        bail!(
            "{} holds no Cargo.toml: not the jack-pms SDK",
            sdk.display()
        );
    }
    let sdk_text = sdk.display().to_string();
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", name)
            .replace("{{type}}", &type_name(name))
            .replace("{{sdk}}", &sdk_text.replace('\\', "/"))
    };
    for (path, text) in FILES {
        let target = dir.join(fill(path));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, fill(text))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    println!(
        "created adapter `{name}` in {}\n\nnext:\n  cd {}\n  cargo test\n  cargo build --release --target wasm32-wasip2\n  jack-pms adapter test target/wasm32-wasip2/release/{name}.wasm --manifest {name}.toml --against http://127.0.0.1:9090",
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_typed() {
        assert!(check_name("apaleo").is_ok());
        assert!(check_name("cloud_pms2").is_ok());
        for bad in ["", "Apaleo", "2pms", "my-pms", "x/y", &"a".repeat(33)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(type_name("cloud_pms"), "CloudPmsAdapter");
    }

    #[test]
    fn writes_every_file_and_refuses_a_full_directory() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("acme");
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
        run("acme", Some(&target), Some(&sdk)).unwrap();
        for f in ["Cargo.toml", "acme.toml", "src/lib.rs", "tests/mapping.rs"] {
            let text = std::fs::read_to_string(target.join(f)).unwrap();
            assert!(!text.contains("{{"), "{f} keeps a placeholder");
        }
        let manifest =
            crate::manifest::Manifest::load(&target.join("acme.toml")).expect("valid manifest");
        assert_eq!(manifest.vendor, "acme");
        assert!(run("acme", Some(&target), Some(&sdk)).is_err());
    }
}
