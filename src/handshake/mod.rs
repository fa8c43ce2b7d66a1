//! Opening handshake (§4).
