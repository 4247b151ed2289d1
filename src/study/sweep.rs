//! Sweeps: one setting over a range of values, each value a variant of its own.
//!
//! ```toml
//! [[sweep]]
//! setting = "net.core.busy_poll"          # a sysctl name, or a numeric variant key:
//! values = [0, 25, 50, 100, 200]          # cpu_dma_latency_us, lo_mtu, busy_poll_us,
//!                                         # haltpoll.<parameter>, sched.<tunable>,
//!                                         # socket.<option>
//! # or: from = 0, to = 200, step = 25
//! # or: from = 1000, to = 1000000, points = 7, scale = "log"
//! sysctl = { "net.core.busy_read" = 50 }  # any variant key: the same in every point
//! ```
//!
//! Each value becomes a variant named `<name>-<value>` (`name` defaults to the setting's last
//! part: `busy_poll-50`), built from the sweep's other keys as if it were a `[[variant]]`.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Most points one sweep may have.
pub const MAX_POINTS: usize = 64;

/// Variant keys that take a number directly.
const NUMERIC_KEYS: [&str; 3] = ["cpu_dma_latency_us", "lo_mtu", "busy_poll_us"];

/// Variant keys whose value is a table of numbers by name.
const TABLE_KEYS: [&str; 3] = ["haltpoll", "sched", "socket"];

/// A `[[sweep]]` table as written.
#[derive(Debug, Deserialize)]
pub struct SweepToml {
    setting: String,
    values: Option<Vec<i64>>,
    from: Option<i64>,
    to: Option<i64>,
    step: Option<i64>,
    points: Option<usize>,
    scale: Option<String>,
    name: Option<String>,
    /// Every other key: the variant keys each point shares.
    #[serde(flatten)]
    template: toml::Table,
}

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepPoint {
    /// The variant it became.
    pub variant: String,
    /// The setting's value.
    pub value: i64,
}

/// A sweep as the study and its report know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sweep {
    /// The setting swept, as written (`net.core.busy_poll`, `haltpoll.guest_halt_poll_ns`).
    pub setting: String,
    /// Its points, in the order of their values.
    pub points: Vec<SweepPoint>,
    /// True for a logarithmic sweep (its curve is drawn on a log axis).
    pub log: bool,
}

fn invalid(setting: &str, msg: &str) -> ConfigError {
    ConfigError::Invalid(format!("[[sweep]] {setting}: {msg}"))
}

/// The values a sweep table asks for, sorted and without duplicates.
fn values(s: &SweepToml) -> Result<(Vec<i64>, bool), ConfigError> {
    let bad = |m: &str| invalid(&s.setting, m);
    let log = match s.scale.as_deref() {
        None | Some("linear") => false,
        Some("log") => true,
        Some(other) => {
            return Err(bad(&format!(
                "scale \"{other}\": use \"linear\" or \"log\""
            )));
        }
    };
    let mut v = match (&s.values, s.from, s.to) {
        (Some(v), None, None) if s.step.is_none() && s.points.is_none() => v.clone(),
        (None, Some(from), Some(to)) if from < to => match (s.step, s.points, log) {
            (Some(step), None, false) if step > 0 => {
                let n = ((to - from) / step) as usize + 1;
                if n > MAX_POINTS {
                    return Err(bad(&format!("{n} points; at most {MAX_POINTS}")));
                }
                (0..n as i64).map(|k| from + k * step).collect()
            }
            (None, Some(points), true) if from > 0 && (2..=MAX_POINTS).contains(&points) => {
                let ratio = (to as f64 / from as f64).powf(1.0 / (points - 1) as f64);
                (0..points)
                    .map(|k| (from as f64 * ratio.powi(k as i32)).round() as i64)
                    .collect()
            }
            _ => {
                return Err(bad(
                    "give `step` (> 0) for a linear sweep, or `points` (2 or more) and \
                     scale = \"log\" with from > 0 for a logarithmic one",
                ));
            }
        },
        _ => {
            return Err(bad(
                "give `values = [...]`, or `from` and `to` (from < to) with `step` or `points`",
            ));
        }
    };
    v.sort_unstable();
    v.dedup();
    if v.len() < 2 || v.len() > MAX_POINTS {
        return Err(bad(&format!(
            "a sweep needs 2 to {MAX_POINTS} distinct values, not {}",
            v.len()
        )));
    }
    Ok((v, log))
}

