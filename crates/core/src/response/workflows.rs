//! Workflows and workflow runs (the Lacework Edge models): a run asks its recipients a question
//! about an alert (approve / deny / unsure) and, when approved within its TTL, carries out its
//! actions; denied, unsure or expired, it drops them.
//!
//! Runs are started by a RUN_WORKFLOW policy on a new alert, by the run-workflow investigation
//! action, or directly (`POST /api/v1/workflow_runs`). An answer picks one of the workflow's
//! `answers` by index. Its outcome comes from its text: Approve/Approved/Yes → SUCCESS,
//! Deny/Denied/No/Reject → FAILURE, Unsure → UNSURE; any other text is SUCCESS when the answer
//! carries actions, else UNSURE. A SUCCESS carries out the answer's actions, or the workflow's
//! own when the answer has none. A PENDING run past its approval TTL ends FAILURE
//! ("expired") the next time runs are read or answered.

use std::collections::BTreeMap;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::audit::{self, Actor, Change};
use super::enums::{ENUM_STATUS, WORKFLOW_RUN_STATUS};
use super::{now_ms, stored, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// Default approval TTL (the vendor: "If 0 is passed in, we use a default of 1 day").
pub const DEFAULT_APPROVAL_TTL_SEC: i64 = 86_400;
/// Default execution TTL (the vendor: "a default of 10 min").
pub const DEFAULT_EXECUTION_TTL_SEC: i64 = 600;

/// Run status values (enums::WORKFLOW_RUN_STATUS).
pub mod run_status {
    /// Created, not yet waiting.
    pub const CREATED: i64 = 1;
    /// Waiting for an answer.
    pub const PENDING: i64 = 2;
    /// Approved; the actions were carried out.
    pub const SUCCESS: i64 = 3;
    /// Denied or expired; the actions were dropped.
    pub const FAILURE: i64 = 4;
    /// Answered unsure; the actions were dropped.
    pub const UNSURE: i64 = 5;
}

/// What a workflow action does (`proto.WorkflowAction.run`; enums::WORKFLOW_ACTION_RUN).
pub mod action_run {
    /// Note the outcome on the alert.
    pub const NOTIFY: i64 = 0;
    /// Mark the alert's connection blocked.
    pub const BLOCK_CONNECTION: i64 = 1;
    /// Ask the target host's sensor to isolate it.
    pub const ISOLATE_DEVICE: i64 = 2;
    /// Close the alert as a true positive.
    pub const CLOSE_ALERT: i64 = 3;
}

/// `proto.WorkflowAction`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct WorkflowAction {
    /// What it acts on (WorkflowActionObject; informational).
    pub on_object: i64,
    /// What it does (WorkflowActionRun).
    pub run: i64,
    /// Free text (e.g. a host name); the alert's own entities are used.
    pub target: String,
}

/// `proto.AnswerActions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct AnswerActions {
    /// What this answer carries out.
    pub actions: Vec<WorkflowAction>,
    /// The answer's text.
    pub answer: String,
}

/// A workflow: the seed's `Workflow` fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct Workflow {
    /// This workbench.
    pub account_name: String,
    /// Carried out on approval when the answer has no actions of its own.
    pub actions: Vec<WorkflowAction>,
    /// The answers offered (default Approve, Deny, Unsure).
    pub answers: Vec<AnswerActions>,
    /// Seconds a run waits for an answer (0: one day; -1: no limit).
    pub approval_ttl_sec: i64,
    /// Stored as given.
    pub approver_text_template: String,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Who created it.
    pub creator_display_name: String,
    /// Their uuid.
    pub creator_uuid: String,
    /// The answer index a bare token answers with.
    pub default_answer_index: String,
    /// What it is for.
    pub description: String,
    /// Seconds within which an approved run must be carried out (0: ten minutes; -1: none).
    pub execution_ttl_sec: i64,
    /// Whether an answer needs a justification.
    pub justification_required: bool,
    /// Its name (not empty).
    pub name: String,
    /// Stored as given.
    pub recipient_display_names: BTreeMap<String, String>,
    /// Who may answer: `user:LOGIN` or `role:ROLE` (empty: anyone who may investigate).
    pub recipients: Vec<String>,
    /// Stored as given.
    pub requestor_justification_required: bool,
    /// Stored as given.
    pub requestor_text_template: String,
    /// EnumStatus (ACTIVE unless given).
    pub status: i64,
    /// Deprecated by the vendor; stored as given.
    pub text_template: String,
    /// Shown to the recipients.
    pub title: String,
    /// Stored as given.
    pub token_required: bool,
    /// Last change (epoch ms).
    #[ts(type = "number")]
    pub update_time: i64,
    /// Who changed it last.
    pub updater_display_name: String,
    /// Their uuid.
    pub updater_uuid: String,
    /// Its uuid.
    pub uuid: String,
}

