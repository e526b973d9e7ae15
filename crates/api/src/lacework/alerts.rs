//! Alerts, investigation actions and audit events (Lacework Edge `/api/v1/alerts...` and
//! `/api/v1/audit_events...`): each handler checks the caller, reads its input and calls the
//! core service the CLI and the desktop call.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use ueba_core::response::alerts::{self, Alert, AlertFilter, PromoteRequest};
use ueba_core::response::audit::{self, AuditEvent, AuditFilter};
use ueba_core::response::investigation::{
    self, InvestigationHistoryItem, PerformInvestigationActionRequest,
    PerformInvestigationActionResponse,
};

use super::auth::{Caller, ReadAlerts, ReadAudit, Triage};
use super::error::{ErrorMessage, LaceworkError};
use super::extract::{LwJson, LwQuery, NoQuery};
use crate::privx::run_blocking;
use crate::state::ApiState;

/// Query of "Query open alerts": times are strings of epoch milliseconds, as the vendor
/// documents them (plain integers are accepted too).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Events at or after this time (epoch ms).
    pub start_time: Option<String>,
    /// Events before this time (epoch ms).
    pub end_time: Option<String>,
    /// AlertStatus names or values, comma separated (default: OPEN,IN_PROGRESS).
    pub status_filter: Option<String>,
}

/// `{alerts}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertList {
    /// The alerts, newest event first.
    pub alerts: Vec<Alert>,
}

/// `{investigation_actions}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryList {
    /// The actions, oldest first.
    pub investigation_actions: Vec<InvestigationHistoryItem>,
}

/// Body of "Perform multiple investigation actions".
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchRequest {
    /// Ignored (this workbench is the account).
    #[serde(default)]
    pub account_name: String,
    /// The actions, each naming its alert.
    #[serde(default)]
    pub investigation_actions: Vec<PerformInvestigationActionRequest>,
}

/// `{responses}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    /// One answer per action, in order.
    pub responses: Vec<PerformInvestigationActionResponse>,
}

/// Query of "Query Audit Events".
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Events at or after this time (epoch ms).
    pub start_time: Option<String>,
    /// Events before this time (epoch ms).
    pub end_time: Option<String>,
}

/// `{audit_events}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditList {
    /// The events, newest first.
    pub audit_events: Vec<AuditEvent>,
}

/// Parses a time parameter given as a string of epoch milliseconds.
fn millis(name: &str, value: Option<&str>) -> Result<Option<i64>, LaceworkError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            LaceworkError::bad_request(format!("{name}: {v:?} is not a time in epoch milliseconds"))
        }),
    }
}

