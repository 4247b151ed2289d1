//! Trust on a noisy machine, as text: per case how many iterations were disturbed and why, its
//! canary and the precision it reached (notes of `show`, the report and summary.md), and per
//! iteration its canary, interference and marks (`show <case>`).

use crate::store::record::{CaseRecord, RunRecord};
use crate::text::us;

/// `103 ns`, `30.2 µs`.
fn ns(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.0} ns")
    } else {
        format!("{} µs", us(v))
    }
}

/// One note per case that has trust figures: `tcp4-…: 2 of 20 iterations disturbed
/// (canary_spin 1, foreign_cpu 1); canary p50 spin 103 ns, wake-up 30.2 µs; p50 ±1.8 % (target
/// ±2.0 %, reached, 24 iterations)`; then `--precision`'s rounds and why they stopped.
pub fn trust_notes(r: &RunRecord) -> Vec<String> {
    let mut notes = Vec::new();
    for c in &r.cases {
        let Some(t) = c.summary.as_ref().and_then(|s| s.extras.trust.as_ref()) else {
            continue;
        };
        let mut line = format!(
            "{}: {}",
            c.case_id,
            t.describe(c.iterations.len())
                .replacen(" disturbed", " iterations disturbed", 1)
        );
        if let Some(k) = &t.canary {
            let probe = |v: Option<f64>| v.map_or("-".to_string(), ns);
            line.push_str(&format!(
                "; canary p50 spin {}, wake-up {}",
                probe(k.spin_p50_ns),
                probe(k.wake_p50_ns)
            ));
        }
        if let Some(p) = &t.precision {
            line.push_str(&format!(
                "; {} ±{:.1} % (target ±{:.1} %, {}, {} iterations)",
                p.metric,
                p.reached_rel * 100.0,
                p.target_rel * 100.0,
                if p.reached { "reached" } else { "not reached" },
                p.iterations
            ));
        }
        notes.push(line);
    }
    if let Some(p) = r.trust.as_ref().and_then(|t| t.precision.as_ref()) {
        notes.push(format!(
            "--precision ±{:.1} %: {} rounds, stopped: {}",
            p.target_rel * 100.0,
            p.rounds,
            p.stopped
        ));
    }
    notes
}

/// A case's iterations' canaries, interference and marks, one row each; `None` when no
/// iteration has any.
pub fn iterations_trust(case: &CaseRecord) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let has = |c: &CaseRecord| {
        c.iterations.iter().any(|i| {
            i.extras.canary.is_some()
                || i.extras.interference.is_some()
                || !i.extras.disturbed.is_empty()
        })
    };
    if !has(case) {
        return None;
    }
    let header = [
        "iteration",
        "canary spin",
        "canary wake",
        "steal %",
        "foreign %",
        "irq/s",
        "disturbed",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let pct = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{:.1}", s * 100.0));
    let rows = case
        .iterations
        .iter()
        .map(|it| {
            let k = it.extras.canary.as_ref();
            let probe = |v: Option<u64>| v.map_or("-".to_string(), |v| ns(v as f64));
            let i = it.extras.interference.as_ref();
            let why: Vec<&str> = it
                .extras
                .disturbed
                .iter()
                .map(|d| d.detail.as_str())
                .collect();
            vec![
                (it.index + 1).to_string(),
                probe(k.and_then(|k| k.spin.p50_ns)),
                probe(k.and_then(|k| k.wake.p50_ns)),
                pct(i.and_then(|i| i.steal_share)),
                pct(i.and_then(|i| i.foreign_share)),
                i.and_then(|i| i.irqs_per_sec())
                    .map_or("-".to_string(), |v| format!("{v:.0}")),
                if why.is_empty() {
                    "-".to_string()
                } else {
                    why.join("; ")
                },
            ]
        })
        .collect();
    Some((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::spec::{EngineKind, Placement, Transport};
    use crate::store::trust::{CaseTrust, Disturbance};

    #[test]
    fn disturbed_iterations_are_counted_and_shown_with_their_reason() {
        let mut data = fixture::run(&[fixture::rr(
            Transport::Tcp4,
            EngineKind::Blocking,
            Placement::CrossCore,
            64,
            &[5000, 6000, 5100],
        )]);
        assert!(
            iterations_trust(&data.record.cases[0]).is_none(),
            "no canary, no table"
        );
        assert!(trust_notes(&data.record).is_empty());
        let case = &mut data.record.cases[0];
        case.iterations[1].extras.disturbed = vec![Disturbance {
            kind: "foreign_cpu".into(),
            detail: "foreign CPU time 23.1 % on the worker CPUs (limit 5.0 %)".into(),
        }];
        let counted = CaseTrust::count(&case.iterations);
        case.summary.as_mut().unwrap().extras.trust = Some(counted);
        let notes = trust_notes(&data.record);
        assert_eq!(
            notes,
            vec!["tcp4-rr-blocking-cross-core-64B: 1 of 3 iterations disturbed (foreign_cpu 1)"]
        );
        let (header, rows) = iterations_trust(&data.record.cases[0]).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(header.last().unwrap(), "disturbed");
        assert_eq!(rows[0].last().unwrap(), "-");
        assert!(
            rows[1]
                .last()
                .unwrap()
                .starts_with("foreign CPU time 23.1 %")
        );
    }
}
