//! The Lacework Edge long tail: accesses, apps, cards, connectors, devices, groups, users and the
//! rest. Every kind is one row of [`KINDS`] (its schema, key, list field, secrets, filters and
//! the documented operations it serves); one generic store keeps the objects as JSON, checked
//! against the vendor's schema before they are written, and audited in the same transaction.
//! The few operations that are not plain create/read/update are functions in [`actions`].
//!
//! The REST listener builds its routes from the same table, and the CLI reads and writes
//! through it, so there is one definition for every door.

pub mod actions;
pub mod contract;
pub mod directory;

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::audit::{self, Actor, Change};
use super::{now_ms, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// What a documented operation does with its kind.
#[derive(Clone, Copy)]
pub enum Op {
    /// Query: every object, filtered by the kind's [`Filter`]s.
    List,
    /// Create from the request body.
    Create,
    /// Read one by its key.
    Get,
    /// Change some fields (`attributes_to_delete` resets others).
    Update,
    /// Anything else.
    Action(actions::Action),
}

/// How a query parameter filters a list.
#[derive(Debug, Clone, Copy)]
pub enum Match {
    /// The field equals the value (numbers compared as text).
    Equals,
    /// The field (an array) contains the value.
    Contains,
    /// The field equals one of the comma-separated values.
    AnyOf,
    /// Any comma-separated value is in the field (an array).
    ContainsAnyOf,
    /// The field starts with the value.
    Prefix,
}

/// A query parameter that filters a list.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// The query parameter.
    pub param: &'static str,
    /// The object field it tests.
    pub field: &'static str,
    /// How.
    pub how: Match,
}

const fn filter(param: &'static str, field: &'static str, how: Match) -> Filter {
    Filter { param, field, how }
}

/// One resource kind of the long tail.
pub struct Kind {
    /// Its name: the audit trail's object type and the CLI's argument (`access`).
    pub name: &'static str,
    /// The vendor's object schema (`Access`).
    pub schema: &'static str,
    /// The field that identifies an object: `uuid` is made by this workbench; any other
    /// (`name`, `key`) is given by the caller and must be unique.
    pub key: &'static str,
    /// The array field of the query answer (`accesses`).
    pub list_field: &'static str,
    /// Whether its objects live in the store. The account, onboarding, countries, QS views and
    /// connector deployments are computed or kept elsewhere, so `put` refuses them.
    pub stored: bool,
    /// Fields holding secrets: stored as SHA-256, answered blank.
    pub secrets: &'static [&'static str],
    /// Query parameters that filter the list.
    pub filters: &'static [Filter],
    /// The documented operations it serves: (route id, what it does).
    pub routes: &'static [(&'static str, Op)],
}

use Match::*;
use Op::*;

