//! `Options::route`: plain HTTP and WebSocket on one port, the head parsed once.
#![cfg(feature = "tokio")]

use rfc6455::Connection;
use rfc6455::tokio::{Error, Message, Options, Reject, Upgrade};
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// Routes `request` with the page-or-websocket rule; the server's result and what the
/// client read until the server closed (or, after an upgrade, the 101 head).
async fn route(request: &[u8]) -> (Result<bool, Error>, String) {
    let (server_end, mut client) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let routed = Options::default()
            .route(server_end, |head| match head.path() {
                "/" => Err(Reject::new(200)
                    .header("Content-Type", "text/html")
                    .body("<p>hi</p>")),
                "/ws" => Ok(Upgrade::new()),
                _ => Err(Reject::new(404)),
            })
            .await;
        match routed {
            Ok(Some(mut ws)) => {
                // The frame sent right behind the head reached the connection.
                let message = ws.recv().await.expect("recv").expect("a message");
                assert_eq!(message, Message::text("early"));
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        }
    });
    client.write_all(request).await.expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") || !response.starts_with(b"HTTP/1.1 101") {
        match client.read(&mut buf).await.expect("read") {
            0 => break,
            n => response.extend_from_slice(&buf[..n]),
        }
    }
    drop(client); // our FIN: the server's graceful close ends
    (
        server.await.expect("server task"),
        String::from_utf8_lossy(&response).into_owned(),
    )
}

#[tokio::test]
async fn a_plain_get_is_answered_with_the_callbacks_response() {
    let (routed, response) = route(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").await;
    assert!(matches!(routed, Ok(false)), "{routed:?}");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("\r\nContent-Type: text/html\r\n"),
        "{response}"
    );
    assert!(
        !response.contains("text/plain"),
        "one Content-Type: {response}"
    );
    assert!(response.ends_with("\r\n\r\n<p>hi</p>"), "{response}");
    let (routed, response) = route(b"GET /nowhere HTTP/1.1\r\nHost: example.com\r\n\r\n").await;
    assert!(matches!(routed, Ok(false)));
    assert!(response.starts_with("HTTP/1.1 404 "), "{response}");
}

#[tokio::test]
async fn an_upgrade_is_checked_and_frames_behind_the_head_are_kept() {
    let mut request = UPGRADE.as_bytes().to_vec();
    let mut client = Connection::client(rfc6455::Config::default());
    client.send_text("early").expect("send");
    request.extend_from_slice(&client.take_outgoing());
    let (routed, response) = route(&request).await;
    assert!(matches!(routed, Ok(true)), "{routed:?}");
    assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
}

#[tokio::test]
async fn upgrading_a_request_that_is_not_a_handshake_answers_its_error() {
    // A plain GET to the WebSocket's path: the §4.2.1 checks run, and 426 it is.
    let (routed, response) = route(b"GET /ws HTTP/1.1\r\nHost: example.com\r\n\r\n").await;
    assert!(
        matches!(routed, Err(Error::Handshake(ref e)) if e.status() == 426),
        "{routed:?}"
    );
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(
        response.contains("Sec-WebSocket-Version: 13\r\n"),
        "{response}"
    );
    // Not HTTP at all: 400, whatever the route would have said.
    let (routed, response) = route(b"hello\r\n\r\n").await;
    assert!(matches!(routed, Err(Error::Handshake(_))));
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
}
