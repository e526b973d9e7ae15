//! Timestamps on the wire: RFC 3339 strings (as PrivX writes them), epoch milliseconds inside.

use serde::{Deserialize, Deserializer, Serializer};

use crate::ingest::parse_datetime;
use crate::model::format_timestamp;

/// (De)serialises `Option<i64>` epoch milliseconds as an RFC 3339 string (numbers are accepted
/// too when reading).
pub mod optional {
    use super::*;

    /// Writes the timestamp as RFC 3339, or `null`.
    pub fn serialize<S: Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(ms) => s.serialize_str(&format_timestamp(*ms)),
            None => s.serialize_none(),
        }
    }

    /// Reads an RFC 3339 string or epoch milliseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Number(ms)) => Ok(Some(ms)),
            Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
            Some(Raw::Text(t)) => parse_datetime(t.trim()).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("`{t}` is not an RFC 3339 date-time"))
            }),
        }
    }
}
