//! Starting and stopping analysis (PrivX start-analyzing / stop-analyzing): which dataset's
//! models score connections.
//!
//! Starting makes the dataset the active one; it is refused, with the reason, when the dataset's
//! latest training is missing, still running or failed. Stopping ends inference and releases the
//! dataset (so it can be changed or deleted again).

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::{put_setting, Store, StoreError};

/// Inference state (PrivX `inference_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[ts(export)]
pub enum InferenceStatus {
    /// New connections are scored as they arrive.
    Running,
    /// Stopping (in-flight scoring finishing).
    Stopping,
    /// Nothing is scored.
    Stopped,
}

/// What analysis is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AnalysisState {
    /// Running or stopped.
    pub status: InferenceStatus,
    /// The dataset whose models score connections, while running.
    pub dataset_id: Option<String>,
    /// When analysis started (epoch ms), while running.
    #[ts(type = "number | null")]
    pub since_ms: Option<i64>,
}

impl Default for AnalysisState {
    fn default() -> Self {
        Self {
            status: InferenceStatus::Stopped,
            dataset_id: None,
            since_ms: None,
        }
    }
}

/// Why analysis cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// No dataset has this id.
    #[error("dataset {0} not found")]
    NotFound(String),
    /// The dataset has no training result.
    #[error("dataset {0} has not been trained; train it before analyzing with it")]
    NotTrained(String),
    /// Its training is still running.
    #[error("training of dataset {0} has not finished yet")]
    TrainingRunning(String),
    /// Its latest training failed.
    #[error("training of dataset {id} failed ({reason}); fix the dataset and train it again")]
    TrainingFailed {
        /// The dataset.
        id: String,
        /// The failure recorded.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AnalysisError {
    fn from(e: rusqlite::Error) -> Self {
        AnalysisError::Store(StoreError::Sqlite(e))
    }
}

const STATE_KEY: &str = "analysis_state";

/// The current analysis state.
pub fn state(store: &Store) -> Result<AnalysisState, StoreError> {
    store.read(|c| Ok(state_on(c)?))
}

/// [`state`] on an open connection.
pub(crate) fn state_on(c: &rusqlite::Connection) -> rusqlite::Result<AnalysisState> {
    Ok(crate::store::get_setting(c, STATE_KEY)?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// Starts analyzing with `dataset_id`'s trained models.
pub fn start(store: &Store, dataset_id: &str) -> Result<AnalysisState, AnalysisError> {
    store.write(|c| {
        let tx = c.transaction()?;
        check_trained(&tx, dataset_id)?;
        let state = activate(&tx, dataset_id)?;
        tx.commit()?;
        Ok(state)
    })
}

/// Makes `dataset_id` the active dataset and analysis running, inside the caller's transaction
/// (also used when a training finishes with `set_active_after_training`).
pub(crate) fn activate(
    tx: &rusqlite::Connection,
    dataset_id: &str,
) -> rusqlite::Result<AnalysisState> {
    let new_state = AnalysisState {
        status: InferenceStatus::Running,
        dataset_id: Some(dataset_id.to_owned()),
        since_ms: Some(chrono::Utc::now().timestamp_millis()),
    };
    let text = serde_json::to_string(&new_state).unwrap_or_default();
    tx.execute(
        "UPDATE datasets SET is_active = 0 WHERE is_active = 1 AND id <> ?1",
        [dataset_id],
    )?;
    tx.execute(
        "UPDATE datasets SET is_active = 1 WHERE id = ?1",
        [dataset_id],
    )?;
    put_setting(tx, STATE_KEY, &text)?;
    Ok(new_state)
}

/// Refuses datasets whose latest training is missing, running or failed.
fn check_trained(c: &rusqlite::Connection, id: &str) -> Result<(), AnalysisError> {
    let exists: Option<i64> = c
        .query_row("SELECT 1 FROM datasets WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(AnalysisError::NotFound(id.to_owned()));
    }
    // The latest run is every result created at the newest `created`.
    let mut stmt = c.prepare(
        "SELECT status, coalesce(error_details, error_code, 'unknown error') FROM training_results
         WHERE dataset_id = ?1 AND created = (SELECT max(created) FROM training_results WHERE dataset_id = ?1)",
    )?;
    let latest = stmt
        .query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if latest.is_empty() {
        return Err(AnalysisError::NotTrained(id.to_owned()));
    }
    if latest.iter().any(|(s, _)| s == "TRAINING") {
        return Err(AnalysisError::TrainingRunning(id.to_owned()));
    }
    if let Some((_, reason)) = latest.iter().find(|(s, _)| s == "FAILURE") {
        return Err(AnalysisError::TrainingFailed {
            id: id.to_owned(),
            reason: reason.clone(),
        });
    }
    let weights: Option<i64> = c
        .query_row(
            "SELECT 1 FROM model_weights WHERE dataset_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    if weights.is_none() {
        return Err(AnalysisError::NotTrained(id.to_owned()));
    }
    Ok(())
}

/// Stops analysis and releases the active dataset.
pub fn stop(store: &Store) -> Result<AnalysisState, StoreError> {
    let stopped = AnalysisState::default();
    let text = serde_json::to_string(&stopped).unwrap_or_default();
    store.write(|c| {
        let tx = c.transaction()?;
        tx.execute("UPDATE datasets SET is_active = 0 WHERE is_active = 1", [])?;
        put_setting(&tx, STATE_KEY, &text)?;
        tx.commit()?;
        Ok(stopped)
    })
}
