//! Progress on stderr while a run goes (indicatif): slots done of all, elapsed time, ETA, and the
//! case and iteration running. Only on a terminal and not with `--quiet`; plain (no colour) when
//! NO_COLOR is set.
//!
//! The bar redraws only when a slot starts or ends, never from a timer thread: a ticking thread
//! would wake up on the CPUs being measured.

use std::io::IsTerminal;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::runner::{Event, Observer, Slot, SlotKind};
use crate::store::record::RunRecord;

/// The progress bar of a run.
pub struct Progress {
    bar: ProgressBar,
}

/// True when the NO_COLOR convention (<https://no-color.org>) asks for no colour.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn style(color: bool) -> ProgressStyle {
    let bar = if color {
        "{bar:28.cyan/blue}"
    } else {
        "{bar:28}"
    };
    ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} {bar} {{pos}}/{{len}} slots, ETA {{eta}}  {{wide_msg}}"
    ))
    .expect("the template is valid")
    .progress_chars("=> ")
}

/// `case 3/20 tcp4-rr-blocking-cross-core-64B, iteration 2/5` (or `, warm-up`).
pub fn slot_message(record: &RunRecord, slot: Slot) -> String {
    let case = &record.cases[slot.case];
    let what = match slot.kind {
        SlotKind::Warmup => "warm-up".to_string(),
        SlotKind::Iteration(i) if i < case.spec.timing.iterations => {
            format!("iteration {}/{}", i + 1, case.spec.timing.iterations)
        }
        SlotKind::Iteration(i) => format!("iteration {} (--precision)", i + 1),
    };
    format!(
        "case {}/{} {}, {what}",
        slot.case + 1,
        record.cases.len(),
        case.case_id
    )
}

impl Progress {
    /// A bar on stderr when it is a terminal and not `quiet`; hidden otherwise.
    pub fn new(quiet: bool) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(style(!no_color()));
            bar
        };
        Progress { bar }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Observer for Progress {
    fn on_event(&mut self, record: &mut RunRecord, event: Event<'_>) -> Result<()> {
        match event {
            Event::SlotStarted { position, slot } => {
                // --precision adds rounds to the schedule as it goes.
                let len = record.schedule.len() as u64;
                if self.bar.length().is_none_or(|l| l < len) {
                    self.bar.set_length(len);
                    self.bar.reset_eta();
                }
                self.bar.set_position(position as u64);
                self.bar.set_message(slot_message(record, slot));
            }
            Event::SlotFinished { position, .. } => {
                self.bar.set_position(position as u64 + 1);
                if position + 1 == record.schedule.len() {
                    self.finish();
                }
            }
            Event::IterationStored { .. } | Event::CaseFinished { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_or_not_a_terminal_draws_nothing() {
        assert!(Progress::new(true).bar.is_hidden());
        if !std::io::stderr().is_terminal() {
            assert!(Progress::new(false).bar.is_hidden());
        }
    }

    #[test]
    fn the_message_names_the_case_and_the_iteration() {
        let data = crate::report::fixture::anatomy_run();
        let slot = |kind| Slot { case: 2, kind };
        assert_eq!(
            slot_message(&data.record, slot(SlotKind::Iteration(1))),
            "case 3/20 unix-stream-rr-blocking-same-core-64B, iteration 2/5"
        );
        assert!(slot_message(&data.record, slot(SlotKind::Warmup)).ends_with(", warm-up"));
    }

    #[test]
    fn templates_parse_with_and_without_colour() {
        for color in [true, false] {
            let bar = ProgressBar::hidden();
            bar.set_style(style(color));
        }
    }
}
