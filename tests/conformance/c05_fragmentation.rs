//! Autobahn 5.x: fragmentation (§5.4). Control frames "MUST NOT be fragmented" (§5.5) but
//! "MAY be injected in the middle of a fragmented message"; a continuation needs a
//! message to continue, and a new data frame may not start inside one → 1002.

use rfc6455::{ProtocolError, Role};

use crate::harness::{BINARY, CONT, Case, Chunking, Ev, FIN, PING, PONG, TEXT, both};

/// 5.1: ping in 2 fragments → 1002.
#[test]
fn case_5_1_fragmented_ping() {
    both(|role| {
        Case::new("5.1", role)
            .send(|w| {
                w.frame(PING, b"fragment1");
                w.frame(FIN | CONT, b"fragment2");
            })
            .fails(ProtocolError::FragmentedControlFrame)
    });
}

/// 5.2: pong in 2 fragments → 1002.
#[test]
fn case_5_2_fragmented_pong() {
    both(|role| {
        Case::new("5.2", role)
            .send(|w| {
                w.frame(PONG, b"fragment1");
                w.frame(FIN | CONT, b"fragment2");
            })
            .fails(ProtocolError::FragmentedControlFrame)
    });
}

fn two_fragments(id: &str, role: Role) -> Case {
    Case::new(id, role)
        .send(|w| {
            w.frame(TEXT, b"fragment1");
            w.frame(FIN | CONT, b"fragment2");
        })
        .expect([Ev::text("fragment1fragment2")])
        .then_close()
}

/// 5.3: text in 2 fragments → echoed whole; 5.4: octet-wise; 5.5: frame-wise chops.
#[test]
fn case_5_3_to_5_5_text_in_two_fragments() {
    both(|role| two_fragments("5.3", role).chunkings(vec![Chunking::Whole]));
    both(|role| two_fragments("5.4", role).chunkings(vec![Chunking::Fixed(1)]));
    both(|role| two_fragments("5.5", role));
}

fn fragments_with_ping(id: &str, role: Role) -> Case {
    Case::new(id, role)
        .send(|w| {
            w.frame(TEXT, b"fragment1");
            w.ping(b"ping payload");
            w.frame(FIN | CONT, b"fragment2");
        })
        // The pong goes out before the echo (Autobahn compares the order).
        .expect([Ev::ping("ping payload"), Ev::text("fragment1fragment2")])
        .then_close()
}

/// 5.6: text in 2 fragments with a ping in between → pong, then the echo; 5.7:
/// octet-wise; 5.8: frame-wise.
#[test]
fn case_5_6_to_5_8_ping_between_fragments() {
    both(|role| fragments_with_ping("5.6", role).chunkings(vec![Chunking::Whole]));
    both(|role| fragments_with_ping("5.7", role).chunkings(vec![Chunking::Fixed(1)]));
    both(|role| fragments_with_ping("5.8", role));
}

/// 5.9: a continuation with FIN set and nothing to continue, then a text message → 1002
/// at the continuation; 5.10 frame-wise, 5.11 octet-wise.
#[test]
fn case_5_9_to_5_11_continuation_without_message() {
    for id in ["5.9", "5.10", "5.11"] {
        both(|role| {
            Case::new(id, role)
                .send(|w| {
                    w.frame(FIN | CONT, b"non-continuation payload");
                    w.text("Hello, world!");
                })
                .fails(ProtocolError::UnexpectedContinuation)
        });
    }
}

/// 5.12-5.14: the same with FIN clear on the stray continuation.
#[test]
fn case_5_12_to_5_14_continuation_fin_clear_without_message() {
    for id in ["5.12", "5.13", "5.14"] {
        both(|role| {
            Case::new(id, role)
                .send(|w| {
                    w.frame(CONT, b"non-continuation payload");
                    w.text("Hello, world!");
                })
                .fails(ProtocolError::UnexpectedContinuation)
        });
    }
}

/// 5.15: text in 2 fragments (echoed), then a continuation with FIN clear and nothing to
/// continue → 1002, then a text message (ignored).
#[test]
fn case_5_15_stray_continuation_after_message() {
    both(|role| {
        Case::new("5.15", role)
            .send(|w| {
                w.frame(TEXT, b"fragment1");
                w.frame(FIN | CONT, b"fragment2");
                w.frame(CONT, b"fragment3");
                w.frame(FIN | TEXT, b"fragment4");
            })
            .expect([Ev::text("fragment1fragment2")])
            .fails(ProtocolError::UnexpectedContinuation)
    });
}

