//! Sweeps' response curves: per sweep, case and figure, the figure's median with its 95 %
//! interval against the swept setting, and CPU per message (client + server) on a second panel;
//! a table of the points and a sentence naming the smallest value that reaches 95 % of the best
//! effect against the baseline.

use anyhow::Result;

use super::figure::Figure;
use super::samples::{Collected, VariantSamples};
use crate::compare::gate::{DEFAULT_CONFIDENCE, DEFAULT_SEED};
use crate::report::plots::axis::{Axis, Scale};
use crate::report::plots::lines::{Legend, LineChart, Series, render_panels};
use crate::report::plots::style;
use crate::spec::CaseId;
use crate::stats::{Estimate, median_with_interval_clustered};
use crate::study::plot::ns_label;
use crate::study::sweep::Sweep;

/// Resamples per point's interval.
const RESAMPLES: usize = 2_000;

/// Share of the best effect the sentence asks for.
const ENOUGH: f64 = 0.95;

/// The columns of a curve's table (the first is the setting's name).
pub const CURVE_HEADER: [&str; 4] = [
    "variant",
    "median [95% CI]",
    "change vs baseline",
    "CPU/msg client+server [95% CI]",
];

/// One sweep's curve for one case and figure.
pub struct SweepCurve {
    /// `<setting> — <case> — <figure>`.
    pub title: String,
    /// The swept setting (the table's first column).
    pub setting: String,
    /// The chart's file name under `plots/`.
    pub chart_file: String,
    /// The chart (SVG, two panels).
    pub chart_svg: String,
    /// One row per point: the value, then [`CURVE_HEADER`].
    pub rows: Vec<Vec<String>>,
    /// The smallest value reaching 95 % of the best effect, in a sentence.
    pub finding: String,
}

impl SweepCurve {
    /// The table's header: the setting, then [`CURVE_HEADER`].
    pub fn header(&self) -> Vec<&str> {
        std::iter::once(self.setting.as_str())
            .chain(CURVE_HEADER)
            .collect()
    }
}

/// A point's median with its interval, in the figure's stored unit.
pub(super) fn estimate(s: &VariantSamples, seed: u64) -> Option<Estimate> {
    let g = s.samples();
    median_with_interval_clustered(&g.clusters(), DEFAULT_CONFIDENCE, seed, RESAMPLES).ok()
}

