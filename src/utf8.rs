//! Incremental UTF-8 validation (§8.1, §5.6) and validated text over [`Bytes`].
//!
//! A text message (§5.6) must be UTF-8 as a whole, but arrives in frames and, below
//! frames, in whatever pieces the transport delivers; a code point may be split across
//! any of them. [`Utf8Validator`] checks each piece as it arrives, carrying at most 3
//! bytes of an unfinished code point over to the next, and fails as soon as the bytes
//! seen so far cannot begin a valid UTF-8 string, so that the endpoint can "_Fail the
//! WebSocket Connection_" (§8.1) without waiting for the rest of the message.
//!
//! The bulk of the work is done by [`simdutf8`], which checks mixed Chinese/ASCII text at
//! 6-16 GB/s where `core::str::from_utf8` manages about 0.7 GB/s (DESIGN.md,
//! "Dependencies"; `benches/micro.rs`, group `utf8`). Without the `std` feature
//! `simdutf8` cannot detect CPU features at run time and uses SIMD only when it is
//! enabled at compile time (`-C target-feature=+avx2`, or NEON on `aarch64`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use bytes::Bytes;

use crate::ProtocolError;

/// Incremental UTF-8 validator for a text message arriving in pieces (§8.1).
///
/// Feed every piece of the message to [`feed`](Self::feed) in order, then call
/// [`finish`](Self::finish) at the end of the message (after the frame with FIN set).
/// Pieces may be cut anywhere, even inside a code point, one byte at a time or all at
/// once: the verdict is the same as for the whole message, and it comes at the earliest
/// piece that makes the message invalid.
///
/// ```
/// use rfc6455::{ProtocolError, Utf8Validator};
///
/// let mut v = Utf8Validator::new();
/// // "€" is E2 82 AC: split across three pieces, it is still valid.
/// v.feed(b"price: \xE2")?;
/// v.feed(b"\x82")?;
/// assert!(v.is_mid_code_point());
/// v.feed(b"\xAC 5")?;
/// v.finish()?;
///
/// // F4 90 would encode a code point above U+10FFFF: invalid at once, whatever follows.
/// assert_eq!(v.feed(b"\xF4\x90"), Err(ProtocolError::InvalidUtf8));
/// # Ok::<(), ProtocolError>(())
/// ```
///
/// After an error the validator stays failed: `feed` and `finish` keep returning the
/// error until [`reset`](Self::reset) (or `finish`, which also resets).
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The start of an unfinished code point, carried over from the previous piece.
    ///
    /// INVARIANT: `pending[..pending_len]` is empty or a proper prefix (1 to 3 bytes) of
    /// the UTF-8 encoding of some code point, and `pending_len == 0` when `failed`.
    pending: [u8; 3],
    /// How many bytes of `pending` are used (0 to 3).
    pending_len: u8,
    /// An invalid sequence was seen since the last reset.
    failed: bool,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Utf8Validator {
            pending: [0; 3],
            pending_len: 0,
            failed: false,
        }
    }

    /// Validates the next piece of the message.
    ///
    /// An empty piece is accepted and changes nothing.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidUtf8`] as soon as the bytes fed since the last reset are
    /// not the beginning of any valid UTF-8 string (§8.1): an invalid byte (`C0`, `C1`,
    /// `F5`-`FF`), a continuation byte with no lead, an overlong encoding (`E0 80`), a
    /// surrogate (`ED A0`), a code point above U+10FFFF (`F4 90`), or a lead byte
    /// followed by too few continuation bytes. A code point that is merely unfinished at
    /// the end of `chunk` is not an error. Once failed, every call returns the error
    /// until [`reset`](Self::reset).
    #[inline]
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), ProtocolError> {
        self.feed_text(chunk).map(|_| ())
    }

    /// Ends the message: checks that it did not stop inside a code point, and resets the
    /// validator for the next message.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidUtf8`] if the message ends with an incomplete code point,
    /// or if an earlier [`feed`](Self::feed) failed.
    pub fn finish(&mut self) -> Result<(), ProtocolError> {
        let complete = self.pending_len == 0 && !self.failed;
        self.reset();
        if complete {
            Ok(())
        } else {
            Err(ProtocolError::InvalidUtf8)
        }
    }

    /// Forgets the current message (pending bytes and any failure).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Whether the bytes fed so far end inside a code point, so that the message cannot
    /// end here (`finish` would fail).
    pub fn is_mid_code_point(&self) -> bool {
        self.pending_len != 0
    }

    /// Whether a [`feed`](Self::feed) since the last reset found invalid UTF-8.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// Validates a whole message at once: the same verdict as [`new`](Self::new), one
    /// [`feed`](Self::feed) and [`finish`](Self::finish), in a single call.
    ///
    /// ```
    /// use rfc6455::Utf8Validator;
    ///
    /// assert_eq!(Utf8Validator::validate("κόσμε".as_bytes()), Ok("κόσμε"));
    /// assert!(Utf8Validator::validate(b"\xED\xA0\x80").is_err()); // a surrogate
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidUtf8`] if `bytes` is not valid UTF-8.
    #[inline]
    pub fn validate(bytes: &[u8]) -> Result<&str, ProtocolError> {
        simdutf8::basic::from_utf8(bytes).map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// As [`feed`](Self::feed), and appends to `out` the text the bytes fed so far
    /// complete: every code point that ends in `chunk` (one left unfinished at its end
    /// is kept, as by `feed`, and appended when a later piece completes it). One pass
    /// checks the bytes and yields the `&str` that is appended, so a message joined
    /// from pieces this way is text without a second check (§8.1).
    ///
    /// `out` is unchanged when the bytes are invalid.
    pub(crate) fn feed_into(
        &mut self,
        chunk: &[u8],
        out: &mut String,
    ) -> Result<(), ProtocolError> {
        let (completed, text) = self.feed_text(chunk)?;
        if let Some(c) = completed {
            out.push(c);
        }
        out.push_str(text);
        Ok(())
    }

    /// The body of `feed`: what `chunk` completes, as the code point left unfinished
    /// before it (if `chunk` ends it) and the checked text after that (up to a code point
    /// `chunk` leaves unfinished, which is kept).
    #[inline]
    fn feed_text<'a>(&mut self, chunk: &'a [u8]) -> Result<(Option<char>, &'a str), ProtocolError> {
        if self.pending_len == 0 && !self.failed {
            Ok((None, self.feed_aligned(chunk)?))
        } else {
            self.feed_pending(chunk)
        }
    }

    /// No pending bytes: split off an unfinished code point at the end of `chunk`, check
    /// the rest in one SIMD pass, and keep the unfinished part if it is a valid start.
    #[inline]
    fn feed_aligned<'a>(&mut self, chunk: &'a [u8]) -> Result<&'a str, ProtocolError> {
        let (complete, tail) = chunk.split_at(unfinished_tail_start(chunk));
        let Ok(text) = simdutf8::basic::from_utf8(complete) else {
            return Err(self.fail());
        };
        if !tail.is_empty() {
            self.keep_if_valid_start(tail)?;
        }
        Ok(text)
    }

    /// Pending bytes (or a failure): complete the code point with the first bytes of
    /// `chunk`, then go on with the rest.
    fn feed_pending<'a>(
        &mut self,
        chunk: &'a [u8],
    ) -> Result<(Option<char>, &'a str), ProtocolError> {
        if self.failed {
            return Err(ProtocolError::InvalidUtf8);
        }
        let have = usize::from(self.pending_len);
        let take = (sequence_len(self.pending[0]) - have).min(chunk.len());
        let mut point = [0; 4];
        point[..have].copy_from_slice(&self.pending[..have]);
        point[have..have + take].copy_from_slice(&chunk[..take]);
        match core::str::from_utf8(&point[..have + take]) {
            Ok(completed) => {
                self.pending_len = 0;
                let text = self.feed_aligned(&chunk[take..])?;
                Ok((completed.chars().next(), text))
            }
            // Still unfinished, and still a valid start: `chunk` was too short to end it.
            Err(e) if e.error_len().is_none() => {
                self.keep(&point[..have + take]);
                Ok((None, ""))
            }
            Err(_) => Err(self.fail()),
        }
    }

    /// Keeps `tail` (1 to 3 bytes, the start of one code point) as pending if it can
    /// begin a valid encoding, else fails.
    fn keep_if_valid_start(&mut self, tail: &[u8]) -> Result<(), ProtocolError> {
        // `tail` holds one lead byte and fewer continuation bytes than it announces, so it
        // cannot be complete; std's error says whether it is a valid start: `error_len()`
        // is `None` exactly when "the end of the input was reached unexpectedly".
        match core::str::from_utf8(tail) {
            Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {
                self.keep(tail);
                Ok(())
            }
            _ => Err(self.fail()),
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        debug_assert!((1..=3).contains(&bytes.len()));
        self.pending[..bytes.len()].copy_from_slice(bytes);
        // At most 3 (the caller's invariant), so the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let len = bytes.len() as u8;
        self.pending_len = len;
    }

    #[cold]
    fn fail(&mut self) -> ProtocolError {
        self.pending_len = 0;
        self.failed = true;
        ProtocolError::InvalidUtf8
    }
}

/// The number of bytes a sequence starting with `lead` announces (1 to 4).
///
/// Invalid leads get a length too (2 for `C0`/`C1`, 4 for `F5`-`FF`); the validation
/// after this rejects them.
#[inline]
fn sequence_len(lead: u8) -> usize {
    match lead {
        0x00..=0xBF => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
    }
}

/// Where a code point left unfinished at the end of `chunk` starts, or `chunk.len()` if
/// the last sequence is complete (or so broken that whole-chunk validation rejects it).
///
/// Looks at the last 3 bytes only: an unfinished sequence is a lead byte followed by at
/// most 2 continuation bytes.
#[inline]
fn unfinished_tail_start(chunk: &[u8]) -> usize {
    let len = chunk.len();
    for back in 1..=len.min(3) {
        let byte = chunk[len - back];
        if byte & 0xC0 != 0x80 {
            // Not a continuation byte: the lead of the last sequence (or ASCII).
            return if sequence_len(byte) > back {
                len - back
            } else {
                len
            };
        }
    }
    len
}

/// Text: [`Bytes`] that hold valid UTF-8.
///
/// What a text message (§5.6) is delivered as, and what text is sent from: the payload
/// stays in the buffer it was unmasked in, shared and reference-counted by [`Bytes`],
/// with the guarantee that it is UTF-8.
///
/// # Cost of `as_str`
///
/// This crate forbids `unsafe`, so a `&str` cannot be made from the bytes without
/// checking them: [`as_str`](Self::as_str), [`Deref`] and [`Display`](fmt::Display)
/// re-check the bytes on every call, with `simdutf8` (well over 10 GB/s with the `std`
/// feature on `x86_64` and `aarch64`). That is cheap next to receiving the bytes, but
/// if you need the `&str` many times, keep it instead of asking again.
/// [`as_bytes`](Self::as_bytes), [`len`](Self::len) and comparisons do not check.
///
/// ```
/// use rfc6455::Utf8Bytes;
///
/// let text = Utf8Bytes::from("κόσμε");
/// assert_eq!(text, "κόσμε");
/// assert_eq!(text.len(), 10); // bytes, as for `str`
/// assert!(text.starts_with('κ')); // `str` methods through `Deref`
///
/// let raw = bytes::Bytes::from_static(b"\xC0\x80");
/// assert!(Utf8Bytes::try_from(raw).is_err()); // an overlong NUL
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(
    /// INVARIANT: valid UTF-8.
    Bytes,
);

