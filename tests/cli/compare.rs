//! `loopbench compare`, `baseline` and the plumbing of `ab`. Verdicts are tested on runs whose
//! per-iteration values are rewritten to known numbers, so they never depend on this machine's
//! noise (the measuring tests are in tests/gate).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{loopbench, only_run};

/// A real run of two quick cases (pipe and unix-stream rr, 6 iterations), made once.
fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        loopbench()
            .args([
                "run",
                "-t",
                "pipe,unix-stream",
                "-p",
                "unpinned",
                "-c",
                "50",
            ])
            .args(["-n", "6", "--warmup", "0", "-q", "-o"])
            .arg(dir.path())
            .timeout(Duration::from_secs(60))
            .assert()
            .success();
        let run = only_run(dir.path());
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
    })
}

/// Writes a copy of the template as run `id` under `dir/runs/`, with every iteration's p50
/// (and the tails) set to `p50(i)` and throughput to `rate(i)`; returns the run directory.
pub fn fake_run(
    dir: &Path,
    id: &str,
    p50: impl Fn(usize) -> f64,
    rate: impl Fn(usize) -> f64,
) -> PathBuf {
    let mut run = template().clone();
    run["run_id"] = Value::String(id.into());
    for case in run["cases"].as_array_mut().unwrap() {
        for (i, it) in case["iterations"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            let v = p50(i);
            it["latency"]["p50_ns"] = (v as u64).into();
            it["latency"]["p99_ns"] = ((v * 2.0) as u64).into();
            it["latency"]["p999_ns"] = ((v * 3.0) as u64).into();
            it["msgs_per_sec"] = rate(i).into();
            // The template was measured on this machine: its canaries, interference and switch
            // counts would mark iterations disturbed by chance. The fake runs carry none.
            let it = it.as_object_mut().unwrap();
            for key in ["canary", "interference", "disturbed"] {
                it.remove(key);
            }
            for side in ["client", "server"] {
                if let Some(t) = it[side]["usage"]["total"].as_object_mut() {
                    t.insert("involuntary_switches".into(), 0.into());
                }
            }
        }
    }
    let path = dir.join("runs").join(id);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("run.json"),
        serde_json::to_vec_pretty(&run).unwrap(),
    )
    .unwrap();
    path
}

/// Values around `center` with a ±1 % spread, different per iteration.
pub fn around(center: f64) -> impl Fn(usize) -> f64 {
    move |i| center * (1.0 + ((i * 7) % 5) as f64 / 250.0 - 0.008)
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    loopbench()
        .arg("compare")
        .arg(base)
        .arg(new)
        .args(extra)
        // These tests may themselves run under GitHub Actions: the gate publishes there only
        // where a test asks for it.
        .env_remove("GITHUB_ACTIONS")
        .timeout(Duration::from_secs(60))
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn the_same_numbers_on_both_sides_are_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(5000.0), around(1e5));
    let out = compare(&a, &b, &[]).code(0);
    let text = stdout(&out);
    assert!(text.contains("pass: 0 regression(s)"), "{text}");
    assert!(text.contains("pipe-rr-blocking-unpinned-64B"), "{text}");
    assert!(
        text.contains("Mann–Whitney"),
        "the method is stated: {text}"
    );
}

#[test]
fn a_slower_p50_fails_the_gate_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(6000.0), around(1e5));
    let table = stdout(&compare(&a, &b, &[]).code(1));
    assert!(
        table.contains("REGRESSION") && table.contains("+20.0%"),
        "{table}"
    );
    assert!(
        table.contains("FAIL: 2 regression(s)"),
        "both cases: {table}"
    );
    let md = stdout(&compare(&a, &b, &["--format", "markdown"]).code(1));
    assert!(
        md.starts_with("### loopbench compare: :x: 2 regression(s)"),
        "{md}"
    );
    assert!(
        md.contains("| `pipe-rr-blocking-unpinned-64B` | p50 (µs) |"),
        "{md}"
    );
    let json: Value =
        serde_json::from_str(&stdout(&compare(&a, &b, &["--format", "json"]).code(1))).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["counts"]["regressions"], 2);
    let p50 = &json["cases"][0]["metrics"][0];
    assert_eq!(p50["metric"], "p50");
    assert_eq!(p50["verdict"], "regression");
    let ci = &p50["ratio"]["confidence_interval"];
    assert!(ci["lower_bound"].as_f64().unwrap() > 1.05, "{ci}");
    assert!(p50["p_regression_holm"].as_f64().unwrap() <= 0.05);
    assert_eq!(json["holm_family"], 4, "p50 and throughput of two cases");
}

