//! When a purge run stops: checked before every request, so a run ends
//! within the invocation's time and saves where it stopped.

use std::time::{Duration, SystemTime};

/// When to stop: checked before every request.
pub trait Budget {
    fn exhausted(&self) -> bool;
}

impl<F: Fn() -> bool> Budget for F {
    fn exhausted(&self) -> bool {
        self()
    }
}

/// The invocation's deadline less a margin for saving progress.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    stop_at: SystemTime,
}

impl Deadline {
    pub fn new(deadline: SystemTime, margin: Duration) -> Self {
        Self {
            stop_at: deadline
                .checked_sub(margin)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

impl Budget for Deadline {
    fn exhausted(&self) -> bool {
        SystemTime::now() >= self.stop_at
    }
}
