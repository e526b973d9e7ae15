//! `dataset` and `settings` commands: thin calls into `ueba_core::ueba`.

use serde_json::json;
use ueba_core::model::format_timestamp;
use ueba_core::store::Store;
use ueba_core::ueba::datasets::{self, Dataset, ResultView};
use ueba_core::ueba::settings::{self, AnomalyAction, AnomalySettings};
use ueba_core::ueba::{DatasetInput, TimeRange, TimeRangeSettings};

use ueba_core::ueba::{analysis, status};

use crate::args::{
    AnalyzeCommand, DatasetArgs, DatasetCommand, ResultArgs, SettingsCommand, WindowArgs,
};
use crate::exit::Failure;
use crate::run::print_json;

fn window(w: &WindowArgs) -> TimeRangeSettings {
    TimeRangeSettings {
        start: w.start,
        end: w.end,
        exclude: w
            .exclude
            .iter()
            .map(|&(s, e)| TimeRange {
                start: Some(s),
                end: Some(e),
            })
            .collect(),
    }
}

fn input(a: &DatasetArgs) -> DatasetInput {
    DatasetInput {
        time_range_settings: window(&a.window),
        comment: a.comment.clone(),
        use_for_inference_once_trained: a.use_for_inference,
    }
}

fn view(a: &ResultArgs) -> ResultView {
    ResultView {
        logs: a.logs,
        bin_count: a.bins,
    }
}

/// The user running the command, recorded as `created_by` / `updated_by`.
fn actor() -> Option<String> {
    std::env::var("USER").ok().filter(|u| !u.is_empty())
}

/// Runs a `dataset` subcommand.
pub fn dataset(json: bool, store: &Store, cmd: &DatasetCommand) -> Result<(), Failure> {
    match cmd {
        DatasetCommand::Create(args) => {
            let id = datasets::create(store, &input(args), actor().as_deref())?;
            if json {
                print_json(&json!({ "id": id }));
            } else {
                println!("{id}");
            }
        }
        DatasetCommand::List(args) => {
            let all = datasets::list(store, view(args))?;
            if json {
                print_json(&json!({ "count": all.len(), "items": all }));
            } else {
                for d in &all {
                    print_dataset_line(d);
                }
            }
        }
        DatasetCommand::Show { id, view: args } => {
            let d = datasets::get(store, id, view(args))?;
            if json {
                print_json(&json!(d));
            } else {
                print_dataset(&d);
            }
        }
        DatasetCommand::Update { id, settings } => {
            let d = datasets::update(
                store,
                id,
                &input(settings),
                actor().as_deref(),
                ResultView::default(),
            )?;
            if json {
                print_json(&json!(d));
            } else {
                println!("dataset {id} updated; its training history and models were cleared");
            }
        }
        DatasetCommand::Delete { id } => {
            datasets::delete(store, id)?;
            if json {
                print_json(&json!({ "deleted": id }));
            } else {
                println!("dataset {id} deleted");
            }
        }
        DatasetCommand::Count(w) => {
            let n = datasets::count_connections(store, &window(w))?;
            if json {
                print_json(&json!({ "count": n }));
            } else {
                println!("{n}");
            }
        }
    }
    Ok(())
}

fn bound(t: Option<i64>, open: &str) -> String {
    t.map(format_timestamp).unwrap_or_else(|| open.to_owned())
}

fn print_dataset_line(d: &Dataset) {
    let w = &d.time_range_settings;
    println!(
        "{}  {}{} .. {}  excluded {}  results {}  {}",
        d.id,
        if d.is_active { "[active] " } else { "" },
        bound(w.start, "first"),
        bound(w.end, "last"),
        w.exclude.len(),
        d.training_results.len(),
        d.comment.as_deref().unwrap_or("")
    );
}

fn print_dataset(d: &Dataset) {
    print_dataset_line(d);
    for r in &d.time_range_settings.exclude {
        println!(
            "  excluded {} .. {}",
            bound(r.start, "?"),
            bound(r.end, "?")
        );
    }
    for r in &d.training_results {
        println!(
            "  {:<16} {:?}  connections {}  q99 {}  q99.9 {}{}",
            r.feature_config_name,
            r.status,
            r.num_connections
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            r.quantile_99
                .map(|q| format!("{q:.4}"))
                .unwrap_or_else(|| "-".into()),
            r.quantile_999
                .map(|q| format!("{q:.4}"))
                .unwrap_or_else(|| "-".into()),
            r.error_details
                .as_deref()
                .map(|e| format!("  error: {e}"))
                .unwrap_or_default()
        );
        if let Some(log) = &r.training_log {
            for line in log.lines() {
                println!("    {line}");
            }
        }
    }
}

