//! Number formatting shared by every output: latencies in µs with sensible precision, rates
//! with SI prefixes.

/// A latency given in nanoseconds, as microseconds with 3 significant digits (at least 0
/// decimals): `6.21`, `71.4`, `1234`.
pub fn us(ns: f64) -> String {
    let v = ns / 1000.0;
    let decimals = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.decimals$}")
}

/// A rate with an SI prefix: `153.2k`, `1.25M`, `980`.
pub fn si(v: f64) -> String {
    let (scaled, unit) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let decimals = if scaled < 10.0 && !unit.is_empty() {
        2
    } else if scaled < 100.0 && !unit.is_empty() {
        1
    } else {
        0
    };
    format!("{scaled:.decimals$}{unit}")
}

/// Bytes per second as binary-prefixed bytes and decimal Gbit/s: `2.31 GiB/s (19.8 Gbit/s)`.
pub fn bandwidth(bytes_per_sec: f64) -> String {
    let gib = bytes_per_sec / (1u64 << 30) as f64;
    let gbit = bytes_per_sec * 8.0 / 1e9;
    if gib >= 1.0 {
        format!("{gib:.2} GiB/s ({gbit:.1} Gbit/s)")
    } else {
        format!(
            "{:.1} MiB/s ({gbit:.2} Gbit/s)",
            bytes_per_sec / (1u64 << 20) as f64
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_keep_three_significant_digits() {
        assert_eq!(us(6_213.0), "6.21");
        assert_eq!(us(71_400.0), "71.4");
        assert_eq!(us(1_234_000.0), "1234");
        assert_eq!(us(0.0), "0.00");
    }

    #[test]
    fn rates_get_si_prefixes() {
        assert_eq!(si(980.0), "980");
        assert_eq!(si(153_200.0), "153k");
        assert_eq!(si(15_320.0), "15.3k");
        assert_eq!(si(1_250_000.0), "1.25M");
        assert_eq!(si(3.2e9), "3.20G");
    }

    #[test]
    fn bandwidth_shows_both_units() {
        assert_eq!(
            bandwidth(2.0 * (1u64 << 30) as f64),
            "2.00 GiB/s (17.2 Gbit/s)"
        );
        assert_eq!(bandwidth(1_048_576.0), "1.0 MiB/s (0.01 Gbit/s)");
    }
}
