//! The getters that say what a connection wants, in each state: `config`, `wants_write`,
//! `wants_read`, `should_close_transport`, `state`, followed through a connection's life
//! (§7: open, closing, closed, failed).

use bytes::Buf;
use rfc6455::{
    CloseCode, Config, Connection, ConnectionState, Event, MessageKind, PreparedMessage,
    ProtocolError, Role,
};

/// A server, or a client masking with the zero key.
fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => Connection::client_with_random(config, |buf: &mut [u8]| buf.fill(0)),
    }
}

/// A short frame from the peer of `role` (masked with the zero key toward a server).
fn peer(role: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    if role == Role::Server {
        out.push(0x80 | payload.len() as u8);
        out.extend_from_slice(&[0; 4]);
    } else {
        out.push(payload.len() as u8);
    }
    out.extend_from_slice(payload);
    out
}

/// A short frame `role` sends.
fn ours(role: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    let other = if role == Role::Server {
        Role::Client
    } else {
        Role::Server
    };
    peer(other, b0, payload)
}

const ROLES: [Role; 2] = [Role::Server, Role::Client];

#[test]
fn config_is_the_one_given() {
    let config = Config::default()
        .max_frame_size(77)
        .auto_pong(false)
        .max_pending_pongs(3);
    for role in ROLES {
        assert_eq!(connection(role, config).config(), &config);
    }
}

/// `wants_write`: bytes are queued or pongs are held.
#[test]
fn wants_write_follows_the_queue_and_the_held_pongs() {
    for role in ROLES {
        let mut ws = connection(role, Config::default());
        assert!(!ws.wants_write());
        ws.send_text("x").unwrap();
        assert!(ws.wants_write());
        let _ = ws.take_outgoing();
        assert!(!ws.wants_write());
        ws.receive(&peer(role, 0x89, b""));
        assert_eq!(ws.next_event(), Ok(Some(Event::Ping(Vec::new().into()))));
        assert!(ws.wants_write(), "a held pong");
        assert_eq!(ws.take_outgoing(), ours(role, 0x8A, b""));
        assert!(!ws.wants_write());
    }
}

/// What each getter says through a connection's life.
#[derive(Debug, PartialEq, Eq)]
struct Wants {
    state: ConnectionState,
    read: bool,
    write: bool,
    close_transport: bool,
}

fn wants(ws: &Connection) -> Wants {
    Wants {
        state: ws.state(),
        read: ws.wants_read(),
        write: ws.wants_write(),
        close_transport: ws.should_close_transport(),
    }
}

const fn w(state: ConnectionState, read: bool, write: bool, close_transport: bool) -> Wants {
    Wants {
        state,
        read,
        write,
        close_transport,
    }
}

/// The peer closes: open, then closed with the echo to write; the server closes TCP
/// first (§7.1.1), the client once the stream ends.
#[test]
fn the_peer_closes() {
    use ConnectionState::{Closed, Open};
    for role in ROLES {
        let server = role == Role::Server;
        let mut ws = connection(role, Config::default());
        assert_eq!(wants(&ws), w(Open, true, false, false));
        ws.receive(&peer(role, 0x88, &1000u16.to_be_bytes()));
        assert!(matches!(ws.next_event(), Ok(Some(Event::Close(_)))));
        assert_eq!(wants(&ws), w(Closed, false, true, server));
        assert_eq!(ws.take_outgoing(), ours(role, 0x88, &1000u16.to_be_bytes()));
        assert_eq!(wants(&ws), w(Closed, false, false, server));
        ws.receive_eof();
        assert_eq!(wants(&ws), w(Closed, false, false, true));
    }
}

/// We close: closing (still reading and answering pings, until the peer's close), then
/// closed.
#[test]
fn we_close() {
    use ConnectionState::{Closed, Closing};
    for role in ROLES {
        let server = role == Role::Server;
        let mut ws = connection(role, Config::default());
        ws.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(wants(&ws), w(Closing, true, true, false));
        let _ = ws.take_outgoing();
        assert_eq!(wants(&ws), w(Closing, true, false, false));
        // §5.5.2: a ping is answered until the peer's close arrives, ours sent or not.
        ws.receive(&peer(role, 0x89, b"still there?"));
        assert_eq!(
            ws.next_event(),
            Ok(Some(Event::Ping(b"still there?".to_vec().into())))
        );
        assert_eq!(wants(&ws), w(Closing, true, true, false));
        assert_eq!(ws.take_outgoing(), ours(role, 0x8A, b"still there?"));
        ws.receive(&peer(role, 0x88, &1000u16.to_be_bytes()));
        assert!(matches!(ws.next_event(), Ok(Some(Event::Close(_)))));
        assert_eq!(wants(&ws), w(Closed, false, false, server));
    }
}

