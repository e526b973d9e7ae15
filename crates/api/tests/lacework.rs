//! The Lacework Edge alert, investigation, policy and audit routes in-process: who may call them, the
//! `{"message"}` error shape, and that each answers what the core recorded.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use ueba_api::journal;
use ueba_api::state::ApiState;
use ueba_core::auth::{self, Role};
use ueba_core::demo::{generate_into_store, AttackWindow, DemoConfig};
use ueba_core::ueba::training::{self, TrainOptions};
use ueba_core::ueba::{analysis, datasets, scoring, DatasetInput, TimeRangeSettings};
use ueba_core::{CancelToken, Store};

const DAY: i64 = 86_400_000;
const END: i64 = 1_735_689_600_000;
const ROUTES: &str = include_str!("../../../spec/routes.tsv");

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    app: axum::Router,
    /// Tokens by role: admin, user (analyst), connectionsView (viewer).
    admin: String,
    analyst: String,
    viewer: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Store::open(&dir.path().join("w.db")).expect("open"));
    let demo = DemoConfig {
        connections: 12_000,
        days: 30,
        attack_rate: 0.01,
        end_ms: END,
        attack_window: Some(AttackWindow {
            start_ms: END - 7 * DAY,
            end_ms: END,
        }),
        ..DemoConfig::default()
    };
    generate_into_store(&store, &demo, &|_, _| {}, &CancelToken::new()).expect("demo");
    let id = datasets::create(
        &store,
        &DatasetInput {
            time_range_settings: TimeRangeSettings {
                start: Some(END - 30 * DAY),
                end: Some(END - 7 * DAY),
                exclude: vec![],
            },
            comment: None,
            use_for_inference_once_trained: false,
        },
        None,
    )
    .expect("dataset");
    training::train_blocking(
        &store,
        &id,
        &TrainOptions::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .expect("train");
    analysis::start(&store, &id).expect("analyze");
    scoring::analyze_range(&store, None, None).expect("score");
    let client = auth::add_client(&store, "tests", None).expect("client");
    let token = |name: &str, role: Role| {
        auth::add_account(&store, name, role, "a password 123").expect("account");
        auth::password_grant(&store, &client.client, name, "a password 123")
            .expect("token")
            .access_token
    };
    let admin = token("root", Role::Admin);
    let analyst = token("dana", Role::User);
    let viewer = token("vic", Role::ConnectionsView);
    let app = router_over(&store);
    Fixture {
        _dir: dir,
        store,
        app,
        admin,
        analyst,
        viewer,
    }
}

/// A listener router over `store` (a new one has an empty token-verification cache).
fn router_over(store: &Arc<Store>) -> axum::Router {
    let (queue, _writer) = journal::start_writer(Arc::clone(store));
    ueba_api::router(ApiState::new(
        Arc::clone(store),
        queue,
        "http://127.0.0.1:0",
        None,
    ))
}

fn rebuild(f: &Fixture) -> axum::Router {
    router_over(&f.store)
}

async fn call(
    f: &Fixture,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value, Option<String>) {
    call_with(f, method, path, token.map(|t| format!("Bearer {t}")), body).await
}

/// A request with any Authorization header (or none).
async fn call_with(
    f: &Fixture,
    method: &str,
    path: &str,
    authorization: Option<String>,
    body: Value,
) -> (StatusCode, Value, Option<String>) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    let response = f
        .app
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 26)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        challenge,
    )
}

/// The vendor's error shape: exactly `{"message": "<text>"}`.
fn assert_message(body: &Value, contains: &str) {
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "only `message`: {body}");
    let message = object["message"].as_str().expect("a string message");
    assert!(
        message.contains(contains),
        "{message:?} should mention {contains:?}"
    );
}

