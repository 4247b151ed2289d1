//! Why io_uring is unavailable, in words a user can act on.
//!
//! `io_uring_setup(2)` fails with EPERM when `kernel.io_uring_disabled` is 2, or 1 and the
//! process is neither in `kernel.io_uring_group` nor holds CAP_SYS_ADMIN; with ENOSYS when the
//! kernel lacks CONFIG_IO_URING; and with whatever a seccomp filter answers (Docker's default
//! profile answers EPERM, others ENOSYS). The errno alone cannot tell these apart, so the
//! diagnosis reads the facts around it: [`HostFacts`] (from /proc, or made up by a test) plus
//! the errno. `LB_FAULT_IO_URING=EPERM|ENOSYS|EACCES|EINVAL` makes [`injected_errno`] fail the
//! setup on purpose, so the refusal is testable end to end without changing the host.

use std::fs;

/// What the host says about io_uring.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `kernel.io_uring_disabled` (absent before Linux 6.6: `None`).
    pub disabled: Option<u32>,
    /// `kernel.io_uring_group` (-1: no group).
    pub group: Option<i64>,
    /// The thread's real, effective and supplementary groups.
    pub groups: Vec<u32>,
    /// CAP_SYS_ADMIN in the effective set.
    pub cap_sys_admin: bool,
    /// `Seccomp:` of the thread's status (0 none, 1 strict, 2 filter).
    pub seccomp: u32,
}

/// Why the io_uring engine cannot run here.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum Unavailable {
    /// The sysctl forbids io_uring for everyone.
    #[error(
        "io_uring is disabled on this host (kernel.io_uring_disabled = 2); allow it with \
         `sysctl -w kernel.io_uring_disabled=0`, or pick another --engine"
    )]
    DisabledForAll,
    /// The sysctl limits io_uring to a group this process is not in.
    #[error(
        "io_uring is limited to group {group} (kernel.io_uring_disabled = 1, \
         kernel.io_uring_group = {group}) and this process is neither in it nor has \
         CAP_SYS_ADMIN; add the user to the group, set kernel.io_uring_disabled=0, or pick \
         another --engine"
    )]
    NotInGroup {
        /// The allowed group (-1: none, so only CAP_SYS_ADMIN may).
        group: i64,
    },
    /// A seccomp filter refused the system call.
    #[error(
        "io_uring_setup was refused ({errno}) and this process runs under a seccomp filter (a \
         container profile?); allow io_uring_setup, io_uring_enter and io_uring_register in the \
         profile, or pick another --engine"
    )]
    Seccomp {
        /// The errno name the filter returned.
        errno: &'static str,
    },
    /// The kernel has no io_uring.
    #[error(
        "this kernel has no io_uring (io_uring_setup: ENOSYS, CONFIG_IO_URING off); pick \
         another --engine"
    )]
    NotBuilt,
    /// Anything else (an unsupported setup flag, a CPU that is not online, no memory).
    #[error("io_uring_setup failed: {0}; pick another --engine or variant")]
    Other(String),
}

fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOSYS => "ENOSYS",
        libc::EACCES => "EACCES",
        _ => "another errno",
    }
}

/// The reason `io_uring_setup` failed with `errno`, given the host's facts.
pub fn diagnose(errno: i32, f: &HostFacts) -> Unavailable {
    let filtered = f.seccomp != 0;
    let member = f
        .group
        .is_some_and(|g| g >= 0 && f.groups.contains(&(g as u32)));
    match errno {
        libc::EPERM => match f.disabled {
            Some(2) => Unavailable::DisabledForAll,
            Some(1) if !f.cap_sys_admin && !member => Unavailable::NotInGroup {
                group: f.group.unwrap_or(-1),
            },
            _ if filtered => Unavailable::Seccomp { errno: "EPERM" },
            _ => Unavailable::Other(
                "EPERM, yet neither kernel.io_uring_disabled nor a seccomp filter forbids it \
                 (a security module's policy?)"
                    .into(),
            ),
        },
        libc::ENOSYS | libc::EACCES if filtered => Unavailable::Seccomp {
            errno: errno_name(errno),
        },
        libc::ENOSYS => Unavailable::NotBuilt,
        e => Unavailable::Other(std::io::Error::from_raw_os_error(e).to_string()),
    }
}

