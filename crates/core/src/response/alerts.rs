//! Alerts: every anomaly that crosses the threshold becomes an alert in the Lacework Edge
//! `Alert` model, raised in the transaction that stores the anomaly.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::audit::{self, Actor, Change};
use super::enums::{ALERT_STATUS, INCIDENT_STATUS};
use super::{now_ms, ResponseError, ACCOUNT_NAME, NAMESPACE};
use crate::Store;

/// `event_type` of alerts raised by analysis.
pub const EVENT_TYPE_ANOMALY: &str = "UEBA_ANOMALOUS_CONNECTION";
/// `event_type` of alerts promoted by hand from a connection analysis did not flag.
pub const EVENT_TYPE_PROMOTED: &str = "UEBA_PROMOTED_CONNECTION";

/// Alert status values (enums::ALERT_STATUS).
pub mod status {
    /// Raised, nobody works on it yet.
    pub const OPEN: i64 = 1;
    /// Being investigated.
    pub const IN_PROGRESS: i64 = 2;
    /// Closed with an incident status.
    pub const CLOSED: i64 = 3;
}

/// The entities an alert concerns. The seed has only the two counts; the names are this
/// workbench's addition, so an analyst sees who, where, from where and which connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct AlertRelatedEntities {
    /// Target hosts involved (1).
    pub devices_count: i64,
    /// Users involved (1).
    pub users_count: i64,
    /// The connection's user.
    pub users: Vec<String>,
    /// The target host.
    pub devices: Vec<String>,
    /// The source (client) address.
    pub sources: Vec<String>,
    /// The connection ids.
    pub connections: Vec<String>,
}

/// An alert: the seed's `Alert` fields, then this workbench's additions (declared in
/// `spec/lacework/extensions.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Alert {
    /// This workbench.
    pub account_name: String,
    /// When it was last assigned (epoch ms, 0: never).
    #[ts(type = "number")]
    pub assignment_time: i64,
    /// When it was closed (epoch ms, 0: open).
    #[ts(type = "number")]
    pub closed_time: i64,
    /// When it was raised (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// What happened, in plain words, with the model's explanation.
    pub description: String,
    /// [`EVENT_TYPE_ANOMALY`] or [`EVENT_TYPE_PROMOTED`].
    pub event_type: String,
    /// Why it was closed (IncidentStatus; 0 while open).
    pub incident_status: i64,
    /// Its owner's name ("" when unassigned).
    pub owner_display_name: String,
    /// Its owner's uuid ("" when unassigned).
    pub owner_uuid: String,
    /// What the matching policy did (PolicyAction; 0: no policy matched).
    pub policy_action_taken: i64,
    /// Who and what it concerns.
    pub related_entities: AlertRelatedEntities,
    /// AlertSeverity, from the score.
    pub severity: i64,
    /// AlertStatus.
    pub status: i64,
    /// Last change (epoch ms); strictly increases, and guards investigation actions.
    #[ts(type = "number")]
    pub update_time: i64,
    /// The event's uuid (a v5 uuid of the connection id).
    pub uuid: String,
    /// The anomaly score in 0–1 (none for a promoted connection that was not scored).
    pub score: Option<f64>,
    /// The connection behind it.
    pub connection_id: Option<String>,
    /// The policy that matched, if any.
    pub policy_uuid: Option<String>,
    /// Feature configs that flagged it.
    pub features: Vec<String>,
    /// The model's reasons, in plain words.
    pub explanation: Vec<String>,
    /// The connection opened (epoch ms).
    #[ts(type = "number")]
    pub start_time: i64,
    /// The connection closed (epoch ms; the opening time when unknown).
    #[ts(type = "number")]
    pub end_time: i64,
}

/// The uuid of the event (and alert) of connection `connection_id`.
pub fn event_uuid(connection_id: &str) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, format!("connection:{connection_id}").as_bytes()).to_string()
}

/// Alert severity from an anomaly score (documented in enums::ALERT_SEVERITY).
pub fn severity_for_score(score: f64) -> i64 {
    if score >= 0.99 {
        5
    } else if score >= 0.95 {
        4
    } else if score >= 0.8 {
        3
    } else {
        2
    }
}

const COLUMNS: &str = "uuid, connection_id, event_type, description, severity, status,
    incident_status, owner_uuid, owner_display_name, policy_action_taken, policy_uuid, score,
    user, host, source, features, explanation, start_time, end_time, create_time, update_time,
    assignment_time, closed_time";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let connection_id: Option<String> = r.get(1)?;
    let user: String = r.get(12)?;
    let host: String = r.get(13)?;
    let source: String = r.get(14)?;
    Ok(Alert {
        account_name: ACCOUNT_NAME.into(),
        uuid: r.get(0)?,
        event_type: r.get(2)?,
        description: r.get(3)?,
        severity: r.get(4)?,
        status: r.get(5)?,
        incident_status: r.get(6)?,
        owner_uuid: r.get(7)?,
        owner_display_name: r.get(8)?,
        policy_action_taken: r.get(9)?,
        policy_uuid: r.get(10)?,
        score: r.get(11)?,
        related_entities: AlertRelatedEntities {
            devices_count: 1,
            users_count: 1,
            users: vec![user],
            devices: vec![host],
            sources: vec![source],
            connections: connection_id.iter().cloned().collect(),
        },
        connection_id,
        features: list(15)?,
        explanation: list(16)?,
        start_time: r.get(17)?,
        end_time: r.get(18)?,
        create_time: r.get(19)?,
        update_time: r.get(20)?,
        assignment_time: r.get(21)?,
        closed_time: r.get(22)?,
    })
}

