use alloc::vec::Vec;

use super::MAX_CONTROL_PAYLOAD;
use crate::{CloseCode, ProtocolError, UsageError};

/// Parses the payload of a close frame (§5.5.1): empty, or a 2-byte big-endian status
/// code followed by a UTF-8 reason.
///
/// Returns `None` for an empty payload (no status code: the application sees 1005,
/// §7.1.5), or the code and the reason.
///
/// # Errors
/// - [`ProtocolError::CloseFrameOneByte`] for a 1-byte payload (1002);
/// - [`ProtocolError::InvalidCloseCode`] for a code that may not be sent (§7.4,
///   [`CloseCode::is_valid_on_wire`]) (1002);
/// - [`ProtocolError::InvalidCloseReason`] for a reason that is not UTF-8 (1007).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::CloseFrameOneByte),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            // The reason is at most 123 bytes: the standard validator is as fast as any.
            let reason =
                core::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Appends a close payload (§5.5.1) to `out`: `None` for an empty body, or a status code
/// and a reason.
///
/// # Errors
/// - [`UsageError::InvalidCloseCode`] for a code that may not be sent (§7.4.1: 1005, 1006
///   and 1015 "MUST NOT be set as a status code in a Close control frame"), checked by
///   [`CloseCode::is_valid_on_wire`];
/// - [`UsageError::ControlPayloadTooLarge`] if code and reason exceed 125 bytes (§5.5).
///
/// Nothing is appended on error.
pub fn encode_close_payload(
    close: Option<(CloseCode, &str)>,
    out: &mut Vec<u8>,
) -> Result<(), UsageError> {
    let Some((code, reason)) = close else {
        return Ok(());
    };
    if !code.is_valid_on_wire() {
        return Err(UsageError::InvalidCloseCode(code.0));
    }
    if 2 + reason.len() > MAX_CONTROL_PAYLOAD {
        return Err(UsageError::ControlPayloadTooLarge);
    }
    out.extend_from_slice(&code.0.to_be_bytes());
    out.extend_from_slice(reason.as_bytes());
    Ok(())
}
