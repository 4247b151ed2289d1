//! The latency percentile spectrum (HdrHistogram's plot): x = percentile on a "nines" axis up to
//! 99.999 %, y = latency on a log axis. Per case (every iteration faint, the merged histogram
//! bold) and as an overlay of the cases of one group.

use super::axis::{Axis, MAX_NINES, Scale, percent_label};
use super::lines::{Legend, LineChart, Series, by_transport};
use super::style;
use crate::metrics::histogram::LatencyHistogram;
use crate::report::data::{Group, RunData};

/// Points per factor of ten on the percentile axis.
pub const STEPS_PER_NINE: u32 = 20;

/// The spectrum of `h` as (percentile as a fraction, latency in µs), from the minimum up to the
/// highest percentile its sample count resolves (1 − 1/N, at most 99.999 %): beyond that a
/// histogram only repeats its maximum.
pub fn points(h: &LatencyHistogram) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let resolved = (h.len() as f64).log10().min(MAX_NINES);
    let steps = (resolved * f64::from(STEPS_PER_NINE)).floor() as u32;
    let mut xs: Vec<f64> = (0..=steps)
        .map(|i| f64::from(i) / f64::from(STEPS_PER_NINE))
        .collect();
    if xs.last().is_some_and(|x| *x < resolved) {
        xs.push(resolved);
    }
    xs.into_iter()
        .map(|x| {
            let q = 1.0 - 10f64.powf(-x);
            (q, h.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect()
}

fn chart(title: String, series: Vec<Series>, note: Option<String>) -> LineChart {
    LineChart {
        title,
        x: Axis::new("percentile", Scale::Nines, percent_label)
            .bounded(0.0, 1.0 - 10f64.powf(-MAX_NINES)),
        y: Axis::new("round-trip latency (µs)", Scale::Log, style::us_label),
        series,
        legend: Legend::UpperLeft,
        note,
    }
}

/// One case: each iteration as a faint line, the merged histogram bold on top.
pub fn for_case(data: &RunData, case: usize) -> Option<LineChart> {
    let h = &data.histograms[case];
    let merged = h.merged_if_any()?;
    let c = &data.record.cases[case];
    let mut series: Vec<Series> = h
        .iterations
        .iter()
        .enumerate()
        .map(|(i, it)| Series {
            label: (i == 0).then(|| "single iterations".to_string()),
            color: style::FAINT,
            width: 1,
            ..Series::new("", style::FAINT, points(it))
        })
        .collect();
    series.push(Series::new(
        format!("all {} iterations", h.iterations.len()),
        style::transport_color(c.spec.transport),
        points(merged),
    ));
    let note = format!(
        "{} round trips; lines end at the highest percentile their sample count resolves",
        merged.len()
    );
    Some(chart(
        format!("{}: percentile spectrum", c.case_id),
        series,
        Some(note),
    ))
}

/// The cases of a group on one chart, one colour per transport.
pub fn overlay(data: &RunData, group: &Group) -> Option<LineChart> {
    let series = by_transport(data, group, points);
    (!series.is_empty()).then(|| chart(format!("{}: percentile spectrum", group.key), series, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{new_histogram, record};

    #[test]
    fn the_plotted_points_are_the_known_percentiles_of_a_synthetic_histogram() {
        // 100 000 latencies of 1..=100 000 ns: the q-th percentile is q · 100 µs.
        let mut h = new_histogram();
        for v in 1..=100_000u64 {
            record(&mut h, v);
        }
        let pts = points(&h);
        assert_eq!(pts.len(), 5 * STEPS_PER_NINE as usize + 1, "0 to 99.999 %");
        let at = |q: f64| pts.iter().find(|(p, _)| (p - q).abs() < 1e-9).unwrap().1;
        for q in [0.9, 0.99, 0.999, 0.9999, 0.99999] {
            let want = q * 100.0;
            assert!(
                (at(q) - want).abs() / want < 0.001,
                "p{q}: {} vs {want}",
                at(q)
            );
        }
        assert!((at(0.0) - 0.001).abs() < 1e-9, "x = 0 is the minimum");
        let axis = chart(String::new(), Vec::new(), None).x;
        assert!(
            (axis.position(pts[2 * STEPS_PER_NINE as usize].0).unwrap() - 2.0).abs() < 1e-9,
            "99 % sits at 2 on the nines axis"
        );
    }

    #[test]
    fn lines_stop_where_the_sample_count_stops_resolving() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            record(&mut h, v * 1000);
        }
        let pts = points(&h);
        let last = pts.last().unwrap();
        assert!(
            (last.0 - 0.999).abs() < 1e-9,
            "1000 samples resolve 99.9 %: {last:?}"
        );
        assert!(points(&new_histogram()).is_empty());
    }
}
