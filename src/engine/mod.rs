//! Engines: how a worker waits for its connections. Workloads are state machines ([`Flow`]) that
//! make as much progress as they can and say what they wait for; an engine decides what waiting
//! means (sleep in read, busy-poll, epoll, an async reactor). One file per engine; the table in
//! [`engine_for`] is the only place that knows them all.

pub mod blocking;
mod drive;
pub mod epoll;
mod flow;
pub mod spin;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(not(feature = "tokio"))]
use std::time::Duration;

#[cfg(not(feature = "tokio"))]
use anyhow::Result;

pub use drive::{Aborted, Control, Engine, RunState, should_return};
pub use flow::{Flow, FlowReport, FlowSlot, Retired, Wait};

#[cfg(not(feature = "tokio"))]
use crate::metrics::rusage::ThreadUsage;
use crate::spec::EngineKind;

/// The engine table.
pub fn engine_for(kind: EngineKind) -> &'static dyn Engine {
    match kind {
        EngineKind::Blocking => &blocking::Blocking,
        EngineKind::Spin => &spin::Spin,
        EngineKind::Epoll => &epoll::Epoll,
        #[cfg(feature = "tokio")]
        EngineKind::Tokio => &tokio::Tokio {
            multi_thread: false,
        },
        #[cfg(feature = "tokio")]
        EngineKind::TokioMt => &tokio::Tokio { multi_thread: true },
        #[cfg(not(feature = "tokio"))]
        EngineKind::Tokio => &NotBuilt(EngineKind::Tokio),
        #[cfg(not(feature = "tokio"))]
        EngineKind::TokioMt => &NotBuilt(EngineKind::TokioMt),
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