/// A workflow run: the seed's `WorkflowRun` fields (nested device and location details are kept
/// as given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct WorkflowRun {
    /// This workbench.
    pub account_name: String,
    /// The workflow's actions.
    pub actions: Vec<WorkflowAction>,
    /// The index of the answer given ("" while unanswered).
    pub answer_index: String,
    /// The answers offered.
    pub answers: Vec<AnswerActions>,
    /// The target host.
    pub app_host: String,
    /// Stored as given.
    pub app_port: i64,
    /// The connection type.
    pub app_protocol: String,
    /// Stored as given.
    pub app_url: String,
    /// Stored as given.
    pub app_uuid: String,
    /// Seconds it waits for an answer (-1: no limit).
    pub approval_ttl_sec: i64,
    /// Who answered.
    pub approver_display_name: String,
    /// Their justification.
    pub approver_justification: String,
    /// Stored as given.
    pub approver_text: String,
    /// Their uuid.
    pub approver_uuid: String,
    /// Whether it still takes an answer.
    pub can_user_approve: bool,
    /// Kept as given (an object; empty when not given).
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub client_geoip_location: serde_json::Map<String, serde_json::Value>,
    /// The source address.
    pub client_ip: String,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Facts about what triggered it; `alert_uuid` links it to an alert.
    pub details: BTreeMap<String, String>,
    /// Kept as given (a list; empty when not given).
    #[ts(type = "Array<unknown>")]
    #[schema(value_type = Vec<Object>)]
    pub device_details: Vec<serde_json::Value>,
    /// Stored as given.
    pub device_uuid: String,
    /// Seconds an approved run has to be carried out.
    pub execution_ttl_sec: i64,
    /// When it stops taking answers (epoch seconds; 0: never).
    pub expire_time_sec: i64,
    /// Kept as given (a list; empty when not given).
    #[ts(type = "Array<unknown>")]
    #[schema(value_type = Vec<Object>)]
    pub geoip_details: Vec<serde_json::Value>,
    /// The requester's justification.
    pub justification: String,
    /// Whether an answer needs a justification.
    pub justification_required: bool,
    /// Kept as given (an object; empty when not given).
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub mfa_details: serde_json::Map<String, serde_json::Value>,
    /// The run that started this one.
    pub parent_uuid: String,
    /// The policy that started it.
    pub policy_uuid: String,
    /// Who may answer.
    pub recipients: Vec<String>,
    /// Stored as given.
    pub requestor_justification: String,
    /// Stored as given.
    pub requestor_justification_required: bool,
    /// Stored as given.
    pub requestor_text: String,
    /// The connection it is about.
    pub session_uuid: String,
    /// WorkflowRunStatus.
    pub status: i64,
    /// Stored as given.
    pub tags: Vec<String>,
    /// What it asks, in words.
    pub text: String,
    /// Stored as given.
    pub token: i64,
    /// Stored as given.
    pub token_required: bool,
    /// The first run of a chain.
    pub top_uuid: String,
    /// Last change (epoch ms).
    #[ts(type = "number")]
    pub update_time: i64,
    /// The connection's user.
    pub user_display_name: String,
    /// Their uuid.
    pub user_uuid: String,
    /// Its uuid.
    pub uuid: String,
    /// Stored as given.
    pub webapp: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The workflow.
    pub workflow_uuid: String,
}

