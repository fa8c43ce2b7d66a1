//! Every limit of [`Config`] at its edges: one under the limit, at it and one over, and
//! each documented special value (0, 1, the largest). Expected bytes and codes are
//! written out, not computed by the crate.

use rfc6455::frame::MAX_CONTROL_PAYLOAD;
use rfc6455::{CloseCode, Config, Connection, Event, ProtocolError, Role, UsageError};

/// A server, or a client masking with the zero key (so its frames read as they are).
fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => Connection::client_with_random(config, |buf: &mut [u8]| buf.fill(0)),
    }
}

/// A frame from the peer of `role` (masked with the zero key toward a server), any length.
fn peer(role: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    let mask = if role == Role::Server { 0x80 } else { 0 };
    let len = payload.len();
    let mut out = vec![b0];
    if len < 126 {
        out.push(mask | len as u8);
    } else if len <= 0xFFFF {
        out.push(mask | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if role == Role::Server {
        out.extend_from_slice(&[0; 4]);
    }
    out.extend_from_slice(payload);
    out
}

/// A frame `role` sends (unmasked by a server, masked with the zero key by our client).
fn ours(role: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    let flipped = match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    peer(flipped, b0, payload)
}

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn first_result(ws: &mut Connection) -> Result<Option<Event>, ProtocolError> {
    ws.next_event()
}

// ----- max_frame_size -----

#[test]
fn max_frame_size_accepts_limit_minus_one_and_limit_and_refuses_limit_plus_one() {
    for role in ROLES {
        for limit in [1u64, 125, 126, 65_535, 65_536] {
            let config = Config::default().max_frame_size(limit);
            for len in [limit - 1, limit] {
                let mut ws = connection(role, config);
                ws.receive(&peer(role, 0x82, &vec![7; len as usize]));
                assert_eq!(
                    first_result(&mut ws),
                    Ok(Some(Event::Binary(vec![7; len as usize].into()))),
                    "{role:?} limit {limit} len {len}"
                );
            }
            let mut ws = connection(role, config);
            // The header alone is refused: the payload need not arrive.
            let frame = peer(role, 0x82, &vec![7; limit as usize + 1]);
            let header = frame.len() - (limit as usize + 1);
            ws.receive(&frame[..header]);
            assert_eq!(
                first_result(&mut ws),
                Err(ProtocolError::FrameTooLarge {
                    len: limit + 1,
                    max: limit
                }),
                "{role:?} limit {limit}"
            );
            assert_eq!(ws.take_outgoing(), ours(role, 0x88, &[0x03, 0xF1]), "1009");
        }
    }
}

#[test]
fn max_frame_size_zero_takes_only_empty_frames() {
    for role in ROLES {
        let config = Config::default().max_frame_size(0);
        let mut ws = connection(role, config);
        ws.receive(&peer(role, 0x89, b""));
        assert_eq!(
            first_result(&mut ws),
            Ok(Some(Event::Ping(Vec::new().into())))
        );
        ws.receive(&peer(role, 0x81, b"x"));
        assert_eq!(
            first_result(&mut ws),
            Err(ProtocolError::FrameTooLarge { len: 1, max: 0 })
        );
    }
}

#[test]
fn max_frame_size_largest_still_refuses_the_top_bit() {
    for role in ROLES {
        let mask = if role == Role::Server { 0x80 } else { 0 };
        let config = Config::default()
            .max_frame_size(u64::MAX)
            .max_message_size(u64::MAX);
        // 2^63 - 1 bytes announced: within the limit, so the decoder waits for them.
        let mut ws = connection(role, config);
        ws.receive(&[
            0x82,
            mask | 127,
            0x7F,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
        ]);
        assert_eq!(first_result(&mut ws), Ok(None));
        // 2^63: the top bit (§5.2), a protocol error whatever the limit.
        let mut ws = connection(role, config);
        ws.receive(&[0x82, mask | 127, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(first_result(&mut ws), Err(ProtocolError::LengthTopBitSet));
    }
}

// ----- max_message_size -----

/// A message in fragments of `sizes` bytes.
fn fragments(role: Role, sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let op = if i == 0 { 0x02 } else { 0x00 };
        let fin = if i + 1 == sizes.len() { 0x80 } else { 0 };
        out.extend(peer(role, fin | op, &vec![1; n]));
    }
    out
}

#[test]
fn max_message_size_counts_every_fragment_including_the_last() {
    for role in ROLES {
        let limit = 300u64;
        let config = Config::default().max_message_size(limit);
        // Limit - 1 and limit: delivered, in one frame and in three.
        for total in [limit - 1, limit] {
            let total = total as usize;
            for sizes in [vec![total], vec![100, 100, total - 200]] {
                let mut ws = connection(role, config);
                ws.receive(&fragments(role, &sizes));
                assert_eq!(
                    first_result(&mut ws),
                    Ok(Some(Event::Binary(vec![1; total].into()))),
                    "{role:?} {sizes:?}"
                );
            }
        }
        // Limit + 1: refused at the frame that crosses it, the last one included.
        for sizes in [vec![301], vec![100, 100, 101], vec![300, 1], vec![1, 300]] {
            let mut ws = connection(role, config);
            ws.receive(&fragments(role, &sizes));
            assert_eq!(
                first_result(&mut ws),
                Err(ProtocolError::MessageTooLarge { max: limit }),
                "{role:?} {sizes:?}"
            );
            assert_eq!(ws.take_outgoing(), ours(role, 0x88, &[0x03, 0xF1]), "1009");
        }
    }
}

#[test]
fn max_message_size_zero_and_one() {
    for role in ROLES {
        let mut ws = connection(role, Config::default().max_message_size(0));
        ws.receive(&fragments(role, &[0, 0]));
        assert_eq!(
            first_result(&mut ws),
            Ok(Some(Event::Binary(Vec::new().into())))
        );
        ws.receive(&fragments(role, &[0, 1]));
        assert_eq!(
            first_result(&mut ws),
            Err(ProtocolError::MessageTooLarge { max: 0 })
        );

        let mut ws = connection(role, Config::default().max_message_size(1));
        ws.receive(&fragments(role, &[0, 1, 0]));
        assert_eq!(
            first_result(&mut ws),
            Ok(Some(Event::Binary(vec![1].into())))
        );
        ws.receive(&fragments(role, &[1, 1]));
        assert_eq!(
            first_result(&mut ws),
            Err(ProtocolError::MessageTooLarge { max: 1 })
        );
    }
}

#[test]
fn max_message_size_does_not_apply_to_streamed_fragments() {
    for role in ROLES {
        let config = Config::default()
            .max_message_size(10)
            .stream_fragments(true);
        let mut ws = connection(role, config);
        ws.receive(&fragments(role, &[8, 8]));
        let mut total = 0;
        while let Some(event) = ws.next_event().unwrap() {
            let Event::Fragment(f) = event else {
                panic!("{event:?}")
            };
            total += f.data.len();
        }
        assert_eq!(total, 16);
    }
}

// ----- max_send_frame_size -----

#[test]
fn max_send_frame_size_splits_above_the_limit_only() {
    for role in ROLES {
        let limit = 100;
        let config = Config::default().max_send_frame_size(limit);
        for (len, frames) in [
            (99, vec![99]),
            (100, vec![100]),
            (101, vec![100, 1]),
            (200, vec![100, 100]),
            (201, vec![100, 100, 1]),
        ] {
            let mut ws = connection(role, config);
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            ws.send_binary(data.as_slice()).unwrap();
            let mut want = Vec::new();
            let mut at = 0;
            for (i, &n) in frames.iter().enumerate() {
                let op = if i == 0 { 0x02 } else { 0x00 };
                let fin = if i + 1 == frames.len() { 0x80 } else { 0 };
                want.extend(ours(role, fin | op, &data[at..at + n]));
                at += n;
            }
            assert_eq!(ws.take_outgoing(), want, "{role:?} len {len}");
        }
    }
}

/// Documented: "A value of 0 is treated as 1."
#[test]
fn max_send_frame_size_zero_is_one() {
    for role in ROLES {
        for limit in [0, 1] {
            let mut ws = connection(role, Config::default().max_send_frame_size(limit));
            ws.send_text("ab€").unwrap();
            let mut want = ours(role, 0x01, b"a");
            want.extend(ours(role, 0x00, b"b"));
            for (i, b) in "€".bytes().enumerate() {
                want.extend(ours(role, if i == 2 { 0x80 } else { 0 }, &[b]));
            }
            assert_eq!(ws.take_outgoing(), want, "{role:?} limit {limit}");
            // And the empty message is one empty frame.
            ws.send_binary(Vec::new()).unwrap();
            assert_eq!(ws.take_outgoing(), ours(role, 0x82, b""));
        }
    }
}

#[test]
fn max_send_frame_size_largest_never_splits() {
    let mut ws = Connection::server(Config::default().max_send_frame_size(usize::MAX));
    ws.send_binary(vec![5u8; 70_000]).unwrap();
    assert_eq!(ws.take_outgoing(), ours(Role::Server, 0x82, &[5; 70_000]));
}

// ----- max_buffered_outgoing -----

/// A data message is refused when the bytes queued and its own would be over the limit:
/// at exactly the limit it is taken.
#[test]
fn max_buffered_outgoing_takes_a_message_that_reaches_the_limit_exactly() {
    for role in ROLES {
        let header = if role == Role::Server { 2 } else { 6 };
        let payload = 98;
        let wire = payload + header;
        for (limit, ok) in [(wire - 1, false), (wire, true), (wire + 1, true)] {
            let mut ws = connection(role, Config::default().max_buffered_outgoing(limit));
            let result = ws.send_binary(vec![0u8; payload]);
            if ok {
                assert_eq!(result, Ok(()), "{role:?} limit {limit}");
                assert_eq!(ws.buffered_amount(), wire);
            } else {
                assert_eq!(
                    result,
                    Err(UsageError::OutgoingBufferFull),
                    "{role:?} limit {limit}"
                );
                assert_eq!(ws.buffered_amount(), 0, "nothing queued");
            }
        }
        // Counted with what is queued already, and with each frame's header when the
        // message is split (3 frames of 100: 3 headers).
        let split = 3 * (100 + header);
        for (limit, ok) in [(split - 1, false), (split, true)] {
            let config = Config::default()
                .max_send_frame_size(100)
                .max_buffered_outgoing(limit);
            let mut ws = connection(role, config);
            assert_eq!(
                ws.send_binary(vec![0u8; 300]).is_ok(),
                ok,
                "{role:?} split, limit {limit}"
            );
        }
        // A last frame shorter than the others has its header too (250: 100, 100, 50).
        let split_rest = 250 + 3 * header;
        for (limit, ok) in [(split_rest - 1, false), (split_rest, true)] {
            let config = Config::default()
                .max_send_frame_size(100)
                .max_buffered_outgoing(limit);
            let mut ws = connection(role, config);
            assert_eq!(
                ws.send_binary(vec![0u8; 250]).is_ok(),
                ok,
                "{role:?} split with a rest, limit {limit}"
            );
        }
        let config = Config::default().max_buffered_outgoing(2 * wire);
        let mut ws = connection(role, config);
        ws.send_binary(vec![0u8; payload]).unwrap();
        ws.send_binary(vec![0u8; payload]).unwrap();
        assert_eq!(
            ws.send_binary(Vec::new()),
            Err(UsageError::OutgoingBufferFull)
        );
        // Written out, the room comes back.
        let _ = ws.take_outgoing();
        assert_eq!(ws.send_binary(vec![0u8; payload]), Ok(()));
    }
}

/// A ping is refused by the same rule: taken when it brings the queue exactly to the
/// limit, refused one byte over.
#[test]
fn max_buffered_outgoing_takes_a_ping_that_reaches_the_limit_exactly() {
    for role in ROLES {
        let header = if role == Role::Server { 2 } else { 6 };
        let wire = 10 + header;
        for (limit, ok) in [(wire - 1, false), (wire, true), (wire + 1, true)] {
            let mut ws = connection(role, Config::default().max_buffered_outgoing(limit));
            let result = ws.send_ping(&[7; 10]);
            if ok {
                assert_eq!(result, Ok(()), "{role:?} limit {limit}");
                assert_eq!(ws.take_outgoing(), ours(role, 0x89, &[7; 10]));
            } else {
                assert_eq!(
                    result,
                    Err(UsageError::OutgoingBufferFull),
                    "{role:?} limit {limit}"
                );
                assert_eq!(ws.buffered_amount(), 0);
            }
        }
    }
}

/// 0 refuses every data message and ping, never the close frame nor the pongs owed.
#[test]
fn max_buffered_outgoing_zero_still_sends_pongs_and_the_close() {
    for role in ROLES {
        let mut ws = connection(role, Config::default().max_buffered_outgoing(0));
        assert_eq!(
            ws.send_binary(Vec::new()),
            Err(UsageError::OutgoingBufferFull)
        );
        assert_eq!(ws.send_text(""), Err(UsageError::OutgoingBufferFull));
        assert_eq!(ws.send_ping(b""), Err(UsageError::OutgoingBufferFull));
        ws.receive(&peer(role, 0x89, b"p"));
        assert_eq!(ws.next_event(), Ok(Some(Event::Ping(b"p".to_vec().into()))));
        ws.close(CloseCode::NORMAL, "").unwrap();
        let mut want = ours(role, 0x8A, b"p");
        want.extend(ours(role, 0x88, &[0x03, 0xE8]));
        assert_eq!(ws.take_outgoing(), want);
    }
}

#[test]
fn max_buffered_outgoing_largest_never_refuses() {
    let mut ws = Connection::server(Config::default().max_buffered_outgoing(usize::MAX));
    for _ in 0..64 {
        ws.send_binary(vec![0u8; 1 << 16]).unwrap();
    }
    // 65536 bytes take the 64-bit length form: 10 header bytes each.
    assert_eq!(ws.buffered_amount(), 64 * (10 + (1 << 16)));
}

// ----- control frames: 125 bytes (§5.5) -----

#[test]
fn control_payloads_up_to_125_bytes() {
    for role in ROLES {
        let mut ws = connection(role, Config::default());
        ws.send_ping(&[1; MAX_CONTROL_PAYLOAD]).unwrap();
        ws.send_pong(&[2; 124]).unwrap();
        assert_eq!(
            ws.send_ping(&[1; 126]),
            Err(UsageError::ControlPayloadTooLarge)
        );
        assert_eq!(
            ws.send_pong(&[1; 126]),
            Err(UsageError::ControlPayloadTooLarge)
        );
        // A close reason of 123 bytes fills the 125 with the code; 124 is refused.
        assert_eq!(
            ws.close(CloseCode::NORMAL, &"r".repeat(124)),
            Err(UsageError::ControlPayloadTooLarge)
        );
        ws.close(CloseCode::NORMAL, &"r".repeat(123)).unwrap();
        let mut want = ours(role, 0x89, &[1; 125]);
        want.extend(ours(role, 0x8A, &[2; 124]));
        let mut close = vec![0x03, 0xE8];
        close.extend_from_slice(&[b'r'; 123]);
        want.extend(ours(role, 0x88, &close));
        assert_eq!(ws.take_outgoing(), want);
    }
}

// ----- max_pending_pongs -----

/// `n` pings, then the output: the pongs for the last `min(n, cap)` of them.
fn pongs_after(role: Role, cap: usize, n: u8) -> Vec<u8> {
    let mut ws = connection(role, Config::default().max_pending_pongs(cap));
    for i in 0..n {
        ws.receive(&peer(role, 0x89, &[i]));
        assert_eq!(ws.next_event(), Ok(Some(Event::Ping(vec![i].into()))));
    }
    ws.take_outgoing()
}

fn pongs(role: Role, range: std::ops::Range<u8>) -> Vec<u8> {
    range.flat_map(|i| ours(role, 0x8A, &[i])).collect()
}

#[test]
fn max_pending_pongs_keeps_the_most_recent() {
    for role in ROLES {
        for cap in [1usize, 2, 16] {
            let c = cap as u8;
            assert_eq!(
                pongs_after(role, cap, c - 1),
                pongs(role, 0..c - 1),
                "{role:?} cap {cap}"
            );
            assert_eq!(
                pongs_after(role, cap, c),
                pongs(role, 0..c),
                "{role:?} cap {cap}"
            );
            assert_eq!(
                pongs_after(role, cap, c + 1),
                pongs(role, 1..c + 1),
                "{role:?} cap {cap}"
            );
        }
    }
}

/// Documented: "A value of 0 is treated as 1": the latest ping is answered. A cap of
/// 0 taken literally would make room for the next pong forever, so the checks run on a
/// thread of their own and a deadline fails the test instead of hanging it.
#[test]
fn max_pending_pongs_zero_is_one() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| {
            for role in ROLES {
                assert_eq!(pongs_after(role, 0, 3), pongs(role, 2..3));
                assert_eq!(pongs_after(role, 0, 1), pongs(role, 0..1));
                assert_eq!(pongs_after(role, usize::MAX, 40), pongs(role, 0..40));
            }
        });
        let _ = done.send(result);
    });
    match finished.recv_timeout(std::time::Duration::from_secs(30)) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("a ping with max_pending_pongs(0) never returned"),
    }
}

