//! loopbench measures what the Linux loopback path costs: pinned client and server workers
//! exchange TCP, UDP, Unix-socket, pipe and shared-memory traffic, and every result is stored as
//! HDR histograms and schema-versioned JSON.
//!
//! The data path: a [`spec::Spec`] (one case) → [`run::plan::Plan`] (validated, placed,
//! interleaved) → [`run::worker`] threads driving a [`transport`] × [`engine`] × [`workload`] →
//! [`store::record::RunRecord`] and histogram files.

#![warn(missing_docs)]

pub mod compare;
#[cfg(feature = "netlink")]
pub mod doctor;
pub mod embed;
pub mod engine;
pub mod error;
#[cfg(feature = "history")]
pub mod history;
pub mod host;
pub mod loopback;
pub mod metrics;
pub mod report;
pub mod run;
pub mod spec;
pub mod stats;
pub mod store;
#[cfg(feature = "study")]
pub mod study;
#[cfg(feature = "cli")]
pub mod suite;
pub mod text;
pub mod trace;
pub mod transport;
pub mod workload;

#[cfg(feature = "cli")]
pub mod cli;

// The library's entry points, where users look for them first.
#[cfg(feature = "criterion")]
pub use embed::criterion;
pub use embed::{custom, pair};
pub use error::Error;
pub use run::session;
pub use spec::{framing, handler};
#[cfg(feature = "cli")]
pub mod schema;
