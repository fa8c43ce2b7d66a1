//! The I/O edges of `Connection` (issue 9): input that can only be appended to, output
//! as chunks with partial-write accounting, owned and borrowed events, the extension
//! hook, and §5.5.2's pong after our own close.

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

use std::io::IoSlice;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use harness::{Ev, Wire, connection};
use proptest::prelude::*;
use rfc6455::extension::{Extension, ExtensionError, Rsv};
use rfc6455::frame::FrameHeader;
use rfc6455::{
    CloseCode, Config, Connection, ConnectionState, Event, EventRef, MessageKind, PreparedMessage,
    ProtocolError, Role, UsageError, Utf8Bytes,
};

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn events(conn: &mut Connection) -> Result<Vec<Ev>, ProtocolError> {
    let mut out = Vec::new();
    while let Some(event) = conn.next_event()? {
        out.push(Ev::from_event(event));
    }
    Ok(out)
}

// ----- input -----

/// The lent room holds only new bytes: what the connection received before, including a
/// frame's payload already unmasked and checked, is out of reach. Overwriting the room
/// is the same as having received other bytes.
#[test]
fn receive_buffer_lends_only_new_room() {
    let mut w = Wire::peer_of(Role::Server);
    w.text("héllo wörld, a text message of some length");
    let wire = w.take();
    let mut conn = connection(Role::Server, Config::default());
    // Half the frame arrives: the payload so far is unmasked and validated inside.
    conn.receive_buffer().put_slice(&wire[..20]);
    assert_eq!(events(&mut conn), Ok(vec![]));
    let room = conn.receive_buffer();
    assert!(room.is_empty(), "no received byte is reachable");
    assert!(
        room.capacity() >= wire.len() - 20,
        "room for the rest of the frame"
    );
    // A caller that scribbles over the room and then clears it received nothing.
    room.put_slice(b"\xff\xff\xff");
    room.clear();
    room.put_slice(&wire[20..]);
    assert_eq!(
        events(&mut conn),
        Ok(vec![Ev::text("héllo wörld, a text message of some length")])
    );
    // Bytes written into the room are input like any other: invalid ones fail.
    conn.receive_buffer()
        .put_slice(&[0x81, 0x81, 0, 0, 0, 0, 0xff]);
    assert_eq!(conn.next_event(), Err(ProtocolError::InvalidUtf8));
    assert_eq!(conn.take_outgoing(), b"\x88\x02\x03\xef"); // 1007
}

/// A socket that hands out at most `max` bytes per read and fills the room it is given.
struct Source<'a> {
    data: &'a [u8],
    max: usize,
    reads: usize,
}

impl Source<'_> {
    fn read_into(&mut self, room: &mut BytesMut) -> usize {
        let n = self
            .data
            .len()
            .min(self.max)
            .min(room.capacity() - room.len());
        room.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.reads += 1;
        n
    }
}

/// The natural read loop, with no reserve trick: 5,000 one-KiB messages arriving as fast
/// as they can be read take few, large reads (the room grows to 64 KiB), not one per
/// message.
#[test]
fn natural_read_loop_makes_few_large_reads() {
    let mut w = Wire::peer_of(Role::Server);
    for _ in 0..5000 {
        w.binary([7u8; 1024]);
    }
    let wire = w.take();
    let mut source = Source {
        data: &wire,
        max: usize::MAX,
        reads: 0,
    };
    let mut conn = connection(Role::Server, Config::default());
    let mut messages = 0;
    while !source.data.is_empty() {
        source.read_into(conn.receive_buffer());
        while let Some(event) = conn.next_event().unwrap() {
            assert_eq!(event, Event::Binary(Bytes::from(vec![7u8; 1024])));
            messages += 1;
        }
    }
    assert_eq!(messages, 5000);
    // 5,000 × 1,030 bytes is 79 reads of 64 KiB; the first few are smaller.
    assert!(source.reads < 100, "{} reads", source.reads);
}