#[test]
fn auto_pong_off_sends_no_pong() {
    for role in ROLES {
        let mut ws = connection(role, Config::default().auto_pong(false));
        ws.receive(&peer(role, 0x89, b"p"));
        assert_eq!(ws.next_event(), Ok(Some(Event::Ping(b"p".to_vec().into()))));
        assert_eq!(ws.take_outgoing(), Vec::<u8>::new());
    }
}

/// The defaults are the documented ones.
#[test]
fn defaults_are_as_documented() {
    let c = Config::default();
    assert_eq!(c.max_frame_size, 16 << 20);
    assert_eq!(c.max_message_size, 64 << 20);
    assert_eq!(c.max_send_frame_size, 1 << 20);
    assert_eq!(c.max_buffered_outgoing, 64 << 20);
    assert!(c.auto_pong);
    assert_eq!(c.max_pending_pongs, 16);
    assert!(!c.stream_fragments);
}

// ----- receive room -----

/// The room `receive_buffer` lends for a large frame in progress: the rest of the frame
/// (so its payload is read into place), but never more than 1 MiB ahead of what arrived
/// for a frame that is announced and not sent (DESIGN: lengths are checked before memory
/// is reserved).
#[test]
fn receive_room_is_the_rest_of_the_frame_up_to_1_mib() {
    for (len, arrived) in [(300_000usize, 1_000usize), (100_000, 0), (70_000, 60_000)] {
        let mut ws = Connection::server(Config::default());
        let frame = peer(Role::Server, 0x82, &vec![3; len]);
        let header = frame.len() - len;
        ws.receive(&frame[..header + arrived]);
        assert_eq!(ws.next_event(), Ok(None));
        let rest = len - arrived;
        let room = ws.receive_buffer().capacity();
        assert!(
            room >= rest,
            "{room} bytes of room for the {rest} still to come"
        );
        assert!(
            room <= rest + 64 * 1024,
            "{room} bytes of room for the {rest} still to come"
        );
        // The rest read into it completes the frame.
        ws.receive_buffer()
            .extend_from_slice(&frame[header + arrived..]);
        assert_eq!(
            ws.next_event(),
            Ok(Some(Event::Binary(vec![3; len].into())))
        );
    }
    // Announced, not sent: 10 MiB.
    let mut ws = Connection::server(Config::default());
    ws.receive(&[0x82, 0xFF, 0, 0, 0, 0, 0, 0xA0, 0, 0, 1, 2, 3, 4]);
    assert_eq!(ws.next_event(), Ok(None));
    let room = ws.receive_buffer().capacity();
    assert!(
        ((1 << 20) - 64..=2 << 20).contains(&room),
        "{room} bytes for an announced 10 MiB frame"
    );
}

