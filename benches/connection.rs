//! The server's message-level hot path (issue 4): whole events out of a [`Connection`]
//! fed masked client frames, against `tungstenite` and `fastwebsockets` reading the same
//! bytes in the same run.
//!
//! Run: `cargo bench --bench connection -- --warm-up-time 1 --measurement-time 3`.
//! Results and how to read them: `docs/PERFORMANCE.md`, "Connection: messages per
//! second".
//!
//! Groups, one input each (built once, outside the timing, about 2 MiB on the wire):
//!
//! - `text_125B`: text messages of 125 bytes, one masked frame each;
//! - `text_4x1KiB_ping`: text messages of 4 KiB, each sent as 4 masked frames of 1 KiB
//!   (fragment boundaries may split a code point, which is legal), and a ping between the
//!   2nd and 3rd fragment of every 10th message (§5.4 lets control frames sit between
//!   fragments);
//! - `binary_16B`: binary messages of 16 bytes, one masked frame each.
//!
//! Text is mixed Chinese and ASCII, so UTF-8 validation does real work. Every frame has
//! its own non-zero masking key.
//!
//! Every implementation gets the same bytes the way a server reads them, in reads of at
//! most 128 KiB (tungstenite's read size):
//!
//! - `rfc6455`: each read is appended to [`Connection::receive_buffer`], then
//!   `next_event` runs until it needs more bytes, then the queued output is taken;
//! - `tungstenite`: `WebSocket::read` over an in-memory `Read + Write` stream;
//! - `fastwebsockets`: `FragmentCollector::read_frame` (its message-level reader: it
//!   reassembles fragments and checks UTF-8) over an in-memory tokio stream, on a
//!   current-thread runtime.
//!
//! Automatic pongs are on for all three (tungstenite cannot turn them off): the pongs are
//! written to a sink that counts their bytes. `fastwebsockets` does not report the pings
//! it answers, so the pings are checked through the pong bytes written, for all three.
//!
//! Each function asserts, inside the timing, the message count, a checksum over the
//! message payloads, the pings reported (where reported) and the pong bytes written, so a
//! broken implementation cannot look fast. Throughput is `Elements(messages)`: criterion
//! prints messages per second; divide the time per iteration by the message count
//! (printed at the start of each group) for a time per message.

use std::cell::Cell;
use std::hint::black_box;

#[path = "common/mem_stream.rs"]
mod mem_stream;
use mem_stream::{MemStream, READ_SIZE};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::frame::{Frame, OpCode};
use rfc6455::{Config, Connection, Event};

/// About this many bytes on the wire per iteration.
const TARGET_WIRE: usize = 2 << 20;

/// The payload of every ping; a server's pong echoes it unmasked (2-byte header).
const PING_PAYLOAD: &[u8] = b"heartbeat";

/// The pong bytes a server writes per ping.
const PONG_LEN: usize = 2 + PING_PAYLOAD.len();

/// Mixed text: the sentences messages are cut from, about half Chinese by bytes.
const CORPUS: [&str; 6] = [
    "WebSocket 协议在 2011 年由 IETF 标准化为 RFC 6455，",
    "它让浏览器和服务器之间可以进行全双工通信。",
    "{\"user\":\"小明\",\"room\":\"lobby\",\"text\":\"大家好，今天的会议改到下午三点\"} ",
    "The server must unmask every frame and check that text is valid UTF-8; ",
    "每个文本消息都必须是合法的 UTF-8 编码，否则连接以 1007 关闭。",
    "ping/pong frames keep the connection alive behind NAT and proxies. ",
];

/// One group's input: many messages, back to back, as a client would send them.
struct Input {
    name: &'static str,
    /// Data messages (pings not included).
    messages: usize,
    pings: usize,
    wire: Vec<u8>,
    expected: Check,
}

/// What a receiver must produce: the message count and a checksum over every payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Check {
    messages: usize,
    sum: u64,
}

