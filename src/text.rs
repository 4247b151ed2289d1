//! Text shared by every output: numbers (latencies in µs with sensible precision, rates with SI
//! prefixes, bandwidths), columns aligned for a terminal, and names made safe for file names.

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

/// A size in bytes with a binary prefix: `64 B`, `4.5 KiB`, `8 MiB`.
pub fn bytes(n: u64) -> String {
    let units = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    match units.iter().find(|(u, _)| n >= *u) {
        Some((u, name)) if n % u == 0 => format!("{} {name}", n / u),
        Some((u, name)) => format!("{:.1} {name}", n as f64 / *u as f64),
        None => format!("{n} B"),
    }
}

/// Aligns `rows` under `header`: the first and last columns left-aligned, numbers right-aligned.
pub fn align<H: AsRef<str>>(header: &[H], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let right: Vec<bool> = (0..n).map(|i| i != 0 && i + 1 != n).collect();
    let all: Vec<Vec<String>> =
        std::iter::once(header.iter().map(|h| h.as_ref().to_string()).collect())
            .chain(rows.iter().cloned())
            .collect();
    columns(&all, &right)
}

/// Aligns rows of cells into columns; `right[i]` right-aligns column i. A row of one cell is a
/// heading: printed as it is, it does not widen the first column.
pub fn columns(rows: &[Vec<String>], right: &[bool]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |i: usize| {
        rows.iter()
            .filter(|r| r.len() > 1)
            .filter_map(|r| r.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..n).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                line.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` with every character but ASCII letters, digits and those in `keep` replaced by `_`, so
/// case ids and the file names made from them stay portable.
pub fn sanitize(text: &str, keep: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || keep.contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(bytes(64), "64 B");
        assert_eq!(bytes(4608), "4.5 KiB");
        assert_eq!(bytes(8 << 20), "8 MiB");
    }

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

    #[test]
    fn columns_align() {
        let rows = vec![
            vec!["a".to_string(), "1".to_string()],
            vec!["long".to_string(), "100".to_string()],
        ];
        assert_eq!(columns(&rows, &[false, true]), "a       1\nlong  100\n");
        let with_heading = vec![
            vec!["a heading wider than the rest".to_string()],
            rows[0].clone(),
        ];
        assert_eq!(
            columns(&with_heading, &[false, true]),
            "a heading wider than the rest\na  1\n"
        );
    }

    #[test]
    fn sanitize_keeps_letters_digits_and_the_characters_asked_for() {
        assert_eq!(sanitize("127.0.0.1:80/x y", "._"), "127.0.0.1_80_x_y");
        assert_eq!(sanitize("a-b", "._-"), "a-b");
    }
}
