//! Marking iterations `disturbed`: a canary outside its robust band, or interference beyond a
//! threshold, each with a reason a reader can act on.
//!
//! **The canary band.** For each canary probe (spin, wake-up) over a group of iterations that
//! ran on the same two CPUs, on the log scale (canaries are positive and move by factors; a
//! linear band around a two-state canary went below zero on this machine):
//! ln median ± max(k · 1.4826 · MAD(ln), ln(1 + `min_half_width_rel`)). 1.4826·MAD estimates
//! the standard deviation of normal data while ignoring up to half the values being disturbed
//! (Hampel 1974; Rousseeuw & Croux 1993), so the band is "k sigma" for the undisturbed majority.
//!
//! **k = 3.5** ([`DEFAULT_K`]): Iglewicz & Hoaglin's outlier rule ("How to Detect and Handle
//! Outliers", ASQC 1993: modified z-score 0.6745·|x − median|/MAD above 3.5). On log-normal
//! canaries a value falls outside ±3.5σ with probability 2Φ(−3.5) = 0.047 %; with the median and
//! MAD estimated from the group itself the rate is higher for small groups (per probe: 0.66 % at
//! 20 canaries, 0.21 % at 50, 0.11 % at 100; the tests check two of these).
//!
//! **The floor** ([`DEFAULT_MIN_HALF_WIDTH_REL`] = 5 %): a very stable canary's k-sigma band can
//! be ±1 %, and moves that small are not disturbances worth dropping an iteration for.
//!
//! **Only the spin canary marks.** The spin probe (no kernel) moves when the hypervisor moves a
//! vCPU or puts both on one core's hyperthreads, and every case measured meanwhile moves with it
//! (on this KVM guest: ~100 ns normally, ~410–440 ns and ~50–55 ns in such episodes lasting
//! seconds, with a blocking cross-core p50 10–30 % higher). The wake-up canary is two-state here:
//! a probe runs either in a fast state (p50 ≈ 0.85 µs: the woken vCPU had not halted) or a slow
//! one (30–50 µs: IPI, VM exit, host wake-up), about 40/60, and on one CPU 4–5 µs or 12–20 µs;
//! the state changes from one iteration to the next without moving the iterations' p50. A band
//! around it would mark a whole state, so by default it marks nothing ([`Policy::wake_filters`]):
//! it is recorded ([`BandUse::Reported`]), compared between BASE and NEW and offered as a
//! covariate.
//!
//! **Interference**: steal above [`DEFAULT_MAX_STEAL_SHARE`] of any worker CPU's wall time;
//! foreign CPU time above [`DEFAULT_MAX_FOREIGN_SHARE`] of the worker CPUs' wall time; a pinned
//! worker that migrated; and, against the iteration's own case (its other iterations), involuntary
//! context switches above median + max(k·σ, [`DEFAULT_MIN_EXCESS_SWITCHES_PER_SEC`]) and
//! interrupts plus softirqs on the worker CPUs above median + max(k·σ,
//! [`DEFAULT_MIN_EXCESS_IRQ_SHARE`] of the median): both include the workload's own wake-ups and
//! NET_RX work, so only an excess over what the case itself does counts.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sample::{mad, median};

/// MAD × this estimates the standard deviation of normal data.
pub const MAD_TO_SIGMA: f64 = 1.4826;
/// Band half-width in (MAD-estimated) standard deviations.
pub const DEFAULT_K: f64 = 3.5;
/// Smallest band half-width, relative to the median.
pub const DEFAULT_MIN_HALF_WIDTH_REL: f64 = 0.05;
/// Fewest values a band is computed from; with fewer nothing is marked by it.
pub const DEFAULT_MIN_VALUES: usize = 5;
/// Steal share of a worker CPU above which an iteration is disturbed, counting the steal beyond
/// the counter's one-tick resolution ([`crate::metrics::interference::Interference::resolved_steal_share`]):
/// 2 % is two 10 ms ticks beyond that in a 1 s iteration, one in a 300 ms one; this machine's
/// idle steal is ~0.
pub const DEFAULT_MAX_STEAL_SHARE: f64 = 0.02;
/// Foreign CPU share on the worker CPUs above which an iteration is disturbed: 5 % is 10 ticks
/// over two CPUs in a 1 s iteration, well above tick noise and housekeeping.
pub const DEFAULT_MAX_FOREIGN_SHARE: f64 = 0.05;
/// Smallest excess of involuntary switches per second over the case's median that marks an
/// iteration (a competing busy thread preempts a worker every few milliseconds: hundreds per
/// second).
pub const DEFAULT_MIN_EXCESS_SWITCHES_PER_SEC: f64 = 20.0;
/// Smallest excess of interrupts and softirqs per second over the case's median, relative to
/// that median, that marks an iteration (the workload's own wake-ups move with its throughput).
pub const DEFAULT_MIN_EXCESS_IRQ_SHARE: f64 = 0.5;