impl Check {
    /// Folds in a payload's kind, length and four sampled bytes (one per quarter, so one
    /// from each fragment of a 4-fragment message): cheap next to receiving it, but wrong
    /// if a payload is cut, misassembled or left masked.
    #[inline]
    fn add(&mut self, text: bool, payload: &[u8]) {
        let len = payload.len();
        let sample = u64::from(payload[0])
            | u64::from(payload[len / 3]) << 8
            | u64::from(payload[2 * len / 3]) << 16
            | u64::from(payload[len - 1]) << 24
            | u64::from(text) << 32;
        self.messages += 1;
        self.sum = self.sum.wrapping_mul(0x100_0000_01B3) ^ (sample + len as u64);
    }
}

/// Exactly `len` bytes of valid mixed text, starting at a different place of the corpus
/// for each `seed`: whole characters from the corpus, then ASCII padding.
fn text(seed: usize, len: usize) -> Vec<u8> {
    let mut out = String::with_capacity(len);
    let corpus = CORPUS.concat();
    let chars: Vec<char> = corpus.chars().collect();
    let mut i = seed.wrapping_mul(7) % chars.len();
    loop {
        let c = chars[i % chars.len()];
        if out.len() + c.len_utf8() > len {
            break;
        }
        out.push(c);
        i += 1;
    }
    while out.len() < len {
        out.push('.');
    }
    out.into_bytes()
}

/// A different non-zero masking key for each frame.
fn key(frame: usize) -> [u8; 4] {
    // Every byte non-zero, so every byte of the payload really changes.
    ((frame as u32).wrapping_mul(0x9E37_79B9) | 0x0101_0101).to_be_bytes()
}

/// Appends a masked frame, as a client sends it.
fn push_frame(wire: &mut Vec<u8>, frames: &mut usize, fin: bool, opcode: OpCode, payload: &[u8]) {
    let mut frame = Frame::new(opcode, payload.to_vec());
    frame.header.fin = fin;
    frame.header.mask = Some(key(*frames));
    *frames += 1;
    frame.encode(wire);
}

