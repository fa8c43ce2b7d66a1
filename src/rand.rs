//! Sources of randomness for masking keys (§5.3) and `Sec-WebSocket-Key` (§4.1).
//!
//! §10.3: "the masking key MUST be derived from a strong source of entropy", so that an
//! attacker who controls the payload cannot predict the bytes on the wire. With the `std`
//! feature the default is [`OsRandom`], the operating system's CSPRNG. Without it (or in
//! tests) the caller provides any [`RandomSource`], including a closure.

/// A source of random bytes.
///
/// Implemented for every `FnMut(&mut [u8])`, so a closure works:
///
/// ```
/// use rfc6455::RandomSource;
/// let mut counter = 0u8;
/// let mut source = |buf: &mut [u8]| {
///     for b in buf {
///         counter = counter.wrapping_add(1);
///         *b = counter;
///     }
/// };
/// let mut key = [0u8; 4];
/// source.fill_bytes(&mut key);
/// assert_eq!(key, [1, 2, 3, 4]);
/// ```
///
/// Only use predictable sources in tests: §10.3 requires masking keys to be
/// unpredictable.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> RandomSource for F {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self(dest);
    }
}

/// The operating system's random number generator, read in blocks so that a masking key
/// per frame does not cost a system call per frame.
#[cfg(feature = "std")]
#[derive(Clone)]
pub struct OsRandom {
    buf: [u8; 256],
    /// INVARIANT: `pos <= buf.len()`; bytes before `pos` have been handed out.
    pos: usize,
}

#[cfg(feature = "std")]
impl OsRandom {
    /// A new source; the first bytes are read on first use.
    #[must_use]
    pub const fn new() -> Self {
        OsRandom {
            buf: [0; 256],
            pos: 256,
        }
    }
}

#[cfg(feature = "std")]
impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl core::fmt::Debug for OsRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OsRandom")
    }
}

#[cfg(feature = "std")]
impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, mut dest: &mut [u8]) {
        while !dest.is_empty() {
            if self.pos == self.buf.len() {
                // A failing OS random source leaves no safe way to continue: masking with
                // a predictable key is exactly what §10.3 forbids.
                getrandom::fill(&mut self.buf)
                    .expect("the operating system's random source failed");
                self.pos = 0;
            }
            let n = dest.len().min(self.buf.len() - self.pos);
            dest[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            // Never hand out the same bytes twice.
            self.buf[self.pos..self.pos + n].fill(0);
            self.pos += n;
            dest = &mut dest[n..];
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn os_random_differs_between_calls_and_across_refills() {
        let mut rng = OsRandom::new();
        let mut seen = std::collections::HashSet::new();
        // 1000 keys of 4 bytes crosses the 256-byte block boundary many times; a repeat
        // among 1000 random u32 has probability ~1e-4, a stuck source repeats at once.
        let mut repeats = 0;
        for _ in 0..1000 {
            let mut key = [0u8; 4];
            rng.fill_bytes(&mut key);
            if !seen.insert(key) {
                repeats += 1;
            }
        }
        assert!(repeats <= 1, "{repeats} repeated keys");
        let mut big = [0u8; 1000];
        rng.fill_bytes(&mut big);
        assert!(big.iter().any(|&b| b != 0));
    }
}