/// A robust band: median and the range of values counted as normal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Band {
    /// The median of the values.
    pub median: f64,
    /// 1.4826 · MAD (of the log values for a log band): the standard deviation it is built on.
    pub sigma: f64,
    /// Lowest value inside.
    pub lower: f64,
    /// Highest value inside.
    pub upper: f64,
}

impl Band {
    /// The log-scale band of the positive `values`: exp(ln median ± max(k·σ, ln(1 +
    /// min_half_width_rel))); `None` with fewer than `min_values` positive finite values.
    pub fn log(values: &[f64], k: f64, min_half_width_rel: f64, min_values: usize) -> Option<Band> {
        let logs: Vec<f64> = values
            .iter()
            .filter(|x| x.is_finite() && **x > 0.0)
            .map(|x| x.ln())
            .collect();
        if logs.len() < min_values.max(1) {
            return None;
        }
        let (m, sigma) = (median(&logs), MAD_TO_SIGMA * mad(&logs));
        let half = (k * sigma).max(min_half_width_rel.ln_1p());
        Some(Band {
            median: m.exp(),
            sigma,
            lower: (m - half).exp(),
            upper: (m + half).exp(),
        })
    }

    /// The linear band of the finite `values`: median ± max(k·σ, `min_half_width`); `None` with
    /// fewer than `min_values` values.
    pub fn linear(values: &[f64], k: f64, min_half_width: f64, min_values: usize) -> Option<Band> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.len() < min_values.max(1) {
            return None;
        }
        let (m, sigma) = (median(&v), MAD_TO_SIGMA * mad(&v));
        let half = (k * sigma).max(min_half_width);
        Some(Band {
            median: m,
            sigma,
            lower: m - half,
            upper: m + half,
        })
    }

    /// True when `x` lies inside (ends included).
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// Which canary probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// The cache-line ping-pong.
    Spin,
    /// The futex wake-up ping-pong.
    Wake,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Probe::Spin => "spin canary",
            Probe::Wake => "wake-up canary",
        })
    }
}

/// What is known about one iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Iterations with the same value share their canary bands (same two CPUs).
    pub canary_group: usize,
    /// Iterations with the same value are one case: its switch and interrupt bands.
    pub case_group: usize,
    /// Spin canary p50 in ns, if taken.
    pub spin_p50_ns: Option<f64>,
    /// Wake-up canary p50 in ns, if taken.
    pub wake_p50_ns: Option<f64>,
    /// True when a canary probe recorded under half its round trips within its time budget.
    pub canary_incomplete: bool,
    /// Largest steal share of a worker CPU beyond the counter's one-tick resolution, if
    /// accounted.
    pub steal_share: Option<f64>,
    /// Foreign CPU share on the worker CPUs, if accounted.
    pub foreign_share: Option<f64>,
    /// Interrupts and softirqs per second on the worker CPUs, if accounted.
    pub irqs_per_sec: Option<f64>,
    /// Involuntary context switches of the workers per second, if known.
    pub switches_per_sec: Option<f64>,
    /// Migrations of pinned workers (`None`: unpinned, or the kernel does not say).
    pub pinned_migrations: Option<u64>,
}

/// Why an iteration is disturbed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reason {
    /// A canary p50 outside its band.
    CanaryMoved {
        /// Which probe.
        probe: Probe,
        /// Its p50 in this iteration, ns.
        p50_ns: f64,
        /// The band.
        band: Band,
    },
    /// A canary probe recorded under half its round trips within its time budget.
    CanaryIncomplete,
    /// Steal above the threshold.
    Steal {
        /// The iteration's steal share.
        share: f64,
        /// The threshold.
        limit: f64,
    },
    /// Foreign CPU time above the threshold.
    ForeignCpu {
        /// The iteration's foreign share.
        share: f64,
        /// The threshold.
        limit: f64,
    },
    /// Interrupts and softirqs above the case's band.
    Interrupts {
        /// Per second in this iteration.
        per_sec: f64,
        /// The case's band.
        band: Band,
    },
    /// Involuntary switches above the case's band.
    Switches {
        /// Per second in this iteration.
        per_sec: f64,
        /// The case's band.
        band: Band,
    },
    /// A pinned worker migrated.
    Migrated {
        /// Migrations counted.
        count: u64,
    },
}

