//! The study's chart: one per case and figure, every variant's per-iteration samples in the order
//! they ran, round by round, so variants sit side by side and drift over the rounds shows.
//! Drawn with the report's line-chart renderer.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::report::plots::axis::{Axis, Scale};
use crate::report::plots::lines::{Legend, LineChart, Series, render};
use crate::report::plots::style;

/// One variant's samples: (round, value in the figure's plotting unit).
pub type RoundSamples = Vec<(u32, f64)>;

/// Two decimals (GiB/s).
pub fn gib_label(v: f64) -> String {
    format!("{v:.2}")
}

/// Whole numbers (ns).
pub fn ns_label(v: f64) -> String {
    format!("{v:.0}")
}

fn round_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// How a figure is drawn: y axis and the factor from stored values to plotted ones.
pub struct FigureAxis {
    /// Y axis label with its unit.
    pub label: &'static str,
    /// Stored value × this = plotted value.
    pub scale: f64,
    /// Log scale (latencies) or linear.
    pub log: bool,
    /// Tick labels.
    pub format: fn(f64) -> String,
}

fn y_axis(a: &FigureAxis) -> Axis {
    let scale = if a.log { Scale::Log } else { Scale::Linear };
    Axis::new(a.label, scale, a.format)
}

/// The chart of one case and figure; `variants` in study order (the baseline first).
pub fn chart(title: &str, axis: &FigureAxis, variants: &[(String, RoundSamples)]) -> LineChart {
    let series = variants
        .iter()
        .enumerate()
        .map(|(i, (name, samples))| {
            let mut per_round: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
            for &(r, v) in samples {
                per_round.entry(r).or_default().push(v * axis.scale);
            }
            // Spread a round's iterations over [round - 0.3, round + 0.3], in the order they ran.
            let points = per_round
                .into_iter()
                .flat_map(|(r, vs)| {
                    let n = vs.len();
                    vs.into_iter().enumerate().map(move |(k, v)| {
                        let off = if n > 1 {
                            -0.3 + 0.6 * k as f64 / (n - 1) as f64
                        } else {
                            0.0
                        };
                        (f64::from(r) + off, v)
                    })
                })
                .collect();
            let mut s = Series::new(name.clone(), style::color(i), points);
            s.markers = true;
            s.width = if i == 0 { 3 } else { 1 };
            s
        })
        .collect();
    LineChart {
        title: title.to_string(),
        x: Axis::new(
            "round (iterations in the order they ran)",
            Scale::Linear,
            round_label,
        ),
        y: y_axis(axis),
        series,
        legend: Legend::UpperRight,
        note: Some("first variant (thick) is the baseline".into()),
    }
}

/// Renders the chart as SVG.
pub fn svg(title: &str, axis: &FigureAxis, variants: &[(String, RoundSamples)]) -> Result<String> {
    render(&chart(title, axis, variants))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_is_a_series_with_its_samples_placed_by_round() {
        let axis = FigureAxis {
            label: "throughput (GiB/s)",
            scale: 1.0,
            log: false,
            format: gib_label,
        };
        let v = vec![
            ("base".to_string(), vec![(1, 2.0), (1, 2.1), (2, 2.2)]),
            ("mtu1500".to_string(), vec![(1, 1.0), (2, 1.1)]),
        ];
        let c = chart("t", &axis, &v);
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.series[0].points, vec![(0.7, 2.0), (1.3, 2.1), (2.0, 2.2)]);
        let svg = render(&c).unwrap();
        assert!(
            svg.contains("mtu1500") && svg.starts_with("<svg"),
            "{}",
            &svg[..80]
        );
    }
}
