//! Split halves in different tasks: one task only reads while another sends a million
//! small messages; the peer's pings are answered meanwhile, and again while the
//! sending task is idle (the read half writes the pongs itself).
#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rfc6455::CloseCode;
use rfc6455::tokio::{Message, accept, connect};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

const MESSAGES: usize = 1_000_000;
const PINGS: u32 = 20;
const HANG: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_are_answered_while_one_half_floods_and_while_it_idles() {
    tokio::time::timeout(HANG, run()).await.unwrap();
}

async fn run() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (flood_done_tx, flood_done_rx) = oneshot::channel();
    let (close_tx, close_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (mut read, mut write) = accept(stream).await.unwrap().split();
        let writer = tokio::spawn(async move {
            for i in 0..MESSAGES {
                write.feed(format!("m{}", i % 10)).await.unwrap();
            }
            write.flush().await.unwrap();
            flood_done_tx.send(()).unwrap();
            // Idle: this task polls nothing until told to finish.
            let _ = close_rx.await;
            write.close(CloseCode::NORMAL, "").await.unwrap();
        });
        // This task only reads.
        let mut pings = 0;
        while let Some(message) = read.recv().await.unwrap() {
            match message {
                Message::Ping(_) => pings += 1,
                Message::Close(_) => {}
                other => panic!("{other:?}"),
            }
        }
        (pings, writer)
    });

    let (ws, _) = connect(&format!("ws://{addr}/")).await.unwrap();
    let (mut read, mut write) = ws.split();
    let received = Arc::new(AtomicUsize::new(0));
    let (pong_tx, mut pong_rx) = mpsc::unbounded_channel();
    let counter = Arc::clone(&received);
    let reader = tokio::spawn(async move {
        while let Some(message) = read.recv().await.unwrap() {
            match message {
                Message::Text(_) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Message::Pong(payload) => pong_tx.send(payload).unwrap(),
                Message::Close(_) => {}
                other => panic!("{other:?}"),
            }
        }
    });

    // Pings while the server's writer floods: sent once the flood is under way.
    while received.load(Ordering::Relaxed) < 1000 {
        tokio::task::yield_now().await;
    }
    for i in 0..PINGS {
        write
            .send(Message::Ping(Bytes::from(i.to_be_bytes().to_vec())))
            .await
            .unwrap();
    }
    for i in 0..PINGS {
        let pong = pong_rx.recv().await.unwrap();
        assert_eq!(pong, Bytes::from(i.to_be_bytes().to_vec()));
    }
    flood_done_rx.await.unwrap();

    // Pings while the server's writer idles: only its read half can answer them.
    for i in PINGS..2 * PINGS {
        write
            .send(Message::Ping(Bytes::from(i.to_be_bytes().to_vec())))
            .await
            .unwrap();
        let pong = pong_rx.recv().await.unwrap();
        assert_eq!(pong, Bytes::from(i.to_be_bytes().to_vec()));
    }

    // The client closes; the server's read half echoes the close while its writer
    // still idles.
    write.close(CloseCode::NORMAL, "").await.unwrap();
    reader.await.unwrap();
    assert_eq!(received.load(Ordering::Relaxed), MESSAGES);
    let (pings, writer) = server.await.unwrap();
    assert_eq!(pings, 2 * PINGS);
    close_tx.send(()).unwrap();
    writer.await.unwrap();
}