impl Reason {
    /// A short stable name for counting: `canary_spin`, `canary_wake`, `canary_incomplete`,
    /// `steal`, `foreign_cpu`, `interrupts`, `switches`, `migrations`.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::CanaryMoved {
                probe: Probe::Spin, ..
            } => "canary_spin",
            Reason::CanaryMoved {
                probe: Probe::Wake, ..
            } => "canary_wake",
            Reason::CanaryIncomplete => "canary_incomplete",
            Reason::Steal { .. } => "steal",
            Reason::ForeignCpu { .. } => "foreign_cpu",
            Reason::Interrupts { .. } => "interrupts",
            Reason::Switches { .. } => "switches",
            Reason::Migrated { .. } => "migrations",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| x * 100.0;
        match self {
            Reason::CanaryMoved {
                probe,
                p50_ns,
                band,
            } => write!(
                f,
                "{probe} p50 {p50_ns:.0} ns outside its band {:.0}–{:.0} ns (median {:.0} ns)",
                band.lower, band.upper, band.median
            ),
            Reason::CanaryIncomplete => {
                f.write_str("a canary probe recorded under half its round trips in its time budget")
            }
            Reason::Steal { share, limit } => write!(
                f,
                "steal {:.1} % of a worker CPU beyond one tick (limit {:.1} %)",
                pct(*share),
                pct(*limit)
            ),
            Reason::ForeignCpu { share, limit } => write!(
                f,
                "foreign CPU time {:.1} % on the worker CPUs (limit {:.1} %)",
                pct(*share),
                pct(*limit)
            ),
            Reason::Interrupts { per_sec, band } => write!(
                f,
                "{per_sec:.0} interrupts+softirqs/s on the worker CPUs (the case's median {:.0}/s, limit {:.0}/s)",
                band.median, band.upper
            ),
            Reason::Switches { per_sec, band } => write!(
                f,
                "{per_sec:.0} involuntary switches/s of the workers (the case's median {:.0}/s, limit {:.0}/s)",
                band.median, band.upper
            ),
            Reason::Migrated { count } => write!(f, "pinned workers migrated {count} time(s)"),
        }
    }
}

/// The knobs of [`classify`]; `Default` gives the documented constants.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Policy {
    /// Band half-width in sigmas.
    pub k: f64,
    /// Smallest canary band half-width relative to the median.
    pub min_half_width_rel: f64,
    /// Fewest values for a band.
    pub min_values: usize,
    /// The wake-up canary marks iterations too (off by default: two-state on VMs).
    pub wake_filters: bool,
    /// Steal share threshold.
    pub max_steal_share: f64,
    /// Foreign CPU share threshold.
    pub max_foreign_share: f64,
    /// Smallest excess of involuntary switches per second over the case's median.
    pub min_excess_switches_per_sec: f64,
    /// Smallest excess of interrupts per second over the case's median, relative to it.
    pub min_excess_irq_share: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            k: DEFAULT_K,
            min_half_width_rel: DEFAULT_MIN_HALF_WIDTH_REL,
            min_values: DEFAULT_MIN_VALUES,
            wake_filters: false,
            max_steal_share: DEFAULT_MAX_STEAL_SHARE,
            max_foreign_share: DEFAULT_MAX_FOREIGN_SHARE,
            min_excess_switches_per_sec: DEFAULT_MIN_EXCESS_SWITCHES_PER_SEC,
            min_excess_irq_share: DEFAULT_MIN_EXCESS_IRQ_SHARE,
        }
    }
}

/// How a canary probe's band is used in one group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "use", rename_all = "snake_case")]
pub enum BandUse {
    /// Fewer canaries than a band needs: nothing marked.
    TooFew,
    /// The band marks the iterations whose canary lies outside it.
    Filter {
        /// The band.
        band: Band,
        /// The share of the group outside it.
        outside_share: f64,
    },
    /// The band is reported, nothing marked (the wake-up probe by default).
    Reported {
        /// The band.
        band: Band,
        /// The share of the group outside it.
        outside_share: f64,
    },
}

/// The bands of one canary group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CanaryBands {
    /// The group (as given in [`Evidence::canary_group`]).
    pub group: usize,
    /// The spin probe.
    pub spin: BandUse,
    /// The wake-up probe.
    pub wake: BandUse,
}

/// What [`classify`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Classified {
    /// Per iteration, in the order given, the reasons it is disturbed (empty: clean).
    pub reasons: Vec<Vec<Reason>>,
    /// Per canary group, how its bands were used.
    pub canary_bands: Vec<CanaryBands>,
}

