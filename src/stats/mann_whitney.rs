//! The one-sided Mann–Whitney U (Wilcoxon rank-sum) test: does NEW tend to be larger (or
//! smaller) than BASE? It uses ranks only, so one wild iteration cannot dominate it, and it makes
//! no assumption about the shape of the distributions.
//!
//! Method: exact when there are no ties and each side has at most [`EXACT_MAX_N`] values (the
//! null distribution of U is the coefficient sequence of the Gaussian binomial
//! [m+n choose m]_q); otherwise the normal approximation with the tie-corrected variance
//! m·n/12·((N+1) − Σ(t³−t)/(N(N−1))) and a continuity correction of ½. These are the same
//! choices as SciPy's `mannwhitneyu(method="exact")` and `method="asymptotic"`.

use serde::{Deserialize, Serialize};

use super::sample::{StatsError, check};

/// Largest sample size per side for which the exact distribution is used (without ties).
pub const EXACT_MAX_N: usize = 50;

/// The direction the test looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// NEW tends to be larger than BASE.
    Greater,
    /// NEW tends to be smaller than BASE.
    Less,
}

/// How the p-value was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MwuMethod {
    /// The exact null distribution (no ties, small samples).
    Exact,
    /// The normal approximation with tie and continuity correction.
    Normal,
    /// Not Mann–Whitney: the exact sign test on time-paired iterations (see `paired`).
    PairedSign,
}

/// The outcome of [`mann_whitney_u`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U of NEW: the number of (new, base) pairs with new > base, ties counting ½.
    pub u: f64,
    /// One-sided p-value for the alternative asked for.
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: MwuMethod,
}

