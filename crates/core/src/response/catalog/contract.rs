//! The Lacework Edge contract this workbench keeps in `spec/lacework/`: every operation's method,
//! path, statuses, query parameters and request/response schemas (`operations.json`), and the
//! vendor's object schemas (`schemas.json`). Both are embedded at build time; requests and
//! stored objects are checked against them with a JSON Schema validator.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, OnceLock};

use serde_json::{Map, Value};

use crate::response::ResponseError;

static OPERATIONS_JSON: &str = include_str!("../../../../../spec/lacework/operations.json");
static SCHEMAS_JSON: &str = include_str!("../../../../../spec/lacework/schemas.json");

/// One documented operation.
#[derive(Debug)]
pub struct Operation {
    /// Route id (`003-001`, `X-10`).
    pub id: String,
    /// The vendor's title.
    pub title: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path with `{param}` placeholders.
    pub path: String,
    /// Status of a success.
    pub success_status: u16,
    /// Documented query parameters, by name.
    pub query_params: BTreeMap<String, Value>,
    /// The request body's schema (self-contained: its `$defs` are included), if it takes one.
    pub request_schema: Option<Value>,
    /// The success body's schema (self-contained), if documented.
    pub response_schema: Option<Value>,
    request: Option<jsonschema::Validator>,
    response: OnceLock<Option<jsonschema::Validator>>,
}

impl Operation {
    /// Checks a request body against the documented schema; the error names the first field
    /// that is wrong (`access.user_list[0]`).
    pub fn check_request(&self, body: &Value) -> Result<(), ResponseError> {
        match &self.request {
            Some(validator) => check(validator, body, ""),
            None => Ok(()),
        }
    }

    /// Checks an answer against the documented success schema (tests and self-checks; the
    /// validator is compiled on first use).
    pub fn check_answer(&self, answer: &Value) -> Result<(), ResponseError> {
        let validator = self.response.get_or_init(|| {
            self.response_schema
                .as_ref()
                .and_then(|s| jsonschema::validator_for(s).ok())
        });
        match validator {
            Some(validator) => check(validator, answer, "answer"),
            None => Ok(()),
        }
    }
}

/// The vendor's object schemas and every operation, parsed once.
struct Contract {
    defs: Map<String, Value>,
    operations: HashMap<String, Operation>,
    /// One validator per object schema, compiled on first use.
    objects: HashMap<String, OnceLock<Option<jsonschema::Validator>>>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let schemas: Value = serde_json::from_str(SCHEMAS_JSON).unwrap_or(Value::Null);
    let defs = schemas
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let operations: Map<String, Value> = serde_json::from_str(OPERATIONS_JSON).unwrap_or_default();
    let operations = operations
        .into_iter()
        .filter(|(id, _)| !id.starts_with('$'))
        .map(|(id, op)| {
            let text = |k: &str| op.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let request_schema = self_contained(op.get("request_schema"), &defs);
            let response_schema = self_contained(op.get("response_schema"), &defs);
            let operation = Operation {
                id: id.clone(),
                title: text("operation"),
                method: text("method"),
                path: text("path"),
                success_status: op
                    .get("success_status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(200),
                query_params: op
                    .get("query_params")
                    .and_then(Value::as_object)
                    .map(|m| m.clone().into_iter().collect())
                    .unwrap_or_default(),
                request: request_schema
                    .as_ref()
                    .and_then(|s| jsonschema::validator_for(s).ok()),
                request_schema,
                response_schema,
                response: OnceLock::new(),
            };
            (id, operation)
        })
        .collect();
    let objects = defs
        .keys()
        .map(|name| (name.clone(), OnceLock::new()))
        .collect();
    Contract {
        defs,
        operations,
        objects,
    }
});

/// `schema` (an inline schema, or a definition's name) with the vendor's `$defs` attached.
fn self_contained(schema: Option<&Value>, defs: &Map<String, Value>) -> Option<Value> {
    let mut schema = match schema? {
        Value::String(name) => serde_json::json!({ "$ref": format!("#/$defs/{name}") }),
        Value::Object(o) => Value::Object(o.clone()),
        _ => return None,
    };
    if let Value::Object(o) = &mut schema {
        o.insert("$defs".into(), Value::Object(defs.clone()));
    }
    Some(schema)
}

