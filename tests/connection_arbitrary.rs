//! Both roles fed arbitrary bytes never panic, and after an error return only `Ok(None)`
//! ("No input may panic", DESIGN.md). Frame-shaped random input, which gets past the
//! header checks more often, gives the same events, error and outgoing bytes however it is
//! chunked, and the same as the reference model (`tests/support/reference.rs`).

#[allow(dead_code)]
#[path = "conformance/harness.rs"]
mod harness;

#[path = "support/compare.rs"]
mod compare;
#[path = "support/reference.rs"]
mod reference;

use harness::{Chunking, KeyStream, Wire, connection, drive};
use proptest::prelude::*;
use rfc6455::{Config, Role};

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Server), Just(Role::Client)]
}

fn config() -> impl Strategy<Value = Config> {
    (any::<bool>(), 1u64..300, any::<bool>()).prop_map(|(small, max, stream)| {
        let config = Config::default().stream_fragments(stream);
        if small {
            config.max_frame_size(max).max_message_size(max * 2)
        } else {
            config
        }
    })
}

/// Feeds `input` in the given read sizes (cycled) and then the end of stream, checking
/// that an error comes at most once and nothing after it.
fn feed(role: Role, config: Config, input: &[u8], reads: &[usize], eof: bool) {
    let mut conn = connection(role, config);
    let chunking: Vec<&[u8]> = {
        let mut rest = input;
        let mut out = Vec::new();
        let mut i = 0;
        while !rest.is_empty() {
            let n = reads[i % reads.len()].clamp(1, rest.len());
            i += 1;
            let (a, b) = rest.split_at(n);
            out.push(a);
            rest = b;
        }
        out
    };
    // `drive` panics on a second error or an event after an error.
    let run = drive(&mut conn, &chunking, eof, true);
    if run.error.is_some() {
        assert!(conn.should_close_transport());
        conn.receive(input);
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.take_outgoing().is_empty());
    }
    if eof {
        assert!(run.error.is_some() || conn.state() == rfc6455::ConnectionState::Closed);
    }
}

/// Random frames: any first byte, the mask bit usually right for the role, short
/// payloads with lengths in any encoding, sometimes a lying length.
fn frames(role: Role) -> impl Strategy<Value = Vec<u8>> {
    let frame = (
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..40),
        0u8..10,
        any::<u8>(),
    );
    prop::collection::vec(frame, 0..20).prop_map(move |frames| {
        let mut out = Vec::new();
        let mut keys = KeyStream::peer();
        for (b0, payload, shape, text_byte) in frames {
            // Keep opcodes mostly defined and RSV mostly clear, so later frames are
            // reached; the first byte is sometimes anything at all.
            let b0 = match shape {
                0 => b0,
                _ => (b0 & 0x80) | [0x0, 0x1, 0x2, 0x8, 0x9, 0xA][usize::from(b0) % 6],
            };
            let mut payload = payload;
            if b0 & 0x0F == 0x1 && shape > 3 {
                // Mostly-valid text.
                payload = String::from_utf8_lossy(&payload).into_owned().into_bytes();
                payload.truncate(40);
            }
            if shape == 9 {
                payload.push(text_byte);
            }
            let masked = (role == Role::Server) != (shape == 1);
            out.push(b0);
            let len = payload.len();
            let mask_bit = if masked { 0x80 } else { 0 };
            match shape {
                2 => {
                    out.push(mask_bit | 126);
                    out.extend_from_slice(&(len as u16).to_be_bytes());
                }
                3 => {
                    out.push(mask_bit | 127);
                    out.extend_from_slice(&(len as u64).to_be_bytes());
                }
                _ => out.push(mask_bit | len as u8),
            }
            if masked {
                let key = keys.next_key();
                out.extend_from_slice(&key);
                out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            } else {
                out.extend_from_slice(&payload);
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(
        role in role(),
        config in config(),
        input in prop::collection::vec(any::<u8>(), 0..600),
        reads in prop::collection::vec(1usize..64, 1..8),
        eof in any::<bool>(),
    ) {
        feed(role, config, &input, &reads, eof);
    }

    #[test]
    fn random_frames_never_panic(
        (role, input) in role().prop_flat_map(|r| (Just(r), frames(r))),
        config in config(),
        reads in prop::collection::vec(1usize..16, 1..8),
        eof in any::<bool>(),
    ) {
        feed(role, config, &input, &reads, eof);
    }

    /// Chunking never changes what comes out (with room for every pong, so that none is
    /// dropped when many pings arrive in one read).
    #[test]
    fn random_frames_same_under_any_chunking(
        (role, input) in role().prop_flat_map(|r| (Just(r), frames(r))),
        config in config(),
        seed in any::<u64>(),
        max in 1usize..20,
    ) {
        let config = config.max_pending_pongs(1000);
        let mut whole = connection(role, config);
        let a = drive(&mut whole, &[&input], true, true);
        let mut split = connection(role, config);
        let chunks = Chunking::Random { seed, max }.split(&input);
        let b = drive(&mut split, &chunks, true, true);
        prop_assert_eq!(&a.events, &b.events);
        prop_assert_eq!(a.error, b.error);
        prop_assert_eq!(&a.output, &b.output);
        prop_assert_eq!(whole.state(), split.state());
        // And what the model does (without the echo): events, close code, frames sent.
        let result = compare::compare(role, config, &input, &[max]);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

/// The outgoing bytes of a failed connection are a well-formed close frame (or nothing),
/// which a peer of the other role decodes.
#[test]
fn close_after_failure_is_well_formed() {
    for role in [Role::Server, Role::Client] {
        let mut w = Wire::peer_of(role);
        w.frame(0x80 | 0x2, b"ok").frame(0x80 | 0x1, b"\xff");
        let mut conn = connection(role, Config::default());
        let run = drive(&mut conn, &[&w.bytes], false, true);
        assert!(run.error.is_some());
        let mut peer = connection(role.peer(), Config::default());
        peer.receive(&run.output);
        let mut codes = Vec::new();
        while let Ok(Some(event)) = peer.next_event() {
            if let rfc6455::Event::Close(c) = event {
                codes.push(c.code.0);
            }
        }
        assert_eq!(codes, [1007]);
    }
}
