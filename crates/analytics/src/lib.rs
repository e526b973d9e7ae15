//! # ueba-analytics
//!
//! Pure computation for the UEBA engine (DESIGN §5): per-user baselines, the four feature
//! configs, unsupervised anomaly models behind one trait, calibration of scores to a flag
//! rate, plain-words explanations and detection metrics. No database, no file I/O, no async:
//! `ueba-core` converts its connections into [`ConnectionFeaturesInput`] and stores the
//! serde-serialised [`TrainedEnsemble`].
//!
//! ## Pipeline
//! 1. [`train`] splits the inputs (seeded) into a training and a validation part.
//! 2. A [`Baseline`] (counts per user and for the whole population) is computed from the
//!    training part only.
//! 3. Each [`FeatureConfig`] turns a connection into a small feature vector; it is
//!    standardised (linfa-preprocessing, fitted on the training part) and fed to a model
//!    ([`GaussianMixtureModel`] or [`PcaModel`]).
//! 4. Raw scores are mapped to s ∈ [0, 1] by their position in the validation scores
//!    ([`Calibrator`]); the configs' scores are combined (Fisher-style sum of −ln(1 − s)) and the
//!    combination is calibrated again so that a threshold t flags at
//!    [`expected_flag_rate`]`(t) = 10^(−3+2t)` on normal traffic.
//!
//! ## Default model family
//! The default ([`ModelKind::default`]) is the **Gaussian mixture**. It was chosen by
//! measurement: `cargo run --release -p ueba-analytics --example compare_models` trains both
//! families on the synthetic data of the tests (60 users, 30 000 training connections, 6 000
//! fresh normal connections and 600 planted anomalies in five scenarios) and reports on the
//! fresh data. See `MODEL_COMPARISON` below for the figures measured when the default was
//! chosen.
#![doc = include_str!("../MODEL_COMPARISON.md")]

mod baseline;
mod calibrate;
mod error;
mod explain;
mod features;
mod input;
mod metrics;
mod models;
mod scaler;
mod train;

pub use baseline::{Baseline, EntityCounts, HostUse, RobustStat, UserProfile, DEFAULT_ALPHA};
pub use calibrate::{expected_flag_rate, is_anomalous, Calibrator, Histogram};
pub use error::TrainError;
pub use features::{subnet_of, FeatureConfig};
pub use input::ConnectionFeaturesInput;
pub use metrics::{evaluate, evaluate_scenarios, Metrics, ScenarioRecall};
pub use models::{
    AnomalyModel, FitReport, GaussianMixtureModel, GmmParams, IterationObserver, PcaModel,
    PcaParams, TrainedModel,
};
pub use scaler::Standardizer;
pub use train::{
    train, train_with_pauses, ConnectionScore, FeatureConfigResult, ModelKind, TrainConfig,
    TrainProgress, TrainedConfig, TrainedEnsemble,
};
