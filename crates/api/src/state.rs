//! What every handler shares: the store, the token cache, the journal queue, the trainings this
//! listener started and the setup-script sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ueba_core::ueba::training::TrainingRun;
use ueba_core::Store;

use crate::auth::TokenCache;
use crate::journal::JournalQueue;

/// How long a setup-script session id can be used to download the script.
pub const SETUP_SESSION_TTL: Duration = Duration::from_secs(600);
/// Most setup-script sessions kept at once.
const MAX_SETUP_SESSIONS: usize = 1_000;

/// Shared state of the listener (cheap to clone).
#[derive(Clone)]
pub struct ApiState {
    /// The database.
    pub store: Arc<Store>,
    /// Verified tokens.
    pub tokens: Arc<TokenCache>,
    /// Journal lines waiting to be written.
    pub journal: JournalQueue,
    /// Trainings started through this listener (cancelled on shutdown).
    pub trainings: Arc<Mutex<Vec<TrainingRun>>>,
    /// Setup-script session ids and when they were made.
    pub setup_sessions: Arc<Mutex<HashMap<String, Instant>>>,
    /// The URL clients reach this listener at (for the setup script).
    pub public_url: Arc<str>,
    /// The CA certificate clients must trust, when TLS is on.
    pub ca_pem: Option<Arc<str>>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// State for a listener reachable at `public_url`.
    pub fn new(
        store: Arc<Store>,
        journal: JournalQueue,
        public_url: &str,
        ca_pem: Option<String>,
    ) -> Self {
        Self {
            store,
            tokens: Arc::new(TokenCache::default()),
            journal,
            trainings: Arc::new(Mutex::new(Vec::new())),
            setup_sessions: Arc::new(Mutex::new(HashMap::new())),
            public_url: public_url.into(),
            ca_pem: ca_pem.map(Into::into),
        }
    }

    /// Remembers a training started here; finished ones are forgotten.
    pub fn keep_training(&self, run: TrainingRun) {
        if let Ok(mut runs) = self.trainings.lock() {
            runs.retain(|r| !r.is_finished());
            runs.push(run);
        }
    }

    /// Cancels the trainings started here and waits for them to record their end.
    pub fn cancel_trainings(&self) {
        let runs: Vec<TrainingRun> = match self.trainings.lock() {
            Ok(mut runs) => runs.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for run in runs {
            if !run.is_finished() {
                tracing::info!(
                    dataset = run.dataset_id(),
                    "cancelling the training started through the API"
                );
                run.cancel_token().cancel();
            }
            let _ = run.wait();
        }
    }

    /// Creates a setup-script session id.
    pub fn new_setup_session(&self) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        if let Ok(mut sessions) = self.setup_sessions.lock() {
            sessions.retain(|_, made| made.elapsed() < SETUP_SESSION_TTL);
            if sessions.len() >= MAX_SETUP_SESSIONS {
                sessions.clear();
            }
            sessions.insert(id.clone(), Instant::now());
        }
        id
    }

    /// Whether a setup-script session id is known and fresh.
    pub fn setup_session_valid(&self, id: &str) -> bool {
        self.setup_sessions
            .lock()
            .map(|s| {
                s.get(id)
                    .is_some_and(|made| made.elapsed() < SETUP_SESSION_TTL)
            })
            .unwrap_or(false)
    }
}
