//! Decomposing a run's round trips: finding the `rr` cases of one size and taking the
//! differences of their medians, layer by layer.

use super::estimate::{difference, level};
use super::model::{Anatomy, Layer, Panel, Step};
use crate::spec::{CaseId, EngineKind, Placement, Spec, Transport, Workload};
use crate::store::record::{CaseRecord, RunRecord};

/// The spec of an anatomy case: `rr` with request and response of `size`, defaults otherwise.
pub fn rr_spec(
    transport: Transport,
    engine: EngineKind,
    placement: Placement,
    size: usize,
) -> Spec {
    let mut spec = Spec::new(transport);
    spec.workload = Workload::Rr;
    spec.engine = engine;
    spec.placement = placement;
    spec.size = size;
    spec.response_size = size;
    spec
}

/// The canonical case id of an anatomy case.
pub fn case_id(
    transport: Transport,
    engine: EngineKind,
    placement: Placement,
    size: usize,
) -> CaseId {
    rr_spec(transport, engine, placement, size).case_id()
}

fn p50s(case: &CaseRecord) -> Vec<f64> {
    case.iterations
        .iter()
        .map(|i| i.latency.p50_ns as f64)
        .collect()
}

fn is_candidate(c: &CaseRecord) -> bool {
    let (s, t) = (&c.spec, c.spec.transport);
    let layered = Layer::ALL.iter().any(|l| l.transports().0 == t);
    layered
        && s.workload == Workload::Rr
        && !c.iterations.is_empty()
        && c.case_id == case_id(t, s.engine, s.placement, s.size)
}

