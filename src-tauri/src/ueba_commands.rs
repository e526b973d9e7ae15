//! The UEBA commands: datasets, training, analysis, anomaly settings and anomalies. Each is a
//! thin call into `ueba_core::ueba`; training runs in the background and reports through
//! [`TRAINING_PROGRESS`] and [`TRAINING_FINISHED`] events.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, State};
use ueba_core::ueba::analysis::{self, AnalysisState};
use ueba_core::ueba::datasets::{self, Dataset, ResultView};
use ueba_core::ueba::scoring::{self, AnalyzeReport, Anomaly, AnomalyFilter, FlagPreview};
use ueba_core::ueba::settings::{self, AnomalySettings};
use ueba_core::ueba::status::{self, ServiceStatus};
use ueba_core::ueba::training::{self, TrainOptions, TrainingOutcome, TrainingProgress};
use ueba_core::ueba::{DatasetInput, TimeRangeSettings};

use crate::commands::blocking;
use crate::error::CommandError;
use crate::state::AppState;
use crate::throttle::Throttle;

/// Event carrying a [`TrainingProgress`] while a training runs.
pub const TRAINING_PROGRESS: &str = "training-progress";
/// Event carrying the [`TrainingOutcome`] when a training ends.
pub const TRAINING_FINISHED: &str = "training-finished";
/// Shortest gap between two training progress events.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The user recorded as `created_by` / `updated_by`.
fn actor() -> Option<String> {
    std::env::var("USER").ok().filter(|u| !u.is_empty())
}

/// All datasets with their training histories ([`datasets::list`]).
#[tauri::command]
pub async fn list_datasets(state: State<'_, AppState>) -> Result<Vec<Dataset>, CommandError> {
    let store = state.store()?;
    blocking(move || datasets::list(&store, ResultView::default())).await
}

/// One dataset; `logs` adds the training logs, `bin_count` sets the histogram bins.
#[tauri::command]
pub async fn get_dataset(
    state: State<'_, AppState>,
    id: String,
    logs: bool,
    bin_count: Option<usize>,
) -> Result<Dataset, CommandError> {
    let store = state.store()?;
    let view = ResultView {
        logs,
        bin_count: bin_count.unwrap_or(datasets::DEFAULT_BIN_COUNT),
    };
    blocking(move || datasets::get(&store, &id, view)).await
}

/// Saves a new dataset and returns it.
#[tauri::command]
pub async fn create_dataset(
    state: State<'_, AppState>,
    input: DatasetInput,
) -> Result<Dataset, CommandError> {
    let store = state.store()?;
    blocking(move || {
        let id = datasets::create(&store, &input, actor().as_deref())?;
        datasets::get(&store, &id, ResultView::default())
    })
    .await
}

/// Changes a dataset (its training history and models are deleted).
#[tauri::command]
pub async fn update_dataset(
    state: State<'_, AppState>,
    id: String,
    input: DatasetInput,
) -> Result<Dataset, CommandError> {
    let store = state.store()?;
    blocking(move || {
        datasets::update(
            &store,
            &id,
            &input,
            actor().as_deref(),
            ResultView::default(),
        )
    })
    .await
}

/// Deletes a dataset (refused while it is active).
#[tauri::command]
pub async fn delete_dataset(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let store = state.store()?;
    blocking(move || datasets::delete(&store, &id)).await
}

/// Connections a time range setting selects; fast enough to call while a range is dragged.
#[tauri::command]
pub async fn count_dataset_connections(
    state: State<'_, AppState>,
    settings: TimeRangeSettings,
) -> Result<u64, CommandError> {
    let store = state.store()?;
    blocking(move || datasets::count_connections(&store, &settings)).await
}

