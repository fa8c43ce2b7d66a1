//! Sending (issue 9): binary messages of 16 B, 125 B and 64 KiB encoded by every library
//! and written to a counting sink, the way each library's user writes them.
//!
//! Run: `cargo bench --bench send -- --warm-up-time 1 --measurement-time 3`.
//! Paired rounds (`common/runner.rs`: every function once per round, ours ÷ the fastest
//! peer taken within each round, the median over rounds; steadier than criterion on a
//! machine whose speed drifts): `PAIRED_ROUNDS=31 cargo bench --bench send`.
//! Results: `docs/PERFORMANCE.md`, "Workloads W1-W6 and sends (issue 9)".
//!
//! Groups `send/<size>_<role>`: `client_masked` (every frame masked with a fresh key) and
//! `server_unmasked`; 10,000 messages per iteration, 500 for 64 KiB (32 MiB). Functions:
//!
//! - `rfc6455/each`: `send_binary` then `take_outgoing()` (a fresh `Vec`) written, per
//!   message; `rfc6455/each_into`: the same, written from `outgoing()` (a `bytes::Buf`,
//!   chunk by chunk, no copy out of the queue); `rfc6455/batch`: every message queued,
//!   then the queue written from `outgoing()` (all in `common/ours.rs`). The payload is a
//!   `Bytes` clone, as for the async peers: a server queues a large one without copying;
//!   a client copies it to mask it. `rfc6455/each_borrowed` and `rfc6455/batch_borrowed`
//!   are `each_into` and `batch` with the payload borrowed (`send_binary(&[u8])`, copied
//!   into the queue), as `fastwebsockets` gets it: no reference count to update;
//! - `tungstenite/each`: `send` (write and flush) per message; `tungstenite/batch`:
//!   `write` per message (it writes out each time its 128 KiB buffer fills), one `flush`;
//! - `fastwebsockets/each`: `write_frame` per message (it writes at once; there is no
//!   batching API), payload borrowed (`Payload::Borrowed`; masking copies it);
//! - `tokio-websockets/each`, `sockudo-ws/each`: `SinkExt::send` (queue and flush) per
//!   message; `…/batch`: `SinkExt::feed` per message, one `flush` (tokio-websockets still
//!   writes whenever 8 KiB are queued). Payloads are `Bytes` clones (no copy to build).
//!
//! Async peers write to an in-memory `AsyncWrite` on a current-thread tokio runtime. The
//! sink takes every write (`writev` included) whole, copies it into a 64 KiB scratch
//! buffer as a socket copies into the kernel (so handing over a payload without copying it
//! saves one copy, not all of them), and counts the bytes. Each function asserts the
//! bytes written: exactly `count` frames of the expected size.
//!
//! Size: as above under `cargo bench`; without `--bench` (as under `cargo test --benches`)
//! counts are divided by 1000, at least 1.

use std::cell::Cell;
use std::hint::black_box;

#[path = "common/check.rs"]
#[allow(dead_code)] // Only the receiving side checks payloads.
mod check;
#[path = "common/mem_stream.rs"]
mod mem_stream;
#[path = "common/ours.rs"]
mod ours;
#[path = "common/runner.rs"]
mod runner;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::SinkExt;
use mem_stream::{MemStream, WORKLOAD_READ_SIZE};
use runner::Runner;

/// Full size under `cargo bench`, a thousandth under `cargo test --benches`.
fn count(full: usize) -> usize {
    if std::env::args().any(|arg| arg == "--bench") {
        full
    } else {
        (full / 1000).max(1)
    }
}

/// A frame's length on the wire.
fn frame_len(payload: usize, masked: bool) -> usize {
    let len_bytes = match payload {
        0..126 => 0,
        126..=0xFFFF => 2,
        _ => 8,
    };
    2 + len_bytes + if masked { 4 } else { 0 } + payload
}

/// A sink with nothing to read.
fn sink<'a>(pos: &'a Cell<usize>, written: &'a Cell<usize>) -> MemStream<'a> {
    MemStream {
        data: &[],
        pos,
        written,
        max_read: WORKLOAD_READ_SIZE,
    }
}

