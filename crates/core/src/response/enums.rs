//! The names this project gives the Lacework Edge enumerations.
//!
//! The vendor documents these enums as bare integers (only `proto.EnumStatus` gets names, and only
//! in one field description: "INIT = 1; ACTIVE = 2; SUSPENDED = 3; DELETED = 4"). The wire keeps
//! the integers; this table is the one place that names them, for the UI, the CLI, query
//! parameters that accept names (`status_filter=OPEN,IN_PROGRESS`) and the documentation
//! (`docs/lacework-enums.md` is checked against it by a test).

use serde::Serialize;
use ts_rs::TS;

/// One named value of an enumeration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct EnumValue {
    /// The integer on the wire.
    pub value: i64,
    /// The name this project gives it.
    pub name: &'static str,
    /// What it means here.
    pub meaning: &'static str,
}

/// One enumeration: where the vendor uses it and its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct EnumDef {
    /// The vendor's name for it, or the field it types.
    pub name: &'static str,
    /// The fields that carry it.
    pub used_by: &'static str,
    /// Whether the vendor lists the integers (names are always this project's, except
    /// EnumStatus 1–4).
    pub vendor_lists_values: bool,
    /// The values.
    pub values: &'static [EnumValue],
}

impl EnumDef {
    /// The name of `value`, if it is one of this enum's.
    pub fn name_of(&self, value: i64) -> Option<&'static str> {
        self.values
            .iter()
            .find(|v| v.value == value)
            .map(|v| v.name)
    }

    /// The value named `name` (case-insensitive), or the integer itself when `name` is one of
    /// this enum's values written as a number.
    pub fn parse(&self, name: &str) -> Option<i64> {
        let name = name.trim();
        if let Ok(n) = name.parse::<i64>() {
            return self.values.iter().any(|v| v.value == n).then_some(n);
        }
        self.values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .map(|v| v.value)
    }

    /// Whether `value` is one of this enum's.
    pub fn contains(&self, value: i64) -> bool {
        self.values.iter().any(|v| v.value == value)
    }

    /// The accepted names, for error messages.
    pub fn names(&self) -> String {
        self.values
            .iter()
            .map(|v| format!("{} ({})", v.name, v.value))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const fn v(value: i64, name: &'static str, meaning: &'static str) -> EnumValue {
    EnumValue {
        value,
        name,
        meaning,
    }
}

/// `proto.EnumStatus`: the life cycle of policies, tokens, workflows, groups and the long tail.
pub const ENUM_STATUS: EnumDef = EnumDef {
    name: "proto.EnumStatus",
    used_by: "status of Access, AlertConfig, Connector, Group, Policy, Token, Workflow, ...",
    vendor_lists_values: true,
    values: &[
        v(0, "UNSPECIFIED", "not set; stored objects get ACTIVE"),
        v(1, "INIT", "created, not in force yet (the vendor's name)"),
        v(2, "ACTIVE", "in force (the vendor's name)"),
        v(3, "SUSPENDED", "kept but not in force (the vendor's name)"),
        v(
            4,
            "DELETED",
            "deleted; kept for the audit trail (the vendor's name)",
        ),
    ],
};

/// Alert `status` and `AlertStatusChange.new_status`; the names `status_filter` accepts.
pub const ALERT_STATUS: EnumDef = EnumDef {
    name: "AlertStatus",
    used_by: "Alert.status, AlertStatusChange.new_status, status_filter of Query open alerts",
    vendor_lists_values: false,
    values: &[
        v(0, "UNSPECIFIED", "not set"),
        v(1, "OPEN", "raised, nobody works on it yet"),
        v(2, "IN_PROGRESS", "an analyst is investigating"),
        v(3, "CLOSED", "closed, with an incident status saying why"),
    ],
};

/// Alert `incident_status` and `CloseWithReason.incident_status`: why an alert was closed.
pub const INCIDENT_STATUS: EnumDef = EnumDef {
    name: "IncidentStatus",
    used_by: "Alert.incident_status, CloseWithReason.incident_status",
    vendor_lists_values: false,
    values: &[
        v(0, "UNSPECIFIED", "open alerts have no incident status"),
        v(1, "UNDETERMINED", "closed without a conclusion"),
        v(2, "TRUE_POSITIVE", "a real incident"),
        v(3, "FALSE_POSITIVE", "the model was wrong"),
        v(
            4,
            "EXPECTED_ACTIVITY",
            "unusual but legitimate (e.g. planned maintenance)",
        ),
        v(5, "DUPLICATE", "the same incident as another alert"),
    ],
};

/// Alert `severity`, derived from the anomaly score (see `alerts::severity_for_score`).
pub const ALERT_SEVERITY: EnumDef = EnumDef {
    name: "AlertSeverity",
    used_by: "Alert.severity, AlertConfig.severity_to_assign",
    vendor_lists_values: false,
    values: &[
        v(0, "UNSPECIFIED", "not set"),
        v(
            1,
            "INFO",
            "an event promoted by hand that analysis did not flag",
        ),
        v(2, "LOW", "score below 0.8"),
        v(3, "MEDIUM", "score 0.8 or more"),
        v(4, "HIGH", "score 0.95 or more"),
        v(5, "CRITICAL", "score 0.99 or more"),
    ],
};

/// `proto.InvestigationAction.action_type`: which of the action's fields is set.
pub const INVESTIGATION_ACTION_TYPE: EnumDef = EnumDef {
    name: "InvestigationActionType",
    used_by: "proto.InvestigationAction.action_type",
    vendor_lists_values: false,
    values: &[
        v(
            0,
            "UNSPECIFIED",
            "inferred from the one action field that is set",
        ),
        v(
            1,
            "ALERT_STATUS_CHANGE",
            "alert_status_change: set the status",
        ),
        v(
            2,
            "CLOSE_WITH_REASON",
            "close_with_reason: close with an incident status and a note",
        ),
        v(3, "NOTE", "note: add a note"),
        v(
            4,
            "RUN_WORKFLOW",
            "run_workflow: start a workflow run on the alert",
        ),
        v(5, "UPDATE_OWNER", "update_owner: assign the alert"),
    ],
};

/// Policy `action`: what happens when a policy matches an alert.
pub const POLICY_ACTION: EnumDef = EnumDef {
    name: "PolicyAction",
    used_by: "Policy.action, Alert.policy_action_taken",
    vendor_lists_values: true,
    values: &[
        v(0, "UNSPECIFIED", "no policy matched: alert only"),
        v(
            1,
            "ALLOW",
            "expected activity: the alert is closed at once as EXPECTED_ACTIVITY",
        ),
        v(
            2,
            "BLOCK",
            "block the connection (the anomaly's blocked mark) and alert",
        ),
        v(3, "ALERT_ONLY", "alert, nothing else"),
        v(
            4,
            "ISOLATE_DEVICE",
            "alert and ask the target host's sensor to isolate it",
        ),
        v(101, "RUN_WORKFLOW", "alert and start the policy's workflow"),
        v(
            102,
            "RUN_APP_SPECIFIC_WORKFLOW",
            "as RUN_WORKFLOW (the vendor's name)",
        ),
        v(
            103,
            "REQUIRE_JUSTIFICATION",
            "alert only (a remote-access gateway concept)",
        ),
        v(201, "ROUTE_DIRECT", "alert only (a routing policy concept)"),
        v(
            202,
            "ROUTE_VIA_CONNECTOR",
            "alert only (a routing policy concept)",
        ),
        v(300, "REQUIRE_MFA", "alert only (an access-gateway concept)"),
        v(
            301,
            "REQUIRE_REAUTHENTICATION",
            "alert only (an access-gateway concept)",
        ),
        v(
            310,
            "REQUIRE_DEVICE_POSTURE",
            "alert only (an access-gateway concept)",
        ),
        v(
            399,
            "STEP_UP_OTHER",
            "alert only (an access-gateway concept)",
        ),
        v(400, "LOG_ONLY", "alert only"),
        v(
            500,
            "INSPECT_TRAFFIC",
            "alert only (a traffic-inspection concept)",
        ),
    ],
};

/// `proto.PolicyType`.
pub const POLICY_TYPE: EnumDef = EnumDef {
    name: "proto.PolicyType",
    used_by: "Policy.type",
    vendor_lists_values: true,
    values: &[
        v(0, "UNSPECIFIED", "treated as RESPONSE"),
        v(1, "RESPONSE", "evaluated against every new alert"),
        v(2, "ACCESS", "stored, not evaluated against alerts"),
        v(3, "ROUTING", "stored, not evaluated against alerts"),
        v(4, "DATA", "stored, not evaluated against alerts"),
    ],
};

/// `WorkflowRun.status`; the names are the vendor's `status` query filter strings.
pub const WORKFLOW_RUN_STATUS: EnumDef = EnumDef {
    name: "WorkflowRunStatus",
    used_by: "WorkflowRun.status, status filter of Query WorkflowRuns",
    vendor_lists_values: false,
    values: &[
        v(0, "UNSPECIFIED", "not set"),
        v(1, "CREATED", "created, not yet sent to its recipients"),
        v(2, "PENDING", "waiting for an answer within its TTL"),
        v(3, "SUCCESS", "approved: its action was carried out"),
        v(
            4,
            "FAILURE",
            "denied, or its TTL ran out: its action was dropped",
        ),
        v(
            5,
            "UNSURE",
            "answered unsure: its action was dropped, the alert stays open",
        ),
    ],
};

/// `proto.WorkflowAction.run`: what an approved workflow carries out.
pub const WORKFLOW_ACTION_RUN: EnumDef = EnumDef {
    name: "WorkflowActionRun",
    used_by: "proto.WorkflowAction.run",
    vendor_lists_values: false,
    values: &[
        v(
            0,
            "NOTIFY",
            "note the outcome on the alert (the vendor's default, Notify)",
        ),
        v(1, "BLOCK_CONNECTION", "mark the alert's connection blocked"),
        v(
            2,
            "ISOLATE_DEVICE",
            "ask the target host's sensor to isolate it",
        ),
        v(3, "CLOSE_ALERT", "close the alert as a true positive"),
    ],
};

/// Token `role` (the vendor lists 0 10 1 12 2 3 14 15 16 4 5 in that order).
pub const TOKEN_ROLE: EnumDef = EnumDef {
    name: "TokenRole",
    used_by: "Token.role, Token.creator_role, LoginSession.user_role, AuditEvent.auth_role",
    vendor_lists_values: true,
    values: &[
        v(0, "UNSPECIFIED", "the creator's own role"),
        v(1, "ADMIN", "everything (local role admin)"),
        v(
            2,
            "ANALYST",
            "triage alerts, run investigations (local role user)",
        ),
        v(3, "VIEWER", "read only (local role connectionsView)"),
        v(
            4,
            "SERVICE",
            "scripts: read and ingest (local role service)",
        ),
        v(5, "AUDITOR", "audit events and reads"),
        v(10, "SUPER_ADMIN", "as ADMIN"),
        v(12, "POLICY_ADMIN", "policies and workflows, and reads"),
        v(14, "HELPDESK", "as VIEWER"),
        v(15, "DEVICE_ADMIN", "as VIEWER"),
        v(16, "API_ONLY", "as SERVICE"),
    ],
};

/// Every enumeration of the table, in documentation order.
pub const ALL: &[EnumDef] = &[
    ENUM_STATUS,
    ALERT_STATUS,
    INCIDENT_STATUS,
    ALERT_SEVERITY,
    INVESTIGATION_ACTION_TYPE,
    POLICY_ACTION,
    POLICY_TYPE,
    WORKFLOW_RUN_STATUS,
    WORKFLOW_ACTION_RUN,
    TOKEN_ROLE,
];

/// The table as Markdown (what `docs/lacework-enums.md` holds below its introduction).
pub fn markdown() -> String {
    let mut out = String::new();
    for e in ALL {
        out.push_str(&format!("## {}\n\nUsed by: {}.", e.name, e.used_by));
        if !e.vendor_lists_values {
            out.push_str(" The vendor does not list the values; they are this project's.");
        }
        out.push_str("\n\n| value | name | meaning |\n|---:|---|---|\n");
        for value in e.values {
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                value.value, value.name, value.meaning
            ));
        }
        out.push('\n');
    }
    out
}
