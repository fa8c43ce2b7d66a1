//! Autobahn 7.x: the closing handshake (§5.5.1, §7). A peer's close is echoed with its
//! status code and reason; nothing is processed after it; close payloads are checked:
//! 1 byte → 1002, a code that may not be sent (§7.4) → 1002, a reason that is not UTF-8
//! → 1007, over 125 bytes → 1002.

use rfc6455::{CloseCode, ConnectionState, ProtocolError, Role};

use crate::harness::{CLOSE, Case, Chunking, Ev, FIN, PING, TEXT, Wire, both, connection, drive};

/// 7.1.1: a message, then a close → echo, then close echo.
#[test]
fn case_7_1_1_message_then_close() {
    both(|role| {
        Case::new("7.1.1", role)
            .send(|w| {
                w.text("Hello World!");
            })
            .expect([Ev::text("Hello World!")])
            .then_close()
    });
}

/// 7.1.2: two close frames → one echo; the second close is ignored.
#[test]
fn case_7_1_2_two_closes() {
    both(|role| {
        Case::new("7.1.2", role).then_close().send(|w| {
            w.close(1000, "");
        })
    });
}

/// 7.1.3: a ping after the close → no pong ("unless it already received a Close frame",
/// §5.5.2).
#[test]
fn case_7_1_3_ping_after_close() {
    both(|role| {
        Case::new("7.1.3", role).then_close().send(|w| {
            w.ping("Hello World!");
        })
    });
}

/// 7.1.4: a text message after the close → not echoed (§5.5.1: after the close no
/// more data frames).
#[test]
fn case_7_1_4_text_after_close() {
    both(|role| {
        Case::new("7.1.4", role).then_close().send(|w| {
            w.text("Hello World!");
        })
    });
}

/// 7.1.5: fragment 1, close, fragment 2 → no message, close echoed.
#[test]
fn case_7_1_5_fragment_close_fragment() {
    both(|role| {
        Case::new("7.1.5", role)
            .send(|w| {
                w.frame(TEXT, b"fragment1");
            })
            .then_close()
            .send(|w| {
                w.frame(FIN, b"fragment2");
            })
    });
}

/// 7.1.6: a 256 KiB message, a small one, a close, then a ping: both messages echoed
/// (processed before the close), the close echoed, the ping ignored.
#[test]
fn case_7_1_6_large_message_close_ping() {
    both(|role| {
        let big = crate::harness::repeat(b"BAsd7&jh23", 256 << 10);
        Case::new("7.1.6", role)
            .send(|w| {
                w.text(&big);
                w.text("Hello World!");
            })
            .expect([Ev::text(&big), Ev::text("Hello World!")])
            .then_close()
            .send(|w| {
                w.frame(FIN | PING, b"");
            })
    });
}

/// 7.3.1: an empty close → an empty close in reply (no status code to echo; the event
/// reports 1005, §7.1.5).
#[test]
fn case_7_3_1_empty_close() {
    both(|role| {
        Case::new("7.3.1", role)
            .send(|w| {
                w.close_empty();
            })
            .expect([Ev::close(1005, "")])
    });
}

/// 7.3.2: a 1-byte close payload → 1002.
#[test]
fn case_7_3_2_one_byte_close() {
    both(|role| {
        Case::new("7.3.2", role)
            .send(|w| {
                w.frame(FIN | CLOSE, b"a");
            })
            .fails(ProtocolError::CloseFrameOneByte)
    });
}

/// 7.3.3: close with code 1000 only; 7.3.4: code and reason; 7.3.5: a 123-byte reason
/// (the largest that fits, §5.5) → echoed with the code and the same reason (§5.5.1:
/// the echo "typically echoes the status code it received"; we echo the reason too).
#[test]
fn case_7_3_3_to_7_3_5_close_with_code_and_reason() {
    let long = crate::harness::repeat(b"*", 123);
    for (id, reason) in [
        ("7.3.3", &b""[..]),
        ("7.3.4", b"Hello World!"),
        ("7.3.5", &long),
    ] {
        both(|role| {
            Case::new(id, role)
                .send(|w| {
                    w.close(1000, reason);
                })
                .expect([Ev::close(1000, reason)])
        });
    }
}

/// 7.3.6: a close with a 124-byte reason: payload 126 bytes → 1002 (§5.5).
#[test]
fn case_7_3_6_close_payload_126() {
    both(|role| {
        Case::new("7.3.6", role)
            .send(|w| {
                w.close(1000, crate::harness::repeat(b"*", 124));
            })
            .fails(ProtocolError::ControlFrameTooLarge)
    });
}

/// 7.5.1: a close reason that is not UTF-8 → 1007 (§5.5.1: "the data MUST be UTF-8").
#[test]
fn case_7_5_1_invalid_utf8_reason() {
    both(|role| {
        Case::new("7.5.1", role)
            .send(|w| {
                w.close(
                    1000,
                    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
                );
            })
            .fails(ProtocolError::InvalidCloseReason)
    });
}

