//! The E-divisive divergence Q̂ (Matteson & James 2014, eq. 5–6, α = 1) for every split of one
//! segment, in O(n log n) instead of the O(n²) of a pairwise distance matrix.
//!
//! For a segment split into X = v[..τ] (n values) and Y = v[τ..] (m values):
//!
//! ```text
//! Ê(X, Y) = 2/(n·m)·Σ|xᵢ−yⱼ| − Σ_{i<k}|xᵢ−xₖ| / C(n,2) − Σ_{j<l}|yⱼ−yₗ| / C(m,2)
//! Q̂(X, Y) = n·m/(n+m) · Ê(X, Y)
//! ```
//!
//! As in MongoDB's `signal_processing_algorithms` (and unlike Otava's calculator), the right-hand
//! side always runs to the end of the segment (κ = segment end): the hierarchical bisection then
//! finds a step that is later undone as two change points, one per recursion level.
//!
//! How the sums are kept cheap: the within-sums of every prefix W_L(τ) are built by adding one
//! value at a time; adding x to a set S adds Σ_{y∈S}|x−y| = x·c≤ − s≤ + (s − s≤) − x·(|S| − c≤),
//! where c≤ and s≤ count and sum the members not above x. A Fenwick tree over the values' ranks
//! gives c≤ and s≤ in O(log n). The suffix within-sums W_R(τ) are built the same way from the
//! end, and the between-sum is W_L(len) − W_L(τ) − W_R(τ). The Fenwick tree is written here
//! (30 lines) because it has to carry a count and a sum side by side and be reset in place
//! between permutations without allocating; no maintained crate offers that shape.

/// The best split of one segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    /// Offset, within the segment, of the first value of the right-hand side.
    pub at: usize,
    /// Q̂ at that split.
    pub q_hat: f64,
}

/// Reusable buffers, so repeated evaluations (permutations) allocate nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    count: Vec<u32>,
    sum: Vec<f64>,
    left: Vec<f64>,
    right: Vec<f64>,
}

impl Scratch {
    fn reset(&mut self, len: usize) {
        for v in [&mut self.left, &mut self.right] {
            v.clear();
            v.resize(len + 1, 0.0);
        }
        self.count.clear();
        self.count.resize(len + 1, 0);
        self.sum.clear();
        self.sum.resize(len + 1, 0.0);
    }

    fn clear_tree(&mut self) {
        self.count.fill(0);
        self.sum.fill(0.0);
    }

    /// Adds `x` at 0-based `rank`.
    fn add(&mut self, rank: u32, x: f64) {
        let mut i = rank as usize + 1;
        while i < self.count.len() {
            self.count[i] += 1;
            self.sum[i] += x;
            i += i & i.wrapping_neg();
        }
    }

    /// Count and sum of the values added so far whose rank is ≤ `rank`.
    fn at_most(&self, rank: u32) -> (f64, f64) {
        let (mut c, mut s) = (0u32, 0.0);
        let mut i = rank as usize + 1;
        while i > 0 {
            c += self.count[i];
            s += self.sum[i];
            i -= i & i.wrapping_neg();
        }
        (c as f64, s)
    }
}

/// Dense ranks (0-based; equal values share a rank) of `values` within themselves.
pub fn ranks(values: &[f64]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0u32; values.len()];
    let mut rank = 0u32;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 && values[i] != values[order[k - 1]] {
            rank += 1;
        }
        out[i] = rank;
    }
    out
}

/// Within-sums of every prefix: `out[t]` = Σ_{i<k<t}|vᵢ−vₖ|. `ranks` must be the dense ranks of
/// `values` among themselves.
fn prefix_within(values: &[f64], ranks: &[u32], scratch: &mut Scratch, backwards: bool) {
    scratch.clear_tree();
    let len = values.len();
    let (mut total, mut acc) = (0.0, 0.0);
    for step in 0..len {
        let i = if backwards { len - 1 - step } else { step };
        let (x, r) = (values[i], ranks[i]);
        let (c_le, s_le) = scratch.at_most(r);
        let seen = step as f64;
        acc += x * c_le - s_le + (total - s_le) - x * (seen - c_le);
        total += x;
        scratch.add(r, x);
        if backwards {
            scratch.right[i] = acc;
        } else {
            scratch.left[i + 1] = acc;
        }
    }
}

