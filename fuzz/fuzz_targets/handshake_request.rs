//! Arbitrary bytes into the server's request parsers (`parse_head` for any HTTP request,
//! `parse` for the opening handshake), whole and in chunks chosen by the input: never a
//! panic, the same outcome either way, `parse` the same as `parse_head` then `upgrade`,
//! and an accepted request can always be answered. The decision — incomplete, accepted
//! (and how many bytes the head took) or refused with which status — is the one of the
//! independent model of §4.2.1 over RFC 9112's grammar (tests/support/handshake_model.rs).
//! (Linear work is a test in `tests/handshake.rs`: a 4 MiB head in one-byte reads.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::HandshakeLimits;
use rfc6455::handshake::RequestParser;

#[path = "../../tests/support/handshake_model.rs"]
mod model;

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
    let verdict = match &whole {
        Ok(None) => model::Verdict::Incomplete,
        Ok(Some(request)) => model::Verdict::Accept {
            consumed: request.consumed(),
        },
        Err(e) => model::Verdict::Reject(e.status()),
    };
    let model_limits = model::Limits {
        max_head: limits.max_head_size,
        max_headers: limits.max_headers,
    };
    assert_eq!(
        verdict,
        model::request(input, model_limits),
        "the server's decision differs from the model of §4.2.1"
    );

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

    // Any request head, then the upgrade checks on the view: the same answer as `parse`.
    let mut head_parser = RequestParser::with_limits(limits);
    let mut end = 0;
    let head = loop {
        end = (end + step).min(input.len());
        match head_parser.parse_head(&input[..end]) {
            Ok(None) if end < input.len() => continue,
            other => break other,
        }
    };
    match &head {
        Ok(Some(head)) => {
            assert!(head.consumed() <= input.len());
            let _ = (
                head.method(),
                head.path(),
                head.query(),
                head.host(),
                head.origin(),
            );
            let _ = (head.subprotocols().count(), head.extensions().count());
            let asks = head.is_websocket_upgrade();
            let upgraded = head.clone().upgrade();
            if upgraded.is_ok() {
                assert!(asks, "an upgradable request asks for an upgrade");
            }
            match (&upgraded, &whole) {
                (Ok(a), Ok(Some(b))) => assert_eq!(a.consumed(), b.consumed()),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("parse_head + upgrade {a:?} vs parse {b:?}"),
            }
        }
        Ok(None) => assert!(matches!(whole, Ok(None))),
        Err(e) => assert_eq!(whole.as_ref().err(), Some(e)),
    }

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
