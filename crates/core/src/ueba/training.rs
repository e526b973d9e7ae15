//! Training a dataset's models (PrivX train-dataset): in the background, with progress and
//! cancel, one [`TrainingResult`](super::datasets::TrainingResult) per feature config.
//!
//! A run is announced before it starts: its `TRAINING` rows and a *lease* are written in one
//! transaction, so every process sharing the database sees it and a second training is refused
//! with "training is already on-going". The run renews the lease while it works; a lease that
//! stops being renewed (the process died) lets the next training mark the orphaned rows
//! `FAILURE` / `INTERRUPTED` instead of blocking forever. The results, the trained weights and
//! (if asked) activation are committed together at the end; if the dataset was changed or
//! deleted meanwhile, the outcome is discarded.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use ueba_analytics::{FeatureConfig, TrainConfig, TrainError, TrainedEnsemble};

pub use ueba_analytics::ModelKind;

use super::datasets::{self, encode_scores, TimeRangeSettings};
use super::rows::{FeatureRows, FEATURE_COLUMNS};
use crate::store::{put_setting, Store, StoreError};
use crate::CancelToken;

/// Training options (PrivX train-dataset parameters and the engine's knobs).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Seed of the split and model initialisation; same data + seed → same models.
    pub seed: u64,
    /// Fewer connections than this fails with `NOT_ENOUGH_DATA`.
    pub min_connections: usize,
    /// Model family (the measured default is the Gaussian mixture).
    pub model: ModelKind,
    /// Start analyzing with this dataset when training succeeds.
    pub set_active_after_training: bool,
    /// Bins of the histogram in the training log.
    pub bin_count: usize,
}

/// Default minimum number of connections to train on.
pub const DEFAULT_MIN_CONNECTIONS: usize = 5_000;

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            min_connections: DEFAULT_MIN_CONNECTIONS,
            model: ModelKind::default(),
            set_active_after_training: false,
            bin_count: datasets::DEFAULT_BIN_COUNT,
        }
    }
}

/// What a training run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TrainingPhase {
    /// Reading the dataset's connections from the database.
    Loading,
    /// Fitting the models.
    Fitting,
    /// Storing results and weights.
    Saving,
}

/// A progress report of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TrainingProgress {
    /// The dataset being trained.
    pub dataset_id: String,
    /// Current phase.
    pub phase: TrainingPhase,
    /// Overall progress, 0–1.
    pub fraction: f64,
    /// Connections loaded so far (all of them once fitting starts).
    #[ts(type = "number")]
    pub connections: u64,
    /// The feature config being fitted.
    pub feature_config: Option<String>,
    /// Its current iteration.
    pub iteration: u32,
    /// Its iteration limit.
    pub max_iterations: u32,
}

/// How a training run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TrainingOutcome {
    /// The dataset.
    pub dataset_id: String,
    /// SUCCESS or FAILURE (as stored in its training results).
    pub status: datasets::TrainingStatus,
    /// Failure code: NOT_ENOUGH_DATA, CANCELLED, NUMERICAL_FAILURE, INVALID_CONFIG,
    /// DATASET_CHANGED or STORAGE_FAILURE.
    pub error_code: Option<String>,
    /// Failure in words.
    pub error_details: Option<String>,
    /// Connections trained on.
    #[ts(type = "number")]
    pub num_connections: u64,
    /// Whether the dataset was made active (analysis started) on success.
    pub activated: bool,
    /// Wall time of the run in seconds.
    pub seconds: f64,
}

