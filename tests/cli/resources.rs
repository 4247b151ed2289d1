//! Resource limits: a low descriptor limit, an address-space limit (`prlimit --as`), a memory
//! cgroup's limit, a full disk and a read-only mount. What fits runs; what cannot fit is refused
//! up front (exit 2, naming the limit) with nothing written; a disk that fills is said once, with
//! what to do.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use nix::sys::resource::{Resource, setrlimit};

use crate::helpers::{loopbench, only_run, require_root, run_json};

/// `loopbench ARGS` with `resource` limited to `limit` (soft and hard).
fn limited(resource: Resource, limit: u64, args: &[&str], out: &Path) -> std::process::Output {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("loopbench"));
    cmd.args(args)
        .arg("-o")
        .arg(out)
        .env_remove("LOOPBENCH_OUTPUT");
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            setrlimit(resource, limit, limit).map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn runs_in(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("runs")).map_or(0, |r| r.count())
}

const ONE_FLOW: &[&str] = &[
    "run", "-t", "tcp4", "-n", "1", "-c", "100", "--warmup", "0", "-q",
];

#[test]
fn one_flow_runs_within_64_descriptors_and_more_flows_than_fit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = limited(Resource::RLIMIT_NOFILE, 64, ONE_FLOW, dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let many = tempfile::tempdir().unwrap();
    let out = limited(
        Resource::RLIMIT_NOFILE,
        64,
        &[
            "run", "-t", "tcp4", "-e", "epoll", "--flows", "200", "-c", "10", "-q",
        ],
        many.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("RLIMIT_NOFILE"), "{}", stderr(&out));
    assert_eq!(runs_in(many.path()), 0, "nothing written");
}

#[test]
fn a_case_larger_than_the_address_space_limit_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = limited(
        Resource::RLIMIT_AS,
        1 << 30,
        &[
            "run", "-w", "stream", "-t", "tcp4", "-s", "256MiB", "--flows", "4", "-e", "epoll",
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("RLIMIT_AS"), "{}", stderr(&out));
    assert_eq!(runs_in(dir.path()), 0, "nothing written");
    // A small case fits the same limit and runs.
    let small = tempfile::tempdir().unwrap();
    let out = limited(Resource::RLIMIT_AS, 1 << 30, ONE_FLOW, small.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn new(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount a tmpfs");
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, option: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,{option}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Fills the disk to the last byte.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.path().join("fill")).unwrap();
        let block = vec![0u8; 64 << 10];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
        let _ = std::io::Write::write_all(&mut f, &[0]);
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.path())
            .status();
    }
}

#[test]
#[ignore = "needs root: mounts a small tmpfs"]
fn a_full_disk_is_said_once_with_what_to_do() {
    require_root();
    let disk = SmallDisk::new("1m");
    disk.fill();
    let out = loopbench()
        .args(ONE_FLOW)
        .arg("-o")
        .arg(disk.path().join("results"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("the disk is full"), "{text}");
    assert_eq!(
        text.matches("No space left on device").count(),
        1,
        "said once: {text}"
    );
}

#[test]
#[ignore = "needs root: mounts a tmpfs and remounts it read-only"]
fn report_into_a_read_only_mount_is_exit_2_naming_it() {
    require_root();
    let disk = SmallDisk::new("16m");
    let results = disk.path().join("results");
    loopbench()
        .args(ONE_FLOW)
        .arg("--no-report")
        .arg("-o")
        .arg(&results)
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let run = only_run(&results);
    assert_eq!(run_json(&run)["complete"], true);
    disk.remount("ro");
    let out = loopbench()
        .arg("report")
        .arg(&run)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = stderr(&out);
    disk.remount("rw");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("read-only"), "{text}");
}

/// A child of this process's own memory cgroup (v1, or v2 with the memory controller enabled for
/// its children) with a memory limit; removed on drop. A child keeps whatever started this test
/// in charge of what runs in it.
struct MemoryCgroup {
    dir: std::path::PathBuf,
}

impl MemoryCgroup {
    fn new(limit: u64) -> MemoryCgroup {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let name = format!("loopbench-test-{}", std::process::id());
        let v1 = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':').skip(1);
            let controllers = parts.next()?;
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| parts.next())?
        });
        let (dir, file) = match v1 {
            Some(path) => (
                Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/')),
                "memory.limit_in_bytes",
            ),
            None => {
                let path = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
                let dir = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
                let control = std::fs::read_to_string(dir.join("cgroup.subtree_control"));
                assert!(
                    control.is_ok_and(|c| c.split_whitespace().any(|c| c == "memory")),
                    "this test needs a memory cgroup it can create a child in ({})",
                    dir.display()
                );
                (dir, "memory.max")
            }
        };
        let dir = dir.join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(file), limit.to_string()).unwrap();
        MemoryCgroup { dir }
    }

    /// `loopbench ARGS -o OUT` started in the cgroup.
    fn loopbench(&self, args: &[&str], out: &Path) -> std::process::Output {
        let procs = self.dir.join("cgroup.procs");
        assert_cmd::Command::new("sh")
            .arg("-c")
            .arg("echo $$ > \"$0\" && exec \"$@\"")
            .arg(procs)
            .arg(assert_cmd::cargo::cargo_bin("loopbench"))
            .args(args)
            .arg("-o")
            .arg(out)
            .env_remove("LOOPBENCH_OUTPUT")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[test]
#[ignore = "needs root: creates a memory cgroup with a limit"]
fn a_case_larger_than_its_cgroups_memory_limit_is_refused_naming_it() {
    require_root();
    let cgroup = MemoryCgroup::new(256 << 20);
    let dir = tempfile::tempdir().unwrap();
    let out = cgroup.loopbench(
        &[
            "run", "-w", "stream", "-t", "tcp4", "-s", "64MiB", "--flows", "4", "-e", "epoll", "-q",
        ],
        dir.path(),
    );
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("the memory limit of its cgroup"), "{text}");
    assert_eq!(runs_in(dir.path()), 0, "nothing written");
    // A small case fits the same limit and runs.
    let small = tempfile::tempdir().unwrap();
    let out = cgroup.loopbench(ONE_FLOW, small.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
