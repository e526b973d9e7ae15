//! The simulated Cybereason sensor fleet: every target host seen in the connections has a
//! sensor (its operating system guessed from the protocols used to reach it), analysts add,
//! archive and delete sensors, and `query` answers the vendor's `POST /rest/sensors/query`
//! (filters, sorting, pages). Sensor actions and their timeline are in [`actions`].

pub mod actions;
pub mod query;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::audit::{self, Actor, Change};
use super::{following, now_ms, ResponseError};
use crate::Store;

pub use query::{query, FieldFilter, SensorQuery, SensorQueryResult};

/// Where the last synchronisation with the connections stopped (the largest connection rowid).
const SYNC_MARK: &str = "sensors.synced_rowid";
/// The sensor version this workbench "ships": Upgrade brings sensors to it.
pub const CURRENT_VERSION: &str = "23.2.14.0";
/// The version new sensors report (one behind, so Upgrade has something to do).
pub const INITIAL_VERSION: &str = "22.1.183.0";
/// The group of sensors no analyst placed in a group.
pub const DEFAULT_GROUP: &str = "00000000-0000-0000-0000-000000000000";
/// Its name.
pub const DEFAULT_GROUP_NAME: &str = "Unassigned";
/// A host without connections for this long (before the newest connection) is disconnected.
const STALE_AFTER_MS: i64 = 30 * 86_400_000;

/// Sensor status values.
pub mod status {
    /// Connected and reporting.
    pub const ONLINE: &str = "Online";
    /// Not reporting (disconnected).
    pub const OFFLINE: &str = "Offline";
    /// Archived by an analyst.
    pub const ARCHIVED: &str = "Archived";
}

/// A sensor, in the fields of the vendor's sensor query answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Sensor {
    /// `<24 hex>:<pylumId>`.
    pub sensor_id: String,
    /// The id actions and isolation use.
    pub pylum_id: String,
    /// The machine's guid.
    pub guid: String,
    /// The host name, as the connections name it.
    pub machine_name: String,
    /// Fully qualified name (the host name when it has dots, else `<name>.local`).
    pub fqdn: String,
    /// `WINDOWS` (reached over RDP), `LINUX` (SSH) or `UNKNOWN`.
    pub os_type: String,
    /// The host's address, from the connections (empty when never given).
    pub internal_ip_address: String,
    /// Empty: the workbench sees no external addresses.
    pub external_ip_address: String,
    /// Its group's id.
    pub group_id: String,
    /// Its group's name.
    pub group_name: String,
    /// `Online`, `Offline` or `Archived`.
    pub status: String,
    /// Cut off from the network (by an Isolate action).
    pub isolated: bool,
    /// Not reporting: actions on it time out.
    pub disconnected: bool,
    /// Whether it reports (neither disconnected nor archived).
    pub online: bool,
    /// The sensor version.
    pub version: String,
    /// How many unfinished actions include it.
    pub actions_in_progress: i64,
    /// How its last upgrade ended (`None` before any).
    pub last_upgrade_result: String,
    /// Anti-malware status.
    pub am_status: String,
    /// `ENABLED` or `DISABLED` (StartCollection / StopCollection).
    pub collection_status: String,
    /// `ENABLED` or `DISABLED` (SetPreventionMode).
    pub prevention_status: String,
    /// The sensor policy.
    pub policy_name: String,
    /// When it was archived (epoch ms; 0 when not archived).
    pub archived_time: i64,
    /// Why it was archived.
    pub archive_reason: String,
    /// First connection to the host (epoch ms).
    pub first_seen_time: i64,
    /// Last connection to the host, or the last change of its status (epoch ms).
    pub last_status_update_time: i64,
    /// Deleted sensors are kept (so the connections do not bring them back) but never listed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[ts(skip)]
    #[schema(ignore)]
    pub deleted: bool,
}

/// What an analyst gives to add a sensor by hand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[ts(export)]
pub struct NewSensor {
    /// The host name (required; unique).
    pub machine_name: String,
    /// Its address (optional).
    pub internal_ip_address: String,
    /// `WINDOWS`, `LINUX`, `MAC_OS` or `UNKNOWN` (default).
    pub os_type: String,
    /// Added disconnected (actions on it time out).
    pub disconnected: bool,
}

/// The operating systems a sensor may report.
pub const OS_TYPES: &[&str] = &["WINDOWS", "LINUX", "MAC_OS", "UNKNOWN"];

