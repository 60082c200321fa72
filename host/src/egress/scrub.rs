//! Removes secret values from what flows back to the guest (response bodies and headers) and
//! from error messages, in the forms a server might echo them: raw, percent-encoded and
//! JSON-escaped.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// The byte patterns to remove for a set of secret values, found with one Aho-Corasick pass
/// (its SIMD prefilter skips most of a large body without looking at each byte).
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    /// `None` when there is nothing to scrub.
    matcher: Option<Matcher>,
}

#[derive(Clone, Debug)]
enum Matcher {
    /// Leftmost-longest, so that a secret and its longer encoded form both go entirely.
    Patterns(AhoCorasick),
    /// The automaton could not be built (it cannot for a few secrets of sane size, but if it
    /// ever did): everything is redacted rather than risk a leak.
    Everything,
}

impl Scrubber {
    /// Patterns for `secrets` and their common encodings. Empty values are ignored.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Scrubber {
        let mut patterns = Vec::new();
        for s in secrets.into_iter().filter(|s| !s.is_empty()) {
            patterns.push(s.as_bytes().to_vec());
            let form: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            patterns.push(form.into_bytes());
            if let Ok(json) = serde_json::to_string(s) {
                let inner = &json[1..json.len() - 1];
                patterns.push(inner.as_bytes().to_vec());
                // Some encoders also escape `/`.
                patterns.push(inner.replace('/', "\\/").into_bytes());
            }
        }
        if patterns.is_empty() {
            return Scrubber { matcher: None };
        }
        patterns.sort();
        patterns.dedup();
        // A scrubber is built per request (secrets and tokens rotate), so the automaton is the
        // one that builds fastest; the prefilter does most of the searching anyway.
        let matcher = match AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&patterns)
        {
            Ok(automaton) => Matcher::Patterns(automaton),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the secret scrubber; redacting everything");
                Matcher::Everything
            }
        };
        Scrubber {
            matcher: Some(matcher),
        }
    }

    /// True when there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// `bytes` with every pattern replaced by [`REDACTED`].
    pub fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let automaton = match &self.matcher {
            None => return bytes,
            Some(Matcher::Everything) => return REDACTED.as_bytes().to_vec(),
            Some(Matcher::Patterns(automaton)) => automaton,
        };
        // Copied only from the first match on: a body without secrets is handed back as is.
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        for found in automaton.find_iter(&bytes) {
            let out = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
            out.extend_from_slice(&bytes[copied..found.start()]);
            out.extend_from_slice(REDACTED.as_bytes());
            copied = found.end();
        }
        match out {
            None => bytes,
            Some(mut out) => {
                out.extend_from_slice(&bytes[copied..]);
                out
            }
        }
    }

    /// `text` with every pattern replaced.
    pub fn text(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        String::from_utf8_lossy(&self.bytes(text.as_bytes().to_vec())).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_raw_and_encoded_forms() {
        let s = Scrubber::new(["s3cr/t+key\"x"]);
        let body =
            br#"{"echo":"s3cr\/t+key\"x","form":"s3cr%2Ft%2Bkey%22x","raw":s3cr/t+key"x}"#.to_vec();
        let out = String::from_utf8(s.bytes(body)).unwrap();
        assert!(!out.contains("s3cr"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 3, "{out}");
        assert_eq!(s.text("no secret here"), "no secret here");
        assert!(Scrubber::new([""]).is_empty());
    }

    #[test]
    fn a_secret_inside_a_longer_one_leaves_no_tail() {
        let s = Scrubber::new(["tok", "tok-long-9"]);
        let out = s.bytes(b"[tok-long-9][tok][to]".to_vec());
        assert_eq!(out, b"[[REDACTED]][[REDACTED]][to]");
    }
}
