//! What a variant changes: its kernel settings split by where they live (the variant's private
//! network namespace, or the host), its changes to every case, and a setting as applied and read
//! back. Applying is in [`namespace`](super::namespace) and [`journal`](super::journal).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::host::knob::KnobFile;
use crate::loopback::offload::Offload;
use crate::loopback::qdisc::QdiscSpec;
use crate::spec::{EngineChoice, Placement, Spec};

/// One variant of a study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Variant {
    /// Its name (names files and report rows).
    pub name: String,
    /// What it is about, when given.
    pub description: Option<String>,
    /// Kernel settings.
    pub settings: VariantSettings,
    /// Changes to every case (placement, engine, socket options).
    pub overrides: CaseOverrides,
}

/// Kernel settings a variant changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantSettings {
    /// MTU of lo.
    pub lo_mtu: Option<u32>,
    /// Offloads of lo.
    pub lo_offloads: BTreeMap<Offload, bool>,
    /// Root qdisc of lo.
    pub lo_qdisc: Option<QdiscSpec>,
    /// Sysctls by dotted name; per-namespace ones are set in the namespace, global ones on the
    /// host (with `--allow-host-changes`).
    pub sysctls: BTreeMap<String, String>,
    /// A request held on /dev/cpu_dma_latency while the variant runs (host-wide).
    pub cpu_dma_latency_us: Option<i32>,
    /// Idle states to disable, by name (`POLL`, `C6`, `haltpoll`, or `deepest`; host-wide).
    #[serde(default)]
    pub idle_disable: Vec<String>,
    /// The CPUs whose idle states `idle_disable` disables.
    #[serde(default)]
    pub idle_cpus: IdleCpus,
    /// Guest haltpoll parameters by file name under /sys/module/haltpoll/parameters/ (host-wide).
    #[serde(default)]
    pub haltpoll: BTreeMap<String, String>,
    /// Scheduler tunables by the name of their file under /sys/kernel/debug/sched/ or
    /// /proc/sys/kernel/sched_* (host-wide).
    #[serde(default)]
    pub sched: BTreeMap<String, String>,
    /// Transparent huge pages: `always`, `madvise` or `never` (host-wide).
    #[serde(default)]
    pub thp: Option<String>,
    /// CPU mask (hex) of lo's receive packet steering, in the namespace.
    #[serde(default)]
    pub lo_rps_cpus: Option<String>,
    /// CPU mask (hex) of lo's transmit packet steering, in the namespace.
    #[serde(default)]
    pub lo_xps_cpus: Option<String>,
}

/// The CPUs whose idle states a variant disables.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum IdleCpus {
    /// The CPUs the cases' workers are pinned to (every CPU when a case is not pinned).
    #[default]
    Workers,
    /// Every online CPU.
    All,
}

/// Changes a variant makes to every case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseOverrides {
    /// Placement instead of the cases'.
    pub placement: Option<Placement>,
    /// Engine instead of the cases'.
    pub engine: Option<EngineChoice>,
    /// SO_SNDBUF.
    pub sndbuf: Option<usize>,
    /// SO_RCVBUF.
    pub rcvbuf: Option<usize>,
    /// TCP_NOTSENT_LOWAT.
    pub notsent_lowat: Option<u32>,
    /// TCP_NODELAY.
    pub nodelay: Option<bool>,
    /// SO_BUSY_POLL in µs.
    #[serde(default)]
    pub busy_poll_us: Option<u32>,
}

impl CaseOverrides {
    /// The cases with these changes.
    pub fn apply(&self, cases: &[Spec]) -> Vec<Spec> {
        cases
            .iter()
            .map(|c| {
                let mut s = c.clone();
                if let Some(p) = self.placement {
                    s.placement = p;
                }
                if let Some(e) = self.engine {
                    s.set_engine(e);
                }
                s.socket.sndbuf = self.sndbuf.or(s.socket.sndbuf);
                s.socket.rcvbuf = self.rcvbuf.or(s.socket.rcvbuf);
                s.socket.notsent_lowat = self.notsent_lowat.or(s.socket.notsent_lowat);
                s.socket.nodelay = self.nodelay.unwrap_or(s.socket.nodelay);
                s.socket.busy_poll_us = self.busy_poll_us.or(s.socket.busy_poll_us);
                s
            })
            .collect()
    }
}

/// Where a setting lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// In the variant's private network namespace: never visible to the host.
    Namespace,
    /// Host-wide: needs --allow-host-changes, journaled and restored.
    Host,
}

/// One setting as asked for and as the kernel reports it afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedSetting {
    /// `sysctl net.ipv4.tcp_rmem`, `lo mtu`, `lo tso`, `lo qdisc`, `cpu_dma_latency`.
    pub setting: String,
    /// Where it was applied.
    pub scope: Scope,
    /// The value before.
    pub before: Option<String>,
    /// The value asked for.
    pub wanted: String,
    /// The value read back.
    pub read_back: String,
}

