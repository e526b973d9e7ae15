//! Synthetic connection data: users with habits, plus planted anomalies.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use ueba_analytics::ConnectionFeaturesInput;

/// 2024-01-01 00:00 UTC, a Monday.
pub const START_MS: i64 = 1_704_067_200_000;
pub const DAY_MS: i64 = 86_400_000;
pub const USERS: usize = 60;

/// An owned synthetic connection with its scenario label.
#[derive(Debug, Clone)]
pub struct Row {
    pub user: String,
    pub src: String,
    pub host: String,
    pub account: Option<String>,
    pub proto: &'static str,
    pub ms: i64,
    pub dur: f64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub failed: bool,
    pub auth: &'static str,
    pub scenario: &'static str,
}

impl Row {
    pub fn input(&self) -> ConnectionFeaturesInput<'_> {
        ConnectionFeaturesInput {
            user: &self.user,
            remote_address: &self.src,
            target_host: &self.host,
            target_host_account: self.account.as_deref(),
            conn_type: self.proto,
            connected_ms: self.ms,
            duration_s: Some(self.dur),
            bytes_in: Some(self.bytes_in),
            bytes_out: Some(self.bytes_out),
            failed: self.failed,
            authentication_method: Some(self.auth),
        }
    }
}

pub fn inputs(rows: &[Row]) -> Vec<ConnectionFeaturesInput<'_>> {
    rows.iter().map(Row::input).collect()
}

fn gauss(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = rng.gen_range(1e-12..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub fn user_name(u: usize) -> String {
    format!("user{u:02}")
}

fn host_of(u: usize, k: usize) -> (String, &'static str) {
    let team = u % 6;
    let h = (u + k) % 5;
    let proto = ["SSH", "RDP", "DB", "SSH", "WEB"][h];
    (format!("srv-{team}-{h}"), proto)
}

/// One normal connection of user `u` on day `day` (days since START_MS).
fn normal_row(rng: &mut Xoshiro256PlusPlus, u: usize, day: i64) -> Row {
    let team = u % 6;
    let start_hour = 6 + (u % 5) as i64;
    let hour = if rng.gen_bool(0.02) {
        rng.gen_range(0..24)
    } else {
        start_hour + rng.gen_range(0..9)
    };
    let ms = START_MS + day * DAY_MS + hour * 3_600_000 + rng.gen_range(0..3_600_000);
    let src = if rng.gen_bool(0.9) {
        format!("10.{team}.1.{}", 10 + u)
    } else {
        format!("192.168.{}.2", u)
    };
    let (host, proto) = host_of(u, rng.gen_range(0..3));
    let account = if rng.gen_bool(0.85) {
        user_name(u)
    } else {
        "svc".to_owned()
    };
    let med = 5.0 + (u % 3) as f64;
    let dur = (med + 0.5 * gauss(rng)).exp();
    let bytes_in = (10.0 + (u % 4) as f64 + 0.6 * gauss(rng)).exp() as i64;
    let bytes_out = (8.0 + (u % 3) as f64 + 0.6 * gauss(rng)).exp() as i64;
    Row {
        user: user_name(u),
        src,
        host,
        account: Some(account),
        proto,
        ms,
        dur,
        bytes_in,
        bytes_out,
        failed: rng.gen_bool(0.01),
        auth: if u % 2 == 0 { "publickey" } else { "password" },
        scenario: "normal",
    }
}

/// `n` normal connections spread over `days` weekdays starting `first_day` days after START_MS.
pub fn normal(n: usize, seed: u64, first_day: i64, days: i64) -> Vec<Row> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u = rng.gen_range(0..USERS);
            // Weekdays only (Mon..Fri), START_MS is a Monday.
            let mut day = first_day + rng.gen_range(0..days);
            while (day.rem_euclid(7)) >= 5 {
                day = first_day + rng.gen_range(0..days);
            }
            normal_row(&mut rng, u, day)
        })
        .collect()
}

pub const SCENARIOS: [&str; 5] = [
    "off_hours",
    "new_source",
    "new_host_root",
    "exfiltration",
    "brute_force",
];

/// `per` anomalies of every scenario, each a normal connection with one habit broken.
pub fn anomalies(per: usize, seed: u64, first_day: i64, days: i64) -> Vec<Row> {
    let mut base = normal(per * SCENARIOS.len(), seed, first_day, days);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xA5A5);
    for (i, r) in base.iter_mut().enumerate() {
        let scenario = SCENARIOS[i % SCENARIOS.len()];
        r.scenario = scenario;
        match scenario {
            "off_hours" => {
                let day_start = r.ms - r.ms.rem_euclid(DAY_MS);
                r.ms = day_start + rng.gen_range(1..4) * 3_600_000 + rng.gen_range(0..3_600_000);
            }
            "new_source" => r.src = format!("203.0.113.{}", rng.gen_range(1..255)),
            "new_host_root" => {
                r.host = "db-fin-01".to_owned();
                r.account = Some("root".to_owned());
                r.proto = "DB";
            }
            "exfiltration" => r.bytes_out *= rng.gen_range(50..200),
            _ => {
                r.failed = true;
                r.account = Some("admin".to_owned());
                r.auth = if r.auth == "publickey" {
                    "password"
                } else {
                    "publickey"
                };
            }
        }
    }
    base
}
