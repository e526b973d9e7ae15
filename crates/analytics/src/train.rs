//! Training orchestration and scoring of the ensemble (one model per feature config).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use ndarray::Array1;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::baseline::Baseline;
use crate::calibrate::{expected_flag_rate, quantile_sorted, Calibrator, Histogram};
use crate::error::TrainError;
use crate::explain::explain_row;
use crate::features::{compute_all, compute_rows, FeatureConfig};
use crate::input::ConnectionFeaturesInput;
use crate::models::{
    AnomalyModel, FitError, GaussianMixtureModel, GmmParams, PcaModel, PcaParams, TrainedModel,
};
use crate::scaler::Standardizer;

/// Which model family to train for every feature config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Gaussian mixture scored by negative log-likelihood (the measured default).
    #[default]
    GaussianMixture,
    /// Exact PCA scored by reconstruction error.
    Pca,
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seed of the split and the model initialisation; same inputs + seed → same result.
    pub seed: u64,
    /// Share of the connections held out for validation and calibration (default 0.2).
    pub validation_fraction: f64,
    /// Bins of the validation-score histogram (default 50).
    pub bin_count: usize,
    /// Model family.
    pub model: ModelKind,
    /// Maximum iterations (EM steps for the mixture, components tried for PCA).
    pub max_iterations: usize,
    /// Fewer connections than this fails with [`TrainError::TooFewConnections`] (default 5000).
    pub min_connections: usize,
    /// Mixture components per config (Gaussian mixture only; default 6).
    pub gmm_components: usize,
    /// Explained variance that picks the number of PCA components (PCA only; default 0.9).
    pub pca_explained_variance: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            validation_fraction: 0.2,
            bin_count: 50,
            model: ModelKind::default(),
            max_iterations: 100,
            min_connections: 5000,
            gmm_components: 6,
            pca_explained_variance: 0.9,
        }
    }
}

/// A progress report; the callback returns `false` to cancel training.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainProgress {
    /// Feature config being trained.
    pub config: &'static str,
    /// Its index (0-based) among `config_count`.
    pub config_index: usize,
    /// Number of feature configs.
    pub config_count: usize,
    /// Iteration just finished (0 = config starting).
    pub iteration: usize,
    /// Maximum iterations of this config.
    pub max_iterations: usize,
    /// Training loss of this iteration (NaN when `iteration` is 0).
    pub training_loss: f64,
    /// Validation loss of this iteration (NaN when `iteration` is 0).
    pub validation_loss: f64,
    /// Rough overall progress in [0, 1].
    pub fraction: f64,
}

/// The training result of one feature config (statistics describe the validation scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfigResult {
    /// Feature config name.
    pub name: String,
    /// Connections used (training + validation).
    pub num_connections: usize,
    /// Mean of the validation scores.
    pub mean: f64,
    /// Standard deviation of the validation scores.
    pub std: f64,
    /// 99 % quantile of the validation scores.
    pub quantile_99: f64,
    /// 99.9 % quantile of the validation scores.
    pub quantile_999: f64,
    /// Per-iteration loss on the training split.
    pub training_loss: Vec<f64>,
    /// Per-iteration loss on the validation split.
    pub validation_loss: Vec<f64>,
    /// Histogram of the validation scores (`bin_count` bins).
    pub histogram: Histogram,
    /// Readable training log.
    pub log: Vec<String>,
    /// The raw validation scores, sorted (kept out of the serialised weights; callers store
    /// them to re-bin the histogram on request).
    #[serde(skip)]
    pub validation_scores: Vec<f64>,
}

/// One feature config's trained pieces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedConfig {
    /// Which features.
    pub config: FeatureConfig,
    /// Standardisation fitted on the training split.
    pub scaler: Standardizer,
    /// The anomaly model.
    pub model: TrainedModel,
    /// CDF of the validation raw scores.
    pub calibrator: Calibrator,
}