/// A large frame is read into the place it is delivered from: the payload handed out
/// lies in the same allocation the reads filled (no copy when the buffer grew).
#[test]
fn a_large_frame_is_read_in_place() {
    let payload: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
    let mut w = Wire::peer_of(Role::Server);
    w.binary(&payload);
    let wire = w.take();
    let mut source = Source {
        data: &wire,
        max: 64 << 10,
        reads: 0,
    };
    let mut conn = connection(Role::Server, Config::default());
    let mut got = None;
    let mut rooms = Vec::new();
    while got.is_none() {
        let room = conn.receive_buffer();
        rooms.push(room.as_ptr() as usize);
        source.read_into(room);
        got = conn.next_event().unwrap();
    }
    let Some(Event::Binary(data)) = got else {
        panic!("a binary message")
    };
    assert_eq!(data, payload);
    // Once the header is known, every read lands right after the previous one.
    let start = data.as_ptr() as usize;
    assert!(
        rooms[1..]
            .iter()
            .all(|&r| r > start && r <= start + data.len())
    );
}

/// `receive_with` reads into a plain slice, for `std::io::Read`.
#[test]
fn receive_with_reads_into_a_slice() {
    let mut w = Wire::peer_of(Role::Server);
    w.text("one").binary([2; 300]).ping("p");
    let wire = w.take();
    let mut conn = connection(Role::Server, Config::default());
    let mut rest = &wire[..];
    let mut got = Vec::new();
    while !rest.is_empty() {
        let n = conn
            .receive_with(|room| std::io::Read::read(&mut std::io::Read::take(rest, 7), room))
            .unwrap();
        rest = &rest[n..];
        got.extend(events(&mut conn).unwrap());
    }
    assert_eq!(
        got,
        vec![Ev::text("one"), Ev::binary([2; 300]), Ev::ping("p")]
    );
    // An error from the read receives nothing.
    let r: Result<usize, &str> = conn.receive_with(|room| {
        room[0] = 0x81;
        Err("broken")
    });
    assert_eq!(r, Err("broken"));
    assert_eq!(events(&mut conn), Ok(vec![]));
}

// ----- output -----

/// Any pattern of partial writes, plain or vectored, puts the same bytes on the wire as
/// taking them all at once, and `buffered_amount` is always the bytes not yet written.
#[test]
fn partial_writes_lose_and_repeat_nothing() {
    for role in ROLES {
        let build = || {
            let mut conn = connection(role, Config::default().max_send_frame_size(3000));
            conn.send_text("hello").unwrap();
            conn.send_binary(Bytes::from(vec![1u8; 5000])).unwrap(); // shared when large
            conn.send_binary(&[2u8; 10][..]).unwrap();
            conn.send_ping(b"ping").unwrap();
            conn.send_text(Utf8Bytes::from("x".repeat(2000))).unwrap();
            conn.close(CloseCode::NORMAL, "bye").unwrap();
            conn
        };
        let expected = build().take_outgoing();
        for step in [1, 3, 7, 1000, 4096] {
            for vectored in [false, true] {
                let mut conn = build();
                assert_eq!(conn.buffered_amount(), expected.len());
                let mut wire = Vec::new();
                while conn.outgoing().has_remaining() {
                    let out = conn.outgoing();
                    let mut n = 0;
                    if vectored {
                        let mut slices = [IoSlice::new(&[]); 4];
                        let count = out.chunks_vectored(&mut slices);
                        for slice in &slices[..count] {
                            let take = slice.len().min(step - n);
                            wire.extend_from_slice(&slice[..take]);
                            n += take;
                            if n == step {
                                break;
                            }
                        }
                    } else {
                        n = out.chunk().len().min(step);
                        wire.extend_from_slice(&out.chunk()[..n]);
                    }
                    out.advance(n);
                    assert_eq!(conn.buffered_amount(), expected.len() - wire.len());
                }
                assert_eq!(wire, expected, "{role:?} step {step} vectored {vectored}");
            }
        }
    }
}

