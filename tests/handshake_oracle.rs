//! The opening handshake against a model it does not share code with
//! (`tests/support/handshake_model.rs`), on structured input: valid heads — fields in any
//! order and letter case, list forms, optional fields — with at most one mutation, each
//! with the verdict §4.2.1 (requests) or §4.1 (responses) gives it by construction. The
//! model must reach that verdict, and the parser the model's, whole and in pieces.

#[path = "support/handshake_model.rs"]
mod model;

use model::{Limits, Offer, ResponseVerdict, Verdict};
use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::HandshakeLimits;
use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};

/// §1.3's key and the accept value it calls for.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ----- requests -----

/// A request head as parts, written out by [`RequestHead::bytes`].
#[derive(Debug, Clone)]
struct RequestHead {
    line: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.line).into_bytes();
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b":");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// `name` with its letters' case flipped where `mask` says (header names are
/// case-insensitive, RFC 9110 §5.1).
fn recase(name: &str, mask: u32) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 32) & 1 == 1 {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

/// Optional whitespace around a value (RFC 9112 §5.1: OWS, trimmed).
fn padded(value: &str, ows: u8) -> Vec<u8> {
    let pad = |n: u8| match n % 4 {
        0 => "",
        1 => " ",
        2 => "\t",
        _ => " \t ",
    };
    format!("{}{value}{}", pad(ows), pad(ows >> 2)).into_bytes()
}

/// A valid opening request, in one of many shapes.
fn valid_request() -> impl Strategy<Value = RequestHead> {
    (
        prop::sample::select(vec![
            "/chat",
            "/",
            "/a/b?x=1&y",
            "ws://example.com/chat",
            "http://h:8080",
        ]),
        prop::sample::select(vec![
            "websocket",
            "WebSocket",
            "websocket, h2c",
            "h2c, WEBSOCKET",
        ]),
        prop::sample::select(vec![
            "Upgrade",
            "upgrade",
            "keep-alive, Upgrade",
            "Upgrade,keep-alive",
            " , UPGRADE",
        ]),
        prop::option::of(prop::sample::select(vec![
            "chat",
            "chat, superchat",
            "a,,b",
        ])),
        prop::option::of(prop::sample::select(vec![
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
            "foo; bar=\"baz\"; q = 1",
        ])),
        any::<bool>(),
        prop::collection::vec((any::<u32>(), any::<u8>()), 12),
        any::<Vec<Index>>(),
    )
        .prop_map(
            |(target, upgrade, connection, protocol, extensions, origin, shapes, order)| {
                let mut fields: Vec<(&str, String)> = vec![
                    ("Host", "example.com".into()),
                    ("Upgrade", upgrade.into()),
                    ("Connection", connection.into()),
                    ("Sec-WebSocket-Key", KEY.into()),
                    ("Sec-WebSocket-Version", "13".into()),
                    ("User-Agent", "test/1.0 (é)".into()),
                ];
                if let Some(p) = protocol {
                    fields.push(("Sec-WebSocket-Protocol", p.into()));
                }
                if let Some(e) = extensions {
                    fields.push(("Sec-WebSocket-Extensions", e.into()));
                }
                if origin {
                    fields.push(("Origin", "http://example.com".into()));
                }
                // Any order (a few swaps), any case, any OWS.
                for (i, swap) in order.iter().enumerate() {
                    let (a, b) = (i % fields.len(), swap.index(fields.len()));
                    fields.swap(a, b);
                }
                let fields = fields
                    .into_iter()
                    .zip(shapes)
                    .map(|((name, value), (case, ows))| (recase(name, case), padded(&value, ows)))
                    .collect();
                RequestHead {
                    line: format!("GET {target} HTTP/1.1"),
                    fields,
                }
            },
        )
}

/// One change to a valid request, and the status it calls for (None: still accepted).
#[derive(Debug, Clone)]
enum ReqMutation {
    None,
    /// §4.2.1 items 2-6: a required field missing.
    Drop(&'static str, Option<u16>),
    /// A field that may appear once appearing twice.
    Duplicate(&'static str, Option<u16>),
    /// A field's value replaced.
    Value(&'static str, &'static str, Option<u16>),
    /// The request line replaced.
    Line(&'static str, Option<u16>),
    /// A raw line inserted after the request line.
    RawLine(&'static str, Option<u16>),
    /// The head cut short.
    Truncate(Index),
}

fn req_mutation() -> impl Strategy<Value = ReqMutation> {
    use ReqMutation::*;
    prop_oneof![
        2 => Just(None),
        1 => prop::sample::select(vec![
            ("host", Some(400)),
            ("upgrade", Some(426)),
            ("connection", Some(400)),
            ("sec-websocket-key", Some(400)),
            ("sec-websocket-version", Some(426)),
            ("user-agent", Option::None),
            ("sec-websocket-protocol", Option::None),
            ("origin", Option::None),
        ]).prop_map(|(n, s)| Drop(n, s)),
        1 => prop::sample::select(vec![
            ("host", Some(400)),
            ("sec-websocket-key", Some(400)),
            ("sec-websocket-version", Some(400)),
            ("upgrade", Option::None),
            ("connection", Option::None),
            ("user-agent", Option::None),
        ]).prop_map(|(n, s)| Duplicate(n, s)),
        3 => prop::sample::select(vec![
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ", Some(400)),   // no padding
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZR==", Some(400)), // not canonical
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25j", Some(400)),     // 15 bytes
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=", Some(400)),
            ("sec-websocket-key", "dGhlIHNhbXBs!SBub25jZQ==", Some(400)),
            ("sec-websocket-key", "dGhlIHNhbXBsZQ==", Some(400)),                 // 10 bytes
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZSBub25jZQ==", Some(400)), // 22 bytes
            ("sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAA==", Option::None),
            ("sec-websocket-key", "/////////////////////w==", Option::None),
            ("sec-websocket-version", "8", Some(426)),
            ("sec-websocket-version", "13, 8", Some(426)),
            ("sec-websocket-version", "", Some(426)),
            ("sec-websocket-version", "013", Some(426)),
            ("upgrade", "websockets", Some(426)),
            ("upgrade", "web socket", Some(426)),
            ("upgrade", "h2c", Some(426)),
            ("connection", "close", Some(400)),
            ("connection", "Upgrade-Insecure-Requests", Some(400)),
            ("connection", "keep-alive, Upgrade", Option::None),
            ("connection", "keep-alive,upgrade ,close", Option::None),
            ("host", "", Some(400)),
            ("host", "ex\u{e9}mple.com", Some(400)),
            ("origin", "null", Option::None),
            ("sec-websocket-protocol", "a b", Some(400)),
            ("sec-websocket-protocol", "", Some(400)),
            ("sec-websocket-protocol", "chat,,superchat,", Option::None),
            ("sec-websocket-protocol", "ch@t", Some(400)),
            ("sec-websocket-extensions", "x; y=\"a b\"", Some(400)),
            ("sec-websocket-extensions", "x; y=\"a\\b\"", Option::None),
            ("sec-websocket-extensions", "x;", Some(400)),
            ("sec-websocket-extensions", "x; =1", Some(400)),
            ("user-agent", "anything \u{1F600}", Option::None),
        ]).prop_map(|(n, v, s)| Value(n, v, s)),
        2 => prop::sample::select(vec![
            ("POST /chat HTTP/1.1", Some(405)),
            ("get /chat HTTP/1.1", Some(405)),
            ("OPTIONS * HTTP/1.1", Some(405)),
            ("GET * HTTP/1.1", Some(400)),
            ("GET /chat HTTP/1.0", Some(400)),
            ("GET /chat HTTP/2.0", Option::None),
            ("GET /chat HTTP/1.1 ", Some(400)),
            ("GET  /chat HTTP/1.1", Some(400)),
            ("GET /chat#frag HTTP/1.1", Some(400)),
            ("GET chat HTTP/1.1", Some(400)),
            ("GET ftp://example.com/ HTTP/1.1", Some(400)),
            ("GET ws:///chat HTTP/1.1", Some(400)),
            ("GET WSS://example.com HTTP/1.1", Option::None),
            ("GET /chat HTTP/1.1x", Some(400)),
            ("GET /ch\u{e9}t HTTP/1.1", Some(400)),
            ("G(T /chat HTTP/1.1", Some(400)),
            ("", Some(400)),
        ]).prop_map(|(l, s)| Line(l, s)),
        2 => prop::sample::select(vec![
            ("X-A : b", Some(400)),
            (" folded", Some(400)),
            ("\tfolded", Some(400)),
            ("X-A: b\rc", Some(400)),
            ("X-A: b\x01", Some(400)),
            ("X-A: b\x7f", Some(400)),
            ("X-A b", Some(400)),
            (": b", Some(400)),
            ("X-A:", Option::None),
            ("X-A:\t  b \t", Option::None),
            ("X-\u{e9}: b", Some(400)),
            ("X-A: b\n", Some(400)),
        ]).prop_map(|(l, s)| RawLine(l, s)),
        1 => any::<Index>().prop_map(Truncate),
    ]
}

/// Whether `field` is named `name`, in any case.
fn named(field: &(String, Vec<u8>), name: &str) -> bool {
    field.0.eq_ignore_ascii_case(name)
}

/// The head with the mutation, and the verdict it calls for.
fn mutate_request(head: &RequestHead, m: &ReqMutation) -> (Vec<u8>, Verdict) {
    let mut head = head.clone();
    let status = match m {
        ReqMutation::None => None,
        ReqMutation::Drop(name, status) => {
            head.fields.retain(|f| !named(f, name));
            *status
        }
        ReqMutation::Duplicate(name, status) => {
            // An optional field that is not there stays absent.
            if let Some(at) = head.fields.iter().position(|f| named(f, name)) {
                let field = head.fields[at].clone();
                head.fields.push(field);
            }
            *status
        }
        ReqMutation::Value(name, value, status) => {
            match head.fields.iter_mut().find(|f| named(f, name)) {
                Some(field) => field.1 = value.as_bytes().to_vec(),
                None => head
                    .fields
                    .push(((*name).into(), value.as_bytes().to_vec())),
            }
            *status
        }
        ReqMutation::Line(line, status) => {
            head.line = (*line).into();
            *status
        }
        ReqMutation::RawLine(line, status) => {
            let mut bytes = head.bytes();
            let at = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            let raw = format!("{line}\r\n");
            bytes.splice(at..at, raw.bytes());
            let verdict = match status {
                Some(s) => Verdict::Reject(*s),
                None => Verdict::Accept {
                    consumed: bytes.len(),
                },
            };
            return (bytes, verdict);
        }
        ReqMutation::Truncate(at) => {
            let bytes = head.bytes();
            let cut = at.index(bytes.len());
            return (bytes[..cut].to_vec(), Verdict::Incomplete);
        }
    };
    let bytes = head.bytes();
    let verdict = match status {
        Some(s) => Verdict::Reject(s),
        None => Verdict::Accept {
            consumed: bytes.len(),
        },
    };
    (bytes, verdict)
}

/// The crate's verdict on `bytes`, all received at once.
fn ours_request(bytes: &[u8], limits: HandshakeLimits) -> Verdict {
    verdict_of(RequestParser::with_limits(limits).parse(bytes))
}

fn verdict_of(
    result: Result<Option<rfc6455::handshake::Request<'_>>, rfc6455::HandshakeError>,
) -> Verdict {
    match result {
        Ok(None) => Verdict::Incomplete,
        Ok(Some(request)) => Verdict::Accept {
            consumed: request.consumed(),
        },
        Err(e) => Verdict::Reject(e.status()),
    }
}

/// The crate's verdict when the bytes arrive `step` at a time.
fn ours_request_in_steps(bytes: &[u8], limits: HandshakeLimits, step: usize) -> Verdict {
    let mut parser = RequestParser::with_limits(limits);
    let mut end = 0;
    loop {
        end = (end + step).min(bytes.len());
        match parser.parse(&bytes[..end]) {
            Ok(None) if end < bytes.len() => {}
            other => return verdict_of(other),
        }
    }
}

fn limits_of(l: HandshakeLimits) -> Limits {
    Limits {
        max_head: l.max_head_size,
        max_headers: l.max_headers,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A valid request with one mutation: the model gives the verdict the mutation calls
    /// for, and the parser gives the model's, whole and in any steps.
    #[test]
    fn requests_with_one_mutation_match_the_model(
        head in valid_request(),
        mutation in req_mutation(),
        step in 1usize..64,
    ) {
        let (bytes, expected) = mutate_request(&head, &mutation);
        let limits = HandshakeLimits::default();
        let model = model::request(&bytes, limits_of(limits));
        prop_assert_eq!(model, expected, "the model on {:?}", String::from_utf8_lossy(&bytes));
        prop_assert_eq!(ours_request(&bytes, limits), model, "{:?}", String::from_utf8_lossy(&bytes));
        prop_assert_eq!(ours_request_in_steps(&bytes, limits, step), model);
    }

    /// The same with the limits near the head's own size and field count: at the limit
    /// it is accepted, one under it is 431.
    #[test]
    fn requests_at_the_limits_match_the_model(
        head in valid_request(),
        size_slack in -2isize..=2,
        count_slack in -2isize..=2,
    ) {
        let bytes = head.bytes();
        let limits = HandshakeLimits::default()
            .max_head_size(bytes.len().saturating_add_signed(size_slack))
            .max_headers(head.fields.len().saturating_add_signed(count_slack));
        let expected = if size_slack < 0 || count_slack < 0 {
            Verdict::Reject(431)
        } else {
            Verdict::Accept { consumed: bytes.len() }
        };
        let model = model::request(&bytes, limits_of(limits));
        prop_assert_eq!(model, expected);
        prop_assert_eq!(ours_request(&bytes, limits), model);
        prop_assert_eq!(ours_request_in_steps(&bytes, limits, 7), model);
    }

    /// Any bytes spliced into a valid request: the parser and the model agree (no
    /// expected verdict here; the model is the oracle).
    #[test]
    fn requests_with_spliced_bytes_match_the_model(
        head in valid_request(),
        at in any::<Index>(),
        cut in 0usize..4,
        bytes in prop::collection::vec(prop_oneof![
            4 => prop::sample::select(b" \t\r\n:,;=\"\\/#*?abcHTP01.".to_vec()),
            1 => any::<u8>(),
        ], 0..6),
    ) {
        let mut head_bytes = head.bytes();
        let at = at.index(head_bytes.len());
        let end = (at + cut).min(head_bytes.len());
        head_bytes.splice(at..end, bytes);
        let limits = HandshakeLimits::default();
        let model = model::request(&head_bytes, limits_of(limits));
        prop_assert_eq!(ours_request(&head_bytes, limits), model, "{:?}", String::from_utf8_lossy(&head_bytes));
    }
}

// ----- responses -----

/// A response head as parts.
#[derive(Debug, Clone)]
struct ResponseHead {
    line: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl ResponseHead {
    fn bytes(&self) -> Vec<u8> {
        RequestHead {
            line: self.line.clone(),
            fields: self.fields.clone(),
        }
        .bytes()
    }
}

/// What the client under test offers.
const OFFERED_PROTOCOLS: [&str; 2] = ["chat", "superchat"];
const OFFERED_EXTENSIONS: [&str; 1] = ["permessage-deflate"];

fn valid_response() -> impl Strategy<Value = ResponseHead> {
    (
        prop::sample::select(vec![
            "HTTP/1.1 101 Switching Protocols",
            "HTTP/1.1 101 ",
            "HTTP/1.1 101",
            "HTTP/1.1 101 OK \u{e9}",
        ]),
        prop::sample::select(vec!["websocket", "WebSocket", "WEBSOCKET"]),
        prop::sample::select(vec!["Upgrade", "upgrade", "keep-alive, Upgrade"]),
        prop::option::of(prop::sample::select(vec!["chat", "superchat"])),
        prop::option::of(prop::sample::select(vec![
            "permessage-deflate",
            "permessage-deflate; server_no_context_takeover",
            "Permessage-Deflate; client_max_window_bits=10",
        ])),
        prop::collection::vec((any::<u32>(), any::<u8>()), 8),
        any::<Vec<Index>>(),
    )
        .prop_map(
            |(line, upgrade, connection, protocol, extensions, shapes, order)| {
                let mut fields: Vec<(&str, String)> = vec![
                    ("Upgrade", upgrade.into()),
                    ("Connection", connection.into()),
                    ("Sec-WebSocket-Accept", ACCEPT.into()),
                    ("Server", "test".into()),
                ];
                if let Some(p) = protocol {
                    fields.push(("Sec-WebSocket-Protocol", p.into()));
                }
                if let Some(e) = extensions {
                    fields.push(("Sec-WebSocket-Extensions", e.into()));
                }
                for (i, swap) in order.iter().enumerate() {
                    let (a, b) = (i % fields.len(), swap.index(fields.len()));
                    fields.swap(a, b);
                }
                let fields = fields
                    .into_iter()
                    .zip(shapes)
                    .map(|((name, value), (case, ows))| (recase(name, case), padded(&value, ows)))
                    .collect();
                ResponseHead {
                    line: line.into(),
                    fields,
                }
            },
        )
}

/// One change to a valid response; `true`: still accepted.
#[derive(Debug, Clone)]
enum RespMutation {
    None,
    Drop(&'static str, bool),
    Duplicate(&'static str, bool),
    Value(&'static str, &'static str, bool),
    Line(&'static str, Option<u16>),
}

fn resp_mutation() -> impl Strategy<Value = RespMutation> {
    use RespMutation::*;
    prop_oneof![
        2 => Just(None),
        1 => prop::sample::select(vec![
            ("upgrade", false),
            ("connection", false),
            ("sec-websocket-accept", false),
            ("server", true),
            ("sec-websocket-protocol", true),
            ("sec-websocket-extensions", true),
        ]).prop_map(|(n, ok)| Drop(n, ok)),
        1 => prop::sample::select(vec![
            ("sec-websocket-accept", false),
            ("upgrade", true),
            ("connection", true),
        ]).prop_map(|(n, ok)| Duplicate(n, ok)),
        3 => prop::sample::select(vec![
            // §4.1: the exact value; base64 is case-sensitive.
            ("sec-websocket-accept", "S3PPLMBITXAQ9KYGZZHZRBK+XOO=", false),
            ("sec-websocket-accept", "s3pplmbitxaq9kygzzhzrbk+xoo=", false),
            ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo", false),
            ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOp=", false),
            ("sec-websocket-accept", "dGhlIHNhbXBsZSBub25jZQ==", false),
            ("sec-websocket-accept", " \ts3pPLMBiTxaQ9kYGzzhZRbK+xOo= ", true),
            ("upgrade", "websocket, h2c", false),
            ("upgrade", "websockets", false),
            ("upgrade", "", false),
            ("connection", "close", false),
            ("connection", "keep-alive,UPGRADE", true),
            ("sec-websocket-protocol", "superchat", true),
            ("sec-websocket-protocol", "Chat", false),
            ("sec-websocket-protocol", "other", false),
            ("sec-websocket-protocol", "chat, superchat", false),
            ("sec-websocket-protocol", "", false),
            ("sec-websocket-extensions", "x-unknown", false),
            ("sec-websocket-extensions", "permessage-deflate, x-unknown", false),
            ("sec-websocket-extensions", "permessage-deflate;", false),
            ("sec-websocket-extensions", "PERMESSAGE-DEFLATE", true),
        ]).prop_map(|(n, v, ok)| Value(n, v, ok)),
        1 => prop::sample::select(vec![
            ("HTTP/1.1 200 OK", Some(200)),
            ("HTTP/1.1 426 Upgrade Required", Some(426)),
            ("HTTP/1.0 101 Switching Protocols", Option::None),
            ("HTTP/1.1 1011 Switching Protocols", Option::None),
            ("HTTP/1.1 10 Switching", Option::None),
            ("HTTP/1.1  101 Switching", Option::None),
            ("HTTP/1.1 101 Sw\x01tching", Option::None),
            ("HTTX/1.1 101 Switching", Option::None),
        ]).prop_map(|(l, s)| Line(l, s)),
    ]
}

fn mutate_response(head: &ResponseHead, m: &RespMutation) -> (Vec<u8>, ResponseVerdict) {
    let mut head = head.clone();
    enum Want {
        Ok,
        Fail,
        Status(u16),
    }
    let want = match m {
        RespMutation::None => Want::Ok,
        RespMutation::Drop(name, ok) => {
            head.fields.retain(|f| !named(f, name));
            if *ok { Want::Ok } else { Want::Fail }
        }
        RespMutation::Duplicate(name, ok) => {
            if let Some(at) = head.fields.iter().position(|f| named(f, name)) {
                let field = head.fields[at].clone();
                head.fields.push(field);
            }
            if *ok { Want::Ok } else { Want::Fail }
        }
        RespMutation::Value(name, value, ok) => {
            match head.fields.iter_mut().find(|f| named(f, name)) {
                Some(field) => field.1 = value.as_bytes().to_vec(),
                None => head
                    .fields
                    .push(((*name).into(), value.as_bytes().to_vec())),
            }
            if *ok { Want::Ok } else { Want::Fail }
        }
        RespMutation::Line(line, status) => {
            head.line = (*line).into();
            match status {
                Some(s) => Want::Status(*s),
                None => Want::Fail,
            }
        }
    };
    let bytes = head.bytes();
    let verdict = match want {
        Want::Ok => {
            let subprotocol = head
                .fields
                .iter()
                .find(|f| named(f, "sec-websocket-protocol"))
                .map(|(_, v)| {
                    let v = String::from_utf8(v.clone()).unwrap();
                    v.trim_matches([' ', '\t']).as_bytes().to_vec()
                });
            ResponseVerdict::Accept {
                consumed: bytes.len(),
                subprotocol,
            }
        }
        Want::Fail => ResponseVerdict::Fail,
        Want::Status(s) => ResponseVerdict::NotUpgraded(s),
    };
    (bytes, verdict)
}

/// A client that offered [`OFFERED_PROTOCOLS`] and [`OFFERED_EXTENSIONS`] with §1.3's
/// key.
fn client() -> ClientHandshake {
    let uri = WsUri::parse("ws://example.com/chat").unwrap();
    let mut nonce = |buf: &mut [u8]| buf.copy_from_slice(&b"the sample nonce"[..buf.len()]);
    let mut client = ClientHandshake::with_random(&uri, &mut nonce);
    assert_eq!(client.key(), KEY);
    for p in OFFERED_PROTOCOLS {
        client.subprotocol(p).unwrap();
    }
    for e in OFFERED_EXTENSIONS {
        client.extension(e).unwrap();
    }
    client
}

fn ours_response(bytes: &[u8]) -> ResponseVerdict {
    match client().parse_response(bytes) {
        Ok(None) => ResponseVerdict::Incomplete,
        Ok(Some(r)) => ResponseVerdict::Accept {
            consumed: r.consumed(),
            subprotocol: r.subprotocol().map(|p| p.as_bytes().to_vec()),
        },
        Err(rfc6455::HandshakeError::Rejected(r)) => ResponseVerdict::NotUpgraded(r.status),
        Err(_) => ResponseVerdict::Fail,
    }
}

fn offer() -> Offer<'static> {
    Offer {
        accept: ACCEPT.as_bytes(),
        subprotocols: &OFFERED_PROTOCOLS,
        extensions: &OFFERED_EXTENSIONS,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A valid 101 with one mutation: the model gives the verdict §4.1 calls for, and the
    /// client gives the model's.
    #[test]
    fn responses_with_one_mutation_match_the_model(head in valid_response(), mutation in resp_mutation()) {
        let (bytes, expected) = mutate_response(&head, &mutation);
        let model = model::response(&bytes, Limits::default(), &offer());
        prop_assert_eq!(&model, &expected, "the model on {:?}", String::from_utf8_lossy(&bytes));
        prop_assert_eq!(ours_response(&bytes), model, "{:?}", String::from_utf8_lossy(&bytes));
    }

    /// Any bytes spliced into a valid response: the client and the model agree.
    #[test]
    fn responses_with_spliced_bytes_match_the_model(
        head in valid_response(),
        at in any::<Index>(),
        cut in 0usize..4,
        bytes in prop::collection::vec(prop_oneof![
            4 => prop::sample::select(b" \t\r\n:,;=\"\\/10aAsS+".to_vec()),
            1 => any::<u8>(),
        ], 0..6),
    ) {
        let mut head_bytes = head.bytes();
        let at = at.index(head_bytes.len());
        let end = (at + cut).min(head_bytes.len());
        head_bytes.splice(at..end, bytes);
        let model = model::response(&head_bytes, Limits::default(), &offer());
        prop_assert_eq!(ours_response(&head_bytes), model, "{:?}", String::from_utf8_lossy(&head_bytes));
    }
}

/// §1.3's accept value, in each of the forms `AcceptKey` offers.
#[test]
fn accept_key_for_the_rfc_example_in_every_form() {
    let accept = rfc6455::accept_key(KEY.as_bytes());
    assert_eq!(accept.as_str(), ACCEPT);
    assert_eq!(accept.as_bytes(), ACCEPT.as_bytes());
    assert_eq!(AsRef::<str>::as_ref(&accept), ACCEPT);
    assert_eq!(AsRef::<[u8]>::as_ref(&accept), ACCEPT.as_bytes());
    assert_eq!(accept.to_string(), ACCEPT);
    assert_eq!(format!("{accept:?}"), format!("{ACCEPT:?}"));
}
