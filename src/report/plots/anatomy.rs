//! The loopback anatomy chart: one waterfall panel per placement (rows) and engine (columns).
//! Each bar is a layer of the round trip: it starts where the transport below it ends (floor at
//! 0, wake-up at the `shm` median, ...) and its whisker is the layer's uncertainty. A layer whose
//! cases the run lacks is marked missing, with the case ids under the panel.

use anyhow::Result;
use plotters::prelude::*;

use super::axis::{Axis, Scale, Ticked};
use super::style::{self, LABEL_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::report::anatomy::{Anatomy, Layer, Panel, absent};
use crate::text::us;

/// Width of the whole chart.
pub const WIDTH: u32 = 960;
/// Height of one row of panels.
pub const ROW_HEIGHT: u32 = 330;
/// Height of the title band.
const TITLE_BAND: u32 = 40;

/// The short name under a bar.
fn short(layer: Layer) -> &'static str {
    match layer {
        Layer::Floor => "floor",
        Layer::Wakeup => "wake-up",
        Layer::Socket => "socket",
        Layer::Tcp => "TCP/IP",
        Layer::Udp => "UDP/IP",
    }
}

/// The colour of a layer, the same in every panel.
pub fn layer_color(layer: Layer) -> RGBColor {
    match layer {
        Layer::Floor => style::color(7),
        Layer::Wakeup => style::color(1),
        Layer::Socket => style::color(2),
        Layer::Tcp => style::color(0),
        Layer::Udp => style::color(4),
    }
}

/// The panel's y range in µs: every bar, whisker and base, with room for labels.
fn y_range(panel: &Panel) -> (f64, f64) {
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for s in &panel.steps {
        for v in [
            Some(s.base_ns),
            s.estimate.map(|e| s.base_ns + e.low_ns),
            s.estimate.map(|e| s.base_ns + e.high_ns),
        ]
        .into_iter()
        .flatten()
        {
            lo = lo.min(v / 1000.0);
            hi = hi.max(v / 1000.0);
        }
    }
    let hi = if hi <= 0.0 { 1.0 } else { hi };
    (
        lo - (hi - lo) * 0.05 * f64::from(u8::from(lo < 0.0)),
        hi * 1.18,
    )
}

/// The panel's line for [`Panel::caveat`], short enough for one panel's width.
const SCHEDULER_CAVEAT: &str = "two busy pollers on one CPU: this measures the scheduler tick";

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let missing = panel.missing();
    let caveat = panel.caveat().map(|_| SCHEDULER_CAVEAT);
    let foot_lines = missing.len().min(3) + usize::from(caveat.is_some());
    let (body, foot) = area.split_vertically(area.dim_in_pixel().1 - 18 * foot_lines as u32);
    let (y0, y1) = y_range(panel);
    let n = Layer::ALL.len() as f64;
    let total = panel
        .steps
        .iter()
        .find(|s| s.layer == Layer::Tcp)
        .and_then(|s| s.estimate.map(|e| (s.base_ns + e.point_ns) / 1000.0));
    let caption = match total {
        Some(t) => format!(
            "{}, {}: tcp4 round trip {} µs",
            panel.placement,
            panel.engine,
            us(t * 1000.0)
        ),
        None => format!("{}, {}", panel.placement, panel.engine),
    };
    let mut c = ChartBuilder::on(&body)
        .caption(caption, style::text(LABEL_SIZE))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(52)
        .build_cartesian_2d(
            Ticked {
                range: -0.5..n - 0.5,
                ticks: (0..Layer::ALL.len()).map(|i| i as f64).collect(),
            },
            Ticked {
                range: y0..y1,
                ticks: Axis::new("", Scale::Linear, style::us_label).ticks(y0, y1),
            },
        )?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| {
            Layer::ALL
                .get(x.round() as usize)
                .map(|l| short(*l))
                .unwrap_or("")
                .to_string()
        })
        .y_label_formatter(&|y| style::us_label(*y))
        .y_desc("µs")
        .label_style(style::text(TICK_SIZE))
        .axis_desc_style(style::text(TICK_SIZE))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    for (i, step) in panel.steps.iter().enumerate() {
        let x = i as f64;
        let base = step.base_ns / 1000.0;
        let Some(e) = step.estimate else {
            c.draw_series([Text::new(
                "missing",
                (x - 0.3, (y0 + y1) / 2.0),
                style::text(TICK_SIZE).color(&style::color(3)),
            )])?;
            continue;
        };
        let top = base + e.point_ns / 1000.0;
        let color = layer_color(step.layer);
        c.draw_series([Rectangle::new(
            [(x - 0.32, base), (x + 0.32, top)],
            color.mix(0.85).filled(),
        )])?;
        let (lo, hi) = (base + e.low_ns / 1000.0, base + e.high_ns / 1000.0);
        let whisker = BLACK.stroke_width(1);
        c.draw_series([
            PathElement::new(vec![(x, lo), (x, hi)], whisker),
            PathElement::new(vec![(x - 0.08, lo), (x + 0.08, lo)], whisker),
            PathElement::new(vec![(x - 0.08, hi), (x + 0.08, hi)], whisker),
        ])?;
        c.draw_series([Text::new(
            step.label(),
            (x - 0.42, hi.max(top) + (y1 - y0) * 0.07),
            style::text(TICK_SIZE - 1),
        )])?;
    }
    let lines =
        caveat
            .map(str::to_string)
            .into_iter()
            .chain(missing.iter().take(3).enumerate().map(|(i, id)| {
                let more = if i == 2 && missing.len() > 3 {
                    format!(" and {} more", missing.len() - 3)
                } else {
                    String::new()
                };
                format!("missing: {id}{more}")
            }));
    for (i, line) in lines.enumerate() {
        foot.draw(&Text::new(
            line,
            (60, 2 + 18 * i as i32),
            style::text(TICK_SIZE - 1).color(&style::color(3)),
        ))?;
    }
    Ok(())
}

