//! Sensor actions (Cybereason batches): an action on some sensors gets a `batchId`, and each of
//! its sensors moves from Pending through InProgress to a final state on a deterministic timeline
//! (the configured delays, plus a jitter derived from the batch and sensor ids). What a sensor
//! ends in is decided when the action starts: a disconnected sensor times out, an archived one
//! ends NotSupported, an upgrade of an up-to-date sensor AlreadyUpdated, an unknown id
//! UnknownProbe, the rest Succeeded; a sensor deleted while the action runs ends ProbeRemoved,
//! and one disconnected meanwhile Disconnected. A sensor's success changes the fleet (isolate isolates,
//! archive archives, ...). The timeline is evaluated when the fleet or the actions are read
//! ([`advance`]), so what a reader sees depends only on the clock, and an abort stops every
//! sensor that has not finished.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::query::{matching_on, FieldFilter};
use super::{
    digest, find_on, invalid, settle_status, store_sensor, sync, Sensor, CURRENT_VERSION,
    DEFAULT_GROUP, DEFAULT_GROUP_NAME,
};
use crate::response::audit::{self, Actor, Change};
use crate::response::{now_ms, ResponseError};
use crate::Store;

/// The per-sensor counters of an action, in the vendor's order (`globalStats.stats`).
pub const STAT_KEYS: &[&str] = &[
    "Pending",
    "partialResponse",
    "AbortTimeout",
    "EndedWithSensorTimeout",
    "UnauthorizedUser",
    "FailedSendingToServer",
    "GettingChunks",
    "NewerInstalled",
    "SendingMsi",
    "None",
    "MsiSendFail",
    "EndedWithInvalidParam",
    "Failed",
    "InProgress",
    "Disconnected",
    "Aborted",
    "FailedSending",
    "MsiFileCorrupted",
    "UnknownProbe",
    "NotSupported",
    "Primed",
    "ChunksRequired",
    "ProbeRemoved",
    "Started",
    "EndedWithTooManySearches",
    "TimeoutSending",
    "InvalidState",
    "Timeout",
    "EndedWithUnknownError",
    "AlreadyUpdated",
    "EndedWithTooManyResults",
    "Succeeded",
];

/// The states a sensor of an action passes through before its final one.
const UNFINISHED: &[&str] = &["Pending", "InProgress"];

/// What an action's `argument` may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument {
    /// None is taken.
    Nothing,
    /// Free text, optional (e.g. an archive reason).
    Text,
    /// Required free text (e.g. a group id).
    Required,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// One kind of sensor action: the path word of `POST /rest/sensors/action/{action}` (isolation
/// has its own paths), the `actionType` it reports, and its argument.
#[derive(Debug, Clone, Copy)]
pub struct ActionKind {
    /// The path word (`upgrade`), or `isolate` / `un-isolate`.
    pub path: &'static str,
    /// The `actionType` answered (`Upgrade`).
    pub action_type: &'static str,
    /// Its argument.
    pub argument: Argument,
    /// Whether it runs on the server only, so it ends even for a disconnected sensor.
    pub server_side: bool,
    /// Whether it applies to an archived sensor.
    pub on_archived: bool,
    /// What it does to a sensor that carries it out.
    effect: fn(&mut Sensor, &str, i64),
}

