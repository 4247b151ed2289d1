//! Network-namespace isolation: each run of a variant is a child process (`loopbench __variant`,
//! the job on stdin) that unshares CLONE_NEWNET, brings its lo up, applies and reads back the
//! variant's settings, measures, and stores the run. The child dies with the study (SIGKILL on
//! parent death), and with it the namespace: nothing of it outlives the study.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::cpucost;
use super::namespace;
use super::record::{CaseMapping, STUDY_SCHEMA_VERSION, VariantRunRecord, write_json};
use super::settings::{AppliedSetting, NamespaceSettings};
use crate::error::UsageError;
use crate::host::child::{Ended, supervise};
use crate::host::environment::Environment;
use crate::host::topology::Topology;
use crate::loopback::netns::enter_private;
use crate::run::runner::NoObserver;
use crate::run::session::{RunRequest, run};
use crate::spec::{CaseId, Spec};

/// The hidden subcommand the child runs.
pub const CHILD_SUBCOMMAND: &str = "__variant";

/// What a child is sent after Ctrl-C: SIGINT (it stores what it finished), then SIGKILL when it
/// has not stopped within 15 s.
const STOP_SIGNALS: &[(Duration, Signal)] = &[
    (Duration::ZERO, Signal::SIGINT),
    (Duration::from_secs(15), Signal::SIGKILL),
];

/// Exit code of a child whose variant was refused (settings did not take).
pub const EXIT_REFUSED: i32 = 2;

/// Everything a variant's child needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VariantJob {
    /// The study.
    pub study_id: String,
    /// The study's name.
    pub study_name: String,
    /// The variant.
    pub variant: String,
    /// The round.
    pub round: u32,
    /// Seed of the run's case order.
    pub run_seed: u64,
    /// The cases with the variant's overrides.
    pub specs: Vec<Spec>,
    /// The study's case ids, parallel to `specs`.
    pub study_cases: Vec<CaseId>,
    /// What to apply in the namespace.
    pub namespace: NamespaceSettings,
    /// Host values of per-namespace sysctls to copy in first.
    pub inherit: BTreeMap<String, String>,
    /// What the parent applied on the host for this run.
    pub host_settings: Vec<AppliedSetting>,
    /// The host's environment.
    pub host_environment: Environment,
    /// The study directory (the run goes to `runs/<run-id>/` under it).
    pub study_dir: PathBuf,
    /// The study's command line, recorded in run.json.
    pub command_line: Vec<String>,
    /// `study --no-canary`: the run takes no drift canary.
    #[serde(default)]
    pub no_canary: bool,
}

/// What the child reports on its last line of stdout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantOutcome {
    /// The stored run.
    pub run_id: String,
    /// True after Ctrl-C.
    pub interrupted: bool,
    /// `case: error` for every failed case.
    pub case_errors: Vec<String>,
}

/// The run a variant's child measures: the job's cases, interleaved in its seed's order, stored
/// in the study directory.
pub fn run_request(job: &VariantJob) -> RunRequest {
    RunRequest {
        specs: job.specs.clone(),
        seed: Some(job.run_seed),
        interleave: true,
        suite: None,
        label: Some(format!(
            "study {} variant {} round {}",
            job.study_name, job.variant, job.round
        )),
        command_line: job.command_line.clone(),
        results_dir: Some(job.study_dir.clone()),
        no_canary: job.no_canary,
        ..RunRequest::default()
    }
}

/// The child's work, inside its own namespace.
pub fn child_main(job: VariantJob, interrupt: &AtomicBool) -> Result<VariantOutcome> {
    let ns = enter_private()?;
    namespace::inherit(&ns, &job.inherit)?;
    let applied = namespace::apply(&ns, &job.namespace)
        .with_context(|| format!("variant '{}' refused", job.variant))?;
    let request = run_request(&job);
    let topology = Topology::detect();
    let window = cpucost::start(&topology.online);
    let result = run(request, &mut NoObserver, interrupt)?;
    let cpu_cost = window.finish(cpucost::worker_cpus(&job.specs, &topology));
    let dir = result.dir.clone().context("the run was not stored")?;
    let record = VariantRunRecord {
        schema_version: STUDY_SCHEMA_VERSION,
        study_id: job.study_id,
        variant: job.variant,
        round: job.round,
        cases: job
            .study_cases
            .iter()
            .zip(&job.specs)
            .map(|(s, spec)| CaseMapping {
                study_case: s.clone(),
                run_case: spec.case_id(),
            })
            .collect(),
        namespace_settings: applied,
        inherited_sysctls: job.inherit,
        host_settings: job.host_settings,
        host_environment: job.host_environment,
        cpu_cost: Some(cpu_cost),
    };
    write_json(&dir.join("variant.json"), &record)?;
    Ok(VariantOutcome {
        run_id: result.record.run_id.clone(),
        interrupted: result.record.interrupted,
        case_errors: result
            .record
            .cases
            .iter()
            .filter(|c| !c.errors.is_empty())
            .map(|c| format!("{}: {}", c.case_id, c.errors.join("; ")))
            .collect(),
    })
}

