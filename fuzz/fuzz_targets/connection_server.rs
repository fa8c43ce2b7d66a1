//! Arbitrary bytes into a server connection, in chunk sizes chosen by the input's first
//! bytes: never a panic, exactly the same events, error and outgoing bytes as when the
//! same bytes arrive at once, and the same as the reference model's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;

#[path = "../../tests/support/compare.rs"]
mod compare;
#[path = "../src/drive.rs"]
mod drive;
#[path = "../../tests/support/reference.rs"]
mod reference;

fuzz_target!(|data: &[u8]| {
    drive::chunking_is_invisible(Role::Server, data);
});
