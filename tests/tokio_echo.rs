//! The tokio adapter end to end over loopback TCP: the module docs' first server, a
//! client against it, subprotocols, IPv6, the Stream/Sink traits.
#![cfg(feature = "tokio")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rfc6455::handshake::{ClientHandshake, WsUri};
use rfc6455::tokio::{Error, Message, Options, Upgrade, accept, accept_with, connect};
use rfc6455::{CloseCode, CloseFrame, PreparedMessage};
use tokio::net::{TcpListener, TcpStream};

/// Fails a hung test; never a timing assertion.
const HANG: Duration = Duration::from_secs(30);

/// The server of the module docs, on a free port: accept loop + echo.
async fn first_server() -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let mut ws = accept(stream).await?;
                while let Some(message) = ws.recv().await? {
                    if message.is_data() {
                        ws.send(message).await?; // echo
                    }
                }
                Ok::<(), Error>(())
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    Ok(addr)
}

#[tokio::test]
async fn first_server_echoes_and_closes_cleanly() {
    tokio::time::timeout(HANG, async {
        let addr = first_server().await.unwrap();
        let (mut ws, response) = connect(&format!("ws://{addr}/")).await.unwrap();
        assert_eq!(response.subprotocol(), None);
        ws.send("hello").await.unwrap();
        ws.send(vec![1u8, 2, 3]).await.unwrap();
        let big = "x".repeat(3 << 20);
        ws.send(big.as_str()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(Message::text("hello")));
        assert_eq!(
            ws.recv().await.unwrap(),
            Some(Message::binary(vec![1u8, 2, 3]))
        );
        assert_eq!(
            ws.recv().await.unwrap().unwrap().as_text(),
            Some(big.as_str())
        );
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), None);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn server_sees_the_clients_close_after_the_echo_and_tcp_close() {
    tokio::time::timeout(HANG, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = accept(stream).await.unwrap();
            let mut got = Vec::new();
            while let Some(message) = ws.recv().await.unwrap() {
                got.push(message);
            }
            got
        });
        let (mut ws, _) = connect(&format!("ws://{addr}/x")).await.unwrap();
        ws.send("one").await.unwrap();
        ws.close(CloseCode::GOING_AWAY, "bye").await.unwrap();
        let got = server.await.unwrap();
        assert_eq!(
            got,
            vec![
                Message::text("one"),
                Message::Close(Some(CloseFrame {
                    code: CloseCode::GOING_AWAY,
                    reason: "bye".into()
                }))
            ]
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn subprotocol_is_chosen_by_the_callback_and_seen_by_the_client() {
    tokio::time::timeout(HANG, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = accept_with(stream, |request| {
                assert_eq!(request.path(), "/chat");
                assert_eq!(request.query(), Some("room=1"));
                assert_eq!(request.header("x-token"), Some(&b"abc"[..]));
                let offered: Vec<_> = request.subprotocols().collect();
                assert_eq!(offered, ["v1", "v2"]);
                Ok(Upgrade::new().subprotocol("v2").header("X-Server", "yes"))
            })
            .await
            .unwrap();
            while let Some(message) = ws.recv().await.unwrap() {
                if message.is_data() {
                    ws.send(message).await.unwrap();
                }
            }
        });
        let url = format!("ws://{addr}/chat?room=1");
        let uri_owned = WsUri::parse(&url).unwrap();
        let mut request = ClientHandshake::new(&uri_owned);
        request.subprotocol("v1").unwrap();
        request.subprotocol("v2").unwrap();
        request.header("X-Token", "abc").unwrap();
        let (mut ws, response) = Options::default()
            .connect_request(&uri_owned, request)
            .await
            .unwrap();
        assert_eq!(response.subprotocol(), Some("v2"));
        assert_eq!(response.header("x-server"), Some(&b"yes"[..]));
        ws.send("hi").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(Message::text("hi")));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn connects_to_an_ipv6_literal_without_its_brackets() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    tokio::time::timeout(HANG, async {
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = accept(stream).await.unwrap();
            while let Some(message) = ws.recv().await.unwrap() {
                if message.is_data() {
                    ws.send(message).await.unwrap();
                }
            }
        });
        let url = format!("ws://[::1]:{}/", addr.port());
        let (mut ws, _) = connect(&url).await.unwrap();
        assert!(ws.get_ref().nodelay().unwrap(), "TCP_NODELAY is on");
        ws.send("v6").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(Message::text("v6")));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stream_and_sink_traits() {
    tokio::time::timeout(HANG, async {
        let addr = first_server().await.unwrap();
        let (ws, _) = connect(&format!("ws://{addr}/")).await.unwrap();
        // futures' split (BiLock), not the inherent one: both halves poll one core.
        let (mut sink, mut stream) = StreamExt::split(ws);
        for i in 0..100 {
            sink.feed(Message::text(format!("{i}"))).await.unwrap();
        }
        sink.flush().await.unwrap();
        for i in 0..100 {
            let message = stream.next().await.unwrap().unwrap();
            assert_eq!(message.as_text(), Some(format!("{i}").as_str()));
        }
        sink.close().await.unwrap();
        // The close handshake completes as the stream is polled to its end.
        let last = stream.next().await.unwrap().unwrap();
        assert!(last.is_close());
        assert!(stream.next().await.is_none());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn wss_urls_need_a_tls_stream() {
    let error = connect("wss://example.com/").await.unwrap_err();
    assert!(matches!(error, Error::TlsRequired), "{error:?}");
    let error = connect("http://example.com/").await.unwrap_err();
    assert!(matches!(error, Error::Uri(_)), "{error:?}");
}

#[tokio::test]
async fn client_handshake_over_a_stream_the_caller_opened() {
    tokio::time::timeout(HANG, async {
        let addr = first_server().await.unwrap();
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut ws, _) = rfc6455::tokio::client_handshake(stream, "ws://example.com/")
            .await
            .unwrap();
        ws.send("over my stream").await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap(),
            Some(Message::text("over my stream"))
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn broadcast_with_a_prepared_message() {
    // The module docs' broadcast recipe, reduced: one message encoded once, sent to
    // every connection.
    tokio::time::timeout(HANG, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (room, _) = tokio::sync::broadcast::channel::<PreparedMessage>(16);
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(3);
        let server_room = room.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let mut inbox = server_room.subscribe();
                let ready = ready_tx.clone();
                tokio::spawn(async move {
                    let mut ws = accept(stream).await.unwrap();
                    ready.send(()).await.unwrap();
                    loop {
                        tokio::select! {
                            message = ws.recv() => match message.unwrap() {
                                Some(_) => {}
                                None => break,
                            },
                            Ok(prepared) = inbox.recv() => ws.send_prepared(&prepared).await.unwrap(),
                        }
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(connect(&format!("ws://{addr}/")).await.unwrap().0);
            ready_rx.recv().await.unwrap();
        }
        room.send(PreparedMessage::text("to everyone")).unwrap();
        for ws in &mut clients {
            assert_eq!(ws.recv().await.unwrap(), Some(Message::text("to everyone")));
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await
    .unwrap();
}
