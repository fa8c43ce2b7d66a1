//! A model of the opening handshake's decisions, written for the tests and sharing no
//! code with `src/`: does a server accept this request (§4.2.1), does a client accept
//! this response (§4.1)? The oracle the handshake property tests and fuzz targets compare
//! the crate against.
//!
//! It reads a head the plain way — split into lines, each line checked against the
//! grammar of RFC 9112 — and then applies the RFC 6455 rules one by one. Where the RFCs
//! leave a choice, the model makes the choice the crate documents, and says so here:
//! - a bare LF ends nothing: a line must end in CRLF (RFC 9112 §2.2 lets a recipient
//!   accept a bare LF; the crate refuses it), and obs-fold is refused (§5.2);
//! - a line is judged once it is whole; the head may hold at most `max_head` bytes and
//!   `max_headers` fields (431, RFC 6585 §5);
//! - a key is canonical base64 of 16 bytes (RFC 4648 §3.5 lets a decoder refuse
//!   non-canonical encodings);
//! - a server's status for each refusal: 405 for another method (RFC 9110 §15.5.6), 426
//!   with `Sec-WebSocket-Version` for a missing upgrade or an unsupported version (§4.4,
//!   RFC 9110 §15.5.22), 400 for the rest; the checks run in the order of §4.2.1's list
//!   (Host, Upgrade, Connection, version, key), then Origin, subprotocols, extensions.

#![allow(dead_code, reason = "each test file uses a different part")]

/// Bounds on a head.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_head: usize,
    pub max_headers: usize,
}

impl Default for Limits {
    /// The crate's documented defaults (`HandshakeLimits::DEFAULT`).
    fn default() -> Self {
        Limits {
            max_head: 8 * 1024,
            max_headers: 64,
        }
    }
}

/// A server's decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The head is not complete yet.
    Incomplete,
    /// Upgraded; the head took this many bytes.
    Accept { consumed: usize },
    /// Refused with this HTTP status.
    Reject(u16),
}

// ----- RFC 9110 / 9112 grammar -----

/// RFC 9110 §5.6.2: `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `token = 1*tchar`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// RFC 9112 §5: a field value's bytes, `field-vchar`, `obs-text`, SP and HTAB.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7E).contains(&b) || b >= 0x80
}

/// `OWS`: spaces and tabs.
fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Printable ASCII, not empty: what a Host, an Origin or a key must be (they are text).
fn is_printable(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| (0x20..=0x7E).contains(&b))
}

/// `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3).
fn http_version(s: &[u8]) -> Option<(u8, u8)> {
    match s {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some((major - b'0', minor - b'0'))
        }
        _ => None,
    }
}

/// A field line, `field-name ":" OWS field-value OWS` (RFC 9112 §5.1): the name and the
/// trimmed value, or `None`.
fn field_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    // §5.2: a line that begins with whitespace is obs-fold.
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return None;
    }
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    // "No whitespace is allowed between the field name and colon": the name is a token.
    if !is_token(name) || !value.iter().all(|&b| is_field_byte(b)) {
        return None;
    }
    Some((name, trim_ows(value)))
}

/// A head split into its start line and fields, or why not.
enum Head<'a, S> {
    Incomplete,
    Bad(u16),
    Whole {
        start: S,
        fields: Vec<(&'a [u8], &'a [u8])>,
        len: usize,
    },
}

/// Reads a head line by line. `start` judges the start line as soon as it is whole.
fn read_head<'a, S>(
    bytes: &'a [u8],
    limits: Limits,
    start: impl Fn(&'a [u8]) -> Result<S, u16>,
) -> Head<'a, S> {
    let window = &bytes[..bytes.len().min(limits.max_head)];
    let mut pos = 0;
    let mut start_line = None;
    let mut fields = Vec::new();
    loop {
        let Some(lf) = window[pos..].iter().position(|&b| b == b'\n') else {
            return if bytes.len() >= limits.max_head {
                Head::Bad(431)
            } else {
                Head::Incomplete
            };
        };
        // RFC 9112 §2.2: every line ends in CRLF.
        let Some(line) = window[pos..pos + lf].strip_suffix(b"\r") else {
            return Head::Bad(400);
        };
        pos += lf + 1;
        if start_line.is_none() {
            match start(line) {
                Ok(s) => start_line = Some(s),
                Err(status) => return Head::Bad(status),
            }
            continue;
        }
        if line.is_empty() {
            return Head::Whole {
                start: start_line.expect("read first"),
                fields,
                len: pos,
            };
        }
        if fields.len() >= limits.max_headers {
            return Head::Bad(431);
        }
        match field_line(line) {
            Some(field) => fields.push(field),
            None => return Head::Bad(400),
        }
    }
}

