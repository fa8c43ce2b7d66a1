//! Hostile input: every case gets a clear error (with the close code or HTTP status the
//! RFC demands) at a bounded cost — counted in bytes allocated and bytes read, never
//! in seconds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::BytesMut;
use rfc6455::frame::{FrameDecoder, MAX_EAGER_RESERVE};
use rfc6455::handshake::RequestParser;
use rfc6455::{
    CloseCode, Config, Connection, Event, HandshakeError, HandshakeLimits, ProtocolError, Role,
};

// ----- a counting allocator: bytes allocated by the current thread -----

struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers every call to the system allocator unchanged; it only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + layout.size()));
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + new_size));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated by this thread while `f` runs.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let result = f();
    (result, ALLOCATED.with(Cell::get) - before)
}

// ----- helpers -----

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A masked frame header (client to server) with a 64-bit length.
fn header64(first: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first, 0x80 | 127];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&KEY);
    out
}

/// A masked frame header with the length minimally encoded.
fn header(first: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first];
    match len {
        0..=125 => out.push(0x80 | len as u8),
        126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&KEY);
    out
}

/// A whole masked frame.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(first, payload.len() as u64);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    out
}

/// Feeds `input` to a fresh server and returns its events, its error and its outgoing bytes.
fn server_run(config: Config, input: &[u8]) -> (Vec<Event>, Option<ProtocolError>, Vec<u8>) {
    let mut ws = Connection::server(config);
    ws.receive(input);
    let mut events = Vec::new();
    let mut error = None;
    loop {
        match ws.next_event() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert_eq!(ws.next_event(), Ok(None), "an error is returned once");
    (events, error, ws.take_outgoing())
}

/// The close frame a server sends for `code`, unmasked, with no reason.
fn close_frame(code: CloseCode) -> Vec<u8> {
    let [hi, lo] = code.0.to_be_bytes();
    vec![0x88, 2, hi, lo]
}

// ----- lengths from the wire (§5.2) -----

#[test]
fn a_2_63_minus_1_byte_frame_header_costs_nothing() {
    for max in [FrameDecoder::DEFAULT_MAX_PAYLOAD_LEN, 1 << 40] {
        let mut decoder = FrameDecoder::new(Role::Server).max_payload_len(max);
        let mut buf = BytesMut::from(&header64(0x82, (1 << 63) - 1)[..]);
        let capacity = buf.capacity();
        let (result, bytes) = allocated_by(|| decoder.decode(&mut buf));
        assert_eq!(
            result,
            Err(ProtocolError::FrameTooLarge {
                len: (1 << 63) - 1,
                max
            })
        );
        assert_eq!(result.unwrap_err().close_code(), CloseCode::MESSAGE_TOO_BIG);
        assert_eq!(bytes, 0, "allocated before failing");
        assert_eq!(buf.capacity(), capacity);
    }
}

#[test]
fn a_64_bit_length_with_the_top_bit_set_is_a_protocol_error_before_any_allocation() {
    for len in [u64::MAX, 1 << 63] {
        let mut decoder = FrameDecoder::new(Role::Server).max_payload_len(u64::MAX);
        let mut buf = BytesMut::from(&header64(0x82, len)[..]);
        let (result, bytes) = allocated_by(|| decoder.decode(&mut buf));
        assert_eq!(result, Err(ProtocolError::LengthTopBitSet));
        assert_eq!(result.unwrap_err().close_code(), CloseCode::PROTOCOL_ERROR);
        assert_eq!(bytes, 0);
    }
}

#[test]
fn a_huge_header_under_a_huge_limit_reserves_at_most_the_eager_bound() {
    let mut decoder = FrameDecoder::new(Role::Server).max_payload_len(u64::MAX >> 1);
    let mut buf = BytesMut::from(&header64(0x82, (1 << 62) + 5)[..]);
    let (result, bytes) = allocated_by(|| decoder.decode(&mut buf));
    assert_eq!(result, Ok(None));
    assert!(
        bytes <= 2 * MAX_EAGER_RESERVE,
        "reserved {bytes} bytes for a header"
    );
}

#[test]
fn frames_just_over_each_limit_fail_with_1009_before_allocation_and_at_the_limit_pass() {
    let config = Config::default()
        .max_frame_size(1000)
        .max_message_size(1500);
    // One over the frame limit: the header alone decides.
    let mut ws = Connection::server(config);
    ws.receive(&header(0x82, 1001));
    let (result, bytes) = allocated_by(|| ws.next_event());
    assert_eq!(
        result,
        Err(ProtocolError::FrameTooLarge {
            len: 1001,
            max: 1000
        })
    );
    assert!(
        bytes < 64,
        "{bytes} bytes allocated (only the close frame should be)"
    );
    assert_eq!(ws.take_outgoing(), close_frame(CloseCode::MESSAGE_TOO_BIG));

    // At the frame limit: fine.
    let (events, error, _) = server_run(config, &masked(0x82, &[7; 1000]));
    assert_eq!(error, None);
    assert_eq!(events, vec![Event::Binary(vec![7; 1000].into())]);

    // Over the message limit by one byte, summed over fragments: the header of the
    // fragment that crosses it fails, before its payload arrives.
    let mut input = masked(0x02, &[1; 1000]);
    input.extend(header(0x80, 501));
    let (events, error, out) = server_run(config, &input);
    assert!(events.is_empty());
    assert_eq!(error, Some(ProtocolError::MessageTooLarge { max: 1500 }));
    assert_eq!(out, close_frame(CloseCode::MESSAGE_TOO_BIG));

    // At the message limit: fine.
    let mut input = masked(0x02, &[1; 1000]);
    input.extend(masked(0x80, &[2; 500]));
    let (events, error, _) = server_run(config, &input);
    assert_eq!(error, None);
    assert_eq!(events.len(), 1);
}

// ----- the handshake (§4.2.1) -----

/// A valid request whose head is padded with an `X-Pad` header to `len` bytes.
fn request_of_len(len: usize) -> Vec<u8> {
    let start = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\nX-Pad: ";
    let end = b"\r\n\r\n";
    let pad = len - start.len() - end.len();
    let mut out = start.to_vec();
    out.extend(std::iter::repeat_n(b'a', pad));
    out.extend_from_slice(end);
    assert_eq!(out.len(), len);
    out
}

#[test]
fn a_handshake_fed_one_byte_at_a_time_is_linear_work_then_a_431() {
    let limits = HandshakeLimits::default();
    // Just under the limit: accepted, with work linear in the bytes.
    let request = request_of_len(limits.max_head_size);
    let mut parser = RequestParser::new();
    let mut outcome = None;
    for end in 1..=request.len() {
        match parser.parse(&request[..end]) {
            Ok(None) => {}
            other => {
                outcome = Some((end, other.map(|r| r.map(|r| r.consumed()))));
                break;
            }
        }
    }
    assert_eq!(
        outcome,
        Some((request.len(), Ok(Some(request.len())))),
        "accepted at its last byte"
    );

    // Past the limit: the error comes as soon as the head is longer than allowed.
    let request = request_of_len(limits.max_head_size * 4);
    let mut parser = RequestParser::new();
    let mut failed_at = None;
    for end in 1..=request.len() {
        match parser.parse(&request[..end]) {
            Ok(None) => {}
            Ok(Some(_)) => panic!("an oversized head was accepted"),
            Err(e) => {
                assert_eq!(
                    e,
                    HandshakeError::HeadTooLarge {
                        max: limits.max_head_size
                    }
                );
                assert_eq!(e.status(), 431);
                assert!(e.response().starts_with(b"HTTP/1.1 431 "));
                failed_at = Some(end);
                break;
            }
        }
    }
    let failed_at = failed_at.expect("an error");
    assert!(
        failed_at <= limits.max_head_size + 1,
        "failed at {failed_at}"
    );
}

#[test]
fn ten_thousand_headers_are_refused_with_431() {
    let mut request = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..10_000 {
        request.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    // The count is checked as each header line ends, so the 65th fails, whatever the
    // size limit.
    let limits = HandshakeLimits::default().max_head_size(1 << 20);
    let (result, bytes) = allocated_by(|| RequestParser::with_limits(limits).parse(&request));
    let error = result.map(|_| ()).unwrap_err();
    assert_eq!(error, HandshakeError::TooManyHeaders { max: 64 });
    assert_eq!(error.status(), 431);
    assert!(
        bytes < 64 * 1024,
        "{bytes} bytes allocated for a refused head"
    );
    let mut parser = RequestParser::new();
    let error = parser.parse(&request).map(|_| ()).unwrap_err();
    assert_eq!(error, HandshakeError::TooManyHeaders { max: 64 });
}

#[test]
fn a_one_megabyte_subprotocol_list_is_refused_with_431() {
    let mut request = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Protocol: "
        .to_vec();
    while request.len() < 1 << 20 {
        request.extend_from_slice(b"chat, ");
    }
    request.extend_from_slice(b"chat\r\n\r\n");
    let mut parser = RequestParser::new();
    let error = parser.parse(&request).map(|_| ()).unwrap_err();
    assert_eq!(error, HandshakeError::HeadTooLarge { max: 8 * 1024 });
}

#[test]
fn a_key_of_the_wrong_length_is_a_400() {
    for key in [
        "dGhlIHNhbXBsZSBub25jZQ",   // unpadded
        "dGhlIHNhbXBsZSBub25jZXg=", // 17 bytes
        "dGhlIHNhbXBsZSBub25j",     // 15 bytes
        "",                         // empty
        "!!!!!!!!!!!!!!!!!!!!!!!!", // not base64
    ] {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        let error = RequestParser::new()
            .parse(request.as_bytes())
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(
                error,
                HandshakeError::InvalidKey | HandshakeError::MissingKey
            ),
            "{key:?}: {error:?}"
        );
        assert_eq!(error.status(), 400, "{key:?}");
        assert!(error.response().starts_with(b"HTTP/1.1 400 "));
    }
}

// ----- floods and slow drips -----

#[test]
fn a_hundred_thousand_pings_to_a_peer_that_never_writes_stay_bounded() {
    let config = Config::default();
    let mut ws = Connection::server(config);
    // Each ping different (its number in the first 4 bytes), so that which ones are
    // answered shows.
    let payload = |i: u32| {
        let mut p = [b'x'; 125];
        p[..4].copy_from_slice(&i.to_be_bytes());
        p
    };
    let mut most = 0;
    for i in 0..100_000 {
        ws.receive(&masked(0x89, &payload(i)));
        while let Some(event) = ws.next_event().expect("pings are valid") {
            assert!(matches!(event, Event::Ping(_)));
        }
        most = most.max(ws.buffered_amount());
    }
    // At most `max_pending_pongs` pongs of 127 bytes each are held.
    assert!(
        most <= config.max_pending_pongs * 127,
        "{most} bytes queued"
    );
    // The held pongs answer the most recent pings, oldest first (§5.5.3: "an endpoint MAY
    // elect to send a Pong frame for only the most recently processed Ping frame").
    let mut want = Vec::new();
    for i in 100_000 - config.max_pending_pongs as u32..100_000 {
        want.extend_from_slice(&[0x8A, 125]);
        want.extend_from_slice(&payload(i));
    }
    assert_eq!(ws.take_outgoing(), want);
}

#[test]
fn one_byte_fragments_up_to_the_message_limit_then_one_more_is_1009_with_bounded_memory() {
    const LIMIT: u64 = 4096;
    let config = Config::default().max_message_size(LIMIT);
    let mut ws = Connection::server(config);
    let mut allocated = 0;
    for i in 0..=LIMIT {
        let frame = masked(if i == 0 { 0x02 } else { 0x00 }, b"z");
        let (result, bytes) = allocated_by(|| {
            ws.receive(&frame);
            ws.next_event()
        });
        allocated += bytes;
        if i < LIMIT {
            assert_eq!(result, Ok(None), "fragment {i}");
        } else {
            assert_eq!(result, Err(ProtocolError::MessageTooLarge { max: LIMIT }));
        }
    }
    assert_eq!(ws.take_outgoing(), close_frame(CloseCode::MESSAGE_TOO_BIG));
    // Reassembly grows a buffer toward the limit (doubling), and the receive buffer is
    // reused: what was allocated is a small multiple of the limit, not of the input.
    assert!(
        allocated <= 16 * LIMIT as usize + 64 * 1024,
        "{allocated} bytes allocated for a {LIMIT}-byte limit"
    );
}

#[test]
fn invalid_utf8_in_the_last_byte_of_the_thousandth_fragment_is_1007_at_that_fragment() {
    let mut ws = Connection::server(Config::default());
    for i in 1..=1000 {
        let first = if i == 1 { 0x01 } else { 0x00 };
        let payload: &[u8] = if i == 1000 { b"abc\xff" } else { b"abcd" };
        ws.receive(&masked(first, payload));
        let result = ws.next_event();
        if i < 1000 {
            assert_eq!(result, Ok(None), "fragment {i}");
        } else {
            assert_eq!(result, Err(ProtocolError::InvalidUtf8));
        }
    }
    assert_eq!(ws.take_outgoing(), close_frame(CloseCode::INVALID_PAYLOAD));
    // The 1001st fragment is never looked at.
    ws.receive(&masked(0x80, b"more"));
    assert_eq!(ws.next_event(), Ok(None));
}

// ----- close frames (§5.5.1, §7.4) -----

#[test]
fn bad_close_frames_each_get_the_specified_answer() {
    let cases: Vec<(Vec<u8>, ProtocolError)> = vec![
        (vec![0x03], ProtocolError::CloseFrameOneByte),
        (
            0u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(0),
        ),
        (
            999u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(999),
        ),
        (
            1004u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(1004),
        ),
        (
            1005u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(1005),
        ),
        (
            1006u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(1006),
        ),
        (
            1015u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(1015),
        ),
        (
            2999u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(2999),
        ),
        (
            5000u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(5000),
        ),
        (
            65535u16.to_be_bytes().to_vec(),
            ProtocolError::InvalidCloseCode(65535),
        ),
        (
            [&1000u16.to_be_bytes()[..], b"ok \xce\xba\xff"].concat(),
            ProtocolError::InvalidCloseReason,
        ),
    ];
    for (payload, expected) in cases {
        let (events, error, out) = server_run(Config::default(), &masked(0x88, &payload));
        assert!(events.is_empty(), "{payload:?}");
        assert_eq!(error, Some(expected), "{payload:?}");
        let code = expected.close_code();
        let want = if expected == ProtocolError::InvalidCloseReason {
            CloseCode::INVALID_PAYLOAD
        } else {
            CloseCode::PROTOCOL_ERROR
        };
        assert_eq!(code, want, "{payload:?}");
        assert_eq!(out, close_frame(code), "{payload:?}");
    }
}
