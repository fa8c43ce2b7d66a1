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
///
/// Every `OsRandom` of a thread draws from one block of that thread's (4 KiB, refilled
/// from the operating system when used up, each byte handed out once and then erased),
/// so a source costs nothing per connection and a client makes one system call per
/// 1,024 masking keys.
#[cfg(feature = "std")]
#[derive(Clone, Default)]
pub struct OsRandom {
    _private: (),
}

/// Bytes read from the operating system at a time, per thread.
#[cfg(feature = "std")]
const POOL_LEN: usize = 4096;

#[cfg(feature = "std")]
struct Pool {
    buf: [u8; POOL_LEN],
    /// INVARIANT: `pos <= buf.len()`; bytes before `pos` have been handed out (and
    /// erased).
    pos: usize,
}

#[cfg(feature = "std")]
std::thread_local! {
    static POOL: core::cell::RefCell<Pool> = const {
        core::cell::RefCell::new(Pool { buf: [0; POOL_LEN], pos: POOL_LEN })
    };
}

#[cfg(feature = "std")]
impl OsRandom {
    /// A new source; the first bytes are read on first use.
    #[must_use]
    pub const fn new() -> Self {
        OsRandom { _private: () }
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
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            let mut dest = dest;
            while !dest.is_empty() {
                if pool.pos == POOL_LEN {
                    // A failing OS random source leaves no safe way to continue: masking
                    // with a predictable key is exactly what §10.3 forbids.
                    getrandom::fill(&mut pool.buf)
                        .expect("the operating system's random source failed");
                    pool.pos = 0;
                }
                let pos = pool.pos;
                let n = dest.len().min(POOL_LEN - pos);
                dest[..n].copy_from_slice(&pool.buf[pos..pos + n]);
                // Never hand out the same bytes twice.
                pool.buf[pos..pos + n].fill(0);
                pool.pos = pos + n;
                dest = &mut dest[n..];
            }
        });
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn os_random_differs_between_calls_and_across_refills() {
        let mut rng = OsRandom::new();
        let mut seen = std::collections::HashSet::new();
        // 3000 keys of 4 bytes cross the 4 KiB block boundary twice; a repeat among 3000
        // random u32 has probability ~1e-3, a stuck source repeats at once.
        let mut repeats = 0;
        for _ in 0..3000 {
            let mut key = [0u8; 4];
            rng.fill_bytes(&mut key);
            if !seen.insert(key) {
                repeats += 1;
            }
        }
        assert!(repeats <= 1, "{repeats} repeated keys");
        let mut big = [0u8; 10_000];
        rng.fill_bytes(&mut big);
        assert!(big.iter().any(|&b| b != 0));
        // Two sources of one thread never hand out the same bytes.
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        OsRandom::new().fill_bytes(&mut a);
        OsRandom::new().fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
