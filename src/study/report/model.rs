//! The study report's model: everything report.md and report.html show, built once from the
//! study directory and handed to each exporter.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::comparison::{Comparison, compare};
use super::curve::{self, SweepCurve};
use super::figure::Figure;
use super::samples::{Samples, VariantSamples, collect};
use super::trust::{self, Trusts};
use super::verdicts::{self, CaseVerdicts};
use crate::compare::gate::Verdict;
use crate::spec::CaseId;
use crate::store::record::Spread;
use crate::study::plot::{RoundSamples, svg};
use crate::study::record::{RunStatus, StudyRecord, VariantRunRecord, read_json};

/// How the variants are compared, said once under the study's overview.
pub const METHOD: &str = "Each variant against the baseline with the regression gate's statistics: ratio of \
     medians variant/baseline with a 95% bootstrap interval (rounds resampled first, then \
     their iterations), one-sided Mann–Whitney U, Holm-corrected over every comparison of the \
     study; worse or better only when significant and the whole interval lies beyond the noise \
     threshold (5% for p50, throughput and receiver CPU, 10% for p99, which needs ≥100k \
     samples per iteration).";

/// What the verdict tables show, said once above them.
pub const VERDICTS: &str = "Per case, each variant against the baseline on the case's main figure; \
     the stages of the round trip that moved (per-iteration stage medians, two-sided Mann–Whitney \
     U, Holm over the variant's stages, and the 95% interval of the difference of medians \
     excluding zero); the cost: CPU time per message of client and server together, and the \
     share of the workers' CPUs' wall time spent polling in their idle loop (cpuidle POLL, which \
     /proc/stat counts as idle) and busy, medians over the variant's runs.";

/// The columns of a figure's table.
pub const VARIANT_HEADER: [&str; 8] = [
    "variant",
    "runs",
    "samples",
    "median",
    "range",
    "ratio vs baseline [95% CI]",
    "p (Holm)",
    "verdict",
];

/// The columns of the settings table.
pub const SETTING_HEADER: [&str; 6] = [
    "variant",
    "setting",
    "scope",
    "before",
    "wanted",
    "read back",
];

/// The whole study report.
pub struct StudyReport {
    /// `Study: <name>`.
    pub title: String,
    /// One line: id, variants × rounds, seed, runs complete, isolation.
    pub overview: String,
    /// Per case: each variant's verdict, the stages that moved, and the cost.
    pub verdicts: Vec<CaseVerdicts>,
    /// One section per case and figure.
    pub figures: Vec<FigureSection>,
    /// Each sweep's response curve per case and figure.
    pub curves: Vec<SweepCurve>,
    /// Every variant's settings as read back, one row each (see [`SETTING_HEADER`]).
    pub settings: Vec<Vec<String>>,
    /// What the host check and the journal restore found, one paragraph each.
    pub host: Vec<String>,
    /// The runs that failed, one line each.
    pub errors: Vec<String>,
}

/// One case and figure: its chart and every variant's row.
pub struct FigureSection {
    /// `<case> — <figure>`.
    pub title: String,
    /// The chart's file name under `plots/`.
    pub chart_file: String,
    /// The chart (SVG).
    pub chart_svg: String,
    /// One row per variant, the baseline first.
    pub rows: Vec<VariantRow>,
}

/// One variant's samples of a figure, and how it compares with the baseline.
pub struct VariantRow {
    /// The variant.
    pub variant: String,
    /// True for the first variant, which the others are compared with.
    pub baseline: bool,
    /// Runs that contributed.
    pub runs: usize,
    /// Iterations pooled over the runs.
    pub samples: usize,
    /// Median and range, as shown; `None` without samples.
    pub median_and_range: Option<(String, String)>,
    /// Against the baseline (`None` for the baseline itself).
    pub versus: Option<Comparison>,
}

