//! Supervision of the worker's core tasks: each runs in its own tokio task; one that ends
//! or panics while the worker is not stopping is logged, shown on the [`TaskBoard`] and
//! restarted after a growing pause. A task that fails `MAX_FAILURES` times in a row (a
//! run longer than `HEALTHY_RUN` resets the count) is declared dead: the board says so
//! (and `/readyz` with it) and the worker's `fatal` token fires, so the process exits
//! non-zero rather than limping on without it.

use relay_core::tasks::{TaskBoard, TaskStatus};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Consecutive failures after which a task is dead.
pub const MAX_FAILURES: u32 = 6;
/// A run at least this long counts as healthy: the failure count starts again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// Starts and restarts core tasks.
#[derive(Clone, Debug)]
pub struct Supervisor {
    pub board: TaskBoard,
    /// Fires when a task is dead: the worker cannot go on.
    pub fatal: CancellationToken,
}

impl Supervisor {
    pub fn new(board: TaskBoard) -> Self {
        Self {
            board,
            fatal: CancellationToken::new(),
        }
    }

    /// Runs `make()` until `stop` fires, restarting it whenever it ends or panics before.
    /// The task itself watches `stop` (so it can drain); the returned handle ends once the
    /// last run has.
    pub fn spawn<F, Fut>(&self, name: &str, stop: CancellationToken, mut make: F) -> Supervised
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let board = self.board.clone();
        let fatal = self.fatal.clone();
        let name = name.to_owned();
        Supervised(AbortOnDrop(tokio::spawn(async move {
            let mut failures = 0u32;
            let mut restarts = 0u32;
            board.set(&name, TaskStatus::Running);
            loop {
                let started = Instant::now();
                let mut run = AbortOnDrop(tokio::spawn(make()));
                let result = (&mut run.0).await;
                drop(run);
                if stop.is_cancelled() {
                    board.remove(&name);
                    return;
                }
                let error = match result {
                    Ok(()) => "it ended on its own".to_owned(),
                    Err(e) => panic_message(e),
                };
                if started.elapsed() >= HEALTHY_RUN {
                    failures = 0;
                }
                failures += 1;
                if failures >= MAX_FAILURES {
                    tracing::error!(task = %name, %error, failures, "a core task keeps failing; the worker cannot go on");
                    board.set(&name, TaskStatus::Dead { error });
                    fatal.cancel();
                    return;
                }
                restarts += 1;
                let pause = (FIRST_PAUSE * 2u32.pow(failures - 1)).min(MAX_PAUSE);
                tracing::error!(task = %name, %error, ?pause, restarts, "a core task failed; restarting it");
                board.set(&name, TaskStatus::Restarting { restarts, error });
                tokio::select! {
                    _ = stop.cancelled() => {
                        board.remove(&name);
                        return;
                    }
                    _ = tokio::time::sleep(pause) => {}
                }
                board.set(&name, TaskStatus::Running);
            }
        })))
    }
}

/// A supervised task; dropping it aborts the task (and the run in hand).
pub struct Supervised(AbortOnDrop);

impl Supervised {
    /// Waits for the task to end (after its stop token fired).
    pub async fn join(mut self) {
        let _ = (&mut self.0.0).await;
    }
}

/// Aborts the task when dropped: a supervisor that is itself aborted (a worker stopped
/// past its grace period) takes its task with it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a failed task's join error says, for logs and the board.
pub fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "it was cancelled".to_owned();
    }
    let payload = e.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_once_is_restarted_and_runs_on() {
        let supervisor = Supervisor::new(TaskBoard::default());
        let stop = CancellationToken::new();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&runs);
        let task_stop = stop.clone();
        let handle = supervisor.spawn("router", stop.clone(), move || {
            let runs = Arc::clone(&counted);
            let stop = task_stop.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first run breaks");
                }
                stop.cancelled().await;
            }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "restarted once");
        assert_eq!(supervisor.board.status("router"), Some(TaskStatus::Running));
        assert!(!supervisor.fatal.is_cancelled());
        stop.cancel();
        handle.join().await;
        assert_eq!(
            supervisor.board.status("router"),
            None,
            "a stopped task leaves the board"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_keeps_failing_is_dead_and_fatal() {
        let supervisor = Supervisor::new(TaskBoard::default());
        let stop = CancellationToken::new();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&runs);
        let handle = supervisor.spawn("claimer", stop.clone(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { panic!("always") }
        });
        tokio::time::timeout(Duration::from_secs(60), supervisor.fatal.cancelled())
            .await
            .expect("declared fatal");
        handle.join().await;
        assert_eq!(runs.load(Ordering::SeqCst), MAX_FAILURES);
        let dead = supervisor.board.dead();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].0, "claimer");
        assert!(dead[0].1.contains("always"), "{dead:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_ending_while_stopping_is_not_a_failure() {
        let supervisor = Supervisor::new(TaskBoard::default());
        let stop = CancellationToken::new();
        let task_stop = stop.clone();
        let handle = supervisor.spawn("sweeper", stop.clone(), move || {
            let stop = task_stop.clone();
            async move { stop.cancelled().await }
        });
        tokio::task::yield_now().await;
        stop.cancel();
        handle.join().await;
        assert!(!supervisor.fatal.is_cancelled());
        assert!(supervisor.board.snapshot().is_empty());
    }
}
