//! Arbitrary bytes into the server's request parser, whole and in chunks chosen by the
//! input: never a panic, the same outcome either way, work linear in the bytes, and an
//! accepted request can always be answered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::HandshakeLimits;
use rfc6455::handshake::RequestParser;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let limits = if selector & 0x80 != 0 {
        HandshakeLimits::default().max_head_size(256).max_headers(4)
    } else {
        HandshakeLimits::default()
    };
    let whole = RequestParser::with_limits(limits).parse(input);

    // The same bytes arriving `step` at a time, the buffer growing as a server's would.
    let step = usize::from(selector & 0x7F).max(1);
    let mut parser = RequestParser::with_limits(limits);
    let mut end = 0;
    let chunked = loop {
        end = (end + step).min(input.len());
        match parser.parse(&input[..end]) {
            Ok(None) if end < input.len() => continue,
            other => break other,
        }
    };
    assert!(
        parser.bytes_scanned() <= 4 * input.len() + 64,
        "superlinear: {} for {}",
        parser.bytes_scanned(),
        input.len()
    );

    match (&whole, &chunked) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(a.consumed(), b.consumed());
            assert_eq!(a.target(), b.target());
            assert!(a.consumed() <= input.len());
            let mut response = a.accept().to_vec();
            for protocol in a.subprotocols() {
                let chosen = a
                    .accept()
                    .subprotocol(protocol)
                    .expect("an offered subprotocol can be chosen");
                response = chosen.to_vec();
            }
            assert!(response.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
            for extension in a.extensions() {
                let _ = extension.name();
            }
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            let response = a.response();
            assert!(response.starts_with(b"HTTP/1.1 4"));
        }
        (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "whole {a:?} vs chunked {b:?}"),
    }
});