/// What analysis found about one connection, as alerts need it.
pub struct FlaggedConnection<'a> {
    /// The connection.
    pub connection_id: &'a str,
    /// Its score.
    pub score: f64,
    /// Feature configs that flagged it, most anomalous first.
    pub features: Vec<String>,
    /// The model's reasons.
    pub explanation: &'a [String],
}

/// Raises an alert for each flagged connection that has none yet, inside the caller's
/// transaction (the one storing the anomalies); returns the uuids of the new alerts.
pub fn raise(
    tx: &rusqlite::Connection,
    flagged: &[FlaggedConnection<'_>],
) -> rusqlite::Result<Vec<String>> {
    let now = now_ms();
    let mut lookup = tx.prepare_cached(
        "SELECT user, type, target_host, remote_address, connected, coalesce(disconnected, connected)
         FROM connections WHERE id = ?1",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO alerts (uuid, connection_id, event_type, description, severity,
             status, incident_status, score, user, host, source, features, explanation,
             start_time, end_time, create_time, update_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
    )?;
    let mut raised = Vec::new();
    for f in flagged {
        let Some((user, conn_type, host, source, start, end)) = lookup
            .query_row([f.connection_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .optional()?
        else {
            continue;
        };
        let uuid = event_uuid(f.connection_id);
        let description = describe(&user, &conn_type, &host, &source, f.explanation);
        let added = insert.execute(params![
            uuid,
            f.connection_id,
            EVENT_TYPE_ANOMALY,
            description,
            severity_for_score(f.score),
            status::OPEN,
            f.score,
            user,
            host,
            source,
            serde_json::to_string(&f.features).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(f.explanation).unwrap_or_else(|_| "[]".into()),
            start,
            end,
            now,
        ])?;
        if added > 0 {
            raised.push(uuid);
        }
    }
    Ok(raised)
}

fn describe(user: &str, conn_type: &str, host: &str, source: &str, reasons: &[String]) -> String {
    let mut text = format!("Unusual {conn_type} connection by {user} to {host} from {source}");
    if !reasons.is_empty() {
        text.push_str(": ");
        text.push_str(&reasons.join("; "));
    }
    text
}

/// Reads one alert inside a transaction or on a reader.
pub(crate) fn get_on(c: &rusqlite::Connection, uuid: &str) -> rusqlite::Result<Option<Alert>> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM alerts WHERE uuid = ?1"))?
        .query_row([uuid], from_row)
        .optional()
}

/// One alert.
pub fn get(store: &Store, uuid: &str) -> Result<Alert, ResponseError> {
    store
        .read(|c| get_on(c, uuid).map_err(ResponseError::from))?
        .ok_or_else(|| not_found(uuid))
}

pub(crate) fn not_found(uuid: &str) -> ResponseError {
    ResponseError::NotFound {
        kind: "alert",
        id: uuid.to_owned(),
    }
}

/// Filters of [`query`] (the seed's `start_time`, `end_time`, `status_filter`, and paging).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertFilter {
    /// Events at or after (epoch ms of the connection's opening).
    #[ts(type = "number | null")]
    pub start_time: Option<i64>,
    /// Events before (epoch ms).
    #[ts(type = "number | null")]
    pub end_time: Option<i64>,
    /// Statuses to include (AlertStatus values); empty: the open ones (OPEN, IN_PROGRESS).
    pub statuses: Vec<i64>,
    /// Only alerts about this user.
    pub user: Option<String>,
    /// At most this many (default: all).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// Parses a `status_filter`: AlertStatus names or integers, separated by commas.
pub fn parse_status_filter(text: &str) -> Result<Vec<i64>, ResponseError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            ALERT_STATUS
                .parse(s)
                .filter(|v| *v != 0)
                .ok_or_else(|| ResponseError::Invalid {
                    field: "status_filter".into(),
                    reason: format!("unknown alert status {s:?}; use {}", ALERT_STATUS.names()),
                })
        })
        .collect()
}

