//! The overview: what the database holds at a glance.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::{put_setting, Store, StoreError};

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

/// `settings` key of the cached overview.
const CACHE_KEY: &str = "overview_cache";

/// Computes the overview, or returns the cached one when the data has not changed since.
///
/// On tens of millions of rows the overview takes seconds (two index scans and one table scan);
/// it is computed once per change of the data and kept in the database.
pub fn overview(store: &Store) -> Result<Overview, StoreError> {
    let version = store.read(|c| {
        c.query_row(
            "SELECT (SELECT coalesce(max(rowid), 0) FROM connections) || ':' ||
                    (SELECT count(*) FROM connections) || ':' || (SELECT count(*) FROM imports)",
            [],
            |r| r.get::<_, String>(0),
        )
        .map_err(StoreError::from)
    })?;
    if let Some(cached) = store.setting(CACHE_KEY)? {
        if let Ok((v, o)) = serde_json::from_str::<(String, Overview)>(&cached) {
            if v == version {
                return Ok(o);
            }
        }
    }
    let fresh = compute(store)?;
    if let Ok(text) = serde_json::to_string(&(&version, &fresh)) {
        // Caching is an optimisation: skip it rather than wait behind a running import.
        if let Some(result) = store.try_write(|c| put_setting(c, CACHE_KEY, &text)) {
            result?;
        }
    }
    Ok(fresh)
}

/// Top `TOP_N` of `(name, count)` pairs, by count then name.
fn top(mut all: Vec<NameCount>) -> Vec<NameCount> {
    all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    all.truncate(TOP_N);
    all
}

fn compute(store: &Store) -> Result<Overview, StoreError> {
    store.read(|c| {
        let grouped = |sql: &str| -> rusqlite::Result<Vec<NameCount>> {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok(NameCount {
                    name: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                })
            })?;
            rows.collect()
        };
        let (first_ms, last_ms) = c.query_row(
            "SELECT min(connected), max(connected) FROM connections",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut per_day_stmt = c.prepare(
            "SELECT connected / 86400000 * 86400000 AS day, count(*) FROM connections \
             GROUP BY day ORDER BY day",
        )?;
        let per_day = per_day_stmt
            .query_map([], |r| {
                Ok(DayCount {
                    day_ms: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        // Users and hosts come from their indexes; protocols, labels and sources from one pass
        // over the table.
        let users = grouped("SELECT user, count(*) FROM connections GROUP BY user")?;
        let hosts = grouped("SELECT target_host, count(*) FROM connections GROUP BY target_host")?;
        let mut by_type: HashMap<String, u64> = HashMap::new();
        let mut by_label: HashMap<String, u64> = HashMap::new();
        let mut sources: HashSet<String> = HashSet::new();
        let mut connections = 0u64;
        let mut scan = c.prepare("SELECT type, label, remote_address FROM connections")?;
        let mut rows = scan.query([])?;
        while let Some(row) = rows.next()? {
            connections += 1;
            let t = row.get_ref(0)?.as_str().unwrap_or_default();
            match by_type.get_mut(t) {
                Some(n) => *n += 1,
                None => {
                    by_type.insert(t.to_owned(), 1);
                }
            }
            if let Ok(Some(label)) = row.get_ref(1)?.as_str_or_null() {
                match by_label.get_mut(label) {
                    Some(n) => *n += 1,
                    None => {
                        by_label.insert(label.to_owned(), 1);
                    }
                }
            }
            let source = row.get_ref(2)?.as_str().unwrap_or_default();
            if !sources.contains(source) {
                sources.insert(source.to_owned());
            }
        }
        let sorted = |m: HashMap<String, u64>| {
            let mut v: Vec<NameCount> = m
                .into_iter()
                .map(|(name, count)| NameCount { name, count })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
            v
        };
        Ok(Overview {
            connections,
            users: users.len() as u64,
            hosts: hosts.len() as u64,
            sources: sources.len() as u64,
            first_ms,
            last_ms,
            per_day,
            top_users: top(users),
            top_hosts: top(hosts),
            by_type: sorted(by_type),
            by_label: sorted(by_label),
            imports: c.query_row("SELECT count(*) FROM imports", [], |r| r.get::<_, i64>(0))?
                as u64,
        })
    })
}
