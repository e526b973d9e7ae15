//! Plain-words explanations computed from the feature values against the baseline.

use crate::baseline::{Baseline, RobustStat, UserProfile};
use crate::features::{hour_of_day, is_weekend, subnet_key, subnet_of, FeatureConfig};
use crate::input::ConnectionFeaturesInput;
use crate::train::TrainedEnsemble;

/// A config contributes reasons when its normalized score is at least this (top 10 %).
const CONFIG_MIN_SCORE: f64 = 0.9;
/// An hour is "outside usual hours" when its smoothed probability is below a quarter of
/// the uniform 1/24.
const UNUSUAL_HOUR_FACTOR: f64 = 0.25;
/// Volume deviations are mentioned from this robust z-score on.
const VOLUME_Z: f64 = 3.0;

pub(crate) fn explain_row(
    ens: &TrainedEnsemble,
    c: &ConnectionFeaturesInput<'_>,
    per_config: &[(&'static str, f64, f64)],
) -> Vec<String> {
    let b = &ens.baseline;
    let (p, known) = b.profile(c.user, false);
    let mut reasons = Vec::new();
    if !known {
        reasons.push(format!(
            "user {} has no history in the training window (compared with all users)",
            c.user
        ));
    }
    // Strongest config first.
    let mut order: Vec<(FeatureConfig, f64)> = ens
        .configs
        .iter()
        .zip(per_config)
        .map(|(tc, &(_, _, s))| (tc.config, s))
        .filter(|&(_, s)| s >= CONFIG_MIN_SCORE)
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (fc, s) in order {
        let before = reasons.len();
        match fc {
            FeatureConfig::TimeOfUse => time_reasons(b, p, c, &mut reasons),
            FeatureConfig::Source => source_reasons(b, p, c, &mut reasons),
            FeatureConfig::AccessPattern => access_reasons(b, p, c, &mut reasons),
            FeatureConfig::Volume => volume_reasons(b, p, c, &mut reasons),
        }
        if reasons.len() == before {
            reasons.push(format!(
                "unusual {} for {} (normalized score {s:.3})",
                fc.name().replace('_', " "),
                c.user
            ));
        }
    }
    reasons
}

fn time_reasons(
    b: &Baseline,
    p: &UserProfile,
    c: &ConnectionFeaturesInput<'_>,
    out: &mut Vec<String>,
) {
    let h = hour_of_day(c.connected_ms);
    let minute = c.connected_ms.div_euclid(60_000).rem_euclid(60);
    if p.hour_probability(h, b.alpha, false) * 24.0 < UNUSUAL_HOUR_FACTOR {
        out.push(format!(
            "{h:02}:{minute:02} is outside {}'s usual hours",
            c.user
        ));
    }
    if is_weekend(c.connected_ms) && p.total > 0 && (p.weekend as f64) < 0.05 * p.total as f64 {
        out.push(format!("weekend use is unusual for {}", c.user));
    }
}

fn source_reasons(
    b: &Baseline,
    p: &UserProfile,
    c: &ConnectionFeaturesInput<'_>,
    out: &mut Vec<String>,
) {
    let addr = c.remote_address;
    let n = p.sources.count(addr);
    if n == 0 {
        out.push(format!("source {addr} never seen for {}", c.user));
    } else if (n as f64) < 0.01 * p.sources.total as f64 {
        out.push(format!(
            "source {addr} rarely used by {} ({n} of {} connections)",
            c.user, p.sources.total
        ));
    }
    let subnet = subnet_of(addr);
    let key = subnet_key(addr);
    if key != addr && p.subnets.count(&key) == 0 {
        out.push(format!("subnet {subnet} never seen for {}", c.user));
    }
    if b.population.sources.count(addr) == 0 {
        out.push(format!("source {addr} never seen for any user"));
    }
}

fn access_reasons(
    _b: &Baseline,
    p: &UserProfile,
    c: &ConnectionFeaturesInput<'_>,
    out: &mut Vec<String>,
) {
    let host = c.target_host;
    let account = c.target_host_account.unwrap_or("");
    if p.host_count(host) == 0 {
        out.push(format!("first access to {host} by {}", c.user));
    }
    if !account.is_empty() && p.host_account_count(host, account) == 0 {
        out.push(format!(
            "first use of account {account} on {host} by {}",
            c.user
        ));
    }
    let np = p.protocols.count(c.conn_type);
    if np == 0 {
        out.push(format!("first {} connection by {}", c.conn_type, c.user));
    } else if (np as f64) < 0.02 * p.protocols.total as f64 {
        out.push(format!("{} is unusual for {}", c.conn_type, c.user));
    }
    if c.failed {
        out.push("the connection failed".to_owned());
    }
    if let Some(m) = c.authentication_method {
        if p.auth_methods.count(m) == 0 {
            out.push(format!(
                "authentication method {m} never used by {}",
                c.user
            ));
        }
    }
}

fn volume_reasons(
    b: &Baseline,
    p: &UserProfile,
    c: &ConnectionFeaturesInput<'_>,
    out: &mut Vec<String>,
) {
    let mut one = |label: &str, value: Option<f64>, stat: &RobustStat| {
        let Some(v) = value.filter(|v| v.is_finite() && *v >= 0.0) else {
            return;
        };
        let lv = v.ln_1p();
        if stat.z(lv).abs() < VOLUME_Z {
            return;
        }
        // Ratio of (value + 1) to the median of (value + 1): what log1p measures.
        let ratio = (lv - stat.median).exp();
        let fmt = |r: f64| {
            if r >= 10.0 {
                format!("{r:.0}")
            } else {
                format!("{r:.1}")
            }
        };
        if ratio >= 1.0 {
            out.push(format!("{label} {}× {}'s median", fmt(ratio), c.user));
        } else {
            out.push(format!(
                "{label} 1/{} of {}'s median",
                fmt(1.0 / ratio),
                c.user
            ));
        }
    };
    one("duration", c.duration_s, b.volume_stat(p, |u| &u.duration));
    one(
        "bytes_in",
        c.bytes_in.map(|v| v as f64),
        b.volume_stat(p, |u| &u.bytes_in),
    );
    one(
        "bytes_out",
        c.bytes_out.map(|v| v as f64),
        b.volume_stat(p, |u| &u.bytes_out),
    );
}