fn bench_send(c: &mut Criterion, size_name: &str, len: usize, messages: usize, client: bool) {
    let role_name = if client {
        "client_masked"
    } else {
        "server_unmasked"
    };
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
    let shared = Bytes::from(payload.clone());
    let expected = messages * frame_len(len, client);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let (pos, written) = (Cell::new(0), Cell::new(0));
    // Shared by every function (each owns its sender and moves it in).
    let (pos, written, runtime, shared, payload) = (&pos, &written, &runtime, &shared, &payload);
    let mut group = Runner::new(c, format!("send/{size_name}_{role_name}"), |group| {
        group.throughput(Throughput::Bytes((messages * len) as u64));
    });

    for name in [
        "rfc6455/each",
        "rfc6455/each_into",
        "rfc6455/batch",
        "rfc6455/each_borrowed",
        "rfc6455/batch_borrowed",
    ] {
        let mut tx = if client {
            ours::Sender::client()
        } else {
            ours::Sender::server()
        };
        group.add(name, move || {
            written.set(0);
            let (payload, sink) = (black_box(shared), &mut sink(pos, written));
            match name {
                "rfc6455/each" => ours::send_each(&mut tx, payload, messages, sink),
                "rfc6455/each_into" => ours::send_each_into(&mut tx, payload, messages, sink),
                "rfc6455/each_borrowed" => {
                    ours::send_each_borrowed(&mut tx, payload, messages, sink);
                }
                "rfc6455/batch_borrowed" => {
                    ours::send_batch_borrowed(&mut tx, payload, messages, sink);
                }
                _ => ours::send_batch(&mut tx, payload, messages, sink),
            }
            assert_eq!(written.get(), expected);
        });
    }

    let role = if client {
        tungstenite::protocol::Role::Client
    } else {
        tungstenite::protocol::Role::Server
    };
    let mut ws = tungstenite::WebSocket::from_raw_socket(sink(pos, written), role, None);
    group.add("tungstenite/each", move || {
        written.set(0);
        for _ in 0..messages {
            ws.send(tungstenite::Message::Binary(black_box(shared).clone()))
                .expect("the sink takes everything");
        }
        assert_eq!(written.get(), expected);
    });
    let mut ws = tungstenite::WebSocket::from_raw_socket(sink(pos, written), role, None);
    group.add("tungstenite/batch", move || {
        written.set(0);
        for _ in 0..messages {
            ws.write(tungstenite::Message::Binary(black_box(shared).clone()))
                .expect("the sink takes everything");
        }
        ws.flush().expect("the sink takes everything");
        assert_eq!(written.get(), expected);
    });

    let role = if client {
        fastwebsockets::Role::Client
    } else {
        fastwebsockets::Role::Server
    };
    let mut ws = fastwebsockets::WebSocket::after_handshake(sink(pos, written), role);
    group.add("fastwebsockets/each", move || {
        written.set(0);
        runtime.block_on(async {
            for _ in 0..messages {
                let frame = fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(
                    black_box(payload),
                ));
                ws.write_frame(frame)
                    .await
                    .expect("the sink takes everything");
            }
        });
        assert_eq!(written.get(), expected);
    });

    let tokio_websockets = || {
        if client {
            tokio_websockets::ClientBuilder::new().take_over(sink(pos, written))
        } else {
            tokio_websockets::ServerBuilder::new().serve(sink(pos, written))
        }
    };
    let mut ws = tokio_websockets();
    group.add("tokio-websockets/each", move || {
        written.set(0);
        runtime.block_on(async {
            for _ in 0..messages {
                let message = tokio_websockets::Message::binary(black_box(shared).clone());
                ws.send(message).await.expect("the sink takes everything");
            }
        });
        assert_eq!(written.get(), expected);
    });
    let mut ws = tokio_websockets();
    group.add("tokio-websockets/batch", move || {
        written.set(0);
        runtime.block_on(async {
            for _ in 0..messages {
                let message = tokio_websockets::Message::binary(black_box(shared).clone());
                ws.feed(message).await.expect("the sink takes everything");
            }
            ws.flush().await.expect("the sink takes everything");
        });
        assert_eq!(written.get(), expected);
    });

    let sockudo = || {
        let config = sockudo_ws::Config::default();
        if client {
            sockudo_ws::WebSocketStream::client(sink(pos, written), config)
        } else {
            sockudo_ws::WebSocketStream::server(sink(pos, written), config)
        }
    };
    let mut ws = sockudo();
    group.add("sockudo-ws/each", move || {
        written.set(0);
        runtime.block_on(async {
            for _ in 0..messages {
                let message = sockudo_ws::Message::Binary(black_box(shared).clone());
                ws.send(message).await.expect("the sink takes everything");
            }
        });
        assert_eq!(written.get(), expected);
    });
    let mut ws = sockudo();
    group.add("sockudo-ws/batch", move || {
        written.set(0);
        runtime.block_on(async {
            for _ in 0..messages {
                let message = sockudo_ws::Message::Binary(black_box(shared).clone());
                ws.feed(message).await.expect("the sink takes everything");
            }
            ws.flush().await.expect("the sink takes everything");
        });
        assert_eq!(written.get(), expected);
    });

    group.finish();
}

fn send(c: &mut Criterion) {
    for client in [true, false] {
        bench_send(c, "16B", 16, count(10_000), client);
        bench_send(c, "125B", 125, count(10_000), client);
        bench_send(c, "64KiB", 64 << 10, count(500), client);
    }
}

criterion_group!(benches, send);
criterion_main!(benches);