fn invalid(field: &str, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn not_found(id: &str) -> ResponseError {
    ResponseError::NotFound {
        kind: "sensor",
        id: id.to_owned(),
    }
}

/// A stable 64-bit digest of `text` (FNV-1a): ids and timelines derived from it are the same on
/// every machine and run.
pub(crate) fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A new sensor for `machine_name`, its ids derived from the name.
fn new_sensor(machine_name: &str, os_type: &str, ip: &str, seen: i64) -> Sensor {
    let upper: String = machine_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '-'
            }
        })
        .collect();
    let h = digest(&format!("sensor:{machine_name}"));
    let g = digest(&format!("guid:{machine_name}"));
    let pylum_id = format!(
        "PYLUMCLIENT_WORKBENCH_{upper}_{:012X}",
        h & 0xffff_ffff_ffff
    );
    Sensor {
        sensor_id: format!("{:016x}{:08x}:{pylum_id}", g, h >> 32),
        pylum_id,
        guid: format!("{}.{}", (h >> 32) as i32, g & 0x7fff_ffff_ffff_ffff),
        machine_name: machine_name.to_owned(),
        fqdn: if machine_name.contains('.') {
            machine_name.to_owned()
        } else {
            format!("{machine_name}.local")
        },
        os_type: os_type.to_owned(),
        internal_ip_address: ip.to_owned(),
        group_id: DEFAULT_GROUP.into(),
        group_name: DEFAULT_GROUP_NAME.into(),
        status: status::ONLINE.into(),
        online: true,
        version: INITIAL_VERSION.into(),
        last_upgrade_result: "None".into(),
        am_status: "AM_ENABLED".into(),
        collection_status: "ENABLED".into(),
        prevention_status: "DISABLED".into(),
        policy_name: "Default policy".into(),
        first_seen_time: seen,
        last_status_update_time: seen,
        ..Sensor::default()
    }
}

/// Sets `status` and `online` from the archived and disconnected facts.
pub(crate) fn settle_status(s: &mut Sensor) {
    s.status = if s.archived_time > 0 {
        status::ARCHIVED
    } else if s.disconnected {
        status::OFFLINE
    } else {
        status::ONLINE
    }
    .into();
    s.online = s.status == status::ONLINE;
}

/// The operating system the protocols used to reach a host suggest.
fn os_of(protocols: &str) -> &'static str {
    let has = |p: &str| protocols.split(',').any(|x| x.eq_ignore_ascii_case(p));
    if has("RDP") {
        "WINDOWS"
    } else if has("SSH") {
        "LINUX"
    } else {
        "UNKNOWN"
    }
}

pub(crate) fn store_sensor(c: &rusqlite::Connection, s: &Sensor) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO sensors (sensor_id, pylum_id, machine_name, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sensor_id) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![
        s.sensor_id,
        s.pylum_id,
        s.machine_name,
        serde_json::to_string(s).unwrap_or_default()
    ])?;
    Ok(())
}

fn parse(body: &str) -> Result<Sensor, ResponseError> {
    serde_json::from_str(body)
        .map_err(|e| ResponseError::Conflict(format!("stored sensor is unreadable: {e}")))
}

