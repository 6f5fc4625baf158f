//! The approval token: `"sha256:" + hex(sha256(canonical batch bytes ‖
//! base genid))`. It covers the exact batch `apply` will send (so any
//! change of the plan changes it) and the generation of the live ruleset
//! it was planned against (so any commit by anyone since changes it).

use sha2::{Digest, Sha256};

use crate::engine::Transaction;
use crate::error::Result;

/// The prefix of every token.
pub const TOKEN_PREFIX: &str = "sha256:";

/// The token of `batch` planned against generation `base_genid`. The
/// genid is appended as 4 big-endian bytes.
pub fn approval_token(batch: &Transaction, base_genid: u32) -> Result<String> {
    let bytes = batch.canonical_bytes()?;
    Ok(token_of(&bytes, base_genid))
}

/// The token of already-encoded canonical batch bytes.
pub fn token_of(canonical: &[u8], base_genid: u32) -> String {
    let mut h = Sha256::new();
    h.update(canonical);
    h.update(base_genid.to_be_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(TOKEN_PREFIX.len() + 64);
    out.push_str(TOKEN_PREFIX);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `text` has the shape of a token (`sha256:` and 64 lowercase
/// hex digits).
pub fn is_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| HEX.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // sha256("abc" ‖ 00 00 00 00), computed independently with
        // `printf 'abc\0\0\0\0' | sha256sum`.
        let t = token_of(b"abc", 0);
        assert!(is_token(&t), "{t}");
        assert_eq!(t, format!("sha256:{}", KNOWN));
        assert_ne!(token_of(b"abc", 1), t);
        assert!(!is_token("sha256:xyz"));
    }

    const KNOWN: &str = "cf2db1ac9867debdf8ce91f99f141e5544bf26ca36b3fd4f8e4035eec42cab0d";
}
