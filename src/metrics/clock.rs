//! The clock behind every timestamp, and the timer self-check recorded with every run.
//!
//! Hot loops are generic over [`Clock`] so tests can drive them with [`MockClock`] and the
//! real build compiles to a bare `clock_gettime(CLOCK_MONOTONIC)` (a vDSO call, ~20 ns here).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A monotonic nanosecond clock.
pub trait Clock: Send + Sync {
    /// Nanoseconds since an arbitrary fixed point.
    fn now_ns(&self) -> u64;
}

/// CLOCK_MONOTONIC, read through the vDSO.
#[derive(Clone, Copy, Debug, Default)]
pub struct MonotonicClock;

impl Clock for MonotonicClock {
    #[inline(always)]
    fn now_ns(&self) -> u64 {
        monotonic_ns()
    }
}

/// Reads CLOCK_MONOTONIC in nanoseconds.
#[inline(always)]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_MONOTONIC always exists on Linux,
    // so clock_gettime cannot fail or write out of bounds.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A clock that only moves when told to; shared between threads by reference.
#[derive(Debug, Default)]
pub struct MockClock {
    now: AtomicU64,
}

impl MockClock {
    /// A mock clock at `start_ns`.
    pub fn new(start_ns: u64) -> MockClock {
        MockClock {
            now: AtomicU64::new(start_ns),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, ns: u64) {
        self.now.fetch_add(ns, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, ns: u64) {
        self.now.store(ns, Ordering::SeqCst);
    }
}

impl Clock for MockClock {
    fn now_ns(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// The timer self-check: what one timestamp costs and how fine it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimerCheck {
    /// The clock used for every latency.
    pub clock: String,
    /// The kernel clock source behind it (tsc, kvm-clock, hpet, ...).
    pub clocksource: Option<String>,
    /// Mean cost of one clock read, in nanoseconds.
    pub read_cost_ns: f64,
    /// Resolution reported by clock_getres, in nanoseconds.
    pub resolution_ns: u64,
    /// Smallest non-zero difference between consecutive reads, in nanoseconds.
    pub min_step_ns: u64,
}

/// Measures the clock: `reads` back-to-back reads (100 000 takes about 2 ms).
pub fn check_timer(reads: u32) -> TimerCheck {
    let reads = reads.max(2);
    let start = monotonic_ns();
    let mut prev = start;
    let mut min_step = u64::MAX;
    for _ in 0..reads {
        let t = monotonic_ns();
        let d = t - prev;
        if d > 0 && d < min_step {
            min_step = d;
        }
        prev = t;
    }
    let total = prev - start;
    let mut res = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `res` is a valid, writable timespec; CLOCK_MONOTONIC exists.
    unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut res) };
    TimerCheck {
        clock: "CLOCK_MONOTONIC".into(),
        clocksource: std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .ok()
        .map(|s| s.trim().to_string()),
        read_cost_ns: total as f64 / f64::from(reads),
        resolution_ns: res.tv_sec as u64 * 1_000_000_000 + res.tv_nsec as u64,
        min_step_ns: if min_step == u64::MAX { 0 } else { min_step },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_never_goes_back() {
        let c = MonotonicClock;
        let mut prev = c.now_ns();
        for _ in 0..10_000 {
            let t = c.now_ns();
            assert!(t >= prev);
            prev = t;
        }
    }

    #[test]
    fn mock_clock_moves_only_when_told() {
        let c = MockClock::new(10);
        assert_eq!(c.now_ns(), 10);
        c.advance(5);
        assert_eq!(c.now_ns(), 15);
        c.set(100);
        assert_eq!(c.now_ns(), 100);
    }

    #[test]
    fn timer_check_reports_a_positive_cost_and_resolution() {
        let t = check_timer(10_000);
        assert!(t.read_cost_ns > 0.0);
        assert!(t.resolution_ns >= 1);
        assert!(t.min_step_ns >= 1);
    }
}