impl Input {
    /// Messages of `len` bytes in one frame each.
    fn single(name: &'static str, text_messages: bool, len: usize) -> Self {
        let messages = TARGET_WIRE / (len + 6);
        let opcode = if text_messages {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        let mut wire = Vec::with_capacity(TARGET_WIRE + 64);
        let mut frames = 0;
        let mut expected = Check::default();
        for i in 0..messages {
            let payload = if text_messages {
                text(i, len)
            } else {
                (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
            };
            expected.add(text_messages, &payload);
            push_frame(&mut wire, &mut frames, true, opcode, &payload);
        }
        Input {
            name,
            messages,
            pings: 0,
            wire,
            expected,
        }
    }

    /// Text messages of `fragments` × `fragment_len` bytes, with a ping in the middle of
    /// every 10th message.
    fn fragmented(name: &'static str, fragments: usize, fragment_len: usize) -> Self {
        let len = fragments * fragment_len;
        let messages = TARGET_WIRE / (len + fragments * 8);
        let mut wire = Vec::with_capacity(TARGET_WIRE + 64);
        let mut frames = 0;
        let mut pings = 0;
        let mut split_code_points = 0;
        let mut expected = Check::default();
        for i in 0..messages {
            let payload = text(i, len);
            expected.add(true, &payload);
            for (f, part) in payload.chunks(fragment_len).enumerate() {
                // A ping between the fragments of messages 4, 14, 24, ...: never after
                // the last message, so every pong is due before the input ends.
                if i % 10 == 4 && f == fragments / 2 {
                    push_frame(&mut wire, &mut frames, true, OpCode::Ping, PING_PAYLOAD);
                    pings += 1;
                }
                let opcode = if f == 0 {
                    OpCode::Text
                } else {
                    OpCode::Continuation
                };
                if f > 0 && part[0] & 0xC0 == 0x80 {
                    split_code_points += 1;
                }
                push_frame(&mut wire, &mut frames, f + 1 == fragments, opcode, part);
            }
        }
        assert!(
            split_code_points > 0,
            "some fragment must split a code point"
        );
        Input {
            name,
            messages,
            pings,
            wire,
            expected,
        }
    }
}

fn bench_input(c: &mut Criterion, input: &Input) {
    let mut group = c.benchmark_group(format!("connection/{}", input.name));
    group.throughput(Throughput::Elements(input.messages as u64));
    let expected = input.expected;
    let pong_bytes = input.pings * PONG_LEN;

    // Ours, as a server's read loop drives it: read at most `READ_SIZE` bytes into the
    // connection's buffer, take every event, write out the queued pongs, repeat. The
    // connection lives across iterations, as it would across reads.
    let mut ws = Connection::server(Config::default());
    let mut out = Vec::new();
    group.bench_function("rfc6455", |b| {
        b.iter(|| {
            let wire = black_box(&input.wire[..]);
            let mut check = Check::default();
            let (mut pings, mut written) = (0, 0);
            for chunk in wire.chunks(READ_SIZE) {
                let buf = ws.receive_buffer();
                // Every payload handed out so far has been dropped, so this reclaims the
                // same allocation rather than allocating.
                buf.reserve(chunk.len());
                buf.extend_from_slice(chunk);
                while let Some(event) = ws.next_event().expect("valid input") {
                    match event {
                        Event::Text(text) => check.add(true, text.as_bytes()),
                        Event::Binary(data) => check.add(false, &data),
                        Event::Ping(_) => pings += 1,
                        other => panic!("unexpected event {other:?}"),
                    }
                }
                ws.take_outgoing_into(&mut out);
                written += out.len();
                out.clear();
            }
            assert_eq!(check, expected);
            assert_eq!((pings, written), (input.pings, pong_bytes));
        });
    });

    // tungstenite: `WebSocket::read` returns whole messages and pings; it queues each
    // pong and writes it on the next `read`.
    let (pos, written) = (Cell::new(0), Cell::new(0));
    let config = tungstenite::protocol::WebSocketConfig::default();
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        MemStream {
            data: &input.wire,
            pos: &pos,
            written: &written,
            max_read: READ_SIZE,
        },
        tungstenite::protocol::Role::Server,
        Some(config),
    );
    group.bench_function("tungstenite", |b| {
        b.iter(|| {
            pos.set(0);
            written.set(0);
            let mut check = Check::default();
            let mut pings = 0;
            for _ in 0..input.messages + input.pings {
                match ws.read().expect("valid input") {
                    tungstenite::Message::Text(text) => check.add(true, text.as_bytes()),
                    tungstenite::Message::Binary(data) => check.add(false, &data),
                    tungstenite::Message::Ping(_) => pings += 1,
                    other => panic!("unexpected message {other:?}"),
                }
            }
            assert_eq!(pos.get(), input.wire.len());
            assert_eq!(check, expected);
            assert_eq!((pings, written.get()), (input.pings, pong_bytes));
        });
    });

    // fastwebsockets: `FragmentCollector` answers pings itself and does not report them;
    // the pongs written show it saw them. Async, driven on a current-thread runtime (every
    // read is ready at once, so the runtime only polls).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let (pos, written) = (Cell::new(0), Cell::new(0));
    let mut ws = fastwebsockets::WebSocket::after_handshake(
        MemStream {
            data: &input.wire,
            pos: &pos,
            written: &written,
            max_read: READ_SIZE,
        },
        fastwebsockets::Role::Server,
    );
    ws.set_auto_pong(true);
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    group.bench_function("fastwebsockets", |b| {
        b.iter(|| {
            pos.set(0);
            written.set(0);
            let check = runtime.block_on(async {
                let mut check = Check::default();
                for _ in 0..input.messages {
                    let frame = ws.read_frame().await.expect("valid input");
                    match frame.opcode {
                        fastwebsockets::OpCode::Text => check.add(true, &frame.payload),
                        fastwebsockets::OpCode::Binary => check.add(false, &frame.payload),
                        other => panic!("unexpected frame {other:?}"),
                    }
                }
                check
            });
            assert_eq!(pos.get(), input.wire.len());
            assert_eq!(check, expected);
            assert_eq!(written.get(), pong_bytes);
        });
    });

    group.finish();
}

fn connection(c: &mut Criterion) {
    let inputs = [
        Input::single("text_125B", true, 125),
        Input::fragmented("text_4x1KiB_ping", 4, 1024),
        Input::single("binary_16B", false, 16),
    ];
    for input in &inputs {
        eprintln!(
            "connection/{}: {} messages and {} pings, {} B on the wire per iteration",
            input.name,
            input.messages,
            input.pings,
            input.wire.len()
        );
        bench_input(c, input);
    }
}

criterion_group!(benches, connection);
criterion_main!(benches);