/// 7.7.1-7.7.13: each valid code is echoed. 1012-1014 (registered with IANA after the
/// RFC) are accepted too.
#[test]
fn case_7_7_x_valid_codes_echoed() {
    let autobahn = [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ];
    for (i, code) in autobahn.into_iter().chain([1012, 1013, 1014]).enumerate() {
        both(|role| {
            Case::new(&format!("7.7.{} (code {code})", i + 1), role)
                .send(|w| {
                    w.close(code, "");
                })
                .expect([Ev::close(code, "")])
        });
    }
}

/// 7.9.1-7.9.9: codes that may not be sent (§7.4.1, §7.4.2) → 1002; 7.13.1 and 7.13.2:
/// 5000 and 65535, undefined → 1002.
#[test]
fn case_7_9_x_and_7_13_x_invalid_codes() {
    let codes = [
        ("7.9.1", 0),
        ("7.9.2", 999),
        ("7.9.3", 1004),
        ("7.9.4", 1005),
        ("7.9.5", 1006),
        ("7.9.6", 1016),
        ("7.9.7", 1100),
        ("7.9.8", 2000),
        ("7.9.9", 2999),
        ("7.13.1", 5000),
        ("7.13.2", 65535),
        ("1015", 1015),
    ];
    for (id, code) in codes {
        both(|role| {
            Case::new(id, role)
                .send(|w| {
                    w.close(code, "");
                })
                .fails(ProtocolError::InvalidCloseCode(code))
        });
    }
}

// ----- closes we start -----

/// After our own close (Closing), incoming messages are still delivered until the peer's
/// close, which completes the handshake without a second close frame (§7.1.2-§7.1.4). A
/// ping that arrives before the peer's close is still answered: §5.5.2 excuses the pong
/// only once the peer's close was received, not after our own was sent.
#[test]
fn our_close_then_messages_until_peers_close() {
    for role in [Role::Server, Role::Client] {
        let mut conn = connection(role, rfc6455::Config::default());
        conn.close(CloseCode::GOING_AWAY, "bye").unwrap();
        assert_eq!(conn.state(), ConnectionState::Closing);
        let mut ours = Wire::sent_by(role);
        ours.close(1001, "bye");
        assert_eq!(conn.take_outgoing(), ours.bytes);

        let mut w = Wire::peer_of(role);
        w.text("late")
            .ping("p")
            .binary([1])
            .close(1000, "ok")
            .text("after");
        for chunking in [Chunking::Whole, Chunking::Fixed(1)] {
            let mut conn = connection(role, rfc6455::Config::default());
            conn.close(CloseCode::GOING_AWAY, "bye").unwrap();
            let _ = conn.take_outgoing();
            let run = drive(&mut conn, &chunking.split(&w.bytes), false, true);
            assert_eq!(
                run.events,
                vec![
                    Ev::text("late"),
                    Ev::ping("p"),
                    Ev::binary([1]),
                    Ev::close(1000, "ok"),
                ],
                "{role:?} {chunking:?}"
            );
            assert_eq!(run.error, None);
            let mut expected = Wire::sent_by(role);
            expected.close(1001, "bye");
            let _ = expected.take(); // the close already taken above
            expected.pong("p");
            assert_eq!(
                run.output, expected.bytes,
                "the pong for the ping (§5.5.2), no echo, no second close"
            );
            assert_eq!(conn.state(), ConnectionState::Closed);
            // §7.1.1: the server closes TCP first; the client waits for it.
            assert_eq!(conn.should_close_transport(), role == Role::Server);
            conn.receive_eof();
            assert_eq!(conn.next_event(), Ok(None));
            assert!(conn.should_close_transport());
        }
    }
}

/// After our close, a protocol error from the peer is still returned once, but no second
/// close frame is sent.
#[test]
fn error_after_our_close_sends_nothing() {
    for role in [Role::Server, Role::Client] {
        let mut w = Wire::peer_of(role);
        w.text("late").frame(FIN | 0x3, b"").text("ignored");
        for chunking in Chunking::standard(w.bytes.len()) {
            let mut conn = connection(role, rfc6455::Config::default());
            conn.close(CloseCode::NORMAL, "").unwrap();
            let _ = conn.take_outgoing();
            let run = drive(&mut conn, &chunking.split(&w.bytes), false, true);
            assert_eq!(run.events, vec![Ev::text("late")], "{role:?} {chunking:?}");
            assert_eq!(run.error, Some(ProtocolError::ReservedOpcode(3)));
            assert_eq!(run.output, Vec::<u8>::new(), "{role:?} {chunking:?}");
            assert_eq!(conn.state(), ConnectionState::Closed);
            assert!(conn.should_close_transport());
        }
    }
}

/// The end of stream after the close handshake is clean; before it, it is 1006 and
/// nothing more is sent (§7.1.5, §7.4.1).
#[test]
fn end_of_stream_after_and_before_close() {
    both(|role| Case::new("eof after close", role).then_close().eof());
    both(|role| {
        Case::new("eof before close", role)
            .send(|w| {
                w.text("Hello World!");
                w.ping("p");
            })
            .expect([Ev::text("Hello World!"), Ev::ping("p")])
            .eof()
            .fails(ProtocolError::UnexpectedEof)
    });
}
