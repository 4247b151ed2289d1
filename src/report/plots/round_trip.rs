//! One typical round trip of a case (the message nearest the median) as a timeline across the
//! two CPUs: a lane per side, each stage a bar in the lane where it ran (user-space stages
//! thick, kernel stages thin under them) and a slanted line for the stages that cross from one
//! side to the other (the request's and the response's paths). Which CPU did what, when. A case
//! both stamped and traced shows its user-space typical round trip and, under it, the kernel's
//! (two messages, each nearest its view's median, both from the client's send call).

use anyhow::Result;
use plotters::prelude::*;

use super::stages::stage_color;
use super::style::{self, LABEL_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::store::record::CaseRecord;
use crate::store::stages::{Lane, Layer, Span, Timeline};
use crate::text::us;

/// Width of the chart.
const WIDTH: u32 = 1100;
/// Height of the lanes and their axis.
const BODY: u32 = 230;
/// Legend entries per row.
const PER_ROW: usize = 4;

/// The bottom of a lane on the y axis (the client's lane on top).
fn base(lane: Lane) -> f64 {
    match lane {
        Lane::Client => 1.0,
        Lane::Server => 0.0,
    }
}

/// The vertical extent of a span's bar within its lane: user-space thick on top, kernel thin
/// under it.
fn band(layer: Layer) -> (f64, f64) {
    match layer {
        Layer::User => (0.45, 0.85),
        Layer::Kernel => (0.12, 0.36),
    }
}

fn lane_label(t: &Timeline, lane: Lane) -> String {
    let (name, cpu) = match lane {
        Lane::Client => ("client", t.client_cpu),
        Lane::Server => ("server", t.server_cpu),
    };
    match cpu {
        Some(c) => format!("{name}, CPU {c}"),
        None => name.to_string(),
    }
}

/// The chart of `case`'s typical round trip, or `None` when it has none; `legend` is the run's
/// stage names (for the colours).
pub fn render(case: &CaseRecord, legend: &[String]) -> Option<Result<String>> {
    let extras = &case.summary.as_ref()?.extras;
    let t = extras.typical_round_trip.as_ref()?;
    let kernel = extras.typical_kernel_round_trip.as_ref();
    let spans: Vec<&Span> = t
        .spans
        .iter()
        .chain(kernel.iter().flat_map(|k| &k.spans))
        .collect();
    let caption = match kernel {
        Some(k) => format!(
            "{}: typical round trips, user {} µs, kernel {} µs",
            case.case_id,
            us(t.rtt_ns as f64),
            us(k.rtt_ns as f64)
        ),
        None => format!(
            "{}: a typical round trip ({} µs, nearest the median)",
            case.case_id,
            us(t.rtt_ns as f64)
        ),
    };
    let mut shown: Vec<&str> = Vec::new();
    for s in &spans {
        if !shown.contains(&s.name.as_str()) {
            shown.push(&s.name);
        }
    }
    let x_max = spans
        .iter()
        .map(|s| s.end_ns)
        .max()
        .unwrap_or(0)
        .max(t.rtt_ns as i64)
        .max(1) as f64
        / 1000.0;
    let x_min = spans.iter().map(|s| s.start_ns).min().unwrap_or(0).min(0) as f64 / 1000.0;
    let legend_rows = shown.len().div_ceil(PER_ROW) as u32;
    let height = BODY + 10 + 24 * legend_rows;
    Some(style::svg(WIDTH, height, |root| {
        let (body, foot) = root.split_vertically(BODY);
        let mut c = ChartBuilder::on(&body)
            .caption(caption, style::text(TITLE_SIZE))
            .margin(style::MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(120)
            .build_cartesian_2d(x_min..x_max * 1.02, 0.0..2.0)?;
        c.configure_mesh()
            .disable_y_mesh()
            // Key points every 0.5: the lanes' centres (0.5, 1.5) get their names.
            .y_labels(5)
            .y_label_formatter(&|y: &f64| {
                if (y - 0.5).abs() < 0.3 {
                    lane_label(t, Lane::Server)
                } else if (y - 1.5).abs() < 0.3 {
                    lane_label(t, Lane::Client)
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| style::us_label(*x))
            .x_desc(match kernel {
                Some(_) => "µs after the client's send call (user, kernel: two messages nearest the median)",
                None => "µs after the client's send call",
            })
            .label_style(style::text(TICK_SIZE))
            .axis_desc_style(style::text(TICK_SIZE))
            .light_line_style(WHITE)
            .draw()?;
        c.draw_series([PathElement::new(
            vec![(x_min, 1.0), (x_max * 1.02, 1.0)],
            style::FAINT.stroke_width(1),
        )])?;
        for s in &spans {
            draw_span(&mut c, s, stage_color(&s.name, legend))?;
        }
        let entries = shown.iter().map(|n| (*n, stage_color(n, legend)));
        style::legend(&foot, entries, PER_ROW, (235, 24), LABEL_SIZE)
    }))
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One span: a bar in its lane, or a slanted line from one lane to the other.
fn draw_span(c: &mut Chart<'_, '_>, s: &Span, color: RGBColor) -> Result<()> {
    let (x0, x1) = (s.start_ns as f64 / 1000.0, s.end_ns as f64 / 1000.0);
    let (lo, hi) = band(s.layer);
    if s.from == s.to {
        let y = base(s.from);
        c.draw_series([Rectangle::new([(x0, y + lo), (x1, y + hi)], color.filled())])?;
    } else {
        let mid = (lo + hi) / 2.0;
        let width = match s.layer {
            Layer::User => 3,
            Layer::Kernel => 1,
        };
        c.draw_series([PathElement::new(
            vec![(x0, base(s.from) + mid), (x1, base(s.to) + mid)],
            color.stroke_width(width),
        )])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::report::plots::stages::legend;
    use crate::report::plots::texts;

    #[test]
    fn each_side_gets_a_lane_and_the_paths_cross_between_them() {
        let mut data = fixture::stamped_run();
        let legend = legend(&data);
        let svg = render(&data.record.cases[0], &legend).unwrap().unwrap();
        let t = texts(&svg);
        for want in [
            "client, CPU 0",
            "server, CPU 1",
            "tcp4-rr-blocking-cross-core-64B-stages: a typical round trip (10.0 µs, nearest the median)",
        ] {
            assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
        }
        // Background, 3 bars in lanes, 5 legend keys; the two paths are lines.
        assert_eq!(svg.matches("<rect").count(), 1 + 3 + 5);
        assert!(render(&data.record.cases[1], &legend).is_none());
        // A kernel span in the server's lane is one more (thin) bar.
        let s = data.record.cases[0].summary.as_mut().unwrap();
        let tl = s.extras.typical_round_trip.as_mut().unwrap();
        tl.spans.push(Span {
            name: "response.send_syscall".into(),
            layer: Layer::Kernel,
            from: Lane::Server,
            to: Lane::Server,
            start_ns: 5100,
            end_ns: 5900,
        });
        let svg = render(&data.record.cases[0], &legend).unwrap().unwrap();
        assert_eq!(svg.matches("<rect").count(), 1 + 4 + 6);
    }

    #[test]
    fn a_stamped_and_traced_case_shows_the_kernels_typical_round_trip_under_the_users() {
        let mut data = fixture::stamped_run();
        let s = data.record.cases[0].summary.as_mut().unwrap();
        let user = s.extras.typical_round_trip.clone().unwrap();
        let span = |name: &str, lane, start_ns, end_ns| Span {
            name: name.into(),
            layer: Layer::Kernel,
            from: lane,
            to: lane,
            start_ns,
            end_ns,
        };
        s.extras.typical_kernel_round_trip = Some(Timeline {
            rtt_ns: 12_000,
            spans: vec![
                span("request.send_syscall", Lane::Client, 0, 900),
                span("request.recv_return", Lane::Server, 4000, 4500),
            ],
            ..user
        });
        let legend = legend(&data);
        let svg = render(&data.record.cases[0], &legend).unwrap().unwrap();
        let t = texts(&svg);
        let caption = "tcp4-rr-blocking-cross-core-64B-stages: typical round trips, user 10.0 µs, kernel 12.0 µs";
        assert!(t.iter().any(|s| s == caption), "{t:?}");
        assert!(
            t.iter()
                .any(|s| s.ends_with("(user, kernel: two messages nearest the median)"))
        );
        assert!(
            t.iter().any(|s| s == "request.send_syscall"),
            "in the legend"
        );
        // Background, 3 user bars and 2 kernel bars, 5 + 2 legend keys.
        assert_eq!(svg.matches("<rect").count(), 1 + 5 + 7);
    }
}
