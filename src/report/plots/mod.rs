//! Charts (plotters, SVG only): one file per chart, shared style in [`style`], every line chart
//! drawn by [`lines`]. [`render_all`] makes every chart a run supports and says, in notes, which
//! ones it cannot make and why.

pub mod anatomy;
pub mod axis;
pub mod cdf;
pub mod cpu_profile;
pub mod efficiency;
pub mod history;
pub mod lines;
pub mod round_trip;
pub mod slices;
pub mod spectrum;
pub mod stages;
pub mod style;
pub mod throughput;
pub mod timeseries;

use anyhow::{Context, Result};

use super::anatomy::Anatomy;
use super::data::RunData;
pub use lines::by_transport;

/// The directory under a run directory that holds the charts.
pub const PLOTS_DIR: &str = "plots";

/// Where a chart belongs in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The stages section (`--stages`, `--trace`).
    Stages,
    /// The anatomy section.
    Anatomy,
    /// Overlays of one group of cases (its key).
    Group(String),
    /// Charts across message sizes.
    Sizes,
    /// One case (index into the run's cases).
    Case(usize),
}

/// One rendered chart.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File name under `plots/`.
    pub file: String,
    /// What it shows.
    pub title: String,
    /// Where it goes in the report.
    pub place: Place,
    /// The SVG document.
    pub svg: String,
}

/// Every chart of a run, and notes on those it lacks.
#[derive(Clone, Debug, Default)]
pub struct Plots {
    /// The charts, in report order.
    pub plots: Vec<Plot>,
    /// What was skipped and why.
    pub notes: Vec<String>,
}

/// A file name from a case id or group key: anything but `[A-Za-z0-9._-]` becomes `_`.
pub fn file_name(kind: &str, key: &str) -> String {
    format!("{kind}-{}.svg", crate::text::sanitize(key, "._-"))
}

impl Plots {
    fn add(
        &mut self,
        file: String,
        title: String,
        place: Place,
        svg: Result<String>,
    ) -> Result<()> {
        let svg = svg.with_context(|| format!("drawing {file}"))?;
        self.plots.push(Plot {
            file,
            title,
            place,
            svg,
        });
        Ok(())
    }

    fn add_lines(
        &mut self,
        file: String,
        place: Place,
        chart: Option<lines::LineChart>,
    ) -> Result<bool> {
        let Some(chart) = chart else { return Ok(false) };
        self.add(file, chart.title.clone(), place, lines::render(&chart))?;
        Ok(true)
    }
}

/// Renders every chart `data` supports. `anatomy` is the decomposition, or why there is none.
pub fn render_all(data: &RunData, anatomy: &Result<Anatomy, String>) -> Result<Plots> {
    let mut out = Plots::default();
    // Stages need a flag: a run without them gets no note about their charts.
    if let Some(svg) = stages::render(data) {
        let title = "Stages of a round trip".into();
        out.add("stages.svg".into(), title, Place::Stages, svg)?;
    }
    let legend = stages::legend(data);
    for c in &data.record.cases {
        if let Some(svg) = round_trip::render(c, &legend) {
            let title = format!("{}: a typical round trip", c.case_id);
            out.add(
                file_name("round-trip", c.case_id.as_str()),
                title,
                Place::Stages,
                svg,
            )?;
        }
    }
    match anatomy {
        Ok(a) => out.add(
            "anatomy.svg".into(),
            "Loopback anatomy".into(),
            Place::Anatomy,
            anatomy::render(a),
        )?,
        Err(why) => out.notes.push(format!("anatomy chart: {why}")),
    }
    for g in data.groups() {
        let place = Place::Group(g.key.clone());
        if g.cases.len() > 1 {
            out.add_lines(
                file_name("spectrum", &g.key),
                place.clone(),
                spectrum::overlay(data, &g),
            )?;
        }
        out.add_lines(file_name("cdf", &g.key), place, cdf::chart(data, &g))?;
    }
    if !out.add_lines(
        "throughput-vs-size.svg".into(),
        Place::Sizes,
        throughput::chart(data),
    )? {
        out.notes.push(
            "throughput vs message size: no group of cases sweeps the message size (a `stream` size sweep or `--size 64,1k,64k` does)".into(),
        );
    }
    if !out.add_lines(
        "copy-efficiency.svg".into(),
        Place::Sizes,
        efficiency::chart(data),
    )? {
        out.notes.push(
            "copy efficiency: no size sweep has a memcpy reference (the `stream` workload records one)".into(),
        );
    }
    // Profiling needs root and a flag: a run without it gets no note about the chart.
    if let Some(svg) = cpu_profile::render(data) {
        let title = "Where the CPU goes (--profile)".into();
        out.add("cpu-profile.svg".into(), title, Place::Sizes, svg)?;
    }
    let mut with_slices = false;
    for (i, c) in data.record.cases.iter().enumerate() {
        let id = c.case_id.as_str();
        out.add_lines(
            file_name("spectrum", id),
            Place::Case(i),
            spectrum::for_case(data, i),
        )?;
        out.add_lines(
            file_name("timeseries", id),
            Place::Case(i),
            timeseries::chart(data, i),
        )?;
        with_slices |= out.add_lines(
            file_name("slices", id),
            Place::Case(i),
            slices::chart(data, i),
        )?;
    }
    if !with_slices {
        out.notes.push(
            "throughput per time slice: no case keeps a time series (the `stream` workload does)"
                .into(),
        );
    }
    Ok(out)
}

