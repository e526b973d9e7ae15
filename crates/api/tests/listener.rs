//! The listener in-process: scopes, error shapes, the OpenAPI document against the route table,
//! graceful shutdown with the request journal written.

use std::io::{Read, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use ueba_api::journal;
use ueba_api::state::ApiState;
use ueba_api::{ListenerConfig, RunningListener};
use ueba_core::auth::{self, Role};
use ueba_core::journal::JournalFilter;
use ueba_core::Store;

/// The project's API contract.
const ROUTES: &str = include_str!("../../../spec/routes.tsv");

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    admin: String,
    user: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(&dir.path().join("w.db")).expect("open"));
    auth::add_account(&store, "root", Role::Admin, "password-1").expect("admin");
    auth::add_account(&store, "plain", Role::User, "password-2").expect("user");
    let client = auth::add_client(&store, "tests", None).expect("client");
    let admin = auth::password_grant(&store, &client.client, "root", "password-1")
        .expect("token")
        .access_token;
    let user = auth::password_grant(&store, &client.client, "plain", "password-2")
        .expect("token")
        .access_token;
    Fixture {
        _dir: dir,
        store,
        admin,
        user,
    }
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn app(f: &Fixture) -> axum::Router {
    let (queue, _writer) = journal::start_writer(Arc::clone(&f.store));
    ueba_api::router(ApiState::new(
        Arc::clone(&f.store),
        queue,
        "http://127.0.0.1:0",
        None,
    ))
}

#[tokio::test]
async fn scopes_decide_between_401_403_and_success() {
    let f = fixture();
    let app = app(&f);
    let path = "/connection-manager/api/v1/ueba/status";
    let (status, body) = call(&app, "GET", path, None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_code"], "PERMISSION_DENIED");
    let (status, _) = call(&app, "GET", path, Some("not.a-token"), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(&app, "GET", path, Some(&f.user), "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error_message"]
        .as_str()
        .is_some_and(|m| m.contains("scope insufficient")));
    let (status, body) = call(&app, "GET", path, Some(&f.admin), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["status"].is_string());
    // stop-analyzing also accepts the `user` scope.
    let (status, _) = call(
        &app,
        "POST",
        "/connection-manager/api/v1/ueba/stop-analyzing",
        Some(&f.user),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_is_refused_in_the_privx_shape_and_nothing_is_stored() {
    let f = fixture();
    let app = app(&f);
    let datasets = "/connection-manager/api/v1/ueba/datasets";
    let (status, body) = call(&app, "POST", datasets, Some(&f.admin), "{").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BAD_REQUEST"))
    );
    let (status, body) = call(&app, "POST", datasets, Some(&f.admin), "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "REQUIRED_VALUE_MISSING");
    assert_eq!(body["property"], "time_range_settings");
    let huge = format!(
        r#"{{"time_range_settings": {{}}, "comment": "{}"}}"#,
        "x".repeat(2 << 20)
    );
    let (status, _) = call(&app, "POST", datasets, Some(&f.admin), &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = call(&app, "GET", datasets, Some(&f.admin), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["count"], 0,
        "nothing was stored by the refused requests"
    );
    let (status, body) = call(
        &app,
        "POST",
        "/connection-manager/api/v1/ueba/anomaly-settings",
        Some(&f.admin),
        r#"{"action": "BLOCK", "threshold": 1.5}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "VALUE_OUT_OF_BOUNDS");
    assert_eq!(body["property"], "threshold");
    let (status, body) = call(
        &app,
        "GET",
        "/connection-manager/api/v1/ueba/datasets/00000000-0000-4000-8000-000000000000",
        Some(&f.admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error_code"].is_string());
    let (status, body) = call(&app, "GET", "/no/such/path", Some(&f.admin), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error_code"].is_string());
    let (status, body) = call(&app, "DELETE", datasets, Some(&f.admin), "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error_code"].is_string());
}

#[test]
fn the_openapi_document_covers_every_privx_route_of_the_contract() {
    let json = ueba_api::openapi::document();
    let mut rows = 0;
    for line in ROUTES.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 7 || cols[1] != "privx" {
            continue;
        }
        rows += 1;
        let (method, path, status) = (cols[3].to_ascii_lowercase(), cols[4], cols[5]);
        let operation = &json["paths"][path][&method];
        assert!(
            operation.is_object(),
            "{method} {path} is not in /openapi.json"
        );
        assert!(
            operation["responses"][status].is_object(),
            "{method} {path} does not document its success status {status}"
        );
    }
    assert_eq!(rows, 18, "the contract lists 18 PrivX operations");
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_binds_loopback_journals_requests_and_stops_gracefully() {
    let f = fixture();
    let listener: RunningListener = ueba_api::start(
        Arc::clone(&f.store),
        &ListenerConfig {
            port: 0,
            ..ListenerConfig::default()
        },
    )
    .await
    .expect("start");
    let info = listener.info().clone();
    assert!(info.url.starts_with("http://127.0.0.1:"));
    assert!(info.addresses.iter().all(|a| a.ip().is_loopback()));
    let addr = info.addresses[0];
    let answer = tokio::task::spawn_blocking(move || {
        http_get(addr, "/connection-manager/api/v1/ueba/status")
    })
    .await
    .expect("request");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    listener.stop(true).await;
    // Stopped: nothing accepts connections any more, and the journal holds the request.
    assert!(std::net::TcpStream::connect(addr).is_err());
    let page = ueba_core::journal::query(&f.store, &JournalFilter::default()).expect("journal");
    assert_eq!(page.total, 1);
    let line = &page.items[0].entry;
    assert_eq!(
        (
            line.method.as_str(),
            line.path.as_str(),
            line.status,
            line.surface.as_str()
        ),
        (
            "GET",
            "/connection-manager/api/v1/ueba/status",
            401,
            "privx"
        )
    );
    assert!(line.caller.starts_with("127.0.0.1:"));
}

#[tokio::test]
async fn a_taken_port_is_named_plainly() {
    let f = fixture();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let error = ueba_api::start(
        Arc::clone(&f.store),
        &ListenerConfig {
            port,
            ..ListenerConfig::default()
        },
    )
    .await
    .expect_err("the port is taken");
    let message = error.to_string();
    assert!(
        message.contains(&format!("Port {port} is already in use")),
        "{message}"
    );
}
