//! The two sides as separate processes, and measuring a service the test starts itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::{loopbench, only_run, run_json, run_ok};

#[test]
fn run_processes_puts_the_server_in_a_child_and_records_both_sides() {
    let (_dir, json) = run_ok(&[
        "--processes",
        "-t",
        "tcp4,unix-stream",
        "-w",
        "rr,crr",
        "-n",
        "2",
        "-c",
        "100",
        "--warmup",
        "0",
    ]);
    for case in json["cases"].as_array().unwrap() {
        let id = case["case_id"].as_str().unwrap();
        assert!(id.ends_with("-processes"), "{id}");
        let s = &case["summary"];
        assert_eq!(s["latency"]["count"], 200, "{id}");
        // The server's counters and CPU come back from the child process.
        assert_eq!(s["server"]["counters"]["messages"], 200, "{id}");
        assert!(s["server"]["usage"]["cpu_ns"].as_u64().unwrap() > 0, "{id}");
        assert!(case["files"]["hgrm"].is_string(), "{id}");
    }
}

#[test]
fn a_standalone_server_announces_its_address_and_a_client_measures_it() {
    let bin = assert_cmd::cargo::cargo_bin("loopbench");
    let mut server = std::process::Command::new(&bin)
        .args(["server", "-t", "tcp4", "--sessions", "2", "-p", "unpinned"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["event"], "listening");
    let address = first["address"].as_str().unwrap().to_string();
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .args([
            "client",
            "--connect",
            &address,
            "-n",
            "1",
            "-c",
            "100",
            "--warmup",
            "10ms",
            "-q",
            "-p",
            "unpinned",
        ])
        .arg("-o")
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let json = run_json(&only_run(dir.path()));
    assert_eq!(json["cases"][0]["summary"]["latency"]["count"], 100);
    // Two sessions (warm-up and iteration), each reported by the server, then it exits.
    let reports: Vec<serde_json::Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .filter(|v: &serde_json::Value| v["event"] == "done")
        .collect();
    assert_eq!(reports.len(), 2);
    assert!(server.wait().unwrap().success());
}

/// A tiny HTTP-like service: answers every request (ending in a blank line) with a fixed
/// header block, on any number of keep-alive connections, until the test ends.
fn tiny_service() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(4) {
            let mut conn = conn.unwrap();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let reply = b"HTTP/1.1 204 No Content\r\nServer: tiny\r\n\r\n";
                        if conn.write_all(reply).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    address
}

#[test]
fn client_connect_measures_an_existing_service_with_delimiter_framing() {
    let address = tiny_service();
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .args([
            "client",
            "--connect",
            &address,
            "--request",
            "GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
            "--response-delimiter",
            "\\r\\n\\r\\n",
            "-e",
            "epoll",
            "--flows",
            "2",
            "-n",
            "1",
            "-c",
            "50",
            "--warmup",
            "0",
            "-q",
            "-p",
            "unpinned",
        ])
        .arg("-o")
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let json = run_json(&only_run(dir.path()));
    let case = &json["cases"][0];
    assert!(case["case_id"].as_str().unwrap().contains("-delimited"));
    let s = &case["summary"];
    assert_eq!(s["latency"]["count"], 100);
    let reply_len = b"HTTP/1.1 204 No Content\r\nServer: tiny\r\n\r\n".len() as u64;
    assert_eq!(s["client"]["counters"]["bytes_received"], 100 * reply_len);
    assert_eq!(
        case["spec"]["framing"]["response_delimiter"],
        serde_json::json!([13, 10, 13, 10])
    );
}

#[test]
fn client_connect_refuses_non_loopback_targets() {
    loopbench()
        .args([
            "client",
            "--connect",
            "10.0.0.1:80",
            "--response-size",
            "10",
            "-q",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("only measures loopback"));
}
