//! Normal traffic: the compact event record and how one normal connection of an account is drawn.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::organisation::{
    Organisation, Proto, ServiceProfile, User, AUTH_PASSWORD, TERM_AUTH_FAILED,
    TERM_CLOSED_BY_TARGET, TERM_NORMAL_WEIGHTS, TERM_PERMISSION_DENIED, TERM_UNREACHABLE,
    TERM_USER,
};
use super::sampling::{exp, gauss, pick_cum, weekday, HOUR_MS};

/// Event status: the session completed (rendered `DISCONNECTED`, or `CONNECTED` if it is still
/// open at the end of the span).
pub(crate) const STATUS_DONE: u8 = 0;
/// Event status: the connection attempt failed.
pub(crate) const STATUS_FAILED: u8 = 1;

/// Longest normal session (12 h).
const MAX_SESSION_S: f64 = 12.0 * 3600.0;

/// One connection before rendering: indices into the organisation instead of strings, so a whole
/// time slot of events stays small (48 bytes each).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    pub(crate) ts: i64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) duration_ms: u32,
    pub(crate) src: u32,
    pub(crate) actor: u16,
    pub(crate) host: u16,
    pub(crate) account: u16,
    pub(crate) agent: u16,
    pub(crate) proto: Proto,
    pub(crate) auth: u8,
    pub(crate) status: u8,
    pub(crate) term: u8,
    /// 0 = normal, otherwise 1 + index into `SCENARIOS`.
    pub(crate) label: u8,
}

/// A piece of the span inside one calendar hour (UTC) and entirely inside or outside the attack
/// window; normal connections are drawn per slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) epoch_day: i64,
    pub(crate) hour: u8,
    pub(crate) in_window: bool,
    pub(crate) weight: f64,
    pub(crate) count: u64,
}

impl Slot {
    /// Relative activity of every account in this slot, as running sums (for sampling), into `cum`.
    pub(crate) fn activity(&self, org: &Organisation, cum: &mut Vec<f64>) {
        cum.clear();
        let mut total = 0.0;
        for u in org.users() {
            total += u.activity(self.epoch_day, usize::from(self.hour));
            cum.push(total);
        }
    }

    /// Total activity weighted by the part of the hour the slot covers.
    pub(crate) fn total_weight(&self, org: &Organisation) -> f64 {
        let fraction = (self.end - self.start) as f64 / HOUR_MS as f64;
        let hour = usize::from(self.hour);
        let sum: f64 = org
            .users()
            .iter()
            .map(|u| u.activity(self.epoch_day, hour))
            .sum();
        sum * fraction
    }
}

/// Log-normal session length in seconds.
pub(crate) fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    median * exp(sigma * gauss(rng))
}

/// Draws one normal connection of account `actor` inside `slot`.
pub(crate) fn normal_event(
    org: &Organisation,
    actor: usize,
    slot: &Slot,
    rng: &mut ChaCha8Rng,
) -> Event {
    let user = &org.users()[actor];
    let habit = user.habits[pick_cum(&user.habit_cum, rng).min(user.habits.len() - 1)];
    let len = (slot.end - slot.start).max(1);
    if let Some(svc) = &user.service {
        return service_event(user, svc, actor, habit, slot, rng);
    }
    // Outside working hours people connect from home or over the VPN rather than the office.
    let in_hours = weekday(slot.epoch_day) < 5 && user.profile[usize::from(slot.hour) % 24] >= 0.3;
    let cum = if in_hours {
        &user.src_cum_in
    } else {
        &user.src_cum_off
    };
    let src = user.sources[pick_cum(cum, rng).min(user.sources.len() - 1)].ip;
    let ts = slot.start + rng.gen_range(0..len);
    let mut event = Event {
        ts,
        bytes_in: 0,
        bytes_out: 0,
        duration_ms: 0,
        src,
        actor: actor as u16,
        host: habit.host,
        account: habit.account,
        agent: habit.agent,
        proto: habit.proto,
        auth: habit.auth,
        status: STATUS_DONE,
        term: TERM_USER,
        label: 0,
    };
    if rng.gen::<f64>() < user.fail_p {
        fail(&mut event, rng);
        return event;
    }
    let (median, sigma) = habit.proto.duration_model();
    let dur_s = (median * exp(user.dur_offset + sigma * gauss(rng))).clamp(1.0, MAX_SESSION_S);
    let (out_rate, in_rate) = habit.proto.byte_rates();
    // Now and then a session moves files (scp, downloads): a normal heavy tail.
    let transfer = if rng.gen::<f64>() < 0.01 {
        rng.gen_range(5.0..25.0)
    } else {
        1.0
    };
    let out = 4_000.0 + out_rate * dur_s * user.volume * exp(0.5 * gauss(rng)) * transfer;
    let inn = 2_000.0 + in_rate * dur_s * user.volume * exp(0.5 * gauss(rng));
    event.duration_ms = (dur_s * 1000.0) as u32;
    event.bytes_out = out as u64;
    event.bytes_in = inn as u64;
    event.term = pick_term(rng);
    event
}

