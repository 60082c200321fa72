//! Loading an adapter package: `<name>.wasm` + `<name>.toml` from the adapters directory, its
//! sha256, the compiled artefact (from the on-disk cache when the engine can reuse it), vetting,
//! and the linked `InstancePre` that every call instantiates from.

use super::vet::{VetError, vet};
use super::wit::{VersionedAdapter, WitVersion};
use crate::manifest::{Manifest, ManifestError};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Why an adapter could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// File missing or unreadable.
    #[error("adapter `{name}`: cannot read {path}: {source}")]
    Read {
        /// Adapter.
        name: String,
        /// File.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// Manifest refused.
    #[error("adapter `{name}`: {source}")]
    Manifest {
        /// Adapter.
        name: String,
        /// Why.
        source: ManifestError,
    },
    /// The manifest describes another adapter.
    #[error("adapter `{name}`: its manifest names `{found}`")]
    NameMismatch {
        /// Adapter.
        name: String,
        /// Name in the manifest.
        found: String,
    },
    /// Not a valid component.
    #[error("adapter `{name}`: not a valid WebAssembly component: {reason}")]
    Compile {
        /// Adapter.
        name: String,
        /// Why.
        reason: String,
    },
    /// Imports or exports refused.
    #[error("adapter `{name}`: {source}")]
    Vet {
        /// Adapter.
        name: String,
        /// Why.
        source: VetError,
    },
    /// The manifest's WIT version differs from what the component exports.
    #[error("adapter `{name}`: manifest says {manifest} but the component implements {component}")]
    VersionMismatch {
        /// Adapter.
        name: String,
        /// From the manifest.
        manifest: String,
        /// From the exports.
        component: String,
    },
    /// Linking failed (an import's type does not match the host's).
    #[error("adapter `{name}`: cannot be linked: {reason}")]
    Link {
        /// Adapter.
        name: String,
        /// Why.
        reason: String,
    },
}

/// A component's import and export names and its WIT version, from its type alone.
pub struct Surface {
    /// Import names.
    pub imports: Vec<String>,
    /// Export names.
    pub exports: Vec<String>,
}

/// Reads import and export names from a compiled component.
pub fn surface(engine: &Engine, component: &Component) -> Surface {
    let ty = component.component_type();
    Surface {
        imports: ty.imports(engine).map(|(n, _)| n.to_string()).collect(),
        exports: ty.exports(engine).map(|(n, _)| n.to_string()).collect(),
    }
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A loaded, vetted and linked adapter.
pub struct LoadedAdapter {
    /// Name.
    pub name: String,
    /// Manifest.
    pub manifest: Manifest,
    /// SHA-256 of the `.wasm` file.
    pub sha256: [u8; 32],
    /// Size of the `.wasm` file.
    pub size: usize,
    /// WIT version implemented.
    pub version: WitVersion,
    /// Import names.
    pub imports: Vec<String>,
    /// Export names.
    pub exports: Vec<String>,
    /// Whether the compiled artefact came from the disk cache.
    pub from_cache: bool,
    /// Time taken to load.
    pub load_time: Duration,
    pub(crate) adapter: VersionedAdapter,
}

impl LoadedAdapter {
    /// Hex SHA-256 of the component.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Loads adapter `name` from `dir`.
pub fn load(
    engine: &Engine,
    linker: &wasmtime::component::Linker<super::state::CallState>,
    dir: &Path,
    cache_dir: &Path,
    name: &str,
) -> Result<LoadedAdapter, LoadError> {
    let started = Instant::now();
    let wasm_path = dir.join(format!("{name}.wasm"));
    let manifest_path = dir.join(format!("{name}.toml"));
    let manifest = Manifest::load(&manifest_path).map_err(|source| LoadError::Manifest {
        name: name.into(),
        source,
    })?;
    if manifest.name != name {
        return Err(LoadError::NameMismatch {
            name: name.into(),
            found: manifest.name,
        });
    }
    let bytes = std::fs::read(&wasm_path).map_err(|source| LoadError::Read {
        name: name.into(),
        path: wasm_path.clone(),
        source,
    })?;
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    let (component, from_cache) =
        compile_cached(engine, &bytes, &sha256, cache_dir).map_err(|reason| {
            LoadError::Compile {
                name: name.into(),
                reason,
            }
        })?;
    let Surface { imports, exports } = surface(engine, &component);
    let export_refs: Vec<&str> = exports.iter().map(String::as_str).collect();
    let version =
        vet(imports.iter().map(String::as_str), &export_refs).map_err(|source| LoadError::Vet {
            name: name.into(),
            source,
        })?;
    if version.package() != manifest.wit {
        return Err(LoadError::VersionMismatch {
            name: name.into(),
            manifest: manifest.wit,
            component: version.package().into(),
        });
    }
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| LoadError::Link {
            name: name.into(),
            reason: format!("{e:#}"),
        })?;
    let adapter = VersionedAdapter::new(version, pre).map_err(|e| LoadError::Link {
        name: name.into(),
        reason: format!("{e:#}"),
    })?;
    Ok(LoadedAdapter {
        name: name.into(),
        manifest,
        sha256,
        size: bytes.len(),
        version,
        imports,
        exports,
        from_cache,
        load_time: started.elapsed(),
        adapter,
    })
}

/// The compiled component, from `cache_dir` when a compatible artefact is there; otherwise
/// compiled and written there (atomically) for the next start.
///
/// The artefact's name binds it to the source's SHA-256 and the engine's compatibility hash, so
/// a changed component or engine never picks up a stale artefact. Artefacts are native code: the
/// cache directory must be writable only by the host's own user, like its binary.
pub fn compile_cached(
    engine: &Engine,
    bytes: &[u8],
    sha256: &[u8; 32],
    cache_dir: &Path,
) -> Result<(Component, bool), String> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let path = cache_dir.join(format!(
        "{}-{:016x}.cwasm",
        hex::encode(sha256),
        hasher.finish()
    ));
    if path.exists() {
        // SAFETY: the file was written by `compile_cached` from a component with this SHA-256
        // for an engine with this compatibility hash, in a directory only the host writes.
        // wasmtime still checks the artefact's header against the engine before using it.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, true)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unusable compiled artefact")
            }
        }
    }
    let component = Component::new(engine, bytes).map_err(|e| format!("{e:#}"))?;
    match component.serialize() {
        Ok(artefact) => {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let written = std::fs::create_dir_all(cache_dir)
                .and_then(|_| std::fs::write(&tmp, artefact))
                .and_then(|_| std::fs::rename(&tmp, &path));
            if let Err(e) = written {
                tracing::warn!(dir = %cache_dir.display(), error = %e, "cannot cache the compiled adapter; it will be recompiled on the next start");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot serialise the compiled adapter"),
    }
    Ok((component, false))
}