/// "Create workflow run" body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct CreateRunRequest {
    /// Ignored (this workbench is the account).
    pub account_name: String,
    /// Runs always wait for an answer; accepted for compatibility.
    pub execute_now: bool,
    /// The run that started this one.
    pub parent_workflow_run_uuid: String,
    /// What triggered it: `workflow_uuid` is required; `details.alert_uuid` links an alert.
    pub workflow_run: WorkflowRun,
}

/// "Answer the Workflow Run" body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct AnswerRequest {
    /// Ignored.
    pub account_name: String,
    /// The index of the chosen answer (default: the workflow's default answer).
    pub answer_index: String,
    /// Why (required when the workflow says so).
    pub justification: String,
    /// Not used by this workbench.
    pub mfa_passcode: String,
    /// Not used by this workbench.
    pub token: i64,
    /// Ignored: the path names the run.
    pub uuid: String,
}

/// Filters of [`query_runs`] (the seed's query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RunFilter {
    /// WorkflowRunStatus names or values, comma separated.
    pub status: Option<String>,
    /// Runs of this workflow.
    pub workflow_uuid: Option<String>,
    /// Runs about this user.
    pub user_uuid: Option<String>,
    /// Runs about this protocol.
    pub app_protocol: Option<String>,
    /// Runs about this host.
    pub app_host: Option<String>,
    /// Runs with this port.
    pub app_port: Option<String>,
    /// Runs with this app uuid.
    pub app_uuid: Option<String>,
}

fn invalid(field: &str, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn default_answers() -> Vec<AnswerActions> {
    ["Approve", "Deny", "Unsure"]
        .into_iter()
        .map(|a| AnswerActions {
            actions: vec![],
            answer: a.into(),
        })
        .collect()
}

/// The outcome (run status) of an answer.
pub fn outcome_of(answer: &AnswerActions) -> i64 {
    let text = answer.answer.trim().to_ascii_lowercase();
    match text.as_str() {
        "approve" | "approved" | "yes" | "allow" => run_status::SUCCESS,
        "deny" | "denied" | "no" | "reject" | "rejected" => run_status::FAILURE,
        "unsure" => run_status::UNSURE,
        _ if !answer.actions.is_empty() => run_status::SUCCESS,
        _ => run_status::UNSURE,
    }
}

fn validate_workflow(w: &Workflow) -> Result<(), ResponseError> {
    if w.name.trim().is_empty() {
        return Err(invalid("name", "a workflow needs a name"));
    }
    if !ENUM_STATUS.contains(w.status) {
        return Err(invalid(
            "status",
            format!("{} is not a status; use {}", w.status, ENUM_STATUS.names()),
        ));
    }
    for (field, ttl) in [
        ("approval_ttl_sec", w.approval_ttl_sec),
        ("execution_ttl_sec", w.execution_ttl_sec),
    ] {
        if ttl < -1 {
            return Err(invalid(
                field,
                format!("{ttl} is not a number of seconds (or -1: no limit)"),
            ));
        }
    }
    let check_actions = |field: String, actions: &[WorkflowAction]| {
        for (i, a) in actions.iter().enumerate() {
            if !(action_run::NOTIFY..=action_run::CLOSE_ALERT).contains(&a.run) {
                return Err(invalid(
                    &format!("{field}[{i}].run"),
                    format!("{} is not a workflow action: use 0 NOTIFY, 1 BLOCK_CONNECTION, 2 ISOLATE_DEVICE, 3 CLOSE_ALERT", a.run),
                ));
            }
        }
        Ok(())
    };
    check_actions("actions".into(), &w.actions)?;
    for (i, a) in w.answers.iter().enumerate() {
        if a.answer.trim().is_empty() {
            return Err(invalid(
                &format!("answers[{i}].answer"),
                "an answer needs a text",
            ));
        }
        check_actions(format!("answers[{i}].actions"), &a.actions)?;
    }
    if !w.default_answer_index.is_empty() {
        answer_at(w, &w.default_answer_index, "default_answer_index")?;
    }
    for (i, r) in w.recipients.iter().enumerate() {
        let ok = r
            .split_once(':')
            .is_some_and(|(k, v)| matches!(k, "user" | "role") && !v.is_empty());
        if !ok {
            return Err(invalid(
                &format!("recipients[{i}]"),
                format!("{r:?} is not user:LOGIN or role:ROLE"),
            ));
        }
    }
    Ok(())
}

fn answer_at<'a>(
    w: &'a Workflow,
    index: &str,
    field: &str,
) -> Result<&'a AnswerActions, ResponseError> {
    index
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|i| w.answers.get(i))
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "{index:?} is not an answer index: use 0 to {} ({})",
                    w.answers.len().saturating_sub(1),
                    w.answers
                        .iter()
                        .map(|a| a.answer.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

fn read_workflow(c: &rusqlite::Connection, uuid: &str) -> Result<Option<Workflow>, ResponseError> {
    stored::one(c, "SELECT body FROM workflows WHERE uuid = ?1", uuid)
}

fn read_run(c: &rusqlite::Connection, uuid: &str) -> Result<Option<WorkflowRun>, ResponseError> {
    stored::one(c, "SELECT body FROM workflow_runs WHERE uuid = ?1", uuid)
}

fn store_workflow(c: &rusqlite::Connection, w: &Workflow) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO workflows (uuid, body, create_time) VALUES (?1, ?2, ?3)
         ON CONFLICT (uuid) DO UPDATE SET body = excluded.body",
        params![
            w.uuid,
            serde_json::to_string(w).unwrap_or_default(),
            w.create_time
        ],
    )?;
    Ok(())
}

