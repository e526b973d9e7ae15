//! Training errors.

/// Why training failed. The `Display` text is meant for the user (it is stored as the
/// training result's error details).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// Fewer connections than `TrainConfig::min_connections`.
    #[error("dataset has {found} connections; training needs at least {required}")]
    TooFewConnections {
        /// Connections in the dataset.
        found: usize,
        /// The configured minimum.
        required: usize,
    },
    /// The progress callback returned `false`.
    #[error("training was cancelled")]
    Cancelled,
    /// A numerical step failed (e.g. an eigendecomposition, or a loss became NaN).
    #[error("numerical failure in {config}: {details}")]
    Numerical {
        /// Feature config (or step) that failed.
        config: String,
        /// What went wrong.
        details: String,
    },
    /// The configuration itself is invalid.
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
}

impl TrainError {
    /// A stable machine-readable code for the error (stored as `error_code`).
    pub fn code(&self) -> &'static str {
        match self {
            TrainError::TooFewConnections { .. } => "NOT_ENOUGH_DATA",
            TrainError::Cancelled => "CANCELLED",
            TrainError::Numerical { .. } => "NUMERICAL_FAILURE",
            TrainError::InvalidConfig(_) => "INVALID_CONFIG",
        }
    }
}
