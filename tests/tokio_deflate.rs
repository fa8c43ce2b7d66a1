//! permessage-deflate through the tokio adapter: `Options::deflate` on both sides
//! compresses (the 101 shows the extension, the wire carries far fewer bytes than the
//! messages), and with it on one side only the connection runs uncompressed.
#![cfg(all(feature = "tokio", feature = "deflate"))]

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rfc6455::CloseCode;
use rfc6455::deflate::DeflateConfig;
use rfc6455::tokio::{Message, Options};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Fails a hung test; never a timing assertion.
const HANG: Duration = Duration::from_secs(60);

/// A stream that counts the bytes written through it.
struct Counting {
    inner: TcpStream,
    written: Arc<AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.written.fetch_add(n, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn options(deflate: bool) -> Options {
    Options::default().deflate(deflate.then(DeflateConfig::default))
}

/// A compressible 1 MiB: JSON-like records.
fn megabyte() -> Vec<u8> {
    let mut data = Vec::with_capacity(1 << 20);
    let mut i = 0u32;
    while data.len() < 1 << 20 {
        data.extend_from_slice(format!("{{\"id\":{i},\"name\":\"user{}\"}},", i % 97).as_bytes());
        i += 1;
    }
    data.truncate(1 << 20);
    data
}

/// An echo server with `server_deflate`, a client with `client_deflate`: the text and
/// the 1 MiB round-trip. Returns the 101's `Sec-WebSocket-Extensions` and the bytes the
/// client and the server wrote.
async fn exchange(client_deflate: bool, server_deflate: bool) -> (Option<String>, usize, usize) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_written = Arc::new(AtomicUsize::new(0));
    let counter = server_written.clone();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let stream = Counting {
            inner: stream,
            written: counter,
        };
        let mut ws = options(server_deflate).accept(stream).await.unwrap();
        while let Some(message) = ws.recv().await.unwrap() {
            if message.is_data() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let client_written = Arc::new(AtomicUsize::new(0));
    let stream = Counting {
        inner: TcpStream::connect(addr).await.unwrap(),
        written: client_written.clone(),
    };
    let url = format!("ws://{addr}/");
    let uri = rfc6455::handshake::WsUri::parse(&url).unwrap();
    let (mut ws, response) = options(client_deflate)
        .client_handshake(stream, rfc6455::handshake::ClientHandshake::new(&uri))
        .await
        .unwrap();
    let extensions = response
        .header("Sec-WebSocket-Extensions")
        .map(|v| String::from_utf8(v.to_vec()).unwrap());
    let text = "a chat message, ".repeat(64);
    let big = megabyte();
    ws.send(text.as_str()).await.unwrap();
    ws.send(big.clone()).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Some(Message::text(text)));
    assert_eq!(ws.recv().await.unwrap(), Some(Message::binary(big)));
    ws.close(CloseCode::NORMAL, "done").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), None);
    server.await.unwrap();
    (
        extensions,
        client_written.load(Ordering::Relaxed),
        server_written.load(Ordering::Relaxed),
    )
}

#[tokio::test]
async fn both_sides_on_compress_text_and_a_megabyte() {
    tokio::time::timeout(HANG, async {
        let (extensions, client, server) = exchange(true, true).await;
        let extensions = extensions.expect("the 101 accepts an extension");
        assert!(extensions.starts_with("permessage-deflate"), "{extensions}");
        // 1 MiB + 1 KiB of compressible data each way, compressed several-fold.
        assert!(client < 256 * 1024, "client wrote {client} bytes");
        assert!(server < 256 * 1024, "server wrote {server} bytes");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn server_only_runs_uncompressed() {
    tokio::time::timeout(HANG, async {
        let (extensions, client, server) = exchange(false, true).await;
        assert_eq!(extensions, None);
        assert!(client > 1 << 20, "client wrote {client} bytes");
        assert!(server > 1 << 20, "server wrote {server} bytes");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn client_only_runs_uncompressed() {
    tokio::time::timeout(HANG, async {
        let (extensions, client, server) = exchange(true, false).await;
        assert_eq!(extensions, None);
        assert!(client > 1 << 20, "client wrote {client} bytes");
        assert!(server > 1 << 20, "server wrote {server} bytes");
    })
    .await
    .unwrap();
}
