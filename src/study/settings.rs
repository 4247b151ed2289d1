//! What a variant changes, and applying it inside the variant's private network namespace with
//! every value read back: a setting the kernel did not take refuses the variant.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::host::sysctl;
use crate::loopback::link;
use crate::loopback::netlink::{Rtnl, kernel_errno};
use crate::loopback::netns::PrivateNetns;
use crate::loopback::offload::{self, Offload};
use crate::loopback::qdisc::{self, QdiscSpec};
use crate::spec::{EngineKind, Placement, Spec};

/// One variant of a study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
}

/// Changes a variant makes to every case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOverrides {
    /// Placement instead of the cases'.
    pub placement: Option<Placement>,
    /// Engine instead of the cases'.
    pub engine: Option<EngineKind>,
    /// SO_SNDBUF.
    pub sndbuf: Option<usize>,
    /// SO_RCVBUF.
    pub rcvbuf: Option<usize>,
    /// TCP_NOTSENT_LOWAT.
    pub notsent_lowat: Option<u32>,
    /// TCP_NODELAY.
    pub nodelay: Option<bool>,
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
                    s.engine = e;
                }
                s.socket.sndbuf = self.sndbuf.or(s.socket.sndbuf);
                s.socket.rcvbuf = self.rcvbuf.or(s.socket.rcvbuf);
                s.socket.notsent_lowat = self.notsent_lowat.or(s.socket.notsent_lowat);
                s.socket.nodelay = self.nodelay.unwrap_or(s.socket.nodelay);
                s
            })
            .collect()
    }
}

/// Where a setting lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// In the variant's private network namespace: never visible to the host.
    Namespace,
    /// Host-wide: needs --allow-host-changes, journaled and restored.
    Host,
}

/// One setting as asked for and as the kernel reports it afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// The host part of a variant: what the parent applies with the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSettings {
    /// Global sysctls.
    pub sysctls: BTreeMap<String, String>,
    /// The /dev/cpu_dma_latency request, in µs.
    pub cpu_dma_latency_us: Option<i32>,
}

impl HostSettings {
    /// True when the variant changes nothing on the host.
    pub fn is_empty(&self) -> bool {
        self.sysctls.is_empty() && self.cpu_dma_latency_us.is_none()
    }
}

impl VariantSettings {
    /// Splits the settings by scope; `per_namespace` tells which sysctls a namespace has.
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
            },
            HostSettings {
                sysctls: host,
                cpu_dma_latency_us: self.cpu_dma_latency_us,
            },
        )
    }
}

fn mtu_error(e: anyhow::Error, mtu: u32, state: &link::LinkState) -> anyhow::Error {
    if kernel_errno(&e) == Some(libc::EINVAL) {
        ConfigError::Invalid(format!(
            "lo_mtu {mtu} cannot be applied: lo accepts {} to {} ({e:#})",
            state.min_mtu.map_or("?".into(), |m| m.to_string()),
            state.max_mtu.map_or("?".into(), |m| m.to_string()),
        ))
        .into()
    } else {
        e
    }
}

fn record(
    setting: String,
    before: Option<String>,
    wanted: String,
    read_back: String,
) -> AppliedSetting {
    AppliedSetting {
        setting,
        scope: Scope::Namespace,
        before,
        wanted,
        read_back,
    }
}

fn on_off(on: bool) -> String {
    (if on { "on" } else { "off" }).to_string()
}

/// Copies `values` (the host's per-namespace sysctls) into the private namespace, verified.
pub fn inherit(_ns: &PrivateNetns, values: &BTreeMap<String, String>) -> Result<()> {
    for (name, value) in values {
        sysctl::write_verified(name, value)
            .with_context(|| format!("copying the host's {name} into the namespace"))?;
    }
    Ok(())
}