/// The alert routes and what each needs.
const ALERT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/alerts"),
    ("POST", "/api/v1/alerts"),
    ("GET", "/api/v1/alerts/x"),
    ("GET", "/api/v1/alerts/x/investigation_actions"),
    ("POST", "/api/v1/alerts/x/investigation_actions"),
    ("POST", "/api/v1/alerts/investigation_actions"),
    ("GET", "/api/v1/audit_events"),
    ("GET", "/api/v1/audit_events/x"),
    ("GET", "/api/v1/policies"),
    ("POST", "/api/v1/policies"),
    ("GET", "/api/v1/policies/x"),
    ("PUT", "/api/v1/policies/x"),
    ("GET", "/api/v1/workflow_runs"),
    ("POST", "/api/v1/workflow_runs"),
    ("GET", "/api/v1/workflow_runs/x"),
    ("POST", "/api/v1/workflow_runs/x/answer"),
    ("GET", "/api/v1/workflows"),
    ("POST", "/api/v1/workflows"),
    ("GET", "/api/v1/workflows/x"),
    ("PUT", "/api/v1/workflows/x"),
    ("GET", "/api/v1/datasets"),
    ("POST", "/api/v1/datasets"),
    ("GET", "/api/v1/datasets/x"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens/temporary"),
    ("PUT", "/api/v1/tokens/x"),
];

#[tokio::test]
async fn without_a_valid_token_every_route_answers_401_in_the_lacework_shape() {
    let f = fixture();
    for (method, path) in ALERT_ROUTES {
        for token in [None, Some("not.a-token")] {
            let (status, body, challenge) = call(&f, method, path, token, json!({})).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_message(&body, "token");
            assert!(challenge.is_some_and(|c| c.starts_with("Bearer")));
        }
    }
}

