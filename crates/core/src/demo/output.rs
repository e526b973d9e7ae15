//! Where generated demo data goes: into the database (in one transaction) or into a file.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{DemoConfig, DemoGenerator};
use crate::cancel::CancelToken;
use crate::export::{ConnectionSink, FileFormat};
use crate::ingest::{store_connections, IngestError};
use crate::store::Store;

/// `settings` key under which the last demo run is described.
const DEMO_SETTING: &str = "demo";

/// What a demo run put into the database.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DemoSummary {
    /// The settings used.
    pub config: DemoConfig,
    /// Connections generated.
    #[ts(type = "number")]
    pub connections: u64,
    /// Of those, newly stored (a re-run with the same seed adds nothing).
    #[ts(type = "number")]
    pub inserted: u64,
    /// When it ran (epoch ms).
    #[ts(type = "number")]
    pub generated_at: i64,
}

impl DemoConfig {
    /// What the desktop app generates on first run: 50,000 connections over the 30 days up to
    /// today, seed 42.
    pub fn desktop_default() -> Self {
        Self {
            end_ms: today_midnight_ms(),
            ..Self::default()
        }
    }
}

/// Midnight UTC of today, the default end of a demo span.
pub fn today_midnight_ms() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    now - now.rem_euclid(86_400_000)
}

/// Generates demo connections into the database in one transaction and records the run.
pub fn generate_into_store(
    store: &Store,
    config: &DemoConfig,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &CancelToken,
) -> Result<DemoSummary, IngestError> {
    let generator = DemoGenerator::new(config).map_err(|e| IngestError::Settings(e.to_string()))?;
    let inserted = store_connections(store, generator, config.connections, progress, cancel)?;
    let summary = DemoSummary {
        config: config.clone(),
        connections: config.connections,
        inserted,
        generated_at: chrono::Utc::now().timestamp_millis(),
    };
    let text = serde_json::to_string(&summary).map_err(|e| IngestError::Settings(e.to_string()))?;
    store.set_setting(DEMO_SETTING, &text)?;
    Ok(summary)
}

/// Generates demo data only when the database holds no connections (the desktop app's first
/// run). Returns what was generated, if anything.
pub fn seed_demo_if_empty(
    store: &Store,
    config: &DemoConfig,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &CancelToken,
) -> Result<Option<DemoSummary>, IngestError> {
    let empty = store.read(|c| {
        c.query_row("SELECT NOT EXISTS (SELECT 1 FROM connections)", [], |r| {
            r.get::<_, bool>(0)
        })
        .map_err(crate::StoreError::from)
    })?;
    if !empty {
        return Ok(None);
    }
    generate_into_store(store, config, progress, cancel).map(Some)
}

/// The last demo run recorded in this database, if any.
pub fn last_demo(store: &Store) -> Result<Option<DemoSummary>, crate::StoreError> {
    Ok(store
        .setting(DEMO_SETTING)?
        .and_then(|text| serde_json::from_str(&text).ok()))
}

/// Errors writing a demo file.
#[derive(Debug, thiserror::Error)]
pub enum DemoFileError {
    /// The settings are invalid.
    #[error(transparent)]
    Config(#[from] super::DemoError),
    /// Writing failed.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The user cancelled; no file was left behind.
    #[error("cancelled; no file was written")]
    Cancelled,
}

/// Writes demo connections to `path` (CSV, or JSON Lines for `.jsonl`). The file appears only
/// when complete: it is written under a temporary name and renamed at the end.
pub fn write_file(
    path: &Path,
    config: &DemoConfig,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: &CancelToken,
) -> Result<u64, DemoFileError> {
    let generator = DemoGenerator::new(config)?;
    let fail = |reason: String| DemoFileError::Write {
        path: path.display().to_string(),
        reason,
    };
    crate::export::write_atomically(
        path,
        |e| fail(e.to_string()),
        |out| {
            let mut sink = ConnectionSink::new(out, FileFormat::from_path(path))
                .map_err(|e| fail(e.to_string()))?;
            let mut written = 0u64;
            for c in generator {
                sink.write(&c).map_err(|e| fail(e.to_string()))?;
                written += 1;
                if written % 65_536 == 0 {
                    if cancel.is_cancelled() {
                        return Err(DemoFileError::Cancelled);
                    }
                    progress(written, config.connections);
                }
            }
            sink.finish().map_err(|e| fail(e.to_string()))?;
            progress(written, config.connections);
            Ok(written)
        },
    )
}
