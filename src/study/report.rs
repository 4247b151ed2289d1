//! The study's comparison report (`report.md`, `report.html`): per case, every variant side by
//! side with its per-iteration samples pooled over the rounds, each variant against the first
//! (baseline) one, and the settings each variant ran with as read back.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::plot::{FigureAxis, svg};
use super::record::{RunStatus, StudyRecord, VariantRunRecord, read_json};
use crate::compare::gate::{GateConfig, MetricInput, Samples as GateSamples, Verdict, evaluate};
use crate::compare::metric::{Metric, Unit};
use crate::compare::output::p_holm;
use crate::report::export::html::{esc, html_table};
use crate::report::export::markdown::md_table;
use crate::spec::{CaseId, Workload};
use crate::store::load_run;
use crate::store::record::IterationRecord;
use crate::store::write_atomic;
use crate::text::{bandwidth, us};

/// A figure compared across variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    /// Median round trip of an iteration (rr), lower is better.
    P50,
    /// 99th percentile round trip of an iteration (rr), lower is better.
    P99,
    /// Received bytes per second of an iteration (stream), higher is better.
    Throughput,
    /// The receiver's CPU time per message of an iteration (stream), lower is better: less
    /// disturbed by other load than throughput, since it counts only the receiver's own time.
    ReceiverCpu,
}

impl Figure {
    /// The figures a case of workload `w` is compared on: its workload's
    /// [`compared_on`](crate::workload::WorkloadDef::compared_on) metrics (bulk workloads by
    /// throughput and receiver CPU, all others by latency).
    fn for_workload(w: Workload) -> Vec<Figure> {
        let metrics = crate::workload::def(w).compared_on();
        metrics.iter().filter_map(|&m| Figure::of(m)).collect()
    }

    /// The figure of a gate metric, if the study report draws one.
    fn of(metric: Metric) -> Option<Figure> {
        [
            Figure::P50,
            Figure::P99,
            Figure::Throughput,
            Figure::ReceiverCpu,
        ]
        .into_iter()
        .find(|f| f.metric() == metric)
    }

    /// The gate's metric for this figure.
    fn metric(self) -> Metric {
        match self {
            Figure::P50 => Metric::P50,
            Figure::P99 => Metric::P99,
            Figure::Throughput => Metric::Throughput,
            Figure::ReceiverCpu => Metric::ReceiverCpu,
        }
    }

    /// The unit of the figure's values (throughput is drawn in bytes per second).
    fn unit(self) -> Unit {
        match self {
            Figure::Throughput => Unit::BytesPerSec,
            Figure::P50 | Figure::P99 | Figure::ReceiverCpu => Unit::Nanoseconds,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Figure::P50 => "p50 µs",
            Figure::P99 => "p99 µs",
            Figure::Throughput => "throughput",
            Figure::ReceiverCpu => "receiver CPU ns per message",
        }
    }

    /// The gate's value of this figure in one iteration of a case of workload `w` (an
    /// iteration without latency samples counts as 0, as its summary says).
    fn value(self, it: &IterationRecord, w: Workload) -> f64 {
        self.metric().value(it, w).unwrap_or(0.0)
    }

    fn axis(self) -> FigureAxis {
        match self {
            Figure::P50 | Figure::P99 => FigureAxis {
                label: "round-trip latency (µs)",
                scale: 1e-3,
                log: true,
                format: crate::report::plots::style::us_label,
            },
            Figure::Throughput => FigureAxis {
                label: "throughput (GiB/s)",
                scale: 1.0 / (1u64 << 30) as f64,
                log: false,
                format: super::plot::gib_label,
            },
            Figure::ReceiverCpu => FigureAxis {
                label: "receiver CPU per message (ns)",
                scale: 1.0,
                log: false,
                format: super::plot::ns_label,
            },
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Figure::P50 => "p50",
            Figure::P99 => "p99",
            Figure::Throughput => "throughput",
            Figure::ReceiverCpu => "receiver-cpu",
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Figure::Throughput => bandwidth(v),
            Figure::ReceiverCpu => format!("{v:.0}"),
            _ => us(v),
        }
    }
}

