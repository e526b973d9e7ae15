//! Exit codes scripts can rely on (also listed in the README and in `--help`).

use ueba_api::ListenError;
use ueba_core::auth::AuthError;
use ueba_core::ingest::IngestError;
use ueba_core::response::ResponseError;
use ueba_core::tls::TlsError;
use ueba_core::ueba::analysis::AnalysisError;
use ueba_core::ueba::scoring::ScoringError;
use ueba_core::ueba::settings::SettingsError;
use ueba_core::ueba::training::TrainingError;
use ueba_core::ueba::DatasetError;
use ueba_core::StoreError;

/// Success.
pub const OK: i32 = 0;
/// Something unexpected failed (a bug or the environment).
pub const INTERNAL: i32 = 1;
/// The command line was wrong (clap uses 2 as well).
pub const USAGE: i32 = 2;
/// The input was rejected: invalid rows, a malformed or unreadable file.
pub const INPUT: i32 = 3;
/// The database could not be used: not ours, newer schema, unreadable.
pub const DATABASE: i32 = 4;
/// The named thing (a dataset) does not exist.
pub const NOT_FOUND: i32 = 5;
/// The request conflicts with the current state (an active dataset, a running training).
pub const CONFLICT: i32 = 6;
/// Interrupted (Ctrl-C) or cancelled; nothing was changed.
pub const CANCELLED: i32 = 130;

/// A failed command: its message and its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Bad arguments that clap could not catch.
    #[error("{0}")]
    Usage(String),
    /// An import failure.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A dataset operation was refused.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// Analysis could not start.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// Settings were refused.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A training could not start.
    #[error(transparent)]
    Training(#[from] TrainingError),
    /// A training ran and failed (recorded as FAILURE).
    #[error("training failed ({code}): {details}")]
    TrainingFailed {
        /// The stored error code.
        code: String,
        /// The stored error details.
        details: String,
    },
    /// Scoring failed.
    #[error(transparent)]
    Scoring(#[from] ScoringError),
    /// Writing an output file failed.
    #[error("{0}")]
    Output(String),
    /// An account, client or token operation was refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The TLS material could not be made or written.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The REST listener could not start.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// An alert, investigation or policy change was refused.
    #[error(transparent)]
    Response(#[from] ResponseError),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn code(&self) -> i32 {
        match self {
            Failure::Usage(_) => USAGE,
            Failure::Ingest(IngestError::Cancelled) => CANCELLED,
            Failure::Ingest(IngestError::Store(_)) | Failure::Store(_) => DATABASE,
            Failure::Ingest(_) => INPUT,
            Failure::Output(_) => INTERNAL,
            Failure::Dataset(DatasetError::NotFound(_)) => NOT_FOUND,
            Failure::Dataset(DatasetError::Active(_)) => CONFLICT,
            Failure::Dataset(DatasetError::Invalid { .. })
            | Failure::Settings(SettingsError::Invalid { .. }) => INPUT,
            Failure::Dataset(DatasetError::Store(_))
            | Failure::Settings(SettingsError::Store(_))
            | Failure::Analysis(AnalysisError::Store(_)) => DATABASE,
            Failure::Analysis(AnalysisError::NotFound(_)) => NOT_FOUND,
            Failure::Analysis(_) => CONFLICT,
            Failure::Training(TrainingError::NotFound(_)) => NOT_FOUND,
            Failure::Training(TrainingError::AlreadyRunning(_)) => CONFLICT,
            Failure::Training(TrainingError::Store(_)) => DATABASE,
            Failure::Training(TrainingError::Spawn(_)) => INTERNAL,
            Failure::TrainingFailed { code, .. } => match code.as_str() {
                "CANCELLED" => CANCELLED,
                "NOT_ENOUGH_DATA" | "INVALID_CONFIG" => INPUT,
                "DATASET_CHANGED" => CONFLICT,
                _ => INTERNAL,
            },
            Failure::Scoring(ScoringError::NotFound(_)) => NOT_FOUND,
            Failure::Scoring(ScoringError::NotTrained(_) | ScoringError::NotAnalyzing) => CONFLICT,
            Failure::Scoring(ScoringError::Input(_)) => INPUT,
            Failure::Scoring(ScoringError::Output { .. }) => INTERNAL,
            Failure::Scoring(ScoringError::BadWeights { .. } | ScoringError::Store(_)) => DATABASE,
            // Raising alerts or applying policies while scoring: only the database can fail.
            Failure::Scoring(ScoringError::Response(_)) => DATABASE,
            Failure::Auth(AuthError::Invalid { .. }) => INPUT,
            Failure::Auth(AuthError::Duplicate { .. }) => CONFLICT,
            Failure::Auth(AuthError::NotFound { .. }) => NOT_FOUND,
            Failure::Auth(AuthError::Store(_)) | Failure::Tls(TlsError::Store(_)) => DATABASE,
            Failure::Auth(_) | Failure::Tls(_) | Failure::Listen(_) => INTERNAL,
            Failure::Response(ResponseError::NotFound { .. }) => NOT_FOUND,
            Failure::Response(ResponseError::Invalid { .. }) => INPUT,
            Failure::Response(ResponseError::Conflict(_)) => CONFLICT,
            Failure::Response(ResponseError::Store(_)) => DATABASE,
        }
    }
}
