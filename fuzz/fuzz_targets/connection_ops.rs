//! A client and a server driven by an arbitrary sequence of operations — sends, pings,
//! streamed messages, closes, partial deliveries, end of stream — with the bytes between
//! them delivered in arbitrary pieces. Never a panic, and every message, ping, pong and
//! close one side sends (automatic pongs and close echoes included) arrives at the other,
//! in order. Each command is accepted exactly when the rules allow it (open, no streamed
//! message in the way, a control payload of at most 125 bytes, a close code that may be
//! sent, text that can be UTF-8), so a wrongly refused send fails the target too.
#![no_main]

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, ConnectionState, Event, MessageKind, ProtocolError,
};

#[path = "../../tests/support/reference.rs"]
mod reference;

/// An operation; the `bool` picks the side (false: client, true: server).
#[derive(Debug, Arbitrary)]
enum Op {
    Text(bool, String),
    Binary(bool, Vec<u8>),
    Ping(bool, Vec<u8>),
    Pong(bool, Vec<u8>),
    Close(bool, u16, String),
    CloseEmpty(bool),
    Begin(bool, bool),
    Fragment(bool, Vec<u8>),
    Finish(bool, Vec<u8>),
    /// Moves up to this many bytes from the other side's output to this side's input.
    Deliver(bool, u16),
    Eof(bool),
}

#[derive(Debug, Arbitrary)]
struct Input {
    max_send_frame_size: u8,
    ops: Vec<Op>,
}

/// One side of the pair, and the events its peer must see from it.
struct Side {
    ws: Connection,
    /// Bytes this side wrote and the peer has not received yet.
    wire: VecDeque<u8>,
    /// What the peer must see, in order.
    sent: VecDeque<Event>,
    /// Automatic pongs held by the connection, written at the next flush.
    held_pongs: Vec<Event>,
    /// The streamed message being sent.
    streaming: Option<(MessageKind, Vec<u8>)>,
    /// No more input: end of stream reported.
    done: bool,
    /// Commands are accepted: no close sent or received, no end of stream (§7.1.2-§7.1.4).
    open: bool,
}

impl Side {
    fn new(ws: Connection) -> Self {
        Side {
            ws,
            wire: VecDeque::new(),
            sent: VecDeque::new(),
            held_pongs: Vec::new(),
            streaming: None,
            done: false,
            open: true,
        }
    }

    fn flush(&mut self) {
        self.sent.extend(self.held_pongs.drain(..));
        self.wire.extend(self.ws.take_outgoing());
    }

    fn expect_close(&mut self, code: CloseCode, reason: &str) {
        // Held pongs go out before the close frame.
        self.sent.extend(self.held_pongs.drain(..));
        self.sent.push_back(Event::Close(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        }));
    }

    /// Whether `op` must be accepted, by the rules rather than by asking the connection.
    fn must_accept(&self, op: &Op) -> bool {
        let idle = self.open && self.streaming.is_none();
        match op {
            Op::Text(..) | Op::Binary(..) | Op::Begin(..) => idle,
            // A close may interrupt a streamed message.
            Op::CloseEmpty(_) => self.open,
            // §5.5: control payloads of at most 125 bytes.
            Op::Ping(_, data) | Op::Pong(_, data) => self.open && data.len() <= 125,
            // §7.4: a code that may be sent; code and reason within 125 bytes (§5.5).
            Op::Close(_, code, reason) => {
                self.open && reference::close_code_may_be_sent(*code) && 2 + reason.len() <= 125
            }
            Op::Fragment(_, data) | Op::Finish(_, data) => match &self.streaming {
                Some((MessageKind::Text, sent)) if self.open => {
                    // §8.1 for what we send: the text so far can still be valid UTF-8,
                    // and is whole at its end.
                    let mut utf8 = reference::Utf8State::default();
                    let viable = sent.iter().chain(data).all(|&b| utf8.push(b));
                    viable && (matches!(op, Op::Fragment(..)) || utf8.at_boundary())
                }
                Some(_) => self.open,
                None => false,
            },
            Op::Deliver(..) | Op::Eof(_) => true,
        }
    }

    fn apply(&mut self, op: Op) {
        let must_accept = self.must_accept(&op);
        let ws = &mut self.ws;
        let (accepted, sent) = match op {
            Op::Text(_, text) => {
                let ok = ws.send_text(&text).is_ok();
                (ok, ok.then(|| Event::Text(text.into())))
            }
            Op::Binary(_, data) => {
                let ok = ws.send_binary(&data).is_ok();
                (ok, ok.then(|| Event::Binary(data.into())))
            }
            Op::Ping(_, data) => {
                let ok = ws.send_ping(&data).is_ok();
                (ok, ok.then(|| Event::Ping(data.into())))
            }
            Op::Pong(_, data) => {
                let ok = ws.send_pong(&data).is_ok();
                (ok, ok.then(|| Event::Pong(data.into())))
            }
            Op::Close(_, code, reason) => {
                let ok = ws.close(CloseCode(code), &reason).is_ok();
                if ok {
                    self.expect_close(CloseCode(code), &reason);
                    self.open = false;
                }
                (ok, None)
            }
            Op::CloseEmpty(_) => {
                let ok = ws.close_without_status().is_ok();
                if ok {
                    self.expect_close(CloseCode::NO_STATUS_RECEIVED, "");
                    self.open = false;
                }
                (ok, None)
            }
            Op::Begin(_, text) => {
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                let ok = ws.begin_message(kind).is_ok();
                if ok {
                    self.streaming = Some((kind, Vec::new()));
                }
                (ok, None)
            }
            Op::Fragment(_, data) => self.stream(&data, false),
            Op::Finish(_, data) => self.stream(&data, true),
            Op::Deliver(..) | Op::Eof(_) => (true, None),
        };
        assert_eq!(
            accepted, must_accept,
            "a command accepted or refused against the rules"
        );
        if sent.is_some() {
            self.before_frame();
        }
        self.sent.extend(sent);
    }

    /// The connection writes its held pongs before any frame sent after them.
    fn before_frame(&mut self) {
        self.sent.extend(self.held_pongs.drain(..));
    }

    fn stream(&mut self, data: &[u8], fin: bool) -> (bool, Option<Event>) {
        let result = if fin {
            self.ws.finish_message(data)
        } else {
            self.ws.send_fragment(data)
        };
        if result.is_err() {
            return (false, None);
        }
        self.before_frame();
        let (kind, mut buf) = self
            .streaming
            .take()
            .expect("a fragment was accepted with no message begun");
        buf.extend_from_slice(data);
        if !fin {
            self.streaming = Some((kind, buf));
            return (true, None);
        }
        let message = match kind {
            MessageKind::Text => Event::Text(
                String::from_utf8(buf)
                    .expect("text validated on send")
                    .into(),
            ),
            MessageKind::Binary => Event::Binary(buf.into()),
        };
        (true, Some(message))
    }
}

