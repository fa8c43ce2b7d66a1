//! Code shared by the examples (`echo`, `client`, `autobahn_client`) and by
//! `tests/examples.rs`, which serves the echo server in-process. Each includes it with
//! `#[path = "common/mod.rs"] mod common;` and uses a part of it.

#![allow(
    dead_code,
    reason = "each example uses a different part of this module"
)]

pub mod args;
pub mod client;
pub mod io;
pub mod server;
