//! Deterministic, seeded demo data: realistic remote-access connections of a fictional
//! organisation, with labelled attack scenarios planted in an attack window.
//!
//! Used for demos, classroom training and for measuring anomaly detection: every row carries its
//! ground truth in `label` (`normal` or one of [`SCENARIOS`]).
//!
//! How it works:
//! * [`Organisation`] is derived from the seed and sized from the requested volume: people in
//!   roles with their own hours, sources, hosts, accounts, protocols and volumes, plus service
//!   accounts that run on a schedule.
//! * The span is cut into calendar-hour slots (also cut at the attack-window edges). The exact
//!   number of connections is split over days by expected activity (weekdays are heavier) and
//!   then over the hours of each day, both with the largest-remainder method.
//! * [`DemoGenerator`] draws one slot at a time as compact index-based events, sorts them by
//!   time and renders a [`Connection`] only when asked. Memory stays flat: one slot of events
//!   plus a few small per-day and per-slot tables, whatever the number of rows.
//!
//! Same [`DemoConfig`] (seed included) => the same rows, byte for byte. Hours are UTC.

mod organisation;
mod output;
mod sampling;
mod scenarios;
mod traffic;

use std::net::Ipv4Addr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::Connection;
use organisation::{AgentKind, AGENTS, AUTH_NAMES, TERM_NAMES};
use sampling::{hash2, hash3, largest_remainder, largest_remainder_int, pick_cum, DAY_MS, HOUR_MS};
use scenarios::Incident;
use traffic::{Event, Slot, STATUS_FAILED};

pub use organisation::{Host, HostKind, Organisation, OrganisationSummary, Role, RoleCount, User};
pub use output::*;
pub use scenarios::SCENARIOS;

/// Label of rows that are not part of an attack.
pub const NORMAL_LABEL: &str = "normal";

/// Most connections one run may produce (a billion rows is far beyond any demo).
pub const MAX_CONNECTIONS: u64 = 1_000_000_000;
/// Longest span in days (ten years).
pub const MAX_DAYS: u32 = 3_660;
/// Latest allowed `end_ms` (year 10000); UUID v7 holds 48-bit millisecond timestamps.
pub const MAX_END_MS: i64 = 253_402_300_800_000;

/// Sub-streams of the seed: organisation = 1, attack plan = 2, slots from here on.
const STREAM_SLOTS: u64 = 1 << 32;

/// Settings of one demo run. Same config (incl. seed) => byte-identical output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DemoConfig {
    /// Exact number of connections to produce (default 50 000).
    #[ts(type = "number")]
    pub connections: u64,
    /// Length of the span in days (default 30), at least 1.
    pub days: u32,
    /// Seed of all randomness (default 42).
    #[ts(type = "number")]
    pub seed: u64,
    /// Fraction of the connections inside the attack window that are attacks, 0..=1
    /// (default 0.002).
    pub attack_rate: f64,
    /// Exclusive end of the span, epoch ms UTC (callers usually pass today's midnight).
    #[ts(type = "number")]
    pub end_ms: i64,
    /// Where attacks may happen; absent (`null`) means the last quarter of the span.
    pub attack_window: Option<AttackWindow>,
}

/// A time range `[start_ms, end_ms)` in epoch milliseconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AttackWindow {
    /// Inclusive start, epoch ms.
    #[ts(type = "number")]
    pub start_ms: i64,
    /// Exclusive end, epoch ms.
    #[ts(type = "number")]
    pub end_ms: i64,
}

impl Default for DemoConfig {
    /// 50 000 connections over 30 days, seed 42, attack rate 0.002, ending at
    /// 2025-01-01T00:00:00Z (callers normally set `end_ms` to today's midnight).
    fn default() -> Self {
        DemoConfig {
            connections: 50_000,
            days: 30,
            seed: 42,
            attack_rate: 0.002,
            end_ms: 1_735_689_600_000,
            attack_window: None,
        }
    }
}

/// Why a demo run cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A setting is out of range.
    #[error("invalid demo setting `{field}`: {reason}")]
    InvalidConfig {
        /// Name of the offending field of [`DemoConfig`].
        field: &'static str,
        /// What is wrong, with the value given.
        reason: String,
    },
}

fn invalid(field: &'static str, reason: String) -> DemoError {
    DemoError::InvalidConfig { field, reason }
}

