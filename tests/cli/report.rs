//! `loopbench report`, `list` and `show` on stored runs, and their refusals (exit 2).

use std::path::Path;
use std::time::Duration;

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

use crate::helpers::loopbench;

/// Measures a small run into `results` (pipe and shm, counted), with or without its report.
fn measure(results: &Path, report: bool) {
    let mut cmd = loopbench();
    cmd.args([
        "run", "-t", "pipe,shm", "-e", "blocking", "-n", "2", "-c", "100", "--warmup", "0", "-q",
        "-o",
    ])
    .arg(results);
    if !report {
        cmd.arg("--no-report");
    }
    cmd.timeout(Duration::from_secs(60)).assert().success();
}

fn runs(results: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(results.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn run_writes_the_report_and_report_list_show_read_runs_back() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path();
    measure(results, true);
    std::thread::sleep(Duration::from_millis(1100)); // run ids are to the second
    measure(results, false);
    let [first, second] = runs(results).try_into().unwrap();
    assert!(
        first.join("report.html").is_file(),
        "run writes the report by default"
    );
    assert!(!second.join("report.html").exists(), "--no-report");

    loopbench()
        .args(["report", "latest", "-o"])
        .arg(results)
        .assert()
        .success()
        .stdout(
            contains("report.html")
                .and(contains("summary.md"))
                .and(contains("summary.csv")),
        );
    for f in [
        "report.html",
        "summary.md",
        "summary.csv",
        "plots/spectrum-pipe-rr-blocking-cross-core-64B.svg",
    ] {
        assert!(second.join(f).is_file(), "{f}");
    }
    loopbench()
        .arg("report")
        .arg(second.join("run.json"))
        .assert()
        .success();

    let id = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    loopbench()
        .args(["list", "-o"])
        .arg(results)
        .assert()
        .success()
        .stdout(
            contains(id(&first))
                .and(contains(id(&second)))
                .and(contains("complete")),
        );
    let listed: serde_json::Value = serde_json::from_slice(
        &loopbench()
            .args(["list", "--json", "-o"])
            .arg(results)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(listed["schema_version"], 1);
    assert_eq!(listed["runs"].as_array().unwrap().len(), 2);
    assert_eq!(listed["runs"][1]["cases"], 2);
    assert_eq!(listed["runs"][1]["report"], true);

    loopbench()
        .args(["show", "-o"])
        .arg(results)
        .assert()
        .success()
        .stdout(contains("pipe-rr-blocking-cross-core-64B").and(contains("p50 µs")));
    loopbench()
        .arg("show")
        .arg(&first)
        .arg("shm")
        .assert()
        .success()
        .stdout(
            contains("shm-rr-blocking-cross-core-64B (run ")
                .and(contains("iteration"))
                .and(contains("p99.99 µs")),
        );
}

#[test]
fn a_corrupt_run_is_listed_as_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("runs/20260101T000000Z-bad0");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("run.json"), "{ truncated").unwrap();
    loopbench()
        .args(["list", "-o"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(contains("20260101T000000Z-bad0").and(contains("unreadable")));
    loopbench()
        .args(["report", "latest", "-o"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("not valid JSON"));
}

fn refused(args: &[&str], results: &Path, message: &str) {
    loopbench()
        .args(args)
        .arg("-o")
        .arg(results)
        .assert()
        .code(2)
        .stderr(contains("error:"))
        .stderr(contains(message))
        .stderr(contains("panicked").not());
}

#[test]
fn missing_runs_and_cases_exit_2_and_say_what_to_do() {
    let empty = tempfile::tempdir().unwrap();
    refused(&["report", "nope"], empty.path(), "no run 'nope'");
    refused(&["show"], empty.path(), "no runs in");
    refused(&["report"], empty.path(), "loopbench suite");
    let dir = tempfile::tempdir().unwrap();
    measure(dir.path(), false);
    refused(
        &["show", "latest", "tcp9"],
        dir.path(),
        "has no case matching 'tcp9'; its cases are: pipe-rr-blocking-cross-core-64B",
    );
    refused(
        &["show", "latest", "rr-blocking"],
        dir.path(),
        "'rr-blocking' matches 2 cases",
    );
}
