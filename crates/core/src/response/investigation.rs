//! Investigation: the actions of `proto.InvestigationAction` update an alert and append to its
//! history, singly or in batches, all or nothing.
//!
//! The state machine: OPEN ⇄ IN_PROGRESS through status changes; either → CLOSED only by
//! close-with-reason (which needs a non-zero incident status); CLOSED → OPEN or IN_PROGRESS by a
//! status change (reopening clears the incident status and closing time). Notes and owner
//! changes are allowed in every state. A request carrying `alert_update_time` is refused when the
//! alert changed since that time (no lost updates); every change moves `update_time` forward.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::alerts::{self, get_on, incident_name, not_found, status, status_name};
use super::audit::{self, Actor, Change};
use super::enums::{INCIDENT_STATUS, INVESTIGATION_ACTION_TYPE};
use super::{now_ms, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// `AlertStatusChange`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct AlertStatusChange {
    /// The new AlertStatus (OPEN or IN_PROGRESS; closing takes a reason).
    #[serde(default)]
    pub new_status: i64,
}

/// `CloseWithReason`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct CloseWithReason {
    /// Why (IncidentStatus, not 0).
    #[serde(default)]
    pub incident_status: i64,
    /// The analyst's words.
    #[serde(default)]
    pub note_text: String,
}

/// `InvestigationNote`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct InvestigationNote {
    /// The card the note refers to (free text).
    #[serde(default)]
    pub card_id: String,
    /// The note (not empty).
    #[serde(default)]
    pub note_text: String,
}

/// `RunWorkflow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct RunWorkflow {
    /// The run created (filled in the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "unknown")]
    pub workflow_run: Option<serde_json::Value>,
    /// The run's uuid (filled in the answer).
    #[serde(default)]
    pub workflow_run_uuid: String,
    /// The workflow to run.
    #[serde(default)]
    pub workflow_uuid: String,
}

/// `UpdateOwner`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct UpdateOwner {
    /// The new owner's name (looked up when empty).
    #[serde(default)]
    pub owner_display_name: String,
    /// The new owner's uuid ("" unassigns).
    #[serde(default)]
    pub owner_uuid: String,
}

/// `proto.InvestigationAction`: one of its action fields is set, named by `action_type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct InvestigationAction {
    /// InvestigationActionType (0: inferred from the field that is set).
    #[serde(default)]
    pub action_type: i64,
    /// Set the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_status_change: Option<AlertStatusChange>,
    /// Close with a reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_with_reason: Option<CloseWithReason>,
    /// Add a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<InvestigationNote>,
    /// Run a workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_workflow: Option<RunWorkflow>,
    /// Assign the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_owner: Option<UpdateOwner>,
}

/// Action type values (enums::INVESTIGATION_ACTION_TYPE).
pub mod action_type {
    /// alert_status_change.
    pub const ALERT_STATUS_CHANGE: i64 = 1;
    /// close_with_reason.
    pub const CLOSE_WITH_REASON: i64 = 2;
    /// note.
    pub const NOTE: i64 = 3;
    /// run_workflow.
    pub const RUN_WORKFLOW: i64 = 4;
    /// update_owner.
    pub const UPDATE_OWNER: i64 = 5;
}

/// `proto.PerformInvestigationActionRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct PerformInvestigationActionRequest {
    /// Ignored (this workbench is the account).
    #[serde(default)]
    pub account_name: String,
    /// The action.
    #[serde(default)]
    pub action: Option<InvestigationAction>,
    /// Ignored: the authenticated caller is the actor.
    #[serde(default)]
    pub actor_uuid: String,
    /// The alert's `update_time` as the caller last read it; a different value is refused
    /// (0 or absent: no check).
    #[serde(default)]
    #[ts(type = "number")]
    pub alert_update_time: i64,
    /// The alert (the path's uuid wins for the single-action route).
    #[serde(default)]
    pub alert_uuid: String,
}

/// `InvestigationHistoryItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct InvestigationHistoryItem {
    /// `workbench:ALERT_UUID`.
    pub account_and_alert_uuid: String,
    /// What was done (with `action_type` set).
    pub action: InvestigationAction,
    /// Who did it.
    pub actor_display_name: String,
    /// Their uuid.
    pub actor_uuid: String,
    /// When (epoch ms).
    #[ts(type = "number")]
    pub timestamp: i64,
    /// This item's uuid.
    pub uuid: String,
}

