//! Response policies (the Lacework Edge `Policy` model): which alerts a policy applies to
//! (`session_filter` and `app_filter`, both in the term language of [`super::filter`]) and what
//! happens then (`action`).
//!
//! Every new alert is evaluated against the ACTIVE policies of type RESPONSE (or unset), in the
//! transaction that raises it. When several match, the smallest `priority` wins, then the oldest.
//! The winner's action is taken and recorded on the alert (`policy_action_taken`,
//! `policy_uuid`) and in its investigation history:
//! - ALLOW: expected activity, so the alert is closed at once as EXPECTED_ACTIVITY;
//! - BLOCK: the anomaly's connection is marked blocked and the target host's sensor isolated;
//! - ISOLATE_DEVICE: the target host's sensor is isolated (an Isolate sensor action, linked to
//!   the alert; see [`super::sensors::actions`]);
//! - RUN_WORKFLOW (and RUN_APP_SPECIFIC_WORKFLOW): a run of the policy's workflow starts and
//!   waits for an answer (see [`super::workflows`]);
//! - every other action: alert only.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::audit::{self, Actor, Change};
use super::enums::{ENUM_STATUS, POLICY_ACTION, POLICY_TYPE};
use super::filter::{self, CompiledFilter, Filter, ListLookup, Subject};
use super::lists::Lists;
use super::{now_ms, stored, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// Policy actions this module acts on (enums::POLICY_ACTION).
pub mod action {
    /// Expected activity: close the alert.
    pub const ALLOW: i64 = 1;
    /// Mark the connection blocked.
    pub const BLOCK: i64 = 2;
    /// Ask the target host's sensor to isolate it.
    pub const ISOLATE_DEVICE: i64 = 4;
    /// Start the policy's workflow.
    pub const RUN_WORKFLOW: i64 = 101;
    /// As RUN_WORKFLOW.
    pub const RUN_APP_SPECIFIC_WORKFLOW: i64 = 102;
}

/// `proto.PolicyMitmSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PolicyMitmSettings {
    /// Stored as given.
    #[serde(default)]
    pub fail_close: bool,
}

/// A policy: the seed's `Policy` fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct Policy {
    /// This workbench.
    pub account_name: String,
    /// What happens when it matches (PolicyAction).
    pub action: i64,
    /// Stored as given.
    pub allow_guest_access: bool,
    /// Second filter; the policy applies only if both filters match.
    pub app_filter: Filter,
    /// Stored as given.
    pub constraints: BTreeMap<String, String>,
    /// Created (epoch ms).
    #[ts(type = "number")]
    pub create_time: i64,
    /// Who created it.
    pub creator_display_name: String,
    /// Their uuid.
    pub creator_uuid: String,
    /// DataSource (0: LOCAL).
    pub data_source: i64,
    /// What it is for.
    pub description: String,
    /// Stored as given.
    pub filter_selector_display_names: BTreeMap<String, String>,
    /// Empty for local policies.
    pub integration_id: String,
    /// Stored as given.
    pub metadata: String,
    /// Stored as given.
    pub mitm_settings: PolicyMitmSettings,
    /// Its name (not empty).
    pub name: String,
    /// Stored as given.
    pub parent_app_control_policy_uuid: String,
    /// Stored as given.
    pub policy_event_type: i64,
    /// Breaks ties: the smaller wins.
    pub priority: i64,
    /// Which alerts it applies to.
    pub session_filter: Filter,
    /// EnumStatus: only ACTIVE policies are evaluated.
    pub status: i64,
    /// PolicyType: RESPONSE (or unset) policies are evaluated against alerts.
    #[serde(rename = "type")]
    pub policy_type: i64,
    /// Last change (epoch ms).
    #[ts(type = "number")]
    pub update_time: i64,
    /// Who changed it last.
    pub updater_display_name: String,
    /// Their uuid.
    pub updater_uuid: String,
    /// Its uuid.
    pub uuid: String,
    /// The workflow RUN_WORKFLOW starts.
    pub workflow_uuid: String,
    /// Only in a request: the workflow's name, when `workflow_uuid` is not given. It is resolved
    /// to the uuid of the one workflow of that name and never stored or answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub workflow_name: Option<String>,
}

/// Fields a caller may not set: the workbench keeps them.
const KEPT_FIELDS: &[&str] = &[
    "account_name",
    "create_time",
    "creator_display_name",
    "creator_uuid",
    "update_time",
    "updater_display_name",
    "updater_uuid",
    "uuid",
];

/// The seed's "Update a policy" body: only the fields to change are set in `policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct PolicyUpdate {
    /// Ignored (this workbench is the account).
    pub account_name: String,
    /// Fields to reset to their default.
    pub attributes_to_delete: Vec<String>,
    /// The policy's `update_time` as the caller last read it; a different value is refused
    /// (0: no check).
    #[ts(type = "number")]
    pub expected_update_time: i64,
    /// The fields to change (a partial Policy).
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub policy: serde_json::Map<String, serde_json::Value>,
    /// Ignored: the path names the policy.
    pub uuid: String,
}

