//! Inserting connections inside an open transaction, with statements prepared once.
//! Used by file import and by the demo generator alike.
//!
//! Rows are written several to a statement (one multi-row `INSERT`), which roughly halves
//! SQLite's per-row overhead, and large loads rebuild the secondary indexes once at the end
//! instead of updating them row by row (see [`BulkIndexes`]).

use rusqlite::types::ToSql;
use rusqlite::{params, Statement, Transaction};

use super::{ImportReport, RowError};
use crate::model::{join_list, Connection, CONNECTION_COLUMNS};

/// Rows per multi-row `INSERT` (20 columns each, well under SQLite's 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 64;

fn insert_sql(rows: usize) -> String {
    let width = CONNECTION_COLUMNS.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT OR IGNORE INTO connections ({}) VALUES {}",
        CONNECTION_COLUMNS.join(", "),
        tuples.join(", ")
    )
}

/// Writes connections (and the import bookkeeping) into an open transaction. Nothing is visible
/// to other connections until the caller commits the transaction.
pub struct ConnectionWriter<'tx> {
    tx: &'tx Transaction<'tx>,
    insert_many: Statement<'tx>,
    insert_one: Statement<'tx>,
    pending: Vec<Connection>,
    inserted: u64,
    written: u64,
    /// Of `inserted`, how many were already added to `row_counts`.
    counted: u64,
    import_id: Option<i64>,
}

impl<'tx> ConnectionWriter<'tx> {
    /// Prepares the statements.
    pub fn new(tx: &'tx Transaction<'tx>) -> rusqlite::Result<Self> {
        Ok(Self {
            tx,
            insert_many: tx.prepare(&insert_sql(ROWS_PER_STATEMENT))?,
            insert_one: tx.prepare(&insert_sql(1))?,
            pending: Vec::with_capacity(ROWS_PER_STATEMENT),
            inserted: 0,
            written: 0,
            counted: 0,
            import_id: None,
        })
    }

    /// Writes what is queued and adds the new connections to the stored row count. Call it
    /// before committing; dropping the writer does it too (and can only log a failure).
    pub fn finish(mut self) -> rusqlite::Result<u64> {
        self.flush()?;
        self.count_inserted()?;
        Ok(self.inserted)
    }

    fn count_inserted(&mut self) -> rusqlite::Result<()> {
        let new = self.inserted - self.counted;
        if new > 0 {
            self.tx.execute(
                "UPDATE row_counts SET rows = rows + ?1 WHERE name = 'connections'",
                [new as i64],
            )?;
            self.counted = self.inserted;
        }
        Ok(())
    }

    /// Queues one connection; it is written with the next full statement or at [`Self::flush`].
    /// A connection whose id is already stored is skipped (counted by [`Self::duplicates`]).
    pub fn insert(&mut self, c: Connection) -> rusqlite::Result<()> {
        self.pending.push(c);
        if self.pending.len() == ROWS_PER_STATEMENT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the queued connections.
    pub fn flush(&mut self) -> rusqlite::Result<()> {
        let rows = std::mem::take(&mut self.pending);
        let joined: Vec<(Option<String>, Option<String>)> = rows
            .iter()
            .map(|c| (join_list(&c.user_roles), join_list(&c.tags)))
            .collect();
        let values: Vec<&dyn ToSql> = rows
            .iter()
            .zip(&joined)
            .flat_map(|(c, (roles, tags))| row_values(c, roles, tags))
            .collect();
        let changed = if rows.len() == ROWS_PER_STATEMENT {
            self.insert_many.execute(values.as_slice())?
        } else {
            let mut changed = 0;
            for chunk in values.chunks(CONNECTION_COLUMNS.len()) {
                changed += self.insert_one.execute(chunk)?;
            }
            changed
        };
        self.inserted += changed as u64;
        self.written += rows.len() as u64;
        drop(values);
        self.pending = rows;
        self.pending.clear();
        Ok(())
    }

    /// Connections newly stored so far (after [`Self::flush`]).
    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// Connections skipped so far because their id was already stored (after [`Self::flush`]).
    pub fn duplicates(&self) -> u64 {
        self.written - self.inserted
    }

    /// Opens the bookkeeping row of one imported file; its rejected rows attach to it.
    pub(crate) fn begin_file(
        &mut self,
        file: &str,
        format: &str,
        skip_invalid: bool,
    ) -> rusqlite::Result<i64> {
        let now = chrono::Utc::now().timestamp_millis();
        self.tx.execute(
            "INSERT INTO imports (file, format, skip_invalid, started_at, finished_at,
                                  rows_read, inserted, duplicates, invalid)
             VALUES (?1, ?2, ?3, ?4, ?4, 0, 0, 0, 0)",
            params![file, format, skip_invalid, now],
        )?;
        let id = self.tx.last_insert_rowid();
        self.import_id = Some(id);
        Ok(id)
    }

