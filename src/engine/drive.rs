//! How the runner steers the workers ([`Control`]) and what every engine implements
//! ([`Engine`]): drive a thread's flows until they are done or the runner stops them.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use anyhow::Result;

use super::flow::FlowSlot;
use crate::metrics::rusage::ThreadUsage;
use crate::spec::EngineKind;

/// What the runner wants the workers to do, shared between them.
#[derive(Debug, Default)]
pub struct Control {
    state: AtomicU8,
}

/// The states of [`Control`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Keep going.
    Running,
    /// The clients are done: servers finish what they are waiting for and return normally.
    WindDown,
    /// Stop now and report failure (watchdog, Ctrl-C, a failed peer).
    Abort,
}

impl Control {
    /// The current state.
    #[inline]
    pub fn state(&self) -> RunState {
        match self.state.load(Ordering::Relaxed) {
            0 => RunState::Running,
            1 => RunState::WindDown,
            _ => RunState::Abort,
        }
    }

    /// Moves to a later state (never back).
    pub fn set(&self, state: RunState) {
        let v = match state {
            RunState::Running => 0,
            RunState::WindDown => 1,
            RunState::Abort => 2,
        };
        self.state.fetch_max(v, Ordering::SeqCst);
    }
}

/// The error an engine returns when the runner aborted it.
#[derive(Debug, thiserror::Error)]
#[error("stopped by the runner (watchdog timeout, interruption or a failed peer)")]
pub struct Aborted;

/// Checks the control after a flow could not progress: `Ok(true)` to return normally.
#[inline]
pub fn should_return(control: &Control) -> Result<bool> {
    match control.state() {
        RunState::Running => Ok(false),
        RunState::WindDown => Ok(true),
        RunState::Abort => Err(Aborted.into()),
    }
}

/// An engine: drives a thread's flows until they are done or the runner stops them.
pub trait Engine: Send + Sync {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Largest number of flows one thread can drive (the blocking engine waits on one fd).
    fn max_flows_per_thread(&self) -> usize {
        usize::MAX
    }

    /// Runs `slots` until every flow is done, the runner winds down, or it aborts. The slots are
    /// handed back in the same order (an engine may move them into tasks meanwhile).
    /// `tick` bounds one sleep, so the control is checked at least that often.
    ///
    /// Returns the CPU usage of helper threads the engine started (tokio-mt's runtime workers),
    /// which the worker adds to its own; engines that run on the calling thread return zero.
    fn drive(
        &self,
        slots: &mut Vec<FlowSlot>,
        control: &Control,
        tick: Duration,
    ) -> Result<ThreadUsage>;
}
