//! Just enough HTTP/1.1 to serve one page: find the end of a request head and split its
//! request line. A WebSocket upgrade is handed to the library's `RequestParser`, which
//! checks all of RFC 6455 §4.2.1; this module only routes.

/// The most bytes a request head may have, final blank line included.
pub const MAX_HEAD: usize = 8 * 1024;

/// The length of the request head in `buf` (through the blank line), once complete.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The method and the path (without the query) of a request line, or `None` if the line
/// is not `METHOD SP target SP HTTP/1.x`.
pub fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&head[..end]).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    Some((method, path))
}

/// A complete response with a body and `Connection: close`.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A short plain-text response.
pub fn text_response(status: &str, text: &str) -> Vec<u8> {
    response(
        status,
        &[("Content-Type", "text/plain; charset=utf-8")],
        text.as_bytes(),
    )
}