/// Every sensor, deleted ones included, by machine name.
pub(crate) fn all_on(c: &rusqlite::Connection) -> Result<Vec<Sensor>, ResponseError> {
    let bodies: Vec<String> = c
        .prepare_cached("SELECT body FROM sensors ORDER BY machine_name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies.iter().map(|b| parse(b)).collect()
}

/// The sensor with this sensorId, pylumId or machine name.
pub(crate) fn find_on(c: &rusqlite::Connection, id: &str) -> Result<Option<Sensor>, ResponseError> {
    let body: Option<String> = c
        .prepare_cached(
            "SELECT body FROM sensors WHERE sensor_id = ?1 OR pylum_id = ?1 OR machine_name = ?1",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?;
    body.map(|b| parse(&b)).transpose()
}

/// The sensor of a connection's target host, if it has one (and it is not deleted).
pub(crate) fn of_host(
    c: &rusqlite::Connection,
    host: &str,
) -> Result<Option<Sensor>, ResponseError> {
    sync_on(c)?;
    Ok(find_on(c, host)?.filter(|s| !s.deleted && s.machine_name.eq_ignore_ascii_case(host)))
}

/// Brings the fleet up to date with the connections imported since the last call (a cheap read
/// when nothing was imported): new hosts get a sensor; known ones learn their protocols, address
/// and last contact; a host silent for 30 days before the newest connection is disconnected.
pub fn sync(store: &Store) -> Result<(), ResponseError> {
    following::catch_up(store, SYNC_MARK, sync_on)
}

/// [`sync`] inside the caller's transaction.
pub(crate) fn sync_on(c: &rusqlite::Connection) -> Result<(), ResponseError> {
    let Some(pending) = following::pending(c, SYNC_MARK)? else {
        return Ok(());
    };
    let latest: i64 = c.query_row(
        "SELECT coalesce(max(connected), 0) FROM connections",
        [],
        |r| r.get(0),
    )?;
    let seen: Vec<(String, String, String, i64, i64)> = c
        .prepare(
            "SELECT target_host, group_concat(DISTINCT upper(type)),
                    coalesce(max(target_host_address), ''), min(connected), max(connected)
             FROM connections WHERE rowid > ?1 GROUP BY target_host",
        )?
        .query_map([pending.after], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut updated = std::collections::HashSet::new();
    for (host, protocols, ip, first, last) in seen {
        let mut sensor = match find_on(c, &host)? {
            Some(known) => known,
            None => new_sensor(&host, os_of(&protocols), &ip, first),
        };
        if sensor.os_type == "UNKNOWN" {
            sensor.os_type = os_of(&protocols).into();
        }
        if sensor.internal_ip_address.is_empty() {
            sensor.internal_ip_address = ip;
        }
        sensor.first_seen_time = sensor.first_seen_time.min(first);
        sensor.last_status_update_time = sensor.last_status_update_time.max(last);
        sensor.disconnected = latest - sensor.last_status_update_time > STALE_AFTER_MS;
        settle_status(&mut sensor);
        store_sensor(c, &sensor)?;
        updated.insert(sensor.sensor_id);
    }
    // Newer connections elsewhere can leave a host silent for 30 days: it goes offline too.
    for mut sensor in all_on(c)? {
        if !sensor.deleted
            && !sensor.disconnected
            && !updated.contains(&sensor.sensor_id)
            && latest - sensor.last_status_update_time > STALE_AFTER_MS
        {
            sensor.disconnected = true;
            settle_status(&mut sensor);
            store_sensor(c, &sensor)?;
        }
    }
    following::taken_in(c, SYNC_MARK, &pending)?;
    Ok(())
}

/// Every listed sensor (not deleted), by machine name.
pub fn list(store: &Store) -> Result<Vec<Sensor>, ResponseError> {
    sync(store)?;
    store.read(|c| Ok(all_on(c)?.into_iter().filter(|s| !s.deleted).collect()))
}

/// One sensor by sensorId, pylumId or machine name.
pub fn get(store: &Store, id: &str) -> Result<Sensor, ResponseError> {
    sync(store)?;
    store
        .read(|c| find_on(c, id))?
        .filter(|s| !s.deleted)
        .ok_or_else(|| not_found(id))
}

fn audit_sensor(
    c: &rusqlite::Connection,
    actor: &Actor,
    op: &'static str,
    before: Option<&Sensor>,
    after: &Sensor,
) -> rusqlite::Result<()> {
    let (b, a) = (
        before.and_then(|s| serde_json::to_value(s).ok()),
        serde_json::to_value(after).ok(),
    );
    audit::record(
        c,
        actor,
        &Change {
            op,
            object_type: "sensor",
            object_uuid: &after.sensor_id,
            request: None,
            before: b.as_ref(),
            after: a.as_ref(),
        },
    )?;
    Ok(())
}

/// Adds a sensor by hand (a host the connections have not shown yet, or one deleted before).
pub fn add(store: &Store, actor: &Actor, new: &NewSensor) -> Result<Sensor, ResponseError> {
    let name = new.machine_name.trim();
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "machineName",
            "a sensor needs a host name without spaces",
        ));
    }
    let os = if new.os_type.is_empty() {
        "UNKNOWN"
    } else {
        new.os_type.as_str()
    };
    if !OS_TYPES.contains(&os) {
        return Err(invalid(
            "osType",
            format!("{os:?} is not one of {}", OS_TYPES.join(", ")),
        ));
    }
    if !new.internal_ip_address.is_empty()
        && new.internal_ip_address.parse::<std::net::IpAddr>().is_err()
    {
        return Err(invalid(
            "internalIpAddress",
            format!("{:?} is not an IP address", new.internal_ip_address),
        ));
    }
    sync(store)?;
    store.write(|c| {
        let tx = c.transaction()?;
        let before = find_on(&tx, name)?;
        if let Some(existing) = before.as_ref().filter(|s| !s.deleted) {
            return Err(ResponseError::Conflict(format!(
                "host {name} already has sensor {}",
                existing.sensor_id
            )));
        }
        let mut sensor = new_sensor(name, os, &new.internal_ip_address, now_ms());
        if let Some(old) = &before {
            // The same host again: the same ids.
            sensor.sensor_id = old.sensor_id.clone();
            sensor.pylum_id = old.pylum_id.clone();
        }
        sensor.disconnected = new.disconnected;
        settle_status(&mut sensor);
        store_sensor(&tx, &sensor)?;
        audit_sensor(&tx, actor, "sensor.add", before.as_ref(), &sensor)?;
        tx.commit()?;
        Ok(sensor)
    })
}

/// Marks a sensor connected or disconnected (what the simulation does when a machine goes away
/// or comes back): actions on a disconnected sensor time out.
pub fn set_disconnected(
    store: &Store,
    actor: &Actor,
    id: &str,
    disconnected: bool,
) -> Result<Sensor, ResponseError> {
    sync(store)?;
    store.write(|c| {
        let tx = c.transaction()?;
        let before = find_on(&tx, id)?
            .filter(|s| !s.deleted)
            .ok_or_else(|| not_found(id))?;
        let mut after = before.clone();
        after.disconnected = disconnected;
        after.last_status_update_time = now_ms();
        settle_status(&mut after);
        store_sensor(&tx, &after)?;
        audit_sensor(&tx, actor, "sensor.connect", Some(&before), &after)?;
        tx.commit()?;
        Ok(after)
    })
}
