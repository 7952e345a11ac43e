//! How a job's workers coordinate: [`Cancel`] (asked for by the caller), the [`Gate`]
//! every request passes (closed while the server asked everyone to wait), and the
//! [`Queue`] of work they share.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Cancels a running job: requests in flight finish, no new ones start, and the users
/// not reached are reported "not run". Clones share the one flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<CancelInner>,
}

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    woken: Notify,
}

impl Cancel {
    /// A handle that has not been used.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop. Safe to call more than once, or after the job ended.
    pub fn cancel(&self) {
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.woken.notify_waiters();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }

    /// Resolves once the job is cancelled.
    pub(crate) async fn cancelled(&self) {
        loop {
            // Registered before the check, so a cancel in between still wakes us.
            let woken = self.inner.woken.notified();
            if self.is_cancelled() {
                return;
            }
            woken.await;
        }
    }
}

/// Closed while the server has asked the client to wait (429 or 503 with Retry-After):
/// every worker waits at it before each request, so one refusal pauses them all.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    until: Mutex<Option<Instant>>,
}

impl Gate {
    /// Keeps the gate closed for at least `wait` from now.
    pub fn pause(&self, wait: Duration) {
        let at = Instant::now() + wait;
        let mut until = lock(&self.until);
        if until.is_none_or(|current| current < at) {
            *until = Some(at);
        }
    }

    /// Waits until the gate is open; `false` when the job was cancelled first.
    pub async fn pass(&self, cancel: &Cancel) -> bool {
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            let until = *lock(&self.until);
            match until {
                Some(at) if at > Instant::now() => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = cancel.cancelled() => return false,
                    }
                }
                _ => return true,
            }
        }
    }
}

/// The work of a job, shared by its workers. A worker takes an item, and may put work
/// back (what a `/Bulk` batch could not settle) before it reports the item finished, so
/// the queue is only exhausted when it is empty *and* no worker is busy.
#[derive(Debug)]
pub(crate) struct Queue<T> {
    state: Mutex<QueueState<T>>,
    changed: Notify,
}

#[derive(Debug)]
struct QueueState<T> {
    items: VecDeque<T>,
    busy: usize,
    closed: bool,
}

impl<T> Queue<T> {
    /// A queue holding `items`.
    pub fn new(items: impl IntoIterator<Item = T>) -> Self {
        Self {
            state: Mutex::new(QueueState {
                items: items.into_iter().collect(),
                busy: 0,
                closed: false,
            }),
            changed: Notify::new(),
        }
    }

    /// The next item, or `None` when there is nothing left (or the job was stopped or
    /// cancelled). Every `Some` must be followed by [`Queue::finished`].
    pub async fn next(&self, cancel: &Cancel) -> Option<T> {
        loop {
            let changed = self.changed.notified();
            {
                let mut state = lock(&self.state);
                if state.closed || cancel.is_cancelled() {
                    return None;
                }
                if let Some(item) = state.items.pop_front() {
                    state.busy += 1;
                    return Some(item);
                }
                if state.busy == 0 {
                    return None;
                }
            }
            // Another worker may still put work back.
            tokio::select! {
                () = changed => {}
                () = cancel.cancelled() => return None,
            }
        }
    }

    /// Puts work back, for any worker to take.
    pub fn push(&self, item: T) {
        lock(&self.state).items.push_back(item);
        self.changed.notify_waiters();
    }

    /// A worker is done with the item it took.
    pub fn finished(&self) {
        {
            let mut state = lock(&self.state);
            state.busy = state.busy.saturating_sub(1);
        }
        self.changed.notify_waiters();
    }

    /// Stops handing out work (the job stopped early).
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.changed.notify_waiters();
    }

    /// What was never taken.
    pub fn drain(&self) -> Vec<T> {
        lock(&self.state).items.drain(..).collect()
    }
}

/// A std mutex guard; a poisoned lock (a worker panicked) still holds consistent data
/// here, since every critical section is a single assignment or push.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_paused_gate_holds_everyone_until_the_wait_is_over() {
        let gate = Gate::default();
        let cancel = Cancel::new();
        gate.pause(Duration::from_millis(80));
        gate.pause(Duration::from_millis(10));
        let started = std::time::Instant::now();
        assert!(gate.pass(&cancel).await);
        assert!(
            started.elapsed() >= Duration::from_millis(75),
            "a shorter pause never shortens a longer one"
        );
    }

    #[tokio::test]
    async fn cancel_opens_the_gate_as_a_refusal() {
        let gate = Gate::default();
        let cancel = Cancel::new();
        gate.pause(Duration::from_secs(60));
        let waiter = {
            let cancel = cancel.clone();
            tokio::spawn(async move { gate.pass(&cancel).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        cancel.cancel();
        let passed = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("cancel wakes a waiting worker at once");
        assert!(!passed.unwrap_or(true), "a cancelled wait does not pass");
    }

    #[tokio::test]
    async fn the_queue_waits_for_work_put_back() {
        let queue = Arc::new(Queue::new([1]));
        let cancel = Cancel::new();
        let first = queue.next(&cancel).await;
        assert_eq!(first, Some(1));
        let other = {
            let (queue, cancel) = (queue.clone(), cancel.clone());
            tokio::spawn(async move { queue.next(&cancel).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        queue.push(2);
        queue.finished();
        assert_eq!(
            other.await.ok().flatten(),
            Some(2),
            "a worker that found the queue empty waits while another is busy"
        );
        queue.finished();
        assert_eq!(queue.next(&cancel).await, None, "empty and idle: done");
    }
}