/// Termination reason of a completed normal session.
fn pick_term(rng: &mut ChaCha8Rng) -> u8 {
    let r: f64 = rng.gen();
    let mut acc = 0.0;
    for (i, w) in TERM_NORMAL_WEIGHTS.iter().enumerate() {
        acc += w;
        if r < acc {
            return i as u8;
        }
    }
    TERM_USER
}

/// Turns an event into a failed attempt (mistyped password, missing permission, host down).
fn fail(event: &mut Event, rng: &mut ChaCha8Rng) {
    let r: f64 = rng.gen();
    event.term = if event.auth == AUTH_PASSWORD {
        if r < 0.7 {
            TERM_AUTH_FAILED
        } else if r < 0.85 {
            TERM_PERMISSION_DENIED
        } else {
            TERM_UNREACHABLE
        }
    } else if r < 0.5 {
        TERM_PERMISSION_DENIED
    } else if r < 0.8 {
        TERM_UNREACHABLE
    } else {
        TERM_AUTH_FAILED
    };
    event.status = STATUS_FAILED;
    event.duration_ms = rng.gen_range(300..6_000);
    event.bytes_in = rng.gen_range(300..4_000);
    event.bytes_out = rng.gen_range(200..2_500);
}

/// A scheduled connection of a service account: on its cadence grid, from its fixed source.
fn service_event(
    user: &User,
    svc: &ServiceProfile,
    actor: usize,
    habit: super::organisation::Habit,
    slot: &Slot,
    rng: &mut ChaCha8Rng,
) -> Event {
    let cadence = svc.cadence_ms.max(1);
    let first = slot.start.div_euclid(cadence) * cadence
        + if slot.start.rem_euclid(cadence) == 0 {
            0
        } else {
            cadence
        };
    let ts = if first < slot.end {
        let ticks = (slot.end - 1 - first) / cadence + 1;
        let tick = first + rng.gen_range(0..ticks) * cadence;
        // Schedulers start jobs a moment after the tick.
        (tick + rng.gen_range(0..cadence.min(2_000))).min(slot.end - 1)
    } else {
        slot.start + rng.gen_range(0..(slot.end - slot.start).max(1))
    };
    let mut event = Event {
        ts,
        bytes_in: 0,
        bytes_out: 0,
        duration_ms: 0,
        src: user.sources.first().map_or(0, |s| s.ip),
        actor: actor as u16,
        host: habit.host,
        account: habit.account,
        agent: habit.agent,
        proto: habit.proto,
        auth: habit.auth,
        status: STATUS_DONE,
        term: TERM_USER,
        label: 0,
    };
    if rng.gen::<f64>() < user.fail_p {
        event.status = STATUS_FAILED;
        event.term = if rng.gen_bool(0.7) {
            TERM_UNREACHABLE
        } else {
            TERM_CLOSED_BY_TARGET
        };
        event.duration_ms = rng.gen_range(1_000..30_000);
        event.bytes_in = rng.gen_range(200..2_000);
        event.bytes_out = rng.gen_range(100..1_000);
        return event;
    }
    let dur_s = lognormal(rng, svc.dur_median_s, svc.dur_sigma).clamp(0.5, 6.0 * 3600.0);
    event.duration_ms = (dur_s * 1000.0) as u32;
    event.bytes_out = (1_500.0 + svc.out_rate * dur_s * exp(0.3 * gauss(rng))) as u64;
    event.bytes_in = (1_000.0 + svc.in_rate * dur_s * exp(0.3 * gauss(rng))) as u64;
    event
}