fn read_num<T: std::str::FromStr>(path: &str) -> Option<T> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The facts of this host and the calling thread.
pub fn host_facts() -> HostFacts {
    // thread-self: a seccomp filter and its no_new_privs belong to a thread, not the process.
    let status = fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
    };
    let cap_eff = u64::from_str_radix(field("CapEff:"), 16).unwrap_or(0);
    let mut groups: Vec<u32> = field("Groups:")
        .split_whitespace()
        .filter_map(|g| g.parse().ok())
        .collect();
    groups.extend(
        field("Gid:")
            .split_whitespace()
            .filter_map(|g| g.parse::<u32>().ok()),
    );
    HostFacts {
        disabled: read_num("/proc/sys/kernel/io_uring_disabled"),
        group: read_num("/proc/sys/kernel/io_uring_group"),
        groups,
        cap_sys_admin: cap_eff & (1 << 21) != 0,
        seccomp: field("Seccomp:").parse().unwrap_or(0),
    }
}

/// The errno `LB_FAULT_IO_URING` asks the setup to fail with, if any (a test hook: the
/// refusal path runs end to end without changing the host).
pub fn injected_errno() -> Option<i32> {
    match std::env::var("LB_FAULT_IO_URING").ok()?.as_str() {
        "EPERM" => Some(libc::EPERM),
        "ENOSYS" => Some(libc::ENOSYS),
        "EACCES" => Some(libc::EACCES),
        "EINVAL" => Some(libc::EINVAL),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_host() -> HostFacts {
        HostFacts {
            disabled: Some(0),
            group: Some(-1),
            groups: vec![1000],
            cap_sys_admin: false,
            seccomp: 0,
        }
    }

    #[test]
    fn sysctl_2_is_named_even_for_root() {
        let f = HostFacts {
            disabled: Some(2),
            cap_sys_admin: true,
            ..open_host()
        };
        assert_eq!(diagnose(libc::EPERM, &f), Unavailable::DisabledForAll);
        let text = diagnose(libc::EPERM, &f).to_string();
        assert!(text.contains("kernel.io_uring_disabled = 2"), "{text}");
    }

    #[test]
    fn sysctl_1_names_the_group_unless_the_process_may() {
        let f = HostFacts {
            disabled: Some(1),
            group: Some(1234),
            ..open_host()
        };
        assert_eq!(
            diagnose(libc::EPERM, &f),
            Unavailable::NotInGroup { group: 1234 }
        );
        let member = HostFacts {
            groups: vec![1000, 1234],
            ..f.clone()
        };
        assert!(matches!(
            diagnose(libc::EPERM, &member),
            Unavailable::Other(_)
        ));
        let admin = HostFacts {
            cap_sys_admin: true,
            ..f
        };
        assert!(matches!(
            diagnose(libc::EPERM, &admin),
            Unavailable::Other(_)
        ));
    }

    #[test]
    fn a_filter_is_blamed_when_the_sysctl_allows() {
        let f = HostFacts {
            seccomp: 2,
            ..open_host()
        };
        assert_eq!(
            diagnose(libc::EPERM, &f),
            Unavailable::Seccomp { errno: "EPERM" }
        );
        assert_eq!(
            diagnose(libc::ENOSYS, &f),
            Unavailable::Seccomp { errno: "ENOSYS" }
        );
    }

    #[test]
    fn enosys_without_a_filter_means_no_io_uring_in_the_kernel() {
        assert_eq!(diagnose(libc::ENOSYS, &open_host()), Unavailable::NotBuilt);
        assert!(
            diagnose(libc::ENOSYS, &open_host())
                .to_string()
                .contains("CONFIG_IO_URING")
        );
    }

    #[test]
    fn kernels_without_the_sysctl_still_get_a_reason() {
        let f = HostFacts {
            disabled: None,
            group: None,
            ..open_host()
        };
        assert!(matches!(diagnose(libc::EPERM, &f), Unavailable::Other(_)));
        assert!(
            matches!(diagnose(libc::ENOMEM, &f), Unavailable::Other(m) if m.contains("memory"))
        );
    }
}
