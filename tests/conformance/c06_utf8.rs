//! Autobahn 6.x: text must be valid UTF-8 (§5.6, §8.1: "When an endpoint is to interpret
//! a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8
//! stream, that endpoint MUST _Fail the WebSocket Connection_") → 1007, as soon as the
//! invalid bytes arrive (fail fast, 6.4.x); valid text is echoed however it is
//! fragmented.

use rfc6455::{ProtocolError, Role};

use crate::harness::{CONT, Case, Chunking, Ev, FIN, TEXT, Wire, both, connection, drive};

const KOSME: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";

fn text_case(id: &str, role: Role, payload: &[u8], valid: bool) -> Case {
    let case = Case::new(id, role).send(|w| {
        w.text(payload);
    });
    if valid {
        case.expect([Ev::text(payload)]).then_close()
    } else {
        case.send(|w| {
            w.close(1000, "");
        })
        .fails(ProtocolError::InvalidUtf8)
    }
}

/// 6.1.1: an empty text message.
#[test]
fn case_6_1_1_empty() {
    both(|role| text_case("6.1.1", role, b"", true));
}

/// 6.1.2: a text message in 3 empty fragments; 6.1.3: empty, non-empty, empty.
#[test]
fn case_6_1_2_and_6_1_3_empty_fragments() {
    both(|role| {
        Case::new("6.1.2", role)
            .send(|w| {
                w.frame(TEXT, b"").frame(CONT, b"").frame(FIN | CONT, b"");
            })
            .expect([Ev::text("")])
            .then_close()
    });
    both(|role| {
        Case::new("6.1.3", role)
            .send(|w| {
                w.frame(TEXT, b"")
                    .frame(CONT, b"middle frame payload")
                    .frame(FIN | CONT, b"");
            })
            .expect([Ev::text("middle frame payload")])
            .then_close()
    });
}

const HELLO: &str = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}\u{fc}\u{e0}\u{e1}-UTF-8!!";

fn fragmented(id: &str, role: Role, payload: &[u8], cuts: &[usize]) -> Case {
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([&payload.len()]) {
        pieces.push(&payload[start..cut]);
        start = cut;
    }
    Case::new(id, role)
        .send(|w| {
            let last = pieces.len() - 1;
            for (i, piece) in pieces.iter().enumerate() {
                let op = if i == 0 { TEXT } else { CONT };
                let fin = if i == last { FIN } else { 0 };
                w.frame(fin | op, piece);
            }
        })
        .expect([Ev::text(payload)])
        .then_close()
}

/// 6.2.1: valid UTF-8 in one frame; 6.2.2: in two fragments split on a code point
/// boundary; 6.2.3 and 6.2.4: in 1-byte fragments, most ending inside a code point.
#[test]
fn case_6_2_x_valid_text_fragmented() {
    both(|role| text_case("6.2.1", role, HELLO.as_bytes(), true));
    both(|role| fragmented("6.2.2", role, HELLO.as_bytes(), &[12]));
    let every: Vec<usize> = (1..HELLO.len()).collect();
    both(|role| fragmented("6.2.3", role, HELLO.as_bytes(), &every));
    let every: Vec<usize> = (1..KOSME.len()).collect();
    both(|role| fragmented("6.2.4", role, KOSME, &every));
}

/// A valid text split into two fragments at every byte position, inside code points of
/// each length (1-4 bytes) included.
#[test]
fn valid_text_split_at_every_position() {
    let text = "a\u{3ba}\u{1f79}\u{10348}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}z";
    for cut in 0..=text.len() {
        both(|role| {
            fragmented(&format!("split at {cut}"), role, text.as_bytes(), &[cut])
                .chunkings(vec![Chunking::Whole, Chunking::Fixed(1)])
        });
    }
}

const INVALID_KOSME: &[u8] =
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64";

/// 6.3.1: invalid UTF-8 (a surrogate, ED A0 80) in one frame → 1007; 6.3.2: the same in
/// 1-byte fragments, failing at the fragment with 0xA0.
#[test]
fn case_6_3_x_invalid_text() {
    both(|role| text_case("6.3.1", role, INVALID_KOSME, false));
    both(|role| {
        Case::new("6.3.2", role)
            .send(|w| {
                let last = INVALID_KOSME.len() - 1;
                for (i, b) in INVALID_KOSME.iter().enumerate() {
                    let op = if i == 0 { TEXT } else { CONT };
                    w.frame(if i == last { FIN | op } else { op }, &[*b]);
                }
            })
            .fails(ProtocolError::InvalidUtf8)
    });
}

