//! What a check finds, how much it matters, and the findings as text.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// How much a finding matters.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// As it should be.
    Ok,
    /// Worth knowing when reading results.
    Info,
    /// Will add noise or bias; fix it for trustworthy figures.
    Warn,
    /// Measurements will be wrong or impossible.
    Problem,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Info => "info",
            Level::Warn => "WARN",
            Level::Problem => "PROBLEM",
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// What was checked (`loopback mtu`, `governor`).
    pub check: String,
    /// How much it matters.
    pub level: Level,
    /// What was found.
    pub value: String,
    /// What it means for loopback measurements.
    pub meaning: String,
    /// What to do, when something should be done.
    pub action: Option<String>,
}

/// Version of `loopbench doctor --json`.
pub const SCHEMA_VERSION: u32 = 1;

/// Every finding, in check order.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DoctorReport {
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The findings.
    pub findings: Vec<Finding>,
}

impl DoctorReport {
    /// The worst level found.
    pub fn worst(&self) -> Level {
        self.findings
            .iter()
            .map(|f| f.level)
            .max()
            .unwrap_or(Level::Ok)
    }

    /// The text rendering: one block per finding.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(out, "[{:>7}] {}: {}", f.level.label(), f.check, f.value);
            let _ = writeln!(out, "          {}", f.meaning);
            if let Some(a) = &f.action {
                let _ = writeln!(out, "          → {a}");
            }
        }
        let count = |l: Level| self.findings.iter().filter(|f| f.level == l).count();
        let _ = writeln!(
            out,
            "\n{} checks: {} ok, {} info, {} warnings, {} problems",
            self.findings.len(),
            count(Level::Ok),
            count(Level::Info),
            count(Level::Warn),
            count(Level::Problem)
        );
        out
    }
}
