//! The results directory: `results/runs/<run-id>/` with `run.json` and, per case,
//! `cases/<case-id>/latency.hgrm` and `latency.hlog`. Every file is written atomically (temp file
//! and rename) and as soon as its data exists, so an interrupted run loses nothing it finished.

#[doc(hidden)]
pub mod baseline;
#[doc(hidden)]
pub mod find;
#[doc(hidden)]
pub mod hgrm;
#[doc(hidden)]
pub mod hlog;
mod iteration_files;
#[doc(hidden)]
pub mod kernel;
#[doc(hidden)]
pub mod metric;
#[doc(hidden)]
pub mod migrate;
#[doc(hidden)]
pub mod optional;
pub mod record;
#[doc(hidden)]
pub mod service;
#[doc(hidden)]
pub mod stage_split;
#[doc(hidden)]
pub mod stages;
#[doc(hidden)]
pub mod trust;
#[doc(hidden)]
pub mod trust_tally;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::UsageError;
use record::{CaseFiles, RunRecord, SCHEMA_VERSION};

/// The default results directory, relative to the working directory.
#[doc(hidden)]
pub const DEFAULT_RESULTS_DIR: &str = "results";

/// The environment variable that names the results directory when `-o/--output` is not given
/// (every command honours it; `loopbench ab` sets it for its commands).
#[doc(hidden)]
pub const OUTPUT_ENV: &str = "LOOPBENCH_OUTPUT";

/// A new run id: UTC start time to the second plus a random suffix, e.g. `20261127T183705Z-4f2a`.
#[doc(hidden)]
pub fn new_run_id(now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(now)
        .to_string()
        .replace(['-', ':'], "");
    format!("{stamp}-{:04x}", rand::rng().random::<u16>())
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same directory,
/// synced to disk, renamed over `path`, then the directory synced (so a crash or power loss
/// leaves either the old file or the whole new one, never a truncated one).
#[doc(hidden)]
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // Results are meant to be read by others (a web server, a CI artifact): 0644 less the
    // umask, like any file a program creates, not tempfile's private 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| write_error(dir, e))?;
    tmp.write_all(bytes).map_err(|e| write_error(path, e))?;
    tmp.as_file().sync_all().map_err(|e| write_error(path, e))?;
    tmp.persist(path).map_err(|e| write_error(path, e.error))?;
    sync_dir(dir)
}

/// Syncs directory `dir` to disk, so the renames and new entries in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    // An empty parent (a bare file name) is the working directory.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| write_error(dir, e))
}

/// The error of a failed write to `path`: one the user fixes (a full disk, a read-only file
/// system, no permission) is a usage error (exit 2) that says what to do; any other names the
/// path once.
#[doc(hidden)]
pub fn write_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    use std::io::ErrorKind;
    let what = match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            "the disk is full: free some space or choose another --output"
        }
        ErrorKind::ReadOnlyFilesystem => {
            "it is on a read-only file system: choose a writable --output"
        }
        ErrorKind::PermissionDenied => "permission denied: choose a writable --output",
        ErrorKind::NotADirectory => "a part of the path is not a directory: choose another",
        _ => return anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
    };
    UsageError(format!("cannot write {}: {what} ({e})", path.display())).into()
}

/// Writes `value` as pretty JSON to `path`, atomically.
#[doc(hidden)]
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    // write_atomic's errors name the path already.
    write_atomic(path, &serde_json::to_vec_pretty(value)?)
}

/// Reads a JSON file into `T`.
#[doc(hidden)]
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid record", path.display()))
}

