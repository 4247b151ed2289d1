//! GitHub Actions integration of the gate commands: under `GITHUB_ACTIONS=true`, annotations for
//! regressions and inconclusive metrics (on stderr, which the runner reads as well, so stdout
//! stays the chosen format), the markdown appended to `$GITHUB_STEP_SUMMARY`, and the verdict
//! counts appended to `$GITHUB_OUTPUT`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::compare::Comparison;
use crate::compare::output::{github, markdown};

/// Appends `text` to the file named by the environment variable `var`, if it names one.
fn append_to(var: &str, text: &str) -> Result<()> {
    let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = Path::new(&path);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("cannot append to ${var} ({})", path.display()))
}

/// Publishes `c` to GitHub Actions when running under it; does nothing elsewhere.
pub fn publish(c: &Comparison) -> Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    for line in github::annotations(c) {
        eprintln!("{line}");
    }
    append_to("GITHUB_STEP_SUMMARY", &(markdown::render(c) + "\n"))?;
    append_to("GITHUB_OUTPUT", &github::outputs(c))
}
