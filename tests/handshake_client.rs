//! The client side of the opening handshake (§4.1) and §3 URIs, through the public API,
//! and round trips through our own server.

use proptest::prelude::*;
use rfc6455::handshake::{ClientHandshake, RequestParser, Response, WsUri};
use rfc6455::{HandshakeError, HandshakeLimits, UriError, UsageError};

/// A deterministic source: the nonce of §4.1's example ("the sample nonce").
fn sample_nonce(buf: &mut [u8]) {
    buf.copy_from_slice(&b"the sample nonce"[..buf.len()]);
}

fn client(uri: &str) -> ClientHandshake {
    ClientHandshake::with_random(&WsUri::parse(uri).unwrap(), &mut sample_nonce)
}

/// A valid 101 answering the §4.1 sample key, with `extra` header lines.
fn response_with(extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         {extra}\r\n"
    )
    .into_bytes()
}

fn check<'b>(
    client: &mut ClientHandshake,
    bytes: &'b [u8],
) -> Result<Response<'b>, HandshakeError> {
    client
        .parse_response(bytes)
        .map(|r| r.expect("complete response"))
}

// ----- URIs (§3) -----

/// (text, secure, host, port, path, query, resource name, Host header)
type UriCase = (
    &'static str,
    bool,
    &'static str,
    u16,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

#[test]
fn uris_parse_with_default_ports_paths_and_queries() {
    #[rustfmt::skip]
    let cases: [UriCase; 9] = [
        ("ws://example.com", false, "example.com", 80, "/", None, "/", "example.com"),
        ("wss://example.com", true, "example.com", 443, "/", None, "/", "example.com"),
        ("WS://Example.COM:80/chat", false, "Example.COM", 80, "/chat", None, "/chat", "Example.COM"),
        ("wSs://example.com:8443/a/b?x=1&y", true, "example.com", 8443, "/a/b", Some("x=1&y"), "/a/b?x=1&y", "example.com:8443"),
        ("ws://example.com:443/", false, "example.com", 443, "/", None, "/", "example.com:443"),
        ("ws://example.com?q", false, "example.com", 80, "/", Some("q"), "/?q", "example.com"),
        ("ws://example.com/p?", false, "example.com", 80, "/p", Some(""), "/p", "example.com"),
        ("ws://[2001:db8::1]:9000/x", false, "[2001:db8::1]", 9000, "/x", None, "/x", "[2001:db8::1]:9000"),
        ("ws://127.0.0.1:/%23x", false, "127.0.0.1", 80, "/%23x", None, "/%23x", "127.0.0.1"),
    ];
    for (text, secure, host, port, path, query, resource, host_header) in cases {
        let uri = WsUri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri.is_secure(), secure, "{text}");
        assert_eq!(uri.host(), host, "{text}");
        assert_eq!(uri.port(), port, "{text}");
        assert_eq!(uri.path(), path, "{text}");
        assert_eq!(uri.query(), query, "{text}");
        assert_eq!(uri.resource_name(), resource, "{text}");
        assert_eq!(uri.host_header(), host_header, "{text}");
    }
}

#[test]
fn ipv6_hosts_connect_without_brackets_and_send_them_in_host() {
    use std::net::{SocketAddr, ToSocketAddrs};
    // RFC 3986 §3.2.2: an IPv6 literal is bracketed in a URI and in `Host` (RFC 9110
    // §7.2), but a resolver takes the address alone.
    let uri = WsUri::parse("ws://[::1]:9001/chat").unwrap();
    assert_eq!(uri.host(), "[::1]");
    assert_eq!(uri.host_header(), "[::1]:9001");
    assert_eq!(uri.connect_host(), "::1");
    let addrs: Vec<SocketAddr> = (uri.connect_host(), uri.port())
        .to_socket_addrs()
        .unwrap()
        .collect();
    assert_eq!(addrs, ["[::1]:9001".parse::<SocketAddr>().unwrap()]);
    // What issue 10 hit: the bracketed host is not an address.
    assert!((uri.host(), uri.port()).to_socket_addrs().is_err());
    let request = ClientHandshake::with_random(&uri, &mut sample_nonce).request();
    assert!(request.starts_with(b"GET /chat HTTP/1.1\r\nHost: [::1]:9001\r\n"));

    // Default port: no port in Host; `wss` likewise.
    let uri = WsUri::parse("wss://[2001:db8::7]/").unwrap();
    assert_eq!(
        (uri.connect_host(), uri.host_header().as_str()),
        ("2001:db8::7", "[2001:db8::7]")
    );
    // Names and IPv4 addresses are the same either way.
    for text in ["ws://example.com/", "ws://127.0.0.1:8080/"] {
        let uri = WsUri::parse(text).unwrap();
        assert_eq!(uri.connect_host(), uri.host(), "{text}");
    }
    let addr = ("127.0.0.1", 8080).to_socket_addrs().unwrap().next();
    let uri = WsUri::parse("ws://127.0.0.1:8080/").unwrap();
    assert_eq!(
        (uri.connect_host(), uri.port())
            .to_socket_addrs()
            .unwrap()
            .next(),
        addr
    );
}

