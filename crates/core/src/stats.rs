//! The overview: what the database holds at a glance.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::{Store, StoreError};

/// How many rows share a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NameCount {
    /// The user, host or protocol.
    pub name: String,
    /// Its number of connections.
    #[ts(type = "number")]
    pub count: u64,
}

/// Connections on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DayCount {
    /// Midnight UTC of the day (epoch ms).
    #[ts(type = "number")]
    pub day_ms: i64,
    /// Connections that day.
    #[ts(type = "number")]
    pub count: u64,
}

/// What the database holds.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Overview {
    /// All stored connections.
    #[ts(type = "number")]
    pub connections: u64,
    /// Distinct users.
    #[ts(type = "number")]
    pub users: u64,
    /// Distinct target hosts.
    #[ts(type = "number")]
    pub hosts: u64,
    /// Distinct source addresses.
    #[ts(type = "number")]
    pub sources: u64,
    /// Earliest connection (epoch ms).
    #[ts(type = "number | null")]
    pub first_ms: Option<i64>,
    /// Latest connection (epoch ms).
    #[ts(type = "number | null")]
    pub last_ms: Option<i64>,
    /// Connections per UTC day, oldest first.
    pub per_day: Vec<DayCount>,
    /// Most active users.
    pub top_users: Vec<NameCount>,
    /// Most used target hosts.
    pub top_hosts: Vec<NameCount>,
    /// Connections per protocol.
    pub by_type: Vec<NameCount>,
    /// Rows per ground-truth label (`normal`, scenario names), when labels are present.
    pub by_label: Vec<NameCount>,
    /// Number of finished imports.
    #[ts(type = "number")]
    pub imports: u64,
}

/// How many entries the top lists have.
pub const TOP_N: usize = 10;

/// Computes the overview.
pub fn overview(store: &Store) -> Result<Overview, StoreError> {
    store.read(|c| {
        let scalar = |sql: &str| -> rusqlite::Result<i64> { c.query_row(sql, [], |r| r.get(0)) };
        let grouped = |sql: &str| -> rusqlite::Result<Vec<NameCount>> {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok(NameCount { name: r.get(0)?, count: r.get::<_, i64>(1)? as u64 })
            })?;
            rows.collect()
        };
        let (first_ms, last_ms) =
            c.query_row("SELECT min(connected), max(connected) FROM connections", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let mut per_day_stmt = c.prepare(
            "SELECT connected / 86400000 * 86400000 AS day, count(*) FROM connections GROUP BY day ORDER BY day",
        )?;
        let per_day = per_day_stmt
            .query_map([], |r| Ok(DayCount { day_ms: r.get(0)?, count: r.get::<_, i64>(1)? as u64 }))?
            .collect::<Result<Vec<_>, _>>()?;
        let top = |col: &str| {
            grouped(&format!(
                "SELECT {col}, count(*) AS n FROM connections GROUP BY {col} ORDER BY n DESC, {col} LIMIT {TOP_N}"
            ))
        };
        Ok(Overview {
            connections: scalar("SELECT count(*) FROM connections")? as u64,
            users: scalar("SELECT count(DISTINCT user) FROM connections")? as u64,
            hosts: scalar("SELECT count(DISTINCT target_host) FROM connections")? as u64,
            sources: scalar("SELECT count(DISTINCT remote_address) FROM connections")? as u64,
            first_ms,
            last_ms,
            per_day,
            top_users: top("user")?,
            top_hosts: top("target_host")?,
            by_type: grouped("SELECT type, count(*) AS n FROM connections GROUP BY type ORDER BY n DESC, type")?,
            by_label: grouped(
                "SELECT label, count(*) AS n FROM connections WHERE label IS NOT NULL \
                 GROUP BY label ORDER BY n DESC, label",
            )?,
            imports: scalar("SELECT count(*) FROM imports")? as u64,
        })
    })
}
