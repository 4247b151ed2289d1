//! The environment snapshot stored with every run: two runs are only comparable when a reader can
//! see what differed (kernel, CPU, governor, idle driver, mitigations, loopback, sysctls).

use std::collections::BTreeMap;
use std::fs;

use serde::{Deserialize, Serialize};

use crate::host::topology::Topology;
use crate::loopback::iface::{LoopbackInterface, loopback_interfaces};

/// The sysctls that change loopback results; each is recorded when the kernel has it.
pub const RECORDED_SYSCTLS: &[&str] = &[
    "net.core.rmem_default",
    "net.core.rmem_max",
    "net.core.wmem_default",
    "net.core.wmem_max",
    "net.core.optmem_max",
    "net.core.netdev_max_backlog",
    "net.core.busy_poll",
    "net.core.busy_read",
    "net.core.somaxconn",
    "net.core.default_qdisc",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_mem",
    "net.ipv4.tcp_notsent_lowat",
    "net.ipv4.tcp_autocorking",
    "net.ipv4.tcp_congestion_control",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_sack",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_limit_output_bytes",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_fastopen",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.udp_rmem_min",
    "net.ipv4.udp_wmem_min",
    "net.ipv6.conf.lo.disable_ipv6",
    "net.unix.max_dgram_qlen",
    "kernel.sched_autogroup_enabled",
    "kernel.numa_balancing",
    "kernel.timer_migration",
];

/// The machine a run was measured on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Environment {
    /// Host name.
    pub hostname: String,
    /// `uname -r`.
    pub kernel_release: String,
    /// `uname -v` (build, preemption model).
    pub kernel_version: String,
    /// /proc/cmdline (isolcpus, nohz_full, mitigations=...).
    pub kernel_cmdline: String,
    /// CPU model name.
    pub cpu_model: String,
    /// Online CPUs on the machine.
    pub online_cpus: usize,
    /// CPUs this process may use, with core, package, node and SMT siblings.
    pub topology: Topology,
    /// Physical cores among the usable CPUs.
    pub physical_cores: usize,
    /// NUMA nodes among the usable CPUs.
    pub numa_nodes: usize,
    /// True when a core has more than one hardware thread.
    pub smt: bool,
    /// /sys/devices/system/cpu/smt/control (on, off, notsupported).
    pub smt_control: Option<String>,
    /// Frequency governors in use (distinct values over the usable CPUs).
    pub governor: Option<String>,
    /// Frequency driver (scaling_driver).
    pub cpufreq_driver: Option<String>,
    /// cpuidle driver (intel_idle, acpi_idle, haltpoll, none).
    pub cpuidle_driver: Option<String>,
    /// Kernel clock source (tsc, kvm-clock, ...).
    pub clocksource: Option<String>,
    /// Hypervisor, from the CPUID signature (KVM, Microsoft Hv, VMware, Xen), or none.
    pub virtualization: Option<String>,
    /// CPU vulnerability mitigations (they change what a system call costs).
    pub mitigations: BTreeMap<String, String>,
    /// Loopback interfaces: state, MTU, addresses.
    pub loopback: Vec<LoopbackInterface>,
    /// The sysctls in [`RECORDED_SYSCTLS`] that exist here.
    pub sysctls: BTreeMap<String, String>,
    /// RLIMIT_NOFILE (soft, hard).
    pub rlimit_nofile: (u64, u64),
    /// 1-minute load average when the run started: how busy the machine was.
    pub loadavg_1m: Option<f64>,
    /// True when running as root.
    pub root: bool,
}

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Reads one sysctl by its dotted name.
pub fn read_sysctl(name: &str) -> Option<String> {
    crate::host::sysctl::read(name).filter(|v| !v.is_empty())
}

