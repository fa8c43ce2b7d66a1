//! The `http` feature: the opening handshake over `http::Request` / `http::Response`
//! (§4.2.1 checks, §4.2.2 101, rejections with the fields they need).
#![cfg(feature = "http")]

use http::{HeaderMap, Method, Request, StatusCode, Version, header};
use rfc6455::{HandshakeError, UsageError};

/// The §1.3 / §4.2.1 sample request, plus `extra` header fields.
fn request(extra: &[(&str, &str)]) -> Request<()> {
    let mut builder = Request::get("/chat")
        .header("Host", "server.example.com")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13");
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

/// The request without the header field `name`.
fn without(name: &str) -> Request<()> {
    let mut request = request(&[]);
    request.headers_mut().remove(name);
    request
}

/// A request, the error it gets, and the status and fields of its rejection.
type Rejection = (
    Request<()>,
    HandshakeError,
    StatusCode,
    &'static [(&'static str, &'static str)],
);

fn pairs(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
        .collect()
}

#[test]
fn a_valid_request_is_answered_with_the_101_of_section_4_2_2() {
    let request = request(&[("Origin", "http://example.com")]);
    let upgrade = rfc6455::http::validate_request(&request).unwrap();
    assert_eq!(upgrade.host(), "server.example.com");
    assert_eq!(upgrade.origin(), Some("http://example.com"));
    let response = rfc6455::http::response(&upgrade.accept()).unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(response.version(), Version::HTTP_11);
    // §1.3: the accept value of the sample key.
    assert_eq!(
        pairs(response.headers()),
        [
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ]
    );
}

#[test]
fn the_chosen_subprotocol_extensions_and_added_fields_are_in_the_101() {
    let request = request(&[
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("Sec-WebSocket-Protocol", "v2"),
        (
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits",
        ),
    ]);
    let upgrade = rfc6455::http::validate_request(&request).unwrap();
    assert_eq!(
        upgrade.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat", "v2"]
    );
    let accept = upgrade
        .accept()
        .subprotocol("superchat")
        .unwrap()
        .extension("permessage-deflate")
        .unwrap()
        .header("Set-Cookie", "a=1")
        .unwrap()
        .header("Set-Cookie", "b=2")
        .unwrap();
    let response = rfc6455::http::response(&accept).unwrap();
    assert_eq!(
        response.headers()[header::SEC_WEBSOCKET_PROTOCOL],
        "superchat"
    );
    assert_eq!(
        response.headers()[header::SEC_WEBSOCKET_EXTENSIONS],
        "permessage-deflate"
    );
    let cookies: Vec<_> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    // The same fields as the raw HTTP/1.1 bytes, in the same order.
    let written = String::from_utf8(accept.to_vec()).unwrap();
    let from_http: String = pairs(response.headers())
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    assert_eq!(
        written.to_ascii_lowercase(),
        format!("http/1.1 101 switching protocols\r\n{from_http}\r\n").to_ascii_lowercase()
    );

    // §4.2.2 /subprotocol/: only one the client offered; no subprotocol header unless one
    // is chosen.
    assert_eq!(
        upgrade.accept().subprotocol("mqtt").unwrap_err(),
        UsageError::SubprotocolNotOffered
    );
    let plain = rfc6455::http::response(&upgrade.accept()).unwrap();
    assert!(!plain.headers().contains_key(header::SEC_WEBSOCKET_PROTOCOL));
}

#[test]
fn each_rejection_has_its_status_and_fields() {
    let post = {
        let mut r = request(&[]);
        *r.method_mut() = Method::POST;
        r
    };
    let http10 = {
        let mut r = request(&[]);
        *r.version_mut() = Version::HTTP_10;
        r
    };
    const VERSION_426: &[(&str, &str)] = &[
        ("upgrade", "websocket"),
        ("connection", "Upgrade, close"),
        ("sec-websocket-version", "13"),
    ];
    const CLOSE_400: &[(&str, &str)] = &[("connection", "close")];
    let cases: Vec<Rejection> = vec![
        (
            post,
            HandshakeError::MethodNotGet,
            StatusCode::METHOD_NOT_ALLOWED,
            &[("allow", "GET"), ("connection", "close")],
        ),
        (
            http10,
            HandshakeError::HttpVersionTooOld,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            without("Upgrade"),
            HandshakeError::MissingUpgradeWebSocket,
            StatusCode::UPGRADE_REQUIRED,
            VERSION_426,
        ),
        (
            without("Sec-WebSocket-Version"),
            HandshakeError::MissingVersion,
            StatusCode::UPGRADE_REQUIRED,
            VERSION_426,
        ),
        (
            {
                let mut r = request(&[]);
                r.headers_mut()
                    .insert("Sec-WebSocket-Version", "8".parse().unwrap());
                r
            },
            HandshakeError::UnsupportedVersion,
            StatusCode::UPGRADE_REQUIRED,
            VERSION_426,
        ),
        (
            without("Host"),
            HandshakeError::MissingHost,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            without("Connection"),
            HandshakeError::MissingConnectionUpgrade,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            without("Sec-WebSocket-Key"),
            HandshakeError::MissingKey,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            {
                let mut r = request(&[]);
                r.headers_mut()
                    .insert("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j".parse().unwrap());
                r
            },
            HandshakeError::InvalidKey,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            request(&[("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")]),
            HandshakeError::DuplicateKey,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            request(&[("Sec-WebSocket-Protocol", "chat, \"x\"")]),
            HandshakeError::InvalidSubprotocols,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
        (
            request(&[("Sec-WebSocket-Extensions", "foo;")]),
            HandshakeError::InvalidExtensions,
            StatusCode::BAD_REQUEST,
            CLOSE_400,
        ),
    ];
    for (request, expected, status, fields) in cases {
        let error = rfc6455::http::validate_request(&request).unwrap_err();
        assert_eq!(error, expected);
        let response = rfc6455::http::rejection(&error);
        assert_eq!(response.status(), status, "{error:?}");
        assert_eq!(pairs(response.headers()), fields, "{error:?}");
    }
}

#[test]
fn parts_and_header_maps_are_checked_the_same() {
    let (parts, ()) = request(&[("Sec-WebSocket-Protocol", "chat")]).into_parts();
    let upgrade =
        rfc6455::http::validate_parts(&parts.method, parts.version, &parts.headers).unwrap();
    assert_eq!(upgrade.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(upgrade.subprotocols().collect::<Vec<_>>(), ["chat"]);
    // HTTP/2 and later pass the version rule; a GET there has no Upgrade (RFC 9113
    // §8.2.2), so it is refused with 426 all the same.
    let mut h2 = HeaderMap::new();
    h2.insert("host", "a".parse().unwrap());
    assert_eq!(
        rfc6455::http::validate_parts(&Method::GET, Version::HTTP_2, &h2).unwrap_err(),
        HandshakeError::MissingUpgradeWebSocket
    );
}
