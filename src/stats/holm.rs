//! Holm–Bonferroni correction for many simultaneous tests (every metric of every case): the
//! chance that any true "no change" is flagged stays at α, without Bonferroni's loss of power.

/// Holm-adjusted p-values, in the order given: sort ascending, multiply the k-th smallest
/// (0-based) by m−k, carry the running maximum forward, cap at 1. A hypothesis is rejected at
/// family-wise level α when its adjusted p-value is ≤ α. NaN inputs are treated as 1.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let clean = |p: f64| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) };
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean(p_values[a]).total_cmp(&clean(p_values[b])));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * clean(p_values[i])).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn adjusts_a_known_example() {
        // Sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 → max(0.06, 0.04) = 0.06.
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (g, w) in adj.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{adj:?}");
        }
    }

    #[test]
    fn one_test_is_left_alone_and_large_products_cap_at_one() {
        assert_eq!(holm(&[0.03]), vec![0.03]);
        assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0]);
        assert_eq!(holm(&[]), Vec::<f64>::new());
        assert_eq!(holm(&[f64::NAN, 0.01]), vec![1.0, 0.02]);
    }

    proptest! {
        #[test]
        fn adjusted_values_are_at_least_raw_monotone_and_at_most_bonferroni(
            ps in proptest::collection::vec(0.0f64..=1.0, 1..40)
        ) {
            let adj = holm(&ps);
            let m = ps.len() as f64;
            for (p, a) in ps.iter().zip(&adj) {
                prop_assert!(*a >= *p - 1e-15);
                prop_assert!(*a <= (p * m).min(1.0) + 1e-15);
            }
            for i in 0..ps.len() {
                for j in 0..ps.len() {
                    if ps[i] < ps[j] {
                        prop_assert!(adj[i] <= adj[j] + 1e-15);
                    }
                }
            }
        }
    }
}
