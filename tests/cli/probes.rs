//! `--trace` and `--profile`: refused up front without root (exit 2, saying what is missing) or
//! for cases they cannot follow; as root, what they record in run.json and on disk.

use std::os::unix::process::CommandExt;

use crate::helpers::{loopbench, only_run, require_root, run_json, run_ok};

/// `loopbench` as the unprivileged user `nobody` (or as this user when it is not root).
fn unprivileged() -> assert_cmd::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"));
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // SAFETY: setgroups, setgid and setuid are async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.env("NO_COLOR", "1");
    cmd
}

#[test]
fn without_root_trace_and_profile_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    // nobody must be able to reach the results directory for the refusal to be about tracing.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    for (flag, says) in [("--trace", "needs root"), ("--profile", "need root")] {
        let out = unprivileged()
            .current_dir(dir.path())
            .args(["run", "-t", "tcp4", flag, "-n", "1", "-c", "10", "-q", "-o"])
            .arg(dir.path())
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains(says) && err.contains(flag), "{flag}: {err}");
        assert!(!dir.path().join("runs").exists(), "{flag}: nothing ran");
    }
}

#[test]
fn cases_the_tracer_cannot_follow_are_refused_with_the_flag_to_change() {
    for (args, says) in [
        (&["-w", "stream", "--trace"][..], "--workload rr"),
        (&["-p", "unpinned", "--profile"][..], "pin them"),
        (&["-t", "shm", "--trace"][..], "shm never enters"),
        (&["--trace", "maybe"][..], "off,on"),
    ] {
        let out = loopbench()
            .args(["run", "-n", "1", "-c", "10", "-q", "-o", "/nonexistent"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
#[ignore = "needs root: perf tracepoints on the workers' CPUs"]
fn trace_records_kernel_stages_their_files_and_the_tracers_overhead() {
    require_root();
    let (dir, run) = run_ok(&["-t", "tcp4", "--trace", "off,on", "-n", "2", "-c", "2000"]);
    let traced = &run["cases"][1];
    assert!(traced["case_id"].as_str().unwrap().ends_with("-trace"));
    let s = &traced["summary"];
    let t = &s["kernel_trace"];
    let attributed = t["round_trips"].as_u64().unwrap();
    let left_out = t["dropped_for_loss"].as_u64().unwrap() + t["unmatched"].as_u64().unwrap();
    assert_eq!(attributed + left_out, 4000, "{t}");
    assert!(attributed > 3000, "{t}");
    let wakeups = &t["wakeups"];
    assert_eq!(
        wakeups["woken"].as_u64().unwrap() + wakeups["not_woken"].as_u64().unwrap(),
        2 * attributed
    );
    let overhead = &t["overhead"];
    assert_eq!(overhead["untraced_case"], run["cases"][0]["case_id"]);
    assert!(overhead["ratio"].as_f64().unwrap() > 0.0);
    let stages = s["kernel_stages"].as_object().unwrap();
    let send = &stages["request.send_syscall"];
    assert_eq!(
        send["count"].as_u64().unwrap() + send["absent"].as_u64().unwrap(),
        attributed
    );
    let files = only_run(dir.path())
        .join("cases")
        .join(traced["case_id"].as_str().unwrap());
    assert!(
        files
            .join("kernel-stages/request.send_syscall.hgrm")
            .is_file()
    );
    let spans = s["typical_round_trip"]["spans"].as_array().unwrap();
    assert!(
        spans
            .iter()
            .any(|sp| sp["name"] == "request.send_syscall" && sp["layer"] == "kernel")
    );
    let untraced = &run["cases"][0]["summary"];
    assert!(untraced.get("kernel_trace").is_none() && untraced.get("kernel_stages").is_none());
    assert!(run["cases"][1]["iterations"][0]["kernel_stages"]["request.protocol"].is_u64());
}

#[test]
#[ignore = "needs root: cpu-clock sampling with kernel call chains"]
fn profile_records_shares_per_side_that_add_up_and_the_category_table() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .args([
            "run",
            "-t",
            "tcp4",
            "-w",
            "stream",
            "-s",
            "64k",
            "--profile",
            "-n",
            "1",
        ])
        .args(["-d", "300ms", "--warmup", "0", "-q", "-o"])
        .arg(dir.path())
        .assert()
        .success();
    let run = run_json(&only_run(dir.path()));
    let p = &run["cases"][0]["summary"]["cpu_profile"];
    assert!(p["samples"].as_u64().unwrap() > 0, "{p}");
    for side in p["sides"].as_array().unwrap() {
        let shares: f64 = side["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| pair[1].as_f64().unwrap())
            .sum();
        assert!(
            (shares - 1.0).abs() < 1e-9 || side["samples"] == 0,
            "{side}"
        );
        assert!(
            !side["ns_per_byte"].as_array().unwrap().is_empty(),
            "stream: per byte"
        );
    }
    let table = p["categories"].as_array().unwrap();
    assert_eq!(table[0]["category"], "data_copy");
    assert!(only_run(dir.path()).join("plots/cpu-profile.svg").is_file());
}
