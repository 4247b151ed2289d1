//! The flags of trust on a noisy machine that `run` and `suite` share: `--precision`,
//! `--max-time`, `--no-canary`.

use std::time::Duration;

use clap::Args;

use crate::error::ConfigError;
use crate::run::precision::PrecisionRequest;
use crate::spec::parse_duration;

/// The default of `--max-time`.
pub const DEFAULT_MAX_TIME: &str = "10m";

/// Measuring to a precision, and the drift canary.
#[derive(Debug, Clone, Default, Args)]
pub struct TrustArgs {
    /// Keep adding interleaved rounds until every case's p50 (stream: throughput) has a 95 %
    /// interval within ±PCT (e.g. 2%), or --max-time is spent; each case records the precision
    /// it reached.
    #[arg(long, value_name = "PCT")]
    pub precision: Option<String>,
    /// With --precision: the most time to measure, planned iterations included [default: 10m].
    #[arg(long, value_name = "DURATION", requires = "precision")]
    pub max_time: Option<String>,
    /// Take no drift canary before each iteration (interference is still accounted).
    #[arg(long)]
    pub no_canary: bool,
}

/// Reads a `--precision` value: `2%`, `2` (percent) or `0.5%`; between 0 and 50 %.
pub fn parse_precision(text: &str) -> Result<f64, ConfigError> {
    let pct: f64 = text.trim().trim_end_matches('%').trim().parse().map_err(|_| {
        ConfigError::Invalid(format!(
            "--precision '{text}': expected a percentage such as 2% (the 95 % interval's half-width)"
        ))
    })?;
    if !(pct.is_finite() && pct > 0.0 && pct < 50.0) {
        return Err(ConfigError::Invalid(format!(
            "--precision '{text}': must lie between 0 and 50 percent, e.g. 2%"
        )));
    }
    Ok(pct / 100.0)
}

impl TrustArgs {
    /// The validated `--precision` request, if any.
    pub fn precision(&self) -> Result<Option<PrecisionRequest>, ConfigError> {
        let Some(text) = &self.precision else {
            return Ok(None);
        };
        Ok(Some(PrecisionRequest {
            target_rel: parse_precision(text)?,
            max_time: max_time(self.max_time.as_deref())?,
        }))
    }
}

/// Reads `--max-time` (default [`DEFAULT_MAX_TIME`]); it must be positive.
pub fn max_time(text: Option<&str>) -> Result<Duration, ConfigError> {
    let t = parse_duration(text.unwrap_or(DEFAULT_MAX_TIME))?;
    if t.is_zero() {
        return Err(ConfigError::Invalid(
            "--max-time must be longer than 0, e.g. 3m".into(),
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_takes_percentages() {
        assert_eq!(parse_precision("2%").unwrap(), 0.02);
        assert_eq!(parse_precision("0.5").unwrap(), 0.005);
        for bad in ["0", "-1%", "50%", "two", ""] {
            let e = parse_precision(bad).unwrap_err().to_string();
            assert!(e.contains("--precision"), "{bad}: {e}");
        }
        assert_eq!(max_time(None).unwrap(), Duration::from_secs(600));
        assert_eq!(max_time(Some("3m")).unwrap(), Duration::from_secs(180));
        assert!(max_time(Some("0s")).is_err());
    }
}