#[test]
fn one_invocation_writes_every_export_junit_and_the_github_actions_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(6000.0), around(1e5));
    let f = |name: &str| dir.path().join(name);
    std::fs::write(f("summary.md"), "earlier step\n").unwrap();
    let out = loopbench()
        .arg("compare")
        .args([&a, &b])
        .arg("--export-json")
        .arg(f("c.json"))
        .arg("--export-markdown")
        .arg(f("c.md"))
        .arg("--export-csv")
        .arg(f("c.csv"))
        .arg("--junit")
        .arg(f("c.xml"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", f("summary.md"))
        .env("GITHUB_OUTPUT", f("outputs"))
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1);
    let table = stdout(&out);
    assert!(
        table.contains("FAIL: 2 regression(s)"),
        "the table on stdout: {table}"
    );
    let read = |name: &str| std::fs::read_to_string(f(name)).unwrap();
    let json: Value = serde_json::from_str(&read("c.json")).unwrap();
    assert_eq!(json["counts"]["regressions"], 2);
    let md = read("c.md");
    assert!(
        md.starts_with("### loopbench compare: :x: 2 regression(s)"),
        "{md}"
    );
    let csv = read("c.csv");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("base_case,new_case,metric,unit,gated,verdict")
    );
    let regressions = csv
        .lines()
        .filter(|l| l.contains(",true,regression,"))
        .count();
    assert_eq!(regressions, 2, "{csv}");
    let xml = read("c.xml");
    assert!(
        xml.contains("tests=\"4\" failures=\"2\" skipped=\"0\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert_eq!(
        xml.matches("<failure type=\"regression\"").count(),
        2,
        "{xml}"
    );
    let summary = read("summary.md");
    assert!(
        summary.starts_with("earlier step\n### loopbench compare: :x: 2 regression(s)"),
        "appended after what was there: {summary}"
    );
    let outputs = read("outputs");
    assert!(
        outputs.contains("verdict=regression\nregressions=2\n"),
        "{outputs}"
    );
    let err = stderr(&out);
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("::error title=loopbench regression%3A "))
        .collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(errors[0].contains("p50: "), "{}", errors[0]);
    // Too few iterations: each gated metric is a warning and a skipped test case, and the gate
    // passes.
    let out = loopbench()
        .arg("compare")
        .args([&a, &b])
        .args(["--min-iterations", "10", "--format", "json", "--junit"])
        .arg(f("few.xml"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", f("outputs2"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0);
    serde_json::from_str::<Value>(&stdout(&out)).expect("stdout stays JSON");
    let warnings = stderr(&out)
        .matches("::warning title=loopbench inconclusive")
        .count();
    assert_eq!(warnings, 4, "{}", stderr(&out));
    assert!(read("few.xml").contains("skipped=\"4\""));
    assert!(read("outputs2").contains("verdict=pass\nregressions=0\n"));
}

#[test]
fn a_faster_p50_and_more_throughput_are_improvements_and_pass() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(6000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(5000.0), around(1.3e5));
    let json: Value =
        serde_json::from_str(&stdout(&compare(&a, &b, &["--format", "json"]).code(0))).unwrap();
    assert_eq!(json["counts"]["improvements"], 4, "{json:#}");
    assert_eq!(json["counts"]["regressions"], 0);
}

