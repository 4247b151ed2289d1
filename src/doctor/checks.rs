//! The individual checks of `loopbench doctor`.

use std::time::Duration;

use super::finding::{Finding, Level};
use crate::host::environment::Environment;
use crate::host::procs;
use crate::loopback::netlink::Rtnl;
use crate::loopback::{link, offload, qdisc};
use crate::metrics::clock::check_timer;
use crate::metrics::interference::{Snapshot, tick_ns};
use crate::metrics::rusage::process_cpu_ns;

fn finding(
    check: &str,
    level: Level,
    value: String,
    meaning: &str,
    action: Option<&str>,
) -> Finding {
    Finding {
        check: check.into(),
        level,
        value,
        meaning: meaning.into(),
        action: action.map(Into::into),
    }
}

fn loopback() -> Vec<Finding> {
    let state = Rtnl::open().and_then(|mut r| {
        let i = link::index_of("lo")?;
        Ok((link::get(&mut r, i)?, qdisc::root(&mut r, i)?))
    });
    let Ok((lo, root)) = state else {
        return vec![finding(
            "loopback up",
            Level::Problem,
            "lo not found".into(),
            "there is no loopback interface in this network namespace: nothing can be measured",
            Some("ip link set lo up (or check the container's network setup)"),
        )];
    };
    let mut out = vec![if lo.up {
        finding(
            "loopback up",
            Level::Ok,
            "lo is up".into(),
            "loopback traffic can flow",
            None,
        )
    } else {
        finding(
            "loopback up",
            Level::Problem,
            "lo is down".into(),
            "every loopback connection will fail",
            Some("ip link set lo up"),
        )
    }];
    out.push(if lo.mtu >= 65536 {
        finding(
            "loopback mtu",
            Level::Ok,
            lo.mtu.to_string(),
            "the default: a 64 KiB write crosses loopback as one packet",
            None,
        )
    } else {
        finding(
            "loopback mtu",
            Level::Warn,
            lo.mtu.to_string(),
            "below the default 65536: bulk transfers are cut into more packets, so stream \
             throughput is lower and per-byte CPU higher than on a default host",
            Some("ip link set lo mtu 65536, unless the smaller MTU is what you mean to measure"),
        )
    });
    let offloads = offload::get_all("lo").unwrap_or_default();
    let off: Vec<&str> = offloads
        .iter()
        .filter(|(_, on)| !on)
        .map(|(f, _)| f.as_str())
        .collect();
    let shown = offloads
        .iter()
        .map(|(f, on)| format!("{} {}", f.as_str(), if *on { "on" } else { "off" }))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(if off.is_empty() {
        finding(
            "loopback offloads",
            Level::Ok,
            shown,
            "segmentation and receive offloads are on (the default)",
            None,
        )
    } else {
        finding(
            "loopback offloads",
            Level::Warn,
            shown,
            "with segmentation/receive offloads off, TCP on loopback segments and reassembles in \
             software: stream throughput drops, latency of large messages rises",
            Some("ethtool -K lo tso on gso on gro on, unless that is what you mean to measure"),
        )
    });
    out.push(if root.kind == "noqueue" {
        finding("loopback qdisc", Level::Ok, root.kind, "no queueing discipline: packets go straight through (the default)", None)
    } else {
        finding(
            "loopback qdisc",
            Level::Warn,
            root.kind,
            "a root qdisc on lo adds enqueue/dequeue work (and a shaper limits rate) to every packet",
            Some("tc qdisc del dev lo root, unless the qdisc is what you mean to measure"),
        )
    });
    out
}

fn cpus(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    let value = format!(
        "{} usable of {} online, {} physical core(s), {} NUMA node(s), {}",
        env.topology.cpus.len(),
        env.online_cpus,
        env.physical_cores,
        env.numa_nodes,
        env.cpu_model
    );
    out.push(if env.topology.cpus.len() >= 2 {
        finding(
            "cpus",
            Level::Ok,
            value,
            "client and server can run on separate CPUs (cross-core)",
            None,
        )
    } else {
        finding(
            "cpus",
            Level::Warn,
            value,
            "one usable CPU: client and server take turns, only same-core is possible",
            Some("give the process more CPUs (taskset, cgroup cpuset, VM size)"),
        )
    });
    out.push(if env.smt {
        finding(
            "smt",
            Level::Info,
            format!("on ({})", env.smt_control.as_deref().unwrap_or("?")),
            "hardware threads share a core: a sibling's load changes your results; smt-sibling \
             and cross-core placements differ",
            None,
        )
    } else {
        finding(
            "smt",
            Level::Ok,
            format!(
                "off or absent ({})",
                env.smt_control.as_deref().unwrap_or("no control")
            ),
            "no hardware-thread sharing between measured CPUs",
            None,
        )
    });
    out.push(match env.governor.as_deref() {
        Some("performance") => finding(
            "governor",
            Level::Ok,
            "performance".into(),
            "CPUs stay at full frequency",
            None,
        ),
        Some(g) => finding(
            "governor",
            Level::Warn,
            g.into(),
            "the frequency follows load: a sleeping (blocking) worker wakes at a lower clock, so \
             latencies move with the governor's decisions",
            Some("cpupower frequency-set -g performance (and restore it afterwards)"),
        ),
        None => finding(
            "governor",
            Level::Info,
            "none (no cpufreq)".into(),
            "the OS does not control frequency here (common in VMs): the host or firmware does",
            None,
        ),
    });
    let idle = env.cpuidle_driver.clone().unwrap_or_else(|| "none".into());
    out.push(match idle.as_str() {
        "intel_idle" | "acpi_idle" => finding(
            "cpuidle",
            Level::Info,
            idle,
            "deep C-states save power but cost tens of µs to wake from: blocking round trips pay it",
            None,
        ),
        _ => finding(
            "cpuidle",
            Level::Info,
            idle,
            "how idle CPUs wait decides wake-up latency (haltpoll polls briefly in VMs)",
            None,
        ),
    });
    out
}

