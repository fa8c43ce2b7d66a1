//! A plain loop over the two hottest paths, for instruction counts under
//! `valgrind --tool=callgrind` (which criterion's statistics would drown): receiving
//! 100,000 masked frames through `receive_buffer` + `next_event_ref` (or `next_event`),
//! and sending through `send_binary` + `outgoing()`.
//!
//! ```sh
//! cargo bench --bench hot_loop --no-run   # prints the executable's path
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> receive 16 borrowed 1
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> receive 16 borrowed 0  # the input alone
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> receive 0 borrowed 1  # W5's shape
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> send 16 borrowed 100000
//! ```
//!
//! Arguments: `receive LEN owned|borrowed ITERATIONS` or `send LEN owned|borrowed COUNT`.
//! Without arguments (as under `cargo test --benches`) it runs each path briefly and
//! checks the results. It prints nanoseconds per message, which are only indicative.

use std::hint::black_box;
use std::time::Instant;

use bytes::{Buf, BufMut, Bytes};
use rfc6455::{Config, Connection, Event, EventRef};

/// `n` masked binary frames of `len` bytes, each with its own key (§5.3).
fn frames(n: usize, len: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..n {
        let key = (u32::try_from(i)
            .unwrap_or(u32::MAX)
            .wrapping_mul(2_654_435_761)
            | 1)
        .to_be_bytes();
        wire.push(0x82);
        match len {
            0..=125 => wire.push(0x80 | u8::try_from(len).unwrap_or(0)),
            126..=0xFFFF => {
                wire.push(0x80 | 126);
                wire.extend_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
            }
            _ => {
                wire.push(0x80 | 127);
                wire.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        wire.extend_from_slice(&key);
        wire.extend((0..len).map(|j| (j as u8) ^ key[j % 4]));
    }
    wire
}

/// W5's shape: `n` text messages of 4 masked 1 KiB fragments (mixed ASCII and Chinese,
/// code points split across fragments), a ping between the fragments of every 10th.
fn fragmented(n: usize) -> Vec<u8> {
    let chars: Vec<char> = "WebSocket 协议让浏览器和服务器全双工通信; "
        .chars()
        .collect();
    let mut wire = Vec::new();
    let mut key_seed = 1u32;
    let mut push = |wire: &mut Vec<u8>, b0: u8, payload: &[u8]| {
        key_seed = key_seed.wrapping_mul(2_654_435_761) | 1;
        let key = key_seed.to_be_bytes();
        wire.push(b0);
        if payload.len() < 126 {
            wire.push(0x80 | u8::try_from(payload.len()).unwrap_or(0));
        } else {
            wire.push(0x80 | 126);
            wire.extend_from_slice(&u16::try_from(payload.len()).unwrap_or(0).to_be_bytes());
        }
        wire.extend_from_slice(&key);
        wire.extend(payload.iter().enumerate().map(|(j, b)| b ^ key[j % 4]));
    };
    for i in 0..n {
        // 4096 bytes of whole characters from a different place each time, padded.
        let mut message = String::new();
        for c in chars.iter().cycle().skip(i % chars.len()) {
            if message.len() + c.len_utf8() > 4096 {
                break;
            }
            message.push(*c);
        }
        while message.len() < 4096 {
            message.push('.');
        }
        for (f, part) in message.as_bytes().chunks(1024).enumerate() {
            if i % 10 == 4 && f == 2 {
                push(&mut wire, 0x89, b"heartbeat");
            }
            let opcode = if f == 0 { 0x01 } else { 0x00 };
            let fin = if f == 3 { 0x80 } else { 0 };
            push(&mut wire, fin | opcode, part);
        }
    }
    wire
}

/// The messages `receive LEN` runs: 10,000 for W5's shape, else 100,000 up to 2 KiB,
/// then 200 MiB worth.
fn messages(len: usize) -> usize {
    if len == 0 {
        10_000
    } else {
        (200 << 20) / len.max(2048)
    }
}

/// Reads `wire` in reads of at most 64 KiB into the lent room, takes every message;
/// returns the payload bytes seen.
fn receive(wire: &[u8], borrowed: bool) -> usize {
    let mut ws = Connection::server(Config::default());
    let (mut pos, mut seen) = (0, 0);
    while pos < wire.len() {
        let room = ws.receive_buffer();
        let n = (room.capacity() - room.len())
            .min(64 << 10)
            .min(wire.len() - pos);
        room.put_slice(&wire[pos..pos + n]);
        pos += n;
        if borrowed {
            while let Some(event) = ws.next_event_ref().expect("valid frames") {
                match event {
                    EventRef::Binary(data) => seen += data.len(),
                    EventRef::Text(text) => seen += text.len(),
                    _ => {}
                }
            }
        } else {
            while let Some(event) = ws.next_event().expect("valid frames") {
                match event {
                    Event::Binary(data) => seen += data.len(),
                    Event::Text(text) => seen += text.len(),
                    _ => {}
                }
            }
        }
    }
    seen
}

/// Sends `count` messages of `len` bytes, writing the queue after each; returns the
/// bytes written.
fn send(len: usize, borrowed: bool, count: usize) -> usize {
    let payload = Bytes::from(vec![7u8; len]);
    let mut ws = Connection::server(Config::default());
    let mut written = 0;
    if let Ok(batch) = std::env::var("HOT_LOOP_BATCH") {
        // `HOT_LOOP_BATCH=N`: N messages queued, then the queue written, `count / N` times
        // over, by a client (masked), as the `batch` variant of `benches/send.rs`.
        let batch: usize = batch.parse().expect("a batch size");
        let mut ws = Connection::client(Config::default());
        for _ in 0..count / batch.max(1) {
            for _ in 0..batch {
                ws.send_binary(black_box(&payload).clone()).expect("open");
            }
            let out = ws.outgoing();
            while out.has_remaining() {
                let n = black_box(out.chunk()).len();
                written += n;
                out.advance(n);
            }
        }
        return written;
    }
    for _ in 0..count {
        if borrowed {
            ws.send_binary(black_box(&payload[..])).expect("open");
        } else {
            ws.send_binary(black_box(&payload).clone()).expect("open");
        }
        let out = ws.outgoing();
        while out.has_remaining() {
            let n = black_box(out.chunk()).len();
            written += n;
            out.advance(n);
        }
    }
    written
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.len() < 4 {
        // A smoke run, as a test.
        assert_eq!(receive(&frames(1000, 16), true), 16_000);
        assert_eq!(receive(&frames(10, 70_000), false), 700_000);
        assert_eq!(receive(&fragmented(20), true), 20 * 4096);
        assert_eq!(receive(&fragmented(20), false), 20 * 4096);
        assert_eq!(send(16, true, 1000), 18_000);
        assert_eq!(send(2000, false, 10), 20_040);
        return;
    }
    let len: usize = args[1].parse().expect("LEN");
    let borrowed = args[2] == "borrowed";
    let count: usize = args[3].parse().expect("a count");
    let start = Instant::now();
    let messages = if args[0] == "send" {
        black_box(send(len, borrowed, count));
        count
    } else {
        // `receive 0 ...` is W5's shape (10,000 fragmented text messages).
        let wire = if len == 0 {
            fragmented(10_000)
        } else {
            frames(messages(len), len)
        };
        let start = Instant::now();
        for _ in 0..count {
            black_box(receive(black_box(&wire), borrowed));
        }
        let per = start.elapsed().as_nanos() as f64 / (count.max(1) * messages(len)) as f64;
        eprintln!("{per:.1} ns per message");
        return;
    };
    let per = start.elapsed().as_nanos() as f64 / messages.max(1) as f64;
    eprintln!("{per:.1} ns per message");
}
