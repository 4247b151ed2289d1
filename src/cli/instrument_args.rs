//! Flags of what a case measures besides its latency (`--stages`); they become part of the
//! [`CaseOptions`](crate::spec::case_options::CaseOptions) with the other measuring flags.

use clap::Args;

use crate::spec::case_options::Toggle;

/// Instrumentation: stage stamps.
#[derive(Debug, Clone, Args)]
pub struct InstrumentArgs {
    /// Stamp every round trip at fixed points on both sides and report its stages (client
    /// send, request path, server turnaround, server send, response path); no privileges
    /// needed. `--stages off,on` runs each case both ways, interleaved, to show what the stamps
    /// cost.
    #[arg(long, value_name = "on|off|off,on", num_args = 0..=1, default_missing_value = "on")]
    pub stages: Option<String>,
}

impl InstrumentArgs {
    /// `--stages` as the case options take it.
    pub fn stages(&self) -> Option<Toggle> {
        self.stages.clone().map(Toggle::Text)
    }
}
