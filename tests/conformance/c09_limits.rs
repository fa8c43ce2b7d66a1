//! Autobahn 9.x: large messages, single-frame and fragmented, echoed byte-exact (scaled:
//! up to the default 16 MiB frame limit, 4 MiB fragmented), and the limits that protect
//! memory: a frame over `max_frame_size` or a message over `max_message_size` fails with
//! 1009 (§7.4.1) as soon as the header announcing it arrives.

use rfc6455::{Config, ProtocolError, Role};

use crate::harness::{
    BINARY, CONT, Case, Chunking, Ev, FIN, TEXT, Wire, both, connection, drive, quick,
};

/// The largest single-frame case: 16 MiB, or 1 MiB in [`quick`] runs.
fn largest() -> usize {
    if quick() { 1 << 20 } else { 16 << 20 }
}

/// The chopped messages' size (9.5.x, 9.6.x): 1 MiB, or 64 KiB in [`quick`] runs.
fn chopped_len() -> usize {
    if quick() { 64 << 10 } else { 1 << 20 }
}

/// How many messages 9.7.x and 9.8.x send: 1000, or 100 in [`quick`] runs.
fn many_messages() -> usize {
    if quick() { 100 } else { 1000 }
}

/// The fragmented messages' size: 4 MiB, or 256 KiB in [`quick`] runs.
fn fragmented_len() -> usize {
    if quick() { 256 << 10 } else { 4 << 20 }
}

/// Valid UTF-8 of exactly `len` bytes, with 2-, 3- and 4-byte code points that large
/// reads and fragments cut through.
fn text_of(len: usize) -> Vec<u8> {
    let pattern = "BAsd7&jh23 κόσμε € 𐍈 ";
    // Whole patterns, padded with ASCII.
    let mut t = pattern.repeat(len / pattern.len()).into_bytes();
    t.resize(len, b'*');
    t
}

fn binary_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + (i >> 11)) as u8).collect()
}

fn single_frame(id: &str, role: Role, opcode: u8, len: usize) -> Case {
    let payload = if opcode == TEXT {
        text_of(len)
    } else {
        binary_of(len)
    };
    let ev = if opcode == TEXT {
        Ev::text(&payload)
    } else {
        Ev::binary(&payload)
    };
    let case = Case::new(id, role)
        .send(|w| {
            w.frame(FIN | opcode, &payload);
        })
        .expect([ev])
        .then_close();
    // Large texts are slow to validate in a debug build: fewer chunkings for them.
    let random = Chunking::Random {
        seed: 6,
        max: 1 << 20,
    };
    if len > 4 << 20 {
        case.chunkings(vec![random])
    } else if len > 1 << 20 {
        case.chunkings(vec![Chunking::Whole, random])
    } else {
        case
    }
}

/// 9.1.1-9.1.6: text of 64 KiB, 256 KiB, 1 MiB, 4 MiB, 8 MiB and 16 MiB in one frame
/// (16 MiB is the default `max_frame_size`). 8 MiB is left out to keep the suite fast.
#[test]
fn case_9_1_x_large_text_single_frame() {
    for (id, len) in [
        ("9.1.1", 64 << 10),
        ("9.1.2", 256 << 10),
        ("9.1.3", 1 << 20),
        ("9.1.4", 4 << 20),
        ("9.1.6", 16 << 20),
    ] {
        if len > largest() {
            continue;
        }
        let role = if len > 1 << 20 {
            vec![Role::Server]
        } else {
            vec![Role::Server, Role::Client]
        };
        for role in role {
            single_frame(id, role, TEXT, len).check();
        }
    }
}

/// 9.2.1-9.2.6: the same with binary.
#[test]
fn case_9_2_x_large_binary_single_frame() {
    for (id, len) in [
        ("9.2.1", 64 << 10),
        ("9.2.2", 256 << 10),
        ("9.2.3", 1 << 20),
        ("9.2.4", 4 << 20),
        ("9.2.6", 16 << 20),
    ] {
        if len > largest() {
            continue;
        }
        let role = if len > 1 << 20 {
            vec![Role::Server]
        } else {
            vec![Role::Server, Role::Client]
        };
        for role in role {
            single_frame(id, role, BINARY, len).check();
        }
    }
}

fn fragmented(id: &str, role: Role, opcode: u8, len: usize, frame: usize) -> Case {
    let payload = if opcode == TEXT {
        text_of(len)
    } else {
        binary_of(len)
    };
    let ev = if opcode == TEXT {
        Ev::text(&payload)
    } else {
        Ev::binary(&payload)
    };
    Case::new(id, role)
        .send(|w| {
            w.message(opcode, &payload, frame);
        })
        .expect([ev])
        .then_close()
        // One chunking: independence from chunking is checked by the cases above.
        .chunkings(vec![Chunking::Random {
            seed: 5,
            max: 100_000,
        }])
}

