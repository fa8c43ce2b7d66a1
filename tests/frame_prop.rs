//! Properties of the frame codec: any frames, encoded and fed to the decoder in any
//! chunking, come back unchanged; no input makes the decoder panic; and every frame the
//! decoder accepts is in the one canonical encoding, so it re-encodes to the same bytes.

use bytes::BytesMut;
use proptest::prelude::*;
use rfc6455::frame::{Frame, FrameDecoder, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};
use rfc6455::{ProtocolError, Role};

const OPCODES: [OpCode; 6] = [
    OpCode::Continuation,
    OpCode::Text,
    OpCode::Binary,
    OpCode::Close,
    OpCode::Ping,
    OpCode::Pong,
];

/// Payload lengths, weighted toward the edges of the three length encodings (§5.2).
fn payload_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => prop::sample::select(vec![0, 1, 3, 4, 5, 124, 125, 126, 127, 65535, 65536, 65537]),
        5 => 0..300usize,
        1 => 0..70_000usize,
    ]
}

/// `len` bytes derived from `seed`, cheaply (proptest need not generate 70000 values).
fn filled(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A frame as a peer of `receiver` may send it: masked toward a server only, control
/// frames final with at most 125 bytes, RSV bits only if `rsv` allows them.
fn frame(receiver: Role, rsv: bool) -> impl Strategy<Value = Frame> {
    (
        prop::sample::select(OPCODES.to_vec()),
        any::<bool>(),
        any::<[bool; 3]>(),
        any::<[u8; 4]>(),
        payload_len(),
        any::<u64>(),
    )
        .prop_map(move |(opcode, fin, [rsv1, rsv2, rsv3], key, len, seed)| {
            let (fin, len) = if opcode.is_control() {
                (true, len % (MAX_CONTROL_PAYLOAD + 1))
            } else {
                (fin, len)
            };
            Frame {
                header: FrameHeader {
                    fin,
                    rsv1: rsv && rsv1,
                    rsv2: rsv && rsv2,
                    rsv3: rsv && rsv3,
                    opcode,
                    mask: (receiver == Role::Server).then_some(key),
                    payload_len: len as u64,
                },
                payload: filled(len, seed).into(),
            }
        })
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Server), Just(Role::Client)]
}

/// Frames for one receiver, with whether RSV bits are negotiated.
fn frames() -> impl Strategy<Value = (Role, bool, Vec<Frame>)> {
    (role(), any::<bool>()).prop_flat_map(|(receiver, rsv)| {
        (
            Just(receiver),
            Just(rsv),
            prop::collection::vec(frame(receiver, rsv), 1..6),
        )
    })
}

/// Chunk sizes, used in turn until the input runs out: single bytes, small pieces and
/// large ones.
fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![1..4usize, 1..200usize, 1..100_000usize], 1..12)
}

/// Feeds `wire` to `decoder` in chunks of `sizes` (cycled), decoding after each chunk
/// until the decoder needs more, as a caller reading from a socket would.
fn decode_in_chunks(
    mut decoder: FrameDecoder,
    wire: &[u8],
    sizes: &[usize],
) -> Result<(Vec<Frame>, BytesMut), ProtocolError> {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut rest = wire;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        buf.extend_from_slice(chunk);
        while let Some(frame) = decoder.decode(&mut buf)? {
            frames.push(frame);
        }
    }
    Ok((frames, buf))
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut wire = Vec::new();
    for frame in frames {
        frame.encode(&mut wire);
    }
    wire
}

/// Mutates valid frame streams: the decoder spends more time past the first byte than
/// it would on uniformly random input.
fn mangled_frames() -> impl Strategy<Value = (Role, Vec<u8>)> {
    (
        frames(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    )
        .prop_map(|((receiver, _, frames), edits)| {
            let mut wire = encode_all(&frames);
            for (at, byte) in edits {
                if !wire.is_empty() {
                    let at = at % wire.len();
                    wire[at] = byte;
                }
            }
            (receiver, wire)
        })
}

/// Limits including tiny ones, so that every length encoding can exceed them.
fn limit() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![
        0,
        1,
        125,
        126,
        65535,
        65536,
        FrameDecoder::DEFAULT_MAX_PAYLOAD_LEN,
    ])
}

