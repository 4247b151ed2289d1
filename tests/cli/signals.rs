//! Real signals delivered at points the run records on disk (warm-up running, an iteration of a
//! case stored, a case finished and the next running): every way a Ctrl-C or SIGTERM arrives
//! leaves a finalized run (exit 130, `interrupted: true`, a finish time, the report, the
//! histogram files of every case that measured something). SIGKILL leaves a partial run, with
//! the histogram of every iteration that finished, that `list`, `show`, `report` and `compare`
//! still read.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::helpers::{loopbench, only_run, run_json};

/// Longest any step here may take before the test fails (instead of hanging).
const BOUND: Duration = Duration::from_secs(60);

/// How a signal reaches the run.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    /// SIGINT to the process.
    Int,
    /// SIGTERM to the process.
    Term,
    /// SIGINT to the process and at once to its group, as GNU `timeout -s INT` and a terminal do.
    IntTwice,
    /// SIGINT to its process group only.
    IntGroup,
}

/// A point of the run, as run.json records it.
#[derive(Clone, Copy, Debug)]
enum Point {
    /// run.json exists, nothing measured yet (the warm-up runs).
    WarmUp,
    /// At least one iteration of the first case is stored.
    MidCase,
    /// The first case finished (its files written), the second runs.
    BetweenCases,
}

impl Point {
    fn args(self) -> &'static [&'static str] {
        match self {
            Point::WarmUp => &["-t", "pipe", "-n", "2", "-d", "50ms", "--warmup", "20s"],
            Point::MidCase => &["-t", "pipe", "-n", "200", "-d", "50ms", "--warmup", "0"],
            Point::BetweenCases => &[
                "-t",
                "pipe,unix-stream",
                "-n",
                "3",
                "-d",
                "50ms",
                "--warmup",
                "0",
                "--no-interleave",
            ],
        }
    }

    /// True once `json` (run.json) shows the run at this point.
    fn reached(self, json: &serde_json::Value) -> bool {
        let iterations = |c: usize| {
            json["cases"][c]["iterations"]
                .as_array()
                .map_or(0, |a| a.len())
        };
        match self {
            Point::WarmUp => true,
            Point::MidCase => iterations(0) >= 1,
            Point::BetweenCases => {
                json["cases"][0]["files"]["hgrm"].is_string() && iterations(1) < 3
            }
        }
    }

    /// True when a signal came too late to find the run at this point (the run ended first).
    fn passed(self, json: &serde_json::Value) -> bool {
        json["finished_at"].is_string()
    }
}

/// `loopbench run ARGS -o DIR` in a process group of its own (so a group signal spares the test).
fn spawn_run(args: &[&str], dir: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
        .arg("run")
        .args(args)
        .arg("-o")
        .arg(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOOPBENCH_OUTPUT")
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until run.json under `dir` satisfies `ready`; the run directory.
fn wait_for(dir: &Path, child: &mut Child, ready: impl Fn(&serde_json::Value) -> bool) -> PathBuf {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < BOUND, "the run never got there");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before the point was reached");
        }
        std::thread::sleep(Duration::from_millis(20));
        let Some(run) = std::fs::read_dir(dir.join("runs"))
            .ok()
            .and_then(|mut r| r.next())
        else {
            continue;
        };
        let run = run.unwrap().path();
        let Ok(text) = std::fs::read_to_string(run.join("run.json")) else {
            continue;
        };
        // run.json is replaced atomically; a half-written one would fail here.
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        if ready(&json) {
            return run;
        }
    }
}

fn deliver(child: &Child, how: Delivery) {
    let pid = Pid::from_raw(child.id() as i32);
    let group = Pid::from_raw(-(child.id() as i32));
    match how {
        Delivery::Int => kill(pid, Signal::SIGINT).unwrap(),
        Delivery::Term => kill(pid, Signal::SIGTERM).unwrap(),
        Delivery::IntTwice => {
            kill(pid, Signal::SIGINT).unwrap();
            kill(group, Signal::SIGINT).unwrap();
        }
        Delivery::IntGroup => kill(group, Signal::SIGINT).unwrap(),
    }
}

/// Waits for `child` at most [`BOUND`]; its exit code and stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > BOUND {
            let _ = child.kill();
            panic!("the run did not end within {BOUND:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a finalized interrupted run has; `Err` says what it lacks.
fn check_finalized(run: &Path, code: Option<i32>, stderr: &str) -> Result<(), String> {
    if code != Some(130) {
        return Err(format!("exit {code:?}, stderr: {stderr}"));
    }
    let json = run_json(run);
    if json["interrupted"] != true || json["complete"] != false {
        return Err(format!(
            "interrupted {} complete {}",
            json["interrupted"], json["complete"]
        ));
    }
    if !json["finished_at"].is_string() {
        return Err("no finished_at".into());
    }
    if !run.join("report.html").is_file() {
        return Err(format!("no report.html; stderr: {stderr}"));
    }
    for case in json["cases"].as_array().unwrap() {
        let measured = !case["iterations"].as_array().unwrap().is_empty();
        if measured && !case["files"]["hgrm"].is_string() {
            return Err(format!("{} measured but has no hgrm", case["case_id"]));
        }
    }
    if !stderr.contains("interrupted") {
        return Err(format!("does not say it was interrupted: {stderr}"));
    }
    Ok(())
}

/// Runs to `point`, delivers the signal `how`, and checks the run is finalized. `Ok(false)`
/// when the run ended before the signal could land at the point (the caller tries again).
fn interrupt_at(point: Point, how: Delivery) -> Result<bool, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_run(point.args(), dir.path());
    let run = wait_for(dir.path(), &mut child, |j| {
        point.reached(j) || point.passed(j)
    });
    if point.passed(&run_json(&run)) {
        let _ = finish(child);
        return Ok(false);
    }
    deliver(&child, how);
    let (code, stderr) = finish(child);
    check_finalized(&only_run(dir.path()), code, &stderr)
        .map(|()| true)
        .map_err(|e| format!("{point:?} {how:?}: {e}"))
}

