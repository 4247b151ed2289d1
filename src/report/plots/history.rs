//! A metric over commits: one point per run (in start order) with its interval as an error bar,
//! each segment between change points as a horizontal line at its median, and each change point
//! as a dashed vertical line. The x axis is the run's position, labelled with its short commit.

use anyhow::Result;
use plotters::prelude::*;

use super::style::{self, HEIGHT, LABEL_SIZE, MARGIN, TICK_SIZE, TITLE_SIZE};

/// One run's figure.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    /// Shown under the axis (a short commit, or the run's date).
    pub label: String,
    /// The figure, in display units.
    pub value: f64,
    /// Its interval (lower, upper), when the run has iterations.
    pub interval: Option<(f64, f64)>,
}

/// What the chart shows.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendChart {
    /// Title.
    pub title: String,
    /// Y axis description with its unit.
    pub y_label: String,
    /// The runs, oldest first.
    pub points: Vec<TrendPoint>,
    /// Index of the first run of each new segment.
    pub change_points: Vec<usize>,
    /// Per segment (start, end exclusive, median), in display units.
    pub segments: Vec<(usize, usize, f64)>,
}

/// Width: wider than the other charts, a history is long.
pub const TREND_WIDTH: u32 = 960;

/// Renders the chart as an SVG document.
pub fn render(chart: &TrendChart) -> Result<String> {
    let n = chart.points.len().max(1);
    let lows = chart
        .points
        .iter()
        .map(|p| p.interval.map_or(p.value, |i| i.0));
    let highs = chart
        .points
        .iter()
        .map(|p| p.interval.map_or(p.value, |i| i.1));
    let lo = lows.fold(f64::INFINITY, f64::min);
    let hi = highs.fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.01).max(1e-12);
    let (y0, y1) = ((lo - pad).max(0.0), hi + pad);
    let labels: Vec<String> = chart.points.iter().map(|p| p.label.clone()).collect();
    // x is the run's position × 10, in integers: plotters then puts its ticks on whole runs
    // (multiples of 10), and segments and change points can sit between runs.
    let x = |i: f64| (i * 10.0).round() as i64;
    style::svg(TREND_WIDTH, HEIGHT, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&chart.title, style::text(TITLE_SIZE))
            .margin(MARGIN)
            .margin_right(3 * MARGIN)
            .x_label_area_size(style::X_LABEL_AREA)
            .y_label_area_size(style::Y_LABEL_AREA + 10)
            .build_cartesian_2d(-5i64..(10 * n as i64 - 5), y0..y1)?;
        c.configure_mesh()
            .x_desc("run (commit), oldest first")
            .y_desc(&chart.y_label)
            .axis_desc_style(style::text(LABEL_SIZE))
            .label_style(style::text(TICK_SIZE))
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                if x.rem_euclid(10) != 0 {
                    return String::new();
                }
                labels.get((x / 10) as usize).cloned().unwrap_or_default()
            })
            .y_label_formatter(&|y| style::round2_label(*y))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        let bar = style::color(0);
        for (i, p) in chart.points.iter().enumerate() {
            if let Some((l, u)) = p.interval {
                let at = x(i as f64);
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(at, l), (at, u)],
                    bar.stroke_width(1),
                )))?;
            }
        }
        c.draw_series(
            chart
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| Circle::new((x(i as f64), p.value), 3, bar.filled())),
        )?
        .label("run (with its interval)")
        .legend(move |(x, y)| Circle::new((x + 9, y), 3, bar.filled()));
        let seg = style::color(1);
        for (k, &(start, end, median)) in chart.segments.iter().enumerate() {
            let line = vec![
                (x(start as f64 - 0.4), median),
                (x(end as f64 - 0.6), median),
            ];
            let drawn =
                c.draw_series(std::iter::once(PathElement::new(line, seg.stroke_width(3))))?;
            if k == 0 {
                drawn.label("segment median").legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], seg.stroke_width(3))
                });
            }
        }
        let cp = style::color(3);
        for (k, &i) in chart.change_points.iter().enumerate() {
            let at = x(i as f64 - 0.5);
            let drawn = c.draw_series(DashedLineSeries::new(
                vec![(at, y0), (at, y1)],
                6,
                4,
                cp.stroke_width(2),
            ))?;
            if k == 0 {
                drawn.label("change point").legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], cp.stroke_width(2))
                });
            }
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(style::text(TICK_SIZE))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_segment_and_change_point_is_drawn() {
        let points: Vec<TrendPoint> = (0..10)
            .map(|i| TrendPoint {
                label: format!("c{i}"),
                value: if i < 6 { 10.0 } else { 5.0 },
                interval: Some((
                    if i < 6 { 9.5 } else { 4.5 },
                    if i < 6 { 10.5 } else { 5.5 },
                )),
            })
            .collect();
        let svg = render(&TrendChart {
            title: "tcp4 stream".into(),
            y_label: "Gbit/s".into(),
            points,
            change_points: vec![6],
            segments: vec![(0, 6, 10.0), (6, 10, 5.0)],
        })
        .unwrap();
        assert_eq!(
            svg.matches("<circle").count(),
            10 + 1,
            "10 runs and the legend's marker"
        );
        assert!(
            svg.contains("\nc0\n") && svg.contains("\nc6\n"),
            "commits label the axis"
        );
        assert!(svg.contains("change point") && svg.contains("segment median"));
    }
}
