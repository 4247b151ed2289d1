//! `--stages`: what a stamped run records (run.json, the stages' histograms) and how the report,
//! summary.md and `show` present it. Needs a clock the check accepts (TSC-backed: tsc,
//! kvm-clock or arch_sys_counter), which every x86-64 and arm64 machine this runs on has.

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

use crate::helpers::{loopbench, only_run, run_ok};

/// The user-space stages of rr, in path order.
const STAGES: [&str; 5] = [
    "client_send",
    "request_path",
    "server_turnaround",
    "server_send",
    "response_path",
];

#[test]
fn stamped_rr_records_every_stage_of_every_round_trip_and_the_report_shows_them() {
    let (dir, run) = run_ok(&[
        "-t", "tcp4", "--stages", "off,on", "-n", "2", "-c", "500", "--warmup", "0",
    ]);
    let cases = run["cases"].as_array().unwrap();
    let stamped = cases
        .iter()
        .find(|c| c["case_id"].as_str().unwrap().ends_with("-stages"))
        .expect("the stamped twin");
    let plain = cases
        .iter()
        .find(|c| !c["case_id"].as_str().unwrap().ends_with("-stages"))
        .expect("the plain twin");
    assert!(plain["summary"].get("stages").is_none());
    let s = &stamped["summary"];
    let stages = s["stages"].as_object().unwrap();
    assert_eq!(stages.len(), STAGES.len(), "{stages:?}");
    let matched = s["stage_coverage"]["matched"].as_u64().unwrap();
    assert_eq!(matched, 1000, "tcp loses nothing: {}", s["stage_coverage"]);
    for name in STAGES {
        assert_eq!(stages[name]["count"].as_u64(), Some(matched), "{name}");
    }
    // The round trip at the median: its stages' means cover each message from the send call to
    // the response (never less: a stamp out of order only lengthens a stage).
    let band = &s["stage_band"];
    let in_band = band["round_trips"].as_u64().unwrap();
    assert!(in_band > 0 && in_band < matched, "{band}");
    let sum: f64 = STAGES
        .iter()
        .map(|n| band["stages"][n].as_f64().unwrap())
        .sum();
    assert!(
        sum >= band["rtt_mean_ns"].as_f64().unwrap() - 1e-6,
        "{band}"
    );
    // Every stamped round trip is on one path or the other, in every iteration and merged.
    let paths = &s["stage_paths"];
    let on = |g: &str| paths[g]["round_trips"].as_u64().unwrap();
    assert_eq!(
        on("server_in_send") + on("server_after_send"),
        matched,
        "{paths}"
    );
    for it in stamped["iterations"].as_array().unwrap() {
        assert!(it["stage_band"]["round_trips"].as_u64().unwrap() > 0);
        assert!(it.get("stage_paths").is_some());
    }
    let clock = &run["stage_clock"];
    assert_eq!(
        clock["pairs"][0]["max_inversion_ns"].as_u64(),
        Some(0),
        "{clock}"
    );
    let id = stamped["case_id"].as_str().unwrap();
    let dir = only_run(dir.path());
    for f in [
        format!("cases/{id}/stages/request_path.hgrm"),
        "plots/stages.svg".into(),
        format!("plots/round-trip-{id}.svg"),
    ] {
        assert!(dir.join(&f).is_file(), "{f}");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("id=\"stages\"") && html.contains("<th>request_path</th>"));
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!("- {id}: stamped round trips: 1000")),
        "{md}"
    );
    // run.json keeps the stages in path order, and the table's columns follow it.
    let columns = format!(
        "| case | {} | Σ µs | band RTT mean µs |",
        STAGES.join(" | ")
    );
    assert!(md.contains(&columns), "{md}");
    loopbench()
        .arg("show")
        .arg(&dir)
        .arg(id)
        .assert()
        .success()
        .stdout(
            contains("user-space stages (--stages)")
                .and(contains("server_turnaround"))
                .and(contains("typical round trip")),
        );
}
