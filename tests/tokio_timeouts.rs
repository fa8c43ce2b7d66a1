//! Keepalive, write-stall and close timeouts of the tokio adapter, and backpressure.
//!
//! The transport is an in-memory `tokio::io::duplex` and the clock is tokio's paused
//! clock, which jumps to the next timer when every task waits: elapsed times are virtual
//! and exact, so "released after one close timeout, not two" is checked without any
//! dependence on the machine's speed.
#![cfg(feature = "tokio")]

use std::time::Duration;

use rfc6455::tokio::{Error, Message, Options, Timeout, WebSocket};
use rfc6455::{CloseCode, Connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Options with every timer off, to switch on one at a time.
fn quiet() -> Options {
    Options::default()
        .keepalive(None, ms(0))
        .write_timeout(None)
        .close_timeout(Duration::from_secs(3600))
}

fn server(options: &Options, capacity: usize) -> (WebSocket<DuplexStream>, DuplexStream) {
    let (ours, peer) = tokio::io::duplex(capacity);
    let ws = WebSocket::from_connection(ours, Connection::server(options.config), options);
    (ws, peer)
}

/// A masked client frame with a fixed key.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut out = vec![first, 0x80 | payload.len() as u8];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Everything the peer can read until the end of stream.
async fn read_all(peer: &mut DuplexStream) -> Vec<u8> {
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    wire
}

#[tokio::test(start_paused = true)]
async fn silent_peer_is_released_after_interval_plus_timeout() {
    let options = quiet().keepalive(Some(ms(200)), ms(300));
    let (mut ws, mut peer) = server(&options, 4096);
    let start = Instant::now();
    let error = ws.recv().await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout(Timeout::Keepalive)),
        "{error:?}"
    );
    // One ping after 200 ms of silence, release 300 ms later: 500 ms, once.
    assert_eq!(start.elapsed(), ms(500));
    assert!(matches!(ws.recv().await, Ok(None)));
    drop(ws);
    let wire = read_all(&mut peer).await;
    // The ping, then a close 1011 written on the way out (nothing waited for).
    assert_eq!(&wire[..2], b"\x89\x00");
    assert_eq!(&wire[2..6], b"\x88\x13\x03\xf3");
}

#[tokio::test(start_paused = true)]
async fn peer_that_sends_half_a_frame_is_released() {
    let options = quiet().keepalive(Some(ms(200)), ms(200));
    let (mut ws, mut peer) = server(&options, 4096);
    let start = Instant::now();
    // Half of a masked "Hello" (§5.7), then nothing.
    peer.write_all(&[0x81, 0x85, 0x37, 0xfa]).await.unwrap();
    let error = ws.recv().await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout(Timeout::Keepalive)),
        "{error:?}"
    );
    assert_eq!(start.elapsed(), ms(400));
}

#[tokio::test(start_paused = true)]
async fn peer_that_answers_pings_is_kept() {
    let options = quiet().keepalive(Some(ms(200)), ms(200));
    let (mut ws, peer) = server(&options, 4096);
    let (mut peer_read, mut peer_write) = tokio::io::split(peer);
    let pongs = tokio::spawn(async move {
        let mut answered = 0;
        let mut head = [0u8; 2];
        while peer_read.read_exact(&mut head).await.is_ok() {
            assert_eq!(head, [0x89, 0x00], "only keepalive pings");
            if peer_write.write_all(&masked(0x8a, b"")).await.is_err() {
                break;
            }
            answered += 1;
        }
        answered
    });
    let mut pongs_seen = 0;
    let run = async {
        loop {
            match ws.recv().await {
                Ok(Some(Message::Pong(_))) => pongs_seen += 1,
                other => panic!("{other:?}"),
            }
        }
    };
    assert!(tokio::time::timeout(ms(10_100), run).await.is_err());
    drop(ws);
    let answered = pongs.await.unwrap();
    // A ping every 200 ms of silence for 10 s, each answered: still connected.
    assert_eq!(answered, 50);
    assert_eq!(pongs_seen, 50);
}

