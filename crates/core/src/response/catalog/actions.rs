//! The long-tail operations that are not plain create/read/update: the account, onboarding,
//! app deployment, countries, gateways, connector deployments, device deletion, document
//! revocation, export and integration checks, and QS views. Nothing here calls out to the
//! network: checks that would need a third party (an S3 bucket, an identity provider) check
//! what can be checked locally and say so.

use rusqlite::params;
use serde_json::{json, Map, Value};

use super::{
    audit_change, contract, create, invalid, kind_named, not_found, read, redacted, update, write,
    Input, Kind,
};
use crate::response::alerts::{self, AlertFilter};
use crate::response::audit::{account_uuid, Actor};
use crate::response::enums::ALERT_SEVERITY;
use crate::response::{now_ms, ResponseError, ACCOUNT_NAME};
use crate::Store;

/// A long-tail operation: the kind it belongs to and the call's input; the answer is the
/// success body.
pub type Action = fn(&Store, &Actor, &'static Kind, &Input) -> Result<Value, ResponseError>;

fn body_of(input: &Input) -> Map<String, Value> {
    input
        .body
        .as_ref()
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn text<'a>(body: &'a Map<String, Value>, field: &str) -> &'a str {
    body.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The stored object of `kind` the body's `uuid` names.
fn named_in_body(store: &Store, kind: &Kind, input: &Input) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let uuid = text(&body, "uuid");
    store
        .read(|c| read(c, kind, uuid))?
        .ok_or_else(|| not_found(kind, uuid))
}

/// "Get the account details": this workbench is the one account.
pub fn account(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let name = input.key.clone().unwrap_or_default();
    if name != ACCOUNT_NAME {
        return Err(not_found(kind, &name));
    }
    let onboarding = onboarding_object(store)?;
    let created: i64 = store.read(|c| {
        c.query_row(
            "SELECT coalesce(min(create_time), 0) FROM audit_events",
            [],
            |r| r.get(0),
        )
        .map_err(ResponseError::from)
    })?;
    Ok(json!({
        "name": ACCOUNT_NAME,
        "display_name": "UEBA Workbench",
        "uuid": account_uuid(ACCOUNT_NAME),
        "org": "UEBA Workbench",
        "domain": "localhost",
        "location": "local",
        "status": 2,
        "create_time": created,
        "update_time": created,
        "onboarding": onboarding,
    }))
}

fn onboarding_object(store: &Store) -> Result<Value, ResponseError> {
    let kind = kind_named("onboarding")?;
    Ok(store
        .read(|c| read(c, kind, ACCOUNT_NAME))?
        .unwrap_or_else(|| json!({ "completed_steps": [], "eula_signed": false })))
}

/// "Get account onboarding info".
pub fn onboarding(
    store: &Store,
    _actor: &Actor,
    _kind: &'static Kind,
    _input: &Input,
) -> Result<Value, ResponseError> {
    onboarding_object(store)
}