/// The values of the fields named `name` (case-insensitive, RFC 9110 §5.1).
fn values<'a>(fields: &[(&'a [u8], &'a [u8])], name: &str) -> Vec<&'a [u8]> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| *v)
        .collect()
}

/// Whether a comma-separated list (RFC 9110 §5.6.1) holds `token`, case-insensitively.
fn list_has(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|item| trim_ows(item).eq_ignore_ascii_case(token.as_bytes()))
}

/// `1#element` (RFC 9110 §5.6.1): elements separated by commas, with OWS around them and
/// empty elements allowed, at least one element.
fn is_list_of(value: &[u8], element: impl Fn(&[u8]) -> bool) -> bool {
    let items: Vec<&[u8]> = value.split(|&b| b == b',').map(trim_ows).collect();
    items.iter().any(|i| !i.is_empty()) && items.iter().all(|i| i.is_empty() || element(i))
}

/// §9.1: `extension = extension-token *( ";" extension-param )`, `extension-param =
/// token [ "=" (token | quoted-string) ]`, where a quoted string's unescaped value is a
/// token; OWS around the separators.
fn is_extension(item: &[u8]) -> bool {
    let mut parts = item.split(|&b| b == b';');
    if !parts.next().is_some_and(|name| is_token(trim_ows(name))) {
        return false;
    }
    parts.all(|param| {
        let mut kv = param.splitn(2, |&b| b == b'=');
        let name = trim_ows(kv.next().unwrap_or_default());
        let value = kv.next().map(trim_ows);
        is_token(name)
            && match value {
                None => true,
                Some(v) if is_token(v) => true,
                Some(v) => unquoted_token(v),
            }
    })
}

/// A quoted string whose content, with `\x` escapes undone, is a token.
fn unquoted_token(v: &[u8]) -> bool {
    let Some(inner) = v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")) else {
        return false;
    };
    let mut out = Vec::new();
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        out.push(if b == b'\\' {
            match bytes.next() {
                Some(&c) => c,
                None => return false,
            }
        } else {
            b
        });
    }
    is_token(&out)
}

/// §4.2.1 item 5: base64 (RFC 4648 §4) of 16 bytes: 22 characters of the alphabet, the
/// last carrying only its top two bits, and "==".
fn is_key(key: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |b: u8| ALPHABET.iter().position(|&a| a == b);
    match key {
        [chars @ .., b'=', b'='] if chars.len() == 22 => {
            chars.iter().all(|&b| sextet(b).is_some())
                && sextet(chars[21]).is_some_and(|s| s & 0b1111 == 0)
        }
        _ => false,
    }
}

// ----- a server deciding on a request (§4.2.1) -----

/// A request line's method, target and version.
type RequestLine<'a> = (&'a [u8], &'a [u8], (u8, u8));

