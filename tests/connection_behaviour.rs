//! Connection behaviours the API promises beyond the wire protocol: end of stream, errors
//! returned once, usage errors, fragmentation of sends, streaming in both directions,
//! backpressure, ping floods, when to close the transport, zero-copy payloads.

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

use harness::{Chunking, Ev, FIN, PONG, Wire, connection, drive};
use rfc6455::{Config, Error, ProtocolError, Role};

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn ev(conn: &mut rfc6455::Connection) -> Result<Option<Ev>, Error> {
    conn.next_event().map(|e| e.map(Ev::from_event))
}

// ----- pong order -----

/// A pong answers a ping that arrived before a message; it must go out before that
/// message's echo even when both arrive in one read (Autobahn 5.6 and 5.19 compare the
/// order of what they receive).
#[test]
fn pong_goes_out_before_a_later_echo() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.ping("p").text("t");
        let mut conn = connection(role, Config::default());
        conn.receive(&w.bytes);
        assert_eq!(ev(&mut conn), Ok(Some(Ev::ping("p"))));
        assert_eq!(ev(&mut conn), Ok(Some(Ev::text("t"))));
        conn.send_text("t").unwrap();
        let mut want = Wire::sent_by(role);
        want.frame(FIN | PONG, b"p").text("t");
        assert_eq!(conn.take_outgoing(), want.bytes, "{role:?}");
    }
}

/// A failure queues the pongs for pings already reported (`Event::Ping` promises the pong
/// is queued) before the close frame, so the bytes do not depend on how the input was
/// chunked.
#[test]
fn failure_keeps_pongs_already_promised() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.ping("p").frame(FIN | 0x3, b"");
        let mut want = Wire::sent_by(role);
        want.frame(FIN | PONG, b"p").close(1002, "");
        for chunking in [Chunking::Whole, Chunking::Fixed(1)] {
            let mut conn = connection(role, Config::default());
            let run = drive(&mut conn, &chunking.split(&w.bytes), false, true);
            assert_eq!(run.events, vec![Ev::ping("p")]);
            assert_eq!(run.error, Some(ProtocolError::ReservedOpcode(3).into()));
            assert_eq!(run.output, want.bytes, "{role:?} {chunking:?}");
        }
    }
}