fn store_run(c: &rusqlite::Connection, r: &WorkflowRun) -> rusqlite::Result<()> {
    let expires_ms = if r.expire_time_sec > 0 {
        r.expire_time_sec * 1000
    } else {
        i64::MAX
    };
    c.execute(
        "INSERT INTO workflow_runs (uuid, body, status, workflow_uuid, user_uuid, app_protocol,
             app_host, app_port, app_uuid, alert_uuid, expires_ms, create_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (uuid) DO UPDATE SET body = excluded.body, status = excluded.status",
        params![
            r.uuid,
            serde_json::to_string(r).unwrap_or_default(),
            r.status,
            r.workflow_uuid,
            r.user_uuid,
            r.app_protocol,
            r.app_host,
            r.app_port.to_string(),
            r.app_uuid,
            r.details.get("alert_uuid"),
            expires_ms,
            r.create_time,
        ],
    )?;
    Ok(())
}

fn workflow_not_found(uuid: &str) -> ResponseError {
    ResponseError::NotFound {
        kind: "workflow",
        id: uuid.to_owned(),
    }
}

fn run_not_found(uuid: &str) -> ResponseError {
    ResponseError::NotFound {
        kind: "workflow run",
        id: uuid.to_owned(),
    }
}

/// Whether a workflow with this uuid exists (policies check it).
pub(crate) fn exists(c: &rusqlite::Connection, uuid: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM workflows WHERE uuid = ?1")?
        .exists([uuid])
}

/// The uuid of the one workflow named `name`: "Create a Policy" may name its workflow instead of
/// giving its uuid, and is refused when no workflow or several carry that name.
pub(crate) fn uuid_named(c: &rusqlite::Connection, name: &str) -> Result<String, ResponseError> {
    let uuids: Vec<String> = c
        .prepare_cached(
            "SELECT uuid FROM workflows WHERE json_extract(body, '$.name') = ?1 ORDER BY uuid",
        )?
        .query_map([name], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match uuids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ResponseError::Invalid {
            field: "workflow_name".into(),
            reason: format!("no workflow is named {name:?}"),
        }),
        many => Err(ResponseError::Invalid {
            field: "workflow_name".into(),
            reason: format!(
                "{} workflows are named {name:?}; give workflow_uuid instead",
                many.len()
            ),
        }),
    }
}