/// Every kind of the long tail.
pub static KINDS: &[Kind] = &[
    Kind {
        name: "access",
        schema: "Access",
        key: "uuid",
        list_field: "accesses",
        stored: true,
        secrets: &[],
        filters: &[
            filter("appid", "app_list", Contains),
            filter("userid", "user_list", Contains),
        ],
        routes: &[
            ("003-001", List),
            ("003-002", Update),
            ("003-003", Create),
            ("003-004", Get),
        ],
    },
    Kind {
        name: "account",
        schema: "Account",
        key: "name",
        list_field: "accounts",
        stored: false,
        secrets: &[],
        filters: &[],
        routes: &[("003-005", Action(actions::account))],
    },
    Kind {
        name: "alert_config",
        schema: "AlertConfig",
        key: "uuid",
        list_field: "configs",
        stored: true,
        secrets: &[],
        filters: &[filter("status", "status", Equals)],
        routes: &[("003-006", List), ("003-007", Create), ("003-008", Get)],
    },
    Kind {
        name: "app_control_policy",
        schema: "AppControlPolicy",
        key: "uuid",
        list_field: "app_control_policies",
        stored: true,
        secrets: &[],
        filters: &[filter("status", "status", Equals)],
        routes: &[
            ("003-015", List),
            ("003-016", Get),
            ("003-017", Update),
            ("003-018", Create),
        ],
    },
    Kind {
        name: "app",
        schema: "proto.App",
        key: "uuid",
        list_field: "apps",
        stored: true,
        secrets: &[],
        filters: &[
            filter("tag", "tags", Contains),
            filter("status", "status", Equals),
            filter("datasource", "data_source", AnyOf),
        ],
        routes: &[
            ("003-019", List),
            ("003-020", Create),
            ("003-021", Get),
            ("003-022", Action(actions::deploy_app)),
        ],
    },
    Kind {
        name: "blob",
        schema: "Blob",
        key: "key",
        list_field: "blobs",
        stored: true,
        secrets: &[],
        filters: &[filter("prefix", "key", Prefix)],
        routes: &[("003-025", List), ("003-026", Create), ("003-027", Get)],
    },
    Kind {
        name: "ca_certificate",
        schema: "CaCertificate",
        key: "uuid",
        list_field: "certificates",
        stored: true,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-028", List),
            ("003-029", Create),
            ("003-030", Get),
            ("003-031", Update),
        ],
    },
    Kind {
        name: "card",
        schema: "proto.Card",
        key: "uuid",
        list_field: "cards",
        stored: true,
        secrets: &[],
        filters: &[],
        routes: &[("003-032", List), ("003-033", Create), ("003-034", Get)],
    },
    Kind {
        name: "notification_channel",
        schema: "NotificationChannel",
        key: "uuid",
        list_field: "channels",
        stored: true,
        secrets: &[],
        filters: &[filter("status", "status", Equals)],
        routes: &[("003-035", List), ("003-036", Create), ("003-037", Get)],
    },
    Kind {
        name: "client_config",
        schema: "ClientConfig",
        key: "uuid",
        list_field: "client_configs",
        stored: true,
        secrets: &["guest_user_api_token"],
        filters: &[],
        routes: &[
            ("003-038", Get),
            ("003-039", Create),
            ("003-040", Get),
            ("003-041", Update),
        ],
    },
    Kind {
        name: "connector",
        schema: "Connector",
        key: "name",
        list_field: "connectors",
        stored: true,
        secrets: &["access_token", "secret_hash"],
        filters: &[],
        routes: &[("003-042", List), ("003-043", Create), ("003-044", Get)],
    },
    Kind {
        name: "country",
        schema: "GeoData",
        key: "country_code",
        list_field: "countries",
        stored: false,
        secrets: &[],
        filters: &[],
        routes: &[("003-045", Action(actions::countries))],
    },
    Kind {
        name: "dashboard",
        schema: "proto.Dashboard",
        key: "uuid",
        list_field: "dashboards",
        stored: true,
        secrets: &[],
        filters: &[
            filter("tag", "tags", Contains),
            filter("status", "status", Equals),
            filter("datasource", "data_source", AnyOf),
        ],
        routes: &[("003-046", List), ("003-047", Create), ("003-048", Get)],
    },
    Kind {
        name: "data_export",
        schema: "DataExportConfig",
        key: "uuid",
        list_field: "data_export_configs",
        stored: true,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-049", List),
            ("003-050", Create),
            ("003-051", Update),
            ("003-052", Action(actions::s3_bucket_policy)),
            ("003-053", Action(actions::validate_data_export)),
        ],
    },
    Kind {
        name: "connector_deployment",
        schema: "Connector",
        key: "uuid",
        list_field: "connector_deployments",
        stored: false,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-057", Action(actions::deploy_connector)),
            ("003-058", Action(actions::deployment_options)),
        ],
    },
    Kind {
        name: "device",
        schema: "proto.Device",
        key: "uuid",
        list_field: "devices",
        stored: true,
        secrets: &["private_key_encrypted"],
        filters: &[],
        routes: &[
            ("003-059", Action(actions::delete_devices)),
            ("003-060", Create),
            ("003-061", Get),
        ],
    },
    Kind {
        name: "document",
        schema: "DocumentMetadata",
        key: "identity.id",
        list_field: "documents",
        stored: true,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-062", Get),
            ("003-063", Action(actions::revoke_access)),
            ("003-064", Action(actions::revoke_sharing)),
        ],
    },
    Kind {
        name: "gateway",
        schema: "Gateway",
        key: "name",
        list_field: "gateways",
        stored: true,
        secrets: &["key", "secret"],
        filters: &[],
        routes: &[("003-065", Action(actions::gateways))],
    },
    Kind {
        name: "group",
        schema: "Group",
        key: "uuid",
        list_field: "groups",
        stored: true,
        secrets: &[],
        filters: &[
            filter("status", "status", Equals),
            filter("datasource", "data_source", AnyOf),
        ],
        routes: &[
            ("003-066", List),
            ("003-067", Get),
            ("003-068", Update),
            ("X-10", Create),
            ("003-089", Action(directory::users_of_group)),
        ],
    },
    Kind {
        name: "integration",
        schema: "Integration",
        key: "uuid",
        list_field: "integrations",
        stored: true,
        secrets: &["credentials", "encrypted_credentials"],
        filters: &[filter("data_source", "data_source", Equals)],
        routes: &[
            ("003-069", Create),
            ("003-070", List),
            ("003-071", Update),
            ("003-072", Action(actions::validate_integration)),
        ],
    },
    Kind {
        name: "onboarding",
        schema: "proto.AccountOnboarding",
        key: "account",
        list_field: "onboarding",
        stored: false,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-074", Action(actions::onboarding)),
            ("003-075", Action(actions::update_onboarding)),
        ],
    },
    Kind {
        name: "posture_attribute",
        schema: "PostureAttribute",
        key: "uuid",
        list_field: "posture_attributes",
        stored: true,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-080", List),
            ("003-081", Create),
            ("003-082", Get),
            ("003-083", Update),
        ],
    },
    Kind {
        name: "posture_profile",
        schema: "PostureProfile",
        key: "uuid",
        list_field: "posture_profiles",
        stored: true,
        secrets: &[],
        filters: &[],
        routes: &[
            ("003-084", List),
            ("003-085", Create),
            ("003-086", Get),
            ("003-087", Update),
        ],
    },
    Kind {
        name: "qs_view",
        schema: "",
        key: "view",
        list_field: "rows",
        stored: false,
        secrets: &[],
        filters: &[],
        routes: &[("003-088", Action(actions::qs_view))],
    },
    Kind {
        name: "user",
        schema: "proto.User",
        key: "uuid",
        list_field: "users",
        stored: true,
        secrets: &["mfa_encrypted_secret"],
        filters: &[
            filter("tag", "tags", ContainsAnyOf),
            filter("status", "status", Equals),
            filter("datasource", "data_source", AnyOf),
        ],
        routes: &[
            ("003-095", List),
            ("003-096", Create),
            ("003-097", Get),
            ("003-098", Update),
            ("003-099", Action(directory::devices_of_user)),
        ],
    },
];

