//! The study's comparison report (`report.md`, `report.html`): per case, every variant side by
//! side with its per-iteration samples pooled over the rounds, each variant against the first
//! (baseline) one, and the settings each variant ran with as read back.
//!
//! The report is built once into a [`StudyReport`] (model.rs) and rendered by one exporter per
//! format (markdown.rs, html.rs), through the run report's [`Exporter`] trait.

mod comparison;
mod curve;
mod figure;
pub mod html;
pub mod markdown;
mod model;
pub mod precision;
mod samples;
mod stages;
mod trust;
mod verdicts;

use std::path::Path;

use anyhow::Result;

use crate::report::export::{Exporter, write_all};
use crate::store::write_atomic;
pub use comparison::{Comparison, compare};
pub use curve::{CURVE_HEADER, SweepCurve};
pub use figure::Figure;
pub use model::{FigureSection, METHOD, SETTING_HEADER, StudyReport, VARIANT_HEADER, VariantRow};
pub use samples::VariantSamples;
pub use stages::StageChange;
pub use verdicts::{CaseVerdicts, VERDICT_HEADER};

/// Every export of a study's report, in the order they are written.
pub fn exporters() -> Vec<Box<dyn Exporter<StudyReport>>> {
    vec![Box::new(markdown::Markdown), Box::new(html::Html)]
}