/// Everything needed to score connections; serialise it (serde) to store the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedEnsemble {
    /// Model family used.
    pub model_kind: ModelKind,
    /// Seed used.
    pub seed: u64,
    /// Baseline of the training split.
    pub baseline: Baseline,
    /// One trained model per feature config.
    pub configs: Vec<TrainedConfig>,
    /// CDF of the combined validation evidence; gives the final score.
    pub combined: Calibrator,
    /// Training results per feature config.
    pub results: Vec<FeatureConfigResult>,
}

/// The score of one connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionScore {
    /// Calibrated normalized score in [0, 1], higher = more anomalous: the position of the
    /// combined evidence in the validation distribution.
    pub score: f64,
    /// The combined evidence Σ −ln(1 − sᵢ) before calibration (unbounded; ranks connections
    /// whose `score` is indistinguishable from 1).
    pub combined: f64,
    /// Per feature config: (name, raw model score, normalized score in [0, 1]).
    pub per_config: Vec<(&'static str, f64, f64)>,
    /// Plain-words reasons; filled when `score` could be flagged at some threshold
    /// (score > 1 − rate(1) = 0.9), empty otherwise.
    pub reasons: Vec<String>,
}

impl ConnectionScore {
    /// Whether this connection is flagged at threshold `t` (see [`crate::is_anomalous`]).
    pub fn anomalous_at(&self, t: f64) -> bool {
        crate::calibrate::is_anomalous(self.score, t)
    }
}

fn numerical(config: &str, details: impl Into<String>) -> TrainError {
    TrainError::Numerical {
        config: config.to_owned(),
        details: details.into(),
    }
}

