//! `loopbench history` from the command line: imports from two processes at once. The end-to-end
//! test with real runs in network namespaces is tests/history_netns.rs (a binary of its own, so
//! nothing else measures meanwhile).

use std::path::Path;

use crate::helpers::{loopbench, only_run};

/// A real short run, copied into `n` run directories under `dir` with ids `<prefix>-<i>` one
/// minute apart (the figures are the same; only the ids and times differ).
fn copies(template: &serde_json::Value, dir: &Path, prefix: &str, range: std::ops::Range<u32>) {
    for i in range {
        let mut run = template.clone();
        let id = format!("20260101T{:02}{:02}00Z-{prefix}", i / 60, i % 60);
        run["run_id"] = id.clone().into();
        run["started_at"] = format!("2026-01-01T{:02}:{:02}:00Z", i / 60, i % 60).into();
        let run_dir = dir.join("runs").join(&id);
        std::fs::create_dir_all(&run_dir).unwrap();
        std::fs::write(run_dir.join("run.json"), serde_json::to_vec(&run).unwrap()).unwrap();
    }
}

fn history_runs(db: &Path) -> Vec<serde_json::Value> {
    let out = loopbench()
        .args(["history", "list", "--json", "--history"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::helpers::assert_valid("history-list", &list);
    serde_json::from_value(list["runs"].clone()).unwrap()
}

/// Two processes import at once into one new file: 40 runs of their own each and the same 30
/// shared runs. Every run is stored exactly once, and importing again adds nothing.
#[test]
fn two_processes_importing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let template_dir = dir.path().join("template");
    loopbench()
        .args([
            "run",
            "-t",
            "unix-stream",
            "-n",
            "2",
            "-d",
            "20ms",
            "--warmup",
            "10ms",
            "-q",
            "--no-report",
            "-o",
        ])
        .arg(&template_dir)
        .assert()
        .success();
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(only_run(&template_dir).join("run.json")).unwrap(),
    )
    .unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    copies(&template, &a, "aaaa", 0..40);
    copies(&template, &b, "bbbb", 100..140);
    for side in [&a, &b] {
        copies(&template, side, "5555", 200..230);
    }
    let db = dir.path().join("history.sqlite");
    let start = |source: &Path| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
            .args(["history", "import", "--history"])
            .arg(&db)
            .arg(source)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [start(&a), start(&b)];
    let mut added = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{text}");
        let numbers: Vec<usize> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(numbers.len(), 2, "{text}");
        assert_eq!(numbers[0] + numbers[1], 70, "{text}");
        added += numbers[0];
    }
    assert_eq!(added, 110, "each shared run added by exactly one process");
    let stored = history_runs(&db);
    assert_eq!(stored.len(), 110);
    assert!(stored.iter().all(|r| r["cases"] == 1));
    loopbench()
        .args(["history", "import", "--history"])
        .arg(&db)
        .arg(&a)
        .assert()
        .success()
        .stderr(predicates::str::contains("0 added, 70 already present"));
    // The check and show JSON of that history match their schemas.
    let json = |args: &[&str]| -> serde_json::Value {
        let out = loopbench()
            .args(args)
            .arg("--history")
            .arg(&db)
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let check = json(&["history", "check", "--format", "json"]);
    assert_eq!(check["schema_version"], 2);
    crate::helpers::assert_valid("history-check", &check);
    let case = check["series"][0]["case_id"].as_str().unwrap().to_string();
    let show = json(&["history", "show", &case, "--json"]);
    assert_eq!(show["points"].as_array().unwrap().len(), 110);
    crate::helpers::assert_valid("history-show", &show);
}

/// Without --history, every history command uses history.sqlite in the results directory
/// (-o/--output, or LOOPBENCH_OUTPUT), where `run --history` puts it.
#[test]
fn the_history_file_follows_the_results_directory() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("res");
    loopbench()
        .args(["run", "-t", "unix-stream", "-n", "1", "-d", "20ms"])
        .args(["--warmup", "10ms", "-q", "--no-report", "--history", "-o"])
        .arg(&results)
        .assert()
        .success();
    assert!(results.join("history.sqlite").is_file());
    loopbench()
        .args(["history", "add", "latest"])
        .env("LOOPBENCH_OUTPUT", &results)
        .assert()
        .success()
        .stderr(predicates::str::contains("already present"));
    assert_eq!(history_runs(&results.join("history.sqlite")).len(), 1);
}
