//! Shared helpers: run the binary, find and read the run it wrote.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `loopbench` binary built by cargo for this test run.
pub fn loopbench() -> Command {
    let mut cmd = Command::cargo_bin("loopbench").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The only run directory under `results`.
pub fn only_run(results: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(results.join("runs"))
        .expect("runs directory exists")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

/// run.json of a run directory, parsed.
pub fn run_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
}

/// Runs `loopbench run ARGS -q -o <fresh dir>` expecting success within a minute; returns the
/// directory (keep it alive) and the run's run.json.
pub fn run_ok(args: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .arg("run")
        .args(args)
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success();
    let json = run_json(&only_run(dir.path()));
    (dir, json)
}
