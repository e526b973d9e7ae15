//! `train`, `score`, `evaluate`, `anomalies` and `analyze rescore`: thin calls into
//! `ueba_core::ueba::{training, scoring}`.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use ueba_core::store::Store;
use ueba_core::ueba::datasets::TrainingStatus;
use ueba_core::ueba::scoring::{self, AnomalyFilter, ScoreSource};
use ueba_core::ueba::training::{self, ModelKind, TrainOptions, TrainingPhase};
use ueba_core::CancelToken;

use crate::args::{AnomaliesCommand, ModelArg, ProgressMode, ScoreArgs, ScoreInputArgs, TrainArgs};
use crate::exit::Failure;
use crate::progress::Progress;
use crate::run::print_json;

/// Runs `train`.
pub fn train(
    json: bool,
    progress_mode: ProgressMode,
    store: &Store,
    args: &TrainArgs,
    cancel: &CancelToken,
) -> Result<(), Failure> {
    let options = TrainOptions {
        seed: args.seed,
        min_connections: args.min_connections,
        model: match args.model {
            ModelArg::GaussianMixture => ModelKind::GaussianMixture,
            ModelArg::Pca => ModelKind::Pca,
        },
        set_active_after_training: args.activate,
        ..TrainOptions::default()
    };
    let bar = Progress::new(progress_mode, 1000, false, "training");
    let outcome = training::train_blocking(
        store,
        &args.dataset,
        &options,
        &|p| {
            let message = match (p.phase, &p.feature_config) {
                (TrainingPhase::Loading, _) => format!("loading {} connections", p.connections),
                (TrainingPhase::Fitting, Some(c)) => {
                    format!("fitting {c} ({}/{})", p.iteration, p.max_iterations)
                }
                (TrainingPhase::Fitting, None) => "fitting".to_owned(),
                (TrainingPhase::Saving, _) => "saving models".to_owned(),
            };
            bar.update((p.fraction * 1000.0) as u64, Some(&message), || json!(p));
        },
        cancel,
    )?;
    bar.finish();
    if json {
        print_json(&json!(outcome));
    }
    if outcome.status == TrainingStatus::Failure {
        return Err(Failure::TrainingFailed {
            code: outcome.error_code.unwrap_or_default(),
            details: outcome.error_details.unwrap_or_default(),
        });
    }
    if !json {
        println!(
            "dataset {} trained on {} connections in {:.1} s{}",
            outcome.dataset_id,
            outcome.num_connections,
            outcome.seconds,
            if outcome.activated {
                "; analysis started with it"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn source(args: &ScoreInputArgs) -> ScoreSource {
    match &args.input {
        Some(path) => ScoreSource::File {
            path: path.clone(),
            format: args.format,
        },
        None => ScoreSource::Range {
            from: args.from,
            to: args.to,
        },
    }
}

/// Runs `score`: to standard output, or to a file that appears only when complete.
pub fn score(json: bool, store: &Store, args: &ScoreArgs) -> Result<(), Failure> {
    if let Some(t) = args.threshold {
        if !(0.0..=1.0).contains(&t) {
            return Err(Failure::Usage(format!(
                "--threshold must be between 0.0 and 1.0, got {t}"
            )));
        }
    }
    let src = source(&args.source);
    let summary = if args.output == Path::new("-") {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let s = scoring::score_to_csv(
            store,
            &args.source.dataset,
            &src,
            args.threshold,
            &mut out,
            "standard output",
        )?;
        out.flush().map_err(|e| Failure::Output(e.to_string()))?;
        s
    } else {
        scoring::score_to_file(
            store,
            &args.source.dataset,
            &src,
            args.threshold,
            &args.output,
        )?
    };
    if json {
        print_json(&json!(summary));
    } else {
        eprintln!(
            "scored {} connections in {:.2} s ({:.0}/s; models {:.0}/s); {} anomalous at threshold {}",
            summary.scored,
            summary.seconds,
            summary.scored as f64 / summary.seconds.max(1e-9),
            summary.scored as f64 / summary.model_seconds.max(1e-9),
            summary.anomalous,
            summary.threshold
        );
    }
    Ok(())
}

/// Runs `evaluate`.
pub fn evaluate(json: bool, store: &Store, args: &ScoreInputArgs) -> Result<(), Failure> {
    let e = scoring::evaluate(store, &args.dataset, &source(args))?;
    if json {
        print_json(&json!(e));
        return Ok(());
    }
    println!(
        "{} connections, {} labelled attacks ({:.2} s; scoring {:.0} connections/s)",
        e.connections,
        e.attacks,
        e.seconds,
        e.connections as f64 / e.model_seconds.max(1e-9)
    );
    println!("ROC-AUC            {:.4}", e.roc_auc);
    println!("PR-AUC             {:.4}", e.pr_auc);
    println!("recall at 1 % FPR  {:.4}", e.recall_at_1pct_fpr);
    if !e.scenarios.is_empty() {
        println!(
            "\n{:<26} {:>7} {:>18}",
            "scenario", "count", "recall at 1 % FPR"
        );
        for s in &e.scenarios {
            println!(
                "{:<26} {:>7} {:>18.3}",
                s.scenario, s.count, s.recall_at_1pct_fpr
            );
        }
    }
    Ok(())
}

/// Runs an `anomalies` subcommand.
pub fn anomalies(json: bool, store: &Store, cmd: &AnomaliesCommand) -> Result<(), Failure> {
    let AnomaliesCommand::List {
        from,
        to,
        user,
        limit,
    } = cmd;
    let list = scoring::list_anomalies(
        store,
        &AnomalyFilter {
            from: *from,
            to: *to,
            user: user.clone(),
            limit: Some(*limit),
            offset: None,
        },
    )?;
    if json {
        print_json(&json!({ "count": list.len(), "items": list }));
        return Ok(());
    }
    if list.is_empty() {
        println!("no anomalies");
    }
    for a in &list {
        println!(
            "{}  {:.4}  {}{}  {} -> {}@{} ({}) from {}",
            a.connected,
            a.score,
            match a.action {
                ueba_core::ueba::AnomalyAction::Block => "BLOCK",
                ueba_core::ueba::AnomalyAction::Audit => "AUDIT",
            },
            if a.blocked { " blocked" } else { "" },
            a.user,
            a.target_host_account.as_deref().unwrap_or("-"),
            a.target_host,
            a.conn_type,
            a.remote_address
        );
        for reason in &a.explanation {
            println!("    - {reason}");
        }
    }
    Ok(())
}

/// Runs `analyze rescore`.
pub fn rescore(
    json: bool,
    store: &Store,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<(), Failure> {
    let r = scoring::analyze_range(store, from, to)?;
    if json {
        print_json(&json!(r));
    } else {
        println!(
            "rescored {} connections in {:.2} s: {} anomalies ({} blocked)",
            r.scored, r.seconds, r.anomalies, r.blocked
        );
    }
    Ok(())
}
