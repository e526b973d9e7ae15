//! The feature configs: each turns a connection plus the baseline into a short vector.

use std::borrow::Cow;
use std::net::IpAddr;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::baseline::{rarity, Baseline, UserProfile};
use crate::input::ConnectionFeaturesInput;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Hour of day (0..24, UTC) of a millisecond timestamp.
pub(crate) fn hour_of_day(ms: i64) -> usize {
    ms.div_euclid(MS_PER_HOUR).rem_euclid(24) as usize
}

/// Saturday or Sunday (UTC). 1970-01-01 was a Thursday.
pub(crate) fn is_weekend(ms: i64) -> bool {
    let dow_monday0 = (ms.div_euclid(MS_PER_DAY) + 3).rem_euclid(7);
    dow_monday0 >= 5
}

/// The subnet a source address belongs to: `a.b.c.0/24` for IPv4, the /64 for IPv6, and the
/// address itself for anything that does not parse as an IP (host names).
pub fn subnet_of(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => address.to_owned(),
    }
}

/// The key subnets are counted under: the text up to the last `.` of an IPv4 address (its
/// /24, without allocating), the /64 of an IPv6 address, the address itself otherwise.
pub(crate) fn subnet_key(address: &str) -> Cow<'_, str> {
    match address.parse::<IpAddr>() {
        // std accepts only the canonical dotted form, so the prefix identifies the /24.
        Ok(IpAddr::V4(_)) => Cow::Borrowed(address.rsplit_once('.').map_or(address, |(p, _)| p)),
        Ok(IpAddr::V6(_)) => Cow::Owned(subnet_of(address)),
        Err(_) => Cow::Borrowed(address),
    }
}

/// The named feature configs of DESIGN §5; each gets its own model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureConfig {
    /// Hour of use: sin/cos of the hour of day, weekend flag, how unusual the hour and the
    /// weekend are for the user.
    TimeOfUse,
    /// Source: rarity of the address and its subnet for the user and globally, and whether
    /// the address is new for the user.
    Source,
    /// Access pattern: rarity of user→host, user→(host, account), user→protocol, new
    /// host/account flags, failed flag, rarity of the auth method for the user.
    AccessPattern,
    /// Volume: log1p of duration, bytes in and bytes out as robust z-scores against the
    /// user's own median / MAD.
    Volume,
}

impl FeatureConfig {
    /// All configs, in the order the ensemble uses.
    pub const ALL: [FeatureConfig; 4] = [
        FeatureConfig::TimeOfUse,
        FeatureConfig::Source,
        FeatureConfig::AccessPattern,
        FeatureConfig::Volume,
    ];

    /// The config's name (stored as the feature config name).
    pub fn name(self) -> &'static str {
        match self {
            FeatureConfig::TimeOfUse => "time_of_use",
            FeatureConfig::Source => "source",
            FeatureConfig::AccessPattern => "access_pattern",
            FeatureConfig::Volume => "volume",
        }
    }

    /// Names of the feature columns.
    pub fn feature_names(self) -> &'static [&'static str] {
        match self {
            FeatureConfig::TimeOfUse => &[
                "hour_sin",
                "hour_cos",
                "weekend",
                "hour_rarity_user",
                "weekend_rarity_user",
            ],
            FeatureConfig::Source => &[
                "source_rarity_user",
                "subnet_rarity_user",
                "source_rarity_global",
                "subnet_rarity_global",
                "source_new_for_user",
            ],
            FeatureConfig::AccessPattern => &[
                "host_rarity_user",
                "host_account_rarity_user",
                "protocol_rarity_user",
                "host_new_for_user",
                "account_new_for_user",
                "failed",
                "auth_method_rarity_user",
            ],
            FeatureConfig::Volume => &["duration_z", "bytes_in_z", "bytes_out_z"],
        }
    }

    /// Number of feature columns.
    pub fn dim(self) -> usize {
        self.feature_names().len()
    }

    /// Computes this config's feature matrix (rows = inputs). `loo` (leave-one-out) is used
    /// for the training rows, whose own observation is in the baseline.
    pub fn compute(
        self,
        baseline: &Baseline,
        inputs: &[ConnectionFeaturesInput<'_>],
        loo: bool,
    ) -> Array2<f64> {
        let mut m = Array2::zeros((inputs.len(), self.dim()));
        for (mut row, c) in m.rows_mut().into_iter().zip(inputs) {
            let (p, _) = baseline.profile(c.user, loo);
            if let Some(slice) = row.as_slice_mut() {
                self.fill(baseline, p, c, loo, slice);
            }
        }
        m
    }

    /// Fills one row. `p` is the user's profile (or the population's for unseen users).
    pub(crate) fn fill(
        self,
        b: &Baseline,
        p: &UserProfile,
        c: &ConnectionFeaturesInput<'_>,
        loo: bool,
        out: &mut [f64],
    ) {
        let a = b.alpha;
        let l = u64::from(loo);
        match self {
            FeatureConfig::TimeOfUse => {
                let frac_hour = c.connected_ms.rem_euclid(MS_PER_DAY) as f64 / MS_PER_HOUR as f64;
                let angle = frac_hour / 24.0 * std::f64::consts::TAU;
                let weekend = is_weekend(c.connected_ms);
                out[0] = angle.sin();
                out[1] = angle.cos();
                out[2] = f64::from(u8::from(weekend));
                out[3] = -p.hour_probability(hour_of_day(c.connected_ms), a, loo).ln();
                let total = p.total.saturating_sub(l);
                let we = if weekend {
                    p.weekend.saturating_sub(l)
                } else {
                    (p.total - p.weekend).saturating_sub(l)
                };
                out[4] = rarity(we, total, 2, a);
            }
            FeatureConfig::Source => {
                let subnet = subnet_key(c.remote_address);
                let (r_src, n_src) = p.sources.rarity(c.remote_address, a, loo);
                out[0] = r_src;
                out[1] = p.subnets.rarity(&subnet, a, loo).0;
                out[2] = b.population.sources.rarity(c.remote_address, a, loo).0;
                out[3] = b.population.subnets.rarity(&subnet, a, loo).0;
                out[4] = f64::from(u8::from(n_src == 0));
            }
            FeatureConfig::AccessPattern => {
                let account = c.target_host_account.unwrap_or("");
                let total = p.total.saturating_sub(l);
                let n_host = p.host_count(c.target_host).saturating_sub(l);
                let n_pair = p
                    .host_account_count(c.target_host, account)
                    .saturating_sub(l);
                out[0] = rarity(n_host, total, p.hosts.len() + 1, a);
                out[1] = rarity(n_pair, total, p.host_account_pairs as usize + 1, a);
                out[2] = p.protocols.rarity(c.conn_type, a, loo).0;
                out[3] = f64::from(u8::from(n_host == 0));
                out[4] = f64::from(u8::from(n_pair == 0));
                out[5] = f64::from(u8::from(c.failed));
                out[6] = p
                    .auth_methods
                    .rarity(c.authentication_method.unwrap_or(""), a, loo)
                    .0;
            }
            FeatureConfig::Volume => {
                // Missing values sit at the user's median (z = 0): absence is not evidence.
                let d = b.volume_stat(p, |u| &u.duration);
                out[0] = c
                    .duration_s
                    .filter(|d| d.is_finite() && *d >= 0.0)
                    .map_or(0.0, |v| d.z(v.ln_1p()));
                let bi = b.volume_stat(p, |u| &u.bytes_in);
                out[1] = c
                    .bytes_in
                    .filter(|v| *v >= 0)
                    .map_or(0.0, |v| bi.z((v as f64).ln_1p()));
                let bo = b.volume_stat(p, |u| &u.bytes_out);
                out[2] = c
                    .bytes_out
                    .filter(|v| *v >= 0)
                    .map_or(0.0, |v| bo.z((v as f64).ln_1p()));
            }
        }
    }
}

