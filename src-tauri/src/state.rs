//! What the app keeps between commands: the open store (or why it could not be opened), the demo
//! generation status, the cancel token of the running import and the REST listener.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use ts_rs::TS;
use ueba_core::demo::DemoSummary;
use ueba_core::{CancelToken, Store};

use crate::error::CommandError;
use crate::listener::ListenerControl;

/// What the first-run demo generation is doing.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum DemoStatus {
    /// Not decided yet (the check runs right after start).
    Checking,
    /// The database already held connections; nothing was generated.
    NotNeeded,
    /// Generating demo connections.
    Running {
        /// Rows generated so far.
        #[ts(type = "number")]
        done: u64,
        /// Rows to generate.
        #[ts(type = "number")]
        total: u64,
    },
    /// The database was empty and demo connections were generated.
    Generated {
        /// What was generated.
        summary: DemoSummary,
    },
    /// Generation failed; the database is as it was.
    Failed {
        /// Why.
        error: String,
    },
}

/// State managed by Tauri and shared by all commands.
pub struct AppState {
    /// The database file in use, when one could be determined.
    pub db_path: Option<PathBuf>,
    /// The open store, or the message saying why it could not be opened.
    pub store: Result<Arc<Store>, String>,
    /// The first-run demo generation status.
    demo: Mutex<DemoStatus>,
    /// Cancels the running import.
    pub import_cancel: CancelToken,
    /// Whether an import is running (only one at a time).
    import_running: AtomicBool,
    /// Cancels the training this window started, while it runs.
    training_cancel: Mutex<Option<CancelToken>>,
    /// The localhost REST listener (off until started).
    pub listener: ListenerControl,
}

impl AppState {
    /// State for a store that was (or could not be) opened at `db_path`.
    pub fn new(db_path: Option<PathBuf>, store: Result<Arc<Store>, String>) -> Self {
        let demo = if store.is_ok() {
            DemoStatus::Checking
        } else {
            DemoStatus::NotNeeded
        };
        Self {
            db_path,
            store,
            demo: Mutex::new(demo),
            import_cancel: CancelToken::new(),
            import_running: AtomicBool::new(false),
            training_cancel: Mutex::new(None),
            listener: ListenerControl::default(),
        }
    }

    /// The open store, or the error a command reports when there is none.
    pub fn store(&self) -> Result<Arc<Store>, CommandError> {
        self.store.clone().map_err(CommandError::message)
    }

    /// The demo generation status.
    pub fn demo(&self) -> DemoStatus {
        lock(&self.demo).clone()
    }

    /// Replaces the demo generation status.
    pub fn set_demo(&self, status: DemoStatus) {
        *lock(&self.demo) = status;
    }

    /// Marks an import as running; fails when one already is. The returned guard clears the mark
    /// when dropped.
    pub fn begin_import(&self) -> Result<ImportGuard<'_>, CommandError> {
        if self.import_running.swap(true, Ordering::SeqCst) {
            return Err(CommandError::message("an import is already running"));
        }
        self.import_cancel.reset();
        Ok(ImportGuard(&self.import_running))
    }
}

impl AppState {
    /// Remembers how to cancel the training just started (or forgets it with `None`).
    pub fn set_training_cancel(&self, token: Option<CancelToken>) {
        *lock(&self.training_cancel) = token;
    }

    /// Cancels the training this window started; false when none is running.
    pub fn cancel_training(&self) -> bool {
        match lock(&self.training_cancel).as_ref() {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

/// Clears the "import running" mark when dropped.
pub struct ImportGuard<'a>(&'a AtomicBool);

impl Drop for ImportGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
