//! Finding the change points of one series: validation, the search on log figures, and the
//! size of each change point with its interval.

use super::interval::{self, IntervalConfig};
use super::model::{Analysis, ChangePoint, ChangePointError, Config, Series, interval_seed};
use super::search;
use super::significance::Significance;

fn validate(series: &Series, config: &Config) -> Result<(), ChangePointError> {
    if !(config.alpha > 0.0 && config.alpha < 1.0) {
        return Err(ChangePointError::Config(
            "alpha must lie strictly between 0 and 1",
        ));
    }
    if !(config.confidence > 0.0 && config.confidence < 1.0) {
        return Err(ChangePointError::Config(
            "confidence must lie strictly between 0 and 1",
        ));
    }
    if config.min_size < 2 || config.resamples < 2 || config.size_window < 1 {
        return Err(ChangePointError::Config(
            "min_size ≥ 2, resamples ≥ 2, size_window ≥ 1",
        ));
    }
    if matches!(
        config.significance,
        Significance::Permutation { permutations: 0 }
    ) {
        return Err(ChangePointError::Config("permutations must be at least 1"));
    }
    if !series.iterations.is_empty() && series.iterations.len() != series.values.len() {
        return Err(ChangePointError::Misaligned {
            iterations: series.iterations.len(),
            runs: series.values.len(),
        });
    }
    match series
        .values
        .iter()
        .position(|v| !(v.is_finite() && *v > 0.0))
    {
        Some(index) => Err(ChangePointError::NotPositive {
            index,
            value: series.values[index],
        }),
        None => Ok(()),
    }
}

/// Finds the change points of `series`.
pub fn detect(series: &Series, config: &Config) -> Result<Analysis, ChangePointError> {
    validate(series, config)?;
    let n = series.values.len();
    if n < 2 * config.min_size {
        return Ok(Analysis {
            runs: n,
            change_points: Vec::new(),
            too_short: true,
        });
    }
    let logs: Vec<f64> = series.values.iter().map(|v| v.ln()).collect();
    let mut found = match config.significance {
        Significance::Student => search::student(&logs, config),
        Significance::Permutation { permutations } => {
            search::permutation(&logs, config, permutations)
        }
    };
    found.sort_by_key(|f| f.0);
    let mut bounds = vec![0];
    bounds.extend(found.iter().map(|f| f.0));
    bounds.push(n);
    let change_points = found
        .iter()
        .enumerate()
        .map(|(k, &(index, p_value, q_hat))| {
            let before = bounds[k].max(index.saturating_sub(config.size_window))..index;
            let after = index..bounds[k + 2].min(index + config.size_window);
            let interval = IntervalConfig {
                confidence: config.confidence,
                resamples: config.resamples,
                seed: interval_seed(config.seed, index),
            };
            let ratio = interval::ratio_of_medians(
                &series.side(before.clone()),
                &series.side(after.clone()),
                &interval,
            );
            ChangePoint {
                index,
                p_value,
                ratio,
                before,
                after,
                q_hat,
            }
        })
        .collect();
    Ok(Analysis {
        runs: n,
        change_points,
        too_short: false,
    })
}
