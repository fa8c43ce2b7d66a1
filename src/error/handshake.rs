/// The opening handshake (§4) failed. (Filled in by the handshake module.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Placeholder.
    #[error("placeholder")]
    Placeholder,
}
