//! Liveness by progress. An actor in a long operation (a ring of thousands
//! of messages, counters hammered by several processes, a loop of renames
//! or appends) tells its coordinator, now and then, that it is still
//! moving: a [`crate::protocol::Reply::Progress`] frame on its control
//! channel. The coordinator restarts the liveness deadline at each one, so
//! that `hung` means "no progress within the deadline", never "not
//! finished within it" (a loaded machine makes a long operation slow, not
//! stuck).
//!
//! Only a step of the work itself is progress ([`beat`] after a message
//! delivered, an increment made, a file replaced); waiting for the other
//! side is not, so an operation whose peer died still ends as `hung`.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// How often, at most, an actor reports progress.
pub const INTERVAL: Duration = Duration::from_millis(50);

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
    static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// In an actor: from now on, [`beat`] reports to the coordinator.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// One step of a long operation done. Cheap: a look at the clock every 64
/// calls, and a frame at most every [`INTERVAL`]. Does nothing outside an
/// actor (the engine's own tests run the loops in threads).
pub fn beat() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let n = CALLS.with(|c| {
        let n = c.get().wrapping_add(1);
        c.set(n);
        n
    });
    if n % 64 != 1 {
        return;
    }
    let now = Instant::now();
    let due = LAST.with(|l| l.get().is_none_or(|t| now.duration_since(t) >= INTERVAL));
    if due {
        LAST.with(|l| l.set(Some(now)));
        crate::actor::report_progress(u64::from(n));
    }
}