/// `1k`, `200k`, `1.5M`: compact setting values for an axis.
fn count_label(v: f64) -> String {
    let trim = |x: f64| {
        let s = format!("{x:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    match v.abs() {
        a if a >= 1e6 => format!("{}M", trim(v / 1e6)),
        a if a >= 1e3 => format!("{}k", trim(v / 1e3)),
        _ => trim(v),
    }
}

/// The smallest value whose effect reaches [`ENOUGH`] of the best one: `(value, best value,
/// best ratio to the reference)`; `None` when no point improves on the reference. `points` are
/// (value, median) in ascending value order.
pub fn knee(
    points: &[(i64, f64)],
    reference: f64,
    lower_is_better: bool,
) -> Option<(i64, i64, f64)> {
    let effect = |m: f64| {
        if lower_is_better {
            reference - m
        } else {
            m - reference
        }
    };
    let (best_value, best) = points
        .iter()
        .copied()
        .max_by(|a, b| effect(a.1).total_cmp(&effect(b.1)))?;
    if effect(best).is_nan() || effect(best) <= 0.0 || reference <= 0.0 {
        return None;
    }
    let first = points
        .iter()
        .find(|&&(_, m)| effect(m) >= ENOUGH * effect(best))?;
    Some((first.0, best_value, best / reference))
}

fn interval_series(
    label: &str,
    color: plotters::style::RGBColor,
    pts: &[(f64, Estimate)],
    scale: f64,
) -> Vec<Series> {
    let line = |f: fn(&Estimate) -> f64, label: Option<String>| {
        let mut s = Series::new(
            String::new(),
            color,
            pts.iter().map(|(x, e)| (*x, f(e) * scale)).collect(),
        );
        s.label = label;
        s
    };
    let mut mid = line(|e| e.point, Some(label.to_string()));
    mid.markers = true;
    let mut lo = line(
        |e| e.confidence_interval.lower_bound,
        Some("95% interval".into()),
    );
    let mut hi = line(|e| e.confidence_interval.upper_bound, None);
    lo.dashed = true;
    hi.dashed = true;
    lo.width = 1;
    hi.width = 1;
    vec![mid, lo, hi]
}

/// Every sweep's curves for every case and figure of the study.
/// `better(case, figure, variant)` says whether the gate found the variant better than the
/// baseline (significant and beyond the noise threshold).
pub fn build(
    sweeps: &[Sweep],
    names: &[String],
    c: &Collected,
    better: &dyn Fn(&CaseId, Figure, &str) -> bool,
) -> Result<Vec<SweepCurve>> {
    let mut out = Vec::new();
    for sweep in sweeps {
        for ((case, figure), by_variant) in &c.samples {
            let extras = c.extras.get(case);
            let mut pts = Vec::new();
            let mut cpu = Vec::new();
            let mut rows = Vec::new();
            let base = by_variant
                .get(&names[0])
                .and_then(|s| estimate(s, DEFAULT_SEED));
            for (k, p) in sweep.points.iter().enumerate() {
                let x = p.value as f64;
                let e = by_variant
                    .get(&p.variant)
                    .and_then(|s| estimate(s, DEFAULT_SEED ^ k as u64));
                let cost = extras
                    .and_then(|e| e.get(&p.variant))
                    .and_then(|e| estimate(&e.cpu_per_msg, DEFAULT_SEED ^ k as u64));
                rows.push(vec![
                    p.value.to_string(),
                    p.variant.clone(),
                    e.as_ref().map_or("-".into(), |e| shown(*figure, e)),
                    match (&e, &base) {
                        (Some(e), Some(b)) if b.point > 0.0 => {
                            super::verdicts::signed_pct(e.point / b.point)
                        }
                        _ => "-".into(),
                    },
                    cost.as_ref().map_or("-".into(), |e| {
                        let ci = e.confidence_interval;
                        format!(
                            "{:.0} ns [{:.0}, {:.0}]",
                            e.point, ci.lower_bound, ci.upper_bound
                        )
                    }),
                ]);
                if let Some(e) = e {
                    pts.push((x, e));
                }
                if let Some(c) = cost {
                    cpu.push((x, c));
                }
            }
            if pts.is_empty() {
                continue;
            }
            let title = format!("{} — {case} — {}", sweep.setting, figure.name());
            let better = |variant: &str| better(case, *figure, variant);
            let finding = finding(sweep, *figure, &pts, base.as_ref(), &names[0], &better);
            let chart_file = format!(
                "sweep-{}-{case}-{}.svg",
                sweep.setting.replace(['.', '/'], "_"),
                figure.slug()
            );
            let chart_svg = render_panels(&charts(
                sweep,
                *figure,
                &title,
                &pts,
                &cpu,
                base.as_ref(),
                &names[0],
            ))?;
            out.push(SweepCurve {
                title,
                setting: sweep.setting.clone(),
                chart_file,
                chart_svg,
                rows,
                finding,
            });
        }
    }
    Ok(out)
}

/// `12.1 [11.8, 12.5]` in the figure's own way of showing values.
fn shown(figure: Figure, e: &Estimate) -> String {
    let ci = e.confidence_interval;
    format!(
        "{} [{}, {}]",
        figure.show(e.point),
        figure.show(ci.lower_bound),
        figure.show(ci.upper_bound)
    )
}

/// The sentence under a curve.
fn finding(
    sweep: &Sweep,
    figure: Figure,
    pts: &[(f64, Estimate)],
    base: Option<&Estimate>,
    base_name: &str,
    better: &dyn Fn(&str) -> bool,
) -> String {
    let Some(base) = base else {
        return format!("No baseline ({base_name}) samples: no effect to measure.");
    };
    let medians: Vec<(i64, f64)> = pts.iter().map(|(x, e)| (*x as i64, e.point)).collect();
    match knee(&medians, base.point, figure.metric().lower_is_better()) {
        None => format!(
            "No value of {} improved {} on the baseline ({base_name}).",
            sweep.setting,
            figure.short()
        ),
        Some((_, best, ratio))
            if !sweep
                .points
                .iter()
                .any(|p| p.value == best && better(&p.variant)) =>
        {
            format!(
                "No value of {} changed {} beyond the noise against the baseline ({base_name}): \
                 the best point estimate, {} at {} = {best}, is not a significant improvement.",
                sweep.setting,
                figure.short(),
                super::verdicts::signed_pct(ratio),
                sweep.setting
            )
        }
        Some((first, best, ratio)) => format!(
            "{} = {first} reaches 95 % of the best effect on {} ({} at {} = {best}, against the \
             baseline {base_name}; point estimates, see the intervals).",
            sweep.setting,
            figure.short(),
            super::verdicts::signed_pct(ratio),
            sweep.setting
        ),
    }
}

/// The figure's panel and the CPU panel.
fn charts(
    sweep: &Sweep,
    figure: Figure,
    title: &str,
    pts: &[(f64, Estimate)],
    cpu: &[(f64, Estimate)],
    base: Option<&Estimate>,
    base_name: &str,
) -> Vec<LineChart> {
    let x = || {
        let scale = if sweep.log { Scale::Log } else { Scale::Linear };
        Axis::new(&sweep.setting, scale, count_label)
    };
    let axis = figure.axis();
    let mut series = interval_series("median", style::color(0), pts, axis.scale);
    let in_sweep = sweep.points.iter().any(|p| p.variant == base_name);
    if let (Some(b), false) = (base, in_sweep) {
        let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
        let mut s = Series::new(
            format!("baseline ({base_name})"),
            style::REFERENCE,
            vec![(x0, b.point * axis.scale), (x1, b.point * axis.scale)],
        );
        s.dashed = true;
        series.push(s);
    }
    let scale = if axis.log { Scale::Log } else { Scale::Linear };
    let mut out = vec![LineChart {
        title: title.to_string(),
        x: x(),
        y: Axis::new(axis.label, scale, axis.format),
        series,
        legend: Legend::UpperRight,
        note: Some(
            "median of the iterations with its 95% interval (rounds, then iterations resampled)"
                .into(),
        ),
    }];
    if !cpu.is_empty() {
        out.push(LineChart {
            title: "CPU per message, client + server".into(),
            x: x(),
            y: Axis::new("CPU time per message (ns)", Scale::Linear, ns_label),
            series: interval_series("CPU/msg", style::color(1), cpu, 1.0),
            legend: Legend::UpperRight,
            note: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knee_is_the_smallest_value_within_95_percent_of_the_best_effect() {
        // Latency 60 → 20 µs: best effect 40 at 200; 95 % of it (38) first reached at 100 (21).
        let pts = [(0, 60.0), (25, 40.0), (50, 30.0), (100, 21.0), (200, 20.0)];
        assert_eq!(knee(&pts, 60.0, true), Some((100, 200, 20.0 / 60.0)));
        // Throughput: higher is better.
        let pts = [(1, 1.0), (2, 1.96), (3, 2.0)];
        assert_eq!(knee(&pts, 1.0, false), Some((2, 3, 2.0)));
        // Nothing better than the reference.
        assert_eq!(knee(&[(1, 70.0), (2, 65.0)], 60.0, true), None);
        assert_eq!(knee(&[], 60.0, true), None);
    }

    #[test]
    fn setting_values_are_compact_on_the_axis() {
        assert_eq!(count_label(25.0), "25");
        assert_eq!(count_label(200_000.0), "200k");
        assert_eq!(count_label(1_500_000.0), "1.5M");
    }
}
