//! The request journal of the REST listener: one line per request (method, path, status,
//! latency, caller, time), bounded in size, queryable with filters.
//!
//! The listener batches entries and appends them in one transaction, so journaling costs a
//! request nothing measurable; the oldest lines are pruned past the capacity.

use rusqlite::params_from_iter;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::{Store, StoreError};

/// Lines kept; older ones are pruned.
pub const DEFAULT_CAPACITY: u64 = 100_000;
/// Most lines one query returns.
pub const MAX_PAGE: u32 = 1_000;

/// One request as the listener saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct JournalEntry {
    /// When the request arrived (epoch ms).
    #[ts(type = "number")]
    pub time: i64,
    /// HTTP method.
    pub method: String,
    /// Request path (without the query string, which may carry secrets).
    pub path: String,
    /// Response status.
    pub status: u16,
    /// Time to the response head, in microseconds.
    #[ts(type = "number")]
    pub latency_us: u64,
    /// The authenticated account or client, or the peer address.
    pub caller: String,
    /// Which API surface: `privx`, `workbench`, `auth`, `openapi` or `other`.
    pub surface: String,
}

/// A stored journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct JournalRecord {
    /// Its sequence number (grows with time).
    #[ts(type = "number")]
    pub id: i64,
    /// The request.
    #[serde(flatten)]
    #[ts(flatten)]
    pub entry: JournalEntry,
}

/// Which journal lines to return; every condition is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::IntoParams)]
#[ts(export)]
#[into_params(parameter_in = Query)]
pub struct JournalFilter {
    /// Exact HTTP method.
    #[serde(default)]
    pub method: Option<String>,
    /// Substring of the path.
    #[serde(default)]
    pub path: Option<String>,
    /// Lowest status (inclusive).
    #[serde(default)]
    pub status_min: Option<u16>,
    /// Highest status (inclusive).
    #[serde(default)]
    pub status_max: Option<u16>,
    /// Exact caller.
    #[serde(default)]
    pub caller: Option<String>,
    /// Exact surface.
    #[serde(default)]
    pub surface: Option<String>,
    /// Earliest time (epoch ms, inclusive).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub since: Option<i64>,
    /// Latest time (epoch ms, exclusive).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub until: Option<i64>,
    /// Lines to skip (newest first).
    #[serde(default)]
    pub offset: Option<u32>,
    /// Lines to return (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of journal lines, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct JournalPage {
    /// Lines matching the filter in all.
    #[ts(type = "number")]
    pub total: u64,
    /// This page.
    pub items: Vec<JournalRecord>,
}

/// Appends `entries` in one transaction and prunes the lines beyond `capacity`.
pub fn append(store: &Store, entries: &[JournalEntry], capacity: u64) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    // Journal lines change nothing that status or other cached answers depend on.
    store.write_untracked(|c| {
        let tx = c.transaction()?;
        {
            // Many rows per statement: a busy listener journals tens of thousands of requests
            // a second, and SQLite's per-statement overhead would dominate.
            let mut full = tx.prepare_cached(&insert_sql(ROWS_PER_INSERT))?;
            let mut one = tx.prepare_cached(&insert_sql(1))?;
            for chunk in entries.chunks(ROWS_PER_INSERT) {
                let values: Vec<rusqlite::types::Value> =
                    chunk.iter().flat_map(row_values).collect();
                if chunk.len() == ROWS_PER_INSERT {
                    full.execute(params_from_iter(values))?;
                } else {
                    for row in values.chunks(COLUMNS) {
                        one.execute(params_from_iter(row))?;
                    }
                }
            }
        }
        tx.prepare_cached(
            "DELETE FROM request_journal
             WHERE id <= (SELECT max(id) FROM request_journal) - ?1",
        )?
        .execute([capacity as i64])?;
        tx.commit()?;
        Ok(())
    })
}

/// Rows per multi-row `INSERT` of [`append`].
const ROWS_PER_INSERT: usize = 64;
/// Columns of one journal row.
const COLUMNS: usize = 7;

fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("?{}", r * COLUMNS + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO request_journal (time, method, path, status, latency_us, caller, surface) VALUES {}",
        tuples.join(", ")
    )
}

fn row_values(e: &JournalEntry) -> [rusqlite::types::Value; COLUMNS] {
    use rusqlite::types::Value;
    [
        Value::Integer(e.time),
        Value::Text(e.method.clone()),
        Value::Text(e.path.clone()),
        Value::Integer(e.status.into()),
        Value::Integer(e.latency_us.min(i64::MAX as u64) as i64),
        Value::Text(e.caller.clone()),
        Value::Text(e.surface.clone()),
    ]
}

