//! The REST listener commands: start, stop and status of the localhost listener (see
//! [`crate::listener`]), the local CA export, accounts and OAuth clients, and the request journal.
//! Each is a thin call into `ueba_api` or `ueba_core`.

use std::path::PathBuf;

use tauri::State;
use ueba_core::auth::{self, Account, NewClient, OAuthClient, Role};
use ueba_core::journal::{self, JournalFilter, JournalPage};
use ueba_core::tls;

use crate::commands::blocking;
use crate::error::CommandError;
use crate::listener::{self, ListenerStatus};
use crate::state::AppState;

/// Whether the listener runs, where, its last error and the stored choices.
#[tauri::command]
pub async fn listener_status(state: State<'_, AppState>) -> Result<ListenerStatus, CommandError> {
    let store = state.store()?;
    state.listener.status(store).await
}

/// Starts the listener on the loopback addresses (`port` 0 picks a free one); HTTPS with the
/// local CA when `tls`.
#[tauri::command]
pub async fn start_listener(
    state: State<'_, AppState>,
    port: u16,
    tls: bool,
) -> Result<ListenerStatus, CommandError> {
    let store = state.store()?;
    state.listener.start(store, port, tls).await
}

/// Stops the listener gracefully; trainings started through it go on.
#[tauri::command]
pub async fn stop_listener(state: State<'_, AppState>) -> Result<ListenerStatus, CommandError> {
    let store = state.store()?;
    state.listener.stop(store).await
}

/// Whether the listener starts, with the stored port and TLS choice, when the app opens.
#[tauri::command]
pub async fn set_listener_start_on_launch(
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<ListenerStatus, CommandError> {
    let store = state.store()?;
    let writer = store.clone();
    blocking(move || listener::update_settings(&writer, |s| s.start_on_launch = enabled)).await?;
    state.listener.status(store).await
}

/// Writes the local CA certificate (PEM) to `path`, creating the CA on first use
/// ([`tls::export_ca`]).
#[tauri::command]
pub async fn export_ca(state: State<'_, AppState>, path: PathBuf) -> Result<(), CommandError> {
    let store = state.store()?;
    blocking(move || tls::export_ca(&store, &path).map(|_| ())).await
}

/// Every local account, by name.
#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<Vec<Account>, CommandError> {
    let store = state.store()?;
    blocking(move || auth::list_accounts(&store)).await
}

/// Creates an account (the password has at least 8 characters).
#[tauri::command]
pub async fn add_account(
    state: State<'_, AppState>,
    name: String,
    role: Role,
    password: String,
) -> Result<Account, CommandError> {
    let store = state.store()?;
    blocking(move || auth::add_account(&store, name.trim(), role, &password)).await
}

/// Deletes an account and revokes its tokens.
#[tauri::command]
pub async fn remove_account(state: State<'_, AppState>, name: String) -> Result<(), CommandError> {
    let store = state.store()?;
    blocking(move || auth::remove_account(&store, &name)).await
}

/// Every OAuth client, by name.
#[tauri::command]
pub async fn list_clients(state: State<'_, AppState>) -> Result<Vec<OAuthClient>, CommandError> {
    let store = state.store()?;
    blocking(move || auth::list_clients(&store)).await
}

/// Creates an OAuth client; its secret is in the answer and nowhere else.
#[tauri::command]
pub async fn add_client(
    state: State<'_, AppState>,
    name: String,
    role: Option<Role>,
) -> Result<NewClient, CommandError> {
    let store = state.store()?;
    blocking(move || auth::add_client(&store, name.trim(), role)).await
}

/// Deletes an OAuth client (by id or name) and revokes the tokens issued to it.
#[tauri::command]
pub async fn remove_client(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let store = state.store()?;
    blocking(move || auth::remove_client(&store, &id)).await
}

/// Request journal lines matching `filter`, newest first ([`journal::query`]).
#[tauri::command]
pub async fn query_journal(
    state: State<'_, AppState>,
    filter: JournalFilter,
) -> Result<JournalPage, CommandError> {
    let store = state.store()?;
    blocking(move || journal::query(&store, &filter)).await
}
