//! What library users embed in their own code: a pinned client/server pair for their own loops,
//! custom protocols over loopbench's connections, and criterion routines.

#[cfg(feature = "criterion")]
pub mod criterion;
pub mod custom;
pub mod pair;
