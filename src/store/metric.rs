//! The figures of a case that comparisons read from its records: their names, which way is
//! better, the default noise threshold and when each is gated. How a metric is read from a
//! workload's iterations is in `compare::metric`; which metrics a workload is compared on is in
//! its workload file.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// One compared figure of a case.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
