//! WIT version detection and dispatch. Each published version of `jack:pms` has a `since_v*`
//! module, frozen with it; [`VersionedAdapter`] picks the one an adapter exports and offers one
//! `invoke` that returns the host's own model types (Zed's extension host is the model).

pub mod docs;
pub mod since_v0_1;

use super::state::CallState;
use crate::model::PmsError;
use crate::operation::{Call, Outcome};
use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

/// The WIT versions this host loads, newest first.
pub const SUPPORTED: &[(&str, &str)] = &[("jack:pms@0.1.0", since_v0_1::ADAPTER_EXPORT)];

/// The version of `jack:pms` an adapter was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitVersion {
    /// `jack:pms@0.1.x`
    V0_1,
}

impl WitVersion {
    /// Finds the version among a component's export names.
    pub fn detect<'a>(exports: impl IntoIterator<Item = &'a str>) -> Option<WitVersion> {
        exports.into_iter().find_map(|name| {
            let version = name.strip_prefix("jack:pms/adapter@")?;
            let mut parts = version.split('.');
            match (parts.next(), parts.next()) {
                (Some("0"), Some("1")) => Some(WitVersion::V0_1),
                _ => None,
            }
        })
    }

    /// The package name and version.
    pub fn package(self) -> &'static str {
        match self {
            WitVersion::V0_1 => "jack:pms@0.1.0",
        }
    }
}

/// Links every supported version's imports (each links under its own versioned names).
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    since_v0_1::add_to_linker(linker)
}

/// A pre-instantiated adapter, of whichever version it is.
pub enum VersionedAdapter {
    /// `jack:pms@0.1.x`
    V0_1(since_v0_1::Adapter),
}

impl VersionedAdapter {
    /// Wraps `pre` as `version`.
    pub fn new(
        version: WitVersion,
        pre: InstancePre<CallState>,
    ) -> wasmtime::Result<VersionedAdapter> {
        Ok(match version {
            WitVersion::V0_1 => VersionedAdapter::V0_1(since_v0_1::Adapter::new(pre)?),
        })
    }

    /// Instantiates and invokes `call`; the outer error is a trap.
    pub async fn invoke(
        &self,
        store: &mut Store<CallState>,
        call: Call,
    ) -> wasmtime::Result<Result<Outcome, PmsError>> {
        match self {
            VersionedAdapter::V0_1(a) => a.invoke(store, call).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_versions_from_export_names() {
        assert_eq!(
            WitVersion::detect(["jack:pms/adapter@0.1.0"]),
            Some(WitVersion::V0_1)
        );
        assert_eq!(
            WitVersion::detect(["jack:pms/adapter@0.1.3"]),
            Some(WitVersion::V0_1)
        );
        assert_eq!(WitVersion::detect(["jack:pms/adapter@0.2.0"]), None);
        assert_eq!(WitVersion::detect(["other:pkg/adapter@0.1.0"]), None);
    }
}
