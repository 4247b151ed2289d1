//! The metrics the gate compares: how each is read from one iteration, which way is better, its
//! default noise threshold, and when it is gated at all.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::spec::Workload;
use crate::store::record::IterationRecord;

/// One compared figure of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Metric {
    /// Median latency of the iteration.
    #[serde(rename = "p50")]
    P50,
    /// 99th percentile latency of the iteration.
    #[serde(rename = "p99")]
    P99,
    /// 99.9th percentile latency of the iteration (reported, never gated).
    #[serde(rename = "p99.9")]
    P999,
    /// Messages per second (`rr`) or bytes per second (`stream`), counted where the workload
    /// counts them.
    #[serde(rename = "throughput")]
    Throughput,
    /// The receiver's CPU time per message (`stream`): what the path costs the receiving side,
    /// steadier than throughput when other load takes CPU time away. Studies compare it;
    /// `compare` reports the four above.
    #[serde(rename = "receiver-cpu")]
    ReceiverCpu,
}

/// When a metric takes part in the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gating {
    /// Always (given enough iterations).
    Always,
    /// Only when every iteration of both sides has at least this many latency samples: a tail
    /// percentile needs ~1000 samples beyond it to be stable from one iteration to the next.
    MinSamples(u64),
    /// Reported only.
    Never,
}

/// The unit a metric's values are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Nanoseconds (latency).
    Nanoseconds,
    /// Messages per second.
    MsgsPerSec,
    /// Bytes per second.
    BytesPerSec,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 4] = [Metric::P50, Metric::P99, Metric::P999, Metric::Throughput];

    /// The spelling in tables, JSON and `--threshold`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::P999 => "p99.9",
            Metric::Throughput => "throughput",
            Metric::ReceiverCpu => "receiver-cpu",
        }
    }

    /// True for latencies (a larger NEW is worse); false for throughput.
    pub fn lower_is_better(self) -> bool {
        self != Metric::Throughput
    }

    /// The default noise threshold as a fraction: 5 % for p50 and throughput, 10 % for tails.
    pub fn default_threshold(self) -> f64 {
        match self {
            Metric::P50 | Metric::Throughput | Metric::ReceiverCpu => 0.05,
            Metric::P99 | Metric::P999 => 0.10,
        }
    }

    /// When the metric is gated.
    pub fn gating(self) -> Gating {
        match self {
            Metric::P50 | Metric::Throughput | Metric::ReceiverCpu => Gating::Always,
            Metric::P99 => Gating::MinSamples(100_000),
            Metric::P999 => Gating::Never,
        }
    }

    /// The unit of the metric for a workload.
    pub fn unit(self, workload: Workload) -> Unit {
        match (self, workload) {
            (Metric::Throughput, Workload::Stream) => Unit::BytesPerSec,
            (Metric::Throughput, _) => Unit::MsgsPerSec,
            _ => Unit::Nanoseconds,
        }
    }

    /// The metric's value in one iteration; `None` when the iteration has none (no latency
    /// samples for a `stream` case).
    pub fn value(self, it: &IterationRecord, workload: Workload) -> Option<f64> {
        let latency = |v: u64| (it.latency.count > 0).then_some(v as f64);
        match self {
            Metric::P50 => latency(it.latency.p50_ns),
            Metric::P99 => latency(it.latency.p99_ns),
            Metric::P999 => latency(it.latency.p999_ns),
            Metric::Throughput => Some(match workload {
                Workload::Stream => it.bytes_per_sec,
                _ => it.msgs_per_sec,
            }),
            Metric::ReceiverCpu => {
                (workload == Workload::Stream).then_some(it.server.usage.cpu_ns_per_msg)
            }
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Metric, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "p50" | "median" => Ok(Metric::P50),
            "p99" => Ok(Metric::P99),
            "p99.9" | "p999" => Ok(Metric::P999),
            "throughput" | "msgs/s" | "bytes/s" => Ok(Metric::Throughput),
            "receiver-cpu" => Ok(Metric::ReceiverCpu),
            _ => Err(ConfigError::UnknownValue {
                dimension: "metric",
                value: s.to_string(),
                expected: "p50, p99, p99.9, throughput, receiver-cpu".into(),
            }),
        }
    }
}

/// The noise threshold of every metric, as a fraction (0.05 = 5 %).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

    #[test]
    fn metric_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::Value::String(m.name().into())
            );
        }
    }
}
