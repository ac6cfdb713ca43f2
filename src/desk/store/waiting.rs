//! Waiting for another process's lock: bounded, visible and cancellable.
//!
//! SQLite's own busy timeout sleeps inside the statement, where nothing else in the process can see
//! it or cut it short: a rep whose write meets a lock held by another program (a backup, an admin's
//! `sqlite3` shell, a big first import) would stare at a frozen screen that ignores Ctrl-C for as
//! long as the retries last. This busy handler waits the same way (SQLite's own delays, the same
//! bound per statement) but records that it is waiting, so the screen can say so, and gives up at
//! once when told to stop, so the write ends with "nothing was decided" instead of hanging.
//!
//! The state is process-wide because SQLite takes the handler as a plain function.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest one statement waits for a lock before the whole transaction is retried.
pub const PER_STATEMENT: Duration = Duration::from_secs(5);

/// SQLite's own back-off: the delay before each retry, in milliseconds.
const DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

/// A handler call older than this means the wait is over.
const FRESH_MS: u64 = 250;

static STOP: AtomicBool = AtomicBool::new(false);
static WAIT_STARTED_MS: AtomicU64 = AtomicU64::new(0);
static LAST_CALL_MS: AtomicU64 = AtomicU64::new(0);

/// Milliseconds since the process first asked, never 0 (0 means "never").
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// The delay before retry `count` and the time already waited before it, in milliseconds.
fn schedule(count: u64) -> (u64, u64) {
    let n = DELAYS_MS.len() as u64;
    if count < n {
        let waited = DELAYS_MS[..count as usize].iter().sum();
        (DELAYS_MS[count as usize], waited)
    } else {
        let waited = DELAYS_MS.iter().sum::<u64>() + (count - n) * 100;
        (100, waited)
    }
}

/// SQLite's busy handler for every read-write connection: `count` is how many times it was called
/// for this lock already. True means "try again".
pub(crate) fn busy_handler(count: i32) -> bool {
    if STOP.load(Ordering::Relaxed) {
        return false;
    }
    let now = now_ms();
    // A whole transaction retried after a statement's bound is still the same wait.
    let last = LAST_CALL_MS.load(Ordering::Relaxed);
    if count == 0 && (last == 0 || now.saturating_sub(last) > FRESH_MS) {
        WAIT_STARTED_MS.store(now, Ordering::Relaxed);
    }
    LAST_CALL_MS.store(now, Ordering::Relaxed);
    let (delay, waited) = schedule(u64::try_from(count).unwrap_or(0));
    let limit = PER_STATEMENT.as_millis() as u64;
    if waited >= limit {
        return false;
    }
    std::thread::sleep(Duration::from_millis(delay.min(limit - waited)));
    true
}

/// How long a write of this process has been waiting for another process's lock, if one is
/// waiting now.
pub fn waiting() -> Option<Duration> {
    let last = LAST_CALL_MS.load(Ordering::Relaxed);
    let now = now_ms();
    if last == 0 || now.saturating_sub(last) > FRESH_MS {
        return None;
    }
    let started = WAIT_STARTED_MS.load(Ordering::Relaxed);
    Some(Duration::from_millis(now.saturating_sub(started)))
}

/// Stops every wait for a lock now and until [`resume`]: a write that meets a lock ends at once
/// with nothing recorded. For a rep who presses Ctrl-C, or a process told to stop, mid-wait.
pub fn stop() {
    STOP.store(true, Ordering::Relaxed);
}

/// Waits for locks again (the rep went on working after stopping a wait).
pub fn resume() {
    STOP.store(false, Ordering::Relaxed);
}

/// True between [`stop`] and [`resume`].
pub fn stopped() -> bool {
    STOP.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_is_sqlites_and_adds_up_to_the_bound() {
        assert_eq!(schedule(0), (1, 0));
        assert_eq!(schedule(3), (10, 8));
        assert_eq!(schedule(11), (100, 228));
        assert_eq!(schedule(12), (100, 328));
        // The bound is reached after about 5 s of retries, as SQLite's busy_timeout(5 s) would.
        let calls = (0..).find(|&c| schedule(c).1 >= PER_STATEMENT.as_millis() as u64).expect("bounded");
        assert!((55..=60).contains(&calls), "{calls}");
    }
}
