//! Tests of the demo generator. Sizes stay small so they run quickly in debug builds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::sampling::{weekday, DAY_MS, HOUR_MS};
use super::*;

/// 2024-03-04T00:00:00Z, a Monday.
const END: i64 = 1_709_510_400_000;

fn config(connections: u64, days: u32, seed: u64) -> DemoConfig {
    DemoConfig {
        connections,
        days,
        seed,
        attack_rate: 0.002,
        end_ms: END,
        attack_window: None,
    }
}

fn generate(c: &DemoConfig) -> Vec<Connection> {
    match DemoGenerator::new(c) {
        Ok(g) => g.collect(),
        Err(e) => panic!("valid config refused: {e}"),
    }
}

/// One shared medium-size run with a raised attack rate: 40 000 rows over 14 days.
fn attack_run() -> &'static (DemoConfig, Vec<Connection>) {
    static RUN: OnceLock<(DemoConfig, Vec<Connection>)> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut c = config(40_000, 14, 7);
        c.attack_rate = 0.01;
        let rows = generate(&c);
        (c, rows)
    })
}

fn is_attack(c: &Connection) -> bool {
    c.label.as_deref() != Some(NORMAL_LABEL)
}

fn hour_of(ms: i64) -> i64 {
    ms.rem_euclid(DAY_MS) / HOUR_MS
}

#[test]
fn yields_exact_count_in_time_order_inside_the_span() {
    for (n, days, end) in [
        (5_000u64, 7u32, END),
        (777, 1, END + 1_234_567),
        (3, 2, END),
    ] {
        let mut c = config(n, days, 3);
        c.end_ms = end;
        let gen = DemoGenerator::new(&c).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gen.size_hint(), (n as usize, Some(n as usize)));
        let rows: Vec<Connection> = gen.collect();
        assert_eq!(rows.len() as u64, n);
        let start = c.start_ms();
        for pair in rows.windows(2) {
            assert!(pair[0].connected <= pair[1].connected, "ordered by time");
            assert!(pair[0].id < pair[1].id, "ids ascend with output order");
        }
        for r in &rows {
            assert!(r.connected >= start && r.connected < end, "inside the span");
        }
    }
}

#[test]
fn size_hint_counts_down() {
    let mut gen = DemoGenerator::new(&config(100, 2, 1)).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..40 {
        assert!(gen.next().is_some());
    }
    assert_eq!(gen.size_hint(), (60, Some(60)));
    assert_eq!(gen.by_ref().count(), 60);
    assert!(gen.next().is_none());
}

