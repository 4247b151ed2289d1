//! The latency tails of a benchmark that criterion only sees as a mean: every round trip's
//! latency merged into one HDR histogram, saved as `.hgrm` beside criterion's own results and
//! said as p50/p99/p99.9.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::metrics::histogram::{LatencyHistogram, new_histogram};
use crate::text::{sanitize, us};

/// Every latency of one benchmark, by name.
pub struct Tails {
    name: String,
    histogram: LatencyHistogram,
}

impl Tails {
    /// An empty record for the benchmark `name` (its file name is made from it).
    pub fn new(name: &str) -> Tails {
        Tails {
            name: name.to_string(),
            histogram: new_histogram(),
        }
    }

    /// Adds a batch's latencies.
    pub fn add(&mut self, batch: &LatencyHistogram) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.histogram.add(batch);
    }

    /// Everything added so far.
    pub fn histogram(&self) -> &LatencyHistogram {
        &self.histogram
    }

    /// `dir/loopbench/<name>.hgrm`, where [`Tails::save`] writes.
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join("loopbench")
            .join(format!("{}.hgrm", sanitize(&self.name, "._-")))
    }

    /// Writes the histogram (HdrHistogram's percentile text, values in µs) under `dir`.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let path = self.path_in(dir);
        let parent = path.parent().expect("a file under dir/loopbench");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        crate::store::write_atomic(
            &path,
            crate::store::hgrm::render(&self.histogram).as_bytes(),
        )?;
        Ok(path)
    }

    /// One line: `name: p50 6.21 µs  p99 9.80 µs  p99.9 31.2 µs  (N round trips)`.
    pub fn line(&self) -> String {
        let at = |q: f64| us(self.histogram.value_at_quantile(q) as f64);
        format!(
            "{}: p50 {} µs  p99 {} µs  p99.9 {} µs  ({} round trips)",
            self.name,
            at(0.50),
            at(0.99),
            at(0.999),
            self.histogram.len()
        )
    }
}

/// Where criterion keeps its results: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `target/criterion` (a bench runs in its package's directory).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::record;

    #[test]
    fn tails_are_said_and_saved_as_hgrm() {
        let mut batch = new_histogram();
        for ns in 1..=1000u64 {
            record(&mut batch, ns * 1000);
        }
        let mut tails = Tails::new("tcp4/rr 64B");
        tails.add(&batch);
        tails.add(&batch);
        assert_eq!(tails.histogram().len(), 2000);
        let line = tails.line();
        assert!(
            line.starts_with("tcp4/rr 64B: p50 500 µs  p99 990 µs  p99.9 999 µs"),
            "{line}"
        );
        assert!(line.ends_with("(2000 round trips)"), "{line}");

        let dir = tempfile::tempdir().unwrap();
        let path = tails.save(dir.path()).unwrap();
        assert_eq!(path, dir.path().join("loopbench/tcp4_rr_64B.hgrm"));
        let rows = crate::store::hgrm::parse(&std::fs::read_to_string(&path).unwrap());
        let last = rows.last().expect("percentile rows");
        assert_eq!(last.2, 2000, "the total count of the last row");
    }
}
