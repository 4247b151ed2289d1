//! What a case's iteration records add up to for trust: its median canary, its disturbed count
//! by reason, and one iteration's evidence for [`crate::stats::robust::classify`].

use super::record::IterationRecord;
use super::trust::{CanarySummary, CaseTrust};
use crate::stats::robust::Evidence;

impl CanarySummary {
    /// The median canary of `iterations` (`None` when none has one).
    pub fn of<'a>(iterations: impl IntoIterator<Item = &'a IterationRecord>) -> Option<Self> {
        let canaries: Vec<_> = iterations
            .into_iter()
            .filter_map(|i| i.extras.canary.as_ref())
            .collect();
        let first = canaries.first()?;
        let median = |get: fn(&crate::metrics::canary::CanaryFigures) -> Option<u64>| {
            let v: Vec<f64> = canaries
                .iter()
                .filter_map(|c| get(c))
                .map(|x| x as f64)
                .collect();
            (!v.is_empty()).then(|| crate::stats::median(&v))
        };
        Some(CanarySummary {
            cpus: first.cpus,
            spin_p50_ns: median(|c| c.spin.p50_ns),
            wake_p50_ns: median(|c| c.wake.p50_ns),
            iterations: canaries.len() as u32,
        })
    }
}

impl CaseTrust {
    /// Counts the disturbed iterations and their reasons.
    pub fn count<'a>(iterations: impl IntoIterator<Item = &'a IterationRecord>) -> CaseTrust {
        let mut t = CaseTrust::default();
        let its: Vec<&IterationRecord> = iterations.into_iter().collect();
        for it in &its {
            if !it.extras.disturbed.is_empty() {
                t.disturbed += 1;
            }
            for d in &it.extras.disturbed {
                *t.reasons.entry(d.kind.clone()).or_default() += 1;
            }
        }
        t.canary = CanarySummary::of(its.iter().copied());
        t
    }

    /// `3 of 20 disturbed (foreign_cpu 2, canary_spin 1)`, or `none of 20 disturbed`.
    pub fn describe(&self, iterations: usize) -> String {
        if self.disturbed == 0 {
            return format!("none of {iterations} disturbed");
        }
        let mut reasons: Vec<(&String, &u32)> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let why: Vec<String> = reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!(
            "{} of {iterations} disturbed ({})",
            self.disturbed,
            why.join(", ")
        )
    }
}

/// The canary group of `it`: the index of its canary's CPU pair in `pairs` (added when new), or
/// `usize::MAX` when the iteration has no canary. Bands are drawn per pair of CPUs.
pub fn canary_group(pairs: &mut Vec<[usize; 2]>, it: &IterationRecord) -> usize {
    let Some(pair) = it.extras.canary.map(|c| c.cpus) else {
        return usize::MAX;
    };
    pairs.iter().position(|p| *p == pair).unwrap_or_else(|| {
        pairs.push(pair);
        pairs.len() - 1
    })
}

/// What an iteration record says for [`crate::stats::robust::classify`]; the caller sets the
/// groups. `pinned` says whether the case's workers were pinned (only pinned workers' migrations
/// count).
pub fn evidence(it: &IterationRecord, pinned: bool) -> Evidence {
    let canary = it.extras.canary.as_ref();
    let interference = it.extras.interference.as_ref();
    let per_sec = |n: u64| (it.elapsed_ns > 0).then(|| n as f64 * 1e9 / it.elapsed_ns as f64);
    let migrations = match (it.client.migrations, it.server.migrations) {
        (Some(c), Some(s)) if pinned => Some(c + s),
        _ => None,
    };
    Evidence {
        canary_group: 0,
        case_group: 0,
        spin_p50_ns: canary.and_then(|c| c.spin.p50_ns).map(|v| v as f64),
        wake_p50_ns: canary.and_then(|c| c.wake.p50_ns).map(|v| v as f64),
        canary_incomplete: canary.is_some_and(|c| c.incomplete()),
        steal_share: interference.and_then(|i| i.resolved_steal_share()),
        foreign_share: interference.and_then(|i| i.foreign_share),
        irqs_per_sec: interference.and_then(|i| i.irqs_per_sec()),
        switches_per_sec: per_sec(
            it.client.usage.total.involuntary_switches + it.server.usage.total.involuntary_switches,
        ),
        pinned_migrations: migrations,
    }
}
