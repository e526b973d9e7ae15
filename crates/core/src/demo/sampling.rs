//! Small deterministic sampling helpers shared by the demo generator.
//!
//! Everything here is a pure function of its inputs (no global state, no wall clock), so the
//! demo data are reproducible from the seed alone.

use rand::Rng;

/// Milliseconds in an hour.
pub(crate) const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// SplitMix64 finaliser: a fast, well-mixing bijection on `u64`.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of two words; used for per-(user, day) decisions that must not depend on the order in
/// which the generator visits them.
pub(crate) fn hash2(a: u64, b: u64) -> u64 {
    mix64(a ^ mix64(b ^ 0x5851_F42D_4C95_7F2D))
}

/// Hash of three words.
pub(crate) fn hash3(a: u64, b: u64, c: u64) -> u64 {
    hash2(hash2(a, b), c)
}

/// Maps a hash to a uniform number in `[0, 1)`.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `e^x` from basic arithmetic only.
///
/// The platform `exp`/`ln` (libm) may differ in the last bit between operating systems; with
/// these the same seed gives the same data on Linux, macOS and Windows. Accuracy ~1e-15.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(-700.0, 700.0);
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = x - k * std::f64::consts::LN_2; // |r| <= 0.35
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..=14 {
        term *= r / f64::from(i);
        sum += term;
    }
    // 2^k built from its bits; |k| <= 1010 keeps it a normal number.
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// Natural logarithm from basic arithmetic only (see [`exp`]); `x` must be positive and normal.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let x = x.max(f64::MIN_POSITIVE);
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut power = s;
    let mut sum = 0.0;
    for k in 0..12 {
        sum += power / f64::from(2 * k + 1);
        power *= s2;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

/// Approximately standard normal number from a hash (sum of four uniforms, Irwin–Hall).
pub(crate) fn gauss_from_hash(h: u64) -> f64 {
    let sum: f64 = (0..4)
        .map(|i| f64::from(((h >> (16 * i)) & 0xffff) as u16) / 65_536.0)
        .sum();
    (sum - 2.0) * 3f64.sqrt()
}

/// Standard normal number (Marsaglia's polar method; only `ln` and `sqrt`, see [`exp`]).
pub(crate) fn gauss<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let u = rng.gen::<f64>() * 2.0 - 1.0;
        let v = rng.gen::<f64>() * 2.0 - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * ln(s) / s).sqrt();
        }
    }
}

/// Running sums of `weights`, for [`pick_cum`].
pub(crate) fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .into_iter()
        .map(|w| {
            total += if w.is_finite() && w > 0.0 { w } else { 0.0 };
            total
        })
        .collect()
}

/// Picks an index with probability proportional to its weight, given running sums.
///
/// Returns 0 for an empty or all-zero table (callers never build those, but no panic either).
pub(crate) fn pick_cum<R: Rng + ?Sized>(cum: &[f64], rng: &mut R) -> usize {
    let Some(&total) = cum.last() else { return 0 };
    if total <= 0.0 {
        return 0;
    }
    let r = rng.gen::<f64>() * total;
    cum.partition_point(|&c| c <= r).min(cum.len() - 1)
}

/// Picks one item uniformly; `None` for an empty slice.
pub(crate) fn pick<'a, T, R: Rng + ?Sized>(items: &'a [T], rng: &mut R) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.gen_range(0..items.len()))
    }
}