/// Journal lines matching `filter`, newest first.
pub fn query(store: &Store, filter: &JournalFilter) -> Result<JournalPage, StoreError> {
    let mut terms: Vec<&str> = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    use rusqlite::types::Value;
    if let Some(m) = &filter.method {
        terms.push("method = ?");
        args.push(Value::Text(m.to_ascii_uppercase()));
    }
    if let Some(p) = &filter.path {
        terms.push("instr(path, ?) > 0");
        args.push(Value::Text(p.clone()));
    }
    if let Some(s) = filter.status_min {
        terms.push("status >= ?");
        args.push(Value::Integer(s.into()));
    }
    if let Some(s) = filter.status_max {
        terms.push("status <= ?");
        args.push(Value::Integer(s.into()));
    }
    if let Some(c) = &filter.caller {
        terms.push("caller = ?");
        args.push(Value::Text(c.clone()));
    }
    if let Some(s) = &filter.surface {
        terms.push("surface = ?");
        args.push(Value::Text(s.clone()));
    }
    if let Some(t) = filter.since {
        terms.push("time >= ?");
        args.push(Value::Integer(t));
    }
    if let Some(t) = filter.until {
        terms.push("time < ?");
        args.push(Value::Integer(t));
    }
    let condition = if terms.is_empty() {
        "1".to_owned()
    } else {
        terms.join(" AND ")
    };
    let limit = filter.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let offset = filter.offset.unwrap_or(0);
    store.read(|c| {
        let total: i64 = c.query_row(
            &format!("SELECT count(*) FROM request_journal WHERE {condition}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let mut stmt = c.prepare(&format!(
            "SELECT id, time, method, path, status, latency_us, caller, surface
             FROM request_journal WHERE {condition} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        ))?;
        let items = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok(JournalRecord {
                    id: r.get(0)?,
                    entry: JournalEntry {
                        time: r.get(1)?,
                        method: r.get(2)?,
                        path: r.get(3)?,
                        status: r.get(4)?,
                        latency_us: r.get::<_, i64>(5)?.max(0) as u64,
                        caller: r.get(6)?,
                        surface: r.get(7)?,
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(JournalPage {
            total: total.max(0) as u64,
            items,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: i64, status: u16, caller: &str) -> JournalEntry {
        JournalEntry {
            time: 1_000 + i,
            method: if i % 2 == 0 { "GET" } else { "POST" }.into(),
            path: format!("/connection-manager/api/v1/ueba/datasets/{i}"),
            status,
            latency_us: 100 + i as u64,
            caller: caller.into(),
            surface: "privx".into(),
        }
    }

    #[test]
    fn filters_page_and_bound_the_journal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("w.db")).expect("open");
        let entries: Vec<_> = (0..50)
            .map(|i| {
                entry(
                    i,
                    if i % 5 == 0 { 401 } else { 200 },
                    if i < 25 { "alice" } else { "bob" },
                )
            })
            .collect();
        append(&store, &entries, 40).expect("append");
        let all = query(&store, &JournalFilter::default()).expect("query");
        assert_eq!(all.total, 40, "bounded to its capacity");
        assert_eq!(all.items[0].entry.time, 1_049, "newest first");
        let refused = query(
            &store,
            &JournalFilter {
                status_min: Some(400),
                ..Default::default()
            },
        )
        .expect("query");
        assert!(refused.items.iter().all(|r| r.entry.status == 401));
        assert_eq!(refused.total, 8);
        let bob_posts = query(
            &store,
            &JournalFilter {
                caller: Some("bob".into()),
                method: Some("post".into()),
                limit: Some(3),
                offset: Some(1),
                ..Default::default()
            },
        )
        .expect("query");
        assert_eq!(bob_posts.total, 13);
        assert_eq!(bob_posts.items.len(), 3);
        assert_eq!(bob_posts.items[0].entry.time, 1_047);
        let window = query(
            &store,
            &JournalFilter {
                since: Some(1_040),
                until: Some(1_045),
                path: Some("datasets/4".into()),
                ..Default::default()
            },
        )
        .expect("query");
        assert_eq!(window.total, 5);
    }

    #[test]
    fn large_batches_keep_every_line_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("w.db")).expect("open");
        let entries: Vec<_> = (0..200).map(|i| entry(i, 200, "carol")).collect();
        append(&store, &entries, 1_000).expect("append");
        let page = query(
            &store,
            &JournalFilter {
                limit: Some(1_000),
                ..Default::default()
            },
        )
        .expect("query");
        assert_eq!(page.total, 200);
        let times: Vec<i64> = page.items.iter().rev().map(|r| r.entry.time).collect();
        assert_eq!(times, (1_000..1_200).collect::<Vec<_>>());
        assert_eq!(page.items[0].entry, entries[199]);
    }
}
