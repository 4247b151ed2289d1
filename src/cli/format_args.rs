//! The one output convention of the commands that print a result (`run`, `client`, `suite`, `show`,
//! `compare`, `ab`): `--format table|json|markdown` for stdout (`--json` is `--format json`),
//! and, as hyperfine's exports, `--export-json/--export-markdown/--export-csv FILE` in any
//! combination in one invocation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::output::print;
use crate::compare::output::Format;
use crate::error::ConfigError;
use crate::store::write_atomic;

/// One way to render a result: the formats `--format` prints, plus CSV (files only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendering {
    /// Aligned text for a terminal.
    Table,
    /// JSON (run.json for a run, the comparison's JSON for a comparison).
    Json,
    /// GitHub-flavoured markdown.
    Markdown,
    /// CSV, one row per case (or per case and metric).
    Csv,
}

impl From<Format> for Rendering {
    fn from(f: Format) -> Rendering {
        match f {
            Format::Table => Rendering::Table,
            Format::Json => Rendering::Json,
            Format::Markdown => Rendering::Markdown,
        }
    }
}

/// `--format`, `--json` and the `--export-*` files.
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// What to print on stdout: table, json or markdown.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    format: String,
    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    export_json: Option<PathBuf>,
    /// Also write the result as markdown to FILE.
    #[arg(long, value_name = "FILE")]
    export_markdown: Option<PathBuf>,
    /// Also write the result as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    export_csv: Option<PathBuf>,
}

/// Refuses `path` for `flag` when its directory does not exist: said before anything runs.
pub fn check_file_flag(flag: &str, path: &Path) -> Result<(), ConfigError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    match dir {
        Some(d) if !d.is_dir() => Err(ConfigError::Invalid(format!(
            "{flag} {}: {} is not a directory; give a file in an existing directory",
            path.display(),
            d.display()
        ))),
        _ => Ok(()),
    }
}

impl FormatArgs {
    /// What stdout gets.
    pub fn format(&self) -> Result<Format, ConfigError> {
        if self.json {
            Ok(Format::Json)
        } else {
            self.format.parse()
        }
    }

    /// The export files asked for, each with its flag and rendering.
    fn exports(&self) -> impl Iterator<Item = (&'static str, Rendering, &Path)> {
        [
            ("--export-json", Rendering::Json, &self.export_json),
            (
                "--export-markdown",
                Rendering::Markdown,
                &self.export_markdown,
            ),
            ("--export-csv", Rendering::Csv, &self.export_csv),
        ]
        .into_iter()
        .filter_map(|(flag, r, p)| Some((flag, r, p.as_deref()?)))
    }

    /// Checks the format and that every export's directory exists: call before measuring.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.format()?;
        for (flag, _, path) in self.exports() {
            check_file_flag(flag, path)?;
        }
        Ok(())
    }

    /// Writes every export `render` makes (atomically), then prints the chosen format.
    pub fn emit(&self, mut render: impl FnMut(Rendering) -> Result<String>) -> Result<()> {
        for (flag, rendering, path) in self.exports() {
            let text = render(rendering)?;
            write_atomic(path, text.as_bytes())
                .with_context(|| format!("{flag} {}", path.display()))?;
        }
        print(&render(self.format()?.into())?)
    }
}
