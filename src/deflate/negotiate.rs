//! Negotiation of permessage-deflate (RFC 7692 §5, §7.1): the client's offer, the
//! server's choice among offers and its response, and the client's check of that
//! response.

use alloc::string::String;
use core::fmt::Write as _;

use crate::Role;
use crate::handshake::{Extension, ExtensionParam};

use super::{DeflateConfig, PerMessageDeflate};

/// The extension token (RFC 7692 §7: "The registered extension name for this extension
/// is "permessage-deflate"").
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// The largest LZ77 window, and the one assumed when none is negotiated (RFC 7692
/// §7.1.2.1: "Absence of this parameter in an extension negotiation offer indicates that
/// the client can receive messages compressed using an LZ77 sliding window of up to
/// 32,768 bytes").
pub(crate) const MAX_WINDOW_BITS: u8 = 15;

/// What the two endpoints agreed on: the four parameters of RFC 7692 §7.1, with absent
/// window parameters as 15 (32 KiB). RFC 7692 defines these four and no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server resets its compressor after every message (RFC 7692 §7.1.1.1).
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message (RFC 7692 §7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window the server compresses with, as a base-2 logarithm, 8..=15
    /// (RFC 7692 §7.1.2.1).
    pub server_max_window_bits: u8,
    /// The largest LZ77 window the client compresses with, 8..=15 (RFC 7692 §7.1.2.2).
    pub client_max_window_bits: u8,
}

impl DeflateParams {
    /// No parameter: both sides keep their context and use windows of up to 32 KiB.
    pub const DEFAULT: DeflateParams = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: MAX_WINDOW_BITS,
        client_max_window_bits: MAX_WINDOW_BITS,
    };

    /// Whether the compressor of an endpoint in `role` resets after every message.
    #[must_use]
    pub const fn no_context_takeover(&self, role: Role) -> bool {
        match role {
            Role::Server => self.server_no_context_takeover,
            Role::Client => self.client_no_context_takeover,
        }
    }

    /// The window bits the compressor of an endpoint in `role` may use at most.
    #[must_use]
    pub const fn max_window_bits(&self, role: Role) -> u8 {
        match role {
            Role::Server => self.server_max_window_bits,
            Role::Client => self.client_max_window_bits,
        }
    }
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a client refuses the server's permessage-deflate response (RFC 7692 §7: "A client
/// MUST _Fail the WebSocket Connection_ if the peer server accepted an extension
/// negotiation offer for this extension with an extension negotiation response meeting
/// any of the following conditions"). The client then closes the connection; RFC 6455
/// §7.4.1 has no better close code than 1002 (or 1010) for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// "The negotiation response contains an extension parameter not defined for use in
    /// a response."
    #[error("permessage-deflate response has an unknown parameter")]
    UnknownParameter,
    /// "The negotiation response contains multiple extension parameters with the same
    /// name."
    #[error("permessage-deflate response repeats a parameter")]
    DuplicateParameter,
    /// "The negotiation response contains an extension parameter with an invalid value"
    /// (a value on a `*_no_context_takeover`, a window size missing or outside 8..=15,
    /// or with a leading zero).
    #[error("permessage-deflate response has a parameter with an invalid value")]
    InvalidValue,
    /// The response has `client_max_window_bits`, which the offer did not have (RFC 7692
    /// §7.1.2.2: the response "MUST NOT include the `client_max_window_bits` extension
    /// parameter" then).
    #[error("permessage-deflate response limits the client window, which was not offered")]
    ClientWindowNotOffered,
    /// The offer had `server_no_context_takeover` and the response does not (RFC 7692
    /// §7.1.1.1: the server accepts such an offer "by including the
    /// `server_no_context_takeover` extension parameter in the ... response").
    #[error("permessage-deflate response drops server_no_context_takeover, which was offered")]
    ServerNoContextTakeoverMissing,
    /// The offer had `server_max_window_bits` and the response has none, or a larger
    /// one (RFC 7692 §7.1.2.1: "with the same or smaller value as the offer").
    #[error("permessage-deflate response exceeds the server window that was offered")]
    ServerWindowTooLarge,
    /// The response accepts permessage-deflate more than once; one offer was made.
    #[error("permessage-deflate response accepts the extension more than once")]
    AcceptedTwice,
}

/// The parameters of one offer or response, each checked as RFC 7692 §7.1 says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: Option<u8>,
    pub(crate) client_max_window_bits: ClientBits,
}

