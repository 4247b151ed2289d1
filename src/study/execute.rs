//! Running a study: check every variant in a throwaway namespace before anything is measured,
//! then run the rounds (one child process and namespace per variant and round), journal and
//! restore host-wide changes, check the host is as it was, and write the report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};

use super::cpucost;
use super::file::StudyFile;
use super::hostcheck::HostSnapshot;
use super::hostknobs;
use super::isolate::{VariantJob, run_child};
use super::journal::HostChanges;
use super::namespace;
use super::record::{
    RunStatus, STUDY_SCHEMA_VERSION, StudyCasePrecision, StudyPrecision, StudyRecord, StudyRun,
    write_json,
};
use super::report::precision;
use super::schedule::{Slot, schedule};
use super::settings::{AppliedSetting, HostSettings, NamespaceSettings};
use crate::error::{ConfigError, UsageError};
use crate::host::environment::{Environment, RECORDED_SYSCTLS};
use crate::host::knob::KnobFile;
use crate::host::sysctl;
use crate::host::topology::Topology;
use crate::loopback::netns::with_private;
use crate::run::plan::Plan;
use crate::run::precision::PrecisionRequest;
use crate::spec::{IterationLength, Spec};
use crate::stats::precision::DEFAULT_MIN_ROUNDS;
use crate::store::new_run_id;

/// Rounds when neither the command line nor the file gives any.
pub const DEFAULT_ROUNDS: u32 = 3;

/// Most rounds of a study: each runs every variant once.
pub const MAX_ROUNDS: u32 = 1000;

/// How a study is run.
#[derive(Clone, Debug)]
pub struct StudyOptions {
    /// The study file's path, recorded.
    pub file: Option<PathBuf>,
    /// Rounds (default: the file's, else 3).
    pub rounds: Option<u32>,
    /// Results directory; the study goes to `DIR/studies/<id>/`.
    pub output: PathBuf,
    /// Seed of the round order (random when `None`; recorded).
    pub seed: Option<u64>,
    /// Allow host-wide settings (journaled and restored).
    pub allow_host_changes: bool,
    /// Change the host even while tuned or irqbalance run.
    pub force: bool,
    /// The journal file.
    pub journal: PathBuf,
    /// The loopbench binary the variants run in.
    pub exe: PathBuf,
    /// The command line, recorded.
    pub command_line: Vec<String>,
    /// `--precision`: add rounds until every comparison is that narrow, or `--max-time`.
    pub precision: Option<PrecisionRequest>,
    /// `--no-canary`: the variants' runs take no drift canary.
    pub no_canary: bool,
}

/// A variant split by scope, checked.
#[derive(Clone, Debug)]
pub struct PreparedVariant {
    /// Its cases after overrides.
    pub specs: Vec<Spec>,
    /// Namespace settings.
    pub namespace: NamespaceSettings,
    /// Host settings.
    pub host: HostSettings,
}

/// A study that passed every check.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Per variant, in file order.
    pub variants: Vec<PreparedVariant>,
    /// Host values of per-namespace net sysctls to copy into each namespace.
    pub inherit: BTreeMap<String, String>,
    /// Every check's result, one line each, for `--dry-run`.
    pub checks: Vec<String>,
}

