//! Environment differences between the two sides: whatever of the machine's kernel, CPU, power
//! management, loopback interfaces, sysctls and mitigations is not the same. Two runs are only
//! comparable when the reader can see what differed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::host::environment::Environment;

/// One setting that differs between BASE and NEW.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EnvDifference {
    /// What differs (`kernel`, `lo MTU`, `sysctl net.core.rmem_max`).
    pub setting: String,
    /// BASE's value(s); several runs with different values are joined with ` | `.
    pub base: String,
    /// NEW's value(s).
    pub new: String,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

/// The settings compared, as (name, value) pairs of one environment.
fn settings(env: &Environment) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        s.insert(k.to_string(), v);
    };
    put("kernel", env.kernel_release.clone());
    put("kernel build", env.kernel_version.clone());
    put("kernel command line", env.kernel_cmdline.clone());
    put("CPU model", env.cpu_model.clone());
    put(
        "usable CPUs",
        format!("{} of {}", env.topology.cpus.len(), env.online_cpus),
    );
    put(
        "SMT",
        format!(
            "{} (control: {})",
            if env.smt { "on" } else { "off" },
            opt(&env.smt_control)
        ),
    );
    put("governor", opt(&env.governor));
    put("cpufreq driver", opt(&env.cpufreq_driver));
    put("cpuidle driver", opt(&env.cpuidle_driver));
    put("clock source", opt(&env.clocksource));
    put("virtualization", opt(&env.virtualization));
    put("running as root", env.root.to_string());
    for lo in &env.loopback {
        put(
            &format!("{} MTU", lo.name),
            lo.mtu.map_or("-".into(), |m| m.to_string()),
        );
        put(
            &format!("{} state", lo.name),
            if lo.up { "up" } else { "down" }.into(),
        );
        for (offload, on) in &lo.offloads {
            put(
                &format!("{} {offload}", lo.name),
                if *on { "on" } else { "off" }.into(),
            );
        }
    }
    for (k, v) in &env.sysctls {
        put(&format!("sysctl {k}"), v.clone());
    }
    for (k, v) in &env.mitigations {
        put(&format!("mitigation {k}"), v.clone());
    }
    s
}

/// The distinct values of `key` over `envs`, joined; `-` where a run does not have it.
fn values(all: &[BTreeMap<String, String>], key: &str) -> BTreeSet<String> {
    all.iter()
        .map(|s| s.get(key).cloned().unwrap_or_else(|| "-".into()))
        .collect()
}

/// Every setting whose values differ between the runs of `base` and those of `new`.
pub fn differences(base: &[&Environment], new: &[&Environment]) -> Vec<EnvDifference> {
    let b: Vec<_> = base.iter().map(|e| settings(e)).collect();
    let n: Vec<_> = new.iter().map(|e| settings(e)).collect();
    let keys: BTreeSet<&String> = b.iter().chain(&n).flat_map(|s| s.keys()).collect();
    let join = |v: BTreeSet<String>| v.into_iter().collect::<Vec<_>>().join(" | ");
    keys.into_iter()
        .filter_map(|k| {
            let (bv, nv) = (values(&b, k), values(&n, k));
            (bv != nv).then(|| EnvDifference {
                setting: k.clone(),
                base: join(bv),
                new: join(nv),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::iface::LoopbackInterface;

    fn env() -> Environment {
        let mut e = Environment {
            kernel_release: "6.1.0".into(),
            cpu_model: "Test CPU".into(),
            governor: Some("performance".into()),
            loopback: vec![LoopbackInterface {
                name: "lo".into(),
                index: 1,
                up: true,
                running: true,
                mtu: Some(65536),
                tx_queue_len: Some(1000),
                addresses: Vec::new(),
                offloads: Default::default(),
            }],
            ..Environment::default()
        };
        e.sysctls
            .insert("net.core.rmem_max".into(), "212992".into());
        e
    }

    #[test]
    fn identical_environments_have_no_differences() {
        let a = env();
        assert!(differences(&[&a], &[&a.clone()]).is_empty());
    }

    #[test]
    fn kernel_mtu_sysctl_and_governor_differences_are_listed() {
        let a = env();
        let mut b = env();
        b.kernel_release = "6.8.0".into();
        b.loopback[0].mtu = Some(1500);
        b.sysctls
            .insert("net.core.rmem_max".into(), "4194304".into());
        b.sysctls.insert("net.core.busy_poll".into(), "50".into());
        b.governor = None;
        let d = differences(&[&a], &[&b]);
        let find = |k: &str| d.iter().find(|x| x.setting == k).cloned();
        assert_eq!(find("kernel").unwrap().new, "6.8.0");
        assert_eq!(find("lo MTU").unwrap().base, "65536");
        assert_eq!(find("lo MTU").unwrap().new, "1500");
        assert_eq!(find("sysctl net.core.rmem_max").unwrap().new, "4194304");
        assert_eq!(find("sysctl net.core.busy_poll").unwrap().base, "-");
        assert_eq!(find("governor").unwrap().new, "-");
        assert_eq!(d.len(), 5, "{d:?}");
    }

    #[test]
    fn several_runs_per_side_show_every_value() {
        let a = env();
        let mut a2 = env();
        a2.cpu_model = "Other CPU".into();
        let d = differences(&[&a, &a2], &[&a]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].base, "Other CPU | Test CPU");
        assert_eq!(d[0].new, "Test CPU");
    }
}