#[test]
fn zero_connections_yield_nothing() {
    let gen = DemoGenerator::new(&config(0, 30, 1)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(gen.size_hint(), (0, Some(0)));
    assert_eq!(gen.count(), 0);
}

#[test]
fn same_seed_same_rows_other_seed_other_rows() {
    let a = generate(&config(3_000, 5, 11));
    let b = generate(&config(3_000, 5, 11));
    assert_eq!(a, b);
    let c = generate(&config(3_000, 5, 12));
    assert_eq!(c.len(), a.len());
    assert_ne!(a, c);
    let users_a: BTreeSet<&str> = a.iter().map(|r| r.user.as_str()).collect();
    let users_c: BTreeSet<&str> = c.iter().map(|r| r.user.as_str()).collect();
    assert_ne!(users_a, users_c, "another seed makes another organisation");
}

#[test]
fn every_field_is_valid() {
    let (c, rows) = attack_run();
    let mut ids = BTreeSet::new();
    for r in rows {
        let id = uuid::Uuid::parse_str(&r.id).unwrap_or_else(|e| panic!("bad id {}: {e}", r.id));
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id
            .get_timestamp()
            .map(|t| t.to_unix())
            .unwrap_or_else(|| panic!("no timestamp in {}", r.id));
        assert_eq!(
            secs as i64 * 1000 + i64::from(nanos / 1_000_000),
            r.connected
        );
        assert!(ids.insert(r.id.clone()), "duplicate id");
        for (name, value) in [
            ("user", &r.user),
            ("type", &r.conn_type),
            ("target_host", &r.target_host),
            ("remote_address", &r.remote_address),
        ] {
            assert!(!value.is_empty(), "{name} empty");
        }
        assert!(r.remote_address.parse::<Ipv4Addr>().is_ok());
        assert!(["SSH", "RDP", "VNC", "DB", "WEB"].contains(&r.conn_type.as_str()));
        assert!(!r.user_roles.is_empty());
        assert!(!r.tags.is_empty());
        for f in [
            &r.target_host_address,
            &r.target_host_account,
            &r.authentication_method,
            &r.mode,
            &r.user_agent,
            &r.label,
        ] {
            assert!(f.as_deref().is_some_and(|s| !s.is_empty()));
        }
        assert!(r.bytes_in.is_some_and(|b| b >= 0) && r.bytes_out.is_some_and(|b| b >= 0));
        match r.status.as_deref() {
            Some("DISCONNECTED") | Some("FAILED") => {
                let d = r.disconnected.unwrap_or(i64::MIN);
                assert!(d >= r.connected && d < c.end_ms);
                let dur = r.duration.unwrap_or(-1.0);
                assert!(dur >= 0.0);
                assert!(((d - r.connected) as f64 / 1000.0 - dur).abs() < 1e-9);
                assert!(r.termination_reason.is_some());
            }
            Some("CONNECTED") => {
                // Only sessions still running at the end of the log.
                assert!(r.disconnected.is_none() && r.duration.is_none());
                assert!(r.connected > c.end_ms - 13 * HOUR_MS);
            }
            other => panic!("unexpected status {other:?}"),
        }
        if r.status.as_deref() == Some("FAILED") && !is_attack(r) {
            assert!(r.duration.unwrap_or(99.0) < 31.0, "failures are short");
        }
    }
    let failed = rows
        .iter()
        .filter(|r| !is_attack(r) && r.status.as_deref() == Some("FAILED"))
        .count() as f64;
    let share = failed / rows.len() as f64;
    assert!((0.003..0.06).contains(&share), "failure share {share}");
}

#[test]
fn attacks_only_in_the_window_at_the_requested_rate() {
    let (c, rows) = attack_run();
    let w = c.effective_attack_window();
    let in_window = rows
        .iter()
        .filter(|r| r.connected >= w.start_ms && r.connected < w.end_ms)
        .count() as f64;
    let attacks: Vec<&Connection> = rows.iter().filter(|r| is_attack(r)).collect();
    for a in &attacks {
        assert!(
            a.connected >= w.start_ms && a.connected < w.end_ms,
            "attack outside window"
        );
    }
    let rate = attacks.len() as f64 / in_window;
    // Rounding to whole rows is the only deviation.
    assert!(
        (rate - c.attack_rate).abs() <= 1.0 / in_window + 1e-12,
        "rate {rate}"
    );
    let mut per_scenario: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &attacks {
        *per_scenario
            .entry(a.label.as_deref().unwrap_or(""))
            .or_default() += 1;
    }
    for s in SCENARIOS {
        let n = per_scenario.get(s).copied().unwrap_or(0);
        assert!(n >= 3, "scenario {s} has {n} rows: {per_scenario:?}");
        assert!(
            n * 2 < attacks.len(),
            "scenario {s} dominates: {per_scenario:?}"
        );
    }
    assert_eq!(per_scenario.len(), SCENARIOS.len(), "only known labels");
}

#[test]
fn attack_rate_extremes() {
    let mut c = config(2_000, 3, 5);
    c.attack_rate = 0.0;
    assert!(generate(&c).iter().all(|r| !is_attack(r)));

    c.attack_rate = 1.0;
    c.attack_window = Some(AttackWindow {
        start_ms: END - 6 * HOUR_MS,
        end_ms: END - 2 * HOUR_MS,
    });
    let rows = generate(&c);
    assert_eq!(rows.len(), 2_000);
    let w = c.attack_window.unwrap_or(c.effective_attack_window());
    for r in &rows {
        let inside = r.connected >= w.start_ms && r.connected < w.end_ms;
        assert_eq!(
            inside,
            is_attack(r),
            "rate 1 makes the whole window attacks"
        );
    }
    // A tiny run still gets a few scenarios.
    let mut c = config(500, 1, 9);
    c.attack_rate = 0.05;
    let gen = DemoGenerator::new(&c).unwrap_or_else(|e| panic!("{e}"));
    let expected = gen.attack_rows();
    let rows: Vec<Connection> = gen.collect();
    assert_eq!(
        rows.iter().filter(|r| is_attack(r)).count() as u64,
        expected
    );
    assert!(expected > 0);
}

#[test]
fn weekends_are_quieter_than_weekdays() {
    let (_, rows) = attack_run();
    let mut per_day: BTreeMap<i64, usize> = BTreeMap::new();
    for r in rows {
        *per_day.entry(r.connected.div_euclid(DAY_MS)).or_default() += 1;
    }
    let (mut wd, mut we) = (Vec::new(), Vec::new());
    for (day, n) in per_day {
        if weekday(day) < 5 {
            wd.push(n as f64);
        } else {
            we.push(n as f64);
        }
    }
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    assert_eq!(we.len(), 4, "14 days hold two weekends");
    assert!(
        avg(&wd) > 2.0 * avg(&we),
        "weekday {} vs weekend {}",
        avg(&wd),
        avg(&we)
    );
    // Service accounts keep going at the weekend.
    let weekend_services = rows
        .iter()
        .filter(|r| weekday(r.connected.div_euclid(DAY_MS)) >= 5 && r.user.starts_with("svc-"))
        .count();
    assert!(weekend_services > 100);
}

#[test]
fn service_accounts_run_around_the_clock() {
    let (_, rows) = attack_run();
    let normal = || rows.iter().filter(|r| !is_attack(r));
    let night: Vec<&Connection> = normal().filter(|r| hour_of(r.connected) < 5).collect();
    let service_night = night.iter().filter(|r| r.user.starts_with("svc-")).count();
    assert!(
        service_night * 2 > night.len(),
        "services dominate the night"
    );
    let mut svc_hours = BTreeSet::new();
    for r in normal().filter(|r| r.user.starts_with("svc-")) {
        svc_hours.insert(hour_of(r.connected));
        assert!(r.user_roles.contains(&"service".to_owned()));
        assert!(
            matches!(
                r.authentication_method.as_deref(),
                Some("publickey") | Some("certificate")
            ),
            "service accounts use keys"
        );
    }
    assert_eq!(svc_hours.len(), 24);
    // Their connections start on their schedule grid (within a couple of seconds).
    let monitor: Vec<&Connection> = normal().filter(|r| r.user == "svc-monitor").collect();
    assert!(!monitor.is_empty());
    assert!(monitor
        .iter()
        .all(|r| r.connected.rem_euclid(300_000) < 2_000));
    let sources: BTreeSet<&str> = monitor.iter().map(|r| r.remote_address.as_str()).collect();
    assert_eq!(sources.len(), 1, "fixed source");
}

#[test]
fn people_keep_to_their_habits() {
    let (_, rows) = attack_run();
    let mut by_user: BTreeMap<&str, Vec<&Connection>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| !is_attack(r) && !r.user.starts_with("svc-"))
    {
        by_user.entry(r.user.as_str()).or_default().push(r);
    }
    assert!(by_user.len() >= 40);
    for (user, conns) in &by_user {
        let sources: BTreeSet<&str> = conns.iter().map(|r| r.remote_address.as_str()).collect();
        assert!(sources.len() <= 3, "{user} uses {} sources", sources.len());
    }
    // Most human activity is in daytime hours.
    let day = by_user
        .values()
        .flatten()
        .filter(|r| (6..20).contains(&hour_of(r.connected)))
        .count();
    let all: usize = by_user.values().map(Vec::len).sum();
    assert!(day as f64 > 0.75 * all as f64);
}

