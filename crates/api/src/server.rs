//! Starting and stopping the listener: binding (loopback unless told otherwise), TLS with the
//! local CA, the router with its layers, and graceful shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use serde::{Deserialize, Serialize};
use tower_http::catch_panic::CatchPanicLayer;
use ueba_core::Store;

use crate::error::{ApiError, ErrorCode};
use crate::extract::MAX_JSON_BODY;
use crate::journal::{self, JournalWriter};
use crate::openapi::api_router;
use crate::state::ApiState;

/// Default port.
pub const DEFAULT_PORT: u16 = 8443;
/// How long open requests may take to finish when the listener stops.
const GRACE: Duration = Duration::from_secs(10);

/// How to listen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerConfig {
    /// TCP port; 0 picks a free one.
    pub port: u16,
    /// Addresses to bind; empty means 127.0.0.1 and ::1.
    pub bind: Vec<IpAddr>,
    /// HTTPS with the local CA instead of plain HTTP.
    pub tls: bool,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            bind: Vec::new(),
            tls: false,
        }
    }
}

impl ListenerConfig {
    /// Whether the listener would be reachable from other machines (the user must be warned).
    pub fn beyond_loopback(&self) -> bool {
        self.bind.iter().any(|a| !a.is_loopback())
    }
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// An address could not be bound; a taken or privileged port says so plainly.
    #[error("{}", bind_message(addr, source))]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS material could not be made or loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server could not start.
    #[error("cannot start the listener: {0}")]
    Start(std::io::Error),
}

fn bind_message(addr: &SocketAddr, source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "Port {} is already in use on {}: another program (or another listener) is using it. \
             Choose another port, or stop that program.",
            addr.port(),
            addr.ip()
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "Not allowed to listen on port {} ({source}): ports below 1024 need administrator \
             rights. Choose a port from 1024 up.",
            addr.port()
        ),
        _ => format!("cannot listen on {addr}: {source}"),
    }
}

/// What a running listener is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerInfo {
    /// The URL to give clients (the first address).
    pub url: String,
    /// Every bound address.
    pub addresses: Vec<SocketAddr>,
    /// The port.
    pub port: u16,
    /// Whether it speaks HTTPS.
    pub tls: bool,
}

/// A running listener; [`RunningListener::stop`] shuts it down gracefully.
#[derive(Debug)]
pub struct RunningListener {
    info: ListenerInfo,
    handles: Vec<Handle<SocketAddr>>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    journal: JournalWriter,
    state: ApiState,
}

fn url_for(addr: &SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    match addr.ip() {
        IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("{scheme}://{ip}:{}", addr.port()),
    }
}

fn bind_all(config: &ListenerConfig) -> Result<Vec<std::net::TcpListener>, ListenError> {
    let defaulted = config.bind.is_empty();
    let ips: Vec<IpAddr> = if defaulted {
        vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]
    } else {
        config.bind.clone()
    };
    let mut listeners: Vec<std::net::TcpListener> = Vec::new();
    let mut port = config.port;
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => {
                if port == 0 {
                    // Every address shares the port the first one was given.
                    port = listener.local_addr().map_err(ListenError::Start)?.port();
                }
                listeners.push(listener);
            }
            // A machine without IPv6 still serves on 127.0.0.1.
            Err(e) if defaulted && ip.is_ipv6() && !listeners.is_empty() => {
                tracing::warn!("not listening on {addr}: {e}");
            }
            Err(source) => return Err(ListenError::Bind { addr, source }),
        }
    }
    Ok(listeners)
}

/// The router of a listener with `state`: every route, the request journal, the body limit and
/// PrivX-shaped answers for unknown paths and methods.
pub fn router(state: ApiState) -> Router {
    let (router, _) = api_router().split_for_parts();
    router
        .fallback(|uri: axum::http::Uri| async move {
            refusal(
                &uri,
                StatusCode::NOT_FOUND,
                ErrorCode::GeneralError,
                "Resource not found",
            )
        })
        .method_not_allowed_fallback(|uri: axum::http::Uri| async move {
            refusal(
                &uri,
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::BadRequest,
                "method not allowed on this path (see /openapi.json)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        // A bug in a handler answers 500 in the PrivX shape instead of dropping the connection.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::GeneralError,
                    "Internal server error",
                )
                .into_response()
            },
        ))
        .layer(axum::middleware::from_fn(close_after_unread_body))
        .layer(axum::middleware::from_fn(foreground_work))
        .layer(axum::middleware::from_fn_with_state(
            state.journal.clone(),
            journal::record,
        ))
        .with_state(state)
}

