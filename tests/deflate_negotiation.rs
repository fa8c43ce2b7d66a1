//! permessage-deflate negotiation (RFC 7692 §5, §7, §7.1), through real handshakes: the
//! server's choice among offers and its response, and the client's check of that response.
#![cfg(feature = "deflate")]

use rfc6455::deflate::{DeflateConfig, DeflateParams, NegotiationError, negotiate};
use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};

/// What a server with `config` answers to a request offering `offers`.
fn answer(offers: &str, config: &DeflateConfig) -> Option<(String, DeflateParams)> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offers}\r\n\r\n"
    );
    let mut parser = RequestParser::new();
    let req = parser.parse(request.as_bytes()).unwrap().unwrap();
    negotiate(req.extensions(), config).map(|(response, ext)| (response, *ext.params()))
}

fn answer_default(offers: &str) -> Option<String> {
    answer(offers, &DeflateConfig::default()).map(|(response, _)| response)
}

/// What a client with `config` makes of a 101 whose `Sec-WebSocket-Extensions` is
/// `accepted` (absent when empty).
fn check(
    config: &DeflateConfig,
    accepted: &str,
) -> Result<Option<(DeflateParams, Option<u8>)>, NegotiationError> {
    let uri = WsUri::parse("ws://a/").unwrap();
    let mut handshake = ClientHandshake::new(&uri);
    handshake.extension(&config.offer()).unwrap();
    let extensions = if accepted.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Extensions: {accepted}\r\n")
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extensions}\r\n",
        handshake.expected_accept().as_str()
    );
    let parsed = handshake
        .parse_response(response.as_bytes())
        .unwrap()
        .unwrap();
    config
        .client_accept(parsed.extensions())
        .map(|ext| ext.map(|ext| (*ext.params(), ext.send_window_bits())))
}

fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

// ----- the server -----

#[test]
fn server_accepts_plain_and_browser_offers() {
    assert_eq!(
        answer_default("permessage-deflate").as_deref(),
        Some("permessage-deflate")
    );
    // What Chromium sends.
    assert_eq!(
        answer_default("permessage-deflate; client_max_window_bits").as_deref(),
        Some("permessage-deflate")
    );
    // Extension names are compared ASCII case-insensitively, as tokens.
    assert_eq!(
        answer_default("PerMessage-Deflate").as_deref(),
        Some("permessage-deflate")
    );
    assert_eq!(answer_default("x-webkit-deflate-frame"), None);
    assert_eq!(
        answer_default("x-webkit-deflate-frame, permessage-deflate").as_deref(),
        Some("permessage-deflate")
    );
}

/// RFC 7692 §7: a server "MUST decline an extension negotiation offer for this extension
/// if ... [it] contains an extension parameter not defined for use in an offer, ... an
/// extension parameter with an invalid value, ... multiple extension parameters with the
/// same name".
#[test]
fn server_declines_malformed_offers_section_7() {
    for offer in [
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_no_context_takeover; CLIENT_NO_CONTEXT_TAKEOVER",
        // §7.1.1.1, §7.1.1.2: no value.
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
        // §7.1.2.1: server_max_window_bits has a value, 8..=15, no leading zero.
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=1a",
        "permessage-deflate; server_max_window_bits=-9",
        // §7.1.2.2: client_max_window_bits, if valued, 8..=15.
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=0",
    ] {
        assert_eq!(answer_default(offer), None, "{offer}");
        // Declining one offer leaves the next (RFC 6455 §9.1: in order of preference).
        assert_eq!(
            answer_default(&format!(
                "{offer}, permessage-deflate; client_no_context_takeover"
            ))
            .as_deref(),
            Some("permessage-deflate; client_no_context_takeover"),
            "{offer}"
        );
    }
}

/// The first acceptable offer wins, and its parameters shape the response.
#[test]
fn server_takes_offers_in_order_of_preference() {
    assert_eq!(
        answer(
            "permessage-deflate; server_max_window_bits=10, permessage-deflate",
            &DeflateConfig::default()
        ),
        Some((
            "permessage-deflate; server_max_window_bits=10".into(),
            params(false, false, 10, 15)
        ))
    );
    // Quoted values are unescaped first (RFC 6455 §9.1).
    assert_eq!(
        answer_default("permessage-deflate; server_max_window_bits=\"9\"").as_deref(),
        Some("permessage-deflate; server_max_window_bits=9")
    );
}