/// The split of `values` that maximises Q̂ with at least `min_size` (≥ 2) values on each side, or
/// `None` when the segment is shorter than `2·min_size`. `ranks`: see [`ranks`].
pub fn best_split(
    values: &[f64],
    ranks: &[u32],
    min_size: usize,
    scratch: &mut Scratch,
) -> Option<Split> {
    debug_assert!(
        min_size >= 2,
        "a side needs two values for its within-distance"
    );
    let len = values.len();
    if len < 2 * min_size {
        return None;
    }
    scratch.reset(len);
    prefix_within(values, ranks, scratch, false);
    prefix_within(values, ranks, scratch, true);
    let whole = scratch.left[len];
    let mut best: Option<Split> = None;
    for tau in min_size..=len - min_size {
        let (n, m) = (tau as f64, (len - tau) as f64);
        let (w_left, w_right) = (scratch.left[tau], scratch.right[tau]);
        let between = whole - w_left - w_right;
        let e = 2.0 * between / (n * m)
            - w_left / (n * (n - 1.0) / 2.0)
            - w_right / (m * (m - 1.0) / 2.0);
        let q_hat = n * m / (n + m) * e;
        if best.is_none_or(|b| q_hat > b.q_hat) {
            best = Some(Split { at: tau, q_hat });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Q̂ straight from the definition, O(n²).
    fn q_hat_naive(x: &[f64], y: &[f64]) -> f64 {
        let (n, m) = (x.len() as f64, y.len() as f64);
        let between: f64 = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| (a - b).abs()))
            .sum();
        let within = |v: &[f64]| -> f64 {
            let mut s = 0.0;
            for i in 0..v.len() {
                for k in i + 1..v.len() {
                    s += (v[i] - v[k]).abs();
                }
            }
            s
        };
        let e = 2.0 * between / (n * m)
            - within(x) / (n * (n - 1.0) / 2.0)
            - within(y) / (m * (m - 1.0) / 2.0);
        n * m / (n + m) * e
    }

    #[test]
    fn matches_the_definition_with_ties() {
        let v = [
            3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0, 7.0,
        ];
        let r = ranks(&v);
        let mut scratch = Scratch::default();
        let best = best_split(&v, &r, 2, &mut scratch).unwrap();
        let mut expected = (0, f64::NEG_INFINITY);
        for tau in 2..=v.len() - 2 {
            let q = q_hat_naive(&v[..tau], &v[tau..]);
            if q > expected.1 {
                expected = (tau, q);
            }
        }
        assert_eq!(best.at, expected.0);
        assert!((best.q_hat - expected.1).abs() < 1e-9 * expected.1.abs().max(1.0));
    }

    #[test]
    fn a_clean_step_is_split_where_it_happens() {
        let v: Vec<f64> = (0..20).map(|i| if i < 13 { 1.0 } else { 2.0 }).collect();
        let best = best_split(&v, &ranks(&v), 3, &mut Scratch::default()).unwrap();
        assert_eq!(best.at, 13);
    }

    #[test]
    fn too_short_a_segment_has_no_split() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(best_split(&v, &ranks(&v), 3, &mut Scratch::default()), None);
        assert!(best_split(&v[..4], &ranks(&v[..4]), 2, &mut Scratch::default()).is_some());
    }

    #[test]
    fn dense_ranks_share_ties() {
        assert_eq!(ranks(&[2.0, 1.0, 2.0, 0.5]), vec![2, 1, 2, 0]);
    }
}
