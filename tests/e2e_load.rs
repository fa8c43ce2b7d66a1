//! The end-to-end load generator (`benches/e2e/loadgen.rs`, issue 12) against
//! `examples/echo`, and against servers that get an echo wrong: it must check every echo
//! and fail loudly on the first wrong one. No timing is asserted; the figures are the
//! script's (`scripts/bench/e2e.sh`).
#![cfg(feature = "tokio")]

#[path = "../benches/e2e/loadgen.rs"]
mod loadgen;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use loadgen::{Histogram, Mode, Settings};
use rfc6455::tokio::{Message, accept};
use support::start_server;

fn settings(mode: Mode, addr: SocketAddr, path: &str) -> Settings {
    Settings {
        mode,
        url: format!("ws://{addr}{path}"),
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(300),
        settle: Duration::ZERO,
        ..Settings::default()
    }
}

#[test]
fn every_echo_of_examples_echo_is_checked() {
    let (_server, addr) = start_server("echo", &["--addr", "127.0.0.1:0", "--quiet"]);
    for (connections, size, in_flight) in [(1, 20, 1), (20, 1024, 4), (3, 70_000, 2)] {
        let report = loadgen::run(&Settings {
            connections,
            size,
            in_flight,
            ..settings(Mode::Echo, addr, "/")
        })
        .unwrap_or_else(|e| panic!("N={connections} size={size}: {e}"));
        // Every message sent was echoed and checked: those of the warm-up and the drain
        // too, so more than were counted in the measured time.
        assert!(
            report.messages > 0,
            "N={connections} size={size}: {report:?}"
        );
        assert!(report.verified > report.messages, "{report:?}");
        assert!(
            report.p50_us > 0.0 && report.p50_us <= report.p99_us,
            "{report:?}"
        );
    }
}

#[test]
fn idle_connections_stay_open() {
    let (_server, addr) = start_server("echo", &["--addr", "127.0.0.1:0", "--quiet"]);
    let report = loadgen::run(&Settings {
        connections: 50,
        ..settings(Mode::Idle, addr, "/")
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.messages, 0);
}

/// An echo server on the tokio adapter that gets message `wrong` wrong with `spoil`.
fn spoiling_server(wrong: usize, spoil: fn(&mut Vec<u8>) -> bool) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut ws = accept(stream).await?;
                    let mut seen = 0;
                    while let Some(message) = ws.recv().await? {
                        if let Message::Binary(data) = message {
                            let mut data = data.to_vec();
                            seen += 1;
                            if seen == wrong && !spoil(&mut data) {
                                continue;
                            }
                            ws.send(Message::Binary(data.into())).await?;
                        }
                    }
                    Ok::<(), rfc6455::tokio::Error>(())
                });
            }
        });
    });
    addr
}

fn failure(addr: SocketAddr, in_flight: usize) -> String {
    let run = loadgen::run(&Settings {
        in_flight,
        size: 100,
        ..settings(Mode::Echo, addr, "/")
    });
    match run {
        Ok(report) => panic!("a wrong echo went unnoticed: {report:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_changed_byte_fails_the_run() {
    let addr = spoiling_server(3, |data| {
        data[50] ^= 1;
        true
    });
    let e = failure(addr, 1);
    assert!(e.contains("message 2: payload differs at byte 50"), "{e}");
}

#[test]
fn a_lost_echo_fails_the_run() {
    // Message 5 (sequence 4) is not echoed: sequence 5 arrives in its place.
    let addr = spoiling_server(5, |_| false);
    let e = failure(addr, 4);
    assert!(e.contains("message 5 arrived where 4 was due"), "{e}");
}

#[test]
fn a_shorter_echo_fails_the_run() {
    let addr = spoiling_server(2, |data| {
        data.pop();
        true
    });
    let e = failure(addr, 1);
    assert!(e.contains("message 1: 101 bytes, expected 102"), "{e}");
}

#[test]
fn fanout_needs_a_broadcasting_server() {
    // An echo server sends the sender's messages back to it and nothing to the
    // receivers: the sender's watch says so.
    let (_server, addr) = start_server("echo", &["--addr", "127.0.0.1:0", "--quiet"]);
    let run = loadgen::run(&Settings {
        connections: 3,
        size: 64,
        ..settings(Mode::Fanout, addr, "/fanout")
    });
    let e = run.expect_err("an echo server is not a broadcast");
    assert!(e.contains("the sender received a data frame"), "{e}");
}

#[test]
fn histogram_buckets_are_monotonic_and_close() {
    let mut last = 0;
    for v in (0..1_000_000u64).step_by(7).chain([1 << 40, u64::MAX / 2]) {
        let i = Histogram::index(v);
        assert!(i >= last);
        last = i;
        let mid = Histogram::value(i);
        assert!(mid.abs_diff(v) <= v / 30 + 1, "{v} -> {mid}");
    }
    let mut h = Histogram::default();
    for us in 1..=1000u64 {
        h.record(Duration::from_micros(us));
    }
    let p50 = h.quantile_us(0.5);
    let p99 = h.quantile_us(0.99);
    assert!((485.0..=515.0).contains(&p50), "{p50}");
    assert!((960.0..=1000.0).contains(&p99), "{p99}");
}