/// Writes `report.md`, `report.html` and `plots/*.svg` into the study directory.
pub fn write(dir: &Path) -> Result<()> {
    let report = StudyReport::build(dir)?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    for f in &report.figures {
        write_atomic(&plots.join(&f.chart_file), f.chart_svg.as_bytes())?;
    }
    for c in &report.curves {
        write_atomic(&plots.join(&c.chart_file), c.chart_svg.as_bytes())?;
    }
    write_all(dir, &report, &exporters())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::spec::Workload;
    use crate::spec::{EngineKind, Placement, Transport};
    use crate::store::stages::StageMap;
    use crate::store::write_json;
    use crate::study::cpucost::{CpuCost, CpuWindow};
    use crate::study::record::{CaseMapping, STUDY_SCHEMA_VERSION, StudyRun};
    use crate::study::record::{RunStatus, StudyRecord, VariantRunRecord};
    use crate::study::settings::{AppliedSetting, CaseOverrides, Scope, Variant};
    use crate::study::sweep::{Sweep, SweepPoint};

    fn variant(name: &str, overrides: CaseOverrides) -> Variant {
        Variant {
            name: name.into(),
            description: None,
            settings: Default::default(),
            overrides,
        }
    }

    /// A study of three variants over two rounds, written as `study` writes it: an rr case
    /// (p50, p99) and a stream case (throughput, receiver CPU). `slower` is 20 % slower and
    /// has a namespace setting; `spin` changes the engine and placement (so its run's case ids
    /// differ from the study's) and failed in round 2.
    fn study_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let spin = CaseOverrides {
            engine: Some(EngineKind::Spin.into()),
            placement: Some(Placement::SameCore),
            ..CaseOverrides::default()
        };
        let variants = vec![
            variant("default", CaseOverrides::default()),
            variant("slower", CaseOverrides::default()),
            variant("spin", spin),
        ];
        let mut runs = Vec::new();
        for round in 1..=2u32 {
            for (k, v) in variants.iter().enumerate() {
                let failed = v.name == "spin" && round == 2;
                let run_id = format!("r{round}-{}", v.name);
                runs.push(StudyRun {
                    round,
                    variant: v.name.clone(),
                    run_seed: u64::from(round) * 10 + k as u64,
                    status: if failed {
                        RunStatus::Failed
                    } else {
                        RunStatus::Done
                    },
                    run_id: (!failed).then(|| run_id.clone()),
                    error: failed.then(|| "the child exited with status 1".to_string()),
                });
                if failed {
                    continue;
                }
                write_variant_run(dir.path(), &run_id, round, v);
            }
        }
        let record = StudyRecord {
            schema_version: STUDY_SCHEMA_VERSION,
            study_id: "20260101T000000Z-abcd-mtu".into(),
            name: "mtu".into(),
            description: None,
            file: None,
            source: String::new(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: Some("2026-01-01T00:10:00Z".into()),
            complete: true,
            interrupted: false,
            seed: 3,
            rounds: 2,
            inherit_host_sysctls: false,
            cases: Vec::new(),
            variants,
            // Two of the variants as a sweep's points, drawn against the baseline.
            sweeps: vec![Sweep {
                setting: "lo_mtu".into(),
                points: vec![
                    SweepPoint {
                        variant: "slower".into(),
                        value: 1500,
                    },
                    SweepPoint {
                        variant: "spin".into(),
                        value: 9000,
                    },
                ],
                log: false,
            }],
            runs,
            host_environment: Default::default(),
            host_differences: Some(vec!["net.core.somaxconn: 4096 → 128".into()]),
            journal: None,
            host_restore: vec!["restored net.core.somaxconn to 4096".into()],
            precision: None,
        };
        write_json(&dir.path().join("study.json"), &record).unwrap();
        dir
    }

    fn write_variant_run(dir: &Path, run_id: &str, round: u32, v: &Variant) {
        let scale = match v.name.as_str() {
            "slower" => 1.2,
            "spin" => 0.5,
            _ => 1.0,
        } * (1.0 + 0.01 * f64::from(round));
        let p50s: Vec<u64> = [10_000.0, 10_300.0, 9_800.0]
            .iter()
            .map(|p| (p * scale) as u64)
            .collect();
        let engine = v.overrides.engine.map_or(EngineKind::Blocking, |e| e.kind);
        let placement = v.overrides.placement.unwrap_or(Placement::CrossCore);
        let rr = fixture::rr(Transport::Tcp4, engine, placement, 64, &p50s);
        let mut stream = fixture::bulk(Transport::Tcp4, 65536, 2e9 / scale, 8e9);
        stream.spec.workload = Workload::Stream;
        stream.spec.engine = engine;
        stream.spec.placement = placement;
        stream.p50s_ns = p50s.clone();
        let mut data = fixture::run(&[rr, stream]);
        data.record.run_id = run_id.into();
        // Stages of the rr case: `slower` is slower in its wake-up only.
        for (k, it) in data.record.cases[0].iterations.iter_mut().enumerate() {
            let wakeup = if v.name == "slower" { 3_000 } else { 1_000 } + 10 * k as u64;
            it.extras.stages = StageMap(vec![
                ("client_send".into(), 2_000 + 10 * k as u64),
                ("wakeup".into(), wakeup),
            ]);
        }
        let run_dir = dir.join("runs").join(run_id);
        std::fs::create_dir_all(&run_dir).unwrap();
        write_json(&run_dir.join("run.json"), &data.record).unwrap();
        let study_case = |workload: Workload, size: usize| {
            let mut s = fixture::rr(
                Transport::Tcp4,
                EngineKind::Blocking,
                Placement::CrossCore,
                size,
                &[],
            )
            .spec;
            s.workload = workload;
            s.case_id()
        };
        let cases = data
            .record
            .cases
            .iter()
            .map(|c| CaseMapping {
                study_case: study_case(c.spec.workload, c.spec.size),
                run_case: c.case_id.clone(),
            })
            .collect();
        let namespace_settings = if v.name == "slower" {
            vec![AppliedSetting {
                setting: "lo mtu".into(),
                scope: Scope::Namespace,
                before: Some("65536".into()),
                wanted: "1500".into(),
                read_back: "1500".into(),
            }]
        } else {
            Vec::new()
        };
        let variant = VariantRunRecord {
            schema_version: STUDY_SCHEMA_VERSION,
            study_id: "20260101T000000Z-abcd-mtu".into(),
            variant: v.name.clone(),
            round,
            cases,
            namespace_settings,
            inherited_sysctls: Default::default(),
            host_settings: Vec::new(),
            host_environment: Default::default(),
            cpu_cost: Some(cost(if v.name == "spin" { 0.9 } else { 0.1 })),
        };
        write_json(&run_dir.join("variant.json"), &variant).unwrap();
    }

    /// One second on CPUs 0 and 1, 20 % busy, `poll` of it polling in idle.
    fn cost(poll: f64) -> CpuCost {
        let cpu = |cpu| CpuWindow {
            cpu,
            busy_ns: 200_000_000,
            poll_ns: (poll * 1e9) as u64,
            idle_states_us: Default::default(),
        };
        CpuCost {
            wall_ns: 1_000_000_000,
            worker_cpus: vec![0, 1],
            cpus: vec![cpu(0), cpu(1)],
        }
    }

    #[test]
    fn the_report_compares_every_variant_with_the_baseline_in_markdown_and_html() {
        let dir = study_dir();
        let r = StudyReport::build(dir.path()).unwrap();
        insta::assert_snapshot!(
            "study_report_markdown",
            markdown::Markdown.render(&r).unwrap()
        );
        insta::assert_snapshot!("study_report_html", html::Html.render(&r).unwrap());
        let files: Vec<&str> = r.figures.iter().map(|f| f.chart_file.as_str()).collect();
        assert_eq!(
            files,
            [
                "tcp4-rr-blocking-cross-core-64B-p50.svg",
                "tcp4-rr-blocking-cross-core-64B-p99.svg",
                "tcp4-stream-blocking-cross-core-65536B-throughput.svg",
                "tcp4-stream-blocking-cross-core-65536B-receiver-cpu.svg",
            ]
        );
        let curves: Vec<&str> = r.curves.iter().map(|c| c.chart_file.as_str()).collect();
        assert_eq!(curves.len(), 4, "one curve per case and figure: {curves:?}");
        assert_eq!(
            curves[0],
            "sweep-lo_mtu-tcp4-rr-blocking-cross-core-64B-p50.svg"
        );
        // Both panels: the figure and the CPU per message.
        assert!(
            r.curves[0]
                .chart_svg
                .contains("CPU per message, client + server")
        );
        // spin's −50 % is the best point, but from one run the gate calls it inconclusive:
        // no value is named.
        assert!(
            r.curves[0]
                .finding
                .starts_with("No value of lo_mtu changed p50 beyond the noise"),
            "{}",
            r.curves[0].finding
        );
    }

    /// Runs iteration 0 of `run_id`'s rr case beside a CPU hog (half the workers' CPU time
    /// foreign, 3× slower), or, with `never`, removes it: the run as if the hog had not run.
    fn hog(dir: &Path, run_id: &str, never: bool) {
        use crate::metrics::interference::Interference;
        let path = dir.join("runs").join(run_id).join("run.json");
        let mut rec: crate::store::record::RunRecord = crate::store::read_json(&path).unwrap();
        let its = &mut rec.cases[0].iterations;
        if never {
            its.remove(0);
        } else {
            its[0].latency.p50_ns *= 3;
            its[0].client.usage.cpu_ns_per_msg *= 3.0;
            its[0].server.usage.cpu_ns_per_msg *= 3.0;
            for (_, ns) in its[0].extras.stages.0.iter_mut() {
                *ns *= 3;
            }
            its[0].extras.interference = Some(Interference {
                wall_ns: 1_000_000_000,
                tick_ns: 10_000_000,
                cpus: Vec::new(),
                worker_cpu_ns: 1_000_000_000,
                foreign_cpu_ns: 1_000_000_000,
                foreign_share: Some(0.5),
                steal_share: Some(0.0),
                involuntary_switches: 0,
                migrations: Some(0),
            });
        }
        write_json(&path, &rec).unwrap();
    }

    #[test]
    fn a_hogged_iteration_is_left_out_of_the_study_comparison_and_said() {
        let (dir, clean) = (study_dir(), study_dir());
        hog(dir.path(), "r1-slower", false);
        hog(clean.path(), "r1-slower", true);
        let r = StudyReport::build(dir.path()).unwrap();
        let k = StudyReport::build(clean.path()).unwrap();
        // The rr case's verdicts: `slower` against the baseline, in the gate's words.
        let said = &r.verdicts[0].sentences[0];
        assert!(
            said.contains(
                "against the baseline (base), left out as disturbed: base 0 of 6, new 1 of 6 (foreign_cpu 1)"
            ),
            "{said}"
        );
        assert!(
            r.overview
                .contains(" · disturbed iterations left out in 1 and kept in 0 of 4 comparison(s)"),
            "{}",
            r.overview
        );
        assert!(
            k.overview.ends_with(" · disturbed iterations: none"),
            "{}",
            k.overview
        );
        // The comparison is the one the study would give had the hog never run.
        let p50 = |r: &StudyReport| r.figures[0].rows[1].versus.clone().unwrap();
        assert_eq!(r.figures[0].title, k.figures[0].title);
        let (hogged, without) = (p50(&r), p50(&k));
        assert_eq!(hogged.ratio, without.ratio);
        assert_eq!(hogged.outcome, without.outcome);
        assert_eq!(r.verdicts[0].rows[1][2], k.verdicts[0].rows[1][2]);
        // So are the CPU per message and the stages against the baseline.
        let (cpu, stages) = (&r.verdicts[0].rows[1][6], &r.verdicts[0].rows[1][4]);
        assert_ne!(cpu, "-", "a CPU change is computed");
        assert_eq!(cpu, &k.verdicts[0].rows[1][6]);
        assert_eq!(stages, &k.verdicts[0].rows[1][4]);
    }

    #[test]
    fn the_precision_of_a_stored_study_is_read_from_its_runs_and_told_in_the_overview() {
        let dir = study_dir();
        let study = dir.path().join("study.json");
        let mut record: StudyRecord = crate::store::read_json(&study).unwrap();
        let cases = precision::assess(dir.path(), &record, 0.02).unwrap();
        // Two variants against the baseline, each on its two cases' main figures.
        let mut seen: Vec<(&str, &str)> = cases
            .iter()
            .map(|c| (c.variant.as_str(), c.figure.as_str()))
            .collect();
        seen.sort();
        let want = [
            ("slower", "p50"),
            ("slower", "throughput"),
            ("spin", "p50"),
            ("spin", "throughput"),
        ];
        assert_eq!(seen, want, "{cases:?}");
        let slower = cases
            .iter()
            .find(|c| c.variant == "slower" && c.figure == "p50")
            .unwrap();
        let ratio = slower.estimate.unwrap().point;
        assert!((ratio - 1.2).abs() < 0.02, "{ratio}");
        assert_eq!(slower.reached, slower.half_width_rel <= 0.02);
        record.precision = Some(crate::study::record::StudyPrecision {
            target_rel: 0.02,
            max_time_ns: 600_000_000_000,
            rounds: record.rounds,
            stopped: "max-time".into(),
            cases,
        });
        write_json(&study, &record).unwrap();
        let overview = StudyReport::build(dir.path()).unwrap().overview;
        assert!(
            overview
                .contains(" · --precision ±2.0 %: stopped (max-time) after 2 round(s), widest ±"),
            "{overview}"
        );
    }
}
