//! Kernel settings under /proc/sys: read, write and compare them by their dotted names
//! (`net.ipv4.tcp_rmem`). /proc/sys/net is the calling thread's network namespace's own; every
//! other tree is global to the host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::ConfigError;

/// The file behind a dotted name.
pub fn path(name: &str) -> PathBuf {
    Path::new("/proc/sys").join(name.replace('.', "/"))
}

/// Whitespace collapsed to single spaces, so `4096\t131072\t6291456` equals `4096 131072 6291456`.
pub fn normalize(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks that `name` looks like a sysctl and cannot escape /proc/sys.
pub fn check_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.split('.').count() >= 2
        && name.split('.').all(|p| {
            !p.is_empty()
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        });
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "'{name}' is not a sysctl name; write it like net.ipv4.tcp_rmem"
        )))
    }
}

/// Reads a sysctl, normalised; `None` when it does not exist here or cannot be read.
pub fn read(name: &str) -> Option<String> {
    std::fs::read_to_string(path(name))
        .ok()
        .map(|v| normalize(&v))
}

/// Writes a sysctl (no read-back; see [`write_verified`]).
pub fn write(name: &str, value: &str) -> Result<()> {
    std::fs::write(path(name), format!("{value}\n"))
        .with_context(|| format!("cannot write {name} = {value}"))
}

/// Writes a sysctl and reads it back; an error when the kernel kept a different value.
pub fn write_verified(name: &str, value: &str) -> Result<()> {
    write(name, value)?;
    let got = read(name).unwrap_or_default();
    if got != normalize(value) {
        anyhow::bail!(
            "{name}: wrote {value:?} but the kernel reads back {got:?} (it clamps or rejects the \
             value)"
        );
    }
    Ok(())
}

/// True when `name` is a per-network-namespace setting as seen from the calling thread: under
/// net. and present in /proc/sys/net of the current namespace.
pub fn is_per_namespace(name: &str) -> bool {
    name.starts_with("net.") && path(name).exists()
}

/// True when the file of `name` is writable here (some net sysctls exist read-only inside a
/// network namespace, e.g. net.core.rmem_default on recent kernels).
pub fn is_writable(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path(name)).is_ok_and(|m| m.permissions().mode() & 0o200 != 0)
}

/// Every readable file under /proc/sys/`subtree` (e.g. `net`), by dotted name, raw contents.
pub fn snapshot(subtree: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let root = Path::new("/proc/sys");
    let mut stack = vec![root.join(subtree)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(v) = std::fs::read_to_string(&p) {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.insert(rel.to_string_lossy().replace('/', "."), v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_proc_paths_and_bad_names_are_refused() {
        assert_eq!(
            path("net.ipv4.tcp_rmem"),
            Path::new("/proc/sys/net/ipv4/tcp_rmem")
        );
        check_name("net.unix.max_dgram_qlen").unwrap();
        for bad in [
            "",
            "net",
            "net..x",
            "net/ipv4",
            "net.ipv4.tcp rmem",
            "../etc",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_compare_with_normalised_whitespace() {
        assert_eq!(normalize("4096\t131072  6291456\n"), "4096 131072 6291456");
        assert_eq!(read("net.ipv4.tcp_rmem").unwrap().split(' ').count(), 3);
        assert!(read("net.no.such.thing").is_none());
    }

    #[test]
    fn the_snapshot_of_net_has_the_usual_settings() {
        let s = snapshot("net");
        assert!(s.contains_key("net.ipv4.tcp_rmem"), "{}", s.len());
        assert!(s.contains_key("net.core.somaxconn"));
    }
}
