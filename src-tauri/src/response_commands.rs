//! The response loop commands: alerts and their investigation, response policies, workflow runs
//! waiting for an answer, API tokens, the audit trail, and the enum names the UI shows. Each is a
//! thin call into `ueba_core::response`; every change is made as the person at this machine
//! ([`Actor::local`] through [`Door::Desktop`]), so it lands in the audit trail with the desktop
//! as its door.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use ueba_core::auth::{self, Role};
use ueba_core::response::alerts::{self, Alert, AlertFilter};
use ueba_core::response::audit::{self, Actor, AuditEvent, AuditFilter, Door};
use ueba_core::response::enums::{self, EnumDef};
use ueba_core::response::filter;
use ueba_core::response::investigation::{
    self, InvestigationHistoryItem, PerformInvestigationActionRequest,
    PerformInvestigationActionResponse, UpdateOwner,
};
use ueba_core::response::policies::{self, Policy, PolicyUpdate};
use ueba_core::response::tokens::{self, CreateTokenRequest, Token, UpdateTokenRequest};
use ueba_core::response::workflows::{self, AnswerRequest, RunFilter, Workflow, WorkflowRun};

use crate::commands::blocking;
use crate::error::CommandError;
use crate::state::AppState;

/// Most past alerts a policy preview looks for (the count shown says "or more" at this bound).
const PREVIEW_MAX: usize = 10_000;
/// Alerts a policy preview returns in full.
const PREVIEW_SHOWN: usize = 20;

/// Who makes a change from this window: the operating-system user, through the desktop door.
fn actor() -> Actor {
    Actor::local(Door::Desktop)
}

/// The local role behind [`actor`]'s TokenRole: what token rules and workflow recipients
/// (`role:NAME`) check.
fn caller_role(actor: &Actor) -> Role {
    tokens::local_role(actor.role).unwrap_or(Role::ConnectionsView)
}

/// One key of the policy filter language, for the editor's help (`filter::TERM_KEYS`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TermKeyHelp {
    /// The key as written before the `:`.
    pub key: String,
    /// What a term with this key matches, in one line.
    pub description: String,
    /// A complete term using this key.
    pub example: String,
}

/// What a policy would match among past alerts.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PolicyPreview {
    /// How many past alerts it matches (at most `limit`).
    pub count: u32,
    /// Whether the search stopped at `limit` (there may be more).
    pub capped: bool,
    /// The search bound.
    pub limit: u32,
    /// The newest matching alerts, in full.
    pub alerts: Vec<Alert>,
}

/// Every enumeration with its names (the UI shows names, never bare integers).
#[tauri::command]
pub fn response_enums() -> Vec<EnumDef> {
    enums::ALL.to_vec()
}

/// The keys of the policy filter language with a description and an example.
#[tauri::command]
pub fn policy_term_keys() -> Vec<TermKeyHelp> {
    filter::TERM_KEYS
        .iter()
        .map(|k| TermKeyHelp {
            key: k.key.to_owned(),
            description: k.description.to_owned(),
            example: k.example.to_owned(),
        })
        .collect()
}

/// Alerts matching `filter`, newest event first ([`alerts::query`]).
#[tauri::command]
pub async fn query_alerts(
    state: State<'_, AppState>,
    filter: AlertFilter,
) -> Result<Vec<Alert>, CommandError> {
    let store = state.store()?;
    blocking(move || alerts::query(&store, &filter)).await
}

/// One alert.
#[tauri::command]
pub async fn get_alert(state: State<'_, AppState>, uuid: String) -> Result<Alert, CommandError> {
    let store = state.store()?;
    blocking(move || alerts::get(&store, &uuid)).await
}

/// The investigation history of an alert, oldest first.
#[tauri::command]
pub async fn alert_history(
    state: State<'_, AppState>,
    uuid: String,
) -> Result<Vec<InvestigationHistoryItem>, CommandError> {
    let store = state.store()?;
    blocking(move || investigation::history(&store, &uuid)).await
}

/// Who an alert can be assigned to: every local account (by name) with the uuid
/// `update_owner` expects ([`audit::account_uuid`]).
#[tauri::command]
pub async fn alert_owner_choices(
    state: State<'_, AppState>,
) -> Result<Vec<UpdateOwner>, CommandError> {
    let store = state.store()?;
    let accounts = blocking(move || auth::list_accounts(&store)).await?;
    Ok(accounts
        .into_iter()
        .map(|a| UpdateOwner {
            owner_uuid: audit::account_uuid(&a.name),
            owner_display_name: a.name,
        })
        .collect())
}

/// Performs one investigation action on an alert; refused with a conflict when the alert changed
/// since the `alert_update_time` the request carries.
#[tauri::command]
pub async fn investigate_alert(
    state: State<'_, AppState>,
    uuid: String,
    request: PerformInvestigationActionRequest,
) -> Result<PerformInvestigationActionResponse, CommandError> {
    let store = state.store()?;
    blocking(move || investigation::perform(&store, &actor(), &uuid, &request)).await
}

