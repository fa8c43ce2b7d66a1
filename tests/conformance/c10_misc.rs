//! Autobahn 10.x: miscellaneous.

use crate::harness::{Case, Ev, TEXT, both, repeat};

/// 10.1.1: a 64 KiB text message sent in 1300-byte fragments (Autobahn's
/// `autoFragmentSize`) → echoed whole.
#[test]
fn case_10_1_1_auto_fragmented_64k() {
    let payload = repeat(b"*", 65536);
    both(|role| {
        Case::new("10.1.1", role)
            .send(|w| {
                w.message(TEXT, &payload, 1300);
            })
            .expect([Ev::text(&payload)])
            .then_close()
    });
}