/// `PerformInvestigationActionResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct PerformInvestigationActionResponse {
    /// The alert's new `update_time`.
    #[ts(type = "number")]
    pub alert_update_time: i64,
    /// The alert.
    pub alert_uuid: String,
    /// The history item written.
    pub history_item: InvestigationHistoryItem,
}

/// Performs one action on alert `alert_uuid`.
pub fn perform(
    store: &Store,
    actor: &Actor,
    alert_uuid: &str,
    request: &PerformInvestigationActionRequest,
) -> Result<PerformInvestigationActionResponse, ResponseError> {
    let mut request = request.clone();
    request.alert_uuid = alert_uuid.to_owned();
    perform_batch(store, actor, std::slice::from_ref(&request))?
        .pop()
        .ok_or_else(|| not_found(alert_uuid))
}

/// Performs several actions in one transaction: all are applied, or none (the error names the
/// failing one as `investigation_actions[i]`).
pub fn perform_batch(
    store: &Store,
    actor: &Actor,
    requests: &[PerformInvestigationActionRequest],
) -> Result<Vec<PerformInvestigationActionResponse>, ResponseError> {
    let single = requests.len() == 1;
    store.write(|c| {
        let tx = c.transaction()?;
        let mut responses = Vec::with_capacity(requests.len());
        for (i, request) in requests.iter().enumerate() {
            let response = apply(&tx, actor, request).map_err(|e| {
                if single {
                    e
                } else {
                    prefix(e, &format!("investigation_actions[{i}]"))
                }
            })?;
            responses.push(response);
        }
        tx.commit()?;
        Ok(responses)
    })
}

