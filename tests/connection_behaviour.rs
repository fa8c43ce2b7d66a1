//! Connection behaviours the API promises beyond the wire protocol: end of stream, errors
//! returned once, usage errors, fragmentation of sends, streaming in both directions,
//! backpressure, ping floods, when to close the transport, zero-copy payloads.

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

use bytes::Buf;
use bytes::Bytes;
use harness::{BINARY, CONT, Chunking, Ev, FIN, PONG, TEXT, Wire, connection, drive};
use rfc6455::{
    CloseCode, Config, ConnectionState, Event, MessageKind, ProtocolError, Role, UsageError,
};

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn ev(conn: &mut rfc6455::Connection) -> Result<Option<Ev>, ProtocolError> {
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
            assert_eq!(run.error, Some(ProtocolError::ReservedOpcode(3)));
            assert_eq!(run.output, want.bytes, "{role:?} {chunking:?}");
        }
    }
}

// ----- end of stream -----

/// §7.1.5: an end of stream before the close handshake is an abnormal closure (1006):
/// returned once, after the events still buffered, with no close frame queued (1006 is
/// never put on the wire, §7.4.1).
#[test]
fn eof_before_close_is_unexpected_eof() {
    for role in ROLES {
        for partial in [false, true] {
            let mut w = Wire::peer_of(role);
            w.text("last words");
            if partial {
                let mut next = Wire::peer_of(role);
                next.binary([1, 2, 3]);
                w.raw(&next.bytes[..3]); // part of a frame
            }
            let mut conn = connection(role, Config::default());
            conn.receive(&w.bytes);
            conn.receive_eof();
            assert_eq!(ev(&mut conn), Ok(Some(Ev::text("last words"))));
            let err = conn.next_event().unwrap_err();
            assert_eq!(err, ProtocolError::UnexpectedEof);
            assert_eq!(err.close_code(), CloseCode::ABNORMAL);
            assert_eq!(conn.next_event(), Ok(None));
            assert_eq!(conn.next_event(), Ok(None));
            assert!(conn.take_outgoing().is_empty(), "no close frame for 1006");
            assert_eq!(conn.state(), ConnectionState::Closed);
            assert!(conn.should_close_transport());
        }
    }
}

/// An end of stream while our close waits for the peer's is not a clean close either.
#[test]
fn eof_while_closing_is_unexpected_eof() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.close(CloseCode::NORMAL, "").unwrap();
        let _ = conn.take_outgoing();
        conn.receive_eof();
        assert_eq!(conn.next_event(), Err(ProtocolError::UnexpectedEof));
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.take_outgoing().is_empty());
        assert!(conn.should_close_transport());
    }
}

/// After the close handshake, the end of stream is clean: `Ok(None)`, for a close started
/// by either side.
#[test]
fn eof_after_close_handshake_is_clean() {
    for role in ROLES {
        // The peer closes; we echo.
        let mut conn = connection(role, Config::default());
        let mut w = Wire::peer_of(role);
        w.close(1000, "");
        conn.receive(&w.bytes);
        assert_eq!(ev(&mut conn), Ok(Some(Ev::close(1000, ""))));
        conn.receive_eof();
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.should_close_transport());

        // We close; the peer answers.
        let mut conn = connection(role, Config::default());
        conn.close(CloseCode::NORMAL, "").unwrap();
        conn.receive(&w.bytes);
        conn.receive_eof();
        assert_eq!(ev(&mut conn), Ok(Some(Ev::close(1000, ""))));
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.should_close_transport());
    }
}

// ----- errors -----

/// A protocol error is returned exactly once with the close frame already queued; the
/// events decoded before it were returned first (nothing lost); afterwards `next_event`
/// is `Ok(None)` and input is ignored.
#[test]
fn protocol_error_returned_once_then_nothing() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.text("one").binary([2]).ping("three");
        w.frame(FIN | TEXT | 0x40, b"bad"); // RSV1
        w.text("after");
        let mut conn = connection(role, Config::default());
        conn.receive(&w.bytes);
        assert_eq!(ev(&mut conn), Ok(Some(Ev::text("one"))));
        assert_eq!(ev(&mut conn), Ok(Some(Ev::binary([2]))));
        assert_eq!(ev(&mut conn), Ok(Some(Ev::ping("three"))));
        let err = conn.next_event().unwrap_err();
        assert_eq!(err, ProtocolError::ReservedBitsSet(0b100));
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
        let mut want = Wire::sent_by(role);
        want.frame(FIN | PONG, b"three").close(1002, "");
        assert_eq!(conn.take_outgoing(), want.bytes);
        for _ in 0..3 {
            assert_eq!(conn.next_event(), Ok(None));
        }
        // Input after the failure is ignored, by either input path.
        let mut more = Wire::peer_of(role);
        more.text("ignored");
        conn.receive(&more.bytes);
        assert_eq!(conn.next_event(), Ok(None));
        conn.receive_buffer().extend_from_slice(&more.bytes);
        assert_eq!(conn.next_event(), Ok(None));
        conn.receive_eof();
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.take_outgoing().is_empty());
        assert_eq!(conn.state(), ConnectionState::Closed);
        assert!(conn.should_close_transport());
    }
}