/// Every action this workbench carries out; the REST routes, the CLI and the desktop offer
/// exactly these.
pub const KINDS: &[ActionKind] = &[
    ActionKind {
        path: "upgrade",
        action_type: "Upgrade",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |s, _, _| {
            s.version = CURRENT_VERSION.into();
            s.last_upgrade_result = "Succeeded".into();
        },
    },
    ActionKind {
        path: "restart",
        action_type: "Restart",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |s, _, at| s.last_status_update_time = at,
    },
    ActionKind {
        path: "archive",
        action_type: "Archive",
        argument: Argument::Text,
        server_side: true,
        on_archived: false,
        effect: |s, reason, at| {
            s.archived_time = at;
            s.archive_reason = reason.into();
        },
    },
    ActionKind {
        path: "unarchive",
        action_type: "Unarchive",
        argument: Argument::Text,
        server_side: true,
        on_archived: true,
        effect: |s, _, _| {
            s.archived_time = 0;
            s.archive_reason.clear();
        },
    },
    ActionKind {
        path: "delete",
        action_type: "Delete",
        argument: Argument::Nothing,
        server_side: true,
        on_archived: true,
        effect: |s, _, _| s.deleted = true,
    },
    ActionKind {
        path: "stopCollection",
        action_type: "StopCollection",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |s, _, _| s.collection_status = "DISABLED".into(),
    },
    ActionKind {
        path: "startCollection",
        action_type: "StartCollection",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |s, _, _| s.collection_status = "ENABLED".into(),
    },
    ActionKind {
        path: "setPreventionMode",
        action_type: "SetPreventionMode",
        argument: Argument::OneOf(&["ENABLE", "DISABLE"]),
        server_side: false,
        on_archived: false,
        effect: |s, mode, _| {
            s.prevention_status = if mode == "ENABLE" {
                "ENABLED"
            } else {
                "DISABLED"
            }
            .into()
        },
    },
    ActionKind {
        path: "schedulerScan",
        action_type: "SchedulerScan",
        argument: Argument::OneOf(&["FULL", "QUICK", "STOP"]),
        server_side: false,
        on_archived: false,
        effect: |s, _, at| s.last_status_update_time = at,
    },
    ActionKind {
        path: "fetchLogs",
        action_type: "FetchLog",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |_, _, _| {},
    },
    ActionKind {
        path: "addToGroup",
        action_type: "AddToGroup",
        argument: Argument::Required,
        server_side: true,
        on_archived: false,
        effect: |s, group, _| {
            s.group_id = group.into();
            s.group_name = group.into();
        },
    },
    ActionKind {
        path: "removeFromGroup",
        action_type: "RemoveFromGroup",
        argument: Argument::Nothing,
        server_side: true,
        on_archived: false,
        effect: |s, _, _| {
            s.group_id = DEFAULT_GROUP.into();
            s.group_name = DEFAULT_GROUP_NAME.into();
        },
    },
    ActionKind {
        path: "isolate",
        action_type: "Isolate",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |s, _, _| s.isolated = true,
    },
    ActionKind {
        path: "un-isolate",
        action_type: "UnIsolate",
        argument: Argument::Nothing,
        server_side: false,
        on_archived: false,
        effect: |s, _, _| s.isolated = false,
    },
];

/// The isolation kinds, which `POST /rest/sensors/action/{action}` does not serve.
pub const ISOLATION: &[&str] = &["isolate", "un-isolate"];

/// The kind with this path word (or actionType), if any.
pub fn kind(word: &str) -> Option<&'static ActionKind> {
    KINDS
        .iter()
        .find(|k| k.path == word || k.action_type.eq_ignore_ascii_case(word))
}

/// The kinds `POST /rest/sensors/action/{action}` serves.
pub fn sensor_action_words() -> Vec<&'static str> {
    KINDS
        .iter()
        .map(|k| k.path)
        .filter(|p| !ISOLATION.contains(p))
        .collect()
}

/// The simulated timeline: how long sensors wait and work before their final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct Timeline {
    /// Pending before a sensor starts (ms).
    pub pending_ms: i64,
    /// InProgress before it ends (ms).
    pub progress_ms: i64,
    /// Up to this much more per sensor, derived from the batch and sensor ids (ms).
    pub jitter_ms: i64,
    /// When a disconnected sensor times out (ms after the start).
    pub timeout_ms: i64,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            pending_ms: 1_500,
            progress_ms: 2_500,
            jitter_ms: 1_000,
            timeout_ms: 15_000,
        }
    }
}

const TIMELINE_KEY: &str = "sensors.timeline";

