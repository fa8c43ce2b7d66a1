//! Close status codes (§7.4).

use core::fmt;

/// A close status code (§7.4), as carried in the first two bytes of a close frame.
///
/// This is a thin wrapper over the `u16` on the wire: any value can be held, and
/// [`CloseCode::is_valid_on_wire`] tells whether a peer may send it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure; the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutting down, page navigated away).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the endpoint is terminating the connection due to a protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: reserved; no status code was present. Never sent on the wire (§7.4.1).
    pub const NO_STATUS_RECEIVED: CloseCode = CloseCode(1005);
    /// 1006: reserved; the connection was closed abnormally, without a close frame.
    /// Never sent on the wire (§7.4.1).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's data was inconsistent with its type (e.g. non-UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition that prevented it from fulfilling the
    /// request.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1015: reserved; the TLS handshake failed. Never sent on the wire (§7.4.1).
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether a peer may put this code in a close frame.
    ///
    /// This is the single place where the §7.4 rules live:
    /// - 0-999 are not used (§7.4.2);
    /// - 1000-1003 and 1007-1011 are defined by §7.4.1; 1012-1014 were registered with
    ///   IANA later (service restart, try again later, bad gateway) and are accepted;
    /// - 1004 is reserved, and 1005, 1006 and 1015 "MUST NOT be set as a status code in a
    ///   Close control frame by an endpoint" (§7.4.1);
    /// - 1016-2999 are reserved for future revisions and extensions (§7.4.2);
    /// - 3000-3999 are for libraries and frameworks, 4000-4999 for private use (§7.4.2);
    /// - 5000 and above are not defined.
    #[must_use]
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::CloseCode;

    #[test]
    fn wire_validity_follows_section_7_4() {
        for code in 0..=u16::MAX {
            let expected = (1000..=1003).contains(&code)
                || (1007..=1014).contains(&code)
                || (3000..=4999).contains(&code);
            assert_eq!(CloseCode(code).is_valid_on_wire(), expected, "code {code}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!CloseCode(bad).is_valid_on_wire(), "{bad}");
        }
    }
}
