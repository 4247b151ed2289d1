//! What `run`, `suite` and `client` do with a finished run for the history: `--history` adds it
//! (with the commit and branch from git) and `--export-openmetrics FILE` writes its figures.

use anyhow::{Context, Result};

use crate::history::export::{rows, to_openmetrics};
use crate::history::from_record::run_figures;
use crate::run::session::RunResult;
use crate::store::write_atomic;

use super::run_args::RunHistoryArgs;

/// Refuses, before anything is measured, a `--history` file that is not a history and an
/// `--export-openmetrics` path whose directory does not exist (exit 2, nothing written).
pub fn before_run(args: &RunHistoryArgs, results: &std::path::Path) -> Result<()> {
    if let Some(path) = &args.export_openmetrics {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            anyhow::bail!(crate::error::UsageError(format!(
                "--export-openmetrics {}: {} is not a directory; give a file in an existing \
                 directory",
                path.display(),
                dir.display()
            )));
        }
    }
    if let Some(file) = &args.history {
        let path = file
            .clone()
            .unwrap_or_else(|| results.join(crate::history::DEFAULT_FILE));
        if path.exists() {
            super::common::open_existing(&path)?;
        }
    }
    Ok(())
}

/// Adds the stored run to the history and writes the OpenMetrics file, as asked. Runs after the
/// run is stored, so a failure here leaves the run in place.
pub fn after_run(
    args: &RunHistoryArgs,
    results: &std::path::Path,
    result: &RunResult,
    quiet: bool,
) -> Result<()> {
    let provenance = super::add::provenance(None, None, None);
    let figures = run_figures(&result.record, &provenance);
    if let Some(path) = &args.export_openmetrics {
        let text = to_openmetrics::render_rows(&rows::from_run(&figures), false)?;
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing --export-openmetrics {}", path.display()))?;
        if !quiet {
            eprintln!("openmetrics: {}", path.display());
        }
    }
    if let Some(file) = &args.history {
        let path = file
            .clone()
            .unwrap_or_else(|| results.join(crate::history::DEFAULT_FILE));
        let mut history = super::common::open(&path)?;
        history.add(&figures)?;
        if !quiet {
            eprintln!(
                "history: {} (commit {})",
                path.display(),
                provenance.commit.as_deref().unwrap_or("unknown")
            );
        }
    }
    Ok(())
}