/// Puts `value` where `setting` lives in a variant table.
fn place(table: &mut toml::Table, setting: &str, value: i64) -> Result<(), ConfigError> {
    let bad = |m: String| invalid(setting, &m);
    let conflict = || bad(format!("the sweep's other keys set {setting} too"));
    let v = toml::Value::Integer(value);
    match setting.split_once('.') {
        None if NUMERIC_KEYS.contains(&setting) => {
            if table.insert(setting.into(), v).is_some() {
                return Err(conflict());
            }
        }
        Some((head, rest)) if TABLE_KEYS.contains(&head) && !rest.contains('.') => {
            let inner = table
                .entry(head)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let inner = inner
                .as_table_mut()
                .ok_or_else(|| bad(format!("{head} must be a table")))?;
            if inner.insert(rest.into(), v).is_some() {
                return Err(conflict());
            }
        }
        Some((head, _)) if !TABLE_KEYS.contains(&head) => {
            crate::host::sysctl::check_name(setting).map_err(|e| bad(e.to_string()))?;
            let inner = table
                .entry("sysctl")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let inner = inner
                .as_table_mut()
                .ok_or_else(|| bad("sysctl must be a table".into()))?;
            if inner.insert(setting.into(), v).is_some() {
                return Err(conflict());
            }
        }
        _ => {
            return Err(bad(format!(
                "sweep a sysctl name or a numeric variant key ({}, or {}.<name>)",
                NUMERIC_KEYS.join(", "),
                TABLE_KEYS.join(".<name>, ")
            )));
        }
    }
    Ok(())
}

/// Expands a sweep into one variant table per value (name and setting filled in), with what
/// the report needs to draw its curve.
pub fn expand(s: SweepToml) -> Result<(Sweep, Vec<toml::Table>), ConfigError> {
    let (values, log) = values(&s)?;
    if s.template.contains_key("name") {
        return Err(invalid(
            &s.setting,
            "name the sweep with `name`, not per point",
        ));
    }
    let prefix = s.name.clone().unwrap_or_else(|| {
        s.setting
            .rsplit('.')
            .next()
            .unwrap_or(&s.setting)
            .to_string()
    });
    let mut tables = Vec::new();
    let mut points = Vec::new();
    for value in values {
        let mut t = s.template.clone();
        place(&mut t, &s.setting, value)?;
        let variant = format!("{prefix}-{value}");
        t.insert("name".into(), toml::Value::String(variant.clone()));
        tables.push(t);
        points.push(SweepPoint { variant, value });
    }
    Ok((
        Sweep {
            setting: s.setting,
            points,
            log,
        },
        tables,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> Result<(Sweep, Vec<toml::Table>), ConfigError> {
        expand(toml::from_str(text).unwrap())
    }

    #[test]
    fn values_come_from_a_list_a_step_or_a_log_scale() {
        let (s, t) = sweep("setting = \"net.core.busy_poll\"\nvalues = [50, 0, 25, 50]\n").unwrap();
        let v: Vec<i64> = s.points.iter().map(|p| p.value).collect();
        assert_eq!(v, [0, 25, 50]);
        assert_eq!(s.points[1].variant, "busy_poll-25");
        assert_eq!(t[1]["sysctl"]["net.core.busy_poll"].as_integer(), Some(25));
        assert_eq!(t[1]["name"].as_str(), Some("busy_poll-25"));
        let (s, _) = sweep("setting = \"busy_poll_us\"\nfrom = 0\nto = 100\nstep = 25\n").unwrap();
        assert_eq!(s.points.len(), 5);
        let (s, t) = sweep(
            "setting = \"haltpoll.guest_halt_poll_ns\"\nfrom = 1000\nto = 1000000\npoints = 4\n\
             scale = \"log\"\nname = \"poll\"\n",
        )
        .unwrap();
        let v: Vec<i64> = s.points.iter().map(|p| p.value).collect();
        assert_eq!(v, [1000, 10000, 100000, 1000000]);
        assert!(s.log);
        assert_eq!(s.points[0].variant, "poll-1000");
        assert_eq!(
            t[0]["haltpoll"]["guest_halt_poll_ns"].as_integer(),
            Some(1000)
        );
    }

    #[test]
    fn the_other_keys_are_shared_by_every_point() {
        let (_, t) = sweep(
            "setting = \"net.core.busy_poll\"\nvalues = [0, 50]\n\
             sysctl = { \"net.core.busy_read\" = 50 }\nengine = \"epoll\"\n",
        )
        .unwrap();
        assert_eq!(t[0]["sysctl"]["net.core.busy_read"].as_integer(), Some(50));
        assert_eq!(t[1]["engine"].as_str(), Some("epoll"));
        assert_eq!(t[1]["sysctl"]["net.core.busy_poll"].as_integer(), Some(50));
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: &str| sweep(text).unwrap_err().to_string();
        assert!(err("setting = \"engine\"\nvalues = [1, 2]\n").contains("numeric variant key"));
        assert!(err("setting = \"lo_mtu\"\nvalues = [1500]\n").contains("2 to 64"));
        assert!(err("setting = \"lo_mtu\"\nfrom = 2\nto = 1\nstep = 1\n").contains("from < to"));
        assert!(
            err("setting = \"lo_mtu\"\nfrom = 0\nto = 9\npoints = 3\nscale = \"log\"\n")
                .contains("from > 0")
        );
        assert!(err("setting = \"lo_mtu\"\nvalues = [1, 2]\nlo_mtu = 5\n").contains("too"));
        assert!(err("setting = \"lo_mtu\"\nfrom = 0\nto = 1000\nstep = 1\n").contains("at most"));
        assert!(err("setting = \"net/x\"\nvalues = [1, 2]\n").contains("net/x"));
        assert!(
            err("setting = \"lo_mtu\"\nvalues = [1, 2]\nscale = \"cubic\"\n").contains("cubic")
        );
    }
}
