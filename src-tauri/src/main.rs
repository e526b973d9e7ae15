//! UEBA Workbench desktop app: a Tauri 2 window over the `ueba-core` engine.
//!
//! This crate holds no business logic. It opens the database, seeds demo data on first run, and
//! exposes thin commands (see [`commands`]) that each call one core service function.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod api_commands;
mod commands;
mod error;
mod listener;
mod response_commands;
mod sensor_commands;
mod state;
mod throttle;
mod ueba_commands;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::Manager;
use tracing_subscriber::EnvFilter;

use crate::state::AppState;

/// Command-line options of the desktop app.
#[derive(Debug, clap::Parser)]
#[command(
    name = "ueba-workbench-desktop",
    version,
    about = "UEBA Workbench desktop app"
)]
struct Args {
    /// Database file [default: the platform data directory, e.g. ~/.local/share/ueba-workbench/workbench.db].
    #[arg(long, env = "UEBA_WORKBENCH_DB", value_name = "PATH")]
    db: Option<PathBuf>,
}

/// Decides which database file to open: `--db`, then `UEBA_WORKBENCH_DB`, then the platform
/// default.
fn resolve_db_path(args: &Args) -> Result<PathBuf, String> {
    match &args.db {
        Some(path) => Ok(path.clone()),
        None => ueba_core::store::default_db_path().map_err(|e| e.to_string()),
    }
}

// Import moves millions of small strings between threads; mimalloc frees across threads far
// faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = <Args as clap::Parser>::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let db_path = resolve_db_path(&args);
    let store = db_path
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|path| ueba_core::store::Store::open(path).map_err(|e| e.to_string()))
        .map(Arc::new);
    match (&db_path, &store) {
        (Ok(path), Ok(_)) => tracing::info!(path = %path.display(), "database opened"),
        (_, Err(error)) => tracing::error!(%error, "database not available"),
        _ => {}
    }
    let state = AppState::new(db_path.ok(), store);

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .setup(|app| {
            let handle = app.handle().clone();
            let store = app.state::<AppState>().store.clone();
            if let Ok(store) = store {
                let seed_store = Arc::clone(&store);
                tauri::async_runtime::spawn_blocking(move || {
                    commands::seed_demo(&handle, &seed_store)
                });
                // The REST listener starts with the app only when the user chose so.
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    handle
                        .state::<AppState>()
                        .listener
                        .start_on_launch(store)
                        .await;
                });
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::overview,
            commands::list_connections,
            commands::count_connections,
            commands::import_files,
            commands::cancel_import,
            commands::backup,
            ueba_commands::list_datasets,
            ueba_commands::get_dataset,
            ueba_commands::create_dataset,
            ueba_commands::update_dataset,
            ueba_commands::delete_dataset,
            ueba_commands::count_dataset_connections,
            ueba_commands::train_dataset,
            ueba_commands::cancel_training,
            ueba_commands::running_training,
            ueba_commands::analysis_state,
            ueba_commands::start_analysis,
            ueba_commands::stop_analysis,
            ueba_commands::anomaly_settings,
            ueba_commands::save_anomaly_settings,
            ueba_commands::flag_preview,
            ueba_commands::rescore,
            ueba_commands::list_anomalies,
            ueba_commands::service_status,
            api_commands::listener_status,
            api_commands::start_listener,
            api_commands::stop_listener,
            api_commands::set_listener_start_on_launch,
            api_commands::export_ca,
            api_commands::list_accounts,
            api_commands::add_account,
            api_commands::remove_account,
            api_commands::list_clients,
            api_commands::add_client,
            api_commands::remove_client,
            api_commands::query_journal,
            response_commands::response_enums,
            response_commands::policy_term_keys,
            response_commands::query_alerts,
            response_commands::get_alert,
            response_commands::alert_history,
            response_commands::alert_owner_choices,
            response_commands::investigate_alert,
            response_commands::list_policies,
            response_commands::get_policy,
            response_commands::create_policy,
            response_commands::update_policy,
            response_commands::preview_policy,
            response_commands::query_audit,
            response_commands::get_audit_event,
            response_commands::list_workflows,
            response_commands::query_workflow_runs,
            response_commands::get_workflow_run,
            response_commands::answer_workflow_run,
            response_commands::list_api_tokens,
            response_commands::create_api_token,
            response_commands::update_api_token,
            sensor_commands::sensor_vocabulary,
            sensor_commands::query_sensors,
            sensor_commands::start_sensor_action,
            sensor_commands::sensor_actions,
            sensor_commands::abort_sensor_action,
            sensor_commands::alert_sensor_actions,
            sensor_commands::sensor_timeline,
            sensor_commands::set_sensor_timeline,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "the desktop app could not start");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Open requests finish and the journal's last lines are written before the process
            // ends; trainings started through the API end with the app.
            tauri::async_runtime::block_on(handle.state::<AppState>().listener.shutdown());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::Args;
    use clap::Parser;
    use std::path::PathBuf;

    #[test]
    fn db_argument_forms() {
        let a = Args::try_parse_from(["app", "--db", "/tmp/a.db"]).unwrap();
        assert_eq!(a.db, Some(PathBuf::from("/tmp/a.db")));
        let b = Args::try_parse_from(["app", "--db=/tmp/b.db"]).unwrap();
        assert_eq!(b.db, Some(PathBuf::from("/tmp/b.db")));
        assert!(Args::try_parse_from(["app", "--db"]).is_err());
    }
}