fn invalid(field: &str, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Checks a policy's values; returns its compiled filters.
fn validate(
    c: &rusqlite::Connection,
    p: &Policy,
) -> Result<(CompiledFilter, CompiledFilter), ResponseError> {
    if p.name.trim().is_empty() {
        return Err(invalid("name", "a policy needs a name"));
    }
    if !POLICY_ACTION.contains(p.action) {
        return Err(invalid(
            "action",
            format!(
                "{} is not a policy action; use {}",
                p.action,
                POLICY_ACTION.names()
            ),
        ));
    }
    if !ENUM_STATUS.contains(p.status) {
        return Err(invalid(
            "status",
            format!("{} is not a status; use {}", p.status, ENUM_STATUS.names()),
        ));
    }
    if !POLICY_TYPE.contains(p.policy_type) {
        return Err(invalid(
            "type",
            format!(
                "{} is not a policy type; use {}",
                p.policy_type,
                POLICY_TYPE.names()
            ),
        ));
    }
    if matches!(
        p.action,
        action::RUN_WORKFLOW | action::RUN_APP_SPECIFIC_WORKFLOW
    ) && !super::workflows::exists(c, &p.workflow_uuid)?
    {
        return Err(invalid(
            "workflow_uuid",
            format!(
                "action {} needs an existing workflow, and no workflow {:?} exists",
                POLICY_ACTION.name_of(p.action).unwrap_or("RUN_WORKFLOW"),
                p.workflow_uuid
            ),
        ));
    }
    let compile =
        |name: &str, f: &Filter| filter::compile(f).map_err(|e| invalid(name, e.to_string()));
    let session = compile("session_filter", &p.session_filter)?;
    let app = compile("app_filter", &p.app_filter)?;
    let lists = super::lists::Lists::load(c)?;
    for (name, compiled) in [("session_filter", &session), ("app_filter", &app)] {
        if let Some(list) = compiled.list_names().into_iter().find(|l| !lists.exists(l)) {
            return Err(invalid(
                name,
                format!("list:{list}: no customer dataset of that name exists"),
            ));
        }
    }
    Ok((session, app))
}

/// Turns a request's `workflow_name` into `workflow_uuid` (a given uuid wins, as the vendor
/// documents) and drops the name.
fn resolve_workflow_name(c: &rusqlite::Connection, p: &mut Policy) -> Result<(), ResponseError> {
    if let Some(name) = p.workflow_name.take().filter(|n| !n.is_empty()) {
        if p.workflow_uuid.is_empty() {
            p.workflow_uuid = super::workflows::uuid_named(c, &name)?;
        }
    }
    Ok(())
}

fn store_policy(c: &rusqlite::Connection, p: &Policy) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO policies (uuid, body, status, type, priority, create_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (uuid) DO UPDATE SET body = excluded.body, status = excluded.status,
             type = excluded.type, priority = excluded.priority",
        params![
            p.uuid,
            serde_json::to_string(p).unwrap_or_default(),
            p.status,
            p.policy_type,
            p.priority,
            p.create_time,
        ],
    )?;
    Ok(())
}

fn read_policy(c: &rusqlite::Connection, uuid: &str) -> Result<Option<Policy>, ResponseError> {
    stored::one(c, "SELECT body FROM policies WHERE uuid = ?1", uuid)
}

fn not_found(uuid: &str) -> ResponseError {
    ResponseError::NotFound {
        kind: "policy",
        id: uuid.to_owned(),
    }
}

/// Creates a policy (status ACTIVE unless given).
pub fn create(store: &Store, actor: &Actor, input: &Policy) -> Result<Policy, ResponseError> {
    let mut p = input.clone();
    let now = now_ms();
    p.account_name = ACCOUNT_NAME.into();
    p.uuid = uuid::Uuid::new_v4().to_string();
    p.create_time = now;
    p.update_time = now;
    p.creator_uuid = actor.uuid.clone();
    p.creator_display_name = actor.display_name.clone();
    p.updater_uuid = actor.uuid.clone();
    p.updater_display_name = actor.display_name.clone();
    if p.status == 0 {
        p.status = 2;
    }
    store.write(|c| {
        let tx = c.transaction()?;
        resolve_workflow_name(&tx, &mut p)?;
        validate(&tx, &p)?;
        store_policy(&tx, &p)?;
        let after = serde_json::to_value(&p).ok();
        let asked = serde_json::to_value(input).ok();
        audit::record(
            &tx,
            actor,
            &Change {
                op: "policy.create",
                object_type: "policy",
                object_uuid: &p.uuid,
                request: asked.as_ref(),
                before: None,
                after: after.as_ref(),
            },
        )?;
        tx.commit()?;
        Ok(p)
    })
}

