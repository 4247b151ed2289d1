//! What library users embed in their own code: specs built in code ([`Spec::builder`](crate::spec::Spec::builder)), a
//! pinned client/server pair for their own loops, custom protocols over loopbench's connections,
//! and criterion routines.

pub mod builder;
#[cfg(feature = "criterion")]
pub mod criterion;
pub mod custom;
pub mod pair;
#[doc(hidden)]
pub mod tails;
