//! Whether timestamps taken on two CPUs can be subtracted: the check `--stages` runs before it
//! measures. A stage such as the request's path starts with a stamp on the client's CPU and ends
//! with one on the server's, so the clock must be one clock on both: CLOCK_MONOTONIC backed by
//! a counter the CPUs share (the TSC on x86; the architected counter on arm64), and no stamp
//! read after another on the other CPU may be earlier than it.
//!
//! The check plays ping-pong through shared memory between two threads pinned to the pair's
//! CPUs: each side reads the clock, publishes the reading, and the other side, once it sees it,
//! reads its own clock, which must not be earlier. The smallest forward difference in each
//! direction bounds the skew between the two CPUs' clocks (skew ≤ one-way time); a negative
//! difference is an inversion, and any inversion refuses `--stages`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};

use crate::host::pinned::{self, PinnedThread};
use crate::metrics::clock::monotonic_ns;

/// Clock sources whose CLOCK_MONOTONIC comes from a counter shared by every CPU, read in user
/// space: `tsc` (x86), `kvm-clock` (KVM's paravirtual clock over the TSC), `arch_sys_counter`
/// (arm64). Others (`hpet`, `acpi_pm`, `jiffies`) are refused: each read is a system call or an
/// I/O access, too slow and too coarse for per-message stamps.
pub const SHARED_COUNTER_SOURCES: &[&str] = &["tsc", "kvm-clock", "arch_sys_counter"];

/// Round trips of the ping-pong per CPU pair.
pub const ROUNDS: u64 = 20_000;

/// Longest the ping-pong of one pair may take (a peer that never runs must not hang the check).
pub const PAIR_TIMEOUT: Duration = Duration::from_millis(500);

/// What the check found for one pair of CPUs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PairSync {
    /// The two CPUs (client's, server's).
    pub cpus: [usize; 2],
    /// Stamps passed in each direction.
    pub rounds: u64,
    /// Largest amount by which a stamp read after another (on the other CPU) was earlier; 0
    /// when the clock never went back.
    pub max_inversion_ns: u64,
    /// Smallest difference seen from the first CPU's stamp to the second's later read: the
    /// one-way time through shared memory plus the second clock's lead over the first. With
    /// `min_backward_ns` it bounds the skew: −min_backward ≤ lead ≤ min_forward.
    pub min_forward_ns: i64,
    /// Smallest difference seen from the second CPU to the first.
    pub min_backward_ns: i64,
}

/// The check recorded in run.json (`stage_clock`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClockSync {
    /// The kernel's clock source.
    pub clocksource: Option<String>,
    /// Each pair of CPUs the stamped cases use (pairs of one CPU need no check).
    pub pairs: Vec<PairSync>,
}

impl ClockSync {
    /// Why stamps from these CPUs cannot be subtracted, if they cannot.
    pub fn refusal(&self) -> Option<String> {
        let source = self.clocksource.as_deref().unwrap_or("unknown");
        if !SHARED_COUNTER_SOURCES.contains(&source) {
            return Some(format!(
                "--stages needs a clock source that every CPU reads from one shared counter ({}); \
                 this machine's is {source} (/sys/devices/system/clocksource/clocksource0/current_clocksource): \
                 switch it (echo tsc > .../current_clocksource, or clocksource=tsc on the kernel command line) \
                 or run without --stages",
                SHARED_COUNTER_SOURCES.join(", ")
            ));
        }
        self.pairs.iter().find(|p| p.max_inversion_ns > 0).map(|p| {
            format!(
                "--stages refused: CLOCK_MONOTONIC is not monotonic between CPUs {} and {} \
                 (a stamp read after another on the other CPU was {} ns earlier; clock source {source}); \
                 stages across these CPUs would be wrong. Run without --stages, or on CPUs whose clocks agree",
                p.cpus[0], p.cpus[1], p.max_inversion_ns
            )
        })
    }
}

/// The kernel's current clock source.
pub fn clocksource() -> Option<String> {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .ok()
        .map(|s| s.trim().to_string())
}

/// The shared lines of a ping-pong: a turn number and the stamp that goes with it.
#[derive(Default)]
struct Court {
    turn: AtomicU64,
    stamp: AtomicU64,
}

/// What one side saw: the smallest difference (own read − peer's stamp) and the largest
/// inversion.
#[derive(Clone, Copy, Debug)]
struct Seen {
    min_diff_ns: i64,
    max_inversion_ns: u64,
    rounds: u64,
}

