//! The opening handshake over the [`http`] crate's types, for servers whose HTTP
//! stack (hyper, axum, ...) already parsed the request (feature `http`).
//!
//! Check the request with [`validate_request`] (or [`validate_parts`] for
//! `http::request::Parts` or a bare `HeaderMap`): the same §4.2.1 rules as
//! [`RequestParser`](crate::handshake::RequestParser), minus the HTTP/1.1 syntax the
//! stack has already checked. Then answer with [`response`], the 101 built from an
//! [`Accept`] (accept key, chosen subprotocol and extensions, added fields), or with
//! [`rejection`], the error's status and the fields it needs (426 with
//! `Sec-WebSocket-Version: 13`, 405 with `Allow: GET`, ...). After the 101, the
//! connection's bytes are WebSocket frames (with hyper: `hyper::upgrade::on`).
//!
//! ```
//! use http::{Request, StatusCode, header};
//!
//! let request = Request::get("/chat")
//!     .header(header::HOST, "example.com")
//!     .header(header::UPGRADE, "websocket")
//!     .header(header::CONNECTION, "Upgrade")
//!     .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
//!     .header(header::SEC_WEBSOCKET_VERSION, "13")
//!     .header(header::SEC_WEBSOCKET_PROTOCOL, "chat, superchat")
//!     .body(())?;
//!
//! let response = match rfc6455::http::validate_request(&request) {
//!     Ok(upgrade) => rfc6455::http::response(&upgrade.accept().subprotocol("chat")?)?,
//!     Err(error) => rfc6455::http::rejection(&error),
//! };
//! assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
//! assert_eq!(response.headers()[header::SEC_WEBSOCKET_ACCEPT], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! assert_eq!(response.headers()[header::SEC_WEBSOCKET_PROTOCOL], "chat");
//!
//! // A plain GET is refused with 426 and the version this server speaks (§4.4).
//! let plain = Request::get("/chat").header(header::HOST, "example.com").body(())?;
//! let error = rfc6455::http::validate_request(&plain).unwrap_err();
//! let response = rfc6455::http::rejection(&error);
//! assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
//! assert_eq!(response.headers()[header::SEC_WEBSOCKET_VERSION], "13");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ::http::header::{
    ALLOW, CONNECTION, HeaderMap, HeaderName, HeaderValue, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use ::http::{Method, Request, Response, StatusCode, Version};

use crate::handshake::{Accept, UpgradeRequest, validate_request_headers};
use crate::{HandshakeError, UsageError};

const WEBSOCKET: HeaderValue = HeaderValue::from_static("websocket");
const CLOSE: HeaderValue = HeaderValue::from_static("close");
const UPGRADE_CLOSE: HeaderValue = HeaderValue::from_static("Upgrade, close");
const GET: HeaderValue = HeaderValue::from_static("GET");
const VERSION_13: HeaderValue = HeaderValue::from_static("13");

/// Checks an `http::Request` as a WebSocket opening handshake (§4.2.1): method `GET`,
/// HTTP/1.1 or later, then the header fields as
/// [`validate_request_headers`] does. The body is not looked at.
///
/// # Errors
///
/// The first rule broken; answer it with [`rejection`].
pub fn validate_request<B>(request: &Request<B>) -> Result<UpgradeRequest<'_>, HandshakeError> {
    validate_parts(request.method(), request.version(), request.headers())
}

/// Checks a request's method, version and header fields as a WebSocket opening
/// handshake (§4.2.1), for `http::request::Parts` (`validate_parts(&parts.method,
/// parts.version, &parts.headers)`) or any stack that has a `HeaderMap`.
///
/// # Errors
///
/// [`HandshakeError::MethodNotGet`], [`HandshakeError::HttpVersionTooOld`], then those
/// of [`validate_request_headers`]. Answer it with [`rejection`].
pub fn validate_parts<'a>(
    method: &Method,
    version: Version,
    headers: &'a HeaderMap,
) -> Result<UpgradeRequest<'a>, HandshakeError> {
    // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
    if method != Method::GET {
        return Err(HandshakeError::MethodNotGet);
    }
    if version == Version::HTTP_09 || version == Version::HTTP_10 {
        return Err(HandshakeError::HttpVersionTooOld);
    }
    validate_request_headers(headers.iter())
}

/// The 101 Switching Protocols response of `accept` (§4.2.2 step 5) as an
/// `http::Response`: the pairs of [`Accept::headers`], in order.
///
/// # Errors
///
/// [`UsageError::InvalidHeader`] if the `http` crate refuses a field. The fields of an
/// [`Accept`] are checked as they are added (tokens, no control characters), so this
/// does not happen; the `http` crate's own check is kept rather than assumed.
pub fn response(accept: &Accept<'_>) -> Result<Response<()>, UsageError> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    for (name, value) in accept.headers() {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| UsageError::InvalidHeader)?;
        let value =
            HeaderValue::from_bytes(value.as_bytes()).map_err(|_| UsageError::InvalidHeader)?;
        headers.append(name, value);
    }
    Ok(response)
}

/// The response rejecting a request for `error` as an `http::Response`: its
/// [status](HandshakeError::status) and the fields of
/// [`HandshakeError::response_headers`] (426: `Upgrade: websocket` and
/// `Sec-WebSocket-Version: 13`, §4.4; 405: `Allow: GET`; all: `Connection: close`). Add a
/// body if you like, e.g. the error's message.
#[must_use]
pub fn rejection(error: &HandshakeError) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = match error.status() {
        405 => StatusCode::METHOD_NOT_ALLOWED,
        426 => StatusCode::UPGRADE_REQUIRED,
        431 => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        502 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    let headers = response.headers_mut();
    match error.status() {
        405 => {
            headers.insert(ALLOW, GET);
            headers.insert(CONNECTION, CLOSE);
        }
        426 => {
            headers.insert(UPGRADE, WEBSOCKET);
            headers.insert(CONNECTION, UPGRADE_CLOSE);
            headers.insert(SEC_WEBSOCKET_VERSION, VERSION_13);
        }
        _ => {
            headers.insert(CONNECTION, CLOSE);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn rejection_fields_are_the_error_pairs() {
        for error in [
            HandshakeError::MethodNotGet,
            HandshakeError::UnsupportedVersion,
            HandshakeError::MissingKey,
            HandshakeError::TooManyHeaders { max: 1 },
            HandshakeError::AcceptMismatch,
        ] {
            let response = rejection(&error);
            assert_eq!(response.status().as_u16(), error.status(), "{error:?}");
            let mut pairs: Vec<(String, &str)> = response
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().into(), v.to_str().unwrap()))
                .collect();
            let mut expected: Vec<(String, &str)> = error
                .response_headers()
                .iter()
                .map(|&(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            pairs.sort_unstable();
            expected.sort_unstable();
            assert_eq!(pairs, expected, "{error:?}");
        }
    }
}