impl DemoConfig {
    /// Checks every setting; the error names the field and the value given.
    ///
    /// `connections = 0` is valid (the run yields nothing).
    pub fn validate(&self) -> Result<(), DemoError> {
        if self.days == 0 {
            return Err(invalid("days", "must be at least 1, got 0".into()));
        }
        if self.days > MAX_DAYS {
            return Err(invalid(
                "days",
                format!("must be at most {MAX_DAYS}, got {}", self.days),
            ));
        }
        if self.connections > MAX_CONNECTIONS {
            return Err(invalid(
                "connections",
                format!(
                    "must be at most {MAX_CONNECTIONS}, got {}",
                    self.connections
                ),
            ));
        }
        if !(self.attack_rate.is_finite() && (0.0..=1.0).contains(&self.attack_rate)) {
            return Err(invalid(
                "attack_rate",
                format!("must be between 0 and 1, got {}", self.attack_rate),
            ));
        }
        let span = i64::from(self.days) * DAY_MS;
        if self.end_ms < span || self.end_ms > MAX_END_MS {
            return Err(invalid(
                "end_ms",
                format!(
                    "must be between {span} ({} days after 1970-01-01) and {MAX_END_MS} \
                     (year 10000), got {}",
                    self.days, self.end_ms
                ),
            ));
        }
        if let Some(w) = self.attack_window {
            if w.start_ms >= w.end_ms {
                return Err(invalid(
                    "attack_window",
                    format!(
                        "start_ms ({}) must be before end_ms ({})",
                        w.start_ms, w.end_ms
                    ),
                ));
            }
            let start = self.end_ms - span;
            if w.start_ms < start || w.end_ms > self.end_ms {
                return Err(invalid(
                    "attack_window",
                    format!(
                        "must lie inside the span [{start}, {}) of the demo data, got [{}, {})",
                        self.end_ms, w.start_ms, w.end_ms
                    ),
                ));
            }
        }
        Ok(())
    }

    /// First millisecond of the span.
    pub fn start_ms(&self) -> i64 {
        self.end_ms - i64::from(self.days) * DAY_MS
    }

    /// The attack window in effect: the configured one, or the last quarter of the span.
    pub fn effective_attack_window(&self) -> AttackWindow {
        self.attack_window.unwrap_or(AttackWindow {
            start_ms: self.end_ms - i64::from(self.days) * DAY_MS / 4,
            end_ms: self.end_ms,
        })
    }
}

/// Streaming generator: yields exactly `config.connections` connections in non-decreasing
/// `connected` order.
///
/// Holds one time slot (at most one calendar hour) of compact events at a time.
pub struct DemoGenerator {
    config: DemoConfig,
    org: Organisation,
    window: AttackWindow,
    slots: Vec<Slot>,
    next_slot: usize,
    incidents: Vec<Incident>,
    next_incident: usize,
    pending: Vec<Event>,
    chunk: Vec<Event>,
    chunk_pos: usize,
    emitted: u64,
    window_rows: u64,
    attack_rows: u64,
    id_key: u64,
    cum: Vec<f64>,
}