/// The configured timeline (the defaults until one is set).
pub fn timeline(store: &Store) -> Result<Timeline, ResponseError> {
    Ok(store
        .setting(TIMELINE_KEY)?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// Sets the timeline of the actions started from now on.
pub fn set_timeline(store: &Store, actor: &Actor, t: &Timeline) -> Result<Timeline, ResponseError> {
    const MAX: i64 = 24 * 3_600_000;
    for (field, v) in [
        ("pending_ms", t.pending_ms),
        ("progress_ms", t.progress_ms),
        ("jitter_ms", t.jitter_ms),
        ("timeout_ms", t.timeout_ms),
    ] {
        if !(0..=MAX).contains(&v) {
            return Err(invalid(field, format!("{v} is not between 0 and {MAX} ms")));
        }
    }
    let before = timeline(store)?;
    store.write(|c| {
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rusqlite::params![TIMELINE_KEY, serde_json::to_string(t).unwrap_or_default()],
        )?;
        let (b, a) = (
            serde_json::to_value(before).ok(),
            serde_json::to_value(t).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: "sensors.timeline",
                object_type: "settings",
                object_uuid: TIMELINE_KEY,
                request: a.as_ref(),
                before: b.as_ref(),
                after: a.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(*t)
    })
}

/// `globalStats`: the counters per state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct GlobalStats {
    /// How many of the action's sensors are in each state (every key of [`STAT_KEYS`]).
    pub stats: BTreeMap<String, i64>,
}

/// A sensor action as the vendor answers it (an element of `GET /rest/sensors/allActions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SensorAction {
    /// The batch id.
    #[ts(type = "number")]
    pub batch_id: i64,
    /// What it does (`Isolate`, `Archive`, ...).
    pub action_type: String,
    /// The argument given, as a one-item list; null when none.
    pub action_arguments: Option<Vec<String>>,
    /// Counters per state.
    pub global_stats: GlobalStats,
    /// Whether every sensor reached a final state.
    pub final_state: bool,
    /// How many sensors it applies to.
    pub total_number_of_probes: i64,
    /// Who started it.
    pub initiator_user: String,
    /// When it started (epoch ms).
    #[ts(type = "number")]
    pub start_time: i64,
    /// Who aborted it.
    pub aborter_user: Option<String>,
    /// When it was aborted (epoch ms; 0 when not).
    #[ts(type = "number")]
    pub abort_time: i64,
    /// Whether the abort was a sensor-side timeout (never: aborts here are an analyst's).
    pub abort_timeout: bool,
    /// The status the abort answered with.
    pub abort_http_status_code: Option<i64>,
}

/// One sensor of an action and its planned course.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct Probe {
    /// The sensor's id (or the unknown id given).
    pub sensor_id: String,
    /// Its machine name ("" for an unknown id).
    pub machine_name: String,
    /// The state it ends in.
    pub fate: String,
    /// When it starts working (ms after the action's start).
    #[ts(type = "number")]
    pub starts_after_ms: i64,
    /// When it reaches its fate (ms after the action's start).
    #[ts(type = "number")]
    pub ends_after_ms: i64,
    /// Whether its end was taken into account (effect applied, counters released).
    pub settled: bool,
    /// Its state now.
    pub state: String,
}

/// An action with the course of each of its sensors (what the desktop shows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ActionDetail {
    /// The action as the vendor answers it.
    pub action: SensorAction,
    /// Its sensors.
    pub probes: Vec<Probe>,
    /// The argument, as given ("" when none).
    pub argument: String,
    /// The alert whose response started it, if any.
    pub alert_uuid: Option<String>,
}

/// Which sensors an action is for: ids (sensorId, pylumId or machine name) or filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ActionRequest {
    /// The sensors' ids (`sensorIds` is accepted too, as the vendor's archive sample writes it).
    #[serde(alias = "sensorIds")]
    pub sensors_ids: Vec<String>,
    /// Or: the sensors these filters select.
    pub filters: Vec<FieldFilter>,
    /// The action's argument (an archive reason, `ENABLE`/`DISABLE`, a scan type, a group id).
    #[schema(value_type = Option<String>)]
    pub argument: Option<Value>,
}

/// The body of isolate and un-isolate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[ts(export)]
pub struct IsolationRequest {
    /// The sensors' pylumIds (sensorIds and machine names are accepted too).
    pub pylum_ids: Vec<String>,
    /// The malop it answers (kept in the audit trail only).
    pub malop_id: String,
}

/// The answer of isolate and un-isolate: each id given and what became of its command.
pub type IsolationAnswer = BTreeMap<String, String>;

/// An action's stored record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Record {
    action: SensorAction,
    argument: String,
    probes: Vec<Probe>,
}

fn state_at(p: &Probe, elapsed: i64) -> &str {
    if p.fate == "UnknownProbe" || p.fate == "Aborted" || elapsed >= p.ends_after_ms {
        &p.fate
    } else if elapsed >= p.starts_after_ms {
        if p.fate == "Timeout" {
            // A disconnected sensor never starts.
            "Pending"
        } else {
            "InProgress"
        }
    } else {
        "Pending"
    }
}

