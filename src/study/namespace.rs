//! Applying a variant's namespace part inside its private network namespace, every value read
//! back: a setting the kernel did not take refuses the variant.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

use super::settings::{AppliedSetting, NamespaceSettings, Scope};
use crate::error::ConfigError;
use crate::host::sysctl;
use crate::loopback::link;
use crate::loopback::netlink::{Rtnl, kernel_errno};
use crate::loopback::netns::PrivateNetns;
use crate::loopback::offload;
use crate::loopback::qdisc;
use crate::loopback::queues::{self, Steering};

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
    for (s, mask) in [
        (Steering::Rps, &s.lo_rps_cpus),
        (Steering::Xps, &s.lo_xps_cpus),
    ] {
        if let Some(mask) = mask {
            let (before, after) = queues::set(ns, s, mask)?;
            out.push(record(
                format!("lo {}", s.file()),
                Some(before),
                queues::canonical_mask(mask).unwrap_or_default(),
                after,
            ));
        }
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
    use crate::loopback::offload::Offload;
    use crate::loopback::qdisc::QdiscSpec;

    fn settings() -> NamespaceSettings {
        NamespaceSettings {
            lo_mtu: Some(1500),
            lo_offloads: [(Offload::Tso, false), (Offload::Gso, false)].into(),
            lo_qdisc: None,
            sysctls: [("net.unix.max_dgram_qlen".to_string(), "512".to_string())].into(),
            lo_rps_cpus: Some("1".into()),
            lo_xps_cpus: None,
        }
    }

    #[test]
    #[ignore = "needs root: applies lo and sysctl settings in a private network namespace"]
    fn settings_apply_and_read_back_in_a_namespace() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let host_qlen = sysctl::read("net.unix.max_dgram_qlen");
        let applied = with_private(|ns| apply(ns, &settings())).unwrap();
        assert_eq!(applied.len(), 5, "{applied:?}");
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
