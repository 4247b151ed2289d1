//! A/B in one job: two commands (two builds of loopbench, or two configurations) run in K
//! rounds on the same machine. In a round both commands either start together and take turns,
//! one iteration (or warm-up) each, in a random order per pair of turns (`--interleave
//! iterations`, the default: [`super::turns`]), or run whole one after the other in a random order
//! (`--interleave runs`). Every run lands in the session directory
//! (`<results>/ab/<id>/{base,new}/runs/`), the rounds of one side are pooled as that side's
//! samples, and the two sides are compared with the gate (pair by pair: iterations of a turn, or
//! runs of a round).
//!
//! Why: comparing blocks measured minutes apart on a shared machine mistakes drift for
//! regressions; randomized interleaving spreads the drift over both sides, and the finer the
//! interleaving the less drift separates the two members of a pair.
//!
//! Each command runs under `sh -c` with `LOOPBENCH_OUTPUT` set to its side's directory (the
//! default of `loopbench run --output`), and `{out}` in the command replaced by that directory
//! (for builds that predate the variable). Its output goes to a log file next to the runs.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::turns::{self, SideCommand};
use crate::error::UsageError;
use crate::host::child::{Ended, supervise};
use crate::run::schedule::Scheduler;
use crate::run::turns::TURNS_ENV;
use crate::store::write_json;

pub use crate::store::OUTPUT_ENV;

/// What an interrupted command is sent: SIGINT, so it stores what it measured; SIGTERM after 2 s,
/// because a SIGINT that lands while the shell is starting is occasionally lost (seen about once
/// in 15 tries on a loaded machine; loopbench stores what it finished on either signal); SIGKILL
/// after 10 s.
const STOP_SIGNALS: &[(Duration, Signal)] = &[
    (Duration::ZERO, Signal::SIGINT),
    (Duration::from_secs(2), Signal::SIGTERM),
    (Duration::from_secs(10), Signal::SIGKILL),
];

/// One of the two configurations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The reference (e.g. the base commit).
    Base,
    /// The candidate.
    New,
}

impl Arm {
    /// `base` or `new`: also the side's directory name.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Base => "base",
            Arm::New => "new",
        }
    }
}

/// What to run.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AbRequest {
    /// The base command (a shell command line).
    pub base_cmd: String,
    /// The new command.
    pub new_cmd: String,
    /// Rounds; each runs both commands once.
    pub rounds: u32,
    /// Seed of the order within rounds.
    pub seed: u64,
    /// The session directory.
    pub dir: PathBuf,
    /// Longest one command may run.
    pub command_timeout: Duration,
    /// How the two commands of a round share the machine.
    #[serde(default)]
    pub interleave: Interleave,
    /// `--precision`: `rounds` is then the minimum, and rounds are added until the comparison
    /// is precise enough or the time is spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<AbPrecision>,
}

/// How the two commands of a round share the machine (`--interleave`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Interleave {
    /// One after the other, in a random order: each runs whole (the only way before turns;
    /// what ab.json files without this field did).
    #[default]
    Runs,
    /// Both started together, measuring one slot (iteration or warm-up) each in turn, in a
    /// random order per pair of turns ([`crate::run::turns`]).
    Iterations,
}

/// What `ab --precision` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AbPrecision {
    /// The target half-width of every compared case's ratio interval, relative (0.02: ±2 %).
    pub target_rel: f64,
    /// `--max-time`: the most time all rounds together may take, in nanoseconds.
    pub max_time_ns: u64,
}