impl Utf8Bytes {
    /// Text from a string literal, without copying.
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(text.as_bytes()))
    }

    /// Wraps bytes the caller has already validated, for example incrementally with
    /// [`Utf8Validator`] as the fragments of a message arrived.
    ///
    /// The invariant is re-checked in debug builds only.
    #[allow(
        dead_code,
        reason = "for the connection layer, which validates as it goes"
    )]
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(
            simdutf8::basic::from_utf8(&bytes).is_ok(),
            "Utf8Bytes::from_validated on invalid UTF-8"
        );
        Utf8Bytes(bytes)
    }

    /// The text as a `&str`.
    ///
    /// Re-checks the bytes on each call (see [the type's docs](Self#cost-of-as_str)).
    #[inline]
    pub fn as_str(&self) -> &str {
        match simdutf8::basic::from_utf8(&self.0) {
            Ok(text) => text,
            // Every constructor validates and `Bytes` is immutable, so no safe code can
            // reach this: a bug here must be loud, not an empty string.
            Err(_) => unreachable!("Utf8Bytes holds invalid UTF-8"),
        }
    }

    /// The text as bytes, without any check.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying [`Bytes`], borrowed.
    #[inline]
    pub(crate) fn as_shared_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The underlying [`Bytes`], without copying.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The length in bytes (not in `char`s), as for [`str::len`].
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = ProtocolError;

    /// Validates `bytes`, without copying them.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidUtf8`] if `bytes` is not valid UTF-8.
    fn try_from(bytes: Bytes) -> Result<Self, ProtocolError> {
        Utf8Validator::validate(&bytes)?;
        Ok(Utf8Bytes(bytes))
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = ProtocolError;

    /// Validates `bytes`, without copying them.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidUtf8`] if `bytes` is not valid UTF-8.
    fn try_from(bytes: Vec<u8>) -> Result<Self, ProtocolError> {
        Utf8Bytes::try_from(Bytes::from(bytes))
    }
}

