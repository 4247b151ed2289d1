//! What a worker measures: the clock, latency histograms, and per-thread CPU accounting.

pub mod clock;
pub mod counters;
pub mod histogram;
pub mod memcpy;
pub mod memload;
pub mod rusage;
pub mod sched;
pub mod sequence;
pub mod series;
