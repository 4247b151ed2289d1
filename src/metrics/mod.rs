//! What a worker measures: the clock, latency histograms, and per-thread CPU accounting; and
//! around every iteration, the drift canary and the interference on the workers' CPUs (from
//! /proc).

pub mod canary;
pub mod case_histograms;
pub mod clock;
pub mod clock_sync;
pub mod counters;
pub mod histogram;
pub mod interference;
pub mod memcpy;
pub mod memload;
pub mod ports;
pub mod procfs;
pub mod rusage;
pub mod sched;
pub mod schedule;
pub mod sequence;
pub mod series;
pub mod stages;
pub mod stamps;

/// `x` events over `elapsed_ns` as a rate per second (0 when nothing elapsed).
pub fn per_sec(x: u64, elapsed_ns: u64) -> f64 {
    if elapsed_ns == 0 {
        0.0
    } else {
        x as f64 * 1e9 / elapsed_ns as f64
    }
}