/// Sending after a close (ours, the peer's, or a failure) is a usage error, not a panic,
/// and queues nothing.
#[test]
fn sending_after_close_is_refused() {
    for role in ROLES {
        for how in 0..3 {
            let mut conn = connection(role, Config::default());
            match how {
                0 => conn.close(CloseCode::NORMAL, "").unwrap(),
                1 => {
                    let mut w = Wire::peer_of(role);
                    w.close(1000, "");
                    conn.receive(&w.bytes);
                    assert!(matches!(conn.next_event(), Ok(Some(Event::Close(_)))));
                }
                _ => {
                    conn.receive(&[0x83, 0x80, 0, 0, 0, 0]);
                    assert!(conn.next_event().is_err());
                }
            }
            let _ = conn.take_outgoing();
            let closed = Err(UsageError::Closed);
            assert_eq!(conn.send_text("x"), closed);
            assert_eq!(conn.send_binary(b"x"), closed);
            assert_eq!(conn.send_ping(b"x"), closed);
            assert_eq!(conn.send_pong(b"x"), closed);
            assert_eq!(conn.close(CloseCode::NORMAL, ""), closed);
            assert_eq!(conn.close_without_status(), closed);
            assert_eq!(conn.begin_message(MessageKind::Text), closed);
            assert!(conn.take_outgoing().is_empty(), "{role:?} {how}");
            assert_eq!(conn.buffered_amount(), 0);
        }
    }
}

/// §5.5: control payloads are at most 125 bytes; a close reason at most 123.
#[test]
fn control_payload_over_125_is_refused() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let too_large = Err(UsageError::ControlPayloadTooLarge);
        assert_eq!(conn.send_ping(&[0; 126]), too_large);
        assert_eq!(conn.send_pong(&[0; 126]), too_large);
        assert_eq!(conn.close(CloseCode::NORMAL, &"r".repeat(124)), too_large);
        assert!(conn.take_outgoing().is_empty());
        assert_eq!(conn.state(), ConnectionState::Open);
        conn.send_ping(&[0; 125]).unwrap();
        conn.send_pong(&[1; 125]).unwrap();
        conn.close(CloseCode::NORMAL, &"r".repeat(123)).unwrap();
        let mut want = Wire::sent_by(role);
        want.ping([0; 125])
            .pong([1; 125])
            .close(1000, "r".repeat(123));
        assert_eq!(conn.take_outgoing(), want.bytes);
    }
}

/// §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control
/// frame"; nor may codes outside the defined ranges (§7.4.2).
#[test]
fn close_with_reserved_code_is_refused() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        for code in [1005, 1006, 1015, 0, 999, 1004, 1016, 2999, 5000, 65535] {
            assert_eq!(
                conn.close(CloseCode(code), ""),
                Err(UsageError::InvalidCloseCode(code))
            );
        }
        assert!(conn.take_outgoing().is_empty());
        assert_eq!(conn.state(), ConnectionState::Open);
        conn.close(CloseCode(4999), "").unwrap();
        assert_eq!(conn.state(), ConnectionState::Closing);
    }
}

// ----- sending -----

/// Messages longer than `max_send_frame_size` go out as a text/binary frame and
/// continuations of at most that size (§5.4); an empty message is one empty frame.
#[test]
fn large_sends_are_split_into_frames() {
    for role in ROLES {
        let mut conn = connection(role, Config::default().max_send_frame_size(3));
        conn.send_text("abcdefgh").unwrap();
        conn.send_binary(&[1, 2, 3]).unwrap();
        conn.send_binary(&[]).unwrap();
        let mut want = Wire::sent_by(role);
        want.frame(TEXT, b"abc")
            .frame(CONT, b"def")
            .frame(FIN | CONT, b"gh")
            .frame(FIN | BINARY, &[1, 2, 3])
            .frame(FIN | BINARY, b"");
        assert_eq!(conn.take_outgoing(), want.bytes);
    }
}