#[test]
fn a_lower_throughput_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(5000.0), around(0.8e5));
    let json: Value =
        serde_json::from_str(&stdout(&compare(&a, &b, &["--format", "json"]).code(1))).unwrap();
    let t = &json["cases"][0]["metrics"][3];
    assert_eq!(
        (t["metric"].as_str(), t["verdict"].as_str()),
        (Some("throughput"), Some("regression"))
    );
    assert_eq!(t["unit"], "msgs_per_sec");
}

#[test]
fn a_change_inside_the_threshold_passes_and_a_lower_threshold_catches_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(5150.0), around(1e5));
    let text = stdout(&compare(&a, &b, &[]).code(0));
    assert!(
        text.contains("+3.0%") && text.contains("no change") && !text.contains("too wide"),
        "{text}"
    );
    compare(&a, &b, &["--threshold", "1"]).code(1);
    compare(&a, &b, &["--threshold", "throughput=1"]).code(0);
}

#[test]
fn a_no_change_too_noisy_to_rule_out_a_large_change_says_so() {
    // ±30 % between iterations: +3 % is not significant, and the interval reaches past ±5 %
    // (p50 of both cases; their throughput, ±1 %, is resolved).
    let wide = |center: f64| move |i: usize| center * (1.0 + ((i * 7) % 5) as f64 * 0.15 - 0.3);
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", wide(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", wide(5150.0), around(1e5));
    let text = stdout(&compare(&a, &b, &[]).code(0));
    assert!(
        text.contains("p50: not significant")
            && text.contains("a change that large is not ruled out")
            && text.contains("4 no change (2 too wide to rule out a change beyond the threshold)"),
        "{text}"
    );
    let md = stdout(&compare(&a, &b, &["--format", "markdown"]).code(0));
    assert!(md.contains("a change that large is not ruled out"), "{md}");
    let json: Value =
        serde_json::from_str(&stdout(&compare(&a, &b, &["--format", "json"]).code(0))).unwrap();
    let open: Vec<(&str, bool)> = json["cases"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["metric"].as_str().unwrap(),
                m["change_not_ruled_out"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        open,
        [
            ("p50", true),
            ("p99", false),
            ("p99.9", false),
            ("throughput", false)
        ]
    );
}

#[test]
fn several_runs_per_side_are_pooled_and_too_few_iterations_are_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let a1 = fake_run(dir.path(), "a1", around(5000.0), around(1e5));
    let a2 = fake_run(dir.path(), "a2", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(9000.0), around(1e5));
    let both = format!("{},{}", a1.display(), a2.join("run.json").display());
    let out = loopbench()
        .args(["compare", &both])
        .arg(&b)
        .assert()
        .code(1);
    assert!(stdout(&out).contains("12/6"), "{}", stdout(&out));
    let json: Value = serde_json::from_str(&stdout(
        &compare(&a1, &b, &["--min-iterations", "7", "--format", "json"]).code(0),
    ))
    .unwrap();
    assert_eq!(json["counts"]["inconclusive"], 4, "{json:#}");
    let reason = json["cases"][0]["metrics"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("at least 7"), "{reason}");
}

#[test]
fn unmatched_cases_and_environment_differences_are_listed_and_strict_env_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let b = fake_run(dir.path(), "b", around(5000.0), around(1e5));
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("run.json")).unwrap()).unwrap();
    json["cases"][1]["case_id"] = "unix-stream-rr-blocking-unpinned-128B".into();
    json["environment"]["kernel_release"] = "9.9.9-test".into();
    json["environment"]["loopback"][0]["mtu"] = 1500.into();
    std::fs::write(b.join("run.json"), serde_json::to_vec(&json).unwrap()).unwrap();
    let text = stdout(&compare(&a, &b, &[]).code(0));
    assert!(
        text.contains("Only in base (not compared):\n  unix-stream-rr-blocking-unpinned-64B"),
        "{text}"
    );
    assert!(
        text.contains("Only in new (not compared):\n  unix-stream-rr-blocking-unpinned-128B"),
        "{text}"
    );
    assert!(
        text.contains("kernel: ") && text.contains("→ 9.9.9-test"),
        "{text}"
    );
    assert!(text.contains("lo MTU: 65536 → 1500"), "{text}");
    let err = stderr(&compare(&a, &b, &["--strict-env"]).code(2));
    assert!(
        err.contains("--strict-env") && err.contains("lo MTU"),
        "{err}"
    );
}

