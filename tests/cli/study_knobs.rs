//! Studies that change host-wide knobs: idle states, haltpoll, scheduler tunables, THP,
//! cpu_dma_latency, a global sysctl, and lo's RPS mask in the namespace. Absent knobs are refused
//! before anything runs; the host is byte-for-byte the same after a normal exit and after a
//! SIGKILL followed by `study --restore`.

use std::path::Path;
use std::time::Duration;

use loopbench::study::hostcheck::HostSnapshot;

use crate::helpers::{loopbench, require_root};
use crate::study::{
    assert_bad_variant_refused, host_lock, json, only_study, study_file, wait_until,
};

const HALTPOLL_NS: &str = "/sys/module/haltpoll/parameters/guest_halt_poll_ns";

#[test]
#[ignore = "needs root: checks every variant in a private network namespace"]
fn a_knob_absent_here_is_refused_before_anything_runs_naming_the_path() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    for (variant, expected) in [
        (
            "idle_disable = [\"C42\"]",
            "/sys/devices/system/cpu/cpu0/cpuidle",
        ),
        (
            "haltpoll = { guest_halt_poll_nope = 1 }",
            "/sys/module/haltpoll/parameters/guest_halt_poll_nope",
        ),
        (
            "sched = { no_such_tunable = 1 }",
            "/proc/sys/kernel/sched_no_such_tunable",
        ),
        (
            "thp = \"sometimes\"",
            "/sys/kernel/mm/transparent_hugepage/enabled",
        ),
        (
            "lo_xps_cpus = \"1\"",
            "/sys/class/net/lo/queues/tx-0/xps_cpus",
        ),
    ] {
        let journal = dir.path().join("j.json");
        assert_bad_variant_refused(
            dir.path(),
            variant,
            &[
                "--allow-host-changes",
                "--journal",
                journal.to_str().unwrap(),
            ],
            expected,
        );
        assert!(
            !dir.path().join("j.json").exists(),
            "nothing journaled: {variant}"
        );
    }
}

/// A variant that changes every kind of host knob this machine has.
fn every_knob() -> String {
    let mut v = String::from(
        "[[variant]]\nname = \"base\"\n\n[[variant]]\nname = \"knobs\"\n\
         cpu_dma_latency_us = 0\nidle_disable = [\"deepest\"]\nidle_cpus = \"all\"\n\
         thp = \"never\"\nlo_rps_cpus = \"1\"\nsched = { rr_timeslice_ms = 50 }\n\
         sysctl = { \"net.core.busy_poll\" = 50 }\n",
    );
    if Path::new(HALTPOLL_NS).exists() {
        v.push_str("haltpoll = { guest_halt_poll_ns = 123456 }\n");
    }
    v
}

/// True while the study's variant has the host changed (the haltpoll value, else THP).
fn knobs_applied() -> bool {
    if Path::new(HALTPOLL_NS).exists() {
        std::fs::read_to_string(HALTPOLL_NS).is_ok_and(|v| v.trim() == "123456")
    } else {
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .is_ok_and(|v| v.contains("[never]"))
    }
}

#[test]
#[ignore = "needs root: changes idle states, haltpoll, THP, a scheduler tunable and a sysctl (journaled and restored)"]
fn host_knobs_are_restored_byte_for_byte_on_exit_and_by_restore_after_sigkill() {
    require_root();
    let _host = host_lock();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.json");
    let file = study_file(dir.path(), "knobs", &every_knob());
    let before = HostSnapshot::capture().unwrap();

    loopbench()
        .arg("study")
        .arg(&file)
        .args(["--rounds", "1", "-q", "--allow-host-changes", "--journal"])
        .arg(&journal)
        .arg("-o")
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    assert_eq!(
        HostSnapshot::capture().unwrap().differences(&before),
        Vec::<String>::new()
    );
    assert!(!journal.exists());
    let study = only_study(dir.path());
    let record = json(&study.join("study.json"));
    let run = record["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["variant"] == "knobs")
        .unwrap();
    let v = json(
        &study
            .join("runs")
            .join(run["run_id"].as_str().unwrap())
            .join("variant.json"),
    );
    let host: Vec<String> = v["host_settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} = {}",
                s["setting"].as_str().unwrap(),
                s["read_back"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "sched rr_timeslice_ms = 50",
        "thp enabled = never",
        "sysctl net.core.busy_poll = 50",
    ] {
        assert!(host.iter().any(|h| h == want), "{want} in {host:?}");
    }
    assert!(
        host.iter()
            .any(|h| h.contains("idle state") && h.ends_with("= 1")),
        "{host:?}"
    );
    let ns = v["namespace_settings"][0].clone();
    assert_eq!(ns["setting"], "lo queues/rx-0/rps_cpus");
    assert_eq!(ns["read_back"], "1");

    // SIGKILL while the knobs are changed: the journal survives and --restore puts them back.
    let mut proc = std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
        .arg("study")
        .arg(&file)
        .args(["--rounds", "6", "-q", "--allow-host-changes", "--journal"])
        .arg(&journal)
        .arg("-o")
        .arg(dir.path().join("second"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let applied = wait_until(Duration::from_secs(60), knobs_applied);
    let _ = proc.kill();
    let _ = proc.wait();
    assert!(applied, "the study changed the knobs");
    assert!(
        knobs_applied(),
        "nobody restored them: the process was killed"
    );
    assert!(
        !HostSnapshot::capture()
            .unwrap()
            .differences(&before)
            .is_empty()
    );
    let out = loopbench()
        .args(["study", "--restore", "--journal"])
        .arg(&journal)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("/sys/kernel/mm/transparent_hugepage/enabled = "),
        "{text}"
    );
    assert_eq!(
        HostSnapshot::capture().unwrap().differences(&before),
        Vec::<String>::new()
    );
    assert!(!journal.exists());
}
