//! The adapter writes what the caller fed in one write before it reads again (issue 12):
//! the echoes of all the messages of one read go out together, and a ping's pong goes out
//! at once. Writes are counted by a stream wrapper; nothing is timed.
#![cfg(feature = "tokio")]

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rfc6455::tokio::{Message, Options, WebSocket};
use rfc6455::{Config, Connection, Event};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

/// A stream that counts the writes that took bytes.
struct Counting {
    inner: DuplexStream,
    writes: Arc<AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn server() -> (WebSocket<Counting>, DuplexStream, Arc<AtomicUsize>) {
    let (ours, peer) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(AtomicUsize::new(0));
    let stream = Counting {
        inner: ours,
        writes: Arc::clone(&writes),
    };
    let ws = WebSocket::from_connection(
        stream,
        Connection::server(Config::default()),
        &Options::default(),
    );
    (ws, peer, writes)
}

/// Polls `recv` until it would wait (the timeout only ends the wait).
async fn until_idle(ws: &mut WebSocket<Counting>) {
    let waited = tokio::time::timeout(Duration::from_millis(20), ws.recv()).await;
    assert!(waited.is_err(), "nothing more was sent");
}

/// Decodes everything the server wrote as a client would.
async fn received(peer: &mut DuplexStream, events: usize) -> Vec<Event> {
    let mut client = Connection::client(Config::default());
    let mut out = Vec::new();
    while out.len() < events {
        let mut buf = vec![0u8; 64 * 1024];
        let n = peer.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server closed");
        client.receive(&buf[..n]);
        while let Some(event) = client.next_event().unwrap() {
            out.push(event);
        }
    }
    out
}

#[tokio::test]
async fn the_echoes_of_one_read_go_out_in_one_write() {
    let (mut ws, mut peer, writes) = server();
    let mut client = Connection::client(Config::default());
    for i in 0..10u8 {
        client.send_binary(vec![i; 100]).unwrap();
    }
    peer.write_all(&client.take_outgoing()).await.unwrap();
    for i in 0..10u8 {
        let message = ws.recv().await.unwrap().expect("a message");
        assert_eq!(message, Message::Binary(vec![i; 100].into()));
        ws.feed(message).await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 0, "fed, not written yet");
    }
    until_idle(&mut ws).await;
    assert_eq!(writes.load(Ordering::Relaxed), 1);
    let events = received(&mut peer, 10).await;
    for (i, event) in events.into_iter().enumerate() {
        assert_eq!(event, Event::Binary(vec![i as u8; 100].into()));
    }
}

#[tokio::test]
async fn a_pong_goes_out_with_the_ping() {
    let (mut ws, mut peer, writes) = server();
    let mut client = Connection::client(Config::default());
    client.send_text("one").unwrap();
    client.send_ping(b"are you there").unwrap();
    client.send_text("two").unwrap();
    peer.write_all(&client.take_outgoing()).await.unwrap();
    let one = ws.recv().await.unwrap().expect("a message");
    ws.feed(one).await.unwrap();
    assert_eq!(writes.load(Ordering::Relaxed), 0);
    // The ping: its pong (and the echo queued before it) is written before `recv`
    // returns it, though more input is buffered.
    let ping = ws.recv().await.unwrap().expect("the ping");
    assert_eq!(ping, Message::Ping(b"are you there"[..].into()));
    assert_eq!(writes.load(Ordering::Relaxed), 1);
    let events = received(&mut peer, 2).await;
    assert_eq!(events[0], Event::Text("one".into()));
    assert_eq!(events[1], Event::Pong(b"are you there"[..].into()));
    let two = ws.recv().await.unwrap().expect("a message");
    assert_eq!(two, Message::Text("two".into()));
}
