//! The memory limit of the cgroup loopbench runs in: cgroup v2's `memory.max` or v1's
//! `memory.limit_in_bytes`, of its own cgroup and of every ancestor (a parent's limit binds its
//! children too), read from `/proc/self/cgroup` and the cgroup file system.

use std::path::{Path, PathBuf};

/// Limits at or above this are "no limit": v1 writes the largest page-aligned `i64`, not "max".
const UNLIMITED: u64 = 1 << 62;

/// The tightest memory limit over a cgroup and its ancestors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes left under it: the limit less what the cgroup already uses.
    pub headroom: u64,
    /// The file that sets it (for messages).
    pub file: PathBuf,
}

/// The memory limit of this process's cgroup, if any (v2 or v1).
pub fn memory_limit() -> Option<MemoryLimit> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    memory_limit_at(&own, Path::new("/sys/fs/cgroup"))
}

/// The memory limit that `proc_self_cgroup` (the text of /proc/self/cgroup) puts on a process,
/// with the cgroup file systems under `root`: v1's memory hierarchy at `root/memory`, v2's at
/// `root` (or `root/unified` on a hybrid host). A cgroup directory that is not there (a
/// container that sees its own cgroup as the root) is looked up from the deepest part that is.
pub fn memory_limit_at(proc_self_cgroup: &str, root: &Path) -> Option<MemoryLimit> {
    let mut found = Vec::new();
    for line in proc_self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_start_matches('/');
        if controllers.is_empty() {
            for mount in [root.to_path_buf(), root.join("unified")] {
                found.extend(tightest(&mount, path, "memory.max", "memory.current"));
            }
        } else if controllers.split(',').any(|c| c == "memory") {
            let mount = root.join("memory");
            let (max, current) = ("memory.limit_in_bytes", "memory.usage_in_bytes");
            found.extend(tightest(&mount, path, max, current));
        }
    }
    found.into_iter().min_by_key(|l| l.headroom)
}

/// The tightest of `max_file` − `current_file` over the cgroup `path` under `mount` and its
/// ancestors up to the mount.
fn tightest(mount: &Path, path: &str, max_file: &str, current_file: &str) -> Option<MemoryLimit> {
    if !mount.is_dir() {
        return None;
    }
    let mut dir = mount.join(path);
    while !dir.is_dir() && dir.starts_with(mount) && dir.pop() {}
    if !dir.starts_with(mount) {
        dir = mount.to_path_buf();
    }
    let mut best: Option<MemoryLimit> = None;
    loop {
        let read = |f: &str| -> Option<u64> {
            std::fs::read_to_string(dir.join(f))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        if let (Some(max), Some(current)) = (read(max_file), read(current_file)) {
            let headroom = max.saturating_sub(current);
            if max < UNLIMITED && best.as_ref().is_none_or(|b| headroom < b.headroom) {
                best = Some(MemoryLimit {
                    headroom,
                    file: dir.join(max_file),
                });
            }
        }
        if dir == mount || !dir.pop() || !dir.starts_with(mount) {
            return best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        std::fs::create_dir_all(dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }

    #[test]
    fn v2_takes_the_tightest_of_the_cgroup_and_its_ancestors() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(
            &r.join("a"),
            &[("memory.max", "1000000\n"), ("memory.current", "400000\n")],
        );
        write(
            &r.join("a/b"),
            &[("memory.max", "max\n"), ("memory.current", "300000\n")],
        );
        let limit = memory_limit_at("0::/a/b\n", r).unwrap();
        assert_eq!(limit.headroom, 600_000);
        assert_eq!(limit.file, r.join("a/memory.max"));
        write(&r.join("a/b"), &[("memory.max", "500000\n")]);
        let limit = memory_limit_at("0::/a/b\n", r).unwrap();
        assert_eq!(
            (limit.headroom, limit.file),
            (200_000, r.join("a/b/memory.max"))
        );
    }

    #[test]
    fn v1_reads_the_memory_hierarchy_and_ignores_its_no_limit_value() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let unlimited = "9223372036854771712\n";
        let mem = r.join("memory");
        write(
            &mem,
            &[
                ("memory.limit_in_bytes", unlimited),
                ("memory.usage_in_bytes", "9\n"),
            ],
        );
        write(
            &mem.join("job/x"),
            &[
                ("memory.limit_in_bytes", "64000000\n"),
                ("memory.usage_in_bytes", "4000000\n"),
            ],
        );
        let text = "4:memory:/job/x\n3:cpu,cpuacct:/\n0::/\n";
        let limit = memory_limit_at(text, r).unwrap();
        assert_eq!(limit.headroom, 60_000_000);
        assert_eq!(limit.file, mem.join("job/x/memory.limit_in_bytes"));
        write(&mem.join("job/x"), &[("memory.limit_in_bytes", unlimited)]);
        assert_eq!(memory_limit_at(text, r), None);
    }

    #[test]
    fn a_cgroup_the_container_sees_as_its_root_is_looked_up_from_what_is_there() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(r, &[("memory.max", "8000\n"), ("memory.current", "1000\n")]);
        let limit = memory_limit_at("0::/docker/abc\n", r).unwrap();
        assert_eq!((limit.headroom, limit.file), (7000, r.join("memory.max")));
        assert_eq!(memory_limit_at("garbage\n", r), None);
    }
}
