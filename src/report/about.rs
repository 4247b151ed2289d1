//! What a report says about a run before its numbers: the one-line description, and what a
//! reader must know (interrupted, failed cases, the cases' notes).

use crate::store::record::{RunRecord, run_state, short_time};

/// One line about the run: suite or label, start, completeness, tool, machine.
pub fn run_line(r: &RunRecord) -> String {
    let e = &r.environment;
    let what = match (&r.suite, &r.label) {
        (Some(s), Some(l)) => format!("suite {s} ({l})"),
        (Some(s), None) => format!("suite {s}"),
        (None, Some(l)) => l.clone(),
        (None, None) => "loopbench run".into(),
    };
    format!(
        "{what} · {} · {} · {} cases · {} {} · {}, {} CPUs, kernel {}",
        short_time(&r.started_at),
        run_state(r.complete, r.interrupted),
        r.cases.len(),
        r.tool.name,
        r.tool.git_revision.as_deref().unwrap_or(&r.tool.version),
        if e.cpu_model.is_empty() {
            "unknown CPU"
        } else {
            &e.cpu_model
        },
        e.online_cpus,
        e.kernel_release,
    )
}

/// What a reader must know about a run before its numbers: interrupted, incomplete, failed
/// cases, and the cases' notes.
pub fn run_notes(r: &RunRecord) -> Vec<String> {
    let mut notes = Vec::new();
    if r.interrupted {
        notes.push("the run was interrupted: only the cases finished before are shown".into());
    } else if !r.complete {
        notes.push("the run is incomplete (it stopped early or is still running)".into());
    }
    for c in r.cases.iter().filter(|c| !c.errors.is_empty()) {
        notes.push(format!("{} failed: {}", c.case_id, c.errors.join("; ")));
    }
    notes.extend(r.skipped.iter().map(|s| s.to_string()));
    notes.extend(case_notes(r));
    notes.extend(super::trust::trust_notes(r));
    notes
}

/// The cases' own notes (what a reader must know to read a case right), each text once, with
/// the cases it applies to (none named when it applies to every case).
pub fn case_notes(r: &RunRecord) -> Vec<String> {
    let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in &r.cases {
        for note in &c.notes {
            match grouped.iter_mut().find(|(n, _)| n == note) {
                Some((_, ids)) => ids.push(c.case_id.as_str()),
                None => grouped.push((note, vec![c.case_id.as_str()])),
            }
        }
    }
    grouped
        .into_iter()
        .map(|(note, ids)| match ids.len() {
            n if n == r.cases.len() && n > 1 => format!("every case: {note}"),
            1..=3 => format!("{}: {note}", ids.join(", ")),
            n => format!("{n} cases ({}, …): {note}", ids[..2].join(", ")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::spec::{EngineKind, Placement, Transport};

    #[test]
    fn case_notes_are_listed_once_with_the_cases_they_concern() {
        let mut data = fixture::run(&[
            fixture::rr(
                Transport::Tcp4,
                EngineKind::Spin,
                Placement::SameCore,
                64,
                &[1],
            ),
            fixture::rr(
                Transport::Pipe,
                EngineKind::Spin,
                Placement::SameCore,
                64,
                &[1],
            ),
            fixture::rr(
                Transport::Shm,
                EngineKind::Spin,
                Placement::CrossCore,
                64,
                &[1],
            ),
        ]);
        for c in &mut data.record.cases {
            c.notes.push("kernel lacks x".into());
            if c.spec.placement == Placement::SameCore {
                c.notes.push("shared CPU".into());
            }
        }
        assert_eq!(
            case_notes(&data.record),
            vec![
                "every case: kernel lacks x".to_string(),
                "tcp4-rr-spin-same-core-64B, pipe-rr-spin-same-core-64B: shared CPU".to_string(),
            ]
        );
        assert!(run_notes(&data.record).contains(&"every case: kernel lacks x".to_string()));
    }

    #[test]
    fn skipped_placements_are_told_before_the_numbers() {
        let mut data = fixture::run(&[fixture::rr(
            Transport::Tcp4,
            EngineKind::Blocking,
            Placement::CrossCore,
            64,
            &[1],
        )]);
        data.record
            .skipped
            .push(crate::store::record::SkippedCases {
                placement: Some("cross-smt".into()),
                reason: "needs two SMT siblings".into(),
                cases: vec!["tcp4-rr-blocking-cross-smt-64B".into()],
            });
        assert_eq!(
            run_notes(&data.record),
            vec!["1 case(s) at cross-smt skipped: needs two SMT siblings".to_string()]
        );
    }
}
