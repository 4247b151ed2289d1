//! The rounds of a study: one child process (and namespace) per variant and round, in the
//! schedule's order, study.json written after each run; with `--precision`, rounds added until
//! every comparison is narrow enough.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::file::StudyFile;
use super::isolate::{VariantJob, run_child};
use super::journal::HostChanges;
use super::options::{MAX_ROUNDS, Prepared, StudyOptions};
use super::record::{
    RunStatus, StudyCasePrecision, StudyPrecision, StudyRecord, StudyRun, write_json,
};
use super::report::precision;
use super::schedule::{Slot, schedule};
use super::settings::AppliedSetting;
use crate::host::environment::Environment;
use crate::run::precision::PrecisionRequest;
use crate::spec::{IterationLength, Spec};
use crate::stats::precision::DEFAULT_MIN_ROUNDS;

/// The longest a variant's child may run: twice the planned time plus every watchdog.
fn deadline(specs: &[Spec]) -> Duration {
    let ns: u64 = specs
        .iter()
        .map(|s| {
            let t = &s.timing;
            let per = match t.length {
                IterationLength::Duration { duration_ns } => duration_ns,
                IterationLength::Count { .. } => t.timeout_ns,
            };
            (t.warmup_ns + per * u64::from(t.iterations)) * 2
                + t.timeout_ns * u64::from(t.iterations + 1)
        })
        .sum();
    Duration::from_nanos(ns) + Duration::from_secs(60)
}

/// Why `study --precision` adds no round after `done` rounds that took `spent`: Ctrl-C, every
/// case within the target (after at least [`DEFAULT_MIN_ROUNDS`]), [`MAX_ROUNDS`], or another
/// round (as long as the mean so far) would end after `max_time`; `None` to go on.
fn stop_reason(
    done: u32,
    cases: &[StudyCasePrecision],
    spent: Duration,
    max_time: Duration,
    interrupted: bool,
) -> Option<&'static str> {
    let per_round = spent / done.max(1);
    let reached =
        done as usize >= DEFAULT_MIN_ROUNDS && !cases.is_empty() && cases.iter().all(|c| c.reached);
    if interrupted {
        Some("interrupted")
    } else if reached {
        Some("reached")
    } else if done >= MAX_ROUNDS {
        Some("max-rounds")
    } else if spent + per_round > max_time {
        Some("max-time")
    } else {
        None
    }
}

/// The job of the run `slot` names: its variant's cases and settings, as the options ask.
fn variant_job(
    record: &StudyRecord,
    prepared: &Prepared,
    opts: &StudyOptions,
    slot: &Slot,
    host_settings: Vec<AppliedSetting>,
    dir: &Path,
) -> VariantJob {
    let v = &prepared.variants[slot.variant];
    VariantJob {
        study_id: record.study_id.clone(),
        study_name: record.name.clone(),
        variant: record.variants[slot.variant].name.clone(),
        round: slot.round,
        run_seed: slot.run_seed,
        specs: v.specs.clone(),
        study_cases: record.cases.clone(),
        namespace: v.namespace.clone(),
        inherit: prepared.inherit.clone(),
        host_settings,
        host_environment: Environment::capture(),
        study_dir: dir.to_path_buf(),
        command_line: opts.command_line.clone(),
        no_canary: opts.no_canary,
    }
}

/// What running the rounds needs: the study, its variants, where things go and the record.
pub(super) struct Rounds<'a> {
    /// The study file.
    pub(super) study: &'a StudyFile,
    /// Its variants, checked.
    pub(super) prepared: &'a Prepared,
    /// How it runs.
    pub(super) opts: &'a StudyOptions,
    /// study.json, updated after each run.
    pub(super) record: &'a mut StudyRecord,
    /// Host-wide changes, when a variant makes any.
    pub(super) host: &'a mut Option<HostChanges>,
    /// The study directory.
    pub(super) dir: &'a Path,
    /// Ctrl-C.
    pub(super) interrupt: &'a AtomicBool,
    /// One line per event.
    pub(super) progress: &'a mut dyn FnMut(&str),
}