fn system(env: &Environment) -> Vec<Finding> {
    let mut out = Vec::new();
    out.push(match &env.virtualization {
        Some(h) => finding(
            "virtualization",
            Level::Info,
            h.clone(),
            "a guest: cross-CPU wake-ups (IPIs) and timers may exit to the hypervisor, and other \
             guests share the host: expect higher and noisier latencies than bare metal",
            None,
        ),
        None => finding(
            "virtualization",
            Level::Ok,
            "bare metal".into(),
            "no hypervisor between the workers and the CPU",
            None,
        ),
    });
    // Steal and foreign load are sampled over the busy-process check's window.
    let before = (Snapshot::take().ok(), process_cpu_ns());
    let busy = procs::busy_processes(Duration::from_millis(500), 5.0);
    let after = Snapshot::take().ok();
    let cpus: Vec<usize> = crate::host::topology::allowed_cpus().into_iter().collect();
    let load = super::load::findings(
        before.0.as_ref(),
        after.as_ref(),
        &cpus,
        process_cpu_ns().saturating_sub(before.1),
        tick_ns(),
    );
    out.push(if busy.is_empty() {
        finding(
            "busy processes",
            Level::Ok,
            "none above 5% of a CPU".into(),
            "the machine is quiet",
            None,
        )
    } else {
        let list = busy
            .iter()
            .take(5)
            .map(|p| format!("{} (pid {}, {:.0}%)", p.comm, p.pid, p.cpu_percent))
            .collect::<Vec<_>>()
            .join(", ");
        finding(
            "busy processes",
            Level::Warn,
            list,
            "other work competes for the CPUs and caches the workers run on: results are noisier",
            Some("stop them, or pin them away from the measured CPUs"),
        )
    });
    out.extend(load);
    let daemons = procs::running_named(procs::TUNING_DAEMONS);
    out.push(if daemons.is_empty() {
        finding(
            "tuning daemons",
            Level::Ok,
            "neither tuned nor irqbalance runs".into(),
            "nothing retunes the host during a run",
            None,
        )
    } else {
        finding(
            "tuning daemons",
            Level::Warn,
            crate::host::procs::describe(&daemons),
            "they move IRQs and change power settings while you measure",
            Some("stop them for the measurement (systemctl stop tuned irqbalance)"),
        )
    });
    let timer = check_timer(100_000);
    let cs = timer.clocksource.clone().unwrap_or_else(|| "?".into());
    out.push(if matches!(cs.as_str(), "tsc" | "kvm-clock" | "arch_sys_counter") {
        finding("clock source", Level::Ok, cs, "clock reads stay in user space (vDSO): cheap timestamps", None)
    } else {
        finding(
            "clock source",
            Level::Warn,
            cs,
            "clock reads trap into the kernel or device: every timestamp costs µs and distorts latencies",
            Some("use tsc if the CPU has a stable one (clocksource=tsc on the kernel command line)"),
        )
    });
    out.push(if timer.read_cost_ns < 100.0 {
        finding(
            "timer cost",
            Level::Ok,
            format!("{:.0} ns per read", timer.read_cost_ns),
            "negligible next to a round trip",
            None,
        )
    } else {
        finding(
            "timer cost",
            Level::Warn,
            format!("{:.0} ns per read", timer.read_cost_ns),
            "each latency sample includes two reads: sub-µs figures are inflated",
            Some("see the clock source finding"),
        )
    });
    let (soft, hard) = env.rlimit_nofile;
    out.push(if soft >= 4096 {
        finding(
            "open files",
            Level::Ok,
            format!("{soft} (hard {hard})"),
            "enough descriptors for many flows",
            None,
        )
    } else {
        finding(
            "open files",
            Level::Warn,
            format!("{soft} (hard {hard})"),
            "each flow needs several descriptors: many flows or connect-heavy cases run out",
            Some("ulimit -n 65536 (up to the hard limit)"),
        )
    });
    let ports = env
        .sysctls
        .get("net.ipv4.ip_local_port_range")
        .cloned()
        .unwrap_or_default();
    let span = ports
        .split(' ')
        .filter_map(|p| p.parse::<i64>().ok())
        .collect::<Vec<_>>();
    let n = if span.len() == 2 {
        span[1] - span[0] + 1
    } else {
        0
    };
    out.push(if n >= 20_000 {
        finding(
            "ephemeral ports",
            Level::Ok,
            format!("{ports} ({n} ports)"),
            "enough ports for connection-heavy cases",
            None,
        )
    } else {
        finding(
            "ephemeral ports",
            Level::Warn,
            format!("{ports} ({n} ports)"),
            "connect-heavy cases exhaust the range while closed connections sit in TIME_WAIT",
            Some("sysctl net.ipv4.ip_local_port_range=\"1024 65535\""),
        )
    });
    out
}

/// Every check, in order.
pub fn all() -> Vec<Finding> {
    let env = Environment::capture();
    let mut out = loopback();
    out.extend(cpus(&env));
    out.extend(system(&env));
    out
}
