//! The frame codec through its public API: the examples of §5.7 decoded and encoded byte
//! for byte, one negative test per header rule of §5.1, §5.2 and §5.5, limits, and the
//! "need more" behaviour of the incremental decoder.

use std::io::{IoSlice, Write};

use bytes::{Bytes, BytesMut};
use rfc6455::frame::{
    Frame, FrameDecoder, FrameHeader, MAX_CONTROL_PAYLOAD, MAX_EAGER_RESERVE, MAX_HEADER_LEN,
    OpCode, apply_mask,
};
use rfc6455::{CloseCode, ProtocolError, RandomSource, Role};

/// The masking key of every masked example in §5.7.
const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Decodes exactly one frame from `wire` for `role` and checks that it used every byte.
fn decode_one(role: Role, wire: &[u8]) -> Frame {
    let mut buf = BytesMut::from(wire);
    let frame = FrameDecoder::new(role)
        .decode(&mut buf)
        .expect("a valid frame")
        .expect("a whole frame");
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    frame
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode(&mut out);
    out
}

/// Runs `decode` on `wire` and returns the error, checking that nothing was consumed.
fn decode_err(decoder: &FrameDecoder, wire: &[u8]) -> ProtocolError {
    let mut buf = BytesMut::from(wire);
    let err = decoder
        .clone()
        .decode(&mut buf)
        .expect_err("the frame breaks a rule");
    assert_eq!(&buf[..], wire, "an error must leave the buffer as it was");
    err
}

fn masked(mut frame: Frame, key: [u8; 4]) -> Frame {
    frame.header.mask = Some(key);
    frame
}

fn not_fin(mut frame: Frame) -> Frame {
    frame.header.fin = false;
    frame
}

/// A payload whose bytes are not all alike, so a masking or offset bug shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

// ----- §5.7 examples, decoded and encoded -----

#[test]
fn rfc_5_7_single_frame_unmasked_text() {
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let frame = decode_one(Role::Client, &wire);
    assert_eq!(frame.header, FrameHeader::new(OpCode::Text, 5));
    assert_eq!(&frame.payload[..], b"Hello");
    assert_eq!(encode(&Frame::new(OpCode::Text, &b"Hello"[..])), wire);
}

#[test]
fn rfc_5_7_single_frame_masked_text() {
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let frame = decode_one(Role::Server, &wire);
    assert_eq!(frame.header.opcode, OpCode::Text);
    assert!(frame.header.fin);
    assert_eq!(frame.header.mask, Some(RFC_KEY));
    assert_eq!(frame.header.payload_len, 5);
    assert_eq!(&frame.payload[..], b"Hello");
    let sent = masked(Frame::new(OpCode::Text, &b"Hello"[..]), RFC_KEY);
    assert_eq!(encode(&sent), wire);
    // Decoding records the key, so the decoded frame re-encodes to the same bytes.
    assert_eq!(encode(&frame), wire);
}

#[test]
fn rfc_5_7_fragmented_unmasked_text() {
    let first = [0x01, 0x03, 0x48, 0x65, 0x6c];
    let second = [0x80, 0x02, 0x6c, 0x6f];

    // Both frames in one buffer: two decodes, in order.
    let mut buf = BytesMut::from([&first[..], &second[..]].concat().as_slice());
    let mut decoder = FrameDecoder::new(Role::Client);
    let a = decoder.decode(&mut buf).unwrap().unwrap();
    let b = decoder.decode(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty());
    assert_eq!(decoder.decode(&mut buf), Ok(None));

    assert_eq!(a.header.opcode, OpCode::Text);
    assert!(!a.header.fin);
    assert_eq!(&a.payload[..], b"Hel");
    assert_eq!(b.header.opcode, OpCode::Continuation);
    assert!(b.header.fin);
    assert_eq!(&b.payload[..], b"lo");

    assert_eq!(
        encode(&not_fin(Frame::new(OpCode::Text, &b"Hel"[..]))),
        first
    );
    assert_eq!(
        encode(&Frame::new(OpCode::Continuation, &b"lo"[..])),
        second
    );
}

