//! The renderer behind every line chart (spectrum, CDF, time series, throughput, efficiency):
//! series of points on two [`Axis`]es, a legend and an optional note; and the series of a group
//! of cases, one per transport (the spectrum and CDF overlays).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, Ticked};
use super::style::{self, HEIGHT, LABEL_SIZE, MARGIN, TICK_SIZE, TITLE_SIZE, WIDTH};
use crate::metrics::histogram::LatencyHistogram;
use crate::report::data::{Group, RunData};

/// One line.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text; `None` keeps it out of the legend.
    pub label: Option<String>,
    /// Colour.
    pub color: RGBColor,
    /// Stroke width.
    pub width: u32,
    /// Dashed (reference lines).
    pub dashed: bool,
    /// Draw a dot at every point (few points).
    pub markers: bool,
    /// The points, in values (not positions).
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A solid line of normal width.
    pub fn new(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: Some(label.into()),
            color,
            width: style::LINE_WIDTH,
            dashed: false,
            markers: false,
            points,
        }
    }
}

/// Where the legend goes: where the lines are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    /// Top left.
    UpperLeft,
    /// Bottom right.
    LowerRight,
    /// Top right.
    UpperRight,
}

/// Everything a line chart shows.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Title.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// The lines, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// Legend position.
    pub legend: Legend,
    /// A note under the title (e.g. what the data cannot resolve).
    pub note: Option<String>,
}

impl LineChart {
    /// The points of every series in plotting positions (points the axes cannot show dropped).
    pub fn positions(&self) -> Vec<Vec<(f64, f64)>> {
        self.series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .filter_map(|&(x, y)| Some((self.x.position(x)?, self.y.position(y)?)))
                    .collect()
            })
            .collect()
    }
}

/// Renders `chart` as an SVG document.
pub fn render(chart: &LineChart) -> Result<String> {
    style::svg(WIDTH, HEIGHT, |root| draw(chart, root))
}

/// Renders `charts` as panels of one SVG document, one above the other (a figure and its cost).
pub fn render_panels(charts: &[LineChart]) -> Result<String> {
    let n = charts.len().max(1);
    style::svg(WIDTH, HEIGHT * n as u32, |root| {
        for (chart, area) in charts.iter().zip(root.split_evenly((n, 1))) {
            draw(chart, &area)?;
        }
        Ok(())
    })
}

/// Draws `chart` on `root` (an area of [`WIDTH`] × [`HEIGHT`]).
fn draw(chart: &LineChart, root: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<()> {
    let positions = chart.positions();
    let (x0, x1) = chart.x.range(positions.iter().flatten().map(|p| p.0));
    let (y0, y1) = chart.y.range(positions.iter().flatten().map(|p| p.1));
    {
        let mut area = root.clone();
        if let Some(note) = &chart.note {
            area.draw(&Text::new(
                note.clone(),
                (Y_OFFSET, HEIGHT as i32 - 16),
                style::text(TICK_SIZE).color(&style::REFERENCE),
            ))?;
            area = area.margin(0, 18, 0, 0);
        }
        let mut c = ChartBuilder::on(&area)
            .caption(&chart.title, style::text(TITLE_SIZE))
            .margin(MARGIN)
            .margin_right(3 * MARGIN)
            .x_label_area_size(style::X_LABEL_AREA)
            .y_label_area_size(style::Y_LABEL_AREA)
            .build_cartesian_2d(
                Ticked {
                    range: x0..x1,
                    ticks: chart.x.ticks(x0, x1),
                },
                Ticked {
                    range: y0..y1,
                    ticks: chart.y.ticks(y0, y1),
                },
            )?;
        let (fx, fy) = (chart.x.format, chart.y.format);
        let (ax, ay) = (chart.x.clone(), chart.y.clone());
        c.configure_mesh()
            .x_desc(&chart.x.label)
            .y_desc(&chart.y.label)
            .axis_desc_style(style::text(LABEL_SIZE))
            .label_style(style::text(TICK_SIZE))
            .x_label_formatter(&move |p| fx(ax.value(*p)))
            .y_label_formatter(&move |p| fy(ay.value(*p)))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for (s, pts) in chart.series.iter().zip(&positions) {
            let line = s.color.stroke_width(s.width);
            let drawn = if s.dashed {
                c.draw_series(DashedLineSeries::new(pts.iter().copied(), 8, 5, line))?
            } else {
                c.draw_series(LineSeries::new(pts.iter().copied(), line))?
            };
            if let Some(label) = &s.label {
                let color = s.color;
                drawn.label(label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            }
            if s.markers {
                c.draw_series(pts.iter().map(|&p| Circle::new(p, 3, s.color.filled())))?;
            }
        }
        if chart.series.iter().any(|s| s.label.is_some()) {
            c.configure_series_labels()
                .position(match chart.legend {
                    Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                    Legend::LowerRight => SeriesLabelPosition::LowerRight,
                    Legend::UpperRight => SeriesLabelPosition::UpperRight,
                })
                .label_font(style::text(TICK_SIZE))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .draw()?;
        }
        Ok(())
    }
}

/// Left edge of notes, aligned with the plotting area.
const Y_OFFSET: i32 = (style::Y_LABEL_AREA + MARGIN) as i32;

/// One line per case of `group` that has a histogram, labelled and coloured by its transport.
pub fn by_transport(
    data: &RunData,
    group: &Group,
    points: fn(&LatencyHistogram) -> Vec<(f64, f64)>,
) -> Vec<Series> {
    group
        .cases
        .iter()
        .filter_map(|&i| {
            let merged = data.histograms[i].merged_if_any()?;
            let t = data.record.cases[i].spec.transport;
            Some(Series::new(
                t.as_str(),
                style::transport_color(t),
                points(merged),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::axis::Scale;

    #[test]
    fn renders_an_svg_with_the_title_labels_legend_and_lines() {
        let chart = LineChart {
            title: "demo".into(),
            x: Axis::new("size", Scale::Log, |v| format!("{v}")),
            y: Axis::new("rate", Scale::Linear, |v| format!("{v}")),
            series: vec![
                Series::new(
                    "one",
                    style::color(0),
                    vec![(1.0, 1.0), (10.0, 2.0), (100.0, 3.0)],
                ),
                Series {
                    dashed: true,
                    markers: true,
                    ..Series::new("ref", style::color(1), vec![(1.0, 3.0), (100.0, 3.0)])
                },
            ],
            legend: Legend::UpperLeft,
            note: Some("a note".into()),
        };
        let svg = render(&chart).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        let texts = crate::report::plots::texts(&svg);
        for text in [
            "demo", "size", "rate", "one", "ref", "a note", "1", "10", "100",
        ] {
            assert!(
                texts.iter().any(|t| t == text),
                "missing {text} in {texts:?}"
            );
        }
        assert!(svg.contains("<polyline"));
    }
}
