//! The server side of the opening handshake (§4.2), through the public API: realistic
//! requests from browsers and tools, one negative test per §4.2.1 rule with its exact
//! response, the 101 response bytes, chunking properties and linearity.

use proptest::prelude::*;
use rfc6455::handshake::{Request, RequestParser, validate_request_headers};
use rfc6455::{HandshakeError, HandshakeLimits, UsageError, accept_key};

// ----- requests as real clients send them -----

/// Chromium 120: `permessage-deflate; client_max_window_bits`, cookies, Origin.
const CHROMIUM: &[u8] = b"GET /chat?room=lobby HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cookie: session=abc123; theme=dark\r\n\
Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

/// Firefox 121: `Connection: keep-alive, Upgrade`, subprotocols, Sec-Fetch headers.
const FIREFOX: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Sec-WebSocket-Version: 13\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Extensions: permessage-deflate\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
DNT: 1\r\n\
Connection: keep-alive, Upgrade\r\n\
Sec-Fetch-Dest: empty\r\n\
Sec-Fetch-Mode: websocket\r\n\
Sec-Fetch-Site: same-origin\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
Upgrade: websocket\r\n\
\r\n";

/// curl 8.5 (`curl ws://...`): no Origin, no extensions.
const CURL: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: */*\r\n\
Upgrade: websocket\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Key: 13bLs+xvGhqOv0+QE4bW0g==\r\n\
Connection: Upgrade\r\n\
\r\n";

/// Python `websockets` 12.
const PYTHON_WEBSOCKETS: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
User-Agent: Python/3.12 websockets/12.0\r\n\
\r\n";

/// Node `ws` 8: Host last, lowercase-free but in its own order.
const NODE_WS: &[u8] = b"GET /chat HTTP/1.1\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Key: E4WSEcseoWr4csPLS2QJHA==\r\n\
Connection: Upgrade\r\n\
Upgrade: websocket\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
Host: localhost:8080\r\n\
\r\n";

const REALISTIC: [(&str, &[u8], &str); 5] = [
    ("chromium", CHROMIUM, "HSmrc0sMlYUkAGmm5OPpG2HaGWk="),
    ("firefox", FIREFOX, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ("curl", CURL, "1sNztWC6wMZxKD8+q3/LzZ8OmBk="),
    (
        "python-websockets",
        PYTHON_WEBSOCKETS,
        "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=",
    ),
    ("node-ws", NODE_WS, "7eQChgCtQMnVILefJAO6dK5JwPc="),
];

/// A minimal valid request with `extra` header lines inserted before the blank line.
fn request_with(extra: &str) -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\n\
         Host: example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         {extra}\r\n"
    )
    .into_bytes()
}

/// A request from a list of header lines (no defaults), for the negative tests.
fn request_lines(request_line: &str, headers: &[&str]) -> Vec<u8> {
    let mut out = format!("{request_line}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

const GOOD_HEADERS: [&str; 5] = [
    "Host: example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

/// GOOD_HEADERS with the header starting with `name` replaced by `replacement` lines.
fn headers_replacing(name: &str, replacement: &[&'static str]) -> Vec<&'static str> {
    let mut out: Vec<&str> = GOOD_HEADERS
        .iter()
        .copied()
        .filter(|h| {
            !h.to_ascii_lowercase()
                .starts_with(&name.to_ascii_lowercase())
        })
        .collect();
    out.extend_from_slice(replacement);
    out
}

fn parse(bytes: &[u8]) -> Result<Option<Request<'_>>, HandshakeError> {
    RequestParser::new().parse(bytes)
}

fn parse_err(bytes: &[u8]) -> HandshakeError {
    match parse(bytes) {
        Err(e) => e,
        Ok(r) => panic!("expected an error, got {r:?}"),
    }
}

// ----- §1.3 vector -----

#[test]
fn accept_key_rfc_section_1_3_vector() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ==").to_string(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

// ----- realistic clients -----

#[test]
fn realistic_requests_are_accepted_with_exact_101() {
    for (client, bytes, accept) in REALISTIC {
        let req = parse(bytes)
            .unwrap_or_else(|e| panic!("{client}: {e}"))
            .unwrap_or_else(|| panic!("{client}: incomplete"));
        assert_eq!(req.consumed(), bytes.len(), "{client}");
        assert_eq!(req.path(), "/chat", "{client}");
        assert_eq!(req.host(), "localhost:8080", "{client}");
        let expected = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(req.accept().to_vec()).unwrap(),
            expected,
            "{client}"
        );
    }
}

#[test]
fn chromium_request_exposes_query_origin_cookie_and_deflate_offer() {
    let req = parse(CHROMIUM).unwrap().unwrap();
    assert_eq!(req.target(), "/chat?room=lobby");
    assert_eq!(req.path(), "/chat");
    assert_eq!(req.query(), Some("room=lobby"));
    assert_eq!(req.origin(), Some("http://localhost:8080"));
    assert_eq!(req.key(), "x3JJHMbDL1EzLkh9GBhXDw==");
    assert_eq!(
        req.header("cookie"),
        Some(&b"session=abc123; theme=dark"[..])
    );
    assert_eq!(req.header("COOKIE"), req.header("Cookie"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.subprotocols().count(), 0);
    let exts: Vec<_> = req.extensions().collect();
    assert_eq!(exts.len(), 1);
    assert_eq!(exts[0].name(), "permessage-deflate");
    assert_eq!(
        exts[0].as_str(),
        "permessage-deflate; client_max_window_bits"
    );
    let params: Vec<_> = exts[0].params().collect();
    assert_eq!(params.len(), 1);
    assert_eq!(params[0].name, "client_max_window_bits");
    assert_eq!(params[0].value, None);
    assert_eq!(exts[0].param("CLIENT_MAX_WINDOW_BITS"), Some(None));
    assert_eq!(req.headers().len(), 13);
    assert_eq!(req.headers()[0].name(), "Host");
    assert!(req.headers()[0].is("HOST"));
    assert_eq!(req.headers()[0].value(), b"localhost:8080");
    assert_eq!(req.headers()[0].value_str(), Some("localhost:8080"));
}

#[test]
fn firefox_request_offers_subprotocols_in_order() {
    let req = parse(FIREFOX).unwrap().unwrap();
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert_eq!(req.query(), None);
    let out = req.accept().subprotocol("superchat").unwrap().to_vec();
    assert_eq!(
        out,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
          Sec-WebSocket-Protocol: superchat\r\n\r\n"
    );
}

// ----- lists over several lines, quoted strings, other headers -----

#[test]
fn offers_split_over_several_header_lines() {
    let bytes = request_with(
        "Sec-WebSocket-Protocol: v1.chat\r\n\
         sec-websocket-protocol:v2.chat ,, v3.chat\r\n\
         Sec-WebSocket-Extensions: foo\r\n\
         Sec-WebSocket-Extensions: bar; baz=2, qux; q=\"x\\yz\"; flag\r\n",
    );
    let req = parse(&bytes).unwrap().unwrap();
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["v1.chat", "v2.chat", "v3.chat"]
    );
    let names: Vec<_> = req.extensions().map(|e| e.name()).collect();
    assert_eq!(names, ["foo", "bar", "qux"]);
    let qux = req.extensions().nth(2).unwrap();
    assert_eq!(qux.param("q"), Some(Some("xyz".into())));
    assert_eq!(qux.param("flag"), Some(None));
    assert_eq!(qux.param("missing"), None);
    let bar = req.extensions().nth(1).unwrap();
    assert_eq!(bar.param("baz"), Some(Some("2".into())));
}

#[test]
fn header_values_are_trimmed_and_names_case_insensitive() {
    let bytes = request_lines(
        "GET / HTTP/1.1",
        &[
            "hOsT: \t example.com \t",
            "UPGRADE:WebSocket",
            "connection:   UPGRADE   ",
            "SEC-WEBSOCKET-KEY:  dGhlIHNhbXBsZSBub25jZQ==  ",
            "Sec-Websocket-Version:13",
            "X-Empty:",
            "Authorization: Bearer abc",
            "X-Multi: 1",
            "x-multi: 2",
        ],
    );
    let req = parse(&bytes).unwrap().unwrap();
    assert_eq!(req.host(), "example.com");
    assert_eq!(req.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(req.header("x-empty"), Some(&b""[..]));
    assert_eq!(req.header("authorization"), Some(&b"Bearer abc"[..]));
    assert_eq!(
        req.header_all("X-MULTI").collect::<Vec<_>>(),
        [&b"1"[..], &b"2"[..]]
    );
    assert_eq!(req.path(), "/");
}

#[test]
fn upgrade_and_connection_accept_token_lists() {
    for (upgrade, connection) in [
        ("websocket", "keep-alive, Upgrade"),
        ("h2c, WebSocket", "Upgrade, keep-alive"),
        ("WEBSOCKET", "upgrade"),
    ] {
        let headers = [
            "Host: example.com".to_string(),
            format!("Upgrade: {upgrade}"),
            format!("Connection: {connection}"),
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".into(),
            "Sec-WebSocket-Version: 13".into(),
        ];
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let bytes = request_lines("GET /chat HTTP/1.1", &refs);
        assert!(parse(&bytes).unwrap().is_some(), "{upgrade} / {connection}");
    }
}

#[test]
fn absolute_form_targets_give_the_resource_name() {
    for (line, path, query) in [
        (
            "GET http://example.com/chat?x=1 HTTP/1.1",
            "/chat",
            Some("x=1"),
        ),
        ("GET wss://example.com:443 HTTP/1.1", "/", None),
        ("GET HTTPS://example.com?q HTTP/1.1", "/", Some("q")),
        ("GET /a/b?c=d&e HTTP/1.1", "/a/b", Some("c=d&e")),
        ("GET /chat HTTP/1.2", "/chat", None),
        ("GET /chat HTTP/2.0", "/chat", None),
    ] {
        let bytes = request_lines(line, &GOOD_HEADERS);
        let req = parse(&bytes).unwrap().unwrap();
        assert_eq!((req.path(), req.query()), (path, query), "{line}");
    }
}

#[test]
fn leftover_bytes_after_the_head_belong_to_the_frame_layer() {
    let mut bytes = CURL.to_vec();
    let frame = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    bytes.extend_from_slice(&frame);
    let req = parse(&bytes).unwrap().unwrap();
    assert_eq!(req.consumed(), CURL.len());
    assert_eq!(&bytes[req.consumed()..], frame);
}

#[test]
fn incomplete_heads_need_more() {
    for cut in [0, 1, 20, CHROMIUM.len() - 2, CHROMIUM.len() - 1] {
        assert!(parse(&CHROMIUM[..cut]).unwrap().is_none(), "cut at {cut}");
    }
}

// ----- the 101 response -----

#[test]
fn accept_writes_subprotocol_extensions_and_extra_headers_in_order() {
    let req = parse(CHROMIUM).unwrap().unwrap();
    let accept = req
        .accept()
        .extension("permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
        .unwrap()
        .header("Set-Cookie", "id=42; HttpOnly")
        .unwrap()
        .header("X-Server", "rfc6455")
        .unwrap();
    assert_eq!(accept.accept_key().as_str(), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    let mut out = b"previous bytes|".to_vec();
    accept.write(&mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "previous bytes|HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n\
         Set-Cookie: id=42; HttpOnly\r\n\
         X-Server: rfc6455\r\n\
         \r\n"
    );
}

#[test]
fn accept_with_subprotocol_and_two_extensions() {
    let bytes = request_with(
        "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: foo, bar\r\n",
    );
    let req = parse(&bytes).unwrap().unwrap();
    let out = req
        .accept()
        .subprotocol("superchat")
        .unwrap()
        .subprotocol("chat") // the last choice wins
        .unwrap()
        .extension("bar")
        .unwrap()
        .extension("FOO; x=1")
        .unwrap()
        .to_vec();
    assert_eq!(
        out,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
          Sec-WebSocket-Protocol: chat\r\n\
          Sec-WebSocket-Extensions: bar, FOO; x=1\r\n\r\n"
    );
}

#[test]
fn choosing_a_subprotocol_not_offered_is_a_caller_error() {
    // §4.2.2 /subprotocol/: "The value chosen MUST be derived from the client's handshake".
    let req = parse(FIREFOX).unwrap().unwrap();
    assert_eq!(
        req.accept().subprotocol("mqtt").unwrap_err(),
        UsageError::SubprotocolNotOffered
    );
    // Compared exactly.
    assert_eq!(
        req.accept().subprotocol("CHAT").unwrap_err(),
        UsageError::SubprotocolNotOffered
    );
    // None offered at all.
    let req = parse(CURL).unwrap().unwrap();
    assert_eq!(
        req.accept().subprotocol("chat").unwrap_err(),
        UsageError::SubprotocolNotOffered
    );
}

#[test]
fn accepting_an_extension_not_offered_is_a_caller_error() {
    // §4.2.2 /extensions/: "Extensions not listed by the client MUST NOT be listed."
    let req = parse(CHROMIUM).unwrap().unwrap();
    assert_eq!(
        req.accept()
            .extension("x-webkit-deflate-frame")
            .unwrap_err(),
        UsageError::ExtensionNotOffered
    );
    assert_eq!(
        req.accept()
            .extension("permessage-deflate, other")
            .unwrap_err(),
        UsageError::ExtensionNotOffered
    );
    for bad in [
        "",
        "permessage-deflate;",
        "a b",
        "x=\"1",
        "permessage-deflate\r\nX: y",
    ] {
        assert_eq!(
            req.accept().extension(bad).unwrap_err(),
            UsageError::InvalidHeader,
            "{bad:?}"
        );
    }
}

#[test]
fn extra_headers_are_validated() {
    let req = parse(CURL).unwrap().unwrap();
    for (name, value) in [
        ("X-Evil", "a\r\nSet-Cookie: b"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "a\rb"),
        ("X-Evil", "\0"),
        ("X-Evil", " padded"),
        ("X Evil", "a"),
        ("X-Evil:", "a"),
        ("", "a"),
        ("Sec-WebSocket-Accept", "forged"),
        ("connection", "close"),
        ("Content-Length", "0"),
    ] {
        assert_eq!(
            req.accept().header(name, value).unwrap_err(),
            UsageError::InvalidHeader,
            "{name:?}: {value:?}"
        );
    }
}

// ----- one negative test per rule, with the exact response -----

/// A header name is matched whole: two letters changed by the same bits (u to v and e
/// to f both flip 0x03; h to i and t to u both flip 0x01) do not cancel out, so these
/// are other headers and the real ones are missing (§4.2.1).
#[test]
fn names_two_letters_off_are_other_headers() {
    let upgrade = headers_replacing("Upgrade", &["Vpgradf: websocket"]);
    assert_eq!(
        parse_err(&request_lines("GET /chat HTTP/1.1", &upgrade)),
        HandshakeError::MissingUpgradeWebSocket
    );
    let host = headers_replacing("Host", &["Iosu: example.com"]);
    assert_eq!(
        parse_err(&request_lines("GET /chat HTTP/1.1", &host)),
        HandshakeError::MissingHost
    );
}

#[test]
fn wrong_method_is_405_with_allow_get() {
    let err = parse_err(&request_lines("POST /chat HTTP/1.1", &GOOD_HEADERS));
    assert_eq!(err, HandshakeError::MethodNotGet);
    assert_eq!(err.status(), 405);
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        "HTTP/1.1 405 Method Not Allowed\r\n\
         Allow: GET\r\n\
         Connection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: 17\r\n\
         \r\n\
         method is not GET"
    );
    // Methods are case-sensitive (RFC 9110 §9.1).
    assert_eq!(
        parse_err(&request_lines("get /chat HTTP/1.1", &GOOD_HEADERS)),
        HandshakeError::MethodNotGet
    );
}

#[test]
fn http_1_0_is_400() {
    let err = parse_err(&request_lines("GET /chat HTTP/1.0", &GOOD_HEADERS));
    assert_eq!(err, HandshakeError::HttpVersionTooOld);
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        "HTTP/1.1 400 Bad Request\r\n\
         Connection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: 27\r\n\
         \r\n\
         HTTP version lower than 1.1"
    );
}

#[test]
fn malformed_request_lines_are_400() {
    for line in [
        "GET /chat",
        "GET /chat HTTP/1.1 extra",
        "GET  /chat HTTP/1.1",
        "GET  HTTP/1.1",
        "GET /chat  HTTP/1.1",
        "GET /chat HTTP/11",
        "GET /chat http/1.1",
        "GET /chat HTTP/1.x",
        "GET /ch\x01at HTTP/1.1",
        "GET /ch\u{e9}t HTTP/1.1",
        "G(T /chat HTTP/1.1",
        "",
    ] {
        let err = parse_err(&request_lines(line, &GOOD_HEADERS));
        assert_eq!(err, HandshakeError::InvalidRequestLine, "{line:?}");
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn invalid_request_targets_are_400() {
    for line in [
        "GET chat HTTP/1.1",
        "GET * HTTP/1.1",
        "GET example.com:80 HTTP/1.1",
        "GET /chat#frag HTTP/1.1",
        "GET /chat#a#b HTTP/1.1",
        "GET ftp://example.com/chat HTTP/1.1",
        "GET http:///chat HTTP/1.1",
    ] {
        let err = parse_err(&request_lines(line, &GOOD_HEADERS));
        assert_eq!(err, HandshakeError::InvalidRequestTarget, "{line:?}");
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn host_is_required_once_and_printable() {
    // §4.2.1 item 2.
    let err = parse_err(&request_lines(
        "GET / HTTP/1.1",
        &headers_replacing("host", &[]),
    ));
    assert_eq!(err, HandshakeError::MissingHost);
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        "HTTP/1.1 400 Bad Request\r\n\
         Connection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: 19\r\n\
         \r\n\
         missing Host header"
    );
    assert_eq!(
        parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("host", &["Host: a.example", "Host: b.example"])
        )),
        HandshakeError::DuplicateHost
    );
    assert_eq!(
        parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("host", &["Host:"])
        )),
        HandshakeError::InvalidHost
    );
    assert_eq!(
        parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("host", &["Host: ex\u{e4}mple.com"])
        )),
        HandshakeError::InvalidHost
    );
}

#[test]
fn missing_upgrade_websocket_is_426() {
    // §4.2.1 item 3.
    for upgrade in [
        &[][..],
        &["Upgrade: h2c"],
        &["Upgrade: websockets"],
        &["Upgrade:"],
    ] {
        let err = parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("upgrade", upgrade),
        ));
        assert_eq!(err, HandshakeError::MissingUpgradeWebSocket, "{upgrade:?}");
        assert_eq!(err.status(), 426);
        assert_eq!(
            String::from_utf8(err.response()).unwrap(),
            "HTTP/1.1 426 Upgrade Required\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade, close\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 33\r\n\
             \r\n\
             missing Upgrade: websocket header"
        );
    }
}

#[test]
fn connection_without_upgrade_token_is_400() {
    // §4.2.1 item 4.
    for connection in [
        &[][..],
        &["Connection: keep-alive"],
        &["Connection: upgraded"],
    ] {
        let err = parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("connection", connection),
        ));
        assert_eq!(
            err,
            HandshakeError::MissingConnectionUpgrade,
            "{connection:?}"
        );
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn key_must_be_base64_of_16_bytes_and_single() {
    // §4.2.1 item 5.
    let err = parse_err(&request_lines(
        "GET / HTTP/1.1",
        &headers_replacing("sec-websocket-key", &[]),
    ));
    assert_eq!(err, HandshakeError::MissingKey);
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        "HTTP/1.1 400 Bad Request\r\n\
         Connection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: 32\r\n\
         \r\n\
         missing Sec-WebSocket-Key header"
    );
    for key in [
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ", // no padding
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j",   // 15 bytes
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSE=", // 17 bytes
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ*==",
        "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ==",
        "Sec-WebSocket-Key:",
    ] {
        let err = parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("sec-websocket-key", &[key]),
        ));
        assert_eq!(err, HandshakeError::InvalidKey, "{key:?}");
        assert_eq!(err.status(), 400);
    }
    assert_eq!(
        parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing(
                "sec-websocket-key",
                &[
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                    "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=="
                ]
            )
        )),
        HandshakeError::DuplicateKey
    );
}

#[test]
fn wrong_or_missing_version_is_426_with_version_13() {
    // §4.2.1 item 6, §4.4.
    let expected = |msg: &str| {
        format!(
            "HTTP/1.1 426 Upgrade Required\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade, close\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\n\
             \r\n\
             {msg}",
            msg.len()
        )
    };
    for version in [
        "Sec-WebSocket-Version: 8",
        "Sec-WebSocket-Version: 013",
        "Sec-WebSocket-Version: 13, 8",
        "Sec-WebSocket-Version:",
    ] {
        let err = parse_err(&request_lines(
            "GET / HTTP/1.1",
            &headers_replacing("sec-websocket-version", &[version]),
        ));
        assert_eq!(err, HandshakeError::UnsupportedVersion, "{version:?}");
        assert_eq!(
            String::from_utf8(err.response()).unwrap(),
            expected("unsupported Sec-WebSocket-Version (this server speaks 13)")
        );
    }
    let err = parse_err(&request_lines(
        "GET / HTTP/1.1",
        &headers_replacing("sec-websocket-version", &[]),
    ));
    assert_eq!(err, HandshakeError::MissingVersion);
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        expected("missing Sec-WebSocket-Version header")
    );
    let err = parse_err(&request_lines(
        "GET / HTTP/1.1",
        &headers_replacing(
            "sec-websocket-version",
            &["Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13"],
        ),
    ));
    assert_eq!(err, HandshakeError::DuplicateVersion);
    assert_eq!(err.status(), 400);
}

#[test]
fn invalid_origin_is_400() {
    for origin in [
        &["Origin: http://a.example", "Origin: http://b.example"][..],
        &["Origin:"],
        &["Origin: http://\u{e9}.example"],
    ] {
        let mut headers = GOOD_HEADERS.to_vec();
        headers.extend_from_slice(origin);
        let err = parse_err(&request_lines("GET / HTTP/1.1", &headers));
        assert_eq!(err, HandshakeError::InvalidOrigin, "{origin:?}");
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn malformed_offers_are_400() {
    // §4.3: Sec-WebSocket-Protocol-Client = 1#token.
    for value in ["a b", "chat, \"x\"", "", " , ", "chat/1"] {
        let bytes = request_with(&format!("Sec-WebSocket-Protocol: {value}\r\n"));
        assert_eq!(
            parse_err(&bytes),
            HandshakeError::InvalidSubprotocols,
            "{value:?}"
        );
    }
    // §9.1: malformed extension offers "MUST immediately _Fail the WebSocket Connection_".
    for value in [
        "",
        "foo;",
        "foo; =1",
        "foo; a=\"1 2\"",
        "foo bar",
        "foo; a=\"",
        // A quoted-pair must unescape to a token character (§9.1): not a space, not the
        // closing quote, not nothing.
        "foo; a=\"x\\ y\"",
        "foo; a=\"x\\\"",
        "foo; a=\"\\\"",
    ] {
        let bytes = request_with(&format!("Sec-WebSocket-Extensions: {value}\r\n"));
        let err = parse_err(&bytes);
        assert_eq!(err, HandshakeError::InvalidExtensions, "{value:?}");
        assert_eq!(err.status(), 400);
    }
}

/// §9.1: a parameter value may be a quoted string that unescapes to a token; a quoted
/// pair of a token character is one.
#[test]
fn quoted_parameter_values_with_escaped_token_characters_are_accepted() {
    let bytes = request_with("Sec-WebSocket-Extensions: foo; a=\"x\\y\", bar\r\n");
    let req = parse(&bytes).unwrap().unwrap();
    let names: Vec<&str> = req.extensions().map(|e| e.name()).collect();
    assert_eq!(names, ["foo", "bar"]);
}

/// What an offer and a header print as, for logs: an offer's text as it was sent
/// (`Display`), a header's name and value (`Debug`).
#[test]
fn offers_display_as_sent_and_headers_debug_with_name_and_value() {
    let bytes = request_with("Sec-WebSocket-Extensions: foo; a=1, bar\r\n");
    let req = parse(&bytes).unwrap().unwrap();
    let shown: Vec<String> = req.extensions().map(|e| e.to_string()).collect();
    assert_eq!(shown, ["foo; a=1", "bar"]);
    let host = req.headers().iter().find(|h| h.name() == "Host").unwrap();
    assert_eq!(
        format!("{host:?}"),
        r#"Header { name: "Host", value: "example.com" }"#
    );
}

#[test]
fn header_syntax_errors_are_400() {
    let cases: [(&str, HandshakeError); 12] = [
        ("Bad Name: x", HandshakeError::InvalidHeaderName),
        ("Host2 : x", HandshakeError::InvalidHeaderName),
        ("NoColon", HandshakeError::InvalidHeaderName),
        (": empty-name", HandshakeError::InvalidHeaderName),
        ("X-(paren): x", HandshakeError::InvalidHeaderName),
        ("X-\u{e9}: x", HandshakeError::InvalidHeaderName),
        ("X-Ctl: a\x01b", HandshakeError::InvalidHeaderValue),
        ("X-Nul: a\0", HandshakeError::InvalidHeaderValue),
        ("X-Del: a\x7f", HandshakeError::InvalidHeaderValue),
        ("X-Cr: a\rb", HandshakeError::InvalidHeaderValue),
        // RFC 9112 §5.2: obsolete line folding.
        (" folded", HandshakeError::ObsoleteLineFolding),
        ("\tfolded", HandshakeError::ObsoleteLineFolding),
    ];
    for (line, expected) in cases {
        let mut headers = GOOD_HEADERS.to_vec();
        headers.insert(2, line);
        let err = parse_err(&request_lines("GET / HTTP/1.1", &headers));
        assert_eq!(err, expected, "{line:?}");
        assert_eq!(err.status(), 400);
    }
    // Non-ASCII (obs-text) in a value is allowed and kept.
    let bytes = request_with("X-Name: Andr\u{e9}\r\n");
    let req = parse(&bytes).unwrap().unwrap();
    assert_eq!(req.header("x-name").unwrap(), "Andr\u{e9}".as_bytes());
}

#[test]
fn bare_lf_line_endings_are_rejected() {
    // RFC 9112 §2.2 allows a recipient to accept a bare LF; we do not (documented on
    // HandshakeError::BareLineFeed), and say so as soon as the first one arrives.
    let bytes = b"GET / HTTP/1.1\nHost: example.com\n";
    assert_eq!(parse_err(bytes), HandshakeError::BareLineFeed);
    let crlf_then_lf = request_with("X-A: 1\nX-B: 2\r\n");
    assert_eq!(parse_err(&crlf_then_lf), HandshakeError::BareLineFeed);
    assert_eq!(parse_err(b"\n"), HandshakeError::BareLineFeed);
    // A bare LF ending the request line of an otherwise complete head (found by the
    // split property below: the one-pass path must agree with the search).
    let mut bytes = request_with("");
    bytes[18] = b'x'; // "GET /chat HTTP/1.1\r\n" -> "GET /chat HTTP/1.1x\n"
    assert_eq!(&bytes[15..20], b"1.1x\n");
    assert_eq!(parse_err(&bytes), HandshakeError::BareLineFeed);
    assert_eq!(
        feed_bytewise(&bytes, HandshakeLimits::DEFAULT),
        Outcome::Failed(HandshakeError::BareLineFeed)
    );
    assert_eq!(HandshakeError::BareLineFeed.status(), 400);
}

#[test]
fn too_many_headers_is_431() {
    let limits = HandshakeLimits::DEFAULT.max_headers(8);
    let mut extra = String::new();
    for i in 0..3 {
        extra.push_str(&format!("X-{i}: {i}\r\n"));
    }
    // 5 + 3 = 8 headers: fine.
    let ok = request_with(&extra);
    assert!(
        RequestParser::with_limits(limits)
            .parse(&ok)
            .unwrap()
            .is_some()
    );
    extra.push_str("X-3: 3\r\n");
    let err = RequestParser::with_limits(limits)
        .parse(&request_with(&extra))
        .unwrap_err();
    assert_eq!(err, HandshakeError::TooManyHeaders { max: 8 });
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        "HTTP/1.1 431 Request Header Fields Too Large\r\n\
         Connection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: 25\r\n\
         \r\n\
         more than 8 header fields"
    );
    // The default, 64, is checked while the head is still incomplete.
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..65 {
        head.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
    }
    assert_eq!(parse_err(&head), HandshakeError::TooManyHeaders { max: 64 });
}

#[test]
fn head_too_large_is_431() {
    let padding = "a".repeat(8 * 1024);
    let bytes = request_with(&format!("X-Pad: {padding}\r\n"));
    let err = parse_err(&bytes);
    assert_eq!(err, HandshakeError::HeadTooLarge { max: 8192 });
    assert_eq!(err.status(), 431);
    assert!(
        err.response()
            .starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    );
    // A head of exactly the limit is fine; one byte more is not.
    let limits = HandshakeLimits::DEFAULT.max_head_size(CURL.len());
    assert!(
        RequestParser::with_limits(limits)
            .parse(CURL)
            .unwrap()
            .is_some()
    );
    let limits = HandshakeLimits::DEFAULT.max_head_size(CURL.len() - 1);
    assert_eq!(
        RequestParser::with_limits(limits).parse(CURL).unwrap_err(),
        HandshakeError::HeadTooLarge {
            max: CURL.len() - 1
        }
    );
    // Bytes after a head within the limit do not count.
    let mut long = CURL.to_vec();
    long.extend_from_slice(&[0u8; 10_000]);
    assert_eq!(parse(&long).unwrap().unwrap().consumed(), CURL.len());
}

// ----- header-level API: the same rules without our parser -----

fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(bytes).unwrap();
    text.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn header_level_api_accepts_realistic_requests() {
    for (client, bytes, accept) in REALISTIC {
        let headers = pairs(bytes);
        let upgrade =
            validate_request_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .unwrap_or_else(|e| panic!("{client}: {e}"));
        assert_eq!(upgrade.accept_key().as_str(), accept, "{client}");
        assert_eq!(upgrade.host(), "localhost:8080");
        let via_parser = parse(bytes).unwrap().unwrap();
        assert_eq!(upgrade, *via_parser.upgrade(), "{client}");
    }
    // Byte slices work too (e.g. http::HeaderName / HeaderValue through AsRef<[u8]>).
    let raw: [(&[u8], &[u8]); 5] = [
        (b"Host", b"h"),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"Sec-WebSocket-Version", b"13"),
    ];
    let upgrade = validate_request_headers(raw.iter().map(|(n, v)| (*n, *v))).unwrap();
    assert_eq!(upgrade.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!((upgrade.host(), upgrade.origin()), ("h", None));
    let with_origin = [("Origin", "https://example.com"), ("Host", "h")];
    let upgrade = validate_request_headers(
        raw.iter()
            .skip(1)
            .map(|(n, v)| {
                (
                    std::str::from_utf8(n).unwrap(),
                    std::str::from_utf8(v).unwrap(),
                )
            })
            .chain(with_origin),
    )
    .unwrap();
    assert_eq!(upgrade.origin(), Some("https://example.com"));
    assert_eq!(
        upgrade.accept().to_vec(),
        parse(&request_with("")).unwrap().unwrap().accept().to_vec()
    );
}

#[test]
fn header_level_api_gives_the_same_errors_as_the_parser() {
    let cases: [(&str, &[&str]); 10] = [
        ("host", &[]),
        ("host", &["Host: a", "Host: b"]),
        ("upgrade", &["Upgrade: h2c"]),
        ("connection", &["Connection: close"]),
        ("sec-websocket-key", &[]),
        ("sec-websocket-key", &["Sec-WebSocket-Key: abc"]),
        (
            "sec-websocket-key",
            &[
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            ],
        ),
        ("sec-websocket-version", &["Sec-WebSocket-Version: 8"]),
        ("sec-websocket-version", &[]),
        (
            "sec-websocket-version",
            &["Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13"],
        ),
    ];
    for (name, replacement) in cases {
        let bytes = request_lines("GET / HTTP/1.1", &headers_replacing(name, replacement));
        let from_parser = parse_err(&bytes);
        let headers = pairs(&bytes);
        let from_headers =
            validate_request_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .unwrap_err();
        assert_eq!(from_parser, from_headers, "{name}: {replacement:?}");
    }
}

// ----- chunking and linearity -----

/// What a parse produced, comparable across chunkings.
#[derive(Debug, PartialEq)]
enum Outcome {
    Partial,
    Complete {
        consumed: usize,
        headers: Vec<(String, Vec<u8>)>,
        response: Vec<u8>,
    },
    Failed(HandshakeError),
}

fn outcome(result: Result<Option<Request<'_>>, HandshakeError>) -> Outcome {
    match result {
        Ok(None) => Outcome::Partial,
        Ok(Some(req)) => Outcome::Complete {
            consumed: req.consumed(),
            headers: req
                .headers()
                .iter()
                .map(|h| (h.name().to_string(), h.value().to_vec()))
                .collect(),
            response: req.accept().to_vec(),
        },
        Err(e) => Outcome::Failed(e),
    }
}

/// Feeds `bytes` as a growing buffer, cut at `cuts`, stopping at the first result that is
/// not "need more".
fn feed_split(bytes: &[u8], cuts: &[usize], limits: HandshakeLimits) -> Outcome {
    let mut parser = RequestParser::with_limits(limits);
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    ends.push(bytes.len());
    ends.sort_unstable();
    for end in ends {
        let o = outcome(parser.parse(&bytes[..end]));
        if o != Outcome::Partial {
            return o;
        }
    }
    Outcome::Partial
}

fn feed_bytewise(bytes: &[u8], limits: HandshakeLimits) -> Outcome {
    let cuts: Vec<usize> = (0..=bytes.len()).collect();
    feed_split(bytes, &cuts, limits)
}

#[test]
fn byte_at_a_time_equals_whole() {
    let mut inputs: Vec<Vec<u8>> = REALISTIC.iter().map(|(_, b, _)| b.to_vec()).collect();
    inputs.push(request_lines("POST / HTTP/1.1", &GOOD_HEADERS));
    inputs.push(request_with("X-Bad: a\x01\r\n"));
    inputs.push(b"GET / HTTP/1.1\nHost: x\n\n".to_vec());
    for bytes in inputs {
        let whole = outcome(RequestParser::new().parse(&bytes));
        assert_ne!(whole, Outcome::Partial);
        assert_eq!(feed_bytewise(&bytes, HandshakeLimits::DEFAULT), whole);
    }
}

/// A head that arrives whole is parsed in one pass whose names become text from one
/// UTF-8 check of at most 2 KiB at a time; heads longer than that, obs-text values before
/// other fields, and bytes after the head must give what a byte-at-a-time parse gives,
/// and a second call after completion the same head again.
#[test]
fn one_call_parse_equals_split_parse_past_text_checks() {
    let long = "x".repeat(1500);
    let mut inputs = vec![
        request_with(&format!(
            "X-Long-A: {long}\r\nX-Long-B: {long}\r\nX-After: 1\r\n"
        )),
        request_with("X-Obs: caf\u{e9}\r\nX-Raw: \u{ff}\r\nX-After: 2\r\n")
            .into_iter()
            .map(|b| if b == 0xc3 { 0xe9 } else { b })
            .collect(),
    ];
    // A name that straddles the 2 KiB mark.
    let pad = "p".repeat(2048 - 40);
    inputs.push(request_with(&format!(
        "X-Pad: {pad}\r\nX-Straddling-Name: v\r\n"
    )));
    for bytes in inputs {
        let whole = outcome(RequestParser::new().parse(&bytes));
        assert!(matches!(whole, Outcome::Complete { .. }), "{whole:?}");
        assert_eq!(feed_bytewise(&bytes, HandshakeLimits::DEFAULT), whole);
        let mut with_frames = bytes.clone();
        with_frames.extend_from_slice(&[0x81, 0x85, 0xff, 0xfe, 0x00, 0xc3]);
        assert_eq!(outcome(RequestParser::new().parse(&with_frames)), whole);
        let mut parser = RequestParser::new();
        assert_eq!(outcome(parser.parse(&bytes)), whole);
        assert_eq!(outcome(parser.parse(&bytes)), whole);
    }
}

/// Runs `f` on another thread and fails if it takes longer than `secs`: a parser that
/// rescanned its input on every call would take hours on the heads below, a linear one
/// takes well under a second.
fn within_seconds<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .expect("linear work finishes in time")
}

/// Feeds `bytes` to a parser `step` bytes at a time, the buffer growing as a server's
/// would; returns the length at which the parser answered, and the answer.
fn feed_in_steps(
    bytes: &[u8],
    step: usize,
    limits: HandshakeLimits,
) -> (usize, Result<Option<usize>, HandshakeError>) {
    let mut parser = RequestParser::with_limits(limits);
    let mut end = 0;
    loop {
        end = (end + step).min(bytes.len());
        match parser.parse(&bytes[..end]) {
            Ok(None) if end < bytes.len() => {}
            other => return (end, other.map(|r| r.map(|r| r.consumed()))),
        }
    }
}

#[test]
fn fed_one_byte_at_a_time_the_answer_comes_at_the_last_byte() {
    // An 8 KiB request (the default limit) delivered one byte per call.
    let pad = 8 * 1024 - request_with("X-Pad: \r\n").len();
    let bytes = request_with(&format!("X-Pad: {}\r\n", "a".repeat(pad)));
    assert_eq!(bytes.len(), 8 * 1024);
    let n = bytes.len();
    assert_eq!(
        feed_in_steps(&bytes, 1, HandshakeLimits::DEFAULT),
        (n, Ok(Some(n)))
    );

    // One byte more than the limit: the size error, as soon as the limit is reached.
    let bytes = request_with(&format!("X-Pad: {}\r\n", "a".repeat(pad + 1)));
    assert_eq!(
        feed_in_steps(&bytes, 1, HandshakeLimits::DEFAULT),
        (
            8 * 1024,
            Err(HandshakeError::HeadTooLarge { max: 8 * 1024 })
        )
    );
}

#[test]
fn a_huge_head_in_tiny_reads_is_linear_work() {
    // tungstenite CVE-2023-43669 rescanned the head on every read: quadratic. Here, with
    // the limits raised to 4 MiB, a 4 MiB head of one-byte reads (4 million calls) must
    // parse in linear time, whether it is one long header line or many short ones.
    let limits = HandshakeLimits::default()
        .max_head_size(4 << 20)
        .max_headers(1 << 20);
    let long_line = {
        let pad = (4 << 20) - request_with("X-Pad: \r\n").len();
        request_with(&format!("X-Pad: {}\r\n", "a".repeat(pad)))
    };
    let short_lines = {
        let mut extra = String::new();
        while extra.len() < (4 << 20) - 300 {
            extra.push_str("X-A: b\r\n");
        }
        request_with(&extra)
    };
    for bytes in [long_line, short_lines] {
        let n = bytes.len();
        let outcome = within_seconds(60, move || feed_in_steps(&bytes, 1, limits));
        assert_eq!(outcome, (n, Ok(Some(n))));
    }
}

#[test]
fn nothing_past_the_size_limit_is_read() {
    // A bare LF (an error if it were looked at) after the first 8 KiB of a 1 MiB head:
    // the answer is the size error, whole or in reads of 1000 bytes.
    let mut bytes = request_with(&format!("X-Pad: {}\r\n", "a".repeat(9000)));
    bytes.truncate(8 * 1024 + 10);
    bytes.extend_from_slice(b"\n");
    bytes.resize(1 << 20, b'a');
    let expected = HandshakeError::HeadTooLarge { max: 8 * 1024 };
    assert_eq!(
        RequestParser::new().parse(&bytes).unwrap_err(),
        expected.clone()
    );
    assert_eq!(
        feed_in_steps(&bytes, 1000, HandshakeLimits::DEFAULT),
        (9000, Err(expected))
    );
    // The same bare LF inside the limit is refused as such.
    bytes[100] = b'\n';
    assert_eq!(
        RequestParser::new().parse(&bytes).unwrap_err(),
        HandshakeError::BareLineFeed
    );
}

#[test]
fn calls_after_completion_return_the_same_request() {
    for cut in [0, 50] {
        let mut bytes = CURL.to_vec();
        let mut parser = RequestParser::new();
        if cut > 0 {
            assert!(parser.parse(&bytes[..cut]).unwrap().is_none());
        }
        assert_eq!(
            parser.parse(&bytes).unwrap().unwrap().consumed(),
            CURL.len()
        );
        // Frames arrive after the head, with a LF in them: the head is still the same.
        bytes.extend_from_slice(b"\x81\x02\r\n\n\r\n");
        let again = parser.parse(&bytes).unwrap().unwrap();
        assert_eq!(again.consumed(), CURL.len());
        assert_eq!(again.key(), "13bLs+xvGhqOv0+QE4bW0g==");
    }
}

#[test]
fn a_shorter_buffer_restarts_the_parse() {
    let mut parser = RequestParser::new();
    assert!(CURL.len() < 400);
    assert!(parser.parse(&CHROMIUM[..400]).unwrap().is_none());
    // The caller started over with a different, complete request.
    let req = parser.parse(CURL).unwrap().unwrap();
    assert_eq!(req.key(), "13bLs+xvGhqOv0+QE4bW0g==");
}

fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(CHROMIUM.to_vec()),
        Just(FIREFOX.to_vec()),
        Just(CURL.to_vec()),
        Just(PYTHON_WEBSOCKETS.to_vec()),
        Just(NODE_WS.to_vec()),
    ]
}

/// A realistic request with a few bytes overwritten by bytes likely to matter.
fn mangled_request() -> impl Strategy<Value = Vec<u8>> {
    let special = prop_oneof![
        Just(b'\r'),
        Just(b'\n'),
        Just(b' '),
        Just(b'\t'),
        Just(b':'),
        Just(b','),
        Just(b';'),
        Just(b'"'),
        Just(0u8),
        Just(0x80u8),
        any::<u8>(),
    ];
    (
        request_bytes(),
        proptest::collection::vec((any::<prop::sample::Index>(), special), 1..4),
    )
        .prop_map(|(mut bytes, edits)| {
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            bytes
        })
}

proptest! {
    #[test]
    fn any_split_of_a_valid_request_gives_the_same_result(
        bytes in request_bytes(),
        cuts in proptest::collection::vec(0usize..700, 0..6),
    ) {
        let whole = outcome(RequestParser::new().parse(&bytes));
        prop_assert!(matches!(whole, Outcome::Complete { .. }), "not complete");
        prop_assert_eq!(feed_split(&bytes, &cuts, HandshakeLimits::DEFAULT), whole);
    }

    #[test]
    fn any_split_of_a_mangled_request_gives_the_same_result(
        bytes in mangled_request(),
        cuts in proptest::collection::vec(0usize..700, 0..6),
        max_headers in 4usize..70,
    ) {
        let limits = HandshakeLimits::DEFAULT.max_headers(max_headers);
        let whole = outcome(RequestParser::with_limits(limits).parse(&bytes));
        prop_assert_eq!(feed_split(&bytes, &cuts, limits), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(0usize..600, 0..4),
    ) {
        let whole = outcome(RequestParser::new().parse(&bytes));
        prop_assert_eq!(feed_split(&bytes, &cuts, HandshakeLimits::DEFAULT), whole);
    }

    /// Header pairs as another HTTP stack hands them over: the names §4.2.1 looks at (in
    /// any case) and others, with values drawn from valid, nearly valid and arbitrary
    /// ones. `validate_request_headers` accepts exactly what the model of §4.2.1 accepts,
    /// and refuses with the model's status.
    #[test]
    fn header_pairs_get_the_models_verdict(
        keep in proptest::collection::vec(prop::bool::weighted(0.9), 5),
        extra in proptest::collection::vec(header_pair(), 0..6),
        at in any::<prop::sample::Index>(),
    ) {
        // The five fields of a valid request, most of the time, and others among them.
        let valid: [(&[u8], &[u8]); 5] = [
            (b"Host", b"example.com"),
            (b"upgrade", b"websocket"),
            (b"CONNECTION", b"Upgrade"),
            (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            (b"sec-websocket-version", b"13"),
        ];
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> = valid
            .iter()
            .zip(&keep)
            .filter(|(_, keep)| **keep)
            .map(|((n, v), _)| (n.to_vec(), v.to_vec()))
            .collect();
        let at = at.index(headers.len() + 1);
        headers.splice(at..at, extra);
        let pairs: Vec<(&[u8], &[u8])> = headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
        let ours = validate_request_headers(pairs.iter().map(|&(n, v)| (n, v)))
            .map(|_| ())
            .map_err(|e| e.status());
        prop_assert_eq!(ours, model::request_fields(&pairs), "{:?}", headers);
    }
}

#[path = "support/handshake_model.rs"]
mod model;

/// A header pair: a name §4.2.1 knows (in a random case) or another, and a value.
fn header_pair() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let known = prop::sample::select(vec![
        "Host",
        "Upgrade",
        "Connection",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Origin",
        "Sec-WebSocket-Protocol",
        "Sec-WebSocket-Extensions",
    ]);
    let name = prop_oneof![
        4 => (known, any::<u32>()).prop_map(|(n, case)| {
            n.bytes()
                .enumerate()
                .map(|(i, b)| if case >> (i % 32) & 1 == 1 { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() })
                .collect::<Vec<u8>>()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..20),
    ];
    let value = prop_oneof![
        3 => prop::sample::select(vec![
            "example.com", "websocket", "WebSocket, h2c", "Upgrade", "keep-alive, upgrade",
            "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZR==", "13", " 13 ", "8", "",
            "chat, superchat", "a b", "permessage-deflate; client_max_window_bits", "x;",
            "http://example.com", " \t",
        ]).prop_map(|v| v.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..30),
    ];
    (name, value)
}

// ----- header pairs for other HTTP stacks (issue 10) -----

/// The response head `status` + `pairs` would make, written out as HTTP/1.1.
fn head_from_pairs<'p>(
    status_line: &str,
    pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
) -> Vec<u8> {
    let mut out = format!("{status_line}\r\n");
    for (name, value) in pairs {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

#[test]
fn accept_pairs_are_the_written_101() {
    let bytes = request_with(
        "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: foo, bar\r\n",
    );
    let req = parse(&bytes).unwrap().unwrap();
    let accept = req
        .accept()
        .subprotocol("superchat")
        .unwrap()
        .extension("bar")
        .unwrap()
        .extension("foo; x=1")
        .unwrap()
        .header("Set-Cookie", "a=1")
        .unwrap();
    assert_eq!(accept.status(), 101);
    let pairs: Vec<_> = accept.headers().collect();
    assert_eq!(
        pairs,
        [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("Sec-WebSocket-Protocol", "superchat"),
            ("Sec-WebSocket-Extensions", "bar, foo; x=1"),
            ("Set-Cookie", "a=1"),
        ]
    );
    assert_eq!(
        accept.to_vec(),
        head_from_pairs("HTTP/1.1 101 Switching Protocols", pairs)
    );
    // Without choices: the three fields §4.2.2 step 5 requires.
    let plain = req.accept();
    assert_eq!(
        plain.headers().collect::<Vec<_>>(),
        [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ]
    );
    assert_eq!(
        plain.to_vec(),
        head_from_pairs("HTTP/1.1 101 Switching Protocols", plain.headers())
    );
}

#[test]
fn rejection_pairs_are_the_written_rejection_heads() {
    for (error, status, reason, pairs) in [
        (
            HandshakeError::UnsupportedVersion,
            426,
            "Upgrade Required",
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade, close"),
                ("Sec-WebSocket-Version", "13"),
            ][..],
        ),
        (
            HandshakeError::MissingUpgradeWebSocket,
            426,
            "Upgrade Required",
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade, close"),
                ("Sec-WebSocket-Version", "13"),
            ],
        ),
        (
            HandshakeError::MethodNotGet,
            405,
            "Method Not Allowed",
            &[("Allow", "GET"), ("Connection", "close")],
        ),
        (
            HandshakeError::MissingKey,
            400,
            "Bad Request",
            &[("Connection", "close")],
        ),
        (
            HandshakeError::HeadTooLarge { max: 8 },
            431,
            "Request Header Fields Too Large",
            &[("Connection", "close")],
        ),
    ] {
        assert_eq!(error.status(), status, "{error:?}");
        assert_eq!(error.reason(), reason, "{error:?}");
        assert_eq!(error.response_headers(), pairs, "{error:?}");
        // The written response is the status line, these pairs, then the body's fields.
        let written = error.response();
        let head = head_from_pairs(
            &format!("HTTP/1.1 {status} {reason}"),
            pairs.iter().copied(),
        );
        assert!(
            written.starts_with(&head[..head.len() - 2]),
            "{error:?}: {}",
            String::from_utf8_lossy(&written)
        );
        let body = error.to_string();
        assert!(
            written.ends_with(
                format!(
                    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes()
            )
        );
    }
}

// ----- any request head, for one-port routing (issue 10) -----

#[test]
fn plain_http_requests_parse_as_heads_and_are_not_upgrades() {
    let bytes = b"POST /form?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\
        Cookie: a=b\r\nCookie: c=d\r\n\r\nabc";
    let head = RequestParser::new().parse_head(bytes).unwrap().unwrap();
    assert_eq!(head.method(), "POST");
    assert_eq!(head.http_version(), (1, 1));
    assert_eq!(
        (head.target(), head.path(), head.query()),
        ("/form?x=1", "/form", Some("x=1"))
    );
    assert_eq!(head.host(), Some("example.com"));
    assert_eq!(head.origin(), None);
    assert_eq!(head.header("content-length"), Some(&b"3"[..]));
    assert_eq!(
        head.header_all("COOKIE").collect::<Vec<_>>(),
        [&b"a=b"[..], b"c=d"]
    );
    assert_eq!(head.headers().len(), 4);
    assert_eq!(&bytes[head.consumed()..], b"abc"); // the body is the caller's
    assert!(!head.is_websocket_upgrade());
    // The same request through the WebSocket entry point: 405 with `Allow: GET`.
    assert_eq!(head.upgrade().unwrap_err(), HandshakeError::MethodNotGet);

    // A plain GET, HTTP/1.0, an absolute target, `OPTIONS *`.
    for (bytes, method, path, version, error) in [
        (
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            "GET",
            "/",
            (1, 1),
            HandshakeError::MissingUpgradeWebSocket,
        ),
        (
            b"GET /old HTTP/1.0\r\n\r\n",
            "GET",
            "/old",
            (1, 0),
            HandshakeError::HttpVersionTooOld,
        ),
        (
            b"GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n",
            "GET",
            "/",
            (1, 1),
            HandshakeError::MissingUpgradeWebSocket,
        ),
        (
            b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            "OPTIONS",
            "*",
            (1, 1),
            HandshakeError::MethodNotGet,
        ),
    ] {
        let head = RequestParser::new().parse_head(bytes).unwrap().unwrap();
        assert_eq!(
            (head.method(), head.path(), head.http_version()),
            (method, path, version)
        );
        assert_eq!(head.consumed(), bytes.len());
        assert!(!head.is_websocket_upgrade());
        assert_eq!(head.upgrade().unwrap_err(), error);
    }
    // Still HTTP/1.1 syntax: a bad request line, `*` other than with OPTIONS, a fragment.
    for bytes in [
        &b"GET  / HTTP/1.1\r\n\r\n"[..],
        b"GET * HTTP/1.1\r\n\r\n",
        b"GET /#frag HTTP/1.1\r\n\r\n",
    ] {
        assert!(RequestParser::new().parse_head(bytes).is_err(), "{bytes:?}");
    }
}

/// `is_websocket_upgrade` needs all three: `GET`, `Upgrade: websocket` and
/// `Connection: Upgrade` (§4.2.1 items 1, 3 and 4); and a head debugs with its parts.
#[test]
fn an_upgrade_needs_get_upgrade_and_connection() {
    let full = request_lines("GET /chat HTTP/1.1", &GOOD_HEADERS);
    let head = RequestParser::new().parse_head(&full).unwrap().unwrap();
    assert!(head.is_websocket_upgrade());
    let shown = format!("{head:?}");
    assert!(
        shown.starts_with(r#"RequestHead { method: "GET", target: "/chat""#),
        "{shown}"
    );
    for missing in ["Upgrade", "Connection"] {
        let bytes = request_lines("GET /chat HTTP/1.1", &headers_replacing(missing, &[]));
        let head = RequestParser::new().parse_head(&bytes).unwrap().unwrap();
        assert!(!head.is_websocket_upgrade(), "without {missing}");
    }
    let req = parse(&full).unwrap().unwrap();
    let shown = format!("{req:?}");
    assert!(
        shown.starts_with(r#"Request { target: "/chat", path: "/chat""#),
        "{shown}"
    );
    let post = request_lines("POST /chat HTTP/1.1", &GOOD_HEADERS);
    let head = RequestParser::new().parse_head(&post).unwrap().unwrap();
    assert!(!head.is_websocket_upgrade(), "POST");
}

#[test]
fn a_websocket_head_upgrades_to_what_parse_returns() {
    for (name, bytes, _) in REALISTIC {
        let head = RequestParser::new().parse_head(bytes).unwrap().unwrap();
        assert!(head.is_websocket_upgrade(), "{name}");
        let offered: Vec<_> = head.subprotocols().collect();
        let extensions: Vec<_> = head.extensions().map(|e| e.as_str()).collect();
        let (host, origin) = (head.host(), head.origin());
        let upgraded = head.upgrade().unwrap();
        let parsed = parse(bytes).unwrap().unwrap();
        assert_eq!(upgraded.consumed(), parsed.consumed(), "{name}");
        assert_eq!(
            upgraded.accept().to_vec(),
            parsed.accept().to_vec(),
            "{name}"
        );
        assert_eq!(offered, parsed.subprotocols().collect::<Vec<_>>(), "{name}");
        assert_eq!(
            extensions,
            parsed.extensions().map(|e| e.as_str()).collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(
            (host, origin),
            (Some(parsed.host()), parsed.origin()),
            "{name}"
        );
        assert_eq!(
            (upgraded.host(), upgraded.origin()),
            (parsed.host(), parsed.origin()),
            "{name}"
        );
        let shown = format!("{upgraded:?}");
        let upgrade = format!(
            "upgrade: UpgradeRequest {{ host: {:?}, origin: {:?}",
            parsed.host(),
            parsed.origin()
        );
        assert!(shown.contains(&upgrade), "{shown}");
        assert_eq!(upgraded.head().method(), "GET");
    }
}

#[test]
fn head_getters_show_only_values_that_pass_their_rule() {
    // A malformed offer or a duplicated Host: the getters show nothing, upgrade() says why.
    let bytes = request_with("Sec-WebSocket-Protocol: chat, \"quoted\"\r\n");
    let head = RequestParser::new().parse_head(&bytes).unwrap().unwrap();
    assert!(head.is_websocket_upgrade());
    assert_eq!(head.subprotocols().count(), 0);
    assert_eq!(
        head.upgrade().unwrap_err(),
        HandshakeError::InvalidSubprotocols
    );

    let bytes = request_with("Host: other.example\r\n");
    let head = RequestParser::new().parse_head(&bytes).unwrap().unwrap();
    assert_eq!(head.host(), None);
    assert_eq!(head.header_all("host").count(), 2);
    assert_eq!(head.upgrade().unwrap_err(), HandshakeError::DuplicateHost);
}

#[test]
fn heads_parse_the_same_in_any_chunking() {
    let bytes = b"GET /page?q HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\nrest";
    for step in 1..bytes.len() {
        let mut parser = RequestParser::new();
        let mut end = 0;
        let head = loop {
            end = (end + step).min(bytes.len());
            if let Some(head) = parser.parse_head(&bytes[..end]).unwrap() {
                break head;
            }
        };
        assert_eq!(head.consumed(), bytes.len() - 4, "step {step}");
        assert_eq!((head.path(), head.query()), ("/page", Some("q")));
        assert_eq!(head.header("accept"), Some(&b"text/html"[..]));
    }
}
