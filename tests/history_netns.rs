//! The issue's end-to-end test of `loopbench history`: real short runs of tcp4 stream 64 KiB in
//! private network namespaces, added with commits, then `history check`. A test binary of its
//! own, so no other test of this crate measures at the same time (cargo runs test binaries one
//! after another).

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn loopbench() -> Command {
    let mut cmd = Command::cargo_bin("loopbench").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A private network namespace (lo up) that commands can be started in.
struct PrivateNet {
    ns: std::fs::File,
}

impl PrivateNet {
    fn new() -> PrivateNet {
        let made = std::thread::spawn(|| -> anyhow::Result<std::fs::File> {
            loopbench::loopback::netns::enter_private()?;
            Ok(std::fs::File::open("/proc/thread-self/ns/net")?)
        })
        .join()
        .unwrap();
        match made {
            Ok(ns) => PrivateNet { ns },
            Err(e) => panic!("cannot create a network namespace (needs root): {e:#}"),
        }
    }

    /// `program` started inside the namespace.
    fn command(&self, program: &std::path::Path) -> std::process::Command {
        let fd = self.ns.as_raw_fd();
        let mut cmd = std::process::Command::new(program);
        // SAFETY: setns is an async-signal-safe system call.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    fn loopbench(&self) -> Command {
        let mut cmd = Command::from_std(self.command(&assert_cmd::cargo::cargo_bin("loopbench")));
        cmd.env("NO_COLOR", "1");
        cmd
    }
}

/// The case of the issue's end-to-end test.
const STREAM_CASE: &str = "tcp4-stream-blocking-cross-core-65536B";

/// Measures one short tcp4 stream 64 KiB run inside `net` into `results`; returns its directory.
fn stream_run(net: &PrivateNet, results: &Path) -> PathBuf {
    let before: Vec<PathBuf> = runs(results);
    net.loopbench()
        .args([
            "run",
            "-t",
            "tcp4",
            "-w",
            "stream",
            "-s",
            "64KiB",
            "-p",
            "cross-core",
        ])
        .args([
            "-n",
            "5",
            "-d",
            "100ms",
            "--warmup",
            "50ms",
            "-q",
            "--no-report",
            "-o",
        ])
        .arg(results)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success();
    runs(results)
        .into_iter()
        .find(|r| !before.contains(r))
        .expect("a new run")
}

fn runs(results: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(results.join("runs"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

fn add(history: &Path, run: &Path, commit: &str) {
    loopbench()
        .args([
            "history",
            "add",
            "--branch",
            "main",
            "--commit",
            commit,
            "--history",
        ])
        .arg(history)
        .arg(run)
        .assert()
        .success();
}

fn check_json(history: &Path) -> (i32, serde_json::Value) {
    let out = loopbench()
        .args(["history", "check", "--format", "json", "--history"])
        .arg(history)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), json)
}

/// Two private namespaces measured turn about, 10 runs each: in the first lo keeps its defaults;
/// in the second, after 6 runs, lo gets MTU 1500 with TSO and GSO off (the case id is the same).
/// `history check` of the second names the 7th run's commit as the change point where the
/// receiver's CPU time per message got worse (it is steadier than throughput when other load
/// takes CPU time away; throughput falls too) and exits 1; the first has no regression and exits
/// 0.
///
/// One attempt is a real measurement on a shared machine: under `lb-quiet` 19 of 20 attempts
/// passed; the one failure placed the change point at c05, where two runs of the unchanged lo had
/// twice the CPU per message (see the README's "History and trends"), and a CI run failed when
/// the six runs before the change spread from 8 to 20 µs (the change to 24–31 µs was then not
/// significant after Bonferroni). So the test makes up to 3 attempts, each in fresh namespaces,
/// and fails when none gives the expected verdicts: with attempts independent, the false-failure
/// rate is about 0.05³ ≈ 1e-4. A wrong detector cannot pass by retrying: every attempt asserts the
/// change point's commit and direction and the unchanged history's pass.
#[test]
#[ignore = "needs root: measures in private network namespaces and changes their lo"]
fn a_changed_loopback_is_found_at_the_seventh_commit_and_an_unchanged_one_passes() {
    const ATTEMPTS: usize = 3;
    let mut failures = Vec::new();
    for attempt in 1..=ATTEMPTS {
        match measure_and_check() {
            Ok(()) => return,
            Err(why) => {
                eprintln!(
                    "attempt {attempt} of {ATTEMPTS} did not give the expected verdicts:\n{why}"
                );
                failures.push(why);
            }
        }
    }
    panic!(
        "none of {ATTEMPTS} attempts gave the expected verdicts:\n{}",
        failures.join("\n----\n")
    );
}

/// Checks `cond` or returns `context` as the attempt's failure.
fn expect(cond: bool, what: &str, context: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("expected {what}\n{context}"))
    }
}

/// One attempt: builds both histories from real runs and checks them.
fn measure_and_check() -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let (plain, changed) = (PrivateNet::new(), PrivateNet::new());
    let (plain_db, changed_db) = (
        dir.path().join("plain.sqlite"),
        dir.path().join("changed.sqlite"),
    );
    for k in 1..=10 {
        if k == 7 {
            for cmd in [
                vec!["ip", "link", "set", "lo", "mtu", "1500"],
                vec!["ethtool", "-K", "lo", "tso", "off", "gso", "off"],
            ] {
                let status = changed
                    .command(Path::new(cmd[0]))
                    .args(&cmd[1..])
                    .status()
                    .unwrap();
                assert!(status.success(), "{cmd:?}");
            }
        }
        let commit = format!("c{k:02}");
        add(
            &plain_db,
            &stream_run(&plain, &dir.path().join("plain")),
            &commit,
        );
        add(
            &changed_db,
            &stream_run(&changed, &dir.path().join("changed")),
            &commit,
        );
    }
    // KEEP_DIR=DIR keeps the runs and histories for a look after the test.
    if let Ok(keep) = std::env::var("KEEP_DIR") {
        let _ = std::process::Command::new("cp")
            .arg("-r")
            .arg(dir.path())
            .arg(keep)
            .status();
    }
    let (code, json) = check_json(&changed_db);
    let context = format!("{json:#}\n{}", show(&changed_db));
    let series = json["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "receiver-cpu")
        .unwrap_or_else(|| panic!("no receiver-cpu series: {context}"));
    assert_eq!(series["case_id"], STREAM_CASE, "{context}");
    expect(
        series["verdict"] == "regression",
        "a regression in the changed history",
        &context,
    )?;
    expect(
        series["since"]["commit"] == "c07",
        "the change point at c07",
        &context,
    )?;
    expect(
        series["since"]["direction"] == "worse",
        "the direction worse",
        &context,
    )?;
    let changed_settings = series["since"]["changed"][0].as_str().unwrap_or_default();
    assert!(
        changed_settings.contains("mtu=1500") && changed_settings.contains("tso=off"),
        "{context}"
    );
    assert_eq!(code, 1, "{context}");
    let (code, json) = check_json(&plain_db);
    let context = format!("{json:#}\n{}", show(&plain_db));
    assert!(
        json["series"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["runs"] == 10),
        "{context}"
    );
    expect(code == 0, "the unchanged history to pass", &context)
}

/// `history show` of the stream case's throughput and receiver CPU, for failure messages.
fn show(db: &Path) -> String {
    ["throughput", "receiver-cpu"]
        .iter()
        .map(|metric| {
            let out = loopbench()
                .args([
                    "history",
                    "show",
                    STREAM_CASE,
                    "--metric",
                    metric,
                    "--history",
                ])
                .arg(db)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect()
}
