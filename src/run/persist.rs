//! The observer that persists a run as it goes: run.json after every slot, a case's histogram
//! files after each of its measured iterations and whole when the case ends, so an interrupted
//! or killed run keeps everything finished.

use anyhow::Result;

use crate::run::runner::{Event, Observer};
use crate::store::RunDir;
use crate::store::record::RunRecord;

/// Writes run.json after every slot, a case's files after each iteration and when it ends.
pub struct StoreObserver {
    dir: RunDir,
}

impl StoreObserver {
    /// Writes into `dir`.
    pub fn new(dir: RunDir) -> StoreObserver {
        StoreObserver { dir }
    }

    /// The run directory.
    pub fn dir(&self) -> &RunDir {
        &self.dir
    }
}

impl Observer for StoreObserver {
    fn on_event(&mut self, record: &mut RunRecord, event: Event<'_>) -> Result<()> {
        match event {
            Event::SlotStarted { .. } => Ok(()),
            Event::SlotFinished { .. } => self.dir.write_record(record),
            Event::IterationStored { case, histograms } => {
                record.cases[case].files = self.dir.write_iteration(record, case, histograms)?;
                Ok(())
            }
            Event::CaseFinished { case, histograms } => {
                if !histograms.iterations.is_empty() {
                    record.cases[case].files = self.dir.write_case(record, case, histograms)?;
                }
                self.dir.write_record(record)
            }
        }
    }
}
