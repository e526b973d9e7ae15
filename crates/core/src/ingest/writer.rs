//! Inserting connections inside an open transaction, with statements prepared once.
//! Used by file import and by the demo generator alike.

use rusqlite::{params, Statement, Transaction};

use super::{ImportReport, RowError};
use crate::model::{join_list, Connection};

const INSERT_CONNECTION: &str = "INSERT OR IGNORE INTO connections (
    id, connected, disconnected, duration, user, user_roles, type, target_host,
    target_host_address, target_host_account, remote_address, bytes_in, bytes_out, status,
    authentication_method, termination_reason, mode, user_agent, tags, label)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

/// Writes connections (and the import bookkeeping) into an open transaction. Nothing is visible
/// to other connections until the caller commits the transaction.
pub struct ConnectionWriter<'tx> {
    tx: &'tx Transaction<'tx>,
    insert: Statement<'tx>,
    import_id: Option<i64>,
}

impl<'tx> ConnectionWriter<'tx> {
    /// Prepares the statements.
    pub fn new(tx: &'tx Transaction<'tx>) -> rusqlite::Result<Self> {
        Ok(Self { tx, insert: tx.prepare(INSERT_CONNECTION)?, import_id: None })
    }

    /// Inserts one connection; returns `false` when its id was already stored.
    pub fn insert(&mut self, c: &Connection) -> rusqlite::Result<bool> {
        let changed = self.insert.execute(params![
            c.id,
            c.connected,
            c.disconnected,
            c.duration,
            c.user,
            join_list(&c.user_roles),
            c.conn_type,
            c.target_host,
            c.target_host_address,
            c.target_host_account,
            c.remote_address,
            c.bytes_in,
            c.bytes_out,
            c.status,
            c.authentication_method,
            c.termination_reason,
            c.mode,
            c.user_agent,
            join_list(&c.tags),
            c.label,
        ])?;
        Ok(changed == 1)
    }

    /// Opens the bookkeeping row of one imported file; its rejected rows attach to it.
    pub(crate) fn begin_file(&mut self, file: &str, format: &str, skip_invalid: bool) -> rusqlite::Result<i64> {
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
        let mut stmt = self
            .tx
            .prepare_cached("INSERT INTO import_errors (import_id, line, field, reason) VALUES (?1, ?2, ?3, ?4)")?;
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