/// Query open alerts for the account.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "lacework-alerts",
    params(AlertQuery),
    responses(
        (status = 200, description = "The alerts whose event lies in [start_time, end_time), with the given statuses", body = AlertList),
        (status = 400, description = "A bad time or status", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read alerts", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_alerts(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(query): LwQuery<AlertQuery>,
) -> Result<axum::Json<AlertList>, LaceworkError> {
    let filter = AlertFilter {
        start_time: millis("start_time", query.start_time.as_deref())?,
        end_time: millis("end_time", query.end_time.as_deref())?,
        statuses: match &query.status_filter {
            Some(text) => alerts::parse_status_filter(text)?,
            None => Vec::new(),
        },
        ..AlertFilter::default()
    };
    let alerts = run_blocking(&state.store, move |s| {
        alerts::query(s, &filter).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(AlertList { alerts }))
}

/// Promotes an event to an alert (adds investigation state).
#[utoipa::path(post, path = "/api/v1/alerts", tag = "lacework-alerts",
    request_body = PromoteRequest,
    responses(
        (status = 200, description = "The event's alert (the existing one, or a new one)", body = Alert),
        (status = 400, description = "No event id, or times that do not match the event", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not investigate", body = ErrorMessage),
        (status = 404, description = "No such event", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn promote_alert(
    caller: Caller<Triage>,
    State(state): State<ApiState>,
    LwJson(request): LwJson<PromoteRequest>,
) -> Result<axum::Json<Alert>, LaceworkError> {
    let alert = run_blocking(&state.store, move |s| {
        alerts::promote(s, &caller.actor, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(alert))
}

/// Get a single alert by its ID.
#[utoipa::path(get, path = "/api/v1/alerts/{uuid}", tag = "lacework-alerts",
    params(("uuid" = String, Path, description = "The alert uuid, which matches the event uuid")),
    responses(
        (status = 200, description = "The alert", body = Alert),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read alerts", body = ErrorMessage),
        (status = 404, description = "No such alert", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn get_alert(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Alert>, LaceworkError> {
    let alert = run_blocking(&state.store, move |s| {
        alerts::get(s, &uuid).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(alert))
}

/// Get the history of investigation actions taken for an alert.
#[utoipa::path(get, path = "/api/v1/alerts/{uuid}/investigation_actions", tag = "lacework-alerts",
    params(("uuid" = String, Path, description = "The alert uuid, which matches the event uuid")),
    responses(
        (status = 200, description = "The actions, oldest first", body = HistoryList),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read alerts", body = ErrorMessage),
        (status = 404, description = "No such alert", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn alert_history(
    _caller: Caller<ReadAlerts>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<HistoryList>, LaceworkError> {
    let investigation_actions = run_blocking(&state.store, move |s| {
        investigation::history(s, &uuid).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(HistoryList {
        investigation_actions,
    }))
}

/// Perform an investigation action on the specified alert.
#[utoipa::path(post, path = "/api/v1/alerts/{uuid}/investigation_actions", tag = "lacework-alerts",
    params(("uuid" = String, Path, description = "The alert uuid, which matches the event uuid (it wins over the body's alert_uuid)")),
    request_body = PerformInvestigationActionRequest,
    responses(
        (status = 200, description = "The alert was updated and the action recorded", body = PerformInvestigationActionResponse),
        (status = 400, description = "An action that is not allowed, or a bad value", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not investigate", body = ErrorMessage),
        (status = 404, description = "No such alert", body = ErrorMessage),
        (status = 409, description = "The alert changed since alert_update_time, or its state refuses the action", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn perform_action(
    caller: Caller<Triage>,
    State(state): State<ApiState>,
    Path(uuid): Path<String>,
    LwJson(request): LwJson<PerformInvestigationActionRequest>,
) -> Result<axum::Json<PerformInvestigationActionResponse>, LaceworkError> {
    let response = run_blocking(&state.store, move |s| {
        investigation::perform(s, &caller.actor, &uuid, &request).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(response))
}

/// Perform multiple investigation actions on the specified alerts, all or none.
#[utoipa::path(post, path = "/api/v1/alerts/investigation_actions", tag = "lacework-alerts",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "Every action was applied", body = BatchResponse),
        (status = 400, description = "One action was refused (named as investigation_actions[i]); none was applied", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not investigate", body = ErrorMessage),
        (status = 409, description = "An alert changed since its alert_update_time; none was applied", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn perform_actions(
    caller: Caller<Triage>,
    State(state): State<ApiState>,
    LwJson(request): LwJson<BatchRequest>,
) -> Result<axum::Json<BatchResponse>, LaceworkError> {
    if request.investigation_actions.is_empty() {
        return Err(LaceworkError::bad_request(
            "investigation_actions: give at least one action",
        ));
    }
    let responses = run_blocking(&state.store, move |s| {
        investigation::perform_batch(s, &caller.actor, &request.investigation_actions)
            .map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(BatchResponse { responses }))
}

/// Query Audit Events.
#[utoipa::path(get, path = "/api/v1/audit_events", tag = "lacework-audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit events in [start_time, end_time), newest first (at most 1000)", body = AuditList),
        (status = 400, description = "A bad time", body = ErrorMessage),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read audit events", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn query_audit_events(
    _caller: Caller<ReadAudit>,
    State(state): State<ApiState>,
    LwQuery(query): LwQuery<AuditQuery>,
) -> Result<axum::Json<AuditList>, LaceworkError> {
    let filter = AuditFilter {
        start_time: millis("start_time", query.start_time.as_deref())?,
        end_time: millis("end_time", query.end_time.as_deref())?,
        ..AuditFilter::default()
    };
    let audit_events = run_blocking(&state.store, move |s| {
        audit::query(s, &filter).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(AuditList { audit_events }))
}

/// Get the audit event details.
#[utoipa::path(get, path = "/api/v1/audit_events/{uuid}", tag = "lacework-audit",
    params(("uuid" = String, Path, description = "The audit event's uuid")),
    responses(
        (status = 200, description = "The audit event", body = AuditEvent),
        (status = 401, description = "Missing or invalid token", body = ErrorMessage),
        (status = 403, description = "The token's role may not read audit events", body = ErrorMessage),
        (status = 404, description = "No such audit event", body = ErrorMessage),
        (status = 500, description = "Database error", body = ErrorMessage),
    ),
    security(("bearer" = [])))]
pub async fn get_audit_event(
    _caller: Caller<ReadAudit>,
    State(state): State<ApiState>,
    LwQuery(NoQuery {}): LwQuery<NoQuery>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<AuditEvent>, LaceworkError> {
    let event = run_blocking(&state.store, move |s| {
        audit::get(s, &uuid).map_err(LaceworkError::from)
    })
    .await?;
    Ok(axum::Json(event))
}
