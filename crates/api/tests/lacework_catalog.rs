//! The Lacework Edge long tail in-process: every route of the kinds table is served, documented
//! and refused without credentials; each kind stores what it is given (checked against the
//! vendor schema), returns it again, refuses bad input without storing anything, and keeps its
//! objects across a restart. Connection users appear as users, their roles as groups.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use ueba_api::journal;
use ueba_api::lacework::catalog::SERVED;
use ueba_api::state::ApiState;
use ueba_core::auth::{self, Role};
use ueba_core::demo::{generate_into_store, DemoConfig};
use ueba_core::response::catalog::{self, contract, Op};
use ueba_core::{CancelToken, Store};

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<Store>,
    app: axum::Router,
    admin: String,
    viewer: String,
}

fn router_over(store: &Arc<Store>) -> axum::Router {
    let (queue, _writer) = journal::start_writer(Arc::clone(store));
    ueba_api::router(ApiState::new(
        Arc::clone(store),
        queue,
        "http://127.0.0.1:0",
        None,
    ))
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Store::open(&dir.path().join("w.db")).expect("open"));
    let demo = DemoConfig {
        connections: 1_500,
        days: 10,
        ..DemoConfig::default()
    };
    generate_into_store(&store, &demo, &|_, _| {}, &CancelToken::new()).expect("demo");
    let client = auth::add_client(&store, "tests", None).expect("client");
    let token = |name: &str, role: Role| {
        auth::add_account(&store, name, role, "a password 123").expect("account");
        auth::password_grant(&store, &client.client, name, "a password 123")
            .expect("token")
            .access_token
    };
    let admin = token("root", Role::Admin);
    let viewer = token("vic", Role::ConnectionsView);
    let app = router_over(&store);
    Fixture {
        dir,
        store,
        app,
        admin,
        viewer,
    }
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The route's path with its one parameter filled in.
fn filled(path: &str, key: &str) -> String {
    let mut out = Vec::new();
    for segment in path.split('/') {
        if segment.starts_with('{') {
            out.push(key.to_owned());
        } else {
            out.push(segment.to_owned());
        }
    }
    out.join("/")
}

#[tokio::test]
async fn every_long_tail_route_is_served_documented_and_guarded() {
    let f = fixture();
    let document = ueba_api::openapi::document();
    assert!(SERVED.len() >= 68, "{} long-tail operations", SERVED.len());
    for served in SERVED.iter() {
        let op = served.operation;
        let path = filled(&op.path, "x");
        let documented = &document["paths"][&op.path][op.method.to_lowercase()];
        assert!(
            documented["responses"][op.success_status.to_string()].is_object(),
            "{} {} {} is not in /openapi.json",
            op.id,
            op.method,
            op.path
        );
        let (status, body) = call(&f.app, &op.method, &path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}", op.id);
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        if op.method != "GET" {
            let (status, body) =
                call(&f.app, &op.method, &path, Some(&f.viewer), Some(json!({}))).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{} {path}: {body}", op.id);
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("admin")),
                "{body}"
            );
        }
    }
}

/// A body for an update route that changes one documented field, and the field's new value.
fn change_for(route: &str, wrapper: Option<&str>) -> (Value, &'static str, Value) {
    let op = contract::operation(route).expect("route");
    let props = |v: &Value| -> Vec<String> {
        v.pointer("/properties")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let schema = op.request_schema.clone().expect("schema");
    let fields = match wrapper {
        Some(w) => {
            let name = schema
                .pointer(&format!("/properties/{w}/$ref"))
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .unwrap_or_default()
                .to_owned();
            props(&contract::definitions()[&name])
        }
        None => match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => props(&contract::definitions()[r.trim_start_matches("#/$defs/")]),
            None => props(&schema),
        },
    };
    let (field, value) = if fields.iter().any(|f| f == "description") {
        ("description", json!("changed by the test"))
    } else if fields.iter().any(|f| f == "display_name") {
        ("display_name", json!("Changed Name"))
    } else if fields.iter().any(|f| f == "filter_domains") {
        ("filter_domains", json!(["example.org"]))
    } else {
        ("data_export_types", json!([1]))
    };
    let body = match wrapper {
        Some(w) => json!({ w: { field: value.clone() } }),
        None => json!({ field: value.clone() }),
    };
    (body, field, value)
}