/// Creates a workflow.
pub fn create(store: &Store, actor: &Actor, input: &Workflow) -> Result<Workflow, ResponseError> {
    let mut w = input.clone();
    let now = now_ms();
    w.account_name = ACCOUNT_NAME.into();
    w.uuid = uuid::Uuid::new_v4().to_string();
    w.create_time = now;
    w.update_time = now;
    w.creator_uuid = actor.uuid.clone();
    w.creator_display_name = actor.display_name.clone();
    w.updater_uuid = actor.uuid.clone();
    w.updater_display_name = actor.display_name.clone();
    if w.status == 0 {
        w.status = 2;
    }
    if w.answers.is_empty() {
        w.answers = default_answers();
    }
    if w.approval_ttl_sec == 0 {
        w.approval_ttl_sec = DEFAULT_APPROVAL_TTL_SEC;
    }
    if w.execution_ttl_sec == 0 {
        w.execution_ttl_sec = DEFAULT_EXECUTION_TTL_SEC;
    }
    validate_workflow(&w)?;
    store.write(|c| {
        let tx = c.transaction()?;
        store_workflow(&tx, &w)?;
        let (after, asked) = (
            serde_json::to_value(&w).ok(),
            serde_json::to_value(input).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: "workflow.create",
                object_type: "workflow",
                object_uuid: &w.uuid,
                request: asked.as_ref(),
                before: None,
                after: after.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(w)
    })
}

/// Changes the fields `fields` sets (a partial Workflow).
pub fn update(
    store: &Store,
    actor: &Actor,
    uuid: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<Workflow, ResponseError> {
    const KEPT: &[&str] = &[
        "account_name",
        "create_time",
        "creator_display_name",
        "creator_uuid",
        "update_time",
        "updater_display_name",
        "updater_uuid",
        "uuid",
    ];
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read_workflow(&tx, uuid)?.ok_or_else(|| workflow_not_found(uuid))?;
        let mut after: Workflow = stored::merged(&before, fields, &[], KEPT, "workflow")?;
        after.update_time = now_ms().max(before.update_time + 1);
        after.updater_uuid = actor.uuid.clone();
        after.updater_display_name = actor.display_name.clone();
        validate_workflow(&after)?;
        store_workflow(&tx, &after)?;
        let (b, a, asked) = (
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&after).ok(),
            serde_json::to_value(fields).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: "workflow.update",
                object_type: "workflow",
                object_uuid: uuid,
                request: asked.as_ref(),
                before: b.as_ref(),
                after: a.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(after)
    })
}

/// One workflow.
pub fn get(store: &Store, uuid: &str) -> Result<Workflow, ResponseError> {
    store
        .read(|c| read_workflow(c, uuid))?
        .ok_or_else(|| workflow_not_found(uuid))
}

/// Every workflow, oldest first.
pub fn list(store: &Store) -> Result<Vec<Workflow>, ResponseError> {
    store.read(|c| {
        stored::all(
            c,
            "SELECT body FROM workflows ORDER BY create_time, uuid",
            [],
        )
    })
}