/// Checks everything that can be checked before measuring: sysctl scopes, host-change permission,
/// every variant's namespace settings applied and read back in a throwaway namespace, and every
/// variant's cases planned. A variant that cannot be applied is refused here.
pub fn prepare(study: &StudyFile, opts: &StudyOptions) -> Result<Prepared> {
    let rounds = opts.rounds.or(study.rounds).unwrap_or(DEFAULT_ROUNDS);
    if !(1..=MAX_ROUNDS).contains(&rounds) {
        bail!(ConfigError::Invalid(format!(
            "--rounds must be at least 1 and at most {MAX_ROUNDS} (the file's `rounds` too), not \
             {rounds}"
        )));
    }
    // Host changes of a study that did not finish (or of one still running) come first: no
    // study measures on a host in that state.
    super::journal::check_free(&opts.journal)?;
    for v in &study.variants {
        for name in v.settings.sysctls.keys() {
            super::allowlist::check_outside_net(&v.name, name)?;
        }
    }
    let names: BTreeSet<String> = study
        .variants
        .iter()
        .flat_map(|v| v.settings.sysctls.keys().cloned())
        .chain(RECORDED_SYSCTLS.iter().map(|s| s.to_string()))
        .collect();
    let (per_ns, writable_in_ns): (BTreeSet<String>, BTreeSet<String>) = with_private(|_| {
        let per_ns: BTreeSet<String> = names
            .iter()
            .filter(|n| sysctl::is_per_namespace(n))
            .cloned()
            .collect();
        let writable = per_ns
            .iter()
            .filter(|n| sysctl::is_writable(n))
            .cloned()
            .collect();
        Ok((per_ns, writable))
    })
    .context("a study runs every variant in a private network namespace")?;
    let inherit = if study.inherit_host_sysctls {
        RECORDED_SYSCTLS
            .iter()
            .filter(|n| writable_in_ns.contains(**n))
            .filter_map(|n| Some((n.to_string(), sysctl::read(n)?)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut checks = vec![format!(
        "private network namespaces: available; {} host net sysctl(s) copied into each",
        inherit.len()
    )];
    let topology = Topology::detect();
    let mut variants = Vec::new();
    for v in &study.variants {
        let (namespace, mut host) = v.settings.split(&|n| per_ns.contains(n));
        for name in host.sysctls.keys() {
            // A name the kernel does not have is said as such before the allowlist speaks.
            if sysctl::read(name).is_none() {
                bail!(ConfigError::Invalid(format!(
                    "variant '{}': sysctl {name} does not exist on this kernel",
                    v.name
                )));
            }
            super::allowlist::check(&v.name, name)?;
        }
        let specs = v.overrides.apply(&study.cases);
        Plan::new(specs.clone(), &topology, 0, true)
            .map_err(|e| ConfigError::Invalid(format!("variant '{}': {e}", v.name)))?;
        let workers = cpucost::worker_cpus(&specs, &topology);
        host.files = hostknobs::resolve(&v.settings, &workers, &topology.online)
            .map_err(|e| ConfigError::Invalid(format!("variant '{}': {e}", v.name)))?;
        if !host.is_empty() && !opts.allow_host_changes {
            bail!(ConfigError::Invalid(format!(
                "variant '{}' changes host-wide settings ({}): they have no per-namespace copy. \
                 Rerun with --allow-host-changes (previous values are journaled and restored), \
                 or drop them from the variant",
                v.name,
                host.names().join(", ")
            )));
        }
        let applied = with_private(|ns| {
            namespace::inherit(ns, &inherit)?;
            namespace::apply(ns, &namespace)
        })
        .with_context(|| format!("variant '{}' refused before anything ran", v.name))?;
        checks.push(format!(
            "variant {}: {} namespace setting(s) applied and read back{}",
            v.name,
            applied.len(),
            if host.is_empty() {
                String::new()
            } else {
                format!(", {} host-wide", host.names().len())
            }
        ));
        variants.push(PreparedVariant {
            specs,
            namespace,
            host,
        });
    }
    if variants.iter().any(|v| !v.host.is_empty()) {
        let daemons = crate::host::procs::running_named(crate::host::procs::TUNING_DAEMONS);
        if !daemons.is_empty() && !opts.force {
            bail!(UsageError(format!(
                "refusing host changes while {} runs: it retunes the host and may fight or undo \
                 the study's settings. Stop it, or pass --force",
                crate::host::procs::describe(&daemons)
            )));
        }
        super::journal::check_free(&opts.journal)?;
        checks.push(format!(
            "host changes: allowed, journal {}",
            opts.journal.display()
        ));
    }
    Ok(Prepared {
        variants,
        inherit,
        checks,
    })
}

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

fn slug(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Runs the study; `progress` gets one line per event. Returns the study directory and record.
pub fn execute(
    study: &StudyFile,
    prepared: &Prepared,
    opts: &StudyOptions,
    interrupt: &AtomicBool,
    progress: &mut dyn FnMut(&str),
) -> Result<(PathBuf, StudyRecord)> {
    let started = SystemTime::now();
    let study_id = format!("{}-{}", new_run_id(started), slug(&study.name));
    let dir = opts.output.join("studies").join(&study_id);
    std::fs::create_dir_all(&dir).map_err(|e| {
        UsageError(format!(
            "cannot create {}: {e}; choose a writable --output directory",
            dir.display()
        ))
    })?;
    let seed = opts.seed.unwrap_or_else(rand::random);
    let rounds = opts.rounds.or(study.rounds).unwrap_or(DEFAULT_ROUNDS);
    let slots = schedule(study.variants.len(), rounds, seed);
    let host_before = HostSnapshot::capture()?;
    let host_environment = Environment::capture();
    let mut record = StudyRecord {
        schema_version: STUDY_SCHEMA_VERSION,
        study_id: study_id.clone(),
        name: study.name.clone(),
        description: study.description.clone(),
        file: opts.file.clone(),
        source: study.source.clone(),
        started_at: now(),
        finished_at: None,
        complete: false,
        interrupted: false,
        seed,
        rounds,
        inherit_host_sysctls: study.inherit_host_sysctls,
        cases: study.cases.iter().map(Spec::case_id).collect(),
        variants: study.variants.clone(),
        sweeps: study.sweeps.clone(),
        runs: slots
            .iter()
            .map(|s| StudyRun {
                round: s.round,
                variant: study.variants[s.variant].name.clone(),
                run_seed: s.run_seed,
                status: RunStatus::Pending,
                run_id: None,
                error: None,
            })
            .collect(),
        host_environment: host_environment.clone(),
        host_differences: None,
        journal: None,
        host_restore: Vec::new(),
        precision: None,
    };
    let study_json = dir.join("study.json");
    write_json(&study_json, &record)?;
    let host_names: BTreeSet<String> = prepared
        .variants
        .iter()
        .flat_map(|v| v.host.sysctls.keys().cloned())
        .collect();
    let host_files: BTreeSet<KnobFile> = prepared
        .variants
        .iter()
        .flat_map(|v| v.host.files.iter().map(|w| w.file.clone()))
        .collect();
    let uses_dma = prepared
        .variants
        .iter()
        .any(|v| v.host.cpu_dma_latency_us.is_some());
    let mut host = if host_names.is_empty() && host_files.is_empty() && !uses_dma {
        None
    } else {
        record.journal = Some(opts.journal.clone());
        Some(HostChanges::begin(
            &opts.journal,
            &study_id,
            &host_names,
            &host_files,
            uses_dma,
        )?)
    };
    let mut rounds = Rounds {
        study,
        prepared,
        opts,
        record: &mut record,
        host: &mut host,
        dir: &dir,
        interrupt,
        progress,
    };
    let measuring = Instant::now();
    let mut result = rounds.run(&slots, 0);
    if let (Ok(()), Some(request)) = (&result, opts.precision) {
        result = rounds.until_precise(request, measuring);
    }
    if let Some(mut h) = host.take() {
        match h.restore() {
            Ok(lines) => record.host_restore = lines,
            Err(e) => record.host_restore = vec![format!("FAILED: {e:#}")],
        }
    }
    let host_after = HostSnapshot::capture()?;
    record.host_differences = Some(host_after.differences(&host_before));
    record.interrupted = interrupt.load(Ordering::SeqCst);
    record.complete = record.runs.iter().all(|r| r.status == RunStatus::Done);
    record.finished_at = Some(now());
    write_json(&study_json, &record)?;
    result?;
    super::report::write(&dir)?;
    Ok((dir, record))
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
struct Rounds<'a> {
    study: &'a StudyFile,
    prepared: &'a Prepared,
    opts: &'a StudyOptions,
    record: &'a mut StudyRecord,
    host: &'a mut Option<HostChanges>,
    dir: &'a Path,
    interrupt: &'a AtomicBool,
    progress: &'a mut dyn FnMut(&str),
}

impl Rounds<'_> {
    /// Runs `slots`, whose runs are `record.runs[first..]`, writing study.json after each.
    fn run(&mut self, slots: &[Slot], first: usize) -> Result<()> {
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
    fn until_precise(&mut self, request: PrecisionRequest, measuring: Instant) -> Result<()> {
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
    use super::*;

    #[test]
    fn study_ids_are_slugged() {
        assert_eq!(slug("lo MTU: 65536 vs 1500"), "lo-mtu-65536-vs-1500");
    }

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
        assert!(super::super::isolate::run_request(&sent).no_canary);
        opts.no_canary = false;
        let job = variant_job(&record, &prepared, &opts, &slot, vec![], dir);
        assert!(!super::super::isolate::run_request(&job).no_canary);
    }

    #[test]
    fn the_deadline_covers_the_planned_time() {
        let mut s = Spec::new(crate::spec::Transport::Tcp4);
        s.timing.iterations = 3;
        let d = deadline(&[s]);
        assert!(d > Duration::from_secs(3 + 60), "{d:?}");
    }
}
