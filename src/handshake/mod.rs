//! The opening handshake (§4), both roles, over bytes: no sockets.
//!
//! # Server (§4.2)
//!
//! Feed the bytes received so far to a [`RequestParser`] until it returns a [`Request`];
//! answer with [`Request::accept`] (a 101 with `Sec-WebSocket-Accept`, the chosen
//! subprotocol and extensions) or, on a [`HandshakeError`](crate::HandshakeError),
//! with [`HandshakeError::response`](crate::HandshakeError::response) (400, 405, 426
//! with `Sec-WebSocket-Version: 13`, or 431).
//! Bytes after [`Request::consumed`] are frames, for the connection.
//!
//! A server that serves plain HTTP on the same port calls
//! [`RequestParser::parse_head`] instead: it parses any request head into a
//! [`RequestHead`], which the server answers itself or [upgrades](RequestHead::upgrade)
//! with the same checks, without a second parse.
//!
//! ```
//! use rfc6455::handshake::RequestParser;
//!
//! let mut parser = RequestParser::new();
//! let mut received = Vec::new();
//! let mut out = Vec::new();
//! for chunk in [&b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"[..],
//!               b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
//!               b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n"] {
//!     received.extend_from_slice(chunk); // as read from the socket
//!     match parser.parse(&received) {
//!         Ok(None) => continue,
//!         Ok(Some(request)) => {
//!             request.accept().subprotocol("chat")?.write(&mut out);
//!             break;
//!         }
//!         Err(e) => { e.write_response(&mut out); break; } // then close
//!     }
//! }
//! assert_eq!(out, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
//!     Sec-WebSocket-Protocol: chat\r\n\r\n");
//! # Ok::<(), rfc6455::UsageError>(())
//! ```
//!
//! A server whose HTTP stack already parsed the request (hyper, axum) uses
//! [`validate_request_headers`] and [`accept_key`] instead.
//!
//! # Client (§4.1)
//!
//! Parse the URI with [`WsUri`], build the request with [`ClientHandshake`], then feed
//! the response to [`ClientHandshake::parse_response`] until it returns a [`Response`].
//!
//! # Limits
//!
//! Both parsers are bounded by [`HandshakeLimits`](crate::HandshakeLimits) and do work
//! linear in the bytes received, however they are split across calls.

mod accept;
mod client;
mod ext;
mod head;
mod server;
mod uri;

pub use accept::{AcceptKey, accept_key};
pub use client::{ClientHandshake, Response};
pub use ext::{Extension, ExtensionParam};
pub use head::Header;
pub use server::{
    Accept, Request, RequestHead, RequestParser, UpgradeRequest, validate_request_headers,
};
pub use uri::WsUri;