/// The texts of an SVG document, trimmed (for tests).
#[cfg(test)]
pub fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split("</text>").next()?.trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::anatomy::anatomy;
    use crate::report::fixture;
    use crate::spec::Transport;

    fn files(p: &Plots) -> Vec<&str> {
        p.plots.iter().map(|p| p.file.as_str()).collect()
    }

    #[test]
    fn a_run_gets_every_chart_it_has_data_for_and_notes_for_the_rest() {
        let data = fixture::anatomy_run();
        let plots = render_all(&data, &anatomy(&data.record)).unwrap();
        let f = files(&plots);
        assert!(f.contains(&"anatomy.svg"));
        assert!(f.contains(&"spectrum-rr-spin-cross-core-64B.svg"));
        assert!(f.contains(&"cdf-rr-blocking-same-core-64B.svg"));
        assert!(f.contains(&"spectrum-tcp4-rr-blocking-cross-core-64B.svg"));
        assert!(f.contains(&"timeseries-shm-rr-spin-same-core-64B.svg"));
        assert_eq!(f.len(), 1 + 4 * 2 + 20 * 2);
        assert_eq!(plots.notes.len(), 3, "{:?}", plots.notes);
        assert!(plots.notes.iter().any(|n| n.contains("time slice")));
        assert!(plots.plots.iter().all(|p| p.svg.starts_with("<svg")));
    }

    #[test]
    fn bulk_cases_light_up_the_throughput_efficiency_and_slice_charts() {
        let data = fixture::run(&[
            fixture::bulk(Transport::Tcp4, 1024, 1e9, 8e9),
            fixture::bulk(Transport::Tcp4, 65536, 3e9, 10e9),
            fixture::bulk(Transport::UnixStream, 1024, 2e9, 8e9),
            fixture::bulk(Transport::UnixStream, 65536, 5e9, 10e9),
        ]);
        let plots = render_all(&data, &anatomy(&data.record)).unwrap();
        let f = files(&plots);
        for want in [
            "throughput-vs-size.svg",
            "copy-efficiency.svg",
            "slices-tcp4-rr-blocking-cross-core-1024B.svg",
        ] {
            assert!(f.contains(&want), "{want} not in {f:?}");
        }
        let svg = |name: &str| &plots.plots.iter().find(|p| p.file == name).unwrap().svg;
        let t = svg("throughput-vs-size.svg");
        assert!(
            t.contains("memcpy, one core") && t.contains("tcp4-rr-blocking-cross-core"),
            "{t}"
        );
        assert!(svg("copy-efficiency.svg").contains("unix-stream-rr-blocking-cross-core"));
        let lacking = ["throughput", "efficiency", "slice"];
        assert!(
            !plots
                .notes
                .iter()
                .any(|n| lacking.iter().any(|l| n.contains(l))),
            "{:?}",
            plots.notes
        );
    }

    #[test]
    fn stamped_cases_get_the_stage_bars_and_their_typical_round_trip() {
        let data = fixture::stamped_run();
        let plots = render_all(&data, &anatomy(&data.record)).unwrap();
        let stages: Vec<&str> = plots
            .plots
            .iter()
            .filter(|p| p.place == Place::Stages)
            .map(|p| p.file.as_str())
            .collect();
        assert_eq!(
            stages,
            [
                "stages.svg",
                "round-trip-tcp4-rr-blocking-cross-core-64B-stages.svg"
            ]
        );
        let plain = fixture::anatomy_run();
        let plots = render_all(&plain, &anatomy(&plain.record)).unwrap();
        assert!(!plots.plots.iter().any(|p| p.place == Place::Stages));
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("cdf", "rr-at-@x/y"), "cdf-rr-at-_x_y.svg");
    }
}