/// Trains one model per feature config on `inputs` (see the crate docs for the pipeline).
/// `progress` is called at the start of every config and after every iteration (from the
/// worker threads, which fit the configs in parallel); returning `false` cancels with
/// [`TrainError::Cancelled`]. Deterministic for `config.seed`, whatever the thread timing.
pub fn train(
    inputs: &[ConnectionFeaturesInput<'_>],
    config: &TrainConfig,
    progress: &(dyn Fn(TrainProgress) -> bool + Sync),
) -> Result<TrainedEnsemble, TrainError> {
    train_with_pauses(inputs, config, progress, &|| {})
}

/// [`train`], calling `pause` every few thousand rows while computing features (progress
/// reports are the other pause points): a caller that must step aside for more urgent work
/// blocks in it.
pub fn train_with_pauses(
    inputs: &[ConnectionFeaturesInput<'_>],
    config: &TrainConfig,
    progress: &(dyn Fn(TrainProgress) -> bool + Sync),
    pause: &(dyn Fn() + Sync),
) -> Result<TrainedEnsemble, TrainError> {
    if inputs.len() < config.min_connections.max(2) {
        return Err(TrainError::TooFewConnections {
            found: inputs.len(),
            required: config.min_connections.max(2),
        });
    }
    if !(config.validation_fraction > 0.0 && config.validation_fraction < 1.0) {
        return Err(TrainError::InvalidConfig(format!(
            "validation_fraction must be in (0, 1), got {}",
            config.validation_fraction
        )));
    }
    let n = inputs.len();
    // Seeded random split; the baseline sees only the training part so validation rows are
    // scored like fresh traffic.
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
    order.shuffle(&mut rng);
    let n_val = ((n as f64 * config.validation_fraction).round() as usize).clamp(1, n - 1);
    let (val_idx, train_idx) = order.split_at(n_val);

    let baseline = Baseline::fit(train_idx.iter().map(|&i| &inputs[i]));
    // Leave-one-out for training rows: their own observation is in the counts.
    let cores = std::thread::available_parallelism().map_or(1, |t| t.get());
    let train_feats = compute_rows(
        &baseline,
        train_idx.len(),
        |k| &inputs[train_idx[k]],
        true,
        cores,
        pause,
    );
    let val_feats = compute_rows(
        &baseline,
        val_idx.len(),
        |k| &inputs[val_idx[k]],
        false,
        cores,
        pause,
    );

    let count = FeatureConfig::ALL.len();
    let fractions = Mutex::new(vec![0.0; count]);
    let cancelled = AtomicBool::new(false);
    let job = Job {
        config,
        n,
        n_train: train_idx.len(),
        n_val: val_idx.len(),
        progress: &|ci: usize, name: &'static str, it: usize, max_it: usize, tl: f64, vl: f64| {
            if cancelled.load(Ordering::Relaxed) {
                return false;
            }
            let fraction = {
                let mut f = fractions.lock().unwrap_or_else(|p| p.into_inner());
                f[ci] = it as f64 / max_it.max(1) as f64;
                f.iter().sum::<f64>() / count as f64
            };
            let go_on = progress(TrainProgress {
                config: name,
                config_index: ci,
                config_count: count,
                iteration: it,
                max_iterations: max_it,
                training_loss: tl,
                validation_loss: vl,
                fraction,
            });
            if !go_on {
                cancelled.store(true, Ordering::Relaxed);
            }
            go_on
        },
    };
    // Configs are independent: fit them on all cores, each worker taking the next config.
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Fitted, TrainError>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let workers = cores.clamp(1, count);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let ci = next.fetch_add(1, Ordering::Relaxed);
                if ci >= count {
                    break;
                }
                let fitted = fit_config(&job, ci, &train_feats[ci], &val_feats[ci]);
                if fitted.is_err() {
                    cancelled.store(true, Ordering::Relaxed);
                }
                *slots[ci].lock().unwrap_or_else(|p| p.into_inner()) = Some(fitted);
            });
        }
    });
    drop(train_feats);
    let mut configs = Vec::with_capacity(count);
    let mut results = Vec::with_capacity(count);
    let mut val_raw: Vec<Array1<f64>> = Vec::with_capacity(count);
    let mut first_error = None;
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(f)) => {
                configs.push(f.trained);
                results.push(f.result);
                val_raw.push(f.validation_raw);
            }
            // A real failure explains more than the cancellations it caused in other workers.
            Some(Err(e)) => {
                if first_error.is_none() || matches!(first_error, Some(TrainError::Cancelled)) {
                    first_error = Some(e);
                }
            }
            None => first_error = first_error.or(Some(TrainError::Cancelled)),
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    // Calibrate the combination itself so rate(t) holds for the final decision.
    let mut combined = vec![0.0; val_idx.len()];
    for (tc, raw) in configs.iter().zip(&val_raw) {
        for (c, &r) in combined.iter_mut().zip(raw) {
            *c += tc.calibrator.neg_log_survival(r);
        }
    }
    let combined = Calibrator::fit(&combined);
    if let Some(r) = results.first_mut() {
        r.log.push(format!(
            "combined score calibrated on {} validation connections; t = 0.5 flags {:.1} % of normal traffic",
            val_idx.len(),
            expected_flag_rate(0.5) * 100.0
        ));
    }
    Ok(TrainedEnsemble {
        model_kind: config.model,
        seed: config.seed,
        baseline,
        configs,
        combined,
        results,
    })
}

/// Progress of one config: (config index, name, iteration, max iterations, training loss,
/// validation loss) → go on?
type ConfigProgress<'a> = dyn Fn(usize, &'static str, usize, usize, f64, f64) -> bool + Sync + 'a;

/// What every config's fit shares.
struct Job<'a> {
    config: &'a TrainConfig,
    n: usize,
    n_train: usize,
    n_val: usize,
    progress: &'a ConfigProgress<'a>,
}

/// One config's outcome.
struct Fitted {
    trained: TrainedConfig,
    result: FeatureConfigResult,
    validation_raw: Array1<f64>,
}

