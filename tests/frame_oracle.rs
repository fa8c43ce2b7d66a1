//! The frame codec against oracles it does not share code with: the reference decoder
//! and encoder of `tests/support/reference.rs` (byte at a time), and tungstenite's frame
//! codec. A bug that the encoder and the decoder share — a mask that skips a byte on both
//! sides, a length written and read in the wrong form — passes a round trip through our
//! own codec; it does not pass these.

#[path = "support/reference.rs"]
mod reference;

use std::io::{self, Read, Write};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use reference::{End, FrameReader, Read as RefRead, Refusal};
use rfc6455::frame::{Frame, FrameDecoder, FrameHeader, OpCode};
use rfc6455::{ProtocolError, Role};
use tungstenite::protocol::frame::{FrameHeader as TFrameHeader, FrameSocket, coding};

const OPCODES: [OpCode; 6] = [
    OpCode::Continuation,
    OpCode::Text,
    OpCode::Binary,
    OpCode::Close,
    OpCode::Ping,
    OpCode::Pong,
];

/// Payload lengths at the edges of the three length forms (§5.2), of the mask's word and
/// block loops (4, 8, 32 bytes), and in between.
fn payload_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => prop::sample::select(vec![
            0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 124, 125, 126, 127, 128,
            65_535, 65_536, 65_537,
        ]),
        4 => 0..300usize,
        1 => 0..70_000usize,
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    (payload_len(), any::<u64>()).prop_map(|(len, seed)| {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    })
}

/// A frame a peer may send: control frames final and at most 125 bytes (§5.5).
fn frame() -> impl Strategy<Value = Frame> {
    (
        prop::sample::select(OPCODES.to_vec()),
        any::<bool>(),
        any::<[bool; 3]>(),
        prop::option::of(any::<[u8; 4]>()),
        payload(),
    )
        .prop_map(|(opcode, fin, [rsv1, rsv2, rsv3], mask, mut payload)| {
            if opcode.is_control() {
                payload.truncate(125);
            }
            Frame {
                header: FrameHeader {
                    fin: fin || opcode.is_control(),
                    rsv1,
                    rsv2,
                    rsv3,
                    opcode,
                    mask,
                    payload_len: payload.len() as u64,
                },
                payload: payload.into(),
            }
        })
}

fn first_byte(h: &FrameHeader) -> u8 {
    u8::from(h.fin) << 7
        | u8::from(h.rsv1) << 6
        | u8::from(h.rsv2) << 5
        | u8::from(h.rsv3) << 4
        | h.opcode.as_u8()
}

/// An in-memory stream for tungstenite's `FrameSocket`.
struct Bytes0 {
    input: Vec<u8>,
    at: usize,
    output: Vec<u8>,
}

