use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use loopbench::study::hostcheck::HostSnapshot;

use crate::helpers::{assert_valid, loopbench, require_root};

/// Tests that compare host snapshots and the test that changes a host-wide sysctl must not
/// overlap.
static HOST: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn host_lock() -> std::sync::MutexGuard<'static, ()> {
    HOST.lock().unwrap_or_else(|p| p.into_inner())
}

const CASES: &str = r#"
[cases]
transport = "tcp4"
workload = "stream"
size = 65536
iterations = 3
duration = "200ms"
warmup = "100ms"
"#;

pub fn study_file(dir: &Path, name: &str, variants: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, format!("name = \"{name}\"\n{CASES}\n{variants}")).unwrap();
    p
}

pub fn only_study(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("studies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
#[ignore = "needs root: runs a study in private network namespaces"]
fn study_precision_adds_rounds_until_the_comparison_is_narrow_enough() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    // Two identical variants: their throughput ratio is near 1 and within ±40 % after the least
    // rounds (5) unless rounds differ by far more than this machine's noise (a study of ~10
    // s; its other outcomes, max-time or more rounds, fail the test loudly).
    let file = study_file(
        dir.path(),
        "precision",
        "[[variant]]\nname = \"a\"\n\n[[variant]]\nname = \"b\"\n",
    );
    let _host = host_lock();
    loopbench()
        .arg("study")
        .arg(&file)
        .args([
            "--rounds",
            "1",
            "--seed",
            "5",
            "--precision",
            "40%",
            "-q",
            "-o",
        ])
        .arg(dir.path())
        .timeout(Duration::from_secs(300))
        .assert()
        .success();
    let study = only_study(dir.path());
    let record = json(&study.join("study.json"));
    assert_valid("study", &record);
    let p = &record["precision"];
    assert_eq!(p["stopped"], "reached", "{p}");
    let rounds = p["rounds"].as_u64().unwrap();
    assert!(rounds >= 5, "{p}");
    assert_eq!(record["rounds"].as_u64().unwrap(), rounds);
    let runs = record["runs"].as_array().unwrap();
    assert_eq!(runs.len() as u64, 2 * rounds);
    for round in 1..=rounds {
        let mut variants: Vec<&str> = runs
            .iter()
            .filter(|r| r["round"] == round)
            .map(|r| r["variant"].as_str().unwrap())
            .collect();
        variants.sort();
        assert_eq!(variants, ["a", "b"], "round {round}");
    }
    assert!(runs.iter().all(|r| r["status"] == "done"));
    let cases = p["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{p}");
    assert_eq!(
        (cases[0]["variant"].as_str(), cases[0]["figure"].as_str()),
        (Some("b"), Some("throughput"))
    );
    assert!(cases[0]["half_width_rel"].as_f64().unwrap() <= 0.4);
    let report = std::fs::read_to_string(study.join("report.md")).unwrap();
    assert!(
        report.contains("--precision ±40.0 %: reached after"),
        "{report}"
    );
}

#[test]
#[ignore = "needs root: runs a study that changes lo in private network namespaces"]
fn two_variants_mtu_65536_vs_1500_without_offloads_differ_and_the_host_is_untouched() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let file = study_file(
        dir.path(),
        "mtu",
        "[[variant]]\nname = \"default\"\n\n[[variant]]\nname = \"mtu1500-nooffload\"\nlo_mtu = 1500\nlo_offloads = { tso = false, gso = false, gro = false }\n",
    );
    let _host = host_lock();
    let before = HostSnapshot::capture().unwrap();
    let out = loopbench()
        .arg("study")
        .arg(&file)
        .args(["--rounds", "3", "--seed", "3", "-q", "-o"])
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let after = HostSnapshot::capture().unwrap();
    assert_eq!(after.differences(&before), Vec::<String>::new());

    let study = only_study(dir.path());
    let record = json(&study.join("study.json"));
    assert_valid("study", &record);
    assert_eq!(record["complete"], true);
    assert_eq!(record["host_differences"].as_array().unwrap().len(), 0);
    let runs = record["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    let mut cpu: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for r in runs {
        assert_eq!(r["status"], "done", "{r}");
        let run_dir = study.join("runs").join(r["run_id"].as_str().unwrap());
        let run = json(&run_dir.join("run.json"));
        let variant = json(&run_dir.join("variant.json"));
        assert_valid("run", &run);
        assert_valid("variant", &variant);
        let name = r["variant"].as_str().unwrap().to_string();
        assert_eq!(variant["variant"], name.as_str());
        let ns_mtu = run["environment"]["loopback"][0]["mtu"].as_u64().unwrap();
        let host_mtu = variant["host_environment"]["loopback"][0]["mtu"]
            .as_u64()
            .unwrap();
        assert_eq!(
            host_mtu,
            before
                .lo
                .iter()
                .find_map(|l| l.strip_prefix("mtu "))
                .unwrap()
                .parse::<u64>()
                .unwrap()
        );
        if name == "mtu1500-nooffload" {
            assert_eq!(ns_mtu, 1500, "run.json records the namespace's lo");
            let settings = variant["namespace_settings"].as_array().unwrap();
            assert_eq!(settings.len(), 4, "{settings:?}");
            assert!(settings.iter().all(|s| s["wanted"] == s["read_back"]));
        } else {
            assert_eq!(ns_mtu, 65536);
        }
        for it in run["cases"][0]["iterations"].as_array().unwrap() {
            cpu.entry(name.clone())
                .or_default()
                .push(it["server"]["usage"]["cpu_ns_per_msg"].as_f64().unwrap());
        }
    }
    // 1500-byte segments built and taken apart in software cost the receiver far more CPU per
    // 64 KiB message than one 64 KiB segment; CPU time per message is what load on a shared
    // machine disturbs least.
    let base = median(cpu["default"].clone());
    let small = median(cpu["mtu1500-nooffload"].clone());
    assert!(
        small > base * 1.2,
        "receiver ns/msg: default {base}, mtu1500 {small}"
    );

    let report = std::fs::read_to_string(study.join("report.md")).unwrap();
    assert!(report.contains("tcp4-stream-blocking"), "{report}");
    assert!(report.contains("mtu1500-nooffload") && report.contains("default (baseline)"));
    assert!(
        report.contains("| mtu1500-nooffload | lo mtu | namespace | 65536 | 1500 | 1500 |"),
        "{report}"
    );
    assert!(
        std::fs::read_to_string(study.join("report.html"))
            .unwrap()
            .contains("<table>")
    );
    // The gate's statistics see it too: the variant is worse on receiver CPU per message
    // (significant, and beyond the 5 % noise threshold).
    let cpu_row = report
        .lines()
        .skip_while(|l| !l.contains("receiver CPU ns per message"))
        .find(|l| l.starts_with("| mtu1500-nooffload |"))
        .unwrap_or_else(|| panic!("no receiver CPU row for the variant: {report}"));
    assert!(cpu_row.contains("worse (beyond 5%)"), "{cpu_row}");
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(stdout, report, "the report is printed");
    std::fs::remove_file(study.join("report.md")).unwrap();
    loopbench()
        .arg("study")
        .arg("--report")
        .arg(&study)
        .assert()
        .success();
    assert!(study.join("report.md").exists(), "--report re-renders");
}