/// Runs a `settings` subcommand.
pub fn settings(json: bool, store: &Store, cmd: &SettingsCommand) -> Result<(), Failure> {
    match cmd {
        SettingsCommand::Anomaly { threshold, action } => {
            let mut current = settings::anomaly_settings(store)?;
            if threshold.is_some() || action.is_some() {
                current = AnomalySettings {
                    threshold: threshold.unwrap_or(current.threshold),
                    action: match action.as_deref().map(str::to_ascii_uppercase).as_deref() {
                        Some("BLOCK") => AnomalyAction::Block,
                        Some("AUDIT") => AnomalyAction::Audit,
                        _ => current.action,
                    },
                };
                settings::save_anomaly_settings(store, &current)?;
            }
            if json {
                print_json(
                    &json!({ "action": current.action, "threshold": current.threshold,
                    "expected_flag_rate": current.expected_flag_rate() }),
                );
            } else {
                println!(
                    "action {:?}, threshold {} (flags about {:.2}% of normal connections)",
                    current.action,
                    current.threshold,
                    current.expected_flag_rate() * 100.0
                );
            }
        }
        SettingsCommand::Ueba {
            address,
            trust_anchors,
        } => {
            let mut current = settings::configuration(store)?;
            if let Some(a) = address {
                current.address = Some(a.clone());
            }
            if let Some(path) = trust_anchors {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
                current.trust_anchors = Some(pem);
            }
            if address.is_some() || trust_anchors.is_some() {
                settings::save_configuration(store, &current)?;
            }
            if json {
                print_json(&json!(current));
            } else {
                println!(
                    "address {}",
                    current.address.as_deref().unwrap_or("(not set)")
                );
                println!(
                    "trust anchors {}",
                    if current.trust_anchors.is_some() {
                        "set"
                    } else {
                        "(not set)"
                    }
                );
            }
        }
    }
    Ok(())
}

/// Runs an `analyze` subcommand.
pub fn analyze(json: bool, store: &Store, cmd: &AnalyzeCommand) -> Result<(), Failure> {
    let state = match cmd {
        AnalyzeCommand::Start { dataset } => analysis::start(store, dataset)?,
        AnalyzeCommand::Stop => analysis::stop(store)?,
        AnalyzeCommand::Status => analysis::state(store)?,
        AnalyzeCommand::Rescore { from, to } => {
            return crate::engine::rescore(json, store, *from, *to);
        }
    };
    if json {
        print_json(&json!(state));
    } else {
        match (&state.dataset_id, state.since_ms) {
            (Some(id), Some(since)) => {
                println!(
                    "analysis {:?} with dataset {id} since {}",
                    state.status,
                    format_timestamp(since)
                )
            }
            _ => println!("analysis {:?}", state.status),
        }
    }
    Ok(())
}

/// Prints the service and internal status.
pub fn print_status(json: bool, store: &Store) -> Result<(), Failure> {
    let service = status::service(store)?;
    let internal = status::internal(store)?;
    if json {
        print_json(&json!({ "service": service, "internal": internal }));
        return Ok(());
    }
    println!(
        "status      {} ({})",
        service.status, service.status_message
    );
    println!(
        "version     {} (API {})",
        service.version, service.api_version
    );
    println!("training    {}", internal.training_status);
    println!(
        "inference   {:?}{}",
        internal.inference_status,
        internal
            .dataset_id
            .as_deref()
            .map(|d| format!(" with dataset {d}"))
            .unwrap_or_default()
    );
    for m in &internal.model_instance_status {
        println!(
            "  model {:<16} {}  trained {}",
            m.feature_config_name, m.status, m.created
        );
    }
    for d in &service.status_details {
        println!("  {:<16} {}", d.k, d.v);
    }
    for i in &service.issues {
        println!("{:<8} {}: {}", i.severity, i.code, i.message);
    }
    Ok(())
}
