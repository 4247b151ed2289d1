use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use crate::helpers::{loopbench, only_run, run_json, run_ok};

const TRANSPORTS: &str = "tcp4,tcp6,udp4,udp6,unix-stream,unix-dgram,unix-seqpacket,pipe,shm";

fn decode(b64: &str) -> Histogram<u64> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .unwrap();
    Deserializer::new()
        .deserialize(&mut raw.as_slice())
        .unwrap()
}

#[test]
fn rr_runs_on_every_transport_and_engine_and_stores_readable_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = loopbench()
        .args([
            "run",
            "-t",
            TRANSPORTS,
            "-e",
            "blocking,spin",
            "-n",
            "2",
            "-c",
            "200",
            "--warmup",
            "0",
            "--seed",
            "5",
            // Exact counts: a spinning client preempted on a busy machine must not count a
            // late answer as lost.
            "--loss-timeout",
            "5s",
        ])
        .arg("-o")
        .arg(dir.path())
        .arg("--json")
        .timeout(Duration::from_secs(240))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout: serde_json::Value = serde_json::from_slice(&out).expect("--json prints run.json");
    let run = only_run(dir.path());
    let json = run_json(&run);
    assert_eq!(stdout, json, "stdout and run.json agree");
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["complete"], true);
    assert_eq!(json["seed"], 5);
    assert!(
        json["environment"]["kernel_release"]
            .as_str()
            .unwrap()
            .len()
            > 1
    );
    assert!(json["timer"]["read_cost_ns"].as_f64().unwrap() > 0.0);
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18);
    for case in cases {
        let id = case["case_id"].as_str().unwrap();
        assert!(
            case["errors"].as_array().unwrap().is_empty(),
            "{id}: {}",
            case["errors"]
        );
        assert_eq!(case["iterations"].as_array().unwrap().len(), 2, "{id}");
        let s = &case["summary"];
        assert_eq!(s["latency"]["count"], 400, "{id}");
        for key in [
            "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns", "max_ns",
        ] {
            assert!(s["latency"][key].as_u64().unwrap() > 0, "{id} {key}");
        }
        assert!(s["msgs_per_sec"].as_f64().unwrap() > 0.0, "{id}");
        assert!(
            s["client"]["usage"]["cpu_ns_per_msg"].as_f64().unwrap() > 0.0,
            "{id}"
        );
        assert!(case["spec"]["transport"].is_string() && case["spec"]["placement"].is_string());

        let hgrm =
            std::fs::read_to_string(run.join(case["files"]["hgrm"].as_str().unwrap())).unwrap();
        assert!(
            hgrm.contains("Total count    =          400"),
            "{id}: {hgrm}"
        );
        let hlog = std::fs::read(run.join(case["files"]["hlog"].as_str().unwrap())).unwrap();
        let intervals: Vec<Histogram<u64>> = IntervalLogIterator::new(&hlog)
            .filter_map(|e| match e.unwrap() {
                LogEntry::Interval(iv) => Some(decode(iv.encoded_histogram())),
                _ => None,
            })
            .collect();
        assert_eq!(intervals.len(), 2, "{id}: one interval per iteration");
        assert!(intervals.iter().all(|h| h.len() == 200), "{id}");
    }
    // Datagram cases carry no losses on an idle loopback with one request in flight.
    let udp = cases
        .iter()
        .find(|c| c["spec"]["transport"] == "udp4")
        .unwrap();
    assert_eq!(udp["summary"]["client"]["counters"]["lost"], 0);
}

#[test]
fn the_table_shows_each_case_and_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let assert = loopbench()
        .args([
            "run",
            "-t",
            "unix-stream,pipe",
            "-n",
            "1",
            "-c",
            "100",
            "--warmup",
            "0",
        ])
        .arg("-o")
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("p50 µs") && stdout.contains("msgs/s"),
        "{stdout}"
    );
    assert!(stdout.contains("unix-stream-rr-blocking-"), "{stdout}");
    assert!(stdout.contains("pipe-rr-blocking-"), "{stdout}");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("results: "), "{stderr}");
}