/// Reads a run from its directory or its run.json, checking the schema version.
pub fn load_run(path: &Path) -> Result<RunRecord> {
    let file = if path.is_dir() {
        path.join("run.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|e| {
        UsageError(format!(
            "cannot read {}: {e}; give a run directory or its run.json",
            file.display()
        ))
    })?;
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        UsageError(format!(
            "{} is not valid JSON ({e}); the file is corrupt or truncated",
            file.display()
        ))
    })?;
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    match version {
        None => bail!(UsageError(format!(
            "{} has no schema_version: it is not a loopbench run.json",
            file.display()
        ))),
        Some(0) => bail!(UsageError(format!(
            "{} has schema_version 0, which does not exist (versions start at 1): the file is \
             not a loopbench run.json, or it was edited",
            file.display()
        ))),
        Some(v) if v > u64::from(SCHEMA_VERSION) => bail!(UsageError(format!(
            "{} has schema_version {v}, newer than this loopbench understands ({SCHEMA_VERSION}); upgrade loopbench",
            file.display()
        ))),
        Some(v) => migrate::upgrade(&mut value, v),
    }
    serde_json::from_value(value).map_err(|e| {
        UsageError(format!(
            "{} does not match the run.json schema: {e}",
            file.display()
        ))
        .into()
    })
}