/// Starts a run of `workflow_uuid` inside the caller's transaction, filled in from `seed` (and
/// from the alert named by `seed.details["alert_uuid"]`, if any).
pub(crate) fn start_run(
    tx: &rusqlite::Connection,
    actor: &Actor,
    workflow_uuid: &str,
    seed: &WorkflowRun,
) -> Result<WorkflowRun, ResponseError> {
    let w = read_workflow(tx, workflow_uuid)?.ok_or_else(|| {
        invalid(
            "workflow_uuid",
            format!("no workflow {workflow_uuid:?} exists"),
        )
    })?;
    if w.status != 2 {
        return Err(ResponseError::Conflict(format!(
            "workflow {workflow_uuid} is {}, not ACTIVE",
            ENUM_STATUS.name_of(w.status).unwrap_or("UNKNOWN")
        )));
    }
    let now = now_ms();
    let mut run = seed.clone();
    run.account_name = ACCOUNT_NAME.into();
    run.uuid = uuid::Uuid::now_v7().to_string();
    run.workflow_uuid = w.uuid.clone();
    run.workflow_name = w.name.clone();
    run.actions = w.actions.clone();
    run.answers = w.answers.clone();
    run.answer_index = String::new();
    run.approval_ttl_sec = w.approval_ttl_sec;
    run.execution_ttl_sec = w.execution_ttl_sec;
    run.justification_required = w.justification_required;
    run.requestor_justification_required = w.requestor_justification_required;
    run.token_required = w.token_required;
    run.recipients = w.recipients.clone();
    run.status = run_status::PENDING;
    run.can_user_approve = true;
    run.create_time = now;
    run.update_time = now;
    run.expire_time_sec = if w.approval_ttl_sec < 0 {
        0
    } else {
        now / 1000 + w.approval_ttl_sec
    };
    run.approver_uuid.clear();
    run.approver_display_name.clear();
    run.approver_justification.clear();
    if run.top_uuid.is_empty() {
        run.top_uuid = if run.parent_uuid.is_empty() {
            run.uuid.clone()
        } else {
            run.parent_uuid.clone()
        };
    }
    if let Some(alert_uuid) = run.details.get("alert_uuid").cloned() {
        let alert = super::alerts::get_on(tx, &alert_uuid)?.ok_or_else(|| {
            invalid(
                "workflow_run.details.alert_uuid",
                format!("no alert {alert_uuid:?} exists"),
            )
        })?;
        let entity = |v: &Vec<String>| v.first().cloned().unwrap_or_default();
        run.user_display_name = entity(&alert.related_entities.users);
        run.user_uuid = audit::account_uuid(&run.user_display_name);
        run.app_host = entity(&alert.related_entities.devices);
        run.client_ip = entity(&alert.related_entities.sources);
        run.session_uuid = alert.connection_id.clone().unwrap_or_default();
        if run.text.is_empty() {
            let heading = if w.title.trim().is_empty() {
                &w.name
            } else {
                &w.title
            };
            run.text = format!("{heading}: {}", alert.description);
        }
    }
    store_run(tx, &run)?;
    let after = serde_json::to_value(&run).ok();
    audit::record(
        tx,
        actor,
        &Change {
            op: "workflow_run.create",
            object_type: "workflow_run",
            object_uuid: &run.uuid,
            request: None,
            before: None,
            after: after.as_ref(),
        },
    )?;
    Ok(run)
}

/// Starts a run directly ("Create workflow run").
pub fn create_run(
    store: &Store,
    actor: &Actor,
    request: &CreateRunRequest,
) -> Result<WorkflowRun, ResponseError> {
    let workflow_uuid = request.workflow_run.workflow_uuid.trim().to_owned();
    if workflow_uuid.is_empty() {
        return Err(invalid(
            "workflow_run.workflow_uuid",
            "required: the workflow to run",
        ));
    }
    let mut seed = request.workflow_run.clone();
    if !request.parent_workflow_run_uuid.is_empty() {
        seed.parent_uuid = request.parent_workflow_run_uuid.clone();
    }
    store.write(|c| {
        let tx = c.transaction()?;
        if !seed.parent_uuid.is_empty() && read_run(&tx, &seed.parent_uuid)?.is_none() {
            return Err(invalid(
                "parent_workflow_run_uuid",
                format!("no workflow run {:?} exists", seed.parent_uuid),
            ));
        }
        let run = start_run(&tx, actor, &workflow_uuid, &seed)?;
        tx.commit()?;
        Ok(run)
    })
}

