//! Arbitrary bytes into the frame decoder, for both roles, RSV bits and a small or the
//! default payload limit picked by the first byte: never a panic, every decoded frame is
//! consistent with the bytes it consumed, and the decoder finds exactly the frames the
//! byte-at-a-time reference decoder (tests/support/reference.rs) finds, and refuses at
//! the same frame for the same kind of reason (1002 or 1009).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rfc6455::frame::FrameDecoder;
use rfc6455::{ProtocolError, Role};

#[path = "../../tests/support/reference.rs"]
mod reference;

use reference::{End, FrameReader, Read, Refusal};

/// Frames as (first byte, masking key, unmasked payload).
type Frames = Vec<(u8, Option<[u8; 4]>, Vec<u8>)>;

/// What the reference finds: the frames, then a refusal or the end of the input.
fn reference_frames(end: End, allowed: u8, max: u64, input: &[u8]) -> (Frames, Option<Refusal>) {
    let mut reader = FrameReader::new(end, allowed, max);
    let mut frames = Vec::new();
    let tuple = |f: reference::RefFrame| {
        (
            u8::from(f.fin) << 7 | f.rsv << 4 | f.opcode,
            f.key,
            f.payload,
        )
    };
    for &b in input {
        match reader.push(b) {
            Read::Refused(why) => return (frames, Some(why)),
            Read::Frame(f) => frames.push(tuple(f)),
            Read::Header { .. } => {
                if let Some(f) = reader.take_empty() {
                    frames.push(tuple(f));
                }
            }
            Read::More | Read::Payload(_) => {}
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let (selector, input) = data.split_first().unwrap_or((&0, &[]));
    let (role, end) = if selector & 1 == 0 {
        (Role::Server, End::Server)
    } else {
        (Role::Client, End::Client)
    };
    let allowed = (selector & 2) << 1 | (selector & 4) >> 2; // RSV1 and RSV3
    let mut decoder = FrameDecoder::new(role).allow_rsv(allowed & 4 != 0, false, allowed & 1 != 0);
    if selector & 8 != 0 {
        decoder = decoder.max_payload_len(u64::from(selector >> 4) * 16);
    }
    let max = decoder.max_payload();
    let mut buf = BytesMut::from(input);
    let mut frames: Frames = Vec::new();
    let refusal = loop {
        let before = buf.len();
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => {
                let header_len = frame.header.encoded_len();
                assert_eq!(before - buf.len(), header_len + frame.payload.len());
                assert_eq!(frame.header.payload_len, frame.payload.len() as u64);
                assert!(frame.header.payload_len <= decoder.max_payload());
                let h = frame.header;
                let b0 = u8::from(h.fin) << 7
                    | u8::from(h.rsv1) << 6
                    | u8::from(h.rsv2) << 5
                    | u8::from(h.rsv3) << 4
                    | h.opcode.as_u8();
                frames.push((b0, h.mask, frame.payload.to_vec()));
            }
            Ok(None) => {
                assert_eq!(buf.len(), before, "need-more must not consume");
                break None;
            }
            Err(e) => {
                assert_eq!(buf.len(), before, "an error must not consume");
                break Some(match e {
                    ProtocolError::FrameTooLarge { .. } => Refusal::TooBig,
                    _ => Refusal::Malformed,
                });
            }
        }
    };
    assert_eq!(
        (frames, refusal),
        reference_frames(end, allowed, max, input),
        "the decoder differs from the reference"
    );
});
