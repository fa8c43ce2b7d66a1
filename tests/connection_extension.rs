//! The connection's side of the extension hook (§9): transformed messages in streamed
//! fragments, and the message limit held on the decoded size even against an extension
//! that does not stop at it.

use bytes::BytesMut;
use rfc6455::extension::{Extension, ExtensionError, Rsv};
use rfc6455::{Config, Connection, Event, Fragment, MessageKind, ProtocolError};

/// An extension on RSV1 that doubles every byte on the way in (so its output is longer
/// than the wire) and, if `ignore_max`, does not stop at the limit it is given.
struct Doubling {
    ignore_max: bool,
}

impl Extension for Doubling {
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
        for &b in input {
            if !self.ignore_max && output.len() + 2 > max {
                return Err(ExtensionError::TooLarge);
            }
            output.extend_from_slice(&[b, b]);
        }
        Ok(())
    }
    fn begin_outgoing(&mut self, _kind: MessageKind, _len: Option<usize>) -> Rsv {
        Rsv::NONE
    }
    fn encode(
        &mut self,
        input: &[u8],
        _end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        output.extend_from_slice(input);
        Ok(())
    }
}

/// A masked frame from a client, key 00 00 00 00.
fn client_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut out = vec![b0, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    out.extend_from_slice(payload);
    out
}

fn server(config: Config, ignore_max: bool) -> Connection {
    Connection::server(config).with_extension(Doubling { ignore_max })
}

/// With `stream_fragments`, each frame of a transformed message is delivered as its own
/// decoded fragment: what one frame decodes to, not what the message decoded to so far.
#[test]
fn transformed_fragments_are_delivered_one_by_one() {
    let mut ws = server(Config::default().stream_fragments(true), false);
    // RSV1 on the first frame only (RFC 7692 §6.1).
    ws.receive(&client_frame(0x42, b"ab"));
    ws.receive(&client_frame(0x00, b"c"));
    ws.receive(&client_frame(0x80, b"de"));
    let mut got = Vec::new();
    while let Some(event) = ws.next_event().unwrap() {
        let Event::Fragment(Fragment {
            data, first, fin, ..
        }) = event
        else {
            panic!("{event:?}")
        };
        got.push((data.to_vec(), first, fin));
    }
    assert_eq!(
        got,
        [
            (b"aabb".to_vec(), true, false),
            (b"cc".to_vec(), false, false),
            (b"ddee".to_vec(), false, true),
        ]
    );
}

/// The limit is on the decoded message: exactly at it is delivered; one byte over is 1009,
/// even when the extension does not stop there itself.
#[test]
fn the_message_limit_holds_on_the_decoded_size() {
    for ignore_max in [false, true] {
        let config = Config::default().max_message_size(10);
        let mut ws = server(config, ignore_max);
        ws.receive(&client_frame(0xC2, b"12345"));
        assert_eq!(
            ws.next_event(),
            Ok(Some(Event::Binary(b"1122334455".to_vec().into()))),
            "ignore_max {ignore_max}"
        );
        ws.receive(&client_frame(0x42, b"12345"));
        ws.receive(&client_frame(0x80, b"6"));
        assert_eq!(
            ws.next_event(),
            Err(ProtocolError::MessageTooLarge { max: 10 }),
            "ignore_max {ignore_max}"
        );
        assert_eq!(ws.take_outgoing(), b"\x88\x02\x03\xf1");
    }
}

/// The RSV bits `begin_outgoing` chooses go on the message's first frame, and only there
/// (§5.2: the extension defines them).
#[test]
fn outgoing_rsv_bits_go_on_the_first_frame() {
    let mut ws =
        Connection::server(Config::default().max_send_frame_size(2)).with_extension(Plain {
            bits: Rsv::RSV2.union(Rsv::RSV3),
            widen: 0,
            reserve: 0,
            outgoing: Rsv::RSV2.union(Rsv::RSV3),
        });
    ws.send_binary(b"abc".to_vec()).unwrap();
    assert_eq!(ws.take_outgoing(), b"\x32\x02ab\x80\x01c");
}

/// An identity extension (its transform changes nothing) with knobs: the RSV `bits` it
/// claims, a frame limit `widen` bytes above the configured one (as permessage-deflate asks for data that
/// grows when compressed), output room reserved ahead in `encode` (as a compressor sizes
/// its output), and the bits it sets on outgoing messages.
struct Plain {
    bits: Rsv,
    widen: u64,
    reserve: usize,
    outgoing: Rsv,
}

impl Extension for Plain {
    fn reserved_bits(&self) -> Rsv {
        self.bits
    }
    fn decode(
        &mut self,
        input: &[u8],
        _end: bool,
        output: &mut BytesMut,
        _max: usize,
    ) -> Result<(), ExtensionError> {
        output.extend_from_slice(input);
        Ok(())
    }
    fn begin_outgoing(&mut self, _kind: MessageKind, _len: Option<usize>) -> Rsv {
        self.outgoing
    }
    fn encode(
        &mut self,
        input: &[u8],
        _end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        output.reserve(self.reserve);
        output.extend_from_slice(input);
        Ok(())
    }
    fn max_frame_size(&self, configured: u64) -> u64 {
        configured + self.widen
    }
}

