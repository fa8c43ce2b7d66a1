//! Frame codec (§5).

mod mask;

pub use mask::apply_mask;