#[tokio::test]
async fn roles_decide_who_reads_investigates_and_audits() {
    let f = fixture();
    // A viewer reads alerts but may not change them, nor read the audit trail.
    let (status, _, _) = call(&f, "GET", "/api/v1/alerts", Some(&f.viewer), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        ("POST", "/api/v1/alerts"),
        ("POST", "/api/v1/alerts/x/investigation_actions"),
        ("POST", "/api/v1/alerts/investigation_actions"),
        ("GET", "/api/v1/audit_events"),
    ] {
        let (status, body, _) = call(&f, method, path, Some(&f.viewer), json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_message(&body, "connectionsView");
    }
    // An analyst investigates but does not read the audit trail; an admin does.
    let (status, body, _) = call(
        &f,
        "GET",
        "/api/v1/audit_events/x",
        Some(&f.analyst),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_message(&body, "admin");
    let (status, body, _) = call(
        &f,
        "GET",
        "/api/v1/audit_events/x",
        Some(&f.admin),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_message(&body, "audit event x not found");
}

#[tokio::test]
async fn an_analyst_triages_an_alert_and_the_audit_trail_shows_it() {
    let f = fixture();
    let (status, body, _) = call(&f, "GET", "/api/v1/alerts", Some(&f.analyst), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let alerts = body["alerts"].as_array().expect("alerts");
    assert!(!alerts.is_empty());
    let alert = alerts[0].clone();
    for field in [
        "account_name",
        "assignment_time",
        "closed_time",
        "create_time",
        "description",
        "event_type",
        "incident_status",
        "owner_display_name",
        "owner_uuid",
        "policy_action_taken",
        "related_entities",
        "severity",
        "status",
        "update_time",
        "uuid",
    ] {
        assert!(alert.get(field).is_some(), "{field} missing from {alert}");
    }
    assert_eq!(alert["status"], 1);
    let uuid = alert["uuid"].as_str().expect("uuid").to_owned();

    // The alert by id, as listed.
    let (status, one, _) = call(
        &f,
        "GET",
        &format!("/api/v1/alerts/{uuid}"),
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!((status, &one), (StatusCode::OK, &alert));

    // Close with a reason, guarded by the update time just read.
    let close = json!({
        "alert_update_time": alert["update_time"],
        "action": {"action_type": 2, "close_with_reason": {"incident_status": 3, "note_text": "test traffic"}}
    });
    let path = format!("/api/v1/alerts/{uuid}/investigation_actions");
    let (status, done, _) = call(&f, "POST", &path, Some(&f.analyst), close.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["alert_uuid"], uuid.as_str());
    assert!(done["alert_update_time"].as_i64() > alert["update_time"].as_i64());
    assert_eq!(done["history_item"]["actor_display_name"], "dana");

    // The same request again carries a stale update time: 409, nothing changes.
    let (status, body, _) = call(&f, "POST", &path, Some(&f.analyst), close).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_message(&body, "read it again");

    // Closed alerts leave the default (open) list and come back with status_filter=CLOSED.
    let (_, open, _) = call(&f, "GET", "/api/v1/alerts", Some(&f.analyst), Value::Null).await;
    assert!(open["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .all(|a| a["uuid"] != uuid.as_str()));
    let (_, closed, _) = call(
        &f,
        "GET",
        "/api/v1/alerts?status_filter=CLOSED",
        Some(&f.analyst),
        Value::Null,
    )
    .await;
    assert_eq!(closed["alerts"].as_array().expect("alerts").len(), 1);
    assert_eq!(closed["alerts"][0]["incident_status"], 3);

    // The history.
    let (status, history, _) = call(&f, "GET", &path, Some(&f.viewer), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let items = history["investigation_actions"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["action"]["close_with_reason"]["incident_status"],
        3
    );

    // Exactly one audit event, naming the analyst, the door and the object, before and after.
    let (status, audit, _) = call(
        &f,
        "GET",
        "/api/v1/audit_events?start_time=0",
        Some(&f.admin),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<&Value> = audit["audit_events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["object_uuid"] == uuid.as_str())
        .collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(event["op"], "alert.investigate");
    assert_eq!(event["protocol"], "rest");
    assert_eq!(event["user_login"], "dana");
    assert_eq!(event["method"], "POST");
    assert_eq!(event["path"], path.as_str());
    assert_eq!(event["before"]["status"], 1);
    assert_eq!(event["after"]["status"], 3);
    let (status, again, _) = call(
        &f,
        "GET",
        &format!(
            "/api/v1/audit_events/{}",
            event["uuid"].as_str().expect("uuid")
        ),
        Some(&f.admin),
        Value::Null,
    )
    .await;
    assert_eq!((status, &again), (StatusCode::OK, event));
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_half_done() {
    let f = fixture();
    let (_, body, _) = call(&f, "GET", "/api/v1/alerts", Some(&f.analyst), Value::Null).await;
    let uuids: Vec<String> = body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .take(2)
        .map(|a| a["uuid"].as_str().expect("uuid").to_owned())
        .collect();
    let cases = [
        (
            "GET",
            "/api/v1/alerts?start_time=yesterday".to_owned(),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "start_time",
        ),
        (
            "GET",
            "/api/v1/alerts?status_filter=SOLVED".to_owned(),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "SOLVED",
        ),
        (
            "GET",
            "/api/v1/alerts/nope".to_owned(),
            Value::Null,
            StatusCode::NOT_FOUND,
            "alert nope not found",
        ),
        (
            "POST",
            "/api/v1/alerts".to_owned(),
            json!({}),
            StatusCode::BAD_REQUEST,
            "event_id",
        ),
        (
            "POST",
            "/api/v1/alerts".to_owned(),
            json!({"event_id": "no-such"}),
            StatusCode::NOT_FOUND,
            "event no-such not found",
        ),
        (
            "POST",
            "/api/v1/alerts".to_owned(),
            json!({"event_id": 5}),
            StatusCode::BAD_REQUEST,
            "event_id",
        ),
        (
            "POST",
            format!("/api/v1/alerts/{}/investigation_actions", uuids[0]),
            json!({"action": {"note": {"note_text": ""}}}),
            StatusCode::BAD_REQUEST,
            "note_text",
        ),
        (
            "POST",
            format!("/api/v1/alerts/{}/investigation_actions", uuids[0]),
            json!({"action": {"alert_status_change": {"new_status": 3}}}),
            StatusCode::BAD_REQUEST,
            "close_with_reason",
        ),
        (
            "POST",
            "/api/v1/alerts/investigation_actions".to_owned(),
            json!({"investigation_actions": []}),
            StatusCode::BAD_REQUEST,
            "at least one",
        ),
        (
            "GET",
            "/api/v1/no-such-resource".to_owned(),
            Value::Null,
            StatusCode::NOT_FOUND,
            "not found",
        ),
    ];
    for (method, path, body, expected, mention) in cases {
        let (status, answer, _) = call(&f, method, &path, Some(&f.analyst), body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        assert_message(&answer, mention);
    }
    // A malformed body.
    let (status, answer, _) =
        call(&f, "POST", "/api/v1/alerts", Some(&f.analyst), json!("{")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // A batch with one bad action applies nothing.
    let batch = json!({"investigation_actions": [
        {"alert_uuid": uuids[0], "action": {"note": {"note_text": "first"}}},
        {"alert_uuid": uuids[1], "action": {"close_with_reason": {"incident_status": 0}}}
    ]});
    let (status, answer, _) = call(
        &f,
        "POST",
        "/api/v1/alerts/investigation_actions",
        Some(&f.analyst),
        batch,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_message(&answer, "investigation_actions[1]");
    let (_, history, _) = call(
        &f,
        "GET",
        &format!("/api/v1/alerts/{}/investigation_actions", uuids[0]),
        Some(&f.analyst),
        Value::Null,
    )
    .await;
    assert_eq!(history["investigation_actions"], json!([]));
    // A good batch answers one response per action.
    let batch = json!({"investigation_actions": [
        {"alert_uuid": uuids[0], "action": {"note": {"note_text": "first"}}},
        {"alert_uuid": uuids[1], "action": {"update_owner": {"owner_uuid": ueba_core::response::audit::account_uuid("dana")}}}
    ]});
    let (status, answer, _) = call(
        &f,
        "POST",
        "/api/v1/alerts/investigation_actions",
        Some(&f.analyst),
        batch,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["responses"].as_array().map(Vec::len), Some(2));
}

#[test]
fn the_openapi_document_covers_every_lacework_route_of_the_contract() {
    let document = ueba_api::openapi::document();
    let rows: Vec<&str> = ROUTES
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("lacework"))
        .collect();
    assert_eq!(
        rows.len(),
        108,
        "the contract lists 108 Lacework operations"
    );
    for line in rows {
        let cols: Vec<&str> = line.split('\t').collect();
        let (method, path) = (cols[3].to_lowercase(), cols[4]);
        let op = &document["paths"][path][&method];
        assert!(op.is_object(), "{method} {path} missing from /openapi.json");
        assert!(
            op["responses"][cols[5]].is_object(),
            "{method} {path} documents its success status {}",
            cols[5]
        );
    }
}

#[tokio::test]
async fn an_admin_manages_policies_that_apply_to_new_alerts() {
    let f = fixture();
    let body = json!({
        "name": "close svc alerts",
        "action": 1,
        "type": 1,
        "priority": 2,
        "session_filter": {"include_any": [{"all": ["user:svc-*", "type:SSH"]}]}
    });
    // Only an admin creates; an analyst and a viewer read.
    let (status, answer, _) = call(
        &f,
        "POST",
        "/api/v1/policies",
        Some(&f.analyst),
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_message(&answer, "managing policies");
    let (status, created, _) = call(&f, "POST", "/api/v1/policies", Some(&f.admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], 2);
    assert_eq!(created["creator_display_name"], "root");
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    let (status, list, _) = call(
        &f,
        "GET",
        "/api/v1/policies?appid=a&userid=u&resolveDisplayNames=true",
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["policies"].as_array().map(Vec::len), Some(1));
    let path = format!("/api/v1/policies/{uuid}");
    let (status, one, _) = call(&f, "GET", &path, Some(&f.analyst), Value::Null).await;
    assert_eq!((status, &one), (StatusCode::OK, &created));

    // Bad input names what is wrong.
    for (body, mention) in [
        (
            json!({"name": "x", "session_filter": {"include_any": [{"all": ["host:"]}]}}),
            "include_any[0].all[0]",
        ),
        (json!({"name": "x", "action": 7}), "action"),
        (json!({"name": "x", "colour": "red"}), "colour"),
        (json!({"name": "x", "priority": "high"}), "priority"),
        (json!({"action": 3}), "name"),
    ] {
        let (status, answer, _) =
            call(&f, "POST", "/api/v1/policies", Some(&f.admin), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_message(&answer, mention);
    }

    // A partial update, then the same update with the now stale time.
    let update = json!({"expected_update_time": created["update_time"], "policy": {"priority": 9}});
    let (status, changed, _) = call(&f, "PUT", &path, Some(&f.admin), update.clone()).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["priority"].as_i64(), changed["name"].as_str()),
        (Some(9), Some("close svc alerts"))
    );
    let (status, answer, _) = call(&f, "PUT", &path, Some(&f.admin), update).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_message(&answer, "read it again");
    let (status, _, _) = call(
        &f,
        "PUT",
        "/api/v1/policies/nope",
        Some(&f.admin),
        json!({"policy": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Both changes are in the audit trail.
    let (_, audit, _) = call(
        &f,
        "GET",
        "/api/v1/audit_events",
        Some(&f.admin),
        Value::Null,
    )
    .await;
    let ops: Vec<&str> = audit["audit_events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["object_uuid"] == uuid.as_str())
        .map(|e| e["op"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ops, vec!["policy.update", "policy.create"]);
}

#[tokio::test]
async fn a_workflow_run_on_an_alert_is_answered_and_carried_out() {
    let f = fixture();
    let workflow = json!({
        "name": "close on approval",
        "answers": [
            {"answer": "Approve", "actions": [{"run": 3}]},
            {"answer": "Deny", "actions": []}
        ]
    });
    let (status, answer, _) = call(
        &f,
        "POST",
        "/api/v1/workflows",
        Some(&f.analyst),
        workflow.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, created, _) =
        call(&f, "POST", "/api/v1/workflows", Some(&f.admin), workflow).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["approval_ttl_sec"], 86_400);
    let wf = created["uuid"].as_str().expect("uuid").to_owned();
    let (status, list, _) =
        call(&f, "GET", "/api/v1/workflows", Some(&f.viewer), Value::Null).await;
    assert_eq!(
        (status, list["workflows"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let (status, renamed, _) = call(
        &f,
        "PUT",
        &format!("/api/v1/workflows/{wf}"),
        Some(&f.admin),
        json!({"title": "Close it?"}),
    )
    .await;
    assert_eq!(
        (status, renamed["title"].as_str(), renamed["name"].as_str()),
        (StatusCode::OK, Some("Close it?"), Some("close on approval"))
    );

    let (_, alerts, _) = call(&f, "GET", "/api/v1/alerts", Some(&f.analyst), Value::Null).await;
    let alert = alerts["alerts"][0]["uuid"]
        .as_str()
        .expect("alert")
        .to_owned();
    let (status, run, _) = call(
        &f,
        "POST",
        "/api/v1/workflow_runs",
        Some(&f.analyst),
        json!({"workflow_run": {"workflow_uuid": wf, "details": {"alert_uuid": alert}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], 2);
    let run_uuid = run["uuid"].as_str().expect("uuid").to_owned();
    let (_, pending, _) = call(
        &f,
        "GET",
        "/api/v1/workflow_runs?status=PENDING",
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!(pending["workflow_runs"].as_array().map(Vec::len), Some(1));

    let path = format!("/api/v1/workflow_runs/{run_uuid}/answer");
    let (status, _, _) = call(
        &f,
        "POST",
        &path,
        Some(&f.viewer),
        json!({"answer_index": "0"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body, _) = call(
        &f,
        "POST",
        &path,
        Some(&f.analyst),
        json!({"answer_index": "4"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_message(&body, "answer_index");
    let (status, done, _) = call(
        &f,
        "POST",
        &path,
        Some(&f.analyst),
        json!({"answer_index": "0", "justification": "seen it"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        (
            done["status"].as_i64(),
            done["approver_display_name"].as_str()
        ),
        (Some(3), Some("dana"))
    );
    let (status, body, _) = call(
        &f,
        "POST",
        &path,
        Some(&f.analyst),
        json!({"answer_index": "1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_message(&body, "no more answers");
    // The approval closed the alert.
    let (_, closed, _) = call(
        &f,
        "GET",
        &format!("/api/v1/alerts/{alert}"),
        Some(&f.analyst),
        Value::Null,
    )
    .await;
    assert_eq!(closed["status"], 3);
    let (status, one, _) = call(
        &f,
        "GET",
        &format!("/api/v1/workflow_runs/{run_uuid}"),
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!((status, &one), (StatusCode::OK, &done));
    let (status, body, _) = call(
        &f,
        "GET",
        "/api/v1/workflow_runs?status=LATE",
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_message(&body, "LATE");
}

#[tokio::test]
async fn lists_are_created_replaced_and_read() {
    let f = fixture();
    let body = json!({"dataset_name": "admin-hosts", "description": "hosts admins use", "items": ["db-01", "10.1.0.0/16"]});
    let (status, _, _) = call(
        &f,
        "POST",
        "/api/v1/datasets",
        Some(&f.analyst),
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, created, _) = call(&f, "POST", "/api/v1/datasets", Some(&f.admin), body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(
        (
            created["num_items"].as_i64(),
            created["current_version"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let (status, again, _) = call(
        &f,
        "POST",
        "/api/v1/datasets",
        Some(&f.admin),
        json!({"dataset_name": "admin-hosts", "items": ["db-02"]}),
    )
    .await;
    assert_eq!(
        (
            status,
            again["current_version"].as_i64(),
            again["uuid"].clone()
        ),
        (StatusCode::OK, Some(2), created["uuid"].clone())
    );
    let (status, got, _) = call(
        &f,
        "GET",
        "/api/v1/datasets/admin-hosts",
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        got["customer_dataset_items"][0]["list_item"]["value"],
        "db-02"
    );
    assert_eq!(got["dataset"]["dataset_name"], "admin-hosts");
    let (status, all, _) = call(&f, "GET", "/api/v1/datasets", Some(&f.viewer), Value::Null).await;
    assert_eq!(
        (status, all["customer_datasets"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    for (body, mention) in [
        (
            json!({"dataset_name": "bad name", "items": []}),
            "dataset_name",
        ),
        (
            json!({"dataset_name": "nets", "items": ["10.0.0/8"]}),
            "items[0]",
        ),
        (json!({"dataset_name": "x", "colour": 1}), "colour"),
    ] {
        let (status, answer, _) = call(&f, "POST", "/api/v1/datasets", Some(&f.admin), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_message(&answer, mention);
    }
    let (status, answer, _) = call(
        &f,
        "GET",
        "/api/v1/datasets/none",
        Some(&f.viewer),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_message(&answer, "none");
    // A policy may now use the list.
    let (status, policy, _) = call(
        &f,
        "POST",
        "/api/v1/policies",
        Some(&f.admin),
        json!({"name": "admin hosts", "action": 3, "session_filter": {"include_any": [{"all": ["list:admin-hosts"]}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
}

#[tokio::test]
async fn api_tokens_are_bearer_credentials_and_logins_answer_sessions() {
    let f = fixture();
    // An analyst may not hand out an admin token; its own role is fine.
    let (status, body, _) = call(
        &f,
        "POST",
        "/api/v1/tokens",
        Some(&f.analyst),
        json!({"name": "ci", "role": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_message(&body, "exceeds");
    let (status, created, _) = call(
        &f,
        "POST",
        "/api/v1/tokens",
        Some(&f.analyst),
        json!({"name": "ci", "description": "pipeline"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["role"], 2);
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    // The secret is a Bearer token of the analyst.
    let (status, _, _) = call(&f, "GET", "/api/v1/alerts", Some(&secret), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    // Listing never shows secrets; a viewer does not see the analyst's tokens.
    let (_, list, _) = call(&f, "GET", "/api/v1/tokens", Some(&f.analyst), Value::Null).await;
    assert_eq!(list["tokens"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["tokens"][0]["secret"], "");
    let (_, theirs, _) = call(&f, "GET", "/api/v1/tokens", Some(&f.viewer), Value::Null).await;
    assert_eq!(theirs["tokens"], json!([]));
    let (status, _, _) = call(
        &f,
        "PUT",
        &format!("/api/v1/tokens/{uuid}"),
        Some(&f.viewer),
        json!({"status": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Suspended, it is refused; active again, accepted. (Each call uses a fresh app, so no
    // verification cache hides the change.)
    let (status, suspended, _) = call(
        &f,
        "PUT",
        &format!("/api/v1/tokens/{uuid}"),
        Some(&f.analyst),
        json!({"status": 3}),
    )
    .await;
    assert_eq!(
        (status, suspended["status"].as_i64()),
        (StatusCode::OK, Some(3))
    );
    let fresh = Fixture {
        app: rebuild(&f),
        ..f
    };
    let (status, body, _) = call(&fresh, "GET", "/api/v1/alerts", Some(&secret), Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, all, _) = call(
        &fresh,
        "GET",
        "/api/v1/tokens?get_all=true",
        Some(&fresh.analyst),
        Value::Null,
    )
    .await;
    assert_eq!(all["tokens"].as_array().map(Vec::len), Some(1));
    let (_, active, _) = call(
        &fresh,
        "GET",
        "/api/v1/tokens",
        Some(&fresh.analyst),
        Value::Null,
    )
    .await;
    assert_eq!(active["tokens"], json!([]));
    call(
        &fresh,
        "PUT",
        &format!("/api/v1/tokens/{uuid}"),
        Some(&fresh.analyst),
        json!({"status": 2}),
    )
    .await;
    let again = Fixture {
        app: rebuild(&fresh),
        ..fresh
    };
    let (status, _, _) = call(&again, "GET", "/api/v1/alerts", Some(&secret), Value::Null).await;
    assert_eq!(status, StatusCode::OK);

    // Login with the account's password in HTTP Basic → a session whose token works.
    use base64::Engine as _;
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let (status, session, _) = call_with(
        &again,
        "GET",
        "/api/v1/login?account=workbench",
        Some(basic("dana", "a password 123")),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(
        (
            session["login_type"].as_i64(),
            session["user_role"].as_i64(),
            session["ttl_sec"].as_i64()
        ),
        (Some(1), Some(2), Some(3600))
    );
    let (status, _, _) = call(
        &again,
        "GET",
        "/api/v1/alerts",
        session["token"].as_str(),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (path, auth, mention) in [
        (
            "/api/v1/login",
            Some(basic("dana", "wrong")),
            "wrong account name or password",
        ),
        ("/api/v1/login", None, "HTTP Basic"),
        (
            "/api/v1/login?account=elsewhere",
            Some(basic("dana", "a password 123")),
            "unknown account",
        ),
        (
            "/api/v1/token_login",
            Some("Bearer nope.nope".to_owned()),
            "not valid",
        ),
    ] {
        let (status, body, _) = call_with(&again, "GET", path, auth, Value::Null).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_message(&body, mention);
    }
    let (status, session, _) = call_with(
        &again,
        "GET",
        "/api/v1/token_login",
        Some(format!("Bearer {secret}")),
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, session["login_type"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    // A temporary token for oneself.
    let (status, temp, _) = call(
        &again,
        "POST",
        "/api/v1/tokens/temporary",
        Some(&again.viewer),
        json!({"ttl_sec": 60}),
    )
    .await;
    assert_eq!(
        (status, temp["role"].as_i64()),
        (StatusCode::CREATED, Some(3))
    );
    let (status, body, _) = call(
        &again,
        "POST",
        "/api/v1/tokens/temporary",
        Some(&again.viewer),
        json!({"ttl_sec": 999999}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_message(&body, "ttl_sec");
}
