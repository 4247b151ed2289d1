//! Every input a user can get wrong exits with 2 and a message that says what to do.

use predicates::str::contains;

use crate::helpers::loopbench;

fn refused(args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .arg("run")
        .args(args)
        .args(["-n", "1", "-c", "10", "--warmup", "0", "-q"])
        .arg("-o")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("error:"))
        .stderr(contains(message))
        .stderr(contains("panicked").not())
        .stderr(contains("RUST_BACKTRACE").not());
    assert!(
        !dir.path().join("runs").exists(),
        "nothing measured or written for {args:?}"
    );
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn unknown_transport() {
    refused(
        &["-t", "tcp5"],
        "unknown Transport 'tcp5'; expected one of: tcp4",
    );
}

#[test]
fn zero_size() {
    refused(&["-s", "0"], "--size must be at least 1 byte");
}

#[test]
fn udp_size_above_the_datagram_limit() {
    refused(&["-t", "udp4", "-s", "65508"], "max 65507 bytes");
}

#[test]
fn cpu_that_does_not_exist() {
    refused(
        &["--client-cpu", "999", "--server-cpu", "0"],
        "--client-cpu 999 does not exist",
    );
}

#[test]
fn placement_the_machine_cannot_satisfy() {
    refused(&["-p", "cross-node"], "needs CPUs on two NUMA nodes");
}

#[test]
fn non_loopback_address() {
    refused(&["--addr", "10.0.0.1"], "loopbench only measures loopback");
    refused(
        &["--client-addr", "192.168.1.1"],
        "loopbench only measures loopback",
    );
}

#[test]
fn port_in_use() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    refused(&["--port", &port], "address in use; pick another --port");
}

#[test]
fn unwritable_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    loopbench()
        .args(["run", "-n", "1", "-c", "10", "--warmup", "0", "-q", "-o"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains("cannot create the results directory"))
        .stderr(contains("choose a writable --output"));
}

#[test]
fn bad_duration_and_size_spellings() {
    refused(&["--timeout", "soon"], "cannot read 'soon' as a duration");
    refused(&["-s", "12q"], "cannot read '12q' as a size");
    loopbench()
        .args(["run", "-d", "0"])
        .assert()
        .code(2)
        .stderr(contains("must be greater than zero"));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    loopbench()
        .args(["run", "--frobnicate"])
        .assert()
        .code(2)
        .stderr(contains("--frobnicate"));
}

#[test]
fn blocking_with_more_flows_than_threads() {
    refused(&["--flows", "4"], "use --threads 4 or --engine epoll");
}

#[test]
fn crr_over_udp() {
    refused(
        &["-w", "crr", "-t", "udp4"],
        "needs a connection-oriented transport",
    );
}

#[test]
fn rate_without_a_rate() {
    refused(&["-w", "rate"], "needs --rate");
}

#[test]
fn spread_outside_loopback() {
    refused(
        &["-w", "crr", "--spread", "10.0.0.1-10.0.0.9"],
        "only measures loopback",
    );
}

#[test]
fn epoll_on_shm() {
    refused(&["-t", "shm", "-e", "epoll"], "shm has no file descriptor");
}

#[test]
fn a_client_request_without_response_framing() {
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .args([
            "client",
            "--connect",
            "127.0.0.1:1",
            "--request",
            "hi",
            "-q",
            "-o",
        ])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("say how a response ends: --response-size"))
        .stderr(contains("panicked").not());
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn io_uring_refused_by_the_host_exits_2_naming_the_reason_before_measuring() {
    // LB_FAULT_IO_URING makes io_uring_setup fail as such a host would (the sysctl itself is
    // machine-wide and not the test's to change).
    for (errno, reason) in [
        ("ENOSYS", "CONFIG_IO_URING"),
        ("EPERM", "kernel.io_uring_disabled"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        loopbench()
            .env("LB_FAULT_IO_URING", errno)
            .args([
                "run",
                "-e",
                "blocking,io_uring-sqpoll",
                "-n",
                "1",
                "-c",
                "10",
            ])
            .args(["--warmup", "0", "-q", "-o"])
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(contains("--engine io_uring-sqpoll cannot run on this host"))
            .stderr(contains(reason))
            .stderr(contains("panicked").not());
        assert!(
            !dir.path().join("runs").exists(),
            "{errno}: not even the blocking case ran"
        );
    }
}