/// The namespace part of a variant: what the child process applies.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceSettings {
    /// MTU of lo.
    pub lo_mtu: Option<u32>,
    /// Offloads of lo.
    pub lo_offloads: BTreeMap<Offload, bool>,
    /// Root qdisc of lo.
    pub lo_qdisc: Option<QdiscSpec>,
    /// Per-namespace sysctls.
    pub sysctls: BTreeMap<String, String>,
    /// CPU mask of lo's receive packet steering.
    #[serde(default)]
    pub lo_rps_cpus: Option<String>,
    /// CPU mask of lo's transmit packet steering.
    #[serde(default)]
    pub lo_xps_cpus: Option<String>,
}

/// One host-wide file a variant sets: which, to what, and what to call it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostWrite {
    /// What the report calls it: `cpu1 idle state 'haltpoll idle' disable`.
    pub label: String,
    /// The file.
    pub file: KnobFile,
    /// The value to write.
    pub wanted: String,
}

/// The host part of a variant: what the parent applies with the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSettings {
    /// Global sysctls.
    pub sysctls: BTreeMap<String, String>,
    /// The /dev/cpu_dma_latency request, in µs.
    pub cpu_dma_latency_us: Option<i32>,
    /// Idle states, haltpoll parameters, scheduler tunables, THP: resolved to their files on
    /// this machine by [`hostknobs::resolve`](super::hostknobs::resolve).
    #[serde(default)]
    pub files: Vec<HostWrite>,
}

impl HostSettings {
    /// True when the variant changes nothing on the host.
    pub fn is_empty(&self) -> bool {
        self.sysctls.is_empty() && self.cpu_dma_latency_us.is_none() && self.files.is_empty()
    }

    /// What it changes, one name each: sysctls, `cpu_dma_latency`, the files' labels.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = self.sysctls.keys().cloned().collect();
        if self.cpu_dma_latency_us.is_some() {
            out.push("cpu_dma_latency".into());
        }
        out.extend(self.files.iter().map(|f| f.label.clone()));
        out
    }
}

impl VariantSettings {
    /// Splits the settings by scope; `per_namespace` tells which sysctls a namespace has. The
    /// host part's files are left empty: resolving them needs the machine (see
    /// [`hostknobs::resolve`](super::hostknobs::resolve)).
    pub fn split(&self, per_namespace: &dyn Fn(&str) -> bool) -> (NamespaceSettings, HostSettings) {
        let (ns, host): (BTreeMap<_, _>, BTreeMap<_, _>) = self
            .sysctls
            .clone()
            .into_iter()
            .partition(|(k, _)| per_namespace(k));
        (
            NamespaceSettings {
                lo_mtu: self.lo_mtu,
                lo_offloads: self.lo_offloads.clone(),
                lo_qdisc: self.lo_qdisc.clone(),
                sysctls: ns,
                lo_rps_cpus: self.lo_rps_cpus.clone(),
                lo_xps_cpus: self.lo_xps_cpus.clone(),
            },
            HostSettings {
                sysctls: host,
                cpu_dma_latency_us: self.cpu_dma_latency_us,
                files: Vec::new(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::EngineKind;

    #[test]
    fn settings_split_by_scope() {
        let v = VariantSettings {
            sysctls: [
                ("net.core.busy_poll".to_string(), "50".to_string()),
                ("net.ipv4.tcp_rmem".to_string(), "1 2 3".to_string()),
            ]
            .into(),
            cpu_dma_latency_us: Some(0),
            lo_rps_cpus: Some("2".into()),
            idle_disable: vec!["POLL".into()],
            ..Default::default()
        };
        let (ns, host) = v.split(&|n| n.starts_with("net.ipv4"));
        assert_eq!(ns.sysctls.len(), 1);
        assert_eq!(ns.lo_rps_cpus.as_deref(), Some("2"));
        assert!(host.files.is_empty(), "resolved later, on the machine");
        assert_eq!(host.sysctls.keys().next().unwrap(), "net.core.busy_poll");
        assert_eq!(host.cpu_dma_latency_us, Some(0));
    }

    #[test]
    fn overrides_change_every_case() {
        let cases = vec![Spec::new(crate::spec::Transport::Tcp4)];
        let o = CaseOverrides {
            engine: Some(EngineKind::Spin.into()),
            notsent_lowat: Some(4096),
            busy_poll_us: Some(50),
            ..Default::default()
        };
        let out = o.apply(&cases);
        assert_eq!(out[0].engine, EngineKind::Spin);
        assert_eq!(out[0].socket.notsent_lowat, Some(4096));
        assert_eq!(out[0].socket.busy_poll_us, Some(50));
        assert!(out[0].socket.nodelay);
    }
}
