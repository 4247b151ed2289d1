//! The named parts of a [`Spec`](super::Spec) beyond its dimensions: the settings of the `rate`
//! and `crr` workloads, the interference a case runs under, and the process layout. Each part
//! defaults to "off" and adds its own suffix to the case id only when it is on.
//!
//! The workload settings live here rather than in their workload's file because the spec must not
//! import the workloads (they import the spec); what each workload does with them, and which cases
//! they apply to, is in `src/workload/`.

use serde::{Deserialize, Serialize};

use crate::spec::spread::AddrRange;
use crate::text::sanitize;

/// `rate`: the open-loop send schedule of each flow.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct RateSettings {
    /// Requests per second per flow (`--rate`).
    #[serde(default)]
    pub rate_per_sec: u64,
    /// Most requests in flight per flow (`--max-in-flight`); 0 picks rate x --timeout (bounded).
    /// The sender waits when it is reached, so a slow server shows in the corrected latency.
    #[serde(default)]
    pub max_in_flight: u32,
}

impl RateSettings {
    /// True when neither setting is given.
    pub fn is_off(&self) -> bool {
        *self == RateSettings::default()
    }

    /// `-rate1000-inflight8`, each part only when set.
    pub fn id_suffix(&self) -> String {
        let mut id = String::new();
        if self.rate_per_sec != 0 {
            id.push_str(&format!("-rate{}", self.rate_per_sec));
        }
        if self.max_in_flight != 0 {
            id.push_str(&format!("-inflight{}", self.max_in_flight));
        }
        id
    }
}

/// `crr`: how each transaction's connection is opened and closed.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct CrrSettings {
    /// Client source addresses, used in turn (`--spread`; TCP over IPv4 only).
    #[serde(default)]
    pub spread: Option<AddrRange>,
    /// Close with SO_LINGER 0 (`--linger0`): an RST instead of a FIN, so no TIME_WAIT is left.
    #[serde(default)]
    pub linger0: bool,
}

impl CrrSettings {
    /// `-spread127.0.0.2-127.0.0.20-linger0`, each part only when set.
    pub fn id_suffix(&self) -> String {
        let mut id = String::new();
        if let Some(spread) = self.spread {
            id.push_str(&format!("-spread{spread}"));
        }
        if self.linger0 {
            id.push_str("-linger0");
        }
        id
    }
}

/// Load the case runs under on purpose, to see what it does to the result.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Interference {
    /// A competing memcpy stream pinned to this CPU during every measured iteration
    /// (`--memory-load`).
    #[serde(default)]
    pub memory_load_cpu: Option<usize>,
}

impl Interference {
    /// `-memload3` when a memory load runs.
    pub fn id_suffix(&self) -> String {
        self.memory_load_cpu
            .map_or_else(String::new, |cpu| format!("-memload{cpu}"))
    }
}

/// What the kernel is asked to record while a case runs (root only): its tracepoints, rebuilt
/// into each round trip's kernel stages (`--trace`), and CPU samples with call chains, attributed
/// to network-stack categories (`--profile`). Both change what they measure (the traced round
/// trip is slower), so each adds its own suffix to the case id: a traced case is never compared
/// with an untraced one by mistake.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct KernelProbes {
    /// Trace the workers' CPUs and rebuild every round trip's kernel stages (`--trace`).
    #[serde(default)]
    pub trace: bool,
    /// Sample call chains on the workers' CPUs and attribute them to categories (`--profile`).
    #[serde(default)]
    pub profile: bool,
}

impl KernelProbes {
    /// True when neither is on.
    pub fn is_off(&self) -> bool {
        !self.trace && !self.profile
    }

    /// `-trace`, `-profile`, each only when on.
    pub fn id_suffix(&self) -> String {
        let mut id = String::new();
        if self.trace {
            id.push_str("-trace");
        }
        if self.profile {
            id.push_str("-profile");
        }
        id
    }
}

/// Where the server side runs: a thread of this process (the default), a server process of its
/// own, or a service that already listens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProcessLayout {
    /// Run the server side in a separate process (`loopbench server`) instead of a thread
    /// (`--processes`).
    #[serde(default)]
    pub processes: bool,
    /// Measure a service that is already listening at this loopback address (`loopbench
    /// client --connect`): no server is started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
}

impl ProcessLayout {
    /// True when the server is not a thread of this process.
    pub fn is_remote(&self) -> bool {
        self.processes || self.connect.is_some()
    }

    /// `-processes` or `-to-127.0.0.1_8080`.
    pub fn id_suffix(&self) -> String {
        let mut id = String::new();
        if self.processes {
            id.push_str("-processes");
        }
        if let Some(target) = &self.connect {
            id.push_str(&format!("-to-{}", sanitize(target, "._")));
        }
        id
    }
}

/// What a case measures besides its latency: per-message stage stamps (`--stages`). Each costs
/// a little on the measured path, so a case with it is a case of its own (its id says so), and
/// `--stages off,on` runs both in one interleaved run to show what it costs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Instrumentation {
    /// Both workers read the clock at fixed points of every message (`--stages`).
    #[serde(default)]
    pub stages: bool,
}

impl Instrumentation {
    /// True when nothing is instrumented.
    pub fn is_off(&self) -> bool {
        *self == Instrumentation::default()
    }

    /// `-stages` when stamped.
    pub fn id_suffix(&self) -> String {
        if self.stages {
            "-stages".into()
        } else {
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_that_are_off_add_nothing_to_the_case_id() {
        assert_eq!(RateSettings::default().id_suffix(), "");
        assert_eq!(CrrSettings::default().id_suffix(), "");
        assert_eq!(Interference::default().id_suffix(), "");
        assert_eq!(ProcessLayout::default().id_suffix(), "");
        assert_eq!(KernelProbes::default().id_suffix(), "");
        assert!(KernelProbes::default().is_off());
        assert_eq!(Instrumentation::default().id_suffix(), "");
        assert!(Instrumentation::default().is_off());
        assert!(RateSettings::default().is_off());
        assert!(!ProcessLayout::default().is_remote());
    }

    #[test]
    fn parts_that_are_on_name_their_values() {
        let rate = RateSettings {
            rate_per_sec: 1000,
            max_in_flight: 8,
        };
        assert_eq!(rate.id_suffix(), "-rate1000-inflight8");
        let crr = CrrSettings {
            spread: Some("127.0.0.2-127.0.0.4".parse().unwrap()),
            linger0: true,
        };
        assert_eq!(crr.id_suffix(), "-spread127.0.0.2-127.0.0.4-linger0");
        let load = Interference {
            memory_load_cpu: Some(3),
        };
        assert_eq!(load.id_suffix(), "-memload3");
        let to = ProcessLayout {
            processes: false,
            connect: Some("127.0.0.1:8080".into()),
        };
        assert_eq!(to.id_suffix(), "-to-127.0.0.1_8080");
        let probes = KernelProbes {
            trace: true,
            profile: true,
        };
        assert_eq!(probes.id_suffix(), "-trace-profile");
        assert!(to.is_remote());
        let stamped = Instrumentation { stages: true };
        assert_eq!(stamped.id_suffix(), "-stages");
    }
}