/// `begin_message`/`send_fragment`/`finish_message` send one frame per call; control
/// frames, automatic pongs included, may go between them (§5.4).
#[test]
fn streaming_send_frames_with_pongs_between() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.begin_message(MessageKind::Text).unwrap();
        conn.send_fragment("κό".as_bytes()).unwrap();
        // A ping arrives mid-message: its pong goes out between the fragments.
        let mut w = Wire::peer_of(role);
        w.ping("mid");
        conn.receive(&w.bytes);
        assert_eq!(ev(&mut conn), Ok(Some(Ev::ping("mid"))));
        conn.send_ping(b"ours").unwrap();
        // Other data is refused while the message is open.
        let busy = Err(UsageError::MessageInProgress);
        assert_eq!(conn.send_text("x"), busy);
        assert_eq!(conn.send_binary(b"x"), busy);
        assert_eq!(conn.begin_message(MessageKind::Binary), busy);
        // A fragment may end inside a code point that the next one completes.
        conn.send_fragment(&"σμε".as_bytes()[..3]).unwrap();
        conn.finish_message(&"σμε".as_bytes()[3..]).unwrap();
        // And an empty last fragment.
        conn.begin_message(MessageKind::Binary).unwrap();
        conn.send_fragment(&[1]).unwrap();
        conn.finish_message(&[]).unwrap();
        let mut want = Wire::sent_by(role);
        want.frame(TEXT, "κό".as_bytes())
            .frame(FIN | PONG, b"mid")
            .ping("ours")
            .frame(CONT, &"σμε".as_bytes()[..3])
            .frame(FIN | CONT, &"σμε".as_bytes()[3..])
            .frame(BINARY, &[1])
            .frame(FIN | CONT, b"");
        assert_eq!(conn.take_outgoing(), want.bytes);
        // Nothing begun: fragments are refused.
        assert_eq!(conn.send_fragment(b"x"), busy);
        assert_eq!(conn.finish_message(b"x"), busy);
    }
}

/// A streamed text fragment that cannot be valid UTF-8, or a message ending inside a
/// code point, is refused and nothing is queued; the message can still be completed.
#[test]
fn streamed_invalid_utf8_is_refused() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.begin_message(MessageKind::Text).unwrap();
        conn.send_fragment(b"ok").unwrap();
        let sent = conn.buffered_amount();
        let invalid = Err(UsageError::InvalidUtf8);
        assert_eq!(conn.send_fragment(b"\xff"), invalid);
        assert_eq!(conn.send_fragment(b"\xed\xa0\x80"), invalid);
        assert_eq!(
            conn.finish_message(b"\xe2\x82"),
            invalid,
            "ends inside a code point"
        );
        assert_eq!(conn.buffered_amount(), sent, "nothing queued");
        conn.send_fragment(b"\xe2\x82").unwrap();
        assert_eq!(conn.finish_message(b"\xff"), invalid);
        conn.finish_message(b"\xac").unwrap();
        let mut want = Wire::sent_by(role);
        want.frame(TEXT, b"ok")
            .frame(CONT, b"\xe2\x82")
            .frame(FIN | CONT, b"\xac");
        assert_eq!(conn.take_outgoing(), want.bytes);
        // The validator starts afresh for the next message.
        conn.begin_message(MessageKind::Text).unwrap();
        assert_eq!(conn.send_fragment(b"\xac"), invalid);
    }
}

// ----- receiving in fragments -----

