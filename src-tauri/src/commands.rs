//! The Tauri commands: each calls one `ueba-core` service function and maps its error.
//!
//! Anything that touches the database runs on a blocking thread so the window never waits for
//! SQLite; long work (import, demo generation) reports progress through throttled events.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};
use ts_rs::TS;
use ueba_core::connections::{self, ConnectionFilter, Page, PageRequest};
use ueba_core::demo::{self, DemoConfig, DemoSummary};
use ueba_core::ingest::{self, ImportOptions, ImportProgress, ImportReport};
use ueba_core::stats::{self, Overview};
use ueba_core::{CancelToken, Store};

use crate::error::CommandError;
use crate::state::{AppState, DemoStatus};
use crate::throttle::Throttle;

/// Event carrying an [`ImportProgress`] while an import runs.
pub const IMPORT_PROGRESS: &str = "import-progress";
/// Event carrying the [`DemoStatus`] while and after demo data is generated.
pub const DEMO_STATUS: &str = "demo-status";
/// Longest gap between two progress events is not bounded; the shortest is this (~10 per second).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the front end shows about the app and its database.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    /// The database file, when one could be determined.
    pub db_path: Option<String>,
    /// Why the database could not be opened, if it could not.
    pub store_error: Option<String>,
    /// This app's version.
    pub version: String,
    /// The linked SQLite version.
    pub sqlite_version: String,
    /// The first-run demo generation status of this session.
    pub demo: DemoStatus,
    /// The last demo generation recorded in the database (this or an earlier session).
    pub last_demo: Option<DemoSummary>,
}

/// Runs database work on a blocking thread and maps its error.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, CommandError>
where
    T: Send + 'static,
    E: Into<CommandError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::message(format!("background task failed: {e}")))?
        .map_err(Into::into)
}

/// The database path, versions, store error and demo status ([`demo::last_demo`]).
#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let last_demo = match state.store.clone() {
        Ok(store) => blocking(move || demo::last_demo(&store)).await?,
        Err(_) => None,
    };
    Ok(AppInfo {
        db_path: state.db_path.as_ref().map(|p| p.display().to_string()),
        store_error: state.store.as_ref().err().cloned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sqlite_version: ueba_core::store::sqlite_version(),
        demo: state.demo(),
        last_demo,
    })
}

/// Counts, time span, per-day counts and top lists ([`stats::overview`]).
#[tauri::command]
pub async fn overview(state: State<'_, AppState>) -> Result<Overview, CommandError> {
    let store = state.store()?;
    blocking(move || stats::overview(&store)).await
}

/// One page of connections matching `filter` ([`connections::list`]).
#[tauri::command]
pub async fn list_connections(
    state: State<'_, AppState>,
    filter: ConnectionFilter,
    page: PageRequest,
) -> Result<Page, CommandError> {
    let store = state.store()?;
    blocking(move || connections::list(&store, &filter, &page)).await
}

/// How many connections match `filter`, or `None` when counting would take longer than
/// [`connections::COUNT_BUDGET`] ([`connections::count_within`]).
#[tauri::command]
pub async fn count_connections(
    state: State<'_, AppState>,
    filter: ConnectionFilter,
) -> Result<Option<u64>, CommandError> {
    let store = state.store()?;
    blocking(move || connections::count_within(&store, &filter, connections::COUNT_BUDGET)).await
}

/// Imports files in one transaction ([`ingest::import_files`]), emitting [`IMPORT_PROGRESS`].
#[tauri::command]
pub async fn import_files(
    app: AppHandle,
    state: State<'_, AppState>,
    paths: Vec<PathBuf>,
    options: ImportOptions,
) -> Result<Vec<ImportReport>, CommandError> {
    let store = state.store()?;
    let _running = state.begin_import()?;
    let cancel = state.import_cancel.clone();
    blocking(move || {
        let throttle = Throttle::new(PROGRESS_EVERY);
        let progress = |p: &ImportProgress| {
            if throttle.ready() || p.percent >= 100.0 {
                if let Err(error) = app.emit(IMPORT_PROGRESS, p) {
                    tracing::warn!(%error, "cannot send import progress");
                }
            }
        };
        ingest::import_files(&store, &paths, &options, &progress, &cancel)
    })
    .await
}

/// Asks the running import to stop; it stores nothing.
#[tauri::command]
pub fn cancel_import(state: State<'_, AppState>) {
    state.import_cancel.cancel();
}

/// Writes an online copy of the database to `path` ([`Store::backup_to`]).
#[tauri::command]
pub async fn backup(state: State<'_, AppState>, path: PathBuf) -> Result<(), CommandError> {
    let store = state.store()?;
    blocking(move || store.backup_to(&path)).await
}

/// Generates demo data when the database is empty ([`demo::seed_demo_if_empty`]), keeping the
/// status in [`AppState`] and emitting it as [`DEMO_STATUS`]. Runs on a blocking thread at start.
pub fn seed_demo(app: &AppHandle, store: &Arc<Store>) {
    let publish = |status: DemoStatus| {
        app.state::<AppState>().set_demo(status.clone());
        if let Err(error) = app.emit(DEMO_STATUS, status) {
            tracing::warn!(%error, "cannot send demo status");
        }
    };
    let throttle = Throttle::new(PROGRESS_EVERY);
    let progress = |done: u64, total: u64| {
        if throttle.ready() || done >= total {
            publish(DemoStatus::Running { done, total });
        }
    };
    let status = match demo::seed_demo_if_empty(
        store,
        &DemoConfig::desktop_default(),
        &progress,
        &CancelToken::new(),
    ) {
        Ok(Some(summary)) => DemoStatus::Generated { summary },
        Ok(None) => DemoStatus::NotNeeded,
        Err(e) => {
            tracing::error!(error = %e, "demo data generation failed");
            DemoStatus::Failed {
                error: e.to_string(),
            }
        }
    };
    publish(status);
}
