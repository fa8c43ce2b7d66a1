//! The tokio adapter's opening handshake: the handshake timeout, rejections by the
//! request callback and by the §4.2.1 checks, leftovers, each with the HTTP response the
//! client reads.
#![cfg(feature = "tokio")]

use std::time::Duration;

use rfc6455::handshake::{ClientHandshake, WsUri};
use rfc6455::tokio::{Error, Message, Options, Reject, Timeout, Upgrade};
use rfc6455::{HandshakeError, UsageError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

const HANG: Duration = Duration::from_secs(30);

fn request() -> Vec<u8> {
    let uri = WsUri::parse("ws://example.com/room?x=1").unwrap();
    let mut handshake = ClientHandshake::new(&uri);
    handshake.subprotocol("chat").unwrap();
    handshake.origin("https://example.com").unwrap();
    handshake.request()
}

/// Runs `accept_with(callback)` against a client that sends `bytes`, then closes its
/// write side; returns the server's result and what the client read.
async fn answer<F>(bytes: Vec<u8>, callback: F) -> (Result<(), Error>, String)
where
    F: FnOnce(&rfc6455::tokio::RequestHead<'_>) -> Result<Upgrade, Reject> + Send + 'static,
{
    tokio::time::timeout(HANG, async move {
        let (server_end, mut client): (DuplexStream, DuplexStream) = tokio::io::duplex(16 * 1024);
        let server = tokio::spawn(async move {
            Options::default()
                .accept_with(server_end, callback)
                .await
                .map(drop)
        });
        client.write_all(&bytes).await.unwrap();
        client.shutdown().await.unwrap();
        let mut response = Vec::new();
        client.read_to_end(&mut response).await.unwrap();
        (server.await.unwrap(), String::from_utf8(response).unwrap())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn callback_rejection_writes_its_status_headers_and_body() {
    let (result, response) = answer(request(), |request| {
        assert_eq!(request.origin(), Some("https://example.com"));
        Err(Reject::new(403)
            .header("X-Why", "origin")
            .body("not from here"))
    })
    .await;
    assert!(matches!(result, Err(Error::Rejected(403))), "{result:?}");
    assert!(
        response.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{response}"
    );
    assert!(response.contains("\r\nX-Why: origin\r\n"), "{response}");
    assert!(
        response.contains("\r\nContent-Length: 13\r\n"),
        "{response}"
    );
    assert!(response.ends_with("\r\n\r\nnot from here"), "{response}");
}

#[tokio::test]
async fn unknown_path_gets_404() {
    let (result, response) = answer(request(), |request| {
        if request.path() == "/room" && request.query() == Some("x=1") {
            Err(Reject::new(404))
        } else {
            Ok(Upgrade::new())
        }
    })
    .await;
    assert!(matches!(result, Err(Error::Rejected(404))), "{result:?}");
    assert!(
        response.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{response}"
    );
}

#[tokio::test]
async fn invalid_requests_get_400_and_426() {
    let no_key = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    let (result, response) = answer(no_key, |_| unreachable!("not a valid request")).await;
    assert!(
        matches!(result, Err(Error::Handshake(HandshakeError::MissingKey))),
        "{result:?}"
    );
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );

    let old = String::from_utf8(request())
        .unwrap()
        .replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
    let (result, response) = answer(old.into_bytes(), |_| unreachable!()).await;
    assert!(matches!(result, Err(Error::Handshake(_))), "{result:?}");
    // §4.4: the versions the server speaks.
    assert!(
        response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{response}"
    );
    assert!(
        response.contains("\r\nSec-WebSocket-Version: 13\r\n"),
        "{response}"
    );
}

#[tokio::test]
async fn a_subprotocol_the_client_did_not_offer_is_a_500() {
    let (result, response) = answer(request(), |_| Ok(Upgrade::new().subprotocol("other"))).await;
    assert!(
        matches!(result, Err(Error::Usage(UsageError::SubprotocolNotOffered))),
        "{result:?}"
    );
    assert!(
        response.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{response}"
    );
    let (result, response) = answer(request(), |_| {
        Err(Reject::new(401).header("Bad\r\nName", "x"))
    })
    .await;
    assert!(
        matches!(result, Err(Error::Usage(UsageError::InvalidHeader))),
        "{result:?}"
    );
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
}

#[tokio::test]
async fn frames_right_behind_the_head_reach_the_connection() {
    let (server_end, mut client) = tokio::io::duplex(16 * 1024);
    let mut bytes = request();
    // §5.7: a masked "Hello", in the same write as the request head.
    bytes.extend_from_slice(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    client.write_all(&bytes).await.unwrap();
    let mut ws = Options::default()
        .accept_with(server_end, |_| Ok(Upgrade::new().subprotocol("chat")))
        .await
        .unwrap();
    let message = tokio::time::timeout(HANG, ws.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message, Some(Message::text("Hello")));
}

#[tokio::test(start_paused = true)]
async fn handshake_timeout_releases_a_silent_client() {
    let (server_end, _client) = tokio::io::duplex(1024);
    let options = Options::default().handshake_timeout(Some(Duration::from_millis(500)));
    let start = Instant::now();
    let error = options.accept(server_end).await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout(Timeout::Handshake)),
        "{error:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn handshake_timeout_bounds_a_slow_client_in_total() {
    // A byte every 100 ms: each read makes progress, but the head never completes.
    let (server_end, mut client) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if client.write_all(b"X").await.is_err() {
                return;
            }
        }
    });
    let options = Options::default().handshake_timeout(Some(Duration::from_millis(500)));
    let start = Instant::now();
    let error = options.accept(server_end).await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout(Timeout::Handshake)),
        "{error:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}
