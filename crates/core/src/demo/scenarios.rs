//! Attack scenarios planted inside the attack window, each labelled with its name.
//!
//! Planning happens once per run and keeps only a compact list of incidents (start, victim,
//! size, seed); each incident's rows are drawn when the generator reaches its start, so memory
//! stays small even for large runs.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::organisation::{
    agents_of, is_privileged_account, public_ip, AgentKind, HostKind, Organisation, Proto,
    SourceKind, User, ATTACKER_OCTETS, AUTH_PASSWORD, TERM_ACCOUNT_LOCKED, TERM_AUTH_FAILED,
    TERM_PERMISSION_DENIED, TERM_USER,
};
use super::sampling::{hash3, largest_remainder, pick, pick_cum, DAY_MS, HOUR_MS};
use super::traffic::{lognormal, Event, STATUS_DONE, STATUS_FAILED};

/// Names of the attack scenarios, as written to `label`.
///
/// * `credential_theft`: a real person's account used from a never-seen external address at
///   night, on their usual hosts, with an unusual client.
/// * `lateral_movement`: one person touching many hosts outside their usual set within minutes.
/// * `data_exfiltration`: long sessions in the evening moving far more bytes than the person's
///   baseline.
/// * `privilege_abuse`: a non-administrator logging in as root/Administrator.
/// * `brute_force`: a burst of failed password attempts from one new external address against
///   one account (sometimes ending in a success).
/// * `service_account_misuse`: a service account used interactively (RDP/SSH, password) from a
///   desktop at an odd hour, for much longer than its jobs take.
pub const SCENARIOS: &[&str] = &[
    "credential_theft",
    "lateral_movement",
    "data_exfiltration",
    "privilege_abuse",
    "brute_force",
    "service_account_misuse",
];

const CREDENTIAL_THEFT: u8 = 0;
const LATERAL_MOVEMENT: u8 = 1;
const DATA_EXFILTRATION: u8 = 2;
const PRIVILEGE_ABUSE: u8 = 3;
const BRUTE_FORCE: u8 = 4;
const SERVICE_ACCOUNT_MISUSE: u8 = 5;

/// Shape of one scenario: rows per incident, seconds between row starts, hours (UTC, end may
/// exceed 24) it prefers, and its share of the attack rows.
struct Spec {
    size: (u32, u32),
    gap_s: (f64, f64),
    hours: (f64, f64),
    share: f64,
}

const SPECS: [Spec; 6] = [
    Spec {
        size: (2, 6),
        gap_s: (180.0, 1_500.0),
        hours: (0.5, 3.5),
        share: 0.14,
    },
    Spec {
        size: (4, 12),
        gap_s: (20.0, 180.0),
        hours: (9.0, 22.0),
        share: 0.22,
    },
    // Gaps of exfiltration come after the (long) previous session.
    Spec {
        size: (1, 3),
        gap_s: (300.0, 1_800.0),
        hours: (18.5, 23.0),
        share: 0.10,
    },
    Spec {
        size: (1, 4),
        gap_s: (300.0, 2_400.0),
        hours: (8.0, 19.0),
        share: 0.12,
    },
    Spec {
        size: (8, 60),
        gap_s: (1.0, 6.0),
        hours: (0.0, 24.0),
        share: 0.30,
    },
    Spec {
        size: (1, 3),
        gap_s: (600.0, 3_600.0),
        hours: (21.0, 28.5),
        share: 0.12,
    },
];

/// Longest exfiltration session (seconds); part of the incident's extent.
const EXFIL_MAX_S: f64 = 5.0 * 3600.0;
/// At most this many incidents are planned; bigger budgets make bigger incidents instead.
const MAX_INCIDENTS: u64 = 100_000;

/// One planned attack: its rows are drawn from `seed` when the generator reaches `start`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incident {
    pub(crate) start: i64,
    /// Exclusive end of the attack window; no row of the incident starts at or after it.
    pub(crate) limit: i64,
    /// Factor (<= 1) on the gaps, when the window is too short for the incident.
    pub(crate) scale: f64,
    pub(crate) size: u32,
    pub(crate) victim: u16,
    pub(crate) scenario: u8,
    pub(crate) seed: u64,
}

