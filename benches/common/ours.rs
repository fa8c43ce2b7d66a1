//! Every use of `rfc6455` in `benches/workloads.rs` and `benches/send.rs`, in one place:
//! switching the benches to a new API means editing this file alone.
//!
//! The benches see only the types and functions below, never an `rfc6455` type:
//!
//! - receiving (`workloads`): [`Receiver`] + [`receive_messages`] (the `Connection` read
//!   loop) and [`SliceReceiver`] + [`receive_messages_in_place`] (the same messages from
//!   `frame::FrameDecoder::decode_slice` over the caller's own buffer);
//! - sending (`send`): [`Sender`] + [`send_each`], [`send_each_into`] and [`send_batch`].
//!
//! Each needs the includer to have the modules `check` (`common/check.rs`) and
//! `mem_stream` (`common/mem_stream.rs`) at its crate root.

// Each bench uses only its half of this file.
#![allow(dead_code)]

use std::io::{Read, Write};

use crate::check::Received;
use crate::mem_stream::{MemStream, WORKLOAD_READ_SIZE};

use bytes::{Buf, Bytes};
use rfc6455::frame::{FrameDecoder, FrameHeader, OpCode};
use rfc6455::{Config, Connection, Event, EventRef, Role, Utf8Validator};

/// The largest message the in-place variant reassembles: `Config::default()`'s
/// `max_message_size` (64 MiB), so that both variants check the same limit.
const MAX_MESSAGE: usize = 64 << 20;

// ----- receiving: the `Connection` read loop -----

/// A connection as a user's read loop holds it, across iterations.
pub struct Receiver {
    ws: Connection,
}

impl Receiver {
    /// A server: decodes masked frames.
    pub fn server() -> Self {
        Receiver {
            ws: Connection::server(Config::default()),
        }
    }

    /// A client: decodes unmasked frames.
    pub fn client() -> Self {
        Receiver {
            ws: Connection::client(Config::default()),
        }
    }
}

/// W1-W6 through `Connection`, owned events: read at most 64 KiB from `stream` straight
/// into `receive_buffer()` (the room the connection offers, no reserve by the caller),
/// take every event with `next_event`, write the queued pongs from `outgoing()` back to
/// `stream`, until the input ends. What a user gets by default.
pub fn receive_messages(rx: &mut Receiver, stream: &mut MemStream<'_>) -> Received {
    let ws = &mut rx.ws;
    let mut got = Received::default();
    loop {
        if stream.read_into(ws.receive_buffer()) == 0 {
            break;
        }
        while let Some(event) = ws.next_event().expect("valid input") {
            match event {
                Event::Text(text) => got.check.add(true, text.as_bytes()),
                Event::Binary(data) => got.check.add(false, &data),
                Event::Ping(_) => got.pings += 1,
                other => panic!("unexpected event {other:?}"),
            }
        }
        write_out(ws, stream);
    }
    got
}

/// W1-W6 through `Connection`, borrowed events: the same loop with `next_event_ref`,
/// which lends each payload from the receive buffer (no allocation per message).
pub fn receive_messages_borrowed(rx: &mut Receiver, stream: &mut MemStream<'_>) -> Received {
    let ws = &mut rx.ws;
    let mut got = Received::default();
    loop {
        if stream.read_into(ws.receive_buffer()) == 0 {
            break;
        }
        while let Some(event) = ws.next_event_ref().expect("valid input") {
            match event {
                EventRef::Text(text) => got.check.add(true, text.as_bytes()),
                EventRef::Binary(data) => got.check.add(false, data),
                EventRef::Ping(_) => got.pings += 1,
                other => panic!("unexpected event {other:?}"),
            }
        }
        write_out(ws, stream);
    }
    got
}

/// Writes what the connection queued, chunk by chunk, as a socket write loop does.
fn write_out(ws: &mut Connection, sink: &mut impl Write) {
    let out = ws.outgoing();
    while out.has_remaining() {
        let n = sink.write(out.chunk()).expect("the sink takes bytes");
        out.advance(n);
    }
}

// ----- receiving: frames decoded in place, messages built on top -----

