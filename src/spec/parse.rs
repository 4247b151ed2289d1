//! Parsing the command line's spellings of sizes, durations and lists.

use std::time::Duration;

use crate::error::ConfigError;

/// Parses a byte size: `64`, `1k`/`1K`/`1KiB` (1024), `64KiB`, `1M`, `1MiB`.
pub fn parse_size(text: &str) -> Result<usize, ConfigError> {
    let t = text.trim();
    let bad = || ConfigError::BadSize(text.to_string());
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits.parse().map_err(|_| bad())?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Parses a duration: `500ms`, `1s`, `2m`, `1.5s`.
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    if let Some(secs) = t.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()) {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(t).map_err(|_| ConfigError::BadDuration(text.to_string()))
}

/// Splits a comma list and parses each item; empty items are an error.
pub fn parse_list<T, F>(text: &str, parse: F) -> Result<Vec<T>, ConfigError>
where
    F: Fn(&str) -> Result<T, ConfigError>,
{
    text.split(',').map(|item| parse(item.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("64").unwrap(), 64);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert_eq!(parse_size("128KiB").unwrap(), 128 * 1024);
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert!(parse_size("").is_err());
        assert!(parse_size("12q").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("soon").is_err());
    }
}
