//! A sans-IO implementation of the WebSocket protocol, [RFC 6455].
//!
//! Bytes in, events out: this crate never touches a socket, a clock or a thread. The
//! caller reads bytes from wherever it likes (a blocking socket, tokio, an embedded
//! network stack, a fuzzer), hands them in, and writes out the bytes the crate queues. The
//! same code therefore serves a blocking server, an async server, a microcontroller and a
//! test harness, and every behaviour can be tested without a network.
//!
//! # Layers
//!
//! - [`handshake`]: the opening handshake (§4) for both roles — an incremental, bounded
//!   request parser that checks every §4.2.1 rule and builds the `101` (or the `400`,
//!   `426`, `431` rejection); a client request builder and response checker; the
//!   `Sec-WebSocket-Accept` computation; subprotocol and extension negotiation.
//! - [`frame`]: the frame codec (§5) — header decode and encode, masking, close payloads.
//!   Usable alone by proxies and custom message layers.
//! - [`Connection`]: the state machine on top — messages from fragments, incremental
//!   UTF-8 validation, ping/pong, the close handshake, limits, and the close code the RFC
//!   demands for every violation.
//!
//! # A whole conversation, in memory
//!
//! ```
//! use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};
//! use rfc6455::{CloseCode, Config, Connection, Event};
//!
//! // The client builds its opening handshake request (§4.1).
//! let uri = WsUri::parse("ws://example.com/chat")?;
//! let mut handshake = ClientHandshake::new(&uri);
//! handshake.subprotocol("chat")?;
//! let request = handshake.request();
//!
//! // The server parses it — in as many reads as it takes — and accepts it (§4.2).
//! let mut parser = RequestParser::new();
//! let req = parser.parse(&request)?.expect("a complete request");
//! assert_eq!(req.path(), "/chat");
//! let response = req.accept().subprotocol("chat")?.to_vec();
//! let mut server = Connection::server(Config::default());
//! server.receive(&request[req.consumed()..]); // bytes after the head are frames
//!
//! // The client checks the 101 and starts talking.
//! let accepted = handshake.parse_response(&response)?.expect("a complete response");
//! assert_eq!(accepted.subprotocol(), Some("chat"));
//! let mut client = Connection::client(Config::default());
//! client.send_text("hello")?;
//! client.close(CloseCode::NORMAL, "done")?;
//!
//! // The server echoes what it receives; the close is answered automatically.
//! server.receive(&client.take_outgoing());
//! while let Some(event) = server.next_event()? {
//!     match event {
//!         Event::Text(text) => server.send_text(&text)?,
//!         Event::Close(close) => assert_eq!(close.code, CloseCode::NORMAL),
//!         _ => {}
//!     }
//! }
//! assert!(server.should_close_transport()); // the server closes TCP first (§7.1.1)
//!
//! client.receive(&server.take_outgoing());
//! assert_eq!(client.next_event()?, Some(Event::Text("hello".into())));
//! assert!(matches!(client.next_event()?, Some(Event::Close(_))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! [`ProtocolError`] is the peer's fault and knows its close code; [`HandshakeError`]
//! knows its HTTP status; [`UsageError`] is the caller's mistake and sends nothing. None
//! of them carries I/O: the crate does none.
//!
//! # Features
//!
//! - `std` (default): the operating system's random source ([`OsRandom`]) for masking keys
//!   and handshake keys, and `std` speed-ups in dependencies. Without it the crate is
//!   `no_std` + `alloc`, and clients take a [`RandomSource`] explicitly
//!   ([`Connection::client_with_random`], [`handshake::ClientHandshake::with_random`]).
//! - `http` (off by default): the `http` module, the opening handshake over
//!   `http::Request` and `http::Response` for hyper, axum and other HTTP stacks.
//! - `tokio` (default): the async adapter in `rfc6455::tokio` — accept and connect, a WebSocket
//!   that is a `futures` `Stream` + `Sink`, split halves, keepalive, timeouts and a
//!   graceful close. Implies `std`.
//! - `deflate` (off by default; implies `std`): permessage-deflate, RFC 7692 (`deflate`), negotiated in
//!   the handshake and run through the [`extension`] hook.
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

#[cfg(feature = "deflate")]
pub mod deflate;
pub mod extension;
pub mod frame;
pub mod handshake;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use close_code::CloseCode;
pub use connection::{
    CloseFrame, Connection, ConnectionState, Event, EventRef, Fragment, MessageKind, Outgoing,
    Payload, PreparedMessage, TextPayload,
};
pub use error::{Error, HandshakeError, ProtocolError, UsageError};
pub use limits::{Config, HandshakeLimits};
#[cfg(feature = "std")]
pub use rand::OsRandom;
pub use rand::RandomSource;
pub use role::Role;
pub use utf8::{Utf8Bytes, Utf8Validator};
// handshake re-exports (owned by the handshake module):
pub use error::{RejectedResponse, UriError};
pub use handshake::{ClientHandshake, Request, RequestHead, RequestParser, WsUri, accept_key};

/// The README's code blocks, compiled and run as doctests.
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