/// The message layer a user would write over `FrameDecoder::decode_slice`: the caller's
/// own buffer, payloads unmasked in place and borrowed, fragments copied into one reused
/// buffer, UTF-8 checked as the fragments arrive (so a bad message fails as early as with
/// `Connection`), pongs queued in a reused buffer. No `Bytes`, no allocation once warm.
pub struct SliceReceiver {
    decoder: FrameDecoder,
    server: bool,
    /// Received bytes; `buf[start..end]` are not yet decoded.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The fragmented message being received: `Some(is_text)` between its first and last
    /// frame.
    kind: Option<bool>,
    message: Vec<u8>,
    utf8: Utf8Validator,
    out: Vec<u8>,
}

impl SliceReceiver {
    fn new(role: Role) -> Self {
        let config = Config::default();
        SliceReceiver {
            decoder: FrameDecoder::new(role).max_payload_len(config.max_frame_size),
            server: role == Role::Server,
            buf: vec![0; 2 * WORKLOAD_READ_SIZE],
            start: 0,
            end: 0,
            kind: None,
            message: Vec::new(),
            utf8: Utf8Validator::new(),
            out: Vec::new(),
        }
    }

    /// A server: decodes masked frames.
    pub fn server() -> Self {
        Self::new(Role::Server)
    }

    /// A client: decodes unmasked frames.
    pub fn client() -> Self {
        Self::new(Role::Client)
    }

    /// Before a read: start over when everything was decoded, or move a short partial
    /// frame to the front when less than a read's worth of room is left.
    fn make_room_for_read(&mut self) {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.buf.len() - self.end < WORKLOAD_READ_SIZE
            && self.end - self.start <= WORKLOAD_READ_SIZE
        {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
    }

    /// After "need more": if the frame's header is here and the whole frame will not fit
    /// behind `start`, move what arrived of it to the front (at most one read's worth) and
    /// grow the buffer to hold it (the decoder has checked its length against the limit).
    fn make_room_for_frame(&mut self) {
        let Some((header, header_len)) = self
            .decoder
            .decode_header(&self.buf[self.start..self.end])
            .expect("valid input")
        else {
            return;
        };
        let total = header_len + usize::try_from(header.payload_len).expect("under the limit");
        if self.start + total > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if total > self.buf.len() {
                self.buf.resize(total, 0);
            }
        }
    }
}

/// W1-W6 through `FrameDecoder::decode_slice`, at the message level (see
/// [`SliceReceiver`]): read at most 64 KiB into the buffer, decode every whole frame in
/// place, write the queued pongs to `stream`, until the input ends.
pub fn receive_messages_in_place(rx: &mut SliceReceiver, stream: &mut MemStream<'_>) -> Received {
    let mut got = Received::default();
    loop {
        rx.make_room_for_read();
        let room = (rx.buf.len() - rx.end).min(WORKLOAD_READ_SIZE);
        let n = stream
            .read(&mut rx.buf[rx.end..rx.end + room])
            .expect("an in-memory read");
        if n == 0 {
            break;
        }
        rx.end += n;
        loop {
            let frame = rx
                .decoder
                .decode_slice(&mut rx.buf[rx.start..rx.end])
                .expect("valid input");
            let Some(frame) = frame else {
                rx.make_room_for_frame();
                break;
            };
            let consumed = frame.consumed;
            on_frame(
                &frame.header,
                frame.payload,
                rx.server,
                &mut rx.kind,
                &mut rx.message,
                &mut rx.utf8,
                &mut rx.out,
                &mut got,
            );
            rx.start += consumed;
        }
        if !rx.out.is_empty() {
            stream
                .write_all(&rx.out)
                .expect("the sink takes everything");
            rx.out.clear();
        }
    }
    got
}