/// §7.1.1: the server echoes `server_no_context_takeover` (it may accept it no other
/// way), echoes `client_no_context_takeover` (making the client's hint binding), and adds
/// either when its configuration asks for it.
#[test]
fn server_context_takeover_section_7_1_1() {
    let default = DeflateConfig::default();
    assert_eq!(
        answer("permessage-deflate; server_no_context_takeover", &default),
        Some((
            "permessage-deflate; server_no_context_takeover".into(),
            params(true, false, 15, 15)
        ))
    );
    assert_eq!(
        answer("permessage-deflate; client_no_context_takeover", &default),
        Some((
            "permessage-deflate; client_no_context_takeover".into(),
            params(false, true, 15, 15)
        ))
    );
    let both = DeflateConfig::default()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true);
    assert_eq!(
        answer("permessage-deflate", &both),
        Some((
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover".into(),
            params(true, true, 15, 15)
        ))
    );
}

/// §7.1.2: the server's window is the smaller of the offer's and its own, announced
/// when under 15; the client's window is limited only where the offer allows it.
#[test]
fn server_window_bits_section_7_1_2() {
    let small = DeflateConfig::default()
        .server_max_window_bits(11)
        .client_max_window_bits(10);
    let cases = [
        (
            "permessage-deflate",
            "permessage-deflate; server_max_window_bits=11",
            params(false, false, 11, 15),
        ),
        (
            "permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=9",
            params(false, false, 9, 15),
        ),
        (
            "permessage-deflate; server_max_window_bits=13",
            "permessage-deflate; server_max_window_bits=11",
            params(false, false, 11, 15),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=10",
            params(false, false, 11, 10),
        ),
        (
            "permessage-deflate; client_max_window_bits=12",
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=10",
            params(false, false, 11, 10),
        ),
        // The client already promised less: nothing to ask.
        (
            "permessage-deflate; client_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=11",
            params(false, false, 11, 9),
        ),
        // 8 is accepted; the server then sends uncompressed.
        (
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=8",
            params(false, false, 8, 15),
        ),
    ];
    for (offer, response, agreed) in cases {
        assert_eq!(
            answer(offer, &small),
            Some((response.into(), agreed)),
            "{offer}"
        );
    }
    let (_, ext) = negotiate_one("permessage-deflate; server_max_window_bits=8");
    assert_eq!(ext, None, "no compression with a 256-byte window");
}

fn negotiate_one(offer: &str) -> (String, Option<u8>) {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    let mut parser = RequestParser::new();
    let req = parser.parse(request.as_bytes()).unwrap().unwrap();
    let (response, ext) = negotiate(req.extensions(), &DeflateConfig::default()).unwrap();
    (response, ext.send_window_bits())
}

// ----- the client -----