impl DemoGenerator {
    /// Validates the config, builds the organisation and plans the run.
    pub fn new(config: &DemoConfig) -> Result<Self, DemoError> {
        config.validate()?;
        let org = Organisation::build(config.seed, config.connections, config.days);
        let window = config.effective_attack_window();
        let start = config.start_ms();

        // Slots: calendar hours of each day, also cut at the window edges.
        let mut slots = Vec::with_capacity(config.days as usize * 25);
        let mut day_ranges = Vec::with_capacity(config.days as usize);
        let mut day_weights = Vec::with_capacity(config.days as usize);
        let mut cuts = Vec::with_capacity(28);
        for d in 0..i64::from(config.days) {
            let a = start + d * DAY_MS;
            let b = a + DAY_MS;
            cuts.clear();
            cuts.push(a);
            let mut t = (a.div_euclid(HOUR_MS) + 1) * HOUR_MS;
            while t < b {
                cuts.push(t);
                t += HOUR_MS;
            }
            for w in [window.start_ms, window.end_ms] {
                if a < w && w < b {
                    cuts.push(w);
                }
            }
            cuts.push(b);
            cuts.sort_unstable();
            cuts.dedup();
            let first = slots.len();
            let mut day_weight = 0.0;
            for pair in cuts.windows(2) {
                let (s, e) = (pair[0], pair[1]);
                let mut slot = Slot {
                    start: s,
                    end: e,
                    epoch_day: s.div_euclid(DAY_MS),
                    hour: (s.rem_euclid(DAY_MS) / HOUR_MS) as u8,
                    in_window: s >= window.start_ms && e <= window.end_ms,
                    weight: 0.0,
                    count: 0,
                };
                slot.weight = slot.total_weight(&org);
                day_weight += slot.weight;
                slots.push(slot);
            }
            day_ranges.push(first..slots.len());
            day_weights.push(day_weight);
        }

        // Exact counts: days by weight, then the slots of each day.
        let day_counts = largest_remainder(config.connections, &day_weights);
        for (range, count) in day_ranges.iter().zip(day_counts) {
            let weights: Vec<f64> = slots[range.clone()].iter().map(|s| s.weight).collect();
            for (slot, c) in slots[range.clone()]
                .iter_mut()
                .zip(largest_remainder(count, &weights))
            {
                slot.count = c;
            }
        }

        // Attacks replace normal rows of the window, spread over its slots by their counts.
        let window_counts: Vec<u64> = slots
            .iter()
            .filter(|s| s.in_window)
            .map(|s| s.count)
            .collect();
        let window_rows: u64 = window_counts.iter().sum();
        let attack_rows =
            ((config.attack_rate * window_rows as f64).round() as u64).min(window_rows);
        let removals = largest_remainder_int(attack_rows, &window_counts);
        for (slot, r) in slots.iter_mut().filter(|s| s.in_window).zip(removals) {
            slot.count -= r.min(slot.count);
        }
        let incidents = if attack_rows > 0 {
            scenarios::plan(
                &org,
                config.seed,
                window.start_ms,
                window.end_ms,
                attack_rows,
            )
        } else {
            Vec::new()
        };

        let id_key = hash3(
            hash3(config.seed, config.connections, u64::from(config.days)),
            config.end_ms as u64,
            hash3(
                config.attack_rate.to_bits(),
                window.start_ms as u64,
                window.end_ms as u64,
            ),
        );
        Ok(DemoGenerator {
            config: config.clone(),
            org,
            window,
            slots,
            next_slot: 0,
            incidents,
            next_incident: 0,
            pending: Vec::new(),
            chunk: Vec::new(),
            chunk_pos: 0,
            emitted: 0,
            window_rows,
            attack_rows,
            id_key,
            cum: Vec::new(),
        })
    }

    /// The fictional organisation behind the data.
    pub fn organisation(&self) -> &Organisation {
        &self.org
    }

    /// The settings of this run.
    pub fn config(&self) -> &DemoConfig {
        &self.config
    }

    /// The attack window in effect.
    pub fn attack_window(&self) -> AttackWindow {
        self.window
    }

    /// Number of rows inside the attack window (normal and attack).
    pub fn window_rows(&self) -> u64 {
        self.window_rows
    }

    /// Number of attack rows the run contains (`round(attack_rate * window_rows)`).
    pub fn attack_rows(&self) -> u64 {
        self.attack_rows
    }

    /// Rows not yet yielded.
    pub fn remaining(&self) -> u64 {
        self.config.connections - self.emitted
    }

    /// Draws the events of the next slot into `chunk`, sorted by time.
    fn fill_slot(&mut self, index: usize) {
        let slot = self.slots[index];
        self.chunk.clear();
        self.chunk_pos = 0;
        if slot.count > 0 {
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
            rng.set_stream(STREAM_SLOTS + index as u64);
            slot.activity(&self.org, &mut self.cum);
            self.chunk.reserve(slot.count as usize);
            for _ in 0..slot.count {
                let actor = pick_cum(&self.cum, &mut rng);
                self.chunk
                    .push(traffic::normal_event(&self.org, actor, &slot, &mut rng));
            }
        }
        let mut added = false;
        while let Some(incident) = self.incidents.get(self.next_incident) {
            if incident.start >= slot.end {
                break;
            }
            scenarios::expand(incident, &self.org, &mut self.pending);
            self.next_incident += 1;
            added = true;
        }
        if added {
            self.pending.sort_by_key(|e| e.ts);
        }
        let due = self.pending.partition_point(|e| e.ts < slot.end);
        self.chunk.extend(self.pending.drain(..due));
        // Stable sort: equal timestamps keep their (deterministic) generation order.
        self.chunk.sort_by_key(|e| e.ts);
    }