impl From<String> for Utf8Bytes {
    /// Takes the string's buffer, without copying.
    fn from(text: String) -> Self {
        Utf8Bytes(Bytes::from(text))
    }
}

impl From<&str> for Utf8Bytes {
    /// Copies the string; for a `&'static str`, [`Utf8Bytes::from_static`] does not.
    fn from(text: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    /// Same as [`Utf8Bytes::as_str`]: re-checks the bytes on each call.
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    #[inline]
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Utf8Bytes {
    /// Shows the text as a quoted, escaped string, like `str`'s `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Utf8Bytes {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Utf8Bytes> for str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Utf8Bytes> for &str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Utf8Bytes> for String {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::{Utf8Bytes, Utf8Validator};
    use crate::ProtocolError::InvalidUtf8;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use bytes::Bytes;

    /// Feeds `pieces` in order; returns the index of the piece that failed, or
    /// `Ok(finish result)`.
    fn run(pieces: &[&[u8]]) -> Result<bool, usize> {
        let mut v = Utf8Validator::new();
        for (i, piece) in pieces.iter().enumerate() {
            if v.feed(piece).is_err() {
                assert!(v.has_failed());
                assert_eq!(v.finish(), Err(InvalidUtf8));
                return Err(i);
            }
        }
        Ok(v.finish().is_ok())
    }

    #[test]
    fn valid_whole_and_byte_by_byte() {
        let text =
            "ascii, κόσμε, 中文, \u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}😀\u{10FFFF}";
        assert_eq!(run(&[text.as_bytes()]), Ok(true));
        let bytes: Vec<&[u8]> = text.as_bytes().chunks(1).collect();
        assert_eq!(run(&bytes), Ok(true));
        assert_eq!(run(&[]), Ok(true));
        assert_eq!(run(&[b"", b"", b""]), Ok(true));
    }

    /// §8.1: the verdict comes at the first piece after which the bytes cannot begin a
    /// valid UTF-8 string, not at the end of the message.
    #[test]
    fn fails_fast_on_an_invalid_start() {
        let cases: &[(&[u8], &str)] = &[
            (b"\xC0", "C0 can only start an overlong encoding"),
            (b"\xC1", "C1 can only start an overlong encoding"),
            (b"\xF5", "F5 would start a code point above U+10FFFF"),
            (b"\xFF", "FF is never UTF-8"),
            (b"\x80", "a continuation byte with no lead"),
            (b"\xE0\x80", "overlong 3-byte encoding"),
            (b"\xF0\x80", "overlong 4-byte encoding"),
            (b"\xED\xA0", "a UTF-16 surrogate (U+D800)"),
            (b"\xF4\x90", "above U+10FFFF"),
            (
                b"\xE2\x82A",
                "lead byte followed by too few continuation bytes",
            ),
            (b"\xC2A", "lead byte followed by ASCII"),
        ];
        for (bad, why) in cases {
            // After valid text in the same piece.
            let mut piece = b"ok ".to_vec();
            piece.extend_from_slice(bad);
            assert_eq!(run(&[&piece, b"more"]), Err(0), "{why}");
            // After a code point left unfinished in the previous piece.
            let mut piece = b"\xAC".to_vec();
            piece.extend_from_slice(bad);
            assert_eq!(run(&[b"\xE2\x82", &piece, b"more"]), Err(1), "{why}");
            // One byte per piece: fails at the byte that decides.
            let mut all = b"ok".to_vec();
            all.extend_from_slice(bad);
            let bytes: Vec<&[u8]> = all.chunks(1).collect();
            assert_eq!(run(&bytes), Err(all.len() - 1), "{why}");
        }
    }

    /// `feed_into` gives `feed`'s verdict at every piece, and appends exactly the code
    /// points completed so far: the longest prefix of the bytes fed that ends on a
    /// code point boundary. Every way to cut each input into three pieces.
    #[test]
    fn feed_into_agrees_with_feed_and_appends_the_completed_text() {
        let inputs: &[&[u8]] = &[
            "a κόσμε 中文 😀\u{10FFFF}".as_bytes(),
            "😀😀".as_bytes(),
            b"ok \xE2\x82\xAC then \xED\xA0\x80 (a surrogate)",
            b"\xF0\x9F\x98\x80\xC2A",
            b"\xC2\xA9\xF4\x90\x80\x80",
            b"unfinished \xE2\x82",
            b"",
        ];
        for bytes in inputs {
            for i in 0..=bytes.len() {
                for j in i..=bytes.len() {
                    let pieces = [&bytes[..i], &bytes[i..j], &bytes[j..]];
                    let (mut plain, mut into) = (Utf8Validator::new(), Utf8Validator::new());
                    let mut out = String::new();
                    let mut fed = 0;
                    for piece in pieces {
                        let verdict = plain.feed(piece);
                        let before = out.clone();
                        assert_eq!(
                            into.feed_into(piece, &mut out),
                            verdict,
                            "{bytes:?} {i} {j}"
                        );
                        if verdict.is_err() {
                            assert_eq!(out, before, "nothing appended from invalid bytes");
                            break;
                        }
                        fed += piece.len();
                        let fed_bytes = &bytes[..fed];
                        let boundary = (0..=fed)
                            .rev()
                            .find(|&k| core::str::from_utf8(&fed_bytes[..k]).is_ok())
                            .unwrap_or(0);
                        assert_eq!(out.as_bytes(), &fed_bytes[..boundary], "{bytes:?} {i} {j}");
                        assert_eq!(into.is_mid_code_point(), plain.is_mid_code_point());
                    }
                    assert_eq!(into.finish(), plain.finish());
                }
            }
        }
    }

    #[test]
    fn unfinished_code_point_is_an_error_only_at_the_end() {
        for unfinished in [&b"\xC2"[..], b"\xE2\x82", b"\xF0\x9F\x98", b"\xF4\x8F\xBF"] {
            let mut v = Utf8Validator::new();
            assert_eq!(v.feed(b"abc"), Ok(()));
            assert_eq!(v.feed(unfinished), Ok(()));
            assert!(v.is_mid_code_point());
            assert_eq!(v.finish(), Err(InvalidUtf8));
            // `finish` reset it for the next message.
            assert!(!v.is_mid_code_point());
            assert!(!v.has_failed());
            assert_eq!(v.feed(b"next"), Ok(()));
            assert_eq!(v.finish(), Ok(()));
        }
    }

    #[test]
    fn failure_is_sticky_until_reset() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"\xFF"), Err(InvalidUtf8));
        assert_eq!(v.feed(b"valid"), Err(InvalidUtf8));
        assert_eq!(v.feed(b""), Err(InvalidUtf8));
        v.reset();
        assert_eq!(v.feed(b"valid"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    /// Autobahn|Testsuite 6.4.1-6.4.4 (fail fast on invalid UTF-8 in a fragmented text
    /// message): "κόσμε", then `F4 90 80 80` (above U+10FFFF), then "edited", the last
    /// piece not yet sent. The connection must fail on the piece with the invalid bytes.
    #[test]
    fn autobahn_6_4_fail_fast_in_fragments() {
        // "κόσμε" as Autobahn spells it (with U+1F79, 3 bytes).
        let kosme: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
        assert_eq!(run(&[kosme, b"\xF4\x90\x80\x80", b"edited"]), Err(1));
        // 6.4.2: the invalid sequence split after its second byte.
        assert_eq!(
            run(&[&[kosme, b"\xF4"].concat(), b"\x90\x80\x80edited"]),
            Err(1)
        );
        // 6.4.3/6.4.4: F4 90 already in the first piece; the rest never matters.
        assert_eq!(
            run(&[&[kosme, b"\xF4\x90"].concat(), b"\x80\x80edited"]),
            Err(0)
        );
        // Byte by byte: fails at the 90.
        let all = [kosme, b"\xF4\x90\x80\x80edited"].concat();
        let bytes: Vec<&[u8]> = all.chunks(1).collect();
        assert_eq!(run(&bytes), Err(kosme.len() + 1));
    }

    #[test]
    fn validate_whole_message() {
        assert_eq!(Utf8Validator::validate(b""), Ok(""));
        assert_eq!(Utf8Validator::validate("😀".as_bytes()), Ok("😀"));
        assert_eq!(Utf8Validator::validate(b"\xF0\x9F\x98"), Err(InvalidUtf8));
        assert_eq!(Utf8Validator::validate(b"\xED\xA0\x80"), Err(InvalidUtf8));
    }

    #[test]
    fn utf8_bytes_conversions() {
        let text = Utf8Bytes::try_from(Bytes::from_static("κόσμε".as_bytes())).unwrap();
        assert_eq!(text.as_str(), "κόσμε");
        assert_eq!(&*text, "κόσμε");
        assert_eq!(text.as_bytes(), "κόσμε".as_bytes());
        assert_eq!(text.len(), 10);
        assert!(!text.is_empty());
        assert_eq!(text, "κόσμε");
        assert_eq!(text, *"κόσμε");
        assert_eq!(text, String::from("κόσμε"));
        assert_eq!("κόσμε", text);
        assert_eq!(text, Utf8Bytes::from("κόσμε"));
        assert_eq!(text, Utf8Bytes::from(String::from("κόσμε")));
        assert_eq!(text, Utf8Bytes::from_static("κόσμε"));
        assert_eq!(
            text,
            Utf8Bytes::try_from("κόσμε".as_bytes().to_vec()).unwrap()
        );
        assert_eq!(
            text,
            Utf8Bytes::from_validated(Bytes::from_static("κόσμε".as_bytes()))
        );
        assert_eq!(
            text.clone().into_bytes(),
            Bytes::from_static("κόσμε".as_bytes())
        );
        assert_eq!(Bytes::from(text.clone()), text.into_bytes());

        assert_eq!(
            Utf8Bytes::try_from(Bytes::from_static(b"\xC0\x80")),
            Err(InvalidUtf8)
        );
        assert_eq!(Utf8Bytes::try_from(b"ab\xFF".to_vec()), Err(InvalidUtf8));

        let empty = Utf8Bytes::default();
        assert!(empty.is_empty());
        assert_eq!(empty, "");
    }

    #[test]
    fn utf8_bytes_formats_as_a_string() {
        let text = Utf8Bytes::from_static("a \"b\"\n");
        assert_eq!(format!("{text}"), "a \"b\"\n");
        assert_eq!(format!("{text:?}"), r#""a \"b\"\n""#);
        assert_eq!(format!("{:>6}", Utf8Bytes::from("κό")), "    κό");
    }

    #[test]
    fn utf8_bytes_hash_and_order_follow_the_text() {
        use core::hash::{Hash, Hasher};
        #[derive(Default)]
        struct Fnv(u64);
        impl Hasher for Fnv {
            fn finish(&self) -> u64 {
                self.0
            }
            fn write(&mut self, bytes: &[u8]) {
                for b in bytes {
                    self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
                }
            }
        }
        let hash = |t: &Utf8Bytes| {
            let mut h = Fnv::default();
            t.hash(&mut h);
            h.finish()
        };
        let a = Utf8Bytes::from("abc");
        let b = Utf8Bytes::from(String::from("abc"));
        assert_eq!(hash(&a), hash(&b));
        assert!(Utf8Bytes::from_static("abc") < Utf8Bytes::from_static("abd"));
        assert!(Utf8Bytes::from_static("z") < Utf8Bytes::from_static("κ"));
    }
}
