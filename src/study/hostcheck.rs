//! A byte-for-byte picture of what a study must leave alone: every readable file under the host's
//! /proc/sys, every CPU's idle states' `disable`, the guest haltpoll parameters, transparent huge
//! pages, the cpu_dma_latency target, and the host's lo (state, MTU, queue length, offloads, root
//! qdisc, addresses, packet steering masks). Taken before and after a study; any difference is
//! reported.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::hostknobs::{HALTPOLL, THP};
use crate::host::cpuidle::{self, CPU_ROOT};
use crate::host::sysctl;
use crate::loopback::netlink::Rtnl;
use crate::loopback::queues::Steering;
use crate::loopback::{alias, link, offload, qdisc};

/// Entries under /proc/sys that move by themselves (counters, the last pid, random values, and
/// the perf sample rate the kernel lowers when sampling takes too long).
const VOLATILE: &[&str] = &[
    "net.netfilter.nf_conntrack_count",
    "fs.dentry-state",
    "fs.file-nr",
    "fs.inode-nr",
    "fs.inode-state",
    "fs.aio-nr",
    "fs.quota.",
    "kernel.ns_last_pid",
    "kernel.random.",
    "kernel.pty.nr",
    "kernel.perf_event_max_sample_rate",
];

fn volatile(name: &str) -> bool {
    VOLATILE
        .iter()
        .any(|v| name == *v || (v.ends_with('.') && name.starts_with(v)))
}

/// The host's settings as files and lo's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSnapshot {
    /// Every readable /proc/sys file but the volatile ones, raw.
    pub sysctls: BTreeMap<String, String>,
    /// Other host files a study may change, raw, by path: idle states' `disable`, haltpoll
    /// parameters, transparent huge pages, the cpu_dma_latency target.
    pub files: BTreeMap<PathBuf, String>,
    /// lo, one line per property (`mtu 65536`, `tso on`, `qdisc noqueue`, `addr 127.0.0.1/8`).
    pub lo: Vec<String>,
}

/// Every idle state's `disable`, the haltpoll parameters and THP's `enabled`, raw.
fn host_files() -> BTreeMap<PathBuf, String> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let online = crate::host::topology::Topology::detect().online;
    for cpu in online {
        paths.extend(
            cpuidle::states_in(Path::new(CPU_ROOT), cpu)
                .iter()
                .map(|s| s.disable().path),
        );
    }
    if let Ok(entries) = std::fs::read_dir(HALTPOLL) {
        paths.extend(entries.flatten().map(|e| e.path()));
    }
    paths.push(THP.into());
    let mut out: BTreeMap<PathBuf, String> = paths
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        .collect();
    if let Some(target) = dma_target() {
        out.insert("/dev/cpu_dma_latency".into(), target.to_string());
    }
    out
}

/// The current cpu_dma_latency target in µs (what every request together asks for).
fn dma_target() -> Option<i32> {
    let mut b = [0u8; 4];
    std::fs::File::open("/dev/cpu_dma_latency")
        .ok()?
        .read_exact(&mut b)
        .ok()?;
    Some(i32::from_ne_bytes(b))
}

impl HostSnapshot {
    /// Takes the snapshot in the calling thread's namespace.
    pub fn capture() -> Result<HostSnapshot> {
        let mut sysctls = sysctl::snapshot("");
        sysctls.retain(|k, _| !volatile(k));
        let mut rtnl = Rtnl::open()?;
        let index = link::index_of("lo")?;
        let l = link::get(&mut rtnl, index)?;
        let mut lo = vec![
            format!("up {}", l.up),
            format!("mtu {}", l.mtu),
            format!("qlen {:?}", l.tx_queue_len),
            format!("qdisc {:?}", qdisc::root(&mut rtnl, index)?),
        ];
        for (f, on) in offload::get_all("lo")? {
            lo.push(format!("{} {on}", f.as_str()));
        }
        for a in alias::list()? {
            lo.push(format!("addr {}/{}", a.address, a.prefix_len));
        }
        for s in [Steering::Rps, Steering::Xps] {
            if let Ok(mask) = std::fs::read_to_string(s.path()) {
                lo.push(format!("{} {}", s.file(), mask.trim()));
            }
        }
        Ok(HostSnapshot {
            sysctls,
            files: host_files(),
            lo,
        })
    }

    /// What differs from `before`, one line each; empty when nothing does.
    pub fn differences(&self, before: &HostSnapshot) -> Vec<String> {
        let mut out = changed(&before.sysctls, &self.sysctls, |k| k.clone());
        out.extend(changed(&before.files, &self.files, |p| {
            p.display().to_string()
        }));
        if self.lo != before.lo {
            out.push(format!(
                "lo: was [{}], now [{}]",
                before.lo.join(", "),
                self.lo.join(", ")
            ));
        }
        out
    }
}

/// What differs between two maps of raw values, one line each.
fn changed<K: Ord>(
    before: &BTreeMap<K, String>,
    now: &BTreeMap<K, String>,
    name: impl Fn(&K) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in before {
        match now.get(k) {
            Some(n) if n == v => {}
            Some(n) => out.push(format!(
                "{}: was {:?}, now {:?}",
                name(k),
                v.trim(),
                n.trim()
            )),
            None => out.push(format!("{}: gone", name(k))),
        }
    }
    for k in now.keys() {
        if !before.contains_key(k) {
            out.push(format!("{}: new", name(k)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_snapshots_agree_and_a_change_shows() {
        let a = HostSnapshot::capture().unwrap();
        assert!(a.lo.iter().any(|l| l.starts_with("mtu ")), "{:?}", a.lo);
        assert!(a.lo.iter().any(|l| l == "addr 127.0.0.1/8"), "{:?}", a.lo);
        let b = HostSnapshot::capture().unwrap();
        assert!(b.differences(&a).is_empty(), "{:?}", b.differences(&a));
        assert!(
            a.sysctls.contains_key("kernel.sched_rr_timeslice_ms"),
            "all of /proc/sys"
        );
        assert!(
            !a.sysctls.contains_key("kernel.random.uuid"),
            "volatile ones left out"
        );
        assert!(a.files.contains_key(Path::new(THP)) || !Path::new(THP).exists());
        let mut c = b.clone();
        c.sysctls.insert("net.core.somaxconn".into(), "1\n".into());
        c.lo[1] = "mtu 1".into();
        c.files
            .insert("/sys/module/haltpoll/parameters/x".into(), "1".into());
        let d = c.differences(&a);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("net.core.somaxconn"), "{d:?}");
        assert!(d[1].contains("haltpoll/parameters/x: new"), "{d:?}");
    }
}