const FRAGMENT_SIZES: [(u32, usize); 9] = [
    (1, 64),
    (2, 256),
    (3, 1 << 10),
    (4, 4 << 10),
    (5, 16 << 10),
    (6, 64 << 10),
    (7, 256 << 10),
    (8, 1 << 20),
    (9, 4 << 20),
];

/// 9.3.1-9.3.9: a 4 MiB text message in fragments of 64 B to 4 MiB (every other size,
/// to keep the debug build fast; 9.4.x runs them all).
#[test]
fn case_9_3_x_4mib_text_fragmented() {
    for (n, frame) in FRAGMENT_SIZES.into_iter().step_by(2) {
        fragmented(
            &format!("9.3.{n}"),
            Role::Server,
            TEXT,
            fragmented_len(),
            frame,
        )
        .check();
    }
}

/// 9.4.1-9.4.9: a 4 MiB binary message in fragments of 64 B to 4 MiB.
#[test]
fn case_9_4_x_4mib_binary_fragmented() {
    for (n, frame) in FRAGMENT_SIZES {
        fragmented(
            &format!("9.4.{n}"),
            Role::Server,
            BINARY,
            fragmented_len(),
            frame,
        )
        .check();
    }
}

/// 9.3.x and 9.4.x scaled down for the client role: 256 KiB in 64 B, 4 KiB and 64 KiB
/// fragments.
#[test]
fn case_9_3_and_9_4_client_scaled() {
    for frame in [64, 4 << 10, 64 << 10] {
        fragmented("9.3 scaled", Role::Client, TEXT, 256 << 10, frame).check();
        fragmented("9.4 scaled", Role::Client, BINARY, 256 << 10, frame).check();
    }
}

/// 9.5.1-9.5.6 (text) and 9.6.1-9.6.6 (binary): a 1 MiB message in one frame, sent in
/// chops of 64 B to 2 KiB.
#[test]
fn case_9_5_x_and_9_6_x_chopped() {
    for (n, chop) in [(1, 64), (2, 128), (3, 256), (4, 512), (5, 1024), (6, 2048)] {
        single_frame(&format!("9.5.{n}"), Role::Server, TEXT, chopped_len())
            .chunkings(vec![Chunking::Fixed(chop)])
            .check();
        single_frame(&format!("9.6.{n}"), Role::Server, BINARY, chopped_len())
            .chunkings(vec![Chunking::Fixed(chop)])
            .check();
    }
}

/// 9.7.1-9.7.6 (text) and 9.8.1-9.8.6 (binary): 1000 messages of 0 B to 4 KiB, each
/// echoed, in order.
#[test]
fn case_9_7_x_and_9_8_x_many_messages() {
    for (n, len) in [
        (1, 0),
        (2, 16),
        (3, 64),
        (4, 256),
        (5, 1 << 10),
        (6, 4 << 10),
    ] {
        for (cat, opcode) in [(7, TEXT), (8, BINARY)] {
            both(|role| {
                let payload = if opcode == TEXT {
                    text_of(len)
                } else {
                    binary_of(len)
                };
                let ev = if opcode == TEXT {
                    Ev::text(&payload)
                } else {
                    Ev::binary(&payload)
                };
                let mut case = Case::new(&format!("9.{cat}.{n}"), role);
                for _ in 0..many_messages() {
                    case = case
                        .send(|w| {
                            w.frame(FIN | opcode, &payload);
                        })
                        .expect([ev.clone()]);
                }
                let random = Chunking::Random { seed: 7, max: 3000 };
                case.then_close()
                    .chunkings(if opcode == TEXT && len >= 1 << 10 {
                        vec![random]
                    } else {
                        vec![Chunking::Whole, random]
                    })
            });
        }
    }
}

// ----- limits -----

/// A frame announcing more than `max_frame_size` fails with 1009 as soon as its header
/// arrives, before any payload (and before memory is reserved for it).
#[test]
fn frame_over_max_frame_size_fails_at_header() {
    let config = Config::default().max_frame_size(1000);
    both(|role| {
        Case::new("frame 1001 > 1000", role)
            .config(config)
            .send(|w| {
                w.binary(vec![0; 1000]);
                w.frame_with_len(FIN | BINARY, b"", 1001);
            })
            .expect([Ev::binary(vec![0; 1000])])
            .fails(ProtocolError::FrameTooLarge {
                len: 1001,
                max: 1000,
            })
    });
    // The default limit: one byte over 16 MiB, and a 2^62-byte frame, cost nothing.
    for len in [(16 << 20) + 1, 1 << 62] {
        both(|role| {
            Case::new("frame over 16 MiB", role)
                .send(|w| {
                    w.frame_with_len(FIN | TEXT, b"", len);
                })
                .fails(ProtocolError::FrameTooLarge { len, max: 16 << 20 })
        });
    }
}