/// A failure: closed, the close frame to write, and the transport to close (§7.1.7).
#[test]
fn a_failure() {
    use ConnectionState::Closed;
    for role in ROLES {
        let mut ws = connection(role, Config::default());
        ws.receive(&peer(role, 0x83, b""));
        assert_eq!(ws.next_event(), Err(ProtocolError::ReservedOpcode(3)));
        assert_eq!(wants(&ws), w(Closed, false, true, true));
    }
}

/// The end of stream before any close: nothing more to read, nothing to write (1006 is
/// never sent), close the transport.
#[test]
fn the_stream_ends() {
    use ConnectionState::{Closed, Open};
    for role in ROLES {
        let mut ws = connection(role, Config::default());
        ws.receive_eof();
        assert_eq!(wants(&ws), w(Open, false, false, false));
        assert_eq!(ws.next_event(), Err(ProtocolError::UnexpectedEof));
        assert_eq!(wants(&ws), w(Closed, false, false, true));
    }
}

// ----- small parts of the API: accessors, Debug, the outgoing queue as a `Buf` -----

#[test]
fn close_frame_says_whether_it_had_a_status() {
    for role in ROLES {
        let mut ws = connection(role, Config::default());
        ws.receive(&peer(role, 0x88, b""));
        let Ok(Some(Event::Close(close))) = ws.next_event() else {
            panic!("a close")
        };
        assert_eq!(close.code, CloseCode(1005));
        assert!(!close.has_status());
        let mut ws = connection(role, Config::default());
        ws.receive(&peer(role, 0x88, &1001u16.to_be_bytes()));
        let Ok(Some(Event::Close(close))) = ws.next_event() else {
            panic!("a close")
        };
        assert!(close.has_status());
    }
}

#[test]
fn prepared_messages_keep_their_kind_and_payload() {
    let text = PreparedMessage::text("to all");
    assert_eq!(
        (text.kind(), &text.payload()[..]),
        (MessageKind::Text, &b"to all"[..])
    );
    let binary = PreparedMessage::binary(vec![1, 2, 3]);
    assert_eq!(
        (binary.kind(), &binary.payload()[..]),
        (MessageKind::Binary, &[1, 2, 3][..])
    );
}

/// A large prepared message on a fresh connection: counted in `buffered_amount`, and the
/// queue as a `Buf` never offers an empty chunk while bytes remain (a writer that loops
/// on `chunk` would spin), and gives the frame's bytes.
#[test]
fn the_queue_as_a_buf_gives_every_byte_in_non_empty_chunks() {
    let data = vec![9u8; 5000];
    let message = PreparedMessage::binary(data.clone());
    let mut ws = Connection::server(Config::default());
    ws.send_text("first").unwrap();
    let _ = ws.take_outgoing();
    ws.send_prepared(&message).unwrap();
    ws.send_text("after").unwrap();
    // 5000 bytes: 126 and a 16-bit length (§5.2).
    let mut want = vec![0x82, 126, 0x13, 0x88];
    want.extend_from_slice(&data);
    want.extend(ours(Role::Server, 0x81, b"after"));
    assert_eq!(ws.buffered_amount(), want.len());
    let mut wire = Vec::new();
    while ws.outgoing().has_remaining() {
        let out = ws.outgoing();
        let chunk = out.chunk();
        assert!(
            !chunk.is_empty(),
            "an empty chunk with {} bytes left",
            out.remaining()
        );
        let n = chunk.len().min(1000);
        wire.extend_from_slice(&chunk[..n]);
        out.advance(n);
    }
    assert_eq!(wire, want);
    assert_eq!(ws.buffered_amount(), 0);
}

/// `Debug` names the role and the state.
#[test]
fn debug_shows_role_and_state() {
    let mut ws = Connection::server(Config::default());
    let shown = format!("{ws:?}");
    assert!(shown.starts_with("Connection"), "{shown}");
    assert!(
        shown.contains("Server") && shown.contains("Open"),
        "{shown}"
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert!(format!("{ws:?}").contains("CloseSent"), "{ws:?}");
}

#[test]
fn payloads_know_their_length() {
    use bytes::Bytes;
    use rfc6455::{Payload, TextPayload};
    for (payload, len) in [
        (Payload::from(&b"abc"[..]), 3),
        (Payload::from(Vec::new()), 0),
        (Payload::from(Bytes::from_static(b"xy")), 2),
    ] {
        assert_eq!((payload.len(), payload.is_empty()), (len, len == 0));
    }
    for (text, len) in [
        (TextPayload::from("é"), 2),
        (TextPayload::from(String::new()), 0),
    ] {
        assert_eq!((text.len(), text.is_empty()), (len, len == 0));
    }
}