impl Rounds<'_> {
    /// Runs `slots`, whose runs are `record.runs[first..]`, writing study.json after each.
    pub(super) fn run(&mut self, slots: &[Slot], first: usize) -> Result<()> {
        let (study, prepared, opts, dir) = (self.study, self.prepared, self.opts, self.dir);
        for (i, slot) in slots.iter().enumerate() {
            if self.interrupt.load(Ordering::SeqCst) {
                break;
            }
            let v = &prepared.variants[slot.variant];
            let name = &study.variants[slot.variant].name;
            (self.progress)(&format!(
                "[{}/{}] round {} variant {name}",
                first + i + 1,
                self.record.runs.len(),
                slot.round
            ));
            let host_settings = match self.host.as_mut() {
                Some(h) => h.apply(&v.host)?,
                None => Vec::new(),
            };
            let job = variant_job(self.record, prepared, opts, slot, host_settings, dir);
            let outcome = run_child(&opts.exe, &job, self.interrupt, deadline(&v.specs));
            let run = &mut self.record.runs[first + i];
            match outcome {
                Ok(o) => {
                    run.status = if o.interrupted {
                        RunStatus::Interrupted
                    } else if o.case_errors.is_empty() {
                        RunStatus::Done
                    } else {
                        RunStatus::CaseFailed
                    };
                    run.error = (!o.case_errors.is_empty()).then(|| o.case_errors.join("; "));
                    run.run_id = Some(o.run_id);
                }
                Err(e) => {
                    run.status = RunStatus::Failed;
                    run.error = Some(format!("{e:#}"));
                    write_json(&dir.join("study.json"), self.record)?;
                    return Err(e.context(format!("round {} variant {name}", slot.round)));
                }
            }
            write_json(&dir.join("study.json"), self.record)?;
        }
        Ok(())
    }

    /// `--precision`: after the planned rounds, adds one round of every variant at a time until
    /// each comparison's interval is within the target (after at least
    /// [`DEFAULT_MIN_ROUNDS`] rounds: the rounds are what the interval resamples), or another
    /// round would not fit in `--max-time` (estimated from the rounds so far), or
    /// [`MAX_ROUNDS`], or Ctrl-C. Records what each case reached in study.json.
    pub(super) fn until_precise(
        &mut self,
        request: PrecisionRequest,
        measuring: Instant,
    ) -> Result<()> {
        loop {
            let done = self.record.rounds;
            let cases = precision::assess(self.dir, self.record, request.target_rel)?;
            let stopped = stop_reason(
                done,
                &cases,
                measuring.elapsed(),
                request.max_time,
                self.interrupt.load(Ordering::SeqCst),
            );
            let widest = cases.iter().map(|c| c.half_width_rel).fold(0.0, f64::max);
            (self.progress)(&format!(
                "precision after {done} round(s): widest interval ±{:.1} % (target ±{:.1} %)",
                widest * 100.0,
                request.target_rel * 100.0
            ));
            self.record.precision = Some(StudyPrecision {
                target_rel: request.target_rel,
                max_time_ns: request.max_time.as_nanos() as u64,
                rounds: done,
                stopped: stopped.unwrap_or("running").to_string(),
                cases,
            });
            if stopped.is_some() {
                return write_json(&self.dir.join("study.json"), self.record);
            }
            self.record.rounds += 1;
            let round = self.record.rounds;
            let seed = self.record.seed;
            // The schedule of n+1 rounds begins with that of n: the new round is its last.
            let next: Vec<Slot> = schedule(self.study.variants.len(), round, seed)
                .into_iter()
                .filter(|s| s.round == round)
                .collect();
            let first = self.record.runs.len();
            self.record.runs.extend(next.iter().map(|s| StudyRun {
                round,
                variant: self.study.variants[s.variant].name.clone(),
                run_seed: s.run_seed,
                status: RunStatus::Pending,
                run_id: None,
                error: None,
            }));
            if let Err(e) = self.run(&next, first) {
                if let Some(p) = &mut self.record.precision {
                    p.stopped = "failed".into();
                }
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::study::options::PreparedVariant;
    use crate::study::record::STUDY_SCHEMA_VERSION;
    use crate::study::settings::{HostSettings, NamespaceSettings};

    #[test]
    fn precision_stops_when_every_case_is_reached_after_five_rounds_or_time_runs_out() {
        let case = |reached| StudyCasePrecision {
            case: Spec::new(crate::spec::Transport::Tcp4).case_id(),
            variant: "b".into(),
            figure: "p50".into(),
            estimate: None,
            half_width_rel: if reached { 0.01 } else { 0.05 },
            reached,
        };
        let (min, hour) = (Duration::from_secs(60), Duration::from_secs(3600));
        let both = [case(true), case(true)];
        let one_short = [case(true), case(false)];
        // Reached, but before the fifth round: another round.
        assert_eq!(stop_reason(4, &both, 4 * min, hour, false), None);
        assert_eq!(stop_reason(5, &both, 5 * min, hour, false), Some("reached"));
        assert_eq!(stop_reason(5, &[], 5 * min, hour, false), None);
        // One short: another round while it fits (5 rounds of 1 min: the next ends at 6 min).
        assert_eq!(stop_reason(5, &one_short, 5 * min, 6 * min, false), None);
        let late = stop_reason(
            5,
            &one_short,
            5 * min,
            6 * min - Duration::from_secs(1),
            false,
        );
        assert_eq!(late, Some("max-time"));
        assert_eq!(
            stop_reason(MAX_ROUNDS, &one_short, min, hour, false),
            Some("max-rounds")
        );
        assert_eq!(
            stop_reason(2, &one_short, min, hour, true),
            Some("interrupted")
        );
    }

    #[test]
    fn no_canary_reaches_every_childs_run() {
        let variant = |name: &str| crate::study::settings::Variant {
            name: name.into(),
            description: None,
            settings: Default::default(),
            overrides: Default::default(),
        };
        let record = StudyRecord {
            schema_version: STUDY_SCHEMA_VERSION,
            study_id: "s".into(),
            name: "mtu".into(),
            description: None,
            file: None,
            source: String::new(),
            started_at: String::new(),
            finished_at: None,
            complete: false,
            interrupted: false,
            seed: 1,
            rounds: 1,
            inherit_host_sysctls: false,
            cases: vec![],
            variants: vec![variant("default"), variant("small")],
            sweeps: vec![],
            runs: vec![],
            host_environment: Environment::default(),
            host_differences: None,
            journal: None,
            host_restore: vec![],
            precision: None,
        };
        let prepared = Prepared {
            variants: vec![
                PreparedVariant {
                    specs: vec![Spec::new(crate::spec::Transport::Tcp4)],
                    namespace: NamespaceSettings::default(),
                    host: HostSettings::default(),
                };
                2
            ],
            inherit: BTreeMap::new(),
            checks: vec![],
        };
        let mut opts = StudyOptions {
            file: None,
            rounds: None,
            output: PathBuf::from("/nonexistent"),
            seed: None,
            allow_host_changes: false,
            force: false,
            journal: PathBuf::from("/nonexistent/journal.json"),
            exe: PathBuf::from("/nonexistent/loopbench"),
            command_line: vec!["loopbench".into(), "study".into()],
            precision: None,
            no_canary: true,
        };
        let slot = Slot {
            round: 2,
            variant: 1,
            run_seed: 7,
        };
        let dir = Path::new("/nonexistent/study");
        let job = variant_job(&record, &prepared, &opts, &slot, vec![], dir);
        assert_eq!((job.variant.as_str(), job.round), ("small", 2));
        // What the child reads from its stdin, and the run it measures.
        let sent: VariantJob = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        assert!(crate::study::isolate::run_request(&sent).no_canary);
        opts.no_canary = false;
        let job = variant_job(&record, &prepared, &opts, &slot, vec![], dir);
        assert!(!crate::study::isolate::run_request(&job).no_canary);
    }

    #[test]
    fn the_deadline_covers_the_planned_time() {
        let mut s = Spec::new(crate::spec::Transport::Tcp4);
        s.timing.iterations = 3;
        let d = deadline(&[s]);
        assert!(d > Duration::from_secs(3 + 60), "{d:?}");
    }
}