/// Plans `rows` attack rows inside `[window_start, window_end)`, sorted by start.
pub(crate) fn plan(
    org: &Organisation,
    seed: u64,
    window_start: i64,
    window_end: i64,
    rows: u64,
) -> Vec<Incident> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2);
    let n = SPECS.len();
    // Every scenario gets at least one row when the budget allows, the rest by share.
    let mut budgets = vec![0u64; n];
    if rows >= n as u64 {
        let shares: Vec<f64> = SPECS.iter().map(|s| s.share).collect();
        for (b, extra) in budgets
            .iter_mut()
            .zip(largest_remainder(rows - n as u64, &shares))
        {
            *b = 1 + extra;
        }
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        for &s in order.iter().take(rows as usize) {
            budgets[s] = 1;
        }
    }
    let mean_size: f64 = SPECS
        .iter()
        .map(|s| s.share * f64::from(s.size.0 + s.size.1) / 2.0)
        .sum();
    let grow = ((rows as f64 / mean_size) / MAX_INCIDENTS as f64)
        .ceil()
        .max(1.0);

    let candidates: Vec<Vec<u16>> = (0..n as u8).map(|s| victims(org, s)).collect();
    let span = (window_end - window_start).max(1);
    let mut incidents = Vec::new();
    for (s, &budget) in budgets.iter().enumerate() {
        let spec = &SPECS[s];
        let mut left = budget;
        while left > 0 {
            let lo = (f64::from(spec.size.0) * grow) as u64;
            let hi = (f64::from(spec.size.1) * grow) as u64;
            let size = rng.gen_range(lo.max(1)..=hi.max(1)).min(left);
            left -= size;
            let victim = pick(&candidates[s], &mut rng).copied().unwrap_or(0);
            // Room the incident needs, squeezed if the window is shorter.
            let mut extent = (size.saturating_sub(1)) as f64 * spec.gap_s.1 * 1000.0;
            if s as u8 == DATA_EXFILTRATION {
                extent += size as f64 * EXFIL_MAX_S * 1000.0;
            }
            let room = 0.9 * span as f64;
            let scale = if extent > room { room / extent } else { 1.0 };
            let extent = (extent * scale) as i64;
            let start = pick_start(&mut rng, window_start, window_end, extent, spec.hours);
            incidents.push(Incident {
                start,
                limit: window_end,
                scale,
                size: size.min(u64::from(u32::MAX)) as u32,
                victim,
                scenario: s as u8,
                seed: hash3(seed, 0x01c1_de47, incidents.len() as u64),
            });
        }
    }
    incidents.sort_by_key(|i| i.start);
    incidents
}

/// Accounts that fit a scenario (so the attack contrasts with their normal behaviour).
fn victims(org: &Organisation, scenario: u8) -> Vec<u16> {
    let users = org.users();
    let humans = org.human_count();
    let fits = |u: &User| -> bool {
        match scenario {
            // Day workers only, so a night login stands out.
            CREDENTIAL_THEFT => {
                !u.night_shift && !u.on_call && u.work_start_hour >= 6.0 && u.work_end_hour <= 21.0
            }
            LATERAL_MOVEMENT => !matches!(u.role, super::organisation::Role::Sysadmin),
            // Evening sessions must fall outside the person's shift.
            DATA_EXFILTRATION => {
                !u.night_shift
                    && u.work_end_hour <= 18.5
                    && !matches!(u.role, super::organisation::Role::Security)
            }
            // People who never use a superuser account.
            PRIVILEGE_ABUSE => u.habits.iter().all(|h| !is_privileged_account(h.account)),
            _ => true,
        }
    };
    let range = if scenario == SERVICE_ACCOUNT_MISUSE {
        humans..users.len()
    } else {
        0..humans
    };
    let fitting: Vec<u16> = range
        .clone()
        .filter(|&i| fits(&users[i]))
        .map(|i| i as u16)
        .collect();
    if fitting.is_empty() {
        range.map(|i| i as u16).collect()
    } else {
        fitting
    }
}

/// A start time inside the window, preferring the scenario's hours, leaving `extent` ms after it.
fn pick_start(rng: &mut ChaCha8Rng, ws: i64, we: i64, extent: i64, hours: (f64, f64)) -> i64 {
    let latest = (we - 1 - extent).max(ws);
    let (d0, d1) = (ws.div_euclid(DAY_MS), latest.div_euclid(DAY_MS));
    for _ in 0..64 {
        let day = rng.gen_range(d0..=d1);
        let hour = rng.gen_range(hours.0..hours.1);
        let t = day * DAY_MS + (hour * HOUR_MS as f64) as i64;
        if (ws..=latest).contains(&t) {
            return t;
        }
    }
    rng.gen_range(ws..=latest)
}

