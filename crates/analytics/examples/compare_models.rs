//! Compares the model families on the synthetic data of the tests and prints the figures
//! behind the default choice: `cargo run --release -p ueba-analytics --example compare_models`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use ueba_analytics::*;

fn main() {
    let train_rows = normal(30_000, 1, 0, 56);
    let mut test = normal(6_000, 2, 56, 14);
    test.extend(anomalies(120, 3, 56, 14));
    let labels: Vec<bool> = test.iter().map(|r| r.scenario != "normal").collect();
    let scen: Vec<&str> = test.iter().map(|r| r.scenario).collect();
    let ins = inputs(&test);
    println!(
        "| model | ROC-AUC | PR-AUC | recall@1%FPR | {} |",
        SCENARIOS.join(" | ")
    );
    println!("|---|---|---|---|{}", "---|".repeat(SCENARIOS.len()));
    for kind in [ModelKind::GaussianMixture, ModelKind::Pca] {
        let cfg = TrainConfig {
            model: kind,
            ..TrainConfig::default()
        };
        let ens = match train(&inputs(&train_rows), &cfg, &|_| true) {
            Ok(e) => e,
            Err(e) => {
                println!("{kind:?}: training failed: {e}");
                continue;
            }
        };
        let scores = ens.combined_values(&ins);
        let m = evaluate(&scores, &labels);
        let per = evaluate_scenarios(&scores, &scen);
        let cells: Vec<String> = SCENARIOS
            .iter()
            .map(|s| {
                per.iter()
                    .find(|r| r.scenario == *s)
                    .map_or("-".into(), |r| format!("{:.3}", r.recall_at_1pct_fpr))
            })
            .collect();
        println!(
            "| {kind:?} | {:.4} | {:.4} | {:.3} | {} |",
            m.roc_auc,
            m.pr_auc,
            m.recall_at_1pct_fpr,
            cells.join(" | ")
        );
    }
}