/// One decoded frame's effect on the message layer of [`SliceReceiver`]. Protocol
/// errors panic: the inputs are valid, and a bench that hits one is broken.
#[allow(clippy::too_many_arguments)]
#[inline]
fn on_frame(
    header: &FrameHeader,
    payload: &[u8],
    server: bool,
    kind: &mut Option<bool>,
    message: &mut Vec<u8>,
    utf8: &mut Utf8Validator,
    out: &mut Vec<u8>,
    got: &mut Received,
) {
    match header.opcode {
        OpCode::Text | OpCode::Binary => {
            assert!(kind.is_none(), "a new message inside a fragmented one");
            let text = header.opcode == OpCode::Text;
            if header.fin {
                if text {
                    Utf8Validator::validate(payload).expect("valid UTF-8");
                }
                got.check.add(text, payload);
            } else {
                assert!(payload.len() <= MAX_MESSAGE, "message too big");
                *kind = Some(text);
                message.clear();
                message.extend_from_slice(payload);
                if text {
                    utf8.reset();
                    utf8.feed(payload).expect("valid UTF-8");
                }
            }
        }
        OpCode::Continuation => {
            let text = kind.expect("a continuation outside a message");
            assert!(
                message.len() + payload.len() <= MAX_MESSAGE,
                "message too big"
            );
            message.extend_from_slice(payload);
            if text {
                utf8.feed(payload).expect("valid UTF-8");
            }
            if header.fin {
                if text {
                    utf8.finish().expect("valid UTF-8");
                }
                got.check.add(text, message);
                *kind = None;
            }
        }
        OpCode::Ping => {
            // A server's pong is unmasked; a client's would need a masking key (no
            // workload pings a client).
            assert!(server, "no workload pings a client");
            got.pings += 1;
            // Control payloads are at most 125 bytes (checked by the decoder).
            out.extend_from_slice(&[0x8A, payload.len() as u8]);
            out.extend_from_slice(payload);
        }
        OpCode::Pong => {}
        OpCode::Close => panic!("no workload closes"),
    }
}

// ----- sending -----

/// A connection that sends binary messages, with a reused buffer for
/// [`send_each_into`].
pub struct Sender {
    ws: Connection,
    out: Vec<u8>,
}

impl Sender {
    /// A server: sends unmasked frames.
    pub fn server() -> Self {
        Sender {
            ws: Connection::server(Config::default()),
            out: Vec::new(),
        }
    }

    /// A client: masks every frame with a key from the OS random source (buffered).
    pub fn client() -> Self {
        Sender {
            ws: Connection::client(Config::default()),
            out: Vec::new(),
        }
    }
}

/// `count` binary messages, each `send_binary` then `take_outgoing()` (a fresh `Vec` per
/// message) written to `sink`.
pub fn send_each(tx: &mut Sender, payload: &Bytes, count: usize, sink: &mut impl Write) {
    for _ in 0..count {
        tx.ws.send_binary(payload.clone()).expect("open");
        let out = tx.ws.take_outgoing();
        sink.write_all(&out).expect("the sink takes everything");
    }
}

/// `count` binary messages, each `send_binary` then the queue written from `outgoing()`
/// (a `bytes::Buf`: no copy out of the queue, which is reused).
pub fn send_each_into(tx: &mut Sender, payload: &Bytes, count: usize, sink: &mut impl Write) {
    for _ in 0..count {
        tx.ws.send_binary(payload.clone()).expect("open");
        write_out(&mut tx.ws, sink);
    }
}

/// `count` binary messages, each `send_binary` of a borrowed `&[u8]` (copied into the
/// queue, as `fastwebsockets`' `Payload::Borrowed` is copied to its write buffer), then
/// the queue written from `outgoing()`.
pub fn send_each_borrowed(tx: &mut Sender, payload: &[u8], count: usize, sink: &mut impl Write) {
    for _ in 0..count {
        tx.ws.send_binary(payload).expect("open");
        write_out(&mut tx.ws, sink);
    }
}

/// `count` binary messages queued with `send_binary` of a borrowed `&[u8]`, then the
/// whole queue written from `outgoing()`.
pub fn send_batch_borrowed(tx: &mut Sender, payload: &[u8], count: usize, sink: &mut impl Write) {
    for _ in 0..count {
        tx.ws.send_binary(payload).expect("open");
    }
    write_out(&mut tx.ws, sink);
}

/// `count` binary messages queued with `send_binary`, then the whole queue written from
/// `outgoing()`.
pub fn send_batch(tx: &mut Sender, payload: &Bytes, count: usize, sink: &mut impl Write) {
    for _ in 0..count {
        tx.ws.send_binary(payload.clone()).expect("open");
    }
    write_out(&mut tx.ws, sink);
}