/// The operation with this route id.
pub fn operation(id: &str) -> Option<&'static Operation> {
    CONTRACT.operations.get(id)
}

/// Every documented operation, by route id.
pub fn operations() -> impl Iterator<Item = &'static Operation> {
    CONTRACT.operations.values()
}

/// The operation a request for `method` and a concrete `path` matches (`{param}` segments
/// match any one segment; a literal segment wins over a parameter, as in the router).
pub fn route_for(method: &str, path: &str) -> Option<&'static Operation> {
    let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    CONTRACT
        .operations
        .values()
        .filter(|op| op.method.eq_ignore_ascii_case(method))
        .filter_map(|op| {
            let pattern: Vec<&str> = op.path.split('/').collect();
            if pattern.len() != wanted.len() {
                return None;
            }
            let mut literal = 0;
            for (p, w) in pattern.iter().zip(&wanted) {
                if p.starts_with('{') {
                    continue;
                }
                if p != w {
                    return None;
                }
                literal += 1;
            }
            Some((literal, op))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, op)| op)
}

/// The vendor's object schemas (`$defs`), by name.
pub fn definitions() -> &'static Map<String, Value> {
    &CONTRACT.defs
}

/// The property names of an object schema.
pub fn properties(schema: &str) -> Vec<&'static str> {
    CONTRACT
        .defs
        .get(schema)
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The schema of one property of an object schema.
pub fn property(schema: &str, name: &str) -> Option<&'static Value> {
    CONTRACT.defs.get(schema)?.get("properties")?.get(name)
}

/// Checks an object against a vendor object schema (`Access`, `proto.App`); the error names the
/// first field that is wrong, under `prefix`.
pub fn check_object(schema: &str, object: &Value, prefix: &str) -> Result<(), ResponseError> {
    let unusable =
        || ResponseError::Conflict(format!("the contract has no usable schema {schema}"));
    let validator = CONTRACT
        .objects
        .get(schema)
        .ok_or_else(unusable)?
        .get_or_init(|| {
            self_contained(Some(&Value::String(schema.to_owned())), &CONTRACT.defs)
                .and_then(|full| jsonschema::validator_for(&full).ok())
        })
        .as_ref()
        .ok_or_else(unusable)?;
    check(validator, object, prefix)
}

fn check(
    validator: &jsonschema::Validator,
    value: &Value,
    prefix: &str,
) -> Result<(), ResponseError> {
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(error) => {
            let pointer = error.instance_path().to_string();
            Err(ResponseError::Invalid {
                field: field_name(prefix, &pointer),
                reason: error.to_string(),
            })
        }
    }
}

/// `/access/user_list/0` under `prefix` as `prefix.access.user_list[0]` (`body` when empty).
fn field_name(prefix: &str, pointer: &str) -> String {
    let mut out = prefix.to_owned();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    if out.is_empty() {
        "body".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_and_schema_compiles() {
        assert!(operations().count() >= 108);
        for op in operations() {
            if op.request_schema.is_some() {
                assert!(
                    op.request.is_some(),
                    "{} request schema does not compile",
                    op.id
                );
            }
        }
        for name in definitions().keys() {
            check_object(name, &serde_json::json!({}), "").unwrap_or_else(|e| {
                if let ResponseError::Conflict(m) = e {
                    panic!("{m}")
                }
            });
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_name("", "/access/user_list/0"), "access.user_list[0]");
        assert_eq!(field_name("app", ""), "app");
        assert_eq!(field_name("", ""), "body");
        let err = check_object("Access", &serde_json::json!({"user_list": [5]}), "access");
        match err {
            Err(ResponseError::Invalid { field, .. }) => assert_eq!(field, "access.user_list[0]"),
            other => panic!("{other:?}"),
        }
    }
}
