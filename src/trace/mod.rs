//! Kernel tracepoints and CPU sampling on the workers' CPUs (`--trace`, `--profile`): each round
//! trip rebuilt from perf tracepoint events into its kernel stages, and CPU samples attributed to
//! network-stack categories (after Cai et al., "Understanding Host Network Stack Overheads",
//! SIGCOMM 2021).
//!
//! Free of loopbench types: callers pass CPUs, thread ids and events, and get plain data back.
//! The files, one job each: where tracefs is and what a tracepoint's payload looks like
//! ([`tracefs`], [`decode`]); typed events and their fixture text ([`events`]); opening,
//! filtering and draining tracepoints ([`tracer`]) and call-chain samples ([`profiler`]); the
//! pure part, events → round trips → stage percentiles ([`timeline`], [`stages`], [`summary`]);
//! kernel symbols and the category table ([`kallsyms`], [`categories`]); what can stop either
//! from starting ([`error`]).

pub mod categories;
pub mod decode;
pub mod error;
pub mod events;
pub mod kallsyms;
pub mod profiler;
pub mod stages;
pub mod summary;
pub mod timeline;
pub mod tracefs;
pub mod tracer;

pub use error::TraceError;

#[cfg(test)]
mod kernel_tests;