impl Read for Bytes0 {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (self.input.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Bytes0 {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Our encoder writes exactly the bytes of the reference encoder: the first byte, the
    /// length in its minimal form, the key, the payload masked byte by byte (§5.2, §5.3).
    #[test]
    fn encoder_matches_the_reference(frame in frame()) {
        let mut ours = Vec::new();
        frame.encode(&mut ours);
        let reference = reference::encode(
            first_byte(&frame.header),
            &frame.payload,
            frame.header.mask,
            frame.payload.len() as u64,
            None,
        );
        prop_assert_eq!(ours, reference);
    }

    /// What our encoder writes, tungstenite reads as the same header, length and (once
    /// unmasked by the reference) payload.
    #[test]
    fn tungstenite_reads_what_we_write(frame in frame()) {
        let mut wire = Vec::new();
        frame.encode(&mut wire);
        let total = wire.len();
        let mut socket = FrameSocket::new(Bytes0 { input: wire, at: 0, output: Vec::new() });
        let theirs = socket.read(None).expect("tungstenite parses it").expect("a whole frame");
        let h = theirs.header();
        prop_assert_eq!(
            (h.is_final, h.rsv1, h.rsv2, h.rsv3, u8::from(h.opcode), h.mask),
            (frame.header.fin, frame.header.rsv1, frame.header.rsv2, frame.header.rsv3,
             frame.header.opcode.as_u8(), frame.header.mask)
        );
        prop_assert_eq!(h.len(theirs.payload().len() as u64) + theirs.payload().len(), total);
        let mut payload = theirs.payload().to_vec();
        if let Some(key) = frame.header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        prop_assert_eq!(&payload[..], &frame.payload[..]);
    }

    /// What tungstenite writes (masking with its own code), our decoder reads back, for the
    /// role that receives it, in any chunking.
    #[test]
    fn we_read_what_tungstenite_writes(frame in frame(), chunk in 1usize..200) {
        let header = TFrameHeader {
            is_final: frame.header.fin,
            rsv1: frame.header.rsv1,
            rsv2: frame.header.rsv2,
            rsv3: frame.header.rsv3,
            opcode: coding::OpCode::from(frame.header.opcode.as_u8()),
            mask: frame.header.mask,
        };
        let theirs = tungstenite::protocol::frame::Frame::from_payload(header, frame.payload.clone());
        let mut socket = FrameSocket::new(Bytes0 { input: Vec::new(), at: 0, output: Vec::new() });
        socket.send(theirs).unwrap();
        let wire = std::mem::take(&mut socket.get_mut().output);
        let role = if frame.header.mask.is_some() { Role::Server } else { Role::Client };
        let mut decoder = FrameDecoder::new(role).allow_rsv(true, true, true);
        let mut buf = BytesMut::new();
        let mut decoded = None;
        for piece in wire.chunks(chunk) {
            prop_assert!(decoded.is_none(), "decoded before the last byte");
            buf.extend_from_slice(piece);
            decoded = decoder.decode(&mut buf).expect("a valid frame");
        }
        prop_assert_eq!(decoded, Some(frame));
        prop_assert!(buf.is_empty());
    }
}

// ----- the decoder against the reference, on headers with one thing wrong -----

/// A frame's bytes with one change to its header: a byte replaced, a bit flipped, or the
/// length written in another form.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Byte(prop::sample::Index, u8),
    Bit(prop::sample::Index, u8),
    LengthForm(u8, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => Just(Mutation::None),
        2 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        3 => (any::<prop::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Bit(i, b)),
        2 => (prop::sample::select(vec![7u8, 16, 64]), prop_oneof![
            prop::sample::select(vec![0u64, 125, 126, 127, 0xFFFF, 0x1_0000, 1 << 63, u64::MAX]),
            any::<u64>(),
        ]).prop_map(|(form, len)| Mutation::LengthForm(form, len)),
    ]
}

/// What a decoder said about one stream: the frames and then need-more, or a refusal.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The frames (first byte, key, unmasked payload) and whether bytes of an incomplete
    /// frame are left.
    Frames(Vec<(u8, Option<[u8; 4]>, Vec<u8>)>, bool),
    Refused(Refusal, usize),
}

fn ours(role: Role, allowed: u8, max: u64, input: &[u8], chunk: usize) -> Verdict {
    let mut decoder = FrameDecoder::new(role)
        .allow_rsv(allowed & 4 != 0, allowed & 2 != 0, allowed & 1 != 0)
        .max_payload_len(max);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => {
                    frames.push((first_byte(&f.header), f.header.mask, f.payload.to_vec()))
                }
                Ok(None) => break,
                Err(ProtocolError::FrameTooLarge { .. }) => {
                    return Verdict::Refused(Refusal::TooBig, frames.len());
                }
                Err(_) => return Verdict::Refused(Refusal::Malformed, frames.len()),
            }
        }
    }
    Verdict::Frames(frames, !buf.is_empty())
}

