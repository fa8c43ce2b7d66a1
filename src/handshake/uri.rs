//! `ws://` and `wss://` URIs (§3).

use alloc::string::String;

use crate::UriError;

/// A parsed `ws://` or `wss://` URI (§3):
///
/// ```text
/// ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]
/// wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]
/// ```
///
/// The scheme is matched case-insensitively; the port defaults to 80 for `ws` and 443 for
/// `wss`; an empty path is `/`. A fragment is an error (§3: "MUST NOT be used"), and so
/// is user information (`user:pass@host`), which a WebSocket request has no place for:
/// send credentials in an `Authorization` header. Percent-encoding is kept as written.
///
/// ```
/// use rfc6455::handshake::WsUri;
///
/// let uri = WsUri::parse("WSS://[::1]:8443/chat?room=1")?;
/// assert!(uri.is_secure());
/// assert_eq!(uri.host(), "[::1]");
/// assert_eq!(uri.port(), 8443);
/// assert_eq!(uri.path(), "/chat");
/// assert_eq!(uri.query(), Some("room=1"));
/// assert_eq!(uri.resource_name(), "/chat?room=1");
/// assert_eq!(uri.host_header(), "[::1]:8443");
/// # Ok::<(), rfc6455::UriError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsUri<'a> {
    secure: bool,
    host: &'a str,
    port: u16,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> WsUri<'a> {
    /// Parses a `ws://` or `wss://` URI.
    ///
    /// # Errors
    ///
    /// A [`UriError`] saying which part is wrong.
    pub fn parse(uri: &'a str) -> Result<Self, UriError> {
        let (scheme, rest) = uri.split_once("://").ok_or(UriError::InvalidScheme)?;
        let secure = if scheme.eq_ignore_ascii_case("wss") {
            true
        } else if scheme.eq_ignore_ascii_case("ws") {
            false
        } else {
            return Err(UriError::InvalidScheme);
        };
        // §3: "the character "#", when not indicating the start of a fragment, MUST be
        // escaped as %23", so any "#" starts a fragment.
        if rest.contains('#') {
            return Err(UriError::Fragment);
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UriError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            // RFC 3986 §3.2.3: an empty port is the scheme's default.
            None | Some("") => {
                if secure {
                    443
                } else {
                    80
                }
            }
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().map_err(|_| UriError::InvalidPort)?
            }
            Some(_) => return Err(UriError::InvalidPort),
        };
        // Characters that may appear in a path or query unencoded: visible ASCII.
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UriError::InvalidPath);
        }
        let (path, query) = match resource.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (resource, None),
        };
        Ok(WsUri {
            secure,
            host,
            port,
            path: if path.is_empty() { "/" } else { path },
            query,
        })
    }

    /// Whether the scheme is `wss` (§3: the "secure" flag): the caller runs TLS.
    #[must_use]
    pub const fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host as written, an IPv6 literal with its brackets (`[::1]`).
    #[must_use]
    pub const fn host(&self) -> &'a str {
        self.host
    }

    /// The port, explicit or the default (80 for `ws`, 443 for `wss`).
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The path, `/` if empty.
    #[must_use]
    pub const fn path(&self) -> &'a str {
        self.path
    }

    /// The query (after `?`), if any.
    #[must_use]
    pub const fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// Whether the port is the scheme's default.
    #[must_use]
    pub const fn is_default_port(&self) -> bool {
        self.port == if self.secure { 443 } else { 80 }
    }

    /// The /resource name/ for the request line (§3): the path, then `?` and the query
    /// if the query is non-empty.
    #[must_use]
    pub fn resource_name(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + self.query.map_or(0, str::len) + 1);
        out.push_str(self.path);
        if let Some(query) = self.query.filter(|q| !q.is_empty()) {
            out.push('?');
            out.push_str(query);
        }
        out
    }

    /// The `Host` header value (§4.1 item 4): the host as written (an IPv6 literal with
    /// its brackets, RFC 9110 §7.2), then `:` and the port unless it is the default.
    #[must_use]
    pub fn host_header(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 6);
        out.push_str(self.host);
        if !self.is_default_port() {
            out.push(':');
            push_decimal(&mut out, self.port);
        }
        out
    }

    /// The host as a resolver or `TcpStream::connect` takes it: an IPv6 literal without
    /// its brackets (`::1` for `ws://[::1]/`), any other host as written. Use
    /// [`WsUri::host`] or [`WsUri::host_header`] for the `Host` header instead.
    ///
    /// ```
    /// # use rfc6455::handshake::WsUri;
    /// let uri = WsUri::parse("ws://[::1]:9001/")?;
    /// assert_eq!(uri.connect_host(), "::1");
    /// assert_eq!(uri.host(), "[::1]");
    /// # #[cfg(feature = "std")] {
    /// use std::net::ToSocketAddrs;
    /// let addr = (uri.connect_host(), uri.port()).to_socket_addrs().unwrap().next().unwrap();
    /// assert_eq!(addr, "[::1]:9001".parse().unwrap());
    /// # }
    /// # Ok::<(), rfc6455::UriError>(())
    /// ```
    #[must_use]
    pub fn connect_host(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }
}

/// Appends the decimal digits of `n`.
fn push_decimal(out: &mut String, n: u16) {
    for &digit in itoa(n, &mut [0; 5]) {
        out.push(char::from(digit));
    }
}

/// The decimal digits of `n`.
fn itoa(mut n: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        #[allow(clippy::cast_possible_truncation)]
        {
            buf[i] = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Splits an authority without user information into host and optional port, checking
/// the host (RFC 3986 §3.2.2).
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UriError> {
    let (host, port) = if authority.starts_with('[') {
        // IP-literal = "[" ( IPv6address / IPvFuture ) "]"; we take IPv6 (hex digits,
        // colons, and dots for an embedded IPv4 address).
        let close = authority.find(']').ok_or(UriError::InvalidHost)?;
        let (host, after) = authority.split_at(close + 1);
        let inner = &host[1..host.len() - 1];
        if !inner.contains(':')
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UriError::InvalidHost);
        }
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err(UriError::InvalidHost),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    // reg-name = *( unreserved / pct-encoded / sub-delims ), IPv4 included; non-empty
    // here, since a WebSocket request needs a Host.
    let reg_name_ok = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            )
    };
    if host.is_empty() || (!host.starts_with('[') && !host.bytes().all(reg_name_ok)) {
        return Err(UriError::InvalidHost);
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_digits() {
        assert_eq!(itoa(0, &mut [0; 5]), b"0");
        assert_eq!(itoa(8080, &mut [0; 5]), b"8080");
        assert_eq!(itoa(65535, &mut [0; 5]), b"65535");
    }
}
