//! Detection metrics on labelled data (labels are never used for training).

use serde::{Deserialize, Serialize};

/// Overall detection quality.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Area under the ROC curve (ties count half). NaN without positives or negatives.
    pub roc_auc: f64,
    /// Area under the precision-recall curve as average precision (Σ ΔR · P over distinct
    /// thresholds, highest first). NaN without positives.
    pub pr_auc: f64,
    /// Share of positives scored strictly above the threshold that lets at most 1 % of the
    /// negatives through (see [`recall_at_fpr`]). NaN without positives or negatives.
    pub recall_at_1pct_fpr: f64,
}

/// Recall at 1 % FPR of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecall {
    /// Scenario label.
    pub scenario: String,
    /// Connections with this label.
    pub count: usize,
    /// Share of them above the 1 %-FPR threshold of the `normal` connections.
    pub recall_at_1pct_fpr: f64,
}

/// The threshold for a false-positive rate: with m = ⌊fpr · negatives⌋, the (m+1)-th highest
/// negative score; flagging is `score > threshold`, so at most m negatives are flagged.
fn threshold_at_fpr(neg: &mut [f64], fpr: f64) -> f64 {
    neg.sort_by(|a, b| b.total_cmp(a));
    let m = (fpr * neg.len() as f64 + 1e-9).floor() as usize;
    neg[m.min(neg.len() - 1)]
}

/// Recall of `pos` at the threshold that keeps the FPR of `neg` at most `fpr`.
fn recall_at_fpr(pos: &[f64], neg: &[f64], fpr: f64) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut neg = neg.to_vec();
    let t = threshold_at_fpr(&mut neg, fpr);
    pos.iter().filter(|&&s| s > t).count() as f64 / pos.len() as f64
}

/// ROC-AUC, PR-AUC and recall at 1 % FPR; `labels[i]` is true for anomalies.
pub fn evaluate(scores: &[f64], labels: &[bool]) -> Metrics {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    // Descending score; groups of equal scores are handled as one threshold.
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n_pos = labels[..n].iter().filter(|&&l| l).count();
    let n_neg = n - n_pos;

    let mut tp = 0usize;
    let mut fp = 0usize;
    let mut auc_sum = 0.0; // Σ over negatives of positives ranked above (+ ½ ties)
    let mut ap = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        let (mut gp, mut gn) = (0usize, 0usize);
        while j < n && scores[idx[j]].total_cmp(&scores[idx[i]]).is_eq() {
            if labels[idx[j]] {
                gp += 1;
            } else {
                gn += 1;
            }
            j += 1;
        }
        auc_sum += gn as f64 * (tp as f64 + 0.5 * gp as f64);
        tp += gp;
        fp += gn;
        if gp > 0 {
            ap += (gp as f64 / n_pos as f64) * (tp as f64 / (tp + fp) as f64);
        }
        i = j;
    }
    let roc_auc = if n_pos == 0 || n_neg == 0 {
        f64::NAN
    } else {
        auc_sum / (n_pos as f64 * n_neg as f64)
    };
    let pr_auc = if n_pos == 0 { f64::NAN } else { ap };
    let pos: Vec<f64> = (0..n).filter(|&i| labels[i]).map(|i| scores[i]).collect();
    let neg: Vec<f64> = (0..n).filter(|&i| !labels[i]).map(|i| scores[i]).collect();
    Metrics {
        roc_auc,
        pr_auc,
        recall_at_1pct_fpr: recall_at_fpr(&pos, &neg, 0.01),
    }
}

/// Recall at 1 % FPR per scenario; connections labelled `"normal"` are the negatives and
/// set the threshold. Scenarios are returned in sorted order (without `"normal"`).
pub fn evaluate_scenarios(scores: &[f64], scenarios: &[&str]) -> Vec<ScenarioRecall> {
    let n = scores.len().min(scenarios.len());
    let neg: Vec<f64> = (0..n)
        .filter(|&i| scenarios[i] == "normal")
        .map(|i| scores[i])
        .collect();
    let mut names: Vec<&str> = scenarios[..n]
        .iter()
        .copied()
        .filter(|s| *s != "normal")
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let pos: Vec<f64> = (0..n)
                .filter(|&i| scenarios[i] == name)
                .map(|i| scores[i])
                .collect();
            ScenarioRecall {
                scenario: name.to_owned(),
                count: pos.len(),
                recall_at_1pct_fpr: recall_at_fpr(&pos, &neg, 0.01),
            }
        })
        .collect()
}