fn prefix(e: ResponseError, at: &str) -> ResponseError {
    match e {
        ResponseError::Invalid { field, reason } => ResponseError::Invalid {
            field: format!("{at}.{field}"),
            reason,
        },
        ResponseError::NotFound { kind, id } => ResponseError::Invalid {
            field: format!("{at}.alert_uuid"),
            reason: format!("{kind} {id} not found"),
        },
        ResponseError::Conflict(message) => ResponseError::Conflict(format!("{at}: {message}")),
        other => other,
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The action type a request means: the one field set, agreeing with `action_type` if given.
fn resolve_type(action: &InvestigationAction) -> Result<i64, ResponseError> {
    let set: Vec<i64> = [
        (
            action.alert_status_change.is_some(),
            action_type::ALERT_STATUS_CHANGE,
        ),
        (
            action.close_with_reason.is_some(),
            action_type::CLOSE_WITH_REASON,
        ),
        (action.note.is_some(), action_type::NOTE),
        (action.run_workflow.is_some(), action_type::RUN_WORKFLOW),
        (action.update_owner.is_some(), action_type::UPDATE_OWNER),
    ]
    .into_iter()
    .filter_map(|(is_set, t)| is_set.then_some(t))
    .collect();
    if action.action_type != 0 && !INVESTIGATION_ACTION_TYPE.contains(action.action_type) {
        return Err(invalid(
            "action.action_type",
            format!(
                "unknown action type {}; use {}",
                action.action_type,
                INVESTIGATION_ACTION_TYPE.names()
            ),
        ));
    }
    match set.as_slice() {
        [] if action.action_type != 0 => Err(invalid(
            "action",
            format!(
                "action_type {} needs its field ({}) to be set",
                action.action_type,
                field_of(action.action_type)
            ),
        )),
        [] => Err(invalid(
            "action",
            "set one of alert_status_change, close_with_reason, note, run_workflow, update_owner",
        )),
        [one] if action.action_type == 0 || action.action_type == *one => Ok(*one),
        [one] => Err(invalid(
            "action.action_type",
            format!(
                "action_type {} does not match the field set ({})",
                action.action_type,
                field_of(*one)
            ),
        )),
        _ => Err(invalid(
            "action",
            "set exactly one action field, not several",
        )),
    }
}

fn field_of(action_type: i64) -> &'static str {
    match action_type {
        action_type::ALERT_STATUS_CHANGE => "alert_status_change",
        action_type::CLOSE_WITH_REASON => "close_with_reason",
        action_type::NOTE => "note",
        action_type::RUN_WORKFLOW => "run_workflow",
        _ => "update_owner",
    }
}

fn apply(
    tx: &rusqlite::Transaction<'_>,
    actor: &Actor,
    request: &PerformInvestigationActionRequest,
) -> Result<PerformInvestigationActionResponse, ResponseError> {
    let uuid = request.alert_uuid.trim();
    if uuid.is_empty() {
        return Err(invalid("alert_uuid", "required"));
    }
    let action = request
        .action
        .as_ref()
        .ok_or_else(|| invalid("action", "required"))?;
    let kind = resolve_type(action)?;
    let before = get_on(tx, uuid)?.ok_or_else(|| not_found(uuid))?;
    if request.alert_update_time != 0 && request.alert_update_time != before.update_time {
        return Err(ResponseError::Conflict(format!(
            "alert {uuid} changed since alert_update_time {} (its update_time is now {}); read it again",
            request.alert_update_time, before.update_time
        )));
    }
    let mut after = before.clone();
    let now = now_ms().max(before.update_time + 1);
    let mut recorded = action.clone();
    recorded.action_type = kind;
    match kind {
        action_type::ALERT_STATUS_CHANGE => {
            let new = action
                .alert_status_change
                .as_ref()
                .map_or(0, |s| s.new_status);
            match new {
                status::OPEN | status::IN_PROGRESS => {}
                status::CLOSED => {
                    return Err(invalid(
                        "action.alert_status_change.new_status",
                        "closing needs a reason: use close_with_reason with an incident_status",
                    ))
                }
                other => {
                    return Err(invalid(
                        "action.alert_status_change.new_status",
                        format!("{other} is not OPEN (1) or IN_PROGRESS (2)"),
                    ))
                }
            }
            if before.status == new {
                return Err(ResponseError::Conflict(format!(
                    "alert {uuid} is already {}",
                    status_name(new)
                )));
            }
            after.status = new;
            after.incident_status = 0;
            after.closed_time = 0;
        }
        action_type::CLOSE_WITH_REASON => {
            let close = action.close_with_reason.clone().unwrap_or_default();
            if close.incident_status == 0 || !INCIDENT_STATUS.contains(close.incident_status) {
                return Err(invalid(
                    "action.close_with_reason.incident_status",
                    format!(
                        "{} is not an incident status; use one of {}",
                        close.incident_status,
                        INCIDENT_STATUS.names()
                    ),
                ));
            }
            if before.status == status::CLOSED {
                return Err(ResponseError::Conflict(format!(
                    "alert {uuid} is already closed ({}); reopen it first",
                    incident_name(before.incident_status)
                )));
            }
            after.status = status::CLOSED;
            after.incident_status = close.incident_status;
            after.closed_time = now;
        }
        action_type::NOTE => {
            let text = action.note.as_ref().map_or("", |n| n.note_text.trim());
            if text.is_empty() {
                return Err(invalid("action.note.note_text", "a note cannot be empty"));
            }
        }
        action_type::RUN_WORKFLOW => {
            let asked = action.run_workflow.clone().unwrap_or_default();
            if asked.workflow_uuid.trim().is_empty() {
                return Err(invalid(
                    "action.run_workflow.workflow_uuid",
                    "required: the workflow to run",
                ));
            }
            let seed = super::workflows::WorkflowRun {
                details: [("alert_uuid".to_owned(), uuid.to_owned())].into(),
                ..Default::default()
            };
            let run = super::workflows::start_run(tx, actor, asked.workflow_uuid.trim(), &seed)
                .map_err(|e| match e {
                    ResponseError::Invalid { reason, .. } => {
                        invalid("action.run_workflow.workflow_uuid", reason)
                    }
                    other => other,
                })?;
            recorded.run_workflow = Some(RunWorkflow {
                workflow_run_uuid: run.uuid.clone(),
                workflow_uuid: run.workflow_uuid.clone(),
                workflow_run: serde_json::to_value(&run).ok(),
            });
        }
        _ => {
            let owner = action.update_owner.clone().unwrap_or_default();
            let owner_uuid = owner.owner_uuid.trim().to_owned();
            let name = if owner_uuid.is_empty() {
                String::new()
            } else {
                match account_name_of(tx, &owner_uuid)? {
                    Some(login) if owner.owner_display_name.trim().is_empty() => login,
                    Some(_) => owner.owner_display_name.trim().to_owned(),
                    None => {
                        return Err(invalid(
                            "action.update_owner.owner_uuid",
                            format!("{owner_uuid} is not the uuid of a local account"),
                        ))
                    }
                }
            };
            after.owner_uuid = owner_uuid;
            after.owner_display_name = name;
            after.assignment_time = now;
            if let Some(u) = recorded.update_owner.as_mut() {
                u.owner_display_name = after.owner_display_name.clone();
            }
        }
    }
    after.update_time = now;
    tx.execute(
        "UPDATE alerts SET status = ?2, incident_status = ?3, owner_uuid = ?4,
             owner_display_name = ?5, assignment_time = ?6, closed_time = ?7, update_time = ?8
         WHERE uuid = ?1",
        params![
            uuid,
            after.status,
            after.incident_status,
            after.owner_uuid,
            after.owner_display_name,
            after.assignment_time,
            after.closed_time,
            after.update_time,
        ],
    )?;
    let item = InvestigationHistoryItem {
        account_and_alert_uuid: format!("{ACCOUNT_NAME}:{uuid}"),
        action: recorded,
        actor_display_name: actor.display_name.clone(),
        actor_uuid: actor.uuid.clone(),
        timestamp: now,
        uuid: uuid::Uuid::now_v7().to_string(),
    };
    tx.execute(
        "INSERT INTO alert_history (uuid, alert_uuid, seq, timestamp, actor_uuid,
             actor_display_name, action)
         VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM alert_history WHERE alert_uuid = ?2),
                 ?3, ?4, ?5, ?6)",
        params![
            item.uuid,
            uuid,
            item.timestamp,
            item.actor_uuid,
            item.actor_display_name,
            serde_json::to_string(&item.action).unwrap_or_default(),
        ],
    )?;
    let (b, a, asked) = (
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&after).ok(),
        serde_json::to_value(request).ok(),
    );
    audit::record(
        tx,
        actor,
        &Change {
            op: "alert.investigate",
            object_type: "alert",
            object_uuid: uuid,
            request: asked.as_ref(),
            before: b.as_ref(),
            after: a.as_ref(),
        },
    )?;
    Ok(PerformInvestigationActionResponse {
        alert_update_time: now,
        alert_uuid: uuid.to_owned(),
        history_item: item,
    })
}