/// The kind with this name.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The kind with this name, which the code itself names (a missing one is a broken table, said
/// as an error rather than a panic).
pub(crate) fn kind_named(name: &str) -> Result<&'static Kind, ResponseError> {
    kind(name).ok_or_else(|| ResponseError::Conflict(format!("the catalog has no kind {name}")))
}

/// What one call of an operation gives: the path's key, the query and the body.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The route id.
    pub route: &'static str,
    /// The path parameter (`{uuid}`, `{name}`, `{key}`, `{view}`), if any.
    pub key: Option<String>,
    /// Query parameters.
    pub query: BTreeMap<String, String>,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ResponseError {
    ResponseError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn not_found(kind: &Kind, key: &str) -> ResponseError {
    ResponseError::NotFound {
        kind: kind.name,
        id: key.to_owned(),
    }
}

/// Carries out one documented operation of `kind` (see [`Kind::routes`]): checks the query and
/// the body against the contract, then lists, creates, reads, updates or acts. The answer is
/// the success body.
pub fn call(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    op: Op,
    input: &Input,
) -> Result<Value, ResponseError> {
    let operation = contract::operation(input.route)
        .ok_or_else(|| invalid("route", format!("{} is not in the contract", input.route)))?;
    for name in input.query.keys() {
        if !operation.query_params.contains_key(name) {
            let known: Vec<&String> = operation.query_params.keys().collect();
            return Err(invalid(
                name.clone(),
                if known.is_empty() {
                    format!("unknown query parameter; {} takes none", operation.path)
                } else {
                    format!(
                        "unknown query parameter; {} takes {known:?}",
                        operation.path
                    )
                },
            ));
        }
    }
    if let Some(body) = &input.body {
        operation.check_request(body)?;
    }
    let body = || input.body.clone().unwrap_or(Value::Object(Map::new()));
    let key = || {
        input
            .key
            .clone()
            .ok_or_else(|| invalid("path", "this operation needs the object's key in its path"))
    };
    match op {
        List => {
            let objects = list(store, kind, &input.query)?;
            Ok(list_answer(kind, input.route, objects))
        }
        Create => {
            let object = create(store, actor, kind, wrapper(kind, input.route), &body())?;
            Ok(wrap_answer(kind, input.route, object, &body()))
        }
        Get => get(store, kind, &key()?),
        Update => {
            let object = update(
                store,
                actor,
                kind,
                wrapper(kind, input.route),
                &key()?,
                &body(),
            )?;
            Ok(wrap_answer(kind, input.route, object, &body()))
        }
        Action(action) => action(store, actor, kind, input),
    }
}

/// The request field holding the object when the route wraps it (`{"app": {...}}`): the
/// property whose schema is the kind's. Otherwise the object's fields are at the top of the body.
pub fn wrapper(kind: &Kind, route: &str) -> Option<&'static str> {
    let target = format!("#/$defs/{}", kind.schema);
    contract::operation(route)?
        .request_schema
        .as_ref()?
        .get("properties")?
        .as_object()?
        .iter()
        .find(|(_, p)| {
            // A whole-object field the contract marks deprecated (Create Connector's
            // `connector`) is not the wrapper: the individual fields are.
            p.get("$ref").and_then(Value::as_str) == Some(target.as_str())
                && !p
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.starts_with("Deprecated"))
        })
        .map(|(name, _)| name.as_str())
}