#[test]
fn one_run_prints_markdown_and_exports_json_markdown_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let f = |name: &str| dir.path().join(name);
    let assert = loopbench()
        .args(["run", "-t", "pipe", "-n", "1", "-c", "100", "--warmup", "0"])
        .args(["--format", "markdown", "--no-report", "-q", "--export-json"])
        .arg(f("run.json"))
        .arg("--export-markdown")
        .arg(f("run.md"))
        .arg("--export-csv")
        .arg(f("run.csv"))
        .arg("-o")
        .arg(f("results"))
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let md = std::fs::read_to_string(f("run.md")).unwrap();
    assert_eq!(
        stdout, md,
        "--format markdown prints what --export-markdown writes"
    );
    assert!(md.contains("| pipe-rr-blocking-"), "{md}");
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f("run.json")).unwrap()).unwrap();
    assert_eq!(
        exported,
        run_json(&only_run(&f("results"))),
        "the stored run.json"
    );
    let csv = std::fs::read_to_string(f("run.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "header and one case: {csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains("pipe-rr-blocking-"),
        "{csv}"
    );
    // `show` renders the stored run the same ways.
    let show = |args: &[&str]| {
        let out = loopbench()
            .arg("show")
            .args(args)
            .arg("-o")
            .arg(f("results"))
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    assert_eq!(show(&["--format", "markdown"]), md);
    let again = f("again.csv");
    show(&["latest", "--export-csv", again.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), csv);
    let stored: serde_json::Value = serde_json::from_str(&show(&["--json"])).unwrap();
    assert_eq!(stored, exported);
    let case: serde_json::Value =
        serde_json::from_str(&show(&["latest", "pipe", "--json"])).unwrap();
    assert_eq!(case["case_id"], exported["cases"][0]["case_id"]);
}

#[test]
fn losses_injected_by_the_server_are_counted_exactly() {
    let (_dir, json) = run_ok(&[
        "-t",
        "udp4,unix-dgram",
        "-n",
        "1",
        "-c",
        "100",
        "--warmup",
        "0",
        "--server-drop-every",
        "10",
        // Long enough that a late answer on a busy machine is not counted lost.
        "--loss-timeout",
        "200ms",
    ]);
    for case in json["cases"].as_array().unwrap() {
        let c = &case["summary"]["client"]["counters"];
        assert_eq!(c["lost"], 10, "{}", case["case_id"]);
        assert_eq!(c["messages"], 90, "{}", case["case_id"]);
        assert_eq!(
            case["summary"]["server"]["counters"]["dropped_on_purpose"],
            10
        );
    }
}

#[test]
fn ctrl_c_keeps_finished_iterations_and_marks_the_run_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
        .args([
            "run",
            "-t",
            "unix-stream",
            "-n",
            "50",
            "-d",
            "200ms",
            "--warmup",
            "0",
            "-q",
        ])
        .arg("-o")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until at least one iteration is stored, then interrupt.
    let started = std::time::Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no iteration finished in 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
        let Ok(runs) = std::fs::read_dir(dir.path().join("runs")) else {
            continue;
        };
        let Some(run) = runs.flatten().next() else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(run.path().join("run.json")) else {
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        if !json["cases"][0]["iterations"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            break;
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let json = run_json(&only_run(dir.path()));
    assert_eq!(json["complete"], false);
    assert_eq!(json["interrupted"], true);
    let kept = json["cases"][0]["iterations"].as_array().unwrap().len();
    assert!((1..50).contains(&kept), "{kept}");
    assert!(
        json["cases"][0]["files"]["hgrm"].is_string(),
        "partial case files written"
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("loopbench");
    let script = format!(
        "'{}' run -t pipe -n 1 -c 10 --warmup 0 -q -o '{}' | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        bin.display(),
        dir.path().display()
    );
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn stream_is_counted_at_the_receiver_with_a_time_series_and_a_memcpy_reference() {
    let (_dir, json) = run_ok(&[
        "-w",
        "stream",
        "-t",
        "tcp4,unix-stream,udp4",
        "-s",
        "8k",
        "-n",
        "2",
        "-d",
        "250ms",
        "--warmup",
        "0",
    ]);
    for case in json["cases"].as_array().unwrap() {
        let id = case["case_id"].as_str().unwrap();
        let s = &case["summary"];
        assert!(s["bytes_per_sec"].as_f64().unwrap() > 0.0, "{id}");
        assert_eq!(s["memcpy"]["chunk_bytes"], 8192, "{id}");
        let eff = s["copy_efficiency"].as_f64().unwrap();
        assert!(eff > 0.0 && eff.is_finite(), "{id}: {eff}");
        assert_eq!(s["latency"]["count"], 0, "{id}: stream records no latency");
        for it in case["iterations"].as_array().unwrap() {
            let slices = it["slices"].as_array().unwrap();
            assert!(
                slices.len() >= 2,
                "{id}: a 250 ms iteration has 100 ms slices"
            );
            let sliced: u64 = slices.iter().map(|s| s["bytes"].as_u64().unwrap()).sum();
            assert_eq!(sliced, it["bytes"].as_u64().unwrap(), "{id}");
            let received = it["server"]["counters"]["bytes_received"].as_u64().unwrap();
            assert_eq!(
                it["bytes"].as_u64().unwrap(),
                received,
                "{id}: counted at the receiver"
            );
            let sent = it["client"]["counters"]["messages"].as_u64().unwrap();
            let got = it["server"]["counters"]["messages"].as_u64().unwrap();
            let lost = it["server"]["counters"]["lost"].as_u64().unwrap();
            if id.starts_with("udp4") {
                assert!(got + lost <= sent, "{id}");
            } else {
                assert_eq!(got, sent, "{id}: nothing is lost on a stream");
            }
        }
    }
}
