//! Progress on stderr while a run goes: one line per slot, only on a terminal and not `--quiet`.

use std::io::IsTerminal;

use anyhow::Result;

use crate::runner::{Event, Observer, SlotKind};
use crate::store::record::RunRecord;

/// Prints `[i/N] case (iteration k)` as slots start.
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Enabled only when stderr is a terminal and not `quiet`.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }
}

impl Observer for Progress {
    fn on_event(&mut self, record: &mut RunRecord, event: Event<'_>) -> Result<()> {
        if let (true, Event::SlotStarted { position, slot }) = (self.enabled, event) {
            let what = match slot.kind {
                SlotKind::Warmup => "warm-up".to_string(),
                SlotKind::Iteration(i) => format!("iteration {}", i + 1),
            };
            eprintln!(
                "[{}/{}] {} {what}",
                position + 1,
                record.schedule.len(),
                record.cases[slot.case].case_id
            );
        }
        Ok(())
    }
}