/// Decomposes the run's round trips, or says why it cannot (no `rr` case of the anatomy's
/// transports, or none of its differences computable).
pub fn anatomy(record: &RunRecord) -> Result<Anatomy, String> {
    let candidates: Vec<&CaseRecord> = record.cases.iter().filter(|c| is_candidate(c)).collect();
    let need = "the anatomy needs rr cases of shm, pipe, unix-stream and tcp4/udp4 of one size \
                (`loopbench suite quick` runs them)";
    let mut sizes: Vec<usize> = candidates.iter().map(|c| c.spec.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let count = |size: usize| candidates.iter().filter(|c| c.spec.size == size).count();
    let Some(size) = sizes
        .iter()
        .copied()
        .max_by_key(|&s| (count(s), std::cmp::Reverse(s)))
    else {
        return Err(format!("{need}; this run has none"));
    };
    let of_size: Vec<&CaseRecord> = candidates
        .into_iter()
        .filter(|c| c.spec.size == size)
        .collect();
    let mut placements = vec![Placement::SameCore, Placement::CrossCore];
    let mut engines = vec![EngineKind::Blocking, EngineKind::Spin];
    for c in &of_size {
        placements.push(c.spec.placement);
        engines.push(c.spec.engine);
    }
    placements.sort();
    placements.dedup();
    engines.sort();
    engines.dedup();
    let find = |t: Transport, e: EngineKind, p: Placement| {
        let id = case_id(t, e, p, size);
        of_size
            .iter()
            .find(|c| c.case_id == id)
            .map(|c| p50s(c))
            .ok_or(id)
    };
    let mut panels = Vec::new();
    for &placement in &placements {
        for &engine in &engines {
            let steps = Layer::ALL
                .iter()
                .map(|&layer| {
                    let (top, base) = layer.transports();
                    let top = find(top, engine, placement);
                    let base = base.map(|b| find(b, engine, placement));
                    let missing = [
                        top.as_ref().err(),
                        base.as_ref().and_then(|b| b.as_ref().err()),
                    ]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                    let (estimate, base_ns) = match (&top, &base) {
                        (Ok(t), None) => (Some(level(t)), 0.0),
                        (Ok(t), Some(Ok(b))) => (Some(difference(t, b)), level(b).point_ns),
                        (_, Some(Ok(b))) => (None, level(b).point_ns),
                        _ => (None, 0.0),
                    };
                    Step {
                        layer,
                        base_ns,
                        estimate,
                        missing,
                    }
                })
                .collect();
            panels.push(Panel {
                placement,
                engine,
                steps,
            });
        }
    }
    if panels.iter().all(Panel::is_empty) {
        let have: Vec<String> = of_size.iter().map(|c| c.case_id.to_string()).collect();
        return Err(format!("{need}; this run has only {}", have.join(", ")));
    }
    Ok(Anatomy { size, panels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::anatomy::text;
    use crate::report::fixture;

    fn step(a: &Anatomy, p: Placement, e: EngineKind, l: Layer) -> Step {
        let panel = a
            .panels
            .iter()
            .find(|x| x.placement == p && x.engine == e)
            .unwrap();
        panel.steps.iter().find(|s| s.layer == l).unwrap().clone()
    }

    #[test]
    fn layers_are_differences_of_medians_with_bootstrap_intervals() {
        let a = anatomy(&fixture::anatomy_run().record).unwrap();
        assert_eq!(a.size, 64);
        assert_eq!(a.panels.len(), 4);
        let (sc, b) = (Placement::SameCore, EngineKind::Blocking);
        let floor = step(&a, sc, b, Layer::Floor);
        assert_eq!(floor.base_ns, 0.0);
        let f = floor.estimate.unwrap();
        assert_eq!(f.point_ns, 1000.0);
        assert!(
            f.low_ns >= 900.0 && f.low_ns < 1000.0 && f.high_ns > 1000.0 && f.high_ns <= 1100.0,
            "{f:?}"
        );
        let wake = step(&a, sc, b, Layer::Wakeup);
        assert_eq!(wake.base_ns, 1000.0);
        let e = wake.estimate.unwrap();
        assert_eq!(e.point_ns, 2000.0);
        assert!(e.low_ns < 2000.0 && e.high_ns > 2000.0, "{e:?}");
        assert!(
            e.half_width_ns() <= 200.0,
            "within the per-iteration ranges: {e:?}"
        );
        assert_eq!(
            step(&a, sc, b, Layer::Tcp).estimate.unwrap().point_ns,
            4000.0
        );
        assert_eq!(step(&a, sc, b, Layer::Udp).base_ns, 5000.0);
        let cc = step(&a, Placement::CrossCore, b, Layer::Socket);
        assert_eq!(
            (cc.base_ns, cc.estimate.unwrap().point_ns),
            (30_000.0, 20_000.0)
        );
    }

    #[test]
    fn missing_cases_are_named_and_their_layers_left_out() {
        let mut data = fixture::anatomy_run();
        data.record
            .cases
            .retain(|c| c.case_id.as_str() != "pipe-rr-spin-cross-core-64B");
        let a = anatomy(&data.record).unwrap();
        let (cc, s) = (Placement::CrossCore, EngineKind::Spin);
        for l in [Layer::Wakeup, Layer::Socket] {
            let st = step(&a, cc, s, l);
            assert!(st.estimate.is_none());
            assert_eq!(
                st.missing,
                vec![CaseId("pipe-rr-spin-cross-core-64B".into())]
            );
        }
        assert!(step(&a, cc, s, Layer::Tcp).estimate.is_some());
    }

    #[test]
    fn the_notes_name_the_panel_that_measures_the_scheduler_and_what_is_missing() {
        let mut data = fixture::anatomy_run();
        data.record
            .cases
            .retain(|c| c.case_id.as_str() != "pipe-rr-blocking-cross-core-64B");
        let notes = text::notes(&anatomy(&data.record).unwrap());
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("At same-core with spin: ") && notes[0].contains("time slice"),
            "{notes:?}"
        );
        assert_eq!(notes[1], "Missing cases: pipe-rr-blocking-cross-core-64B");
    }

    #[test]
    fn a_run_without_the_anatomy_cases_says_what_is_needed() {
        let one = fixture::run(&[fixture::rr(
            Transport::Tcp4,
            EngineKind::Blocking,
            Placement::CrossCore,
            64,
            &[5000],
        )]);
        let why = anatomy(&one.record).unwrap_err();
        assert!(
            why.contains("this run has only tcp4-rr-blocking-cross-core-64B"),
            "{why}"
        );
        let none = fixture::run(&[]);
        assert!(
            anatomy(&none.record)
                .unwrap_err()
                .contains("this run has none")
        );
    }

    #[test]
    fn the_size_with_most_cases_is_chosen_and_other_placements_get_panels() {
        let mut cases = vec![fixture::rr(
            Transport::Tcp4,
            EngineKind::Blocking,
            Placement::CrossCore,
            1024,
            &[9000],
        )];
        for t in [Transport::Shm, Transport::Pipe] {
            cases.push(fixture::rr(
                t,
                EngineKind::Blocking,
                Placement::Unpinned,
                32,
                &[1000, 2000],
            ));
        }
        let a = anatomy(&fixture::run(&cases).record).unwrap();
        assert_eq!(a.size, 32);
        assert_eq!(
            a.panels.len(),
            3 * 2,
            "same-core, cross-core, unpinned × blocking, spin"
        );
    }
}
