//! Shared helpers: run the binary, find and read the run it wrote.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `loopbench` binary built by cargo for this test run.
pub fn loopbench() -> Command {
    let mut cmd = Command::cargo_bin("loopbench").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The only run directory under `results`.
pub fn only_run(results: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(results.join("runs"))
        .expect("runs directory exists")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

/// run.json of a run directory, parsed.
pub fn run_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
}

/// A private network namespace that commands can be started in (the test process stays in the
/// host's).
pub struct PrivateNet {
    ns: std::fs::File,
}

impl PrivateNet {
    /// Creates the namespace (with lo up); panics with the reason when this machine cannot.
    pub fn new() -> PrivateNet {
        let made = std::thread::spawn(|| -> anyhow::Result<std::fs::File> {
            loopbench::loopback::netns::enter_private()?;
            Ok(std::fs::File::open("/proc/thread-self/ns/net")?)
        })
        .join()
        .unwrap();
        match made {
            Ok(ns) => PrivateNet { ns },
            Err(e) => panic!("cannot create a network namespace: {e:#}"),
        }
    }

    /// `loopbench` started inside the namespace, optionally as another user (uid, gid).
    pub fn loopbench(&self, user: Option<(u32, u32)>) -> Command {
        self.command(assert_cmd::cargo::cargo_bin("loopbench"), user)
    }

    /// `program` started inside the namespace, optionally as another user (uid, gid).
    pub fn command(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        user: Option<(u32, u32)>,
    ) -> Command {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let fd = self.ns.as_raw_fd();
        let mut cmd = std::process::Command::new(program);
        // SAFETY: setns, setgroups, setgid and setuid are async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some((uid, gid)) = user {
                    if libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(gid) != 0
                        || libc::setuid(uid) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut cmd = Command::from_std(cmd);
        cmd.env("NO_COLOR", "1");
        cmd
    }
}

/// Fails the test, saying why, unless it runs as root. Tests that call it are
/// `#[ignore = "needs root: ..."]`; .ci/run runs them as root with `--include-ignored`.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "this test needs root (network namespaces, lo settings): run it as root"
    );
}

/// Runs `loopbench run ARGS -q -o <fresh dir>` expecting success within two minutes; returns
/// the directory (keep it alive) and the run's run.json.
pub fn run_ok(args: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    loopbench()
        .arg("run")
        .args(args)
        .arg("-q")
        .arg("-o")
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let json = run_json(&only_run(dir.path()));
    (dir, json)
}

/// Fails unless `doc` validates against the committed docs/schema/`name`.schema.json, listing
/// every violation.
pub fn assert_valid(name: &str, doc: &serde_json::Value) {
    let errors = schema_errors(name, doc);
    assert!(
        errors.is_empty(),
        "{name}: the output does not match docs/schema/{name}.schema.json:\n{}",
        errors.join("\n")
    );
}

/// The violations of docs/schema/`name`.schema.json in `doc` (empty when it validates).
pub fn schema_errors(name: &str, doc: &serde_json::Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema")
        .join(format!("{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect()
}