/// Draws the rows of one incident and appends them to `out`.
pub(crate) fn expand(incident: &Incident, org: &Organisation, out: &mut Vec<Event>) {
    let mut rng = ChaCha8Rng::seed_from_u64(incident.seed);
    let users = org.users();
    let Some(user) = users.get(usize::from(incident.victim)) else {
        return;
    };
    let spec = &SPECS[usize::from(incident.scenario)];
    let actor = incident.victim;
    let label = incident.scenario + 1;
    let attacker_ip = public_ip(&mut rng, &ATTACKER_OCTETS);
    let main_source = user.sources.first().map_or(0, |s| s.ip);

    let base = |ts: i64, habit: super::organisation::Habit, src: u32| Event {
        ts,
        bytes_in: 0,
        bytes_out: 0,
        duration_ms: 0,
        src,
        actor,
        host: habit.host,
        account: habit.account,
        agent: habit.agent,
        proto: habit.proto,
        auth: habit.auth,
        status: STATUS_DONE,
        term: TERM_USER,
        label,
    };
    // One toolkit per intruder: the same tool for every row of the incident.
    let tool_pick = rng.gen::<u32>() as usize;
    let attack_agent = |proto: Proto| -> u16 {
        let tools = agents_of(AgentKind::Attack(proto));
        tools
            .get(tool_pick % tools.len().max(1))
            .copied()
            .unwrap_or(0)
    };
    let size_bytes = |e: &mut Event, dur_s: f64, factor: f64| {
        let (out_rate, in_rate) = e.proto.byte_rates();
        e.duration_ms = (dur_s * 1000.0) as u32;
        e.bytes_out = (4_000.0 + out_rate * dur_s * factor) as u64;
        e.bytes_in = (2_000.0 + in_rate * dur_s * factor) as u64;
    };

    // Scenario-wide choices.
    let hosts = org.hosts();
    let usual: Vec<u16> = user.habits.iter().map(|h| h.host).collect();
    let mut unusual: Vec<u16> = (0..hosts.len() as u16)
        .filter(|h| !usual.contains(h))
        .filter(|&h| hosts[usize::from(h)].kind != HostKind::Workstation)
        .collect();
    unusual.shuffle(&mut rng);
    let brute_habit = user
        .habits
        .iter()
        .copied()
        .find(|h| matches!(h.proto, Proto::Ssh | Proto::Rdp))
        .or_else(|| user.habits.first().copied());
    let exfil_habit = [Proto::Db, Proto::Ssh, Proto::Rdp]
        .iter()
        .find_map(|p| {
            let matching: Vec<_> = user.habits.iter().filter(|h| h.proto == *p).collect();
            pick(&matching, &mut rng).map(|h| **h)
        })
        .or_else(|| user.habits.first().copied());
    let exfil_source = user
        .sources
        .iter()
        .find(|s| matches!(s.kind, SourceKind::Home | SourceKind::Vpn))
        .map_or(main_source, |s| s.ip);
    let desks: Vec<u32> = hosts
        .iter()
        .filter(|h| h.kind == HostKind::Workstation)
        .map(|h| h.ip)
        .collect();
    let misuse_source = pick(&desks, &mut rng)
        .copied()
        .unwrap_or_else(|| u32::from_be_bytes([10, 250, 9, rng.gen_range(2..250)]));
    let windows_servers: Vec<u16> = (0..hosts.len() as u16)
        .filter(|&h| {
            hosts[usize::from(h)].windows && hosts[usize::from(h)].kind == HostKind::Windows
        })
        .collect();
    // Privilege abuse: superuser on hosts the person uses, else on a random server.
    let mut priv_targets: Vec<u16> = usual
        .iter()
        .copied()
        .filter(|&h| {
            let host = &hosts[usize::from(h)];
            !matches!(host.kind, HostKind::Workstation | HostKind::Network)
        })
        .collect();
    priv_targets.dedup();
    if priv_targets.is_empty() {
        priv_targets = (0..hosts.len() as u16)
            .filter(|&h| matches!(hosts[usize::from(h)].kind, HostKind::Web | HostKind::App))
            .collect();
    }

    let mut t = incident.start;
    let mut prev_dur_ms: i64 = 0;
    for i in 0..incident.size {
        if i > 0 {
            let gap = rng.gen_range(spec.gap_s.0..spec.gap_s.1) * 1000.0 * incident.scale;
            let after = if incident.scenario == DATA_EXFILTRATION {
                (prev_dur_ms as f64 * incident.scale) as i64
            } else {
                0
            };
            t += gap as i64 + after;
        }
        let ts = t.min(incident.limit - 1).max(incident.start);
        let habit = user.habits[pick_cum(&user.habit_cum, &mut rng).min(user.habits.len() - 1)];
        let event = match incident.scenario {
            CREDENTIAL_THEFT => {
                let mut e = base(ts, habit, attacker_ip);
                e.agent = attack_agent(habit.proto);
                let dur = lognormal(&mut rng, 900.0, 0.6).clamp(60.0, 4.0 * 3600.0);
                size_bytes(&mut e, dur, 2.5);
                e
            }
            LATERAL_MOVEMENT => {
                let host = if unusual.is_empty() {
                    habit.host
                } else {
                    unusual[i as usize % unusual.len()]
                };
                let proto = hosts[usize::from(host)].shell_proto();
                let mut e = base(ts, habit, main_source);
                e.host = host;
                e.proto = proto;
                e.account = Organisation::own_account(usize::from(actor));
                e.auth = user.auth[proto.idx()];
                e.agent = user.agent[proto.idx()];
                if rng.gen_bool(0.35) {
                    e.status = STATUS_FAILED;
                    e.term = TERM_PERMISSION_DENIED;
                    e.duration_ms = rng.gen_range(400..3_000);
                    e.bytes_in = rng.gen_range(400..3_000);
                    e.bytes_out = rng.gen_range(300..2_000);
                } else {
                    let dur = rng.gen_range(8.0..240.0);
                    size_bytes(&mut e, dur, 1.0);
                }
                e
            }
            DATA_EXFILTRATION => {
                let h = exfil_habit.unwrap_or(habit);
                let mut e = base(ts, h, exfil_source);
                let dur = rng.gen_range(1.5 * 3600.0..EXFIL_MAX_S);
                size_bytes(&mut e, dur, 1.0);
                let baseline = user.baseline_bytes_out(h.proto);
                let big =
                    (baseline * rng.gen_range(300.0..1_500.0)).max(rng.gen_range(1.5e9..6.0e9));
                e.bytes_out = big as u64;
                e
            }
            PRIVILEGE_ABUSE => {
                let host_idx = pick(&priv_targets, &mut rng).copied().unwrap_or(habit.host);
                let host = &hosts[usize::from(host_idx)];
                let proto = host.shell_proto();
                let mut e = base(ts, habit, main_source);
                e.host = host_idx;
                e.proto = proto;
                e.account = host.superuser();
                e.agent = user.agent[proto.idx()];
                e.auth = if rng.gen_bool(0.6) {
                    AUTH_PASSWORD
                } else {
                    user.auth[proto.idx()]
                };
                if rng.gen_bool(0.2) {
                    e.status = STATUS_FAILED;
                    e.term = TERM_PERMISSION_DENIED;
                    e.duration_ms = rng.gen_range(500..4_000);
                    e.bytes_in = rng.gen_range(400..3_000);
                    e.bytes_out = rng.gen_range(300..2_000);
                } else {
                    let dur = rng.gen_range(300.0..3_600.0);
                    size_bytes(&mut e, dur, 1.5);
                }
                e
            }
            BRUTE_FORCE => {
                let h = brute_habit.unwrap_or(habit);
                let mut e = base(ts, h, attacker_ip);
                e.agent = attack_agent(h.proto);
                e.auth = AUTH_PASSWORD;
                let last = i + 1 == incident.size;
                // A quarter of longer bursts end with a guessed password.
                if last && incident.size >= 5 && rng.gen_bool(0.25) {
                    let dur = rng.gen_range(120.0..1_200.0);
                    size_bytes(&mut e, dur, 1.0);
                } else {
                    e.status = STATUS_FAILED;
                    e.term = if i < 10 {
                        TERM_AUTH_FAILED
                    } else {
                        TERM_ACCOUNT_LOCKED
                    };
                    e.duration_ms = rng.gen_range(200..2_500);
                    e.bytes_in = rng.gen_range(300..1_500);
                    e.bytes_out = rng.gen_range(200..1_200);
                }
                e
            }
            _ => {
                // Service account used by a person: interactive protocol, password, a desktop.
                let use_rdp = !windows_servers.is_empty() && rng.gen_bool(0.4);
                let host_idx = if use_rdp {
                    pick(&windows_servers, &mut rng)
                        .copied()
                        .unwrap_or(habit.host)
                } else {
                    habit.host
                };
                let host = &hosts[usize::from(host_idx)];
                let proto = host.shell_proto();
                let mut e = base(ts, habit, misuse_source);
                e.host = host_idx;
                e.proto = proto;
                e.auth = AUTH_PASSWORD;
                let natives = agents_of(AgentKind::Native(proto));
                e.agent = pick(&natives, &mut rng).copied().unwrap_or(habit.agent);
                let dur = rng.gen_range(600.0..5_400.0);
                size_bytes(&mut e, dur, 1.0);
                e
            }
        };
        prev_dur_ms = i64::from(event.duration_ms);
        out.push(event);
    }
}
