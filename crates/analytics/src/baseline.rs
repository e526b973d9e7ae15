//! Per-user and population baselines: compact count tables computed from the training window.
//!
//! Unseen entities are handled explicitly:
//! - an **unseen user** (or a user whose only training connection is the one being scored
//!   with leave-one-out) is compared with the *population* profile, which has the same shape
//!   as a user profile but counts every connection; so a new user connecting from a common
//!   source to a common host looks normal, and one doing something nobody did looks rare;
//! - an **unseen source, subnet, host, account, protocol or auth method** gets count 0; the
//!   additive smoothing α keeps its rarity finite (−ln(α / (total + α·K))).

use std::collections::BTreeMap;

// Keys are short texts hashed millions of times per training; Fx is several times faster than
// SipHash and the keys are not attacker-chosen in a way that matters for a local tool.
use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::features::{hour_of_day, is_weekend, subnet_key};
use crate::input::ConnectionFeaturesInput;

/// Default additive smoothing for rarity.
pub const DEFAULT_ALPHA: f64 = 0.5;

/// Users with fewer training connections than this use the population volume baseline,
/// because a median/MAD of a handful of values is noise.
const MIN_VOLUME_SAMPLES: u64 = 5;

/// Serialises a hash map with sorted keys so stored models are byte-for-byte reproducible.
fn sorted_map<S: Serializer, V: Serialize>(
    map: &HashMap<String, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let sorted: BTreeMap<&String, &V> = map.iter().collect();
    sorted.serialize(serializer)
}

/// Counts of one kind of entity (sources, hosts, ...) for one user or the population.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityCounts {
    /// Sum of all counts.
    pub total: u64,
    /// Count per entity key.
    #[serde(serialize_with = "sorted_map")]
    pub counts: HashMap<String, u64>,
}

impl EntityCounts {
    /// Adds one observation of `key`.
    pub fn add(&mut self, key: &str) {
        self.total += 1;
        match self.counts.get_mut(key) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(key.to_owned(), 1);
            }
        }
    }

    /// How often `key` was seen (0 if never).
    pub fn count(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    /// Rarity −ln((c + α) / (total + α·K)), K = distinct keys + 1 (a slot for "unseen").
    /// With `loo` the observation being scored is removed from the counts first
    /// (leave-one-out), so training rows look like fresh traffic.
    /// Returns the rarity and the (leave-one-out) count.
    pub fn rarity(&self, key: &str, alpha: f64, loo: bool) -> (f64, u64) {
        let l = u64::from(loo);
        let c = self.count(key).saturating_sub(l);
        let total = self.total.saturating_sub(l);
        (rarity(c, total, self.counts.len() + 1, alpha), c)
    }
}

/// −ln((c + α) / (total + α·k)).
pub(crate) fn rarity(c: u64, total: u64, k: usize, alpha: f64) -> f64 {
    -(((c as f64) + alpha) / ((total as f64) + alpha * k as f64)).ln()
}

/// Use of one target host: how often, and with which accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostUse {
    /// Accounts used on this host (`""` when the account is unknown); `total` is the host count.
    pub accounts: EntityCounts,
}

/// Median and MAD of log1p values (robust centre and spread).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RobustStat {
    /// Number of values.
    pub n: u64,
    /// Median of log1p(value).
    pub median: f64,
    /// Median absolute deviation of log1p(value).
    pub mad: f64,
}

impl RobustStat {
    fn from_values(mut v: Vec<f64>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        let median = median_in_place(&mut v);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        let mad = median_in_place(&mut dev);
        Self {
            n: v.len() as u64,
            median,
            mad,
        }
    }

    /// Robust z-score of a log1p value. The spread is floored at 0.1 (≈ 10 % in raw units)
    /// so users with perfectly regular volumes do not turn every small change into an outlier.
    pub fn z(&self, log_value: f64) -> f64 {
        (log_value - self.median) / (1.4826 * self.mad).max(0.1)
    }
}