/// The room `receive_with` offers between frames: 4 KiB at first ("a few KiB for a quiet
/// connection"), doubling while reads fill it, up to 64 KiB; halving back to 4 KiB while
/// reads use little of it (less than an eighth: the heuristic is pinned here, so that a
/// change to it is a decision, not an accident).
#[test]
fn read_room_is_4_kib_growing_to_64_kib_and_back() {
    // A stream of whole 8-byte frames, so that every read ends between frames.
    let frame = peer(Role::Server, 0x82, b"ab");
    assert_eq!(frame.len(), 8);
    let mut ws = Connection::server(Config::default());
    let mut offered = Vec::new();
    let mut fill = |ws: &mut Connection, how_much: fn(usize) -> usize| {
        ws.receive_with(|room: &mut [u8]| {
            offered.push(room.len());
            let n = how_much(room.len());
            for chunk in room[..n].chunks_mut(8) {
                chunk.copy_from_slice(&frame);
            }
            Ok::<_, ()>(n)
        })
        .unwrap();
        while ws.next_event().unwrap().is_some() {}
    };
    for _ in 0..7 {
        fill(&mut ws, |room| room);
    }
    // At 64 KiB: a read of an eighth of the room or more keeps it; less halves it.
    fill(&mut ws, |_| 8 * 1024);
    fill(&mut ws, |_| 32 * 1024);
    fill(&mut ws, |_| 8 * 1024 - 8);
    for _ in 0..5 {
        fill(&mut ws, |_| 8);
    }
    let k = 1024;
    assert_eq!(
        offered,
        [
            4 * k,
            8 * k,
            16 * k,
            32 * k,
            64 * k,
            64 * k,
            64 * k,
            64 * k,
            64 * k,
            64 * k,
            32 * k,
            16 * k,
            8 * k,
            4 * k,
            4 * k
        ]
    );
}