/// Starts training `id` in the background. Refused while any training runs.
#[tauri::command]
pub async fn train_dataset(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    set_active_after_training: bool,
) -> Result<(), CommandError> {
    let store = state.store()?;
    let emitter = app.clone();
    let throttle = Throttle::new(PROGRESS_EVERY);
    let progress = Box::new(move |p: &TrainingProgress| {
        if throttle.ready() {
            if let Err(error) = emitter.emit(TRAINING_PROGRESS, p) {
                tracing::warn!(%error, "cannot send training progress");
            }
        }
    });
    let options = TrainOptions {
        set_active_after_training,
        ..TrainOptions::default()
    };
    let run = blocking(move || training::start(store, &id, options, progress)).await?;
    state.set_training_cancel(Some(run.cancel_token()));
    tauri::async_runtime::spawn_blocking(move || {
        let outcome: TrainingOutcome = run.wait();
        app.state::<AppState>().set_training_cancel(None);
        if let Err(error) = app.emit(TRAINING_FINISHED, &outcome) {
            tracing::warn!(%error, "cannot send the training outcome");
        }
    });
    Ok(())
}

/// Cancels the training this window started; it ends as FAILURE / CANCELLED.
#[tauri::command]
pub fn cancel_training(state: State<'_, AppState>) -> bool {
    state.cancel_training()
}

/// The dataset being trained (by this or another process), if any.
#[tauri::command]
pub async fn running_training(state: State<'_, AppState>) -> Result<Option<String>, CommandError> {
    let store = state.store()?;
    blocking(move || training::running(&store)).await
}

/// What analysis is doing.
#[tauri::command]
pub async fn analysis_state(state: State<'_, AppState>) -> Result<AnalysisState, CommandError> {
    let store = state.store()?;
    blocking(move || analysis::state(&store)).await
}

/// Starts analyzing with a trained dataset (refused, with the reason, otherwise).
#[tauri::command]
pub async fn start_analysis(
    state: State<'_, AppState>,
    id: String,
) -> Result<AnalysisState, CommandError> {
    let store = state.store()?;
    blocking(move || analysis::start(&store, &id)).await
}

/// Stops analysis and releases the active dataset.
#[tauri::command]
pub async fn stop_analysis(state: State<'_, AppState>) -> Result<AnalysisState, CommandError> {
    let store = state.store()?;
    blocking(move || analysis::stop(&store)).await
}

/// The anomaly settings.
#[tauri::command]
pub async fn anomaly_settings(state: State<'_, AppState>) -> Result<AnomalySettings, CommandError> {
    let store = state.store()?;
    blocking(move || settings::anomaly_settings(&store)).await
}

/// Saves the anomaly settings (threshold 0–1, BLOCK or AUDIT).
#[tauri::command]
pub async fn save_anomaly_settings(
    state: State<'_, AppState>,
    settings: AnomalySettings,
) -> Result<AnomalySettings, CommandError> {
    let store = state.store()?;
    blocking(move || settings::save_anomaly_settings(&store, &settings).map(|()| settings)).await
}

/// How many connections of the last `days` days each threshold step would flag.
#[tauri::command]
pub async fn flag_preview(
    state: State<'_, AppState>,
    id: String,
    days: u32,
) -> Result<FlagPreview, CommandError> {
    let store = state.store()?;
    blocking(move || scoring::flag_preview_recent(&store, &id, days)).await
}

/// Rescores `[from, to)` (epoch ms) with the active dataset, replacing its anomalies.
#[tauri::command]
pub async fn rescore(
    state: State<'_, AppState>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<AnalyzeReport, CommandError> {
    let store = state.store()?;
    blocking(move || scoring::analyze_range(&store, from, to)).await
}

/// Anomalies, newest first, with explanations.
#[tauri::command]
pub async fn list_anomalies(
    state: State<'_, AppState>,
    filter: AnomalyFilter,
) -> Result<Vec<Anomaly>, CommandError> {
    let store = state.store()?;
    blocking(move || scoring::list_anomalies(&store, &filter)).await
}

/// The service status (version, status, issues, counts).
#[tauri::command]
pub async fn service_status(state: State<'_, AppState>) -> Result<ServiceStatus, CommandError> {
    let store = state.store()?;
    blocking(move || status::service(&store)).await
}
