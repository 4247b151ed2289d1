//! The latency CDF of the cases of one group: x = latency (log), y = fraction of round trips at
//! or below it.

use super::axis::{Axis, Scale, percent_label};
use super::lines::{Legend, LineChart, by_transport};
use super::style;
use crate::metrics::histogram::LatencyHistogram;
use crate::report::data::{Group, RunData};

/// Points per CDF line, spaced evenly on the log latency axis.
pub const POINTS: usize = 200;

/// The CDF of `h` as (latency in µs, fraction ≤ it), from its minimum to its maximum.
pub fn points(h: &LatencyHistogram) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let (lo, hi) = ((h.min().max(1)) as f64, h.max().max(1) as f64);
    let (a, b) = (lo.log10(), hi.log10().max(lo.log10()));
    (0..POINTS)
        .map(|i| {
            let v = 10f64.powf(a + (b - a) * i as f64 / (POINTS - 1) as f64);
            (v / 1000.0, h.quantile_below(v.round() as u64))
        })
        .collect()
}

/// The CDFs of a group's cases, one colour per transport.
pub fn chart(data: &RunData, group: &Group) -> Option<LineChart> {
    let series = by_transport(data, group, points);
    (!series.is_empty()).then(|| LineChart {
        title: format!("{}: latency CDF", group.key),
        x: Axis::new("round-trip latency (µs)", Scale::Log, style::us_label),
        y: Axis::new("round trips at or below", Scale::Linear, percent_label).bounded(0.0, 1.0),
        series,
        legend: Legend::LowerRight,
        note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{new_histogram, record};

    #[test]
    fn the_cdf_of_a_uniform_histogram_is_a_straight_line() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            record(&mut h, v * 1000);
        }
        let pts = points(&h);
        assert_eq!(pts.len(), POINTS);
        assert!(
            (pts[0].0 - 1.0).abs() < 0.01 && pts[0].1 < 0.001,
            "{:?}",
            pts[0]
        );
        assert_eq!(pts.last().unwrap().1, 1.0);
        for &(us, q) in &pts {
            assert!((q - us / 10_000.0).abs() < 0.002, "{us} µs at {q}");
        }
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    }
}
