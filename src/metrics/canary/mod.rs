//! The drift canary: a short fixed probe on a case's two CPUs, run right before every measured
//! iteration, whose figures say how fast this machine is right now.
//!
//! Two ping-pongs between a thread pinned on `cpus[0]` (the initiator, which times) and one pinned
//! on `cpus[1]` (the responder), one after the other on the same two threads:
//!
//! - **spin**: a sequence number bounced through two cache lines by busy-polling threads. No
//!   kernel: it moves when the hypervisor moves a vCPU or makes two share a core (the shm floor).
//! - **wake**: the same through two futex words, each side sleeping in FUTEX_WAIT until the other
//!   wakes it: two cross-CPU wake-ups per round trip, the part a blocking cross-core case pays
//!   and a hypervisor makes expensive (IPI, vCPU halt and resume).
//!
//! Each probe is bounded by a round-trip count and a time budget, whichever ends first; the
//! first [`CanaryConfig::warmup_round_trips`] of each are not recorded. Spin round trips are
//! timed in batches ([`CanaryConfig::spin_batch`]), wake-ups one by one; the loops read the clock
//! once per sample and push into pre-sized vectors: no allocation, no lock. With both CPUs the
//! same (same-core cases) the spinning side yields instead of spinning.
//!
//! The threads start through a [`PinnedPair`]: [`HostThreads`] (loopbench's pinned-thread
//! starter, [`crate::host::pinned`]) or, in tests, any closure.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::host::pinned::{PinnedThread, start};
pub use figures::{CanaryConfig, CanaryFigures, ProbeFigures, nearest_rank};
use protocol::{Shared, initiate, respond};

mod figures;
mod protocol;

/// A job to run on a pinned thread.
pub type PinnedJob = Box<dyn FnOnce() + Send + 'static>;

/// Runs two jobs at once, `jobs[i]` pinned on `cpus[i]`, and returns when both have finished;
/// an error means at least one did not run.
pub trait PinnedPair {
    /// Runs both jobs, each on its CPU.
    fn run_pinned(&self, cpus: [usize; 2], jobs: [PinnedJob; 2]) -> Result<()>;
}

impl<F> PinnedPair for F
where
    F: Fn([usize; 2], [PinnedJob; 2]) -> Result<()>,
{
    fn run_pinned(&self, cpus: [usize; 2], jobs: [PinnedJob; 2]) -> Result<()> {
        self(cpus, jobs)
    }
}

/// The starter every measured thread uses ([`crate::host::pinned::start`]): both threads pinned
/// and checked before either runs, released together.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostThreads;

impl PinnedPair for HostThreads {
    fn run_pinned(&self, cpus: [usize; 2], jobs: [PinnedJob; 2]) -> Result<()> {
        let [initiator, responder] = jobs;
        let held = start(vec![
            PinnedThread::new("lb-canary-a", Some(cpus[0]), initiator),
            PinnedThread::new("lb-canary-b", Some(cpus[1]), responder),
        ])?;
        for handle in held.release() {
            handle
                .join()
                .map_err(|_| anyhow!("a canary thread panicked"))?;
        }
        Ok(())
    }
}

/// Runs the canary on `cpus` through `starter` and returns its figures.
pub fn run_canary(
    starter: &impl PinnedPair,
    cpus: [usize; 2],
    config: &CanaryConfig,
) -> Result<CanaryFigures> {
    let started = Instant::now();
    let shared = Arc::new(Shared::default());
    let same_cpu = cpus[0] == cpus[1];
    // The responder gives up on its own once the initiator can no longer need it.
    let give_up = started
        + protocol::START_BUDGET
        + config.spin_budget
        + config.wake_budget
        + protocol::SLEEP_TICK * 4;
    let (s, cfg) = (shared.clone(), *config);
    let initiator: PinnedJob = Box::new(move || initiate(&s, &cfg, same_cpu));
    let s = shared.clone();
    let responder: PinnedJob = Box::new(move || respond(&s, same_cpu, give_up));
    let outcome = starter.run_pinned(cpus, [initiator, responder]);
    shared.stop.store(true, Ordering::SeqCst);
    outcome.with_context(|| format!("canary on CPUs {}, {}", cpus[0], cpus[1]))?;
    let Some((spin, wake)) = shared
        .result
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    else {
        bail!(
            "canary on CPUs {}, {}: the starter returned without running the probe threads",
            cpus[0],
            cpus[1]
        );
    };
    Ok(CanaryFigures {
        cpus,
        spin,
        wake,
        elapsed_ns: started.elapsed().as_nanos() as u64,
    })
}

#[cfg(test)]
mod tests;
