//! Datasets (PrivX `Dataset`): a time window of connections, minus excluded ranges, that models
//! are trained on; with the history of its training results.
//!
//! Rules (from the PrivX documentation): updating a dataset empties its training history and
//! deletes its trained weights; an active dataset (the one inference uses) can be neither updated
//! nor deleted.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::time;
use crate::store::{Store, StoreError};

/// A time range; an absent bound is open.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[ts(export)]
pub struct TimeRange {
    /// Inclusive start (RFC 3339 on the wire).
    #[serde(default, with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<i64>,
    /// Exclusive end (RFC 3339 on the wire).
    #[serde(default, with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<i64>,
}

/// PrivX `time_range_settings`: where the training connections come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct TimeRangeSettings {
    /// Inclusive start; absent = from the first connection.
    #[serde(default, with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<i64>,
    /// Exclusive end; absent = up to the last connection.
    #[serde(default, with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<i64>,
    /// Ranges left out (incidents, holidays, test traffic).
    #[serde(default)]
    pub exclude: Vec<TimeRange>,
}

/// State of one training result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[ts(export)]
pub enum TrainingStatus {
    /// Running.
    Training,
    /// Finished with a model.
    Success,
    /// Failed; see `error_code` and `error_details`.
    Failure,
}

/// Histogram of the validation scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Histogram {
    /// Scores per bin.
    #[ts(type = "number[]")]
    pub hist: Vec<u64>,
    /// `hist.len() + 1` bin edges.
    pub bin_edges: Vec<f64>,
}

/// PrivX `TrainingResult`: one feature config's outcome of one training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct TrainingResult {
    /// When the training started (RFC 3339 on the wire).
    #[serde(with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created: Option<i64>,
    /// The feature config (model) this result is for.
    pub feature_config_name: String,
    /// TRAINING, SUCCESS or FAILURE.
    pub status: TrainingStatus,
    /// Machine-readable failure reason.
    pub error_code: Option<String>,
    /// Human-readable failure reason.
    pub error_details: Option<String>,
    /// Connections trained on.
    #[ts(type = "number | null")]
    pub num_connections: Option<u64>,
    /// Mean of the validation scores.
    pub mean: Option<f64>,
    /// Standard deviation of the validation scores.
    pub std: Option<f64>,
    /// 99th percentile of the validation scores.
    pub quantile_99: Option<f64>,
    /// 99.9th percentile of the validation scores.
    pub quantile_999: Option<f64>,
    /// The readable training log (only when asked for with `logs`).
    pub training_log: Option<String>,
    /// Loss on the training split, per iteration.
    pub training_dataset_loss: Vec<f64>,
    /// Loss on the validation split, per iteration.
    pub validation_dataset_loss: Vec<f64>,
    /// Histogram of the validation scores in `bin_count` bins.
    pub validation_dataset_histogram: Option<Histogram>,
}

/// PrivX `Dataset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Dataset {
    /// Its id (UUID).
    pub id: String,
    /// Last successful training (RFC 3339 on the wire).
    #[serde(with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_training: Option<i64>,
    /// Whether inference uses this dataset's models.
    pub is_active: bool,
    /// Make it active automatically when a training succeeds.
    pub use_for_inference_once_trained: bool,
    /// The training window.
    pub time_range_settings: TimeRangeSettings,
    /// Training history, oldest first.
    pub training_results: Vec<TrainingResult>,
    /// A comment describing the dataset.
    pub comment: Option<String>,
    /// Created (RFC 3339 on the wire).
    #[serde(with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created: Option<i64>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Last updated (RFC 3339 on the wire).
    #[serde(with = "time::optional")]
    #[ts(type = "string | null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated: Option<i64>,
    /// Who updated it last.
    pub updated_by: Option<String>,
}

/// What a client may set on a dataset (the server-managed fields of a posted `Dataset` are
/// ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct DatasetInput {
    /// The training window (required).
    pub time_range_settings: TimeRangeSettings,
    /// A comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Make it active automatically when a training succeeds.
    #[serde(default)]
    pub use_for_inference_once_trained: bool,
}

/// How to present training results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultView {
    /// Include the training logs.
    pub logs: bool,
    /// Bins of the validation histogram.
    pub bin_count: usize,
}

impl Default for ResultView {
    fn default() -> Self {
        Self {
            logs: false,
            bin_count: DEFAULT_BIN_COUNT,
        }
    }
}

/// Default number of histogram bins.
pub const DEFAULT_BIN_COUNT: usize = 50;
/// Most histogram bins served.
pub const MAX_BIN_COUNT: usize = 10_000;

