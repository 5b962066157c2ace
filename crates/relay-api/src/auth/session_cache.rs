//! A short-lived cache of access-token lookups (user and login state by refresh family),
//! so the hot path of every authenticated request skips a database round trip.
//!
//! Entries live for a configurable time (1 s by default; 0 turns the cache off). This
//! node forgets an entry at once when it ends a session (logout, password change, reuse
//! detection); another node notices within the time-to-live.

use relay_core::{RefreshFamilyId, UserId};
use relay_store::User;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many entries, expired ones are swept; if that is not enough, all go.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<RefreshFamilyId, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    user: User,
    live: bool,
    stored: Instant,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RefreshFamilyId, Entry>> {
        // A panic while holding the lock cannot leave the map inconsistent: use it anyway.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached user and liveness of a login, when fresh and for this user.
    pub fn get(&self, user: UserId, family: RefreshFamilyId) -> Option<(User, bool)> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.lock();
        let entry = entries.get(&family)?;
        (entry.user.id == user && entry.stored.elapsed() < self.ttl)
            .then(|| (entry.user.clone(), entry.live))
    }

    pub fn put(&self, family: RefreshFamilyId, user: User, live: bool) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, e| e.stored.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            family,
            Entry {
                user,
                live,
                stored: Instant::now(),
            },
        );
    }

    pub fn forget_family(&self, family: RefreshFamilyId) {
        self.lock().remove(&family);
    }

    /// Forgets every login of a user except `keep`.
    pub fn forget_user(&self, user: UserId, keep: Option<RefreshFamilyId>) {
        self.lock()
            .retain(|family, e| e.user.id != user || Some(*family) == keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::{Role, UserStatus};

    fn user() -> User {
        User {
            id: UserId::new(),
            email: "a@example.com".into(),
            role: Role::User,
            status: UserStatus::Active,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn entries_expire_and_belong_to_their_user() {
        let cache = SessionCache::new(Duration::from_millis(50));
        let (u, f) = (user(), RefreshFamilyId::new());
        cache.put(f, u.clone(), true);
        assert_eq!(cache.get(u.id, f).map(|(_, live)| live), Some(true));
        assert!(
            cache.get(UserId::new(), f).is_none(),
            "another user's token never hits"
        );
        std::thread::sleep(Duration::from_millis(80));
        assert!(cache.get(u.id, f).is_none());
    }

    #[test]
    fn forgetting_ends_logins_at_once() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let u = user();
        let (a, b, c) = (
            RefreshFamilyId::new(),
            RefreshFamilyId::new(),
            RefreshFamilyId::new(),
        );
        for f in [a, b, c] {
            cache.put(f, u.clone(), true);
        }
        cache.forget_family(a);
        assert!(cache.get(u.id, a).is_none());
        cache.forget_user(u.id, Some(b));
        assert!(cache.get(u.id, b).is_some());
        assert!(cache.get(u.id, c).is_none());
    }

    #[test]
    fn a_zero_ttl_turns_the_cache_off() {
        let cache = SessionCache::new(Duration::ZERO);
        let (u, f) = (user(), RefreshFamilyId::new());
        cache.put(f, u.clone(), true);
        assert!(cache.get(u.id, f).is_none());
    }
}
