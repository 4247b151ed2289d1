//! Presenting a [`Comparison`]: one file per format (terminal table, markdown for a CI job
//! summary, JSON, CSV, JUnit XML, GitHub Actions annotations and outputs), sharing the wording of numbers and of the method (wording.rs) and of the
//! gate's reasons (reason.rs).

#[cfg(feature = "report")]
pub mod csv;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
mod reason;
pub mod table;
mod wording;

use std::str::FromStr;

use super::Comparison;
use crate::error::ConfigError;
pub use wording::{
    cells, change, format_p, interval, iterations, method, p_holm, summary, trailer, unit_label,
    value,
};

/// The output formats of `loopbench compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// GitHub-flavoured markdown (a CI job summary or a PR comment).
    Markdown,
    /// The whole [`Comparison`] as JSON.
    Json,
}

impl FromStr for Format {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Format, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            _ => Err(ConfigError::UnknownValue {
                dimension: "format",
                value: s.into(),
                expected: "table, markdown, json".into(),
            }),
        }
    }
}

/// Renders `c` in `format`.
pub fn render(c: &Comparison, format: Format) -> String {
    match format {
        Format::Table => table::render(c),
        Format::Markdown => markdown::render(c),
        Format::Json => json::render(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
        assert!(
            "xml"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("json")
        );
    }
}
