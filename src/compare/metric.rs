//! Reading the gate's metrics from a workload's iterations, and the noise threshold of each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::spec::Workload;
pub use crate::store::metric::{Gating, Metric, Unit};
use crate::store::record::IterationRecord;
use crate::workload;

impl Metric {
    /// The unit of the metric for a workload (throughput: what the workload counts).
    pub fn unit(self, workload: Workload) -> Unit {
        match self {
            Metric::Throughput => workload::def(workload).throughput_unit(),
            _ => Unit::Nanoseconds,
        }
    }

    /// The metric's value in one iteration; `None` when the iteration has none (no latency
    /// samples for a `stream` case, no receiver CPU where the client counts).
    pub fn value(self, it: &IterationRecord, workload: Workload) -> Option<f64> {
        let def = workload::def(workload);
        let latency = |v: u64| (it.latency.count > 0).then_some(v as f64);
        match self {
            Metric::P50 => latency(it.latency.p50_ns),
            Metric::P99 => latency(it.latency.p99_ns),
            Metric::P999 => latency(it.latency.p999_ns),
            Metric::Throughput => Some(match def.throughput_unit() {
                Unit::BytesPerSec => it.bytes_per_sec,
                _ => it.msgs_per_sec,
            }),
            // The receiver is the side that counts; only a server that does is measured alone.
            Metric::ReceiverCpu => def
                .counted_by_server()
                .then_some(it.server.usage.cpu_ns_per_msg),
        }
    }
}

/// The noise threshold of every metric, as a fraction (0.05 = 5 %).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Thresholds(BTreeMap<Metric, f64>);

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds(
            Metric::ALL
                .iter()
                .map(|&m| (m, m.default_threshold()))
                .collect(),
        )
    }
}

impl Thresholds {
    /// The threshold of `metric`.
    pub fn get(&self, metric: Metric) -> f64 {
        self.0
            .get(&metric)
            .copied()
            .unwrap_or(metric.default_threshold())
    }

    /// Applies a `--threshold` value: a comma list of `PCT` (p50 and throughput) and
    /// `METRIC=PCT` items, in percent: `3`, `p99=20`, `3,p99=15,throughput=8`.
    pub fn apply(&mut self, spec: &str) -> Result<(), ConfigError> {
        for item in spec.split(',').map(str::trim) {
            let (metrics, pct) = match item.split_once('=') {
                Some((name, pct)) => (vec![name.parse::<Metric>()?], pct),
                None => (vec![Metric::P50, Metric::Throughput], item),
            };
            let pct: f64 = pct.trim().trim_end_matches('%').parse().map_err(|_| {
                ConfigError::Invalid(format!(
                    "--threshold '{item}': expected a percentage like 5, 2.5% or p99=15"
                ))
            })?;
            if !(pct.is_finite() && (0.0..100.0).contains(&pct)) {
                return Err(ConfigError::Invalid(format!(
                    "--threshold '{item}': the noise threshold must be at least 0 and below 100 percent"
                )));
            }
            for m in metrics {
                self.0.insert(m, pct / 100.0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_default_to_5_and_10_percent_and_take_overrides() {
        let mut t = Thresholds::default();
        assert_eq!(t.get(Metric::P50), 0.05);
        assert_eq!(t.get(Metric::P99), 0.10);
        t.apply("3,p99=20%").unwrap();
        assert_eq!(t.get(Metric::P50), 0.03);
        assert_eq!(t.get(Metric::Throughput), 0.03);
        assert_eq!(t.get(Metric::P99), 0.20);
        t.apply("throughput=8").unwrap();
        assert_eq!(t.get(Metric::Throughput), 0.08);
        assert_eq!(t.get(Metric::P50), 0.03);
    }

    #[test]
    fn bad_thresholds_name_the_item() {
        let mut t = Thresholds::default();
        let e = t.apply("p75=3").unwrap_err().to_string();
        assert!(e.contains("p75") && e.contains("p99.9"), "{e}");
        let e = t.apply("five").unwrap_err().to_string();
        assert!(e.contains("five"), "{e}");
        assert!(t.apply("150").is_err());
        assert!(t.apply("-1").is_err());
    }
}
