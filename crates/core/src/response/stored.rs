//! What the response objects stored whole as JSON (policies, workflows and their runs, lists,
//! tokens) share: reading them back and changing some of their fields.

use rusqlite::OptionalExtension;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ResponseError;

/// A stored body that no longer reads (written by a newer version, or damaged).
fn unreadable(what: &str, e: serde_json::Error) -> ResponseError {
    ResponseError::Conflict(format!("stored {what} is unreadable: {e}"))
}

/// The object whose JSON body `sql` selects for `key`, if any.
pub(crate) fn one<T: DeserializeOwned>(
    c: &rusqlite::Connection,
    sql: &str,
    key: &str,
) -> Result<Option<T>, ResponseError> {
    let body: Option<String> = c
        .prepare_cached(sql)?
        .query_row([key], |r| r.get(0))
        .optional()?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| unreadable(key, e)))
        .transpose()
}

/// Every object whose JSON body `sql` selects (the first column), in its order.
pub(crate) fn all<T: DeserializeOwned>(
    c: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>, ResponseError> {
    let mut stmt = c.prepare_cached(sql)?;
    let bodies = stmt
        .query_map(params, |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies
        .iter()
        .map(|b| serde_json::from_str(b).map_err(|e| unreadable("object", e)))
        .collect()
}

/// `before` with the fields of `set` replaced and those named in `delete` reset to their
/// default; the `kept` fields (identity, times, authors) never change. Unknown fields and wrong
/// types are refused as `field` (e.g. `policy`).
pub(crate) fn merged<T: Serialize + DeserializeOwned>(
    before: &T,
    set: &serde_json::Map<String, serde_json::Value>,
    delete: &[String],
    kept: &[&str],
    field: &str,
) -> Result<T, ResponseError> {
    let invalid = |reason: String| ResponseError::Invalid {
        field: field.to_owned(),
        reason,
    };
    let mut fields = match serde_json::to_value(before) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for name in delete {
        if kept.contains(&name.as_str()) {
            return Err(ResponseError::Invalid {
                field: "attributes_to_delete".into(),
                reason: format!("{name} cannot be deleted"),
            });
        }
        if fields.remove(name).is_none() {
            return Err(ResponseError::Invalid {
                field: "attributes_to_delete".into(),
                reason: format!("{name} is not a field of the {field}"),
            });
        }
    }
    for (name, value) in set {
        if !kept.contains(&name.as_str()) {
            fields.insert(name.clone(), value.clone());
        }
    }
    // The error names the field that does not fit (`policy.priority`), not just the object.
    serde_path_to_error::deserialize(serde_json::Value::Object(fields)).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        if path.is_empty() || path == "." {
            invalid(reason)
        } else {
            ResponseError::Invalid {
                field: format!("{field}.{path}"),
                reason,
            }
        }
    })
}