/// Decodes `input` until the decoder needs more or fails, checking the contract on the
/// way: an error or "need more" leaves the buffer alone; a frame consumes exactly its
/// header and payload, and respects the limit. `decode_slice` (in place, borrowed) gives
/// the same result as `decode` at every step.
fn check_decode_contract(mut decoder: FrameDecoder, input: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = BytesMut::from(input);
    let mut slice_decoder = decoder.clone();
    loop {
        let before = buf.clone();
        let mut in_place = before.to_vec();
        let sliced = slice_decoder
            .decode_slice(&mut in_place)
            .map(|f| f.map(|f| (f.header, f.payload.to_vec(), f.consumed)));
        let decoded = decoder.decode(&mut buf);
        prop_assert_eq!(
            sliced,
            decoded.clone().map(|f| f.map(|f| {
                let consumed = before.len() - buf.len();
                (f.header, f.payload.to_vec(), consumed)
            }))
        );
        match decoded {
            Ok(Some(frame)) => {
                let (header, header_len) = decoder
                    .decode_header(&before)
                    .expect("decode_header agrees with decode")
                    .expect("a whole header");
                prop_assert_eq!(header, frame.header);
                prop_assert!(header.payload_len <= decoder.max_payload());
                prop_assert_eq!(frame.payload.len() as u64, header.payload_len);
                prop_assert_eq!(buf.len(), before.len() - header_len - frame.payload.len());
                prop_assert_eq!(&buf[..], &before[header_len + frame.payload.len()..]);
            }
            Ok(None) => {
                // Nothing consumed; a partial payload may have been unmasked in place,
                // which a resumed decode continues (the header is untouched).
                prop_assert_eq!(buf.len(), before.len());
                prop_assert_eq!(&buf[..2.min(buf.len())], &before[..2.min(before.len())]);
                return Ok(());
            }
            Err(err) => {
                prop_assert_eq!(&buf[..], &before[..]);
                prop_assert_eq!(decoder.decode_header(&before), Err(err));
                return Ok(());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// §5.2-§5.4: frames survive encoding and any split of the byte stream, in order.
    #[test]
    fn frames_round_trip_through_any_chunking(
        (receiver, rsv, frames) in frames(),
        sizes in chunk_sizes(),
    ) {
        let wire = encode_all(&frames);
        let decoder = FrameDecoder::new(receiver).allow_rsv(rsv, rsv, rsv);
        let (decoded, rest) = decode_in_chunks(decoder, &wire, &sizes)
            .map_err(|e| TestCaseError::fail(format!("decode failed: {e}")))?;
        prop_assert!(rest.is_empty());
        prop_assert_eq!(decoded.len(), frames.len());
        for (got, sent) in decoded.iter().zip(&frames) {
            prop_assert_eq!(got, sent);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// No input panics, for either role, any RSV negotiation and any limit.
    #[test]
    fn arbitrary_bytes_never_panic(
        receiver in role(),
        rsv in any::<[bool; 3]>(),
        max in limit(),
        input in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let decoder = FrameDecoder::new(receiver)
            .allow_rsv(rsv[0], rsv[1], rsv[2])
            .max_payload_len(max);
        check_decode_contract(decoder, &input)?;
    }

    /// Same, on valid streams with a few bytes overwritten.
    #[test]
    fn mangled_frames_never_panic(
        (receiver, wire) in mangled_frames(),
        rsv in any::<bool>(),
        max in limit(),
    ) {
        let decoder = FrameDecoder::new(receiver)
            .allow_rsv(rsv, rsv, rsv)
            .max_payload_len(max);
        check_decode_contract(decoder, &wire)?;
    }
}

/// A header made field by field, so that non-minimal and over-long lengths, reserved
/// opcodes, wrong mask bits and RSV bits all occur, followed by the announced payload
/// when it is of a sensible size.
fn raw_frame() -> impl Strategy<Value = Vec<u8>> {
    let len16 = prop_oneof![0..126u16, 126..2000u16, any::<u16>()];
    let len64 = prop_oneof![0..=0xFFFFu64, 0x1_0000..0x1_2000u64, any::<u64>()];
    let opcode =
        prop_oneof![3 => prop::sample::select(vec![0x0, 0x1, 0x2, 0x8, 0x9, 0xA]), 1 => 0..16u8];
    let len7 = prop_oneof![2 => 0..=125u8, 1 => Just(126u8), 1 => Just(127u8)];
    (
        (0..16u8, opcode).prop_map(|(high, opcode)| high << 4 | opcode),
        any::<bool>(),
        len7,
        len16,
        len64,
        any::<[u8; 4]>(),
        any::<u64>(),
    )
        .prop_map(|(b0, masked, len7, len16, len64, key, seed)| {
            let mut wire = vec![b0, u8::from(masked) << 7 | len7];
            let announced = match len7 {
                126 => {
                    wire.extend_from_slice(&len16.to_be_bytes());
                    u64::from(len16)
                }
                127 => {
                    wire.extend_from_slice(&len64.to_be_bytes());
                    len64
                }
                len => u64::from(len),
            };
            if masked {
                wire.extend_from_slice(&key);
            }
            let payload = if announced <= 80_000 {
                announced as usize
            } else {
                8
            };
            wire.extend_from_slice(&filled(payload, seed));
            wire
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Every frame the decoder accepts re-encodes to the bytes it came from: the decoder
    /// accepts one encoding per frame (§5.2's minimal lengths), and keeps every header
    /// field, the masking key included.
    #[test]
    fn accepted_frames_are_canonical(
        receiver in role(),
        wire in raw_frame(),
    ) {
        let mut decoder = FrameDecoder::new(receiver).allow_rsv(true, true, true);
        let mut buf = BytesMut::from(&wire[..]);
        if let Ok(Some(frame)) = decoder.decode(&mut buf) {
            let used = wire.len() - buf.len();
            let mut again = Vec::new();
            frame.encode(&mut again);
            prop_assert_eq!(&again[..], &wire[..used]);
        }
    }
}

/// The canonical-encoding property would pass vacuously if `raw_frame` rarely produced
/// a valid frame; make sure it produces plenty, in every length encoding.
#[test]
fn raw_frames_are_often_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = raw_frame();
    let mut accepted_by_len7 = [0u32; 3];
    for _ in 0..4000 {
        let wire = strategy.new_tree(&mut runner).unwrap().current();
        for receiver in [Role::Server, Role::Client] {
            let mut decoder = FrameDecoder::new(receiver).allow_rsv(true, true, true);
            if let Ok(Some(_)) = decoder.decode(&mut BytesMut::from(&wire[..])) {
                let slot = match wire[1] & 0x7F {
                    126 => 1,
                    127 => 2,
                    _ => 0,
                };
                accepted_by_len7[slot] += 1;
            }
        }
    }
    assert!(
        accepted_by_len7.iter().all(|&n| n >= 50),
        "accepted per length form: {accepted_by_len7:?}"
    );
}
