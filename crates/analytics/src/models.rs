//! Anomaly models behind one trait: a Gaussian mixture (negative log-likelihood) and exact
//! PCA (reconstruction error).

use linfa::dataset::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::{KMeans, KMeansInit};
use linfa_linalg::eigh::Eigh;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis, Slice};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// An unsupervised anomaly model on standardised features.
pub trait AnomalyModel {
    /// The model family's name.
    fn name(&self) -> &'static str;
    /// Raw anomaly score per row; higher = more anomalous.
    fn score(&self, x: ArrayView2<f64>) -> Array1<f64>;
}

/// Real per-iteration losses of a fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Loss on the training split after each iteration.
    pub training_loss: Vec<f64>,
    /// Loss on the held-out validation split after each iteration.
    pub validation_loss: Vec<f64>,
}

/// Called after every iteration with (iteration, training loss, validation loss); returning
/// `false` stops the fit (cancel).
pub type IterationObserver<'o> = dyn FnMut(usize, f64, f64) -> bool + 'o;

/// Why a model fit stopped without a model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FitError {
    Cancelled,
    Numerical(String),
}

impl FitError {
    /// The message the public `fit` functions return.
    fn into_message(self) -> String {
        match self {
            FitError::Cancelled => "cancelled".to_owned(),
            FitError::Numerical(s) => s,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gaussian mixture
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of [`GaussianMixtureModel::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmmParams {
    /// Number of mixture components.
    pub components: usize,
    /// Most training rows EM iterates over (an evenly strided sample of larger sets; the
    /// validation loss uses at most a fifth as many). A mixture of a few components in a handful
    /// of dimensions is pinned down by tens of thousands of rows; more only costs time.
    pub max_fit_rows: usize,
    /// Maximum EM iterations.
    pub max_iterations: usize,
    /// Stop when the mean training NLL improves by less than this (absolute, as scikit-learn's
    /// `tol`).
    pub tolerance: f64,
    /// Added to every covariance diagonal (standardised units); keeps constant directions
    /// (e.g. a flag that never fires in training) from having zero variance.
    pub reg_covariance: f64,
    /// Seed of the KMeans initialisation.
    pub seed: u64,
}

impl Default for GmmParams {
    fn default() -> Self {
        Self {
            components: 6,
            max_fit_rows: 50_000,
            max_iterations: 100,
            tolerance: 1e-3,
            reg_covariance: 1e-3,
            seed: 42,
        }
    }
}

/// Full-covariance Gaussian mixture scored by negative log-likelihood.
///
/// Each covariance is stored through its eigendecomposition Σ = V Λ Vᵀ as the whitening
/// matrix W = V Λ^(−½), so the Mahalanobis distance is ‖(x − μ)W‖² — one small matrix
/// product per component for a whole batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianMixtureModel {
    /// Mixture weights (k).
    pub weights: Array1<f64>,
    /// Component means (k × d).
    pub means: Array2<f64>,
    /// Whitening matrices (k × d × d).
    pub whiten: Array3<f64>,
    /// log wₖ − ½(d ln 2π + ln |Σₖ|) per component.
    pub log_norm: Array1<f64>,
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

impl GaussianMixtureModel {
    /// Fits by EM on `train`, initialised from linfa's KMeans (k-means++, seeded), recording
    /// the mean NLL on `train` and `valid` after every iteration. Deterministic for a seed.
    pub fn fit(
        train: ArrayView2<f64>,
        valid: ArrayView2<f64>,
        params: &GmmParams,
        observer: &mut IterationObserver<'_>,
    ) -> Result<(Self, FitReport), String> {
        Self::fit_inner(train, valid, params, observer).map_err(FitError::into_message)
    }

    pub(crate) fn fit_inner(
        train: ArrayView2<f64>,
        valid: ArrayView2<f64>,
        params: &GmmParams,
        observer: &mut IterationObserver<'_>,
    ) -> Result<(Self, FitReport), FitError> {
        let (n, d) = train.dim();
        if n < 2 || d == 0 {
            return Err(FitError::Numerical("not enough training rows".into()));
        }
        let strided = |x: ArrayView2<'_, f64>, most: usize| {
            let step = x.nrows().div_ceil(most.max(1)).max(1);
            x.slice_axis(Axis(0), Slice::new(0, None, step as isize))
                .to_owned()
        };
        let train_sample = strided(train, params.max_fit_rows);
        let valid_sample = strided(valid, params.max_fit_rows / 5);
        let (train, valid) = (train_sample.view(), valid_sample.view());
        let n = train.nrows();
        let k = params.components.clamp(1, n / 2);
        // KMeans on an evenly strided subsample: initialisation only needs the rough layout,
        // and the full EM below sees every row.
        let stride = (n / 20_000).max(1);
        let sub = train
            .slice_axis(Axis(0), Slice::new(0, None, stride as isize))
            .to_owned();
        let rng = Xoshiro256PlusPlus::seed_from_u64(params.seed);
        let km = KMeans::params_with_rng(k, rng)
            .n_runs(1)
            .max_n_iterations(50)
            .tolerance(1e-4)
            .init_method(KMeansInit::KMeansPlusPlus)
            .fit(&DatasetBase::from(sub))
            .map_err(|e| FitError::Numerical(format!("KMeans initialisation failed: {e}")))?;
        let centroids = km.centroids();
        // Hard responsibilities from the nearest centroid start the EM.
        let mut resp = Array2::<f64>::zeros((n, k));
        for (i, row) in train.axis_iter(Axis(0)).enumerate() {
            let mut best = (f64::INFINITY, 0);
            for (j, c) in centroids.axis_iter(Axis(0)).enumerate() {
                let dist: f64 = row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
                if dist < best.0 {
                    best = (dist, j);
                }
            }
            resp[[i, best.1]] = 1.0;
        }
        let mut report = FitReport::default();
        let mut model = Self::m_step(train, &resp, params.reg_covariance)?;
        let mut prev = f64::INFINITY;
        for it in 0..params.max_iterations.max(1) {
            let logp = model.component_log_prob(train);
            let train_nll = e_step(&logp, &mut resp);
            let val_nll = mean(&model.score(valid));
            if !train_nll.is_finite() || !val_nll.is_finite() {
                return Err(FitError::Numerical(format!(
                    "EM loss is not finite at iteration {}",
                    it + 1
                )));
            }
            report.training_loss.push(train_nll);
            report.validation_loss.push(val_nll);
            if !observer(it + 1, train_nll, val_nll) {
                return Err(FitError::Cancelled);
            }
            // The returned model is the one whose loss was recorded last.
            let converged = (prev - train_nll).abs() <= params.tolerance;
            if converged || it + 1 >= params.max_iterations {
                break;
            }
            prev = train_nll;
            model = Self::m_step(train, &resp, params.reg_covariance)?;
        }
        Ok((model, report))
    }

    /// Weights, means and regularised covariances from responsibilities. Plain loops: with a
    /// handful of features, matrix-library calls spend more on packing than on arithmetic.
    fn m_step(x: ArrayView2<f64>, resp: &Array2<f64>, reg: f64) -> Result<Self, FitError> {
        let (n, d) = x.dim();
        let k = resp.ncols();
        let mut nk = vec![0.0; k];
        let mut sums = Array2::<f64>::zeros((k, d));
        for (row, r) in x.outer_iter().zip(resp.outer_iter()) {
            for j in 0..k {
                let w = r[j];
                if w == 0.0 {
                    continue;
                }
                nk[j] += w;
                for (s, &v) in sums.row_mut(j).iter_mut().zip(row.iter()) {
                    *s += w * v;
                }
            }
        }
        let nk: Vec<f64> = nk.into_iter().map(|v| v.max(1e-10)).collect();
        let mut means = sums;
        for (mut m, &c) in means.outer_iter_mut().zip(&nk) {
            m.mapv_inplace(|v| v / c);
        }
        let mut covs = vec![0.0; k * d * d];
        let mut diff = vec![0.0; d];
        for (row, r) in x.outer_iter().zip(resp.outer_iter()) {
            for j in 0..k {
                let w = r[j];
                if w == 0.0 {
                    continue;
                }
                for ((t, &v), &m) in diff.iter_mut().zip(row.iter()).zip(means.row(j).iter()) {
                    *t = v - m;
                }
                let cov = &mut covs[j * d * d..(j + 1) * d * d];
                for a in 0..d {
                    let wa = w * diff[a];
                    for b in a..d {
                        cov[a * d + b] += wa * diff[b];
                    }
                }
            }
        }
        let mut whiten = Array3::<f64>::zeros((k, d, d));
        let mut log_norm = Array1::<f64>::zeros(k);
        for j in 0..k {
            let c = &covs[j * d * d..(j + 1) * d * d];
            let cov = Array2::from_shape_fn((d, d), |(a, b)| {
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                c[lo * d + hi] / nk[j] + if a == b { reg } else { 0.0 }
            });
            let (w, log_det) = whitening(&cov)?;
            whiten.index_axis_mut(Axis(0), j).assign(&w);
            log_norm[j] = (nk[j] / n as f64).ln() - 0.5 * (d as f64 * LN_2PI + log_det);
        }
        Ok(Self {
            weights: Array1::from(nk) / n as f64,
            means,
            whiten,
            log_norm,
        })
    }

    /// log(wₖ N(x | μₖ, Σₖ)) for every row and component (n × k).
    fn component_log_prob(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let (n, d) = x.dim();
        let k = self.means.nrows();
        // Contiguous copies of the (tiny) parameters keep the inner loops free of strides.
        let means: Vec<f64> = self.means.iter().copied().collect();
        let whiten: Vec<f64> = self.whiten.iter().copied().collect();
        let mut out = Array2::<f64>::zeros((n, k));
        let mut diff = vec![0.0; d];
        for (row, mut o) in x.outer_iter().zip(out.outer_iter_mut()) {
            for j in 0..k {
                let mu = &means[j * d..(j + 1) * d];
                for ((t, &v), &m) in diff.iter_mut().zip(row.iter()).zip(mu) {
                    *t = v - m;
                }
                let w = &whiten[j * d * d..(j + 1) * d * d];
                let mut q = 0.0;
                for c in 0..d {
                    let mut z = 0.0;
                    for (r, &t) in diff.iter().enumerate() {
                        z += t * w[r * d + c];
                    }
                    q += z * z;
                }
                o[j] = self.log_norm[j] - 0.5 * q;
            }
        }
        out
    }
}

/// Normalises each row of `logp` into responsibilities and returns the mean NLL.
fn e_step(logp: &Array2<f64>, resp: &mut Array2<f64>) -> f64 {
    let mut total = 0.0;
    for (lrow, mut rrow) in logp.axis_iter(Axis(0)).zip(resp.axis_iter_mut(Axis(0))) {
        let lse = log_sum_exp(lrow);
        total += lse;
        rrow.iter_mut()
            .zip(lrow.iter())
            .for_each(|(r, &l)| *r = (l - lse).exp());
    }
    -total / logp.nrows().max(1) as f64
}

fn log_sum_exp(row: ArrayView1<f64>) -> f64 {
    let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    if !m.is_finite() {
        return m;
    }
    m + row.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
}

fn mean(a: &Array1<f64>) -> f64 {
    a.mean().unwrap_or(f64::NAN)
}

/// W = V Λ^(−½) and ln |Σ| of a symmetric positive definite matrix.
fn whitening(cov: &Array2<f64>) -> Result<(Array2<f64>, f64), FitError> {
    let (vals, vecs) = cov
        .eigh()
        .map_err(|e| FitError::Numerical(format!("eigendecomposition failed: {e}")))?;
    let mut w = vecs;
    let mut log_det = 0.0;
    for (mut col, &l) in w.axis_iter_mut(Axis(1)).zip(vals.iter()) {
        let l = l.max(1e-12);
        log_det += l.ln();
        col.mapv_inplace(|v| v / l.sqrt());
    }
    Ok((w, log_det))
}

impl AnomalyModel for GaussianMixtureModel {
    fn name(&self) -> &'static str {
        "gaussian_mixture"
    }

    /// Negative log-likelihood −ln Σₖ wₖ N(x | μₖ, Σₖ).
    fn score(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let logp = self.component_log_prob(x);
        logp.map_axis(Axis(1), |r| -log_sum_exp(r))
    }
}

// ---------------------------------------------------------------------------------------------
// PCA
// ---------------------------------------------------------------------------------------------

/// Hyperparameters of [`PcaModel::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaParams {
    /// Keep the fewest components whose cumulative explained variance reaches this.
    pub explained_variance: f64,
    /// Upper bound on the components tried (the "iterations").
    pub max_components: usize,
}

impl Default for PcaParams {
    fn default() -> Self {
        Self {
            explained_variance: 0.9,
            max_components: 100,
        }
    }
}

/// Exact PCA (covariance + `linfa_linalg` eigh) scored by squared reconstruction error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaModel {
    /// Training mean.
    pub mean: Array1<f64>,
    /// Kept principal axes as columns (d × k).
    pub components: Array2<f64>,
    /// Variance explained by every axis, descending (d).
    pub explained_variance: Vec<f64>,
}

impl PcaModel {
    /// Fits exact PCA. The "iterations" are k = 1 .. min(d − 1, max_components): for each,
    /// the mean reconstruction error on `train` and `valid` is recorded; the kept k is the
    /// smallest reaching `explained_variance` (at most d − 1, since k = d reconstructs
    /// everything and scores nothing).
    pub fn fit(
        train: ArrayView2<f64>,
        valid: ArrayView2<f64>,
        params: &PcaParams,
        observer: &mut IterationObserver<'_>,
    ) -> Result<(Self, FitReport), String> {
        Self::fit_inner(train, valid, params, observer).map_err(FitError::into_message)
    }

    pub(crate) fn fit_inner(
        train: ArrayView2<f64>,
        valid: ArrayView2<f64>,
        params: &PcaParams,
        observer: &mut IterationObserver<'_>,
    ) -> Result<(Self, FitReport), FitError> {
        let (n, d) = train.dim();
        if n < 2 || d < 2 {
            return Err(FitError::Numerical(
                "PCA needs at least 2 rows and 2 features".into(),
            ));
        }
        let mean = train
            .mean_axis(Axis(0))
            .ok_or_else(|| FitError::Numerical("empty training split".into()))?;
        let centred = &train - &mean;
        let cov = centred.t().dot(&centred) / (n - 1) as f64;
        let (vals, vecs) = cov
            .eigh()
            .map_err(|e| FitError::Numerical(format!("eigendecomposition failed: {e}")))?;
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
        let sorted_vals: Vec<f64> = order.iter().map(|&i| vals[i].max(0.0)).collect();
        let mut axes = Array2::<f64>::zeros((d, d));
        for (dst, &src) in order.iter().enumerate() {
            axes.column_mut(dst).assign(&vecs.column(src));
        }
        let total: f64 = sorted_vals.iter().sum::<f64>().max(1e-300);
        let max_k = (d - 1).min(params.max_components.max(1));
        let mut keep = max_k;
        let mut cum = 0.0;
        for (i, v) in sorted_vals.iter().take(max_k).enumerate() {
            cum += v;
            if cum / total >= params.explained_variance {
                keep = i + 1;
                break;
            }
        }
        let mut report = FitReport::default();
        for k in 1..=max_k {
            let m = Self {
                mean: mean.clone(),
                components: axes.slice_axis(Axis(1), Slice::from(..k)).to_owned(),
                explained_variance: sorted_vals.clone(),
            };
            let tl = mean_of(&m.score(train));
            let vl = mean_of(&m.score(valid));
            if !tl.is_finite() || !vl.is_finite() {
                return Err(FitError::Numerical(format!(
                    "reconstruction error is not finite for k = {k}"
                )));
            }
            report.training_loss.push(tl);
            report.validation_loss.push(vl);
            if !observer(k, tl, vl) {
                return Err(FitError::Cancelled);
            }
        }
        Ok((
            Self {
                mean,
                components: axes.slice_axis(Axis(1), Slice::from(..keep)).to_owned(),
                explained_variance: sorted_vals,
            },
            report,
        ))
    }
}

fn mean_of(a: &Array1<f64>) -> f64 {
    a.mean().unwrap_or(f64::NAN)
}

impl AnomalyModel for PcaModel {
    fn name(&self) -> &'static str {
        "pca"
    }

    /// ‖x − μ‖² − ‖(x − μ)V‖², the squared distance to the principal subspace.
    fn score(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let centred = &x - &self.mean;
        let proj = centred.dot(&self.components);
        let full = centred.map_axis(Axis(1), |r| r.dot(&r));
        let kept = proj.map_axis(Axis(1), |r| r.dot(&r));
        (full - kept).mapv(|v| v.max(0.0))
    }
}

/// A trained model of either family (what the ensemble stores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum TrainedModel {
    /// Gaussian mixture.
    GaussianMixture(GaussianMixtureModel),
    /// Exact PCA.
    Pca(PcaModel),
}

impl AnomalyModel for TrainedModel {
    fn name(&self) -> &'static str {
        match self {
            TrainedModel::GaussianMixture(m) => m.name(),
            TrainedModel::Pca(m) => m.name(),
        }
    }

    fn score(&self, x: ArrayView2<f64>) -> Array1<f64> {
        match self {
            TrainedModel::GaussianMixture(m) => m.score(x),
            TrainedModel::Pca(m) => m.score(x),
        }
    }
}