/// Why a dataset operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// No dataset has this id.
    #[error("dataset {0} not found")]
    NotFound(String),
    /// The dataset is active.
    #[error("dataset {0} is active (used for inference); stop analysis with it before changing or deleting it")]
    Active(String),
    /// A property is invalid.
    #[error("{property}: {reason}")]
    Invalid {
        /// The property path, e.g. `time_range_settings.exclude[1].end`.
        property: String,
        /// What is wrong.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DatasetError {
    fn from(e: rusqlite::Error) -> Self {
        DatasetError::Store(StoreError::Sqlite(e))
    }
}

fn invalid(property: impl Into<String>, reason: impl Into<String>) -> DatasetError {
    DatasetError::Invalid {
        property: property.into(),
        reason: reason.into(),
    }
}

/// Checks a time range setting; errors name the property.
pub fn validate(settings: &TimeRangeSettings) -> Result<(), DatasetError> {
    if let (Some(s), Some(e)) = (settings.start, settings.end) {
        if e <= s {
            return Err(invalid(
                "time_range_settings.end",
                "must be after time_range_settings.start",
            ));
        }
    }
    for (i, r) in settings.exclude.iter().enumerate() {
        let (Some(s), Some(e)) = (r.start, r.end) else {
            return Err(invalid(
                format!("time_range_settings.exclude[{i}]"),
                "an excluded range needs both start and end",
            ));
        };
        if e <= s {
            return Err(invalid(
                format!("time_range_settings.exclude[{i}].end"),
                "must be after its start",
            ));
        }
    }
    Ok(())
}

