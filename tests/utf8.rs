//! Incremental UTF-8 validation (§8.1) against whole-message references, through the
//! public API: any chunking gives the same verdict as `core::str::from_utf8` on the whole
//! message, and the failure comes at exactly the first chunk that makes the bytes seen so
//! far impossible to complete into valid UTF-8.

use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::{ProtocolError, Utf8Bytes, Utf8Validator};

/// The index of the first byte after which `bytes[..=i]` is no longer a prefix of any
/// valid UTF-8 string, or `None` if every prefix is one.
///
/// Transcribes the table of well-formed byte sequences (Unicode 15, Table 3-7; RFC 3629
/// §4), independently of both `core::str` and `simdutf8`: an unfinished sequence at the
/// end is fine, a wrong byte anywhere is not.
fn first_bad_byte(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        let (len, second) = match bytes[i] {
            0x00..=0x7F => (1, 0x80..=0xBF),
            0xC2..=0xDF => (2, 0x80..=0xBF),
            0xE0 => (3, 0xA0..=0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80..=0xBF),
            0xED => (3, 0x80..=0x9F),
            0xF0 => (4, 0x90..=0xBF),
            0xF1..=0xF3 => (4, 0x80..=0xBF),
            0xF4 => (4, 0x80..=0x8F),
            _ => return Some(i),
        };
        for j in 1..len {
            let Some(&b) = bytes.get(i + j) else {
                return None; // unfinished at the end: still a valid prefix
            };
            let ok = if j == 1 {
                second.contains(&b)
            } else {
                (0x80..=0xBF).contains(&b)
            };
            if !ok {
                return Some(i + j);
            }
        }
        i += len;
    }
    None
}

/// Whether `bytes` ends inside a sequence (valid so far but unfinished).
fn ends_unfinished(bytes: &[u8]) -> bool {
    first_bad_byte(bytes).is_none() && core::str::from_utf8(bytes).is_err()
}

/// Cuts `bytes` at the given points (sorted, deduplicated or not; empty chunks allowed).
fn split<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    cuts.push(0);
    cuts.push(bytes.len());
    cuts.sort_unstable();
    cuts.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

/// Feeds `chunks` in order, returning the index of the chunk whose `feed` failed, or the
/// result of `finish`.
fn run(chunks: &[&[u8]]) -> Result<Result<(), ProtocolError>, usize> {
    let mut v = Utf8Validator::new();
    for (i, chunk) in chunks.iter().enumerate() {
        if v.feed(chunk).is_err() {
            return Err(i);
        }
    }
    Ok(v.finish())
}

/// The chunk holding byte `index`.
fn chunk_of(chunks: &[&[u8]], index: usize) -> usize {
    let mut end = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        end += chunk.len();
        if index < end {
            return i;
        }
    }
    unreachable!("byte {index} is past the end");
}

/// Checks one input under one chunking against both references.
fn check(bytes: &[u8], chunks: &[&[u8]]) -> Result<(), TestCaseError> {
    let std_ok = core::str::from_utf8(bytes).is_ok();
    let bad = first_bad_byte(bytes);
    // The two references agree with each other...
    prop_assert_eq!(std_ok, bad.is_none() && !ends_unfinished(bytes));
    // ... and with the one-call API.
    prop_assert_eq!(Utf8Validator::validate(bytes).is_ok(), std_ok);
    prop_assert_eq!(
        Utf8Bytes::try_from(bytes::Bytes::copy_from_slice(bytes)).is_ok(),
        std_ok
    );
    match bad {
        // Fail fast: at the chunk holding the first byte that cannot be completed.
        Some(index) => prop_assert_eq!(run(chunks), Err(chunk_of(chunks, index))),
        None if std_ok => prop_assert_eq!(run(chunks), Ok(Ok(()))),
        None => prop_assert_eq!(run(chunks), Ok(Err(ProtocolError::InvalidUtf8))),
    }
    Ok(())
}