/// A unique create body from the contract's sample.
fn create_body(route: &str, n: usize) -> Value {
    let op = contract::operation(route).expect("route");
    let sample = contract_sample(route);
    let mut body = sample.unwrap_or_else(|| json!({}));
    let unique = format!("test-{n}");
    for pointer in [
        "/name",
        "/key",
        "/app/name",
        "/card/name",
        "/dashboard/name",
    ] {
        if let Some(v) = body.pointer_mut(pointer) {
            *v = json!(unique.clone());
        }
    }
    for pointer in ["/uuid", "/user/uuid", "/device/uuid", "/app/uuid"] {
        if let Some(v) = body.pointer_mut(pointer) {
            *v = json!("");
        }
    }
    if let Some(v) = body.pointer_mut("/user/source_user_id") {
        *v = json!(unique);
    }
    assert!(op.check_request(&body).is_ok(), "{route} sample is valid");
    body
}

fn contract_sample(route: &str) -> Option<Value> {
    static OPS: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../../../spec/lacework/operations.json"))
            .expect("operations.json")
    });
    OPS[route]["request_sample"]
        .as_object()
        .map(|o| Value::Object(o.clone()))
}

#[tokio::test]
async fn each_kind_stores_what_it_is_given_and_returns_it_across_a_restart() {
    let f = fixture();
    let mut kept: Vec<(String, Value)> = Vec::new();
    for (n, served) in SERVED.iter().enumerate() {
        if !matches!(served.op, Op::Create) {
            continue;
        }
        let kind = served.kind;
        let op = served.operation;
        let body = create_body(&op.id, n);
        let (status, created) = call(
            &f.app,
            &op.method,
            &op.path,
            Some(&f.admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            status.as_u16(),
            op.success_status,
            "{} {}: {created}",
            op.id,
            op.path
        );
        op.check_answer(&created)
            .unwrap_or_else(|e| panic!("{} answer: {e}\n{created}", op.id));
        // The created object: the answer itself, or inside the documented envelope.
        let object = catalog::wrapper(kind, &op.id)
            .and_then(|w| created.get(w).cloned())
            .unwrap_or_else(|| created.clone());
        let key = object
            .pointer(&format!("/{}", kind.key.replace('.', "/")))
            .and_then(Value::as_str)
            .expect("key")
            .to_owned();
        assert!(!key.is_empty(), "{}: {object}", kind.name);
        // What was given comes back (secrets excepted: they are answered blank).
        let given = catalog::wrapper(kind, &op.id)
            .and_then(|w| body.get(w).cloned())
            .unwrap_or_else(|| body.clone());
        for field in [
            "description",
            "name",
            "data",
            "display_name",
            "public_key_pem",
        ] {
            if kind.secrets.contains(&field) || field == kind.key {
                continue;
            }
            if let Some(v) = given.get(field) {
                if object.get(field).is_some() {
                    assert_eq!(object[field], *v, "{}.{field}", kind.name);
                }
            }
        }
        // Read back and listed, then changed.
        let mut routes: Vec<_> = kind.routes.iter().collect();
        routes.sort_by_key(|(_, o)| matches!(o, Op::Update));
        for (id, rop) in routes {
            let rop_contract = contract::operation(id).expect("route");
            match rop {
                Op::Get => {
                    let path = filled(&rop_contract.path, &key);
                    let (status, read) = call(&f.app, "GET", &path, Some(&f.viewer), None).await;
                    assert_eq!(status, StatusCode::OK, "{id} {path}: {read}");
                    assert_eq!(read, object, "{id} answers what was stored");
                    rop_contract.check_answer(&read).expect("schema");
                }
                Op::List => {
                    let (status, list) =
                        call(&f.app, "GET", &rop_contract.path, Some(&f.viewer), None).await;
                    assert_eq!(status, StatusCode::OK, "{id}: {list}");
                    rop_contract.check_answer(&list).expect("schema");
                    let items = list[kind.list_field].as_array().expect("list");
                    assert!(items.contains(&object), "{id} lists the new {}", kind.name);
                }
                Op::Update => {
                    let (change, field, value) = change_for(id, catalog::wrapper(kind, id));
                    let path = filled(&rop_contract.path, &key);
                    let (status, updated) =
                        call(&f.app, "PUT", &path, Some(&f.admin), Some(change)).await;
                    assert_eq!(status, StatusCode::OK, "{id} {path}: {updated}");
                    rop_contract.check_answer(&updated).expect("schema");
                    assert_eq!(
                        read_back(&f, kind, &key).await[field],
                        value,
                        "{id} changed {field}"
                    );
                }
                _ => {}
            }
        }
        if let Some(get) = kind.routes.iter().find(|(_, o)| matches!(o, Op::Get)) {
            let path = filled(&contract::operation(get.0).expect("route").path, &key);
            let (_, now) = call(&f.app, "GET", &path, Some(&f.viewer), None).await;
            kept.push((path, now));
        }
    }
    assert!(kept.len() >= 15, "{} kinds read back", kept.len());

    // A restart: a new store and listener over the same file answer the same objects.
    let path = f.dir.path().join("w.db");
    let admin = f.admin.clone();
    drop(f.app);
    drop(f.store);
    let store = Arc::new(Store::open(&path).expect("reopen"));
    let app = router_over(&store);
    for (path, before) in kept {
        let (status, after) = call(&app, "GET", &path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{path} after a restart");
        assert_eq!(after, before, "{path} after a restart");
    }
}

/// The stored object, through the kind's get route or else its list.
async fn read_back(f: &Fixture, kind: &catalog::Kind, key: &str) -> Value {
    for (id, op) in kind.routes {
        let path = &contract::operation(id).expect("route").path;
        match op {
            Op::Get => {
                return call(&f.app, "GET", &filled(path, key), Some(&f.viewer), None)
                    .await
                    .1;
            }
            Op::List => {
                let (_, list) = call(&f.app, "GET", path, Some(&f.viewer), None).await;
                if let Some(found) = list[kind.list_field]
                    .as_array()
                    .and_then(|items| items.iter().find(|o| o[kind.key] == key))
                {
                    return found.clone();
                }
            }
            _ => {}
        }
    }
    Value::Null
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_is_stored() {
    let f = fixture();
    // The first read brings users and groups in from the connections (one engine event).
    call(&f.app, "GET", "/api/v1/users", Some(&f.admin), None).await;
    let audit_count = |store: &Store| -> i64 {
        store
            .read(|c| {
                c.query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))
                    .map_err(ueba_core::StoreError::from)
            })
            .expect("count")
    };
    let before = audit_count(&f.store);
    // A wrong type inside the wrapped object.
    let (status, body) = call(
        &f.app,
        "POST",
        "/api/v1/apps",
        Some(&f.admin),
        Some(json!({"app": {"name": "x", "port": "eighty"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("app.port"),
        "{body}"
    );
    // A field the schema does not have.
    let (status, body) = call(
        &f.app,
        "POST",
        "/api/v1/posture_attributes",
        Some(&f.admin),
        Some(json!({"name": "disk", "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("colour"),
        "{body}"
    );
    // Not JSON; no body; an unknown query parameter; an unknown key.
    let (status, body) = call_raw(&f.app, "POST", "/api/v1/cards", &f.admin, "{nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("JSON"),
        "{body}"
    );
    let (status, body) = call(&f.app, "POST", "/api/v1/cards", Some(&f.admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(
        &f.app,
        "GET",
        "/api/v1/apps?colour=red",
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("colour"),
        "{body}"
    );
    let (status, body) = call(&f.app, "GET", "/api/v1/apps/nope", Some(&f.admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // A duplicate key.
    let blob = json!({"key": "k1", "data": "hello"});
    let (status, _) = call(
        &f.app,
        "POST",
        "/api/v1/blobs",
        Some(&f.admin),
        Some(blob.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&f.app, "POST", "/api/v1/blobs", Some(&f.admin), Some(blob)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // An update whose body names another object, or deletes the key.
    let (_, access) = call(
        &f.app,
        "POST",
        "/api/v1/accesses",
        Some(&f.admin),
        Some(json!({"description": "ops on db"})),
    )
    .await;
    let uuid = access["uuid"].as_str().expect("uuid").to_owned();
    let path = format!("/api/v1/accesses/{uuid}");
    let (status, body) = call(
        &f.app,
        "PUT",
        &path,
        Some(&f.admin),
        Some(json!({"uuid": "another", "access": {"description": "x"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(
        &f.app,
        "PUT",
        &path,
        Some(&f.admin),
        Some(json!({"access": {}, "attributes_to_delete": ["uuid"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, read) = call(&f.app, "GET", &path, Some(&f.admin), None).await;
    assert_eq!(read, access, "refused updates changed nothing");
    // Unknown fields to delete, and the actions' own required fields, are named.
    let (status, body) = call(
        &f.app,
        "PUT",
        &path,
        Some(&f.admin),
        Some(json!({"access": {}, "attributes_to_delete": ["colour"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("colour"),
        "{body}"
    );
    for (path, bad, field) in [
        ("/api/v1/onboarding", json!({}), "onboarding"),
        ("/api/v1/apps/deploy", json!({}), "app"),
        ("/api/v1/devices/delete", json!({"devices": []}), "devices"),
        (
            "/api/v1/devices/delete",
            json!({"devices": [{"uuid": "nope"}]}),
            "devices[0].uuid",
        ),
        (
            "/api/v1/documents/doc-1/revoke_access",
            json!({}),
            "access_id",
        ),
    ] {
        let method = if path == "/api/v1/onboarding" {
            "PUT"
        } else {
            "POST"
        };
        let (status, body) = call(&f.app, method, path, Some(&f.admin), Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains(field),
            "{path}: {body}"
        );
    }
    // Two changes stored (the blob and the access), nothing else audited.
    assert_eq!(audit_count(&f.store) - before, 2);
}

async fn call_raw(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn connection_users_are_users_and_their_roles_groups() {
    let f = fixture();
    let (status, users) = call(&f.app, "GET", "/api/v1/users", Some(&f.viewer), None).await;
    assert_eq!(status, StatusCode::OK);
    let users = users["users"].as_array().cloned().unwrap_or_default();
    let distinct: i64 = f
        .store
        .read(|c| {
            c.query_row("SELECT count(DISTINCT user) FROM connections", [], |r| {
                r.get(0)
            })
            .map_err(ueba_core::StoreError::from)
        })
        .expect("count");
    assert_eq!(
        users.len() as i64,
        distinct,
        "one Lacework user per connection user"
    );
    assert!(users
        .iter()
        .all(|u| u["source_user_id"].as_str().is_some_and(|s| !s.is_empty())));

    let (_, groups) = call(&f.app, "GET", "/api/v1/groups", Some(&f.viewer), None).await;
    let groups = groups["groups"].as_array().cloned().unwrap_or_default();
    let role_group = groups
        .iter()
        .find(|g| g["user_count"].as_i64().unwrap_or(0) > 0)
        .expect("a role group with members");
    let uuid = role_group["uuid"].as_str().expect("uuid");
    let (status, members) = call(
        &f.app,
        "GET",
        &format!("/api/v1/groups/{uuid}/users"),
        Some(&f.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        members["users"].as_array().map(Vec::len),
        role_group["user_count"].as_u64().map(|n| n as usize)
    );

    // A group an analyst makes, and its (swapped) update answer.
    let (status, group) = call(
        &f.app,
        "POST",
        "/api/v1/groups",
        Some(&f.admin),
        Some(json!({"name": "dba", "description": "database admins"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let g = group["uuid"].as_str().expect("uuid");
    let (status, updated) = call(
        &f.app,
        "PUT",
        &format!("/api/v1/groups/{g}"),
        Some(&f.admin),
        Some(json!({"description": "DBAs"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["group"]["description"], "DBAs");
    assert_eq!(updated["uuid"], g);

    // A user update guarded by record_update_time: the current one passes, a stale one is 409.
    let user = users[0]["uuid"].as_str().expect("uuid").to_owned();
    let seen = users[0]["record_update_time"].clone();
    let path = format!("/api/v1/users/{user}");
    let change = |name: &str| json!({"record_update_time": seen, "user": {"display_name": name}});
    let (status, first) = call(&f.app, "PUT", &path, Some(&f.admin), Some(change("First"))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_ne!(first["record_update_time"], seen);
    let (status, body) = call(&f.app, "PUT", &path, Some(&f.admin), Some(change("Second"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, now) = call(&f.app, "GET", &path, Some(&f.admin), None).await;
    assert_eq!(now["display_name"], "First");

    // A user made over the API must not stand for a connection user that already has one.
    let taken = users[0]["source_user_id"].clone();
    let (status, body) = call(
        &f.app,
        "POST",
        "/api/v1/users",
        Some(&f.admin),
        Some(json!({"user": {"display_name": "dup", "source_user_id": taken}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains("source_user_id"));
}

/// Calls a route as admin, expecting its documented success status and schema.
async fn ok(f: &Fixture, route: &str, key: &str, query: &str, body: Option<Value>) -> Value {
    let op = contract::operation(route).expect("route");
    let path = format!("{}{query}", filled(&op.path, key));
    let (status, answer) = call(&f.app, &op.method, &path, Some(&f.admin), body).await;
    assert_eq!(
        status.as_u16(),
        op.success_status,
        "{route} {path}: {answer}"
    );
    op.check_answer(&answer)
        .unwrap_or_else(|e| panic!("{route}: {e}\n{answer}"));
    answer
}

#[tokio::test]
async fn the_long_tail_actions_do_what_they_say() {
    let f = fixture();
    // The account and its onboarding; signing the EULA records who signed.
    let account = ok(&f, "003-005", "workbench", "", None).await;
    assert_eq!(account["name"], "workbench");
    let (status, _) = call(
        &f.app,
        "GET",
        "/api/v1/accounts/other",
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ok(&f, "003-074", "", "", None).await["eula_signed"], false);
    let signed = ok(
        &f,
        "003-075",
        "",
        "",
        Some(json!({"onboarding": {"eula_signed": true, "eula_version": "1"}})),
    )
    .await;
    assert_eq!(signed["eula_signing_user_display_name"], "root");
    assert_eq!(
        ok(&f, "003-005", "workbench", "", None).await["onboarding"]["eula_version"],
        "1"
    );

    // Deploying an app stores it ACTIVE; deploying it again changes the same app.
    let deployed = ok(
        &f,
        "003-022",
        "",
        "",
        Some(json!({"app": {"name": "crm", "host": "crm.local", "status": 1}})),
    )
    .await;
    assert_eq!(deployed["app"]["status"], 2);
    let uuid = deployed["app"]["uuid"].as_str().expect("uuid").to_owned();
    let again = ok(
        &f,
        "003-022",
        "",
        "",
        Some(json!({"app": {"uuid": uuid, "port": 8443}})),
    )
    .await;
    assert_eq!(
        (again["app"]["uuid"].as_str(), again["app"]["port"].as_i64()),
        (Some(uuid.as_str()), Some(8443))
    );
    assert_eq!(
        ok(&f, "003-019", "", "", None).await["apps"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Reference data and this workbench's own gateway.
    let countries = ok(&f, "003-045", "", "", None).await;
    assert!(countries["countries"]
        .as_array()
        .is_some_and(|c| c.len() > 200));
    assert!(countries["countries"]
        .as_array()
        .is_some_and(|c| c.iter().any(|x| x["country_code"] == "FI")));
    assert_eq!(
        ok(&f, "003-065", "", "", None).await["gateways"][0]["vip"],
        "127.0.0.1"
    );

    // Data exports: the bucket policy and a local check of the stored configuration.
    let policy = ok(
        &f,
        "003-052",
        "",
        "",
        Some(json!({"s3_bucket_name": "ueba-exports"})),
    )
    .await;
    assert!(policy.to_string().contains("arn:aws:s3:::ueba-exports/*"));
    let (status, body) = call(
        &f.app,
        "POST",
        "/api/v1/data_exports/s3_bucket_policy",
        Some(&f.admin),
        Some(json!({"s3_bucket_name": "Bad_Name"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let export = ok(&f, "003-050", "", "", Some(json!({"s3_bucket_name": "ueba-exports", "s3_bucket_account_id": "123456789012", "data_export_types": [1]}))).await;
    let checked = ok(&f, "003-053", "", "", Some(json!({"uuid": export["uuid"]}))).await;
    assert_eq!(checked["status"], "VALID", "{checked}");
    let bad = ok(
        &f,
        "003-050",
        "",
        "",
        Some(json!({"s3_bucket_name": "ueba-exports", "s3_bucket_account_id": "12"})),
    )
    .await;
    let checked = ok(&f, "003-053", "", "", Some(json!({"uuid": bad["uuid"]}))).await;
    assert_eq!(checked["status"], "INVALID");
    assert!(checked["error_message"]
        .as_str()
        .unwrap_or("")
        .contains("s3_bucket_account_id"));

    // Integrations: credentials are kept hashed and answered blank; validation is local.
    let integration = ok(
        &f,
        "003-069",
        "",
        "",
        Some(json!({"display_name": "okta", "credentials": {"client_secret": "s3cret"}})),
    )
    .await;
    assert_eq!(integration["credentials"]["client_secret"], "");
    let stored: String = f
        .store
        .read(|c| {
            c.query_row(
                "SELECT body FROM catalog_objects WHERE kind = 'integration'",
                [],
                |r| r.get(0),
            )
            .map_err(ueba_core::StoreError::from)
        })
        .expect("row");
    assert!(
        !stored.contains("s3cret") && stored.contains("sha256:"),
        "{stored}"
    );
    assert_eq!(
        ok(
            &f,
            "003-072",
            "",
            "",
            Some(json!({"uuid": integration["uuid"]}))
        )
        .await["status"],
        "SUCCESS"
    );

    // A connector deployment makes a connector whose token is shown once.
    let deployment = ok(&f, "003-057", "", "", Some(json!({}))).await;
    let token = deployment["connector"]["access_token"]
        .as_str()
        .unwrap_or("");
    assert_eq!(token.len(), 32);
    let name = deployment["connector"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    assert_eq!(ok(&f, "003-044", &name, "", None).await["access_token"], "");
    let options = ok(&f, "003-058", "", "", None).await;
    assert_eq!(options["options"][0]["entity_id"], name.as_str());

    // Devices: registered for a user, listed under them, deleted all or nothing.
    let (_, users) = call(&f.app, "GET", "/api/v1/users", Some(&f.admin), None).await;
    let user = users["users"][0]["uuid"].as_str().expect("user").to_owned();
    let device = ok(&f, "003-060", "", "", Some(json!({"device": {"display_name": "laptop", "user_uuid": user, "private_key_encrypted": "k"}}))).await;
    let device_uuid = device["uuid"].as_str().expect("uuid").to_owned();
    assert_eq!(device["private_key_encrypted"], "");
    assert_eq!(
        ok(&f, "003-099", &user, "", None).await["devices"][0]["uuid"],
        device_uuid.as_str()
    );
    let (status, _) = call(
        &f.app,
        "POST",
        "/api/v1/devices/delete",
        Some(&f.admin),
        Some(json!({"devices": [{"uuid": device_uuid}, {"uuid": "missing"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(
        &f.app,
        "POST",
        "/api/v1/devices/delete",
        Some(&f.admin),
        Some(json!({"devices": [{"uuid": device_uuid, "user_uuid": "someone-else"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("devices[0].user_uuid"),
        "{body}"
    );
    ok(&f, "003-061", &device_uuid, "", None).await;
    let deleted = ok(
        &f,
        "003-059",
        "",
        "",
        Some(json!({"devices": [{"uuid": device_uuid, "user_uuid": user}]})),
    )
    .await;
    assert_eq!(deleted["uuid"], device_uuid.as_str());
    let (status, _) = call(
        &f.app,
        "GET",
        &format!("/api/v1/devices/{device_uuid}"),
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Documents (stored by the CLI's catalog put): revoking one access, then all sharing.
    let kind = catalog::kind("document").expect("kind");
    catalog::put(
        &f.store,
        &ueba_core::response::audit::Actor::engine(),
        kind,
        &json!({
            "identity": {"id": "doc-1", "display": "plan.xlsx"},
            "is_shared": true, "is_shared_externally": true,
            "external_access": [
                {"access_id": "a1", "target_identity": {"external": true}},
                {"access_id": "a2", "target_identity": {"external": false}},
            ],
        }),
    )
    .expect("put");
    let doc = ok(&f, "003-063", "doc-1", "", Some(json!({"access_id": "a1"}))).await;
    assert_eq!(
        (
            doc["is_shared"].as_bool(),
            doc["is_shared_externally"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let (status, _) = call(
        &f.app,
        "POST",
        "/api/v1/documents/doc-1/revoke_access",
        Some(&f.admin),
        Some(json!({"access_id": "a1"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a revoked access is gone");
    let doc = ok(&f, "003-064", "doc-1", "", Some(json!({}))).await;
    assert_eq!(doc["external_access"], json!([]));
    assert_eq!(ok(&f, "003-062", "doc-1", "", None).await, doc);

    // QS views summarise the connections of a time range.
    let view = ok(
        &f,
        "003-088",
        "connections_by_user",
        "?start_time=0&end_time=9999999999999",
        None,
    )
    .await;
    let total: i64 = view["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["connections"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(total, 1_500);
    let (status, body) = call(
        &f.app,
        "GET",
        "/api/v1/qs_views/nope?start_time=0&end_time=1",
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains("connections_by_host"));
    let (status, _) = call(
        &f.app,
        "GET",
        "/api/v1/qs_views/connections_by_user?start_time=x&end_time=1",
        Some(&f.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
