// Typed wrappers around the response loop commands of src-tauri/src/response_commands.rs
// (alerts, investigation, policies, workflow runs, API tokens, audit, enum names) and the helpers
// the Alerts, Policies, Workflows, Audit and Settings pages share. Every type comes from the Rust definitions through ts-rs (./bindings).
import { invoke } from "@tauri-apps/api/core";

import type { Alert } from "./bindings/Alert";
import type { AlertFilter } from "./bindings/AlertFilter";
import type { AnswerRequest } from "./bindings/AnswerRequest";
import type { AuditEvent } from "./bindings/AuditEvent";
import type { AuditFilter } from "./bindings/AuditFilter";
import type { CreateTokenRequest } from "./bindings/CreateTokenRequest";
import type { EnumDef } from "./bindings/EnumDef";
import type { InvestigationAction } from "./bindings/InvestigationAction";
import type { InvestigationHistoryItem } from "./bindings/InvestigationHistoryItem";
import type { PerformInvestigationActionRequest } from "./bindings/PerformInvestigationActionRequest";
import type { PerformInvestigationActionResponse } from "./bindings/PerformInvestigationActionResponse";
import type { Policy } from "./bindings/Policy";
import type { PolicyPreview } from "./bindings/PolicyPreview";
import type { PolicyUpdate } from "./bindings/PolicyUpdate";
import type { RunFilter } from "./bindings/RunFilter";
import type { TermKeyHelp } from "./bindings/TermKeyHelp";
import type { Token } from "./bindings/Token";
import type { UpdateOwner } from "./bindings/UpdateOwner";
import type { UpdateTokenRequest } from "./bindings/UpdateTokenRequest";
import type { Workflow } from "./bindings/Workflow";
import type { WorkflowRun } from "./bindings/WorkflowRun";

// ---- Integer enums --------------------------------------------------------------------------
//