/// Ends every PENDING run whose approval TTL ran out: FAILURE, actions dropped.
fn expire_due(tx: &rusqlite::Connection) -> Result<usize, ResponseError> {
    let now = now_ms();
    let due: Vec<String> = tx
        .prepare_cached("SELECT uuid FROM workflow_runs WHERE status = ?1 AND expires_ms <= ?2")?
        .query_map(params![run_status::PENDING, now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let engine = Actor::engine();
    for uuid in &due {
        if let Some(mut run) = read_run(tx, uuid)? {
            let before = serde_json::to_value(&run).ok();
            run.status = run_status::FAILURE;
            run.can_user_approve = false;
            run.approver_justification = "expired: no answer within the approval TTL".into();
            run.update_time = now.max(run.update_time + 1);
            store_run(tx, &run)?;
            let after = serde_json::to_value(&run).ok();
            audit::record(
                tx,
                &engine,
                &Change {
                    op: "workflow_run.expire",
                    object_type: "workflow_run",
                    object_uuid: uuid,
                    request: None,
                    before: before.as_ref(),
                    after: after.as_ref(),
                },
            )?;
            if let Some(alert) = run.details.get("alert_uuid") {
                super::investigation::record_engine_note(
                    tx,
                    &engine,
                    alert,
                    &format!(
                        "workflow \"{}\" expired without an answer; its actions were dropped",
                        run.workflow_name
                    ),
                )?;
            }
        }
    }
    Ok(due.len())
}

/// Ends the runs whose TTL ran out (the listener and the desktop call this before reading).
pub fn expire(store: &Store) -> Result<usize, ResponseError> {
    // Reads call this: take the write lock only when a run is actually due.
    let due = store.read(|c| {
        c.prepare_cached(
            "SELECT 1 FROM workflow_runs WHERE status = ?1 AND expires_ms <= ?2 LIMIT 1",
        )?
        .exists(params![run_status::PENDING, now_ms()])
        .map_err(ResponseError::from)
    })?;
    if !due {
        return Ok(0);
    }
    store.write(|c| {
        let tx = c.transaction()?;
        let n = expire_due(&tx)?;
        tx.commit()?;
        Ok(n)
    })
}

/// One run (after ending the expired ones).
pub fn get_run(store: &Store, uuid: &str) -> Result<WorkflowRun, ResponseError> {
    expire(store)?;
    store
        .read(|c| read_run(c, uuid))?
        .ok_or_else(|| run_not_found(uuid))
}

/// Runs matching `filter`, newest first (after ending the expired ones).
pub fn query_runs(store: &Store, filter: &RunFilter) -> Result<Vec<WorkflowRun>, ResponseError> {
    let statuses: Vec<i64> = match filter
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Vec::new(),
        Some(text) => text
            .split(',')
            .map(|s| {
                WORKFLOW_RUN_STATUS
                    .parse(s)
                    .filter(|v| *v != 0)
                    .ok_or_else(|| {
                        invalid(
                            "status",
                            format!(
                                "unknown workflow run status {:?}; use {}",
                                s.trim(),
                                WORKFLOW_RUN_STATUS.names()
                            ),
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    expire(store)?;
    let statuses = serde_json::to_string(&statuses).unwrap_or_else(|_| "[]".into());
    store.read(|c| {
        stored::all(
            c,
            "SELECT body FROM workflow_runs
             WHERE (?1 = '[]' OR status IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR workflow_uuid = ?2) AND (?3 IS NULL OR user_uuid = ?3)
               AND (?4 IS NULL OR app_protocol = ?4) AND (?5 IS NULL OR app_host = ?5)
               AND (?6 IS NULL OR app_port = ?6) AND (?7 IS NULL OR app_uuid = ?7)
             ORDER BY create_time DESC, uuid DESC",
            params![
                statuses,
                filter.workflow_uuid,
                filter.user_uuid,
                filter.app_protocol,
                filter.app_host,
                filter.app_port,
                filter.app_uuid
            ],
        )
    })
}

/// Whether `actor` is one of the run's recipients (none listed: anyone who may investigate).
fn may_answer(run: &WorkflowRun, actor: &Actor, role_scope: &str) -> bool {
    run.recipients.is_empty()
        || run.recipients.iter().any(|r| match r.split_once(':') {
            Some(("user", login)) => login == actor.login,
            Some(("role", role)) => role == role_scope,
            _ => false,
        })
}

/// Answers a PENDING run: its outcome follows the answer; SUCCESS carries out the actions.
/// `role_scope` is the answering actor's role name (for `role:` recipients).
pub fn answer(
    store: &Store,
    actor: &Actor,
    role_scope: &str,
    uuid: &str,
    request: &AnswerRequest,
) -> Result<WorkflowRun, ResponseError> {
    store.write(|c| {
        let tx = c.transaction()?;
        expire_due(&tx)?;
        let before = read_run(&tx, uuid)?.ok_or_else(|| run_not_found(uuid))?;
        if before.status != run_status::PENDING {
            return Err(ResponseError::Conflict(format!(
                "workflow run {uuid} is {} and takes no more answers",
                WORKFLOW_RUN_STATUS
                    .name_of(before.status)
                    .unwrap_or("UNKNOWN")
            )));
        }
        if !may_answer(&before, actor, role_scope) {
            return Err(ResponseError::Conflict(format!(
                "{} is not among the recipients of workflow run {uuid} ({})",
                actor.login,
                before.recipients.join(", ")
            )));
        }
        let workflow = Workflow {
            answers: before.answers.clone(),
            ..Workflow::default()
        };
        let index = if request.answer_index.trim().is_empty() {
            read_workflow(&tx, &before.workflow_uuid)?
                .map(|w| w.default_answer_index)
                .filter(|i| !i.is_empty())
                .ok_or_else(|| {
                    invalid("answer_index", "required: the index of the chosen answer")
                })?
        } else {
            request.answer_index.trim().to_owned()
        };
        let chosen = answer_at(&workflow, &index, "answer_index")?.clone();
        if before.justification_required && request.justification.trim().is_empty() {
            return Err(invalid(
                "justification",
                "this workflow needs a justification with the answer",
            ));
        }
        let mut run = before.clone();
        run.answer_index = index;
        run.status = outcome_of(&chosen);
        run.can_user_approve = false;
        run.approver_uuid = actor.uuid.clone();
        run.approver_display_name = actor.display_name.clone();
        run.approver_justification = request.justification.trim().to_owned();
        run.update_time = now_ms().max(before.update_time + 1);
        let mut done = Vec::new();
        if run.status == run_status::SUCCESS {
            let actions = if chosen.actions.is_empty() {
                &run.actions
            } else {
                &chosen.actions
            };
            if let Some(alert) = run.details.get("alert_uuid") {
                for a in actions {
                    done.push(carry_out(&tx, alert, &run, a)?);
                }
            }
        }
        store_run(&tx, &run)?;
        let (b, a, asked) = (
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&run).ok(),
            serde_json::to_value(request).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: "workflow_run.answer",
                object_type: "workflow_run",
                object_uuid: uuid,
                request: asked.as_ref(),
                before: b.as_ref(),
                after: a.as_ref(),
            },
        )?;
        if let Some(alert) = run.details.get("alert_uuid") {
            let status = WORKFLOW_RUN_STATUS.name_of(run.status).unwrap_or("UNKNOWN");
            let mut note = format!(
                "workflow \"{}\" answered \"{}\" by {}: {status}",
                run.workflow_name, chosen.answer, actor.display_name
            );
            if run.status == run_status::SUCCESS {
                if done.is_empty() {
                    note.push_str("; nothing to carry out");
                } else {
                    note.push_str("; ");
                    note.push_str(&done.join("; "));
                }
            } else {
                note.push_str("; its actions were dropped");
            }
            super::investigation::record_engine_note(&tx, actor, alert, &note)?;
        }
        tx.commit()?;
        Ok(run)
    })
}

/// Carries out one approved action on the run's alert; says what was done.
fn carry_out(
    tx: &rusqlite::Connection,
    alert_uuid: &str,
    run: &WorkflowRun,
    action: &WorkflowAction,
) -> Result<String, ResponseError> {
    let now = now_ms();
    Ok(match action.run {
        action_run::BLOCK_CONNECTION => {
            tx.execute(
                "UPDATE anomalies SET blocked = 1 WHERE connection_id = ?1",
                [&run.session_uuid],
            )?;
            format!("connection {} marked blocked", run.session_uuid)
        }
        action_run::ISOLATE_DEVICE => super::sensors::actions::respond_isolate(
            tx,
            &Actor::engine(),
            alert_uuid,
            &run.policy_uuid,
            &run.app_host,
        )?,
        action_run::CLOSE_ALERT => {
            tx.execute(
                "UPDATE alerts SET status = 3, incident_status = 2, closed_time = ?2,
                     update_time = max(update_time + 1, ?2)
                 WHERE uuid = ?1 AND status != 3",
                params![alert_uuid, now],
            )?;
            "alert closed as a true positive".to_owned()
        }
        _ => "notified".to_owned(),
    })
}
