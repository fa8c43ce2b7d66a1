//! Every protocol violation reaches the peer as its close code through the tokio adapter
//! (§7.4.1: 1002, 1007, 1009), written before `recv` returns the error, followed by a
//! clean TCP close (FIN, not a reset). The peer is a plain `TcpStream` writing raw bytes.
#![cfg(feature = "tokio")]

use std::time::Duration;

use rfc6455::handshake::{ClientHandshake, WsUri};
use rfc6455::tokio::{Error, Options};
use rfc6455::{CloseCode, Config, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HANG: Duration = Duration::from_secs(30);

/// A client frame: FIN + `opcode`, masked with a fixed key (§5.3).
fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Runs a server with `options` that reports what `recv` returned; connects a raw client
/// that sends `bytes` after the handshake; returns the server's error and everything the
/// client read after the 101 until the end of stream.
async fn violate(options: Options, bytes: Vec<u8>) -> (Error, Vec<u8>) {
    tokio::time::timeout(HANG, async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = options.accept(stream).await.unwrap();
            loop {
                match ws.recv().await {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("the connection ended without an error"),
                    Err(error) => {
                        // The error comes last: nothing more after it.
                        assert!(matches!(ws.recv().await, Ok(None)));
                        return error;
                    }
                }
            }
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let uri = WsUri::parse("ws://localhost/").unwrap();
        let mut request = ClientHandshake::new(&uri).request();
        request.extend_from_slice(&bytes); // frames right behind the head: leftovers
        client.write_all(&request).await.unwrap();
        client.shutdown().await.unwrap(); // our FIN: the server's drain ends at once
        let mut received = Vec::new();
        // A reset here (instead of the end of stream) would fail the test.
        client.read_to_end(&mut received).await.unwrap();
        let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(received.starts_with(b"HTTP/1.1 101 "));
        (server.await.unwrap(), received.split_off(head_end))
    })
    .await
    .unwrap()
}

/// The close code of the single close frame in `wire` (an unmasked server frame).
fn close_code(wire: &[u8]) -> u16 {
    assert_eq!(wire[0], 0x88, "a close frame: {wire:02x?}");
    assert!(
        wire[1] >= 2 && wire.len() == 2 + wire[1] as usize,
        "{wire:02x?}"
    );
    u16::from_be_bytes([wire[2], wire[3]])
}

#[tokio::test]
async fn unmasked_frame_is_1002() {
    // §5.1: a server MUST close the connection on an unmasked client frame.
    let (error, wire) = violate(Options::default(), vec![0x81, 0x02, b'h', b'i']).await;
    assert!(
        matches!(
            error,
            Error::Protocol(ProtocolError::UnmaskedFrameFromClient)
        ),
        "{error:?}"
    );
    assert_eq!(close_code(&wire), 1002);
}

#[tokio::test]
async fn reserved_opcode_is_1002() {
    // §5.2: opcodes 0x3-0x7 are reserved.
    let (error, wire) = violate(Options::default(), masked(0x3, b"x")).await;
    assert!(
        matches!(error, Error::Protocol(ProtocolError::ReservedOpcode(3))),
        "{error:?}"
    );
    assert_eq!(close_code(&wire), 1002);
}

#[tokio::test]
async fn fragmented_control_frame_is_1002() {
    // §5.5: control frames MUST NOT be fragmented.
    let mut frame = masked(0x9, b"ping");
    frame[0] &= 0x7f;
    let (error, wire) = violate(Options::default(), frame).await;
    assert_eq!(
        error.to_string(),
        ProtocolError::FragmentedControlFrame.to_string()
    );
    assert_eq!(close_code(&wire), 1002);
}

#[tokio::test]
async fn invalid_utf8_is_1007_after_the_messages_before_it() {
    // §8.1: text that is not UTF-8 fails the connection with 1007. The echo server
    // answers the valid message first: nothing decoded before the violation is lost.
    let mut bytes = masked(0x1, b"fine");
    bytes.extend(masked(0x1, &[b'a', 0xff, b'b']));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = rfc6455::tokio::accept(stream).await.unwrap();
        loop {
            match ws.recv().await {
                Ok(Some(message)) => ws.send(message).await.unwrap(),
                Ok(None) => panic!("no error"),
                Err(error) => return error,
            }
        }
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    let mut request = ClientHandshake::new(&WsUri::parse("ws://localhost/").unwrap()).request();
    request.extend_from_slice(&bytes);
    client.write_all(&request).await.unwrap();
    client.shutdown().await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(HANG, client.read_to_end(&mut received))
        .await
        .unwrap()
        .unwrap();
    let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let wire = &received[head_end..];
    assert_eq!(&wire[..6], b"\x81\x04fine");
    assert_eq!(close_code(&wire[6..]), 1007);
    let error = server.await.unwrap();
    assert!(
        matches!(error, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_close_reason_is_1007() {
    // §5.5.1: the close reason must be UTF-8.
    let (error, wire) = violate(Options::default(), masked(0x8, &[0x03, 0xe8, 0xff])).await;
    assert!(
        matches!(error, Error::Protocol(ProtocolError::InvalidCloseReason)),
        "{error:?}"
    );
    assert_eq!(close_code(&wire), 1007);
}

#[tokio::test]
async fn frame_over_the_limit_is_1009() {
    let options = Options::default().config(Config::default().max_frame_size(1024));
    let (error, wire) = violate(options, masked(0x2, &[0u8; 2000])).await;
    assert!(
        matches!(error, Error::Protocol(ProtocolError::FrameTooLarge { .. })),
        "{error:?}"
    );
    assert_eq!(close_code(&wire), 1009);
    assert_eq!(
        error.to_string(),
        "frame payload of 2000 bytes exceeds the limit of 1024"
    );
}

#[tokio::test]
async fn message_over_the_limit_is_1009() {
    let options = Options::default().config(Config::default().max_message_size(1000));
    let mut first = masked(0x2, &[0u8; 600]);
    first[0] &= 0x7f; // not FIN: a fragmented message
    first.extend(masked(0x0, &[0u8; 600]));
    let (error, wire) = violate(options, first).await;
    assert!(
        matches!(
            error,
            Error::Protocol(ProtocolError::MessageTooLarge { .. })
        ),
        "{error:?}"
    );
    assert_eq!(close_code(&wire), CloseCode::MESSAGE_TOO_BIG.0);
}

#[tokio::test]
async fn peer_vanishing_is_1006_and_nothing_is_sent() {
    // §7.1.5: no close frame received, code 1006, which is never sent.
    let (error, wire) = violate(Options::default(), Vec::new()).await;
    assert!(
        matches!(error, Error::Protocol(ProtocolError::UnexpectedEof)),
        "{error:?}"
    );
    assert!(wire.is_empty(), "{wire:02x?}");
}