/// The band use of the `values` of one probe in one group; `filters` says whether it marks.
fn canary_band(values: &[f64], policy: &Policy, filters: bool) -> BandUse {
    let Some(band) = Band::log(
        values,
        policy.k,
        policy.min_half_width_rel,
        policy.min_values,
    ) else {
        return BandUse::TooFew;
    };
    let outside = values.iter().filter(|v| !band.contains(**v)).count();
    let outside_share = outside as f64 / values.len() as f64;
    if filters {
        BandUse::Filter {
            band,
            outside_share,
        }
    } else {
        BandUse::Reported {
            band,
            outside_share,
        }
    }
}

/// The sorted distinct values of `key` over `run`.
fn groups(run: &[Evidence], key: fn(&Evidence) -> usize) -> Vec<usize> {
    let mut g: Vec<usize> = run.iter().map(key).collect();
    g.sort_unstable();
    g.dedup();
    g
}

/// The reasons each iteration of `run` is disturbed, and how each canary group's bands were used.
/// Canary bands are computed per [`Evidence::canary_group`], switch and interrupt bands per
/// [`Evidence::case_group`].
pub fn classify(run: &[Evidence], policy: &Policy) -> Classified {
    let values = |group: usize, key: fn(&Evidence) -> usize, get: fn(&Evidence) -> Option<f64>| {
        run.iter()
            .filter(|e| key(e) == group)
            .filter_map(get)
            .collect::<Vec<f64>>()
    };
    let canary_bands: Vec<CanaryBands> = groups(run, |e| e.canary_group)
        .into_iter()
        .map(|group| CanaryBands {
            group,
            spin: canary_band(
                &values(group, |e| e.canary_group, |e| e.spin_p50_ns),
                policy,
                true,
            ),
            wake: canary_band(
                &values(group, |e| e.canary_group, |e| e.wake_p50_ns),
                policy,
                policy.wake_filters,
            ),
        })
        .collect();
    let case_bands: Vec<(usize, Option<Band>, Option<Band>)> = groups(run, |e| e.case_group)
        .into_iter()
        .map(|group| {
            let sw = values(group, |e| e.case_group, |e| e.switches_per_sec);
            let irq = values(group, |e| e.case_group, |e| e.irqs_per_sec);
            let irq_floor = policy.min_excess_irq_share * median(&irq).max(0.0);
            (
                group,
                Band::linear(
                    &sw,
                    policy.k,
                    policy.min_excess_switches_per_sec,
                    policy.min_values,
                ),
                Band::linear(&irq, policy.k, irq_floor, policy.min_values),
            )
        })
        .collect();
    let reasons = run
        .iter()
        .map(|e| {
            let mut reasons = Vec::new();
            let bands = canary_bands.iter().find(|b| b.group == e.canary_group);
            for (probe, value, band) in [
                (Probe::Spin, e.spin_p50_ns, bands.map(|b| b.spin)),
                (Probe::Wake, e.wake_p50_ns, bands.map(|b| b.wake)),
            ] {
                if let (Some(p50_ns), Some(BandUse::Filter { band, .. })) = (value, band) {
                    if !band.contains(p50_ns) {
                        reasons.push(Reason::CanaryMoved {
                            probe,
                            p50_ns,
                            band,
                        });
                    }
                }
            }
            if e.canary_incomplete {
                reasons.push(Reason::CanaryIncomplete);
            }
            if let Some(share) = e.steal_share.filter(|&s| s > policy.max_steal_share) {
                reasons.push(Reason::Steal {
                    share,
                    limit: policy.max_steal_share,
                });
            }
            if let Some(share) = e.foreign_share.filter(|&s| s > policy.max_foreign_share) {
                reasons.push(Reason::ForeignCpu {
                    share,
                    limit: policy.max_foreign_share,
                });
            }
            let case = case_bands.iter().find(|c| c.0 == e.case_group);
            if let (Some(per_sec), Some(band)) = (e.irqs_per_sec, case.and_then(|c| c.2)) {
                if per_sec > band.upper {
                    reasons.push(Reason::Interrupts { per_sec, band });
                }
            }
            if let (Some(per_sec), Some(band)) = (e.switches_per_sec, case.and_then(|c| c.1)) {
                if per_sec > band.upper {
                    reasons.push(Reason::Switches { per_sec, band });
                }
            }
            if let Some(count) = e.pinned_migrations.filter(|&m| m > 0) {
                reasons.push(Reason::Migrated { count });
            }
            reasons
        })
        .collect();
    Classified {
        reasons,
        canary_bands,
    }
}

/// The reasons as one line, `"; "`-separated (empty when clean).
pub fn describe(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[path = "robust_tests.rs"]
mod tests;