#[tokio::test(start_paused = true)]
async fn close_timeout_is_applied_once_when_the_peer_never_answers() {
    let options = quiet().close_timeout(Duration::from_secs(1));
    let (mut ws, _peer) = server(&options, 4096);
    let start = Instant::now();
    let error = ws.close(CloseCode::NORMAL, "bye").await.unwrap_err();
    assert!(matches!(error, Error::Timeout(Timeout::Close)), "{error:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn close_timeout_is_applied_once_when_the_peer_answers_but_never_closes_tcp() {
    // The close frame comes back at once, the FIN never: waiting for the FIN is bounded
    // by what is left of the same close timeout, not by a second one.
    for role_is_server in [true, false] {
        let options = quiet().close_timeout(Duration::from_secs(1));
        let (ours, mut peer) = tokio::io::duplex(4096);
        let connection = if role_is_server {
            Connection::server(options.config)
        } else {
            Connection::client(options.config)
        };
        let mut ws = WebSocket::from_connection(ours, connection, &options);
        let echo = tokio::spawn(async move {
            let mut head = [0u8; 2];
            peer.read_exact(&mut head).await.unwrap();
            let mut rest =
                vec![0u8; usize::from(head[1] & 0x7f) + if head[1] & 0x80 != 0 { 4 } else { 0 }];
            peer.read_exact(&mut rest).await.unwrap();
            let close = if role_is_server {
                masked(0x88, &[0x03, 0xe8])
            } else {
                vec![0x88, 0x02, 0x03, 0xe8]
            };
            peer.write_all(&close).await.unwrap();
            // Keep the stream open without reading or closing it.
            std::future::pending::<()>().await;
            drop(peer);
        });
        let start = Instant::now();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(1),
            "server: {role_is_server}"
        );
        echo.abort();
    }
}

#[tokio::test(start_paused = true)]
async fn peer_that_stops_reading_is_released_by_the_write_timeout() {
    let options = quiet().write_timeout(Some(ms(300)));
    let (mut ws, _peer) = server(&options, 1024);
    let start = Instant::now();
    let error = ws.send(vec![0u8; 100_000]).await.unwrap_err();
    assert!(matches!(error, Error::Timeout(Timeout::Write)), "{error:?}");
    assert_eq!(start.elapsed(), ms(300));
    // The read side reports the same end, then nothing.
    assert!(matches!(
        ws.recv().await,
        Err(Error::Timeout(Timeout::Write))
    ));
    assert!(matches!(ws.recv().await, Ok(None)));
}

#[tokio::test(start_paused = true)]
async fn stalled_reader_releases_both_split_halves() {
    let options = quiet().write_timeout(Some(ms(300)));
    let (ws, _peer) = server(&options, 1024);
    let (mut read, mut write) = ws.split();
    let reader = tokio::spawn(async move { read.recv().await });
    let error = write.send(vec![0u8; 100_000]).await.unwrap_err();
    assert!(matches!(error, Error::Timeout(Timeout::Write)), "{error:?}");
    let seen = reader.await.unwrap();
    assert!(
        matches!(seen, Err(Error::Timeout(Timeout::Write))),
        "{seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn send_waits_for_the_peer_instead_of_queueing_without_bound() {
    let options = quiet().write_buffer_size(16 * 1024);
    let (mut ws, mut peer) = server(&options, 4096);
    let message = vec![7u8; 1000];
    let mut queued = 0;
    // Feed until a feed has to wait: the peer reads nothing.
    loop {
        let fed = tokio::time::timeout(ms(100), ws.feed(message.clone())).await;
        assert!(ws.connection().buffered_amount() <= 16 * 1024 + 1004);
        match fed {
            Ok(result) => result.unwrap(),
            Err(_) => break,
        }
        queued += 1;
        assert!(queued < 1000, "feed never waited");
    }
    // 4 KiB in the pipe, at most 16 KiB + one message in the queue.
    assert!(
        (16..=22).contains(&queued),
        "{queued} messages queued before waiting"
    );
    // Once the peer reads, sending goes on.
    let reader = tokio::spawn(async move {
        let mut total = 0;
        let mut buf = vec![0u8; 8192];
        loop {
            match peer.read(&mut buf).await.unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    for _ in 0..100 {
        ws.feed(message.clone()).await.unwrap();
    }
    ws.flush().await.unwrap();
    drop(ws);
    assert_eq!(reader.await.unwrap(), (queued + 100) * 1004);
}

#[tokio::test(start_paused = true)]
async fn ping_flood_from_a_peer_that_does_not_read_cannot_grow_the_queue() {
    let options = quiet().write_timeout(Some(Duration::from_secs(5)));
    let (mut ws, mut peer) = server(&options, 1024);
    let flood = tokio::spawn(async move {
        let ping = masked(0x89, &[0u8; 125]);
        let mut sent = 0u64;
        while peer.write_all(&ping).await.is_ok() {
            sent += 1;
        }
        sent
    });
    let mut pings = 0u64;
    let error = loop {
        match ws.recv().await {
            Ok(Some(Message::Ping(_))) => pings += 1,
            Ok(other) => panic!("{other:?}"),
            Err(error) => break error,
        }
        // Pongs wait in the queue while the peer does not read, but reading stops once
        // 64 KiB of them are unwritten: memory stays bounded however long it lasts.
        assert!(ws.connection().buffered_amount() <= 80 * 1024);
    };
    // The stalled writes release the peer.
    assert!(matches!(error, Error::Timeout(Timeout::Write)), "{error:?}");
    // About 64 KiB of pongs' worth of pings were read, then reading paused.
    assert!((100..1000).contains(&pings), "{pings}");
    drop(ws);
    assert!(flood.await.unwrap() >= pings);
}