#[test]
fn rfc_5_7_unmasked_ping() {
    let wire = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let frame = decode_one(Role::Client, &wire);
    assert_eq!(frame.header, FrameHeader::new(OpCode::Ping, 5));
    assert_eq!(&frame.payload[..], b"Hello");
    assert_eq!(encode(&Frame::new(OpCode::Ping, &b"Hello"[..])), wire);
}

#[test]
fn rfc_5_7_masked_pong() {
    let wire = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let frame = decode_one(Role::Server, &wire);
    assert_eq!(frame.header.opcode, OpCode::Pong);
    assert!(frame.header.fin);
    assert_eq!(frame.header.mask, Some(RFC_KEY));
    assert_eq!(&frame.payload[..], b"Hello");
    let sent = masked(Frame::new(OpCode::Pong, &b"Hello"[..]), RFC_KEY);
    assert_eq!(encode(&sent), wire);
}

#[test]
fn rfc_5_7_256_bytes_binary_in_one_unmasked_frame() {
    let payload = pattern(256);
    let mut wire = vec![0x82, 0x7E, 0x01, 0x00];
    wire.extend_from_slice(&payload);
    let frame = decode_one(Role::Client, &wire);
    assert_eq!(frame.header, FrameHeader::new(OpCode::Binary, 256));
    assert_eq!(frame.payload, payload);
    assert_eq!(encode(&Frame::new(OpCode::Binary, payload)), wire);
}

