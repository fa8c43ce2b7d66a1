//! Incremental UTF-8 validation (§8.1) and validated text. (Stub: being written.)

/// Validated UTF-8 over `Bytes`. (Stub.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Utf8Bytes(bytes::Bytes);

/// Incremental validator. (Stub.)
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {}
