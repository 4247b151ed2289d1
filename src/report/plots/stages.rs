//! The stages of each case's round trip as stacked bars: one bar per stamped case (`--stages`,
//! the user-space stages at the median round trip: each stage's mean over the round trips ranked
//! 45-55 % by RTT, which add up to their mean RTT; an older run.json without that band: the
//! stages' medians) and one per traced case (`--trace`, the medians of the kernel stages of its
//! chain with the server's turnaround between the two legs), in path order, left to right in
//! µs, with a black tick at the round trip's median (medians need not add up; the tick shows by
//! how much they miss). A stage that lies within another (`within`) is not
//! stacked. Every chart that shows stages colours a stage the same way ([`stage_color`]).

use anyhow::Result;
use plotters::prelude::*;

use super::style::{self, LABEL_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::metrics::stages::names::SERVER_TURNAROUND;
use crate::report::data::RunData;
use crate::report::kernel::path_position;
use crate::report::stage_table::{stage_names, stages};
use crate::store::record::CaseRecord;

/// Width of the chart.
const WIDTH: u32 = 1100;
/// Height of one bar's row.
const ROW: u32 = 28;
/// Room for the case labels left of the bars.
const LABEL_AREA: u32 = 500;
/// Legend entries per row.
const PER_ROW: usize = 4;

/// Every stage name of the run, user-space first, then the kernel's in path order: what
/// [`stage_color`] indexes.
pub fn legend(data: &RunData) -> Vec<String> {
    let mut out = stage_names(&data.record);
    for c in &data.record.cases {
        for (name, _) in c.summary.iter().flat_map(|s| s.extras.kernel_stages.iter()) {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    let user = out.iter().filter(|n| !n.contains('.')).count();
    out[user..].sort_by_key(|n| path_position(n));
    if user < out.len() && !out.iter().any(|n| n == SERVER_TURNAROUND) {
        out.push(SERVER_TURNAROUND.into());
    }
    out
}

/// The colour of stage `name`, by its place in `legend`: the palette, then its colours
/// lightened, then darkened (a traced run has more stages than twice the palette's colours).
pub fn stage_color(name: &str, legend: &[String]) -> RGBColor {
    let i = legend.iter().position(|n| n == name).unwrap_or(0);
    let RGBColor(r, g, b) = style::color(i);
    let shade: fn(u8) -> u8 = match (i / style::PALETTE.len()) % 3 {
        0 => |c| c,
        1 => |c| c + (255 - c) / 2,
        _ => |c| (u16::from(c) * 3 / 5) as u8,
    };
    RGBColor(shade(r), shade(g), shade(b))
}

/// One bar: its label, the round trip's median, and its stacked stages (name, median ns).
struct Bar {
    label: String,
    rtt_ns: u64,
    parts: Vec<(String, u64)>,
}

/// The user-space bar of a stamped case: the stages that stack, in path order, at the median
/// round trip (or their medians, without a band).
fn user_bar(c: &CaseRecord) -> Option<Bar> {
    let map = stages(c)?;
    let s = c.summary.as_ref()?;
    let (label, parts) = match s.extras.stage_band.as_ref().filter(|b| b.round_trips > 0) {
        Some(band) => (
            "user, at the median",
            band.stages
                .iter()
                .map(|(n, v)| (n.to_string(), v.round() as u64))
                .collect(),
        ),
        None => (
            "user, medians",
            map.iter()
                .filter(|(_, st)| st.within.is_none() && st.latency.count > 0)
                .map(|(n, st)| (n.to_string(), st.latency.p50_ns))
                .collect(),
        ),
    };
    Some(Bar {
        label: format!("{} · {label}", c.case_id),
        rtt_ns: s.latency.p50_ns,
        parts,
    })
}

/// The kernel bar of a traced case: its chain's stages in path order, the server's turnaround
/// between the request's and the response's.
fn kernel_bar(c: &CaseRecord) -> Option<Bar> {
    let s = c.summary.as_ref()?;
    let trace = s.extras.kernel_trace.as_ref()?;
    let mut parts: Vec<(String, u64)> = s
        .extras
        .kernel_stages
        .iter()
        .filter(|(_, st)| st.within.is_none() && st.latency.count > 0)
        .map(|(n, st)| (n.to_string(), st.latency.p50_ns))
        .collect();
    if parts.is_empty() {
        return None;
    }
    parts.sort_by_key(|(n, _)| path_position(n));
    let at = parts
        .iter()
        .position(|(n, _)| n.starts_with("response."))
        .unwrap_or(parts.len());
    let turnaround = (
        SERVER_TURNAROUND.to_string(),
        trace.server_turnaround_p50_ns,
    );
    parts.insert(at, turnaround);
    Some(Bar {
        label: format!("{} · kernel", c.case_id),
        rtt_ns: s.latency.p50_ns,
        parts,
    })
}

fn bars(data: &RunData) -> Vec<Bar> {
    let cases = &data.record.cases;
    cases
        .iter()
        .flat_map(|c| [user_bar(c), kernel_bar(c)])
        .flatten()
        .collect()
}

/// The chart, or `None` when no case has stages.
pub fn render(data: &RunData) -> Option<Result<String>> {
    let bars = bars(data);
    if bars.is_empty() {
        return None;
    }
    let legend = legend(data);
    let shown: Vec<&String> = legend
        .iter()
        .filter(|n| bars.iter().any(|b| b.parts.iter().any(|(p, _)| p == *n)))
        .collect();
    let x_max = bars
        .iter()
        .map(|b| (b.parts.iter().map(|p| p.1).sum::<u64>()).max(b.rtt_ns))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        / 1000.0
        * 1.05;
    let legend_rows = shown.len().div_ceil(PER_ROW) as u32;
    let height = 70 + ROW * bars.len() as u32 + 40 + 24 * legend_rows;
    Some(style::svg(WIDTH, height, |root| {
        let (body, foot) = root.split_vertically(height - 24 * legend_rows - 10);
        let n = bars.len();
        let mut c = ChartBuilder::on(&body)
            .caption(
                "Stages of a round trip (µs): user, at the median round trip (means over RTT ranks \
                 45-55 %); kernel, medians; tick: RTT p50",
                style::text(TITLE_SIZE),
            )
            .margin(style::MARGIN)
            .x_label_area_size(30)
            .y_label_area_size(LABEL_AREA)
            .build_cartesian_2d(0.0..x_max, -0.5..n as f64 - 0.5)?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() > 0.01 || i < 0.0 || i >= n as f64 {
                    return String::new();
                }
                // The first bar at the top.
                bars[n - 1 - i as usize].label.clone()
            })
            .x_label_formatter(&|x| style::us_label(*x))
            .x_desc("µs")
            .label_style(style::text(TICK_SIZE))
            .axis_desc_style(style::text(TICK_SIZE))
            .light_line_style(WHITE)
            .draw()?;
        for (row, bar) in bars.iter().enumerate() {
            let y = (n - 1 - row) as f64;
            let mut left = 0.0;
            for (name, ns) in &bar.parts {
                let right = left + *ns as f64 / 1000.0;
                if right > left {
                    c.draw_series([Rectangle::new(
                        [(left, y - 0.36), (right, y + 0.36)],
                        stage_color(name, &legend).filled(),
                    )])?;
                }
                left = right;
            }
            let rtt = bar.rtt_ns as f64 / 1000.0;
            c.draw_series([PathElement::new(
                vec![(rtt, y - 0.46), (rtt, y + 0.46)],
                BLACK.stroke_width(2),
            )])?;
        }
        let entries = shown.iter().map(|n| (n.as_ref(), stage_color(n, &legend)));
        style::legend(&foot, entries, PER_ROW, (235, 24), LABEL_SIZE)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::report::plots::texts;

    #[test]
    fn one_bar_per_stamped_case_with_its_stages_and_the_median_tick() {
        let mut data = fixture::stamped_run();
        let svg = render(&data).unwrap().unwrap();
        let t = texts(&svg);
        assert!(
            t.iter()
                .any(|s| s == "tcp4-rr-blocking-cross-core-64B-stages · user, at the median"),
            "{t:?}"
        );
        let bar = user_bar(&data.record.cases[0]).unwrap();
        assert_eq!(
            bar.parts[0],
            ("client_send".to_string(), 1100),
            "the band's mean"
        );
        assert_eq!(bar.parts.iter().map(|p| p.1).sum::<u64>(), 10_000);
        let mut old = data.record.cases[0].clone();
        old.summary.as_mut().unwrap().extras.stage_band = None;
        let bar = user_bar(&old).unwrap();
        assert!(bar.label.ends_with("· user, medians"));
        assert_eq!(bar.parts[0].1, 1000, "the median, without a band");
        assert!(
            !t.iter()
                .any(|s| s.starts_with("tcp4-rr-blocking-same-core"))
        );
        for stage in ["client_send", "request_path", "response_path"] {
            assert!(t.iter().any(|s| s == stage), "{stage} in the legend");
        }
        // Background, 5 stages, 5 legend keys.
        assert_eq!(svg.matches("<rect").count(), 1 + 5 + 5);
        data.record.cases[0]
            .summary
            .as_mut()
            .unwrap()
            .extras
            .stages
            .0
            .clear();
        assert!(render(&data).is_none(), "nothing stamped, no chart");
    }

    #[test]
    fn a_traced_case_stacks_its_chain_in_path_order_around_the_servers_turnaround() {
        use crate::metrics::stages::StageSet;
        use crate::store::kernel::KernelTraceRecord;
        use crate::store::stages::summarize;
        let mut data = fixture::stamped_run();
        let s = data.record.cases[1].summary.as_mut().unwrap();
        let mut set = StageSet::default();
        // Added out of path order, as a case's iterations may add them.
        for (key, ns) in [
            ("response.wakeup", 2_000),
            ("request.send_syscall", 1_000),
            ("request.wakeup", 1_500),
            ("response.send_syscall", 1_000),
        ] {
            set.record(key, ns);
        }
        set.record("request.idle_exit", 700);
        set.stage_mut("request.idle_exit").within = Some("request.wakeup".into());
        s.extras.kernel_stages = summarize(&set, s.latency.p50_ns);
        s.extras.kernel_trace = Some(KernelTraceRecord {
            server_turnaround_p50_ns: 300,
            ..KernelTraceRecord::default()
        });
        let bar = kernel_bar(&data.record.cases[1]).unwrap();
        let names: Vec<&str> = bar.parts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "request.send_syscall",
                "request.wakeup",
                "server_turnaround",
                "response.send_syscall",
                "response.wakeup"
            ]
        );
        assert_eq!(bar.parts[2].1, 300);
        assert!(user_bar(&data.record.cases[1]).is_none());
        let legend = legend(&data);
        assert_eq!(legend[..5], stage_names(&data.record)[..]);
        assert_eq!(legend[5], "request.send_syscall", "{legend:?}");
        let svg = render(&data).unwrap().unwrap();
        let t = texts(&svg);
        assert!(
            t.iter()
                .any(|s| s == "tcp4-rr-blocking-same-core-64B · kernel")
        );
        // Background, 5 user and 5 kernel parts, legend keys of the 5 user and 4 kernel
        // stages that stack (idle_exit is within the wake-up: not drawn, not in the legend).
        assert_eq!(svg.matches("<rect").count(), 1 + 10 + 9, "{t:?}");
        assert!(!t.iter().any(|s| s == "request.idle_exit"));
    }

    #[test]
    fn stages_past_the_palette_get_its_colours_lightened_then_darkened() {
        let legend: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
        assert_eq!(stage_color("s1", &legend), style::color(1));
        let RGBColor(r, _, _) = style::color(0);
        assert_eq!(stage_color("s10", &legend).0, r + (255 - r) / 2);
        let legend: Vec<String> = (0..24).map(|i| format!("s{i}")).collect();
        assert_eq!(stage_color("s20", &legend).0, (u16::from(r) * 3 / 5) as u8);
        let distinct: std::collections::HashSet<_> = legend
            .iter()
            .map(|n| {
                let RGBColor(r, g, b) = stage_color(n, &legend);
                (r, g, b)
            })
            .collect();
        assert_eq!(
            distinct.len(),
            24,
            "every stage of a traced run its own colour"
        );
    }
}