/// Alerts whose event lies in `[start_time, end_time)`, newest event first.
pub fn query(store: &Store, filter: &AlertFilter) -> Result<Vec<Alert>, ResponseError> {
    if let (Some(s), Some(e)) = (filter.start_time, filter.end_time) {
        if e < s {
            return Err(ResponseError::Invalid {
                field: "end_time".into(),
                reason: format!("end_time {e} is before start_time {s}"),
            });
        }
    }
    let statuses = if filter.statuses.is_empty() {
        vec![status::OPEN, status::IN_PROGRESS]
    } else {
        filter.statuses.clone()
    };
    let statuses = serde_json::to_string(&statuses).unwrap_or_else(|_| "[]".into());
    store.read(|c| {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM alerts
             WHERE start_time >= ?1 AND start_time < ?2
               AND status IN (SELECT value FROM json_each(?3))
               AND (?4 IS NULL OR user = ?4)
             ORDER BY start_time DESC, uuid LIMIT ?5 OFFSET ?6"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.start_time.unwrap_or(i64::MIN),
                filter.end_time.unwrap_or(i64::MAX),
                statuses,
                filter.user,
                filter.limit.map_or(-1, i64::from),
                filter.offset.unwrap_or(0),
            ],
            from_row,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// The seed's "Promotes an event to an alert" request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct PromoteRequest {
    /// Ignored (this workbench is the account).
    #[serde(default)]
    pub account_name: Option<String>,
    /// Notifications are not sent by this workbench; accepted for compatibility.
    #[serde(default)]
    pub bypass_notifications: Option<bool>,
    /// The event's end (epoch ms); checked against the connection when given.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub end_time: Option<i64>,
    /// The event: an alert/event uuid or a connection id.
    #[serde(default)]
    pub event_id: Option<String>,
    /// Accepted for compatibility.
    #[serde(default)]
    pub force_notifications: Option<bool>,
    /// The event's start (epoch ms); checked against the connection when given.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub start_time: Option<i64>,
}

/// Promotes an event to an alert: returns the existing alert of the event, or raises one for the
/// connection it names (severity from its anomaly score if analysis flagged it, else INFO).
pub fn promote(
    store: &Store,
    actor: &Actor,
    request: &PromoteRequest,
) -> Result<Alert, ResponseError> {
    let event_id = request
        .event_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ResponseError::Invalid {
            field: "event_id".into(),
            reason: "required: the event's uuid or its connection id".into(),
        })?;
    store.write(|c| {
        let tx = c.transaction()?;
        if let Some(alert) = get_on(&tx, event_id)? {
            return Ok(alert);
        }
        let row = tx
            .query_row(
                "SELECT c.id, c.user, c.type, c.target_host, c.remote_address, c.connected,
                        coalesce(c.disconnected, c.connected), a.score, a.feature_scores,
                        a.explanation
                 FROM connections c LEFT JOIN anomalies a ON a.connection_id = c.id
                 WHERE c.id = ?1",
                [event_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<f64>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<String>>(9)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, user, conn_type, host, source, start, end, score, features, reasons)) = row
        else {
            return Err(ResponseError::NotFound {
                kind: "event",
                id: event_id.to_owned(),
            });
        };
        let uuid = event_uuid(&id);
        if let Some(alert) = get_on(&tx, &uuid)? {
            return Ok(alert);
        }
        for (field, given, actual) in [
            ("start_time", request.start_time, start),
            ("end_time", request.end_time, end),
        ] {
            if let Some(given) = given.filter(|g| *g != 0 && *g != actual) {
                return Err(ResponseError::Invalid {
                    field: field.into(),
                    reason: format!(
                        "{given} does not match the event: connection {id} has {field} {actual}"
                    ),
                });
            }
        }
        let reasons: Vec<String> = reasons
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let features: Vec<String> = features
            .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t).ok())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| f.get("feature_config_name")?.as_str().map(str::to_owned))
            .collect();
        let (event_type, severity) = match score {
            Some(s) => (EVENT_TYPE_ANOMALY, severity_for_score(s)),
            None => (EVENT_TYPE_PROMOTED, 1),
        };
        let now = now_ms();
        tx.execute(
            "INSERT INTO alerts (uuid, connection_id, event_type, description, severity, status,
                 incident_status, score, user, host, source, features, explanation, start_time,
                 end_time, create_time, update_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
            params![
                uuid,
                id,
                event_type,
                describe(&user, &conn_type, &host, &source, &reasons),
                severity,
                status::OPEN,
                score,
                user,
                host,
                source,
                serde_json::to_string(&features).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into()),
                start,
                end,
                now,
            ],
        )?;
        let alert = get_on(&tx, &uuid)?.ok_or_else(|| not_found(&uuid))?;
        let after = serde_json::to_value(&alert).ok();
        let asked = serde_json::to_value(request).ok();
        audit::record(
            &tx,
            actor,
            &Change {
                op: "alert.promote",
                object_type: "alert",
                object_uuid: &uuid,
                request: asked.as_ref(),
                before: None,
                after: after.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(alert)
    })
}

/// The name of an alert status or incident status, for messages.
pub(crate) fn status_name(value: i64) -> &'static str {
    ALERT_STATUS.name_of(value).unwrap_or("UNKNOWN")
}

/// The name of an incident status, for messages.
pub(crate) fn incident_name(value: i64) -> &'static str {
    INCIDENT_STATUS.name_of(value).unwrap_or("UNKNOWN")
}
