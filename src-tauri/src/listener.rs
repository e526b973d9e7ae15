//! The REST listener as the desktop app runs it: always on the loopback addresses (binding other
//! addresses is left to the command line), started and stopped on Tauri's tokio runtime, with the
//! last choices (port, TLS, whether it was on, whether to start it with the app) kept in the
//! database's settings table so the Settings page shows them again next time.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tauri::async_runtime::Mutex as AsyncMutex;
use ts_rs::TS;
use ueba_api::{ListenerConfig, RunningListener, DEFAULT_PORT};
use ueba_core::{Store, StoreError};

use crate::commands::blocking;
use crate::error::CommandError;

/// Key of the listener settings (JSON) in the settings table.
pub const SETTINGS_KEY: &str = "desktop_listener";

/// The listener choices the desktop app remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ListenerSettings {
    /// TCP port (0 picks a free one at each start).
    pub port: u16,
    /// HTTPS with the local CA.
    pub tls: bool,
    /// Whether the listener was running when it was last started or stopped from the app.
    pub was_running: bool,
    /// Start the listener with these settings when the app opens (off unless chosen).
    pub start_on_launch: bool,
}

impl Default for ListenerSettings {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            tls: false,
            was_running: false,
            start_on_launch: false,
        }
    }
}

/// Reads the stored settings; the defaults when none are stored or the stored text is unreadable
/// (written by another version, or edited by hand).
pub fn load_settings(store: &Store) -> Result<ListenerSettings, StoreError> {
    Ok(store
        .setting(SETTINGS_KEY)?
        .map(|text| parse_settings(&text))
        .unwrap_or_default())
}

fn parse_settings(text: &str) -> ListenerSettings {
    serde_json::from_str(text).unwrap_or_else(|error| {
        tracing::warn!(%error, "stored listener settings are unreadable; using the defaults");
        ListenerSettings::default()
    })
}

/// Stores `settings`.
pub fn save_settings(store: &Store, settings: &ListenerSettings) -> Result<(), StoreError> {
    // Numbers and booleans always serialize; the fallback only satisfies the type.
    let text = serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned());
    store.set_setting(SETTINGS_KEY, &text)
}

/// Reads the stored settings, changes them with `change` and stores the result.
pub fn update_settings(
    store: &Store,
    change: impl FnOnce(&mut ListenerSettings),
) -> Result<ListenerSettings, StoreError> {
    let mut settings = load_settings(store)?;
    change(&mut settings);
    save_settings(store, &settings)?;
    Ok(settings)
}

/// What the Settings and Journal pages show about the listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ListenerStatus {
    /// Whether it is running.
    pub running: bool,
    /// The URL to give clients, while it runs.
    pub url: Option<String>,
    /// Every address it listens on, while it runs (`127.0.0.1:8443`, `[::1]:8443`).
    pub addresses: Vec<String>,
    /// The port in use while it runs, else the stored choice.
    pub port: u16,
    /// Whether it speaks HTTPS (while it runs), else the stored choice.
    pub tls: bool,
    /// Why the last start failed, until the next start succeeds.
    pub last_error: Option<String>,
    /// The stored choices.
    pub settings: ListenerSettings,
}

/// The desktop's listener: at most one, started and stopped one request at a time.
#[derive(Default)]
pub struct ListenerControl {
    running: AsyncMutex<Option<RunningListener>>,
    last_error: Mutex<Option<String>>,
}

impl ListenerControl {
    fn set_error(&self, error: Option<String>) {
        *lock(&self.last_error) = error;
    }

    fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    fn status_of(
        &self,
        running: Option<&RunningListener>,
        settings: ListenerSettings,
    ) -> ListenerStatus {
        match running {
            Some(listener) => {
                let info = listener.info();
                ListenerStatus {
                    running: true,
                    url: Some(info.url.clone()),
                    addresses: info.addresses.iter().map(ToString::to_string).collect(),
                    port: info.port,
                    tls: info.tls,
                    last_error: self.last_error(),
                    settings,
                }
            }
            None => ListenerStatus {
                running: false,
                url: None,
                addresses: Vec::new(),
                port: settings.port,
                tls: settings.tls,
                last_error: self.last_error(),
                settings,
            },
        }
    }

    /// Whether it runs, where, and the stored choices.
    pub async fn status(&self, store: Arc<Store>) -> Result<ListenerStatus, CommandError> {
        let settings = blocking(move || load_settings(&store)).await?;
        let running = self.running.lock().await;
        Ok(self.status_of(running.as_ref(), settings))
    }

