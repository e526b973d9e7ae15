//! Service status and internal status (PrivX `ServiceStatus`, `UebaInternalStatus`), read from
//! the real state of the database and of this process.

use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::analysis::{self, InferenceStatus};
use crate::model::format_timestamp;
use crate::store::{Store, StoreError};

/// One active issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct StatusIssue {
    /// NOTICE, WARNING or ERROR.
    pub severity: String,
    /// Machine-readable code.
    pub code: String,
    /// What it means.
    pub message: String,
}

/// A status key-value pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct StatusDetail {
    /// The key.
    pub k: String,
    /// The value.
    pub v: String,
}

/// PrivX `ServiceStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ServiceStatus {
    /// Version of this build.
    pub version: String,
    /// Newest API version served.
    pub api_version: String,
    /// RUNNING, WARNING, ERROR or PENDING.
    pub status: String,
    /// What the status means.
    pub status_message: String,
    /// Active issues.
    pub issues: Vec<StatusIssue>,
    /// Counts and facts.
    pub status_details: Vec<StatusDetail>,
    /// Id of this process, generated at start.
    pub app_id: String,
    /// When this process started (RFC 3339).
    pub start_time: String,
}

/// One feature config's model of the active (or latest trained) dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ModelInstanceStatus {
    /// The training result's id.
    pub id: String,
    /// The feature config.
    pub feature_config_name: String,
    /// RUNNING while it scores, DOWN otherwise.
    pub status: String,
    /// When its training started (RFC 3339).
    pub created: String,
}

/// PrivX `UebaInternalStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct InternalStatus {
    /// MODELS_MISSING, MODELS_AVAILABLE, TRAINING or RETRAINING.
    pub training_status: String,
    /// RUNNING, STOPPING or STOPPED.
    pub inference_status: InferenceStatus,
    /// The dataset used for inference.
    pub dataset_id: Option<String>,
    /// The models of that dataset.
    pub model_instance_status: Vec<ModelInstanceStatus>,
}

/// This process's id and start time.
fn process_identity() -> &'static (String, i64) {
    static IDENTITY: OnceLock<(String, i64)> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        (
            uuid::Uuid::new_v4().to_string(),
            chrono::Utc::now().timestamp_millis(),
        )
    })
}

/// The internal status.
pub fn internal(store: &Store) -> Result<InternalStatus, StoreError> {
    store.read(|c| Ok(internal_on(c)?))
}