#[test]
fn attacks_differ_from_the_victims_normal_behaviour() {
    let (_, rows) = attack_run();
    #[derive(Default)]
    struct Normal<'a> {
        sources: BTreeSet<&'a str>,
        hosts: BTreeSet<&'a str>,
        accounts: BTreeSet<&'a str>,
        auth: BTreeSet<&'a str>,
        bytes_out: Vec<i64>,
    }
    let mut normal: BTreeMap<&str, Normal> = BTreeMap::new();
    for r in rows.iter().filter(|r| !is_attack(r)) {
        let n = normal.entry(r.user.as_str()).or_default();
        n.sources.insert(&r.remote_address);
        n.hosts.insert(&r.target_host);
        n.accounts
            .insert(r.target_host_account.as_deref().unwrap_or(""));
        n.auth
            .insert(r.authentication_method.as_deref().unwrap_or(""));
        if r.status.as_deref() == Some("DISCONNECTED") {
            n.bytes_out.push(r.bytes_out.unwrap_or(0));
        }
    }
    let empty = Normal::default();
    let mut checked = BTreeMap::<&str, usize>::new();
    for a in rows.iter().filter(|r| is_attack(r)) {
        let label = a.label.as_deref().unwrap_or("");
        let n = normal.get(a.user.as_str()).unwrap_or(&empty);
        let account = a.target_host_account.as_deref().unwrap_or("");
        match label {
            "credential_theft" => {
                assert!(!n.sources.contains(a.remote_address.as_str()), "new source");
                assert!(hour_of(a.connected) < 6, "at night");
                assert!(!a.user.starts_with("svc-"));
            }
            "brute_force" => {
                assert!(!n.sources.contains(a.remote_address.as_str()), "new source");
                assert_eq!(a.authentication_method.as_deref(), Some("password"));
            }
            "lateral_movement" => {
                assert!(!n.hosts.contains(a.target_host.as_str()), "unusual host");
            }
            "privilege_abuse" => {
                assert!(["root", "Administrator"].contains(&account), "{account}");
                assert!(!n.accounts.contains(account), "never used {account} before");
            }
            "service_account_misuse" => {
                assert!(a.user.starts_with("svc-"));
                assert!(
                    !n.sources.contains(a.remote_address.as_str()),
                    "not its server"
                );
                assert_eq!(a.authentication_method.as_deref(), Some("password"));
                assert!(!n.auth.contains("password"));
                assert!(matches!(a.conn_type.as_str(), "SSH" | "RDP"));
            }
            "data_exfiltration" => {
                let mut b = n.bytes_out.clone();
                b.sort_unstable();
                if let Some(median) = b.get(b.len() / 2) {
                    let out = a.bytes_out.unwrap_or(0);
                    if a.status.as_deref() == Some("DISCONNECTED") {
                        assert!(out > 20 * median, "{out} vs median {median}");
                        assert!(a.duration.unwrap_or(0.0) > 3_600.0);
                    }
                }
            }
            other => panic!("unknown label {other}"),
        }
        *checked.entry(label).or_default() += 1;
    }
    assert_eq!(checked.len(), SCENARIOS.len());
    // A brute-force burst is many failures in a short time from one address.
    let bursts: Vec<&Connection> = rows
        .iter()
        .filter(|r| r.label.as_deref() == Some("brute_force"))
        .collect();
    let failed = bursts
        .iter()
        .filter(|r| r.status.as_deref() == Some("FAILED"))
        .count();
    assert!(failed * 10 >= bursts.len() * 8);
}

