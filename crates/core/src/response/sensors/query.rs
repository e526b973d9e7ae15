//! `POST /rest/sensors/query`: field filters, sorting and pages over the fleet. The same
//! filters select the sensors of an action.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::{all_on, invalid, sync, Sensor};
use crate::response::ResponseError;
use crate::Store;

/// The page size when none is given, and the largest one allowed.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 10_000;

/// The operators a filter may use.
pub const OPERATORS: &[&str] = &[
    "Equals",
    "NotEquals",
    "ContainsIgnoreCase",
    "NotContainsIgnoreCase",
    "StartsWith",
    "GreaterThan",
    "GreaterOrEqualsTo",
    "LessThan",
    "LessOrEqualsTo",
];

/// One condition on a sensor field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[ts(export)]
pub struct FieldFilter {
    /// A sensor field, e.g. `machineName`, `status`, `isolated`.
    pub field_name: String,
    /// One of [`OPERATORS`].
    pub operator: String,
    /// Equals matches any of them, NotEquals none; comparisons use the first.
    #[ts(type = "Array<string | number | boolean>")]
    #[schema(value_type = Vec<Object>)]
    pub values: Vec<Value>,
}

/// The body of a sensor query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[ts(export)]
pub struct SensorQuery {
    /// Sensors per page (default 50).
    pub limit: u32,
    /// The page number, from 0, as the vendor's clients count it.
    pub offset: u32,
    /// The field to sort by (default `machineName`).
    pub sorting_field_name: String,
    /// `ASC` (default) or `DESC`.
    pub sort_direction: String,
    /// Conditions that must all hold.
    pub filters: Vec<FieldFilter>,
}

impl Default for SensorQuery {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            sorting_field_name: String::new(),
            sort_direction: String::new(),
            filters: Vec::new(),
        }
    }
}

/// The answer of a sensor query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SensorQueryResult {
    /// The page.
    pub sensors: Vec<Sensor>,
    /// How many sensors match in all.
    pub total_results: u64,
    /// Whether later pages hold more.
    pub has_more_results: bool,
}

/// The text a value is compared as (strings as they are, other JSON values as written).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => text(a).to_lowercase().cmp(&text(b).to_lowercase()),
    }
}

/// A number given as a string (`"5"`) compares as a number.
fn numeric(v: &Value) -> Value {
    match v {
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| v.clone()),
        other => other.clone(),
    }
}

fn equal(field: &Value, wanted: &Value) -> bool {
    match (field, wanted) {
        (Value::Bool(b), Value::String(s)) => s.eq_ignore_ascii_case(&b.to_string()),
        (Value::Number(_), _) => compare(field, &numeric(wanted)) == Ordering::Equal,
        _ => text(field) == text(wanted),
    }
}

/// A checked filter: its field, its operator and values.
struct Condition<'a> {
    field: &'a str,
    operator: &'a str,
    values: &'a [Value],
}

impl Condition<'_> {
    fn holds(&self, sensor: &serde_json::Map<String, Value>) -> bool {
        let field = sensor.get(self.field).unwrap_or(&Value::Null);
        let first = self.values.first().map(numeric).unwrap_or(Value::Null);
        let contains = |v: &Value| text(field).to_lowercase().contains(&text(v).to_lowercase());
        match self.operator {
            "Equals" => self.values.iter().any(|v| equal(field, v)),
            "NotEquals" => !self.values.iter().any(|v| equal(field, v)),
            "ContainsIgnoreCase" => self.values.iter().any(contains),
            "NotContainsIgnoreCase" => !self.values.iter().any(contains),
            "StartsWith" => self
                .values
                .iter()
                .any(|v| text(field).starts_with(&text(v))),
            "GreaterThan" => compare(field, &first) == Ordering::Greater,
            "GreaterOrEqualsTo" => compare(field, &first) != Ordering::Less,
            "LessThan" => compare(field, &first) == Ordering::Less,
            "LessOrEqualsTo" => compare(field, &first) != Ordering::Greater,
            _ => false,
        }
    }
}

/// The sensor fields a filter or a sort may name.
fn field_names() -> Vec<String> {
    match serde_json::to_value(Sensor::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn conditions(filters: &[FieldFilter]) -> Result<Vec<Condition<'_>>, ResponseError> {
    let fields = field_names();
    filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if !fields.contains(&f.field_name) {
                return Err(invalid(
                    &format!("filters[{i}].fieldName"),
                    format!(
                        "{:?} is not a sensor field; use one of {}",
                        f.field_name,
                        fields.join(", ")
                    ),
                ));
            }
            if !OPERATORS.contains(&f.operator.as_str()) {
                return Err(invalid(
                    &format!("filters[{i}].operator"),
                    format!("{:?} is not one of {}", f.operator, OPERATORS.join(", ")),
                ));
            }
            if f.values.is_empty() {
                return Err(invalid(
                    &format!("filters[{i}].values"),
                    "give at least one value",
                ));
            }
            Ok(Condition {
                field: &f.field_name,
                operator: &f.operator,
                values: &f.values,
            })
        })
        .collect()
}

/// A sensor's fields by name, as its JSON form has them.
pub(crate) type SensorFields = serde_json::Map<String, Value>;

/// The listed sensors that pass every filter, as (sensor, JSON form), by machine name.
pub(crate) fn matching_on(
    c: &rusqlite::Connection,
    filters: &[FieldFilter],
) -> Result<Vec<(Sensor, SensorFields)>, ResponseError> {
    let conditions = conditions(filters)?;
    Ok(all_on(c)?
        .into_iter()
        .filter(|s| !s.deleted)
        .filter_map(|s| match serde_json::to_value(&s) {
            Ok(Value::Object(m)) => Some((s, m)),
            _ => None,
        })
        .filter(|(_, m)| conditions.iter().all(|k| k.holds(m)))
        .collect())
}

/// One page of the sensors that pass `q.filters`, sorted as asked.
pub fn query(store: &Store, q: &SensorQuery) -> Result<SensorQueryResult, ResponseError> {
    if q.limit == 0 || q.limit > MAX_LIMIT {
        return Err(invalid(
            "limit",
            format!("{} is not between 1 and {MAX_LIMIT}", q.limit),
        ));
    }
    let descending = match q.sort_direction.to_ascii_uppercase().as_str() {
        "" | "ASC" => false,
        "DESC" => true,
        other => {
            return Err(invalid(
                "sortDirection",
                format!("{other:?} is not ASC or DESC"),
            ))
        }
    };
    let sort_by = if q.sorting_field_name.is_empty() {
        "machineName"
    } else {
        q.sorting_field_name.as_str()
    };
    if !field_names().iter().any(|f| f == sort_by) {
        return Err(invalid(
            "sortingFieldName",
            format!("{sort_by:?} is not a sensor field"),
        ));
    }
    super::actions::advance(store)?;
    sync(store)?;
    let mut found = store.read(|c| matching_on(c, &q.filters))?;
    found.sort_by(|(_, a), (_, b)| {
        let order = compare(
            a.get(sort_by).unwrap_or(&Value::Null),
            b.get(sort_by).unwrap_or(&Value::Null),
        );
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = found.len() as u64;
    let start = u64::from(q.offset) * u64::from(q.limit);
    let sensors: Vec<Sensor> = found
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(q.limit as usize)
        .map(|(s, _)| s)
        .collect();
    Ok(SensorQueryResult {
        has_more_results: start + (sensors.len() as u64) < total,
        sensors,
        total_results: total,
    })
}