/** A wire integer that may be absent, as a number (0 when absent). */
export function n(value: number | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Enum names used by the pages (`EnumDef.name`). */
export const ENUM = {
  alertStatus: "AlertStatus",
  incidentStatus: "IncidentStatus",
  severity: "AlertSeverity",
  actionType: "InvestigationActionType",
  policyAction: "PolicyAction",
  enumStatus: "proto.EnumStatus",
  policyType: "proto.PolicyType",
  tokenRole: "TokenRole",
  runStatus: "WorkflowRunStatus",
  workflowAction: "WorkflowActionRun",
} as const;

/** Alert status values (AlertStatus). */
export const ALERT_OPEN = 1;
export const ALERT_IN_PROGRESS = 2;
export const ALERT_CLOSED = 3;

/** Workflow run status values (WorkflowRunStatus). */
export const RUN_CREATED = 1;
export const RUN_PENDING = 2;
export const RUN_SUCCESS = 3;
export const RUN_FAILURE = 4;

/** Token status values (proto.EnumStatus): only ACTIVE tokens are accepted. */
export const STATUS_ACTIVE = 2;
export const STATUS_SUSPENDED = 3;

/** The enumerations by name, with lookups. */
export class Enums {
  private readonly byName = new Map<string, EnumDef>();

  constructor(defs: EnumDef[]) {
    for (const d of defs) this.byName.set(d.name, d);
  }

  /** The values of an enum, without UNSPECIFIED (0) unless `withZero`. */
  values(name: string, withZero = false): { value: number; name: string; meaning: string }[] {
    const def = this.byName.get(name);
    if (!def) return [];
    return def.values
      .map((v) => ({ value: n(v.value), name: v.name, meaning: v.meaning }))
      .filter((v) => withZero || v.value !== 0);
  }

  /** The name of `value` (the bare number only when the enum does not know it). */
  name(name: string, value: number): string {
    const v = n(value);
    const def = this.byName.get(name);
    return def?.values.find((x) => n(x.value) === v)?.name ?? String(v);
  }

  /** What a value means, for tooltips. */
  meaning(name: string, value: number): string {
    const v = n(value);
    return this.byName.get(name)?.values.find((x) => n(x.value) === v)?.meaning ?? "";
  }
}

/** A readable form of an enum name: `FALSE_POSITIVE` → `False positive`. */
export function label(name: string): string {
  const t = name.replace(/_/g, " ").toLowerCase();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** CSS class of a severity (1 info … 5 critical). */
export function severityClass(severity: number): string {
  return ["sev-none", "sev-info", "sev-low", "sev-medium", "sev-high", "sev-critical"][n(severity)] ?? "sev-none";
}

/** CSS class of a workflow run status. */
export function runStatusClass(status: number): string {
  return ["st-none", "st-created", "st-open", "st-success", "st-failure", "st-unsure"][n(status)] ?? "st-none";
}

/** CSS class of an alert status. */
export function statusClass(status: number): string {
  return ["st-none", "st-open", "st-progress", "st-closed"][n(status)] ?? "st-none";
}

/** What an investigation action did, in words. */
export function describeAction(action: InvestigationAction, enums: Enums): string {
  if (action.alert_status_change) {
    return `Set the status to ${enums.name(ENUM.alertStatus, action.alert_status_change.new_status)}`;
  }
  if (action.close_with_reason) {
    const c = action.close_with_reason;
    const reason = enums.name(ENUM.incidentStatus, c.incident_status);
    return `Closed as ${reason}${c.note_text ? `: “${c.note_text}”` : ""}`;
  }
  if (action.note) return `Note: “${action.note.note_text}”`;
  if (action.update_owner) {
    const o = action.update_owner;
    return o.owner_uuid ? `Assigned to ${o.owner_display_name || o.owner_uuid}` : "Unassigned";
  }
  if (action.run_workflow) return `Started workflow ${action.run_workflow.workflow_uuid}`;
  return enums.name(ENUM.actionType, action.action_type);
}

// ---- Commands -------------------------------------------------------------------------------

export async function responseEnums(): Promise<Enums> {
  return new Enums(await invoke<EnumDef[]>("response_enums"));
}

export function policyTermKeys(): Promise<TermKeyHelp[]> {
  return invoke<TermKeyHelp[]>("policy_term_keys");
}

/** Alerts matching `filter`, newest event first (no statuses: the open ones). */
export function queryAlerts(filter: AlertFilter): Promise<Alert[]> {
  return invoke<Alert[]>("query_alerts", { filter });
}

export function getAlert(uuid: string): Promise<Alert> {
  return invoke<Alert>("get_alert", { uuid });
}

/** The investigation history of an alert, oldest first. */
export function alertHistory(uuid: string): Promise<InvestigationHistoryItem[]> {
  return invoke<InvestigationHistoryItem[]>("alert_history", { uuid });
}

/**
 * Performs one action on `alert`, guarded by the `update_time` the caller displays: if the alert
 * changed since, the command is refused with a conflict message.
 */
export function investigateAlert(alert: Alert, action: InvestigationAction): Promise<PerformInvestigationActionResponse> {
  const request: PerformInvestigationActionRequest = {
    account_name: "",
    action,
    actor_uuid: "",
    alert_update_time: alert.update_time,
    alert_uuid: alert.uuid,
  };
  return invoke<PerformInvestigationActionResponse>("investigate_alert", { uuid: alert.uuid, request });
}

export function listPolicies(): Promise<Policy[]> {
  return invoke<Policy[]>("list_policies");
}

export function createPolicy(policy: Policy): Promise<Policy> {
  return invoke<Policy>("create_policy", { policy });
}

/** Changes the fields `update.policy` sets (refused if the policy changed since `expected_update_time`). */
export function updatePolicy(uuid: string, update: PolicyUpdate): Promise<Policy> {
  return invoke<Policy>("update_policy", { uuid, update });
}

/** Which past alerts a (possibly unsaved) policy would match. */
export function previewPolicy(policy: Policy): Promise<PolicyPreview> {
  return invoke<PolicyPreview>("preview_policy", { policy });
}

/** Audit events matching `filter`, newest first. */
export function queryAudit(filter: AuditFilter): Promise<AuditEvent[]> {
  return invoke<AuditEvent[]>("query_audit", { filter });
}

/** Whether a command error is the "changed since you read it" conflict. */
export function isConflict(message: string): boolean {
  return /changed since/i.test(message);
}

/** Who an alert can be assigned to: the local accounts, with the uuid `update_owner` expects. */
export function alertOwnerChoices(): Promise<UpdateOwner[]> {
  return invoke<UpdateOwner[]>("alert_owner_choices");
}

/** Every workflow, oldest first. */
export function listWorkflows(): Promise<Workflow[]> {
  return invoke<Workflow[]>("list_workflows");
}

/** Workflow runs with one of `statuses` (WorkflowRunStatus names; empty: every status), newest first. */
export function queryWorkflowRuns(statuses: string[]): Promise<WorkflowRun[]> {
  const filter: RunFilter = {
    status: statuses.length > 0 ? statuses.join(",") : null,
    workflow_uuid: null,
    user_uuid: null,
    app_protocol: null,
    app_host: null,
    app_port: null,
    app_uuid: null,
  };
  return invoke<WorkflowRun[]>("query_workflow_runs", { filter });
}

export function getWorkflowRun(uuid: string): Promise<WorkflowRun> {
  return invoke<WorkflowRun>("get_workflow_run", { uuid });
}

/** Answers a pending run with the answer at `answerIndex` of its `answers`; resolves to the run with its outcome. */
export function answerWorkflowRun(uuid: string, answerIndex: number, justification: string): Promise<WorkflowRun> {
  const request: AnswerRequest = {
    account_name: "",
    answer_index: String(answerIndex),
    justification,
    mfa_passcode: "",
    token: 0,
    uuid,
  };
  return invoke<WorkflowRun>("answer_workflow_run", { uuid, request });
}

/** The API tokens this machine's user may see, suspended ones included (no secrets). */
export function listApiTokens(): Promise<Token[]> {
  return invoke<Token[]>("list_api_tokens");
}

/**
 * Creates an ACTIVE API token with TokenRole `role` (0: the creator's own) and a lifetime of `ttlSec`
 * seconds (0: ten years). Its `secret` is in this answer only.
 */
export function createApiToken(name: string, description: string, role: number, ttlSec: number): Promise<Token> {
  const request: CreateTokenRequest = { account_name: "", description, name, role, status: 0, ttl_sec: ttlSec, user_uuid: "" };
  return invoke<Token>("create_api_token", { request });
}

/** Sets a token's status (EnumStatus): SUSPENDED revokes it until it is ACTIVE again. */
export function setApiTokenStatus(uuid: string, status: number): Promise<Token> {
  const request: UpdateTokenRequest = {
    account_name: "",
    attributes_to_delete: [],
    description: null,
    name: null,
    role: null,
    status,
    uuid,
  };
  return invoke<Token>("update_api_token", { uuid, request });
}
