//! Arbitrary bytes into the client's response check, whole and in chunks chosen by the
//! input: never a panic, the same outcome either way, and the decision of the independent
//! model of §4.1 (tests/support/handshake_model.rs): open (with which subprotocol), not an
//! upgrade (which status), or failed. (Linear work is a test in
//! `tests/handshake_client.rs`: a 4 MiB head in one-byte reads.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::HandshakeError;
use rfc6455::handshake::{ClientHandshake, WsUri};

#[path = "../../tests/support/handshake_model.rs"]
mod model;

fn client() -> ClientHandshake {
    let uri = WsUri::parse("ws://example.com/chat").expect("a valid URI");
    // A fixed key, so that an input can carry the matching accept value
    // (`dGhlIHNhbXBsZSBub25jZQ==` → `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`, §1.3).
    let nonce = *b"the sample nonce";
    let mut random = move |buf: &mut [u8]| buf.copy_from_slice(&nonce[..buf.len()]);
    let mut client = ClientHandshake::with_random(&uri, &mut random);
    client.subprotocol("chat").expect("a valid token");
    client
        .extension("permessage-deflate")
        .expect("a valid offer");
    client
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let mut whole_client = client();
    let whole = whole_client.parse_response(input);
    let verdict = match &whole {
        Ok(None) => model::ResponseVerdict::Incomplete,
        Ok(Some(r)) => model::ResponseVerdict::Accept {
            consumed: r.consumed(),
            subprotocol: r.subprotocol().map(|p| p.as_bytes().to_vec()),
        },
        Err(HandshakeError::Rejected(r)) => model::ResponseVerdict::NotUpgraded(r.status),
        Err(_) => model::ResponseVerdict::Fail,
    };
    let offer = model::Offer {
        // §1.3: the accept value for "the sample nonce".
        accept: b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        subprotocols: &["chat"],
        extensions: &["permessage-deflate"],
    };
    assert_eq!(
        verdict,
        model::response(input, model::Limits::default(), &offer),
        "the client's decision differs from the model of §4.1"
    );

    let step = usize::from(step).max(1);
    let mut chunked_client = client();
    let mut end = 0;
    let chunked = loop {
        end = (end + step).min(input.len());
        match chunked_client.parse_response(&input[..end]) {
            Ok(None) if end < input.len() => continue,
            other => break other,
        }
    };
    match (&whole, &chunked) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(a.consumed(), b.consumed());
            assert!(a.consumed() <= input.len());
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "whole {a:?} vs chunked {b:?}"),
    }
});
