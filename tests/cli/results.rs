//! One way to name results: every command that reads or writes results takes `-o/--output`
//! (`--results` is a hidden alias) and honours `LOOPBENCH_OUTPUT`, and every command that takes a
//! run resolves it the same way (directory, run.json, `latest`, run id, unique id prefix,
//! baseline name).

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::compare::{around, fake_run};
use crate::helpers::loopbench;

const OLD: &str = "20260101T000000Z-aaaa";
const NEW: &str = "20260102T000000Z-bbbb";

/// How a command is told where the results are.
#[derive(Clone, Copy, Debug)]
enum Via {
    Flag,
    Alias,
    Env,
}

/// `loopbench ARGS` run in an empty working directory (so the default `results` is not there),
/// pointed at `results` the way `via` says.
fn at(results: &Path, via: Via, args: &[&str]) -> Command {
    let cwd = tempfile::tempdir().unwrap().keep();
    let mut cmd = loopbench();
    cmd.current_dir(cwd).args(args);
    match via {
        Via::Flag => cmd.arg("-o").arg(results),
        Via::Alias => cmd.arg("--results").arg(results),
        Via::Env => cmd.env("LOOPBENCH_OUTPUT", results),
    };
    cmd.timeout(Duration::from_secs(60));
    cmd
}

fn stdout(cmd: &mut Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

fn stderr(cmd: &mut Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// A results directory with two runs of the same numbers.
fn two_runs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let old = fake_run(dir.path(), OLD, around(5000.0), around(1e5));
    let new = fake_run(dir.path(), NEW, around(5000.0), around(1e5));
    (dir, old, new)
}

#[test]
fn every_command_finds_the_same_runs_by_flag_alias_and_environment() {
    for via in [Via::Flag, Via::Alias, Via::Env] {
        let (dir, old, _) = two_runs();
        let r = dir.path();
        let list: Value =
            serde_json::from_str(&stdout(&mut at(r, via, &["list", "--json"]), 0)).unwrap();
        let ids: Vec<&str> = list["runs"]
            .as_array()
            .unwrap_or_else(|| panic!("{via:?}: {list}"))
            .iter()
            .map(|e| e["run_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [OLD, NEW], "{via:?}");
        let show = stdout(&mut at(r, via, &["show"]), 0);
        assert!(
            show.contains(NEW),
            "{via:?}: show names the latest run: {show}"
        );
        let show = stdout(&mut at(r, via, &["show", "20260101"]), 0);
        assert!(show.contains(OLD), "{via:?}: a prefix names a run: {show}");
        let report = stdout(&mut at(r, via, &["report", "20260101"]), 0);
        assert!(
            report.contains(&*old.to_string_lossy()),
            "{via:?}: {report}"
        );
        stderr(&mut at(r, via, &["baseline", "save", "main", "2026010"]), 2);
        stderr(&mut at(r, via, &["baseline", "save", "main", OLD]), 0);
        let baselines: Value =
            serde_json::from_str(&stdout(&mut at(r, via, &["baseline", "list", "--json"]), 0))
                .unwrap();
        assert_eq!(baselines["baselines"][0]["name"], "main", "{via:?}");
        for base in ["main", "20260101", OLD] {
            let out = stdout(
                &mut at(r, via, &["compare", base, "latest", "--format", "json"]),
                0,
            );
            let json: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(json["base"][0]["run_id"], OLD, "{via:?} compare {base}");
            assert_eq!(json["new"][0]["run_id"], NEW, "{via:?} compare {base}");
        }
    }
}

#[test]
fn a_name_that_matches_nothing_lists_what_was_tried() {
    let (dir, _, _) = two_runs();
    for args in [
        &["compare", "nightly", "latest"][..],
        &["show", "nightly"],
        &["report", "nightly"],
        &["baseline", "save", "x", "nightly"],
    ] {
        let err = stderr(&mut at(dir.path(), Via::Flag, args), 2);
        for tried in [
            "no run 'nightly'",
            "no file or directory nightly",
            "no run id nightly",
            "no baseline nightly",
            "starts with nightly (2 runs there)",
        ] {
            assert!(err.contains(tried), "{args:?}: {tried}: {err}");
        }
    }
}

#[test]
fn a_run_measured_under_loopbench_output_is_found_by_show_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    at(
        r,
        Via::Env,
        &[
            "run",
            "-t",
            "pipe",
            "-p",
            "unpinned",
            "-c",
            "50",
            "-n",
            "2",
            "--warmup",
            "0",
            "-q",
            "--no-report",
        ],
    )
    .assert()
    .success();
    let runs: Vec<PathBuf> = std::fs::read_dir(r.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "the run is in $LOOPBENCH_OUTPUT/runs");
    let id = runs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(stdout(&mut at(r, Via::Env, &["show"]), 0).contains(&id));
    assert!(stdout(&mut at(r, Via::Flag, &["show", &id[..12]]), 0).contains(&id));
    stdout(&mut at(r, Via::Env, &["compare", &id, "latest"]), 0);
}

#[test]
fn ab_sessions_go_under_loopbench_output() {
    let (_runs, old, _) = two_runs();
    let out = tempfile::tempdir().unwrap();
    // Each command "measures" by copying a stored run into the directory ab gives it.
    let cmd = format!(
        "mkdir -p \"$LOOPBENCH_OUTPUT/runs/r$$\" && cp {}/run.json \"$LOOPBENCH_OUTPUT/runs/r$$/\"",
        old.display()
    );
    let mut ab = at(
        out.path(),
        Via::Env,
        &[
            "ab",
            "--rounds",
            "1",
            "-q",
            // The fake command takes no turns.
            "--interleave",
            "runs",
            "--base-cmd",
            &cmd,
            "--new-cmd",
            &cmd,
        ],
    );
    ab.assert().code(0);
    let sessions = std::fs::read_dir(out.path().join("ab")).unwrap().count();
    assert_eq!(sessions, 1, "the session is in $LOOPBENCH_OUTPUT/ab");
}
