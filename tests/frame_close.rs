//! Close frame payloads (§5.5.1) and status codes (§7.4), parsed and encoded.

use bytes::BytesMut;
use rfc6455::frame::{
    Frame, FrameDecoder, MAX_CONTROL_PAYLOAD, OpCode, encode_close_payload, parse_close_payload,
};
use rfc6455::{CloseCode, ProtocolError, Role, UsageError};

/// Codes a peer may not send (§7.4.1, §7.4.2), at the edges of every range.
const INVALID_CODES: [u16; 10] = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];

/// Codes a peer may send: §7.4.1's defined codes, the IANA-registered 1012-1014, and the
/// edges of the library and private ranges (§7.4.2).
const VALID_CODES: [u16; 16] = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];

fn payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

#[test]
fn an_empty_close_payload_has_no_code() {
    // §5.5.1: "The Close frame MAY contain a body"; without one the application sees 1005
    // (§7.1.5), which is the connection's business, not the parser's.
    assert_eq!(parse_close_payload(&[]), Ok(None));
}

#[test]
fn a_one_byte_close_payload_is_rejected() {
    // §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte
    // unsigned integer".
    for byte in [0x00, 0x03, 0xFF] {
        let err = parse_close_payload(&[byte]).unwrap_err();
        assert_eq!(err, ProtocolError::CloseFrameOneByte);
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn codes_that_may_not_be_sent_are_rejected() {
    // §7.4.1: 1005, 1006, 1015 "MUST NOT be set as a status code in a Close control
    // frame"; §7.4.2: 0-999 are not used, 1016-2999 are reserved, and nothing above 4999
    // is defined; 1004 is reserved.
    for code in INVALID_CODES {
        for reason in [&b""[..], b"bye"] {
            let err = parse_close_payload(&payload(code, reason)).unwrap_err();
            assert_eq!(err, ProtocolError::InvalidCloseCode(code));
            assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR, "code {code}");
        }
    }
}

#[test]
fn codes_that_may_be_sent_are_accepted_with_their_reason() {
    for code in VALID_CODES {
        assert_eq!(
            parse_close_payload(&payload(code, b"")),
            Ok(Some((CloseCode(code), "")))
        );
        assert_eq!(
            parse_close_payload(&payload(code, "done, merci ✓".as_bytes())),
            Ok(Some((CloseCode(code), "done, merci ✓")))
        );
    }
    assert_eq!(CloseCode::NORMAL, CloseCode(1000));
}

#[test]
fn a_reason_that_is_not_utf8_is_rejected_with_1007() {
    // §5.5.1: after the code "the body MAY contain UTF-8-encoded data"; data
    // inconsistent with its type is answered with 1007 (§7.4.1), as for text (§8.1).
    for reason in [
        &[0xFF][..],
        &[0xC3],                   // truncated 2-byte sequence
        &[0xE2, 0x9C],             // truncated 3-byte sequence
        &[0xED, 0xA0, 0x80],       // a UTF-16 surrogate
        &[0xC0, 0xAF],             // an overlong '/'
        &[b'o', b'k', 0xF4, 0x90], // over U+10FFFF
    ] {
        let err = parse_close_payload(&payload(1000, reason)).unwrap_err();
        assert_eq!(err, ProtocolError::InvalidCloseReason, "reason {reason:x?}");
        assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
    }
}

#[test]
fn the_code_is_checked_before_the_reason() {
    assert_eq!(
        parse_close_payload(&payload(1005, &[0xFF])),
        Err(ProtocolError::InvalidCloseCode(1005))
    );
}

#[test]
fn a_close_frame_on_the_wire_parses_after_decoding() {
    // A masked close from a client with 1001 "away", decoded and then parsed.
    let key = [0x01, 0x02, 0x03, 0x04];
    let body = payload(1001, b"away");
    let mut frame = Frame::new(OpCode::Close, body);
    frame.header.mask = Some(key);
    let mut wire = Vec::new();
    frame.encode(&mut wire);
    let decoded = FrameDecoder::new(Role::Server)
        .decode(&mut BytesMut::from(&wire[..]))
        .unwrap()
        .unwrap();
    assert_eq!(decoded.header.opcode, OpCode::Close);
    assert_eq!(
        parse_close_payload(&decoded.payload),
        Ok(Some((CloseCode::GOING_AWAY, "away")))
    );
}

#[test]
fn encoding_no_code_appends_nothing() {
    let mut out = b"x".to_vec();
    assert_eq!(encode_close_payload(None, &mut out), Ok(()));
    assert_eq!(out, b"x");
}

#[test]
fn encoding_writes_the_code_big_endian_then_the_reason() {
    let mut out = Vec::new();
    encode_close_payload(Some((CloseCode::NORMAL, "bye")), &mut out).unwrap();
    assert_eq!(out, [0x03, 0xE8, b'b', b'y', b'e']);
    for code in VALID_CODES {
        let mut out = Vec::new();
        encode_close_payload(Some((CloseCode(code), "é")), &mut out).unwrap();
        assert_eq!(out, payload(code, "é".as_bytes()));
        assert_eq!(
            parse_close_payload(&out),
            Ok(Some((CloseCode(code), "é"))),
            "round trip of {code}"
        );
    }
}

#[test]
fn encoding_a_code_that_may_not_be_sent_is_a_usage_error() {
    for code in INVALID_CODES {
        let mut out = b"x".to_vec();
        assert_eq!(
            encode_close_payload(Some((CloseCode(code), "")), &mut out),
            Err(UsageError::InvalidCloseCode(code))
        );
        assert_eq!(out, b"x", "nothing appended on error");
    }
}

#[test]
fn encoding_is_limited_to_125_bytes_of_code_and_reason() {
    // §5.5: control frame payloads are 125 bytes or less, so the reason is at most 123.
    let longest = "r".repeat(MAX_CONTROL_PAYLOAD - 2);
    let mut out = Vec::new();
    assert_eq!(
        encode_close_payload(Some((CloseCode::NORMAL, &longest)), &mut out),
        Ok(())
    );
    assert_eq!(out.len(), MAX_CONTROL_PAYLOAD);

    let too_long = "r".repeat(MAX_CONTROL_PAYLOAD - 1);
    let mut out = b"x".to_vec();
    assert_eq!(
        encode_close_payload(Some((CloseCode::NORMAL, &too_long)), &mut out),
        Err(UsageError::ControlPayloadTooLarge)
    );
    assert_eq!(out, b"x", "nothing appended on error");
    // A multi-byte character that would cross the limit counts in bytes, not chars.
    let crossing = format!("{}é", "r".repeat(MAX_CONTROL_PAYLOAD - 3));
    assert_eq!(crossing.len(), MAX_CONTROL_PAYLOAD - 1);
    assert_eq!(
        encode_close_payload(Some((CloseCode::NORMAL, &crossing)), &mut Vec::new()),
        Err(UsageError::ControlPayloadTooLarge)
    );
}
