//! Mapping raw scores to [0, 1] by their position in the validation scores, and the
//! threshold ↔ flag-rate mapping.

use serde::{Deserialize, Serialize};

/// Expected flag rate on normal traffic for threshold t ∈ [0, 1] ("Loose – Strict"):
/// 10^(−3+2t), i.e. t = 0 → 0.1 % (beyond q99.9), t = 0.5 → 1 % (q99), t = 1 → 10 % (q90).
/// `t` is clamped to [0, 1].
pub fn expected_flag_rate(t: f64) -> f64 {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    10f64.powf(-3.0 + 2.0 * t)
}

/// Whether a calibrated score (see [`crate::ConnectionScore::score`]) is flagged at
/// threshold `t`: score > 1 − rate(t).
pub fn is_anomalous(score: f64, t: f64) -> bool {
    score > 1.0 - expected_flag_rate(t)
}

/// A histogram: `hist.len()` bins over `bin_edges` (`hist.len() + 1` edges).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Counts per bin; they sum to the number of values.
    pub hist: Vec<u64>,
    /// Bin edges, ascending.
    pub bin_edges: Vec<f64>,
}

impl Histogram {
    /// `bins` equal-width bins from the minimum to the maximum of `values` (the last bin
    /// includes the maximum). Non-finite values are counted in the nearest end bin.
    pub fn new(values: &[f64], bins: usize) -> Self {
        let bins = bins.max(1);
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let width = (hi - lo) / bins as f64;
        let bin_edges: Vec<f64> = (0..=bins)
            .map(|i| if i == bins { hi } else { lo + width * i as f64 })
            .collect();
        let mut hist = vec![0u64; bins];
        for &v in values {
            let idx = if v.is_nan() || v <= lo {
                0
            } else {
                (((v - lo) / width) as usize).min(bins - 1)
            };
            hist[idx] += 1;
        }
        Self { hist, bin_edges }
    }
}

/// Probability levels of the stored knots: coarse in the body, fine in the tail, where
/// thresholds live (q90 … q99.9 and beyond).
fn knot_levels() -> Vec<f64> {
    let mut p: Vec<f64> = (0..90).map(|i| i as f64 / 100.0).collect();
    p.extend((0..90).map(|i| 0.9 + i as f64 / 1000.0));
    p.extend((0..100).map(|i| 0.99 + i as f64 / 10_000.0));
    p.push(1.0);
    p
}

/// Type-7 (linear interpolation) quantile of sorted values.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Empirical CDF of a validation score distribution, stored compactly as ~280 quantile
/// knots (linear between knots) plus an exponential tail beyond the maximum, so that scores
/// above everything seen keep their order instead of all becoming 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibrator {
    /// Knot scores, non-decreasing.
    pub knots_x: Vec<f64>,
    /// CDF value at each knot (the last is n / (n + 1)).
    pub knots_p: Vec<f64>,
    /// Scale of the exponential tail: mean excess over the validation q99.
    pub tail_scale: f64,
    /// Number of validation scores.
    pub n: usize,
}

impl Calibrator {
    /// Builds the CDF from validation scores (non-finite scores are ignored).
    pub fn fit(values: &[f64]) -> Self {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            sorted.push(0.0);
        }
        let n = sorted.len();
        let shrink = n as f64 / (n as f64 + 1.0);
        let levels = knot_levels();
        let knots_x: Vec<f64> = levels
            .iter()
            .map(|&q| quantile_sorted(&sorted, q))
            .collect();
        let knots_p: Vec<f64> = levels.iter().map(|&q| q * shrink).collect();
        let q99 = quantile_sorted(&sorted, 0.99);
        let (sum, cnt) = sorted
            .iter()
            .filter(|&&v| v > q99)
            .fold((0.0, 0usize), |(s, c), &v| (s + (v - q99), c + 1));
        let spread = (sorted[n - 1] - sorted[0]).abs().max(1e-12);
        let tail_scale = if cnt > 0 { sum / cnt as f64 } else { 0.0 }.max(1e-6 * spread);
        Self {
            knots_x,
            knots_p,
            tail_scale,
            n,
        }
    }

    /// Normalised score s ∈ [0, 1): the CDF at `x`.
    pub fn normalize(&self, x: f64) -> f64 {
        match self.locate(x) {
            Position::Body(p) => p,
            Position::Tail(excess) => 1.0 - (-excess).exp() / (self.n as f64 + 1.0),
        }
    }

    /// −ln(1 − s), computed without rounding s to 1 in the tail (unbounded evidence).
    pub fn neg_log_survival(&self, x: f64) -> f64 {
        match self.locate(x) {
            Position::Body(p) => -(1.0 - p).ln(),
            Position::Tail(excess) => (self.n as f64 + 1.0).ln() + excess,
        }
    }

    fn locate(&self, x: f64) -> Position {
        if x.is_nan() {
            // A NaN score is treated as maximally anomalous rather than silently normal.
            return Position::Tail(f64::MAX.ln());
        }
        let j = self.knots_x.partition_point(|&k| k <= x);
        if j == 0 {
            return Position::Body(0.0);
        }
        if j == self.knots_x.len() {
            let last = self.knots_x[j - 1];
            return Position::Tail(((x - last) / self.tail_scale).min(1e300));
        }
        let (x0, x1) = (self.knots_x[j - 1], self.knots_x[j]);
        let (p0, p1) = (self.knots_p[j - 1], self.knots_p[j]);
        Position::Body(p0 + (p1 - p0) * (x - x0) / (x1 - x0))
    }
}

enum Position {
    Body(f64),
    Tail(f64),
}
