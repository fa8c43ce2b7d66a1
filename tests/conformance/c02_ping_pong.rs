//! Autobahn 2.x: pings are answered by pongs with the identical payload (§5.5.2), pongs
//! need no answer (§5.5.3), control payloads are at most 125 bytes (§5.5).

use rfc6455::{Config, ProtocolError};

use crate::harness::{Case, Chunking, Ev, both, repeat};

fn ping_echo(id: &str, payload: &[u8]) {
    both(|role| {
        Case::new(id, role)
            .send(|w| {
                w.ping(payload);
            })
            .expect([Ev::ping(payload)])
            .then_close()
    });
}

/// 2.1: ping without payload → pong without payload.
#[test]
fn case_2_1_empty_ping() {
    ping_echo("2.1", b"");
}

/// 2.2: ping with a small text payload.
#[test]
fn case_2_2_text_ping() {
    ping_echo("2.2", b"Hello, world!");
}

/// 2.3: ping with a small binary payload.
#[test]
fn case_2_3_binary_ping() {
    ping_echo("2.3", &[0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
}

/// 2.4: ping with the largest control payload, 125 bytes (§5.5).
#[test]
fn case_2_4_ping_125() {
    ping_echo("2.4", &repeat(&[0xfe], 125));
}

/// 2.5: ping with 126 bytes: "All control frames MUST have a payload length of 125 bytes
/// or less" (§5.5) → 1002, no pong.
#[test]
fn case_2_5_ping_126_fails() {
    both(|role| {
        Case::new("2.5", role)
            .send(|w| {
                w.ping(repeat(&[0xfe], 126));
                w.close(1000, "");
            })
            .fails(ProtocolError::ControlFrameTooLarge)
    });
}

/// 2.6: ping with 125 bytes sent one octet at a time.
#[test]
fn case_2_6_ping_125_octetwise() {
    both(|role| {
        let payload = repeat(b"\xfe", 125);
        Case::new("2.6", role)
            .send(|w| {
                w.ping(&payload);
            })
            .expect([Ev::ping(&payload)])
            .then_close()
            .chunkings(vec![Chunking::Fixed(1)])
    });
}

/// 2.7: unsolicited pong without payload → nothing (§5.5.3: "A Pong frame MAY be sent
/// unsolicited"; "A response to an unsolicited Pong frame is not expected").
#[test]
fn case_2_7_unsolicited_empty_pong() {
    both(|role| {
        Case::new("2.7", role)
            .send(|w| {
                w.pong(b"");
            })
            .expect([Ev::pong(b"")])
            .then_close()
    });
}

/// 2.8: unsolicited pong with payload → nothing.
#[test]
fn case_2_8_unsolicited_pong() {
    both(|role| {
        Case::new("2.8", role)
            .send(|w| {
                w.pong(b"unsolicited pong payload");
            })
            .expect([Ev::pong(b"unsolicited pong payload")])
            .then_close()
    });
}

/// 2.9: unsolicited pong, then ping → exactly one pong, for the ping.
#[test]
fn case_2_9_pong_then_ping() {
    both(|role| {
        Case::new("2.9", role)
            .send(|w| {
                w.pong(b"unsolicited pong payload");
                w.ping(b"ping payload");
            })
            .expect([
                Ev::pong(b"unsolicited pong payload"),
                Ev::ping(b"ping payload"),
            ])
            .then_close()
    });
}

fn ten_pings(id: &str, chunkings: Option<Vec<Chunking>>) {
    both(|role| {
        let mut case = Case::new(id, role);
        for i in 0..10 {
            let payload = format!("payload-{i}");
            case = case
                .send(|w| {
                    w.ping(&payload);
                })
                .expect([Ev::ping(&payload)]);
        }
        let case = case.then_close();
        match &chunkings {
            Some(c) => case.chunkings(c.clone()),
            None => case,
        }
    });
}

/// 2.10: 10 pings sent in one batch → 10 pongs, in order, each with its payload. Autobahn
/// requires all ten, so the default `max_pending_pongs` must be at least 10.
#[test]
fn case_2_10_ten_pings_in_one_batch() {
    assert!(Config::default().max_pending_pongs >= 10);
    ten_pings("2.10", Some(vec![Chunking::Whole]));
}

/// 2.11: 10 pings sent octet-wise ("slowly") → 10 pongs.
#[test]
fn case_2_11_ten_pings_octetwise() {
    ten_pings("2.11", None);
}

/// A ping between two messages: its pong goes out between their echoes, in the order the
/// frames arrived, however the bytes were chunked.
#[test]
fn pong_keeps_its_place_between_echoes() {
    both(|role| {
        Case::new("ping between messages", role)
            .send(|w| {
                w.text("one");
                w.ping("p");
                w.text("two");
            })
            .expect([Ev::text("one"), Ev::ping("p"), Ev::text("two")])
            .then_close()
    });
}

/// With `auto_pong` off the ping is reported and nothing is sent.
#[test]
fn no_auto_pong_when_disabled() {
    both(|role| {
        Case::new("auto_pong off", role)
            .config(Config::default().auto_pong(false))
            .send(|w| {
                w.ping("p");
            })
            .expect([Ev::ping("p")])
            .then_close()
    });
}