/// Per-iteration samples of one figure of one case for one variant, pooled over rounds.
#[derive(Clone, Debug, Default)]
pub struct VariantSamples {
    /// Runs that contributed.
    pub runs: usize,
    /// One value per iteration.
    pub values: Vec<f64>,
    /// The round of each value.
    pub rounds: Vec<u32>,
    /// The fewest latency samples any of these iterations holds (p99 is gated only with
    /// ≥ 100k).
    pub min_latency_count: Option<u64>,
}

impl VariantSamples {
    /// The values for the gate, grouped by run (consecutive values of one round).
    fn samples(&self) -> GateSamples {
        let mut runs: Vec<usize> = Vec::new();
        for (i, r) in self.rounds.iter().enumerate() {
            match runs.last_mut() {
                Some(n) if i > 0 && self.rounds[i - 1] == *r => *n += 1,
                _ => runs.push(1),
            }
        }
        GateSamples {
            values: self.values.clone(),
            runs,
            min_latency_count: self.min_latency_count.unwrap_or(0),
        }
    }
}

/// The comparison of one variant with the baseline, from the regression gate's statistics.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// "ratio [low, high]" of medians variant/baseline with its confidence interval.
    pub ratio: String,
    /// Holm-adjusted p-value.
    pub p: String,
    /// The gate's verdict.
    pub verdict: String,
}

/// Compares each (baseline, variant) pair of samples with the regression gate's statistics:
/// bootstrap interval of the ratio of medians variant/baseline (runs resampled first, then their
/// iterations), one-sided Mann–Whitney U per direction, Holm over every pair of the study, and
/// the gate's verdict (beyond its noise threshold both ways). Results in the order of `pairs`.
pub fn compare(pairs: &[(Figure, VariantSamples, VariantSamples)]) -> Vec<Comparison> {
    let inputs: Vec<MetricInput> = pairs
        .iter()
        .map(|(f, base, variant)| MetricInput {
            metric: f.metric(),
            unit: f.unit(),
            base: base.samples(),
            new: variant.samples(),
            // Variants run in separate namespaces and processes: independent samples.
            paired: Vec::new(),
        })
        .collect();
    evaluate(&inputs, &GateConfig::default())
        .into_iter()
        .map(|r| Comparison {
            ratio: r.ratio.map_or("-".into(), |e| {
                let ci = e.confidence_interval;
                format!(
                    "×{:.3} [{:.3}, {:.3}]",
                    e.point, ci.lower_bound, ci.upper_bound
                )
            }),
            p: p_holm(&r),
            verdict: match r.verdict {
                Verdict::Regression => format!("worse (beyond {:.0}%)", r.threshold * 100.0),
                Verdict::Improvement => format!("better (beyond {:.0}%)", r.threshold * 100.0),
                v => v.label().to_string(),
            },
        })
        .collect()
}

fn median(v: &[f64]) -> f64 {
    crate::store::record::Spread::of(v.iter().copied()).median
}

/// Samples by (study case, figure, variant), and the workload of each case.
type Samples = BTreeMap<(CaseId, Figure), BTreeMap<String, VariantSamples>>;

fn collect(
    dir: &Path,
    record: &StudyRecord,
) -> Result<(Samples, BTreeMap<String, VariantRunRecord>)> {
    let mut samples: Samples = BTreeMap::new();
    let mut settings = BTreeMap::new();
    for run in &record.runs {
        let Some(id) = &run.run_id else { continue };
        if run.status == RunStatus::Failed {
            continue;
        }
        let run_dir = dir.join("runs").join(id);
        let rec = load_run(&run_dir)?;
        let variant: VariantRunRecord = read_json(&run_dir.join("variant.json"))?;
        for case in &rec.cases {
            let Some(m) = variant.cases.iter().find(|m| m.run_case == case.case_id) else {
                continue;
            };
            for f in Figure::for_workload(case.spec.workload) {
                let s = samples
                    .entry((m.study_case.clone(), f))
                    .or_default()
                    .entry(run.variant.clone())
                    .or_default();
                s.runs += 1;
                for it in &case.iterations {
                    s.values.push(f.value(it, case.spec.workload));
                    s.rounds.push(run.round);
                    let n = it.latency.count;
                    s.min_latency_count = Some(s.min_latency_count.map_or(n, |m| m.min(n)));
                }
            }
        }
        settings.entry(run.variant.clone()).or_insert(variant);
    }
    Ok((samples, settings))
}

