//! What a library run hands back: the record, the histograms, and the failures that are
//! impossible to miss ([`RunResult::ok`], [`RunResult::errors`], [`RunResult::check`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::error::spelling::for_builder;
use crate::metrics::case_histograms::CaseHistograms;
use crate::spec::CaseId;
use crate::store::record::{CaseRecord, RunRecord};

/// A finished (or interrupted) run.
#[derive(Debug)]
#[must_use = "a run's cases may have failed: look at ok() or errors(), or call check()"]
pub struct RunResult {
    /// Everything run.json holds.
    pub record: RunRecord,
    /// Per case: per-iteration and merged histograms.
    pub histograms: Vec<CaseHistograms>,
    /// The run's directory, when stored.
    pub dir: Option<PathBuf>,
    /// The run's deadline, when [`Run::deadline`](crate::run::session::Run::deadline) ended it.
    pub deadline_reached: Option<Duration>,
}

/// One case that did not measure everything it was asked to, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFailure {
    /// The case.
    pub case_id: CaseId,
    /// What went wrong (an error the case recorded, or that the run ended before it finished).
    pub message: String,
}

impl std::fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.case_id, self.message)
    }
}

impl RunResult {
    /// True when some case recorded an error.
    pub fn has_errors(&self) -> bool {
        self.record.cases.iter().any(|c| !c.errors.is_empty())
    }

    /// True when every case ran every planned iteration without an error.
    pub fn ok(&self) -> bool {
        self.errors().is_empty()
    }

    /// Every case that failed or was cut short, with why: each error it recorded (worded with
    /// builder methods), or that the deadline or an interruption ended the run first. Empty
    /// when [`RunResult::ok`].
    pub fn errors(&self) -> Vec<CaseFailure> {
        let mut out = Vec::new();
        for case in &self.record.cases {
            let failure = |message: String| CaseFailure {
                case_id: case.case_id.clone(),
                message,
            };
            // run.json keeps the command line's wording; library users read builder methods.
            out.extend(case.errors.iter().map(|e| failure(for_builder(e))));
            if case.errors.is_empty() && !case.complete {
                let done = case.iterations.len();
                out.push(failure(match self.deadline_reached {
                    Some(d) => format!(
                        "the run's deadline ({}, Run::deadline) ended it after {done} \
                         measured iteration(s); give it more time or fewer cases",
                        humantime::format_duration(d)
                    ),
                    None => format!("the run was interrupted after {done} measured iteration(s)"),
                }));
            }
        }
        out
    }

    /// `Ok(self)` when [`RunResult::ok`], else an [`Error::Measurement`] listing every failure:
    /// `Run::new(specs).execute()?.check()?` stops at the first sign of trouble.
    pub fn check(self) -> Result<RunResult, Error> {
        let errors = self.errors();
        if errors.is_empty() {
            return Ok(self);
        }
        let list: Vec<String> = errors.iter().map(CaseFailure::to_string).collect();
        Err(Error::Measurement(format!(
            "{} of {} case(s) failed or were cut short: {}",
            self.record
                .cases
                .iter()
                .filter(|c| !c.errors.is_empty() || !c.complete)
                .count(),
            self.record.cases.len(),
            list.join("; ")
        )))
    }

    /// Every case's record (summaries, iterations, errors) with its histograms.
    pub fn cases(&self) -> impl Iterator<Item = (&CaseRecord, &CaseHistograms)> {
        self.record.cases.iter().zip(&self.histograms)
    }

    /// The case with this id.
    pub fn case(&self, id: &CaseId) -> Option<(&CaseRecord, &CaseHistograms)> {
        self.cases().find(|(c, _)| &c.case_id == id)
    }
}
