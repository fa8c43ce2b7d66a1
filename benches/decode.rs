//! The server's hot path: decoding masked binary frames (§5.2, §5.3) from one contiguous
//! buffer of many frames, against `tungstenite` and `fastwebsockets` in the same run and
//! against `memcpy` of the same payload bytes, the physical floor.
//!
//! Run: `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 3`.
//! Results and how to read them: `docs/PERFORMANCE.md`.
//!
//! Each group is one frame shape; every function in it handles the same frames and
//! reports `Throughput::Bytes` of payload, so criterion's times per iteration compare
//! directly (divide by the group's frame count for a time per frame). Functions:
//!
//! - `rfc6455`: the input is copied into a reused `BytesMut` in reads of at most 128 KiB
//!   (as a socket read loop would fill it), and `FrameDecoder::decode` runs after each
//!   read until it needs more;
//! - `tungstenite`, `fastwebsockets`: each reads the same input from an in-memory stream
//!   through its own read path, which copies it into its own buffer once, just as ours is
//!   copied once: the copy cost is equal;
//! - `rfc6455_in_buffer`: the input is already in the decoder's buffer (copied there in
//!   untimed setup), so only header parsing, unmasking and splitting are timed; this is
//!   the figure to hold against `memcpy`;
//! - `rfc6455_borrowed`: the same copy-in, then `FrameDecoder::decode_slice`, which
//!   unmasks in place and lends each payload out of the caller's buffer: no `Bytes` (and
//!   so no reference count) per payload;
//! - `memcpy`: `copy_from_slice` of the same payload bytes, one pass over them.
//!
//! Every function asserts the frame count and a checksum of the payloads it decoded, so a
//! broken decoder cannot look fast.

use std::cell::Cell;
use std::hint::black_box;

use bytes::BytesMut;
#[path = "common/mem_stream.rs"]
mod mem_stream;
use mem_stream::{MemStream, READ_SIZE};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::Role;
use rfc6455::frame::{Frame, FrameDecoder, OpCode};

/// The masking key of every masked frame: any non-zero key works; this is §5.7's.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// About this many payload bytes per iteration (at least 4 frames).
const TARGET_BYTES: usize = 1 << 20;

/// One group's input: many frames of one size, back to back, as the wire carries them.
struct Input {
    name: &'static str,
    /// Who receives the frames: a server gets masked frames, a client unmasked ones.
    receiver: Role,
    frames: usize,
    payload_len: usize,
    wire: Vec<u8>,
    /// The unmasked payloads, back to back: what `memcpy` copies.
    payloads: Vec<u8>,
    expected: Check,
}

/// What a decoder must produce: the frame count and a checksum over every payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Check {
    frames: usize,
    sum: u64,
}

impl Check {
    /// Folds in a payload's length and its first, middle and last bytes: cheap next to
    /// decoding, but wrong if a payload is misplaced or left masked.
    #[inline]
    fn add(&mut self, payload: &[u8]) {
        let len = payload.len();
        let sample = u64::from(payload[0])
            | u64::from(payload[len / 2]) << 8
            | u64::from(payload[len - 1]) << 16;
        self.frames += 1;
        self.sum = self.sum.wrapping_mul(0x100_0000_01B3) ^ (sample + len as u64);
    }
}

impl Input {
    fn new(name: &'static str, receiver: Role, payload_len: usize) -> Self {
        let frames = (TARGET_BYTES / payload_len).max(4);
        let mut wire = Vec::new();
        let mut payloads = Vec::with_capacity(frames * payload_len);
        let mut expected = Check::default();
        for i in 0..frames {
            let payload: Vec<u8> = (0..payload_len)
                .map(|j| (i.wrapping_mul(31) ^ j.wrapping_mul(7) ^ (j >> 8)) as u8)
                .collect();
            expected.add(&payload);
            payloads.extend_from_slice(&payload);
            let mut frame = Frame::new(OpCode::Binary, payload);
            if receiver == Role::Server {
                frame.header.mask = Some(KEY);
            }
            frame.encode(&mut wire);
        }
        Input {
            name,
            receiver,
            frames,
            payload_len,
            wire,
            payloads,
            expected,
        }
    }
}

/// Decodes every frame in `buf` with ours.
#[inline]
fn decode_all(decoder: &mut FrameDecoder, buf: &mut BytesMut) -> Check {
    let mut check = Check::default();
    while let Some(frame) = decoder.decode(buf).expect("valid frames") {
        check.add(&frame.payload);
    }
    assert!(buf.is_empty());
    check
}

