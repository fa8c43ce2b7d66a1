//! Masking (§5.3). (Naive stub: being replaced by a fast implementation.)

/// XORs `buf` with `key`, starting at byte `phase` of the key (0..4), and returns the
/// phase for the byte after `buf`.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(phase + i) & 3];
    }
    (phase + buf.len()) & 3
}
