//! The probe protocol: the initiator times round trips through two cache lines (spinning) and
//! two futex words (sleeping); the responder echoes them. Both sides are bounded by deadlines, so
//! a missing or stalled peer ends the probe instead of hanging it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::figures::{CanaryConfig, ProbeFigures, figures};
use crate::host::futex;

/// Sent instead of a sequence number: the probe is over.
const END: u32 = u32::MAX;
/// Longest single futex sleep before the sleeper looks at its deadline again.
pub(super) const SLEEP_TICK: Duration = Duration::from_millis(2);
/// How long the initiator waits for the responder thread to show up.
pub(super) const START_BUDGET: Duration = Duration::from_millis(50);

/// A 32-bit word alone on its cache lines (128 bytes: the adjacent-line prefetcher pairs lines).
#[repr(align(128))]
#[derive(Default)]
struct Line(AtomicU32);

/// Memory shared by the two probe threads.
#[derive(Default)]
pub(super) struct Shared {
    spin_ping: Line,
    spin_pong: Line,
    wake_ping: Line,
    wake_pong: Line,
    ready: AtomicBool,
    pub(super) stop: AtomicBool,
    pub(super) result: Mutex<Option<(ProbeFigures, ProbeFigures)>>,
}

/// The initiator's side: waits for the responder, runs both probes, stores the figures.
pub(super) fn initiate(shared: &Shared, cfg: &CanaryConfig, same_cpu: bool) {
    let start_deadline = Instant::now() + START_BUDGET;
    while !shared.ready.load(Ordering::Acquire) {
        if Instant::now() > start_deadline {
            let none = |asked| ProbeFigures {
                asked,
                timed_out: true,
                ..ProbeFigures::default()
            };
            let both = (none(cfg.spin_round_trips), none(cfg.wake_round_trips));
            *shared.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(both);
            return;
        }
        relax(same_cpu);
    }
    let warmup = cfg.warmup_round_trips;
    let spin_shape = (cfg.spin_round_trips, cfg.spin_batch);
    let spin = timed_probe(warmup, spin_shape, cfg.spin_budget, |seq, deadline| {
        spin_round_trip(shared, seq, deadline, same_cpu)
    });
    shared.spin_ping.0.store(END, Ordering::Release);
    let wake_shape = (cfg.wake_round_trips, 1);
    let wake = timed_probe(warmup, wake_shape, cfg.wake_budget, |seq, deadline| {
        wake_round_trip(shared, seq, deadline)
    });
    shared.wake_ping.0.store(END, Ordering::Release);
    futex::wake_one(&shared.wake_ping.0);
    *shared.result.lock().unwrap_or_else(|p| p.into_inner()) = Some((spin, wake));
}

/// Runs `warmup` round trips, then `count` more timed in samples of `batch` (the sample is their
/// mean), within `budget`; `round_trip(seq, deadline)` returns false when the deadline passed
/// while it waited. `shape` is (count, batch).
fn timed_probe(
    warmup: u32,
    shape: (u32, u32),
    budget: Duration,
    mut round_trip: impl FnMut(u32, Instant) -> bool,
) -> ProbeFigures {
    let (count, batch) = (shape.0.min(END - 1 - warmup), shape.1.max(1));
    let mut samples: Vec<u64> = Vec::with_capacity((count / batch) as usize);
    let start = Instant::now();
    let deadline = start + budget;
    let (mut t0, mut in_batch, mut recorded) = (start, 0u32, 0u32);
    let mut timed_out = false;
    for seq in 1..=warmup + count {
        if !round_trip(seq, deadline) {
            timed_out = true;
            break;
        }
        if seq <= warmup {
            if seq == warmup {
                t0 = Instant::now();
            }
            continue;
        }
        in_batch += 1;
        if in_batch == batch || seq == warmup + count {
            let t1 = Instant::now();
            samples.push((t1 - t0).as_nanos() as u64 / u64::from(in_batch));
            (t0, recorded, in_batch) = (t1, recorded + in_batch, 0);
            if t1 > deadline && seq < warmup + count {
                timed_out = true;
                break;
            }
        }
    }
    let mut f = figures(&mut samples, start.elapsed(), timed_out);
    (f.round_trips, f.asked) = (recorded, count);
    f
}

/// One spin round trip as the initiator; false if `deadline` passed while waiting.
fn spin_round_trip(shared: &Shared, seq: u32, deadline: Instant, same_cpu: bool) -> bool {
    shared.spin_ping.0.store(seq, Ordering::Release);
    let mut spins = 0u32;
    while shared.spin_pong.0.load(Ordering::Acquire) != seq {
        spins = spins.wrapping_add(1);
        if spins % 1024 == 0 && Instant::now() > deadline {
            return false;
        }
        relax(same_cpu);
    }
    true
}

/// One wake-up round trip as the initiator; false if `deadline` passed while waiting.
fn wake_round_trip(shared: &Shared, seq: u32, deadline: Instant) -> bool {
    shared.wake_ping.0.store(seq, Ordering::Release);
    futex::wake_one(&shared.wake_ping.0);
    loop {
        let seen = shared.wake_pong.0.load(Ordering::Acquire);
        if seen == seq {
            return true;
        }
        // Any return (woken, value changed, timed out, signal) leads to a fresh look.
        let _ = futex::wait(&shared.wake_pong.0, seen, Some(SLEEP_TICK));
        if Instant::now() > deadline {
            return shared.wake_pong.0.load(Ordering::Acquire) == seq;
        }
    }
}

/// The responder's side: echoes every sequence number, spinning then sleeping, until END, the
/// stop flag or `give_up`.
pub(super) fn respond(shared: &Shared, same_cpu: bool, give_up: Instant) {
    shared.ready.store(true, Ordering::Release);
    let mut last = 0;
    let mut spins = 0u32;
    loop {
        let v = shared.spin_ping.0.load(Ordering::Acquire);
        if v == END {
            break;
        }
        if v != last {
            shared.spin_pong.0.store(v, Ordering::Release);
            last = v;
            continue;
        }
        spins = spins.wrapping_add(1);
        if spins % 1024 == 0 && (shared.stop.load(Ordering::Relaxed) || Instant::now() > give_up) {
            return;
        }
        relax(same_cpu);
    }
    let mut last = 0;
    loop {
        let v = shared.wake_ping.0.load(Ordering::Acquire);
        if v == END {
            return;
        }
        if v != last {
            shared.wake_pong.0.store(v, Ordering::Release);
            futex::wake_one(&shared.wake_pong.0);
            last = v;
            continue;
        }
        let _ = futex::wait(&shared.wake_ping.0, last, Some(SLEEP_TICK));
        if shared.stop.load(Ordering::Relaxed) || Instant::now() > give_up {
            return;
        }
    }
}

/// Waits a little without giving up the CPU, or yields it when both threads share one.
fn relax(same_cpu: bool) {
    if same_cpu {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}