fn median_in_place(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Everything the features need to know about one user (or, for the population profile,
/// about everybody).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    /// Training connections.
    pub total: u64,
    /// Connections per hour of day (UTC), 24 bins.
    pub hours: Vec<u64>,
    /// Connections on Saturday or Sunday.
    pub weekend: u64,
    /// Source addresses.
    pub sources: EntityCounts,
    /// Source subnets (/24 for IPv4, /64 for IPv6, the name itself otherwise).
    pub subnets: EntityCounts,
    /// Target hosts (with the accounts used on each).
    #[serde(serialize_with = "sorted_map")]
    pub hosts: HashMap<String, HostUse>,
    /// Distinct (host, account) pairs.
    pub host_account_pairs: u64,
    /// Protocols.
    pub protocols: EntityCounts,
    /// Authentication methods (`""` when unknown).
    pub auth_methods: EntityCounts,
    /// log1p(duration in seconds).
    pub duration: RobustStat,
    /// log1p(bytes in).
    pub bytes_in: RobustStat,
    /// log1p(bytes out).
    pub bytes_out: RobustStat,
}

#[derive(Default)]
struct VolumeValues {
    duration: Vec<f64>,
    bytes_in: Vec<f64>,
    bytes_out: Vec<f64>,
}

impl UserProfile {
    fn new() -> Self {
        Self {
            hours: vec![0; 24],
            ..Self::default()
        }
    }

    fn add(&mut self, c: &ConnectionFeaturesInput<'_>, vol: &mut VolumeValues) {
        self.total += 1;
        self.hours[hour_of_day(c.connected_ms)] += 1;
        if is_weekend(c.connected_ms) {
            self.weekend += 1;
        }
        self.sources.add(c.remote_address);
        self.subnets.add(&subnet_key(c.remote_address));
        let host = match self.hosts.get_mut(c.target_host) {
            Some(h) => h,
            None => self.hosts.entry(c.target_host.to_owned()).or_default(),
        };
        let account = c.target_host_account.unwrap_or("");
        if host.accounts.count(account) == 0 {
            self.host_account_pairs += 1;
        }
        host.accounts.add(account);
        self.protocols.add(c.conn_type);
        self.auth_methods.add(c.authentication_method.unwrap_or(""));
        if let Some(d) = c.duration_s.filter(|d| d.is_finite() && *d >= 0.0) {
            vol.duration.push(d.ln_1p());
        }
        if let Some(b) = c.bytes_in.filter(|b| *b >= 0) {
            vol.bytes_in.push((b as f64).ln_1p());
        }
        if let Some(b) = c.bytes_out.filter(|b| *b >= 0) {
            vol.bytes_out.push((b as f64).ln_1p());
        }
    }

    fn finish(&mut self, vol: VolumeValues) {
        self.duration = RobustStat::from_values(vol.duration);
        self.bytes_in = RobustStat::from_values(vol.bytes_in);
        self.bytes_out = RobustStat::from_values(vol.bytes_out);
    }

    /// Count of training connections of this profile to `host` (0 if never).
    pub fn host_count(&self, host: &str) -> u64 {
        self.hosts.get(host).map_or(0, |h| h.accounts.total)
    }

    /// Count of training connections of this profile to `host` as `account`.
    pub fn host_account_count(&self, host: &str, account: &str) -> u64 {
        self.hosts
            .get(host)
            .map_or(0, |h| h.accounts.count(account))
    }

    /// Smoothed probability of `hour` for this profile: a circular [¼, ½, ¼] kernel over the
    /// 24-bin histogram plus additive α, optionally leaving the scored observation out.
    pub fn hour_probability(&self, hour: usize, alpha: f64, loo: bool) -> f64 {
        let l = u64::from(loo);
        let c = |h: usize| -> f64 {
            let raw = self.hours.get(h).copied().unwrap_or(0);
            (if h == hour {
                raw.saturating_sub(l)
            } else {
                raw
            }) as f64
        };
        let smoothed = 0.5 * c(hour) + 0.25 * c((hour + 23) % 24) + 0.25 * c((hour + 1) % 24);
        let total = self.total.saturating_sub(l) as f64;
        (smoothed + alpha) / (total + 24.0 * alpha)
    }
}

/// The training-window baseline: a profile per user plus the population profile.
/// Compact (hash maps of counts) and serde-serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Additive smoothing used for every rarity.
    pub alpha: f64,
    /// Profiles per user.
    #[serde(serialize_with = "sorted_map")]
    pub users: HashMap<String, UserProfile>,
    /// Everybody's connections in one profile; stands in for unseen users.
    pub population: UserProfile,
}

impl Baseline {
    /// Computes the baseline from training connections.
    pub fn fit<'a, I>(inputs: I) -> Self
    where
        I: IntoIterator<Item = &'a ConnectionFeaturesInput<'a>>,
    {
        let mut users: HashMap<String, (UserProfile, VolumeValues)> = HashMap::default();
        let mut population = UserProfile::new();
        let mut pop_vol = VolumeValues::default();
        for c in inputs {
            let entry = match users.get_mut(c.user) {
                Some(e) => e,
                None => users
                    .entry(c.user.to_owned())
                    .or_insert_with(|| (UserProfile::new(), VolumeValues::default())),
            };
            entry.0.add(c, &mut entry.1);
            population.add(c, &mut pop_vol);
        }
        population.finish(pop_vol);
        let users = users
            .into_iter()
            .map(|(name, (mut p, vol))| {
                p.finish(vol);
                (name, p)
            })
            .collect();
        Self {
            alpha: DEFAULT_ALPHA,
            users,
            population,
        }
    }

    /// The profile to compare `user` with: the user's own, or the population profile when
    /// the user has no (leave-one-out) history. The flag says whether the user is known.
    pub fn profile(&self, user: &str, loo: bool) -> (&UserProfile, bool) {
        match self.users.get(user) {
            Some(p) if p.total > u64::from(loo) => (p, true),
            _ => (&self.population, false),
        }
    }

    /// The volume statistics for a profile, falling back to the population's when the user
    /// has fewer than a handful of values.
    pub(crate) fn volume_stat<'s>(
        &'s self,
        profile: &'s UserProfile,
        pick: fn(&UserProfile) -> &RobustStat,
    ) -> &'s RobustStat {
        let s = pick(profile);
        if s.n >= MIN_VOLUME_SAMPLES {
            s
        } else {
            pick(&self.population)
        }
    }
}
