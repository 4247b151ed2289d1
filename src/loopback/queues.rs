//! lo's packet steering in a private network namespace: the CPU masks of receive packet steering
//! (`queues/rx-0/rps_cpus`) and transmit packet steering (`queues/tx-0/xps_cpus`). /sys shows the
//! network devices of the namespace that mounted it, so the namespace's lo is reached through a
//! sysfs mounted in a private mount namespace of a short-lived thread: the host's lo and /sys
//! stay as they are.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::mountns::with_mount;
use super::netns::PrivateNetns;
use crate::error::ConfigError;

/// Which steering mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Steering {
    /// Receive packet steering: which CPUs process lo's received packets.
    Rps,
    /// Transmit packet steering: which CPUs may use lo's transmit queue.
    Xps,
}

impl Steering {
    /// The file under /sys/class/net/lo/.
    pub fn file(self) -> &'static str {
        match self {
            Steering::Rps => "queues/rx-0/rps_cpus",
            Steering::Xps => "queues/tx-0/xps_cpus",
        }
    }

    /// The study key that sets it.
    pub fn key(self) -> &'static str {
        match self {
            Steering::Rps => "lo_rps_cpus",
            Steering::Xps => "lo_xps_cpus",
        }
    }

    /// The file's path as it appears in the namespace.
    pub fn path(self) -> PathBuf {
        Path::new("/sys/class/net/lo").join(self.file())
    }
}

/// A CPU mask in the kernel's hex form (`3`, `00000000,00000003`) reduced to its digits without
/// separators and leading zeros, so masks of any width compare; `None` when it is not hex.
pub fn canonical_mask(text: &str) -> Option<String> {
    let digits: String = text.trim().chars().filter(|&c| c != ',').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let t = digits.trim_start_matches('0').to_ascii_lowercase();
    Some(if t.is_empty() { "0".into() } else { t })
}

fn refuse(s: Steering, what: &str, e: std::io::Error) -> anyhow::Error {
    let why = match e.raw_os_error() {
        Some(libc::ENOENT) if s == Steering::Xps => {
            ": lo has a single transmit queue, and the kernel offers XPS only on multi-queue \
             devices"
                .to_string()
        }
        Some(libc::ENOENT) => ": this kernel has no RPS (CONFIG_RPS)".to_string(),
        _ => String::new(),
    };
    ConfigError::Invalid(format!(
        "{}: cannot {what} {} in the variant's network namespace: {e}{why}",
        s.key(),
        s.path().display()
    ))
    .into()
}

/// The namespace's lo mask of `s`, canonical.
fn read_mask(s: Steering) -> Result<String> {
    let text = std::fs::read_to_string(s.path()).map_err(|e| refuse(s, "read", e))?;
    Ok(canonical_mask(&text).unwrap_or(text.trim().to_string()))
}

/// Sets `s` of the namespace's lo to `mask` and returns (before, read back), both canonical.
pub fn set(_ns: &PrivateNetns, s: Steering, mask: &str) -> Result<(String, String)> {
    let wanted = canonical_mask(mask).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "{} = \"{mask}\": write a hexadecimal CPU mask such as \"3\" (CPUs 0 and 1)",
            s.key()
        ))
    })?;
    with_mount("sysfs", Path::new("/sys"), || {
        let before = read_mask(s)?;
        std::fs::write(s.path(), format!("{wanted}\n")).map_err(|e| refuse(s, "write", e))?;
        Ok((before, read_mask(s)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::netns::{unavailable_reason, with_private};

    #[test]
    fn masks_compare_whatever_their_width() {
        assert_eq!(canonical_mask("00000000,00000003\n").as_deref(), Some("3"));
        assert_eq!(canonical_mask("0").as_deref(), Some("0"));
        assert_eq!(canonical_mask("F").as_deref(), Some("f"));
        assert_eq!(canonical_mask("cpu1"), None);
        assert_eq!(canonical_mask(""), None);
    }

    #[test]
    #[ignore = "needs root: sets lo's RPS mask in a private network namespace"]
    fn rps_is_set_in_the_namespace_and_the_host_keeps_its_own() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let host = std::fs::read_to_string(Steering::Rps.path()).unwrap();
        let (before, after) = with_private(|ns| set(ns, Steering::Rps, "1")).unwrap();
        assert_eq!((before.as_str(), after.as_str()), ("0", "1"));
        assert_eq!(
            std::fs::read_to_string(Steering::Rps.path()).unwrap(),
            host,
            "the host's lo is untouched"
        );
        let e = with_private(|ns| set(ns, Steering::Rps, "cpu0")).unwrap_err();
        assert!(format!("{e:#}").contains("hexadecimal"), "{e:#}");
        // lo is a single-queue device everywhere: the kernel hides its XPS mask.
        let e = format!(
            "{:#}",
            with_private(|ns| set(ns, Steering::Xps, "1")).unwrap_err()
        );
        assert!(
            e.contains("/sys/class/net/lo/queues/tx-0/xps_cpus") && e.contains("multi-queue"),
            "{e}"
        );
    }
}