/// `client_max_window_bits` in an offer or a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum ClientBits {
    #[default]
    Absent,
    /// Present without a value (allowed in an offer only).
    NoValue,
    Bits(u8),
}

impl ClientBits {
    /// The window this allows: 15 unless a value is given.
    fn bits(self) -> u8 {
        match self {
            ClientBits::Bits(bits) => bits,
            ClientBits::Absent | ClientBits::NoValue => MAX_WINDOW_BITS,
        }
    }
}

/// Whether the parameters come from a client's offer or a server's response: the
/// grammar differs for `client_max_window_bits` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Offer,
    Response,
}

impl Params {
    /// Parses and checks an element's parameters (RFC 7692 §7, the four conditions of an
    /// offer a server MUST decline and of a response a client MUST fail on).
    pub(crate) fn parse<'a>(
        params: impl IntoIterator<Item = ExtensionParam<'a>>,
        side: Side,
    ) -> Result<Params, NegotiationError> {
        let mut out = Params::default();
        let mut seen = [false; 4];
        for param in params {
            let index = [
                "server_no_context_takeover",
                "client_no_context_takeover",
                "server_max_window_bits",
                "client_max_window_bits",
            ]
            .iter()
            .position(|name| param.name.eq_ignore_ascii_case(name))
            .ok_or(NegotiationError::UnknownParameter)?;
            if core::mem::replace(&mut seen[index], true) {
                return Err(NegotiationError::DuplicateParameter);
            }
            let value = param.value.as_deref();
            match index {
                // RFC 7692 §7.1.1.1, §7.1.1.2: "This extension parameter has no value."
                0 | 1 if value.is_some() => return Err(NegotiationError::InvalidValue),
                0 => out.server_no_context_takeover = true,
                1 => out.client_no_context_takeover = true,
                // RFC 7692 §7.1.2.1: server_max_window_bits always has a value.
                2 => {
                    out.server_max_window_bits = Some(
                        value
                            .and_then(window_bits)
                            .ok_or(NegotiationError::InvalidValue)?,
                    );
                }
                // RFC 7692 §7.1.2.2: "This parameter has no value or a decimal integer
                // value without leading zeroes between 8 to 15" in an offer; a response
                // has the value.
                _ => {
                    out.client_max_window_bits = match (value, side) {
                        (None, Side::Offer) => ClientBits::NoValue,
                        (None, Side::Response) => return Err(NegotiationError::InvalidValue),
                        (Some(v), _) => {
                            ClientBits::Bits(window_bits(v).ok_or(NegotiationError::InvalidValue)?)
                        }
                    };
                }
            }
        }
        Ok(out)
    }
}

/// RFC 7692 §7.1.2.1: "a decimal integer value without leading zeroes between 8 to 15,
/// inclusive".
fn window_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

fn is_deflate(extension: &Extension<'_>) -> bool {
    extension.name().eq_ignore_ascii_case(EXTENSION_NAME)
}

