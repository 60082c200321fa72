//! The vault's master key: 32 random bytes, written as standard base64 (44 characters).
//!
//! The key encrypts every value in the vault ([`super::store::Vault`]). It is read from an
//! environment variable or from a file only its owner can read, and it is never logged:
//! its `Debug` is redacted, and no error message repeats any part of it.
use super::VaultError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305};
use rand::RngCore as _;
use std::fmt;
use std::io::Read as _;
use std::path::Path;
use zeroize::Zeroizing;

/// The length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// A key file larger than this cannot hold a key; it is refused before being read.
const MAX_KEY_FILE_LEN: u64 = 4096;

/// The vault's master key: 32 bytes, zeroized when dropped, never shown by `Debug`.
pub struct MasterKey(Box<Zeroizing<[u8; MASTER_KEY_LEN]>>);

impl MasterKey {
    /// A new random key (from the operating system's CSPRNG via `rand`'s thread RNG).
    pub fn generate() -> MasterKey {
        let mut bytes = Box::new(Zeroizing::new([0u8; MASTER_KEY_LEN]));
        rand::rng().fill_bytes(bytes.as_mut_slice());
        MasterKey(bytes)
    }

    /// Parses a key written as standard base64 (with padding) of exactly 32 bytes.
    /// Surrounding whitespace is ignored. Errors say what is wrong, never what was given.
    pub fn parse(text: &str) -> Result<MasterKey, VaultError> {
        decode(text).map_err(|problem| VaultError::MasterKey(format!("the key {problem}")))
    }

    /// Reads the key from environment variable `var` (standard base64 of 32 bytes;
    /// surrounding whitespace is ignored).
    pub fn from_env(var: &str) -> Result<MasterKey, VaultError> {
        let value = match std::env::var_os(var).map(std::ffi::OsString::into_string) {
            None => {
                return Err(VaultError::MasterKey(format!(
                    "environment variable `{var}` is not set; generate a key with `jack-pms vault new-key`"
                )));
            }
            Some(Err(raw)) => {
                drop(Zeroizing::new(raw.into_encoded_bytes()));
                return Err(VaultError::MasterKey(format!(
                    "environment variable `{var}` is not valid UTF-8"
                )));
            }
            Some(Ok(text)) => Zeroizing::new(text),
        };
        let text: &str = &value;
        decode(text).map_err(|problem| {
            VaultError::MasterKey(format!("environment variable `{var}` {problem}"))
        })
    }

    /// Reads the key from a file (its contents, trimmed: standard base64 of 32 bytes).
    ///
    /// On unix the file must not be accessible to group or others (mode `0600` or `0400`):
    /// a wider mode is refused, naming the path and the mode.
    pub fn from_file(path: &Path) -> Result<MasterKey, VaultError> {
        let shown = path.display();
        let mut file = std::fs::File::open(path)
            .map_err(|e| VaultError::MasterKey(format!("cannot open key file `{shown}`: {e}")))?;
        let meta = file.metadata().map_err(|e| {
            VaultError::MasterKey(format!("cannot inspect key file `{shown}`: {e}"))
        })?;
        if !meta.is_file() {
            return Err(VaultError::MasterKey(format!(
                "key file `{shown}` is not a regular file"
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(VaultError::MasterKey(format!(
                    "key file `{shown}` is accessible by group or others (mode {mode:04o}); \
                     restrict it with `chmod 600 {shown}`"
                )));
            }
        }
        if meta.len() > MAX_KEY_FILE_LEN {
            return Err(VaultError::MasterKey(format!(
                "key file `{shown}` is {} bytes long, too long to hold a key",
                meta.len()
            )));
        }
        // Capacity for the whole file up front, so the buffer is never reallocated
        // (which would leave an unzeroized copy behind).
        let mut raw = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN as usize + 1));
        (&mut file)
            .take(MAX_KEY_FILE_LEN + 1)
            .read_to_end(&mut raw)
            .map_err(|e| VaultError::MasterKey(format!("cannot read key file `{shown}`: {e}")))?;
        let text = std::str::from_utf8(&raw)
            .map_err(|_| VaultError::MasterKey(format!("key file `{shown}` is not valid UTF-8")))?;
        decode(text)
            .map_err(|problem| VaultError::MasterKey(format!("key file `{shown}` {problem}")))
    }

    /// The key as standard base64 (44 characters), e.g. for a `jack-pms vault new-key` command
    /// to print once. The string is zeroized when dropped.
    pub fn to_base64(&self) -> Zeroizing<String> {
        // Exact capacity, so encoding never reallocates.
        let mut out = Zeroizing::new(String::with_capacity(
            base64::encoded_len(MASTER_KEY_LEN, true).unwrap_or(44),
        ));
        STANDARD.encode_string(self.0.as_slice(), &mut out);
        out
    }

    /// The AEAD cipher keyed with this key (the cipher zeroizes its copy of the key on drop).
    pub(crate) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.0.as_slice()))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// Decodes a key; the error is a phrase completing "<source> …" and never quotes the input.