/// Payloads copied into the queue in a chunk of their own (16 KiB and up, and any a
/// client masks) are counted as queued and written out whole through the `Buf`, beside
/// small ones copied behind their headers: `buffered_amount` is each frame's header and
/// payload (§5.2's length forms, a client's 4-byte key) until the bytes are advanced.
#[test]
fn large_copied_payloads_are_counted_and_written_whole() {
    let wire_len = |len: usize, masked: bool| {
        let extended = match len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + extended + if masked { 4 } else { 0 } + len
    };
    for role in ROLES {
        let masked = role == Role::Client;
        for len in [16_383, 16_384, 70_000] {
            for shared in [false, true] {
                let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let build = || {
                    let mut conn = connection(role, Config::default());
                    conn.send_binary(&b"small"[..]).unwrap();
                    if shared {
                        conn.send_binary(Bytes::from(data.clone())).unwrap();
                    } else {
                        conn.send_binary(&data[..]).unwrap();
                    }
                    conn.send_binary(&b"after"[..]).unwrap();
                    conn
                };
                let expected = build().take_outgoing();
                let total = 2 * wire_len(5, masked) + wire_len(len, masked);
                assert_eq!(expected.len(), total, "{role:?} {len} shared {shared}");
                let mut conn = build();
                assert_eq!(conn.buffered_amount(), total);
                assert_eq!(conn.outgoing().remaining(), total);
                let mut written = Vec::new();
                while conn.outgoing().has_remaining() {
                    let out = conn.outgoing();
                    let n = out.chunk().len().min(10_000);
                    written.extend_from_slice(&out.chunk()[..n]);
                    out.advance(n);
                    assert_eq!(conn.buffered_amount(), total - written.len());
                }
                assert_eq!(written, expected, "{role:?} {len} shared {shared}");
                // The peer gets the three messages back, the large one byte for byte.
                let mut peer = connection(
                    if masked { Role::Server } else { Role::Client },
                    Config::default(),
                );
                peer.receive_buffer().put_slice(&written);
                let got = events(&mut peer).unwrap();
                assert_eq!(got.len(), 3, "{role:?} {len}");
                assert_eq!(
                    got[1],
                    Ev::Binary(Bytes::from(data.clone())),
                    "{role:?} {len} shared {shared}"
                );
            }
        }
    }
}

/// A server's large owned payload goes out without a copy: the queued chunk is the
/// caller's bytes. A small one is copied behind its header.
#[test]
fn large_owned_payloads_are_queued_without_a_copy() {
    let data = Bytes::from(vec![9u8; 4096]);
    let mut conn = connection(Role::Server, Config::default());
    conn.send_binary(data.clone()).unwrap();
    let out = conn.outgoing();
    assert_eq!(out.chunk(), &[0x82, 126, 0x10, 0x00]);
    out.advance(4);
    assert_eq!(
        out.chunk().as_ptr(),
        data.as_ptr(),
        "the caller's allocation"
    );
    assert_eq!(out.chunk().len(), 4096);
    // The echo of a received text goes the same way, without a second UTF-8 check.
    let text = Utf8Bytes::from("é".repeat(1000));
    let shared = text.clone();
    let mut conn = connection(Role::Server, Config::default());
    conn.send_text(text).unwrap();
    let out = conn.outgoing();
    out.advance(4);
    assert_eq!(out.chunk().as_ptr(), shared.as_bytes().as_ptr());
}

/// `take_outgoing` must be used: dropping it loses a close frame. (Compile-time:
/// `#[must_use]`; here the bytes it returns are the queue's, once.)
#[test]
fn take_outgoing_empties_the_queue_once() {
    let mut conn = connection(Role::Server, Config::default());
    conn.close(CloseCode::GOING_AWAY, "").unwrap();
    assert_eq!(conn.take_outgoing(), b"\x88\x02\x03\xe9");
    assert!(conn.take_outgoing().is_empty());
    assert_eq!(conn.buffered_amount(), 0);
}

/// A message prepared once is queued to many connections as the same bytes.
#[test]
fn prepared_messages_are_encoded_once() {
    let message = PreparedMessage::binary(vec![5u8; 3000]);
    let mut servers: Vec<Connection> = (0..3)
        .map(|_| connection(Role::Server, Config::default()))
        .collect();
    let mut expected = connection(Role::Server, Config::default());
    expected.send_binary(vec![5u8; 3000]).unwrap();
    let expected = expected.take_outgoing();
    for server in &mut servers {
        server.send_prepared(&message).unwrap();
        assert_eq!(server.take_outgoing(), expected);
    }
    // A client masks each frame itself: the peer still reads the same message.
    let mut client = connection(Role::Client, Config::default());
    client.send_prepared(&message).unwrap();
    let mut server = connection(Role::Server, Config::default());
    server.receive(&client.take_outgoing());
    assert_eq!(events(&mut server), Ok(vec![Ev::binary([5u8; 3000])]));
}

// ----- borrowed events -----

