//! A run from start to finish: plan, pre-flight, environment snapshot and timer check, execute,
//! and (when a results directory is given) store everything as it comes in.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

use crate::error::{Error, UsageError};
use crate::host::environment::Environment;
use crate::host::topology::Topology;
use crate::metrics::clock::check_timer;
use crate::metrics::clock_sync::{self, ClockSync};
use crate::run::persist::StoreObserver;
use crate::run::precision::PrecisionRequest;
use crate::run::progress::{Progress, ProgressObserver, ProgressSink};
pub use crate::run::result::{CaseFailure, RunResult};
use crate::run::runner::{Event, Observer, Plan, execute};
use crate::run::turns::{TurnTaker, Turns};
use crate::spec::Spec;
use crate::stats::robust::Policy;
use crate::store::record::{RunRecord, SCHEMA_VERSION, SkippedCases, ToolInfo};
use crate::store::trust::RunTrust;
use crate::store::{RunDir, new_run_id};
use crate::transport::limits::Clamped;

/// What to run and where to put it.
#[derive(Clone, Debug, Default)]
#[doc(hidden)]
pub struct RunRequest {
    /// The cases.
    pub specs: Vec<Spec>,
    /// Seed of the shuffled schedule; random when `None` (the seed used is recorded).
    pub seed: Option<u64>,
    /// Run all iterations of all cases in one shuffled order (the default) rather than case by case.
    pub interleave: bool,
    /// Suite name, recorded.
    pub suite: Option<String>,
    /// Free-form label, recorded.
    pub label: Option<String>,
    /// The command line, recorded.
    pub command_line: Vec<String>,
    /// Results directory (`results/`); nothing is written when `None`.
    pub results_dir: Option<PathBuf>,
    /// Take no drift canary before each iteration (`--no-canary`); interference is still
    /// accounted.
    pub no_canary: bool,
    /// `--precision`: add rounds until every case's interval is this narrow, within a time.
    pub precision: Option<PrecisionRequest>,
    /// Cases of the suite the machine cannot place, recorded in run.json and the report.
    pub skipped: Vec<SkippedCases>,
    /// Take turns with another run (`loopbench ab`): every slot waits for its turn.
    pub turns: Option<Arc<Turns>>,
}

/// Running cases from code, the way `loopbench run` does.
///
/// ```no_run
/// use loopbench::run::session::Run;
/// use loopbench::spec::{Spec, Transport};
///
/// let spec = Spec::builder(Transport::UnixStream).iterations(3).build()?;
/// use std::time::Duration;
///
/// let spec = Spec::builder(Transport::UnixStream).iterations(3).build()?;
/// let result = Run::new([spec])
///     .seed(7)
///     .deadline(Duration::from_secs(60))
///     .results_dir("results")
///     .execute()?;
/// for failure in result.errors() {
///     eprintln!("{failure}");
/// }
/// for (case, histograms) in result.cases() {
///     println!("{}: p50 {} ns over {} round trips", case.case_id,
///              histograms.merged.value_at_quantile(0.5), histograms.merged.len());
/// }
/// # Ok::<(), loopbench::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a Run does nothing until execute() is called"]
pub struct Run {
    request: RunRequest,
    deadline: Option<Duration>,
    progress: ProgressSink,
    interrupt: Option<Arc<AtomicBool>>,
}

/// How often the deadline's watcher looks at the clock and the interrupt flag.
const DEADLINE_POLL: Duration = Duration::from_millis(10);

impl Run {
    /// A run of `specs`, interleaved, with a random seed and nothing written to disk.
    pub fn new(specs: impl IntoIterator<Item = Spec>) -> Run {
        Run {
            request: RunRequest {
                specs: specs.into_iter().collect(),
                interleave: true,
                ..RunRequest::default()
            },
            deadline: None,
            progress: ProgressSink::Auto,
            interrupt: None,
        }
    }

    /// Ends the run once `limit` has passed since `execute` was called, even when a service
    /// never answers: the slot running then is stopped, what finished is kept, and every case
    /// cut short says so in [`RunResult::errors`].
    pub fn deadline(mut self, limit: Duration) -> Run {
        self.deadline = Some(limit);
        self
    }

