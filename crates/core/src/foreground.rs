//! Foreground work of this process (requests to the REST listener), so that background work
//! (training) can step aside while it runs.
//!
//! A background training already runs in the idle scheduling class, yet on a small machine its
//! mere presence (caches, memory traffic, cores that never idle) still doubled the listener's
//! tail latency under load. Pausing it at its progress points while requests are in flight, and
//! for a moment after, keeps the listener as fast as with no training; the training loses
//! little, since under such load it hardly ran anyway.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Foreground work counts as ongoing this long after the last request ended.
pub const QUIET_AFTER: Duration = Duration::from_millis(50);

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// Microseconds since [`epoch`] when the last request ended.
static LAST_END_US: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_us() -> u64 {
    u64::try_from(epoch().elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Marks one piece of foreground work (a request) for as long as it lives.
#[must_use = "the work counts as ongoing only while the guard lives"]
pub struct Work(());

impl Drop for Work {
    fn drop(&mut self) {
        LAST_END_US.store(now_us(), Ordering::Relaxed);
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Starts a piece of foreground work.
pub fn begin() -> Work {
    epoch();
    IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    Work(())
}

/// Whether foreground work is running or ended less than [`QUIET_AFTER`] ago.
pub fn is_busy() -> bool {
    if IN_FLIGHT.load(Ordering::Relaxed) > 0 {
        return true;
    }
    let last = LAST_END_US.load(Ordering::Relaxed);
    last != 0 && now_us().saturating_sub(last) < QUIET_AFTER.as_micros() as u64
}

/// Waits while foreground work goes on, calling `still_waiting` every `step` (to renew leases,
/// to check for cancellation: returning false stops the wait). Returns how long it waited.
pub fn wait_until_quiet(step: Duration, mut still_waiting: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while is_busy() {
        if !still_waiting() {
            break;
        }
        std::thread::sleep(step);
    }
    started.elapsed()
}