/// Every policy.
#[tauri::command]
pub async fn list_policies(state: State<'_, AppState>) -> Result<Vec<Policy>, CommandError> {
    let store = state.store()?;
    blocking(move || policies::list(&store)).await
}

/// One policy.
#[tauri::command]
pub async fn get_policy(state: State<'_, AppState>, uuid: String) -> Result<Policy, CommandError> {
    let store = state.store()?;
    blocking(move || policies::get(&store, &uuid)).await
}

/// Creates a policy and returns it as stored.
#[tauri::command]
pub async fn create_policy(
    state: State<'_, AppState>,
    policy: Policy,
) -> Result<Policy, CommandError> {
    let store = state.store()?;
    blocking(move || policies::create(&store, &actor(), &policy)).await
}

/// Changes the fields `update.policy` sets; refused when the policy changed since
/// `update.expected_update_time`.
#[tauri::command]
pub async fn update_policy(
    state: State<'_, AppState>,
    uuid: String,
    update: PolicyUpdate,
) -> Result<Policy, CommandError> {
    let store = state.store()?;
    blocking(move || policies::update(&store, &actor(), &uuid, &update)).await
}

/// Which past alerts `policy` (saved or not) would match: the count and the newest ones.
#[tauri::command]
pub async fn preview_policy(
    state: State<'_, AppState>,
    policy: Policy,
) -> Result<PolicyPreview, CommandError> {
    let store = state.store()?;
    blocking(move || {
        let mut hits = policies::preview(&store, &policy, PREVIEW_MAX)?;
        let count = hits.len();
        hits.truncate(PREVIEW_SHOWN);
        Ok::<_, CommandError>(PolicyPreview {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            capped: count >= PREVIEW_MAX,
            limit: u32::try_from(PREVIEW_MAX).unwrap_or(u32::MAX),
            alerts: hits,
        })
    })
    .await
}

/// Audit events matching `filter`, newest first.
#[tauri::command]
pub async fn query_audit(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> Result<Vec<AuditEvent>, CommandError> {
    let store = state.store()?;
    blocking(move || audit::query(&store, &filter)).await
}

/// One audit event.
#[tauri::command]
pub async fn get_audit_event(
    state: State<'_, AppState>,
    uuid: String,
) -> Result<AuditEvent, CommandError> {
    let store = state.store()?;
    blocking(move || audit::get(&store, &uuid)).await
}

/// Every workflow, oldest first.
#[tauri::command]
pub async fn list_workflows(state: State<'_, AppState>) -> Result<Vec<Workflow>, CommandError> {
    let store = state.store()?;
    blocking(move || workflows::list(&store)).await
}

/// Workflow runs matching `filter`, newest first; runs past their approval TTL are ended first.
#[tauri::command]
pub async fn query_workflow_runs(
    state: State<'_, AppState>,
    filter: RunFilter,
) -> Result<Vec<WorkflowRun>, CommandError> {
    let store = state.store()?;
    blocking(move || workflows::query_runs(&store, &filter)).await
}

/// One workflow run.
#[tauri::command]
pub async fn get_workflow_run(
    state: State<'_, AppState>,
    uuid: String,
) -> Result<WorkflowRun, CommandError> {
    let store = state.store()?;
    blocking(move || workflows::get_run(&store, &uuid)).await
}

/// Answers a PENDING run; refused when it is no longer pending, when this machine's user is not
/// among its recipients, or without a justification its workflow requires.
#[tauri::command]
pub async fn answer_workflow_run(
    state: State<'_, AppState>,
    uuid: String,
    request: AnswerRequest,
) -> Result<WorkflowRun, CommandError> {
    let store = state.store()?;
    blocking(move || {
        let actor = actor();
        let role = caller_role(&actor);
        workflows::answer(&store, &actor, role.scope(), &uuid, &request)
    })
    .await
}

/// The API tokens this machine's user may see, suspended ones included (never their secrets).
#[tauri::command]
pub async fn list_api_tokens(state: State<'_, AppState>) -> Result<Vec<Token>, CommandError> {
    let store = state.store()?;
    blocking(move || {
        let actor = actor();
        tokens::list(&store, &actor, caller_role(&actor), true)
    })
    .await
}

/// Creates an API token; the answer is the only place its secret ever appears.
#[tauri::command]
pub async fn create_api_token(
    state: State<'_, AppState>,
    request: CreateTokenRequest,
) -> Result<Token, CommandError> {
    let store = state.store()?;
    blocking(move || {
        let actor = actor();
        tokens::create(&store, &actor, caller_role(&actor), &request)
    })
    .await
}

/// Changes a token's fields that `request` sets (its status suspends or reactivates it).
#[tauri::command]
pub async fn update_api_token(
    state: State<'_, AppState>,
    uuid: String,
    request: UpdateTokenRequest,
) -> Result<Token, CommandError> {
    let store = state.store()?;
    blocking(move || {
        let actor = actor();
        tokens::update(&store, &actor, caller_role(&actor), &uuid, &request)
    })
    .await
}
