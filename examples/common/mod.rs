//! Plumbing shared by the examples (and `tests/examples.rs`): command-line flags and the
//! shutdown signal. Each includes it with `#[path = "common/mod.rs"] mod common;` and
//! uses a part of it.

#![allow(
    dead_code,
    reason = "each example uses a different part of this module"
)]

pub mod args;
pub mod signal;