/// `next_event_ref` reports the same events as `next_event`, for every kind, in every
/// chunking, and the two can be mixed.
#[test]
fn borrowed_events_match_owned_events() {
    for role in ROLES {
        let mut w = Wire::peer_of(role);
        w.text("κόσμε")
            .binary([1, 2, 3])
            .frame(0x01, "Hel".as_bytes())
            .ping("between")
            .frame(0x80, "lo".as_bytes())
            .pong("pong")
            .binary(vec![4u8; 70_000])
            .close(1000, "done");
        let wire = w.take();
        for chunk in [1, 5, 4096, wire.len()] {
            let mut owned = connection(role, Config::default());
            let mut borrowed = connection(role, Config::default());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (i, piece) in wire.chunks(chunk).enumerate() {
                owned.receive(piece);
                a.extend(events(&mut owned).unwrap());
                borrowed.receive(piece);
                loop {
                    // Alternate the two APIs on the same connection.
                    let ev = if i % 2 == 0 {
                        borrowed.next_event_ref().unwrap().map(ev_ref)
                    } else {
                        borrowed.next_event().unwrap().map(Ev::from_event)
                    };
                    match ev {
                        Some(ev) => b.push(ev),
                        None => break,
                    }
                }
            }
            assert_eq!(a, b, "{role:?} chunk {chunk}");
            assert_eq!(a.len(), 7);
            assert_eq!(owned.take_outgoing(), borrowed.take_outgoing());
        }
    }
}

fn ev_ref(event: EventRef<'_>) -> Ev {
    match event {
        EventRef::Text(t) => Ev::text(t),
        EventRef::Binary(b) => Ev::binary(b),
        EventRef::Ping(p) => Ev::ping(p),
        EventRef::Pong(p) => Ev::pong(p),
        EventRef::Close { code, reason } => Ev::close(code.0, reason),
        EventRef::Fragment {
            kind,
            data,
            first,
            fin,
        } => Ev::fragment(kind, data, first, fin),
        _ => panic!("unknown event"),
    }
}

/// Invalid text through the borrowed path fails with 1007 like the owned path, both for
/// a frame that arrived whole and for one that arrived in pieces.
#[test]
fn borrowed_text_is_checked() {
    let mut w = Wire::peer_of(Role::Server);
    w.frame(0x81, b"ok \xff");
    let wire = w.take();
    for chunk in [1, wire.len()] {
        let mut conn = connection(Role::Server, Config::default());
        let mut result = Ok(None);
        for piece in wire.chunks(chunk) {
            conn.receive(piece);
            result = conn.next_event_ref().map(|e| e.map(ev_ref));
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ProtocolError::InvalidUtf8), "chunk {chunk}");
        assert_eq!(conn.take_outgoing(), b"\x88\x02\x03\xef");
        assert_eq!(conn.next_event_ref(), Ok(None));
    }
}

/// A fragmented text message is checked frame by frame as it is joined (§8.1), and the
/// joined text is lent as a `&str` without a second pass. The check carries a code point
/// across frames whichever way each frame arrives: whole in one read (checked as it is
/// joined) or in pieces (checked as the pieces come, so that invalid text fails before
/// the frame ends). "€" (E2 82 AC) is split across the frames here.
#[test]
fn joined_text_is_checked_across_frames_arriving_whole_or_in_pieces() {
    let frames: [(u8, &[u8]); 3] = [
        (0x01, b"a \xE2"),
        (0x00, b"\x82\xAC b \xE2\x82"),
        (0x80, b"\xAC"),
    ];
    // Each frame arrives whole, or a byte at a time: every combination.
    for pieces in 0..8u8 {
        for borrowed in [false, true] {
            let mut conn = connection(Role::Server, Config::default());
            let mut got = Vec::new();
            for (i, (b0, payload)) in frames.iter().enumerate() {
                let mut w = Wire::peer_of(Role::Server);
                w.frame(*b0, payload);
                let wire = w.take();
                let chunk = if pieces & (1 << i) != 0 {
                    1
                } else {
                    wire.len()
                };
                for piece in wire.chunks(chunk) {
                    conn.receive(piece);
                    if borrowed {
                        while let Some(event) = conn.next_event_ref().unwrap() {
                            got.push(ev_ref(event));
                        }
                    } else {
                        got.extend(events(&mut conn).unwrap());
                    }
                }
            }
            assert_eq!(
                got,
                [Ev::text("a € b €")],
                "pieces {pieces:03b}, borrowed {borrowed}"
            );
        }
    }
    // The same split, with the code point's last byte wrong: the frame that holds it
    // fails, at that byte when it comes in pieces.
    for pieces in [false, true] {
        let mut conn = connection(Role::Server, Config::default());
        let mut w = Wire::peer_of(Role::Server);
        w.frame(0x01, b"a \xE2");
        conn.receive(&w.take());
        assert_eq!(events(&mut conn), Ok(vec![]));
        let mut w = Wire::peer_of(Role::Server);
        w.frame(0x80, b"\x82A and more");
        let wire = w.take();
        let chunk = if pieces { 1 } else { wire.len() };
        let mut fed = 0;
        let result = loop {
            conn.receive(&wire[fed..fed + chunk]);
            fed += chunk;
            match conn.next_event_ref() {
                Ok(None) => {}
                other => break other.map(|e| e.map(ev_ref)),
            }
        };
        assert_eq!(result, Err(ProtocolError::InvalidUtf8), "pieces {pieces}");
        // Header (2) and key (4), then E2's second byte, then the bad one.
        let expected = if pieces { 2 + 4 + 2 } else { wire.len() };
        assert_eq!(fed, expected, "pieces {pieces}");
        assert_eq!(conn.take_outgoing(), b"\x88\x02\x03\xef");
    }
}