/// Changes the fields `update.policy` sets and resets `attributes_to_delete`.
pub fn update(
    store: &Store,
    actor: &Actor,
    uuid: &str,
    update: &PolicyUpdate,
) -> Result<Policy, ResponseError> {
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read_policy(&tx, uuid)?.ok_or_else(|| not_found(uuid))?;
        if update.expected_update_time != 0 && update.expected_update_time != before.update_time {
            return Err(ResponseError::Conflict(format!(
                "policy {uuid} changed since expected_update_time {} (its update_time is now {}); read it again",
                update.expected_update_time, before.update_time
            )));
        }
        let mut after: Policy = stored::merged(
            &before,
            &update.policy,
            &update.attributes_to_delete,
            KEPT_FIELDS,
            "policy",
        )?;
        after.update_time = now_ms().max(before.update_time + 1);
        after.updater_uuid = actor.uuid.clone();
        after.updater_display_name = actor.display_name.clone();
        resolve_workflow_name(&tx, &mut after)?;
        validate(&tx, &after)?;
        store_policy(&tx, &after)?;
        let (b, a, asked) = (
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&after).ok(),
            serde_json::to_value(update).ok(),
        );
        audit::record(
            &tx,
            actor,
            &Change {
                op: "policy.update",
                object_type: "policy",
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

/// One policy.
pub fn get(store: &Store, uuid: &str) -> Result<Policy, ResponseError> {
    store
        .read(|c| read_policy(c, uuid))?
        .ok_or_else(|| not_found(uuid))
}

/// Every policy, by priority then age.
pub fn list(store: &Store) -> Result<Vec<Policy>, ResponseError> {
    store.read(|c| list_on(c, false))
}

fn list_on(c: &rusqlite::Connection, evaluated_only: bool) -> Result<Vec<Policy>, ResponseError> {
    stored::all(
        c,
        "SELECT body FROM policies
         WHERE NOT ?1 OR (status = 2 AND type IN (0, 1))
         ORDER BY priority, create_time, uuid",
        [evaluated_only],
    )
}

/// What an alert is evaluated against.
struct AlertFacts {
    uuid: String,
    connection_id: Option<String>,
    user: String,
    groups: Vec<String>,
    roles: Vec<String>,
    host: String,
    account: Option<String>,
    conn_type: String,
    source: String,
    features: Vec<String>,
    severity: i64,
    score: f64,
}

/// The policy matching an alert, with its action (None: no policy matches).
fn winner<'a>(
    policies: &'a [(Policy, CompiledFilter, CompiledFilter)],
    facts: &AlertFacts,
    lists: &dyn ListLookup,
) -> Option<&'a Policy> {
    let subject = Subject {
        user: &facts.user,
        groups: &facts.groups,
        roles: &facts.roles,
        host: &facts.host,
        account: facts.account.as_deref(),
        conn_type: &facts.conn_type,
        source: &facts.source,
        features: &facts.features,
        severity: facts.severity,
        score: facts.score,
    };
    policies
        .iter()
        .find(|(_, session, app)| session.matches(&subject, lists) && app.matches(&subject, lists))
        .map(|(p, _, _)| p)
}

fn facts_of(c: &rusqlite::Connection, uuid: &str) -> rusqlite::Result<Option<AlertFacts>> {
    c.prepare_cached(
        "SELECT a.uuid, a.connection_id, a.user, coalesce(c.user_roles, ''), a.host,
                c.target_host_account, coalesce(c.type, ''), a.source, a.features, a.severity,
                coalesce(a.score, 0)
         FROM alerts a LEFT JOIN connections c ON c.id = a.connection_id WHERE a.uuid = ?1",
    )?
    .query_row([uuid], |r| {
        let roles: String = r.get(3)?;
        let features: String = r.get(8)?;
        Ok(AlertFacts {
            uuid: r.get(0)?,
            connection_id: r.get(1)?,
            user: r.get(2)?,
            groups: Vec::new(),
            roles: roles
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            host: r.get(4)?,
            account: r.get(5)?,
            conn_type: r.get(6)?,
            source: r.get(7)?,
            features: serde_json::from_str(&features).unwrap_or_default(),
            severity: r.get(9)?,
            score: r.get(10)?,
        })
    })
    .optional()?
    .map(|mut facts| {
        facts.groups = super::catalog::directory::group_names_of(c, &facts.user)?;
        Ok(facts)
    })
    .transpose()
}

