//! An in-memory client/server pair: both state machines driven through random streams of
//! messages, pings and streamed messages, with the bytes delivered both ways under random
//! chunking, and a close from either side at the end. What one side sends the other
//! receives, in order, and the close handshake completes on both sides with the right
//! codes (§5.5.1, §7.1).

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

use harness::{Ev, connection};
use proptest::prelude::*;
use rfc6455::{CloseCode, Config, Connection, ConnectionState, MessageKind, Role, UsageError};

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    /// A streamed message in parts (text parts may split code points); `ping_back`: the
    /// receiver pings the sender between the first and second parts, so the automatic pong
    /// goes out between fragments.
    Streamed {
        text: bool,
        parts: Vec<Vec<u8>>,
        ping_back: Option<Vec<u8>>,
    },
}

#[derive(Debug, Clone)]
enum Close {
    Code(u16, String),
    NoStatus,
}

fn split_into(bytes: Vec<u8>, cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        parts.push(bytes[start..cut].to_vec());
        start = cut;
    }
    parts.push(bytes[start..].to_vec());
    parts
}

fn op() -> impl Strategy<Value = Op> {
    let control = prop::collection::vec(any::<u8>(), 0..=125);
    prop_oneof![
        any::<String>().prop_map(Op::Text),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Op::Binary),
        control.clone().prop_map(Op::Ping),
        (
            any::<bool>(),
            any::<String>(),
            prop::collection::vec(any::<u8>(), 0..100),
            prop::collection::vec(0usize..1000, 0..5),
            prop::option::of(control),
        )
            .prop_map(|(text, s, bin, cuts, ping_back)| {
                let bytes = if text { s.into_bytes() } else { bin };
                Op::Streamed {
                    text,
                    parts: split_into(bytes, &cuts),
                    ping_back,
                }
            }),
    ]
}

fn close() -> impl Strategy<Value = Close> {
    prop_oneof![
        (
            prop::sample::select(vec![
                1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 3000, 4999
            ]),
            "[a-zé]{0,20}"
        )
            .prop_map(|(c, r)| Close::Code(c, r)),
        Just(Close::NoStatus),
    ]
}

struct Side {
    conn: Connection,
    events: Vec<Ev>,
    expected: Vec<Ev>,
    /// Read sizes this side's input is delivered in, cycled.
    reads: Vec<usize>,
    next_read: usize,
}

impl Side {
    fn new(role: Role, config: Config, reads: Vec<usize>) -> Side {
        Side {
            conn: connection(role, config),
            events: Vec::new(),
            expected: Vec::new(),
            reads,
            next_read: 0,
        }
    }

    /// Delivers `bytes` in this side's read sizes, collecting events.
    fn deliver(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.reads[self.next_read % self.reads.len()].min(rest.len());
            self.next_read += 1;
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            self.conn.receive(chunk);
            while let Some(event) = self.conn.next_event().expect("no protocol error") {
                self.events.push(Ev::from_event(event));
            }
        }
    }
}

/// Moves bytes both ways until neither side has anything to send.
fn pump(client: &mut Side, server: &mut Side) {
    loop {
        let to_server = client.conn.take_outgoing();
        let to_client = server.conn.take_outgoing();
        if to_server.is_empty() && to_client.is_empty() {
            return;
        }
        server.deliver(&to_server);
        client.deliver(&to_client);
    }
}