/// Standardises, fits and calibrates one feature config.
fn fit_config(
    job: &Job<'_>,
    ci: usize,
    tr: &ndarray::Array2<f64>,
    va: &ndarray::Array2<f64>,
) -> Result<Fitted, TrainError> {
    let config = job.config;
    let fc = FeatureConfig::ALL[ci];
    let name = fc.name();
    let max_it = match config.model {
        ModelKind::GaussianMixture => config.max_iterations.max(1),
        ModelKind::Pca => (fc.dim() - 1).min(config.max_iterations.max(1)),
    };
    let report = |iteration: usize, tl: f64, vl: f64| -> bool {
        (job.progress)(ci, name, iteration, max_it, tl, vl)
    };
    if !report(0, f64::NAN, f64::NAN) {
        return Err(TrainError::Cancelled);
    }
    let mut log = vec![format!(
        "{name}: {} training / {} validation connections, {} features ({})",
        job.n_train,
        job.n_val,
        fc.dim(),
        fc.feature_names().join(", ")
    )];
    let scaler = Standardizer::fit(tr.view()).map_err(|e| numerical(name, e))?;
    let xt = scaler.transform(tr.view());
    let xv = scaler.transform(va.view());
    log.push(
        "standardised with linfa-preprocessing LinearScaler (fitted on the training split)".into(),
    );
    let seed = config.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(ci as u64 + 1));
    let mut observer = |it: usize, tl: f64, vl: f64| report(it, tl, vl);
    let fitted = match config.model {
        ModelKind::GaussianMixture => {
            let p = GmmParams {
                components: config.gmm_components,
                max_iterations: max_it,
                seed,
                ..GmmParams::default()
            };
            log.push(format!(
                "gaussian_mixture: {} components, full covariance (+{} on the diagonal), KMeans++ initialisation (seed {seed}), EM on up to {} training rows",
                p.components, p.reg_covariance, p.max_fit_rows
            ));
            GaussianMixtureModel::fit_inner(xt.view(), xv.view(), &p, &mut observer)
                .map(|(m, r)| (TrainedModel::GaussianMixture(m), r))
        }
        ModelKind::Pca => {
            let p = PcaParams {
                explained_variance: config.pca_explained_variance,
                max_components: max_it,
            };
            log.push(format!(
                "pca: exact (covariance + eigh), k chosen by {:.0} % explained variance",
                p.explained_variance * 100.0
            ));
            PcaModel::fit_inner(xt.view(), xv.view(), &p, &mut observer)
                .map(|(m, r)| (TrainedModel::Pca(m), r))
        }
    };
    drop(xt);
    let (model, fit) = fitted.map_err(|e| match e {
        FitError::Cancelled => TrainError::Cancelled,
        FitError::Numerical(d) => numerical(name, d),
    })?;
    let loss_name = match model {
        TrainedModel::GaussianMixture(_) => "mean NLL",
        TrainedModel::Pca(_) => "mean reconstruction error",
    };
    let step = match model {
        TrainedModel::GaussianMixture(_) => "iteration",
        TrainedModel::Pca(_) => "components",
    };
    for (i, (tl, vl)) in fit
        .training_loss
        .iter()
        .zip(&fit.validation_loss)
        .enumerate()
    {
        log.push(format!(
            "{step} {}: training {loss_name} {tl:.6}, validation {loss_name} {vl:.6}",
            i + 1
        ));
    }
    if let TrainedModel::Pca(m) = &model {
        log.push(format!(
            "kept {} of {} components",
            m.components.ncols(),
            fc.dim()
        ));
    } else {
        log.push(format!(
            "stopped after {} EM iterations",
            fit.training_loss.len()
        ));
    }
    let raw = model.score(xv.view());
    let raw_vec = raw.to_vec();
    let mut sorted: Vec<f64> = raw_vec.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.len() != raw_vec.len() {
        return Err(numerical(name, "validation scores are not finite"));
    }
    sorted.sort_by(f64::total_cmp);
    let mean = raw.mean().unwrap_or(f64::NAN);
    let std = raw.std(0.0);
    let q99 = quantile_sorted(&sorted, 0.99);
    let q999 = quantile_sorted(&sorted, 0.999);
    log.push(format!(
        "validation scores: mean {mean:.6}, std {std:.6}, q99 {q99:.6}, q99.9 {q999:.6}"
    ));
    let calibrator = Calibrator::fit(&raw_vec);
    Ok(Fitted {
        result: FeatureConfigResult {
            name: name.to_owned(),
            num_connections: job.n,
            mean,
            std,
            quantile_99: q99,
            quantile_999: q999,
            training_loss: fit.training_loss,
            validation_loss: fit.validation_loss,
            histogram: Histogram::new(&raw_vec, config.bin_count),
            log,
            validation_scores: sorted,
        },
        trained: TrainedConfig {
            config: fc,
            scaler,
            model,
            calibrator,
        },
        validation_raw: raw,
    })
}