/// §5.2: a 64-bit length with the top bit set → 1002; a length not in its minimal
/// encoding → 1002.
#[test]
fn bad_length_encodings_fail() {
    for role in [Role::Server, Role::Client] {
        let masked = if role == Role::Server { 0x80 } else { 0 };
        let mut top = vec![FIN | BINARY, masked | 127];
        top.extend_from_slice(&(1u64 << 63).to_be_bytes());
        let non_minimal_16 = vec![FIN | BINARY, masked | 126, 0, 125];
        let mut non_minimal_64 = vec![FIN | BINARY, masked | 127];
        non_minimal_64.extend_from_slice(&0xFFFFu64.to_be_bytes());
        for (input, error) in [
            (top, ProtocolError::LengthTopBitSet),
            (non_minimal_16, ProtocolError::NonMinimalLength),
            (non_minimal_64, ProtocolError::NonMinimalLength),
        ] {
            Case::new("bad length", role)
                .send(|w| {
                    w.raw(&input);
                })
                .fails(error)
                .check();
        }
    }
}

/// A message over `max_message_size`, summed over its fragments, fails with 1009 at the
/// header of the fragment that takes it over, before that fragment's payload arrives.
#[test]
fn message_over_max_message_size_fails_at_fragment_header() {
    let config = Config::default().max_message_size(100);
    both(|role| {
        Case::new("message 101 > 100", role)
            .config(config)
            .send(|w| {
                // A whole message of exactly the limit is fine.
                w.message(BINARY, &[7; 100], 30);
                w.frame(BINARY, &[1; 60]);
                w.frame(CONT, &[2; 40]);
                w.frame_with_len(FIN | CONT, b"", 1);
            })
            .expect([Ev::binary([7; 100])])
            .fails(ProtocolError::MessageTooLarge { max: 100 })
    });
    // A single frame over the message limit fails the same way.
    both(|role| {
        Case::new("single frame 101 > 100", role)
            .config(config)
            .send(|w| {
                w.frame_with_len(FIN | TEXT, b"", 101);
            })
            .fails(ProtocolError::MessageTooLarge { max: 100 })
    });
    // Control frames between fragments do not count.
    both(|role| {
        Case::new("pings do not count", role)
            .config(config)
            .send(|w| {
                w.frame(TEXT, &[b'a'; 50]);
                w.ping([0; 125]);
                w.frame(FIN | CONT, &[b'b'; 50]);
            })
            .expect([
                Ev::ping([0; 125]),
                Ev::text([&[b'a'; 50][..], &[b'b'; 50]].concat()),
            ])
            .then_close()
    });
}

/// The error comes with the header alone: the payload never has to arrive.
#[test]
fn limit_errors_need_only_the_header() {
    for role in [Role::Server, Role::Client] {
        let config = Config::default().max_frame_size(10).max_message_size(15);
        let mut w = Wire::peer_of(role);
        w.frame(BINARY, &[0; 10]);
        w.frame_with_len(FIN | CONT, b"", 10);
        let input = w.take();
        let mut conn = connection(role, config);
        let run = drive(&mut conn, &[&input], false, true);
        assert_eq!(run.error, Some(ProtocolError::MessageTooLarge { max: 15 }));
        let mut close = Wire::sent_by(role);
        close.close(1009, "");
        assert_eq!(run.output, close.bytes);
    }
}

/// `stream_fragments` reassembles nothing, so `max_message_size` does not apply; the
/// frame limit still does.
#[test]
fn stream_fragments_ignores_message_limit() {
    let config = Config::default()
        .max_message_size(10)
        .max_frame_size(20)
        .stream_fragments(true);
    for role in [Role::Server, Role::Client] {
        let mut w = Wire::peer_of(role);
        w.frame(BINARY, &[1; 20]).frame(FIN | CONT, &[2; 20]);
        w.frame_with_len(FIN | BINARY, b"", 21);
        let mut conn = connection(role, config);
        let run = drive(&mut conn, &[&w.bytes], false, false);
        use rfc6455::MessageKind::Binary;
        assert_eq!(
            run.events,
            vec![
                Ev::fragment(Binary, [1; 20], true, false),
                Ev::fragment(Binary, [2; 20], false, true),
            ]
        );
        assert_eq!(
            run.error,
            Some(ProtocolError::FrameTooLarge { len: 21, max: 20 })
        );
    }
}
