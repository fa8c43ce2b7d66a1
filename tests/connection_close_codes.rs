//! Every failure the connection can report, each with the close code §7.4.1 gives it
//! written out as a number, and the exact close frame on the wire: nothing here asks the
//! implementation which code it meant (`ProtocolError::close_code` is what is checked).
//!
//! Inputs to a server are masked with the key 00 00 00 00 (so the payload bytes read as
//! they are), and the client under test masks with that key too: every byte below is
//! literal.

use bytes::BytesMut;
use rfc6455::extension::{Extension, ExtensionError, Rsv};
use rfc6455::{Config, Connection, Event, MessageKind, ProtocolError, Role};

/// A server, or a client whose masking keys are all zero.
fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => Connection::client_with_random(config, |buf: &mut [u8]| buf.fill(0)),
    }
}

/// The close frame `role` sends with `code` (§5.5.1), masked with the zero key by a client.
fn close_frame(role: Role, code: u16) -> Vec<u8> {
    let [hi, lo] = code.to_be_bytes();
    match role {
        Role::Server => vec![0x88, 0x02, hi, lo],
        Role::Client => vec![0x88, 0x82, 0, 0, 0, 0, hi, lo],
    }
}

/// A frame the peer of `role` sends: masked (zero key) toward a server.
fn peer(role: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 125);
    let mut out = vec![b0];
    match role {
        Role::Server => {
            out.push(0x80 | payload.len() as u8);
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        Role::Client => out.push(payload.len() as u8),
    }
    out.extend_from_slice(payload);
    out
}

