//! The WIT documentation of the interfaces this host provides and expects, for the reviewer's
//! report of `jack-pms adapter inspect`: what each import a component uses lets it do, in the
//! contract's own words. Read from the WIT files the host is built with.

use std::collections::BTreeMap;

/// The WIT sources of `jack:pms@0.1.0`.
const SOURCES: &[&str] = &[
    include_str!("../../../../wit/types.wit"),
    include_str!("../../../../wit/host.wit"),
    include_str!("../../../../wit/adapter.wit"),
];

/// One interface's documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceDocs {
    /// The interface's own doc comment.
    pub docs: String,
    /// Each function with its doc comment, in declaration order.
    pub functions: Vec<(String, String)>,
}

/// Every interface of the host's WIT package, by name (`http`, `adapter`, …).
pub fn interfaces() -> BTreeMap<String, InterfaceDocs> {
    let mut all = BTreeMap::new();
    for source in SOURCES {
        parse(source, &mut all);
    }
    all
}

/// The docs of the interface a component import or export names (`jack:pms/http@0.1.0`).
pub fn for_item(name: &str) -> Option<InterfaceDocs> {
    let interface = name.strip_prefix("jack:pms/")?.split('@').next()?;
    interfaces().remove(interface)
}

/// Collects `///` comments in front of `interface NAME {` and of `NAME: func(` lines; nested
/// types (records, enums) take their comments with them.
fn parse(source: &str, into: &mut BTreeMap<String, InterfaceDocs>) {
    let mut pending: Vec<&str> = Vec::new();
    let mut current: Option<String> = None;
    let mut depth = 0usize;
    for line in source.lines().map(str::trim) {
        if let Some(doc) = line.strip_prefix("///") {
            pending.push(doc.trim());
            continue;
        }
        let docs = pending.join(" ");
        pending.clear();
        if depth == 0 {
            if let Some(name) = line
                .strip_prefix("interface ")
                .and_then(|rest| rest.strip_suffix('{'))
            {
                let name = name.trim().to_string();
                into.entry(name.clone()).or_default().docs = docs;
                current = Some(name);
            }
        } else if depth == 1
            && let (Some(interface), Some((name, _))) = (&current, line.split_once(": func("))
            && let Some(entry) = into.get_mut(interface)
        {
            entry.functions.push((name.trim().to_string(), docs));
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
        if depth == 0 {
            current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_is_documented() {
        let all = interfaces();
        let http = &all["http"];
        assert!(
            http.docs.contains("only way out of the sandbox"),
            "{http:?}"
        );
        assert_eq!(http.functions.len(), 1);
        assert_eq!(http.functions[0].0, "send");
        let adapter = for_item("jack:pms/adapter@0.1.0").unwrap();
        assert_eq!(adapter.functions.len(), 16);
        assert!(
            adapter
                .functions
                .iter()
                .all(|(name, docs)| !docs.is_empty() || name.is_empty()),
            "every export is documented: {adapter:?}"
        );
        assert!(for_item("wasi:io/streams@0.2.0").is_none());
    }
}