// ----- 6.4.x: fail fast -----

const PAYLOAD: &[u8] =
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64";

/// Feeds `parts` as separate reads and checks that the connection fails with 1007 right
/// after part 1 (the one with the invalid bytes), with nothing before it.
fn fails_at_second_part(id: &str, role: Role, parts: &[Vec<u8>]) {
    let mut conn = connection(role, rfc6455::Config::default());
    let chunks: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let run = drive(&mut conn, &chunks, false, true);
    assert_eq!(run.events, vec![], "{id} {role:?}");
    assert_eq!(run.error, Some(ProtocolError::InvalidUtf8), "{id} {role:?}");
    assert_eq!(run.error_chunk, Some(1), "{id} {role:?}: fails fast");
    let mut close = Wire::sent_by(role);
    close.close(1007, "");
    assert_eq!(run.output, close.bytes, "{id} {role:?}");
}

/// 6.4.1: 3 fragments: κόσμε | F4 90 80 80 (U+110000, out of range) | "edited" → 1007 on
/// the 2nd fragment, before the 3rd arrives. 6.4.2: the 2nd fragment is just the byte
/// 0x90 that makes F4 invalid.
#[test]
fn case_6_4_1_and_6_4_2_fail_fast_on_fragment() {
    for (id, cuts) in [("6.4.1", [11, 15]), ("6.4.2", [12, 13])] {
        for role in [Role::Server, Role::Client] {
            let mut w = Wire::peer_of(role);
            let mut parts = Vec::new();
            w.frame(TEXT, &PAYLOAD[..cuts[0]]);
            parts.push(w.take());
            w.frame(CONT, &PAYLOAD[cuts[0]..cuts[1]]);
            parts.push(w.take());
            w.frame(FIN | CONT, &PAYLOAD[cuts[1]..]);
            parts.push(w.take());
            fails_at_second_part(id, role, &parts);
            // And under every standard chunking, the same result.
            Case::new(id, role)
                .send(|w| {
                    w.raw(&parts.concat());
                })
                .fails(ProtocolError::InvalidUtf8)
                .check();
        }
    }
}

/// 6.4.3 and 6.4.4: the same payloads in ONE frame whose payload arrives in 3 reads: the
/// connection fails after the read with the invalid bytes, before the frame is complete.
#[test]
fn case_6_4_3_and_6_4_4_fail_fast_inside_a_frame() {
    for (id, cuts) in [("6.4.3", [11, 15]), ("6.4.4", [12, 13])] {
        for role in [Role::Server, Role::Client] {
            let mut w = Wire::peer_of(role);
            w.text(PAYLOAD);
            let frame = w.take();
            let header = frame.len() - PAYLOAD.len();
            let parts = vec![
                frame[..header + cuts[0]].to_vec(),
                frame[header + cuts[0]..header + cuts[1]].to_vec(),
                frame[header + cuts[1]..].to_vec(),
            ];
            fails_at_second_part(id, role, &parts);
            Case::new(id, role)
                .send(|w| {
                    w.raw(&frame);
                })
                .fails(ProtocolError::InvalidUtf8)
                .check();
        }
    }
}

// ----- 6.5-6.23: the UTF-8 decoder test sequences, one frame each -----

