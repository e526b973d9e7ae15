//! The UEBA lifecycle of PrivX: datasets (time windows to train on), their training results,
//! anomaly settings and the UEBA configuration.

pub mod analysis;
pub mod datasets;
mod rows;
pub mod scoring;
pub mod settings;
pub mod status;
mod time;
pub mod training;

pub use datasets::{Dataset, DatasetError, DatasetInput, TimeRange, TimeRangeSettings};
pub use settings::{AnomalyAction, AnomalySettings, UebaConfiguration};