/// Why a training could not start.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// No dataset has this id.
    #[error("dataset {0} not found")]
    NotFound(String),
    /// Another training holds the lease.
    #[error("training is already on-going (dataset {0})")]
    AlreadyRunning(String),
    /// The background thread could not be started.
    #[error("cannot start the training thread: {0}")]
    Spawn(std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TrainingError {
    fn from(e: rusqlite::Error) -> Self {
        TrainingError::Store(StoreError::Sqlite(e))
    }
}

/// The setting holding the lease of the running training.
const LEASE_KEY: &str = "training_lease";
/// A lease not renewed for this long belongs to a training that died.
const LEASE_TIMEOUT_MS: i64 = 30_000;
/// How often a running training renews its lease.
const LEASE_RENEWAL: Duration = Duration::from_secs(5);
/// Rows read between progress reports while loading.
const LOAD_REPORT_EVERY: usize = 65_536;

/// The running training announced in the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lease {
    dataset_id: String,
    run: i64,
    heartbeat_ms: i64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn read_lease(c: &rusqlite::Connection) -> rusqlite::Result<Option<Lease>> {
    let text = crate::store::get_setting(c, LEASE_KEY)?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

fn write_lease(c: &rusqlite::Connection, lease: &Lease) -> rusqlite::Result<()> {
    put_setting(
        c,
        LEASE_KEY,
        &serde_json::to_string(lease).unwrap_or_default(),
    )
}

/// The dataset currently being trained, if a live training holds the lease.
pub fn running(store: &Store) -> Result<Option<String>, StoreError> {
    store.read(|c| Ok(running_on(c)?))
}

/// [`running`] on an open connection.
pub(crate) fn running_on(c: &rusqlite::Connection) -> rusqlite::Result<Option<String>> {
    Ok(read_lease(c)?
        .filter(|l| now_ms() - l.heartbeat_ms < LEASE_TIMEOUT_MS)
        .map(|l| l.dataset_id))
}

/// A training running in the background.
#[derive(Debug)]
pub struct TrainingRun {
    dataset_id: String,
    cancel: CancelToken,
    thread: JoinHandle<TrainingOutcome>,
}

impl TrainingRun {
    /// The dataset being trained.
    pub fn dataset_id(&self) -> &str {
        &self.dataset_id
    }

    /// A token that cancels this run (it ends with FAILURE / CANCELLED).
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the run to end.
    pub fn wait(self) -> TrainingOutcome {
        let dataset_id = self.dataset_id.clone();
        self.thread.join().unwrap_or_else(|_| TrainingOutcome {
            dataset_id,
            status: datasets::TrainingStatus::Failure,
            error_code: Some("INTERNAL_ERROR".into()),
            error_details: Some("the training thread panicked".into()),
            num_connections: 0,
            activated: false,
            seconds: 0.0,
        })
    }
}

/// Starts training `dataset_id` in the background. Refused with
/// [`TrainingError::AlreadyRunning`] while another training (in any process) is running.
/// `progress` is called from the training thread.
pub fn start(
    store: Arc<Store>,
    dataset_id: &str,
    options: TrainOptions,
    progress: Box<dyn Fn(&TrainingProgress) + Send + Sync>,
) -> Result<TrainingRun, TrainingError> {
    let run = announce(&store, dataset_id)?;
    let cancel = CancelToken::new();
    let id = dataset_id.to_owned();
    let worker_cancel = cancel.clone();
    let thread = std::thread::Builder::new()
        .name("ueba-training".into())
        .spawn(move || {
            run_training(
                &store,
                &id,
                run,
                &options,
                &*progress,
                &worker_cancel,
                Priority::Background,
            )
        })
        .map_err(TrainingError::Spawn)?;
    Ok(TrainingRun {
        dataset_id: dataset_id.to_owned(),
        cancel,
        thread,
    })
}

/// Gives the calling thread (and the fitting threads it spawns, which inherit it) the lowest
/// scheduling class, so a background training uses idle CPU only: requests to the listener and
/// the window stay fast while it runs, and it runs at full speed when nothing else does. On Linux
/// that is `SCHED_IDLE`, which the scheduler preempts as soon as a normal thread wakes (a mere
/// nice 19 still lets the training finish its time slice first, which showed as slower p99
/// latencies of the listener); elsewhere the lowest thread priority. Where the system refuses,
/// training simply runs at normal priority.
fn yield_to_foreground() {
    use thread_priority::ThreadPriority;
    #[cfg(target_os = "linux")]
    let lowered = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Min,
        thread_priority::ThreadSchedulePolicy::Normal(
            thread_priority::NormalThreadSchedulePolicy::Idle,
        ),
    );
    #[cfg(not(target_os = "linux"))]
    let lowered = thread_priority::set_current_thread_priority(ThreadPriority::Min);
    if let Err(e) = lowered {
        tracing::debug!("training runs at normal priority: {e:?}");
    }
}

/// Trains in the calling thread (the CLI's `train` and tests); same rules as [`start`].
pub fn train_blocking(
    store: &Store,
    dataset_id: &str,
    options: &TrainOptions,
    progress: &(dyn Fn(&TrainingProgress) + Sync),
    cancel: &CancelToken,
) -> Result<TrainingOutcome, TrainingError> {
    let run = announce(store, dataset_id)?;
    Ok(run_training(
        store,
        dataset_id,
        run,
        options,
        progress,
        cancel,
        Priority::Foreground,
    ))
}

/// Writes the TRAINING rows and takes the lease; returns the run's timestamp.
fn announce(store: &Store, dataset_id: &str) -> Result<i64, TrainingError> {
    store.write(|c| {
        let tx = c.transaction()?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM datasets WHERE id = ?1", [dataset_id], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            return Err(TrainingError::NotFound(dataset_id.to_owned()));
        }
        let now = now_ms();
        if let Some(lease) = read_lease(&tx)? {
            if now - lease.heartbeat_ms < LEASE_TIMEOUT_MS {
                return Err(TrainingError::AlreadyRunning(lease.dataset_id));
            }
        }
        // No live training: any TRAINING row left is an orphan of a process that died.
        tx.execute(
            "UPDATE training_results SET status = 'FAILURE', error_code = 'INTERRUPTED',
                 error_details = 'training was interrupted: the process running it ended before it finished'
             WHERE status = 'TRAINING'",
            [],
        )?;
        // A run's rows share `created`; keep it unique per dataset even within a millisecond.
        let last: Option<i64> = tx.query_row(
            "SELECT max(created) FROM training_results WHERE dataset_id = ?1",
            [dataset_id],
            |r| r.get(0),
        )?;
        let run = last.map_or(now, |l| now.max(l + 1));
        for fc in FeatureConfig::ALL {
            tx.execute(
                "INSERT INTO training_results (id, dataset_id, feature_config_name, status, created)
                 VALUES (?1, ?2, ?3, 'TRAINING', ?4)",
                params![uuid::Uuid::new_v4().to_string(), dataset_id, fc.name(), run],
            )?;
        }
        write_lease(
            &tx,
            &Lease {
                dataset_id: dataset_id.to_owned(),
                run,
                heartbeat_ms: now,
            },
        )?;
        tx.commit()?;
        Ok(run)
    })
}

