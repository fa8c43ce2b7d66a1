//! Masking (§5.3): XOR a payload with a 4-byte key, in place, at any phase.
//!
//! Every frame from a client is masked with a fresh 32-bit key, and unmasking it is most
//! of the work of decoding a large frame, so this is on the server's hot path (see the
//! `mask` group in `benches/micro.rs`). The speed comes from safe code the compiler can
//! vectorize: the key is rotated to the phase once, replicated across a block of
//! [`BLOCK`] bytes, and the body is masked block by block with a fixed-size array loop
//! that LLVM turns into SIMD XORs (SSE2 on baseline `x86_64`, NEON on `aarch64`), without
//! `unsafe` and without caring about the alignment of `buf`.

/// Bytes masked per iteration of the main loop.
///
/// A multiple of 4, so every block starts at the same key phase, and large enough for
/// LLVM to unroll it into several vector XORs. Measured on `x86_64` (baseline SSE2,
/// `benches/micro.rs`, group `mask`), in place on an L2-resident buffer:
///
/// | size    | naive bytes | u64 words | 64-byte blocks | 32-byte blocks (this) | memcpy |
/// |---------|-------------|-----------|----------------|-----------------------|--------|
/// | 125 B   | 3.1 GiB/s   | 17 GiB/s  | 6.6 GiB/s      | 16 GiB/s              | 60     |
/// | 64 KiB  | 3.3 GiB/s   | 64 GiB/s  | 69 GiB/s       | 79 GiB/s              | 72     |
/// | 1 MiB   | 3.2 GiB/s   | 60 GiB/s  | 72 GiB/s       | 76 GiB/s              | 47     |
///
/// (One run on a quiet machine; a second under load kept the order from 4 KiB up, and
/// below 32 bytes this function runs the same word loop as the u64 candidate. The
/// byte-at-a-time loop indexes the key with `(phase + i) & 3` and is not vectorized;
/// memcpy of 1 MiB touches two buffers, masking one.)
const BLOCK: usize = 32;

/// XORs `buf` in place with the masking `key`, starting at byte `phase` of the key, and
/// returns the phase for the byte after `buf`.
///
/// This is the transformation of §5.3, which masks and unmasks alike:
///
/// ```text
/// transformed-octet-i = original-octet-i XOR masking-key-octet-j,  j = i MOD 4
/// ```
///
/// generalised so that a payload can be (un)masked piece by piece as it arrives: byte `i`
/// of `buf` is combined by XOR with `key[(phase + i) % 4]`. Pass `0` for the first piece of a
/// payload and the returned phase for each following piece.
///
/// Only the two low bits of `phase` are used (`phase & 3`), so a running byte count
/// works as well as a phase in `0..4`.
///
/// # Examples
///
/// The masked "Hello" of §5.7, unmasked in two pieces:
///
/// ```
/// use rfc6455::frame::apply_mask;
///
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let (first, second) = payload.split_at_mut(3);
/// let phase = apply_mask(first, key, 0);
/// assert_eq!(phase, 3);
/// assert_eq!(apply_mask(second, key, phase), 1);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    if buf.len() < BLOCK && phase.trailing_zeros() >= 2 {
        // A short payload from its start, the most common case (small messages): the
        // word loop inline, without the rotation and the call.
        xor_short(buf, key);
        return buf.len() & 3;
    }
    apply_mask_any(buf, key, phase)
}

/// [`apply_mask`] at any phase and length, out of line.
#[inline(never)]
fn apply_mask_any(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let phase = phase & 3;
    // `phase + len` cannot overflow: a slice holds at most `isize::MAX` bytes.
    let next = (phase + buf.len()) & 3;
    // After rotating, byte `i` of `buf` takes `key[i % 4]`.
    let key = [
        key[phase],
        key[(phase + 1) & 3],
        key[(phase + 2) & 3],
        key[(phase + 3) & 3],
    ];
    if buf.len() < BLOCK {
        xor_short(buf, key);
        return next;
    }
    let wide = replicate(key);
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        xor_block(block, &wide);
    }
    // Each block is a multiple of 4 bytes long, so the tail starts at phase 0 again.
    xor_short(blocks.into_remainder(), key);
    next
}

/// The key repeated to fill a block.
#[inline]
fn replicate(key: [u8; 4]) -> [u8; BLOCK] {
    let mut wide = [0; BLOCK];
    for (i, b) in wide.iter_mut().enumerate() {
        *b = key[i & 3];
    }
    wide
}

