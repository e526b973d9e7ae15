//! Standardisation fitted with linfa-preprocessing, stored in a serialisable form.

use linfa::dataset::DatasetBase;
use linfa::traits::Fit;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use serde::{Deserialize, Serialize};

/// Per-column `(x − offset) · scale`, i.e. a standard scaler (mean 0, unit variance on the
/// training split). Constant columns keep scale 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Column means of the training split.
    pub offsets: Array1<f64>,
    /// 1 / column standard deviations (1 for constant columns).
    pub scales: Array1<f64>,
}

impl Standardizer {
    /// Fits on the training split with `linfa_preprocessing::LinearScaler::standard`.
    pub fn fit(train: ArrayView2<f64>) -> Result<Self, String> {
        let ds = DatasetBase::from(train.to_owned());
        let s: LinearScaler<f64> = LinearScaler::standard()
            .fit(&ds)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            offsets: s.offsets().clone(),
            scales: s.scales().clone(),
        })
    }

    /// Standardises `x` (returns a new matrix).
    pub fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = x.to_owned();
        for mut row in out.axis_iter_mut(Axis(0)) {
            Zip::from(&mut row)
                .and(&self.offsets)
                .and(&self.scales)
                .for_each(|v, &o, &s| *v = (*v - o) * s);
        }
        out
    }
}