/// With `stream_fragments`, each data frame is delivered as it arrives with its
/// first/fin flags; control frames in between are delivered in place; text is still
/// validated (failing fast).
#[test]
fn stream_fragments_delivers_fragments() {
    use MessageKind::{Binary, Text};
    for role in ROLES {
        let config = Config::default().stream_fragments(true);
        let mut w = Wire::peer_of(role);
        w.text("whole")
            .frame(TEXT, "κ".as_bytes())
            .frame(CONT, &"ό".as_bytes()[..1])
            .ping("p")
            .frame(FIN | CONT, &"ό".as_bytes()[1..])
            .frame(BINARY, &[1])
            .frame(FIN | CONT, &[])
            .frame(TEXT, b"a")
            .frame(FIN | CONT, b"\xff");
        for chunking in [Chunking::Whole, Chunking::Fixed(1)] {
            let mut conn = connection(role, config);
            let run = drive(&mut conn, &chunking.split(&w.bytes), false, false);
            assert_eq!(
                run.events,
                vec![
                    Ev::fragment(Text, "whole", true, true),
                    Ev::fragment(Text, "κ", true, false),
                    Ev::fragment(Text, &"ό".as_bytes()[..1], false, false),
                    Ev::ping("p"),
                    Ev::fragment(Text, &"ό".as_bytes()[1..], false, true),
                    Ev::fragment(Binary, [1], true, false),
                    Ev::fragment(Binary, [], false, true),
                    Ev::fragment(Text, "a", true, false),
                ],
                "{role:?} {chunking:?}"
            );
            assert_eq!(run.error, Some(ProtocolError::InvalidUtf8));
            let mut want = Wire::sent_by(role);
            want.frame(FIN | PONG, b"p").close(1007, "");
            assert_eq!(run.output, want.bytes);
        }
    }
}

// ----- backpressure -----

/// `buffered_amount` counts the bytes queued and not yet written (pongs held included).
/// A data message is refused when the queue and the message's own frames would together
/// be over `max_buffered_outgoing`: exactly at the limit is accepted, one byte over is
/// not, and a single message larger than the limit is refused even on an empty queue.
/// User pings and pongs are refused over the limit too; the close frame and the pongs the
/// connection owes never are.
#[test]
fn backpressure_counts_the_new_message() {
    for role in ROLES {
        let header = if role == Role::Client { 6 } else { 2 };
        let full = Err(UsageError::OutgoingBufferFull);
        let mut conn = connection(role, Config::default().max_buffered_outgoing(100));
        assert_eq!(conn.buffered_amount(), 0);
        assert_eq!(conn.send_binary(&[0; 101]), full, "alone over the limit");
        assert_eq!(conn.buffered_amount(), 0);
        conn.send_binary(&[0; 50]).unwrap();
        assert_eq!(conn.buffered_amount(), 50 + header);
        let room = 100 - (50 + header);
        assert_eq!(
            conn.send_binary(vec![0; room - header + 1]),
            full,
            "one over"
        );
        assert_eq!(conn.send_text("x".repeat(room - header + 1)), full);
        assert_eq!(
            conn.buffered_amount(),
            50 + header,
            "nothing queued when refused"
        );
        conn.send_binary(vec![0; room - header]).unwrap(); // exactly at the limit
        assert_eq!(conn.buffered_amount(), 100);
        assert_eq!(conn.send_binary(b""), full);
        assert_eq!(conn.send_ping(b""), full, "a ping is optional");
        assert_eq!(conn.send_pong(b""), full);
        conn.begin_message(MessageKind::Binary).unwrap();
        assert_eq!(conn.send_fragment(b""), full);
        // A held pong counts as the frame it will be, and is never refused.
        let mut w = Wire::peer_of(role);
        w.ping("abc");
        conn.receive(&w.bytes);
        assert_eq!(ev(&mut conn), Ok(Some(Ev::ping("abc"))));
        assert_eq!(conn.buffered_amount(), 100 + header + 3);
        // Writing part of the queue makes room by exactly that much.
        let written = conn.outgoing().chunk().len().min(40);
        conn.outgoing().advance(written);
        assert_eq!(conn.buffered_amount(), 100 + header + 3 - written);
        let taken = conn.take_outgoing();
        assert_eq!(taken.len(), 100 + header + 3 - written);
        assert_eq!(conn.buffered_amount(), 0);
        conn.finish_message(b"x").unwrap();
        conn.send_text("again").unwrap();
        // The close frame goes out whatever the queue holds.
        conn.send_binary(vec![0; 100 - conn.buffered_amount() - header])
            .unwrap();
        conn.close(CloseCode::NORMAL, "over the limit is fine")
            .unwrap();
        assert!(conn.buffered_amount() > 100);
    }
}