/// Computes all configs' feature matrices in one pass (one profile lookup per row).
pub(crate) fn compute_all(
    baseline: &Baseline,
    inputs: &[ConnectionFeaturesInput<'_>],
    loo: bool,
) -> Vec<Array2<f64>> {
    // Scoring callers split their batches over the cores themselves.
    compute_rows(baseline, inputs.len(), |i| &inputs[i], loo, 1, &|| {})
}

/// Rows between two calls of the caller's pause hook while computing features.
const PAUSE_EVERY_ROWS: usize = 8192;

/// Feature matrices of the rows `row(0..n)` (the training split is a set of indexes into the
/// caller's inputs; copying a million inputs into split order would cost more than it saves).
pub(crate) fn compute_rows<'a, 'b: 'a>(
    baseline: &Baseline,
    n: usize,
    row: impl Fn(usize) -> &'a ConnectionFeaturesInput<'b> + Sync,
    loo: bool,
    threads: usize,
    pause: &(dyn Fn() + Sync),
) -> Vec<Array2<f64>> {
    let mut mats: Vec<Array2<f64>> = FeatureConfig::ALL
        .iter()
        .map(|f| Array2::zeros((n, f.dim())))
        .collect();
    let fill = |start: usize, parts: &mut [ndarray::ArrayViewMut2<'_, f64>]| {
        let mut buf = [0.0f64; 8];
        let len = parts.first().map_or(0, |p| p.nrows());
        for i in 0..len {
            if i % PAUSE_EVERY_ROWS == 0 {
                pause();
            }
            let c = row(start + i);
            let (p, _) = baseline.profile(c.user, loo);
            for (f, m) in FeatureConfig::ALL.iter().zip(parts.iter_mut()) {
                let d = f.dim();
                f.fill(baseline, p, c, loo, &mut buf[..d]);
                for (j, v) in buf[..d].iter().enumerate() {
                    m[[i, j]] = *v;
                }
            }
        }
    };
    // Rows are independent: split them over `threads`.
    let chunk = n.div_ceil(threads.max(1)).max(4096);
    let mut pieces: Vec<Vec<ndarray::ArrayViewMut2<'_, f64>>> = Vec::new();
    for m in mats.iter_mut() {
        for (k, piece) in m.axis_chunks_iter_mut(ndarray::Axis(0), chunk).enumerate() {
            if pieces.len() <= k {
                pieces.push(Vec::new());
            }
            pieces[k].push(piece);
        }
    }
    std::thread::scope(|s| {
        for (k, mut parts) in pieces.into_iter().enumerate() {
            let fill = &fill;
            s.spawn(move || fill(k * chunk, &mut parts));
        }
    });
    mats
}
