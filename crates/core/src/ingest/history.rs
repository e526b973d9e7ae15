//! Past imports and the rows they rejected.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::RowError;
use crate::store::{Store, StoreError};

/// One finished import of one file.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImportRecord {
    /// Its id.
    #[ts(type = "number")]
    pub id: i64,
    /// The file.
    pub file: String,
    /// The format it was read as.
    pub format: String,
    /// Whether invalid rows were skipped.
    pub skip_invalid: bool,
    /// Start (epoch ms).
    #[ts(type = "number")]
    pub started_at: i64,
    /// End (epoch ms).
    #[ts(type = "number")]
    pub finished_at: i64,
    /// Data rows read.
    #[ts(type = "number")]
    pub rows_read: u64,
    /// New connections stored.
    #[ts(type = "number")]
    pub inserted: u64,
    /// Rows already present.
    #[ts(type = "number")]
    pub duplicates: u64,
    /// Rows rejected.
    #[ts(type = "number")]
    pub invalid: u64,
}

/// All finished imports, newest first.
pub fn list(store: &Store) -> Result<Vec<ImportRecord>, StoreError> {
    store.read(|c| {
        let mut stmt = c.prepare(
            "SELECT id, file, format, skip_invalid, started_at, finished_at, rows_read, inserted,
                    duplicates, invalid FROM imports ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ImportRecord {
                id: r.get(0)?,
                file: r.get(1)?,
                format: r.get(2)?,
                skip_invalid: r.get(3)?,
                started_at: r.get(4)?,
                finished_at: r.get(5)?,
                rows_read: r.get::<_, i64>(6)? as u64,
                inserted: r.get::<_, i64>(7)? as u64,
                duplicates: r.get::<_, i64>(8)? as u64,
                invalid: r.get::<_, i64>(9)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// Every row an import rejected, in file order.
pub fn errors(store: &Store, import_id: i64) -> Result<Vec<RowError>, StoreError> {
    store.read(|c| {
        let mut stmt = c.prepare(
            "SELECT i.file, e.line, e.field, e.reason FROM import_errors e JOIN imports i ON i.id = e.import_id
             WHERE e.import_id = ?1 ORDER BY e.line",
        )?;
        let rows = stmt.query_map([import_id], |r| {
            Ok(RowError { file: r.get(0)?, line: r.get::<_, i64>(1)? as u64, field: r.get(2)?, reason: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}