/// The request line: method, target and version, or the status that refuses it.
fn request_line(line: &[u8]) -> Result<RequestLine<'_>, u16> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    // RFC 9112 §3: `method SP request-target SP HTTP-version`.
    let target_ok = !target.is_empty() && target.iter().all(|b| b.is_ascii_graphic());
    let Some(version) = http_version(version).filter(|_| is_token(method) && target_ok) else {
        return Err(400);
    };
    // RFC 9112 §3.2: origin-form, absolute-form (of an http, https, ws or wss URI with
    // an authority), or the asterisk-form of OPTIONS; never a fragment.
    let form_ok = if target == b"*" {
        method == b"OPTIONS"
    } else if target.contains(&b'#') {
        false
    } else if target.starts_with(b"/") {
        true
    } else {
        match target.windows(3).position(|w| w == b"://") {
            Some(at) => {
                let scheme = &target[..at];
                let authority = target[at + 3..]
                    .split(|&b| b == b'/' || b == b'?')
                    .next()
                    .unwrap_or_default();
                ["http", "https", "ws", "wss"]
                    .iter()
                    .any(|s| s.as_bytes().eq_ignore_ascii_case(scheme))
                    && !authority.is_empty()
            }
            None => false,
        }
    };
    if !form_ok {
        return Err(400);
    }
    Ok((method, target, version))
}

/// What a server decides on the request in `bytes`, all received so far.
pub fn request(bytes: &[u8], limits: Limits) -> Verdict {
    let (method, version, fields, len) = match read_head(bytes, limits, request_line) {
        Head::Incomplete => return Verdict::Incomplete,
        Head::Bad(status) => return Verdict::Reject(status),
        Head::Whole {
            start: (method, _target, version),
            fields,
            len,
        } => (method, version, fields, len),
    };
    match upgrade(method, version, &fields) {
        Ok(()) => Verdict::Accept { consumed: len },
        Err(status) => Verdict::Reject(status),
    }
}

/// The §4.2.1 rules on a whole, well-formed request head.
fn upgrade(method: &[u8], version: (u8, u8), fields: &[(&[u8], &[u8])]) -> Result<(), u16> {
    // Item 1: "An HTTP/1.1 or higher GET request".
    if method != b"GET" {
        return Err(405);
    }
    if version < (1, 1) {
        return Err(400);
    }
    request_fields(fields)
}

/// The §4.2.1 rules on a request's header fields (names and values as received; values
/// are trimmed here), for a server whose HTTP stack parsed the request line already.
pub fn request_fields(fields: &[(&[u8], &[u8])]) -> Result<(), u16> {
    let trimmed: Vec<(&[u8], &[u8])> = fields.iter().map(|&(n, v)| (n, trim_ows(v))).collect();
    let fields = &trimmed[..];
    // Item 2: a Host (RFC 9112 §3.2: exactly one).
    match values(fields, "host")[..] {
        [host] if is_printable(host) => {}
        _ => return Err(400),
    }
    // Item 3: "An |Upgrade| header field containing the value "websocket"" (426: the
    // client did not ask for the protocol this resource speaks).
    if !values(fields, "upgrade")
        .iter()
        .any(|v| list_has(v, "websocket"))
    {
        return Err(426);
    }
    // Item 4: "A |Connection| header field that includes the token "Upgrade"".
    if !values(fields, "connection")
        .iter()
        .any(|v| list_has(v, "upgrade"))
    {
        return Err(400);
    }
    // Item 6: "A |Sec-WebSocket-Version| header field, with a value of 13" (§4.4: else
    // 426 with the versions we speak); §11.3.5: it appears once.
    match values(fields, "sec-websocket-version")[..] {
        [] => return Err(426),
        [b"13"] => {}
        [_] => return Err(426),
        _ => return Err(400),
    }
    // Item 5: the key; §11.3.1: it appears once.
    match values(fields, "sec-websocket-key")[..] {
        [key] if is_key(key) => {}
        _ => return Err(400),
    }
    // Item 7 (optional): at most one Origin, and text.
    match values(fields, "origin")[..] {
        [] => {}
        [origin] if is_printable(origin) => {}
        _ => return Err(400),
    }
    // Items 8, 9 (optional): §4.1's grammar for the lists, on every line.
    if !values(fields, "sec-websocket-protocol")
        .iter()
        .all(|v| is_list_of(v, is_token))
    {
        return Err(400);
    }
    if !values(fields, "sec-websocket-extensions")
        .iter()
        .all(|v| is_list_of(v, is_extension))
    {
        return Err(400);
    }
    Ok(())
}

// ----- a client deciding on a response (§4.1) -----