impl Record {
    /// States, counters and finality at `now`.
    fn refresh(&mut self, now: i64) {
        let elapsed = now - self.action.start_time;
        let mut stats: BTreeMap<String, i64> =
            STAT_KEYS.iter().map(|k| ((*k).to_owned(), 0)).collect();
        for p in &mut self.probes {
            p.state = state_at(p, elapsed).to_owned();
            *stats.entry(p.state.clone()).or_insert(0) += 1;
        }
        self.action.final_state = self
            .probes
            .iter()
            .all(|p| !UNFINISHED.contains(&p.state.as_str()));
        self.action.global_stats = GlobalStats { stats };
        self.action.total_number_of_probes = self.probes.len() as i64;
    }

    fn detail(&self, alert_uuid: Option<String>) -> ActionDetail {
        ActionDetail {
            action: self.action.clone(),
            probes: self.probes.clone(),
            argument: self.argument.clone(),
            alert_uuid,
        }
    }
}

fn read_record(body: &str) -> Result<Record, ResponseError> {
    serde_json::from_str(body)
        .map_err(|e| ResponseError::Conflict(format!("stored sensor action is unreadable: {e}")))
}

fn store_record(
    c: &rusqlite::Connection,
    r: &Record,
    alert_uuid: Option<&str>,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO sensor_actions (batch_id, body, final, start_time, alert_uuid)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (batch_id) DO UPDATE SET body = excluded.body, final = excluded.final",
    )?
    .execute(rusqlite::params![
        r.action.batch_id,
        serde_json::to_string(r).unwrap_or_default(),
        // Settled, not only final: a sensor's end is taken into account after it is reached.
        r.action.final_state && r.probes.iter().all(|p| p.settled),
        r.action.start_time,
        alert_uuid
    ])?;
    Ok(())
}

/// A new batch id: a non-zero 32-bit integer, as the vendor's are (the sample's is negative).
fn new_batch_id(c: &rusqlite::Connection) -> rusqlite::Result<i64> {
    loop {
        let id = i64::from(uuid::Uuid::new_v4().as_u128() as i32);
        if id != 0
            && !c
                .prepare_cached("SELECT 1 FROM sensor_actions WHERE batch_id = ?1")?
                .exists([id])?
        {
            return Ok(id);
        }
    }
}

/// The argument as text, checked against what the kind takes.
fn argument_of(kind: &ActionKind, argument: Option<&Value>) -> Result<String, ResponseError> {
    let text = match argument {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => return Err(invalid("argument", format!("{other} is not a string"))),
    };
    match kind.argument {
        Argument::Nothing if !text.is_empty() => Err(invalid(
            "argument",
            format!("{} takes no argument", kind.path),
        )),
        Argument::Required if text.is_empty() => Err(invalid(
            "argument",
            format!("{} needs an argument", kind.path),
        )),
        Argument::OneOf(words) if !words.contains(&text.as_str()) => Err(invalid(
            "argument",
            format!("{} takes one of {}", kind.path, words.join(", ")),
        )),
        _ => Ok(text),
    }
}

/// The sensors an action is for: known sensors by id, then the unknown ids.
type Targets = (Vec<Sensor>, Vec<String>);

fn targets(
    c: &rusqlite::Connection,
    ids: &[String],
    filters: &[FieldFilter],
    ids_field: &str,
) -> Result<Targets, ResponseError> {
    match (ids.is_empty(), filters.is_empty()) {
        (false, false) => Err(invalid(
            ids_field,
            "give the sensors' ids or filters, not both",
        )),
        (true, true) => Err(invalid(
            ids_field,
            "name the sensors: their ids, or filters that select them",
        )),
        (false, true) => {
            let mut known: Vec<Sensor> = Vec::new();
            let mut unknown = Vec::new();
            for id in ids {
                match find_on(c, id)?.filter(|s| !s.deleted) {
                    Some(s) if !known.iter().any(|k| k.sensor_id == s.sensor_id) => known.push(s),
                    Some(_) => {}
                    None if !unknown.contains(id) => unknown.push(id.clone()),
                    None => {}
                }
            }
            Ok((known, unknown))
        }
        (true, false) => Ok((
            matching_on(c, filters)?
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
            Vec::new(),
        )),
    }
}

/// The fate of a known sensor for `kind`, decided at the start.
fn fate(kind: &ActionKind, s: &Sensor) -> &'static str {
    if s.archived_time > 0 && !kind.on_archived {
        "NotSupported"
    } else if s.disconnected && !kind.server_side {
        "Timeout"
    } else if kind.path == "upgrade" && s.version == CURRENT_VERSION {
        "AlreadyUpdated"
    } else {
        "Succeeded"
    }
}