/// The sequences of Autobahn's `createUtf8TestSequences` (from Markus Kuhn's
/// UTF-8-test.txt), numbered as Autobahn numbers them: 6.5.x, 6.6.x, ... in order.
/// A group of Autobahn's UTF-8 cases: its name and (valid, payload) per case.
type Group = (&'static str, Vec<(bool, Vec<u8>)>);

fn utf8_sequences() -> Vec<Group> {
    let v = |s: &[u8]| (true, s.to_vec());
    let x = |s: &[u8]| (false, s.to_vec());
    let mut all = Vec::new();
    all.push((
        "some valid UTF-8 sequences",
        vec![
            v(b"hello\x24world"),
            v(b"hello\xc2\xa2world"),
            v(b"hello\xe2\x82\xacworld"),
            v(b"hello\xf0\xa4\xad\xa2world"),
            v(KOSME),
        ],
    ));
    // Valid exactly when the prefix ends on a code point boundary.
    let boundaries = [2, 5, 7, 9, 11];
    all.push((
        "all prefixes of a valid UTF-8 string",
        (1..=KOSME.len())
            .map(|i| (boundaries.contains(&i), KOSME[..i].to_vec()))
            .collect(),
    ));
    all.push((
        "first possible sequence of a certain length",
        vec![
            v(b"\x00"),
            v(b"\xc2\x80"),
            v(b"\xe0\xa0\x80"),
            v(b"\xf0\x90\x80\x80"),
        ],
    ));
    all.push((
        "first possible sequence length 5/6",
        vec![x(b"\xf8\x88\x80\x80\x80"), x(b"\xfc\x84\x80\x80\x80\x80")],
    ));
    all.push((
        "last possible sequence of a certain length",
        vec![
            v(b"\x7f"),
            v(b"\xdf\xbf"),
            v(b"\xef\xbf\xbf"),
            v(b"\xf4\x8f\xbf\xbf"),
        ],
    ));
    all.push((
        "last possible sequence length 4/5/6",
        vec![
            x(b"\xf7\xbf\xbf\xbf"),
            x(b"\xfb\xbf\xbf\xbf\xbf"),
            x(b"\xfd\xbf\xbf\xbf\xbf\xbf"),
        ],
    ));
    all.push((
        "other boundary conditions",
        vec![
            v(b"\xed\x9f\xbf"),
            v(b"\xee\x80\x80"),
            v(b"\xef\xbf\xbd"),
            v(b"\xf4\x8f\xbf\xbf"),
            x(b"\xf4\x90\x80\x80"),
        ],
    ));
    all.push((
        "unexpected continuation bytes",
        vec![
            x(b"\x80"),
            x(b"\xbf"),
            x(b"\x80\xbf"),
            x(b"\x80\xbf\x80"),
            x(b"\x80\xbf\x80\xbf"),
            x(b"\x80\xbf\x80\xbf\x80"),
            x(b"\x80\xbf\x80\xbf\x80\xbf"),
            (false, (0x80..0xbf).collect()),
        ],
    ));
    all.push((
        "lonely start characters",
        [
            (0xc0u8, 0xdfu8),
            (0xe0, 0xef),
            (0xf0, 0xf7),
            (0xf8, 0xfb),
            (0xfc, 0xfd),
        ]
        .iter()
        .map(|&(lo, hi)| (false, (lo..hi).flat_map(|b| [b, 0x20]).collect()))
        .collect(),
    ));
    let missing: [&[u8]; 10] = [
        b"\xc0",
        b"\xe0\x80",
        b"\xf0\x80\x80",
        b"\xf8\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80",
        b"\xdf",
        b"\xef\xbf",
        b"\xf7\xbf\xbf",
        b"\xfb\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf",
    ];
    all.push((
        "sequences with last continuation byte missing",
        missing.iter().map(|s| x(s)).collect(),
    ));
    all.push((
        "concatenation of incomplete sequences",
        vec![(false, missing.concat())],
    ));
    all.push((
        "impossible bytes",
        vec![x(b"\xfe"), x(b"\xff"), x(b"\xfe\xfe\xff\xff")],
    ));
    all.push((
        "overlong ASCII character",
        vec![
            x(b"\xc0\xaf"),
            x(b"\xe0\x80\xaf"),
            x(b"\xf0\x80\x80\xaf"),
            x(b"\xf8\x80\x80\x80\xaf"),
            x(b"\xfc\x80\x80\x80\x80\xaf"),
        ],
    ));
    all.push((
        "maximum overlong sequences",
        vec![
            x(b"\xc1\xbf"),
            x(b"\xe0\x9f\xbf"),
            x(b"\xf0\x8f\xbf\xbf"),
            x(b"\xf8\x87\xbf\xbf\xbf"),
            x(b"\xfc\x83\xbf\xbf\xbf\xbf"),
        ],
    ));
    all.push((
        "overlong NUL",
        vec![
            x(b"\xc0\x80"),
            x(b"\xe0\x80\x80"),
            x(b"\xf0\x80\x80\x80"),
            x(b"\xf8\x80\x80\x80\x80"),
            x(b"\xfc\x80\x80\x80\x80\x80"),
        ],
    ));
    all.push((
        "single UTF-16 surrogates",
        vec![
            x(b"\xed\xa0\x80"),
            x(b"\xed\xad\xbf"),
            x(b"\xed\xae\x80"),
            x(b"\xed\xaf\xbf"),
            x(b"\xed\xb0\x80"),
            x(b"\xed\xbe\x80"),
            x(b"\xed\xbf\xbf"),
        ],
    ));
    all.push((
        "paired UTF-16 surrogates",
        vec![
            x(b"\xed\xa0\x80\xed\xb0\x80"),
            x(b"\xed\xa0\x80\xed\xbf\xbf"),
            x(b"\xed\xad\xbf\xed\xb0\x80"),
            x(b"\xed\xad\xbf\xed\xbf\xbf"),
            x(b"\xed\xae\x80\xed\xb0\x80"),
            x(b"\xed\xae\x80\xed\xbf\xbf"),
            x(b"\xed\xaf\xbf\xed\xb0\x80"),
            x(b"\xed\xaf\xbf\xed\xbf\xbf"),
        ],
    ));
    let mut nonchars = vec![v(b"\xef\xbf\xbe"), v(b"\xef\xbf\xbf")];
    for z1 in [0xf0u8, 0xf1, 0xf2, 0xf3, 0xf4] {
        for z2 in [0x8fu8, 0x9f, 0xaf, 0xbf] {
            if z1 == 0xf4 && z2 != 0x8f {
                continue; // over U+10FFFF
            }
            for z3 in [0xbeu8, 0xbf] {
                if z1 == 0xf0 && z2 == 0x8f {
                    continue; // overlong
                }
                nonchars.push((true, vec![z1, z2, 0xbf, z3]));
            }
        }
    }
    all.push(("non-character code points (valid UTF-8)", nonchars));
    all.push((
        "Unicode specials",
        (0xb9u8..=0xbf)
            .map(|b| (true, vec![0xef, 0xbf, b]))
            .collect(),
    ));
    all
}

/// 6.5.x-6.23.x: each sequence in one text frame: valid → echoed, invalid → 1007.
#[test]
fn case_6_5_to_6_23_utf8_sequences() {
    let all = utf8_sequences();
    assert_eq!(all.len(), 19, "6.5 to 6.23");
    let counts: Vec<usize> = all.iter().map(|(_, cases)| cases.len()).collect();
    assert_eq!(
        counts,
        [5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7],
        "the number of cases in each of Autobahn's groups"
    );
    for (i, (name, cases)) in all.iter().enumerate() {
        for (j, (valid, payload)) in cases.iter().enumerate() {
            // Cross-check the table against the standard library's validator.
            assert_eq!(
                std::str::from_utf8(payload).is_ok(),
                *valid,
                "6.{}.{} ({name}) table",
                i + 5,
                j + 1
            );
            let id = format!("6.{}.{} ({name})", i + 5, j + 1);
            both(|role| {
                text_case(&id, role, payload, *valid).chunkings(vec![
                    Chunking::Whole,
                    Chunking::Fixed(1),
                    Chunking::Random { seed: 9, max: 5 },
                ])
            });
        }
    }
}

/// The boundary code points named by the issue, each alone and between ASCII, in one
/// frame and in 1-byte fragments.
#[test]
fn boundary_code_points_echoed() {
    for c in [
        '\u{7f}',
        '\u{80}',
        '\u{7ff}',
        '\u{800}',
        '\u{ffff}',
        '\u{10000}',
        '\u{10ffff}',
        '\u{d7ff}',
        '\u{e000}',
        '\u{fffd}',
    ] {
        let text = format!("<{c}>");
        both(|role| text_case(&format!("U+{:04X}", c as u32), role, text.as_bytes(), true));
        let cuts: Vec<usize> = (1..text.len()).collect();
        both(|role| {
            fragmented(
                &format!("U+{:04X} split", c as u32),
                role,
                text.as_bytes(),
                &cuts,
            )
        });
    }
}

/// Invalid text after a valid message is still caught; the validator starts afresh for
/// each message (a truncated code point at the end of one message is not completed by
/// the next).
#[test]
fn truncated_code_point_at_message_end() {
    both(|role| {
        Case::new("truncated then completion", role)
            .send(|w| {
                w.text(b"ok");
                w.frame(TEXT, b"a\xe2\x82");
                w.frame(FIN | CONT, b"");
                w.text(b"\xac");
            })
            .expect([Ev::text("ok")])
            .fails(ProtocolError::InvalidUtf8)
    });
}