/// A client's decision on a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseVerdict {
    Incomplete,
    /// The connection is open; the head took `consumed` bytes; the chosen subprotocol.
    Accept {
        consumed: usize,
        subprotocol: Option<Vec<u8>>,
    },
    /// A well-formed response with another status than 101: not an upgrade.
    NotUpgraded(u16),
    /// _Fail the WebSocket Connection_ (§4.1).
    Fail,
}

/// What the client offered, and the accept value it expects.
#[derive(Debug, Clone)]
pub struct Offer<'a> {
    /// `Sec-WebSocket-Accept` for the client's key (§4.2.2 step 5.4): for the §1.3 key,
    /// `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
    pub accept: &'a [u8],
    pub subprotocols: &'a [&'a str],
    pub extensions: &'a [&'a str],
}

/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4); the
/// reason phrase and its SP may be missing (a recipient SHOULD accept that).
fn status_line(line: &[u8]) -> Result<((u8, u8), u16), u16> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let version = parts.next().and_then(http_version);
    let code = match parts.next() {
        Some(c) if c.len() == 3 && c.iter().all(u8::is_ascii_digit) => {
            c.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'))
        }
        _ => return Err(502),
    };
    let reason_ok = parts
        .next()
        .unwrap_or_default()
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7F));
    match version {
        Some(version) if reason_ok => Ok((version, code)),
        _ => Err(502),
    }
}

/// What a client decides on the response in `bytes`.
pub fn response(bytes: &[u8], limits: Limits, offer: &Offer<'_>) -> ResponseVerdict {
    let ((version, code), fields, len) = match read_head(bytes, limits, status_line) {
        Head::Incomplete => return ResponseVerdict::Incomplete,
        Head::Bad(_) => return ResponseVerdict::Fail,
        Head::Whole { start, fields, len } => (start, fields, len),
    };
    // §4.1: "If the status code received from the server is not 101, the client
    // handles the response per HTTP [RFC2616] procedures."
    if code != 101 {
        return ResponseVerdict::NotUpgraded(code);
    }
    if version < (1, 1) {
        return ResponseVerdict::Fail;
    }
    // Item 2: an Upgrade field whose value is "websocket", case-insensitively (each
    // Upgrade line, and at least one).
    let upgrades = values(&fields, "upgrade");
    if upgrades.is_empty()
        || !upgrades
            .iter()
            .all(|v| v.eq_ignore_ascii_case(b"websocket"))
    {
        return ResponseVerdict::Fail;
    }
    // Item 3: a Connection field with the token "Upgrade", case-insensitively.
    if !values(&fields, "connection")
        .iter()
        .any(|v| list_has(v, "upgrade"))
    {
        return ResponseVerdict::Fail;
    }
    // Item 4: exactly the expected accept value: base64 is case-sensitive, so no case
    // folding (leading and trailing whitespace is ignored).
    if values(&fields, "sec-websocket-accept")[..] != [offer.accept] {
        return ResponseVerdict::Fail;
    }
    // Item 5: well-formed extensions, each one the client offered (names compare
    // case-insensitively, as tokens in HTTP do).
    for value in values(&fields, "sec-websocket-extensions") {
        if !is_list_of(value, is_extension) {
            return ResponseVerdict::Fail;
        }
        for item in value
            .split(|&b| b == b',')
            .map(trim_ows)
            .filter(|i| !i.is_empty())
        {
            let name = trim_ows(item.split(|&b| b == b';').next().unwrap_or_default());
            if !offer
                .extensions
                .iter()
                .any(|o| o.as_bytes().eq_ignore_ascii_case(name))
            {
                return ResponseVerdict::Fail;
            }
        }
    }
    // Item 6 and §4.3: at most one subprotocol, a token, one the client offered.
    let subprotocol = match values(&fields, "sec-websocket-protocol")[..] {
        [] => None,
        [p] if is_token(p) && offer.subprotocols.iter().any(|o| o.as_bytes() == p) => {
            Some(p.to_vec())
        }
        _ => return ResponseVerdict::Fail,
    };
    ResponseVerdict::Accept {
        consumed: len,
        subprotocol,
    }
}