#[test]
fn bad_inputs_exit_2_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = fake_run(dir.path(), "a", around(5000.0), around(1e5));
    let missing = dir.path().join("nope");
    let err = stderr(&compare(&a, &missing, &[]).code(2));
    assert!(
        err.contains("'") && err.contains("nope") && err.contains("baseline"),
        "{err}"
    );
    let corrupt = dir.path().join("corrupt");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(
        corrupt.join("run.json"),
        "{\"schema_version\": 1, \"cases\": [",
    )
    .unwrap();
    let err = stderr(&compare(&a, &corrupt, &[]).code(2));
    assert!(
        err.contains("corrupt/run.json") && err.contains("not valid JSON"),
        "{err}"
    );
    std::fs::write(corrupt.join("run.json"), "{\"schema_version\": 99}").unwrap();
    let err = stderr(&compare(&a, &corrupt, &[]).code(2));
    assert!(
        err.contains("schema_version 99") && err.contains("upgrade"),
        "{err}"
    );
    let err = stderr(&compare(&a, &a, &["--format", "xml"]).code(2));
    assert!(err.contains("xml"), "{err}");
    let err = stderr(&compare(&a, &a, &["--threshold", "p42=3"]).code(2));
    assert!(err.contains("p42"), "{err}");
    let err = stderr(&compare(&a, &a, &["--pair", "x=y"]).code(2));
    assert!(err.contains("BASE has no case x"), "{err}");
}

#[test]
fn baselines_are_saved_listed_and_compared_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path();
    let a = fake_run(
        results,
        "20260101T000000Z-aaaa",
        around(5000.0),
        around(1e5),
    );
    let b = fake_run(
        results,
        "20260102T000000Z-bbbb",
        around(7000.0),
        around(1e5),
    );
    let baseline = |args: &[&str]| {
        loopbench()
            .arg("baseline")
            .args(args)
            .arg("--results")
            .arg(results)
            .assert()
    };
    baseline(&["save", "main"]).code(2);
    std::fs::create_dir_all(a.join("cases/x")).unwrap();
    std::fs::write(a.join("cases/x/latency.hgrm"), "histogram").unwrap();
    let saved = stderr(&baseline(&["save", "main", &a.to_string_lossy()]).code(0));
    assert!(saved.contains("saved baseline 'main'"), "{saved}");
    assert!(
        results
            .join("baselines/main/20260101T000000Z-aaaa/run.json")
            .is_file()
    );
    let hgrm = results.join("baselines/main/20260101T000000Z-aaaa/cases/x/latency.hgrm");
    assert_eq!(
        std::fs::read_to_string(hgrm).unwrap(),
        "histogram",
        "histograms too"
    );
    let again = stderr(&baseline(&["save", "main", &b.to_string_lossy()]).code(2));
    assert!(again.contains("--force"), "{again}");
    baseline(&["save", "newest", "latest"]).code(0);
    let list = stdout(&baseline(&["list"]).code(0));
    assert!(list.contains("main") && list.contains("newest"), "{list}");
    let json: Value =
        serde_json::from_str(&stdout(&baseline(&["list", "--json"]).code(0))).unwrap();
    assert_eq!(
        json["baselines"][1]["runs"][0]["run_id"], "20260102T000000Z-bbbb",
        "latest is the newest run"
    );
    let out = loopbench()
        .args(["compare", "main", "newest", "--results"])
        .arg(results)
        .assert()
        .code(1);
    assert!(stdout(&out).contains("+40.0%"), "{}", stdout(&out));
    baseline(&["save", "bad/name", &a.to_string_lossy()]).code(2);
}

