//! Encryption of personal data at rest: every stored field that can hold a guest's name, email,
//! phone, a note, preferences or a charge description is sealed with XChaCha20-Poly1305 under a
//! data key kept in the vault. The associated data binds each field to its table, row and
//! column, so a sealed value copied into another row or column does not open.

use chacha20poly1305::aead::AeadInPlace as _;
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use std::fmt;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const AAD_PREFIX: &[u8] = b"jack-pms/state/v1/field";

/// A sealed field did not open: wrong key, or the file was altered.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "a sealed {table}.{column} field of row {row} does not decrypt (altered, or a different key)"
)]
pub struct OpenError {
    /// Table.
    pub table: String,
    /// Row id.
    pub row: String,
    /// Column.
    pub column: String,
}

/// Seals and opens fields bound to their row. `Debug` never shows the key.
pub struct FieldCipher {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FieldCipher([REDACTED])")
    }
}

impl FieldCipher {
    /// A cipher over a 32-byte key.
    pub fn new(key: &Zeroizing<[u8; 32]>) -> FieldCipher {
        FieldCipher {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.as_slice())),
        }
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext`, bound to `table`/`row`/`column`.
    pub fn seal(&self, table: &str, row: &str, column: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        out.extend_from_slice(&nonce);
        // Encrypting into a buffer that already holds the nonce would mix them: use a separate
        // zeroized buffer for the plaintext, then append.
        let mut buf = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
        buf.extend_from_slice(plaintext);
        // Encryption with a valid key and a buffer that can grow cannot fail.
        if self
            .cipher
            .encrypt_in_place(
                XNonce::from_slice(&nonce),
                &aad(table, row, column),
                &mut *buf,
            )
            .is_err()
        {
            unreachable!("XChaCha20-Poly1305 encryption into a Vec does not fail");
        }
        out.extend_from_slice(&buf);
        out
    }

    /// The plaintext of a field sealed by [`FieldCipher::seal`] for the same table/row/column.
    pub fn open(
        &self,
        table: &str,
        row: &str,
        column: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let fail = || OpenError {
            table: table.to_owned(),
            row: row.to_owned(),
            column: column.to_owned(),
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(fail());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let mut buf = Zeroizing::new(body.to_vec());
        self.cipher
            .decrypt_in_place(
                XNonce::from_slice(nonce),
                &aad(table, row, column),
                &mut *buf,
            )
            .map_err(|_| fail())?;
        Ok(buf)
    }

    /// Seals a UTF-8 string.
    pub fn seal_str(&self, table: &str, row: &str, column: &str, text: &str) -> Vec<u8> {
        self.seal(table, row, column, text.as_bytes())
    }

    /// Opens a field sealed by [`FieldCipher::seal_str`].
    pub fn open_str(
        &self,
        table: &str,
        row: &str,
        column: &str,
        sealed: &[u8],
    ) -> Result<String, OpenError> {
        let plain = self.open(table, row, column, sealed)?;
        String::from_utf8(plain.to_vec()).map_err(|_| OpenError {
            table: table.to_owned(),
            row: row.to_owned(),
            column: column.to_owned(),
        })
    }
}

/// Length-prefixed parts, so `("a", "bc")` and `("ab", "c")` differ.
fn aad(table: &str, row: &str, column: &str) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(AAD_PREFIX.len() + 12 + table.len() + row.len() + column.len());
    out.extend_from_slice(AAD_PREFIX);
    for part in [table, row, column] {
        out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> FieldCipher {
        FieldCipher::new(&Zeroizing::new([7u8; 32]))
    }

    #[test]
    fn fields_open_only_in_their_own_row_and_column() {
        let c = cipher();
        let sealed = c.seal_str("outbox", "op-1", "payload", "Sarah Chen");
        assert!(!sealed.windows(5).any(|w| w == b"Sarah"));
        assert_eq!(
            c.open_str("outbox", "op-1", "payload", &sealed).unwrap(),
            "Sarah Chen"
        );
        assert!(c.open("outbox", "op-2", "payload", &sealed).is_err());
        assert!(c.open("outbox", "op-1", "error", &sealed).is_err());
        assert!(c.open("outbox", "op-1", "payload", &sealed[..10]).is_err());
        let other = FieldCipher::new(&Zeroizing::new([8u8; 32]));
        assert!(other.open("outbox", "op-1", "payload", &sealed).is_err());
    }
}