/// One side of the ping-pong: serves on odd turns when `first`, on even ones otherwise. Each
/// turn: wait for the peer's turn, read the clock, compare with the peer's stamp, publish.
fn play(court: &Court, first: bool, rounds: u64, deadline: Instant) -> Seen {
    let mut seen = Seen {
        min_diff_ns: i64::MAX,
        max_inversion_ns: 0,
        rounds: 0,
    };
    let mut turn = u64::from(!first);
    while turn < 2 * rounds {
        if turn > 0 {
            let mut spins = 0u32;
            while court.turn.load(Ordering::Acquire) != turn {
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if spins % 4096 == 0 && Instant::now() > deadline {
                    return seen;
                }
            }
            let peer = court.stamp.load(Ordering::Relaxed);
            let now = monotonic_ns();
            let diff = now as i64 - peer as i64;
            seen.min_diff_ns = seen.min_diff_ns.min(diff);
            if diff < 0 {
                seen.max_inversion_ns = seen.max_inversion_ns.max(diff.unsigned_abs());
            }
            seen.rounds += 1;
        }
        court.stamp.store(monotonic_ns(), Ordering::Relaxed);
        court.turn.store(turn + 1, Ordering::Release);
        turn += 2;
    }
    seen
}

/// Plays `rounds` ping-pong rounds between a thread on `a` and one on `b`.
pub fn check_pair(a: usize, b: usize, rounds: u64) -> Result<PairSync> {
    let court = Arc::new(Court::default());
    let deadline = Instant::now() + PAIR_TIMEOUT;
    let side = |cpu: usize, first: bool| {
        let court = court.clone();
        PinnedThread::new(format!("lb-clock-{cpu}"), Some(cpu), move || {
            play(&court, first, rounds, deadline)
        })
    };
    let held = pinned::start(vec![side(a, true), side(b, false)])?;
    let mut seen = Vec::new();
    for h in held.release() {
        let s = h
            .join()
            .map_err(|_| anyhow!("a clock check thread panicked"))?
            .ok_or_else(|| anyhow!("a clock check thread was not released"))?;
        seen.push(s);
    }
    let (ab, ba) = (seen[1], seen[0]);
    if ab.rounds == 0 || ba.rounds == 0 {
        return Err(anyhow!(
            "the clock check between CPUs {a} and {b} made no progress within {PAIR_TIMEOUT:?}"
        ));
    }
    Ok(PairSync {
        cpus: [a, b],
        rounds: ab.rounds.min(ba.rounds),
        max_inversion_ns: ab.max_inversion_ns.max(ba.max_inversion_ns),
        min_forward_ns: ab.min_diff_ns,
        min_backward_ns: ba.min_diff_ns,
    })
}

/// Checks the clock source and every pair of distinct CPUs in `pairs`.
pub fn check(pairs: &[(usize, usize)]) -> Result<ClockSync> {
    let mut distinct: Vec<(usize, usize)> = pairs
        .iter()
        .filter(|(a, b)| a != b)
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut out = ClockSync {
        clocksource: clocksource(),
        pairs: Vec::new(),
    };
    for (a, b) in distinct {
        out.pairs.push(check_pair(a, b, ROUNDS)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(source: &str, inversion: u64) -> ClockSync {
        ClockSync {
            clocksource: Some(source.into()),
            pairs: vec![PairSync {
                cpus: [0, 1],
                rounds: 10,
                max_inversion_ns: inversion,
                min_forward_ns: 100,
                min_backward_ns: 120,
            }],
        }
    }

    #[test]
    fn a_clock_without_a_shared_counter_or_with_an_inversion_is_refused_with_the_fix() {
        assert_eq!(sync("tsc", 0).refusal(), None);
        let hpet = sync("hpet", 0).refusal().unwrap();
        assert!(
            hpet.contains("hpet") && hpet.contains("clocksource=tsc") && hpet.contains("--stages"),
            "{hpet}"
        );
        let back = sync("tsc", 35).refusal().unwrap();
        assert!(
            back.contains("CPUs 0 and 1") && back.contains("35 ns"),
            "{back}"
        );
    }

    #[test]
    fn the_ping_pong_passes_every_stamp_both_ways_and_sees_no_inversion() {
        // Unpinned threads on whatever CPUs there are (on one CPU they take turns at each time
        // slice, hence few rounds): the stamps still go both ways.
        let court = Arc::new(Court::default());
        let deadline = Instant::now() + Duration::from_secs(20);
        let c2 = court.clone();
        let t = std::thread::spawn(move || play(&c2, false, 50, deadline));
        let a = play(&court, true, 50, deadline);
        let b = t.join().unwrap();
        assert_eq!((a.rounds, b.rounds), (49, 50), "the first side starts");
        assert_eq!(a.max_inversion_ns + b.max_inversion_ns, 0);
        assert!(a.min_diff_ns >= 0 && b.min_diff_ns >= 0);
    }
}