/// XORs one block; the fixed length lets LLVM emit straight-line vector XORs.
#[inline]
fn xor_block(block: &mut [u8], wide: &[u8; BLOCK]) {
    for (b, k) in block.iter_mut().zip(wide) {
        *b ^= *k;
    }
}

/// XORs fewer than [`BLOCK`] bytes (a small payload or the tail of a large one), a
/// word at a time and then byte by byte; `key` is already rotated to the phase of
/// `buf[0]`.
// Inlined into `apply_mask`'s short path: a call there cost as much as the XORs.
#[allow(clippy::inline_always)]
#[inline(always)]
fn xor_short(buf: &mut [u8], key: [u8; 4]) {
    // Native-endian on both sides: the byte order of the key in the word is the byte
    // order of the payload in the word, whatever the target's endianness.
    let key64 = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(w) ^ key64).to_ne_bytes());
    }
    // At most 7 bytes; the words were a multiple of 4 long, so this starts at phase 0.
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::apply_mask;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// The reference: §5.3 transcribed literally.
    fn naive(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(phase + i) % 4];
        }
        (phase + buf.len()) % 4
    }

    const KEYS: [[u8; 4]; 5] = [
        [0, 0, 0, 0],
        [0xff, 0xff, 0xff, 0xff],
        [0x37, 0xfa, 0x21, 0x3d],
        [0x01, 0x02, 0x04, 0x80],
        [0xde, 0xad, 0xbe, 0xef],
    ];

    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| u8::try_from((i * 7 + 3) % 251).unwrap())
            .collect()
    }

    /// §5.7: "A single-frame masked text message ... contains "Hello"".
    #[test]
    fn rfc_5_7_masked_hello() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        assert_eq!(apply_mask(&mut payload, key, 0), 1);
        assert_eq!(&payload, b"Hello");
        // Masking is its own inverse (§5.3: "the same algorithm applies regardless of
        // the direction of the translation").
        assert_eq!(apply_mask(&mut payload, key, 0), 1);
        assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    /// Every length 0..=64 (short path, one block, block + tail) × every phase × every
    /// starting offset 0..8 in a larger buffer (alignment) × several keys, against the
    /// reference; bytes outside the slice stay untouched.
    #[test]
    fn matches_naive_for_every_length_phase_and_offset() {
        for key in KEYS {
            for len in 0..=64 {
                for phase in 0..4 {
                    for offset in 0..8 {
                        let original = pattern(offset + len + 8);
                        let mut ours = original.clone();
                        let mut reference = original.clone();
                        let got = apply_mask(&mut ours[offset..offset + len], key, phase);
                        let want = naive(&mut reference[offset..offset + len], key, phase);
                        assert_eq!(got, want, "phase: len {len} phase {phase} key {key:x?}");
                        assert_eq!(
                            ours, reference,
                            "bytes: len {len} phase {phase} offset {offset} key {key:x?}"
                        );
                    }
                }
            }
        }
    }

    /// Only `phase & 3` matters.
    #[test]
    fn large_phase_uses_low_two_bits() {
        let key = [1, 2, 3, 4];
        for phase in [4, 5, 6, 7, 1001, usize::MAX] {
            for len in [0, 3, 40] {
                let mut ours = pattern(len);
                let mut reference = pattern(len);
                assert_eq!(
                    apply_mask(&mut ours, key, phase),
                    naive(&mut reference, key, phase & 3)
                );
                assert_eq!(ours, reference);
            }
        }
    }

    proptest! {
        /// Unmasking a payload in pieces, each starting at the phase returned for the
        /// previous one, gives the same bytes as unmasking it whole, and both match the
        /// reference.
        #[test]
        fn pieces_equal_whole(
            data in proptest::collection::vec(any::<u8>(), 0..5000),
            key in any::<[u8; 4]>(),
            phase in 0usize..4,
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut whole = data.clone();
            let whole_phase = apply_mask(&mut whole, key, phase);

            let mut reference = data.clone();
            prop_assert_eq!(naive(&mut reference, key, phase), whole_phase);
            prop_assert_eq!(&whole, &reference);

            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            cuts.push(0);
            cuts.push(data.len());
            cuts.sort_unstable();
            let mut pieces = data.clone();
            let mut p = phase;
            for w in cuts.windows(2) {
                p = apply_mask(&mut pieces[w[0]..w[1]], key, p);
            }
            prop_assert_eq!(p, whole_phase);
            prop_assert_eq!(&pieces, &whole);
        }
    }
}
