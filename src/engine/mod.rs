//! Engines: how a worker waits for its connections. Workloads are state machines ([`Flow`]) that
//! make as much progress as they can and say what they wait for; an engine decides what waiting
//! means (sleep in read, busy-poll, epoll, an async reactor). One file per engine; the table in
//! [`engine_for`] is the only place that knows them all.

pub mod blocking;
mod drive;
pub mod epoll;
mod flow;
pub mod io_uring;
pub mod spin;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(not(feature = "tokio"))]
use std::time::Duration;

#[cfg(not(feature = "tokio"))]
use anyhow::Result;

pub use drive::{Aborted, Control, Engine, RunState, should_return};
pub use flow::{Flow, FlowReport, FlowSlot, Retired, Wait};

use crate::error::ConfigError;
#[cfg(not(feature = "tokio"))]
use crate::metrics::rusage::ThreadUsage;
use crate::spec::{EngineChoice, EngineKind};

/// The engine table: the engine a case names, with its options.
pub fn engine_for(choice: EngineChoice) -> Box<dyn Engine> {
    match choice.kind {
        EngineKind::Blocking => Box::new(blocking::Blocking),
        EngineKind::Spin => Box::new(spin::Spin),
        EngineKind::Epoll => Box::new(epoll::Epoll),
        #[cfg(feature = "tokio")]
        EngineKind::Tokio => Box::new(tokio::Tokio {
            multi_thread: false,
        }),
        #[cfg(feature = "tokio")]
        EngineKind::TokioMt => Box::new(tokio::Tokio { multi_thread: true }),
        #[cfg(not(feature = "tokio"))]
        EngineKind::Tokio => Box::new(NotBuilt(EngineKind::Tokio)),
        #[cfg(not(feature = "tokio"))]
        EngineKind::TokioMt => Box::new(NotBuilt(EngineKind::TokioMt)),
        EngineKind::IoUring => Box::new(io_uring::IoUring {
            settings: choice.uring,
        }),
    }
}

/// Checks that this host lets the engine run (io_uring can be disabled by a sysctl or refused
/// by a seccomp filter), before anything is measured; the error names the reason and the fix.
pub fn check_host(choice: EngineChoice) -> Result<(), ConfigError> {
    match choice.kind {
        EngineKind::IoUring => {
            io_uring::check(&choice.uring).map_err(|e| ConfigError::EngineUnavailable {
                engine: choice.to_string(),
                reason: e.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// An engine this build leaves out; validation refuses it first, this is the last line.
#[cfg(not(feature = "tokio"))]
struct NotBuilt(EngineKind);

#[cfg(not(feature = "tokio"))]
impl Engine for NotBuilt {
    fn kind(&self) -> EngineKind {
        self.0
    }

    fn drive(&self, _: &mut Vec<FlowSlot>, _: &Control, _: Duration) -> Result<ThreadUsage> {
        anyhow::bail!(
            "the {} engine is not in this build: enable loopbench's `tokio` feature",
            self.0
        )
    }
}

#[cfg(test)]
mod tests;
