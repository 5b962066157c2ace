//! The health of a process's long-running core tasks (the worker's router, claimer,
//! completer, sweeper, lease keeper, ...), kept by whoever supervises them and read by
//! `/readyz`. A task that keeps failing is `Dead`; the process then cannot go on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How one core task is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    Running,
    /// It ended or panicked and is restarted after a pause.
    Restarting {
        restarts: u32,
        error: String,
    },
    /// It failed too often to be restarted again.
    Dead {
        error: String,
    },
}

/// Shared board of task statuses, by name.
#[derive(Debug, Clone, Default)]
pub struct TaskBoard {
    tasks: Arc<Mutex<BTreeMap<String, TaskStatus>>>,
}

impl TaskBoard {
    fn tasks(&self) -> MutexGuard<'_, BTreeMap<String, TaskStatus>> {
        // Every change is one insert: the map stays consistent under a panic elsewhere.
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set(&self, name: &str, status: TaskStatus) {
        self.tasks().insert(name.to_owned(), status);
    }

    /// Forgets a task that stopped as asked.
    pub fn remove(&self, name: &str) {
        self.tasks().remove(name);
    }

    pub fn status(&self, name: &str) -> Option<TaskStatus> {
        self.tasks().get(name).cloned()
    }

    pub fn snapshot(&self) -> Vec<(String, TaskStatus)> {
        self.tasks()
            .iter()
            .map(|(name, status)| (name.clone(), status.clone()))
            .collect()
    }

    /// The dead tasks with their last error.
    pub fn dead(&self) -> Vec<(String, String)> {
        self.tasks()
            .iter()
            .filter_map(|(name, status)| match status {
                TaskStatus::Dead { error } => Some((name.clone(), error.clone())),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_tasks_are_reported_dead() {
        let board = TaskBoard::default();
        board.set("router", TaskStatus::Running);
        board.set(
            "sweeper",
            TaskStatus::Restarting {
                restarts: 2,
                error: "panicked".into(),
            },
        );
        board.set(
            "claimer",
            TaskStatus::Dead {
                error: "boom".into(),
            },
        );
        assert_eq!(board.dead(), vec![("claimer".into(), "boom".into())]);
        board.remove("claimer");
        assert!(board.dead().is_empty());
        assert_eq!(board.snapshot().len(), 2);
    }
}
