//! A plain loop over the two hottest paths, for instruction counts under
//! `valgrind --tool=callgrind` (which criterion's statistics would drown): receiving
//! 100,000 masked frames through `receive_buffer` + `next_event_ref` (or `next_event`),
//! and sending through `send_binary` + `outgoing()`.
//!
//! ```sh
//! cargo bench --bench hot_loop --no-run   # prints the executable's path
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> receive 16 borrowed 1
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> receive 16 borrowed 0  # the input alone
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
                if let EventRef::Binary(data) = event {
                    seen += data.len();
                }
            }
        } else {
            while let Some(event) = ws.next_event().expect("valid frames") {
                if let Event::Binary(data) = event {
                    seen += data.len();
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
        let wire = frames(100_000, len);
        let start = Instant::now();
        for _ in 0..count {
            black_box(receive(black_box(&wire), borrowed));
        }
        let per = start.elapsed().as_nanos() as f64 / (count.max(1) * 100_000) as f64;
        eprintln!("{per:.1} ns per message");
        return;
    };
    let per = start.elapsed().as_nanos() as f64 / messages.max(1) as f64;
    eprintln!("{per:.1} ns per message");
}
