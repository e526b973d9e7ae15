//! Cooperative cancellation for long work (import, demo generation).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag shared between the door that may cancel (a button, Ctrl-C) and the work that checks it
/// between batches. Cloning shares the same flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work to stop at its next check; it rolls back what it has not committed.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Clears the flag so the token can be reused for the next job.
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}