    /// Starts the listener on the loopback addresses and remembers `port` and `tls`. Refused
    /// while it runs; a failure is kept as the last error.
    pub async fn start(
        &self,
        store: Arc<Store>,
        port: u16,
        tls: bool,
    ) -> Result<ListenerStatus, CommandError> {
        let mut running = self.running.lock().await;
        if let Some(listener) = running.as_ref() {
            return Err(CommandError::message(format!(
                "the listener is already running at {}; stop it first",
                listener.info().url
            )));
        }
        let config = ListenerConfig {
            port,
            bind: Vec::new(),
            tls,
        };
        let started = ueba_api::start(Arc::clone(&store), &config).await;
        let ok = started.is_ok();
        let settings = blocking(move || {
            update_settings(&store, |s| {
                s.port = port;
                s.tls = tls;
                s.was_running = ok;
            })
        })
        .await;
        match started {
            Ok(listener) => {
                self.set_error(None);
                *running = Some(listener);
                Ok(self.status_of(running.as_ref(), settings?))
            }
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(%error, "the REST listener did not start");
                self.set_error(Some(message.clone()));
                Err(CommandError::message(message))
            }
        }
    }

    /// Stops the listener gracefully (open requests finish; trainings started through it go on)
    /// and remembers that it is off.
    pub async fn stop(&self, store: Arc<Store>) -> Result<ListenerStatus, CommandError> {
        let mut running = self.running.lock().await;
        if let Some(listener) = running.take() {
            listener.stop(false).await;
        }
        let settings = blocking(move || update_settings(&store, |s| s.was_running = false)).await?;
        Ok(self.status_of(running.as_ref(), settings))
    }

    /// Stops the listener when the app exits, leaving the stored choices as they are.
    pub async fn shutdown(&self) {
        if let Some(listener) = self.running.lock().await.take() {
            listener.stop(false).await;
        }
    }

    /// Starts the listener with the stored settings if they ask for it at launch.
    pub async fn start_on_launch(&self, store: Arc<Store>) {
        let settings = {
            let store = Arc::clone(&store);
            blocking(move || load_settings(&store)).await
        };
        match settings {
            Ok(s) if s.start_on_launch => {
                if let Err(error) = self.start(store, s.port, s.tls).await {
                    tracing::warn!(error = %error.message, "the REST listener did not start at launch");
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %error.message, "cannot read the listener settings")
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("w.db")).expect("open");
        (dir, Arc::new(store))
    }

    #[test]
    fn settings_default_when_absent_and_round_trip() {
        let (_dir, store) = store();
        let defaults = load_settings(&store).expect("load");
        assert_eq!(defaults, ListenerSettings::default());
        assert_eq!(defaults.port, DEFAULT_PORT);
        assert!(!defaults.tls && !defaults.was_running && !defaults.start_on_launch);

        let chosen = ListenerSettings {
            port: 9443,
            tls: true,
            was_running: true,
            start_on_launch: true,
        };
        save_settings(&store, &chosen).expect("save");
        assert_eq!(load_settings(&store).expect("load"), chosen);
    }

    #[test]
    fn settings_survive_reopening_the_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db");
        {
            let store = Store::open(&path).expect("open");
            update_settings(&store, |s| {
                s.port = 18080;
                s.tls = true;
            })
            .expect("update");
        }
        let store = Store::open(&path).expect("reopen");
        let settings = load_settings(&store).expect("load");
        assert_eq!(settings.port, 18080);
        assert!(settings.tls);
        assert!(
            !settings.start_on_launch,
            "start at launch stays off unless chosen"
        );
    }

    #[test]
    fn unreadable_or_partial_settings_fall_back_to_defaults() {
        let (_dir, store) = store();
        store.set_setting(SETTINGS_KEY, "not json").expect("set");
        assert_eq!(
            load_settings(&store).expect("load"),
            ListenerSettings::default()
        );
        // A field added by a later version is ignored, a missing one takes its default.
        store
            .set_setting(SETTINGS_KEY, r#"{"port": 9000, "future": 1}"#)
            .expect("set");
        let settings = load_settings(&store).expect("load");
        assert_eq!(settings.port, 9000);
        assert!(!settings.tls && !settings.start_on_launch);
    }

    #[test]
    fn update_changes_only_what_it_is_told() {
        let (_dir, store) = store();
        update_settings(&store, |s| s.start_on_launch = true).expect("update");
        let after = update_settings(&store, |s| s.was_running = true).expect("update");
        assert!(after.start_on_launch && after.was_running);
        assert_eq!(after.port, DEFAULT_PORT);
    }

    #[test]
    fn start_status_stop_and_a_taken_port() {
        let (_dir, store) = store();
        tauri::async_runtime::block_on(async {
            let control = ListenerControl::default();
            let status = control.status(Arc::clone(&store)).await.expect("status");
            assert!(!status.running && status.url.is_none());

            let started = control
                .start(Arc::clone(&store), 0, false)
                .await
                .expect("start on a free port");
            assert!(started.running);
            let url = started.url.clone().expect("url");
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            assert_ne!(started.port, 0);
            assert!(started
                .addresses
                .iter()
                .any(|a| a.starts_with("127.0.0.1:")));
            assert!(started.settings.was_running);
            assert_eq!(
                started.settings.port, 0,
                "the chosen port is stored, not the one given"
            );
            assert!(control.start(Arc::clone(&store), 0, false).await.is_err());

            // A second listener on the port the first one holds is refused, plainly.
            let other = ListenerControl::default();
            let error = other
                .start(Arc::clone(&store), started.port, false)
                .await
                .expect_err("the port is taken");
            assert!(
                error.message.contains("already in use"),
                "{}",
                error.message
            );
            let status = other.status(Arc::clone(&store)).await.expect("status");
            assert_eq!(status.last_error.as_deref(), Some(error.message.as_str()));
            assert!(!status.running);

            let stopped = control.stop(Arc::clone(&store)).await.expect("stop");
            assert!(!stopped.running && stopped.url.is_none());
            assert!(!stopped.settings.was_running);
            // The port is free again.
            let again = other
                .start(Arc::clone(&store), started.port, false)
                .await
                .expect("start again");
            assert!(again.last_error.is_none());
            other.shutdown().await;
            assert!(!other.status(store).await.expect("status").running);
        });
    }
}