/// "Update account onboarding info": the given fields replace the stored ones; signing the EULA
/// records who signed, when and from where.
pub fn update_onboarding(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let Some(Value::Object(given)) = body.get("onboarding") else {
        return Err(invalid("onboarding", "required: the fields to change"));
    };
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read(&tx, kind, ACCOUNT_NAME)?;
        let mut after = before
            .clone()
            .and_then(|b| b.as_object().cloned())
            .unwrap_or_else(|| {
                json!({ "completed_steps": [], "eula_signed": false })
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            });
        let was_signed = after.get("eula_signed") == Some(&Value::Bool(true));
        for (k, v) in given {
            after.insert(k.clone(), v.clone());
        }
        if !was_signed && after.get("eula_signed") == Some(&Value::Bool(true)) {
            after.insert("eula_signing_time".into(), now_ms().into());
            after.insert("eula_signing_user".into(), actor.uuid.clone().into());
            after.insert(
                "eula_signing_user_display_name".into(),
                actor.display_name.clone().into(),
            );
            after.insert("eula_signing_ip".into(), actor.client_ip.clone().into());
        }
        let after = Value::Object(after);
        contract::check_object(kind.schema, &after, "onboarding")?;
        write(&tx, kind, ACCOUNT_NAME, &after, now_ms())?;
        audit_change(
            &tx,
            actor,
            kind,
            "update",
            ACCOUNT_NAME,
            (input.body.as_ref(), before.as_ref(), Some(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    })
}

/// "Deploy an app": stores the app (a new one, or the changes to the one its `uuid` names) as
/// ACTIVE. Deploying creates no policies here: this workbench's policies are response
/// policies, so `new_policies` is empty.
pub fn deploy_app(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let Some(Value::Object(app)) = body.get("app") else {
        return Err(invalid("app", "required: the app to deploy"));
    };
    let mut app = app.clone();
    app.insert("status".into(), 2.into());
    let uuid = app
        .get("uuid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let exists = !uuid.is_empty() && store.read(|c| read(c, kind, &uuid))?.is_some();
    let request = json!({ "app": app });
    let deployed = if exists {
        update(store, actor, kind, Some("app"), &uuid, &request)?
    } else {
        create(store, actor, kind, Some("app"), &request)?
    };
    Ok(json!({ "app": deployed, "new_policies": [] }))
}

/// "Query countries": the ISO 3166-1 countries.
pub fn countries(
    _store: &Store,
    _actor: &Actor,
    _kind: &'static Kind,
    _input: &Input,
) -> Result<Value, ResponseError> {
    let mut countries: Vec<Value> = celes::Country::get_countries()
        .iter()
        .map(|c| json!({ "country": c.long_name, "country_code": c.alpha2 }))
        .collect();
    countries.sort_by(|a, b| a["country"].as_str().cmp(&b["country"].as_str()));
    Ok(json!({ "countries": countries }))
}

/// "Query gateways": this workbench's own listener (the gateway every local client uses),
/// then any gateway stored with `catalog put gateway`.
pub fn gateways(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    _input: &Input,
) -> Result<Value, ResponseError> {
    let mut gateways = vec![json!({
        "name": "local",
        "display_name": "UEBA Workbench listener",
        "provider": "local",
        "region": "loopback",
        "admin_region": "loopback",
        "az": "local",
        "vip": "127.0.0.1",
        "is_in_sync": true,
        "status": 2,
        "key": "",
        "secret": "",
    })];
    gateways.extend(super::list(store, kind, &Default::default())?);
    Ok(json!({ "gateways": gateways }))
}

/// Why an S3 bucket name breaks Amazon's naming rules, if it does.
fn bucket_name_problem(name: &str) -> Option<String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ends_ok = name
        .chars()
        .next()
        .zip(name.chars().last())
        .is_some_and(|(a, b)| a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric());
    if !(3..=63).contains(&name.len()) {
        Some(format!("{name:?} must be 3 to 63 characters long"))
    } else if !ok_chars {
        Some(format!(
            "{name:?} may hold only lower-case letters, digits, '-' and '.'"
        ))
    } else if !ends_ok {
        Some(format!(
            "{name:?} must begin and end with a letter or digit"
        ))
    } else if name.contains("..") {
        Some(format!("{name:?} must not hold two adjacent periods"))
    } else {
        None
    }
}

/// "Returns S3 bucket policy": the policy to put on the bucket so the exporter may write to
/// it (a template: this workbench never writes to S3 itself).
pub fn s3_bucket_policy(
    _store: &Store,
    _actor: &Actor,
    _kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let bucket = text(&body, "s3_bucket_name");
    if let Some(problem) = bucket_name_problem(bucket) {
        return Err(invalid("s3_bucket_name", problem));
    }
    Ok(json!({
        "account_name": ACCOUNT_NAME,
        "s3_bucket_name": bucket,
        "policy": {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "UebaWorkbenchExport",
                "Effect": "Allow",
                "Principal": { "AWS": "arn:aws:iam::<exporter-account-id>:root" },
                "Action": ["s3:PutObject", "s3:GetBucketLocation"],
                "Resource": [
                    format!("arn:aws:s3:::{bucket}"),
                    format!("arn:aws:s3:::{bucket}/*"),
                ],
            }],
        },
    }))
}

/// "Validate data export configuration": checks the stored configuration (bucket name,
/// account id, export types). The bucket itself is not contacted.
pub fn validate_data_export(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let config = named_in_body(store, kind, input)?;
    let bucket = config["s3_bucket_name"].as_str().unwrap_or("");
    let account = config["s3_bucket_account_id"].as_str().unwrap_or("");
    let problem = bucket_name_problem(bucket)
        .map(|p| format!("s3_bucket_name: {p}"))
        .or_else(|| {
            (account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit())).then(|| {
                format!("s3_bucket_account_id: {account:?} is not a 12-digit AWS account id")
            })
        })
        .or_else(|| {
            config["data_export_types"]
                .as_array()
                .is_none_or(Vec::is_empty)
                .then(|| "data_export_types: choose at least one type of data to export".to_owned())
        });
    Ok(json!({
        "uuid": config["uuid"],
        "status": if problem.is_some() { "INVALID" } else { "VALID" },
        "error_message": problem.unwrap_or_default(),
        "message": "checked locally; the bucket was not contacted",
    }))
}

