//! Differential: any frame → encode → decode (fed in chunks chosen by the input) → the
//! same frame, and the canonical bytes re-encode to themselves. The encoding is also
//! checked against the reference encoder (tests/support/reference.rs), and the decoding
//! against the reference decoder, so that a bug shared by our encoder and decoder (a
//! mask that skips a byte on both sides) cannot pass.
#![no_main]

use arbitrary::Arbitrary;
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::frame::{Frame, FrameDecoder, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};

#[path = "../../tests/support/reference.rs"]
mod reference;

#[derive(Debug, Arbitrary)]
struct Input {
    fin: bool,
    rsv1: bool,
    rsv2: bool,
    rsv3: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    chunks: Vec<u16>,
}

fuzz_target!(|input: Input| {
    let opcode = match input.opcode % 6 {
        0 => OpCode::Continuation,
        1 => OpCode::Text,
        2 => OpCode::Binary,
        3 => OpCode::Close,
        4 => OpCode::Ping,
        _ => OpCode::Pong,
    };
    let mut payload = input.payload;
    let mut fin = input.fin;
    if opcode.is_control() {
        payload.truncate(MAX_CONTROL_PAYLOAD);
        fin = true;
    }
    let frame = Frame {
        header: FrameHeader {
            fin,
            rsv1: input.rsv1,
            rsv2: input.rsv2,
            rsv3: input.rsv3,
            opcode,
            mask: input.mask,
            payload_len: payload.len() as u64,
        },
        payload: Bytes::from(payload),
    };
    let mut wire = Vec::new();
    frame.encode(&mut wire);
    let h = frame.header;
    let b0 = u8::from(h.fin) << 7
        | u8::from(h.rsv1) << 6
        | u8::from(h.rsv2) << 5
        | u8::from(h.rsv3) << 4
        | h.opcode.as_u8();
    let len = frame.payload.len() as u64;
    assert_eq!(
        wire,
        reference::encode(b0, &frame.payload, h.mask, len, None),
        "the encoding differs from the reference encoder"
    );
    let end = if h.mask.is_some() {
        reference::End::Server
    } else {
        reference::End::Client
    };
    let mut reader = reference::FrameReader::new(end, 0b111, u64::MAX >> 1);
    let mut from_reference = None;
    for &byte in &wire {
        match reader.push(byte) {
            reference::Read::Frame(f) => from_reference = Some(f),
            reference::Read::Header { .. } => {
                from_reference = reader.take_empty().or(from_reference)
            }
            reference::Read::Refused(why) => panic!("the reference refuses our frame: {why:?}"),
            _ => {}
        }
    }
    let reference_frame = from_reference.expect("the reference reads the whole frame");
    assert_eq!(reference_frame.payload, &frame.payload[..]);
    assert_eq!(reference_frame.wire_len, wire.len());

    // A server receives masked frames, a client unmasked ones.
    let role = if frame.header.mask.is_some() {
        Role::Server
    } else {
        Role::Client
    };
    let mut decoder = FrameDecoder::new(role)
        .allow_rsv(true, true, true)
        .max_payload_len(u64::MAX >> 1);
    let mut buf = BytesMut::new();
    let mut rest = &wire[..];
    let mut sizes = input.chunks.iter().map(|&n| usize::from(n).max(1)).cycle();
    let mut decoded = None;
    while decoded.is_none() && !rest.is_empty() {
        let n = if input.chunks.is_empty() {
            rest.len()
        } else {
            sizes.next().unwrap_or(1)
        };
        let n = n.min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        decoded = decoder.decode(&mut buf).expect("an encoded frame decodes");
    }
    let decoded = decoded.expect("the whole frame decodes once all its bytes are in");
    assert_eq!(decoded, frame);
    assert!(buf.is_empty() && rest.is_empty());

    let mut again = Vec::new();
    decoded.encode(&mut again);
    assert_eq!(again, wire);
});
