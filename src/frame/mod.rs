//! Frame codec (§5).