fn table(header: &[&str], rows: &[Vec<String>], md: &mut String, html: &mut String) {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    md.push_str(&md_table(&header, rows));
    md.push('\n');
    html.push_str(&html_table(&header, rows));
}

fn heading(level: usize, text: &str, md: &mut String, html: &mut String) {
    let _ = writeln!(md, "{} {text}\n", "#".repeat(level));
    let _ = writeln!(html, "<h{level}>{}</h{level}>", esc(text));
}

fn para(text: &str, md: &mut String, html: &mut String) {
    let _ = writeln!(md, "{text}\n");
    let _ = writeln!(html, "<p>{}</p>", esc(text));
}

/// The rendered report: markdown, HTML, and the SVG charts they refer to (file name, document).
pub struct Rendered {
    /// report.md.
    pub markdown: String,
    /// report.html.
    pub html: String,
    /// `plots/<name>.svg`.
    pub plots: Vec<(String, String)>,
}

/// Renders the report of the study in `dir`.
pub fn render(dir: &Path) -> Result<Rendered> {
    let mut plots = Vec::new();
    let record: StudyRecord = read_json(&dir.join("study.json"))?;
    let (samples, settings) = collect(dir, &record)?;
    let (mut md, mut html) = (String::new(), String::new());
    html.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>loopbench study</title>\
        <style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse;margin:1em 0}\
        td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child{text-align:left}</style>\
        </head><body>\n");
    heading(1, &format!("Study: {}", record.name), &mut md, &mut html);
    let done = record
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Done)
        .count();
    para(
        &format!(
            "{} · {} variant(s) × {} round(s), variant order shuffled per round (seed {}) · {done}/{} runs complete{} · every variant ran in its own network namespace",
            record.study_id,
            record.variants.len(),
            record.rounds,
            record.seed,
            record.runs.len(),
            if record.interrupted {
                " · INTERRUPTED"
            } else {
                ""
            }
        ),
        &mut md,
        &mut html,
    );
    let baseline = record
        .variants
        .first()
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let names: Vec<String> = record.variants.iter().map(|v| v.name.clone()).collect();
    let mut pairs = Vec::new();
    for ((_, f), by_variant) in &samples {
        let base = by_variant.get(&baseline).cloned().unwrap_or_default();
        for n in names.iter().skip(1) {
            let v = by_variant.get(n).cloned().unwrap_or_default();
            pairs.push((*f, base.clone(), v));
        }
    }
    let comparisons = compare(&pairs);
    para(
        "Each variant against the baseline with the regression gate's statistics: ratio of \
         medians variant/baseline with a 95% bootstrap interval (rounds resampled first, then \
         their iterations), one-sided Mann–Whitney U, Holm-corrected over every comparison of the \
         study; worse or better only when significant and the whole interval lies beyond the noise \
         threshold (5% for p50, throughput and receiver CPU, 10% for p99, which needs ≥100k \
         samples per iteration).",
        &mut md,
        &mut html,
    );
    let mut k = 0;
    for ((case, f), by_variant) in &samples {
        let title = format!("{case} — {}", f.name());
        heading(2, &title, &mut md, &mut html);
        let series: Vec<(String, super::plot::RoundSamples)> = names
            .iter()
            .map(|n| {
                let s = by_variant.get(n).cloned().unwrap_or_default();
                (n.clone(), s.rounds.into_iter().zip(s.values).collect())
            })
            .collect();
        let file = format!("{case}-{}.svg", f.slug());
        plots.push((file.clone(), svg(&title, &f.axis(), &series)?));
        let _ = writeln!(md, "![{title}](plots/{file})\n");
        let _ = writeln!(
            html,
            "<img src=\"plots/{}\" alt=\"{}\">",
            esc(&file),
            esc(&title)
        );
        let mut rows = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let s = by_variant.get(n).cloned().unwrap_or_default();
            let range = crate::store::record::Spread::of(s.values.iter().copied());
            let mut row = vec![
                if i == 0 {
                    format!("{n} (baseline)")
                } else {
                    n.clone()
                },
                s.runs.to_string(),
                s.values.len().to_string(),
                if s.values.is_empty() {
                    "-".into()
                } else {
                    f.show(median(&s.values))
                },
                if s.values.is_empty() {
                    "-".into()
                } else {
                    format!("{} – {}", f.show(range.min), f.show(range.max))
                },
            ];
            let cmp = (i > 0).then(|| comparisons[k].clone());
            if i > 0 {
                k += 1;
            }
            match cmp {
                Some(c) => row.extend([c.ratio, c.p, c.verdict]),
                None => row.extend(["-".to_string(), "-".into(), "-".into()]),
            }
            rows.push(row);
        }
        table(
            &[
                "variant",
                "runs",
                "samples",
                "median",
                "range",
                "ratio vs baseline [95% CI]",
                "p (Holm)",
                "verdict",
            ],
            &rows,
            &mut md,
            &mut html,
        );
    }
    heading(2, "Settings as read back", &mut md, &mut html);
    let mut rows = Vec::new();
    for n in &names {
        let Some(v) = settings.get(n) else { continue };
        for a in v.namespace_settings.iter().chain(&v.host_settings) {
            rows.push(vec![
                n.clone(),
                a.setting.clone(),
                format!("{:?}", a.scope).to_lowercase(),
                a.before.clone().unwrap_or_default(),
                a.wanted.clone(),
                a.read_back.clone(),
            ]);
        }
        let rec = &record.variants.iter().find(|x| &x.name == n);
        if let Some(o) = rec.map(|r| &r.overrides) {
            if let Some(p) = o.placement {
                rows.push(vec![
                    n.clone(),
                    "placement".into(),
                    "case".into(),
                    String::new(),
                    p.to_string(),
                    p.to_string(),
                ]);
            }
            if let Some(e) = o.engine {
                rows.push(vec![
                    n.clone(),
                    "engine".into(),
                    "case".into(),
                    String::new(),
                    e.to_string(),
                    e.to_string(),
                ]);
            }
        }
    }
    table(
        &[
            "variant",
            "setting",
            "scope",
            "before",
            "wanted",
            "read back",
        ],
        &rows,
        &mut md,
        &mut html,
    );
    heading(2, "Host", &mut md, &mut html);
    let host = match &record.host_differences {
        Some(d) if d.is_empty() => {
            "The host's /proc/sys/net and lo were identical before and after the study.".to_string()
        }
        Some(d) => format!(
            "WARNING: the host's network settings differ after the study: {}",
            d.join("; ")
        ),
        None => "The host was not checked after the study (it did not finish).".to_string(),
    };
    para(&host, &mut md, &mut html);
    for line in &record.host_restore {
        para(line, &mut md, &mut html);
    }
    let failed: Vec<String> = record
        .runs
        .iter()
        .filter_map(|r| {
            Some(format!(
                "round {} {}: {}",
                r.round,
                r.variant,
                r.error.as_ref()?
            ))
        })
        .collect();
    if !failed.is_empty() {
        heading(2, "Errors", &mut md, &mut html);
        for f in failed {
            para(&f, &mut md, &mut html);
        }
    }

    html.push_str("</body></html>\n");
    Ok(Rendered {
        markdown: md,
        html,
        plots,
    })
}

/// Writes `report.md`, `report.html` and `plots/*.svg` into the study directory.
pub fn write(dir: &Path) -> Result<()> {
    let r = render(dir)?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    for (name, svg) in &r.plots {
        write_atomic(&plots.join(name), svg.as_bytes())?;
    }
    write_atomic(&dir.join("report.md"), r.markdown.as_bytes())?;
    write_atomic(&dir.join("report.html"), r.html.as_bytes())?;
    Ok(())
}