#[test]
fn ab_interleaves_two_commands_and_keeps_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let lb = assert_cmd::cargo::cargo_bin("loopbench");
    let cmd = format!(
        "{} run -t pipe -p unpinned -c 100 -n 3 --warmup 0 -q",
        lb.display()
    );
    let out = loopbench()
        .args([
            "ab",
            "--rounds",
            "2",
            "--schedule-seed",
            "3",
            "--threshold",
            "60",
        ])
        .args([
            "--base-cmd",
            &cmd,
            "--new-cmd",
            &cmd,
            "--format",
            "markdown",
            "--export-csv",
        ])
        .arg(dir.path().join("ab.csv"))
        .arg("--junit")
        .arg(dir.path().join("ab.xml"))
        .arg("-o")
        .arg(dir.path())
        .env_remove("GITHUB_ACTIONS")
        .timeout(Duration::from_secs(120))
        .assert()
        .code(0);
    assert!(stdout(&out).contains("no regression"), "{}", stdout(&out));
    let csv = std::fs::read_to_string(dir.path().join("ab.csv")).unwrap();
    assert!(
        csv.contains("pipe-rr-blocking-unpinned-64B"),
        "ab's --export-csv: {csv}"
    );
    let xml = std::fs::read_to_string(dir.path().join("ab.xml")).unwrap();
    assert!(xml.contains("failures=\"0\""), "ab's --junit: {xml}");
    let sessions: Vec<PathBuf> = std::fs::read_dir(dir.path().join("ab"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    let ab: Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("ab.json")).unwrap()).unwrap();
    assert_eq!(ab["complete"], true);
    assert_eq!(ab["invocations"].as_array().unwrap().len(), 4);
    for side in ["base", "new"] {
        assert_eq!(
            std::fs::read_dir(s.join(side).join("runs"))
                .unwrap()
                .count(),
            2,
            "{side}"
        );
    }
    assert!(
        std::fs::read_to_string(s.join("comparison.md"))
            .unwrap()
            .contains("| n |")
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("comparison.json")).unwrap()).unwrap();
    // BASE ran 6 iterations; disturbed ones (a loaded machine) are left out when both sides
    // keep enough, and the comparison says how many.
    let case = &json["cases"][0];
    let left_out = if case["trust"]["left_out"] == true {
        case["trust"]["base"]["disturbed"].as_u64().unwrap()
    } else {
        0
    };
    let compared = case["metrics"][0]["base"]["iterations"].as_u64().unwrap();
    assert_eq!(compared + left_out, 6, "{}", case["trust"]);
}

#[test]
fn ab_reports_a_failing_command_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr(
        &loopbench()
            .args([
                "ab",
                "--rounds",
                "1",
                "--base-cmd",
                "true",
                "--new-cmd",
                "exit 4",
                "-q",
                "-o",
            ])
            .arg(dir.path())
            .assert()
            .code(2),
    );
    assert!(err.contains("command of round 1"), "{err}");
}

#[test]
fn help_explains_the_method_and_has_examples() {
    for cmd in ["compare", "ab"] {
        let out = loopbench().args([cmd, "--help"]).assert().success();
        let text = stdout(&out);
        for want in [
            "Mann-Whitney",
            "Holm",
            "bootstrap",
            "100k",
            "Examples:",
            "Exit codes",
        ] {
            assert!(text.contains(want), "{cmd} --help lacks {want}: {text}");
        }
    }
    let out = loopbench().args(["baseline", "--help"]).assert().success();
    assert!(stdout(&out).contains("Examples:"));
}

