//! Latency histograms: nanoseconds, 1 ns .. 60 s, 3 significant digits, sized up front so
//! recording never allocates, and the summary every result carries.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency a histogram can hold: 60 s in nanoseconds. Larger values saturate.
pub const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// Significant decimal digits kept (0.1 % relative error).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in nanoseconds.
pub type LatencyHistogram = Histogram<u64>;

/// Bytes one latency histogram allocates (its counts: 27 648 `u64`s for 1 ns .. 60 s at 3
/// significant digits), for the memory check before a run.
pub const HISTOGRAM_BYTES: u64 = 27_648 * 8;

/// A new, empty latency histogram with all its buckets allocated.
pub fn new_histogram() -> LatencyHistogram {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// Records one latency; values outside 1 ns .. 60 s are clamped so the hot loop never fails.
///
/// `saturating_record` touches one pre-allocated counter: no allocation, no lock (about 3 ns
/// here, see `cargo bench --bench harness`).
#[inline(always)]
pub fn record(h: &mut LatencyHistogram, latency_ns: u64) {
    h.saturating_record(latency_ns.max(1));
}

/// The distribution of a histogram, as stored in results: all latencies in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample.
    pub min_ns: u64,
    /// Mean.
    pub mean_ns: f64,
    /// Standard deviation.
    pub stddev_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// 99.99th percentile.
    pub p9999_ns: u64,
    /// Largest sample.
    pub max_ns: u64,
}

impl LatencySummary {
    /// Summarises a histogram; an empty histogram gives all zeros.
    pub fn of(h: &LatencyHistogram) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary::default();
        }
        let q = |p: f64| h.value_at_quantile(p);
        LatencySummary {
            count: h.len(),
            min_ns: h.min(),
            mean_ns: h.mean(),
            stddev_ns: h.stdev(),
            p50_ns: q(0.50),
            p90_ns: q(0.90),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            p9999_ns: q(0.9999),
            max_ns: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stated_size_of_a_histogram_is_its_real_size() {
        assert_eq!(
            new_histogram().distinct_values() as u64 * 8,
            HISTOGRAM_BYTES
        );
    }

    #[test]
    fn summary_of_a_known_distribution() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            record(&mut h, v * 1000);
        }
        let s = LatencySummary::of(&h);
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min_ns, 1000);
        let close = |got: u64, want: u64| (got as f64 - want as f64).abs() / want as f64 <= 0.001;
        assert!(close(s.p50_ns, 5_000_000), "{}", s.p50_ns);
        assert!(close(s.p90_ns, 9_000_000), "{}", s.p90_ns);
        assert!(close(s.p99_ns, 9_900_000), "{}", s.p99_ns);
        assert!(close(s.p999_ns, 9_990_000), "{}", s.p999_ns);
        assert!(close(s.max_ns, 10_000_000), "{}", s.max_ns);
        assert!(
            (s.mean_ns - 5_000_500.0).abs() / 5_000_500.0 < 0.001,
            "{}",
            s.mean_ns
        );
    }

    #[test]
    fn empty_histogram_summarises_to_zero() {
        assert_eq!(
            LatencySummary::of(&new_histogram()),
            LatencySummary::default()
        );
    }

    #[test]
    fn out_of_range_values_saturate_instead_of_failing() {
        let mut h = new_histogram();
        record(&mut h, 0);
        record(&mut h, u64::MAX);
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 1);
        assert!(h.max() >= MAX_LATENCY_NS);
    }

    #[test]
    fn recording_does_not_grow_the_histogram() {
        let mut h = new_histogram();
        let before = h.distinct_values();
        for v in [1u64, 1_000, 1_000_000, 59_000_000_000] {
            record(&mut h, v);
        }
        assert_eq!(h.distinct_values(), before);
    }
}
