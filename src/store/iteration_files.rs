//! A case's histogram files while it runs: after each measured iteration the merged `.hgrm` (and
//! stage and kind histograms) are rewritten and the iteration's interval appended to the `.hlog`, so a run killed halfway
//! through a case (SIGKILL, the out-of-memory killer, a power cut after the page cache is
//! written) keeps the histogram of every iteration that finished. When the case ends,
//! [`RunDir::write_case`] writes its files whole.

use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::Result;

use super::record::{CaseFiles, RunRecord};
use super::{RunDir, hgrm, hlog, write_atomic, write_error};
use crate::metrics::case_histograms::CaseHistograms;
use crate::metrics::histogram::LatencyHistogram;

impl RunDir {
    /// Writes what the last measured iteration of case `case` adds to its files (the merged
    /// stage sets of `--stages` and `--trace` rewritten too); returns the files the case has now.
    pub fn write_iteration(
        &self,
        record: &RunRecord,
        case: usize,
        histograms: &CaseHistograms,
    ) -> Result<CaseFiles> {
        let rel = format!("cases/{}", record.cases[case].case_id);
        let dir = self.root.join(&rel);
        std::fs::create_dir_all(&dir).map_err(|e| write_error(&dir, e))?;
        let base = record.cases[case].files.clone();
        self.case_files(&rel, histograms, base, |stem, merged, iterations| {
            self.append(record, case, &rel, stem, merged, iterations)
        })
    }

    /// Rewrites `<stem>.hgrm` and appends the last of `iterations` to `<stem>.hlog`.
    fn append(
        &self,
        record: &RunRecord,
        case: usize,
        rel: &str,
        stem: &str,
        merged: &LatencyHistogram,
        iterations: &[LatencyHistogram],
    ) -> Result<(String, String)> {
        let dir = self.root.join(rel);
        write_atomic(
            &dir.join(format!("{stem}.hgrm")),
            hgrm::render(merged).as_bytes(),
        )?;
        let (Some(histogram), Some(it)) = (iterations.last(), record.cases[case].iterations.last())
        else {
            anyhow::bail!("case {case} has no measured iteration to write");
        };
        let start = humantime::parse_rfc3339(&record.started_at).unwrap_or(SystemTime::now());
        let interval = hlog::Interval {
            start_offset: Duration::from_nanos(it.started_offset_ns),
            duration: Duration::from_nanos(it.elapsed_ns),
            histogram,
        };
        let bytes = hlog::render_appended(start, iterations.len() - 1, interval)?;
        let path = dir.join(format!("{stem}.hlog"));
        // One write() of whole lines: a process killed around it leaves the line or nothing.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| write_error(&path, e))?;
        Ok((format!("{rel}/{stem}.hgrm"), format!("{rel}/{stem}.hlog")))
    }
}