    /// UUID v7 from the timestamp, the row number and seeded random bits.
    ///
    /// The row number sits right after the timestamp, so ids strictly ascend in output order
    /// (and are unique even within one millisecond); 34 random bits keep runs with other
    /// settings apart.
    fn make_id(&self, ms: i64, row: u64) -> String {
        let random = hash2(self.id_key, row);
        let mut bytes = [0u8; 10];
        let high = ((row >> 28) & 0x0fff) as u16;
        bytes[0..2].copy_from_slice(&high.to_be_bytes());
        let low = ((row & ((1 << 28) - 1)) << 34) | (random & ((1 << 34) - 1));
        bytes[2..10].copy_from_slice(&low.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(ms.max(0) as u64, &bytes)
            .into_uuid()
            .to_string()
    }

    /// Turns a compact event into the canonical record.
    fn render(&self, e: &Event, row: u64) -> Connection {
        let org = &self.org;
        let user = &org.users()[usize::from(e.actor)];
        let host = &org.hosts()[usize::from(e.host)];
        let end = self.config.end_ms;
        let mut dur = i64::from(e.duration_ms);
        let (status, open) = if e.status == STATUS_FAILED {
            // A failed attempt at the very end is cut short rather than leave the span.
            dur = dur.min(end - 1 - e.ts).max(0);
            ("FAILED", false)
        } else if e.ts + dur >= end {
            ("CONNECTED", true) // still open when the log was taken
        } else {
            ("DISCONNECTED", false)
        };
        let (bytes_in, bytes_out) = if open {
            let elapsed = (end - 1 - e.ts).max(0) as f64 / dur.max(1) as f64;
            (
                (e.bytes_in as f64 * elapsed) as i64,
                (e.bytes_out as f64 * elapsed) as i64,
            )
        } else {
            (e.bytes_in as i64, e.bytes_out as i64)
        };
        let (agent, kind) = AGENTS
            .get(usize::from(e.agent))
            .copied()
            .unwrap_or(("unknown", AgentKind::Automation));
        let label = match e.label {
            0 => NORMAL_LABEL,
            n => SCENARIOS
                .get(usize::from(n - 1))
                .copied()
                .unwrap_or(NORMAL_LABEL),
        };
        Connection {
            id: self.make_id(e.ts, row),
            connected: e.ts,
            disconnected: (!open).then_some(e.ts + dur),
            duration: (!open).then_some(dur as f64 / 1000.0),
            user: user.name.clone(),
            user_roles: user.roles.clone(),
            conn_type: e.proto.as_str().to_owned(),
            target_host: host.name.clone(),
            target_host_address: Some(host.address.clone()),
            target_host_account: Some(org.account_name(e.account).to_owned()),
            remote_address: Ipv4Addr::from(e.src).to_string(),
            bytes_in: Some(bytes_in),
            bytes_out: Some(bytes_out),
            status: Some(status.to_owned()),
            authentication_method: AUTH_NAMES.get(usize::from(e.auth)).map(|s| (*s).to_owned()),
            termination_reason: if open {
                None
            } else {
                TERM_NAMES.get(usize::from(e.term)).map(|s| (*s).to_owned())
            },
            mode: Some(
                if kind == AgentKind::Browser {
                    "UI"
                } else {
                    "NATIVE"
                }
                .to_owned(),
            ),
            user_agent: Some(agent.to_owned()),
            tags: host.tags.clone(),
            label: Some(label.to_owned()),
        }
    }
}

impl Iterator for DemoGenerator {
    type Item = Connection;

    fn next(&mut self) -> Option<Connection> {
        if self.emitted >= self.config.connections {
            return None;
        }
        while self.chunk_pos >= self.chunk.len() {
            if self.next_slot >= self.slots.len() {
                return None; // unreachable: slot counts and attack rows add up to the total
            }
            self.fill_slot(self.next_slot);
            self.next_slot += 1;
        }
        let event = self.chunk[self.chunk_pos];
        self.chunk_pos += 1;
        let row = self.emitted;
        self.emitted += 1;
        Some(self.render(&event, row))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match usize::try_from(self.remaining()) {
            Ok(n) => (n, Some(n)),
            Err(_) => (usize::MAX, None),
        }
    }
}

impl std::iter::FusedIterator for DemoGenerator {}

#[cfg(test)]
mod tests;