impl AbRequest {
    /// Refuses what cannot run: no rounds, or a command timeout of zero (every command would
    /// be killed at once).
    pub fn check(&self) -> Result<(), crate::error::ConfigError> {
        use crate::error::ConfigError;
        if self.rounds == 0 {
            return Err(ConfigError::Invalid("--rounds must be at least 1".into()));
        }
        if self.command_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "--command-timeout must be greater than zero: it is how long one command may run"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// One command execution.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Invocation {
    /// Round, from 1.
    pub round: u32,
    /// Which side.
    pub arm: Arm,
    /// The command as run (after `{out}` substitution).
    pub command: String,
    /// Its log file (stdout and stderr).
    pub log: PathBuf,
    /// Run ids it wrote.
    pub runs: Vec<String>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Version of the `ab.json` layout.
pub const SCHEMA_VERSION: u32 = 1;

/// `ab.json`: the request, and every invocation in the order it ran.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AbSession {
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What was asked.
    pub request: AbRequest,
    /// What ran.
    pub invocations: Vec<Invocation>,
    /// True when every round finished.
    pub complete: bool,
    /// With `--precision`: why the rounds stopped (`reached`, `max-time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The order of the two commands in every round: a seeded coin flip per round.
pub fn schedule(rounds: u32, seed: u64) -> Vec<[Arm; 2]> {
    let mut scheduler = Scheduler::seeded(seed);
    (0..rounds).map(|_| next_round(&mut scheduler)).collect()
}

/// The order of the two commands in the next round.
fn next_round(scheduler: &mut Scheduler) -> [Arm; 2] {
    const ARMS: [Arm; 2] = [Arm::Base, Arm::New];
    let order = scheduler.round(ARMS.len());
    [ARMS[order[0]], ARMS[order[1]]]
}

/// The directory a side's runs go to.
pub fn side_dir(session: &Path, arm: Arm) -> PathBuf {
    session.join(arm.name())
}

/// Quotes `s` for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The command with `{out}` replaced by the (quoted) side directory.
pub fn expand(cmd: &str, out: &Path) -> String {
    cmd.replace("{out}", &shell_quote(&out.to_string_lossy()))
}

/// Run ids under `<side>/runs`.
fn run_ids(side: &Path) -> Vec<String> {
    crate::store::find::run_dirs(side)
        .into_iter()
        .filter(|d| d.join("run.json").is_file())
        .filter_map(|d| Some(d.file_name()?.to_string_lossy().into_owned()))
        .collect()
}

/// Runs `cmd` under `sh -c` in its own process group, logging to `log`, until it exits, the
/// timeout passes (killed: an error) or `interrupt` is set (SIGINT, SIGTERM, then SIGKILL after
/// a grace period: [`crate::error::Interrupted`]).
fn run_command(
    cmd: &str,
    out: &Path,
    log: &Path,
    timeout: Duration,
    interrupt: &AtomicBool,
) -> Result<ExitStatus> {
    let side = SideCommand {
        command: cmd,
        out,
        log,
    };
    let mut child = side.shell()?.spawn().context("cannot start sh")?;
    ended_status(
        supervise(&mut child, timeout, interrupt, STOP_SIGNALS)?,
        timeout,
        log,
    )
}

/// A supervised command's end as its exit status, or the error of a kill or an interrupt.
fn ended_status(ended: Ended, timeout: Duration, log: &Path) -> Result<ExitStatus> {
    match ended {
        Ended::Exited {
            status,
            interrupted: false,
        } => Ok(status),
        Ended::Exited { .. } | Ended::KilledAfterInterrupt => Err(crate::error::Interrupted.into()),
        Ended::Overdue => bail!(
            "did not finish within {} (--command-timeout) and was killed; see {}",
            humantime::format_duration(timeout),
            log.display()
        ),
    }
}

/// A command that exited well with `--interleave iterations` must have taken turns: one that
/// did not measured on its own, next to the other side's turns.
fn took_turns(status: ExitStatus, turns: u32, inv: &Invocation) -> Result<ExitStatus> {
    if status.success() && turns == 0 {
        return Err(UsageError(format!(
            "the {} command of round {} ran without taking turns: `ab --interleave iterations` \
             needs `loopbench run` (or `suite`) of a build that takes turns ({TURNS_ENV}); \
             use `--interleave runs` for an older build or another command",
            inv.arm.name(),
            inv.round
        ))
        .into());
    }
    Ok(status)
}

/// One side's command of one round, before it runs.
struct Prepared {
    arm: Arm,
    round: u32,
    command: String,
    out: PathBuf,
    log: PathBuf,
    before: Vec<String>,
}

impl Prepared {
    fn new(request: &AbRequest, arm: Arm, round: u32, logs: &Path) -> Prepared {
        let out = side_dir(&request.dir, arm);
        let template = match arm {
            Arm::Base => &request.base_cmd,
            Arm::New => &request.new_cmd,
        };
        Prepared {
            arm,
            round,
            command: expand(template, &out),
            log: logs.join(format!("round-{round:03}-{}.log", arm.name())),
            before: run_ids(&out),
            out,
        }
    }

    /// The invocation it was, with the runs it wrote.
    fn invocation(self, seconds: f64) -> Invocation {
        let runs = run_ids(&self.out)
            .into_iter()
            .filter(|id| !self.before.contains(id))
            .collect();
        Invocation {
            round: self.round,
            arm: self.arm,
            command: self.command,
            log: self.log,
            runs,
            seconds,
        }
    }
}

/// Fails (as a usage error, naming the log) when the command failed or wrote no run.
fn check_invocation(inv: &Invocation, out: &Path, status: Result<ExitStatus>) -> Result<()> {
    let (arm, round) = (inv.arm.name(), inv.round);
    let status = status.with_context(|| format!("the {arm} command of round {round}"))?;
    if !status.success() {
        return Err(UsageError(format!(
            "the {arm} command of round {round} failed ({status}): {}\nlast lines of {}:\n{}",
            inv.command,
            inv.log.display(),
            tail(&inv.log, 8)
        ))
        .into());
    }
    if inv.runs.is_empty() {
        return Err(UsageError(format!(
            "the {arm} command of round {round} wrote no run into {}: make it a `loopbench run ...` command \
             (ab sets {OUTPUT_ENV}), or pass `--output {{out}}` to it",
            out.display()
        ))
        .into());
    }
    Ok(())
}

/// The last `n` lines of a log, for error messages.
fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs every round, writing `ab.json` after each invocation (after each round when the commands
/// take turns: both end together). `progress` hears about each invocation as it finishes. With `--precision`, after the first `rounds` rounds `precise` is
/// asked after every round whether the comparison is precise enough, and rounds go on until it
/// is or another round would not fit in `--max-time`. Fails (as a usage error, naming the log)
/// when a command fails or writes no run.
pub fn run_ab(
    request: &AbRequest,
    interrupt: &AtomicBool,
    progress: &mut dyn FnMut(&Invocation),
    precise: &mut dyn FnMut(&AbSession) -> Result<bool>,
) -> Result<AbSession> {
    request.check()?;
    let mut session = AbSession {
        schema_version: SCHEMA_VERSION,
        request: request.clone(),
        invocations: Vec::new(),
        complete: false,
        stopped: None,
    };
    let logs = request.dir.join("logs");
    for dir in [
        logs.clone(),
        side_dir(&request.dir, Arm::Base),
        side_dir(&request.dir, Arm::New),
    ] {
        std::fs::create_dir_all(&dir).map_err(|e| {
            UsageError(format!(
                "cannot create {}: {e}; choose a writable --output directory",
                dir.display()
            ))
        })?;
    }
    let save = |s: &AbSession| write_json(&request.dir.join("ab.json"), s);
    save(&session)?;
    let mut scheduler = Scheduler::seeded(request.seed);
    let started = Instant::now();
    for round in 1.. {
        if round > request.rounds {
            let Some(p) = request.precision else { break };
            if precise(&session)? {
                session.stopped = Some("reached".into());
                break;
            }
            let per_round = started.elapsed() / (round - 1);
            if started.elapsed() + per_round > Duration::from_nanos(p.max_time_ns) {
                session.stopped = Some("max-time".into());
                break;
            }
        }
        // Records what ran (every invocation of the round before any is judged: nothing is
        // lost when one failed or was interrupted), then fails on the first that failed.
        let mut ran = |done: Vec<(Invocation, Result<ExitStatus>)>| {
            session
                .invocations
                .extend(done.iter().map(|(inv, _)| inv.clone()));
            save(&session)?;
            for (inv, status) in done {
                check_invocation(&inv, &side_dir(&request.dir, inv.arm), status)?;
                progress(&inv);
            }
            anyhow::Ok(())
        };
        match request.interleave {
            Interleave::Runs => {
                for arm in next_round(&mut scheduler) {
                    let side = Prepared::new(request, arm, round, &logs);
                    let started = Instant::now();
                    let status = run_command(
                        &side.command,
                        &side.out,
                        &side.log,
                        request.command_timeout,
                        interrupt,
                    );
                    let inv = side.invocation(started.elapsed().as_secs_f64());
                    ran(vec![(inv, status)])?;
                }
            }
            Interleave::Iterations => {
                let sides =
                    [Arm::Base, Arm::New].map(|arm| Prepared::new(request, arm, round, &logs));
                let commands = sides.each_ref().map(|s| SideCommand {
                    command: &s.command,
                    out: &s.out,
                    log: &s.log,
                });
                let timeout = request.command_timeout;
                let outcomes =
                    turns::run_round(commands, &mut scheduler, timeout, STOP_SIGNALS, interrupt)
                        .with_context(|| format!("round {round}"))?;
                let done = sides.into_iter().zip(outcomes).map(|(side, outcome)| {
                    let inv = side.invocation(outcome.seconds);
                    let status = ended_status(outcome.ended, request.command_timeout, &inv.log)
                        .and_then(|status| took_turns(status, outcome.turns, &inv));
                    (inv, status)
                });
                ran(done.collect())?;
            }
        }
    }
    session.complete = true;
    save(&session)?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_runs_both_arms_in_a_seeded_random_order() {
        let s = schedule(40, 9);
        assert!(
            s.iter()
                .all(|r| r.contains(&Arm::Base) && r.contains(&Arm::New))
        );
        let base_first = s.iter().filter(|r| r[0] == Arm::Base).count();
        assert!((8..=32).contains(&base_first), "{base_first} of 40");
        assert_eq!(s, schedule(40, 9));
        assert_ne!(s, schedule(40, 10));
    }

    #[test]
    fn out_placeholders_are_quoted_for_the_shell() {
        assert_eq!(
            expand("lb run -o {out}", Path::new("/tmp/a b/it's")),
            "lb run -o '/tmp/a b/it'\\''s'"
        );
        assert_eq!(expand("lb run", Path::new("/x")), "lb run");
    }

    fn request(dir: &Path, base: &str, new: &str) -> AbRequest {
        AbRequest {
            base_cmd: base.into(),
            new_cmd: new.into(),
            rounds: 2,
            seed: 1,
            dir: dir.to_path_buf(),
            command_timeout: Duration::from_secs(20),
            interleave: Interleave::Runs,
            precision: None,
        }
    }

    /// A fake "run": writes an (empty) run.json into the side directory the variable names.
    const FAKE_RUN: &str =
        r#"d="$LOOPBENCH_OUTPUT/runs/r$(date +%s%N)"; mkdir -p "$d" && echo '{}' > "$d/run.json""#;

    #[test]
    fn commands_run_interleaved_and_their_runs_are_attributed() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let mut seen = Vec::new();
        let s = run_ab(
            &request(dir.path(), FAKE_RUN, FAKE_RUN),
            &never,
            &mut |i| seen.push((i.round, i.arm)),
            &mut |_| panic!("no --precision: never asked"),
        )
        .unwrap();
        assert!(s.complete);
        assert_eq!(seen.len(), 4);
        assert!(s.invocations.iter().all(|i| i.runs.len() == 1), "{s:?}");
        assert_eq!(run_ids(&side_dir(dir.path(), Arm::Base)).len(), 2);
        assert_eq!(run_ids(&side_dir(dir.path(), Arm::New)).len(), 2);
        let saved: AbSession =
            serde_json::from_slice(&std::fs::read(dir.path().join("ab.json")).unwrap()).unwrap();
        assert_eq!(saved.invocations.len(), 4);
    }

    /// A fake turn-taking "run" of 2 slots: says idle, waits for its turn, measures nothing,
    /// then writes its (empty) run.json. /proc/self/fd: dash redirects no descriptor above 9.
    const FAKE_TAKER: &str = r#"set -- ${LOOPBENCH_TURNS%,*} ${LOOPBENCH_TURNS#*,}
        for slot in 1 2; do printf i >/proc/self/fd/$2; [ -n "$(head -c1 </proc/self/fd/$1)" ] || exit 0; done
        d="$LOOPBENCH_OUTPUT/runs/r$(date +%s%N)"; mkdir -p "$d" && echo '{}' > "$d/run.json""#;

    #[test]
    fn with_turns_both_commands_of_a_round_run_together_and_their_runs_are_attributed() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let mut req = request(dir.path(), FAKE_TAKER, FAKE_TAKER);
        req.interleave = Interleave::Iterations;
        let mut seen = Vec::new();
        let s = run_ab(
            &req,
            &never,
            &mut |i| seen.push((i.round, i.arm)),
            &mut |_| panic!("no --precision: never asked"),
        )
        .unwrap();
        assert!(s.complete);
        assert_eq!(
            seen,
            [(1, Arm::Base), (1, Arm::New), (2, Arm::Base), (2, Arm::New)]
        );
        assert!(s.invocations.iter().all(|i| i.runs.len() == 1), "{s:?}");
        assert_eq!(run_ids(&side_dir(dir.path(), Arm::New)).len(), 2);
    }

    #[test]
    fn with_turns_a_command_that_takes_none_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let mut req = request(dir.path(), FAKE_TAKER, FAKE_RUN);
        req.interleave = Interleave::Iterations;
        let err = run_ab(&req, &never, &mut |_| {}, &mut |_| Ok(true)).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("new command of round 1 ran without taking turns")
                && text.contains("--interleave runs"),
            "{text}"
        );
        assert!(crate::error::is_usage_error(&err));
    }

    #[test]
    fn with_a_precision_rounds_go_on_until_precise_or_out_of_time() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let mut req = request(dir.path(), FAKE_RUN, FAKE_RUN);
        req.precision = Some(AbPrecision {
            target_rel: 0.02,
            max_time_ns: 60_000_000_000,
        });
        let mut asked = Vec::new();
        let s = run_ab(&req, &never, &mut |_| {}, &mut |s| {
            asked.push(s.invocations.len());
            Ok(asked.len() == 3)
        })
        .unwrap();
        assert_eq!(asked, vec![4, 6, 8], "asked after rounds 2, 3 and 4");
        assert_eq!(s.stopped.as_deref(), Some("reached"));
        assert!(s.complete);
        req.precision = Some(AbPrecision {
            target_rel: 0.02,
            max_time_ns: 1,
        });
        let dir = tempfile::tempdir().unwrap();
        req.dir = dir.path().to_path_buf();
        let s = run_ab(&req, &never, &mut |_| {}, &mut |_| Ok(false)).unwrap();
        assert_eq!(
            s.invocations.len(),
            4,
            "the minimum rounds, then out of time"
        );
        assert_eq!(s.stopped.as_deref(), Some("max-time"));
    }

    #[test]
    fn a_failing_command_stops_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let err = run_ab(
            &request(dir.path(), FAKE_RUN, "echo broken build >&2; exit 3"),
            &never,
            &mut |_| {},
            &mut |_| Ok(true),
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("new command") && text.contains("broken build"),
            "{text}"
        );
        assert!(crate::error::is_usage_error(&err));
    }

    #[test]
    fn a_command_that_writes_no_run_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let err = run_ab(
            &request(dir.path(), "true", "true"),
            &never,
            &mut |_| {},
            &mut |_| Ok(true),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("wrote no run"), "{err:#}");
    }

    #[test]
    fn a_hanging_command_is_killed_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let mut req = request(dir.path(), "sleep 30", "sleep 30");
        req.command_timeout = Duration::from_millis(300);
        let started = Instant::now();
        let err = run_ab(&req, &never, &mut |_| {}, &mut |_| Ok(true)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(format!("{err:#}").contains("did not finish"), "{err:#}");
    }

    #[test]
    fn an_interrupt_stops_the_running_command() {
        let dir = tempfile::tempdir().unwrap();
        let interrupted = AtomicBool::new(true);
        let started = Instant::now();
        let err = run_ab(
            &request(dir.path(), "sleep 30", "sleep 30"),
            &interrupted,
            &mut |_| {},
            &mut |_| Ok(true),
        )
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            err.chain()
                .any(|c| { c.downcast_ref::<crate::error::Interrupted>().is_some() })
        );
    }
}