#[test]
fn every_way_a_ctrl_c_or_sigterm_arrives_at_every_point_finalizes_the_run() {
    let mut failures = Vec::new();
    for point in [Point::WarmUp, Point::MidCase, Point::BetweenCases] {
        for how in [
            Delivery::Int,
            Delivery::Term,
            Delivery::IntTwice,
            Delivery::IntGroup,
        ] {
            // A run that finished before the signal landed is tried again (bounded).
            let landed = (0..3).find_map(|_| match interrupt_at(point, how) {
                Ok(true) => Some(Ok(())),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            });
            match landed {
                Some(Ok(())) => {}
                Some(Err(e)) => failures.push(e),
                None => failures.push(format!("{point:?} {how:?}: never landed in 3 tries")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_ctrl_c_delivered_twice_at_once_finalizes_the_run_every_time() {
    // Before the fix about 1 in 10 of these lost the run (exit 130 from the second signal,
    // nothing finalized); 10 tries miss a 1-in-10 failure with probability 0.9^10 ≈ 0.35, so
    // this is a regression net, the unit test of the window is the proof.
    for i in 0..10 {
        match interrupt_at(Point::MidCase, Delivery::IntTwice) {
            Ok(_) => {}
            Err(e) => panic!("try {i}: {e}"),
        }
    }
}

#[test]
fn after_sigkill_the_partial_run_can_be_listed_shown_reported_and_compared() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_run(Point::MidCase.args(), dir.path());
    let run = wait_for(dir.path(), &mut child, |j| Point::MidCase.reached(j));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let json = run_json(&run);
    assert_eq!(json["complete"], false);
    assert!(json["finished_at"].is_null());
    // Every iteration run.json lists has its histogram on disk (the log is appended before
    // run.json is replaced, so it may hold one more).
    let case = &json["cases"][0];
    let listed = case["iterations"].as_array().unwrap().len();
    let hlog = run.join(
        case["files"]["hlog"]
            .as_str()
            .expect("run.json names the hlog"),
    );
    let logged = std::fs::read_to_string(&hlog)
        .unwrap()
        .matches("Tag=iteration-")
        .count();
    assert!(
        listed >= 1 && (listed..=listed + 1).contains(&logged),
        "{listed} listed, {logged} logged"
    );
    assert!(run.join(case["files"]["hgrm"].as_str().unwrap()).is_file());
    let out = dir.path();
    let list = loopbench()
        .arg("list")
        .arg("-o")
        .arg(out)
        .timeout(BOUND)
        .assert();
    let text = String::from_utf8_lossy(&list.get_output().stdout).into_owned();
    list.success();
    assert!(
        text.contains(json["run_id"].as_str().unwrap()),
        "list shows the run: {text}"
    );
    loopbench()
        .arg("show")
        .arg(&run)
        .timeout(BOUND)
        .assert()
        .success();
    loopbench()
        .arg("report")
        .arg(&run)
        .timeout(BOUND)
        .assert()
        .success();
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        !html.contains("no latency histogram"),
        "the killed case has its charts"
    );
    // A partial run compares like any other: exit 0 (no regression) or 1 (a verdict), never a
    // crash or a usage error.
    let compare = loopbench()
        .arg("compare")
        .arg(&run)
        .arg(&run)
        .timeout(BOUND)
        .output()
        .unwrap();
    let code = compare.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "compare exit {code:?}: {}",
        String::from_utf8_lossy(&compare.stderr)
    );
}

#[test]
fn a_server_waiting_for_clients_stops_at_once_on_ctrl_c() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
        .args(["server", "-t", "tcp4", "-p", "unpinned"])
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first line says it listens; from then on it waits for clients.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "it waits");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    // Before: the signal was ignored until a fixed 10 s wait ended in exit 1.
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
}

#[test]
fn after_sigkill_the_stages_of_the_finished_iterations_are_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "-t", "pipe", "--stages", "-n", "200", "-d", "50ms", "--warmup", "0",
    ];
    let mut child = spawn_run(&args, dir.path());
    let run = wait_for(dir.path(), &mut child, |j| Point::MidCase.reached(j));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let json = run_json(&run);
    let stages = run.join(json["cases"][0]["files"]["stages"].as_str().unwrap());
    let written = std::fs::read_dir(&stages).unwrap().count();
    assert!(
        written >= 4,
        "{written} stage histograms in {}",
        stages.display()
    );
}