    /// Calls `f` as every slot (warm-up or measured iteration) starts and ends, instead of the
    /// default line on stderr.
    pub fn on_progress(mut self, f: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Run {
        self.progress = ProgressSink::Callback(std::sync::Arc::new(f));
        self
    }

    /// Stops the run early, keeping what finished, once `flag` becomes true (set it from your
    /// Ctrl-C handler, for instance); the cases cut short say so in [`RunResult::errors`].
    pub fn interrupt_on(mut self, flag: Arc<AtomicBool>) -> Run {
        self.interrupt = Some(flag);
        self
    }

    /// Prints no progress (by default a line per slot goes to stderr when it is a terminal).
    pub fn quiet(mut self) -> Run {
        self.progress = ProgressSink::Quiet;
        self
    }

    /// Seeds the shuffled schedule (recorded either way).
    pub fn seed(mut self, seed: u64) -> Run {
        self.request.seed = Some(seed);
        self
    }

    /// Runs the cases one after another instead of interleaving their iterations.
    pub fn sequential(mut self) -> Run {
        self.request.interleave = false;
        self
    }

    /// Stores the run under `dir/runs/<run-id>/` exactly as the command line does, so
    /// `loopbench report`, `show` and `compare` work on it.
    pub fn results_dir(mut self, dir: impl Into<PathBuf>) -> Run {
        self.request.results_dir = Some(dir.into());
        self
    }

    /// Adds rounds after the planned iterations until every case's p50 (throughput without
    /// latency) has a 95 % interval within ±`target_rel` (0.02 for ±2 %), or `max_time` is
    /// spent.
    pub fn precision(mut self, target_rel: f64, max_time: std::time::Duration) -> Run {
        self.request.precision = Some(PrecisionRequest {
            target_rel,
            max_time,
        });
        self
    }

    /// Takes no drift canary before each iteration.
    pub fn no_canary(mut self) -> Run {
        self.request.no_canary = true;
        self
    }

    /// A label stored with the run.
    pub fn label(mut self, label: impl Into<String>) -> Run {
        self.request.label = Some(label.into());
        self
    }

    /// Measures every case and returns the results (and writes them, with
    /// [`Run::results_dir`]). A case that fails is recorded in the result, not returned here:
    /// look at [`RunResult::ok`] / [`RunResult::errors`], or call [`RunResult::check`]. An
    /// error here means nothing could be measured (an invalid spec, a port in use).
    pub fn execute(self) -> Result<RunResult, Error> {
        let flag = self.interrupt.clone().unwrap_or_default();
        self.execute_with(&mut crate::run::runner::NoObserver, &flag)
    }

    /// [`Run::execute`], telling `observer` about every slot (besides the progress callback)
    /// and stopping early when `interrupt` becomes true.
    #[doc(hidden)]
    pub fn execute_with(
        mut self,
        observer: &mut dyn Observer,
        interrupt: &AtomicBool,
    ) -> Result<RunResult, Error> {
        if self.request.command_line.is_empty() {
            self.request.command_line = std::env::args().collect();
        }
        let mut progress = self.progress.callback().map(ProgressObserver::new);
        let mut observers: Vec<&mut dyn Observer> = vec![observer];
        if let Some(p) = progress.as_mut() {
            observers.push(p);
        }
        let mut observer = Tee(observers);
        let Some(limit) = self.deadline else {
            return run(self.request, &mut observer, interrupt).map_err(Error::from_anyhow);
        };
        // A watcher raises the run's own stop flag when the caller's flag rises or the
        // deadline passes; the watchdog of the running slot then stops its workers.
        let (stop, done, reached) = (
            AtomicBool::new(false),
            AtomicBool::new(false),
            AtomicBool::new(false),
        );
        let ends = Instant::now() + limit;
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    let late = Instant::now() >= ends;
                    if late || interrupt.load(Ordering::Relaxed) {
                        reached.store(late, Ordering::Relaxed);
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                    std::thread::sleep(DEADLINE_POLL);
                }
            });
            let result = run(self.request, &mut observer, &stop);
            done.store(true, Ordering::Relaxed);
            result
        });
        let mut result = result.map_err(Error::from_anyhow)?;
        if reached.load(Ordering::Relaxed) && result.record.interrupted {
            result.deadline_reached = Some(limit);
        }
        Ok(result)
    }
}

/// Passes every event to each observer in turn.
struct Tee<'a>(Vec<&'a mut dyn Observer>);

impl Observer for Tee<'_> {
    fn on_event(&mut self, record: &mut RunRecord, event: Event<'_>) -> Result<()> {
        for o in self.0.iter_mut() {
            o.on_event(record, event)?;
        }
        Ok(())
    }
}

