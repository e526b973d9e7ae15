//! Anomaly settings (`{action, threshold}`) and the UEBA configuration (`{address, trust_anchors}`),
//! kept in the `settings` table.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::{Store, StoreError};

/// What happens to a connection whose score crosses the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[ts(export)]
pub enum AnomalyAction {
    /// Record an anomaly (and an alert).
    Audit,
    /// Record it and mark the connection blocked.
    Block,
}

/// PrivX `AnomalySettings`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct AnomalySettings {
    /// BLOCK or AUDIT.
    pub action: AnomalyAction,
    /// 0.0 (loose) to 1.0 (strict): the expected flag rate on normal traffic is
    /// `10^(-3 + 2 * threshold)`.
    pub threshold: f64,
}

impl Default for AnomalySettings {
    fn default() -> Self {
        Self {
            action: AnomalyAction::Audit,
            threshold: 0.5,
        }
    }
}

impl AnomalySettings {
    /// The expected share of normal connections flagged at this threshold: 0.1 % at 0, 1 % at
    /// 0.5, 10 % at 1.
    pub fn expected_flag_rate(&self) -> f64 {
        10f64.powf(-3.0 + 2.0 * self.threshold)
    }
}

/// PrivX `UebaConfigurations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct UebaConfiguration {
    /// Address of the UEBA server.
    #[serde(default)]
    pub address: Option<String>,
    /// Trust anchors (PEM) for the UEBA server certificate.
    #[serde(default)]
    pub trust_anchors: Option<String>,
}

/// Why settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value is out of range.
    #[error("{property}: {reason}")]
    Invalid {
        /// The property at fault.
        property: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const ANOMALY_KEY: &str = "anomaly_settings";
const CONFIGURATION_KEY: &str = "ueba_configuration";

fn load<T: serde::de::DeserializeOwned + Default>(
    store: &Store,
    key: &str,
) -> Result<T, StoreError> {
    Ok(store
        .setting(key)?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

fn save<T: Serialize>(store: &Store, key: &str, value: &T) -> Result<(), StoreError> {
    let text = serde_json::to_string(value).unwrap_or_default();
    store.set_setting(key, &text)
}

/// The current anomaly settings (AUDIT at 0.5 until saved).
pub fn anomaly_settings(store: &Store) -> Result<AnomalySettings, StoreError> {
    load(store, ANOMALY_KEY)
}

/// Saves anomaly settings after checking the threshold is within 0.0–1.0.
pub fn save_anomaly_settings(
    store: &Store,
    settings: &AnomalySettings,
) -> Result<(), SettingsError> {
    if !(0.0..=1.0).contains(&settings.threshold) {
        return Err(SettingsError::Invalid {
            property: "threshold",
            reason: format!("must be between 0.0 and 1.0, got {}", settings.threshold),
        });
    }
    Ok(save(store, ANOMALY_KEY, settings)?)
}

/// The stored UEBA configuration.
pub fn configuration(store: &Store) -> Result<UebaConfiguration, StoreError> {
    load(store, CONFIGURATION_KEY)
}

/// Stores the UEBA configuration.
pub fn save_configuration(
    store: &Store,
    configuration: &UebaConfiguration,
) -> Result<(), StoreError> {
    save(store, CONFIGURATION_KEY, configuration)
}