// ----- §5.5.2 -----

/// §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
/// response, unless it already received a Close frame." After our close was sent and
/// before the peer's arrives, pings are answered; after the peer's close, nothing is.
#[test]
fn pings_after_our_close_are_answered_until_the_peers_close() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        conn.close(CloseCode::NORMAL, "").unwrap();
        let mut ours = Wire::sent_by(role);
        ours.close(1000, "");
        assert_eq!(conn.take_outgoing(), ours.take());
        assert_eq!(conn.state(), ConnectionState::Closing);

        let mut w = Wire::peer_of(role);
        w.ping("still there?");
        conn.receive(&w.take());
        assert_eq!(events(&mut conn), Ok(vec![Ev::ping("still there?")]));
        ours.pong("still there?");
        assert_eq!(conn.take_outgoing(), ours.take(), "{role:?}: the pong");

        w.close(1000, "").ping("too late");
        conn.receive(&w.take());
        assert_eq!(events(&mut conn), Ok(vec![Ev::close(1000, "")]));
        assert!(conn.take_outgoing().is_empty(), "{role:?}: nothing after");
    }
}

/// §1.4: "after receiving a control frame indicating the connection should be closed, a
/// peer discards any further data received." Data frames that follow the peer's close in
/// the same read are not delivered, by either API.
#[test]
fn data_after_the_peers_close_is_discarded() {
    for role in ROLES {
        for borrowed in [false, true] {
            let mut conn = connection(role, Config::default());
            let mut w = Wire::peer_of(role);
            w.close(1000, "bye").text("too late").binary(b"also late");
            conn.receive(&w.take());
            if borrowed {
                assert_eq!(
                    conn.next_event_ref(),
                    Ok(Some(EventRef::Close {
                        code: CloseCode::NORMAL,
                        reason: "bye"
                    }))
                );
                assert_eq!(conn.next_event_ref(), Ok(None), "{role:?}");
                assert_eq!(conn.next_event_ref(), Ok(None), "{role:?}");
            } else {
                assert_eq!(events(&mut conn), Ok(vec![Ev::close(1000, "bye")]));
                assert_eq!(conn.next_event(), Ok(None), "{role:?}");
            }
            assert_eq!(conn.state(), ConnectionState::Closed, "{role:?}");
        }
    }
}

// ----- the extension hook -----

/// A test extension on RSV1: `Identity` passes payloads through unchanged; `Flip` XORs
/// every byte with 0x20, so a message that skipped the transform would read wrong.
/// Both enforce the size limit while decoding.
struct TestExtension {
    flip: u8,
    /// Messages shorter than this go untransformed (RSV1 clear).
    min_len: usize,
    /// `decode` fails with this, if set.
    fail: Option<ExtensionError>,
}

impl TestExtension {
    fn identity() -> Self {
        TestExtension {
            flip: 0,
            min_len: 0,
            fail: None,
        }
    }
    fn flip() -> Self {
        TestExtension {
            flip: 0x20,
            ..Self::identity()
        }
    }
}

impl Extension for TestExtension {
    fn reserved_bits(&self) -> Rsv {
        Rsv::RSV1
    }
    fn decode(
        &mut self,
        input: &[u8],
        _end: bool,
        output: &mut BytesMut,
        max: usize,
    ) -> Result<(), ExtensionError> {
        if let Some(error) = self.fail {
            return Err(error);
        }
        for &b in input {
            if output.len() == max {
                return Err(ExtensionError::TooLarge);
            }
            output.put_u8(b ^ self.flip);
        }
        Ok(())
    }
    fn begin_outgoing(&mut self, _kind: MessageKind, len: Option<usize>) -> Rsv {
        if len.is_some_and(|len| len < self.min_len) {
            Rsv::NONE
        } else {
            Rsv::RSV1
        }
    }
    fn encode(
        &mut self,
        input: &[u8],
        _end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        output.extend(input.iter().map(|b| b ^ self.flip));
        Ok(())
    }
}