/// The hypervisor's CPUID vendor signature, if the CPU reports running under one.
fn hypervisor() -> Option<String> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        // Leaf 1 ECX bit 31 is the "hypervisor present" bit; leaf 0x40000000 holds the vendor.
        // SAFETY: CPUID exists on every x86_64 CPU and only reads identification registers.
        #[allow(unused_unsafe)]
        let (present, sig) = unsafe { (__cpuid(1).ecx >> 31 & 1 == 1, __cpuid(0x4000_0000)) };
        if !present {
            return None;
        }
        let bytes: Vec<u8> = [sig.ebx, sig.ecx, sig.edx]
            .iter()
            .flat_map(|r| r.to_le_bytes())
            .collect();
        let vendor = String::from_utf8_lossy(&bytes)
            .trim_matches('\0')
            .trim()
            .to_string();
        Some(match vendor.as_str() {
            "KVMKVMKVM" => "KVM".into(),
            "Microsoft Hv" => "Microsoft Hyper-V".into(),
            "VMwareVMware" => "VMware".into(),
            "XenVMMXenVMM" => "Xen".into(),
            "TCGTCGTCGTCG" => "QEMU (TCG)".into(),
            "" => "unknown hypervisor".into(),
            other => other.to_string(),
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        read("/sys/hypervisor/type")
    }
}

fn distinct(values: impl Iterator<Item = Option<String>>) -> Option<String> {
    let mut v: Vec<String> = values.flatten().collect();
    v.sort();
    v.dedup();
    (!v.is_empty()).then(|| v.join(","))
}

impl Environment {
    /// Takes the snapshot (a few milliseconds: it reads /proc and /sys only).
    pub fn capture() -> Environment {
        let topology = Topology::detect();
        let uname = nix::sys::utsname::uname().ok();
        let u = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            uname
                .as_ref()
                .map(|n| f(n).to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let cpu_model = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default();
        let cpu_file =
            |id: usize, f: &str| read(&format!("/sys/devices/system/cpu/cpu{id}/cpufreq/{f}"));
        let mitigations = fs::read_dir("/sys/devices/system/cpu/vulnerabilities")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let v = read(&e.path().to_string_lossy())?;
                        Some((e.file_name().to_string_lossy().into_owned(), v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rlimit_nofile =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .unwrap_or((0, 0));
        Environment {
            hostname: u(|n| n.nodename()),
            kernel_release: u(|n| n.release()),
            kernel_version: u(|n| n.version()),
            kernel_cmdline: read("/proc/cmdline").unwrap_or_default(),
            cpu_model,
            online_cpus: topology.online.len(),
            physical_cores: topology.physical_cores(),
            numa_nodes: topology.nodes(),
            smt: topology.has_smt(),
            smt_control: read("/sys/devices/system/cpu/smt/control"),
            governor: distinct(
                topology
                    .cpus
                    .iter()
                    .map(|c| cpu_file(c.id, "scaling_governor")),
            ),
            cpufreq_driver: distinct(
                topology
                    .cpus
                    .iter()
                    .map(|c| cpu_file(c.id, "scaling_driver")),
            ),
            cpuidle_driver: read("/sys/devices/system/cpu/cpuidle/current_driver"),
            clocksource: read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
            virtualization: hypervisor(),
            mitigations,
            loopback: loopback_interfaces().unwrap_or_default(),
            sysctls: RECORDED_SYSCTLS
                .iter()
                .filter_map(|n| Some((n.to_string(), read_sysctl(n)?)))
                .collect(),
            rlimit_nofile,
            loadavg_1m: read("/proc/loadavg")
                .and_then(|s| s.split_whitespace().next()?.parse().ok()),
            root: nix::unistd::geteuid().is_root(),
            topology,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_has_the_basics_of_this_machine() {
        let env = Environment::capture();
        assert!(!env.kernel_release.is_empty());
        assert!(env.online_cpus >= 1);
        assert!(env.loopback.iter().any(|l| l.name == "lo"));
        assert!(
            env.sysctls.contains_key("net.core.rmem_max"),
            "{:?}",
            env.sysctls.keys()
        );
        assert!(env.rlimit_nofile.0 > 0);
    }

    #[test]
    fn sysctl_values_have_normalised_whitespace() {
        let v = read_sysctl("net.ipv4.tcp_rmem").unwrap();
        assert_eq!(v.split(' ').count(), 3, "{v}");
    }
}