#[test]
fn bad_uris_are_rejected_with_the_reason() {
    for (text, expected) in [
        ("http://example.com/", UriError::InvalidScheme),
        ("wss:/example.com", UriError::InvalidScheme),
        ("example.com", UriError::InvalidScheme),
        ("ws://example.com/chat#frag", UriError::Fragment),
        ("ws://example.com#", UriError::Fragment),
        ("ws://user:pass@example.com/", UriError::UserInfo),
        ("ws://", UriError::InvalidHost),
        ("ws:///chat", UriError::InvalidHost),
        ("ws://:80/", UriError::InvalidHost),
        ("ws://exa mple.com/", UriError::InvalidHost),
        ("ws://[::1/", UriError::InvalidHost),
        ("ws://[zz]/", UriError::InvalidHost),
        ("ws://[::1]x/", UriError::InvalidHost),
        ("ws://example.com:65536/", UriError::InvalidPort),
        ("ws://example.com:-1/", UriError::InvalidPort),
        ("ws://example.com:8o/", UriError::InvalidPort),
        // Digits only: Rust's integer parsing would take a leading sign.
        ("ws://example.com:+80/", UriError::InvalidPort),
        ("ws://example.com/a b", UriError::InvalidPath),
        ("ws://example.com/caf\u{e9}", UriError::InvalidPath),
    ] {
        assert_eq!(WsUri::parse(text), Err(expected), "{text}");
    }
}

// ----- building the request (§4.1) -----

