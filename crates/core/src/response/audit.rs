//! The audit trail: every change made through any door is an audit event (the Lacework Edge
//! `AuditEvent` model), written in the transaction of the change itself.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{now_ms, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// The door a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Door {
    /// The desktop app.
    Desktop,
    /// The command line.
    Cli,
    /// The REST listener.
    Rest,
    /// The engine itself (analysis raising alerts, policies, workflow expiry).
    Engine,
}

impl Door {
    fn as_str(self) -> &'static str {
        match self {
            Door::Desktop => "desktop",
            Door::Cli => "cli",
            Door::Rest => "rest",
            Door::Engine => "engine",
        }
    }
}

/// Who makes a change, and through what: every service function that changes something takes
/// one, so the audit trail needs nothing from the doors beyond building it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Stable id of the person or client (see [`account_uuid`]).
    pub uuid: String,
    /// Login name.
    pub login: String,
    /// Name shown in the UI and in investigation histories.
    pub display_name: String,
    /// Its role (enums::TOKEN_ROLE value).
    pub role: i64,
    /// The door.
    pub door: Door,
    /// How it proved who it is: `desktop`, `cli`, `oauth`, `token`, `session`, `engine`.
    pub auth_type: String,
    /// The caller's address (REST only).
    pub client_ip: String,
    /// The request's method and path (REST only).
    pub method: String,
    /// The request's path (REST only).
    pub path: String,
}

impl Actor {
    /// The person at this machine, using the desktop app or the CLI: the operating-system user.
    pub fn local(door: Door) -> Actor {
        let login = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "analyst".to_owned());
        Actor {
            uuid: account_uuid(&login),
            display_name: login.clone(),
            login,
            role: 1,
            door,
            auth_type: door.as_str().to_owned(),
            client_ip: String::new(),
            method: String::new(),
            path: String::new(),
        }
    }

    /// The engine acting on its own (policies, workflow expiry).
    pub fn engine() -> Actor {
        Actor {
            uuid: account_uuid("engine"),
            login: "engine".into(),
            display_name: "UEBA Workbench".into(),
            role: 1,
            door: Door::Engine,
            auth_type: "engine".into(),
            client_ip: String::new(),
            method: String::new(),
            path: String::new(),
        }
    }
}

/// The stable uuid of a login name (a v5 uuid, so it needs no table and never changes).
pub fn account_uuid(login: &str) -> String {
    uuid::Uuid::new_v5(&super::NAMESPACE, format!("account:{login}").as_bytes()).to_string()
}

/// An audit event: the seed's `AuditEvent` fields, plus what changed (declared in
/// `spec/lacework/extensions.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct AuditEvent {
    /// This workbench.
    pub account_name: String,
    /// This workbench.
    pub auth_account_name: String,
    /// The actor's role (TokenRole value).
    pub auth_role: i64,
    /// How the actor proved who it is.
    pub auth_type: String,
    /// The actor's uuid.
    pub auth_uuid: String,
    /// The caller's address (REST only).
    pub client_ip: String,
    /// When (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Audit events do not expire.
    pub expire_time_sec: i64,
    /// The route template of the request (REST only).
    pub matched_path: String,
    /// The request's method (REST only).
    pub method: String,
    /// What was done, e.g. `alert.investigate`.
    pub op: String,
    /// The request's path (REST only).
    pub path: String,
    /// Always `1.0`.
    pub proto_version: String,
    /// The door: `desktop`, `cli`, `rest` or `engine`.
    pub protocol: String,
    /// What was asked, as JSON.
    pub request_body: String,
    /// The status the change answered with.
    pub response_status: i64,
    /// Its text.
    pub response_status_text: String,
    /// Unused (empty).
    pub trace: String,
    /// The actor's name.
    pub user_display_name: String,
    /// The actor's login.
    pub user_login: String,
    /// The event's uuid.
    pub uuid: String,
    /// Kind of object changed, e.g. `alert` (a workbench addition).
    pub object_type: String,
    /// Its uuid (a workbench addition).
    pub object_uuid: String,
    /// The object before the change; absent when it was created (a workbench addition).
    #[ts(type = "unknown")]
    pub before: Option<serde_json::Value>,
    /// The object after the change; absent when it was deleted (a workbench addition).
    #[ts(type = "unknown")]
    pub after: Option<serde_json::Value>,
}