/// Where an action comes from: who, and (for a policy's response) the alert.
pub struct Origin<'a> {
    /// Who starts it.
    pub actor: &'a Actor,
    /// The alert it answers, if any.
    pub alert_uuid: Option<&'a str>,
}

/// Starts an action inside the caller's transaction; `None` when no sensor was selected.
pub(crate) fn start_on(
    c: &rusqlite::Connection,
    origin: &Origin<'_>,
    kind: &ActionKind,
    (known, unknown): Targets,
    argument: String,
    request: Option<&Value>,
    now: i64,
) -> Result<Option<ActionDetail>, ResponseError> {
    if known.is_empty() {
        return Ok(None);
    }
    use rusqlite::OptionalExtension;
    // A timeline that no longer reads (set by a newer version) falls back to the defaults.
    let t: Timeline = c
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [TIMELINE_KEY],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    let batch_id = new_batch_id(c)?;
    let jitter = |id: &str, salt: &str| {
        if t.jitter_ms == 0 {
            0
        } else {
            (digest(&format!("{batch_id}:{id}:{salt}")) % (t.jitter_ms as u64 + 1)) as i64
        }
    };
    let mut probes: Vec<Probe> = known
        .iter()
        .map(|s| {
            let fate = fate(kind, s);
            let starts = t.pending_ms + jitter(&s.sensor_id, "start");
            let ends = if fate == "Timeout" {
                t.timeout_ms.max(starts)
            } else {
                starts + t.progress_ms + jitter(&s.sensor_id, "end")
            };
            Probe {
                sensor_id: s.sensor_id.clone(),
                machine_name: s.machine_name.clone(),
                fate: fate.into(),
                starts_after_ms: starts,
                ends_after_ms: ends,
                settled: false,
                state: String::new(),
            }
        })
        .collect();
    probes.extend(unknown.into_iter().map(|id| Probe {
        sensor_id: id,
        fate: "UnknownProbe".into(),
        settled: true,
        ..Probe::default()
    }));
    let mut record = Record {
        action: SensorAction {
            batch_id,
            action_type: kind.action_type.into(),
            action_arguments: (!argument.is_empty()).then(|| vec![argument.clone()]),
            initiator_user: origin.actor.login.clone(),
            start_time: now,
            ..SensorAction::default()
        },
        argument,
        probes,
    };
    record.refresh(now);
    for s in &known {
        let mut busy = s.clone();
        busy.actions_in_progress += 1;
        store_sensor(c, &busy)?;
    }
    store_record(c, &record, origin.alert_uuid)?;
    let after = serde_json::to_value(&record.action).ok();
    audit::record(
        c,
        origin.actor,
        &Change {
            op: "sensor_action.start",
            object_type: "sensor_action",
            object_uuid: &batch_id.to_string(),
            request,
            before: None,
            after: after.as_ref(),
        },
    )?;
    // Sensors whose course is already over (a zero timeline) change at once. Only this action is
    // looked at: a response that isolates the hosts of a thousand alerts stays linear.
    settle_on(c, now, Some(batch_id))?;
    let (record, alert) = load_on(c, batch_id)?.ok_or_else(|| not_found(batch_id))?;
    Ok(Some(record.detail(alert)))
}

fn not_found(batch_id: i64) -> ResponseError {
    ResponseError::NotFound {
        kind: "sensor action",
        id: batch_id.to_string(),
    }
}

