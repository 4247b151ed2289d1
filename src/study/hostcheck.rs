//! A byte-for-byte picture of what a study must leave alone: every readable file under the host's
//! /proc/sys/net and the host's lo (state, MTU, queue length, offloads, root qdisc, addresses).
//! Taken before and after a study; any difference is reported.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::host::sysctl;
use crate::loopback::netlink::Rtnl;
use crate::loopback::{alias, link, offload, qdisc};

/// Counters under /proc/sys/net that move by themselves.
const VOLATILE: &[&str] = &["net.netfilter.nf_conntrack_count"];

/// The host's network settings as files and lo's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSnapshot {
    /// Every readable /proc/sys/net file, raw.
    pub net_sysctls: BTreeMap<String, String>,
    /// lo, one line per property (`mtu 65536`, `tso on`, `qdisc noqueue`, `addr 127.0.0.1/8`).
    pub lo: Vec<String>,
}

impl HostSnapshot {
    /// Takes the snapshot in the calling thread's namespace.
    pub fn capture() -> Result<HostSnapshot> {
        let mut net_sysctls = sysctl::snapshot("net");
        for v in VOLATILE {
            net_sysctls.remove(*v);
        }
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
        Ok(HostSnapshot { net_sysctls, lo })
    }

    /// What differs from `before`, one line each; empty when nothing does.
    pub fn differences(&self, before: &HostSnapshot) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &before.net_sysctls {
            match self.net_sysctls.get(k) {
                Some(now) if now == v => {}
                Some(now) => out.push(format!("{k}: was {:?}, now {:?}", v.trim(), now.trim())),
                None => out.push(format!("{k}: gone")),
            }
        }
        for k in self.net_sysctls.keys() {
            if !before.net_sysctls.contains_key(k) {
                out.push(format!("{k}: new"));
            }
        }
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
        let mut c = b.clone();
        c.net_sysctls
            .insert("net.core.somaxconn".into(), "1\n".into());
        c.lo[1] = "mtu 1".into();
        let d = c.differences(&a);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("net.core.somaxconn"));
    }
}