fn bench_input(c: &mut Criterion, input: &Input) {
    let mut group = c.benchmark_group(format!("decode/{}", input.name));
    group.throughput(Throughput::Bytes((input.frames * input.payload_len) as u64));
    let expected = input.expected;

    // Ours, fed as a socket read loop would feed it: read at most `READ_SIZE` bytes (the
    // size tungstenite reads) into the buffer's spare capacity, decode until the decoder
    // needs more, repeat. Once the decoder has seen a header it grows the buffer toward
    // the frame (at most 64 KiB ahead of the bytes received); `reserve` here makes room
    // for the next read, as a caller's read loop would.
    let mut decoder = FrameDecoder::new(input.receiver).max_payload_len(64 << 20);
    let mut buf = BytesMut::new();
    group.bench_function("rfc6455", |b| {
        b.iter(|| {
            let wire = black_box(&input.wire[..]);
            let mut check = Check::default();
            let mut pos = 0;
            loop {
                while let Some(frame) = decoder.decode(&mut buf).expect("valid frames") {
                    check.add(&frame.payload);
                }
                if pos == wire.len() {
                    break;
                }
                // Every payload handed out so far has been dropped, so this reclaims the
                // same allocation rather than allocating.
                buf.reserve(READ_SIZE);
                let n = READ_SIZE
                    .min(buf.capacity() - buf.len())
                    .min(wire.len() - pos);
                buf.extend_from_slice(&wire[pos..pos + n]);
                pos += n;
            }
            assert!(buf.is_empty());
            assert_eq!(check, expected);
        });
    });

    // Ours with the input already in the buffer: the decoder's own work only.
    group.bench_function("rfc6455_in_buffer", |b| {
        b.iter_batched(
            || BytesMut::from(&input.wire[..]),
            |mut buf| {
                assert_eq!(decode_all(&mut decoder.clone(), &mut buf), expected);
                buf
            },
            BatchSize::PerIteration,
        );
    });

    // Not an API we offer: what a borrowing decoder built from our public pieces
    // (`decode_header` + `apply_mask` over a plain slice) costs, with the same copy-in as
    // `rfc6455`. The difference from `rfc6455` is the price of handing out each payload as
    // its own reference-counted `Bytes` (`split_to` + `freeze`, and the drop).
    let mut raw: Vec<u8> = Vec::with_capacity(input.wire.len());
    group.bench_function("rfc6455_borrowed", |b| {
        b.iter(|| {
            raw.clear();
            raw.extend_from_slice(black_box(&input.wire));
            let mut check = Check::default();
            let mut pos = 0;
            while let Some(frame) = decoder.decode_slice(&mut raw[pos..]).expect("valid frames") {
                check.add(frame.payload);
                pos += frame.consumed;
            }
            assert_eq!(pos, raw.len());
            assert_eq!(check, expected);
        });
    });

    // tungstenite: its `WebSocket` is the lowest public layer that unmasks
    // (`FrameSocket` returns frames still masked).
    let pos = Cell::new(0);
    let written = Cell::new(0);
    let role = match input.receiver {
        Role::Server => tungstenite::protocol::Role::Server,
        Role::Client => tungstenite::protocol::Role::Client,
    };
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_frame_size(Some(64 << 20))
        .max_message_size(Some(64 << 20));
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        MemStream {
            data: &input.wire,
            pos: &pos,
            written: &written,
            max_read: READ_SIZE,
        },
        role,
        Some(config),
    );
    group.bench_function("tungstenite", |b| {
        b.iter(|| {
            pos.set(0);
            let mut check = Check::default();
            for _ in 0..input.frames {
                match ws.read().expect("valid frames") {
                    tungstenite::Message::Binary(payload) => check.add(&payload),
                    other => panic!("unexpected message {other:?}"),
                }
            }
            assert_eq!(pos.get(), input.wire.len());
            assert_eq!(check, expected);
        });
    });

    // fastwebsockets: async, driven to completion on a current-thread runtime (every
    // read is ready at once, so the runtime only polls).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let pos = Cell::new(0);
    let written = Cell::new(0);
    let role = match input.receiver {
        Role::Server => fastwebsockets::Role::Server,
        Role::Client => fastwebsockets::Role::Client,
    };
    let mut ws = fastwebsockets::WebSocket::after_handshake(
        MemStream {
            data: &input.wire,
            pos: &pos,
            written: &written,
            max_read: READ_SIZE,
        },
        role,
    );
    ws.set_auto_close(false);
    ws.set_auto_pong(false);
    ws.set_max_message_size(64 << 20);
    group.bench_function("fastwebsockets", |b| {
        b.iter(|| {
            pos.set(0);
            let check = runtime.block_on(async {
                let mut check = Check::default();
                for _ in 0..input.frames {
                    let frame = ws.read_frame().await.expect("valid frames");
                    assert_eq!(frame.opcode, fastwebsockets::OpCode::Binary);
                    check.add(&frame.payload);
                }
                check
            });
            assert_eq!(pos.get(), input.wire.len());
            assert_eq!(check, expected);
        });
    });

    // The floor: one copy of the same payload bytes.
    let mut dst = vec![0u8; input.payloads.len()];
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&input.payloads));
            black_box(&mut dst);
        });
        assert_eq!(dst, input.payloads);
    });

    group.finish();
}

fn decode(c: &mut Criterion) {
    let inputs = [
        Input::new("16B_masked", Role::Server, 16),
        Input::new("125B_masked", Role::Server, 125),
        Input::new("4KiB_masked", Role::Server, 4096),
        Input::new("1MiB_masked", Role::Server, 1 << 20),
        Input::new("125B_unmasked", Role::Client, 125),
    ];
    for input in &inputs {
        eprintln!(
            "decode/{}: {} frames of {} B, {} B on the wire per iteration",
            input.name,
            input.frames,
            input.payload_len,
            input.wire.len()
        );
        bench_input(c, input);
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