/// Evaluates the policies against new alerts (inside the transaction that raised them) and
/// takes the winning policy's action; returns how many alerts a policy matched.
pub fn apply_to_new_alerts(
    tx: &rusqlite::Connection,
    alert_uuids: &[String],
) -> Result<usize, ResponseError> {
    if alert_uuids.is_empty() {
        return Ok(0);
    }
    // New connections may bring users and roles that `group:` terms must see.
    super::catalog::directory::sync_on(tx)?;
    let mut compiled = Vec::new();
    for p in list_on(tx, true)? {
        // A stored policy always compiled when it was saved.
        if let (Ok(session), Ok(app)) = (
            filter::compile(&p.session_filter),
            filter::compile(&p.app_filter),
        ) {
            compiled.push((p, session, app));
        }
    }
    if compiled.is_empty() {
        return Ok(0);
    }
    let engine = Actor::engine();
    let lists = Lists::load(tx)?;
    let mut matched = 0;
    for uuid in alert_uuids {
        let Some(facts) = facts_of(tx, uuid)? else {
            continue;
        };
        let Some(policy) = winner(&compiled, &facts, &lists) else {
            continue;
        };
        matched += 1;
        take_action(tx, &engine, policy, &facts)?;
    }
    Ok(matched)
}

fn take_action(
    tx: &rusqlite::Connection,
    engine: &Actor,
    policy: &Policy,
    facts: &AlertFacts,
) -> Result<(), ResponseError> {
    let now = now_ms();
    tx.execute(
        "UPDATE alerts SET policy_action_taken = ?2, policy_uuid = ?3, update_time = max(update_time + 1, ?4)
         WHERE uuid = ?1",
        params![facts.uuid, policy.action, policy.uuid, now],
    )?;
    let action_name = POLICY_ACTION.name_of(policy.action).unwrap_or("UNKNOWN");
    let mut note = format!("policy \"{}\" matched: {action_name}", policy.name);
    match policy.action {
        action::ALLOW => {
            tx.execute(
                "UPDATE alerts SET status = 3, incident_status = 4, closed_time = ?2 WHERE uuid = ?1",
                params![facts.uuid, now],
            )?;
            note.push_str("; closed as expected activity");
        }
        action::BLOCK => {
            if let Some(id) = &facts.connection_id {
                tx.execute(
                    "UPDATE anomalies SET blocked = 1 WHERE connection_id = ?1",
                    [id],
                )?;
            }
            note.push_str("; the connection is marked blocked; ");
            note.push_str(&super::sensors::actions::respond_isolate(
                tx,
                engine,
                &facts.uuid,
                &policy.uuid,
                &facts.host,
            )?);
        }
        action::RUN_WORKFLOW | action::RUN_APP_SPECIFIC_WORKFLOW => {
            let seed = super::workflows::WorkflowRun {
                policy_uuid: policy.uuid.clone(),
                details: [("alert_uuid".to_owned(), facts.uuid.clone())].into(),
                ..Default::default()
            };
            match super::workflows::start_run(tx, engine, &policy.workflow_uuid, &seed) {
                Ok(run) => note.push_str(&format!(
                    "; workflow \"{}\" started (run {}), waiting for an answer",
                    run.workflow_name, run.uuid
                )),
                // A workflow suspended since the policy was saved: the alert is raised anyway.
                Err(ResponseError::Conflict(why) | ResponseError::Invalid { reason: why, .. }) => {
                    note.push_str(&format!("; the workflow could not start: {why}"))
                }
                Err(e) => return Err(e),
            }
        }
        action::ISOLATE_DEVICE => {
            note.push_str("; ");
            note.push_str(&super::sensors::actions::respond_isolate(
                tx,
                engine,
                &facts.uuid,
                &policy.uuid,
                &facts.host,
            )?);
        }
        _ => {}
    }
    super::investigation::record_engine_note(tx, engine, &facts.uuid, &note)?;
    Ok(())
}

/// Which past alerts a policy would match (the editor's "test against past alerts"), newest
/// first, at most `limit`; the policy need not be saved.
pub fn preview(
    store: &Store,
    policy: &Policy,
    limit: usize,
) -> Result<Vec<super::alerts::Alert>, ResponseError> {
    store.read(|c| {
        let session = filter::compile(&policy.session_filter)
            .map_err(|e| invalid("session_filter", e.to_string()))?;
        let app = filter::compile(&policy.app_filter)
            .map_err(|e| invalid("app_filter", e.to_string()))?;
        let one = [(policy.clone(), session, app)];
        let lists = Lists::load(c)?;
        let mut stmt = c.prepare_cached("SELECT uuid FROM alerts ORDER BY start_time DESC")?;
        let uuids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut hits = Vec::new();
        for uuid in uuids {
            if hits.len() >= limit {
                break;
            }
            if let Some(facts) = facts_of(c, &uuid)? {
                if winner(&one, &facts, &lists).is_some() {
                    hits.extend(super::alerts::get_on(c, &uuid)?);
                }
            }
        }
        Ok(hits)
    })
}