/// "Validate integration credentials": checks that the stored integration has what its data
/// source needs to connect (credentials present). The third party is not contacted.
pub fn validate_integration(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let integration = named_in_body(store, kind, input)?;
    let has_credentials = integration["credentials"].as_object().is_some_and(|c| {
        c.values()
            .any(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    });
    let error = if has_credentials {
        String::new()
    } else {
        "credentials: none are stored for this integration".to_owned()
    };
    Ok(json!({
        "status": if error.is_empty() { "SUCCESS" } else { "FAILURE" },
        "error_message": error,
    }))
}

/// "Initiate deployment of a connector": creates a connector (named by the body's `name`, or
/// numbered) with a fresh access token, shown in this answer only.
pub fn deploy_connector(
    store: &Store,
    actor: &Actor,
    _kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let connectors = kind_named("connector")?;
    let body = body_of(input);
    let mut name = text(&body, "name").to_owned();
    if name.is_empty() {
        let count: i64 = store.read(|c| {
            c.query_row(
                "SELECT count(*) FROM catalog_objects WHERE kind = 'connector'",
                [],
                |r| r.get(0),
            )
            .map_err(ResponseError::from)
        })?;
        name = format!("connector-{}", count + 1);
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut connector = create(
        store,
        actor,
        connectors,
        None,
        &json!({ "name": name, "unique_name": name, "access_token": token, "status": 2 }),
    )?;
    connector["access_token"] = token.into();
    Ok(json!({
        "connector": connector,
        "accesses": [],
        "apps": [],
        "policies": [],
        "resource_urls": [],
        "messages": [format!("connector {name} created; its access token is shown once")],
        "completed": true,
        "success": true,
    }))
}

/// "Check where a connector should be deployed": one option per stored connector, valid when it
/// is ACTIVE.
pub fn deployment_options(
    store: &Store,
    _actor: &Actor,
    _kind: &'static Kind,
    _input: &Input,
) -> Result<Value, ResponseError> {
    let connectors = kind_named("connector")?;
    let options: Vec<Value> = super::list(store, connectors, &Default::default())?
        .into_iter()
        .map(|c| {
            let active = c["status"] == 2;
            json!({
                "entity_id": c["name"],
                "entity_tags": c.get("tags").cloned().unwrap_or(json!([])),
                "app_hostname": "",
                "region": "local",
                "valid": active,
                "public_ip": false,
                "message": if active { "ready" } else { "the connector is not ACTIVE" },
            })
        })
        .collect();
    Ok(json!({ "options": options }))
}

/// "Delete Devices": deletes every listed device, or none when one is missing; answers the last
/// one deleted.
pub fn delete_devices(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let listed: Vec<Value> = match body.get("devices") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        _ => return Err(invalid("devices", "required: the devices to delete")),
    };
    store.write(|c| {
        let tx = c.transaction()?;
        let mut last = Value::Null;
        for (i, device) in listed.iter().enumerate() {
            let uuid = device.get("uuid").and_then(Value::as_str).unwrap_or("");
            let before = read(&tx, kind, uuid)?.ok_or_else(|| ResponseError::Invalid {
                field: format!("devices[{i}].uuid"),
                reason: format!("no device {uuid:?}"),
            })?;
            let owner = device
                .get("user_uuid")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !owner.is_empty() && before.get("user_uuid").and_then(Value::as_str) != Some(owner) {
                return Err(ResponseError::Invalid {
                    field: format!("devices[{i}].user_uuid"),
                    reason: format!("device {uuid} does not belong to user {owner}"),
                });
            }
            tx.execute(
                "DELETE FROM catalog_objects WHERE kind = ?1 AND key = ?2",
                params![kind.name, uuid],
            )?;
            audit_change(
                &tx,
                actor,
                kind,
                "delete",
                uuid,
                (Some(device), Some(&before), None),
            )?;
            last = before;
        }
        tx.commit()?;
        Ok(redacted(kind, last))
    })
}

fn change_document(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    input: &Input,
    op: &str,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<(), ResponseError>,
) -> Result<Value, ResponseError> {
    let key = input.key.clone().unwrap_or_default();
    store.write(|c| {
        let tx = c.transaction()?;
        let before = read(&tx, kind, &key)?.ok_or_else(|| not_found(kind, &key))?;
        let mut after = before.as_object().cloned().unwrap_or_default();
        change(&mut after)?;
        after.insert("updated_time".into(), now_ms().into());
        let after = Value::Object(after);
        let create_time = before
            .get("created_time")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        write(&tx, kind, &key, &after, create_time)?;
        audit_change(
            &tx,
            actor,
            kind,
            op,
            &key,
            (input.body.as_ref(), Some(&before), Some(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    })
}

/// "Revoke Document Access": removes the external access `access_id` names.
pub fn revoke_access(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let access_id = text(&body, "access_id").to_owned();
    if access_id.is_empty() {
        return Err(invalid("access_id", "required: the access to revoke"));
    }
    change_document(store, actor, kind, input, "revoke_access", |doc| {
        let accesses = doc
            .get_mut("external_access")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| {
                invalid(
                    "access_id",
                    format!("the document has no access {access_id:?}"),
                )
            })?;
        let before = accesses.len();
        accesses.retain(|a| a.get("access_id").and_then(Value::as_str) != Some(&access_id));
        if accesses.len() == before {
            return Err(invalid(
                "access_id",
                format!("the document has no access {access_id:?}"),
            ));
        }
        let external_left = accesses.iter().any(|a| {
            a.pointer("/target_identity/external")
                .and_then(Value::as_bool)
                .unwrap_or(true)
        });
        let any_left = !accesses.is_empty();
        doc.insert("is_shared_externally".into(), external_left.into());
        doc.insert("is_shared".into(), any_left.into());
        Ok(())
    })
}

/// "Revoke all sharing": removes every access, or only the external ones (`external_only`).
pub fn revoke_sharing(
    store: &Store,
    actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let body = body_of(input);
    let external_only = body.get("external_only").and_then(Value::as_bool) == Some(true);
    change_document(store, actor, kind, input, "revoke_sharing", |doc| {
        let mut accesses = doc
            .get("external_access")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if external_only {
            accesses.retain(|a| {
                a.pointer("/target_identity/external")
                    .and_then(Value::as_bool)
                    == Some(false)
            });
        } else {
            accesses.clear();
        }
        doc.insert("is_shared".into(), (!accesses.is_empty()).into());
        doc.insert("is_shared_externally".into(), false.into());
        doc.insert("external_access".into(), Value::Array(accesses));
        Ok(())
    })
}

/// The QS views: what `view` may name.
pub const QS_VIEWS: &[&str] = &[
    "alerts_by_severity",
    "connections_by_user",
    "connections_by_host",
];

fn time_param(input: &Input, name: &str) -> Result<i64, ResponseError> {
    let raw = input
        .query
        .get(name)
        .ok_or_else(|| invalid(name, "required: milliseconds since the epoch"))?;
    raw.trim().parse().map_err(|_| {
        invalid(
            name,
            format!("{raw:?} is not a whole number of milliseconds"),
        )
    })
}

/// "Query a QS View": a summary over `[start_time, end_time)`.
/// `alerts_by_severity` counts alerts per severity; `connections_by_user` and
/// `connections_by_host` count connections and distinct peers.
pub fn qs_view(
    store: &Store,
    _actor: &Actor,
    kind: &'static Kind,
    input: &Input,
) -> Result<Value, ResponseError> {
    let view = input.key.clone().unwrap_or_default();
    if !QS_VIEWS.contains(&view.as_str()) {
        return Err(ResponseError::NotFound {
            kind: kind.name,
            id: format!("{view} (views: {})", QS_VIEWS.join(", ")),
        });
    }
    let (start, end) = (
        time_param(input, "start_time")?,
        time_param(input, "end_time")?,
    );
    if end < start {
        return Err(invalid("end_time", "must not be before start_time"));
    }
    let rows: Vec<Value> = match view.as_str() {
        "alerts_by_severity" => {
            let alerts = alerts::query(
                store,
                &AlertFilter {
                    start_time: Some(start),
                    end_time: Some(end),
                    statuses: (1..=8).collect(),
                    ..AlertFilter::default()
                },
            )?;
            let mut counts = std::collections::BTreeMap::<i64, i64>::new();
            for a in &alerts {
                *counts.entry(a.severity).or_default() += 1;
            }
            counts
                .into_iter()
                .map(|(severity, alerts)| {
                    json!({
                        "severity": severity,
                        "severity_name": ALERT_SEVERITY.name_of(severity).unwrap_or(""),
                        "alerts": alerts,
                    })
                })
                .collect()
        }
        _ => {
            let (group, peer, label) = if view == "connections_by_user" {
                ("user", "target_host", "hosts")
            } else {
                ("target_host", "user", "users")
            };
            let sql = format!(
                "SELECT {group}, count(*), count(DISTINCT {peer}) FROM connections
                 WHERE connected >= ?1 AND connected < ?2 GROUP BY {group} ORDER BY count(*) DESC, {group}"
            );
            store.read(|c| {
                c.prepare(&sql)?
                    .query_map(params![start, end], |r| {
                        Ok(json!({
                            group: r.get::<_, String>(0)?,
                            "connections": r.get::<_, i64>(1)?,
                            label: r.get::<_, i64>(2)?,
                        }))
                    })?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(ResponseError::from)
            })?
        }
    };
    Ok(json!({ "view": view, "start_time": start, "end_time": end, "rows": rows }))
}