#[test]
fn client_offers_what_it_is_configured_for() {
    assert_eq!(
        DeflateConfig::default().offer(),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        DeflateConfig::default()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(10)
            .client_max_window_bits(12)
            .offer(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=12"
    );
}

#[test]
fn client_accepts_valid_responses() {
    let default = DeflateConfig::default();
    assert_eq!(check(&default, ""), Ok(None), "the server declined");
    assert_eq!(
        check(&default, "permessage-deflate"),
        Ok(Some((params(false, false, 15, 15), Some(15))))
    );
    // §7.1.1: either no_context_takeover may come unasked.
    assert_eq!(
        check(
            &default,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        ),
        Ok(Some((params(true, true, 15, 15), Some(15))))
    );
    // §7.1.2.1: the server may announce a smaller window than the client can take.
    assert_eq!(
        check(&default, "permessage-deflate; server_max_window_bits=10"),
        Ok(Some((params(false, false, 10, 15), Some(15))))
    );
    // §7.1.2.2: the server limits the client's window, as offered; 8 means uncompressed.
    assert_eq!(
        check(&default, "permessage-deflate; client_max_window_bits=9"),
        Ok(Some((params(false, false, 15, 9), Some(9))))
    );
    assert_eq!(
        check(&default, "permessage-deflate; client_max_window_bits=8"),
        Ok(Some((params(false, false, 15, 8), None)))
    );
    // The client's own smaller window stands.
    let small = DeflateConfig::default().client_max_window_bits(10);
    assert_eq!(
        check(&small, "permessage-deflate; client_max_window_bits=12"),
        Ok(Some((params(false, false, 15, 10), Some(10))))
    );
    // The client's own no_context_takeover stands, whatever the answer.
    let nct = DeflateConfig::default().client_no_context_takeover(true);
    assert_eq!(
        check(&nct, "permessage-deflate"),
        Ok(Some((params(false, true, 15, 15), Some(15))))
    );
}

/// RFC 7692 §7: "A client MUST _Fail the WebSocket Connection_ if the peer server
/// accepted an extension negotiation offer for this extension with an extension
/// negotiation response meeting any of the following conditions".
#[test]
fn client_fails_on_invalid_responses_section_7() {
    let default = DeflateConfig::default();
    let cases = [
        (
            "permessage-deflate; foo",
            NegotiationError::UnknownParameter,
        ),
        (
            "permessage-deflate; foo=1",
            NegotiationError::UnknownParameter,
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            NegotiationError::DuplicateParameter,
        ),
        (
            "permessage-deflate; server_no_context_takeover=1",
            NegotiationError::InvalidValue,
        ),
        (
            "permessage-deflate; server_max_window_bits",
            NegotiationError::InvalidValue,
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            NegotiationError::InvalidValue,
        ),
        (
            "permessage-deflate; server_max_window_bits=09",
            NegotiationError::InvalidValue,
        ),
        // §7.1.2.2: in a response, client_max_window_bits has a value.
        (
            "permessage-deflate; client_max_window_bits",
            NegotiationError::InvalidValue,
        ),
        (
            "permessage-deflate; client_max_window_bits=7",
            NegotiationError::InvalidValue,
        ),
        (
            "permessage-deflate, permessage-deflate",
            NegotiationError::AcceptedTwice,
        ),
    ];
    for (response, error) in cases {
        assert_eq!(check(&default, response), Err(error), "{response}");
    }
}

/// §7.1.1.1 and §7.1.2.1: what the client asked of the server must be in the answer.
#[test]
fn client_fails_when_its_requests_are_not_honoured() {
    let nct = DeflateConfig::default().server_no_context_takeover(true);
    assert_eq!(
        check(&nct, "permessage-deflate"),
        Err(NegotiationError::ServerNoContextTakeoverMissing)
    );
    assert_eq!(
        check(&nct, "permessage-deflate; server_no_context_takeover").map(|p| p.unwrap().0),
        Ok(params(true, false, 15, 15))
    );
    let window = DeflateConfig::default().server_max_window_bits(10);
    for response in [
        "permessage-deflate",
        "permessage-deflate; server_max_window_bits=11",
        "permessage-deflate; server_max_window_bits=15",
    ] {
        assert_eq!(
            check(&window, response),
            Err(NegotiationError::ServerWindowTooLarge),
            "{response}"
        );
    }
    assert_eq!(
        check(&window, "permessage-deflate; server_max_window_bits=9").map(|p| p.unwrap().0),
        Ok(params(false, false, 9, 15))
    );
}

/// Every server answer to every client offer the configurations can make is accepted by
/// that client, with the same agreement on both sides.
#[test]
fn every_configuration_pair_agrees() {
    let mut configs = Vec::new();
    for snct in [false, true] {
        for cnct in [false, true] {
            for sbits in [8, 9, 12, 15] {
                for cbits in [8, 10, 15] {
                    configs.push(
                        DeflateConfig::default()
                            .server_no_context_takeover(snct)
                            .client_no_context_takeover(cnct)
                            .server_max_window_bits(sbits)
                            .client_max_window_bits(cbits),
                    );
                }
            }
        }
    }
    for client in &configs {
        for server in &configs {
            let (response, server_params) = answer(&client.offer(), server).unwrap();
            let (client_params, _) = check(client, &response).unwrap().unwrap();
            assert_eq!(client_params, server_params, "{client:?} / {server:?}");
        }
    }
}
