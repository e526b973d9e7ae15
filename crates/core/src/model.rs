//! The canonical connection record (DESIGN §4), shared by import, demo data, queries and every door.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One remote-access connection, as stored.
///
/// Timestamps are epoch milliseconds (UTC). `user_roles` and `tags` are lists; in CSV and in the
/// database they are written `;`-separated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Connection {
    /// Unique id; re-importing a row with an existing id does not duplicate it.
    pub id: String,
    /// When the connection was opened (epoch ms).
    #[ts(type = "number")]
    pub connected: i64,
    /// When it was closed (epoch ms), if known.
    #[ts(type = "number | null")]
    pub disconnected: Option<i64>,
    /// Length in seconds; derived from the timestamps when absent and both are given.
    pub duration: Option<f64>,
    /// Account that opened the connection.
    pub user: String,
    /// Roles of that account.
    pub user_roles: Vec<String>,
    /// Protocol: SSH, RDP, VNC, WEB, DB, ...
    #[serde(rename = "type")]
    pub conn_type: String,
    /// Target host name.
    pub target_host: String,
    /// Target host IP address.
    pub target_host_address: Option<String>,
    /// Account used on the target.
    pub target_host_account: Option<String>,
    /// Source IP address of the client.
    pub remote_address: String,
    /// Bytes from client to target.
    #[ts(type = "number | null")]
    pub bytes_in: Option<i64>,
    /// Bytes from target to client.
    #[ts(type = "number | null")]
    pub bytes_out: Option<i64>,
    /// CONNECTED, DISCONNECTED, FAILED, ...
    pub status: Option<String>,
    /// password, publickey, certificate, ...
    pub authentication_method: Option<String>,
    /// Why the connection ended, as given.
    pub termination_reason: Option<String>,
    /// Connection mode, as given.
    pub mode: Option<String>,
    /// Client user agent, as given.
    pub user_agent: Option<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Ground truth for evaluation (`normal` or a scenario name); never used in training.
    pub label: Option<String>,
}

/// Column names in storage and CSV order. CSV headers and JSON keys use exactly these names.
pub const CONNECTION_COLUMNS: [&str; 20] = [
    "id",
    "connected",
    "disconnected",
    "duration",
    "user",
    "user_roles",
    "type",
    "target_host",
    "target_host_address",
    "target_host_account",
    "remote_address",
    "bytes_in",
    "bytes_out",
    "status",
    "authentication_method",
    "termination_reason",
    "mode",
    "user_agent",
    "tags",
    "label",
];

/// Joins a list field the way CSV and the database store it (`None` when empty).
pub fn join_list(items: &[String]) -> Option<String> {
    if items.is_empty() {
        None
    } else {
        Some(items.join(";"))
    }
}

/// Splits a stored or CSV list field; empty items are dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Formats epoch milliseconds as RFC 3339 UTC with millisecond precision.
pub fn format_timestamp(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => ms.to_string(),
    }
}
