//! Querying stored connections: filtered counts and keyset-paginated lists that stay fast on
//! tens of millions of rows (no OFFSET: a page is found through the time index from a cursor).

use std::time::{Duration, Instant};

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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
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
#[derive(Debug, Clone, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Page {
    /// The rows.
    pub rows: Vec<Connection>,
    /// Cursor for the next (older) page, if there is one.
    pub next_cursor: Option<String>,
    /// Cursor for the previous (newer) page, if there is one.
    pub prev_cursor: Option<String>,
    /// `false` when a scanning search ran out of time before filling the page: more matches may
    /// lie beyond `next_cursor` (for a previous page: `prev_cursor`).
    pub complete: bool,
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
    if clause.is_empty() {
        // The total is kept by the writers; no need to walk an index.
        return store.read(|c| {
            let n: i64 = c
                .prepare_cached("SELECT rows FROM row_counts WHERE name = 'connections'")?
                .query_row([], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        });
    }
    store.read(|c| {
        let n: i64 = c.query_row(
            &format!("SELECT count(*) FROM connections {clause}"),
            rusqlite::params_from_iter(args),
            |r| r.get(0),
        )?;
        Ok(n as u64)
    })
}

/// Counts like [`count`], but gives up after `budget` and returns `None` ("many; narrow the
/// filter"), so a door can show a count without ever waiting long for it.
pub fn count_within(
    store: &Store,
    filter: &ConnectionFilter,
    budget: Duration,
) -> Result<Option<u64>, StoreError> {
    let (clause, args) = where_clause(filter);
    store.read(|c| {
        let interrupt = c.get_interrupt_handle();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if finished.recv_timeout(budget).is_err() {
                interrupt.interrupt();
            }
        });
        let result = c.query_row(
            &format!("SELECT count(*) FROM connections {clause}"),
            rusqlite::params_from_iter(args),
            |r| r.get::<_, i64>(0),
        );
        let _ = done.send(());
        let _ = watchdog.join();
        match result {
            Ok(n) => Ok(Some(n as u64)),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// Whether `cursor` has the shape of a cursor this module hands out.
pub fn is_valid_cursor(cursor: &str) -> bool {
    parse_cursor(cursor).is_some()
}

fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (t, r) = cursor.split_once(':')?;
    Some((t.parse().ok()?, r.parse().ok()?))
}

fn make_cursor(connected: i64, rowid: i64) -> String {
    format!("{connected}:{rowid}")
}

/// Fetches one page of connections matching `filter`, newest first.
///
/// Filters an index can answer (time, user, host) are one query. A filter only a scan can answer
/// (free-text search or protocol alone) walks back through time in growing windows until the page
/// is full or [`SCAN_BUDGET`] is spent; the page then says `complete: false` and its
/// `next_cursor` continues from where the scan stopped, so the table stays responsive on tens of
/// millions of rows.
pub fn list(
    store: &Store,
    filter: &ConnectionFilter,
    page: &PageRequest,
) -> Result<Page, StoreError> {
    let limit = page.limit.clamp(1, MAX_PAGE_ROWS) as usize;
    let cursor = page.cursor.as_deref().and_then(parse_cursor);
    let backwards = cursor.is_some() && page.direction == Direction::Prev;
    let started = Instant::now();
    let mut rows: Vec<(i64, Connection)> = Vec::new();
    let mut complete = true;
    let mut scan_stop: Option<(i64, i64)> = None;
    store.read(|c| {
        if !needs_scan(filter) {
            rows = query_page(c, filter, cursor, None, backwards, limit + 1)?;
            return Ok::<_, StoreError>(());
        }
        let (first, last): (Option<i64>, Option<i64>) = c.query_row(
            "SELECT min(connected), max(connected) FROM connections",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(());
        };
        let mut position = cursor.unwrap_or(if backwards {
            (i64::MIN, i64::MIN)
        } else {
            (i64::MAX, i64::MAX)
        });
        let mut window = FIRST_WINDOW_MS;
        loop {
            // The window's far edge, as an exclusive/inclusive time bound.
            let edge = if backwards {
                position.0.max(first).saturating_add(window)
            } else {
                position
                    .0
                    .min(last.saturating_add(1))
                    .saturating_sub(window)
            };
            let want = limit + 1 - rows.len();
            let t0 = Instant::now();
            let found = query_page(c, filter, Some(position), Some(edge), backwards, want)?;
            rows.extend(found);
            // Continue from the window's far edge (every row before it has been searched).
            position = (edge, i64::MIN);
            let exhausted = if backwards {
                edge > last
            } else {
                edge <= first
            };
            if rows.len() > limit || exhausted {
                break;
            }
            // Grow the window while windows are quick, and stop before one that would likely
            // overrun the budget (a window costs about what the last one did, times its growth).
            let last = t0.elapsed();
            let grow = last < SCAN_BUDGET / 8;
            let next_cost = if grow { last * 2 } else { last };
            if started.elapsed() + next_cost >= SCAN_BUDGET {
                complete = false;
                scan_stop = Some(position);
                break;
            }
            if grow {
                window = window.saturating_mul(2);
            }
        }
        Ok(())
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
    let stop_cursor = scan_stop.map(|(t, r)| make_cursor(t, r));
    let (next_cursor, prev_cursor) = if backwards {
        let prev = if more { edge(0) } else { stop_cursor };
        (rows.len().checked_sub(1).and_then(edge), prev)
    } else {
        let next = if more {
            rows.len().checked_sub(1).and_then(edge)
        } else {
            stop_cursor
        };
        (next, if cursor.is_some() { edge(0) } else { None })
    };
    Ok(Page {
        rows: rows.into_iter().map(|(_, c)| c).collect(),
        next_cursor,
        prev_cursor,
        complete,
    })
}

/// How long a door waits for a count before showing "too many to count quickly".
pub const COUNT_BUDGET: Duration = Duration::from_secs(3);

/// Time a scanning query may take before it returns what it found so far.
pub const SCAN_BUDGET: Duration = Duration::from_millis(1500);
/// First window of a scan (then doubled while windows are quick).
const FIRST_WINDOW_MS: i64 = 3_600_000;

/// Whether only a scan can answer the filter (no user or host index narrows it).
fn needs_scan(filter: &ConnectionFilter) -> bool {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    (set(&filter.search) || set(&filter.conn_type)) && !set(&filter.user) && !set(&filter.host)
}

/// One query: rows after `cursor` (in the page's direction), optionally not beyond the time
/// `edge`, at most `limit`.
fn query_page(
    c: &rusqlite::Connection,
    filter: &ConnectionFilter,
    cursor: Option<(i64, i64)>,
    edge: Option<i64>,
    backwards: bool,
    limit: usize,
) -> Result<Vec<(i64, Connection)>, StoreError> {
    let (mut clause, mut args) = where_clause(filter);
    let mut terms = Vec::new();
    if let Some((t, r)) = cursor {
        let op = if backwards { ">" } else { "<" };
        terms.push(format!(
            "(connected, rowid) {op} (?{}, ?{})",
            args.len() + 1,
            args.len() + 2
        ));
        args.extend([t.into(), r.into()]);
    }
    if let Some(edge) = edge {
        let op = if backwards { "<" } else { ">=" };
        terms.push(format!("connected {op} ?{}", args.len() + 1));
        args.push(edge.into());
    }
    for term in terms {
        clause = if clause.is_empty() {
            format!("WHERE {term}")
        } else {
            format!("{clause} AND {term}")
        };
    }
    let order = if backwards { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {SELECT_COLUMNS} FROM connections {clause} \
         ORDER BY connected {order}, rowid {order} LIMIT {limit}"
    );
    let mut stmt = c.prepare(&sql)?;
    let found = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((r.get::<_, i64>(0)?, row_to_connection(r)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(found)
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