/// A change to record.
pub struct Change<'a> {
    /// What was done, e.g. `alert.investigate`.
    pub op: &'a str,
    /// Kind of object.
    pub object_type: &'a str,
    /// Its uuid.
    pub object_uuid: &'a str,
    /// What was asked.
    pub request: Option<&'a serde_json::Value>,
    /// Before (None: created).
    pub before: Option<&'a serde_json::Value>,
    /// After (None: deleted).
    pub after: Option<&'a serde_json::Value>,
}

/// Records `change` by `actor` inside the caller's transaction; returns the event's uuid.
pub fn record(
    tx: &rusqlite::Connection,
    actor: &Actor,
    change: &Change<'_>,
) -> rusqlite::Result<String> {
    let uuid = uuid::Uuid::now_v7().to_string();
    let json = |v: Option<&serde_json::Value>| v.map(serde_json::Value::to_string);
    tx.prepare_cached(
        "INSERT INTO audit_events (uuid, create_time, door, actor_uuid, actor_login, actor_name,
             actor_role, auth_type, client_ip, method, path, op, object_type, object_uuid,
             request_body, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        uuid,
        now_ms(),
        actor.door.as_str(),
        actor.uuid,
        actor.login,
        actor.display_name,
        actor.role,
        actor.auth_type,
        actor.client_ip,
        actor.method,
        actor.path,
        change.op,
        change.object_type,
        change.object_uuid,
        json(change.request).unwrap_or_default(),
        json(change.before),
        json(change.after),
    ])?;
    Ok(uuid)
}

const COLUMNS: &str = "uuid, create_time, door, actor_uuid, actor_login, actor_name, actor_role,
    auth_type, client_ip, method, path, op, object_type, object_uuid, request_body, before, after";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let method: String = r.get(9)?;
    let path: String = r.get(10)?;
    // A change through the REST listener: the route it matched and the status it answered.
    let route = super::catalog::contract::route_for(&method, &path);
    let (matched_path, status) = match route {
        Some(op) => (op.path.clone(), i64::from(op.success_status)),
        None => (path.clone(), 200),
    };
    Ok(AuditEvent {
        account_name: ACCOUNT_NAME.into(),
        auth_account_name: ACCOUNT_NAME.into(),
        uuid: r.get(0)?,
        create_time: r.get(1)?,
        protocol: r.get(2)?,
        auth_uuid: r.get(3)?,
        user_login: r.get(4)?,
        user_display_name: r.get(5)?,
        auth_role: r.get(6)?,
        auth_type: r.get(7)?,
        client_ip: r.get(8)?,
        method,
        matched_path,
        path,
        op: r.get(11)?,
        object_type: r.get(12)?,
        object_uuid: r.get(13)?,
        request_body: r.get(14)?,
        before: parse(r.get(15)?),
        after: parse(r.get(16)?),
        expire_time_sec: 0,
        proto_version: "1.0".into(),
        response_status: status,
        response_status_text: if status == 201 { "Created" } else { "OK" }.into(),
        trace: String::new(),
    })
}

/// Filters of [`query`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditFilter {
    /// At or after (epoch ms).
    #[ts(type = "number | null")]
    pub start_time: Option<i64>,
    /// Before (epoch ms).
    #[ts(type = "number | null")]
    pub end_time: Option<i64>,
    /// Only changes of this object.
    pub object_uuid: Option<String>,
    /// At most this many, newest first (default 1000).
    pub limit: Option<u32>,
}

/// Audit events in `[start_time, end_time)`, newest first.
pub fn query(store: &Store, filter: &AuditFilter) -> Result<Vec<AuditEvent>, ResponseError> {
    if let (Some(s), Some(e)) = (filter.start_time, filter.end_time) {
        if e < s {
            return Err(ResponseError::Invalid {
                field: "end_time".into(),
                reason: format!("end_time {e} is before start_time {s}"),
            });
        }
    }
    store.read(|c| {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit_events
             WHERE create_time >= ?1 AND create_time < ?2
               AND (?3 IS NULL OR object_uuid = ?3)
             ORDER BY create_time DESC, uuid DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.start_time.unwrap_or(i64::MIN),
                filter.end_time.unwrap_or(i64::MAX),
                filter.object_uuid,
                filter.limit.unwrap_or(1000),
            ],
            from_row,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// One audit event.
pub fn get(store: &Store, uuid: &str) -> Result<AuditEvent, ResponseError> {
    store
        .read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit_events WHERE uuid = ?1"
            ))?
            .query_row([uuid], from_row)
            .optional()
            .map_err(ResponseError::from)
        })?
        .ok_or_else(|| ResponseError::NotFound {
            kind: "audit event",
            id: uuid.to_owned(),
        })
}
