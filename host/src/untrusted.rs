//! Text an adapter or a vendor controls (error messages, log lines, health details, trap
//! reasons), made safe before the host logs it, stores it or answers with it: cut to a byte
//! budget on a character boundary, saying how much was dropped, and with every control character
//! escaped, so that no newline can forge a log line and no ANSI escape can repaint a terminal.
//!
//! Data fields (a guest's name, a note) are not passed through here: they travel as JSON, whose
//! encoder escapes control characters itself, and are bounded by the contract's validation.

use std::fmt::Write as _;

/// Longest adapter error text kept, bytes (errors reach the API answer, the log, the audit log
/// once per attempt and `write.failed` events).
pub const MAX_ERROR_BYTES: usize = 2048;

/// `text` with control characters escaped (`\n` as `\\n`, ESC as `\\u{1b}`, …) and cut to at
/// most `max_bytes` bytes of the escaped form, plus a note of how many bytes of `text` were left
/// out. Printable text, including non-ASCII letters, is kept as is.
pub fn escape(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes) + 16);
    for (at, c) in text.char_indices() {
        let before = out.len();
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // C0, DEL, C1 (CSI and friends), and the Unicode line and paragraph separators and
            // bidirectional overrides, which some viewers treat as line breaks or reorderings.
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                ) =>
            {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
        if out.len() > max_bytes {
            out.truncate(before);
            let dropped = text.len().saturating_sub(at);
            let _ = write!(out, "… ({dropped} more bytes dropped)");
            return out;
        }
    }
    out
}

/// [`escape`] with the budget of an adapter's error text.
pub fn error_text(text: &str) -> String {
    escape(text, MAX_ERROR_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_length_is_bounded() {
        assert_eq!(escape("plain text, été", 100), "plain text, été");
        assert_eq!(
            escape("line\nINFO forged\r\x1b[31mred\x07", 100),
            "line\\nINFO forged\\r\\u{1b}[31mred\\u{7}"
        );
        assert_eq!(escape("a\u{2028}b\u{202e}c", 100), "a\\u{2028}b\\u{202e}c");
        let long = "é".repeat(5000);
        let cut = escape(&long, 100);
        assert!(cut.len() < 140, "{}", cut.len());
        assert!(cut.ends_with("more bytes dropped)"), "{cut}");
        assert!(cut.starts_with("éé"));
    }
}
