//! What a canary records: its settings ([`CanaryConfig`]) and its figures per probe; shared by
//! the probe threads ([`super::protocol`]) and the canary's front door.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How much each probe does: counts and time budgets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CanaryConfig {
    /// Recorded round trips of the spin probe.
    pub spin_round_trips: u32,
    /// Spin round trips timed together as one sample (their mean): a single ~100 ns round trip
    /// is only a few clock quanta long.
    pub spin_batch: u32,
    /// Longest the spin probe may take.
    pub spin_budget: Duration,
    /// Recorded round trips of the wake-up probe.
    pub wake_round_trips: u32,
    /// Longest the wake-up probe may take.
    pub wake_budget: Duration,
    /// Round trips run first and not recorded, per probe.
    pub warmup_round_trips: u32,
}

impl Default for CanaryConfig {
    /// 2048 spin round trips in samples of 16 (0.1–1 ms at this machine's 50–480 ns) and 150
    /// wake-up round trips (0.1 ms in the fast state, ~6 ms at 40 µs), each capped (5 ms,
    /// 20 ms) so that a canary stays under ~25 ms even on a bad minute.
    fn default() -> Self {
        CanaryConfig {
            spin_round_trips: 2048,
            spin_batch: 16,
            spin_budget: Duration::from_millis(5),
            wake_round_trips: 150,
            wake_budget: Duration::from_millis(20),
            warmup_round_trips: 16,
        }
    }
}

/// The figures of one probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeFigures {
    /// Median round trip in nanoseconds (of the batch means, when batched); `None` when no
    /// round trip completed.
    pub p50_ns: Option<u64>,
    /// 10th-percentile round trip (likewise).
    #[serde(default)]
    pub p10_ns: Option<u64>,
    /// 90th-percentile round trip (likewise).
    pub p90_ns: Option<u64>,
    /// Mean round trip (likewise): for a two-state probe it moves with the share of slow round
    /// trips, where the median jumps between the states.
    #[serde(default)]
    pub mean_ns: Option<u64>,
    /// Round trips recorded (warm-up excluded).
    pub round_trips: u32,
    /// Round trips asked for.
    pub asked: u32,
    /// Wall time of the probe including its warm-up, in nanoseconds.
    pub elapsed_ns: u64,
    /// True when the time budget ran out before the round-trip count was reached.
    pub timed_out: bool,
}

impl ProbeFigures {
    /// True when the budget ended the probe before half its round trips: its p50 rests on too
    /// few values (a probe cut short later still gives a usable p50).
    pub fn incomplete(&self) -> bool {
        u64::from(self.round_trips) * 2 < u64::from(self.asked)
    }
}

/// One canary: both probes on one pair of CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CanaryFigures {
    /// The initiator's and the responder's CPU.
    pub cpus: [usize; 2],
    /// The cache-line ping-pong.
    pub spin: ProbeFigures,
    /// The futex wake-up ping-pong.
    pub wake: ProbeFigures,
    /// Wall time of the whole canary, thread start included, in nanoseconds.
    pub elapsed_ns: u64,
}

impl CanaryFigures {
    /// True when either probe recorded under half its round trips.
    pub fn incomplete(&self) -> bool {
        self.spin.incomplete() || self.wake.incomplete()
    }
}

/// Sorts `samples` and reads its quantiles (nearest rank) and mean.
pub(super) fn figures(samples: &mut [u64], elapsed: Duration, timed_out: bool) -> ProbeFigures {
    samples.sort_unstable();
    let n = samples.len() as u64;
    ProbeFigures {
        p50_ns: nearest_rank(samples, 0.5),
        p10_ns: nearest_rank(samples, 0.1),
        p90_ns: nearest_rank(samples, 0.9),
        mean_ns: (n > 0).then(|| samples.iter().sum::<u64>() / n),
        round_trips: samples.len() as u32,
        asked: samples.len() as u32,
        elapsed_ns: elapsed.as_nanos() as u64,
        timed_out,
    }
}

/// The nearest-rank `q` quantile of sorted values: the smallest value with at least `q` of the
/// values at or below it; `None` when empty.
pub fn nearest_rank(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}