/// An unknown path or method, in the shape of the surface the path belongs to.
fn refusal(
    uri: &axum::http::Uri,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> axum::response::Response {
    if uri.path().starts_with("/api/v1/") {
        crate::lacework::error::LaceworkError::new(status, message).into_response()
    } else if uri.path().starts_with("/rest/") {
        crate::cybereason::error::CybereasonError::new(status, message).into_response()
    } else {
        ApiError::new(status, code, message).into_response()
    }
}

/// Counts every request as foreground work, so a background training steps aside meanwhile.
async fn foreground_work(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let _work = ueba_core::foreground::begin();
    next.run(request).await
}

/// A refusal sent before the request body was read (401, 403, 404, 405, 413) leaves the body
/// unread, and the server then closes the connection; saying so in the answer lets HTTP/1.1
/// clients open a new connection instead of failing their next request on the dead one.
async fn close_after_unread_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let http1 = request.version() <= axum::http::Version::HTTP_11;
    let has_body = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() != "0")
        || request
            .headers()
            .contains_key(axum::http::header::TRANSFER_ENCODING);
    let mut response = next.run(request).await;
    let early = matches!(response.status().as_u16(), 401 | 403 | 404 | 405 | 413);
    if http1 && has_body && early {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Starts the listener on the current tokio runtime.
pub async fn start(
    store: Arc<Store>,
    config: &ListenerConfig,
) -> Result<RunningListener, ListenError> {
    let listeners = bind_all(config)?;
    let addresses: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()
        .map_err(ListenError::Start)?;
    let first = addresses[0];
    let info = ListenerInfo {
        url: url_for(&first, config.tls),
        port: first.port(),
        tls: config.tls,
        addresses: addresses.clone(),
    };
    let tls = if config.tls {
        Some(tls_config(&store, config).await?)
    } else {
        None
    };
    let (queue, journal) = journal::start_writer(Arc::clone(&store));
    let state = ApiState::new(
        Arc::clone(&store),
        queue,
        &info.url,
        tls.as_ref().map(|(_, ca)| ca.clone()),
    );
    let app = router(state.clone());
    let mut handles = Vec::new();
    let mut tasks = Vec::new();
    for listener in listeners {
        let handle = Handle::new();
        let service = app
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        let task = match &tls {
            Some((rustls, _)) => {
                let server = axum_server::from_tcp_rustls(listener, rustls.clone())
                    .map_err(ListenError::Start)?
                    .handle(handle.clone());
                tokio::spawn(server.serve(service))
            }
            None => {
                let server = axum_server::from_tcp(listener)
                    .map_err(ListenError::Start)?
                    .handle(handle.clone());
                tokio::spawn(server.serve(service))
            }
        };
        handles.push(handle);
        tasks.push(task);
    }
    tracing::info!(url = %info.url, "REST listener started");
    Ok(RunningListener {
        info,
        handles,
        tasks,
        journal,
        state,
    })
}

async fn tls_config(
    store: &Arc<Store>,
    config: &ListenerConfig,
) -> Result<(RustlsConfig, String), ListenError> {
    // One process-wide crypto provider (ring); a second install is refused and harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let extra: Vec<String> = config
        .bind
        .iter()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .map(ToString::to_string)
        .collect();
    let store = Arc::clone(store);
    let material = tokio::task::spawn_blocking(move || ueba_core::tls::ensure(&store, &extra))
        .await
        .map_err(|e| ListenError::Tls(e.to_string()))?
        .map_err(|e| ListenError::Tls(e.to_string()))?;
    let chain = format!("{}{}", material.server_cert_pem, material.ca_cert_pem);
    let rustls = RustlsConfig::from_pem(chain.into_bytes(), material.server_key_pem.into_bytes())
        .await
        .map_err(|e| ListenError::Tls(e.to_string()))?;
    Ok((rustls, material.ca_cert_pem))
}

impl RunningListener {
    /// Where it listens.
    pub fn info(&self) -> &ListenerInfo {
        &self.info
    }

    /// Stops accepting, lets open requests finish (up to 10 s), writes the last journal lines.
    /// With `cancel_trainings`, trainings started through the API are cancelled and waited for
    /// (the CLI does this before exiting; the desktop app lets them run on).
    pub async fn stop(self, cancel_trainings: bool) {
        for handle in &self.handles {
            handle.graceful_shutdown(Some(GRACE));
        }
        for task in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("listener ended with an error: {e}"),
                Err(e) => tracing::warn!("listener task failed: {e}"),
            }
        }
        if cancel_trainings {
            let state = self.state.clone();
            let _ = tokio::task::spawn_blocking(move || state.cancel_trainings()).await;
        }
        drop(self.state);
        self.journal.finish().await;
        tracing::info!(url = %self.info.url, "REST listener stopped");
    }
}