/// 5.16: repeated twice: continuation (FIN clear, nothing to continue), text fragment,
/// continuation (FIN set) → 1002 at the first frame. 5.17: the same with FIN set on the
/// first continuation.
#[test]
fn case_5_16_and_5_17_repeated_bad_sequence() {
    for (id, first_fin) in [("5.16", 0), ("5.17", FIN)] {
        both(|role| {
            Case::new(id, role)
                .send(|w| {
                    for _ in 0..2 {
                        w.frame(first_fin | CONT, b"fragment1");
                        w.frame(TEXT, b"fragment2");
                        w.frame(FIN | CONT, b"fragment3");
                    }
                })
                .fails(ProtocolError::UnexpectedContinuation)
        });
    }
}

/// 5.18: text in 2 fragments, both with opcode text → 1002 at the second ("the
/// fragments of one message MUST NOT be interleaved", §5.4).
#[test]
fn case_5_18_two_text_opcodes() {
    both(|role| {
        Case::new("5.18", role)
            .send(|w| {
                w.frame(TEXT, b"fragment1");
                w.frame(FIN | TEXT, b"fragment2");
            })
            .fails(ProtocolError::ExpectedContinuation)
    });
}

fn five_fragments_two_pings(id: &str, role: Role) -> Case {
    Case::new(id, role)
        .send(|w| {
            w.frame(TEXT, b"fragment1");
            w.frame(CONT, b"fragment2");
            w.ping(b"pongme 1!");
            w.frame(CONT, b"fragment3");
            w.frame(CONT, b"fragment4");
            w.ping(b"pongme 2!");
            w.frame(FIN | CONT, b"fragment5");
        })
        .expect([
            Ev::ping("pongme 1!"),
            Ev::ping("pongme 2!"),
            Ev::text("fragment1fragment2fragment3fragment4fragment5"),
        ])
        .then_close()
}

/// 5.19 and 5.20: a text message in 5 fragments with pings after the 2nd and 4th: both
/// pongs, then the echo. The "wait 1 s" between parts is a chunk boundary here: the first
/// pong is already out before the rest of the message arrives.
#[test]
fn case_5_19_and_5_20_pings_between_five_fragments() {
    both(|role| five_fragments_two_pings("5.19", role));
    both(|role| five_fragments_two_pings("5.20", role));
}

#[test]
fn case_5_19_first_pong_is_sent_before_the_message_ends() {
    for role in [Role::Server, Role::Client] {
        let case = five_fragments_two_pings("5.19 split", role);
        let input = case.input.bytes.clone();
        // The first part ends after the first ping frame.
        let mut first = crate::harness::Wire::peer_of(role);
        first.frame(TEXT, b"fragment1");
        first.frame(CONT, b"fragment2");
        first.ping(b"pongme 1!");
        let split = first.bytes.len();
        let mut conn = crate::harness::connection(role, case.config);
        conn.receive(&input[..split]);
        assert_eq!(
            conn.next_event().unwrap().map(Ev::from_event),
            Some(Ev::ping("pongme 1!"))
        );
        assert_eq!(conn.next_event(), Ok(None));
        let mut pong = crate::harness::Wire::sent_by(role);
        pong.frame(FIN | PONG, b"pongme 1!");
        assert_eq!(conn.take_outgoing(), pong.bytes);
    }
}

/// Binary messages reassemble the same way, with empty fragments anywhere.
#[test]
fn binary_in_many_fragments_with_empty_ones() {
    both(|role| {
        Case::new("binary fragments", role)
            .send(|w| {
                w.frame(BINARY, b"");
                w.frame(CONT, &[1, 2, 3]);
                w.frame(CONT, b"");
                w.pong(b"x");
                w.frame(FIN | CONT, &[4]);
            })
            .expect([Ev::pong("x"), Ev::binary([1, 2, 3, 4])])
            .then_close()
    });
}

/// A close in the middle of a fragmented message ends the connection; the partial message
/// is dropped (Autobahn 7.1.5 checks the same).
#[test]
fn close_mid_message_drops_partial_message() {
    both(|role| {
        Case::new("close mid-message", role)
            .send(|w| {
                w.frame(TEXT, b"fragment1");
            })
            .then_close()
            .send(|w| {
                w.frame(FIN | CONT, b"fragment2");
            })
    });
}
