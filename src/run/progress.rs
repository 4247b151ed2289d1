//! Progress of a library [`Run`](crate::run::session::Run): a callback of yours, or by default
//! one line on stderr per slot when stderr is a terminal ([`Run::quiet`] turns it off).
//!
//! [`Run::quiet`]: crate::run::session::Run::quiet

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::run::runner::{Event, Observer};
use crate::run::schedule::SlotKind;
use crate::spec::CaseId;
use crate::store::record::RunRecord;

/// Where a slot of the run stands, as the progress callback sees it.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    /// The case of the slot.
    pub case_id: &'a CaseId,
    /// The slot's measured iteration (its index within the case), or `None` for the warm-up.
    pub iteration: Option<u32>,
    /// True when the slot is about to run, false when it just ended.
    pub starting: bool,
    /// Slots ended so far.
    pub finished: usize,
    /// Slots scheduled so far (`Run::precision` adds slots as it goes).
    pub scheduled: usize,
    /// Errors recorded so far, over all cases.
    pub errors: usize,
    /// Time since the run started measuring.
    pub elapsed: Duration,
}

/// A progress callback, shareable so a [`Run`](crate::run::session::Run) stays `Clone`.
pub type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// Who hears about progress.
#[derive(Clone, Default)]
pub enum ProgressSink {
    /// A line on stderr per slot when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// Nothing.
    Quiet,
    /// Your callback.
    Callback(ProgressFn),
}

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProgressSink::Auto => "Auto",
            ProgressSink::Quiet => "Quiet",
            ProgressSink::Callback(_) => "Callback(..)",
        })
    }
}

impl ProgressSink {
    /// The callback to tell, if any: `Auto` becomes [`stderr_line`] on a terminal.
    pub(crate) fn callback(&self) -> Option<ProgressFn> {
        match self {
            ProgressSink::Auto if std::io::stderr().is_terminal() => Some(Arc::new(stderr_line)),
            ProgressSink::Auto | ProgressSink::Quiet => None,
            ProgressSink::Callback(f) => Some(f.clone()),
        }
    }
}

/// The default progress: one line per slot that starts, on stderr.
pub fn stderr_line(p: &Progress<'_>) {
    if !p.starting {
        return;
    }
    let what = match p.iteration {
        Some(i) => format!("iteration {}", i + 1),
        None => "warm-up".to_string(),
    };
    let errors = match p.errors {
        0 => String::new(),
        n => format!(", {n} error(s) so far"),
    };
    let _ = writeln!(
        std::io::stderr(),
        "loopbench: [{}/{}] {} {what} ({:.1} s{errors})",
        p.finished + 1,
        p.scheduled,
        p.case_id,
        p.elapsed.as_secs_f64()
    );
}

/// The observer that turns the run's events into [`Progress`] for a callback.
pub(crate) struct ProgressObserver {
    callback: ProgressFn,
    started: Instant,
    finished: usize,
}

impl ProgressObserver {
    /// Tells `callback` from now on.
    pub(crate) fn new(callback: ProgressFn) -> ProgressObserver {
        ProgressObserver {
            callback,
            started: Instant::now(),
            finished: 0,
        }
    }
}

impl Observer for ProgressObserver {
    fn on_event(&mut self, record: &mut RunRecord, event: Event<'_>) -> Result<()> {
        let (slot, starting) = match event {
            Event::SlotStarted { slot, .. } => (slot, true),
            Event::SlotFinished { slot, .. } => (slot, false),
            Event::IterationStored { .. } | Event::CaseFinished { .. } => return Ok(()),
        };
        if !starting {
            self.finished += 1;
        }
        let progress = Progress {
            case_id: &record.cases[slot.case].case_id,
            iteration: match slot.kind {
                SlotKind::Warmup => None,
                SlotKind::Iteration(i) => Some(i),
            },
            starting,
            finished: self.finished,
            scheduled: record.schedule.len(),
            errors: record.cases.iter().map(|c| c.errors.len()).sum(),
            elapsed: self.started.elapsed(),
        };
        (self.callback)(&progress);
        Ok(())
    }
}