/// Opens every case's transport once (binding its ports and paths) and connects one pair, so an
/// address in use or a message the kernel would refuse is reported before anything is measured;
/// and, for `--trace`/`--profile`, opens their events on the case's CPUs once, so a missing
/// privilege, tracefs or tracepoint stops the run (exit 2) before it starts. Returns, per case,
/// the buffer sizes the kernel did not take as asked.
#[doc(hidden)]
pub fn preflight(plan: &Plan) -> Result<Vec<Vec<Clamped>>> {
    plan.cases
        .iter()
        .map(|case| {
            let probe = || -> Result<Vec<Clamped>> {
                let (client, server) = crate::transport::connector(&case.spec)?.pair()?;
                crate::transport::limits::check(&case.spec, &client.info, &server.info)
            };
            let clamped = probe().with_context(|| format!("case {}", case.case_id))?;
            if !case.spec.probes.is_off() {
                crate::run::worker::probes::preflight(&case.spec, &case.cpus)
                    .map_err(|e| UsageError(format!("case {}: {e}", case.case_id)))?;
            }
            Ok(clamped)
        })
        .collect()
}

/// `--stages`: checks that the clock source is a shared counter and that stamps read on the
/// CPUs of every stamped case agree (unpinned cases: every CPU against the first); refuses with
/// a usage error when they do not. `None` when no case is stamped.
#[doc(hidden)]
pub fn check_stage_clock(plan: &Plan, topology: &Topology) -> Result<Option<ClockSync>> {
    let mut pairs = Vec::new();
    for case in plan.cases.iter().filter(|c| c.spec.instrument.stages) {
        let cpus = &case.cpus;
        if cpus.client.is_empty() || cpus.server.is_empty() {
            let first = topology.online.first().copied().unwrap_or(0);
            pairs.extend(topology.online.iter().map(|&c| (first, c)));
        } else {
            for &c in &cpus.client {
                pairs.extend(cpus.server.iter().map(|&s| (c, s)));
            }
        }
    }
    if !plan.cases.iter().any(|c| c.spec.instrument.stages) {
        return Ok(None);
    }
    let sync = clock_sync::check(&pairs).context("checking the clocks for --stages")?;
    if let Some(why) = sync.refusal() {
        return Err(UsageError(why).into());
    }
    Ok(Some(sync))
}

/// Plans, checks and runs `request`, telling `observer` (e.g. a progress bar) as it goes.
/// Stops early when `interrupt` becomes true; what finished is kept.
#[doc(hidden)]
pub fn run(
    request: RunRequest,
    observer: &mut dyn Observer,
    interrupt: &AtomicBool,
) -> Result<RunResult> {
    crate::transport::ignore_sigpipe();
    let topology = Topology::detect();
    let seed = request.seed.unwrap_or_else(rand::random);
    let mut plan = Plan::new(request.specs, &topology, seed, request.interleave)?;
    if request.no_canary {
        plan.canary = None;
    }
    plan.precision = request.precision;
    let clamped = preflight(&plan)?;
    let stage_clock = check_stage_clock(&plan, &topology)?;
    let started = SystemTime::now();
    let run_id = new_run_id(started);
    let mut record = RunRecord {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.clone(),
        tool: ToolInfo::current(),
        command_line: request.command_line,
        suite: request.suite,
        label: request.label,
        started_at: humantime::format_rfc3339_nanos(started).to_string(),
        finished_at: None,
        complete: false,
        interrupted: false,
        seed,
        environment: Environment::capture(),
        timer: check_timer(100_000),
        stage_clock,
        cases: plan
            .case_records()
            .into_iter()
            .zip(clamped)
            .map(|(mut case, clamped)| {
                case.notes.extend(clamped.iter().map(Clamped::sentence));
                case.clamped = clamped;
                case
            })
            .collect(),
        schedule: plan.recorded_schedule(),
        trust: Some(RunTrust {
            canary: plan.canary,
            policy: Policy::default(),
            bands: Vec::new(),
            precision: None,
        }),
        skipped: request.skipped,
    };
    let mut store = match &request.results_dir {
        Some(dir) => Some(StoreObserver::new(RunDir::create(dir, &run_id)?)),
        None => None,
    };
    if let Some(s) = &store {
        s.dir().write_record(&record)?;
    }
    let dir = store.as_ref().map(|s| s.dir().path().to_path_buf());
    let histograms = {
        let mut observers: Vec<&mut dyn Observer> = Vec::new();
        if let Some(s) = store.as_mut() {
            observers.push(s);
        }
        observers.push(observer);
        let mut taker = request
            .turns
            .as_deref()
            .map(|turns| TurnTaker { turns, interrupt });
        if let Some(t) = taker.as_mut() {
            observers.push(t);
        }
        execute(&plan, &mut record, &mut Tee(observers), interrupt)?
    };
    record.finished_at = Some(humantime::format_rfc3339_nanos(SystemTime::now()).to_string());
    if let Some(s) = &store {
        s.dir().write_record(&record)?;
    }
    Ok(RunResult {
        record,
        histograms,
        dir,
        deadline_reached: None,
    })
}