fn pair_with(make: impl Fn() -> TestExtension, config: Config) -> (Connection, Connection) {
    (
        connection(Role::Client, config).with_extension(make()),
        connection(Role::Server, config).with_extension(make()),
    )
}

/// Messages, fragmented messages and streamed messages cross an extension both ways;
/// RSV1 is on the first frame of each transformed message only, and control frames are
/// never transformed.
#[test]
fn extension_transforms_messages_both_ways() {
    for make in [TestExtension::identity, TestExtension::flip] {
        let (mut client, mut server) = pair_with(make, Config::default().max_send_frame_size(4));
        client.send_text("héllo").unwrap(); // 6 bytes: two frames of at most 4
        client.send_binary(&[1, 2, 3][..]).unwrap();
        client.send_ping(b"ctl").unwrap();
        client.begin_message(MessageKind::Text).unwrap();
        client.send_fragment(&b"ab"[..]).unwrap();
        client.finish_message(&b"cd"[..]).unwrap();
        let wire = client.take_outgoing();
        // The first frame: FIN clear, RSV1 set, text.
        assert_eq!(wire[0], 0x40 | 0x01);
        server.receive(&wire);
        assert_eq!(
            events(&mut server),
            Ok(vec![
                Ev::text("héllo"),
                Ev::binary([1, 2, 3]),
                Ev::ping("ctl"),
                Ev::text("abcd"),
            ])
        );
        // And back, server to client, through the client's decoder.
        server.send_text("réponse").unwrap();
        client.receive(&server.take_outgoing());
        assert_eq!(
            events(&mut client),
            Ok(vec![Ev::pong("ctl"), Ev::text("réponse")]),
            "the automatic pong is not transformed"
        );
    }
}

/// Under `Flip`, text is checked after decoding: bytes that are valid on the wire but
/// not once decoded fail with 1007, and the other way round pass.
#[test]
fn extension_text_is_checked_after_decoding() {
    let mut server =
        connection(Role::Server, Config::default()).with_extension(TestExtension::flip());
    let mut w = Wire::peer_of(Role::Server);
    // On the wire 0xDF (invalid alone); decoded 0xFF ^ ... : 0xDF ^ 0x20 = 0xFF, invalid.
    w.frame(0xC1, b"A\xdf");
    server.receive(&w.take());
    assert_eq!(server.next_event(), Err(ProtocolError::InvalidUtf8));

    let mut server =
        connection(Role::Server, Config::default()).with_extension(TestExtension::flip());
    let mut w = Wire::peer_of(Role::Server);
    // 0xE3 0xA9 on the wire is invalid UTF-8; decoded it is "\xC3\x89" = "É".
    w.frame(0xC1, b"\xe3\xa9");
    server.receive(&w.take());
    assert_eq!(events(&mut server), Ok(vec![Ev::text("É")]));
}