/// Tests whether `new` tends to be larger ([`Alternative::Greater`]) or smaller than `base`.
pub fn mann_whitney_u(
    base: &[f64],
    new: &[f64],
    alternative: Alternative,
) -> Result<MannWhitney, StatsError> {
    check(base, "base")?;
    check(new, "new")?;
    let (m, n) = (base.len(), new.len());
    let mut all: Vec<(f64, bool)> = base
        .iter()
        .map(|&v| (v, false))
        .chain(new.iter().map(|&v| (v, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum_new = 0.0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < all.len() {
        let mut end = start;
        while end < all.len() && all[end].0 == all[start].0 {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let midrank = (start + 1 + end) as f64 / 2.0;
        let in_new = all[start..end].iter().filter(|x| x.1).count();
        rank_sum_new += midrank * in_new as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    let u = rank_sum_new - (n * (n + 1)) as f64 / 2.0;
    let (p_value, method) = if tie_term == 0.0 && m <= EXACT_MAX_N && n <= EXACT_MAX_N {
        (exact_p(m, n, u, alternative), MwuMethod::Exact)
    } else {
        (normal_p(m, n, u, tie_term, alternative), MwuMethod::Normal)
    };
    Ok(MannWhitney {
        u,
        p_value: p_value.clamp(0.0, 1.0),
        method,
    })
}

/// The smallest one-sided p-value the exact test can give with `m` and `n` values per side
/// (complete separation): 1 / C(m+n, m). If it exceeds the level a comparison must reach, no
/// amount of change can be detected with that many iterations.
pub fn min_attainable_p(m: usize, n: usize) -> f64 {
    let (small, total) = (m.min(n), m + n);
    let mut c = 1.0f64;
    for i in 0..small {
        c = c * (total - i) as f64 / (i + 1) as f64;
    }
    1.0 / c
}

/// Counts of U = 0..=m·n under the null hypothesis for samples of `m` and `n` values: the
/// coefficients of the Gaussian binomial [m+n choose m]_q, built one factor
/// (1 − q^(n+i)) / (1 − q^i) at a time.
fn u_counts(m: usize, n: usize) -> Vec<f64> {
    let mut poly = vec![1.0];
    for i in 1..=m {
        let mut t = vec![0.0; (i - 1) * n + n + i + 1];
        t[..poly.len()].copy_from_slice(&poly);
        for (slot, &c) in t[n + i..].iter_mut().zip(&poly) {
            *slot -= c;
        }
        let mut r = vec![0.0; i * n + 1];
        for k in 0..r.len() {
            r[k] = t[k] + if k >= i { r[k - i] } else { 0.0 };
        }
        poly = r;
    }
    poly
}

fn exact_p(m: usize, n: usize, u: f64, alternative: Alternative) -> f64 {
    let counts = u_counts(m, n);
    let total: f64 = counts.iter().sum();
    let max = (m * n) as f64;
    // P(U ≥ u) = P(U ≤ mn − u) by symmetry; summing the small end keeps the counts small.
    let upto = match alternative {
        Alternative::Greater => max - u,
        Alternative::Less => u,
    };
    let k_max = upto.floor() as usize;
    counts[..=k_max.min(counts.len() - 1)].iter().sum::<f64>() / total
}

fn normal_p(m: usize, n: usize, u: f64, tie_term: f64, alternative: Alternative) -> f64 {
    let (mf, nf) = (m as f64, n as f64);
    let total = mf + nf;
    let mean = mf * nf / 2.0;
    let var = mf * nf / 12.0 * ((total + 1.0) - tie_term / (total * (total - 1.0)));
    if var <= 0.0 {
        return 1.0; // every value tied: no evidence either way
    }
    let sd = var.sqrt();
    match alternative {
        Alternative::Greater => upper_tail((u - mean - 0.5) / sd),
        Alternative::Less => upper_tail((mean - u - 0.5) / sd),
    }
}

/// P(Z > z) for a standard normal Z.
fn upper_tail(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= 1e-9 * want.max(1e-300)
    }

    // Reference values: SciPy 1.17 `mannwhitneyu(new, base, alternative=..., method=...)`.

    #[test]
    fn exact_p_values_match_known_values() {
        let r = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], Alternative::Greater).unwrap();
        assert_eq!((r.u, r.method), (9.0, MwuMethod::Exact));
        assert!(close(r.p_value, 0.05), "{r:?}");
        let base: Vec<f64> = (1..=5).map(f64::from).collect();
        let new: Vec<f64> = (6..=10).map(f64::from).collect();
        let r = mann_whitney_u(&base, &new, Alternative::Greater).unwrap();
        assert!(close(r.p_value, 0.003968253968253968), "{r:?}");
        let r = mann_whitney_u(
            &[1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0],
            &[3.0, 5.0, 7.0, 9.0, 11.0, 13.0],
            Alternative::Greater,
        )
        .unwrap();
        assert_eq!(r.u, 27.0);
        assert!(close(r.p_value, 0.2226107226107226), "{r:?}");
    }

    #[test]
    fn exact_p_values_in_both_directions() {
        let base = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        // (3.15 stands for 3.14 of the textbook data: only ranks matter.)
        let new = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.15, 1.29];
        // 1.06 and 1.29 appear twice within `new`: ties, so this takes the normal path...
        let tied = mann_whitney_u(&base, &new, Alternative::Less).unwrap();
        assert_eq!(tied.method, MwuMethod::Normal);
        // ...and without them the exact one (ties within one side do not change U).
        let mut new = new;
        new[6] = 1.061;
        new[8] = 1.291;
        let less = mann_whitney_u(&base, &new, Alternative::Less).unwrap();
        let greater = mann_whitney_u(&base, &new, Alternative::Greater).unwrap();
        assert_eq!(less.method, MwuMethod::Exact);
        assert_eq!(less.u, 23.0);
        assert!(close(less.p_value, 0.06795557383792677), "{less:?}");
        assert!(close(greater.p_value, 0.943253805018511), "{greater:?}");
    }

    #[test]
    fn the_exact_distribution_holds_up_at_its_largest_size() {
        let base: Vec<f64> = (0..50).map(f64::from).collect();
        let new: Vec<f64> = (0..50).map(|j| f64::from(j) + 5.5).collect();
        let r = mann_whitney_u(&base, &new, Alternative::Greater).unwrap();
        assert_eq!((r.u, r.method), (1510.0, MwuMethod::Exact));
        assert!(
            (r.p_value - 0.0367676053128481).abs() < 1e-12,
            "{}",
            r.p_value
        );
        let counts = u_counts(50, 50);
        let total: f64 = counts.iter().sum();
        assert!(
            (total / 1.0089134454556419e29 - 1.0).abs() < 1e-12,
            "C(100,50)"
        );
    }

    #[test]
    fn normal_approximation_with_ties_matches_known_values() {
        let base = [10.0, 12.0, 12.0, 15.0, 18.0, 18.0, 18.0, 20.0];
        let new = [12.0, 18.0, 19.0, 22.0, 22.0, 25.0, 30.0, 31.0, 40.0];
        let g = mann_whitney_u(&base, &new, Alternative::Greater).unwrap();
        assert_eq!((g.u, g.method), (62.5, MwuMethod::Normal));
        assert!(close(g.p_value, 0.005782148193731024), "{g:?}");
        let l = mann_whitney_u(&base, &new, Alternative::Less).unwrap();
        assert!(close(l.p_value, 0.9956329453513592), "{l:?}");
    }

    #[test]
    fn large_samples_use_the_normal_approximation() {
        let base: Vec<f64> = (0..60).map(f64::from).collect();
        let new: Vec<f64> = (0..70).map(|j| f64::from(j) + 7.5).collect();
        let g = mann_whitney_u(&base, &new, Alternative::Greater).unwrap();
        assert_eq!((g.u, g.method), (2822.0, MwuMethod::Normal));
        assert!(close(g.p_value, 0.00037651068610162103), "{g:?}");
        let l = mann_whitney_u(&base, &new, Alternative::Less).unwrap();
        assert!(close(l.p_value, 0.9996298196214128), "{l:?}");
    }

    #[test]
    fn all_values_tied_is_no_evidence() {
        let r = mann_whitney_u(&[5.0; 60], &[5.0; 60], Alternative::Greater).unwrap();
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn the_smallest_attainable_p_is_one_over_the_number_of_arrangements() {
        assert!(close(min_attainable_p(3, 3), 0.05));
        assert!(close(min_attainable_p(5, 5), 1.0 / 252.0));
        assert!(close(min_attainable_p(2, 8), 1.0 / 45.0));
        let r = mann_whitney_u(
            &[1.0, 2.0],
            &[3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            Alternative::Greater,
        )
        .unwrap();
        assert!(close(r.p_value, min_attainable_p(2, 8)));
    }

    #[test]
    fn exact_null_distribution_is_symmetric_and_sums_to_one() {
        for (m, n) in [(1, 1), (3, 4), (7, 7), (12, 5)] {
            let c = u_counts(m, n);
            assert_eq!(c.len(), m * n + 1);
            let rev: Vec<f64> = c.iter().rev().copied().collect();
            assert_eq!(c, rev, "{m},{n}");
            let total: f64 = c.iter().sum();
            assert!(close(total, 1.0 / min_attainable_p(m, n)), "{m},{n}");
        }
    }
}
