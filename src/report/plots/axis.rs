//! Axes: every chart plots on linear coordinates and does its own scale transform, so one renderer
//! serves linear, logarithmic and "nines" (percentile) axes, with ticks where a reader wants them.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A linear plotting range whose ticks are given, not chosen by plotters (plotters' own
/// `WithKeyPoints` cannot take a label formatter for `f64`).
#[derive(Clone, Debug)]
pub struct Ticked {
    /// The plotting range.
    pub range: Range<f64>,
    /// Tick positions inside it.
    pub ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span == 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.range.start) / span;
        limit.0 + (f64::from(limit.1 - limit.0) * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// How values map onto an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Values as they are.
    Linear,
    /// log10 of the value; ticks at 1, 2, 5 × 10^k.
    Log,
    /// A percentile given as a fraction `q` in [0, 1), placed at `-log10(1 − q)`: 90 % at 1,
    /// 99 % at 2, 99.999 % at 5 (HdrHistogram's percentile-spectrum axis).
    Nines,
}

/// The highest percentile a nines axis shows: 99.999 %.
pub const MAX_NINES: f64 = 5.0;

/// An axis: its description, scale, tick formatter and (optionally) fixed bounds.
#[derive(Clone, Debug)]
pub struct Axis {
    /// What the axis shows, with its unit.
    pub label: String,
    /// The scale.
    pub scale: Scale,
    /// Formats a value (not its position) for a tick label.
    pub format: fn(f64) -> String,
    /// Fixed bounds in values; `None` fits the data.
    pub bounds: Option<(f64, f64)>,
}

/// `0.99` → `99%`, `0.999` → `99.9%`.
pub fn percent_label(q: f64) -> String {
    let p = q * 100.0;
    let s = format!("{p:.5}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

impl Axis {
    /// An axis with the given label, scale and tick format.
    pub fn new(label: &str, scale: Scale, format: fn(f64) -> String) -> Axis {
        Axis {
            label: label.to_string(),
            scale,
            format,
            bounds: None,
        }
    }

    /// The same axis with fixed bounds.
    pub fn bounded(mut self, lo: f64, hi: f64) -> Axis {
        self.bounds = Some((lo, hi));
        self
    }

    /// Where `v` goes on the plotting coordinates, if it can be shown at all.
    pub fn position(&self, v: f64) -> Option<f64> {
        let p = match self.scale {
            Scale::Linear => v,
            Scale::Log if v > 0.0 => v.log10(),
            Scale::Log => return None,
            Scale::Nines if (0.0..1.0).contains(&v) => -(1.0 - v).log10(),
            Scale::Nines => return None,
        };
        p.is_finite().then_some(p)
    }

    /// The value at plotting position `p` (the inverse of [`Axis::position`]).
    pub fn value(&self, p: f64) -> f64 {
        match self.scale {
            Scale::Linear => p,
            Scale::Log => 10f64.powf(p),
            Scale::Nines => 1.0 - 10f64.powf(-p),
        }
    }

    /// Tick positions between plotting positions `lo` and `hi`.
    pub fn ticks(&self, lo: f64, hi: f64) -> Vec<f64> {
        match self.scale {
            Scale::Nines => {
                let mut t = vec![0.0, 2f64.log10()];
                t.extend((1..=MAX_NINES as i32).map(f64::from));
                t.into_iter()
                    .filter(|p| (lo..=hi + 1e-9).contains(p))
                    .collect()
            }
            Scale::Log => {
                let decades = (hi - lo).max(0.0);
                let mults: &[f64] = if decades <= 1.2 {
                    &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]
                } else if decades <= 3.5 {
                    &[1.0, 2.0, 5.0]
                } else {
                    &[1.0]
                };
                let mut t = Vec::new();
                for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
                    for m in mults {
                        let p = (m * 10f64.powi(k)).log10();
                        if (lo..=hi).contains(&p) {
                            t.push(p);
                        }
                    }
                }
                t
            }
            Scale::Linear => {
                let span = (hi - lo).max(f64::MIN_POSITIVE);
                let raw = span / 6.0;
                let mag = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                    .iter()
                    .map(|m| m * mag)
                    .find(|s| *s >= raw)
                    .unwrap_or(10.0 * mag);
                let first = (lo / step).ceil() as i64;
                let last = (hi / step).floor() as i64;
                (first..=last).map(|i| i as f64 * step).collect()
            }
        }
    }

    /// The plotting range for data at positions `positions`: the fixed bounds, or the data's
    /// extent with some room.
    pub fn range(&self, positions: impl IntoIterator<Item = f64>) -> (f64, f64) {
        if let Some((lo, hi)) = self.bounds {
            return (
                self.position(lo).unwrap_or(0.0),
                self.position(hi).unwrap_or(1.0),
            );
        }
        let (lo, hi) = positions
            .into_iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p), b.max(p)));
        if lo > hi {
            return (0.0, 1.0);
        }
        match self.scale {
            Scale::Log => {
                let pad = ((hi - lo) * 0.05).max(0.15);
                (lo - pad, hi + pad)
            }
            _ => {
                let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.05).max(1e-9);
                (
                    if lo >= 0.0 {
                        0.0f64.max(lo - pad)
                    } else {
                        lo - pad
                    },
                    hi + pad,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(scale: Scale) -> Axis {
        Axis::new("x", scale, |v| v.to_string())
    }

    #[test]
    fn nines_put_each_nine_one_unit_further() {
        let a = axis(Scale::Nines);
        for (q, p) in [(0.0, 0.0), (0.9, 1.0), (0.99, 2.0), (0.99999, 5.0)] {
            assert!((a.position(q).unwrap() - p).abs() < 1e-9, "{q}");
            assert!((a.value(p) - q).abs() < 1e-12);
        }
        assert_eq!(a.position(1.0), None);
        assert_eq!(a.ticks(0.0, 5.0).len(), 7);
        assert_eq!(percent_label(0.999), "99.9%");
        assert_eq!(percent_label(0.5), "50%");
    }

    #[test]
    fn log_ticks_fall_on_round_numbers() {
        let a = axis(Scale::Log);
        let values: Vec<f64> = a.ticks(0.0, 2.0).iter().map(|p| a.value(*p)).collect();
        let want = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];
        assert_eq!(values.len(), want.len(), "{values:?}");
        for (v, w) in values.iter().zip(want) {
            assert!((v - w).abs() < 1e-9, "{values:?}");
        }
        assert_eq!(a.position(0.0), None);
    }

    #[test]
    fn linear_ticks_use_round_steps() {
        assert_eq!(
            axis(Scale::Linear).ticks(0.0, 12.0),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
        );
    }
}
