//! Querying stored connections: filtered counts and keyset-paginated lists that stay fast on
//! tens of millions of rows (no OFFSET: a page is found through the time index from a cursor).

use rusqlite::types::Value as SqlValue;
use rusqlite::Row;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{split_list, Connection};
use crate::store::{Store, StoreError};

/// Which connections to show. Empty fields do not filter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionFilter {
    /// Connected at or after (epoch ms).
    #[ts(type = "number | null")]
    pub from: Option<i64>,
    /// Connected before (epoch ms).
    #[ts(type = "number | null")]
    pub to: Option<i64>,
    /// Exactly this user.
    pub user: Option<String>,
    /// Exactly this target host.
    pub host: Option<String>,
    /// Exactly this protocol (case-insensitive).
    pub conn_type: Option<String>,
    /// Text contained (case-insensitive) in the user, target host, target account, source
    /// address, id or label.
    pub search: Option<String>,
}

/// Which way to page from a cursor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Direction {
    /// Older rows (the next page; pages run newest first).
    #[default]
    Next,
    /// Newer rows (the previous page).
    Prev,
}

/// One page to fetch.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageRequest {
    /// Rows per page (1–1000).
    pub limit: u32,
    /// A cursor from a previous [`Page`]; `None` for the newest page.
    pub cursor: Option<String>,
    /// Which way to go from the cursor.
    #[serde(default)]
    pub direction: Direction,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: 100,
            cursor: None,
            direction: Direction::Next,
        }
    }
}

/// One page of connections, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Page {
    /// The rows.
    pub rows: Vec<Connection>,
    /// Cursor for the next (older) page, if there is one.
    pub next_cursor: Option<String>,
    /// Cursor for the previous (newer) page, if there is one.
    pub prev_cursor: Option<String>,
}

/// Largest page served.
pub const MAX_PAGE_ROWS: u32 = 1000;

const SELECT_COLUMNS: &str = "rowid, id, connected, disconnected, duration, user, user_roles, type, \
    target_host, target_host_address, target_host_account, remote_address, bytes_in, bytes_out, status, \
    authentication_method, termination_reason, mode, user_agent, tags, label";

/// Builds the WHERE clause of a filter.
fn where_clause(filter: &ConnectionFilter) -> (String, Vec<SqlValue>) {
    let mut terms: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(from) = filter.from {
        args.push(from.into());
        terms.push(format!("connected >= ?{}", args.len()));
    }
    if let Some(to) = filter.to {
        args.push(to.into());
        terms.push(format!("connected < ?{}", args.len()));
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(user) = text(&filter.user) {
        args.push(user.into());
        terms.push(format!("user = ?{}", args.len()));
    }
    if let Some(host) = text(&filter.host) {
        args.push(host.into());
        terms.push(format!("target_host = ?{}", args.len()));
    }
    if let Some(t) = text(&filter.conn_type) {
        args.push(t.to_ascii_uppercase().into());
        terms.push(format!("type = ?{}", args.len()));
    }
    if let Some(search) = text(&filter.search) {
        args.push(search.to_lowercase().into());
        let n = args.len();
        terms.push(format!(
            "(instr(lower(user), ?{n}) OR instr(lower(target_host), ?{n}) OR instr(remote_address, ?{n}) \
             OR instr(lower(coalesce(target_host_account, '')), ?{n}) OR instr(lower(id), ?{n}) \
             OR instr(lower(coalesce(label, '')), ?{n}))"
        ));
    }
    let clause = if terms.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", terms.join(" AND "))
    };
    (clause, args)
}

/// Counts the connections matching `filter`.
pub fn count(store: &Store, filter: &ConnectionFilter) -> Result<u64, StoreError> {
    let (clause, args) = where_clause(filter);
    store.read(|c| {
        let n: i64 = c.query_row(
            &format!("SELECT count(*) FROM connections {clause}"),
            rusqlite::params_from_iter(args),
            |r| r.get(0),
        )?;
        Ok(n as u64)
    })
}

fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (t, r) = cursor.split_once(':')?;
    Some((t.parse().ok()?, r.parse().ok()?))
}

fn make_cursor(connected: i64, rowid: i64) -> String {
    format!("{connected}:{rowid}")
}

/// Fetches one page of connections matching `filter`, newest first.
pub fn list(
    store: &Store,
    filter: &ConnectionFilter,
    page: &PageRequest,
) -> Result<Page, StoreError> {
    let limit = page.limit.clamp(1, MAX_PAGE_ROWS) as usize;
    let (mut clause, mut args) = where_clause(filter);
    let cursor = page.cursor.as_deref().and_then(parse_cursor);
    let backwards = cursor.is_some() && page.direction == Direction::Prev;
    if let Some((t, r)) = cursor {
        args.push(t.into());
        args.push(r.into());
        let op = if backwards { ">" } else { "<" };
        let term = format!(
            "(connected, rowid) {op} (?{}, ?{})",
            args.len() - 1,
            args.len()
        );
        clause = if clause.is_empty() {
            format!("WHERE {term}")
        } else {
            format!("{clause} AND {term}")
        };
    }
    let order = if backwards { "ASC" } else { "DESC" };
    // One row more than asked tells whether another page follows.
    let sql = format!(
        "SELECT {SELECT_COLUMNS} FROM connections {clause} \
         ORDER BY connected {order}, rowid {order} LIMIT {}",
        limit + 1
    );
    let mut rows: Vec<(i64, Connection)> = store.read(|c| {
        let mut stmt = c.prepare(&sql)?;
        let found = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((r.get::<_, i64>(0)?, row_to_connection(r)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, StoreError>(found)
    })?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if backwards {
        rows.reverse();
    }
    let edge = |i: usize| {
        rows.get(i)
            .map(|(rowid, c)| make_cursor(c.connected, *rowid))
    };
    let (has_older, has_newer) = if backwards {
        (true, more)
    } else {
        (more, cursor.is_some())
    };
    let next_cursor = if has_older {
        rows.len().checked_sub(1).and_then(edge)
    } else {
        None
    };
    let prev_cursor = if has_newer { edge(0) } else { None };
    Ok(Page {
        rows: rows.into_iter().map(|(_, c)| c).collect(),
        next_cursor,
        prev_cursor,
    })
}

/// Reads a connection from a row selected with `SELECT_COLUMNS` (column 0 is the rowid).
fn row_to_connection(r: &Row<'_>) -> rusqlite::Result<Connection> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        Ok(r.get::<_, Option<String>>(i)?
            .as_deref()
            .map(split_list)
            .unwrap_or_default())
    };
    Ok(Connection {
        id: r.get(1)?,
        connected: r.get(2)?,
        disconnected: r.get(3)?,
        duration: r.get(4)?,
        user: r.get(5)?,
        user_roles: list(6)?,
        conn_type: r.get(7)?,
        target_host: r.get(8)?,
        target_host_address: r.get(9)?,
        target_host_account: r.get(10)?,
        remote_address: r.get(11)?,
        bytes_in: r.get(12)?,
        bytes_out: r.get(13)?,
        status: r.get(14)?,
        authentication_method: r.get(15)?,
        termination_reason: r.get(16)?,
        mode: r.get(17)?,
        user_agent: r.get(18)?,
        tags: list(19)?,
        label: r.get(20)?,
    })
}