fn load_on(
    c: &rusqlite::Connection,
    batch_id: i64,
) -> Result<Option<(Record, Option<String>)>, ResponseError> {
    use rusqlite::OptionalExtension;
    let row: Option<(String, Option<String>)> = c
        .prepare_cached("SELECT body, alert_uuid FROM sensor_actions WHERE batch_id = ?1")?
        .query_row([batch_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(body, alert)| read_record(&body).map(|r| (r, alert)))
        .transpose()
}

/// What happened to a sensor while its action ran ends it now: deleted, it is gone
/// (ProbeRemoved); gone offline when it was expected to succeed, the command did not reach it
/// (Disconnected). Actions on the server (archive, delete, ...) are not interrupted.
fn interrupt(c: &rusqlite::Connection, record: &mut Record, now: i64) -> Result<(), ResponseError> {
    let server_side = kind(&record.action.action_type).is_some_and(|k| k.server_side);
    let elapsed = now - record.action.start_time;
    let mut changed = false;
    for p in &mut record.probes {
        if p.settled || !UNFINISHED.contains(&p.state.as_str()) {
            continue;
        }
        let Some(sensor) = find_on(c, &p.sensor_id)? else {
            continue;
        };
        let end = if sensor.deleted && record.action.action_type != "Delete" {
            "ProbeRemoved"
        } else if sensor.disconnected && !server_side && p.fate == "Succeeded" {
            "Disconnected"
        } else {
            continue;
        };
        p.fate = end.into();
        p.ends_after_ms = elapsed;
        changed = true;
    }
    if changed {
        record.refresh(now);
    }
    Ok(())
}

/// Takes every sensor (of `only` that action, or of every unfinished one) that reached its end
/// by `now` into account, in the order they ended:
/// applies the effect of each success to the fleet, releases its `actionsInProgress`, and marks
/// finished actions final.
fn settle_on(c: &rusqlite::Connection, now: i64, only: Option<i64>) -> Result<(), ResponseError> {
    let open: Vec<(String, Option<String>)> = c
        .prepare_cached(
            "SELECT body, alert_uuid FROM sensor_actions
             WHERE final = 0 AND (?1 IS NULL OR batch_id = ?1) ORDER BY start_time, batch_id",
        )?
        .query_map([only], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut records: Vec<(Record, Option<String>)> = open
        .iter()
        .map(|(b, a)| read_record(b).map(|r| (r, a.clone())))
        .collect::<Result<_, _>>()?;
    // (when it ended, record index, probe index)
    let mut ended: Vec<(i64, usize, usize)> = Vec::new();
    for (ri, (record, _)) in records.iter_mut().enumerate() {
        record.refresh(now);
        interrupt(c, record, now)?;
        for (pi, p) in record.probes.iter().enumerate() {
            if !p.settled && !UNFINISHED.contains(&p.state.as_str()) {
                ended.push((record.action.start_time + p.ends_after_ms, ri, pi));
            }
        }
    }
    ended.sort();
    for (at, ri, pi) in ended {
        let (record, _) = &mut records[ri];
        let probe = &mut record.probes[pi];
        probe.settled = true;
        let Some(mut sensor) = find_on(c, &probe.sensor_id)? else {
            continue;
        };
        sensor.actions_in_progress = (sensor.actions_in_progress - 1).max(0);
        let kind_of = kind(&record.action.action_type);
        if probe.state == "Succeeded" {
            if let Some(k) = kind_of {
                (k.effect)(&mut sensor, &record.argument, at.min(now));
            }
            if record.action.action_type == "Upgrade" {
                sensor.last_upgrade_result = "Succeeded".into();
            }
        } else if record.action.action_type == "Upgrade" {
            sensor.last_upgrade_result = probe.state.clone();
        }
        settle_status(&mut sensor);
        store_sensor(c, &sensor)?;
    }
    for (record, alert) in &records {
        store_record(c, record, alert.as_deref())?;
        if record.action.final_state {
            c.execute(
                "UPDATE sensor_requests SET status = 'DONE' WHERE batch_id = ?1",
                [record.action.batch_id],
            )?;
        }
    }
    Ok(())
}

/// Brings every unfinished action to the present (a cheap read when none is unfinished).
pub fn advance(store: &Store) -> Result<(), ResponseError> {
    let open: bool = store.read(|c| {
        c.prepare_cached("SELECT 1 FROM sensor_actions WHERE final = 0")?
            .exists([])
            .map_err(ResponseError::from)
    })?;
    if !open {
        return Ok(());
    }
    store.write(|c| {
        let tx = c.transaction()?;
        settle_on(&tx, now_ms(), None)?;
        tx.commit()?;
        Ok(())
    })
}

/// Starts the action `word` (`upgrade`, `archive`, ... `isolate`) on the sensors the request
/// names; `None` (the vendor's 204) when no known sensor is named or the filters select none.
pub fn start(
    store: &Store,
    actor: &Actor,
    word: &str,
    request: &ActionRequest,
) -> Result<Option<ActionDetail>, ResponseError> {
    let kind = kind(word).ok_or_else(|| {
        invalid(
            "action",
            format!(
                "{word:?} is not a sensor action; use one of {}",
                KINDS.iter().map(|k| k.path).collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let argument = argument_of(kind, request.argument.as_ref())?;
    sync(store)?;
    advance(store)?;
    let asked = serde_json::to_value(request).ok();
    store.write(|c| {
        let tx = c.transaction()?;
        let chosen = targets(&tx, &request.sensors_ids, &request.filters, "sensorsIds")?;
        let now = now_ms();
        let origin = Origin {
            actor,
            alert_uuid: None,
        };
        let started = start_on(&tx, &origin, kind, chosen, argument, asked.as_ref(), now)?;
        tx.commit()?;
        Ok(started)
    })
}

/// Isolates (or un-isolates) the sensors with these pylumIds: the vendor's answer maps each id
/// to `Succeeded` (the command was accepted; the action's progress is in
/// [`all_actions`]) or `UnknownProbe`; `None` when no id is known.
pub fn isolate(
    store: &Store,
    actor: &Actor,
    isolate: bool,
    request: &IsolationRequest,
) -> Result<Option<(IsolationAnswer, ActionDetail)>, ResponseError> {
    let kind = kind(if isolate { "isolate" } else { "un-isolate" })
        .ok_or_else(|| invalid("action", "isolation is not configured"))?;
    sync(store)?;
    advance(store)?;
    let asked = serde_json::to_value(request).ok();
    store.write(|c| {
        let tx = c.transaction()?;
        let chosen = targets(&tx, &request.pylum_ids, &[], "pylumIds")?;
        let answer: IsolationAnswer = request
            .pylum_ids
            .iter()
            .map(|id| {
                let known = chosen.0.iter().any(|s| {
                    &s.pylum_id == id
                        || &s.sensor_id == id
                        || s.machine_name.eq_ignore_ascii_case(id)
                });
                (
                    id.clone(),
                    if known { "Succeeded" } else { "UnknownProbe" }.to_owned(),
                )
            })
            .collect();
        let origin = Origin {
            actor,
            alert_uuid: None,
        };
        let started = start_on(
            &tx,
            &origin,
            kind,
            chosen,
            String::new(),
            asked.as_ref(),
            now_ms(),
        )?;
        tx.commit()?;
        Ok(started.map(|detail| (answer, detail)))
    })
}

/// Starts the action `word` (isolation included) on the sensors named by `ids` (sensorIds,
/// pylumIds or machine names), as the desktop and the CLI offer it; `None` when none is known.
pub fn start_on_sensors(
    store: &Store,
    actor: &Actor,
    word: &str,
    ids: Vec<String>,
    argument: Option<String>,
) -> Result<Option<ActionDetail>, ResponseError> {
    if ISOLATION.contains(&word) {
        if argument.as_deref().is_some_and(|a| !a.trim().is_empty()) {
            return Err(invalid("argument", format!("{word} takes no argument")));
        }
        let request = IsolationRequest {
            pylum_ids: ids,
            ..IsolationRequest::default()
        };
        return Ok(isolate(store, actor, word == "isolate", &request)?.map(|(_, detail)| detail));
    }
    let request = ActionRequest {
        sensors_ids: ids,
        argument: argument.filter(|a| !a.trim().is_empty()).map(Value::String),
        ..ActionRequest::default()
    };
    start(store, actor, word, &request)
}

/// Every action, current and past, newest first, brought to the present.
pub fn all_actions(store: &Store) -> Result<Vec<SensorAction>, ResponseError> {
    Ok(details(store)?.into_iter().map(|d| d.action).collect())
}

/// Every action with its sensors' courses, newest first.
pub fn details(store: &Store) -> Result<Vec<ActionDetail>, ResponseError> {
    advance(store)?;
    let now = now_ms();
    store.read(|c| {
        let rows: Vec<(String, Option<String>)> = c
            .prepare_cached(
                "SELECT body, alert_uuid FROM sensor_actions ORDER BY start_time DESC, batch_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(body, alert)| {
                let mut r = read_record(&body)?;
                r.refresh(now);
                Ok(r.detail(alert))
            })
            .collect()
    })
}

/// The actions an alert's response started, newest first.
pub fn of_alert(store: &Store, alert_uuid: &str) -> Result<Vec<ActionDetail>, ResponseError> {
    Ok(details(store)?
        .into_iter()
        .filter(|d| d.alert_uuid.as_deref() == Some(alert_uuid))
        .collect())
}

/// One action with its sensors' courses.
pub fn detail(store: &Store, batch_id: i64) -> Result<ActionDetail, ResponseError> {
    advance(store)?;
    let now = now_ms();
    store.read(|c| {
        let (mut r, alert) = load_on(c, batch_id)?.ok_or_else(|| not_found(batch_id))?;
        r.refresh(now);
        Ok(r.detail(alert))
    })
}

/// Aborts an unfinished action: every sensor not yet at its end ends Aborted (and nothing
/// happens to it). Aborting a finished action changes nothing and answers it as it is.
pub fn abort(store: &Store, actor: &Actor, batch_id: i64) -> Result<SensorAction, ResponseError> {
    advance(store)?;
    store.write(|c| {
        let tx = c.transaction()?;
        let now = now_ms();
        settle_on(&tx, now, None)?;
        let (mut record, alert) = load_on(&tx, batch_id)?.ok_or_else(|| not_found(batch_id))?;
        record.refresh(now);
        if record.action.final_state {
            return Ok(record.action);
        }
        let before = serde_json::to_value(&record.action).ok();
        let elapsed = now - record.action.start_time;
        for p in &mut record.probes {
            if UNFINISHED.contains(&p.state.as_str()) {
                p.fate = "Aborted".into();
                p.ends_after_ms = elapsed;
                p.settled = true;
                if let Some(mut sensor) = find_on(&tx, &p.sensor_id)? {
                    sensor.actions_in_progress = (sensor.actions_in_progress - 1).max(0);
                    store_sensor(&tx, &sensor)?;
                }
            }
        }
        record.action.aborter_user = Some(actor.login.clone());
        record.action.abort_time = now;
        record.action.abort_timeout = false;
        record.action.abort_http_status_code = Some(200);
        record.refresh(now);
        store_record(&tx, &record, alert.as_deref())?;
        tx.execute(
            "UPDATE sensor_requests SET status = 'ABORTED' WHERE batch_id = ?1",
            [batch_id],
        )?;
        let after = serde_json::to_value(&record.action).ok();
        audit::record(
            &tx,
            actor,
            &Change {
                op: "sensor_action.abort",
                object_type: "sensor_action",
                object_uuid: &batch_id.to_string(),
                request: None,
                before: before.as_ref(),
                after: after.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(record.action)
    })
}

/// Isolates the sensor of `host` for an alert's response, inside the caller's transaction;
/// returns the batch id, or `None` when the host has no sensor.
pub(crate) fn isolate_for_alert(
    c: &rusqlite::Connection,
    engine: &Actor,
    alert_uuid: &str,
    host: &str,
) -> Result<Option<i64>, ResponseError> {
    let Some(sensor) = super::of_host(c, host)? else {
        return Ok(None);
    };
    let kind = kind("isolate").ok_or_else(|| invalid("action", "isolation is not configured"))?;
    let origin = Origin {
        actor: engine,
        alert_uuid: Some(alert_uuid),
    };
    let started = start_on(
        c,
        &origin,
        kind,
        (vec![sensor], Vec::new()),
        String::new(),
        None,
        now_ms(),
    )?;
    Ok(started.map(|d| d.action.batch_id))
}

/// A response's isolation of `host` for an alert (a policy's ISOLATE_DEVICE or BLOCK, or an
/// approved workflow action), inside the caller's transaction: the request is recorded and the
/// Isolate action of the host's sensor started, once per alert. Says what was done, for the
/// alert's history.
pub(crate) fn respond_isolate(
    tx: &rusqlite::Connection,
    engine: &Actor,
    alert_uuid: &str,
    policy_uuid: &str,
    host: &str,
) -> Result<String, ResponseError> {
    let asked_before = tx
        .prepare_cached(
            "SELECT 1 FROM sensor_requests WHERE alert_uuid = ?1 AND action = 'isolate'",
        )?
        .exists([alert_uuid])?;
    if asked_before {
        return Ok(format!(
            "isolation of {host} was already requested for this alert"
        ));
    }
    let batch = isolate_for_alert(tx, engine, alert_uuid, host)?;
    tx.execute(
        "INSERT INTO sensor_requests (uuid, alert_uuid, policy_uuid, host, action, status, create_time, batch_id)
         VALUES (?1, ?2, ?3, ?4, 'isolate', ?5, ?6, ?7)",
        rusqlite::params![
            uuid::Uuid::now_v7().to_string(),
            alert_uuid,
            policy_uuid,
            host,
            if batch.is_some() { "STARTED" } else { "NO_SENSOR" },
            now_ms(),
            batch
        ],
    )?;
    Ok(match batch {
        Some(id) => format!("isolation of {host}: sensor action {id} started"),
        None => format!("isolation of {host} requested, but the host has no sensor"),
    })
}
