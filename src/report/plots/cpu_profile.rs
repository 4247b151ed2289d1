//! Where the CPU goes (`--profile`): one 100 % bar per profiled case and side, split into the
//! categories of the case's profile (data copy, TCP/IP, netdevice, ...), in the table's order and
//! colours. A size sweep of `stream` reads down the bars: the data-copy share against the size.

use anyhow::Result;
use plotters::prelude::*;

use super::style::{self, LABEL_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::report::data::RunData;
use crate::store::kernel::SideProfile;

/// Width of the chart.
const WIDTH: u32 = 960;
/// Height of one bar's row.
const ROW: u32 = 26;
/// Room for the case labels left of the bars.
const LABEL_AREA: u32 = 380;

/// One bar: its label and its side's shares.
struct Bar<'a> {
    label: String,
    side: &'a SideProfile,
}

/// The bars of `data`: client and server of every profiled case, in run order.
fn bars(data: &RunData) -> Vec<Bar<'_>> {
    let mut out = Vec::new();
    for c in &data.record.cases {
        let Some(p) = c
            .summary
            .as_ref()
            .and_then(|s| s.extras.cpu_profile.as_ref())
        else {
            continue;
        };
        let id = c.case_id.as_str().trim_end_matches("-profile");
        for side in ["client", "server"] {
            if let Some(s) = p.side(side).filter(|s| s.cpu_ns > 0) {
                out.push(Bar {
                    label: format!("{id} · {side}"),
                    side: s,
                });
            }
        }
    }
    out
}

/// The chart, or `None` when no case was profiled.
pub fn render(data: &RunData) -> Option<Result<String>> {
    let bars = bars(data);
    let categories: Vec<String> = bars
        .first()?
        .side
        .shares
        .iter()
        .map(|(c, _)| c.clone())
        .collect();
    let legend_rows = categories.len().div_ceil(5) as u32;
    let height = 60 + ROW * bars.len() as u32 + 40 + 22 * legend_rows;
    Some(style::svg(WIDTH, height, |root| {
        let (body, legend) = root.split_vertically(height - 22 * legend_rows - 10);
        let mut c = ChartBuilder::on(&body)
            .caption(
                "Where the CPU goes: share of each side's CPU time (cpu-clock samples)",
                style::text(TITLE_SIZE),
            )
            .margin(style::MARGIN)
            .x_label_area_size(30)
            .y_label_area_size(LABEL_AREA)
            .build_cartesian_2d(0.0..100.0, -0.5..bars.len() as f64 - 0.5)?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len())
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                // The first bar at the top.
                let row = bars.len() as f64 - 1.0 - i;
                if row < 0.0 {
                    return String::new();
                }
                bars.get(row as usize)
                    .map_or(String::new(), |b| b.label.clone())
            })
            .x_label_formatter(&|x| format!("{x:.0} %"))
            .label_style(style::text(TICK_SIZE))
            .light_line_style(WHITE)
            .draw()?;
        for (row, bar) in bars.iter().enumerate() {
            let y = (bars.len() - 1 - row) as f64;
            let mut left = 0.0;
            for (i, (_, share)) in bar.side.shares.iter().enumerate() {
                let right = left + share * 100.0;
                if right > left {
                    c.draw_series([Rectangle::new(
                        [(left, y - 0.38), (right, y + 0.38)],
                        style::color(i).filled(),
                    )])?;
                }
                left = right;
            }
        }
        let entries = (categories.iter().enumerate()).map(|(i, n)| (n.as_str(), style::color(i)));
        style::legend(&legend, entries, 5, (180, 22), LABEL_SIZE)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::report::plots::texts;
    use crate::spec::Transport;
    use crate::store::kernel::CpuProfileRecord;

    fn side(name: &str, copy: f64) -> SideProfile {
        SideProfile {
            side: name.into(),
            samples: 10,
            cpu_ns: 1000,
            shares: vec![("data_copy".into(), copy), ("protocol".into(), 1.0 - copy)],
            ..SideProfile::default()
        }
    }

    #[test]
    fn one_bar_per_side_of_each_profiled_case_with_the_categories_in_the_legend() {
        let mut data = fixture::run(&[
            fixture::bulk(Transport::Tcp4, 1024, 1e9, 8e9),
            fixture::bulk(Transport::Tcp4, 65536, 3e9, 10e9),
        ]);
        assert!(render(&data).is_none(), "nothing profiled");
        for (c, copy) in data.record.cases.iter_mut().zip([0.05, 0.3]) {
            let s = c.summary.as_mut().unwrap();
            s.extras.cpu_profile = Some(CpuProfileRecord {
                sides: vec![
                    side("client", copy),
                    side("server", copy),
                    side("all", copy),
                ],
                ..CpuProfileRecord::default()
            });
        }
        let svg = render(&data).unwrap().unwrap();
        let t = texts(&svg);
        assert!(
            t.iter()
                .any(|s| s == "tcp4-rr-blocking-cross-core-1024B · client"),
            "{t:?}"
        );
        assert!(
            t.iter()
                .any(|s| s == "tcp4-rr-blocking-cross-core-65536B · server")
        );
        assert!(t.iter().any(|s| s == "data_copy") && t.iter().any(|s| s == "protocol"));
        assert_eq!(
            svg.matches("<rect").count() - 1,
            4 * 2 + 2,
            "4 bars × 2 categories, 2 keys"
        );
    }
}