fn decode(text: &str) -> Result<MasterKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty; generate a key with `jack-pms vault new-key`".to_owned());
    }
    let decoded = Zeroizing::new(STANDARD.decode(text).map_err(|e| {
        // DecodeError's own Display names the offending byte, which is key material: not used.
        let detail = match e {
            base64::DecodeError::InvalidByte(at, _) => {
                format!("an invalid character at position {}", at + 1)
            }
            base64::DecodeError::InvalidLength(_) => {
                "a length that is not possible for base64".to_owned()
            }
            base64::DecodeError::InvalidLastSymbol(at, _) => {
                format!("a non-canonical last character at position {}", at + 1)
            }
            base64::DecodeError::InvalidPadding => "missing or wrong `=` padding".to_owned(),
        };
        format!("is not valid standard base64 ({detail})")
    })?);
    if decoded.len() != MASTER_KEY_LEN {
        return Err(format!(
            "decodes to {} bytes, but a master key is exactly {MASTER_KEY_LEN} bytes \
             (44 base64 characters)",
            decoded.len()
        ));
    }
    let mut bytes = Box::new(Zeroizing::new([0u8; MASTER_KEY_LEN]));
    bytes.copy_from_slice(&decoded);
    Ok(MasterKey(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_roundtrips_through_base64() {
        let k = MasterKey::generate();
        let text = k.to_base64();
        assert_eq!(text.len(), 44);
        let back = MasterKey::parse(&format!("  {}\n", text.as_str())).unwrap();
        assert_eq!(back.to_base64(), text);
        assert_ne!(MasterKey::generate().to_base64(), text);
    }

    #[test]
    fn parse_errors_name_the_problem_not_the_input() {
        // Not base64: the message names the problem and position, not the character.
        let bad = "QUJD!EVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";
        let e = MasterKey::parse(bad).unwrap_err().to_string();
        assert!(e.contains("not valid standard base64"), "{e}");
        assert!(e.contains("position 5"), "{e}");
        assert!(!e.contains('!') && !e.contains("QUJD"), "{e}");

        // 31 bytes.
        let short = STANDARD.encode([7u8; 31]);
        let e = MasterKey::parse(&short).unwrap_err().to_string();
        assert!(e.contains("decodes to 31 bytes"), "{e}");
        assert!(e.contains("exactly 32 bytes"), "{e}");
        assert!(!e.contains(&short[..8]), "{e}");

        // 33 bytes.
        let long = STANDARD.encode([7u8; 33]);
        let e = MasterKey::parse(&long).unwrap_err().to_string();
        assert!(e.contains("decodes to 33 bytes"), "{e}");

        let e = MasterKey::parse("   ").unwrap_err().to_string();
        assert!(e.contains("is empty"), "{e}");

        let e = MasterKey::parse("abc").unwrap_err().to_string();
        assert!(
            e.starts_with("master key: the key is not valid standard base64"),
            "{e}"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let k = MasterKey::generate();
        let d = format!("{k:?} {k:#?}");
        assert!(!d.contains(k.to_base64().as_str()));
        assert_eq!(format!("{k:?}"), "MasterKey([REDACTED])");
    }

    #[test]
    fn from_env_reads_and_names_the_variable() {
        let k = MasterKey::generate();
        // SAFETY: these tests use variable names no other test reads or writes.
        unsafe {
            std::env::set_var("JACK_PMS_TEST_MK_OK", k.to_base64().as_str());
            std::env::set_var("JACK_PMS_TEST_MK_BAD", "not-a-key");
            std::env::remove_var("JACK_PMS_TEST_MK_UNSET");
        }
        let back = MasterKey::from_env("JACK_PMS_TEST_MK_OK").unwrap();
        assert_eq!(back.to_base64(), k.to_base64());

        let e = MasterKey::from_env("JACK_PMS_TEST_MK_UNSET")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`JACK_PMS_TEST_MK_UNSET` is not set"), "{e}");

        let e = MasterKey::from_env("JACK_PMS_TEST_MK_BAD")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`JACK_PMS_TEST_MK_BAD`"), "{e}");
        assert!(e.contains("not valid standard base64"), "{e}");
        assert!(!e.contains("not-a-key"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_mode_is_checked() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let k = MasterKey::generate();
        std::fs::write(&path, format!("{}\n", k.to_base64().as_str())).unwrap();

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = MasterKey::from_file(&path).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("mode 0644"), "{e}");
        assert!(!e.contains(k.to_base64().as_str()), "{e}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(MasterKey::from_file(&path).is_err());

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let back = MasterKey::from_file(&path).unwrap();
        assert_eq!(back.to_base64(), k.to_base64());

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(MasterKey::from_file(&path).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_errors_name_the_path() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.key");
        let e = MasterKey::from_file(&missing).unwrap_err().to_string();
        assert!(e.contains(&missing.display().to_string()), "{e}");

        let bad = dir.path().join("bad.key");
        let short = STANDARD.encode([1u8; 31]);
        std::fs::write(&bad, &short).unwrap();
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = MasterKey::from_file(&bad).unwrap_err().to_string();
        assert!(e.contains(&bad.display().to_string()), "{e}");
        assert!(e.contains("decodes to 31 bytes"), "{e}");
        assert!(!e.contains(&short[..8]), "{e}");
    }
}