/// Renews the lease, at most every [`LEASE_RENEWAL`], from the training's progress path.
struct LeaseKeeper<'a> {
    store: &'a Store,
    lease: Lease,
    last: std::sync::Mutex<std::time::Instant>,
}

impl LeaseKeeper<'_> {
    fn renew(&self) {
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < LEASE_RENEWAL {
                return;
            }
            *last = std::time::Instant::now();
        }
        let renewed = self.store.write(|c| {
            let tx = c.transaction()?;
            if read_lease(&tx)?.is_some_and(|l| l.run == self.lease.run) {
                write_lease(
                    &tx,
                    &Lease {
                        heartbeat_ms: now_ms(),
                        ..self.lease.clone()
                    },
                )?;
            }
            tx.commit()
        });
        if let Err(e) = renewed {
            tracing::warn!("could not renew the training lease: {e}");
        }
    }
}

/// Loads, fits and stores; always ends by recording SUCCESS or FAILURE and releasing the lease.
/// Whether a training is the caller's foreground work (the CLI's `train`) or runs in the
/// background of a process that also serves requests or a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Foreground,
    Background,
}

fn run_training(
    store: &Store,
    dataset_id: &str,
    run: i64,
    options: &TrainOptions,
    progress: &(dyn Fn(&TrainingProgress) + Sync),
    cancel: &CancelToken,
    priority: Priority,
) -> TrainingOutcome {
    let started = std::time::Instant::now();
    let keeper = LeaseKeeper {
        store,
        lease: Lease {
            dataset_id: dataset_id.to_owned(),
            run,
            heartbeat_ms: now_ms(),
        },
        last: std::sync::Mutex::new(std::time::Instant::now()),
    };
    // A background training steps aside while this process answers requests (see
    // `crate::foreground`), at every progress report and every few thousand feature rows.
    let step_aside = || {
        if priority == Priority::Background {
            crate::foreground::wait_until_quiet(Duration::from_millis(5), || {
                keeper.renew();
                !cancel.is_cancelled()
            });
        }
    };
    let with_renewal = |p: &TrainingProgress| {
        keeper.renew();
        progress(p);
        step_aside();
    };
    let fitted = match priority {
        Priority::Foreground => load_and_fit(
            store,
            dataset_id,
            options,
            &with_renewal,
            &step_aside,
            cancel,
        ),
        // Loading and fitting run in the idle scheduling class on a thread of their own; this
        // thread keeps its normal class for saving, which holds the database's write lock and
        // so must not wait behind every other thread of the machine.
        Priority::Background => std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("ueba-training-fit".into())
                .spawn_scoped(s, || {
                    yield_to_foreground();
                    load_and_fit(
                        store,
                        dataset_id,
                        options,
                        &with_renewal,
                        &step_aside,
                        cancel,
                    )
                })
                .map_err(|e| Failure {
                    code: "INTERNAL_ERROR".into(),
                    details: format!("cannot start the training thread: {e}"),
                })
                .and_then(|fit| {
                    fit.join().unwrap_or_else(|_| {
                        Err(Failure {
                            code: "INTERNAL_ERROR".into(),
                            details: "the training thread panicked".into(),
                        })
                    })
                })
        }),
    };
    let num_connections = match &fitted {
        Ok((_, n)) => *n as u64,
        Err(_) => 0,
    };
    progress(&TrainingProgress {
        dataset_id: dataset_id.to_owned(),
        phase: TrainingPhase::Saving,
        fraction: 1.0,
        connections: num_connections,
        feature_config: None,
        iteration: 0,
        max_iterations: 0,
    });
    let mut outcome = TrainingOutcome {
        dataset_id: dataset_id.to_owned(),
        status: datasets::TrainingStatus::Success,
        error_code: None,
        error_details: None,
        num_connections,
        activated: false,
        seconds: 0.0,
    };
    let saved = match fitted {
        Ok((ensemble, _)) => save_success(store, dataset_id, run, options, &ensemble),
        Err(e) => {
            outcome.status = datasets::TrainingStatus::Failure;
            outcome.error_code = Some(e.code.clone());
            outcome.error_details = Some(e.details.clone());
            save_failure(store, dataset_id, run, &e).map(|()| false)
        }
    };
    match saved {
        Ok(activated) => outcome.activated = activated,
        Err(e) => {
            outcome.status = datasets::TrainingStatus::Failure;
            outcome.error_code = Some(e.code.clone());
            outcome.error_details = Some(e.details.clone());
            // Best effort: record the failure and release the lease.
            if let Err(e2) = save_failure(store, dataset_id, run, &e) {
                tracing::error!("could not record the failed training: {}", e2.details);
            }
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        dataset = dataset_id,
        status = ?outcome.status,
        seconds = outcome.seconds,
        "training finished"
    );
    outcome
}

