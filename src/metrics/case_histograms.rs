//! The histograms of one case as a run fills them and a report reads them back: latency per
//! iteration and merged, `rate`'s latency from the actual send time, and the stages'.

use crate::metrics::histogram::{LatencyHistogram, new_histogram};
use crate::metrics::stages::{PathSets, StageSet};

/// The histograms of one case: per iteration, and merged.
#[derive(Clone, Debug)]
pub struct CaseHistograms {
    /// One histogram per measured iteration, in the order they ran.
    pub iterations: Vec<LatencyHistogram>,
    /// All iterations merged.
    pub merged: LatencyHistogram,
    /// `rate`: latency from the actual send time, per iteration (`iterations` then hold the
    /// latency from the intended send time).
    pub actual: Vec<LatencyHistogram>,
    /// `rate`: `actual` merged.
    pub actual_merged: Option<LatencyHistogram>,
    /// `--stages`: the user-space stages, merged over the iterations.
    pub stages: StageSet,
    /// `--stages`: the user-space stages split by the request's path, merged over the iterations.
    pub stage_paths: PathSets,
    /// `--trace`: the kernel stages, merged over the iterations.
    pub kernel_stages: StageSet,
    /// Against a service with several request kinds: each kind's latency, merged over the
    /// iterations.
    pub kinds: StageSet,
}

impl CaseHistograms {
    /// A case's histograms from its iterations' (as read back from its interval log).
    pub fn from_iterations(
        iterations: Vec<LatencyHistogram>,
    ) -> Result<CaseHistograms, hdrhistogram::AdditionError> {
        let mut out = CaseHistograms::default();
        for h in iterations {
            out.add_iteration(h, None)?;
        }
        Ok(out)
    }

    /// All iterations merged, or `None` when the case has no iteration.
    pub fn merged_if_any(&self) -> Option<&LatencyHistogram> {
        (!self.iterations.is_empty()).then_some(&self.merged)
    }

    /// Adds a measured iteration's histograms (`actual`: `rate`'s latency from the actual send
    /// time).
    pub fn add_iteration(
        &mut self,
        latency: LatencyHistogram,
        actual: Option<LatencyHistogram>,
    ) -> Result<(), hdrhistogram::AdditionError> {
        self.merged.add(&latency)?;
        self.iterations.push(latency);
        if let Some(actual) = actual {
            self.actual_merged
                .get_or_insert_with(new_histogram)
                .add(&actual)?;
            self.actual.push(actual);
        }
        Ok(())
    }
}

impl Default for CaseHistograms {
    fn default() -> Self {
        CaseHistograms {
            iterations: Vec::new(),
            merged: new_histogram(),
            actual: Vec::new(),
            actual_merged: None,
            stages: StageSet::default(),
            stage_paths: PathSets::default(),
            kernel_stages: StageSet::default(),
            kinds: StageSet::default(),
        }
    }
}