/// Writes a response or offer element: the name and the parameters that are set.
fn write_element(params: Params) -> String {
    let mut out = String::from(EXTENSION_NAME);
    if params.server_no_context_takeover {
        out.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        out.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = params.server_max_window_bits {
        let _ = write!(out, "; server_max_window_bits={bits}");
    }
    match params.client_max_window_bits {
        ClientBits::Absent => {}
        ClientBits::NoValue => out.push_str("; client_max_window_bits"),
        ClientBits::Bits(bits) => {
            let _ = write!(out, "; client_max_window_bits={bits}");
        }
    }
    out
}

/// The server's side of the negotiation (RFC 7692 §5, §7.1): takes the client's
/// `Sec-WebSocket-Extensions` offers in the order received (its order of preference,
/// RFC 6455 §9.1), accepts the first permessage-deflate offer that is valid, and returns
/// the element to answer with — for
/// [`Accept::extension`](crate::handshake::Accept::extension) — and the extension to run
/// on the [`Connection`](crate::Connection) with
/// [`with_extension`](crate::Connection::with_extension). `None`: no offer can be
/// accepted, and the connection runs without compression.
///
/// An offer is declined (RFC 7692 §7: a server "MUST decline an extension negotiation
/// offer for this extension if any of the following conditions are met") when it has a
/// parameter not defined for offers, a parameter with an invalid value (a value on a
/// `*_no_context_takeover`, a window size missing on `server_max_window_bits`, outside
/// 8..=15 or with a leading zero), or a parameter twice. Offers of other extensions are
/// skipped.
///
/// The response follows `config`, within what the offer allows:
///
/// - `server_no_context_takeover` when offered (RFC 7692 §7.1.1.1 lets the server accept
///   no other way) or when [`DeflateConfig::server_no_context_takeover`] is set;
/// - `client_no_context_takeover` when offered (this makes the client's hint binding, so
///   the server's decompressor can reset too) or required by
///   [`DeflateConfig::client_no_context_takeover`] (§7.1.1.2);
/// - `server_max_window_bits=N` with the smaller of the offered value and
///   [`DeflateConfig::server_max_window_bits`], whenever either is below 15 (§7.1.2.1);
/// - `client_max_window_bits=N` with [`DeflateConfig::client_max_window_bits`] when
///   that is below 15 and below what the offer hints, if the offer has the parameter
///   (§7.1.2.2: without it, the server cannot limit the client's window).
///
/// ```
/// # use rfc6455::handshake::RequestParser;
/// use rfc6455::deflate::{DeflateConfig, negotiate};
///
/// # let request = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
/// #     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
/// #     Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, \
/// #     permessage-deflate; client_max_window_bits\r\n\r\n";
/// let mut parser = RequestParser::new();
/// let request = parser.parse(request)?.expect("a whole request");
/// let config = DeflateConfig::default().client_max_window_bits(12);
/// let (response, _extension) = negotiate(request.extensions(), &config).expect("accepted");
/// assert_eq!(response, "permessage-deflate; server_max_window_bits=10");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negotiate<'a>(
    offers: impl IntoIterator<Item = Extension<'a>>,
    config: &DeflateConfig,
) -> Option<(String, PerMessageDeflate)> {
    offers
        .into_iter()
        .filter(is_deflate)
        .find_map(|offer| accept_offer(&offer, config))
}

/// Accepts one offer, or declines it (`None`).
fn accept_offer(
    offer: &Extension<'_>,
    config: &DeflateConfig,
) -> Option<(String, PerMessageDeflate)> {
    let offered = Params::parse(offer.params(), Side::Offer).ok()?;
    let server_bits = offered
        .server_max_window_bits
        .unwrap_or(MAX_WINDOW_BITS)
        .min(config.server_max_window_bits);
    let (client_bits, client_answer) = match offered.client_max_window_bits {
        // The client cannot be limited; it may use 32 KiB.
        ClientBits::Absent => (MAX_WINDOW_BITS, ClientBits::Absent),
        ClientBits::NoValue | ClientBits::Bits(_) => {
            let hint = offered.client_max_window_bits.bits();
            if config.client_max_window_bits < hint {
                let bits = config.client_max_window_bits.max(8);
                (bits, ClientBits::Bits(bits))
            } else {
                (hint, ClientBits::Absent)
            }
        }
    };
    let response = Params {
        server_no_context_takeover: offered.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: offered.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: (server_bits < MAX_WINDOW_BITS).then_some(server_bits),
        client_max_window_bits: client_answer,
    };
    let agreed = DeflateParams {
        server_no_context_takeover: response.server_no_context_takeover,
        client_no_context_takeover: response.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    };
    Some((
        write_element(response),
        PerMessageDeflate::new(Role::Server, agreed, config),
    ))
}

impl DeflateConfig {
    /// The parameters of the client's offer.
    fn offer_params(&self) -> Params {
        Params {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: (self.server_max_window_bits < MAX_WINDOW_BITS)
                .then_some(self.server_max_window_bits),
            // Always offered: the client's compressor honours any window the server asks
            // for (8 by sending uncompressed, see `PerMessageDeflate`). A value is a hint
            // that the client uses no more (RFC 7692 §7.1.2.2).
            client_max_window_bits: if self.client_max_window_bits < MAX_WINDOW_BITS {
                ClientBits::Bits(self.client_max_window_bits.max(8))
            } else {
                ClientBits::NoValue
            },
        }
    }

