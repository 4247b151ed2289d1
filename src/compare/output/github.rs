//! GitHub Actions: workflow-command annotations (`::error::`, `::warning::`) for the gated
//! metrics that regressed or stayed inconclusive, and the `$GITHUB_OUTPUT` lines a later step
//! reads (`steps.<id>.outputs.regressions`).

use super::wording::trust_note;
use crate::compare::Comparison;
use crate::compare::gate::Verdict;

/// Escapes an annotation's message as the runner reads it back (`%`, CR and LF).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes an annotation property (`title=`): the message's escapes plus `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line per gated metric that regressed (`::error`) or is inconclusive
/// (`::warning`), each naming the case, the metric and the reason (and the case's disturbed
/// iterations, when it had any).
pub fn annotations(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for case in &c.cases {
        for m in &case.metrics {
            let (command, what) = match m.verdict {
                Verdict::Regression => ("error", "regression"),
                Verdict::Inconclusive => ("warning", "inconclusive"),
                _ => continue,
            };
            let title = format!("loopbench {what}: {} {}", case.new_case, m.metric);
            out.push(format!(
                "::{command} title={}::{} {}: {}",
                escape_property(&title),
                case.new_case,
                m.metric,
                escape_data(&format!("{}{}", m.reason, trust_note(case)))
            ));
        }
    }
    out
}

/// The step outputs: verdict counts and `verdict=regression|pass`, one `key=value` line each.
pub fn outputs(c: &Comparison) -> String {
    let k = &c.counts;
    format!(
        "verdict={}\nregressions={}\nimprovements={}\nno_change={}\ninconclusive={}\nnot_gated={}\n",
        if c.has_regression() {
            "regression"
        } else {
            "pass"
        },
        k.regressions,
        k.improvements,
        k.no_change,
        k.inconclusive,
        k.not_gated
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_titles_are_escaped_as_the_runner_expects() {
        assert_eq!(escape_data("5% worse\r\nsee"), "5%25 worse%0D%0Asee");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }
}