#[test]
fn organisation_summary_matches_the_rows() {
    let gen = DemoGenerator::new(&config(50_000, 30, 42)).unwrap_or_else(|e| panic!("{e}"));
    let org = gen.organisation();
    let s = org.summary();
    assert_eq!(s.humans as usize, org.human_count());
    assert!((40..=400).contains(&s.humans));
    assert!(s.service_accounts >= 3);
    assert!(s.roles.iter().any(|r| r.role == "dba"));
    assert!(org.hosts().iter().any(|h| h.name.starts_with("web-prod-")));
    assert!(org.hosts().iter().any(|h| h.name.starts_with("win-ad-")));
    assert!(org.hosts().iter().any(|h| h.name.starts_with("db-")));
    let sysadmin = org
        .users()
        .iter()
        .find(|u| u.role == Role::Sysadmin)
        .unwrap_or_else(|| panic!("no sysadmin"));
    assert!(!org.usual_hosts(sysadmin).is_empty());
    assert!(!sysadmin.usual_sources().is_empty());
}

#[test]
fn invalid_settings_name_the_field() {
    let check = |c: DemoConfig, field: &str, text: &str| {
        let err = match c.validate() {
            Err(e) => e,
            Ok(()) => panic!("accepted invalid {field}"),
        };
        let DemoError::InvalidConfig { field: f, .. } = &err;
        assert_eq!(*f, field);
        let msg = err.to_string();
        assert!(msg.contains(field) && msg.contains(text), "{msg}");
        assert!(DemoGenerator::new(&c).is_err());
    };
    let base = config(1_000, 30, 1);
    assert!(base.validate().is_ok());
    check(
        DemoConfig {
            attack_rate: 1.5,
            ..base.clone()
        },
        "attack_rate",
        "between 0 and 1, got 1.5",
    );
    check(
        DemoConfig {
            attack_rate: -0.1,
            ..base.clone()
        },
        "attack_rate",
        "got -0.1",
    );
    check(
        DemoConfig {
            attack_rate: f64::NAN,
            ..base.clone()
        },
        "attack_rate",
        "NaN",
    );
    check(
        DemoConfig {
            days: 0,
            ..base.clone()
        },
        "days",
        "at least 1",
    );
    check(
        DemoConfig {
            days: 100_000,
            ..base.clone()
        },
        "days",
        "at most",
    );
    check(
        DemoConfig {
            end_ms: 1_000,
            ..base.clone()
        },
        "end_ms",
        "got 1000",
    );
    check(
        DemoConfig {
            connections: MAX_CONNECTIONS + 1,
            ..base.clone()
        },
        "connections",
        "at most",
    );
    let window = |start_ms, end_ms| DemoConfig {
        attack_window: Some(AttackWindow { start_ms, end_ms }),
        ..base.clone()
    };
    check(
        window(END - HOUR_MS, END + HOUR_MS),
        "attack_window",
        "inside the span",
    );
    check(
        window(END - 40 * DAY_MS, END - 20 * DAY_MS),
        "attack_window",
        "inside the span",
    );
    check(
        window(END - HOUR_MS, END - HOUR_MS),
        "attack_window",
        "before end_ms",
    );
    assert!(window(END - 30 * DAY_MS, END).validate().is_ok());
    assert!(DemoConfig {
        connections: 0,
        ..base
    }
    .validate()
    .is_ok());
}

#[test]
fn config_round_trips_through_json() {
    let c = DemoConfig::default();
    assert!(c.validate().is_ok());
    let text = serde_json::to_string(&c).unwrap_or_default();
    let back: DemoConfig = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, c);
}
