//! `Sec-WebSocket-Accept` (§1.3, §4.2.2 step 5.4).

use sha1::{Digest as _, Sha1};

/// The GUID appended to the key before hashing (§1.3, §4.2.2 step 5.4).
pub(crate) const WEBSOCKET_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A `Sec-WebSocket-Accept` value: base64 of a 20-byte SHA-1 digest, always 28 ASCII
/// characters, held inline (no allocation).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AcceptKey {
    /// INVARIANT: every byte is from the base64 alphabet or `=` (ASCII, so UTF-8): the
    /// only constructor is [`encode_digest`].
    base64: [u8; 28],
}

impl AcceptKey {
    /// The value as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Checked, and cannot fail: only the base64 encoder builds a key, and it writes
        // ASCII alone. A bug there must be loud, not an empty header value.
        match core::str::from_utf8(&self.base64) {
            Ok(text) => text,
            Err(_) => unreachable!("an accept key holds base64 ASCII only"),
        }
    }

    /// The value as bytes (28 of them).
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8] {
        &self.base64
    }
}

impl core::fmt::Debug for AcceptKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl core::fmt::Display for AcceptKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for AcceptKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for AcceptKey {
    fn as_ref(&self) -> &[u8] {
        &self.base64
    }
}

/// Computes the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` value: base64 of
/// the SHA-1 of the key (as sent, not decoded) followed by the GUID
/// `258EAFA5-E914-47DA-95CA-C5AB0DC85B11` (§4.2.2 step 5.4).
///
/// For servers whose HTTP stack already parsed the request (hyper, axum): pass the
/// header's value, trimmed of surrounding whitespace. This function does not check the
/// key; [`validate_request_headers`](super::validate_request_headers) does.
///
/// ```
/// // The example of §1.3 and §4.2.2.
/// let accept = rfc6455::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &[u8]) -> AcceptKey {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(WEBSOCKET_GUID);
    encode_digest(&sha.finalize().into())
}

/// Base64 (RFC 4648 §4, with padding) of a SHA-1 digest: seven groups of three bytes,
/// the last one short by a byte, make 27 characters and a `=`. Written out for the fixed
/// size rather than through the `base64` engine, whose general loop costs more than the
/// encoding itself here. Writes only bytes of the alphabet and `=`, into a fixed array.
fn encode_digest(digest: &[u8; 20]) -> AcceptKey {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut padded = [0u8; 21];
    padded[..20].copy_from_slice(digest);
    let mut base64 = [0u8; 28];
    for (group, chars) in padded.chunks_exact(3).zip(base64.chunks_exact_mut(4)) {
        let bits = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for (i, c) in chars.iter_mut().enumerate() {
            *c = ALPHABET[(bits >> (18 - 6 * i) & 63) as usize];
        }
    }
    base64[27] = b'=';
    AcceptKey { base64 }
}

/// Whether `key` is base64 (RFC 4648 §4, with padding) of exactly 16 bytes (§4.2.1 item
/// 5), checked on its shape without decoding: 16 bytes are 128 bits, 21 characters of 6
/// bits and 2 bits in a 22nd, whose 4 low bits must be zero (RFC 4648 §3.5: only keys
/// that some 16 bytes encode to), then the padding `==`.
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    match key {
        [sextets @ .., last, b'=', b'='] if key.len() == 24 => {
            // Branch-free over the 21 characters: keys are almost always valid.
            sextets.iter().fold(true, |ok, &b| ok & BASE64[b as usize])
                && matches!(last, b'A' | b'Q' | b'g' | b'w')
        }
        _ => false,
    }
}

/// `BASE64[b]`: `b` is in the RFC 4648 §4 alphabet.
static BASE64: [bool; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [false; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    #[test]
    fn rfc_example_section_1_3() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_bytes(),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn digest_encoding_matches_the_base64_engine() {
        let mut digest = [0u8; 20];
        for seed in 0..=255u8 {
            for (i, b) in digest.iter_mut().enumerate() {
                #[allow(clippy::cast_possible_truncation)]
                let i = i as u8;
                *b = seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(seed | 1)) ^ (i << 3);
            }
            let mut expected = [0u8; 28];
            base64::engine::general_purpose::STANDARD
                .encode_slice(digest, &mut expected)
                .unwrap();
            let key = encode_digest(&digest);
            assert_eq!(key.as_bytes(), expected, "{digest:?}");
            assert_eq!(key.as_str().as_bytes(), expected, "{digest:?}");
        }
        assert_eq!(
            encode_digest(&[0xff; 20]).as_str(),
            "//////////////////////////8="
        );
        assert_eq!(
            encode_digest(&[0; 20]).as_str(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        );
    }

    #[test]
    fn key_validation() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(is_valid_key(b"AAAAAAAAAAAAAAAAAAAAAA=="));
        // 15 bytes, 17 bytes, missing padding, bad alphabet, non-canonical last char.
        assert!(!is_valid_key(b"AAAAAAAAAAAAAAAAAAAA"));
        assert!(!is_valid_key(b"AAAAAAAAAAAAAAAAAAAAAAA="));
        assert!(!is_valid_key(b"AAAAAAAAAAAAAAAAAAAAAA"));
        assert!(!is_valid_key(b"AAAAAAAAAAAAAAAAAAAAA*=="));
        assert!(!is_valid_key(b"AAAAAAAAAAAAAAAAAAAAAB=="));
        assert!(!is_valid_key(b""));
    }

    #[test]
    fn key_shape_check_matches_decoding() {
        let decodes_to_16 = |key: &[u8]| {
            let mut decoded = [0u8; 18];
            key.len() == 24
                && matches!(
                    base64::engine::general_purpose::STANDARD.decode_slice(key, &mut decoded),
                    Ok(16)
                )
        };
        let valid = *b"dGhlIHNhbXBsZSBub25jZQ==";
        for at in 0..24 {
            for b in 0..=255u8 {
                let mut key = valid;
                key[at] = b;
                assert_eq!(is_valid_key(&key), decodes_to_16(&key), "{key:?}");
            }
        }
        for len in 0..30 {
            let key = alloc::vec![b'A'; len];
            assert_eq!(is_valid_key(&key), decodes_to_16(&key), "{len}");
        }
    }
}
