//! A sans-IO implementation of the WebSocket protocol, [RFC 6455].
//!
//! Bytes in, events out: this crate never touches a socket, a clock or a thread. The
//! caller reads bytes from wherever it likes (a blocking socket, tokio, an embedded
//! network stack, a fuzzer), hands them in, and writes out the bytes the crate queues.
//!
//! [RFC 6455]: https://www.rfc-editor.org/rfc/rfc6455

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(clippy::module_name_repetitions, clippy::must_use_candidate)]
#![doc(test(attr(deny(warnings))))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod close_code;
mod connection;
mod error;
mod limits;
mod rand;
mod role;
mod utf8;

pub mod frame;
pub mod handshake;

pub use close_code::CloseCode;
pub use connection::{CloseFrame, Connection, ConnectionState, Event, Fragment, MessageKind};
pub use error::{Error, HandshakeError, ProtocolError, UsageError};
pub use limits::{Config, HandshakeLimits};
#[cfg(feature = "std")]
pub use rand::OsRandom;
pub use rand::RandomSource;
pub use role::Role;
pub use utf8::{Utf8Bytes, Utf8Validator};
// handshake re-exports (owned by the handshake module):
pub use error::{RejectedResponse, UriError};
pub use handshake::{ClientHandshake, Request, RequestParser, WsUri, accept_key};