/// The extension's rules and failures reach the peer as close codes: RSV1 on a
/// continuation or a control frame is 1002 (RFC 7692 §6.1), a decoded message over the
/// limit is 1009 as soon as it is crossed, invalid extension data is 1002. Without an
/// extension, RSV1 is 1002 (§5.2).
#[test]
fn extension_errors_have_close_codes() {
    type Case = (
        Vec<(u8, &'static [u8])>,
        TestExtension,
        Config,
        ProtocolError,
    );
    let cases: Vec<Case> = vec![
        (
            vec![(0x01 | 0x40, b"a"), (0x80 | 0x40, b"b")],
            TestExtension::identity(),
            Config::default(),
            ProtocolError::ReservedBitsSet(0b100),
        ),
        (
            vec![(0x89 | 0x40, b"p")],
            TestExtension::identity(),
            Config::default(),
            ProtocolError::ReservedBitsSet(0b100),
        ),
        (
            vec![(0x82 | 0x40, &[0; 11])],
            TestExtension::identity(),
            Config::default().max_message_size(10),
            ProtocolError::MessageTooLarge { max: 10 },
        ),
        (
            vec![(0x82 | 0x40, b"x")],
            TestExtension {
                fail: Some(ExtensionError::Invalid("corrupt")),
                ..TestExtension::identity()
            },
            Config::default(),
            ProtocolError::Extension("corrupt"),
        ),
        (
            vec![(0x82 | 0x20, b"x")],
            TestExtension::identity(),
            Config::default(),
            ProtocolError::ReservedBitsSet(0b010),
        ),
    ];
    for (frames, extension, config, expected) in cases {
        let mut server = connection(Role::Server, config).with_extension(extension);
        let mut w = Wire::peer_of(Role::Server);
        for (b0, payload) in &frames {
            w.frame(*b0, payload);
        }
        server.receive(&w.take());
        let got = events(&mut server);
        assert_eq!(got, Err(expected), "{frames:?}");
        let code = expected.close_code().0.to_be_bytes();
        assert_eq!(server.take_outgoing(), [0x88, 0x02, code[0], code[1]]);
    }
    // No extension: RSV1 fails the connection.
    let mut server = connection(Role::Server, Config::default());
    let mut w = Wire::peer_of(Role::Server);
    w.frame(0xC1, b"x");
    server.receive(&w.take());
    assert_eq!(
        server.next_event(),
        Err(ProtocolError::ReservedBitsSet(0b100))
    );
}

/// A message the extension leaves untransformed (RSV1 clear) is delivered as it is,
/// beside transformed ones.
#[test]
fn extension_may_skip_small_messages() {
    let make = || TestExtension {
        min_len: 4,
        ..TestExtension::flip()
    };
    let (mut client, mut server) = pair_with(make, Config::default());
    client.send_text("hi").unwrap();
    client.send_text("hello").unwrap();
    let wire = client.take_outgoing();
    assert_eq!(wire[0], 0x81, "small: RSV1 clear");
    server.receive(&wire);
    assert_eq!(
        events(&mut server),
        Ok(vec![Ev::text("hi"), Ev::text("hello")])
    );
}

/// The extension's rules hold for the header alone: RSV bits the extension does not claim
/// are refused before the payload arrives.
#[test]
fn extension_claims_only_its_bits() {
    let header = FrameHeader {
        rsv1: true,
        ..FrameHeader::new(rfc6455::frame::OpCode::Binary, 1)
    };
    assert_eq!(Rsv::of(&header), Rsv::RSV1);
    assert!(Rsv::RSV1.union(Rsv::RSV3).contains(Rsv::RSV3));
}

// ----- a pair over a transport that takes arbitrary prefixes -----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Two connections joined by a transport that writes an arbitrary prefix of what is
    /// queued (through `outgoing`'s `Buf`) and reads arbitrary amounts (through
    /// `receive_buffer`): every message arrives, in order, intact, and the close
    /// handshake completes.
    #[test]
    fn pair_over_arbitrary_prefixes(
        messages in prop::collection::vec(
            prop_oneof![
                any::<String>().prop_map(|s| (true, s.into_bytes())),
                prop::collection::vec(any::<u8>(), 0..3000).prop_map(|b| (false, b)),
            ],
            1..20,
        ),
        writes in prop::collection::vec(1usize..5000, 1..20),
        reads in prop::collection::vec(1usize..5000, 1..20),
        borrowed in any::<bool>(),
    ) {
        let mut client = connection(Role::Client, Config::default().max_send_frame_size(1000));
        let mut server = connection(Role::Server, Config::default());
        for (text, data) in &messages {
            if *text {
                client.send_text(String::from_utf8(data.clone()).unwrap()).unwrap();
            } else {
                client.send_binary(data.clone()).unwrap();
            }
        }
        client.close(CloseCode::NORMAL, "done").unwrap();
        let mut in_flight = Vec::new();
        let mut got = Vec::new();
        let (mut w, mut r) = (writes.iter().cycle(), reads.iter().cycle());
        let mut rounds = 0;
        while server.state() != ConnectionState::Closed {
            rounds += 1;
            prop_assert!(rounds < 100_000, "no progress");
            // Write a prefix of what the client queued.
            let out = client.outgoing();
            let n = out.chunk().len().min(*w.next().unwrap());
            in_flight.extend_from_slice(&out.chunk()[..n]);
            out.advance(n);
            // The server reads some of what is in flight.
            let room = server.receive_buffer();
            let n = in_flight.len().min(*r.next().unwrap()).min(room.capacity());
            room.put_slice(&in_flight[..n]);
            in_flight.drain(..n);
            loop {
                let ev = if borrowed {
                    server.next_event_ref().unwrap().map(ev_ref)
                } else {
                    server.next_event().unwrap().map(Ev::from_event)
                };
                match ev {
                    Some(ev) => got.push(ev),
                    None => break,
                }
            }
        }
        let mut expected: Vec<Ev> = messages
            .iter()
            .map(|(text, data)| if *text { Ev::text(data) } else { Ev::binary(data) })
            .collect();
        expected.push(Ev::close(1000, "done"));
        prop_assert_eq!(got, expected);
        prop_assert_eq!(client.buffered_amount(), 0);
        // The server's close echo completes the client's handshake.
        client.receive(&server.take_outgoing());
        prop_assert_eq!(events(&mut client), Ok(vec![Ev::close(1000, "done")]));
        prop_assert_eq!(server.send_text("late"), Err(UsageError::Closed));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// `next_event` and `next_event_ref` mixed call by call (the borrowed path lends a
    /// whole frame where it lies and releases it at the next call; the owned path copies
    /// a small payload out or shares a large one): the same events as the owned path
    /// alone, in every chunking, for payloads on both sides of the copy threshold,
    /// fragments and pings between them.
    #[test]
    fn owned_and_borrowed_calls_mix_call_by_call(
        frames in prop::collection::vec((0u8..4, 0usize..700), 1..30),
        chunk in 1usize..3000,
        calls in prop::collection::vec(any::<bool>(), 1..16),
        role in prop_oneof![Just(Role::Server), Just(Role::Client)],
    ) {
        let mut w = Wire::peer_of(role);
        for (i, &(kind, len)) in frames.iter().enumerate() {
            let payload: Vec<u8> = (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect();
            match kind {
                0 => w.text(&payload),
                1 => w.binary(&payload),
                2 => w.ping(&payload[..len.min(125)]),
                _ => w
                    .frame(0x01, &payload[..len / 2])
                    .frame(0x80, &payload[len / 2..]),
            };
        }
        let wire = w.take();
        let mut owned = connection(role, Config::default());
        let mut mixed = connection(role, Config::default());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut call = calls.iter().cycle();
        for piece in wire.chunks(chunk) {
            owned.receive(piece);
            a.extend(events(&mut owned).unwrap());
            mixed.receive(piece);
            loop {
                let ev = if *call.next().unwrap() {
                    mixed.next_event_ref().unwrap().map(ev_ref)
                } else {
                    mixed.next_event().unwrap().map(Ev::from_event)
                };
                match ev {
                    Some(ev) => b.push(ev),
                    None => break,
                }
            }
        }
        prop_assert_eq!(a.len(), frames.len());
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(owned.take_outgoing(), mixed.take_outgoing());
    }
}

/// A ping that arrives before the peer's close is answered, and the pong goes out before
/// the close echo, which is the last frame (§5.5.2, §5.5.1).
#[test]
fn a_ping_before_the_peers_close_is_answered_before_the_echo() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let mut w = Wire::peer_of(role);
        w.ping("first").close(1000, "");
        conn.receive(&w.take());
        assert_eq!(
            events(&mut conn),
            Ok(vec![Ev::ping("first"), Ev::close(1000, "")])
        );
        let mut ours = Wire::sent_by(role);
        ours.pong("first").close(1000, "");
        assert_eq!(conn.take_outgoing(), ours.take(), "{role:?}");
    }
}

/// When the connection fails (§7.1.7) after a ping, the pong it owes goes out before the
/// close frame with the error's code, and nothing follows the close.
#[test]
fn a_pong_owed_when_the_connection_fails_goes_before_the_close() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        let mut w = Wire::peer_of(role);
        w.ping("first").frame(0x83, b""); // opcode 3 is reserved (§5.2): 1002
        conn.receive(&w.take());
        assert_eq!(conn.next_event(), Ok(Some(Event::Ping("first".into()))));
        let error = conn.next_event().unwrap_err();
        assert_eq!(u16::from(error.close_code()), 1002, "{error:?}");
        let mut ours = Wire::sent_by(role);
        ours.pong("first").close(1002, "");
        assert_eq!(conn.take_outgoing(), ours.take(), "{role:?}");
        assert_eq!(conn.next_event(), Ok(None));
        assert!(
            conn.take_outgoing().is_empty(),
            "{role:?}: nothing after the close"
        );
    }
}