/// Applies `s` in the private namespace and reads every value back. Any value the kernel did not
/// take is an error that names it (the variant is refused).
pub fn apply(ns: &PrivateNetns, s: &NamespaceSettings) -> Result<Vec<AppliedSetting>> {
    let mut out = Vec::new();
    for (name, value) in &s.sysctls {
        let before = sysctl::read(name);
        if before.is_none() {
            bail!(ConfigError::Invalid(format!(
                "sysctl {name} does not exist in a network namespace of this kernel"
            )));
        }
        sysctl::write(name, value).map_err(|e| ConfigError::Invalid(format!("{e:#}")))?;
        out.push(record(
            format!("sysctl {name}"),
            before,
            value.clone(),
            sysctl::read(name).unwrap_or_default(),
        ));
    }
    let mut rtnl = Rtnl::open()?;
    let lo = link::index_of("lo")?;
    if let Some(mtu) = s.lo_mtu {
        let state = link::get(&mut rtnl, lo)?;
        link::set_mtu(&mut rtnl, lo, mtu).map_err(|e| mtu_error(e, mtu, &state))?;
        let after = link::get(&mut rtnl, lo)?.mtu;
        out.push(record(
            "lo mtu".into(),
            Some(state.mtu.to_string()),
            mtu.to_string(),
            after.to_string(),
        ));
    }
    for (&f, &on) in &s.lo_offloads {
        let before = offload::get("lo", f)?;
        offload::set(ns, "lo", f, on)?;
        let after = offload::get("lo", f)?;
        out.push(record(
            format!("lo {}", f.as_str()),
            Some(on_off(before)),
            on_off(on),
            on_off(after),
        ));
    }
    if let Some(q) = &s.lo_qdisc {
        let before = qdisc::root(&mut rtnl, lo)?.kind;
        qdisc::replace_root(ns, &mut rtnl, lo, q)?;
        let state = qdisc::root(&mut rtnl, lo)?;
        let problems = q.mismatches(&state);
        let read_back = if problems.is_empty() {
            q.kind.clone()
        } else {
            format!("{} ({})", state.kind, problems.join(", "))
        };
        out.push(record(
            "lo qdisc".into(),
            Some(before),
            q.kind.clone(),
            read_back,
        ));
    }
    let refused: Vec<String> = out
        .iter()
        .filter(|a| !value_took(a))
        .map(|a| {
            format!(
                "{}: wanted {}, the kernel reads back {}",
                a.setting, a.wanted, a.read_back
            )
        })
        .collect();
    if !refused.is_empty() {
        bail!(ConfigError::Invalid(format!(
            "settings that did not take (the kernel clamps or rejects them): {}",
            refused.join("; ")
        )));
    }
    Ok(out)
}

/// True when the read-back value is the one asked for.
pub fn value_took(a: &AppliedSetting) -> bool {
    sysctl::normalize(&a.wanted) == sysctl::normalize(&a.read_back)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::netns::{unavailable_reason, with_private};

    fn settings() -> NamespaceSettings {
        NamespaceSettings {
            lo_mtu: Some(1500),
            lo_offloads: [(Offload::Tso, false), (Offload::Gso, false)].into(),
            lo_qdisc: None,
            sysctls: [("net.unix.max_dgram_qlen".to_string(), "512".to_string())].into(),
        }
    }

    #[test]
    fn settings_split_by_scope() {
        let v = VariantSettings {
            sysctls: [
                ("net.core.busy_poll".to_string(), "50".to_string()),
                ("net.ipv4.tcp_rmem".to_string(), "1 2 3".to_string()),
            ]
            .into(),
            cpu_dma_latency_us: Some(0),
            ..Default::default()
        };
        let (ns, host) = v.split(&|n| n.starts_with("net.ipv4"));
        assert_eq!(ns.sysctls.len(), 1);
        assert_eq!(host.sysctls.keys().next().unwrap(), "net.core.busy_poll");
        assert_eq!(host.cpu_dma_latency_us, Some(0));
    }

    #[test]
    fn overrides_change_every_case() {
        let cases = vec![Spec::new(crate::spec::Transport::Tcp4)];
        let o = CaseOverrides {
            engine: Some(EngineKind::Spin),
            notsent_lowat: Some(4096),
            ..Default::default()
        };
        let out = o.apply(&cases);
        assert_eq!(out[0].engine, EngineKind::Spin);
        assert_eq!(out[0].socket.notsent_lowat, Some(4096));
        assert!(out[0].socket.nodelay);
    }

    #[test]
    #[ignore = "needs root: applies lo and sysctl settings in a private network namespace"]
    fn settings_apply_and_read_back_in_a_namespace() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let host_qlen = sysctl::read("net.unix.max_dgram_qlen");
        let applied = with_private(|ns| apply(ns, &settings())).unwrap();
        assert_eq!(applied.len(), 4, "{applied:?}");
        assert!(applied.iter().all(value_took), "{applied:?}");
        assert_eq!(sysctl::read("net.unix.max_dgram_qlen"), host_qlen);
    }

    #[test]
    #[ignore = "needs root: applies lo and sysctl settings in a private network namespace"]
    fn a_value_the_kernel_refuses_is_an_error_naming_it() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let mut s = settings();
        s.sysctls
            .insert("net.unix.max_dgram_qlen".into(), "lots".into());
        let err = format!("{:#}", with_private(|ns| apply(ns, &s)).unwrap_err());
        assert!(err.contains("net.unix.max_dgram_qlen = lots"), "{err}");
        let mut s = settings();
        s.lo_qdisc = Some(QdiscSpec {
            kind: "no_such_qdisc".into(),
            rate_bytes_per_sec: None,
            burst_bytes: None,
            limit: None,
            default_class: None,
        });
        let err = format!("{:#}", with_private(|ns| apply(ns, &s)).unwrap_err());
        assert!(err.contains("unknown to this kernel"), "{err}");
        let mut s = settings();
        s.sysctls.insert("net.ipv4.tcp_rmem".into(), "1 2".into());
        let err = format!("{:#}", with_private(|ns| apply(ns, &s)).unwrap_err());
        assert!(err.contains("net.ipv4.tcp_rmem"), "{err}");
    }
}
