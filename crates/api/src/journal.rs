//! The request journal at the door: a middleware notes every request, a background task writes
//! the notes to the database in batches (one transaction per batch, so journaling adds no
//! database round trip to a request), and `GET /workbench/api/v1/journal` reads them back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::mpsc;
use ueba_core::journal::{self, JournalEntry};
use ueba_core::Store;

use crate::auth::CallerSlot;

/// Lines that may wait in memory; past this, lines are dropped (and counted) rather than
/// slowing requests down.
const QUEUE_CAPACITY: usize = 65_536;
/// Most lines written in one transaction.
const BATCH: usize = 4_096;
/// How often waiting lines are written.
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// The sending side of the journal queue.
#[derive(Debug, Clone)]
pub struct JournalQueue {
    sender: mpsc::Sender<JournalEntry>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

/// The task writing journal lines; finish it to write the last ones.
#[derive(Debug)]
pub struct JournalWriter {
    task: tokio::task::JoinHandle<()>,
}

impl JournalWriter {
    /// Waits until every line queued before the queue's last sender was dropped is written.
    pub async fn finish(self) {
        let _ = self.task.await;
    }
}

/// Starts the writer task on the current runtime.
pub fn start_writer(store: Arc<Store>) -> (JournalQueue, JournalWriter) {
    let (sender, mut receiver) = mpsc::channel::<JournalEntry>(QUEUE_CAPACITY);
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        // `recv_many` waits for the first line and answers 0 once every sender is gone and
        // the queue is empty: then all lines are written.
        while receiver.recv_many(&mut batch, BATCH).await > 0 {
            let store = Arc::clone(&store);
            let lines = std::mem::take(&mut batch);
            let written = tokio::task::spawn_blocking(move || {
                journal::append(&store, &lines, journal::DEFAULT_CAPACITY)
            })
            .await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("request journal lines lost: {e}"),
                Err(e) => tracing::warn!("request journal writer failed: {e}"),
            }
            // Let lines gather so that a busy listener writes few, large batches.
            tokio::time::sleep(FLUSH_EVERY).await;
        }
    });
    (
        JournalQueue {
            sender,
            dropped: Arc::default(),
        },
        JournalWriter { task },
    )
}

/// Which API a path belongs to.
pub fn surface(path: &str) -> &'static str {
    if path.starts_with("/connection-manager/") {
        "privx"
    } else if path.starts_with("/workbench/") {
        "workbench"
    } else if path.starts_with("/auth/") {
        "auth"
    } else if path == "/openapi.json" {
        "openapi"
    } else {
        "other"
    }
}

/// Middleware: notes method, path, status, latency and caller of every request.
pub async fn record(
    State(queue): State<JournalQueue>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let time = chrono::Utc::now().timestamp_millis();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.to_string());
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let caller = slot
        .0
        .lock()
        .ok()
        .and_then(|c| c.clone())
        .or(peer)
        .unwrap_or_else(|| "unknown".into());
    let entry = JournalEntry {
        time,
        surface: surface(&path).into(),
        method,
        path,
        status: response.status().as_u16(),
        latency_us: started.elapsed().as_micros() as u64,
        caller,
    };
    if queue.sender.try_send(entry).is_err() {
        let dropped = queue
            .dropped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if dropped % 10_000 == 0 {
            tracing::warn!(
                "request journal queue full: {} lines dropped so far",
                dropped + 1
            );
        }
    }
    response
}
