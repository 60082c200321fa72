//! The reference Jack's notes carry, for vendors that give no other way to read a write back.
//!
//! `find-write` must tell whether a note reached the PMS after an attempt whose outcome is
//! unknown. Where the vendor keeps no reference of ours on a note (Mews service-order notes,
//! Cloudbeds reservation notes and adjustments), the note itself has to carry one. Hotel staff
//! read that note in the PMS, so the reference is short and says what it is:
//!
//! ```text
//! Late arrival, around 23:00 (via Jack, ref 3f9a1c2e)
//! ```
//!
//! `ref` is the last eight hex digits of the host's operation id (`op-…3f9a1c2e`), so staff can
//! find the write in `jack-pms audit list`. Notes written by earlier versions carried
//! `[jack-op:<operation id>]`; they are still recognised and stripped.
//!
//! ```
//! use jack_pms_sdk::notes;
//!
//! let op = "op-6f1c0e5d2b8a4c7e9d3f1a2b3f9a1c2e";
//! let written = notes::with_reference("Late arrival", op);
//! assert_eq!(written, "Late arrival (via Jack, ref 3f9a1c2e)");
//! assert!(notes::has_reference(&written, op));
//! assert!(!notes::has_reference(&written, "op-00000000000000000000000000000000"));
//! assert_eq!(notes::strip_reference(&written), "Late arrival");
//! // Staff's own notes are left as they are.
//! assert_eq!(notes::strip_reference("Call the guest (room 12)"), "Call the guest (room 12)");
//! ```

/// What comes before the reference.
const OPEN: &str = " (via Jack, ref ";
/// The marker of earlier versions: `[jack-op:<operation id>]`.
const LEGACY: &str = "[jack-op:";

/// The eight-character reference of `operation_id`: its last eight hex digits, or (for an id
/// with fewer) a 32-bit FNV-1a hash of it, in lowercase hex.
///
/// ```
/// use jack_pms_sdk::notes::reference;
///
/// assert_eq!(reference("op-6f1c0e5d2b8a4c7e9d3f1a2b3F9A1C2E"), "3f9a1c2e");
/// assert_eq!(reference("x").len(), 8);
/// ```
pub fn reference(operation_id: &str) -> String {
    let hex: Vec<u8> = operation_id
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if hex.len() >= 8 {
        return String::from_utf8_lossy(&hex[hex.len() - 8..]).into_owned();
    }
    let hash = operation_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{hash:08x}")
}

/// `text` with the reference of `operation_id` appended.
///
/// ```
/// use jack_pms_sdk::notes::with_reference;
///
/// assert_eq!(
///     with_reference("Extra towels ", "op-00000000000000000000000012345678"),
///     "Extra towels (via Jack, ref 12345678)"
/// );
/// ```
pub fn with_reference(text: &str, operation_id: &str) -> String {
    format!("{}{OPEN}{})", text.trim_end(), reference(operation_id))
}

/// Whether `text` carries the reference of `operation_id` (or an earlier version's marker).
///
/// ```
/// use jack_pms_sdk::notes::has_reference;
///
/// let op = "op-00000000000000000000000012345678";
/// assert!(has_reference("Extra towels (via Jack, ref 12345678)", op));
/// assert!(has_reference("Extra towels [jack-op:op-00000000000000000000000012345678]", op));
/// assert!(!has_reference("Extra towels", op));
/// ```
pub fn has_reference(text: &str, operation_id: &str) -> bool {
    let text = text.trim_end();
    text.ends_with(&format!("{OPEN}{})", reference(operation_id)))
        || text.ends_with(&format!("{LEGACY}{operation_id}]"))
}

/// `text` as Jack wrote it: without a trailing reference (or an earlier version's marker).
///
/// ```
/// use jack_pms_sdk::notes::strip_reference;
///
/// assert_eq!(strip_reference("Extra towels (via Jack, ref 12345678)"), "Extra towels");
/// assert_eq!(strip_reference("Call back (room 12)"), "Call back (room 12)");
/// ```
pub fn strip_reference(text: &str) -> &str {
    let trimmed = text.trim_end();
    if let Some(at) = trimmed.rfind(OPEN) {
        let tag = &trimmed[at + OPEN.len()..];
        if tag.len() == 9 && tag.ends_with(')') && tag[..8].bytes().all(|b| b.is_ascii_hexdigit()) {
            return trimmed[..at].trim_end();
        }
    }
    match trimmed.rfind(LEGACY) {
        Some(at) if trimmed.ends_with(']') => trimmed[..at].trim_end(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_short_stable_and_found_again() {
        let op = "op-0123456789abcdef0123456789ABCDEF";
        assert_eq!(reference(op), "89abcdef");
        assert_eq!(reference(op), reference(op));
        let short = reference("x");
        assert_eq!(short.len(), 8);
        assert_ne!(short, reference("y"));
        let note = with_reference("Extra towels  ", op);
        assert_eq!(note, "Extra towels (via Jack, ref 89abcdef)");
        assert!(has_reference(&note, op));
        assert!(
            has_reference(&format!("{note}\n"), op),
            "trailing whitespace from the PMS"
        );
        assert_eq!(strip_reference(&note), "Extra towels");
    }

    #[test]
    fn earlier_markers_are_still_recognised() {
        for old in [
            "Late checkout [jack-op:op-1]",
            "Late checkout\n[jack-op:op-1]",
        ] {
            assert!(has_reference(old, "op-1"), "{old:?}");
            assert!(!has_reference(old, "op-2"));
            assert_eq!(strip_reference(old), "Late checkout");
        }
    }

    #[test]
    fn staff_text_that_looks_alike_is_left_alone() {
        for text in [
            "plain [x]",
            "see note (via Jack, ref later)",
            "(via Jack, ref 1234)",
        ] {
            assert_eq!(strip_reference(text), text);
        }
    }
}