/// Delivers up to `n` bytes from `from` to `to` and checks every event `to` reports.
fn deliver(from: &mut Side, to: &mut Side, n: usize) {
    from.flush();
    let n = n.min(from.wire.len());
    let bytes: Vec<u8> = from.wire.drain(..n).collect();
    to.ws.receive(&bytes);
    loop {
        let was_open = to.ws.state() == ConnectionState::Open;
        match to.ws.next_event() {
            Ok(Some(event)) => {
                let expected = from.sent.pop_front();
                assert_eq!(
                    Some(&event),
                    expected.as_ref(),
                    "what arrived is not what was sent"
                );
                match event {
                    Event::Ping(payload) if was_open => to.held_pongs.push(Event::Pong(payload)),
                    Event::Close(close) if was_open => {
                        // The echo carries the code and the reason (§5.5.1).
                        to.expect_close(close.code, &close.reason);
                        to.open = false;
                    }
                    Event::Close(_) => to.open = false,
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => panic!("a correct peer's bytes failed the connection: {e:?}"),
        }
    }
}

fuzz_target!(|input: Input| {
    let config = Config::default()
        .max_send_frame_size(usize::from(input.max_send_frame_size) + 1)
        .max_pending_pongs(usize::MAX);
    let mut n = 0u8;
    let client = Connection::client_with_random(config, move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_mul(31).wrapping_add(7);
            *b = n;
        }
    });
    let [mut client, mut server] = [Side::new(client), Side::new(Connection::server(config))];
    for op in input.ops.into_iter().take(64) {
        match op {
            Op::Deliver(to_server, n) => {
                let (from, to) = if to_server {
                    (&mut client, &mut server)
                } else {
                    (&mut server, &mut client)
                };
                if !to.done {
                    deliver(from, to, usize::from(n));
                }
            }
            Op::Eof(server_side) => {
                let side = if server_side {
                    &mut server
                } else {
                    &mut client
                };
                side.done = true;
                side.open = false;
                side.ws.receive_eof();
                let was_closed = side.ws.state() == ConnectionState::Closed;
                let result = side.ws.next_event();
                if was_closed {
                    assert_eq!(result, Ok(None));
                } else {
                    assert_eq!(result, Err(ProtocolError::UnexpectedEof));
                }
                // A failure still writes the pongs its pings promised, before its close.
                side.before_frame();
            }
            Op::Text(s, _)
            | Op::Binary(s, _)
            | Op::Ping(s, _)
            | Op::Pong(s, _)
            | Op::Close(s, ..)
            | Op::CloseEmpty(s)
            | Op::Begin(s, _)
            | Op::Fragment(s, _)
            | Op::Finish(s, _) => {
                if s {
                    server.apply(op)
                } else {
                    client.apply(op)
                }
            }
        }
    }
});