/// A ping flood from a peer that never reads: 100,000 pings with the outgoing bytes never
/// taken leave at most `max_pending_pongs` pongs queued, the most recent ones (§5.5.3:
/// an endpoint "MAY elect to send a Pong frame for only the most recently processed Ping
/// frame").
#[test]
fn ping_flood_keeps_the_queue_bounded() {
    for role in ROLES {
        let header = if role == Role::Client { 6 } else { 2 };
        let config = Config::default();
        let max = config.max_pending_pongs;
        let mut conn = connection(role, config);
        let mut w = Wire::peer_of(role);
        for i in 0..100_000u32 {
            w.ping(i.to_be_bytes());
            if w.bytes.len() > 64 << 10 {
                conn.receive(&w.take());
                while let Some(event) = conn.next_event().unwrap() {
                    assert!(matches!(event, Event::Ping(_)));
                }
                assert!(conn.buffered_amount() <= max * (header + 4));
            }
        }
        conn.receive(&w.take());
        while conn.next_event().unwrap().is_some() {}
        assert_eq!(conn.buffered_amount(), max * (header + 4));
        let mut want = Wire::sent_by(role);
        for i in 100_000 - max as u32..100_000 {
            want.frame(FIN | PONG, &i.to_be_bytes());
        }
        assert_eq!(conn.take_outgoing(), want.bytes);
    }
}

// ----- closing the transport -----

/// §7.1.1: the server closes the TCP connection first, once the close handshake is done;
/// the client waits for the server to (the end of stream); after a failure both close.
#[test]
fn should_close_transport_by_role() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.close(1000, "");
        let mut conn = connection(role, Config::default());
        assert!(!conn.should_close_transport());
        conn.receive(&w.bytes);
        conn.next_event().unwrap();
        assert_eq!(conn.should_close_transport(), role == Role::Server);
        conn.receive_eof();
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.should_close_transport());

        // Closing (our close sent) is not closed yet.
        let mut conn = connection(role, Config::default());
        conn.close(CloseCode::NORMAL, "").unwrap();
        assert!(!conn.should_close_transport());
        conn.receive(&w.bytes);
        conn.next_event().unwrap();
        assert_eq!(conn.should_close_transport(), role == Role::Server);

        // After a failure, both.
        let mut conn = connection(role, Config::default());
        conn.receive(&[0x8f, 0x00]);
        assert!(conn.next_event().is_err());
        assert!(conn.should_close_transport());
    }
}

// ----- input paths -----

/// Appending to `receive_buffer()` gives the same events as `receive`, in any chunking.
#[test]
fn receive_buffer_equals_receive() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.text("κόσμε")
            .ping("p")
            .frame(BINARY, &[1; 300])
            .frame(FIN | CONT, &[2; 70000])
            .close(1000, "bye");
        for chunking in [Chunking::Fixed(1), Chunking::Random { seed: 11, max: 500 }] {
            let mut a = connection(role, Config::default());
            let mut b = connection(role, Config::default());
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            for chunk in chunking.split(&w.bytes) {
                a.receive(chunk);
                b.receive_buffer().extend_from_slice(chunk);
                while let Some(e) = a.next_event().unwrap() {
                    ea.push(Ev::from_event(e));
                }
                while let Some(e) = b.next_event().unwrap() {
                    eb.push(Ev::from_event(e));
                }
            }
            assert_eq!(ea.len(), 4);
            assert_eq!(ea, eb, "{role:?} {chunking:?}");
            assert_eq!(a.take_outgoing(), b.take_outgoing());
        }
    }
}

/// The payload of a single-frame message is handed out without a copy: it points into
/// the receive buffer, where it was unmasked in place. (Payloads up to 256 bytes are
/// copied instead, which is cheaper than sharing; these are larger.)
#[test]
fn single_frame_payload_is_zero_copy() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.binary([7; 1000]).text("x".repeat(300));
        let mut conn = connection(role, Config::default());
        let buf = conn.receive_buffer();
        buf.reserve(w.bytes.len());
        buf.extend_from_slice(&w.bytes);
        let start = buf.as_ptr() as usize;
        let header = if role == Role::Server { 8 } else { 4 };
        match conn.next_event().unwrap() {
            Some(Event::Binary(b)) => {
                assert_eq!(b.as_ptr() as usize, start + header, "{role:?}");
                assert_eq!(b, Bytes::from(vec![7; 1000]));
            }
            other => panic!("{other:?}"),
        }
        match conn.next_event().unwrap() {
            Some(Event::Text(t)) => {
                assert_eq!(t.as_ptr() as usize, start + header + 1000 + header);
            }
            other => panic!("{other:?}"),
        }
    }
}