#[test]
#[ignore = "needs root: runs a study in private network namespaces"]
fn a_variant_that_cannot_be_applied_is_refused_before_anything_runs() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    for (variant, expected) in [
        (
            "sysctl = { \"net.unix.max_dgram_qlen\" = \"lots\" }",
            "net.unix.max_dgram_qlen = lots",
        ),
        ("lo_qdisc = \"no_such_qdisc\"", "kinds it has: pfifo"),
        (
            "sysctl = { \"net.core.netdev_max_backlog\" = 2000 }",
            "--allow-host-changes",
        ),
        (
            "sysctl = { \"net.ipv4.no_such_setting\" = 1 }",
            "does not exist",
        ),
    ] {
        assert_bad_variant_refused(dir.path(), variant, &[], expected);
    }
}

/// A study of a base variant and a variant `bad` with the line `variant` exits 2 naming the
/// variant and `expected`, before anything runs (no study directory).
pub fn assert_bad_variant_refused(dir: &Path, variant: &str, args: &[&str], expected: &str) {
    let file = study_file(
        dir,
        "bad",
        &format!("[[variant]]\nname = \"base\"\n\n[[variant]]\nname = \"bad\"\n{variant}\n"),
    );
    let out = loopbench()
        .arg("study")
        .arg(&file)
        .args(args)
        .arg("-o")
        .arg(dir)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("variant 'bad'") && err.contains(expected),
        "{variant}: {err}"
    );
    assert!(!dir.join("studies").exists(), "nothing ran: {variant}");
}

