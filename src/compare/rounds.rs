//! Which BASE run and which NEW run make one round: `loopbench ab` runs both sides once per
//! round, back to back in a random order, so the runs of both sides taken in order of start time
//! fall into consecutive BASE/NEW couples.

use std::collections::BTreeMap;

/// The rounds of two sides' runs: per round, [index into `base`, index into `new`]. Empty unless
/// both sides have the same number (at least two) of distinct runs and, in order of start time
/// (`starts`: run id → RFC 3339 start), they fall into consecutive BASE/NEW couples.
pub fn rounds(base: &[&str], new: &[&str], starts: &BTreeMap<&str, &str>) -> Vec<[usize; 2]> {
    if base.len() != new.len() || base.len() < 2 || base.iter().any(|b| new.contains(b)) {
        return Vec::new();
    }
    let mut all: Vec<(&str, bool, usize)> = base
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, true, i))
        .chain(new.iter().enumerate().map(|(i, id)| (*id, false, i)))
        .collect();
    all.sort_by_key(|(id, _, _)| starts.get(id).copied().unwrap_or(""));
    let mut out = Vec::new();
    for couple in all.chunks(2) {
        match couple {
            [(_, true, b), (_, false, n)] | [(_, false, n), (_, true, b)] => out.push([*b, *n]),
            _ => return Vec::new(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fall_into_rounds_by_start_time_or_not_at_all() {
        let starts: BTreeMap<&str, &str> = [("b1", "1"), ("n1", "2"), ("n2", "3"), ("b2", "4")]
            .into_iter()
            .collect();
        assert_eq!(
            rounds(&["b2", "b1"], &["n1", "n2"], &starts),
            [[1, 0], [0, 1]]
        );
        // Two BASE runs back to back: no rounds.
        let starts: BTreeMap<&str, &str> = [("b1", "1"), ("b2", "2"), ("n1", "3"), ("n2", "4")]
            .into_iter()
            .collect();
        assert!(rounds(&["b1", "b2"], &["n1", "n2"], &starts).is_empty());
        assert!(rounds(&["b1"], &["n1"], &starts).is_empty());
    }
}
