//! The single SQLite file that holds everything: opening, schema migrations, connection pool and
//! online backup.

mod migrations;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use migrations::{latest_schema_version, SCHEMA_MIGRATIONS};

/// `PRAGMA application_id` of a UEBA Workbench database ("UEBA" in ASCII), so that a foreign
/// SQLite file is recognised and refused instead of being altered.
pub const APPLICATION_ID: i32 = 0x5545_4241;

/// Source of [`Store::id`].
static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// File name of the database inside the platform data directory.
pub const DEFAULT_DB_FILE: &str = "workbench.db";

/// How long a statement waits for another connection's lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Readers kept open for reuse; more may be opened under load and are closed when returned.
/// Opening one costs a schema parse (a tenth of a millisecond), so the REST listener's
/// concurrent requests must find one idle: keep as many as its blocking threads typically use.
const MAX_IDLE_READERS: usize = 64;

/// Everything that can go wrong with the database file itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The database path.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file is an SQLite database of another application.
    #[error("{path} is not a UEBA Workbench database ({reason}); it was left untouched")]
    NotWorkbench {
        /// The database path.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The file was written by a newer UEBA Workbench.
    #[error(
        "{path} has schema version {found}, but this build of UEBA Workbench knows only up to \
         version {supported}; upgrade UEBA Workbench to open it (the file was left untouched)"
    )]
    TooNew {
        /// The database path.
        path: PathBuf,
        /// Schema version found in the file.
        found: i64,
        /// Newest schema version this build knows.
        supported: i64,
    },
    /// Applying the schema migrations failed; nothing of them was applied.
    #[error("cannot upgrade the schema of {path}: {reason}")]
    Migration {
        /// The database path.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A backup target already exists; backups never overwrite.
    #[error("backup target {0} already exists; choose a new file name")]
    BackupTargetExists(PathBuf),
    /// The platform data directory could not be determined.
    #[error("cannot determine the data directory; pass --db PATH or set UEBA_WORKBENCH_DB")]
    NoDataDir,
    /// A file-system operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The default database location: `<platform data dir>/ueba-workbench/workbench.db`
/// (on Linux `~/.local/share/ueba-workbench/workbench.db`, or under `$XDG_DATA_HOME`).
pub fn default_db_path() -> Result<PathBuf, StoreError> {
    let dirs =
        directories::ProjectDirs::from("", "", "ueba-workbench").ok_or(StoreError::NoDataDir)?;
    Ok(dirs.data_dir().join(DEFAULT_DB_FILE))
}

/// The version of the SQLite library linked into this build.
pub fn sqlite_version() -> String {
    rusqlite::version().to_owned()
}

/// An open database: one writer connection and a small pool of readers (WAL lets readers run
/// while a long import holds the writer, and they keep seeing the last committed state).
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Unique in this process, so caches keyed by store never mix two stores.
    id: u64,
    /// Bumped after every use of the writer, so a cached answer can tell it may be stale.
    generation: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A file of another application or of a newer schema is refused and left byte-for-byte
    /// untouched: those checks run before anything is written.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                what: "cannot create the folder of",
                path: path.to_owned(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        check_identity(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A helper thread sorts while the writer (re)builds indexes after a bulk load. (The
        // default 2 MiB page cache measured faster than larger ones: the sorter's runs stay in
        // the CPU caches.)
        conn.pragma_update(None, "threads", 2)?;
        migrations::apply(&mut conn, path)?;
        Ok(Store {
            path: path.to_owned(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the single writer connection (waits while another write, such as an
    /// import, holds it).
    pub fn write<T, E>(&self, f: impl FnOnce(&mut Connection) -> Result<T, E>) -> Result<T, E> {
        let mut guard = lock(&self.writer);
        let result = f(&mut guard);
        self.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// Like [`Store::write`], for writes that no cached answer depends on (the request
    /// journal): they do not change [`Store::write_generation`].
    pub fn write_untracked<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = lock(&self.writer);
        f(&mut guard)
    }

    /// This store's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Changes after every write through this store (writes by other processes are not seen
    /// here; caches bound their age for those).
    pub fn write_generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Runs `f` with the writer connection if no one else holds it right now; `None` otherwise.
    pub fn try_write<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let mut guard = match self.writer.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        let result = f(&mut guard);
        self.generation.fetch_add(1, Ordering::Release);
        Some(result)
    }

    /// Runs `f` with a read-only connection from the pool. Readers see the last committed state
    /// and never wait for a running import.
    pub fn read<T, E>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = match lock(&self.readers).pop() {
            Some(conn) => conn,
            None => self.open_reader().map_err(E::from)?,
        };
        let result = f(&conn);
        let mut idle = lock(&self.readers);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let open_err = |source| StoreError::Open {
            path: self.path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(&self.path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        Ok(conn)
    }

    /// Writes a consistent, compacted copy of the live database to `dest` (`VACUUM INTO`) while
    /// the application keeps running. Refuses to overwrite an existing file.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError::BackupTargetExists(dest.to_owned()));
        }
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                what: "cannot create the folder of",
                path: dest.to_owned(),
                source,
            })?;
        }
        let target = dest.to_string_lossy().into_owned();
        // A separate connection, so a backup does not wait for a running import.
        let conn = Connection::open(&self.path).map_err(|source| StoreError::Open {
            path: self.path.clone(),
            source,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// Reads a value of the `settings` table.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| get_setting(c, key).map_err(StoreError::from))
    }

    /// Writes a value of the `settings` table.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|c| put_setting(c, key, value).map_err(StoreError::from))
    }
}

/// Reads a value of the `settings` table on `conn` (statement cached on the connection).
pub fn get_setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Writes a value of the `settings` table on `conn` (inside the caller's transaction, if any).
pub fn put_setting(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Refuses files that are not ours or are newer than this build, before anything is written.
fn check_identity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let not_db = |source: rusqlite::Error| match &source {
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::NotADatabase => {
            StoreError::NotWorkbench {
                path: path.to_owned(),
                reason: "not an SQLite file".into(),
            }
        }
        _ => StoreError::Open {
            path: path.to_owned(),
            source,
        },
    };
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(not_db)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(not_db)?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::NotWorkbench {
            path: path.to_owned(),
            reason: format!("its application id is {app_id:#x}"),
        });
    }
    if app_id == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(not_db)?;
        if tables > 0 {
            return Err(StoreError::NotWorkbench {
                path: path.to_owned(),
                reason: "it already holds tables of another application".into(),
            });
        }
    }
    let supported = latest_schema_version();
    if version > supported {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: version,
            supported,
        });
    }
    Ok(())
}

/// Locks a mutex, recovering from poisoning: a panicked holder cannot leave an SQLite connection
/// in a state worse than an error (open transactions roll back when it is next used).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