/// Pids of the processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    s[s.rfind(')')? + 2..]
                        .split(' ')
                        .nth(1)?
                        .parse::<u32>()
                        .ok()
                })
                == Some(pid)
        })
        .collect()
}

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
#[ignore = "needs root: runs a study that changes lo in private network namespaces, then kills it"]
fn killing_a_study_mid_run_leaves_the_host_byte_for_byte_unchanged() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let file = study_file(
        dir.path(),
        "kill",
        "[[variant]]\nname = \"changed\"\nlo_mtu = 1500\nlo_offloads = { tso = false }\nlo_qdisc = { kind = \"tbf\", rate = \"10gbit\", burst = \"256k\" }\nsysctl = { \"net.ipv4.tcp_rmem\" = \"4096 65536 262144\", \"net.unix.max_dgram_qlen\" = 99 }\n",
    );
    let _host = host_lock();
    let before = HostSnapshot::capture().unwrap();
    let mut study = std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
        .arg("study")
        .arg(&file)
        .args(["--rounds", "3", "-q", "-o"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = study.id();
    let mut child = Vec::new();
    let started = wait_until(Duration::from_secs(20), || {
        child = children_of(pid);
        !child.is_empty()
            && std::fs::read_dir(dir.path().join("studies"))
                .ok()
                .and_then(|mut d| d.next())
                .is_some()
    });
    std::thread::sleep(Duration::from_millis(300));
    let _ = study.kill(); // SIGKILL
    let _ = study.wait();
    assert!(started, "the study started a variant process");
    let gone = wait_until(Duration::from_secs(5), || {
        child
            .iter()
            .all(|c| !Path::new(&format!("/proc/{c}")).exists())
    });
    assert!(gone, "the variant's process dies with the study: {child:?}");
    let after = HostSnapshot::capture().unwrap();
    assert_eq!(after.differences(&before), Vec::<String>::new());
}

const BACKLOG: &str = "net.core.netdev_max_backlog";

/// Puts the host's value back whatever happens in the test.
struct RestoreBacklog(String);

impl Drop for RestoreBacklog {
    fn drop(&mut self) {
        let _ = std::fs::write("/proc/sys/net/core/netdev_max_backlog", &self.0);
    }
}

fn backlog() -> String {
    loopbench::host::sysctl::read(BACKLOG).unwrap()
}

#[test]
#[ignore = "needs root: changes a host-wide sysctl (journaled and restored)"]
fn host_changes_are_restored_on_exit_ctrl_c_and_by_restore_after_sigkill() {
    require_root();
    let _host = host_lock();
    let original = backlog();
    let _guard = RestoreBacklog(original.clone());
    let changed = (original.parse::<u64>().unwrap() + 1).to_string();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.json");
    let variant =
        format!("[[variant]]\nname = \"backlog\"\nsysctl = {{ \"{BACKLOG}\" = {changed} }}\n");
    let file = study_file(dir.path(), "host", &variant);

    // Normal exit: changed while running, restored and read back at the end, journal removed.
    loopbench()
        .arg("study")
        .arg(&file)
        .args(["--rounds", "1", "-q", "--allow-host-changes", "--journal"])
        .arg(&journal)
        .arg("-o")
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(backlog(), original);
    assert!(!journal.exists());
    let study = only_study(dir.path());
    let record = json(&study.join("study.json"));
    assert!(
        record["host_restore"][0]
            .as_str()
            .unwrap()
            .contains(&format!("restored {BACKLOG} = {original}"))
    );
    let run_id = record["runs"][0]["run_id"].as_str().unwrap();
    let v = json(&study.join("runs").join(run_id).join("variant.json"));
    assert_eq!(v["host_settings"][0]["read_back"], changed.as_str());

    // SIGKILL while the change is in place: the journal survives and --restore puts it back.
    let mut proc = std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"))
        .arg("study")
        .arg(&file)
        .args(["--rounds", "5", "-q", "--allow-host-changes", "--journal"])
        .arg(&journal)
        .arg("-o")
        .arg(dir.path().join("second"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let applied = wait_until(Duration::from_secs(20), || backlog() == changed);
    let _ = proc.kill();
    let _ = proc.wait();
    assert!(applied, "the study changed {BACKLOG}");
    assert_eq!(
        backlog(),
        changed,
        "nobody restored it: the process was killed"
    );
    assert!(journal.exists());
    let out = loopbench()
        .arg("study")
        .arg(&file)
        .arg("--journal")
        .arg(&journal)
        .arg("-o")
        .arg(dir.path().join("third"))
        .args(["--allow-host-changes"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("study --restore"));
    let out = loopbench()
        .args(["study", "--restore", "--journal"])
        .arg(&journal)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!("restored {BACKLOG} = {original} (read back)")),
        "{text}"
    );
    assert_eq!(backlog(), original);
    assert!(!journal.exists());
}

#[test]
#[ignore = "needs root: a study with --allow-host-changes"]
fn host_changes_are_refused_while_irqbalance_runs_unless_forced() {
    require_root();
    let _host = host_lock(); // the other host-change test must not see the stand-in
    let dir = tempfile::tempdir().unwrap();
    // A stand-in daemon: `sleep` under the name irqbalance (what /proc/PID/comm shows).
    let fake = dir.path().join("irqbalance");
    std::fs::copy("/bin/sleep", &fake).unwrap();
    let mut daemon = None;
    for _ in 0..50 {
        match std::process::Command::new(&fake).arg("30").spawn() {
            Ok(c) => {
                daemon = Some(c);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)), // ETXTBSY while copying
        }
    }
    let mut daemon = daemon.expect("the stand-in daemon starts");
    let file = study_file(
        dir.path(),
        "daemon",
        &format!("[[variant]]\nname = \"v\"\nsysctl = {{ \"{BACKLOG}\" = 5000 }}\n"),
    );
    let journal = dir.path().join("j.json");
    let base = || {
        let mut c = loopbench();
        c.arg("study")
            .arg(&file)
            .args(["--dry-run", "--allow-host-changes", "--journal"])
            .arg(&journal);
        c
    };
    let refused = base().assert().code(2);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    let forced = base().arg("--force").assert();
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(
        err.contains("irqbalance (pid") && err.contains("--force"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&forced.success().get_output().stdout).into_owned();
    assert!(out.contains("dry run: nothing measured"), "{out}");
    assert!(!journal.exists(), "a dry run changes nothing");
}