/// Sets a fake run's start time (runs are paired by round in start order).
fn set_started_at(run: &Path, started_at: &str) {
    let file = run.join("run.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    json["started_at"] = started_at.into();
    std::fs::write(&file, serde_json::to_vec(&json).unwrap()).unwrap();
}

#[test]
fn separate_runs_measured_in_rounds_are_paired_by_round() {
    // Eight ab-style rounds on a machine whose speed drifts ±40 % between rounds; in every round
    // NEW is 10 % slower than the BASE run next to it. Pooled as independent samples the drift
    // hides the change; paired by round it is a clear regression.
    let dir = tempfile::tempdir().unwrap();
    let drift = [1.0, 1.6, 0.8, 1.4, 0.9, 1.7, 1.1, 0.7];
    let (mut base, mut new) = (Vec::new(), Vec::new());
    for (round, d) in drift.iter().enumerate() {
        let b = fake_run(
            dir.path(),
            &format!("base{round}"),
            around(5000.0 * d),
            around(1e5),
        );
        let n = fake_run(
            dir.path(),
            &format!("new{round}"),
            around(5500.0 * d),
            around(1e5),
        );
        // The order within a round is random in `ab`: alternate it.
        let (first, second) = if round % 2 == 0 { (&b, &n) } else { (&n, &b) };
        set_started_at(first, &format!("2026-01-01T00:{:02}:00Z", 2 * round));
        set_started_at(second, &format!("2026-01-01T00:{:02}:00Z", 2 * round + 1));
        base.push(b.display().to_string());
        new.push(n.display().to_string());
    }
    let (base, new) = (base.join(","), new.join(","));
    let json = |extra: &[&str], code: i32| -> Value {
        let out = loopbench()
            .args(["compare", &base, &new, "--format", "json"])
            .args(extra)
            .timeout(Duration::from_secs(60))
            .assert()
            .code(code);
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let p50 = |c: &Value| c["cases"][0]["metrics"][0].clone();
    let paired = json(&[], 1);
    assert_eq!(p50(&paired)["test_method"], "paired_sign", "{paired:#}");
    assert_eq!(p50(&paired)["verdict"], "regression", "{paired:#}");
    let unpaired = json(&["--unpaired"], 0);
    assert_ne!(p50(&unpaired)["test_method"], "paired_sign", "{unpaired:#}");
    assert_eq!(p50(&unpaired)["verdict"], "no_change", "{unpaired:#}");
}

#[test]
fn runs_that_do_not_alternate_by_round_are_not_paired() {
    // All BASE runs first, then all NEW runs (two blocks, e.g. a baseline saved last week): there
    // are no rounds, so the runs stay independent samples.
    let dir = tempfile::tempdir().unwrap();
    let (mut base, mut new) = (Vec::new(), Vec::new());
    for round in 0..4 {
        let b = fake_run(
            dir.path(),
            &format!("b{round}"),
            around(5000.0),
            around(1e5),
        );
        let n = fake_run(
            dir.path(),
            &format!("n{round}"),
            around(5000.0),
            around(1e5),
        );
        set_started_at(&b, &format!("2026-01-01T00:00:{round:02}Z"));
        set_started_at(&n, &format!("2026-01-02T00:00:{round:02}Z"));
        base.push(b.display().to_string());
        new.push(n.display().to_string());
    }
    let out = loopbench()
        .args([
            "compare",
            &base.join(","),
            &new.join(","),
            "--format",
            "json",
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let p50 = &json["cases"][0]["metrics"][0];
    assert_ne!(p50["test_method"], "paired_sign", "{json:#}");
}

#[test]
fn a_schema_version_1_run_is_still_read() {
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/run-v1.json");
    let out = stdout(&compare(&v1, &v1, &[]).success());
    for id in [
        "tcp4-crr-blocking-cross-core-64B-spread127.0.0.2-127.0.0.3-linger0-memload1",
        "tcp4-rate-blocking-cross-core-64B-rate2000-inflight4-memload1",
        "tcp4-stream-blocking-cross-core-64B-memload1",
    ] {
        assert!(out.contains(id), "{id}:\n{out}");
    }
}
