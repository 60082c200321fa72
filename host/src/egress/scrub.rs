//! Removes secret values from what flows back to the guest (response bodies and headers) and
//! from error messages, in the forms a server might echo them: raw, percent-encoded and
//! JSON-escaped.

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// The byte patterns to remove for a set of secret values, longest first.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    patterns: Vec<Vec<u8>>,
    /// Whether a pattern starts with this byte (256 entries when there are patterns): most bytes
    /// of a large body are skipped with one lookup instead of a comparison per pattern.
    first: Vec<bool>,
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
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        patterns.dedup();
        let mut first = vec![false; 256];
        for p in &patterns {
            if let Some(&b) = p.first() {
                first[usize::from(b)] = true;
            }
        }
        Scrubber { patterns, first }
    }

    /// True when there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `bytes` with every pattern replaced by [`REDACTED`].
    pub fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        if self.patterns.is_empty() {
            return bytes;
        }
        // Copied only from the first match on: a body without secrets is handed back as is.
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut i = 0;
        while i < bytes.len() {
            if self.first[usize::from(bytes[i])]
                && let Some(p) = self.patterns.iter().find(|p| bytes[i..].starts_with(p))
            {
                let out = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
                out.extend_from_slice(&bytes[copied..i]);
                out.extend_from_slice(REDACTED.as_bytes());
                i += p.len();
                copied = i;
                continue;
            }
            i += 1;
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
        if self.patterns.is_empty() {
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
}
