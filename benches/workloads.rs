//! User-shaped receive workloads W1-W6 (issue 9): every library driven as a user's read
//! loop drives it, on the same input in the same run.
//!
//! Run: `cargo bench --bench workloads -- --warm-up-time 1 --measurement-time 3`.
//! Paired rounds (`common/runner.rs`: every function once per round, ours ÷ the fastest
//! peer taken within each round, the median over rounds; steadier than criterion on a
//! machine whose speed drifts): `PAIRED_ROUNDS=31 cargo bench --bench workloads`.
//! Results: `docs/PERFORMANCE.md`, "Workloads W1-W6 and sends (issue 9)".
//!
//! Workloads, each one contiguous input built once, outside the timing:
//!
//! - `W1_binary_16B`: 100,000 masked 16 B binary frames (server role);
//! - `W2_text_125B`: 100,000 masked 125 B text frames, ASCII mixed with Chinese (server);
//! - `W3_binary_4KiB`: 20,000 masked 4 KiB binary frames (server);
//! - `W4_binary_1MiB`: 200 masked 1 MiB binary frames (server);
//! - `W5_text_4x1KiB_ping`: 10,000 text messages of 4 masked 1 KiB fragments, with a ping
//!   between the 2nd and 3rd fragment of every 10th message (§5.4 allows control frames
//!   between fragments); fragment boundaries split code points (checked when building);
//! - `W6_client_text_125B`: 100,000 unmasked 125 B text frames (client role).
//!
//! Every masked frame has its own non-zero masking key. The input is written by a frame
//! encoder in this file, independent of every library measured.
//!
//! Every library gets the input from an in-memory stream in reads of at most 64 KiB
//! (`WORKLOAD_READ_SIZE`) into its own buffer, and is asked for whole messages one by one
//! (fragments reassembled, text UTF-8 checked, pings answered with pongs written back to
//! the stream, which counts them):
//!
//! - `rfc6455`: `Connection` (`common/ours.rs`, `receive_messages`);
//! - `rfc6455-decode_slice`: the same messages from `frame::FrameDecoder::decode_slice`
//!   over the caller's own buffer, with a small message layer on top (`common/ours.rs`,
//!   `receive_messages_in_place`): what the zero-copy layer allows today;
//! - `tungstenite`: `WebSocket::read` over `Read + Write` (pongs written on the next read);
//! - `fastwebsockets`: `FragmentCollector::read_frame` (answers pings itself and does not
//!   report them; the pong bytes show it saw them);
//! - `tokio-websockets`: `StreamExt::next` on `WebSocketStream` (`ServerBuilder::serve`,
//!   `ClientBuilder::take_over`); it reports pings and writes their pongs on the next read;
//! - `sockudo-ws`: `StreamExt::next` on `WebSocketStream::server`/`client`; it reports
//!   pings and queues their pongs, which are written only when the stream is flushed, so
//!   the read loop flushes after each ping, as its user must;
//! - `memcpy` (W3, W4): the payload bytes copied in 64 KiB reads into one reused buffer,
//!   the least any implementation has to do with them.
//!
//! The async peers run on a current-thread tokio runtime (every read is ready, so the
//! runtime only polls). All are at default settings; `fastwebsockets`' `auto_apply_mask`
//! and `auto_pong` are on by default and must stay on.
//!
//! Each function asserts, inside the timing, the message count, a checksum over the
//! payloads (`common/check.rs`), the pings reported where the library reports them, and
//! the pong bytes written. Throughput: bytes of payload for W3/W4 (criterion prints
//! GiB/s), messages for the others.
//!
//! Size: the counts above under `cargo bench` (criterion gets `--bench`); without
//! `--bench`, as under `cargo test --benches`, every count is divided by 1000 (at least
//! one message), so the test run stays small and still covers every path.

use std::cell::Cell;
use std::hint::black_box;

#[path = "common/check.rs"]
mod check;
#[path = "common/mem_stream.rs"]
mod mem_stream;
#[path = "common/ours.rs"]
mod ours;
#[path = "common/runner.rs"]
mod runner;

use check::Check;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use mem_stream::{MemStream, WORKLOAD_READ_SIZE};
use runner::Runner;

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

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_PING: u8 = 0x9;