#[test]
fn rfc_5_7_64_kib_binary_in_one_unmasked_frame() {
    let payload = pattern(65536);
    let mut wire = vec![0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
    wire.extend_from_slice(&payload);
    let frame = decode_one(Role::Client, &wire);
    assert_eq!(frame.header, FrameHeader::new(OpCode::Binary, 65536));
    assert_eq!(frame.payload, payload);
    assert_eq!(encode(&Frame::new(OpCode::Binary, payload)), wire);
}

// ----- header rules: one test per MUST, each detected as early as possible -----

#[test]
fn reserved_opcodes_are_rejected_from_the_first_two_bytes() {
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
    // WebSocket Connection_."
    for opcode in (0x3..=0x7).chain(0xB..=0xF) {
        for role in [Role::Server, Role::Client] {
            let mask_bit = if role == Role::Server { 0x80 } else { 0 };
            let err = decode_err(&FrameDecoder::new(role), &[0x80 | opcode, mask_bit]);
            assert_eq!(err, ProtocolError::ReservedOpcode(opcode));
            assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
        }
        assert_eq!(
            OpCode::from_u8(opcode),
            Err(ProtocolError::ReservedOpcode(opcode))
        );
    }
}

#[test]
fn every_defined_opcode_round_trips_through_from_u8() {
    for opcode in [
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ] {
        assert_eq!(OpCode::from_u8(opcode.as_u8()), Ok(opcode));
        // §5.5: control frames have the opcode's most significant bit set.
        assert_eq!(opcode.is_control(), opcode.as_u8() >= 0x8);
    }
    assert_eq!(
        OpCode::from_u8(0x10),
        Err(ProtocolError::ReservedOpcode(0x10))
    );
}

#[test]
fn rsv_bits_without_an_extension_are_rejected() {
    // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings for
    // non-zero values".
    for (bit, expected) in [(0x40, 0b100), (0x20, 0b010), (0x10, 0b001), (0x70, 0b111)] {
        let err = decode_err(&FrameDecoder::new(Role::Server), &[0x82 | bit, 0x80]);
        assert_eq!(err, ProtocolError::ReservedBitsSet(expected));
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn rsv_bits_allowed_by_an_extension_are_accepted_and_reported() {
    let wire = [
        0xC1, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut decoder = FrameDecoder::new(Role::Server).allow_rsv(true, false, false);
    let mut buf = BytesMut::from(&wire[..]);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert!(frame.header.rsv1 && !frame.header.rsv2 && !frame.header.rsv3);
    assert_eq!(&frame.payload[..], b"Hello");
    assert_eq!(encode(&frame), wire);

    // Only the allowed bit: RSV2 is still reserved, and reported alone.
    let err = decode_err(&decoder, &[0xE1, 0x80]);
    assert_eq!(err, ProtocolError::ReservedBitsSet(0b010));

    let mut all = FrameDecoder::new(Role::Client).allow_rsv(true, true, true);
    let frame = all
        .decode(&mut BytesMut::from(&[0xF2, 0x01, 0xAB][..]))
        .unwrap()
        .unwrap();
    assert!(frame.header.rsv1 && frame.header.rsv2 && frame.header.rsv3);
    assert_eq!(encode(&frame), [0xF2, 0x01, 0xAB]);
}

#[test]
fn length_with_top_bit_set_is_rejected_before_the_key_arrives() {
    // §5.2: "the most significant bit MUST be 0".
    let wire = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
    let err = decode_err(&FrameDecoder::new(Role::Server), &wire);
    assert_eq!(err, ProtocolError::LengthTopBitSet);
    assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    // Even with no limit at all.
    let unlimited = FrameDecoder::new(Role::Client).max_payload_len(u64::MAX);
    let wire = [0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    assert_eq!(
        decode_err(&unlimited, &wire),
        ProtocolError::LengthTopBitSet
    );
}

#[test]
fn non_minimal_16_bit_length_is_rejected() {
    // §5.2: "the minimal number of bytes MUST be used to encode the length". Our explicit
    // choice is to fail on it rather than accept two encodings of one frame.
    for len in [0u16, 1, 125] {
        let [hi, lo] = len.to_be_bytes();
        let err = decode_err(&FrameDecoder::new(Role::Server), &[0x82, 0xFE, hi, lo]);
        assert_eq!(err, ProtocolError::NonMinimalLength, "length {len}");
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
    // 126 is the smallest length the 16-bit form may carry.
    let header = FrameDecoder::new(Role::Client)
        .decode_header(&[0x82, 0x7E, 0x00, 0x7E])
        .unwrap()
        .unwrap();
    assert_eq!(header, (FrameHeader::new(OpCode::Binary, 126), 4));
}

#[test]
fn non_minimal_64_bit_length_is_rejected() {
    for len in [0u64, 125, 126, 0xFFFF] {
        let mut wire = vec![0x82, 0xFF];
        wire.extend_from_slice(&len.to_be_bytes());
        let err = decode_err(&FrameDecoder::new(Role::Server), &wire);
        assert_eq!(err, ProtocolError::NonMinimalLength, "length {len}");
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
    // 65536 is the smallest length the 64-bit form may carry.
    let header = FrameDecoder::new(Role::Client)
        .decode_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        .unwrap()
        .unwrap();
    assert_eq!(header, (FrameHeader::new(OpCode::Binary, 65536), 10));
}

#[test]
fn control_frame_over_125_bytes_is_rejected_from_the_first_two_bytes() {
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    for opcode in [0x8, 0x9, 0xA] {
        for len7 in [126, 127] {
            let err = decode_err(
                &FrameDecoder::new(Role::Server),
                &[0x80 | opcode, 0x80 | len7],
            );
            assert_eq!(err, ProtocolError::ControlFrameTooLarge);
            assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
        }
    }
    // The full header of a 126-byte ping is rejected too, of course.
    let err = decode_err(&FrameDecoder::new(Role::Client), &[0x89, 0x7E, 0x00, 0x7E]);
    assert_eq!(err, ProtocolError::ControlFrameTooLarge);
    // 125 bytes is allowed.
    let mut wire = vec![0x89, 125];
    wire.extend_from_slice(&[0x55; MAX_CONTROL_PAYLOAD]);
    assert_eq!(
        decode_one(Role::Client, &wire).payload.len(),
        MAX_CONTROL_PAYLOAD
    );
}

#[test]
fn fragmented_control_frame_is_rejected_from_the_first_two_bytes() {
    // §5.5: control frames "MUST NOT be fragmented".
    for opcode in [0x8, 0x9, 0xA] {
        let err = decode_err(&FrameDecoder::new(Role::Server), &[opcode, 0x80]);
        assert_eq!(err, ProtocolError::FragmentedControlFrame);
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn unmasked_frame_to_a_server_is_rejected_from_the_first_two_bytes() {
    // §5.1: "The server MUST close the connection upon receiving a frame that is not
    // masked."
    for first in [0x81, 0x82, 0x00, 0x88, 0x89, 0x8A] {
        let err = decode_err(&FrameDecoder::new(Role::Server), &[first, 0x05]);
        assert_eq!(err, ProtocolError::UnmaskedFrameFromClient);
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn masked_frame_to_a_client_is_rejected_from_the_first_two_bytes() {
    // §5.1: "A client MUST close a connection if it detects a masked frame."
    for first in [0x81, 0x82, 0x00, 0x88, 0x89, 0x8A] {
        let err = decode_err(&FrameDecoder::new(Role::Client), &[first, 0x85]);
        assert_eq!(err, ProtocolError::MaskedFrameFromServer);
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn payload_over_the_limit_is_rejected_before_the_key_arrives() {
    let decoder = FrameDecoder::new(Role::Server).max_payload_len(100);
    assert_eq!(decoder.max_payload(), 100);
    assert_eq!(decoder.role(), Role::Server);
    let err = decode_err(&decoder, &[0x82, 0x80 | 101]);
    assert_eq!(err, ProtocolError::FrameTooLarge { len: 101, max: 100 });
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);

    let err = decode_err(&decoder, &[0x82, 0xFE, 0x01, 0x00]);
    assert_eq!(err, ProtocolError::FrameTooLarge { len: 256, max: 100 });
    let err = decode_err(&decoder, &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(
        err,
        ProtocolError::FrameTooLarge {
            len: 65536,
            max: 100
        }
    );

    // A limit of zero allows only empty frames.
    let mut zero = FrameDecoder::new(Role::Client).max_payload_len(0);
    assert_eq!(
        decode_err(&zero, &[0x89, 0x01]),
        ProtocolError::FrameTooLarge { len: 1, max: 0 }
    );
    let mut buf = BytesMut::from(&[0x89, 0x00][..]);
    assert_eq!(zero.decode(&mut buf).unwrap().unwrap().payload.len(), 0);
}

#[test]
fn the_first_broken_rule_is_reported() {
    // The documented order: opcode, RSV, control rules, mask, length encoding, limit.
    let server = FrameDecoder::new(Role::Server).max_payload_len(10);
    // Reserved opcode and RSV set and unmasked.
    assert_eq!(
        decode_err(&server, &[0x73, 0x00]),
        ProtocolError::ReservedOpcode(3)
    );
    // RSV set and fragmented ping.
    assert_eq!(
        decode_err(&server, &[0x49, 0x80]),
        ProtocolError::ReservedBitsSet(0b100)
    );
    // Fragmented ping, too large and unmasked.
    assert_eq!(
        decode_err(&server, &[0x09, 0x7E]),
        ProtocolError::FragmentedControlFrame
    );
    // Unmasked with a non-minimal length.
    assert_eq!(
        decode_err(&server, &[0x82, 0x7E, 0x00, 0x01]),
        ProtocolError::UnmaskedFrameFromClient
    );
    // Non-minimal length that is also over the limit.
    assert_eq!(
        decode_err(&server, &[0x82, 0xFE, 0x00, 0x20]),
        ProtocolError::NonMinimalLength
    );
}

// ----- limits cost nothing -----

#[test]
fn a_header_announcing_2_pow_63_minus_1_bytes_reserves_nothing() {
    let wire = [
        0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x03, 0x04,
    ];
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&wire);
    let before = buf.capacity();
    let err = FrameDecoder::new(Role::Server)
        .decode(&mut buf)
        .unwrap_err();
    assert_eq!(
        err,
        ProtocolError::FrameTooLarge {
            len: (1 << 63) - 1,
            max: FrameDecoder::DEFAULT_MAX_PAYLOAD_LEN,
        }
    );
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
    assert_eq!(buf.capacity(), before);
    assert_eq!(&buf[..], wire);
}

#[test]
fn a_header_at_the_limit_reserves_the_frame_and_one_over_reserves_nothing() {
    const MAX: u64 = 100_000;
    let mut decoder = FrameDecoder::new(Role::Server).max_payload_len(MAX);
    let header = |len: u64| {
        let mut wire = vec![0x82, 0xFF];
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&RFC_KEY);
        wire
    };

    let over = header(MAX + 1);
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&over);
    let before = buf.capacity();
    assert_eq!(
        decoder.decode(&mut buf),
        Err(ProtocolError::FrameTooLarge {
            len: MAX + 1,
            max: MAX
        })
    );
    assert_eq!(buf.capacity(), before);

    let at = header(MAX);
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&at);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(&buf[..], at);
    // Grown toward the frame, but a header alone commits at most MAX_EAGER_RESERVE.
    assert!(
        buf.capacity() >= at.len() + (100_000usize).min(MAX_EAGER_RESERVE),
        "capacity {}",
        buf.capacity()
    );
    assert!(
        buf.capacity() <= 2 * (at.len() + MAX_EAGER_RESERVE),
        "capacity {}",
        buf.capacity()
    );

    // And the frame decodes once its payload is there.
    buf.extend_from_slice(&vec![0u8; 100_000]);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(frame.payload.len(), 100_000);
    // A zero payload masked with the key reads back as the key repeated.
    assert!(frame.payload.chunks(4).all(|c| c == RFC_KEY));
}

// ----- need more -----

/// A set of valid frames of several shapes, with the role that receives them.
fn sample_frames() -> Vec<(Role, Vec<u8>)> {
    let mut samples = Vec::new();
    for len in [0usize, 1, 5, 125, 126, 300, 65535, 65536, 70000] {
        let payload = pattern(len);
        let frame = Frame::new(OpCode::Binary, payload.clone());
        samples.push((Role::Client, encode(&frame)));
        samples.push((Role::Server, encode(&masked(frame, RFC_KEY))));
    }
    samples.push((
        Role::Server,
        encode(&masked(Frame::new(OpCode::Ping, vec![]), RFC_KEY)),
    ));
    samples
}

#[test]
fn every_strict_prefix_needs_more_and_consumes_nothing() {
    for (role, wire) in sample_frames() {
        let decoder = FrameDecoder::new(role);
        let header_len = decoder.decode_header(&wire).unwrap().unwrap().1;
        // Every prefix of a short frame; for long ones, the header and the edges of the
        // payload (checking all 70000 prefixes of a 70000-byte frame adds nothing).
        let ends: Vec<usize> = if wire.len() <= 300 {
            (0..wire.len()).collect()
        } else {
            (0..=header_len + 2)
                .chain(wire.len() - 2..wire.len())
                .collect()
        };
        for end in ends {
            let mut buf = BytesMut::from(&wire[..end]);
            assert_eq!(
                decoder.clone().decode(&mut buf),
                Ok(None),
                "prefix of {end} of {}",
                wire.len()
            );
            // Nothing consumed; the payload that arrived may be unmasked in place (a
            // resumed decode goes on from there), the header is as it was.
            assert_eq!(buf.len(), end, "nothing consumed");
            let head = end.min(header_len);
            assert_eq!(&buf[..head], &wire[..head]);
            if end < header_len {
                assert_eq!(decoder.decode_header(&wire[..end]), Ok(None));
            } else {
                // The header is known: capacity grows toward the frame, by at most
                // MAX_EAGER_RESERVE ahead of the bytes received.
                assert!(
                    buf.capacity() >= wire.len().min(end + MAX_EAGER_RESERVE),
                    "capacity {} for a {}-byte frame",
                    buf.capacity(),
                    wire.len()
                );
            }
        }
        let mut buf = BytesMut::from(&wire[..]);
        assert!(decoder.clone().decode(&mut buf).unwrap().is_some());
        assert!(buf.is_empty());
    }
}

/// The decoder resumes where it stopped: the same frame fed a byte at a time into one
/// buffer decodes to the same payload as fed whole, each byte unmasked once.
#[test]
fn decoding_resumes_across_reads() {
    for (role, wire) in sample_frames() {
        let whole = FrameDecoder::new(role)
            .decode(&mut BytesMut::from(&wire[..]))
            .unwrap()
            .unwrap();
        let mut decoder = FrameDecoder::new(role);
        let mut buf = BytesMut::new();
        let mut got = None;
        for (i, byte) in wire.iter().enumerate() {
            buf.extend_from_slice(&[*byte]);
            if let Some(frame) = decoder.decode(&mut buf).unwrap() {
                assert_eq!(i, wire.len() - 1, "whole only at the last byte");
                got = Some(frame);
            }
        }
        assert_eq!(got, Some(whole));
        assert!(!decoder.is_mid_frame());
    }
}

#[test]
fn bytes_after_a_frame_are_left_for_the_next_decode() {
    let hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let mut wire = hello.to_vec();
    wire.extend_from_slice(&[0x89, 0x03, 0x61]); // part of the next frame
    let mut buf = BytesMut::from(&wire[..]);
    let mut decoder = FrameDecoder::new(Role::Client);
    let frame = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(&frame.payload[..], b"Hello");
    assert_eq!(&buf[..], &[0x89, 0x03, 0x61]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"bc");
    let ping = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(ping.header.opcode, OpCode::Ping);
    assert_eq!(&ping.payload[..], b"abc");
    assert!(buf.is_empty());
}

// ----- encoding -----

#[test]
fn lengths_are_encoded_minimally_at_every_boundary() {
    // §5.2: 0-125 in the 7-bit field, 126-65535 after 126, larger after 127.
    let cases: [(usize, &[u8]); 5] = [
        (0, &[0x82, 0x00]),
        (125, &[0x82, 0x7D]),
        (126, &[0x82, 0x7E, 0x00, 0x7E]),
        (65535, &[0x82, 0x7E, 0xFF, 0xFF]),
        (65536, &[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]),
    ];
    for (len, head) in cases {
        let payload = pattern(len);
        let wire = encode(&Frame::new(OpCode::Binary, payload.clone()));
        assert_eq!(&wire[..head.len()], head, "length {len}");
        assert_eq!(&wire[head.len()..], payload);

        let header = FrameHeader::new(OpCode::Binary, len as u64);
        assert_eq!(header.encoded_len(), head.len());
        let mut out = [0u8; MAX_HEADER_LEN];
        assert_eq!(header.encode(&mut out), head.len());
        assert_eq!(&out[..head.len()], head);

        // With a mask the key follows the length, and the mask bit is set.
        let header = FrameHeader {
            mask: Some(RFC_KEY),
            ..header
        };
        assert_eq!(header.encoded_len(), head.len() + 4);
        assert_eq!(header.encode(&mut out), head.len() + 4);
        assert_eq!(out[1], head[1] | 0x80);
        assert_eq!(&out[2..head.len()], &head[2..]);
        assert_eq!(&out[head.len()..head.len() + 4], RFC_KEY);

        // Every encoding decodes back.
        assert_eq!(
            decode_one(Role::Client, &wire),
            Frame::new(OpCode::Binary, payload)
        );
    }
    // The largest length there is: 14 bytes of header.
    let header = FrameHeader {
        mask: Some(RFC_KEY),
        ..FrameHeader::new(OpCode::Binary, (1 << 63) - 1)
    };
    let mut out = [0u8; MAX_HEADER_LEN];
    assert_eq!(header.encode(&mut out), MAX_HEADER_LEN);
    assert_eq!(
        &out[..10],
        &[0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    );
}

#[test]
#[should_panic(expected = "payload length over 2^63 - 1")]
fn encoding_a_length_with_the_top_bit_set_panics() {
    // Documented contract: no payload in memory is that long, §5.2 forbids it.
    let mut out = [0u8; MAX_HEADER_LEN];
    FrameHeader::new(OpCode::Binary, 1 << 63).encode(&mut out);
}

#[test]
fn header_bits_are_encoded_where_5_2_puts_them() {
    let mut out = [0u8; MAX_HEADER_LEN];
    let header = FrameHeader {
        fin: false,
        rsv1: true,
        rsv2: false,
        rsv3: true,
        opcode: OpCode::Continuation,
        mask: None,
        payload_len: 3,
    };
    assert_eq!(header.encode(&mut out), 2);
    assert_eq!(&out[..2], &[0b0101_0000, 3]);
    // `payload_len` of a whole frame is taken from its payload, not the header.
    let frame = Frame {
        header: FrameHeader::new(OpCode::Text, 999),
        payload: Bytes::from_static(b"ab"),
    };
    assert_eq!(encode(&frame), [0x81, 0x02, b'a', b'b']);
}

#[test]
fn client_frames_are_masked_with_the_given_key() {
    let payload = pattern(300);
    let key = [0xA1, 0x00, 0xFF, 0x5C];
    let wire = encode(&masked(Frame::new(OpCode::Binary, payload.clone()), key));
    assert_eq!(&wire[..4], &[0x82, 0xFE, 0x01, 0x2C]);
    assert_eq!(&wire[4..8], &key);
    // §5.3: "octet i of the transformed data is the XOR of octet i of the original data
    // with octet at index i modulo 4 of the masking key".
    for (i, (&sent, &original)) in wire[8..].iter().zip(&payload).enumerate() {
        assert_eq!(sent, original ^ key[i % 4], "byte {i}");
    }
    let frame = decode_one(Role::Server, &wire);
    assert_eq!(frame.payload, payload);
    assert_eq!(frame.header.mask, Some(key));
}

#[test]
fn client_frames_are_masked_with_a_key_from_a_random_source() {
    // A predictable source, as only tests may use (§10.3).
    let mut next = 0x10u8;
    let mut source = |buf: &mut [u8]| {
        for b in buf {
            *b = next;
            next = next.wrapping_mul(5).wrapping_add(3);
        }
    };
    let mut keys = Vec::new();
    for text in ["Hello", "a fresh key per frame (§5.3)"] {
        let mut key = [0u8; 4];
        source.fill_bytes(&mut key);
        keys.push(key);
        let wire = encode(&masked(
            Frame::new(OpCode::Text, text.as_bytes().to_vec()),
            key,
        ));
        assert_eq!(wire[1] & 0x80, 0x80, "MASK bit set");
        assert_eq!(&wire[2..6], &key);
        let mut unmasked = wire[6..].to_vec();
        assert_eq!(apply_mask(&mut unmasked, key, 0), text.len() % 4);
        assert_eq!(unmasked, text.as_bytes());
        assert_eq!(
            &decode_one(Role::Server, &wire).payload[..],
            text.as_bytes()
        );
    }
    assert_eq!(keys, [[0x10, 0x53, 0xA2, 0x2D], [0xE4, 0x77, 0x56, 0xB1]]);
}

#[test]
fn a_vectored_write_of_header_and_payload_equals_frame_encode() {
    for (len, mask) in [
        (0, None),
        (5, None),
        (200, Some(RFC_KEY)),
        (70000, None),
        (70000, Some(RFC_KEY)),
    ] {
        let frame = Frame {
            header: FrameHeader {
                mask,
                ..FrameHeader::new(OpCode::Binary, len as u64)
            },
            payload: Bytes::from(pattern(len)),
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = frame.header.encode(&mut head);
        // A sender masks its own copy of the payload; an unmasked payload goes as is.
        let body = match mask {
            Some(key) => {
                let mut copy = frame.payload.to_vec();
                apply_mask(&mut copy, key, 0);
                Bytes::from(copy)
            }
            None => frame.payload.clone(),
        };
        let mut out = Vec::new();
        let written = out
            .write_vectored(&[IoSlice::new(&head[..head_len]), IoSlice::new(&body)])
            .unwrap();
        assert_eq!(written, head_len + len);
        assert_eq!(out, encode(&frame), "length {len}, mask {mask:?}");
    }
}

#[test]
fn encode_appends_after_existing_bytes() {
    let mut out = b"prefix".to_vec();
    masked(Frame::new(OpCode::Text, &b"Hello"[..]), RFC_KEY).encode(&mut out);
    Frame::new(OpCode::Ping, Bytes::new()).encode(&mut out);
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(
        &out[6..],
        &[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x89, 0x00
        ]
    );
}

#[test]
fn a_huge_header_under_an_unlimited_limit_does_not_panic_or_reserve_it() {
    // DESIGN.md: "a 2^63-byte length header costs nothing" and "No input may panic".
    // With `max_payload_len(u64::MAX)` a 14-byte header makes `decode` call
    // `BytesMut::reserve(2^63 + 13)`, which panics ("capacity overflow"); a header of
    // 2^40 bytes would make it abort on allocation failure instead.
    let wire = [
        0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x03, 0x04,
    ];
    let mut buf = BytesMut::from(&wire[..]);
    let mut decoder = FrameDecoder::new(Role::Server).max_payload_len(u64::MAX);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(&buf[..], wire);
    assert!(buf.capacity() < 1 << 30, "capacity {}", buf.capacity());
}