/// Reasons are written only for scores that some threshold could flag.
const REASON_MIN_SCORE: f64 = 0.9;

impl TrainedEnsemble {
    /// Raw model scores per config (configs × rows).
    fn raw_scores(&self, inputs: &[ConnectionFeaturesInput<'_>]) -> Vec<Array1<f64>> {
        let feats = compute_all(&self.baseline, inputs, false);
        self.configs
            .iter()
            .zip(feats)
            .map(|(tc, f)| tc.model.score(tc.scaler.transform(f.view()).view()))
            .collect()
    }

    /// Scores connections: calibrated score, per-config raw and normalized scores, and
    /// reasons for those that could be flagged.
    pub fn score(&self, inputs: &[ConnectionFeaturesInput<'_>]) -> Vec<ConnectionScore> {
        let raw = self.raw_scores(inputs);
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let mut combined = 0.0;
                let per_config: Vec<(&'static str, f64, f64)> = self
                    .configs
                    .iter()
                    .zip(&raw)
                    .map(|(tc, r)| {
                        combined += tc.calibrator.neg_log_survival(r[i]);
                        (tc.config.name(), r[i], tc.calibrator.normalize(r[i]))
                    })
                    .collect();
                let score = self.combined.normalize(combined);
                let reasons = if score > REASON_MIN_SCORE {
                    explain_row(self, input, &per_config)
                } else {
                    Vec::new()
                };
                ConnectionScore {
                    score,
                    combined,
                    per_config,
                    reasons,
                }
            })
            .collect()
    }

    /// Only the calibrated scores (no per-config detail, no reasons): the fast path for
    /// batch scoring and evaluation.
    pub fn score_values(&self, inputs: &[ConnectionFeaturesInput<'_>]) -> Vec<f64> {
        self.combined_values(inputs)
            .into_iter()
            .map(|c| self.combined.normalize(c))
            .collect()
    }

    /// The combined evidence per connection (same order as the calibrated score, but
    /// unbounded, so it also ranks the most extreme connections).
    pub fn combined_values(&self, inputs: &[ConnectionFeaturesInput<'_>]) -> Vec<f64> {
        let raw = self.raw_scores(inputs);
        let mut combined = vec![0.0; inputs.len()];
        for (tc, r) in self.configs.iter().zip(&raw) {
            for (c, &v) in combined.iter_mut().zip(r) {
                *c += tc.calibrator.neg_log_survival(v);
            }
        }
        combined
    }

    /// Plain-words reasons for one connection, whatever its score.
    pub fn explain(&self, input: &ConnectionFeaturesInput<'_>) -> Vec<String> {
        let scored = self.score(std::slice::from_ref(input));
        scored
            .first()
            .map(|s| explain_row(self, input, &s.per_config))
            .unwrap_or_default()
    }

    /// Serialises the trained weights to JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Restores trained weights from JSON.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}