/// Renders the anatomy as an SVG document. A placement (engine) without any computable layer gets
/// no row (column), only a line under the title saying what is not in the run.
pub fn render(anatomy: &Anatomy) -> Result<String> {
    let with_data =
        |pick: &dyn Fn(&Panel) -> bool| anatomy.panels.iter().any(|x| pick(x) && !x.is_empty());
    let mut placements: Vec<_> = anatomy.panels.iter().map(|p| p.placement).collect();
    placements.dedup();
    placements.retain(|&p| with_data(&|x: &Panel| x.placement == p));
    let mut engines: Vec<_> = anatomy.panels.iter().map(|p| p.engine).collect();
    engines.sort();
    engines.dedup();
    engines.retain(|&e| with_data(&|x: &Panel| x.engine == e));
    let absent = absent(anatomy);
    let (rows, cols) = (placements.len().max(1), engines.len().max(1));
    let band = if absent.is_empty() {
        TITLE_BAND
    } else {
        TITLE_BAND + 22
    };
    let height = band + ROW_HEIGHT * rows as u32;
    style::svg(WIDTH, height, |root| {
        let (title, grid) = root.split_vertically(band);
        title.draw(&Text::new(
            format!(
                "Loopback anatomy of a {} B round trip: median per layer (µs), whiskers: 95% bootstrap interval",
                anatomy.size
            ),
            (12, 10),
            style::text(TITLE_SIZE),
        ))?;
        if !absent.is_empty() {
            let names: Vec<String> = absent.iter().map(|p| p.to_string()).collect();
            title.draw(&Text::new(
                format!(
                    "not in this run: {} (`loopbench suite quick` measures it)",
                    names.join(", ")
                ),
                (12, 38),
                style::text(TICK_SIZE).color(&style::color(3)),
            ))?;
        }
        let cells = grid.split_evenly((rows, cols));
        for panel in &anatomy.panels {
            let r = placements.iter().position(|p| *p == panel.placement);
            let k = engines.iter().position(|e| *e == panel.engine);
            let (Some(r), Some(k)) = (r, k) else { continue };
            draw_panel(&cells[r * cols + k], panel)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::anatomy::anatomy;
    use crate::report::fixture;

    #[test]
    fn every_panel_is_drawn_with_its_bars_values_and_missing_cases() {
        let mut data = fixture::anatomy_run();
        data.record
            .cases
            .retain(|c| c.case_id.as_str() != "udp4-rr-spin-same-core-64B");
        let svg = render(&anatomy(&data.record).unwrap()).unwrap();
        let texts = crate::report::plots::texts(&svg);
        for text in [
            "same-core, blocking: tcp4 round trip 9.00 µs",
            "cross-core, blocking: tcp4 round trip 90.0 µs",
            "same-core, spin: tcp4 round trip 9.00 µs",
            "cross-core, spin: tcp4 round trip 9.00 µs",
            "missing: udp4-rr-spin-same-core-64B",
            SCHEDULER_CAVEAT,
        ] {
            assert!(
                texts.iter().any(|t| t == text),
                "missing {text} in {texts:?}"
            );
        }
        assert!(
            texts.iter().any(|t| t.starts_with("+2.00 ±")),
            "a layer with its interval: {texts:?}"
        );
        assert_eq!(
            texts.iter().filter(|t| *t == SCHEDULER_CAVEAT).count(),
            1,
            "only the same-core spin panel measures the scheduler"
        );
        // 4 panels × 5 layers, one missing: 19 bars.
        assert_eq!(
            svg.matches("<rect").count() - 1,
            19,
            "one background rect plus the bars"
        );
    }

    #[test]
    fn a_placement_without_cases_gets_a_line_instead_of_empty_panels() {
        let mut data = fixture::anatomy_run();
        data.record
            .cases
            .retain(|c| c.spec.placement != crate::spec::Placement::SameCore);
        let svg = render(&anatomy(&data.record).unwrap()).unwrap();
        let texts = crate::report::plots::texts(&svg);
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("not in this run: same-core")),
            "{texts:?}"
        );
        assert!(
            !texts.iter().any(|t| t.starts_with("same-core,")),
            "{texts:?}"
        );
        assert_eq!(svg.matches("<rect").count() - 1, 10);
    }
}
