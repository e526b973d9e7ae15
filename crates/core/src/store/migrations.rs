//! Schema migrations: the numbered SQL files of `migrations/`, embedded at build time.
//!
//! Files are named `NNNN_description.sql` and numbered from 1 without gaps; the schema version is
//! `PRAGMA user_version`. All pending migrations are applied in one transaction at open.

use std::path::Path;

use include_dir::{include_dir, Dir};
use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use super::StoreError;

static MIGRATIONS_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations");

/// The embedded migration files as `(number, file name, SQL)`, in order.
pub static SCHEMA_MIGRATIONS: std::sync::LazyLock<Vec<(i64, &'static str, &'static str)>> =
    std::sync::LazyLock::new(|| {
        let mut files: Vec<(i64, &'static str, &'static str)> = MIGRATIONS_DIR
            .files()
            .filter_map(|f| {
                let name = f.path().file_name()?.to_str()?;
                let number = name.strip_suffix(".sql")?.split('_').next()?.parse().ok()?;
                Some((number, name, f.contents_utf8()?))
            })
            .collect();
        files.sort_by_key(|(n, _, _)| *n);
        files
    });

/// The schema version a fully migrated database has.
pub fn latest_schema_version() -> i64 {
    SCHEMA_MIGRATIONS.len() as i64
}

/// Brings the schema to the latest version atomically.
pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let failed = |reason: String| StoreError::Migration {
        path: path.to_owned(),
        reason,
    };
    for (i, (number, name, _)) in SCHEMA_MIGRATIONS.iter().enumerate() {
        if *number != i as i64 + 1 {
            return Err(failed(format!(
                "migration file {name} is out of sequence (expected number {})",
                i + 1
            )));
        }
    }
    let steps: Vec<M<'static>> = SCHEMA_MIGRATIONS
        .iter()
        .map(|(_, _, sql)| M::up(sql))
        .collect();
    Migrations::new(steps)
        .to_latest(conn)
        .map_err(|e| failed(e.to_string()))?;
    Ok(())
}