/// Full size under `cargo bench`, a thousandth under `cargo test --benches`.
fn count(full: usize) -> usize {
    if std::env::args().any(|arg| arg == "--bench") {
        full
    } else {
        (full / 1000).max(1)
    }
}

/// One workload: many messages back to back, as a peer would send them.
struct Workload {
    name: &'static str,
    /// Server role (masked input) or client role (unmasked input).
    server: bool,
    /// Data messages (pings not included).
    messages: usize,
    pings: usize,
    /// Payload bytes of the data messages.
    payload_bytes: usize,
    wire: Vec<u8>,
    expected: Check,
    /// Report bytes per second and include `memcpy`.
    bulk: bool,
}

/// Exactly `len` bytes of valid mixed text, starting at a different place of the corpus
/// for each `seed`: whole characters from the corpus, then ASCII padding.
fn text(chars: &[char], seed: usize, len: usize) -> Vec<u8> {
    let mut out = String::with_capacity(len);
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

fn binary(seed: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (seed * 31 + j * 7) as u8).collect()
}

/// Appends one frame; masked with `key` if given (a client's frame).
fn push_frame(wire: &mut Vec<u8>, fin: bool, opcode: u8, key: Option<[u8; 4]>, payload: &[u8]) {
    wire.push(u8::from(fin) << 7 | opcode);
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        wire.push(mask_bit | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        wire.push(mask_bit | 126);
        wire.extend_from_slice(&len.to_be_bytes());
    } else {
        wire.push(mask_bit | 127);
        wire.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match key {
        Some(key) => {
            wire.extend_from_slice(&key);
            wire.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => wire.extend_from_slice(payload),
    }
}

/// A masking key for each frame, different for each and never with a zero byte.
struct Keys(u32);

impl Keys {
    fn next(&mut self, masked: bool) -> Option<[u8; 4]> {
        self.0 += 1;
        masked.then(|| (self.0.wrapping_mul(0x9E37_79B9) | 0x0101_0101).to_be_bytes())
    }
}

impl Workload {
    /// `messages` messages of `len` bytes in one frame each.
    fn single(
        name: &'static str,
        server: bool,
        text_messages: bool,
        len: usize,
        messages: usize,
    ) -> Self {
        let chars: Vec<char> = CORPUS.concat().chars().collect();
        let mut wire = Vec::with_capacity(messages * (len + 14));
        let mut keys = Keys(0);
        let mut expected = Check::default();
        for i in 0..messages {
            let payload = if text_messages {
                text(&chars, i, len)
            } else {
                binary(i, len)
            };
            expected.add(text_messages, &payload);
            let opcode = if text_messages { OP_TEXT } else { OP_BINARY };
            push_frame(&mut wire, true, opcode, keys.next(server), &payload);
        }
        Workload {
            name,
            server,
            messages,
            pings: 0,
            payload_bytes: messages * len,
            wire,
            expected,
            bulk: len >= 4096,
        }
    }

    /// `messages` text messages of `fragments` masked frames of `fragment_len` bytes, with
    /// a ping in the middle of every 10th message.
    fn fragmented(
        name: &'static str,
        messages: usize,
        fragments: usize,
        fragment_len: usize,
    ) -> Self {
        let chars: Vec<char> = CORPUS.concat().chars().collect();
        let len = fragments * fragment_len;
        let mut wire = Vec::with_capacity(messages * (len + fragments * 8 + 2));
        let mut keys = Keys(0);
        let (mut pings, mut split_code_points) = (0, 0);
        let mut expected = Check::default();
        for i in 0..messages {
            let payload = text(&chars, i, len);
            expected.add(true, &payload);
            for (f, part) in payload.chunks(fragment_len).enumerate() {
                // A ping between the fragments of messages 4, 14, 24, ...: never after the
                // last message, so every pong is due before the input ends.
                if i % 10 == 4 && f == fragments / 2 {
                    push_frame(&mut wire, true, OP_PING, keys.next(true), PING_PAYLOAD);
                    pings += 1;
                }
                let opcode = if f == 0 { OP_TEXT } else { OP_CONTINUATION };
                if f > 0 && part[0] & 0xC0 == 0x80 {
                    split_code_points += 1;
                }
                push_frame(&mut wire, f + 1 == fragments, opcode, keys.next(true), part);
            }
        }
        assert!(
            split_code_points > 0,
            "some fragment must split a code point"
        );
        Workload {
            name,
            server: true,
            messages,
            pings,
            payload_bytes: messages * len,
            wire,
            expected,
            bulk: false,
        }
    }
}

/// A stream over `wire` handing out at most 64 KiB per read.
fn stream<'a>(wire: &'a [u8], pos: &'a Cell<usize>, written: &'a Cell<usize>) -> MemStream<'a> {
    MemStream {
        data: wire,
        pos,
        written,
        max_read: WORKLOAD_READ_SIZE,
    }
}

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let pong_bytes = w.pings * PONG_LEN;
    let items = w.messages + w.pings;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let (pos, written) = (Cell::new(0), Cell::new(0));
    // Shared by every function (each owns its connection and moves it in).
    let (pos, written, runtime) = (&pos, &written, &runtime);
    let mut group = Runner::new(c, format!("workloads/{}", w.name), |group| {
        if w.bulk {
            group.throughput(Throughput::Bytes(w.payload_bytes as u64));
        } else {
            group.throughput(Throughput::Elements(w.messages as u64));
        }
        if w.wire.len() > 32 << 20 {
            // Iterations of 10-500 ms: equal-sized samples, fewer of them.
            group.sampling_mode(SamplingMode::Flat).sample_size(20);
        }
    });

    if w.bulk {
        // The floor: the payload bytes, copied in reads of 64 KiB into one reused buffer.
        let source = &w.wire[..w.payload_bytes];
        let mut dst = vec![0u8; WORKLOAD_READ_SIZE];
        group.add("memcpy", move || {
            let mut copied = 0;
            for chunk in black_box(source).chunks(WORKLOAD_READ_SIZE) {
                dst[..chunk.len()].copy_from_slice(chunk);
                black_box(&mut dst);
                copied += chunk.len();
            }
            assert_eq!(copied, w.payload_bytes);
        });
    }

    let receiver = || {
        if w.server {
            ours::Receiver::server()
        } else {
            ours::Receiver::client()
        }
    };
    let mut rx = receiver();
    group.add("rfc6455", move || {
        pos.set(0);
        written.set(0);
        let got = ours::receive_messages(&mut rx, &mut stream(black_box(&w.wire), pos, written));
        assert_eq!(got.check, w.expected);
        assert_eq!((got.pings, written.get()), (w.pings, pong_bytes));
    });
    let mut rx = receiver();
    group.add("rfc6455-borrowed", move || {
        pos.set(0);
        written.set(0);
        let got =
            ours::receive_messages_borrowed(&mut rx, &mut stream(black_box(&w.wire), pos, written));
        assert_eq!(got.check, w.expected);
        assert_eq!((got.pings, written.get()), (w.pings, pong_bytes));
    });

    let mut rx = if w.server {
        ours::SliceReceiver::server()
    } else {
        ours::SliceReceiver::client()
    };
    group.add("rfc6455-decode_slice", move || {
        pos.set(0);
        written.set(0);
        let got =
            ours::receive_messages_in_place(&mut rx, &mut stream(black_box(&w.wire), pos, written));
        assert_eq!(got.check, w.expected);
        assert_eq!((got.pings, written.get()), (w.pings, pong_bytes));
    });

    // tungstenite: `read` returns whole messages and pings; it queues each pong and
    // writes it on the next `read`.
    let role = if w.server {
        tungstenite::protocol::Role::Server
    } else {
        tungstenite::protocol::Role::Client
    };
    let mut ws = tungstenite::WebSocket::from_raw_socket(stream(&w.wire, pos, written), role, None);
    group.add("tungstenite", move || {
        pos.set(0);
        written.set(0);
        let (mut check, mut pings) = (Check::default(), 0);
        for _ in 0..items {
            match ws.read().expect("valid input") {
                tungstenite::Message::Text(text) => check.add(true, text.as_bytes()),
                tungstenite::Message::Binary(data) => check.add(false, &data),
                tungstenite::Message::Ping(_) => pings += 1,
                other => panic!("unexpected message {other:?}"),
            }
        }
        assert_eq!(pos.get(), w.wire.len());
        assert_eq!(check, w.expected);
        assert_eq!((pings, written.get()), (w.pings, pong_bytes));
    });

    // fastwebsockets: `FragmentCollector` answers pings itself and does not report them.
    let role = if w.server {
        fastwebsockets::Role::Server
    } else {
        fastwebsockets::Role::Client
    };
    let mut ws = fastwebsockets::FragmentCollector::new(
        fastwebsockets::WebSocket::after_handshake(stream(&w.wire, pos, written), role),
    );
    group.add("fastwebsockets", move || {
        pos.set(0);
        written.set(0);
        let check = runtime.block_on(async {
            let mut check = Check::default();
            for _ in 0..w.messages {
                let frame = ws.read_frame().await.expect("valid input");
                match frame.opcode {
                    fastwebsockets::OpCode::Text => check.add(true, &frame.payload),
                    fastwebsockets::OpCode::Binary => check.add(false, &frame.payload),
                    other => panic!("unexpected frame {other:?}"),
                }
            }
            check
        });
        assert_eq!(pos.get(), w.wire.len());
        assert_eq!(check, w.expected);
        assert_eq!(written.get(), pong_bytes);
    });

    // tokio-websockets: pings are returned; the pong is written on the next read.
    let mut ws = if w.server {
        tokio_websockets::ServerBuilder::new().serve(stream(&w.wire, pos, written))
    } else {
        tokio_websockets::ClientBuilder::new().take_over(stream(&w.wire, pos, written))
    };
    group.add("tokio-websockets", move || {
        pos.set(0);
        written.set(0);
        let (check, pings) = runtime.block_on(async {
            let (mut check, mut pings) = (Check::default(), 0);
            for _ in 0..items {
                let message = ws.next().await.expect("not the end").expect("valid input");
                if message.is_text() {
                    check.add(true, message.as_payload());
                } else if message.is_binary() {
                    check.add(false, message.as_payload());
                } else if message.is_ping() {
                    pings += 1;
                } else {
                    panic!("unexpected message {message:?}");
                }
            }
            (check, pings)
        });
        assert_eq!(pos.get(), w.wire.len());
        assert_eq!(check, w.expected);
        assert_eq!((pings, written.get()), (w.pings, pong_bytes));
    });

    // sockudo-ws: pings are returned and their pongs queued; a flush writes them.
    let config = sockudo_ws::Config::default();
    let mut ws = if w.server {
        sockudo_ws::WebSocketStream::server(stream(&w.wire, pos, written), config)
    } else {
        sockudo_ws::WebSocketStream::client(stream(&w.wire, pos, written), config)
    };
    group.add("sockudo-ws", move || {
        pos.set(0);
        written.set(0);
        let (check, pings) = runtime.block_on(async {
            let (mut check, mut pings) = (Check::default(), 0);
            for _ in 0..items {
                match ws.next().await.expect("not the end").expect("valid input") {
                    sockudo_ws::Message::Text(text) => check.add(true, &text),
                    sockudo_ws::Message::Binary(data) => check.add(false, &data),
                    sockudo_ws::Message::Ping(_) => {
                        pings += 1;
                        ws.flush().await.expect("the sink takes everything");
                    }
                    other => panic!("unexpected message {other:?}"),
                }
            }
            (check, pings)
        });
        assert_eq!(pos.get(), w.wire.len());
        assert_eq!(check, w.expected);
        assert_eq!((pings, written.get()), (w.pings, pong_bytes));
    });

    group.finish();
}

fn workloads(c: &mut Criterion) {
    let workloads = [
        Workload::single("W1_binary_16B", true, false, 16, count(100_000)),
        Workload::single("W2_text_125B", true, true, 125, count(100_000)),
        Workload::single("W3_binary_4KiB", true, false, 4096, count(20_000)),
        Workload::single("W4_binary_1MiB", true, false, 1 << 20, count(200)),
        Workload::fragmented("W5_text_4x1KiB_ping", count(10_000), 4, 1024),
        Workload::single("W6_client_text_125B", false, true, 125, count(100_000)),
    ];
    for w in &workloads {
        eprintln!(
            "workloads/{}: {} messages, {} pings, {} B of payload, {} B on the wire per iteration",
            w.name,
            w.messages,
            w.pings,
            w.payload_bytes,
            w.wire.len()
        );
        bench_workload(c, w);
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