    /// Stores a rejected row of the current file.
    pub(crate) fn push_error(&mut self, e: &RowError) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO import_errors (import_id, line, field, reason) VALUES (?1, ?2, ?3, ?4)",
        )?;
        stmt.execute(params![self.import_id, e.line as i64, e.field, e.reason])?;
        Ok(())
    }

    /// Completes the bookkeeping row of the current file.
    pub(crate) fn end_file(&mut self, report: &ImportReport) -> rusqlite::Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        self.tx.execute(
            "UPDATE imports SET finished_at = ?2, rows_read = ?3, inserted = ?4, duplicates = ?5,
                                invalid = ?6 WHERE id = ?1",
            params![
                self.import_id,
                now,
                report.rows_read as i64,
                report.inserted as i64,
                report.duplicates as i64,
                report.invalid as i64
            ],
        )?;
        Ok(())
    }
}

impl Drop for ConnectionWriter<'_> {
    fn drop(&mut self) {
        // A writer dropped without `finish` (an error path, whose transaction rolls back
        // anyway) still keeps the count consistent with what this transaction inserted.
        if self.inserted > self.counted {
            if let Err(e) = self.count_inserted() {
                tracing::error!("cannot update the connection count: {e}");
            }
        }
    }
}

/// The 20 values of a row, in [`CONNECTION_COLUMNS`] order.
fn row_values<'a>(
    c: &'a Connection,
    roles: &'a Option<String>,
    tags: &'a Option<String>,
) -> [&'a dyn ToSql; 20] {
    [
        &c.id,
        &c.connected,
        &c.disconnected,
        &c.duration,
        &c.user,
        roles,
        &c.conn_type,
        &c.target_host,
        &c.target_host_address,
        &c.target_host_account,
        &c.remote_address,
        &c.bytes_in,
        &c.bytes_out,
        &c.status,
        &c.authentication_method,
        &c.termination_reason,
        &c.mode,
        &c.user_agent,
        tags,
        &c.label,
    ]
}

/// Secondary indexes of `connections` set aside during a large load.
///
/// Updating three indexes row by row costs more than the rows themselves; building them once
/// from sorted data at the end is several times cheaper. Both happen inside the import's
/// transaction, so other readers never see the table without its indexes.
pub struct BulkIndexes {
    definitions: Vec<String>,
}

impl BulkIndexes {
    /// Drops the secondary indexes when `incoming_rows` is large compared with the rows already
    /// stored (rebuilding them is then cheaper than maintaining them).
    pub fn suspend_if_worthwhile(
        tx: &Transaction<'_>,
        incoming_rows: u64,
    ) -> rusqlite::Result<Self> {
        let stored: i64 =
            tx.query_row("SELECT coalesce(max(rowid), 0) FROM connections", [], |r| {
                r.get(0)
            })?;
        if incoming_rows < 50_000 || (incoming_rows as i64) < stored / 2 {
            return Ok(Self {
                definitions: Vec::new(),
            });
        }
        let mut stmt = tx.prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name = 'connections' AND sql IS NOT NULL",
        )?;
        let indexes = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        for (name, _) in &indexes {
            tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        Ok(Self {
            definitions: indexes.into_iter().map(|(_, sql)| sql).collect(),
        })
    }

    /// Rebuilds what was dropped.
    pub fn restore(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        for sql in &self.definitions {
            tx.execute_batch(sql)?;
        }
        Ok(())
    }
}

/// A rollback journal instead of the write-ahead log for a large load, when no other connection
/// has the database open (typically the command line importing into a closed database).
///
/// In WAL mode every page of a load is written twice: into the log, then into the database at
/// the checkpoint. With a rollback journal, pages appended to the file are written once and
/// only the few pages that existed before are journaled, which still makes the load atomic
/// (a hot journal is rolled back at the next open, even after `kill -9`). While another
/// connection is open the switch is refused at once and the load stays in WAL mode.
pub struct BulkJournal {
    switched: bool,
}

impl BulkJournal {
    /// Switches to a rollback journal if the database is not in use elsewhere and the load is
    /// large.
    pub fn enter(conn: &rusqlite::Connection, incoming_rows: u64) -> Self {
        if incoming_rows < 50_000 {
            return Self { switched: false };
        }
        // Never wait for other connections: if there are any, keep WAL.
        let _ = conn.busy_timeout(std::time::Duration::ZERO);
        let mode = conn
            .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get::<_, String>(0))
            .unwrap_or_default();
        let _ = conn.busy_timeout(crate::store::BUSY_TIMEOUT);
        Self {
            switched: mode.eq_ignore_ascii_case("delete"),
        }
    }

    /// Returns to WAL mode.
    pub fn leave(self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        if self.switched {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        Ok(())
    }
}