fn reader<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Runs `job` in a child process of `exe`, waiting at most `deadline`; Ctrl-C (`interrupt`) is
/// passed on to the child once, and a child that does not stop is killed.
pub fn run_child(
    exe: &Path,
    job: &VariantJob,
    interrupt: &AtomicBool,
    deadline: Duration,
) -> Result<VariantOutcome> {
    let parent = std::process::id() as libc::pid_t;
    let mut cmd = Command::new(exe);
    cmd.arg(CHILD_SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: the terminal's Ctrl-C reaches the study, which passes it on.
        .process_group(0);
    // SAFETY: only async-signal-safe calls between fork and exec: prctl, getppid, _exit.
    unsafe {
        cmd.pre_exec(move || {
            // Die with the study, even on SIGKILL; check for a parent that died before prctl.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let job_json = serde_json::to_vec(job)?;
    let mut stdin = child.stdin.take().context("child stdin")?;
    let out = reader(child.stdout.take().context("child stdout")?);
    let err = reader(child.stderr.take().context("child stderr")?);
    let _ = stdin.write_all(&job_json);
    drop(stdin);
    let killed = |why: String| {
        anyhow!(
            "variant '{}' round {} did not finish {why}; its process was killed",
            job.variant,
            job.round
        )
    };
    let status = match supervise(&mut child, deadline, interrupt, STOP_SIGNALS)? {
        Ended::Exited { status, .. } => status,
        Ended::Overdue => return Err(killed(format!("within {} s", deadline.as_secs()))),
        Ended::KilledAfterInterrupt => return Err(killed("after Ctrl-C".into())),
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if let Some(outcome) = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<VariantOutcome>(l).ok())
    {
        return Ok(outcome);
    }
    let message = stderr
        .lines()
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ");
    let message = if message.trim().is_empty() {
        format!("the variant's process ended with {status} and said nothing")
    } else {
        message
    };
    if status.code() == Some(EXIT_REFUSED) {
        Err(UsageError(message).into())
    } else {
        Err(anyhow!(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the fake child, retrying while another test thread's fork still holds the script
    /// open for writing (ETXTBSY).
    fn run_fake(exe: &Path, job: &VariantJob, limit: Duration) -> Result<VariantOutcome> {
        let flag = AtomicBool::new(false);
        for _ in 0..50 {
            match run_child(exe, job, &flag, limit) {
                Err(e) if format!("{e:#}").contains("Text file busy") => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                other => return other,
            }
        }
        run_child(exe, job, &flag, limit)
    }

    #[test]
    fn a_child_that_reports_nothing_is_an_error_with_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("fake");
        std::fs::write(
            &exe,
            "#!/bin/sh\necho 'error: lo_mtu 9 cannot be applied' >&2\nexit 2\n",
        )
        .unwrap();
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let job = VariantJob {
            study_id: "s".into(),
            study_name: "s".into(),
            variant: "v".into(),
            round: 1,
            run_seed: 0,
            specs: vec![],
            study_cases: vec![],
            namespace: NamespaceSettings::default(),
            inherit: BTreeMap::new(),
            host_settings: vec![],
            host_environment: Environment::default(),
            study_dir: dir.path().to_path_buf(),
            command_line: vec![],
            no_canary: false,
        };
        let err = run_fake(&exe, &job, Duration::from_secs(10)).unwrap_err();
        assert!(crate::error::is_usage_error(&err));
        assert_eq!(err.to_string(), "lo_mtu 9 cannot be applied");
        std::fs::write(&exe, "#!/bin/sh\nsleep 30\n").unwrap();
        let err = run_fake(&exe, &job, Duration::from_millis(300)).unwrap_err();
        assert!(err.to_string().contains("did not finish within"), "{err}");
        std::fs::write(&exe, "#!/bin/sh\ncat >/dev/null\necho '{\"run_id\":\"r\",\"interrupted\":false,\"case_errors\":[]}'\n")
            .unwrap();
        let ok = run_fake(&exe, &job, Duration::from_secs(10)).unwrap();
        assert_eq!(ok.run_id, "r");
    }
}