/// Splits `total` into integer parts proportional to `weights` (largest-remainder method).
///
/// The parts always sum to exactly `total`. Non-finite or negative weights count as zero; if all
/// weights are zero the split is even. Ties are broken by index, so the result is deterministic.
pub(crate) fn largest_remainder(total: u64, weights: &[f64]) -> Vec<u64> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let clean: Vec<f64> = weights
        .iter()
        .map(|&w| if w.is_finite() && w > 0.0 { w } else { 0.0 })
        .collect();
    let sum: f64 = clean.iter().sum();
    let (clean, sum) = if sum > 0.0 {
        (clean, sum)
    } else {
        (vec![1.0; n], n as f64)
    };
    let mut counts = Vec::with_capacity(n);
    let mut fracs = Vec::with_capacity(n);
    for (i, &w) in clean.iter().enumerate() {
        let q = total as f64 * (w / sum);
        let f = q.floor();
        counts.push(f as u64);
        fracs.push((q - f, w > 0.0, i));
    }
    let assigned: u64 = counts.iter().sum();
    if assigned <= total {
        // Largest fractional parts first; positive weights before zero ones; then by index.
        fracs.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut rest = total - assigned;
        let mut k = 0;
        while rest > 0 {
            counts[fracs[k % n].2] += 1;
            rest -= 1;
            k += 1;
        }
    } else {
        // Only reachable through floating-point rounding: take back from the smallest fractions.
        fracs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        let mut excess = assigned - total;
        let mut k = 0;
        while excess > 0 && k < 4 * n {
            let i = fracs[k % n].2;
            if counts[i] > 0 {
                counts[i] -= 1;
                excess -= 1;
            }
            k += 1;
        }
    }
    counts
}

/// Integer variant of [`largest_remainder`]: exact arithmetic, and when `total <= sum(weights)`
/// no part exceeds its weight.
pub(crate) fn largest_remainder_int(total: u64, weights: &[u64]) -> Vec<u64> {
    let n = weights.len();
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if n == 0 {
        return Vec::new();
    }
    if sum == 0 {
        return largest_remainder(total, &vec![1.0; n]);
    }
    let mut counts = Vec::with_capacity(n);
    let mut rems = Vec::with_capacity(n);
    for (i, &w) in weights.iter().enumerate() {
        let p = u128::from(total) * u128::from(w);
        counts.push((p / sum) as u64);
        rems.push((p % sum, i));
    }
    let assigned: u64 = counts.iter().sum();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut rest = total.saturating_sub(assigned);
    let mut k = 0;
    while rest > 0 {
        counts[rems[k % n].1] += 1;
        rest -= 1;
        k += 1;
    }
    counts
}

/// Day of the week of an epoch day number, Monday = 0 (1970-01-01 was a Thursday).
pub(crate) fn weekday(epoch_day: i64) -> i64 {
    (epoch_day + 3).rem_euclid(7)
}

/// Week number of an epoch day, weeks starting on Monday.
pub(crate) fn week(epoch_day: i64) -> i64 {
    (epoch_day + 3).div_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_sums_exactly() {
        let w = [0.3, 0.3, 0.4, 0.0, 1e-9];
        for total in [0u64, 1, 2, 7, 100, 12_345] {
            let c = largest_remainder(total, &w);
            assert_eq!(c.iter().sum::<u64>(), total);
            assert_eq!(c[3], 0, "zero weight gets nothing while others can take it");
        }
        assert_eq!(largest_remainder(5, &[0.0, 0.0]).iter().sum::<u64>(), 5);
        let c = largest_remainder_int(10, &[3, 0, 7, 5]);
        assert_eq!(c.iter().sum::<u64>(), 10);
        assert!(c.iter().zip([3u64, 0, 7, 5]).all(|(c, w)| *c <= w));
        assert_eq!(largest_remainder_int(15, &[3, 0, 7, 5]), vec![3, 0, 7, 5]);
    }

    #[test]
    fn portable_exp_and_ln_are_accurate() {
        for x in [-30.0, -2.5, -0.3, 0.0, 1e-9, 0.7, 1.0, 3.3, 20.0, 300.0] {
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            assert!(rel < 1e-13, "exp({x})");
        }
        for x in [1e-12, 0.001, 0.5, 1.0, 1.5, 2.0, 10.0, 12345.678] {
            assert!((ln(x) - x.ln()).abs() < 1e-13, "ln({x})");
        }
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let n = 20_000;
        let v: Vec<f64> = (0..n).map(|_| gauss(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(0), 3); // Thursday
        assert_eq!(weekday(4), 0); // Monday 1970-01-05
        assert_eq!(week(4), week(10));
        assert_ne!(week(3), week(4));
    }
}
