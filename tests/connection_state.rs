//! The getters that say what a connection wants, in each state: `config`, `wants_write`,
//! `wants_read`, `should_close_transport`, `state`, followed through a connection's life
//! (§7: open, closing, closed, failed).

use rfc6455::{CloseCode, Config, Connection, ConnectionState, Event, ProtocolError, Role};

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