/// [`internal`] on one connection, every statement cached: status is what monitors poll.
fn internal_on(c: &rusqlite::Connection) -> rusqlite::Result<InternalStatus> {
    let state = analysis::state_on(c)?;
    // A training is running only while a live process holds its lease.
    let training = super::training::running_on(c)?.is_some();
    {
        let models: i64 = c
            .prepare_cached("SELECT count(*) FROM model_weights")?
            .query_row([], |r| r.get(0))?;
        let training_status = match (training, models > 0) {
            (true, true) => "RETRAINING",
            (true, false) => "TRAINING",
            (false, true) => "MODELS_AVAILABLE",
            (false, false) => "MODELS_MISSING",
        };
        let mut instances = Vec::new();
        if let Some(id) = &state.dataset_id {
            let mut stmt = c.prepare_cached(
                "SELECT id, feature_config_name, created FROM training_results
                 WHERE dataset_id = ?1 AND status = 'SUCCESS'
                   AND created = (SELECT max(created) FROM training_results WHERE dataset_id = ?1)
                 ORDER BY feature_config_name",
            )?;
            let running = state.status == InferenceStatus::Running;
            instances = stmt
                .query_map([id], |r| {
                    Ok(ModelInstanceStatus {
                        id: r.get(0)?,
                        feature_config_name: r.get(1)?,
                        status: if running { "RUNNING" } else { "DOWN" }.to_owned(),
                        created: format_timestamp(r.get(2)?),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
        }
        Ok(InternalStatus {
            training_status: training_status.to_owned(),
            inference_status: state.status,
            dataset_id: state.dataset_id.clone(),
            model_instance_status: instances,
        })
    }
}

/// How old a reused status answer may be (when nothing was written through the store since).
pub const RECENT_STATUS_MAX_AGE: Duration = Duration::from_millis(250);

/// The last status computed per store: (store id, write generation, when, status).
type StatusMemo = Option<(u64, u64, Instant, Arc<ServiceStatus>)>;
static LAST_STATUS: Mutex<StatusMemo> = Mutex::new(None);

/// The last service status computed for `store`, if nothing was written through it since and
/// it is at most [`RECENT_STATUS_MAX_AGE`] old. Status is what monitors and scripts poll,
/// often many at once; this answers them without touching the database, and a change made
/// through this store is seen by the very next call.
pub fn recent_service(store: &Store) -> Option<Arc<ServiceStatus>> {
    let memo = LAST_STATUS.lock().ok()?;
    let (id, generation, at, status) = memo.as_ref()?;
    (*id == store.id()
        && *generation == store.write_generation()
        && at.elapsed() < RECENT_STATUS_MAX_AGE)
        .then(|| Arc::clone(status))
}

/// [`service`], remembered for [`recent_service`]. One caller at a time recomputes an expired
/// answer; callers arriving meanwhile get the previous one unless something was written since.
pub fn service_shared(store: &Store) -> Result<Arc<ServiceStatus>, StoreError> {
    static REFRESHING: AtomicBool = AtomicBool::new(false);
    let generation = store.write_generation();
    let claimed = REFRESHING
        .compare_exchange(
            false,
            true,
            AtomicOrdering::Acquire,
            AtomicOrdering::Relaxed,
        )
        .is_ok();
    if !claimed {
        let memo = LAST_STATUS.lock().ok().and_then(|m| m.clone());
        if let Some((id, g, _, status)) = memo {
            if id == store.id() && g == generation {
                return Ok(status);
            }
        }
    }
    let computed = service(store).map(Arc::new);
    if let Ok(status) = &computed {
        if let Ok(mut memo) = LAST_STATUS.lock() {
            *memo = Some((store.id(), generation, Instant::now(), Arc::clone(status)));
        }
    }
    if claimed {
        REFRESHING.store(false, AtomicOrdering::Release);
    }
    computed
}

/// The service status.
pub fn service(store: &Store) -> Result<ServiceStatus, StoreError> {
    // One reader, cached statements, and the connection total kept by the writers
    // (`row_counts`): status costs the same however many connections are stored.
    let (internal, connections, datasets, (anomalies, blocked)) = store.read(|c| {
        let internal = internal_on(c)?;
        let (connections, datasets): (i64, i64) = c
            .prepare_cached(
                "SELECT (SELECT rows FROM row_counts WHERE name = 'connections'),
                        (SELECT count(*) FROM datasets)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let anomalies = super::scoring::count_anomalies_on(c)?;
        Ok::<_, StoreError>((internal, connections, datasets, anomalies))
    })?;
    let mut issues = Vec::new();
    let issue = |severity: &str, code: &str, message: &str| StatusIssue {
        severity: severity.to_owned(),
        code: code.to_owned(),
        message: message.to_owned(),
    };
    if connections == 0 {
        issues.push(issue(
            "WARNING",
            "NO_CONNECTIONS",
            "no connections have been imported",
        ));
    }
    if internal.training_status == "MODELS_MISSING" {
        issues.push(issue(
            "WARNING",
            "NO_TRAINED_MODEL",
            "no trained model: create a dataset and train it",
        ));
    }
    if internal.inference_status != InferenceStatus::Running {
        issues.push(issue(
            "NOTICE",
            "ANALYSIS_STOPPED",
            "analysis is stopped: new connections are not scored",
        ));
    }
    let (status, message) = match (internal.training_status.as_str(), internal.inference_status) {
        ("TRAINING" | "RETRAINING", _) => ("PENDING", "training models"),
        (_, InferenceStatus::Running) => ("RUNNING", "analyzing new connections"),
        ("MODELS_MISSING", _) => ("WARNING", "no trained model"),
        _ => ("WARNING", "models are trained but analysis is stopped"),
    };
    let (app_id, started) = process_identity();
    let detail = |k: &str, v: String| StatusDetail { k: k.to_owned(), v };
    Ok(ServiceStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: "v1".to_owned(),
        status: status.to_owned(),
        status_message: message.to_owned(),
        issues,
        status_details: vec![
            detail("connections", connections.to_string()),
            detail("datasets", datasets.to_string()),
            detail("anomalies", anomalies.to_string()),
            detail("blocked_connections", blocked.to_string()),
            detail("training_status", internal.training_status.clone()),
            detail(
                "active_dataset",
                internal.dataset_id.clone().unwrap_or_default(),
            ),
        ],
        app_id: app_id.clone(),
        start_time: format_timestamp(*started),
    })
}