/// Pieces to build inputs from: valid text of every encoded length and at every range
/// boundary, and the classic invalid sequences.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    const GOOD: &[&str] = &[
        "a",
        "hello ",
        "κόσμε",
        "中文字符",
        "😀",
        "\u{7F}",
        "\u{80}",
        "\u{7FF}",
        "\u{800}",
        "\u{D7FF}",
        "\u{E000}",
        "\u{FFFD}",
        "\u{FFFF}",
        "\u{10000}",
        "\u{10FFFF}",
    ];
    const BAD: &[&[u8]] = &[
        b"\xED\xA0\x80",         // surrogate U+D800
        b"\xED\xBF\xBF",         // surrogate U+DFFF
        b"\xC0\x80",             // overlong NUL
        b"\xC1\xBF",             // overlong
        b"\xE0\x80\x80",         // overlong 3-byte
        b"\xE0\x9F\xBF",         // overlong 3-byte, top
        b"\xF0\x80\x80\x80",     // overlong 4-byte
        b"\xF0\x8F\xBF\xBF",     // overlong 4-byte, top
        b"\xF4\x90\x80\x80",     // above U+10FFFF
        b"\xF5\x80\x80\x80",     // invalid lead
        b"\xFF",                 // never UTF-8
        b"\x80",                 // lone continuation
        b"\xBF",                 // lone continuation
        b"\xC2",                 // truncated 2-byte
        b"\xE2\x82",             // truncated 3-byte
        b"\xF0\x9F\x98",         // truncated 4-byte
        b"\xF0\x9F\x98\x80\x80", // one continuation too many
    ];
    prop_oneof![
        12 => proptest::sample::select(GOOD).prop_map(|s| s.as_bytes().to_vec()),
        1 => proptest::sample::select(BAD).prop_map(<[u8]>::to_vec),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// Mostly-valid text with the odd bad piece, plus random byte flips.
fn text_with_mutations() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(piece(), 0..40),
        proptest::collection::vec((any::<Index>(), any::<u8>()), 0..2),
    )
        .prop_map(|(pieces, flips)| {
            let mut bytes = pieces.concat();
            if !bytes.is_empty() {
                for (at, value) in flips {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_bytes_any_chunking(
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        cuts in proptest::collection::vec(any::<Index>(), 0..6),
    ) {
        check(&bytes, &split(&bytes, &cuts))?;
        let ones: Vec<&[u8]> = bytes.chunks(1).collect();
        check(&bytes, &ones)?;
    }

    #[test]
    fn mutated_text_any_chunking(
        bytes in text_with_mutations(),
        cuts in proptest::collection::vec(any::<Index>(), 0..12),
    ) {
        check(&bytes, &split(&bytes, &cuts))?;
        let ones: Vec<&[u8]> = bytes.chunks(1).collect();
        check(&bytes, &ones)?;
        check(&bytes, &[&bytes])?;
    }

    /// Valid text of any length, cut anywhere (including inside every code point when
    /// fed a byte at a time), is always accepted.
    #[test]
    fn valid_text_any_chunking(
        text in any::<String>(),
        cuts in proptest::collection::vec(any::<Index>(), 0..12),
    ) {
        let bytes = text.as_bytes();
        prop_assert_eq!(run(&split(bytes, &cuts)), Ok(Ok(())));
        let ones: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(run(&ones), Ok(Ok(())));
        prop_assert_eq!(Utf8Bytes::from(text.clone()), text);
    }
}

proptest! {
    /// `Utf8Bytes` compares with `str`, `&str` and `String` from either side exactly as
    /// the two strings compare, and its `AsRef` views are the text it was made from
    /// (pairs drawn from a small alphabet, so that equal pairs are common).
    #[test]
    fn comparisons_and_views_agree_with_str(a in "[ab€]{0,3}", b in "[ab€]{0,3}") {
        let ours = Utf8Bytes::from(a.as_str());
        let same = a == b;
        prop_assert_eq!(ours == *b.as_str(), same);
        prop_assert_eq!(ours == b.as_str(), same);
        prop_assert_eq!(ours == b, same);
        prop_assert_eq!(*b.as_str() == ours, same);
        prop_assert_eq!(b.as_str() == ours, same);
        prop_assert_eq!(b == ours, same);
        prop_assert_eq!(AsRef::<str>::as_ref(&ours), a.as_str());
        prop_assert_eq!(AsRef::<[u8]>::as_ref(&ours), a.as_bytes());
    }
}

/// The reference itself, on the sequences the RFC cares about.
#[test]
fn reference_table() {
    assert_eq!(first_bad_byte(b"\xED\xA0"), Some(1));
    assert_eq!(first_bad_byte(b"\xF4\x90"), Some(1));
    assert_eq!(first_bad_byte(b"\xF4\x8F"), None);
    assert_eq!(first_bad_byte(b"\xC0"), Some(0));
    assert_eq!(first_bad_byte(b"ab\x80"), Some(2));
    assert_eq!(first_bad_byte(b"\xE2\x82"), None);
    assert!(ends_unfinished(b"\xE2\x82"));
    assert!(!ends_unfinished("€".as_bytes()));
}

/// A long message in 4 KiB pieces, as a fragmented text message arrives: Chinese text
/// whose 3-byte code points straddle most piece boundaries.
#[test]
fn long_text_in_4k_pieces() {
    let text = "WebSocket 协议使得客户端和服务器之间的双向通信成为可能。".repeat(2000);
    let mut v = Utf8Validator::new();
    for piece in text.as_bytes().chunks(4096) {
        v.feed(piece).unwrap();
    }
    v.finish().unwrap();

    // One invalid byte near the end fails the piece that holds it, not earlier ones.
    let mut bytes = text.into_bytes();
    let at = bytes.len() - 5000;
    bytes[at] = 0xFF;
    let pieces: Vec<&[u8]> = bytes.chunks(4096).collect();
    assert_eq!(run(&pieces), Err(at / 4096));
}