    /// The client's offer, for
    /// [`ClientHandshake::extension`](crate::handshake::ClientHandshake::extension)
    /// (RFC 7692 §5, §7.1): `permessage-deflate; client_max_window_bits` by default, with
    /// `server_no_context_takeover`, `client_no_context_takeover`,
    /// `server_max_window_bits=N` and `client_max_window_bits=N` as this configuration
    /// asks.
    ///
    /// ```
    /// use rfc6455::deflate::DeflateConfig;
    ///
    /// assert_eq!(DeflateConfig::default().offer(), "permessage-deflate; client_max_window_bits");
    /// assert_eq!(
    ///     DeflateConfig::default().server_no_context_takeover(true).server_max_window_bits(10).offer(),
    ///     "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
    ///      client_max_window_bits",
    /// );
    /// ```
    #[must_use]
    pub fn offer(&self) -> String {
        write_element(self.offer_params())
    }

    /// The client's side of the negotiation: checks the extensions the server's 101
    /// accepted ([`Response::extensions`](crate::handshake::Response::extensions)) against
    /// [`offer`](DeflateConfig::offer), and returns the extension to run on the client's
    /// [`Connection`](crate::Connection). `Ok(None)`: the server did not accept
    /// permessage-deflate; the connection runs without it.
    ///
    /// # Errors
    /// [`NegotiationError`] when the response breaks a rule of RFC 7692 §7 or §7.1: the
    /// client must then fail the connection (close it).
    pub fn client_accept<'a>(
        &self,
        accepted: impl IntoIterator<Item = Extension<'a>>,
    ) -> Result<Option<PerMessageDeflate>, NegotiationError> {
        let mut found = None;
        for extension in accepted.into_iter().filter(is_deflate) {
            if found.is_some() {
                return Err(NegotiationError::AcceptedTwice);
            }
            found = Some(Params::parse(extension.params(), Side::Response)?);
        }
        let Some(response) = found else {
            return Ok(None);
        };
        let agreed = check_response(self.offer_params(), response)?;
        Ok(Some(PerMessageDeflate::new(Role::Client, agreed, self)))
    }
}

/// The client's check of a response against its offer (RFC 7692 §7.1), and what they
/// agree on.
pub(crate) fn check_response(
    offer: Params,
    response: Params,
) -> Result<DeflateParams, NegotiationError> {
    if offer.server_no_context_takeover && !response.server_no_context_takeover {
        return Err(NegotiationError::ServerNoContextTakeoverMissing);
    }
    let server_max_window_bits = match (
        offer.server_max_window_bits,
        response.server_max_window_bits,
    ) {
        (Some(offered), Some(answered)) if answered <= offered => answered,
        (Some(_), _) => return Err(NegotiationError::ServerWindowTooLarge),
        // RFC 7692 §7.1.2.1: the server may use a smaller window than the client can take,
        // and say so.
        (None, answered) => answered.unwrap_or(MAX_WINDOW_BITS),
    };
    let client_max_window_bits = match offer.client_max_window_bits {
        ClientBits::Absent if response.client_max_window_bits != ClientBits::Absent => {
            return Err(NegotiationError::ClientWindowNotOffered);
        }
        // The smaller of our hint and the server's limit.
        _ => offer
            .client_max_window_bits
            .bits()
            .min(response.client_max_window_bits.bits()),
    };
    Ok(DeflateParams {
        server_no_context_takeover: response.server_no_context_takeover,
        // RFC 7692 §7.1.1.2: offered, it is the client's own promise; answered, the
        // server's demand. Either way the client resets its compressor.
        client_no_context_takeover: offer.client_no_context_takeover
            || response.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bits_grammar_section_7_1_2_1() {
        for (value, bits) in [("8", 8), ("9", 9), ("10", 10), ("15", 15)] {
            assert_eq!(window_bits(value), Some(bits));
        }
        for value in ["", "7", "16", "08", "010", "1", "+9", "9 ", "１０"] {
            assert_eq!(window_bits(value), None, "{value:?}");
        }
    }

    /// RFC 7692 §7.1.2.2: a response with `client_max_window_bits` to an offer without it
    /// fails. Our own offers always have it, so this is checked on a hand-made offer.
    #[test]
    fn client_window_not_offered_section_7_1_2_2() {
        let offer = Params::default();
        let response = Params {
            client_max_window_bits: ClientBits::Bits(10),
            ..Params::default()
        };
        assert_eq!(
            check_response(offer, response),
            Err(NegotiationError::ClientWindowNotOffered)
        );
        assert_eq!(
            check_response(offer, Params::default()),
            Ok(DeflateParams::DEFAULT)
        );
    }
}
