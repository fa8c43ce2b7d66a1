//! Differential: the incremental UTF-8 validator, fed arbitrary bytes in chunks chosen by
//! the input, accepts exactly what `core::str::from_utf8` accepts on the whole, and fails
//! on the first chunk after which the bytes can no longer begin valid UTF-8 (§8.1).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Utf8Validator;

/// Whether `bytes` can be extended to valid UTF-8.
fn viable(bytes: &[u8]) -> bool {
    match core::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    // The shortest non-viable prefix; viability only ever goes from true to false.
    let first_bad = if viable(input) {
        None
    } else {
        let (mut lo, mut hi) = (0, input.len()); // viable(lo), !viable(hi)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if viable(&input[..mid]) {
                lo = mid
            } else {
                hi = mid
            }
        }
        Some(hi)
    };
    let step = usize::from(split).max(1);
    let mut v = Utf8Validator::new();
    let mut fed = 0;
    for chunk in input.chunks(step) {
        fed += chunk.len();
        let result = v.feed(chunk);
        match first_bad {
            Some(bad) if bad <= fed => {
                assert!(
                    result.is_err(),
                    "accepted a non-viable prefix of {fed} bytes (bad at {bad})"
                );
                return;
            }
            _ => assert!(result.is_ok(), "rejected a viable prefix of {fed} bytes"),
        }
    }
    assert_eq!(v.finish().is_ok(), core::str::from_utf8(input).is_ok());
});