/// Feeds `input`, takes events until the error, and checks the error, its code and the
/// bytes written.
fn check(role: Role, config: Config, input: &[u8], eof: bool, error: ProtocolError, code: u16) {
    let mut ws = connection(role, config);
    ws.receive(input);
    if eof {
        ws.receive_eof();
    }
    let got = loop {
        match ws.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{role:?}: no error for {error:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(got, error, "{role:?}");
    assert_eq!(
        got.close_code().0,
        code,
        "{role:?}: the close code of {error:?}"
    );
    let expected = if code == 1006 {
        // §7.4.1: 1006 "MUST NOT be set as a status code in a Close control frame".
        Vec::new()
    } else {
        close_frame(role, code)
    };
    assert_eq!(
        ws.take_outgoing(),
        expected,
        "{role:?}: the bytes sent for {error:?}"
    );
    assert_eq!(ws.next_event(), Ok(None), "{role:?}: once");
}

const ROLES: [Role; 2] = [Role::Server, Role::Client];

#[test]
fn reserved_opcode_is_1002() {
    for role in ROLES {
        for op in [0x3, 0x7, 0xB, 0xF] {
            check(
                role,
                Config::default(),
                &peer(role, 0x80 | op, b""),
                false,
                ProtocolError::ReservedOpcode(op),
                1002,
            );
        }
    }
}

#[test]
fn reserved_bits_are_1002() {
    for role in ROLES {
        for (bit, bits) in [(0x40, 0b100), (0x20, 0b010), (0x10, 0b001)] {
            check(
                role,
                Config::default(),
                &peer(role, 0x81 | bit, b"a"),
                false,
                ProtocolError::ReservedBitsSet(bits),
                1002,
            );
        }
    }
}

#[test]
fn length_with_the_top_bit_is_1002() {
    for role in ROLES {
        let mask = if role == Role::Server { 0x80 } else { 0 };
        let input = [0x82, mask | 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        check(
            role,
            Config::default(),
            &input,
            false,
            ProtocolError::LengthTopBitSet,
            1002,
        );
    }
}

#[test]
fn non_minimal_lengths_are_1002() {
    for role in ROLES {
        let mask = if role == Role::Server { 0x80 } else { 0 };
        for input in [
            vec![0x82, mask | 126, 0x00, 0x7D], // 125 in 16 bits
            vec![0x82, mask | 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], // 65535 in 64 bits
        ] {
            check(
                role,
                Config::default(),
                &input,
                false,
                ProtocolError::NonMinimalLength,
                1002,
            );
        }
    }
}

#[test]
fn control_frame_of_126_bytes_is_1002() {
    for role in ROLES {
        let mask = if role == Role::Server { 0x80 } else { 0 };
        check(
            role,
            Config::default(),
            &[0x89, mask | 126, 0x00, 126],
            false,
            ProtocolError::ControlFrameTooLarge,
            1002,
        );
    }
}

#[test]
fn fragmented_control_frame_is_1002() {
    for role in ROLES {
        check(
            role,
            Config::default(),
            &peer(role, 0x09, b""),
            false,
            ProtocolError::FragmentedControlFrame,
            1002,
        );
    }
}

#[test]
fn wrong_masking_is_1002() {
    check(
        Role::Server,
        Config::default(),
        &[0x81, 0x01, b'a'],
        false,
        ProtocolError::UnmaskedFrameFromClient,
        1002,
    );
    check(
        Role::Client,
        Config::default(),
        &[0x81, 0x81, 0, 0, 0, 0, b'a'],
        false,
        ProtocolError::MaskedFrameFromServer,
        1002,
    );
}

#[test]
fn frame_over_the_limit_is_1009() {
    for role in ROLES {
        let config = Config::default().max_frame_size(10);
        check(
            role,
            config,
            &peer(role, 0x82, &[0; 11]),
            false,
            ProtocolError::FrameTooLarge { len: 11, max: 10 },
            1009,
        );
    }
}

#[test]
fn message_over_the_limit_is_1009() {
    for role in ROLES {
        let config = Config::default().max_message_size(10);
        let mut input = peer(role, 0x02, &[0; 6]);
        input.extend(peer(role, 0x80, &[0; 5]));
        check(
            role,
            config,
            &input,
            false,
            ProtocolError::MessageTooLarge { max: 10 },
            1009,
        );
    }
}

#[test]
fn close_payload_of_one_byte_is_1002() {
    for role in ROLES {
        check(
            role,
            Config::default(),
            &peer(role, 0x88, b"\x03"),
            false,
            ProtocolError::CloseFrameOneByte,
            1002,
        );
    }
}

#[test]
fn close_codes_that_may_not_be_sent_are_1002() {
    for role in ROLES {
        for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            check(
                role,
                Config::default(),
                &peer(role, 0x88, &code.to_be_bytes()),
                false,
                ProtocolError::InvalidCloseCode(code),
                1002,
            );
        }
    }
}

#[test]
fn close_reason_not_utf8_is_1007() {
    for role in ROLES {
        check(
            role,
            Config::default(),
            &peer(role, 0x88, b"\x03\xe8\xff"),
            false,
            ProtocolError::InvalidCloseReason,
            1007,
        );
    }
}

#[test]
fn stray_continuation_is_1002() {
    for role in ROLES {
        check(
            role,
            Config::default(),
            &peer(role, 0x80, b"x"),
            false,
            ProtocolError::UnexpectedContinuation,
            1002,
        );
    }
}

#[test]
fn new_message_inside_a_fragmented_one_is_1002() {
    for role in ROLES {
        let mut input = peer(role, 0x01, b"a");
        input.extend(peer(role, 0x82, b"b"));
        check(
            role,
            Config::default(),
            &input,
            false,
            ProtocolError::ExpectedContinuation,
            1002,
        );
    }
}

#[test]
fn invalid_utf8_is_1007() {
    for role in ROLES {
        // In one frame, split across fragments, and cut short at the end of the message.
        check(
            role,
            Config::default(),
            &peer(role, 0x81, b"a\xffb"),
            false,
            ProtocolError::InvalidUtf8,
            1007,
        );
        let mut input = peer(role, 0x01, b"\xed");
        input.extend(peer(role, 0x80, b"\xa0\x80"));
        check(
            role,
            Config::default(),
            &input,
            false,
            ProtocolError::InvalidUtf8,
            1007,
        );
        check(
            role,
            Config::default(),
            &peer(role, 0x81, b"\xe2\x82"),
            false,
            ProtocolError::InvalidUtf8,
            1007,
        );
    }
}

#[test]
fn end_of_stream_before_the_close_is_1006_and_sends_nothing() {
    for role in ROLES {
        check(
            role,
            Config::default(),
            &peer(role, 0x81, b"hi"),
            true,
            ProtocolError::UnexpectedEof,
            1006,
        );
        // Mid-frame, too.
        check(
            role,
            Config::default(),
            &peer(role, 0x81, b"hi")[..3],
            true,
            ProtocolError::UnexpectedEof,
            1006,
        );
    }
}

/// RFC 7692 §8.1: data the extension cannot decode fails the connection; the RFC names no
/// code, and the crate sends 1002.
#[cfg(feature = "deflate")]
#[test]
fn extension_data_it_cannot_decode_is_1002() {
    use rfc6455::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    for role in ROLES {
        let extension =
            PerMessageDeflate::new(role, DeflateParams::DEFAULT, &DeflateConfig::default());
        let mut ws = connection(role, Config::default()).with_extension(extension);
        // RSV1 (compressed), and a block type 3, which DEFLATE reserves (RFC 1951 §3.2.3).
        ws.receive(&peer(role, 0xC2, b"\xff\xff\xff\xff"));
        let error = ws.next_event().unwrap_err();
        assert!(matches!(error, ProtocolError::Extension(_)), "{error:?}");
        assert_eq!(error.close_code().0, 1002);
        assert_eq!(ws.take_outgoing(), close_frame(role, 1002));
    }
}

/// An extension that gives RSV1 a meaning and transforms nothing (payloads as they are).
struct Rsv1Only;

impl Extension for Rsv1Only {
    fn reserved_bits(&self) -> Rsv {
        Rsv::RSV1
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

/// §5.2: with an extension that defines RSV1, a first frame with RSV1 is its; RSV2 and
/// RSV3, which nobody defined, are 1002 on the header alone.
#[test]
fn reserved_bits_no_extension_claims_are_1002() {
    for role in ROLES {
        let mut ws = connection(role, Config::default()).with_extension(Rsv1Only);
        ws.receive(&peer(role, 0xC2, b"ok"));
        assert_eq!(
            ws.next_event(),
            Ok(Some(Event::Binary(b"ok".to_vec().into())))
        );
        for (bit, bits) in [(0x20, 0b010), (0x10, 0b001), (0x30, 0b011)] {
            let mut ws = connection(role, Config::default()).with_extension(Rsv1Only);
            // The header only: refused before the payload.
            ws.receive(&peer(role, 0x82 | bit, b"payload")[..2]);
            assert_eq!(
                ws.next_event(),
                Err(ProtocolError::ReservedBitsSet(bits)),
                "{role:?}"
            );
            assert_eq!(ws.take_outgoing(), close_frame(role, 1002));
        }
    }
}
