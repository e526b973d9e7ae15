//! Scoring connections with a dataset's trained models, and the anomalies analysis raises.
//!
//! - [`analyze_range`] rescores a past range with the active dataset: the range's anomalies
//!   are replaced in one transaction.
//! - [`score_arrivals`] scores connections as they are imported while analysis runs.
//! - [`score_to_csv`] writes one score per connection of a range or a file (batch scoring, the
//!   evaluator's door); [`evaluate`] compares scores with the `label` column.
//!
//! A connection is anomalous when its normalized score exceeds `1 − rate(t)` for the anomaly
//! settings' threshold `t` (see [`ueba_analytics::is_anomalous`]). AUDIT records the anomaly;
//! BLOCK also marks it blocked.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use ueba_analytics::{
    evaluate as metrics, evaluate_scenarios, is_anomalous, ConnectionFeaturesInput,
    ConnectionScore, TrainedEnsemble,
};

use super::analysis::{self, InferenceStatus};
use super::rows::{FeatureRows, FEATURE_COLUMNS};
use super::settings::{anomaly_settings, AnomalyAction, AnomalySettings};
use super::training::WEIGHTS_FORMAT;
use crate::ingest::{self, Format, IngestError};
use crate::model::format_timestamp;
use crate::response::alerts::{self, FlaggedConnection};
use crate::response::policies;
use crate::store::{Store, StoreError};

