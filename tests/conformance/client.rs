//! Role-specific rules (§5.1, §5.3): a client masks every frame it sends with a fresh key
//! and fails on a masked frame from the server; a server fails on an unmasked frame.
//! (Every category above already runs for both roles.)

use rfc6455::{CloseCode, Config, ProtocolError, Role};

use crate::harness::{Case, Ev, FIN, KeyStream, TEXT, Wire, connection};

/// §5.1: "The client MUST close a connection if it detects a masked frame" → 1002.
#[test]
fn masked_frame_to_client_fails() {
    let mut masked = Wire::peer_of(Role::Server); // a masking sender
    masked.text("Hello");
    Case::new("masked to client", Role::Client)
        .send(|w| {
            w.raw(&masked.bytes);
        })
        .fails(ProtocolError::MaskedFrameFromServer)
        .check();
}

/// §5.1: "a server MUST close the connection upon receiving a frame that is not masked"
/// → 1002.
#[test]
fn unmasked_frame_to_server_fails() {
    let mut unmasked = Wire::peer_of(Role::Client);
    unmasked.text("Hello");
    Case::new("unmasked to server", Role::Server)
        .send(|w| {
            w.text("ok");
            w.raw(&unmasked.bytes);
        })
        .expect([Ev::text("ok")])
        .fails(ProtocolError::UnmaskedFrameFromClient)
        .check();
}

/// §5.3: each frame a client sends is masked with the next key from its random source,
/// pongs and closes included.
#[test]
fn client_masks_every_frame_with_a_fresh_key() {
    let mut client = connection(Role::Client, Config::default().max_send_frame_size(4));
    client.send_text("hello").unwrap(); // two frames
    client.send_ping(b"p").unwrap();
    client.send_binary(&[]).unwrap();
    client.close(CloseCode::NORMAL, "done").unwrap();
    let mut want = Wire::sent_by(Role::Client);
    want.frame(TEXT, b"hell")
        .frame(FIN, b"o")
        .ping(b"p")
        .frame(FIN | 0x2, b"")
        .close(1000, "done");
    assert_eq!(client.take_outgoing(), want.bytes);
    // The keys are the first five of the stream, in order.
    let mut keys = KeyStream::ours();
    let first = keys.next_key();
    assert_eq!(&want.bytes[2..6], &first);
}

/// The server never masks.
#[test]
fn server_never_masks() {
    let mut server = connection(Role::Server, Config::default());
    server.send_text("hi").unwrap();
    server.send_pong(b"").unwrap();
    assert_eq!(server.take_outgoing(), [0x81, 2, b'h', b'i', 0x8a, 0]);
}
