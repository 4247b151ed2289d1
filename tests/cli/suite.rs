//! `loopbench suite`: a tiny suite file runs end to end and writes every chart from measured
//! data; bad suites exit 2 with a message that says what is wrong.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

use crate::helpers::{loopbench, only_run, run_json};

fn tiny_suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/data/tiny-suite.toml")
}

fn svgs(run: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(run.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_suite_file_runs_and_writes_the_run_with_its_report_and_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = loopbench()
        .arg("suite")
        .arg("--suite-file")
        .arg(tiny_suite())
        .args(["--seed", "3", "-o"])
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stderr(contains("report: "))
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("loopback anatomy of a 64 B round trip"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Not in this run: same-core blocking, same-core spin"),
        "{stdout}"
    );
    let run = only_run(dir.path());
    let json = run_json(&run);
    assert_eq!(json["suite"], "tiny-suite");
    assert_eq!(json["cases"].as_array().unwrap().len(), 12);
    for f in ["summary.md", "summary.csv", "report.html"] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let files = svgs(&run);
    let cases: Vec<String> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_string())
        .collect();
    // Every chart made from the measured data: anatomy, spectrum and time series per case,
    // spectrum overlays and CDFs per group, throughput by size.
    let mut want = vec![
        "anatomy.svg".to_string(),
        "throughput-vs-size.svg".to_string(),
    ];
    for c in &cases {
        want.push(format!("spectrum-{c}.svg"));
        want.push(format!("timeseries-{c}.svg"));
    }
    for g in ["rr-blocking-cross-core-64B", "rr-spin-cross-core-64B"] {
        want.push(format!("spectrum-{g}.svg"));
        want.push(format!("cdf-{g}.svg"));
    }
    for g in [
        "rr-blocking-cross-core-1024B",
        "rr-blocking-cross-core-16384B",
    ] {
        want.push(format!("cdf-{g}.svg"));
    }
    want.sort();
    assert_eq!(files, want);
    for f in &files {
        let svg = std::fs::read_to_string(run.join("plots").join(f)).unwrap();
        let drawn = if f == "anatomy.svg" {
            "<rect"
        } else {
            "<polyline"
        };
        assert!(
            svg.starts_with("<svg") && svg.contains(drawn),
            "{f} has no data drawn"
        );
    }
    let anatomy = std::fs::read_to_string(run.join("plots/anatomy.svg")).unwrap();
    assert!(
        anatomy.contains("cross-core, spin: tcp4 round trip"),
        "{anatomy}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        files.len(),
        "report.html inlines every chart"
    );
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(md.contains("| tcp4-rr-spin-cross-core-64B | 2 |"), "{md}");
    let csv = std::fs::read_to_string(run.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 12);
}

#[test]
fn list_and_dry_run_describe_suites_without_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let list = loopbench()
        .args(["suite", "--list"])
        .assert()
        .success()
        .stdout(
            contains("quick")
                .and(contains("standard"))
                .and(contains("full")),
        );
    // The quick suite's 6 stamped cases get traced twins as root: --list counts them there,
    // and says how many a root run adds elsewhere (or with --no-trace).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        list.stdout(contains("41 (incl. 6 traced twins: root)"));
    } else {
        list.stdout(contains("35 (+6 traced twins as root)"));
    }
    loopbench()
        .args(["suite", "--list", "--no-trace"])
        .assert()
        .success()
        .stdout(contains("35 (+6 traced twins as root)"));
    loopbench()
        .args(["suite", "quick", "--dry-run", "--no-trace", "-o"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(contains("suite quick: 35 cases"))
        .stdout(contains("tcp4-rr-spin-same-core-64B  5 × 20 messages"))
        .stdout(contains(
            "udp4-rr-blocking-same-core-64B-stages  3 × 300 ms",
        ))
        .stderr(contains("traced").not());
    // As root the 6 stamped cases get traced twins, and the suite says so.
    let as_root = loopbench()
        .args(["suite", "quick", "--dry-run", "-o"])
        .arg(dir.path())
        .assert()
        .success();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        as_root
            .stdout(contains("suite quick: 41 cases"))
            .stdout(contains(
                "tcp4-rr-blocking-cross-core-64B-stages-trace  3 × 300 ms",
            ))
            .stderr(contains("6 stamped case(s) also run traced"));
    } else {
        as_root.stdout(contains("suite quick: 35 cases"));
    }
    assert!(
        !dir.path().join("runs").exists(),
        "a dry run measures nothing"
    );
}

fn refused(args: &[&str], file: Option<(&str, &str)>, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = loopbench();
    cmd.arg("suite").args(args);
    if let Some((name, text)) = file {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        cmd.arg("--suite-file").arg(path);
    }
    cmd.arg("-o")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("error:"))
        .stderr(contains(message))
        .stderr(contains("panicked").not());
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn bad_suites_exit_2_and_say_what_is_wrong() {
    refused(
        &["quik"],
        None,
        "unknown suite 'quik'; the built-in suites are quick, standard, full",
    );
    refused(
        &["--suite-file", "/nonexistent/s.toml"],
        None,
        "cannot read the suite file /nonexistent/s.toml",
    );
    refused(
        &[],
        Some(("typo.toml", "[[cases]]\ntransprt = \"tcp4\"\n")),
        "unknown field `transprt`",
    );
    refused(
        &[],
        Some(("value.toml", "[[cases]]\ntransport = \"tcp5\"\n")),
        "unknown Transport 'tcp5'",
    );
    refused(
        &[],
        Some(("empty.toml", "description = \"x\"\ncases = []\n")),
        "at least one [[cases]] table",
    );
    refused(
        &["quick", "--suite-file", "x.toml"],
        None,
        "cannot be used with",
    );
}

/// README's list of suite-file keys is every key a `[[cases]]` table takes, no more, no less.
#[test]
fn the_readme_lists_every_suite_file_key() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("Keys (every `loopbench run` option")
        .expect("README's suite-file keys");
    let rest = &readme[start..];
    let from = rest.find("): `").expect("the keys follow `): `") + 4;
    let to = from
        + rest[from..]
            .find('`')
            .expect("the keys end with a backtick");
    let listed: std::collections::BTreeSet<&str> = rest[from..to].split_whitespace().collect();
    let options =
        serde_json::to_value(loopbench::spec::case_options::CaseOptions::default()).unwrap();
    let keys: std::collections::BTreeSet<&str> = options
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        listed, keys,
        "README's suite-file keys and CaseOptions' fields differ"
    );
}
