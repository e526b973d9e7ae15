//! Limits how often progress events are sent to the window.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets an event through at most once per interval.
pub struct Throttle {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Throttle {
    /// A throttle passing one event per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: Mutex::new(None),
        }
    }

    /// Whether an event may be sent now (and records it when so).
    pub fn ready(&self) -> bool {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        match *last {
            Some(at) if now.duration_since(at) < self.every => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;
    use std::time::Duration;

    #[test]
    fn passes_first_then_waits() {
        let t = Throttle::new(Duration::from_secs(60));
        assert!(t.ready());
        assert!(!t.ready());
        let t = Throttle::new(Duration::ZERO);
        assert!(t.ready());
        assert!(t.ready());
    }
}