/// A failure to record: code and words.
#[derive(Debug)]
struct Failure {
    code: String,
    details: String,
}

impl From<TrainError> for Failure {
    fn from(e: TrainError) -> Self {
        Failure {
            code: e.code().to_owned(),
            details: e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure {
            code: "STORAGE_FAILURE".into(),
            details: format!("database error: {e}"),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure {
            code: "STORAGE_FAILURE".into(),
            details: e.to_string(),
        }
    }
}

fn load_settings(store: &Store, dataset_id: &str) -> Result<TimeRangeSettings, Failure> {
    match datasets::time_range_settings(store, dataset_id) {
        Ok(settings) => Ok(settings),
        Err(e) => Err(Failure {
            code: "DATASET_CHANGED".into(),
            details: e.to_string(),
        }),
    }
}

/// Reads the dataset's connections.
pub(crate) fn load_rows(
    store: &Store,
    settings: &TimeRangeSettings,
    expected: usize,
    mut on_row: impl FnMut(usize) -> bool,
) -> Result<Option<FeatureRows>, StoreError> {
    let (condition, args) = datasets::time_condition(settings);
    store.read(|c| {
        // A window holding most of the table reads faster in table order than through the
        // time index (one table lookup per row); the split is random, so order is irrelevant.
        let table_rows: i64 =
            c.query_row("SELECT coalesce(max(rowid), 0) FROM connections", [], |r| {
                r.get(0)
            })?;
        let scan = if expected as i64 * 2 > table_rows {
            "NOT INDEXED"
        } else {
            ""
        };
        let mut stmt = c.prepare(&format!(
            "SELECT {FEATURE_COLUMNS} FROM connections {scan} WHERE {condition}"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        // Sized up front: growing vectors of a million rows re-copies and re-faults them.
        let mut out = FeatureRows::without_ids(expected + expected / 64);
        while let Some(r) = rows.next()? {
            out.push_sql_row(r)?;
            if out.len() % LOAD_REPORT_EVERY == 0 && !on_row(out.len()) {
                return Ok(None);
            }
        }
        Ok(Some(out))
    })
}

fn cancelled() -> Failure {
    TrainError::Cancelled.into()
}

fn load_and_fit(
    store: &Store,
    dataset_id: &str,
    options: &TrainOptions,
    progress: &(dyn Fn(&TrainingProgress) + Sync),
    pause: &(dyn Fn() + Sync),
    cancel: &CancelToken,
) -> Result<(TrainedEnsemble, usize), Failure> {
    let settings = load_settings(store, dataset_id)?;
    let expected = datasets::count_connections(store, &settings)
        .map_err(|e| Failure {
            code: "DATASET_CHANGED".into(),
            details: e.to_string(),
        })?
        .max(1);
    // Loading is about a tenth of the work on a typical dataset.
    const LOAD_SHARE: f64 = 0.1;
    let report = |phase, fraction, connections, config: Option<&str>, it, max| {
        progress(&TrainingProgress {
            dataset_id: dataset_id.to_owned(),
            phase,
            fraction,
            connections,
            feature_config: config.map(str::to_owned),
            iteration: it,
            max_iterations: max,
        });
    };
    report(TrainingPhase::Loading, 0.0, 0, None, 0, 0);
    let load_started = std::time::Instant::now();
    let rows = load_rows(store, &settings, expected as usize, |n| {
        report(
            TrainingPhase::Loading,
            LOAD_SHARE * (n as f64 / expected as f64).min(1.0),
            n as u64,
            None,
            0,
            0,
        );
        !cancel.is_cancelled()
    })?
    .ok_or_else(cancelled)?;
    if cancel.is_cancelled() {
        return Err(cancelled());
    }
    let n = rows.len();
    tracing::debug!(
        rows = n,
        load_s = load_started.elapsed().as_secs_f64(),
        "training data loaded"
    );
    let inputs = rows.inputs();
    let config = TrainConfig {
        seed: options.seed,
        min_connections: options.min_connections,
        model: options.model,
        bin_count: options.bin_count.clamp(1, datasets::MAX_BIN_COUNT),
        ..TrainConfig::default()
    };
    let ensemble = ueba_analytics::train_with_pauses(
        &inputs,
        &config,
        &|p| {
            report(
                TrainingPhase::Fitting,
                LOAD_SHARE + (1.0 - LOAD_SHARE) * p.fraction,
                n as u64,
                Some(p.config),
                p.iteration as u32,
                p.max_iterations as u32,
            );
            !cancel.is_cancelled()
        },
        pause,
    )?;
    Ok((ensemble, n))
}

/// The stored format of the weights.
pub(crate) const WEIGHTS_FORMAT: &str = "ueba-analytics-json-1";

/// Whether this run's TRAINING rows are still there (an update or delete removes them).
fn run_still_current(
    tx: &rusqlite::Connection,
    dataset_id: &str,
    run: i64,
) -> rusqlite::Result<bool> {
    let n: i64 = tx.query_row(
        "SELECT count(*) FROM training_results WHERE dataset_id = ?1 AND created = ?2",
        params![dataset_id, run],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

fn release_lease(tx: &rusqlite::Connection, run: i64) -> rusqlite::Result<()> {
    if read_lease(tx)?.is_some_and(|l| l.run == run) {
        tx.execute("DELETE FROM settings WHERE key = ?1", [LEASE_KEY])?;
    }
    Ok(())
}

fn save_success(
    store: &Store,
    dataset_id: &str,
    run: i64,
    options: &TrainOptions,
    ensemble: &TrainedEnsemble,
) -> Result<bool, Failure> {
    let weights = ensemble.to_json().map_err(|e| Failure {
        code: "STORAGE_FAILURE".into(),
        details: format!("could not serialise the trained models: {e}"),
    })?;
    store.write(|c| {
        let tx = c.transaction()?;
        if !run_still_current(&tx, dataset_id, run)? {
            release_lease(&tx, run)?;
            tx.commit()?;
            return Err(Failure {
                code: "DATASET_CHANGED".into(),
                details: "the dataset was changed or deleted while it was being trained; the result was discarded".into(),
            });
        }
        for r in &ensemble.results {
            tx.execute(
                "UPDATE training_results SET status = 'SUCCESS', num_connections = ?4, mean = ?5, std = ?6,
                     quantile_99 = ?7, quantile_999 = ?8, training_log = ?9, training_dataset_loss = ?10,
                     validation_dataset_loss = ?11
                 WHERE dataset_id = ?1 AND created = ?2 AND feature_config_name = ?3",
                params![
                    dataset_id,
                    run,
                    r.name,
                    r.num_connections as i64,
                    r.mean,
                    r.std,
                    r.quantile_99,
                    r.quantile_999,
                    r.log.join("\n"),
                    serde_json::to_string(&r.training_loss).unwrap_or_default(),
                    serde_json::to_string(&r.validation_loss).unwrap_or_default(),
                ],
            )?;
            tx.execute(
                "INSERT INTO validation_scores (result_id, scores)
                 SELECT id, ?4 FROM training_results
                 WHERE dataset_id = ?1 AND created = ?2 AND feature_config_name = ?3",
                params![dataset_id, run, r.name, encode_scores(&r.validation_scores)],
            )?;
        }
        tx.execute(
            "INSERT INTO model_weights (dataset_id, format, weights, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (dataset_id) DO UPDATE SET format = excluded.format, weights = excluded.weights,
                 created = excluded.created",
            params![dataset_id, WEIGHTS_FORMAT, weights.as_bytes(), run],
        )?;
        tx.execute(
            "UPDATE datasets SET last_training = ?2 WHERE id = ?1",
            params![dataset_id, run],
        )?;
        let use_once_trained: bool = tx.query_row(
            "SELECT use_for_inference_once_trained FROM datasets WHERE id = ?1",
            [dataset_id],
            |r| r.get(0),
        )?;
        let activate = options.set_active_after_training || use_once_trained;
        if activate {
            super::analysis::activate(&tx, dataset_id)?;
        }
        release_lease(&tx, run)?;
        tx.commit()?;
        Ok(activate)
    })
}

fn save_failure(
    store: &Store,
    dataset_id: &str,
    run: i64,
    failure: &Failure,
) -> Result<(), Failure> {
    store.write(|c| {
        let tx = c.transaction()?;
        tx.execute(
            "UPDATE training_results SET status = 'FAILURE', error_code = ?3, error_details = ?4,
                 training_log = ?4
             WHERE dataset_id = ?1 AND created = ?2 AND status = 'TRAINING'",
            params![dataset_id, run, failure.code, failure.details],
        )?;
        release_lease(&tx, run)?;
        tx.commit()?;
        Ok(())
    })
}
