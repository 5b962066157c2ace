//! The daily quota: copies sent per owner and day (UTC) against the plan's
//! `daily_messages`, counted in Redis (`relay_queue::UsageCounter`). New messages past the
//! quota are not lost and not dropped: their rows are written held (`quota`), and a release
//! — when the day turns, or at once after an upgrade raised the limit — sends them in order
//! as room allows. Totals are flushed to `usage_daily` every few seconds from Redis, which
//! holds the exact count, so a crash between flushes loses nothing.

use relay_core::UserId;
use relay_core::clock::Clock;
use relay_core::delivery::DeliveryAction;
use relay_queue::UsageCounter;
use relay_store::{Database, NewDelivery, RowDecision, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// How often totals are flushed and held deliveries looked at.
pub const TICK: Duration = Duration::from_secs(5);

pub struct Quota {
    usage: UsageCounter,
    db: Database,
    touched: Mutex<HashSet<UserId>>,
    /// Decides which day it is (tests move it to tomorrow).
    clock: Clock,
}

impl Quota {
    pub fn new(usage: UsageCounter, db: Database, clock: Clock) -> Self {
        Self {
            usage,
            db,
            touched: Mutex::default(),
            clock,
        }
    }

    /// Today (UTC) by the clock, as the usage counter's key (`YYYY-MM-DD`).
    fn today(&self) -> String {
        self.clock.today_utc().to_string()
    }

    /// Counts the new copies of `rows` against their owners' `limits`; those past the
    /// quota are held. If Redis does not answer, nothing is held (forwarding goes on; the
    /// count catches up with the next batch).
    pub async fn apply(&self, rows: &mut [NewDelivery], limits: &HashMap<UserId, i32>) {
        let counted = |r: &NewDelivery| {
            r.action == DeliveryAction::Create && r.part == 0 && r.decision == RowDecision::Send
        };
        let mut per_owner: Vec<(UserId, i64)> = Vec::new();
        for row in rows.iter().filter(|r| counted(r)) {
            match per_owner.iter_mut().find(|(o, _)| *o == row.owner_id) {
                Some((_, n)) => *n += 1,
                None => per_owner.push((row.owner_id, 1)),
            }
        }
        if per_owner.is_empty() {
            return;
        }
        let day = self.today();
        let keys: Vec<(String, i64)> = per_owner.iter().map(|(o, n)| (o.to_string(), *n)).collect();
        let totals = match self.usage.add(&day, &keys).await {
            Ok(totals) => totals,
            Err(e) => {
                tracing::warn!(error = %e, "the daily count is not reachable; not holding for it");
                return;
            }
        };
        let mut returned = Vec::new();
        for ((owner, added), total) in per_owner.iter().zip(totals) {
            self.touched
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(*owner);
            let limit = i64::from(limits.get(owner).copied().unwrap_or(i32::MAX));
            let over = (total - limit).clamp(0, *added);
            if over == 0 {
                continue;
            }
            // The last `over` new copies of this owner wait.
            let mut left = over;
            for row in rows.iter_mut().rev() {
                if left == 0 {
                    break;
                }
                if row.owner_id == *owner && counted(row) {
                    row.decision = RowDecision::held_until_released("quota");
                    left -= 1;
                }
            }
            returned.push((owner.to_string(), -over));
        }
        if let Err(e) = self.usage.add(&day, &returned).await {
            tracing::warn!(error = %e, "could not uncount held copies");
        }
    }

    /// Every few seconds (the router's timer): the touched owners' totals to
    /// `usage_daily`, and what the quota held sent as far as today's room allows.
    pub async fn tick(&self) -> Result<(), StoreError> {
        let day = self.today();
        let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .unwrap_or_else(|_| chrono::Utc::now().date_naive());
        let owners: Vec<UserId> = self
            .touched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        let keys: Vec<String> = owners.iter().map(ToString::to_string).collect();
        match self.usage.totals(&day, &keys).await {
            Ok(totals) => {
                let rows: Vec<(UserId, i64)> = owners.into_iter().zip(totals).collect();
                self.db.flush_usage(date, &rows).await?;
            }
            Err(e) => tracing::debug!(error = %e, "usage totals not flushed yet"),
        }
        let holds = self.db.quota_holds().await?;
        tracing::debug!(owners = holds.len(), "quota tick");
        for (owner, _held, limit) in holds {
            let key = owner.to_string();
            let Ok(totals) = self.usage.totals(&day, std::slice::from_ref(&key)).await else {
                continue;
            };
            let room = i64::from(limit) - totals.first().copied().unwrap_or_default();
            tracing::debug!(%owner, limit, room, "quota room");
            if room <= 0 {
                continue;
            }
            let released = self.db.release_quota_holds(owner, room).await? as i64;
            if released > 0 {
                tracing::info!(%owner, released, "held copies released within today's quota");
                let _ = self.usage.add(&day, &[(key, released)]).await;
                self.touched
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(owner);
            }
        }
        Ok(())
    }
}
