//! What a report is made from: a run's record and its latency histograms, read back from the run
//! directory (`cases/<id>/latency.hlog`, one interval per iteration).

use std::path::{Path, PathBuf};

use anyhow::Result;

pub use crate::metrics::case_histograms::CaseHistograms;
use crate::store::hlog;
use crate::store::record::{CaseRecord, RunRecord};

/// A run, ready to be presented.
#[derive(Clone, Debug)]
pub struct RunData {
    /// The run directory (reports are written into it).
    pub dir: PathBuf,
    /// run.json.
    pub record: RunRecord,
    /// Per case, in the order of `record.cases`.
    pub histograms: Vec<CaseHistograms>,
    /// What could not be read, for the report's notes.
    pub notes: Vec<String>,
}

/// Cases that differ only in their transport, shown together on overlay charts.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The case id without its transport: `rr-blocking-cross-core-64B`.
    pub key: String,
    /// Indices into the run's cases.
    pub cases: Vec<usize>,
}

/// The case id without the leading transport.
pub fn group_key(case: &CaseRecord) -> String {
    let id = case.case_id.as_str();
    id.strip_prefix(case.spec.transport.as_str())
        .map(|rest| rest.trim_start_matches('-'))
        .unwrap_or(id)
        .to_string()
}

fn read_case(dir: &Path, case: &CaseRecord) -> Result<CaseHistograms, String> {
    let Some(rel) = &case.files.hlog else {
        return Err(if case.iterations.is_empty() {
            "no iteration finished".into()
        } else {
            "run.json names no latency.hlog".into()
        });
    };
    let path = dir.join(rel);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let iterations = hlog::read(&bytes).map_err(|e| format!("{}: {e:#}", path.display()))?;
    CaseHistograms::from_iterations(iterations)
        .map_err(|e| format!("cannot merge its iterations: {e:?}"))
}

impl RunData {
    /// Loads run.json and every case's interval log; a case whose log is missing or unreadable
    /// keeps its summary figures and gets a note instead of charts.
    pub fn load(dir: &Path) -> Result<RunData> {
        let record = crate::store::load_run(dir)?;
        let mut notes = Vec::new();
        let histograms = record
            .cases
            .iter()
            .map(|c| {
                read_case(dir, c).unwrap_or_else(|why| {
                    notes.push(format!("{}: no latency histogram ({why})", c.case_id));
                    CaseHistograms::default()
                })
            })
            .collect();
        Ok(RunData {
            dir: dir.to_path_buf(),
            record,
            histograms,
            notes,
        })
    }

    /// Cases grouped by everything but their transport, in the order of first appearance.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        for (i, c) in self.record.cases.iter().enumerate() {
            let key = group_key(c);
            match groups.iter_mut().find(|g| g.key == key) {
                Some(g) => g.cases.push(i),
                None => groups.push(Group {
                    key,
                    cases: vec![i],
                }),
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::report::fixture;
    use crate::spec::{EngineKind, Placement, Transport};

    #[test]
    fn histograms_are_read_back_and_a_missing_log_becomes_a_note() {
        let data = fixture::run(&[
            fixture::rr(
                Transport::Pipe,
                EngineKind::Blocking,
                Placement::CrossCore,
                64,
                &[1000, 2000],
            ),
            fixture::rr(
                Transport::Shm,
                EngineKind::Blocking,
                Placement::CrossCore,
                64,
                &[500],
            ),
        ]);
        let tmp = tempfile::tempdir().unwrap();
        let mut record = data.record.clone();
        let intervals: Vec<hlog::Interval<'_>> = data.histograms[0]
            .iterations
            .iter()
            .map(|h| hlog::Interval {
                start_offset: Duration::ZERO,
                duration: Duration::from_secs(1),
                histogram: h,
            })
            .collect();
        std::fs::write(
            tmp.path().join("pipe.hlog"),
            hlog::render(SystemTime::now(), &intervals).unwrap(),
        )
        .unwrap();
        record.cases[0].files.hlog = Some("pipe.hlog".into());
        record.cases[1].files.hlog = Some("gone.hlog".into());
        std::fs::write(
            tmp.path().join("run.json"),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
        let loaded = RunData::load(tmp.path()).unwrap();
        assert_eq!(
            loaded.histograms[0].iterations,
            data.histograms[0].iterations
        );
        assert_eq!(loaded.histograms[0].merged, data.histograms[0].merged);
        assert!(loaded.histograms[1].merged_if_any().is_none());
        assert_eq!(loaded.notes.len(), 1);
        assert!(
            loaded.notes[0]
                .starts_with("shm-rr-blocking-cross-core-64B: no latency histogram (cannot read"),
            "{:?}",
            loaded.notes
        );
    }

    #[test]
    fn groups_hold_the_cases_that_differ_only_in_transport() {
        let data = fixture::anatomy_run();
        let groups = data.groups();
        assert_eq!(groups.len(), 4);
        assert_eq!(groups[0].key, "rr-blocking-same-core-64B");
        assert_eq!(groups[0].cases, vec![0, 1, 2, 3, 4]);
    }
}
