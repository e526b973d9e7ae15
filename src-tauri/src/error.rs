//! The error every command returns to the front end.

use serde::Serialize;
use ts_rs::TS;
use ueba_core::ingest::{ImportReport, IngestError};
use ueba_core::StoreError;

/// Why a command failed, as the front end receives it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CommandError {
    /// A message for people.
    pub message: String,
    /// The user cancelled the work.
    pub cancelled: bool,
    /// The failing file's report when an import was refused on invalid rows (nothing was stored).
    pub report: Option<Box<ImportReport>>,
}

impl CommandError {
    /// An error with just a message.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            cancelled: false,
            report: None,
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        Self::message(e.to_string())
    }
}

impl From<IngestError> for CommandError {
    fn from(e: IngestError) -> Self {
        Self {
            message: e.to_string(),
            cancelled: matches!(e, IngestError::Cancelled),
            report: e.report().cloned().map(Box::new),
        }
    }
}

impl From<tauri::Error> for CommandError {
    fn from(e: tauri::Error) -> Self {
        Self::message(e.to_string())
    }
}

/// Errors of the UEBA services carry only their message (which names the dataset, property
/// or reason) to the front end.
macro_rules! message_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for CommandError {
            fn from(e: $t) -> Self {
                Self::message(e.to_string())
            }
        }
    )*};
}

message_errors!(
    ueba_core::ueba::DatasetError,
    ueba_core::ueba::analysis::AnalysisError,
    ueba_core::ueba::settings::SettingsError,
    ueba_core::ueba::training::TrainingError,
    ueba_core::ueba::scoring::ScoringError,
    ueba_core::auth::AuthError,
    ueba_core::tls::TlsError,
    ueba_core::response::ResponseError
);