impl VariantRow {
    /// The row's cells, in [`VARIANT_HEADER`] order.
    pub fn cells(&self) -> Vec<String> {
        let dash = || "-".to_string();
        let (median, range) = self
            .median_and_range
            .clone()
            .unwrap_or_else(|| (dash(), dash()));
        let mut row = vec![
            if self.baseline {
                format!("{} (baseline)", self.variant)
            } else {
                self.variant.clone()
            },
            self.runs.to_string(),
            self.samples.to_string(),
            median,
            range,
        ];
        match &self.versus {
            Some(c) => row.extend([c.ratio.clone(), c.p.clone(), c.verdict.clone()]),
            None => row.extend([dash(), dash(), dash()]),
        }
        row
    }
}

impl StudyReport {
    /// Reads the study in `dir` (study.json and every stored run), compares the variants and
    /// draws the charts.
    pub fn build(dir: &Path) -> Result<StudyReport> {
        let record: StudyRecord = read_json(&dir.join("study.json"))?;
        let collected = collect(dir, &record)?;
        let names: Vec<String> = record.variants.iter().map(|v| v.name.clone()).collect();
        let trusts = trust::assess(&collected.pools, &names);
        let mut versus = versus_baseline(&collected.samples, &trusts, &names);
        let verdicts = verdicts::build(&names, &collected, &versus, &trusts);
        let better = |case: &CaseId, figure: Figure, variant: &str| {
            versus
                .get(&(case.clone(), figure, variant.to_string()))
                .is_some_and(|c| c.outcome == Verdict::Improvement)
        };
        let curves = curve::build(&record.sweeps, &names, &collected, &better)?;
        let mut figures = Vec::new();
        for ((case, figure), by_variant) in &collected.samples {
            figures.push(section(case, *figure, by_variant, &names, &mut versus)?);
        }
        Ok(StudyReport {
            title: format!("Study: {}", record.name),
            overview: overview(&record) + &disturbed(&trusts),
            verdicts,
            figures,
            curves,
            settings: setting_rows(&record, &names, &collected.settings),
            host: host(&record),
            errors: errors(&record),
        })
    }
}

/// A comparison keyed by the case, figure and variant it belongs to.
type Versus = BTreeMap<(CaseId, Figure, String), Comparison>;

/// Every variant but the baseline against the baseline, for every case and figure: compared
/// together, as Holm's correction spans the whole study, each without the disturbed iterations
/// when trust leaves them out.
fn versus_baseline(samples: &Samples, trusts: &Trusts, names: &[String]) -> Versus {
    let baseline = names.first().cloned().unwrap_or_default();
    let mut keys = Vec::new();
    let mut pairs = Vec::new();
    for ((case, figure), by_variant) in samples {
        let base = by_variant.get(&baseline).cloned().unwrap_or_default();
        for name in names.iter().skip(1) {
            let variant = by_variant.get(name).cloned().unwrap_or_default();
            keys.push((case.clone(), *figure, name.clone()));
            let (b, v) = trust::pair(trusts, case, name, base.clone(), variant);
            pairs.push((*figure, b, v));
        }
    }
    keys.into_iter()
        .zip(compare(&pairs))
        .map(|(key, mut c)| {
            c.disturbed = trust::note(trusts, &key.0, &key.2);
            (key, c)
        })
        .collect()
}

/// The section of one case and figure: the chart and one row per variant.
fn section(
    case: &CaseId,
    figure: Figure,
    by_variant: &BTreeMap<String, VariantSamples>,
    names: &[String],
    versus: &mut Versus,
) -> Result<FigureSection> {
    let title = format!("{case} — {}", figure.name());
    let of = |name: &String| by_variant.get(name).cloned().unwrap_or_default();
    let series: Vec<(String, RoundSamples)> = names
        .iter()
        .map(|n| {
            let s = of(n);
            (n.clone(), s.rounds.into_iter().zip(s.values).collect())
        })
        .collect();
    let chart_file = format!("{case}-{}.svg", figure.slug());
    let chart_svg = svg(&title, &figure.axis(), &series)?;
    let rows = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let s = of(n);
            let spread = Spread::of(s.values.iter().copied());
            VariantRow {
                variant: n.clone(),
                baseline: i == 0,
                runs: s.runs,
                samples: s.values.len(),
                median_and_range: (!s.values.is_empty()).then(|| {
                    (
                        figure.show(spread.median),
                        format!("{} – {}", figure.show(spread.min), figure.show(spread.max)),
                    )
                }),
                versus: versus.remove(&(case.clone(), figure, n.clone())),
            }
        })
        .collect();
    Ok(FigureSection {
        title,
        chart_file,
        chart_svg,
        rows,
    })
}

