//! Real outputs validate against the committed JSON Schemas (docs/schema/; tests/schema.rs keeps
//! those equal to the code's): run.json, the comparison, ab.json, list, baseline, doctor, iface
//! and alias list. study.json and variant.json are checked by the root-only study test.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::compare::{around, fake_run};
use crate::helpers::{assert_valid, loopbench, only_run, run_json, schema_errors};

fn stdout_json(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.timeout(Duration::from_secs(120)).assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn file_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn a_run_its_listing_and_its_baseline_validate() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let printed = stdout_json(
        loopbench()
            .args([
                "run",
                "-t",
                "pipe,udp4",
                "-p",
                "unpinned",
                "-c",
                "50",
                "-n",
                "2",
            ])
            .args(["--warmup", "0", "-q", "--no-report", "--json", "-o"])
            .arg(r),
    );
    assert_valid("run", &printed);
    let run = only_run(r);
    assert_valid("run", &run_json(&run));
    assert_valid(
        "list",
        &stdout_json(loopbench().args(["list", "--json", "-o"]).arg(r)),
    );
    loopbench()
        .args(["baseline", "save", "main", "latest", "-o"])
        .arg(r)
        .assert()
        .success();
    assert_valid(
        "baseline",
        &file_json(&r.join("baselines/main/baseline.json")),
    );
    assert_valid(
        "baseline-list",
        &stdout_json(
            loopbench()
                .args(["baseline", "list", "--json", "-o"])
                .arg(r),
        ),
    );
    assert_valid(
        "comparison",
        &stdout_json(
            loopbench()
                .args(["compare", "main", "latest", "--format", "json", "-o"])
                .arg(r),
        ),
    );
}

#[test]
fn a_broken_run_does_not_validate() {
    let dir = tempfile::tempdir().unwrap();
    let run = fake_run(dir.path(), "x", around(5000.0), around(1e5));
    let mut json = run_json(&run);
    assert_valid("run", &json);
    json["cases"][0]["iterations"][0]["msgs_per_sec"] = "fast".into();
    json.as_object_mut().unwrap().remove("run_id");
    let errors = schema_errors("run", &json);
    assert!(
        errors.iter().any(|e| e.contains("/msgs_per_sec"))
            && errors.iter().any(|e| e.contains("run_id")),
        "{errors:?}"
    );
}

#[test]
fn an_ab_session_validates() {
    let runs = tempfile::tempdir().unwrap();
    let old = fake_run(runs.path(), "r", around(5000.0), around(1e5));
    let out = tempfile::tempdir().unwrap();
    let cmd = format!(
        "mkdir -p \"$LOOPBENCH_OUTPUT/runs/r$$\" && cp {}/run.json \"$LOOPBENCH_OUTPUT/runs/r$$/\"",
        old.display()
    );
    loopbench()
        .args([
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
            "-o",
        ])
        .arg(out.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let session = std::fs::read_dir(out.path().join("ab"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_valid("ab", &file_json(&session.join("ab.json")));
    assert_valid("comparison", &file_json(&session.join("comparison.json")));
}

#[test]
fn doctor_iface_and_alias_list_validate() {
    assert_valid(
        "doctor",
        &stdout_json(loopbench().args(["doctor", "--json"])),
    );
    assert_valid("iface", &stdout_json(loopbench().args(["iface", "--json"])));
    assert_valid(
        "alias-list",
        &stdout_json(loopbench().args(["alias", "list", "--json"])),
    );
}
