//! The host-wide sysctls a study may change (with `--allow-host-changes`): network and latency
//! settings that have no per-namespace copy, each with what it is for. Everything else is refused
//! before anything runs, whatever the flags: passing `--allow-host-changes` so that a study can
//! raise `net.core.busy_poll` is no consent to `kernel.core_pattern` (which runs a program as
//! root on the next crash) or `kernel.panic`. Per-namespace sysctls never reach the host and are
//! not limited here.

use crate::error::ConfigError;

/// Host-wide sysctls a study may set, with what each is for.
pub const HOST_SYSCTLS: &[(&str, &str)] = &[
    (
        "net.core.busy_poll",
        "µs poll/epoll busy-poll a device queue before sleeping",
    ),
    (
        "net.core.busy_read",
        "µs a blocking read busy-polls before sleeping",
    ),
    (
        "net.core.netdev_max_backlog",
        "packets queued per CPU before the softirq drops",
    ),
    (
        "net.core.netdev_budget",
        "packets one NET_RX softirq run may process",
    ),
    (
        "net.core.netdev_budget_usecs",
        "µs one NET_RX softirq run may take",
    ),
    (
        "net.core.dev_weight",
        "packets per NAPI poll of the backlog",
    ),
    ("net.core.dev_weight_rx_bias", "receive share of dev_weight"),
    (
        "net.core.dev_weight_tx_bias",
        "transmit share of dev_weight",
    ),
    (
        "net.core.gro_normal_batch",
        "packets GRO batches before handing them up",
    ),
    (
        "net.core.rmem_default",
        "default receive buffer of a socket",
    ),
    (
        "net.core.rmem_max",
        "largest SO_RCVBUF without CAP_NET_ADMIN",
    ),
    ("net.core.wmem_default", "default send buffer of a socket"),
    (
        "net.core.wmem_max",
        "largest SO_SNDBUF without CAP_NET_ADMIN",
    ),
    ("net.core.optmem_max", "ancillary buffer per socket"),
    (
        "net.core.rps_sock_flow_entries",
        "receive flow steering table size",
    ),
    ("net.core.flow_limit_table_len", "flow limit table size"),
    (
        "net.core.high_order_alloc_disable",
        "page-fragment allocation order of sockets",
    ),
    ("net.ipv4.tcp_mem", "pages all TCP sockets may use"),
    ("net.ipv4.udp_mem", "pages all UDP sockets may use"),
    ("kernel.timer_migration", "whether timers move to busy CPUs"),
    ("kernel.numa_balancing", "automatic NUMA page migration"),
    (
        "kernel.nmi_watchdog",
        "the NMI watchdog's periodic interrupt",
    ),
    (
        "kernel.watchdog",
        "the soft- and hard-lockup watchdogs' timers",
    ),
    ("kernel.soft_watchdog", "the soft-lockup watchdog's timer"),
    (
        "vm.stat_interval",
        "seconds between per-CPU vmstat updates (a timer on every CPU)",
    ),
];

/// Names starting with this are the scheduler's tunables (the `sched` knobs of a study file
/// reach the same files).
pub const SCHED_PREFIX: &str = "kernel.sched_";

/// True when a study may set the host-wide sysctl `name`.
pub fn allows(name: &str) -> bool {
    HOST_SYSCTLS.iter().any(|(n, _)| *n == name)
        || name
            .strip_prefix(SCHED_PREFIX)
            .is_some_and(|rest| !rest.is_empty())
}

/// Refuses the host-wide sysctl `name` of variant `variant` when it is not on the allowlist.
pub fn check(variant: &str, name: &str) -> Result<(), ConfigError> {
    if allows(name) {
        return Ok(());
    }
    let names: Vec<&str> = HOST_SYSCTLS.iter().map(|(n, _)| *n).collect();
    Err(ConfigError::Invalid(format!(
        "variant '{variant}': sysctl {name} is host-wide (it has no per-namespace copy) and not \
         one a study may change, even with --allow-host-changes. A study may change these \
         host-wide sysctls: {}, and {SCHED_PREFIX}*",
        names.join(", ")
    )))
}

/// [`check`] for every sysctl outside `net.`: a study's variants get a network namespace of
/// their own and nothing else, so those are host-wide for it without asking the kernel.
pub fn check_outside_net(variant: &str, name: &str) -> Result<(), ConfigError> {
    if name.starts_with("net.") {
        Ok(())
    } else {
        check(variant, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_and_latency_settings_pass_and_anything_else_is_refused_by_name() {
        for ok in [
            "net.core.busy_poll",
            "net.core.netdev_max_backlog",
            "kernel.sched_rt_runtime_us",
        ] {
            assert!(check("v", ok).is_ok(), "{ok}");
        }
        assert!(
            check_outside_net("v", "net.ipv4.tcp_rmem").is_ok(),
            "decided in the namespace"
        );
        assert!(check_outside_net("v", "kernel.core_pattern").is_err());
        for bad in [
            "kernel.core_pattern",
            "kernel.panic",
            "kernel.modprobe",
            "kernel.sched_",
            "vm.overcommit_memory",
            "net.core.busy_poll_x",
            "fs.suid_dumpable",
        ] {
            let err = check("v", bad).unwrap_err().to_string();
            assert!(err.contains(&format!("sysctl {bad} is host-wide")), "{err}");
            assert!(
                err.contains("net.core.busy_poll"),
                "names the allowlist: {err}"
            );
        }
    }

    #[test]
    fn every_allowed_name_is_a_dotted_sysctl_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (name, what) in HOST_SYSCTLS {
            assert!(
                ["net.", "kernel.", "vm."]
                    .iter()
                    .any(|p| name.starts_with(p)),
                "{name}"
            );
            assert!(!what.is_empty(), "{name}");
            assert!(seen.insert(name), "{name} twice");
        }
    }
}
