//! What a worker measures: the clock, latency histograms, and per-thread CPU accounting; and
//! around every iteration, the drift canary and the interference on the workers' CPUs (from
//! /proc).

#[doc(hidden)]
pub mod canary;
pub mod case_histograms;
#[doc(hidden)]
pub mod clock;
#[doc(hidden)]
pub mod clock_sync;
pub mod counters;
pub mod histogram;
#[doc(hidden)]
pub mod interference;
#[doc(hidden)]
pub mod memcpy;
#[doc(hidden)]
pub mod memload;
#[doc(hidden)]
pub mod ports;
#[doc(hidden)]
pub mod procfs;
#[doc(hidden)]
pub mod rusage;
#[doc(hidden)]
pub mod sched;
#[doc(hidden)]
pub mod schedule;
#[doc(hidden)]
pub mod sequence;
#[doc(hidden)]
pub mod series;
#[doc(hidden)]
pub mod service;
#[doc(hidden)]
pub mod stages;
#[doc(hidden)]
pub mod stamps;
pub mod tcp_info;

/// `x` events over `elapsed_ns` as a rate per second (0 when nothing elapsed).
pub fn per_sec(x: u64, elapsed_ns: u64) -> f64 {
    if elapsed_ns == 0 {
        0.0
    } else {
        x as f64 * 1e9 / elapsed_ns as f64
    }
}