/// `with_extension` makes the extension's frame limit the decoder's: with 8 configured
/// and 12 asked for, a 12-byte frame is accepted and a 13-byte one is 1009 (§7.4.1), where
/// without the extension 9 bytes already are.
#[test]
fn the_extension_sets_the_frame_limit() {
    let config = Config::default().max_frame_size(8);
    let mut ws = Connection::server(config).with_extension(Plain {
        bits: Rsv::RSV1,
        widen: 4,
        reserve: 0,
        outgoing: Rsv::NONE,
    });
    ws.receive(&client_frame(0x82, &[7; 12]));
    match ws.next_event() {
        Ok(Some(Event::Binary(data))) => assert_eq!(&data[..], &[7; 12]),
        other => panic!("{other:?}"),
    }
    ws.receive(&client_frame(0x82, &[7; 13]));
    let error = ws.next_event().unwrap_err();
    assert!(
        matches!(error, ProtocolError::FrameTooLarge { .. }),
        "{error:?}"
    );
    assert_eq!(u16::from(error.close_code()), 1009);

    let mut plain = Connection::server(config);
    plain.receive(&client_frame(0x82, &[7; 9]));
    let error = plain.next_event().unwrap_err();
    assert!(
        matches!(error, ProtocolError::FrameTooLarge { .. }),
        "{error:?}"
    );
}

/// `buffer_capacity` counts the room an extension's output left in the connection's
/// staging buffer, and `release_buffers` gives it back.
#[test]
fn the_staging_buffer_of_transformed_sends_is_counted_and_released() {
    let mut ws = Connection::server(Config::default()).with_extension(Plain {
        bits: Rsv::RSV1,
        widen: 0,
        reserve: 64 * 1024,
        outgoing: Rsv::RSV1,
    });
    assert_eq!(ws.buffer_capacity(), 0);
    ws.send_binary(&b"hello"[..]).unwrap();
    let wire = ws.take_outgoing();
    assert_eq!(wire, [0xC2, 5, b'h', b'e', b'l', b'l', b'o']);
    let held = ws.buffer_capacity();
    assert!(held >= 60 * 1024, "{held}");
    assert!(held <= 256 * 1024, "{held}");
    ws.release_buffers();
    assert_eq!(ws.buffer_capacity(), 0);
}

/// `buffer_capacity` counts output queued in the connection's own buffer and a message
/// being reassembled, and stays within a small multiple of what is held.
#[test]
fn buffer_capacity_counts_the_queue_and_the_reassembly() {
    let mut ws = Connection::server(Config::default());
    // A borrowed slice is copied into the queue's own buffer (an owned `Vec` would be
    // queued as it is, and is the caller's memory, not counted).
    ws.send_binary(&[1u8; 1000][..]).unwrap();
    let held = ws.buffer_capacity();
    assert!(held >= 1000, "{held}");
    assert!(held <= 64 * 1024, "{held}");
    let _ = ws.take_outgoing();

    let mut ws = Connection::server(Config::default());
    ws.receive(&client_frame(0x02, &[9u8; 100]));
    ws.receive(&client_frame(0x00, &[8u8; 100]));
    assert_eq!(ws.next_event(), Ok(None));
    let held = ws.buffer_capacity();
    assert!(held >= 200, "{held}");
    assert!(held <= 64 * 1024, "{held}");
}

/// `buffer_capacity` counts the queue's list of shared chunks too: 100 payloads queued
/// without copying take at least 100 entries of it.
#[test]
fn buffer_capacity_counts_the_list_of_shared_chunks() {
    let mut ws = Connection::server(Config::default());
    let payload = bytes::Bytes::from(vec![3u8; 4096]);
    for _ in 0..100 {
        ws.send_binary(payload.clone()).unwrap();
    }
    let held = ws.buffer_capacity();
    let entries = 100 * std::mem::size_of::<bytes::Bytes>();
    assert!(held >= entries, "{held} < {entries}");
    assert!(held <= 64 * entries, "{held}");
    let _ = ws.take_outgoing();
}

/// `buffer_capacity` counts the pongs held for pings not yet answered on the wire: ten
/// pings hold ten entries until the output is taken.
#[test]
fn buffer_capacity_counts_held_pongs() {
    let mut ws = Connection::server(Config::default().max_pending_pongs(64));
    for i in 0..10u8 {
        ws.receive(&client_frame(0x89, &[i]));
    }
    for i in 0..10u8 {
        assert_eq!(ws.next_event(), Ok(Some(Event::Ping(vec![i].into()))));
    }
    let held = ws.buffer_capacity();
    let entries = 10 * std::mem::size_of::<bytes::Bytes>();
    assert!(held >= entries, "{held} < {entries}");
    assert!(held <= 64 * entries, "{held}");
    assert_eq!(ws.take_outgoing().len(), 10 * 3, "ten pongs of one byte");
}