/// Why scoring failed.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// No dataset has this id.
    #[error("dataset {0} not found")]
    NotFound(String),
    /// The dataset has no trained models.
    #[error("dataset {0} has no trained models; train it first")]
    NotTrained(String),
    /// Analysis is not running, so there is no active dataset to score with.
    #[error("analysis is not running; start it with a trained dataset first")]
    NotAnalyzing,
    /// The stored weights cannot be read by this build.
    #[error("the trained models of dataset {dataset} cannot be read ({reason}); train the dataset again")]
    BadWeights {
        /// The dataset.
        dataset: String,
        /// What is wrong.
        reason: String,
    },
    /// The input file is unreadable or invalid.
    #[error(transparent)]
    Input(#[from] IngestError),
    /// Writing the output failed.
    #[error("cannot write {file}: {source}")]
    Output {
        /// The output.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Raising the alerts or applying the policies failed.
    #[error(transparent)]
    Response(#[from] crate::response::ResponseError),
}

impl From<rusqlite::Error> for ScoringError {
    fn from(e: rusqlite::Error) -> Self {
        ScoringError::Store(StoreError::Sqlite(e))
    }
}

/// A loaded model, cached by database, dataset and training time.
struct CachedModel {
    db: PathBuf,
    dataset_id: String,
    created: i64,
    ensemble: Arc<TrainedEnsemble>,
}

/// The last model loaded: scoring every import batch must not re-parse the weights.
static MODEL_CACHE: Mutex<Option<CachedModel>> = Mutex::new(None);

/// The trained models of `dataset_id`.
pub fn load_model(store: &Store, dataset_id: &str) -> Result<Arc<TrainedEnsemble>, ScoringError> {
    let created: Option<(i64, String)> = store.read(|c| {
        c.query_row(
            "SELECT created, format FROM model_weights WHERE dataset_id = ?1",
            [dataset_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::from)
    })?;
    let Some((created, format)) = created else {
        let exists: Option<i64> = store.read(|c| {
            c.query_row("SELECT 1 FROM datasets WHERE id = ?1", [dataset_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(StoreError::from)
        })?;
        return Err(match exists {
            None => ScoringError::NotFound(dataset_id.to_owned()),
            Some(_) => ScoringError::NotTrained(dataset_id.to_owned()),
        });
    };
    if let Ok(cache) = MODEL_CACHE.lock() {
        if let Some(m) = cache
            .as_ref()
            .filter(|m| m.db == store.path() && m.dataset_id == dataset_id && m.created == created)
        {
            return Ok(Arc::clone(&m.ensemble));
        }
    }
    let bad = |reason: String| ScoringError::BadWeights {
        dataset: dataset_id.to_owned(),
        reason,
    };
    if format != WEIGHTS_FORMAT {
        return Err(bad(format!("unknown weights format {format:?}")));
    }
    let bytes: Vec<u8> = store.read(|c| {
        c.query_row(
            "SELECT weights FROM model_weights WHERE dataset_id = ?1",
            [dataset_id],
            |r| r.get(0),
        )
        .map_err(StoreError::from)
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| bad(e.to_string()))?;
    let ensemble = Arc::new(TrainedEnsemble::from_json(text).map_err(|e| bad(e.to_string()))?);
    if let Ok(mut cache) = MODEL_CACHE.lock() {
        *cache = Some(CachedModel {
            db: store.path().to_owned(),
            dataset_id: dataset_id.to_owned(),
            created,
            ensemble: Arc::clone(&ensemble),
        });
    }
    Ok(ensemble)
}

/// Splits work over the machine's cores (scoring is independent per connection).
fn parallel<T: Send>(
    inputs: &[ConnectionFeaturesInput<'_>],
    f: impl Fn(&[ConnectionFeaturesInput<'_>]) -> Vec<T> + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || inputs.len() < 4096 {
        return f(inputs);
    }
    let chunk = inputs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| s.spawn(|| f(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Normalized scores of `inputs` (the fast path: no per-config detail).
pub fn score_values(model: &TrainedEnsemble, inputs: &[ConnectionFeaturesInput<'_>]) -> Vec<f64> {
    parallel(inputs, |part| model.score_values(part))
}

/// Full scores of `inputs`: per-config scores and reasons.
pub fn score_detailed(
    model: &TrainedEnsemble,
    inputs: &[ConnectionFeaturesInput<'_>],
) -> Vec<ConnectionScore> {
    parallel(inputs, |part| model.score(part))
}

/// One feature config's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct FeatureScore {
    /// The feature config (model).
    pub feature_config_name: String,
    /// Its raw model score.
    pub raw: f64,
    /// Its normalized score in [0, 1].
    pub normalized: f64,
}

/// An anomaly raised by analysis, with the connection it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Anomaly {
    /// The connection's id.
    pub connection_id: String,
    /// When the connection started (RFC 3339).
    pub connected: String,
    /// The user.
    pub user: String,
    /// The target host.
    pub target_host: String,
    /// The account on the target, if known.
    pub target_host_account: Option<String>,
    /// The source address.
    pub remote_address: String,
    /// The protocol.
    #[serde(rename = "type")]
    pub conn_type: String,
    /// The dataset whose models flagged it.
    pub dataset_id: String,
    /// Normalized score in [0, 1] (higher is more anomalous).
    pub score: f64,
    /// The threshold in force when it was flagged.
    pub threshold: f64,
    /// The action applied.
    pub action: AnomalyAction,
    /// Whether the connection was marked blocked.
    pub blocked: bool,
    /// Score per feature config, highest normalized first.
    pub feature_scores: Vec<FeatureScore>,
    /// Plain-words reasons naming the features that drove it.
    pub explanation: Vec<String>,
    /// When it was flagged (RFC 3339).
    pub detected: String,
}

/// What a scoring pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AnalyzeReport {
    /// Connections scored.
    #[ts(type = "number")]
    pub scored: u64,
    /// Anomalies recorded.
    #[ts(type = "number")]
    pub anomalies: u64,
    /// Of which marked blocked.
    #[ts(type = "number")]
    pub blocked: u64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// A flagged connection, before it is stored.
struct NewAnomaly {
    connection_id: String,
    connected: i64,
    user: String,
    score: f64,
    feature_scores: Vec<FeatureScore>,
    explanation: Vec<String>,
}

/// Rows scored per chunk (bounds memory on large ranges).
const CHUNK_ROWS: usize = 200_000;

/// Scores `rows` and returns the anomalies at `settings`' threshold, with explanations.
fn find_anomalies(
    model: &TrainedEnsemble,
    rows: &FeatureRows,
    settings: &AnomalySettings,
) -> Vec<NewAnomaly> {
    let inputs = rows.inputs();
    let scores = score_values(model, &inputs);
    let flagged: Vec<usize> = (0..inputs.len())
        .filter(|&i| is_anomalous(scores[i], settings.threshold))
        .collect();
    let picked: Vec<ConnectionFeaturesInput<'_>> = flagged.iter().map(|&i| inputs[i]).collect();
    let detailed = model.score(&picked);
    flagged
        .iter()
        .zip(detailed)
        .map(|(&i, d)| {
            let mut feature_scores: Vec<FeatureScore> = d
                .per_config
                .iter()
                .map(|(name, raw, normalized)| FeatureScore {
                    feature_config_name: (*name).to_owned(),
                    raw: *raw,
                    normalized: *normalized,
                })
                .collect();
            feature_scores.sort_by(|a, b| b.normalized.total_cmp(&a.normalized));
            NewAnomaly {
                connection_id: rows.id(i).to_owned(),
                connected: rows.connected(i),
                user: rows.user(i).to_owned(),
                score: d.score,
                feature_scores,
                explanation: d.reasons,
            }
        })
        .collect()
}

/// Stores anomalies (replacing earlier ones for the same connections).
fn insert_anomalies(
    tx: &rusqlite::Connection,
    dataset_id: &str,
    settings: &AnomalySettings,
    found: &[NewAnomaly],
) -> rusqlite::Result<u64> {
    let now = chrono::Utc::now().timestamp_millis();
    let blocked = settings.action == AnomalyAction::Block;
    let action = match settings.action {
        AnomalyAction::Block => "BLOCK",
        AnomalyAction::Audit => "AUDIT",
    };
    let mut stmt = tx.prepare(
        "INSERT OR REPLACE INTO anomalies (connection_id, connected, user, dataset_id, score, threshold,
             action, blocked, feature_scores, explanation, detected)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for a in found {
        stmt.execute(params![
            a.connection_id,
            a.connected,
            a.user,
            dataset_id,
            a.score,
            settings.threshold,
            action,
            blocked,
            serde_json::to_string(&a.feature_scores).unwrap_or_default(),
            serde_json::to_string(&a.explanation).unwrap_or_default(),
            now,
        ])?;
    }
    Ok(if blocked { found.len() as u64 } else { 0 })
}

/// Raises an alert for every new anomaly (in the transaction that stores them): the feature
/// configs over the threshold are the ones that flagged it, or the highest when none is alone.
fn raise_alerts(
    tx: &rusqlite::Connection,
    settings: &AnomalySettings,
    found: &[NewAnomaly],
) -> Result<(), ScoringError> {
    let flagged: Vec<FlaggedConnection<'_>> = found
        .iter()
        .map(|a| {
            let mut features: Vec<String> = a
                .feature_scores
                .iter()
                .filter(|f| f.normalized >= settings.threshold)
                .map(|f| f.feature_config_name.clone())
                .collect();
            if features.is_empty() {
                features.extend(
                    a.feature_scores
                        .first()
                        .map(|f| f.feature_config_name.clone()),
                );
            }
            FlaggedConnection {
                connection_id: &a.connection_id,
                score: a.score,
                features,
                explanation: &a.explanation,
            }
        })
        .collect();
    let raised = alerts::raise(tx, &flagged)?;
    policies::apply_to_new_alerts(tx, &raised)?;
    Ok(())
}

/// Reads the connections matching `condition` in chunks and hands each chunk to `f`.
fn scan(
    store: &Store,
    condition: &str,
    args: &[i64],
    mut f: impl FnMut(&FeatureRows) -> Result<(), ScoringError>,
) -> Result<u64, ScoringError> {
    store.read(|c| {
        let mut stmt = c.prepare(&format!(
            "SELECT {FEATURE_COLUMNS} FROM connections WHERE {condition}"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut chunk = FeatureRows::with_capacity(CHUNK_ROWS.min(65_536));
        let mut total = 0u64;
        while let Some(r) = rows.next()? {
            chunk.push_sql_row(r)?;
            if chunk.len() >= CHUNK_ROWS {
                total += chunk.len() as u64;
                f(&chunk)?;
                chunk.clear_rows();
            }
        }
        if !chunk.is_empty() {
            total += chunk.len() as u64;
            f(&chunk)?;
        }
        Ok(total)
    })
}

/// `column` in `[from, to)` (either end open), as SQL and its arguments.
fn range_condition(column: &str, from: Option<i64>, to: Option<i64>) -> (String, Vec<i64>) {
    let mut terms = vec!["1".to_owned()];
    let mut args = Vec::new();
    if let Some(f) = from {
        args.push(f);
        terms.push(format!("{column} >= ?{}", args.len()));
    }
    if let Some(t) = to {
        args.push(t);
        terms.push(format!("{column} < ?{}", args.len()));
    }
    (terms.join(" AND "), args)
}

fn active_dataset(store: &Store) -> Result<String, ScoringError> {
    let state = analysis::state(store)?;
    match (state.status, state.dataset_id) {
        (InferenceStatus::Running, Some(id)) => Ok(id),
        _ => Err(ScoringError::NotAnalyzing),
    }
}

/// Rescores the connections of `[from, to)` with the active dataset and the current anomaly
/// settings; the range's earlier anomalies are replaced in one transaction.
pub fn analyze_range(
    store: &Store,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<AnalyzeReport, ScoringError> {
    let dataset_id = active_dataset(store)?;
    let (condition, args) = range_condition("connected", from, to);
    record_anomalies(store, &dataset_id, &condition, &args, true)
}

/// The newest connection's rowid: connections stored after this call have a larger one.
pub fn arrival_mark(store: &Store) -> Result<i64, StoreError> {
    store.read(|c| {
        c.query_row("SELECT coalesce(max(rowid), 0) FROM connections", [], |r| {
            r.get(0)
        })
        .map_err(StoreError::from)
    })
}

/// Scores connections stored after `mark` (see [`arrival_mark`]) if analysis is running;
/// returns `None` when it is not.
pub fn score_arrivals(store: &Store, mark: i64) -> Result<Option<AnalyzeReport>, ScoringError> {
    let dataset_id = match active_dataset(store) {
        Ok(id) => id,
        Err(ScoringError::NotAnalyzing) => return Ok(None),
        Err(e) => return Err(e),
    };
    record_anomalies(store, &dataset_id, "rowid > ?1", &[mark], false).map(Some)
}

/// Scores the connections matching `condition` with `dataset_id`'s models and stores their
/// anomalies; with `replace`, the anomalies matching `condition` are deleted first, in the same
/// transaction.
fn record_anomalies(
    store: &Store,
    dataset_id: &str,
    condition: &str,
    args: &[i64],
    replace: bool,
) -> Result<AnalyzeReport, ScoringError> {
    let started = std::time::Instant::now();
    let model = load_model(store, dataset_id)?;
    let settings = anomaly_settings(store)?;
    let mut found = Vec::new();
    let scored = scan(store, condition, args, |rows| {
        found.extend(find_anomalies(&model, rows, &settings));
        Ok(())
    })?;
    let blocked = store.write(|c| {
        let tx = c.transaction()?;
        if replace {
            tx.execute(
                &format!("DELETE FROM anomalies WHERE {condition}"),
                rusqlite::params_from_iter(args),
            )?;
        }
        let blocked = insert_anomalies(&tx, dataset_id, &settings, &found)?;
        raise_alerts(&tx, &settings, &found)?;
        tx.commit()?;
        Ok::<_, ScoringError>(blocked)
    })?;
    Ok(AnalyzeReport {
        scored,
        anomalies: found.len() as u64,
        blocked,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Filters of [`list_anomalies`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AnomalyFilter {
    /// Connected at or after (epoch ms).
    #[ts(type = "number | null")]
    pub from: Option<i64>,
    /// Connected before (epoch ms).
    #[ts(type = "number | null")]
    pub to: Option<i64>,
    /// Only this user.
    pub user: Option<String>,
    /// At most this many, newest first (default 100, at most 10 000).
    pub limit: Option<u32>,
    /// Skip this many first (paging).
    #[serde(default)]
    pub offset: Option<u32>,
}

/// Anomalies, newest connection first.
pub fn list_anomalies(store: &Store, filter: &AnomalyFilter) -> Result<Vec<Anomaly>, StoreError> {
    let (mut condition, mut args) = range_condition("a.connected", filter.from, filter.to);
    let mut values: Vec<rusqlite::types::Value> = args.drain(..).map(Into::into).collect();
    if let Some(u) = &filter.user {
        values.push(u.clone().into());
        condition.push_str(&format!(" AND a.user = ?{}", values.len()));
    }
    let limit = filter.limit.unwrap_or(100).clamp(1, 10_000);
    let offset = filter.offset.unwrap_or(0);
    store.read(|c| {
        let mut stmt = c.prepare(&format!(
            "SELECT a.connection_id, a.connected, a.user, c.target_host, c.target_host_account,
                    c.remote_address, c.type, a.dataset_id, a.score, a.threshold, a.action, a.blocked,
                    a.feature_scores, a.explanation, a.detected
             FROM anomalies a JOIN connections c ON c.id = a.connection_id
             WHERE {condition} ORDER BY a.connected DESC, a.connection_id LIMIT {limit} OFFSET {offset}"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            let action: String = r.get(10)?;
            let feature_scores: String = r.get(12)?;
            let explanation: String = r.get(13)?;
            Ok(Anomaly {
                connection_id: r.get(0)?,
                connected: format_timestamp(r.get(1)?),
                user: r.get(2)?,
                target_host: r.get(3)?,
                target_host_account: r.get(4)?,
                remote_address: r.get(5)?,
                conn_type: r.get(6)?,
                dataset_id: r.get(7)?,
                score: r.get(8)?,
                threshold: r.get(9)?,
                action: if action == "BLOCK" {
                    AnomalyAction::Block
                } else {
                    AnomalyAction::Audit
                },
                blocked: r.get(11)?,
                feature_scores: serde_json::from_str(&feature_scores).unwrap_or_default(),
                explanation: serde_json::from_str(&explanation).unwrap_or_default(),
                detected: format_timestamp(r.get(14)?),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// Number of anomalies, and of those blocked.
pub fn count_anomalies(store: &Store) -> Result<(u64, u64), StoreError> {
    store.read(|c| Ok(count_anomalies_on(c)?))
}

/// [`count_anomalies`] on an open connection.
pub(crate) fn count_anomalies_on(c: &rusqlite::Connection) -> rusqlite::Result<(u64, u64)> {
    c.prepare_cached("SELECT count(*), coalesce(sum(blocked), 0) FROM anomalies")?
        .query_row([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })
}

/// What to score in batch.
#[derive(Debug, Clone)]
pub enum ScoreSource {
    /// Stored connections in `[from, to)`.
    Range {
        /// Connected at or after (epoch ms).
        from: Option<i64>,
        /// Connected before (epoch ms).
        to: Option<i64>,
    },
    /// A connections file, read without storing it.
    File {
        /// The file.
        path: PathBuf,
        /// Its format (detected when `None`).
        format: Option<Format>,
    },
}

/// Summary of a batch scoring.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScoreSummary {
    /// Connections scored.
    #[ts(type = "number")]
    pub scored: u64,
    /// Of which anomalous at the threshold used.
    #[ts(type = "number")]
    pub anomalous: u64,
    /// The threshold used.
    pub threshold: f64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Of which computing features and model scores (not reading or writing).
    pub model_seconds: f64,
}

/// Runs `f` on the chunks of `source`.
fn for_each_chunk(
    store: &Store,
    source: &ScoreSource,
    mut f: impl FnMut(&FeatureRows) -> Result<(), ScoringError>,
) -> Result<u64, ScoringError> {
    match source {
        ScoreSource::Range { from, to } => {
            let (condition, args) = range_condition("connected", *from, *to);
            scan(store, &condition, &args, f)
        }
        ScoreSource::File { path, format } => {
            let mut chunk = FeatureRows::with_capacity(65_536);
            let mut total = 0u64;
            let mut failed: Option<ScoringError> = None;
            ingest::read_file(path, *format, &mut |c| {
                if failed.is_some() {
                    return;
                }
                chunk.push_connection(&c);
                if chunk.len() >= CHUNK_ROWS {
                    total += chunk.len() as u64;
                    if let Err(e) = f(&chunk) {
                        failed = Some(e);
                    }
                    chunk.clear_rows();
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            if !chunk.is_empty() {
                total += chunk.len() as u64;
                f(&chunk)?;
            }
            Ok(total)
        }
    }
}

/// The header of [`score_to_csv`]'s output.
pub const SCORE_CSV_HEADER: [&str; 5] = ["id", "score", "anomalous", "feature_config", "reasons"];

/// Writes `id,score,anomalous,feature_config,reasons` for every connection of `source`,
/// scored with `dataset_id`'s models at `threshold` (the anomaly settings' when `None`).
/// `feature_config` names the config with the highest normalized score; `reasons` are given
/// for connections some threshold could flag, joined with "; ".
pub fn score_to_csv(
    store: &Store,
    dataset_id: &str,
    source: &ScoreSource,
    threshold: Option<f64>,
    out: &mut dyn Write,
    out_name: &str,
) -> Result<ScoreSummary, ScoringError> {
    let started = std::time::Instant::now();
    let model = load_model(store, dataset_id)?;
    let threshold = match threshold {
        Some(t) => t,
        None => anomaly_settings(store)?.threshold,
    };
    let io = |source: std::io::Error| ScoringError::Output {
        file: out_name.to_owned(),
        source,
    };
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(SCORE_CSV_HEADER)
        .map_err(|e| io(e.into()))?;
    let mut anomalous = 0u64;
    let mut model_seconds = 0.0;
    let scored = for_each_chunk(store, source, |rows| {
        let inputs = rows.inputs();
        let t = std::time::Instant::now();
        let scores = score_detailed(&model, &inputs);
        model_seconds += t.elapsed().as_secs_f64();
        for (i, s) in scores.iter().enumerate() {
            let flagged = is_anomalous(s.score, threshold);
            anomalous += u64::from(flagged);
            let top = s
                .per_config
                .iter()
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map_or("", |c| c.0);
            writer
                .write_record([
                    rows.id(i),
                    &format!("{:.6}", s.score),
                    if flagged { "true" } else { "false" },
                    top,
                    &s.reasons.join("; "),
                ])
                .map_err(|e| io(e.into()))?;
        }
        Ok(())
    })?;
    writer.flush().map_err(io)?;
    Ok(ScoreSummary {
        scored,
        anomalous,
        threshold,
        seconds: started.elapsed().as_secs_f64(),
        model_seconds,
    })
}

/// [`score_to_csv`] into the file `path`, which appears only when complete (a bad input row or
/// a failure leaves no half-written file, and an existing file untouched).
pub fn score_to_file(
    store: &Store,
    dataset_id: &str,
    source: &ScoreSource,
    threshold: Option<f64>,
    path: &std::path::Path,
) -> Result<ScoreSummary, ScoringError> {
    let name = path.display().to_string();
    crate::export::write_atomically(
        path,
        |source| ScoringError::Output {
            file: name.clone(),
            source,
        },
        |out| score_to_csv(store, dataset_id, source, threshold, out, &name),
    )
}

/// Detection quality on labelled connections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Evaluation {
    /// Connections scored.
    #[ts(type = "number")]
    pub connections: u64,
    /// Of which labelled as attacks.
    #[ts(type = "number")]
    pub attacks: u64,
    /// Area under the ROC curve (attacks vs the rest).
    pub roc_auc: f64,
    /// Area under the precision-recall curve (average precision).
    pub pr_auc: f64,
    /// Share of attacks flagged at the score that flags 1 % of normal connections.
    pub recall_at_1pct_fpr: f64,
    /// Recall at 1 % FPR per attack scenario.
    pub scenarios: Vec<ScenarioEvaluation>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Of which computing features and scores (the fast path, without explanations).
    pub model_seconds: f64,
}

/// One scenario's recall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScenarioEvaluation {
    /// The `label` value.
    pub scenario: String,
    /// Connections with it.
    #[ts(type = "number")]
    pub count: u64,
    /// Share flagged at 1 % FPR.
    pub recall_at_1pct_fpr: f64,
}

/// Scores `source` with `dataset_id`'s models and measures them against the `label` column
/// (non-empty = attack, the value names the scenario). Labels are never used for training.
pub fn evaluate(
    store: &Store,
    dataset_id: &str,
    source: &ScoreSource,
) -> Result<Evaluation, ScoringError> {
    let started = std::time::Instant::now();
    let model = load_model(store, dataset_id)?;
    // Rank by the unbounded combined evidence: the calibrated score saturates at 1 for the
    // most extreme connections, which would tie them.
    let mut scores = Vec::new();
    let mut labels: Vec<Option<String>> = Vec::new();
    let mut model_seconds = 0.0;
    for_each_chunk(store, source, |rows| {
        let inputs = rows.inputs();
        let t = std::time::Instant::now();
        scores.extend(parallel(&inputs, |part| model.combined_values(part)));
        model_seconds += t.elapsed().as_secs_f64();
        labels.extend((0..rows.len()).map(|i| rows.label(i).map(str::to_owned)));
        Ok(())
    })?;
    let is_attack: Vec<bool> = labels.iter().map(Option::is_some).collect();
    let m = metrics(&scores, &is_attack);
    let scenario_names: Vec<&str> = labels
        .iter()
        .map(|l| l.as_deref().unwrap_or("normal"))
        .collect();
    let scenarios = evaluate_scenarios(&scores, &scenario_names)
        .into_iter()
        .map(|s| ScenarioEvaluation {
            scenario: s.scenario,
            count: s.count as u64,
            recall_at_1pct_fpr: s.recall_at_1pct_fpr,
        })
        .collect();
    Ok(Evaluation {
        connections: scores.len() as u64,
        attacks: is_attack.iter().filter(|&&a| a).count() as u64,
        roc_auc: m.roc_auc,
        pr_auc: m.pr_auc,
        recall_at_1pct_fpr: m.recall_at_1pct_fpr,
        scenarios,
        seconds: started.elapsed().as_secs_f64(),
        model_seconds,
    })
}

/// How many connections of `[from, to)` each threshold 0.00, 0.01, … 1.00 would flag with the
/// active (or given) dataset's models: the analysis page's slider preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FlagPreview {
    /// The dataset whose models were used.
    pub dataset_id: String,
    /// Connections scored.
    #[ts(type = "number")]
    pub connections: u64,
    /// `flagged[k]` = connections flagged at threshold `k / 100`.
    #[ts(type = "number[]")]
    pub flagged: Vec<u64>,
    /// Start of the range scored (epoch ms), when bounded.
    #[ts(type = "number | null")]
    pub from: Option<i64>,
    /// End of the range scored (epoch ms), when bounded.
    #[ts(type = "number | null")]
    pub to: Option<i64>,
}

/// Scores `[from, to)` once and counts what every threshold step would flag.
pub fn flag_preview(
    store: &Store,
    dataset_id: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<FlagPreview, ScoringError> {
    let model = load_model(store, dataset_id)?;
    let mut flagged = vec![0u64; 101];
    let (condition, args) = range_condition("connected", from, to);
    // Threshold k flags scores above 1 − rate(k / 100), a cut that falls as k grows.
    let cuts: Vec<f64> = (0..=100)
        .map(|k| 1.0 - ueba_analytics::expected_flag_rate(k as f64 / 100.0))
        .collect();
    let connections = scan(store, &condition, &args, |rows| {
        let inputs = rows.inputs();
        for s in score_values(&model, &inputs) {
            for (count, cut) in flagged.iter_mut().zip(&cuts) {
                *count += u64::from(s > *cut);
            }
        }
        Ok(())
    })?;
    Ok(FlagPreview {
        dataset_id: dataset_id.to_owned(),
        connections,
        flagged,
        from,
        to,
    })
}

/// [`flag_preview`] over the last `days` days of stored traffic (ending at the newest
/// connection, so imported or demo data from the past previews as well as live data).
pub fn flag_preview_recent(
    store: &Store,
    dataset_id: &str,
    days: u32,
) -> Result<FlagPreview, ScoringError> {
    let newest: Option<i64> = store.read(|c| {
        c.query_row("SELECT max(connected) FROM connections", [], |r| r.get(0))
            .map_err(StoreError::from)
    })?;
    let to = newest.map(|t| t + 1);
    let from = to.map(|t| t - i64::from(days.max(1)) * 86_400_000);
    flag_preview(store, dataset_id, from, to)
}