fn reference_verdict(role: Role, allowed: u8, max: u64, input: &[u8]) -> Verdict {
    let end = if role == Role::Server {
        End::Server
    } else {
        End::Client
    };
    let mut reader = FrameReader::new(end, allowed, max);
    let mut frames = Vec::new();
    let mut pending = false;
    let to_tuple = |f: reference::RefFrame| {
        (
            u8::from(f.fin) << 7 | f.rsv << 4 | f.opcode,
            f.key,
            f.payload,
        )
    };
    for &b in input {
        pending = true;
        match reader.push(b) {
            RefRead::Refused(why) => return Verdict::Refused(why, frames.len()),
            RefRead::Frame(f) => {
                frames.push(to_tuple(f));
                pending = false;
            }
            RefRead::Header { .. } => {
                if let Some(f) = reader.take_empty() {
                    frames.push(to_tuple(f));
                    pending = false;
                }
            }
            RefRead::More | RefRead::Payload(_) => {}
        }
    }
    Verdict::Frames(frames, pending)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Valid frames, one of them with a changed header, for a receiver with or without
    /// RSV bits allowed and with a small or large limit: our decoder, fed in any
    /// chunking, finds the same frames and refuses at the same frame for the same kind of
    /// reason (1002 or 1009) as the reference.
    #[test]
    fn decoder_matches_the_reference_on_mutated_headers(
        frames in prop::collection::vec(frame(), 1..4),
        which in any::<prop::sample::Index>(),
        mutation in mutation(),
        server in any::<bool>(),
        allowed in 0u8..8,
        max in prop_oneof![Just(u64::MAX >> 1), Just(16u64 << 20), 0u64..200],
        chunk in 1usize..40,
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let mut input = Vec::new();
        let k = which.index(frames.len());
        for (i, frame) in frames.iter().enumerate() {
            // Masked toward a server (§5.1), with the frame's key or a fixed one.
            let key = server.then(|| frame.header.mask.unwrap_or([0x11, 0x22, 0x33, 0x44]));
            let b0 = first_byte(&frame.header);
            let len = frame.payload.len() as u64;
            let mut bytes = reference::encode(b0, &frame.payload, key, len, None);
            if i == k {
                let header_len = bytes.len() - frame.payload.len();
                match &mutation {
                    Mutation::None => {}
                    Mutation::Byte(at, b) => bytes[at.index(header_len)] = *b,
                    Mutation::Bit(at, bit) => bytes[at.index(header_len)] ^= 1 << bit,
                    Mutation::LengthForm(form, announced) => {
                        bytes = reference::encode(b0, &frame.payload, key, *announced, Some(*form));
                    }
                }
            }
            input.extend(bytes);
        }
        let want = reference_verdict(role, allowed, max, &input);
        for chunk in [input.len().max(1), 1, chunk] {
            prop_assert_eq!(ours(role, allowed, max, &input, chunk), want_clone(&want), "chunk {}", chunk);
        }
    }
}

fn want_clone(v: &Verdict) -> Verdict {
    match v {
        Verdict::Frames(f, p) => Verdict::Frames(f.clone(), *p),
        Verdict::Refused(r, n) => Verdict::Refused(*r, *n),
    }
}

/// The examples of §5.7, through the reference decoder and our encoder: the RFC's bytes.
#[test]
fn rfc_5_7_examples_through_both() {
    let hello = Bytes::from_static(b"Hello");
    let cases: [(&[u8], Frame); 4] = [
        (
            b"\x81\x05\x48\x65\x6c\x6c\x6f",
            Frame::new(OpCode::Text, hello.clone()),
        ),
        (
            b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
            Frame {
                header: FrameHeader {
                    mask: Some([0x37, 0xfa, 0x21, 0x3d]),
                    ..FrameHeader::new(OpCode::Text, 5)
                },
                payload: hello.clone(),
            },
        ),
        (
            b"\x89\x05\x48\x65\x6c\x6c\x6f",
            Frame::new(OpCode::Ping, hello.clone()),
        ),
        (
            b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
            Frame {
                header: FrameHeader {
                    mask: Some([0x37, 0xfa, 0x21, 0x3d]),
                    ..FrameHeader::new(OpCode::Pong, 5)
                },
                payload: hello,
            },
        ),
    ];
    for (wire, frame) in cases {
        let mut ours = Vec::new();
        frame.encode(&mut ours);
        assert_eq!(ours, wire);
        let end = if frame.header.mask.is_some() {
            End::Server
        } else {
            End::Client
        };
        let (frames, left) = reference::decode_all(end, wire).unwrap();
        assert_eq!((frames.len(), left), (1, 0));
        assert_eq!(frames[0].payload, b"Hello");
    }
    // A 256-byte and a 65536-byte unmasked binary message (§5.7): 126 + 16-bit length,
    // 127 + 64-bit length.
    for (len, head) in [
        (256usize, &b"\x82\x7e\x01\x00"[..]),
        (65_536, b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ] {
        let mut ours = Vec::new();
        Frame::new(OpCode::Binary, vec![7; len]).encode(&mut ours);
        assert_eq!(&ours[..head.len()], head);
        assert_eq!(ours.len(), head.len() + len);
    }
}

/// `reset` forgets the frame in progress: the next bytes are read as a new header, not as
/// the old frame's payload.
#[test]
fn reset_forgets_the_frame_in_progress() {
    let mut decoder = FrameDecoder::new(Role::Client);
    let mut buf = BytesMut::from(&b"\x82\x05ab"[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(decoder.is_mid_frame());
    decoder.reset();
    assert!(!decoder.is_mid_frame());
    let mut buf = BytesMut::from(&b"\x81\x02hi"[..]);
    let frame = decoder
        .decode(&mut buf)
        .unwrap()
        .expect("a new whole frame");
    assert_eq!(
        (frame.header.opcode, &frame.payload[..]),
        (OpCode::Text, &b"hi"[..])
    );
}
