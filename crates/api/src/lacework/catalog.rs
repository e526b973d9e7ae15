//! The Lacework Edge long tail over HTTP: one route per documented operation of every kind in
//! `ueba_core::response::catalog::KINDS`, built from that table and the contract
//! (`spec/lacework/operations.json`), with one generic handler. Reading needs a role that may
//! read alerts; every change needs an admin.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter};
use serde_json::{json, Map, Value};
use ueba_core::response::catalog::{self, contract, contract::Operation, Input, Kind, Op, KINDS};

use super::auth::{admit, ManagePolicies, Permission, ReadAlerts};
use super::error::LaceworkError;
use super::extract::LwQuery;
use crate::privx::run_blocking;
use crate::state::ApiState;

/// One served operation.
pub struct Served {
    /// Its kind.
    pub kind: &'static Kind,
    /// What it does.
    pub op: Op,
    /// The contract's entry.
    pub operation: &'static Operation,
}

/// Every long-tail operation this listener serves, from [`KINDS`].
pub static SERVED: LazyLock<Vec<Served>> = LazyLock::new(|| {
    KINDS
        .iter()
        .flat_map(|kind| {
            kind.routes.iter().filter_map(move |(id, op)| {
                contract::operation(id).map(|operation| Served {
                    kind,
                    op: *op,
                    operation,
                })
            })
        })
        .collect()
});

fn method_filter(method: &str) -> MethodFilter {
    match method {
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "DELETE" => MethodFilter::DELETE,
        _ => MethodFilter::GET,
    }
}

/// The routes, one method router per path.
pub fn routes() -> Vec<(&'static str, MethodRouter<ApiState>)> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<ApiState>> = BTreeMap::new();
    for served in SERVED.iter() {
        let handler = move |State(state): State<ApiState>, request: Request| async move {
            match serve(served, state, request).await {
                Ok((status, body)) => (status, axum::Json(body)).into_response(),
                Err(e) => e.into_response(),
            }
        };
        let path = served.operation.path.as_str();
        let router = by_path.remove(path).unwrap_or_default();
        by_path.insert(
            path,
            router.on(method_filter(&served.operation.method), handler),
        );
    }
    by_path.into_iter().collect()
}

async fn serve(
    served: &'static Served,
    state: ApiState,
    request: Request,
) -> Result<(StatusCode, Value), LaceworkError> {
    let operation = served.operation;
    let reading = operation.method == "GET";
    let (roles, what) = if reading {
        (
            ReadAlerts::ROLES,
            format!("reading {}", served.kind.name.replace('_', " ")),
        )
    } else {
        (
            ManagePolicies::ROLES,
            format!("changing {}", served.kind.name.replace('_', " ")),
        )
    };
    let (mut parts, body) = request.into_parts();
    let (actor, _) = admit(&parts, &state, roles, &what)?;
    let Path(params): Path<HashMap<String, String>> = Path::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| LaceworkError::bad_request(e.body_text()))?;
    let LwQuery(query): LwQuery<BTreeMap<String, String>> =
        LwQuery::from_request_parts(&mut parts, &state).await?;
    let bytes = Bytes::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| LaceworkError::new(e.status(), e.body_text()))?;
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        if !reading && operation.request_schema.is_some() {
            return Err(LaceworkError::bad_request(
                "body: a JSON object is required (see /openapi.json for its fields)",
            ));
        }
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| LaceworkError::bad_request(format!("body: not valid JSON: {e}")))?,
        )
    };
    let input = Input {
        route: operation.id.as_str(),
        key: params.into_values().next(),
        query,
        body,
    };
    let (kind, op) = (served.kind, served.op);
    let answer = run_blocking(&state.store, move |s| {
        catalog::call(s, &actor, kind, op, &input).map_err(LaceworkError::from)
    })
    .await?;
    let status = StatusCode::from_u16(operation.success_status).unwrap_or(StatusCode::OK);
    Ok((status, answer))
}

/// Rewrites the contract's `#/$defs/X` references to OpenAPI components `lw.X`.
fn to_components(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "$defs")
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => {
                            Value::String(r.replace("#/$defs/", "#/components/schemas/lw."))
                        }
                        _ => to_components(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(to_components).collect()),
        other => other.clone(),
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}},
    })
}

/// The OpenAPI paths and components of the long tail, as JSON.
pub fn openapi_parts() -> (Map<String, Value>, Map<String, Value>) {
    let mut paths: Map<String, Value> = Map::new();
    for served in SERVED.iter() {
        let op = served.operation;
        let mut parameters: Vec<Value> = Vec::new();
        for segment in op.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                parameters.push(json!({
                    "name": name, "in": "path", "required": true,
                    "schema": {"type": "string", "minLength": 1},
                }));
            }
        }
        for (name, param) in &op.query_params {
            parameters.push(json!({
                "name": name, "in": "query",
                "required": name == "start_time" || name == "end_time",
                "description": param.get("description").cloned().unwrap_or_default(),
                "schema": {"type": param.get("type").cloned().unwrap_or(json!("string"))},
            }));
        }
        let answer = op
            .response_schema
            .as_ref()
            .map(to_components)
            .unwrap_or_else(|| json!({"type": "object"}));
        let mut operation = json!({
            "tags": ["lacework-catalog"],
            "summary": op.title,
            "operationId": format!("lacework_{}", op.id.replace('-', "_")),
            "parameters": parameters,
            "responses": {
                op.success_status.to_string(): {
                    "description": op.title,
                    "content": {"application/json": {"schema": answer}},
                },
                "400": error_response("A bad parameter or body (the message names the field)"),
                "401": error_response("Missing or invalid token"),
                "403": error_response("The token's role may not do this"),
                "404": error_response("No such object"),
                "500": error_response("Database error"),
            },
            "security": [{"bearer": []}],
        });
        if op.method != "GET" {
            operation["responses"]["409"] =
                error_response("The object changed since it was read (a stale record_update_time)");
        }
        if let (Some(schema), false) = (&op.request_schema, op.method == "GET") {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": to_components(schema)}},
            });
        }
        let item = paths
            .entry(op.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        item[op.method.to_lowercase()] = operation;
    }
    let components = contract::definitions()
        .iter()
        .map(|(name, schema)| (format!("lw.{name}"), to_components(schema)))
        .collect();
    (paths, components)
}