/// Merged, clipped excluded ranges inside `[start, end)`, sorted.
fn effective_excludes(settings: &TimeRangeSettings) -> Vec<(i64, i64)> {
    let lo = settings.start.unwrap_or(i64::MIN);
    let hi = settings.end.unwrap_or(i64::MAX);
    let mut ranges: Vec<(i64, i64)> = settings
        .exclude
        .iter()
        .filter_map(|r| Some((r.start?.max(lo), r.end?.min(hi))))
        .filter(|(s, e)| s < e)
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The SQL condition (on `connected`) selecting a time range setting's connections, and its
/// arguments. Every term is a range on the time index.
pub fn time_condition(settings: &TimeRangeSettings) -> (String, Vec<i64>) {
    let mut terms = Vec::new();
    let mut args = Vec::new();
    if let Some(s) = settings.start {
        args.push(s);
        terms.push(format!("connected >= ?{}", args.len()));
    }
    if let Some(e) = settings.end {
        args.push(e);
        terms.push(format!("connected < ?{}", args.len()));
    }
    for (s, e) in effective_excludes(settings) {
        args.push(s);
        args.push(e);
        terms.push(format!(
            "NOT (connected >= ?{} AND connected < ?{})",
            args.len() - 1,
            args.len()
        ));
    }
    let sql = if terms.is_empty() {
        "1".to_owned()
    } else {
        terms.join(" AND ")
    };
    (sql, args)
}

/// Connections a dataset with these settings would train on (PrivX query-connection-count).
/// Counts whole ranges through the time index, so it is fast enough to poll while a user drags
/// a range, even on tens of millions of connections.
pub fn count_connections(store: &Store, settings: &TimeRangeSettings) -> Result<u64, DatasetError> {
    validate(settings)?;
    let count_range =
        |c: &rusqlite::Connection, s: Option<i64>, e: Option<i64>| -> rusqlite::Result<i64> {
            c.query_row(
                "SELECT count(*) FROM connections WHERE connected >= ?1 AND connected < ?2",
                params![s.unwrap_or(i64::MIN), e.unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
        };
    store.read(|c| {
        let mut total = count_range(c, settings.start, settings.end)?;
        for (s, e) in effective_excludes(settings) {
            total -= count_range(c, Some(s), Some(e))?;
        }
        Ok(total.max(0) as u64)
    })
}

/// Saves a new dataset; training is a separate step. Returns its id.
pub fn create(
    store: &Store,
    input: &DatasetInput,
    actor: Option<&str>,
) -> Result<String, DatasetError> {
    validate(&input.time_range_settings)?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let exclude = exclude_json(&input.time_range_settings);
    store.write(|c| {
        c.execute(
            "INSERT INTO datasets (id, time_start, time_end, exclude, comment, is_active,
                 use_for_inference_once_trained, created, created_by, updated, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?7, ?8)",
            params![
                id,
                input.time_range_settings.start,
                input.time_range_settings.end,
                exclude,
                input.comment,
                input.use_for_inference_once_trained,
                now,
                actor
            ],
        )
    })?;
    Ok(id)
}

fn exclude_json(settings: &TimeRangeSettings) -> String {
    let ranges: Vec<[i64; 2]> = settings
        .exclude
        .iter()
        .filter_map(|r| Some([r.start?, r.end?]))
        .collect();
    serde_json::to_string(&ranges).unwrap_or_else(|_| "[]".into())
}

const SELECT_DATASET: &str = "SELECT id, time_start, time_end, exclude, comment, is_active,
    use_for_inference_once_trained, last_training, created, created_by, updated, updated_by
    FROM datasets";

fn dataset_from_row(r: &Row<'_>) -> rusqlite::Result<Dataset> {
    let exclude: String = r.get(3)?;
    let ranges: Vec<[i64; 2]> = serde_json::from_str(&exclude).unwrap_or_default();
    Ok(Dataset {
        id: r.get(0)?,
        time_range_settings: TimeRangeSettings {
            start: r.get(1)?,
            end: r.get(2)?,
            exclude: ranges
                .into_iter()
                .map(|[s, e]| TimeRange {
                    start: Some(s),
                    end: Some(e),
                })
                .collect(),
        },
        comment: r.get(4)?,
        is_active: r.get(5)?,
        use_for_inference_once_trained: r.get(6)?,
        last_training: r.get(7)?,
        created: r.get(8)?,
        created_by: r.get(9)?,
        updated: r.get(10)?,
        updated_by: r.get(11)?,
        training_results: Vec::new(),
    })
}

/// One dataset with its training history.
pub fn get(store: &Store, id: &str, view: ResultView) -> Result<Dataset, DatasetError> {
    store.read(|c| {
        let mut dataset = c
            .query_row(
                &format!("{SELECT_DATASET} WHERE id = ?1"),
                [id],
                dataset_from_row,
            )
            .optional()?
            .ok_or_else(|| DatasetError::NotFound(id.to_owned()))?;
        dataset.training_results = training_results(c, id, view)?;
        Ok(dataset)
    })
}

/// A dataset's time range settings alone (no training history to read and decode).
pub fn time_range_settings(store: &Store, id: &str) -> Result<TimeRangeSettings, DatasetError> {
    store.read(|c| {
        c.query_row(
            &format!("{SELECT_DATASET} WHERE id = ?1"),
            [id],
            dataset_from_row,
        )
        .optional()?
        .map(|d| d.time_range_settings)
        .ok_or_else(|| DatasetError::NotFound(id.to_owned()))
    })
}

/// All datasets, oldest first, with their training histories.
pub fn list(store: &Store, view: ResultView) -> Result<Vec<Dataset>, DatasetError> {
    store.read(|c| {
        let mut stmt = c.prepare(&format!("{SELECT_DATASET} ORDER BY created, id"))?;
        let mut datasets = stmt
            .query_map([], dataset_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        for d in &mut datasets {
            d.training_results = training_results(c, &d.id, view)?;
        }
        Ok(datasets)
    })
}

fn training_results(
    c: &rusqlite::Connection,
    dataset_id: &str,
    view: ResultView,
) -> Result<Vec<TrainingResult>, DatasetError> {
    let bins = view.bin_count.clamp(1, MAX_BIN_COUNT);
    let mut stmt = c.prepare_cached(
        "SELECT created, feature_config_name, status, error_code, error_details, num_connections, mean, std,
                quantile_99, quantile_999, training_log, training_dataset_loss, validation_dataset_loss,
                EXISTS (SELECT 1 FROM validation_scores v WHERE v.result_id = r.id), id
         FROM training_results r WHERE dataset_id = ?1 ORDER BY created, feature_config_name",
    )?;
    let rows = stmt.query_map([dataset_id], |r| {
        let status: String = r.get(2)?;
        let losses = |i: usize| -> rusqlite::Result<Vec<f64>> {
            Ok(r.get::<_, Option<String>>(i)?
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default())
        };
        let has_scores: bool = r.get(13)?;
        let id: String = r.get(14)?;
        let histogram = if has_scores {
            Some(validation_histogram(c, &id, bins)?)
        } else {
            None
        };
        Ok(TrainingResult {
            created: r.get(0)?,
            feature_config_name: r.get(1)?,
            status: match status.as_str() {
                "SUCCESS" => TrainingStatus::Success,
                "FAILURE" => TrainingStatus::Failure,
                _ => TrainingStatus::Training,
            },
            error_code: r.get(3)?,
            error_details: r.get(4)?,
            num_connections: r.get::<_, Option<i64>>(5)?.map(|n| n as u64),
            mean: r.get(6)?,
            std: r.get(7)?,
            quantile_99: r.get(8)?,
            quantile_999: r.get(9)?,
            training_log: if view.logs { r.get(10)? } else { None },
            training_dataset_loss: losses(11)?,
            validation_dataset_loss: losses(12)?,
            validation_dataset_histogram: histogram,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Most histograms kept by [`validation_histogram`].
const MAX_CACHED_HISTOGRAMS: usize = 512;

/// The histogram of a training result's validation scores in `bins` bins. The scores (hundreds
/// of thousands of numbers) are written once, when the training succeeds, and never change, so
/// each (result, bins) histogram is computed once and kept: dataset reads stay cheap however
/// large the training was.
fn validation_histogram(
    c: &rusqlite::Connection,
    result_id: &str,
    bins: usize,
) -> rusqlite::Result<Histogram> {
    type Cache = std::collections::HashMap<(String, usize), Histogram>;
    static CACHE: std::sync::LazyLock<std::sync::Mutex<Cache>> =
        std::sync::LazyLock::new(Default::default);
    let key = (result_id.to_owned(), bins);
    if let Some(h) = CACHE.lock().ok().and_then(|cache| cache.get(&key).cloned()) {
        return Ok(h);
    }
    let bytes: Vec<u8> = c
        .prepare_cached("SELECT scores FROM validation_scores WHERE result_id = ?1")?
        .query_row([result_id], |r| r.get(0))?;
    let h = histogram(&decode_scores(&bytes), bins);
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= MAX_CACHED_HISTOGRAMS {
            cache.clear();
        }
        cache.insert(key, h.clone());
    }
    Ok(h)
}

/// Scores stored as little-endian f64s.
pub fn encode_scores(scores: &[f64]) -> Vec<u8> {
    scores.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Reads scores stored by [`encode_scores`].
pub fn decode_scores(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

/// Histogram of `scores` in `bins` equal bins between their minimum and maximum.
pub fn histogram(scores: &[f64], bins: usize) -> Histogram {
    let bins = bins.max(1);
    let finite = scores.iter().copied().filter(|s| s.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
        (lo.min(s), hi.max(s))
    });
    if !lo.is_finite() {
        return Histogram {
            hist: vec![0; bins],
            bin_edges: (0..=bins).map(|i| i as f64).collect(),
        };
    }
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let mut hist = vec![0u64; bins];
    for s in scores.iter().copied().filter(|s| s.is_finite()) {
        let i = (((s - lo) / width) as usize).min(bins - 1);
        hist[i] += 1;
    }
    Histogram {
        hist,
        bin_edges: (0..=bins).map(|i| lo + width * i as f64).collect(),
    }
}

/// Changes a dataset's settings. Its training history and trained weights are deleted (they
/// described the old window). Refused while the dataset is active.
pub fn update(
    store: &Store,
    id: &str,
    input: &DatasetInput,
    actor: Option<&str>,
    view: ResultView,
) -> Result<Dataset, DatasetError> {
    validate(&input.time_range_settings)?;
    let now = chrono::Utc::now().timestamp_millis();
    store.write(|c| {
        let tx = c.transaction()?;
        ensure_changeable(&tx, id)?;
        tx.execute(
            "UPDATE datasets SET time_start = ?2, time_end = ?3, exclude = ?4, comment = ?5,
                 use_for_inference_once_trained = ?6, last_training = NULL, updated = ?7, updated_by = ?8
             WHERE id = ?1",
            params![
                id,
                input.time_range_settings.start,
                input.time_range_settings.end,
                exclude_json(&input.time_range_settings),
                input.comment,
                input.use_for_inference_once_trained,
                now,
                actor
            ],
        )?;
        tx.execute("DELETE FROM training_results WHERE dataset_id = ?1", [id])?;
        tx.execute("DELETE FROM model_weights WHERE dataset_id = ?1", [id])?;
        tx.commit()?;
        Ok::<_, DatasetError>(())
    })?;
    get(store, id, view)
}

/// Deletes a dataset with its history and weights. Refused while it is active.
pub fn delete(store: &Store, id: &str) -> Result<(), DatasetError> {
    store.write(|c| {
        let tx = c.transaction()?;
        ensure_changeable(&tx, id)?;
        tx.execute("DELETE FROM datasets WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    })
}

fn ensure_changeable(c: &rusqlite::Connection, id: &str) -> Result<(), DatasetError> {
    let active: Option<bool> = c
        .query_row("SELECT is_active FROM datasets WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    match active {
        None => Err(DatasetError::NotFound(id.to_owned())),
        Some(true) => Err(DatasetError::Active(id.to_owned())),
        Some(false) => Ok(()),
    }
}
