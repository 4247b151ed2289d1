//! `latency.hgrm`: HdrHistogram's percentile-distribution text, as written by
//! `outputPercentileDistribution` in the Java library, so HdrHistogram's own plotter and every
//! tool that reads wrk2/HdrHistogram output can read it. Values are in microseconds.

use std::fmt::Write as _;

use crate::metrics::histogram::LatencyHistogram;

/// Nanoseconds per unit of the values written (microseconds).
pub const VALUE_SCALE: f64 = 1000.0;

/// Renders `h` with 5 ticks per half distance (the Java default).
pub fn render(h: &LatencyHistogram) -> String {
    let mut out = String::new();
    out.push_str("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = h.highest_equivalent(v.value_iterated_to()) as f64 / VALUE_SCALE;
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.3} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
            }
        }
    }
    let (mean, sd, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean(), h.stdev(), h.max() as f64)
    };
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        mean / VALUE_SCALE,
        sd / VALUE_SCALE
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        max / VALUE_SCALE,
        h.len()
    );
    let sub_buckets = (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two();
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets
    );
    out
}

/// Reads the (value µs, percentile, total count) rows back from an hgrm text.
pub fn parse(text: &str) -> Vec<(f64, f64, u64)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{new_histogram, record};

    #[test]
    fn renders_the_java_layout_with_monotonic_rows() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            record(&mut h, v * 100);
        }
        let text = render(&h);
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        assert!(
            text.contains("#[Max     =     1000.447, Total count    =        10000]"),
            "{text}"
        );
        let rows = parse(&text);
        assert!(rows.len() > 20);
        assert!(
            rows.windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1 && w[0].2 <= w[1].2)
        );
        let last = rows.last().unwrap();
        assert_eq!((last.1, last.2), (1.0, 10_000));
        let median = rows.iter().find(|r| r.1 >= 0.5).unwrap();
        assert!((median.0 - 500.0).abs() < 1.0, "{median:?}");
    }

    #[test]
    fn an_empty_histogram_renders_only_the_footer() {
        let text = render(&new_histogram());
        assert!(parse(&text).is_empty());
        assert!(text.contains("Total count    =            0"));
    }
}