/// The query answer: `{<list_field>: [...]}`, plus `account_name` or `continuation_token`
/// where the contract has them.
fn list_answer(kind: &Kind, route: &str, objects: Vec<Value>) -> Value {
    let mut answer = Map::new();
    let props = answer_properties(route);
    if props.iter().any(|p| p == "account_name") {
        answer.insert("account_name".into(), ACCOUNT_NAME.into());
    }
    if props.iter().any(|p| p == "continuation_token") {
        answer.insert("continuation_token".into(), "".into());
    }
    answer.insert(kind.list_field.into(), Value::Array(objects));
    Value::Object(answer)
}

/// The top-level properties of a route's documented answer, when it is an inline object.
fn answer_properties(route: &str) -> Vec<String> {
    contract::operation(route)
        .and_then(|op| op.response_schema.as_ref())
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The answer of a create or update: the object itself, or the object inside the documented
/// envelope (`{user, user_pii}`, `{account_name, attributes_to_delete, group, uuid}`), the
/// other envelope fields taken from the request.
fn wrap_answer(kind: &Kind, route: &str, object: Value, request: &Value) -> Value {
    let props = answer_properties(route);
    let holder = props.iter().find(|p| {
        contract::operation(route)
            .and_then(|op| op.response_schema.as_ref())
            .and_then(|s| s.pointer(&format!("/properties/{p}/$ref")))
            .and_then(Value::as_str)
            == Some(&format!("#/$defs/{}", kind.schema))
    });
    let Some(holder) = holder else {
        return object;
    };
    let mut answer = Map::new();
    for p in &props {
        let value = if p == holder {
            object.clone()
        } else if p == "account_name" {
            ACCOUNT_NAME.into()
        } else if p == "uuid" {
            object.get("uuid").cloned().unwrap_or_default()
        } else if let Some(v) = request.get(p) {
            v.clone()
        } else {
            continue;
        };
        answer.insert(p.clone(), value);
    }
    Value::Object(answer)
}

/// The object's key (`key` may be a dotted path such as `identity.uuid`).
fn key_of(kind: &Kind, object: &Value) -> String {
    let mut v = object;
    for part in kind.key.split('.') {
        match v.get(part) {
            Some(next) => v = next,
            None => return String::new(),
        }
    }
    v.as_str().unwrap_or_default().to_owned()
}

fn set_key(kind: &Kind, object: &mut Value, key: &str) {
    let mut v = object;
    let parts: Vec<&str> = kind.key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = v else { return };
        if i + 1 == parts.len() {
            map.insert((*part).to_owned(), key.into());
            return;
        }
        v = map
            .entry((*part).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The object a create or update body describes: the wrapped object, or the body's fields that
/// belong to the object (a deprecated whole-object field such as Create Connector's
/// `connector` is merged under the individual fields).
fn object_of(
    kind: &Kind,
    wrapper: Option<&str>,
    body: &Value,
) -> Result<Map<String, Value>, ResponseError> {
    if let Some(wrapper) = wrapper {
        return match body.get(wrapper) {
            Some(Value::Object(o)) => Ok(o.clone()),
            Some(_) => Err(invalid(wrapper, "must be an object")),
            None => Err(invalid(wrapper, "required: the object to store")),
        };
    }
    let fields = contract::properties(kind.schema);
    let mut object = Map::new();
    let Some(body) = body.as_object() else {
        return Err(invalid("body", "must be a JSON object"));
    };
    for (name, value) in body {
        if let Value::Object(whole) = value {
            let is_whole = contract::property(kind.schema, name).is_none()
                && whole.keys().all(|k| fields.contains(&k.as_str()));
            if is_whole && name == kind.name {
                for (k, v) in whole {
                    object.entry(k.clone()).or_insert_with(|| v.clone());
                }
                continue;
            }
        }
        if fields.contains(&name.as_str()) && name != "account_name" {
            object.insert(name.clone(), value.clone());
        }
    }
    Ok(object)
}

/// Hashes secret fields (SHA-256, `sha256:` prefix) that are not hashed yet.
fn hash_secrets(kind: &Kind, object: &mut Value) {
    fn hash(v: &mut Value) {
        match v {
            Value::String(s) if !s.is_empty() && !s.starts_with("sha256:") => {
                *s = format!("sha256:{:x}", Sha256::digest(s.as_bytes()));
            }
            Value::Object(m) => m.values_mut().for_each(hash),
            Value::Array(a) => a.iter_mut().for_each(hash),
            _ => {}
        }
    }
    for field in kind.secrets {
        if let Some(v) = object.get_mut(*field) {
            hash(v);
        }
    }
}

/// The object as answered: secrets blank (their type kept).
pub fn redacted(kind: &Kind, mut object: Value) -> Value {
    fn blank(v: &mut Value) {
        match v {
            Value::String(s) => s.clear(),
            Value::Object(m) => m.values_mut().for_each(blank),
            Value::Array(a) => a.iter_mut().for_each(blank),
            _ => {}
        }
    }
    for field in kind.secrets {
        if let Some(v) = object.get_mut(*field) {
            blank(v);
        }
    }
    object
}

/// Sets the fields this workbench manages (where the schema has them): account, times, authors,
/// and `status` ACTIVE when none is given.
fn stamp(kind: &Kind, object: &mut Map<String, Value>, actor: &Actor, now: i64, created: bool) {
    let fields = contract::properties(kind.schema);
    let mut set = |name: &str, value: Value| {
        if fields.contains(&name) {
            object.insert(name.to_owned(), value);
        }
    };
    set("account_name", ACCOUNT_NAME.into());
    set("update_time", now.into());
    set("updater_uuid", actor.uuid.clone().into());
    set("updater_display_name", actor.display_name.clone().into());
    if created {
        set("create_time", now.into());
        set("creator_uuid", actor.uuid.clone().into());
        set("creator_display_name", actor.display_name.clone().into());
        if fields.contains(&"status") && object.get("status").is_none_or(|s| s == 0) {
            let active_allowed = contract::property(kind.schema, "status")
                .and_then(|p| p.get("enum"))
                .and_then(Value::as_array)
                .is_none_or(|e| e.iter().any(|v| v == 2));
            if active_allowed {
                object.insert("status".into(), 2.into());
            }
        }
    }
}

pub(crate) fn read(
    c: &rusqlite::Connection,
    kind: &Kind,
    key: &str,
) -> Result<Option<Value>, ResponseError> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM catalog_objects WHERE kind = ?1 AND key = ?2")?
        .query_row(params![kind.name, key], |r| r.get(0))
        .optional()?;
    body.map(|b| {
        serde_json::from_str(&b).map_err(|e| {
            ResponseError::Conflict(format!("stored {} {key} is unreadable: {e}", kind.name))
        })
    })
    .transpose()
}

pub(crate) fn write(
    c: &rusqlite::Connection,
    kind: &Kind,
    key: &str,
    object: &Value,
    create_time: i64,
) -> Result<(), ResponseError> {
    c.prepare_cached(
        "INSERT INTO catalog_objects (kind, key, body, create_time) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![kind.name, key, object.to_string(), create_time])?;
    Ok(())
}

/// Records a change of a catalog object in the audit trail: what was asked, before, after.
pub(crate) fn audit_change(
    c: &rusqlite::Connection,
    actor: &Actor,
    kind: &Kind,
    op: &str,
    key: &str,
    (request, before, after): (Option<&Value>, Option<&Value>, Option<&Value>),
) -> Result<(), ResponseError> {
    let op = format!("{}.{op}", kind.name);
    let (before, after) = (
        before.map(|v| redacted(kind, v.clone())),
        after.map(|v| redacted(kind, v.clone())),
    );
    let request = request.map(|v| redacted_request(kind, v));
    audit::record(
        c,
        actor,
        &Change {
            op: &op,
            object_type: kind.name,
            object_uuid: key,
            request: request.as_ref(),
            before: before.as_ref(),
            after: after.as_ref(),
        },
    )?;
    Ok(())
}

/// A request as the audit trail keeps it: secrets blank, at the top or one object down.
fn redacted_request(kind: &Kind, request: &Value) -> Value {
    let mut request = redacted(kind, request.clone());
    if let Value::Object(fields) = &mut request {
        for value in fields.values_mut() {
            if value.is_object() {
                *value = redacted(kind, value.take());
            }
        }
    }
    request
}

/// A new object from the caller's fields: stamped (see [`stamp`]), keyed, its secrets hashed,
/// and checked against the kind's schema (errors under `prefix`). A `uuid` key that is missing or
/// not a uuid (the vendor samples say `"string"`) is made here; other keys (`name`, `key`,
/// `identity.id`) are the caller's, and `name` and `key` are required.
fn new_object(
    kind: &Kind,
    mut fields: Map<String, Value>,
    actor: &Actor,
    now: i64,
    prefix: &str,
) -> Result<(String, Value), ResponseError> {
    stamp(kind, &mut fields, actor, now, true);
    let mut object = Value::Object(fields);
    let mut key = key_of(kind, &object);
    if kind.key == "uuid" && uuid::Uuid::parse_str(&key).is_err() {
        key.clear();
    }
    if key.trim().is_empty() {
        if matches!(kind.key, "name" | "key") {
            let field = if prefix.is_empty() {
                kind.key.to_owned()
            } else {
                format!("{prefix}.{}", kind.key)
            };
            return Err(invalid(
                field,
                format!("required: it names the {}", kind.name.replace('_', " ")),
            ));
        }
        key = uuid::Uuid::new_v4().to_string();
        set_key(kind, &mut object, &key);
    }
    hash_secrets(kind, &mut object);
    contract::check_object(kind.schema, &object, prefix)?;
    Ok((key, object))
}

/// Creates an object of `kind` from a create body, whose `wrapper` field holds the object (see
/// [`wrapper`]) or whose top-level fields are the object's.
pub fn create(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    wrapper: Option<&str>,
    body: &Value,
) -> Result<Value, ResponseError> {
    let fields = object_of(kind, wrapper, body)?;
    let now = now_ms();
    let (key, object) = new_object(kind, fields, actor, now, wrapper.unwrap_or(""))?;
    store.write(|c| {
        let tx = c.transaction()?;
        if read(&tx, kind, &key)?.is_some() {
            return Err(invalid(
                kind.key,
                format!("a {} {key:?} exists already", kind.name.replace('_', " ")),
            ));
        }
        directory::before_create(&tx, kind, &object)?;
        write(&tx, kind, &key, &object, now)?;
        audit_change(
            &tx,
            actor,
            kind,
            "create",
            &key,
            (Some(body), None, Some(&object)),
        )?;
        let answer = directory::decorate(&tx, kind, redacted(kind, object))?;
        tx.commit()?;
        Ok(answer)
    })
}

/// Reads one object of `kind`.
pub fn get(store: &Store, kind: &'static Kind, key: &str) -> Result<Value, ResponseError> {
    directory::sync(store)?;
    store.read(|c| {
        let object = read(c, kind, key)?.ok_or_else(|| not_found(kind, key))?;
        directory::decorate(c, kind, redacted(kind, object))
    })
}

/// The filters of a list of `kind` (the CLI's `--where`): every parameter must be one of the
/// kind's [`Filter`]s.
pub fn filters(
    kind: &Kind,
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, ResponseError> {
    let mut query = BTreeMap::new();
    for (param, value) in pairs {
        if !kind.filters.iter().any(|f| f.param == param) {
            let known: Vec<&str> = kind.filters.iter().map(|f| f.param).collect();
            return Err(invalid(
                param,
                format!(
                    "{} filters by {}",
                    kind.name,
                    if known.is_empty() {
                        "nothing".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        query.insert(param, value);
    }
    Ok(query)
}

/// Every object of `kind` that passes the query's filters, oldest first.
pub fn list(
    store: &Store,
    kind: &'static Kind,
    query: &BTreeMap<String, String>,
) -> Result<Vec<Value>, ResponseError> {
    directory::sync(store)?;
    store.read(|c| {
        let mut stmt = c.prepare_cached(
            "SELECT body FROM catalog_objects WHERE kind = ?1 ORDER BY create_time, key",
        )?;
        let bodies = stmt
            .query_map([kind.name], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<String>, _>>()?;
        let mut out = Vec::with_capacity(bodies.len());
        for body in bodies {
            let object: Value = serde_json::from_str(&body).map_err(|e| {
                ResponseError::Conflict(format!("stored {} is unreadable: {e}", kind.name))
            })?;
            if passes(kind, &object, query) {
                out.push(directory::decorate(c, kind, redacted(kind, object))?);
            }
        }
        Ok(out)
    })
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn passes(kind: &Kind, object: &Value, query: &BTreeMap<String, String>) -> bool {
    kind.filters.iter().all(|f| {
        let Some(wanted) = query.get(f.param).filter(|w| !w.is_empty()) else {
            return true;
        };
        let field = object.get(f.field).cloned().unwrap_or(Value::Null);
        let many = || wanted.split(',').map(str::trim).filter(|w| !w.is_empty());
        let items = || field.as_array().cloned().unwrap_or_default();
        match f.how {
            Equals => as_text(&field) == *wanted,
            Contains => items().iter().any(|i| as_text(i) == *wanted),
            AnyOf => many().any(|w| as_text(&field) == w),
            ContainsAnyOf => many().any(|w| items().iter().any(|i| as_text(i) == w)),
            Prefix => as_text(&field).starts_with(wanted.as_str()),
        }
    })
}

/// Changes some fields of an object: the body's fields (or its wrapped object's) replace the
/// stored ones and `attributes_to_delete` resets fields; the key, account, creation and
/// author fields never change. A `uuid` in the body must name the same object as the path.
pub fn update(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    wrapper: Option<&str>,
    key: &str,
    body: &Value,
) -> Result<Value, ResponseError> {
    if let Some(named) = body.get("uuid").and_then(Value::as_str) {
        if !named.is_empty() && named != key {
            return Err(invalid(
                "uuid",
                format!("the body names {named} but the path names {key}"),
            ));
        }
    }
    let mut set = object_of(kind, wrapper, body)?;
    set.remove("uuid");
    let delete: Vec<String> = match body.get("attributes_to_delete") {
        Some(Value::Array(a)) => a.iter().map(as_text).collect(),
        _ => Vec::new(),
    };
    const KEPT: &[&str] = &[
        "uuid",
        "account_name",
        "create_time",
        "creator_uuid",
        "creator_display_name",
        "update_time",
        "updater_uuid",
        "updater_display_name",
        "record_update_time",
    ];
    let prefix = wrapper.unwrap_or("");
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read(&tx, kind, key)?.ok_or_else(|| not_found(kind, key))?;
        // Users carry `record_update_time` (the seed's guard against lost updates).
        let version = |o: &Value| {
            o.get("record_update_time")
                .or_else(|| o.get("update_time"))
                .and_then(Value::as_i64)
        };
        if let (Some(expected), Some(stored)) = (
            body.get("record_update_time").and_then(Value::as_i64).filter(|t| *t != 0),
            version(&before),
        ) {
            if expected != stored {
                return Err(ResponseError::Conflict(format!(
                    "{} {key} changed since it was read (record_update_time {expected}, now {stored})",
                    kind.name
                )));
            }
        }
        let mut fields = before.as_object().cloned().unwrap_or_default();
        for name in &delete {
            if KEPT.contains(&name.as_str()) || name == kind.key {
                return Err(invalid("attributes_to_delete", format!("{name} cannot be deleted")));
            }
            if !contract::properties(kind.schema).contains(&name.as_str()) {
                return Err(invalid(
                    "attributes_to_delete",
                    format!("{name} is not a field of {}", kind.schema),
                ));
            }
            fields.remove(name);
        }
        for (name, value) in &set {
            if !KEPT.contains(&name.as_str()) && name != kind.key {
                fields.insert(name.clone(), value.clone());
            }
        }
        let stored_time = before.get("update_time").and_then(Value::as_i64).unwrap_or(0);
        let now = now_ms().max(stored_time + 1);
        stamp(kind, &mut fields, actor, now, false);
        if fields.contains_key("record_update_time") {
            fields.insert("record_update_time".into(), now.into());
        }
        let mut after = Value::Object(fields);
        hash_secrets(kind, &mut after);
        contract::check_object(kind.schema, &after, prefix)?;
        let create_time = before.get("create_time").and_then(Value::as_i64).unwrap_or(0);
        write(&tx, kind, key, &after, create_time)?;
        audit_change(&tx, actor, kind, "update", key, (Some(body), Some(&before), Some(&after)))?;
        let answer = directory::decorate(&tx, kind, redacted(kind, after))?;
        tx.commit()?;
        Ok(answer)
    })
}

/// Stores an object as given (the CLI's `catalog put` for kinds that have no create route, such
/// as documents and gateways): checked, stamped and audited like a create, replacing any object
/// with the same key.
pub fn put(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    object: &Value,
) -> Result<Value, ResponseError> {
    if !kind.stored {
        return Err(invalid(
            "kind",
            format!("{} objects are computed, not stored", kind.name),
        ));
    }
    let Value::Object(fields) = object else {
        return Err(invalid("body", "must be a JSON object"));
    };
    let now = now_ms();
    let (key, object) = new_object(kind, fields.clone(), actor, now, "")?;
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read(&tx, kind, &key)?;
        write(&tx, kind, &key, &object, now)?;
        audit_change(
            &tx,
            actor,
            kind,
            "put",
            &key,
            (Some(&object), before.as_ref(), Some(&object)),
        )?;
        tx.commit()?;
        Ok::<_, ResponseError>(())
    })?;
    Ok(redacted(kind, object))
}
