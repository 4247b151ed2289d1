//! crr, rate, multi-flow and the new engines end to end: what lands in run.json and on disk.
use crate::helpers::{only_run, run_ok};

fn run(args: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    run_ok(&[args, &["--warmup", "0"]].concat())
}

#[test]
fn rate_stores_corrected_and_actual_histograms_and_the_schedule() {
    let (dir, json) = run(&[
        "-w",
        "rate",
        "--rate",
        "5000",
        "-t",
        "tcp4,udp4",
        "-e",
        "epoll",
        "-n",
        "2",
        "-c",
        "300",
        // A loaded machine must not turn a slow UDP answer into a loss here.
        "--loss-timeout",
        "2s",
    ]);
    let run_dir = only_run(dir.path());
    for case in json["cases"].as_array().unwrap() {
        let id = case["case_id"].as_str().unwrap();
        assert!(id.ends_with("-rate5000"), "{id}");
        let s = &case["summary"];
        // Every request is answered or, on UDP, accounted as lost: a parallel test's bulk
        // traffic can overflow the loopback backlog and drop a datagram on a busy machine.
        let lost = s["client"]["counters"]["lost"].as_u64().unwrap();
        assert!(id.starts_with("udp4") || lost == 0, "{id}");
        assert_eq!(s["latency"]["count"].as_u64().unwrap() + lost, 600, "{id}");
        assert_eq!(
            s["latency_actual"]["count"].as_u64().unwrap() + lost,
            600,
            "{id}"
        );
        assert_eq!(s["rate"]["target_per_sec"], 5000.0, "{id}");
        assert_eq!(s["rate"]["sent"], 600, "{id}");
        assert!(
            s["rate"]["achieved_per_sec"].as_f64().unwrap() > 0.0,
            "{id}"
        );
        assert!(s["rate"]["sustained"].is_boolean(), "{id}");
        for key in ["hgrm", "hlog", "hgrm_actual", "hlog_actual"] {
            let rel = case["files"][key].as_str().unwrap();
            assert!(run_dir.join(rel).is_file(), "{id}: {rel}");
        }
        assert!(
            case["files"]["hgrm_actual"]
                .as_str()
                .unwrap()
                .ends_with("latency-actual.hgrm")
        );
    }
}

#[test]
fn crr_records_connections_ports_and_the_close_mode() {
    let (_dir, json) = run(&[
        "-w",
        "crr",
        "-t",
        "tcp4",
        "-e",
        "epoll",
        "--spread",
        "127.0.0.2-127.0.0.9",
        "--linger0",
        "--flows",
        "2",
        "-n",
        "1",
        "-c",
        "100",
    ]);
    let case = &json["cases"][0];
    let c = &case["summary"]["connections"];
    assert_eq!(c["connections"], 200);
    assert_eq!(c["addr_not_avail"], 0);
    assert_eq!(c["source_addresses"], 8);
    assert_eq!(c["close"], "linger0");
    assert!(c["ports_used"].as_u64().unwrap() >= 1);
    assert!(c["ephemeral_port_range"].is_array());
    assert_eq!(case["summary"]["latency"]["count"], 200);
}

#[test]
fn a_thousand_flows_on_epoll_report_per_flow_and_aggregate() {
    let (_dir, json) = run(&[
        "-e", "epoll", "--flows", "1000", "-t", "tcp4", "-n", "1", "-c", "3",
    ]);
    let s = &json["cases"][0]["summary"];
    assert_eq!(s["latency"]["count"], 3000);
    let flows = s["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1000);
    assert!(flows.iter().all(|f| f["messages"] == 3));
    assert_eq!(s["flow_fairness"], 1.0);
    assert_eq!(
        json["cases"][0]["iterations"][0]["flows"]
            .as_array()
            .unwrap()
            .len(),
        1000
    );
}

#[test]
fn cpu_lists_place_each_thread() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        cpus >= 2,
        "this test pins threads to CPUs 0 and 1: it needs a machine with 2 CPUs"
    );
    let (_dir, json) = run(&[
        "-e",
        "epoll",
        "--flows",
        "2",
        "--threads",
        "2",
        "--client-cpus",
        "0,1",
        "--server-cpus",
        "1,0",
        "-t",
        "unix-stream",
        "-n",
        "1",
        "-c",
        "50",
    ]);
    let case = &json["cases"][0];
    assert!(
        case["case_id"]
            .as_str()
            .unwrap()
            .contains("-cpu0+1-cpu1+0-")
    );
    assert_eq!(case["requested_cpus"]["client"], serde_json::json!([0, 1]));
    assert_eq!(case["summary"]["client"]["cpus"], serde_json::json!([0, 1]));
}

#[test]
fn every_engine_reports_context_switches_per_message() {
    let (_dir, json) = run(&[
        "-e",
        "blocking,spin,epoll,tokio,tokio-mt",
        "-t",
        "udp4",
        "-n",
        "1",
        "-c",
        "200",
    ]);
    for case in json["cases"].as_array().unwrap() {
        let s = &case["summary"];
        assert!(
            s["client"]["usage"]["switches_per_msg"].is_number(),
            "{}",
            case["case_id"]
        );
        let kernel_has_them = std::fs::read_to_string("/proc/thread-self/sched")
            .is_ok_and(|t| t.contains("se.nr_migrations"));
        if kernel_has_them {
            assert!(s["client"]["migrations"].is_u64(), "{}", case["case_id"]);
            assert!(s["server"]["migrations"].is_u64(), "{}", case["case_id"]);
        } else {
            assert!(s["client"]["migrations"].is_null());
            assert!(s["server"]["migrations"].is_null());
        }
        assert!(s.get("net_rx_softirqs").is_some());
    }
}