fn overview(record: &StudyRecord) -> String {
    let done = record
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Done)
        .count();
    format!(
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
    ) + &precision(record)
}

/// ` · disturbed iterations: none`, or in how many comparisons (variant against baseline, per
/// case) they were left out and kept.
fn disturbed(trusts: &Trusts) -> String {
    let any: Vec<&trust::Kept> = trusts
        .values()
        .filter(|k| k.trust.disturbed_note().is_some())
        .collect();
    if any.is_empty() {
        return " · disturbed iterations: none".into();
    }
    let left_out = any.iter().filter(|k| k.trust.left_out).count();
    format!(
        " · disturbed iterations left out in {left_out} and kept in {} of {} comparison(s) (the verdicts say how many and why)",
        any.len() - left_out,
        trusts.len()
    )
}

/// ` · --precision ±2 %: reached after 7 rounds, widest ±1.8 % (case, variant)`; empty without
/// `--precision`.
fn precision(record: &StudyRecord) -> String {
    let Some(p) = &record.precision else {
        return String::new();
    };
    let widest = p
        .cases
        .iter()
        .max_by(|a, b| a.half_width_rel.total_cmp(&b.half_width_rel));
    let short = p.cases.iter().filter(|c| !c.reached).count();
    format!(
        " · --precision ±{:.1} %: {} after {} round(s){}{}",
        p.target_rel * 100.0,
        match p.stopped.as_str() {
            "reached" => "reached".to_string(),
            other => format!("stopped ({other})"),
        },
        p.rounds,
        widest.map_or(String::new(), |w| format!(
            ", widest ±{:.1} % ({} {}, {})",
            w.half_width_rel * 100.0,
            w.case,
            w.figure,
            w.variant
        )),
        if short > 0 {
            format!(", {short} comparison(s) short of the target")
        } else {
            String::new()
        }
    )
}

/// Each variant's settings as its first stored run read them back, then the case overrides
/// (placement, engine) it ran with.
fn setting_rows(
    record: &StudyRecord,
    names: &[String],
    settings: &BTreeMap<String, VariantRunRecord>,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for n in names {
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
        let Some(o) = record
            .variants
            .iter()
            .find(|x| &x.name == n)
            .map(|r| &r.overrides)
        else {
            continue;
        };
        let overrides = [
            ("placement", o.placement.map(|p| p.to_string())),
            ("engine", o.engine.map(|e| e.to_string())),
        ];
        for (setting, value) in overrides {
            if let Some(value) = value {
                rows.push(vec![
                    n.clone(),
                    setting.into(),
                    "case".into(),
                    String::new(),
                    value.clone(),
                    value,
                ]);
            }
        }
    }
    rows
}

/// Whether the host came out of the study as it went in, and what the journal restored.
fn host(record: &StudyRecord) -> Vec<String> {
    let check = match &record.host_differences {
        Some(d) if d.is_empty() => {
            "The host's /proc/sys/net and lo were identical before and after the study.".to_string()
        }
        Some(d) => format!(
            "WARNING: the host's network settings differ after the study: {}",
            d.join("; ")
        ),
        None => "The host was not checked after the study (it did not finish).".to_string(),
    };
    std::iter::once(check)
        .chain(record.host_restore.iter().cloned())
        .collect()
}

/// The runs that failed: `round 2 fast: <error>`.
fn errors(record: &StudyRecord) -> Vec<String> {
    record
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
        .collect()
}