fn run(
    ops: Vec<(bool, Op)>,
    close: (bool, Close),
    frame_size: usize,
    client_reads: Vec<usize>,
    server_reads: Vec<usize>,
) {
    let config = Config::default().max_send_frame_size(frame_size);
    let mut client = Side::new(Role::Client, config, client_reads);
    let mut server = Side::new(Role::Server, config, server_reads);
    for (from_client, op) in ops {
        let (tx, rx) = if from_client {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        match op {
            Op::Text(s) => {
                tx.conn.send_text(&s).unwrap();
                rx.expected.push(Ev::text(s));
            }
            Op::Binary(b) => {
                tx.conn.send_binary(&b).unwrap();
                rx.expected.push(Ev::binary(&b));
            }
            Op::Ping(p) => {
                tx.conn.send_ping(&p).unwrap();
                rx.expected.push(Ev::ping(&p));
                tx.expected.push(Ev::pong(&p));
            }
            Op::Streamed {
                text,
                parts,
                ping_back,
            } => {
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                tx.conn.begin_message(kind).unwrap();
                let last = parts.len() - 1;
                for (i, part) in parts.iter().enumerate() {
                    if i == last {
                        tx.conn.finish_message(part).unwrap();
                    } else {
                        tx.conn.send_fragment(part).unwrap();
                    }
                    // Deliver each fragment as it is sent.
                    let bytes = tx.conn.take_outgoing();
                    rx.deliver(&bytes);
                    if i == last {
                        let whole = parts.concat();
                        rx.expected.push(if text {
                            Ev::text(whole)
                        } else {
                            Ev::binary(whole)
                        });
                    }
                    if i == 0 {
                        if let Some(p) = &ping_back {
                            rx.conn.send_ping(p).unwrap();
                            let bytes = rx.conn.take_outgoing();
                            tx.deliver(&bytes);
                            tx.expected.push(Ev::ping(p));
                            // The pong goes out between the fragments.
                            let bytes = tx.conn.take_outgoing();
                            rx.deliver(&bytes);
                            rx.expected.push(Ev::pong(p));
                        }
                    }
                }
            }
        }
        pump(&mut client, &mut server);
    }

    let (closer_is_client, how) = close;
    let (closer, other) = if closer_is_client {
        (&mut client, &mut server)
    } else {
        (&mut server, &mut client)
    };
    match &how {
        Close::Code(code, reason) => {
            closer.conn.close(CloseCode(*code), reason).unwrap();
            other.expected.push(Ev::close(*code, reason));
            // The echo carries the code and the reason (§5.5.1).
            closer.expected.push(Ev::close(*code, reason));
        }
        Close::NoStatus => {
            closer.conn.close_without_status().unwrap();
            other.expected.push(Ev::close(1005, ""));
            closer.expected.push(Ev::close(1005, ""));
        }
    }
    assert_eq!(closer.conn.state(), ConnectionState::Closing);
    pump(&mut client, &mut server);

    for (name, side) in [("client", &client), ("server", &server)] {
        assert_eq!(side.events, side.expected, "{name} events");
        assert_eq!(side.conn.state(), ConnectionState::Closed, "{name} state");
    }
    // §7.1.1: the server closes the TCP connection; the client then sees the end.
    assert!(server.conn.should_close_transport());
    assert!(!client.conn.should_close_transport());
    client.conn.receive_eof();
    assert_eq!(client.conn.next_event(), Ok(None));
    assert!(client.conn.should_close_transport());
    for side in [&mut client, &mut server] {
        assert_eq!(side.conn.send_text("late"), Err(UsageError::Closed));
        assert_eq!(side.conn.buffered_amount(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn pair_transcripts(
        ops in prop::collection::vec((any::<bool>(), op()), 0..12),
        close in (any::<bool>(), close()),
        frame_size in prop_oneof![1usize..8, 8usize..64, Just(1 << 20)],
        client_reads in prop::collection::vec(1usize..40, 1..6),
        server_reads in prop::collection::vec(1usize..40, 1..6),
    ) {
        run(ops, close, frame_size, client_reads, server_reads);
    }
}

/// A fixed transcript, so a plain `cargo test` failure names a readable case.
#[test]
fn pair_fixed_transcript() {
    run(
        vec![
            (true, Op::Text("hello κόσμε".into())),
            (false, Op::Binary(vec![])),
            (false, Op::Ping(b"p".to_vec())),
            (
                true,
                Op::Streamed {
                    text: true,
                    parts: split_into("a€b𐍈".as_bytes().to_vec(), &[2, 5]),
                    ping_back: Some(b"mid".to_vec()),
                },
            ),
            (false, Op::Text(String::new())),
        ],
        (false, Close::Code(1001, "going".into())),
        3,
        vec![1],
        vec![7, 2],
    );
}
