//! A client and a server driven by an arbitrary sequence of operations — sends, pings,
//! streamed messages, closes, partial deliveries, end of stream — with the bytes between
//! them delivered in arbitrary pieces. Never a panic, and every message, ping, pong and
//! close one side sends (automatic pongs and close echoes included) arrives at the other,
//! in order.
#![no_main]

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, ConnectionState, Event, MessageKind, ProtocolError,
};

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

    fn apply(&mut self, op: Op) {
        let ws = &mut self.ws;
        let sent = match op {
            Op::Text(_, text) => ws
                .send_text(&text)
                .is_ok()
                .then(|| Event::Text(text.into())),
            Op::Binary(_, data) => ws
                .send_binary(&data)
                .is_ok()
                .then(|| Event::Binary(data.into())),
            Op::Ping(_, data) => ws
                .send_ping(&data)
                .is_ok()
                .then(|| Event::Ping(data.into())),
            Op::Pong(_, data) => ws
                .send_pong(&data)
                .is_ok()
                .then(|| Event::Pong(data.into())),
            Op::Close(_, code, reason) => {
                if ws.close(CloseCode(code), &reason).is_ok() {
                    self.expect_close(CloseCode(code), &reason);
                }
                None
            }
            Op::CloseEmpty(_) => {
                if ws.close_without_status().is_ok() {
                    self.expect_close(CloseCode::NO_STATUS_RECEIVED, "");
                }
                None
            }
            Op::Begin(_, text) => {
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if ws.begin_message(kind).is_ok() {
                    self.streaming = Some((kind, Vec::new()));
                }
                None
            }
            Op::Fragment(_, data) => self.stream(&data, false),
            Op::Finish(_, data) => self.stream(&data, true),
            Op::Deliver(..) | Op::Eof(_) => None,
        };
        if sent.is_some() {
            self.before_frame();
        }
        self.sent.extend(sent);
    }

    /// The connection writes its held pongs before any frame sent after them.
    fn before_frame(&mut self) {
        self.sent.extend(self.held_pongs.drain(..));
    }

    fn stream(&mut self, data: &[u8], fin: bool) -> Option<Event> {
        let result = if fin {
            self.ws.finish_message(data)
        } else {
            self.ws.send_fragment(data)
        };
        if result.is_err() {
            return None;
        }
        self.before_frame();
        let (kind, mut buf) = self
            .streaming
            .take()
            .expect("a fragment was accepted with no message begun");
        buf.extend_from_slice(data);
        if !fin {
            self.streaming = Some((kind, buf));
            return None;
        }
        Some(match kind {
            MessageKind::Text => Event::Text(
                String::from_utf8(buf)
                    .expect("text validated on send")
                    .into(),
            ),
            MessageKind::Binary => Event::Binary(buf.into()),
        })
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
                    }
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
