//! What a receiver must produce, for `benches/workloads.rs` and the drivers in
//! `common/ours.rs`: the message count and a checksum over every payload.

/// The message count and a checksum over the message payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Check {
    pub messages: usize,
    pub sum: u64,
}

impl Check {
    /// Folds in a payload's kind, length and four sampled bytes (one per quarter, so one
    /// from each fragment of a 4-fragment message): cheap next to receiving it, but wrong
    /// if a payload is cut, misassembled or left masked (every frame has its own key).
    #[inline]
    pub fn add(&mut self, text: bool, payload: &[u8]) {
        let len = payload.len();
        let sample = u64::from(payload[0])
            | u64::from(payload[len / 3]) << 8
            | u64::from(payload[2 * len / 3]) << 16
            | u64::from(payload[len - 1]) << 24
            | u64::from(text) << 32;
        self.messages += 1;
        self.sum = self.sum.wrapping_mul(0x100_0000_01B3) ^ (sample + len as u64);
    }
}

/// What one pass of a read loop saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Received {
    pub check: Check,
    /// Pings reported to the user (0 for a library that answers them silently).
    pub pings: usize,
}
