//! Which end of the connection this endpoint is.

/// The role an endpoint plays (§1.3, §5.1).
///
/// The role decides the masking rules: a client masks every frame it sends and a server
/// never does, and each rejects frames from its peer that break the rule (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The endpoint that sent the opening handshake request.
    Client,
    /// The endpoint that answered the opening handshake with `101 Switching Protocols`.
    Server,
}

impl Role {
    /// The role of the other endpoint.
    #[must_use]
    pub const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// Whether frames *sent* by this role are masked: §5.1, "a client MUST mask all
    /// frames that it sends to the server" and "a server MUST NOT mask any frames that it
    /// sends to the client".
    #[must_use]
    pub const fn masks_outgoing(self) -> bool {
        matches!(self, Role::Client)
    }
}