#[test]
fn request_bytes_with_the_sample_nonce() {
    let client = client("ws://server.example.com/chat");
    assert_eq!(client.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(
        client.expected_accept().as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        String::from_utf8(client.request()).unwrap(),
        "GET /chat HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         \r\n"
    );
}

#[test]
fn request_with_origin_offers_and_extra_headers() {
    let mut client = client("wss://example.com:8443/chat?room=1");
    client
        .origin("http://example.com")
        .unwrap()
        .subprotocol("chat")
        .unwrap()
        .subprotocol("superchat")
        .unwrap()
        .extension("permessage-deflate; client_max_window_bits")
        .unwrap()
        .header("Authorization", "Bearer token")
        .unwrap()
        .header("Cookie", "a=1")
        .unwrap();
    let mut out = b"prefix|".to_vec();
    client.write_request(&mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "prefix|GET /chat?room=1 HTTP/1.1\r\n\
         Host: example.com:8443\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Origin: http://example.com\r\n\
         Authorization: Bearer token\r\n\
         Cookie: a=1\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         \r\n"
    );
}

#[test]
fn invalid_offers_and_headers_are_caller_errors() {
    let mut client = client("ws://example.com/");
    client.subprotocol("chat").unwrap();
    for bad in ["", "a b", "a,b", "chat", "x\r\n"] {
        assert_eq!(
            client.subprotocol(bad).unwrap_err(),
            UsageError::InvalidHeader,
            "{bad:?}"
        );
    }
    for bad in ["", "foo;", "foo bar", "foo\r\nX: y"] {
        assert_eq!(
            client.extension(bad).unwrap_err(),
            UsageError::InvalidHeader,
            "{bad:?}"
        );
    }
    for (name, value) in [
        ("X-A", "b\r\nc"),
        ("X A", "b"),
        ("Host", "other.example"),
        ("sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ("Origin", "x"),
        ("Content-Length", "0"),
    ] {
        assert_eq!(
            client.header(name, value).unwrap_err(),
            UsageError::InvalidHeader,
            "{name}: {value:?}"
        );
    }
    assert_eq!(
        client.origin("a\nb").unwrap_err(),
        UsageError::InvalidHeader
    );
}

#[cfg(feature = "std")]
#[test]
fn os_random_keys_are_fresh_and_valid() {
    let uri = WsUri::parse("ws://example.com/").unwrap();
    let a = ClientHandshake::new(&uri);
    let b = ClientHandshake::new(&uri);
    assert_ne!(a.key(), b.key());
    // Our own server accepts them: base64 of 16 bytes.
    for c in [a, b] {
        let request = c.request();
        let req = RequestParser::new().parse(&request).unwrap().unwrap();
        assert_eq!(req.key(), c.key());
    }
}

// ----- checking the response (§4.1) -----

#[test]
fn valid_response_with_leftover_frame_bytes() {
    let mut client = client("ws://example.com/");
    let mut bytes = response_with("");
    let head_len = bytes.len();
    bytes.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    assert!(client.parse_response(&bytes[..10]).unwrap().is_none());
    let response = check(&mut client, &bytes).unwrap();
    assert_eq!(response.consumed(), head_len);
    assert_eq!(&bytes[response.consumed()..], [0x81, 0x02, b'h', b'i']);
    assert_eq!(response.subprotocol(), None);
    assert_eq!(response.extensions().count(), 0);
    assert_eq!(response.header("upgrade"), Some(&b"websocket"[..]));
    assert_eq!(response.headers().len(), 3);
}

#[test]
fn response_checks_are_case_insensitive_and_trim_whitespace() {
    let mut client = client("ws://example.com/");
    let bytes = b"HTTP/1.1 101 Switching Protocols\r\n\
        upgrade: WebSocket\r\n\
        CONNECTION: keep-alive, upgrade\r\n\
        sec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n";
    check(&mut client, bytes).unwrap();
}

#[test]
fn non_101_is_rejected_with_status_reason_and_headers() {
    // §4.1 response item 1: "the client handles the response per HTTP procedures".
    let mut client = client("ws://example.com/");
    let bytes = b"HTTP/1.1 302 Found\r\n\
        Location: wss://example.com/elsewhere\r\n\
        Content-Length: 5\r\n\
        \r\n\
        moved";
    let err = check(&mut client, bytes).unwrap_err();
    let HandshakeError::Rejected(rejected) = &err else {
        panic!("expected Rejected, got {err:?}");
    };
    assert_eq!(rejected.status, 302);
    assert_eq!(rejected.reason, "Found");
    assert_eq!(rejected.location(), Some("wss://example.com/elsewhere"));
    assert_eq!(rejected.header("content-length"), Some(&b"5"[..]));
    assert_eq!(
        rejected.headers,
        [
            (
                "Location".to_string(),
                b"wss://example.com/elsewhere".to_vec()
            ),
            ("Content-Length".to_string(), b"5".to_vec())
        ]
    );
    assert_eq!(&bytes[rejected.head_len..], b"moved");
    assert_eq!(err.to_string(), "server answered 302 instead of 101");

    let mut client = self::client("ws://example.com/");
    let bytes = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ws\"\r\n\r\n";
    let HandshakeError::Rejected(rejected) = check(&mut client, bytes).unwrap_err() else {
        panic!("expected Rejected");
    };
    assert_eq!(rejected.status, 401);
    assert_eq!(
        rejected.header("www-authenticate"),
        Some(&b"Basic realm=\"ws\""[..])
    );

    // Our own server's 426 reaches the client as a rejection too.
    let mut client = self::client("ws://example.com/");
    let response = HandshakeError::UnsupportedVersion.response();
    let HandshakeError::Rejected(rejected) = check(&mut client, &response).unwrap_err() else {
        panic!("expected Rejected");
    };
    assert_eq!(rejected.status, 426);
    assert_eq!(rejected.reason, "Upgrade Required");
    assert_eq!(rejected.header("sec-websocket-version"), Some(&b"13"[..]));
}

#[test]
fn response_rule_violations_fail_with_the_specific_error() {
    let accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    let cases: [(&str, &[&str], HandshakeError); 9] = [
        // §4.1 response item 2.
        (
            "HTTP/1.1 101 OK",
            &["Connection: Upgrade", accept],
            HandshakeError::MissingUpgradeWebSocket,
        ),
        (
            "HTTP/1.1 101 OK",
            &["Upgrade: websocket2", "Connection: Upgrade", accept],
            HandshakeError::MissingUpgradeWebSocket,
        ),
        (
            "HTTP/1.1 101 OK",
            &["Upgrade: websocket, h2c", "Connection: Upgrade", accept],
            HandshakeError::MissingUpgradeWebSocket,
        ),
        // §4.1 response item 3.
        (
            "HTTP/1.1 101 OK",
            &["Upgrade: websocket", "Connection: close", accept],
            HandshakeError::MissingConnectionUpgrade,
        ),
        (
            "HTTP/1.1 101 OK",
            &["Upgrade: websocket", accept],
            HandshakeError::MissingConnectionUpgrade,
        ),
        // §4.1 response item 4.
        (
            "HTTP/1.1 101 OK",
            &["Upgrade: websocket", "Connection: Upgrade"],
            HandshakeError::MissingAccept,
        ),
        (
            "HTTP/1.1 101 OK",
            &[
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=",
            ],
            HandshakeError::AcceptMismatch,
        ),
        (
            "HTTP/1.1 101 OK",
            &["Upgrade: websocket", "Connection: Upgrade", accept, accept],
            HandshakeError::AcceptMismatch,
        ),
        // HTTP/1.1 or later.
        (
            "HTTP/1.0 101 OK",
            &["Upgrade: websocket", "Connection: Upgrade", accept],
            HandshakeError::HttpVersionTooOld,
        ),
    ];
    for (status, headers, expected) in cases {
        let mut text = format!("{status}\r\n");
        for h in headers {
            text.push_str(h);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        let mut client = client("ws://example.com/");
        assert_eq!(
            check(&mut client, text.as_bytes()).unwrap_err(),
            expected,
            "{headers:?}"
        );
    }
}

#[test]
fn malformed_status_lines_fail() {
    for line in [
        "HTTP/1.1 1010 Switching",
        "HTTP/1.1 10x Switching",
        "HTTP/1.1",
        "HTTP/1.1  101 x",
        "ICY 101 x",
        "HTTP/1.1 101 bad\x01reason",
        "",
    ] {
        let bytes = format!("{line}\r\nUpgrade: websocket\r\n\r\n");
        let mut client = client("ws://example.com/");
        assert_eq!(
            check(&mut client, bytes.as_bytes()).unwrap_err(),
            HandshakeError::InvalidStatusLine,
            "{line:?}"
        );
    }
    // A missing reason phrase is tolerated.
    let mut client = client("ws://example.com/");
    let bytes = response_with("");
    let bytes = String::from_utf8(bytes)
        .unwrap()
        .replace("101 Switching Protocols", "101");
    check(&mut client, bytes.as_bytes()).unwrap();
}

#[test]
fn subprotocol_must_be_one_we_offered() {
    // §4.1 response item 6.
    let mut offered = client("ws://example.com/");
    offered
        .subprotocol("chat")
        .unwrap()
        .subprotocol("superchat")
        .unwrap();
    let bytes = response_with("Sec-WebSocket-Protocol: superchat\r\n");
    assert_eq!(
        check(&mut offered.clone(), &bytes).unwrap().subprotocol(),
        Some("superchat")
    );
    let bytes = response_with("Sec-WebSocket-Protocol: mqtt\r\n");
    assert_eq!(
        check(&mut offered.clone(), &bytes).unwrap_err(),
        HandshakeError::SubprotocolNotOffered
    );
    // Exact comparison.
    let bytes = response_with("Sec-WebSocket-Protocol: Chat\r\n");
    assert_eq!(
        check(&mut offered.clone(), &bytes).unwrap_err(),
        HandshakeError::SubprotocolNotOffered
    );
    // One token only (§4.3 Sec-WebSocket-Protocol-Server = token).
    for extra in [
        "Sec-WebSocket-Protocol: chat, superchat\r\n",
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n",
        "Sec-WebSocket-Protocol:\r\n",
    ] {
        assert_eq!(
            check(&mut offered.clone(), &response_with(extra)).unwrap_err(),
            HandshakeError::InvalidSubprotocols,
            "{extra:?}"
        );
    }
    // None offered: any choice is an error.
    let mut none = client("ws://example.com/");
    let bytes = response_with("Sec-WebSocket-Protocol: chat\r\n");
    assert_eq!(
        check(&mut none, &bytes).unwrap_err(),
        HandshakeError::SubprotocolNotOffered
    );
}

#[test]
fn extensions_must_be_ones_we_offered() {
    // §4.1 response item 5, §9.1.
    let mut offered = client("ws://example.com/");
    offered
        .extension("permessage-deflate; client_max_window_bits")
        .unwrap();
    let bytes = response_with(
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits=\"12\"\r\n",
    );
    let mut c = offered.clone();
    let response = check(&mut c, &bytes).unwrap();
    let exts: Vec<_> = response.extensions().collect();
    assert_eq!(exts.len(), 1);
    assert_eq!(exts[0].name(), "permessage-deflate");
    assert_eq!(
        exts[0].param("server_max_window_bits"),
        Some(Some("10".into()))
    );
    assert_eq!(
        exts[0].param("client_max_window_bits"),
        Some(Some("12".into()))
    );

    let bytes = response_with("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n");
    assert_eq!(
        check(&mut offered.clone(), &bytes).unwrap_err(),
        HandshakeError::ExtensionNotOffered
    );
    let mut none = client("ws://example.com/");
    let bytes = response_with("Sec-WebSocket-Extensions: permessage-deflate\r\n");
    assert_eq!(
        check(&mut none, &bytes).unwrap_err(),
        HandshakeError::ExtensionNotOffered
    );
    let bytes = response_with("Sec-WebSocket-Extensions: permessage-deflate;\r\n");
    assert_eq!(
        check(&mut offered.clone(), &bytes).unwrap_err(),
        HandshakeError::InvalidExtensions
    );
}

#[test]
fn response_limits_and_syntax_are_enforced() {
    let mut client = client("ws://example.com/");
    client.limits(HandshakeLimits::DEFAULT.max_head_size(64));
    assert_eq!(
        check(&mut client, &response_with("")).unwrap_err(),
        HandshakeError::HeadTooLarge { max: 64 }
    );
    let mut client = self::client("ws://example.com/");
    client.limits(HandshakeLimits::DEFAULT.max_headers(3));
    assert_eq!(
        check(&mut client, &response_with("X-Extra: 1\r\n")).unwrap_err(),
        HandshakeError::TooManyHeaders { max: 3 }
    );
    let mut client = self::client("ws://example.com/");
    assert_eq!(
        check(&mut client, &response_with(" folded\r\n")).unwrap_err(),
        HandshakeError::ObsoleteLineFolding
    );
    let mut client = self::client("ws://example.com/");
    assert_eq!(
        client
            .parse_response(b"HTTP/1.1 101 Switching Protocols\n")
            .unwrap_err(),
        HandshakeError::BareLineFeed
    );
}

#[test]
fn response_parsing_is_linear_byte_at_a_time() {
    let pad = "a".repeat(8000);
    let bytes = response_with(&format!("X-Pad: {pad}\r\n"));
    let n = bytes.len();
    let mut client = client("ws://example.com/");
    for end in 1..n {
        assert!(client.parse_response(&bytes[..end]).unwrap().is_none());
    }
    assert_eq!(check(&mut client, &bytes).unwrap().consumed(), n);

    // A 4 MiB header line in one-byte reads: a parser that rescanned on every read would
    // take hours (4 million calls), a linear one well under a second.
    let pad = "a".repeat(4 << 20);
    let bytes = response_with(&format!("X-Pad: {pad}\r\n"));
    let n = bytes.len();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut big = self::client("ws://example.com/");
        big.limits(HandshakeLimits::default().max_head_size(8 << 20));
        for end in 1..n {
            assert!(big.parse_response(&bytes[..end]).unwrap().is_none());
        }
        tx.send(check(&mut big, &bytes).map(|r| r.consumed()))
    });
    let outcome = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("linear work finishes in time");
    assert_eq!(outcome, Ok(n));
}

// ----- round trips: our client, our server -----

fn round_trip(
    client: &mut ClientHandshake,
    choose: Option<&str>,
    accept_ext: Option<&str>,
) -> Vec<u8> {
    let request = client.request();
    let req = RequestParser::new().parse(&request).unwrap().unwrap();
    assert_eq!(req.consumed(), request.len());
    assert_eq!(req.key(), client.key());
    let mut accept = req.accept();
    if let Some(p) = choose {
        accept = accept.subprotocol(p).unwrap();
    }
    if let Some(e) = accept_ext {
        accept = accept.extension(e).unwrap();
    }
    accept.to_vec()
}

#[test]
fn round_trip_without_subprotocols() {
    let mut client = client("ws://localhost:9001/echo?x=1");
    let response = round_trip(&mut client, None, None);
    let parsed = check(&mut client, &response).unwrap();
    assert_eq!(parsed.subprotocol(), None);
    assert_eq!(parsed.consumed(), response.len());
}

#[test]
fn round_trip_with_subprotocols_and_extensions() {
    let mut client = client("wss://[::1]/chat");
    client
        .origin("https://app.example")
        .unwrap()
        .subprotocol("v2.chat")
        .unwrap()
        .subprotocol("v1.chat")
        .unwrap()
        .extension("permessage-deflate; client_max_window_bits")
        .unwrap();
    let request = client.request();
    let req = RequestParser::new().parse(&request).unwrap().unwrap();
    assert_eq!(req.host(), "[::1]");
    assert_eq!(req.origin(), Some("https://app.example"));
    assert_eq!(
        req.subprotocols().collect::<Vec<_>>(),
        ["v2.chat", "v1.chat"]
    );
    assert_eq!(
        req.extensions().next().unwrap().name(),
        "permessage-deflate"
    );

    let response = round_trip(
        &mut client,
        Some("v1.chat"),
        Some("permessage-deflate; client_max_window_bits=15"),
    );
    let parsed = check(&mut client, &response).unwrap();
    assert_eq!(parsed.subprotocol(), Some("v1.chat"));
    let ext = parsed.extensions().next().unwrap();
    assert_eq!(
        ext.as_str(),
        "permessage-deflate; client_max_window_bits=15"
    );
}

#[test]
fn round_trip_offered_but_declined_subprotocol() {
    let mut client = client("ws://example.com/");
    client.subprotocol("chat").unwrap();
    let response = round_trip(&mut client, None, None);
    assert_eq!(check(&mut client, &response).unwrap().subprotocol(), None);
}

proptest! {
    #[test]
    fn round_trip_any_key_any_split(
        nonce in any::<[u8; 16]>(),
        protocols in proptest::collection::btree_set("[a-z][a-z0-9.]{0,8}", 0..4),
        split in any::<prop::sample::Index>(),
    ) {
        let uri = WsUri::parse("ws://example.com/chat").unwrap();
        let mut source = |buf: &mut [u8]| buf.copy_from_slice(&nonce);
        let mut client = ClientHandshake::with_random(&uri, &mut source);
        for p in &protocols {
            client.subprotocol(p).unwrap();
        }
        let chosen = protocols.iter().next_back().map(String::as_str);
        let response = round_trip(&mut client, chosen, None);
        let cut = split.index(response.len());
        prop_assert!(client.parse_response(&response[..cut]).unwrap().is_none());
        let parsed = client.parse_response(&response).unwrap().unwrap();
        prop_assert_eq!(parsed.subprotocol(), chosen);
        prop_assert_eq!(parsed.consumed(), response.len());
    }

    #[test]
    fn arbitrary_responses_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut a = client("ws://example.com/");
        let whole = a.parse_response(&bytes).map(|r| r.map(|r| r.consumed()));
        let mut b = client("ws://example.com/");
        let cut = cut.index(bytes.len() + 1);
        let split = match b.parse_response(&bytes[..cut]) {
            Ok(None) => b.parse_response(&bytes).map(|r| r.map(|r| r.consumed())),
            other => other.map(|r| r.map(|r| r.consumed())),
        };
        prop_assert_eq!(whole, split);
    }

    /// URIs built from parts (§3, RFC 3986), each part valid or not: the result is the
    /// one the parts call for — the first bad part's error in the order scheme,
    /// fragment, user information, host, port, path — and a valid URI's components are
    /// the parts it was built from.
    #[test]
    fn uris_from_parts_parse_to_their_parts(
        scheme in prop::sample::select(vec![
            ("ws", Some(false)), ("WS", Some(false)), ("wss", Some(true)), ("wSs", Some(true)),
            ("http", None), ("", None), ("ws:", None),
        ]),
        userinfo in prop::sample::select(vec![None, Some("user@"), Some("u:p@")]),
        host in prop::sample::select(vec![
            ("example.com", true), ("127.0.0.1", true), ("[::1]", true), ("[2001:db8::8a2e:370:7334]", true),
            ("a-b_c~d%41!$&'()*+,;=", true), ("", false), ("ex ample", false), ("[::1", false),
            ("[zz::1]", false), ("[127.0.0.1]", false), ("\u{e9}x", false),
        ]),
        port in prop::sample::select(vec![
            (None, Some(None)), (Some(""), Some(None)), (Some("0"), Some(Some(0u16))),
            (Some("8080"), Some(Some(8080))), (Some("65535"), Some(Some(65535))),
            (Some("65536"), None), (Some("8x"), None), (Some("-1"), None),
        ]),
        path in prop::sample::select(vec![("", true), ("/", true), ("/a/b%20c", true), ("/\u{e9}", false), ("/a b", false)]),
        query in prop::sample::select(vec![None, Some(""), Some("x=1&y")]),
        fragment in any::<bool>(),
    ) {
        let (scheme_text, secure) = scheme;
        let (host_text, host_ok) = host;
        let (port_text, port_value) = port;
        let (path_text, path_ok) = path;
        let mut text = format!("{scheme_text}://{}{host_text}", userinfo.unwrap_or(""));
        if let Some(p) = port_text {
            text.push(':');
            text.push_str(p);
        }
        text.push_str(path_text);
        if let Some(q) = query {
            text.push('?');
            text.push_str(q);
        }
        if fragment {
            text.push_str("#f");
        }
        let expected = match (secure, fragment, userinfo, host_ok, port_value, path_ok) {
            (None, ..) => Err(UriError::InvalidScheme),
            (_, true, ..) => Err(UriError::Fragment),
            (_, _, Some(_), ..) => Err(UriError::UserInfo),
            (_, _, _, false, ..) => Err(UriError::InvalidHost),
            (_, _, _, _, None, _) => Err(UriError::InvalidPort),
            (_, _, _, _, _, false) => Err(UriError::InvalidPath),
            (Some(secure), _, _, _, Some(port), true) => Ok((
                secure,
                host_text.to_owned(),
                // RFC 6455 §3: the default ports are 80 and 443.
                port.unwrap_or(if secure { 443 } else { 80 }),
                if path_text.is_empty() { "/".to_owned() } else { path_text.to_owned() },
                query.map(str::to_owned),
            )),
        };
        let got = WsUri::parse(&text).map(|u| {
            (u.is_secure(), u.host().to_owned(), u.port(), u.path().to_owned(), u.query().map(str::to_owned))
        });
        prop_assert_eq!(got, expected, "{}", text);
    }

    /// Any text after `ws://`: if it parses, the Host header and resource name it gives
    /// (§4.1) parse back to the same host, port, path and query.
    #[test]
    fn parsed_uris_round_trip_through_host_and_resource_name(tail in "[ -~]{0,40}", secure in any::<bool>()) {
        let scheme = if secure { "wss" } else { "ws" };
        let text = format!("{scheme}://{tail}");
        if let Ok(uri) = WsUri::parse(&text) {
            prop_assert!(uri.resource_name().starts_with('/'));
            let again_text = format!("{scheme}://{}{}", uri.host_header(), uri.resource_name());
            let again = WsUri::parse(&again_text).expect("a parsed URI written out parses");
            prop_assert_eq!(
                (again.is_secure(), again.host(), again.port(), again.path(), again.resource_name(), again.host_header()),
                (uri.is_secure(), uri.host(), uri.port(), uri.path(), uri.resource_name(), uri.host_header())
            );
        }
    }
}