/// The directory of one run.
#[doc(hidden)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Creates `results/runs/<run-id>/`, refusing to reuse an existing one.
    pub fn create(results: &Path, run_id: &str) -> Result<RunDir> {
        let root = results.join("runs").join(run_id);
        if root.exists() {
            bail!(
                "{} already exists; run ids are never reused",
                root.display()
            );
        }
        std::fs::create_dir_all(&root).map_err(|e| {
            UsageError(format!(
                "cannot create the results directory {}: {e}; choose a writable --output directory",
                root.display()
            ))
        })?;
        Ok(RunDir { root })
    }

    /// The run's directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// (Re)writes run.json.
    pub fn write_record(&self, record: &RunRecord) -> Result<()> {
        write_json(&self.root.join("run.json"), record)
    }

    /// Writes a case's hgrm and hlog and returns their paths relative to the run directory.
    pub fn write_case(
        &self,
        record: &RunRecord,
        case: usize,
        histograms: &crate::metrics::case_histograms::CaseHistograms,
    ) -> Result<CaseFiles> {
        let rec = &record.cases[case];
        let rel = format!("cases/{}", rec.case_id);
        let dir = self.root.join(&rel);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        self.case_files(
            &rel,
            histograms,
            CaseFiles::default(),
            |stem, merged, iterations| {
                self.write_pair(record, case, &rel, stem, merged, iterations)
            },
        )
    }

    /// A case's files: its latency pair (and `rate`'s pair from the actual send times) written
    /// by `pair`, its stage and kind sets rewritten whole; the other fields from `base`.
    fn case_files(
        &self,
        rel: &str,
        histograms: &crate::metrics::case_histograms::CaseHistograms,
        base: CaseFiles,
        mut pair: impl FnMut(
            &str,
            &crate::metrics::histogram::LatencyHistogram,
            &[crate::metrics::histogram::LatencyHistogram],
        ) -> Result<(String, String)>,
    ) -> Result<CaseFiles> {
        let (hgrm, hlog) = pair("latency", &histograms.merged, &histograms.iterations)?;
        let mut files = CaseFiles {
            hgrm: Some(hgrm),
            hlog: Some(hlog),
            ..base
        };
        if let Some(merged) = &histograms.actual_merged {
            let (hgrm, hlog) = pair("latency-actual", merged, &histograms.actual)?;
            files.hgrm_actual = Some(hgrm);
            files.hlog_actual = Some(hlog);
        }
        files.stages = self.write_stages(rel, "stages", &histograms.stages)?;
        files.kernel_stages = self.write_stages(rel, "kernel-stages", &histograms.kernel_stages)?;
        files.kinds = self.write_stages(rel, "kinds", &histograms.kinds)?;
        Ok(files)
    }

    /// Writes one `<stage>.hgrm` per stage of `set` into `<rel>/<sub>/`; returns that directory
    /// relative to the run, or `None` (and writes nothing) for an empty set.
    fn write_stages(
        &self,
        rel: &str,
        sub: &str,
        set: &crate::metrics::stages::StageSet,
    ) -> Result<Option<String>> {
        if set.is_empty() {
            return Ok(None);
        }
        let rel = format!("{rel}/{sub}");
        let dir = self.root.join(&rel);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for s in &set.stages {
            let name = crate::text::sanitize(&s.name, "._-");
            write_atomic(
                &dir.join(format!("{name}.hgrm")),
                hgrm::render(&s.histogram).as_bytes(),
            )?;
        }
        Ok(Some(rel))
    }

    /// Writes `<stem>.hgrm` (merged) and `<stem>.hlog` (one interval per iteration) into the
    /// case directory `rel`; returns their relative paths.
    fn write_pair(
        &self,
        record: &RunRecord,
        case: usize,
        rel: &str,
        stem: &str,
        merged: &crate::metrics::histogram::LatencyHistogram,
        iterations: &[crate::metrics::histogram::LatencyHistogram],
    ) -> Result<(String, String)> {
        let rec = &record.cases[case];
        let dir = self.root.join(rel);
        write_atomic(
            &dir.join(format!("{stem}.hgrm")),
            hgrm::render(merged).as_bytes(),
        )?;
        let start = humantime::parse_rfc3339(&record.started_at).unwrap_or(SystemTime::now());
        let intervals: Vec<hlog::Interval<'_>> = rec
            .iterations
            .iter()
            .zip(iterations)
            .map(|(it, h)| hlog::Interval {
                start_offset: Duration::from_nanos(it.started_offset_ns),
                duration: Duration::from_nanos(it.elapsed_ns),
                histogram: h,
            })
            .collect();
        write_atomic(
            &dir.join(format!("{stem}.hlog")),
            &hlog::render(start, &intervals)?,
        )?;
        Ok((format!("{rel}/{stem}.hgrm"), format!("{rel}/{stem}.hlog")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_utc_stamps_with_a_suffix() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_804_625);
        let id = new_run_id(t);
        assert!(id.starts_with("20261127T"), "{id}");
        assert_eq!(id.len(), "20261127T183705Z-4f2a".len(), "{id}");
        assert_ne!(new_run_id(t), new_run_id(t), "random suffix");
    }

    fn umask() -> u32 {
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        nix::sys::stat::umask(old);
        old.bits()
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&p).unwrap().permissions());
        assert_eq!(
            mode & 0o044,
            0o044 & !umask(),
            "readable by group and others unless the umask says no"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp files left"
        );
    }

    #[test]
    fn syncing_a_missing_directory_names_it() {
        let dir = tempfile::tempdir().unwrap();
        sync_dir(dir.path()).unwrap();
        let gone = dir.path().join("gone");
        let e = format!("{:#}", sync_dir(&gone).unwrap_err());
        assert!(e.contains("gone"), "{e}");
    }

    #[test]
    fn loading_explains_missing_corrupt_and_future_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = format!("{:#}", load_run(&dir.path().join("nope")).unwrap_err());
        assert!(
            missing.contains("nope") && missing.contains("cannot read"),
            "{missing}"
        );
        let p = dir.path().join("run.json");
        std::fs::write(&p, "{ not json").unwrap();
        let corrupt = format!("{:#}", load_run(dir.path()).unwrap_err());
        assert!(
            corrupt.contains("run.json") && corrupt.contains("not valid JSON"),
            "{corrupt}"
        );
        std::fs::write(&p, r#"{"schema_version": 999}"#).unwrap();
        let future = format!("{:#}", load_run(&p).unwrap_err());
        assert!(
            future.contains("999") && future.contains("upgrade"),
            "{future}"
        );
        std::fs::write(&p, r#"{"hello": 1}"#).unwrap();
        assert!(format!("{:#}", load_run(&p).unwrap_err()).contains("not a loopbench run.json"));
        std::fs::write(&p, r#"{"schema_version": 0}"#).unwrap();
        let zero = format!("{:#}", load_run(&p).unwrap_err());
        assert!(
            zero.contains("schema_version 0, which does not exist"),
            "{zero}"
        );
    }

    #[test]
    fn an_unwritable_results_directory_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = RunDir::create(&file, "x").err().unwrap();
        assert!(crate::error::is_usage_error(&err));
        assert!(format!("{err:#}").contains("--output"));
    }
}