/// The login of the local account whose uuid is `uuid` (accounts are keyed by login; their
/// uuid is derived from it).
fn account_name_of(tx: &rusqlite::Connection, uuid: &str) -> rusqlite::Result<Option<String>> {
    let mut stmt = tx.prepare_cached("SELECT name FROM accounts")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    for name in names {
        let name = name?;
        if audit::account_uuid(&name) == uuid {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// The investigation history of an alert, oldest first.
pub fn history(
    store: &Store,
    alert_uuid: &str,
) -> Result<Vec<InvestigationHistoryItem>, ResponseError> {
    store.read(|c| {
        if alerts::get_on(c, alert_uuid)?.is_none() {
            return Err(not_found(alert_uuid));
        }
        let mut stmt = c.prepare_cached(
            "SELECT uuid, timestamp, actor_uuid, actor_display_name, action FROM alert_history
             WHERE alert_uuid = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([alert_uuid], |r| {
            let action: String = r.get(4)?;
            Ok(InvestigationHistoryItem {
                account_and_alert_uuid: format!("{ACCOUNT_NAME}:{alert_uuid}"),
                uuid: r.get(0)?,
                timestamp: r.get(1)?,
                actor_uuid: r.get(2)?,
                actor_display_name: r.get(3)?,
                action: serde_json::from_str(&action).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// Appends a note by the engine (a policy's action) to an alert's history, inside the caller's
/// transaction.
pub(crate) fn record_engine_note(
    tx: &rusqlite::Connection,
    engine: &Actor,
    alert_uuid: &str,
    text: &str,
) -> rusqlite::Result<()> {
    let action = InvestigationAction {
        action_type: action_type::NOTE,
        note: Some(InvestigationNote {
            card_id: String::new(),
            note_text: text.to_owned(),
        }),
        ..InvestigationAction::default()
    };
    tx.execute(
        "INSERT INTO alert_history (uuid, alert_uuid, seq, timestamp, actor_uuid,
             actor_display_name, action)
         VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM alert_history WHERE alert_uuid = ?2),
                 ?3, ?4, ?5, ?6)",
        params![
            uuid::Uuid::now_v7().to_string(),
            alert_uuid,
            now_ms(),
            engine.uuid,
            engine.display_name,
            serde_json::to_string(&action).unwrap_or_default(),
        ],
    )?;
    Ok(())
}
