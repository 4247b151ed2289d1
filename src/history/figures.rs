//! What the history stores of one run: the parts of a [`RunRecord`](crate::store::record::RunRecord)
//! and its environment that a history needs, in plain types ([`from_record`](super::from_record)
//! maps a run.json into them), so the store, the statistics and the exports never read run.json
//! themselves and a test or another tool can fill a history directly.

use std::collections::BTreeMap;

use crate::store::metric::{Metric, Unit};

/// The machine and its configuration when the run started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunEnvironment {
    /// Host name.
    pub host: String,
    /// `uname -r`.
    pub kernel: String,
    /// CPU model name.
    pub cpu_model: String,
    /// Online CPUs.
    pub cpu_count: u32,
    /// Hypervisor (`KVM`, ...), or `None` on bare metal.
    pub virtualization: Option<String>,
    /// The loopback settings in one canonical line, e.g. `mtu=65536 qdisc=noqueue tso=on gso=on`.
    pub lo_settings: String,
}

impl RunEnvironment {
    /// The machine's identity: host, CPU model, CPU count and virtualization, hashed (FNV-1a,
    /// 64 bits, as 16 hex digits). Series are never mixed across it. The kernel and the
    /// loopback settings are left out on purpose: changing them on one machine is what a
    /// history should show as a change point (and `history check` names the setting that
    /// changed there), not split into two histories.
    pub fn machine_fingerprint(&self) -> String {
        let canonical = format!(
            "host={}\ncpu={}\ncpus={}\nvirt={}",
            self.host,
            self.cpu_model,
            self.cpu_count,
            self.virtualization.as_deref().unwrap_or("none")
        );
        format!("{:016x}", fnv1a64(canonical.as_bytes()))
    }
}

/// FNV-1a, 64 bits: a fixed, documented hash (the fingerprint must not change between builds,
/// which std's `DefaultHasher` does not promise); five lines do not justify a dependency.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How a unit is stored: `ns`, `msgs/s`, `bytes/s`.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Nanoseconds => "ns",
        Unit::MsgsPerSec => "msgs/s",
        Unit::BytesPerSec => "bytes/s",
    }
}

/// One iteration's figures (each `None` when the case has no such figure).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IterationFigures {
    /// Median latency (ns).
    pub p50_ns: Option<f64>,
    /// 99th percentile latency (ns).
    pub p99_ns: Option<f64>,
    /// 99.9th percentile latency (ns).
    pub p999_ns: Option<f64>,
    /// Throughput, in the case's `throughput_unit`.
    pub throughput: Option<f64>,
    /// Receiver CPU per message (ns).
    pub receiver_cpu_ns: Option<f64>,
}

impl IterationFigures {
    /// (metric, value) of the figures present, in a fixed order.
    pub fn named(&self) -> Vec<(Metric, f64)> {
        [
            (Metric::P50, self.p50_ns),
            (Metric::P99, self.p99_ns),
            (Metric::P999, self.p999_ns),
            (Metric::Throughput, self.throughput),
            (Metric::ReceiverCpu, self.receiver_cpu_ns),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect()
    }
}

/// One case of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseFigures {
    /// The canonical case id (`tcp4-rr-blocking-cross-core-64B`).
    pub case_id: String,
    /// Unit of the throughput figures (messages or bytes per second).
    pub throughput_unit: Unit,
    /// Merged over the case's iterations (loopbench's `CaseSummary`).
    pub summary: IterationFigures,
    /// Per iteration, in the order they ran, so statistics can be recomputed.
    pub iterations: Vec<IterationFigures>,
    /// Median of each per-message stage (ns), by stage name (`client-send`, ...; traced kernel
    /// stages as `kernel:<stage>`); empty when the run measured no stages.
    pub stage_medians_ns: BTreeMap<String, f64>,
    /// The fewest latency samples any iteration holds (tail percentiles are gated only above
    /// a minimum, as in `compare`); `None` without latency.
    pub min_latency_samples: Option<u64>,
}

impl CaseFigures {
    /// The unit a metric of this case is stored in.
    pub fn unit(&self, metric: Metric) -> Unit {
        if metric == Metric::Throughput {
            self.throughput_unit
        } else {
            Unit::Nanoseconds
        }
    }
}

/// A run's figures: what `history add` stores.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFigures {
    /// loopbench's run id (`20261127T183705Z-4f2a`): a run is stored once under it.
    pub run_id: String,
    /// RFC 3339 UTC start time (`2026-11-27T18:37:05Z`); series are ordered by it.
    pub started_at: String,
    /// False when the run was interrupted or stopped early.
    pub complete: bool,
    /// The machine.
    pub environment: RunEnvironment,
    /// Commit measured, when known.
    pub commit: Option<String>,
    /// Branch, when known.
    pub branch: Option<String>,
    /// Free-form label (`--label`).
    pub label: Option<String>,
    /// The cases.
    pub cases: Vec<CaseFigures>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_has_its_published_test_vectors() {
        // From the FNV reference test suite (Fowler/Noll/Vo): "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_fingerprint_ignores_kernel_and_loopback_but_not_the_machine() {
        let a = RunEnvironment {
            host: "bench-01".into(),
            kernel: "6.18.0".into(),
            cpu_model: "AMD EPYC".into(),
            cpu_count: 2,
            virtualization: Some("KVM".into()),
            lo_settings: "mtu=65536".into(),
        };
        let tuned = RunEnvironment {
            kernel: "6.19.0".into(),
            lo_settings: "mtu=1500".into(),
            ..a.clone()
        };
        let bigger = RunEnvironment {
            cpu_count: 4,
            ..a.clone()
        };
        assert_eq!(a.machine_fingerprint(), tuned.machine_fingerprint());
        assert_ne!(a.machine_fingerprint(), bigger.machine_fingerprint());
        assert_eq!(a.machine_fingerprint().len(), 16);
    }
}
