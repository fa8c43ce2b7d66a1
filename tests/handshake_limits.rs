//! [`HandshakeLimits`] at their edges, for requests and responses: a head one byte under
//! the size limit, at it and one over; a field count one under, at and over; and the
//! special values 0, 1 and `usize::MAX`. A head at the limit is accepted; one byte or one
//! field more is 431 (RFC 6585 §5).

use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};
use rfc6455::{HandshakeError, HandshakeLimits};

/// The §1.3 request with `pad` bytes of an extra field's value, `extra` more fields.
fn request(pad: usize, extra: usize) -> Vec<u8> {
    let mut head = String::from(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n",
    );
    head.push_str(&format!("X-Pad: {}\r\n", "p".repeat(pad)));
    for i in 0..extra {
        head.push_str(&format!("X-{i}: v\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The fields in [`request`]: the five of §4.2.1, `X-Pad`, and `extra` more.
const FIELDS: usize = 6;

fn outcome(limits: HandshakeLimits, bytes: &[u8]) -> Result<Option<usize>, HandshakeError> {
    RequestParser::with_limits(limits)
        .parse(bytes)
        .map(|r| r.map(|r| r.consumed()))
}

/// The same bytes one at a time, the buffer growing: the same outcome, at the byte it
/// is known.
fn outcome_bytewise(
    limits: HandshakeLimits,
    bytes: &[u8],
) -> Result<Option<usize>, HandshakeError> {
    let mut parser = RequestParser::with_limits(limits);
    for end in 1..=bytes.len() {
        match parser.parse(&bytes[..end]) {
            Ok(None) if end < bytes.len() => {}
            other => return other.map(|r| r.map(|r| r.consumed())),
        }
    }
    Ok(None)
}

#[test]
fn head_size_limit_minus_one_limit_and_plus_one() {
    let bytes = request(100, 0);
    let n = bytes.len();
    for (limit, expected) in [
        (n + 1, Ok(Some(n))),
        (n, Ok(Some(n))),
        (n - 1, Err(HandshakeError::HeadTooLarge { max: n - 1 })),
    ] {
        let limits = HandshakeLimits::default().max_head_size(limit);
        assert_eq!(
            outcome(limits, &bytes),
            expected,
            "limit {limit} for {n} bytes"
        );
        assert_eq!(
            outcome_bytewise(limits, &bytes),
            expected,
            "bytewise, limit {limit}"
        );
        assert_eq!(
            expected
                .as_ref()
                .err()
                .map(HandshakeError::status)
                .unwrap_or(431),
            431
        );
    }
}

/// Bytes after the head (frames already sent by the client) do not count toward it.
#[test]
fn head_size_counts_the_head_only() {
    let mut bytes = request(100, 0);
    let n = bytes.len();
    bytes.extend_from_slice(&[0x81; 100]);
    let limits = HandshakeLimits::default().max_head_size(n);
    assert_eq!(outcome(limits, &bytes), Ok(Some(n)));
}

#[test]
fn head_size_zero_one_and_largest() {
    let bytes = request(0, 0);
    for limit in [0, 1] {
        let limits = HandshakeLimits::default().max_head_size(limit);
        assert_eq!(
            outcome(limits, &bytes),
            Err(HandshakeError::HeadTooLarge { max: limit })
        );
    }
    // Limit 0: even no bytes at all are over it (nothing fits).
    let limits = HandshakeLimits::default().max_head_size(0);
    assert_eq!(
        outcome(limits, b""),
        Err(HandshakeError::HeadTooLarge { max: 0 })
    );
    let limits = HandshakeLimits::default().max_head_size(1);
    assert_eq!(outcome(limits, b""), Ok(None));
    let limits = HandshakeLimits::default().max_head_size(usize::MAX);
    let big = request(100_000, 0);
    assert_eq!(outcome(limits, &big), Ok(Some(big.len())));
}

#[test]
fn field_count_limit_minus_one_limit_and_plus_one() {
    for extra in [0, 1, 10] {
        let bytes = request(0, extra);
        let fields = FIELDS + extra;
        for (limit, ok) in [(fields + 1, true), (fields, true), (fields - 1, false)] {
            let limits = HandshakeLimits::default().max_headers(limit);
            let expected = if ok {
                Ok(Some(bytes.len()))
            } else {
                Err(HandshakeError::TooManyHeaders { max: limit })
            };
            assert_eq!(
                outcome(limits, &bytes),
                expected,
                "{fields} fields, limit {limit}"
            );
            assert_eq!(outcome_bytewise(limits, &bytes), expected, "bytewise");
        }
    }
}

#[test]
fn field_count_zero_one_and_largest() {
    // No field allowed: a request with none is a valid HTTP head, not an upgrade.
    let limits = HandshakeLimits::default().max_headers(0);
    let head = RequestParser::with_limits(limits)
        .parse_head(b"GET / HTTP/1.1\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(head.headers().len(), 0);
    assert_eq!(
        outcome(limits, &request(0, 0)),
        Err(HandshakeError::TooManyHeaders { max: 0 })
    );
    let limits = HandshakeLimits::default().max_headers(1);
    assert_eq!(
        outcome(limits, &request(0, 0)),
        Err(HandshakeError::TooManyHeaders { max: 1 })
    );
    let limits = HandshakeLimits::default().max_headers(usize::MAX);
    let many = request(0, 1000);
    assert_eq!(
        outcome(limits.max_head_size(1 << 20), &many),
        Ok(Some(many.len()))
    );
}

#[test]
fn defaults_are_8_kib_and_64_fields() {
    let limits = HandshakeLimits::default();
    assert_eq!((limits.max_head_size, limits.max_headers), (8 * 1024, 64));
    let bytes = request(0, 64 - FIELDS);
    assert_eq!(outcome(limits, &bytes), Ok(Some(bytes.len())));
    let bytes = request(0, 64 - FIELDS + 1);
    assert_eq!(
        outcome(limits, &bytes),
        Err(HandshakeError::TooManyHeaders { max: 64 })
    );
}

// ----- responses -----

fn client(limits: HandshakeLimits) -> ClientHandshake {
    let uri = WsUri::parse("ws://example.com/chat").unwrap();
    let mut nonce = |buf: &mut [u8]| buf.copy_from_slice(&b"the sample nonce"[..buf.len()]);
    let mut client = ClientHandshake::with_random(&uri, &mut nonce);
    client.limits(limits);
    client
}

fn response(extra: usize) -> Vec<u8> {
    let mut head = String::from(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
    );
    for i in 0..extra {
        head.push_str(&format!("X-{i}: v\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

#[test]
fn response_limits_at_their_edges() {
    let bytes = response(2);
    let n = bytes.len();
    let consumed = |limits| {
        client(limits)
            .parse_response(&bytes)
            .map(|r| r.map(|r| r.consumed()))
    };
    assert_eq!(
        consumed(HandshakeLimits::default().max_head_size(n)),
        Ok(Some(n))
    );
    assert_eq!(
        consumed(HandshakeLimits::default().max_head_size(n - 1)),
        Err(HandshakeError::HeadTooLarge { max: n - 1 })
    );
    assert_eq!(
        consumed(HandshakeLimits::default().max_headers(5)),
        Ok(Some(n))
    );
    assert_eq!(
        consumed(HandshakeLimits::default().max_headers(4)),
        Err(HandshakeError::TooManyHeaders { max: 4 })
    );
    assert_eq!(
        consumed(HandshakeLimits::default().max_head_size(0)),
        Err(HandshakeError::HeadTooLarge { max: 0 })
    );
    assert_eq!(
        consumed(
            HandshakeLimits::default()
                .max_head_size(usize::MAX)
                .max_headers(usize::MAX)
        ),
        Ok(Some(n))
    );
}
