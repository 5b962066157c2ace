//! Forwarding pairs: one source chat of one account, one or more destinations. Always read
//! and changed through the owner's id (another tenant's pair is `NotFound`); the composite
//! foreign keys refuse another tenant's account (`NotOwned`). The listener's look-ups
//! (`routes_for_source`, `watched_chats`) serve every tenant and take no owner.

use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::{AccountId, AccountKind, DestinationId, PairId, PlanId, Priority, UserId};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// One destination of a new or changed pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDestination {
    pub account_id: AccountId,
    /// `None` for a Discord webhook, whose channel is fixed by the webhook.
    pub chat_id: Option<String>,
    /// Whether a bold author line starts each copy (bots and sessions; webhooks show the
    /// author as the sender). Stored in the destination's `options`.
    pub show_author: bool,
    /// The destination's own rules (`relay_core::rules::DestinationRules` as JSON, checked
    /// by the caller), in `options.rules`.
    pub rules: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPair {
    pub name: String,
    pub source_account_id: AccountId,
    pub source_chat_id: String,
    pub destinations: Vec<NewDestination>,
    /// One side of a two-way bridge: may close a loop with other bridge pairs.
    pub bridge: bool,
    /// The pair's rules (`relay_core::rules::Rules` as JSON, checked by the caller).
    pub rules: serde_json::Value,
}

/// What to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairChanges {
    pub name: Option<String>,
    pub source_chat_id: Option<String>,
    /// The new set of destinations, in order. Destinations that stay (same account and
    /// chat) keep their ids, so their outbox rows and message map stay theirs.
    pub destinations: Option<Vec<NewDestination>>,
    pub enabled: Option<bool>,
    pub bridge: Option<bool>,
    pub rules: Option<serde_json::Value>,
    /// `skip` or `hold`: what a pause does with the messages meanwhile.
    pub pause_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub id: PairId,
    pub owner_id: UserId,
    pub name: String,
    pub source_account_id: AccountId,
    pub source_chat_id: String,
    pub enabled: bool,
    pub paused_at: Option<DateTime<Utc>>,
    /// Why Relay paused it (its owner did not), e.g. its last destination's account was
    /// deleted; cleared on resume.
    pub paused_reason: Option<String>,
    /// In their order (`position`).
    pub destinations: Vec<Destination>,
    /// One side of a two-way bridge (see [`NewPair::bridge`]).
    pub bridge: bool,
    pub rules: serde_json::Value,
    /// `skip` (messages during a pause are not forwarded) or `hold` (they are, on resume).
    pub pause_mode: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub id: DestinationId,
    pub account_id: AccountId,
    pub chat_id: Option<String>,
    pub position: i32,
    /// See [`NewDestination::show_author`].
    pub show_author: bool,
    /// See [`NewDestination::rules`].
    pub rules: Option<serde_json::Value>,
}

/// What the owner's plan allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    pub plan: PlanId,
    pub priority: Priority,
    pub max_pairs: i32,
    pub max_destinations_per_pair: i32,
}

/// A pair the listener forwards a source message through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub pair_id: PairId,
    pub owner_id: UserId,
    pub name: String,
    /// The owner's plan's queue priority.
    pub priority: Priority,
    /// The owner's plan's features (`relay_core::plans`).
    pub features: serde_json::Value,
    /// The owner's plan's copies per day.
    pub daily_messages: i32,
    /// The pair's rules, as saved.
    pub rules: serde_json::Value,
    /// Paused with `pause_mode` `hold`: its messages are recorded and held until resumed.
    pub held: bool,
    pub destinations: Vec<RouteDestination>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDestination {
    pub id: DestinationId,
    /// The account that sends to this destination.
    pub account_id: AccountId,
    pub account_kind: AccountKind,
    pub chat_id: Option<String>,
    /// The destination's own rules, as saved.
    pub rules: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct PairRow {
    id: Uuid,
    owner_id: Uuid,
    name: String,
    source_account_id: Uuid,
    source_chat_id: String,
    enabled: bool,
    paused_at: Option<DateTime<Utc>>,
    paused_reason: Option<String>,
    bridge: bool,
    rules: serde_json::Value,
    pause_mode: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DestinationRow {
    id: Uuid,
    pair_id: Uuid,
    account_id: Uuid,
    chat_id: Option<String>,
    position: i32,
    show_author: bool,
    rules: Option<serde_json::Value>,
}

impl PairRow {
    fn into_pair(self, destinations: Vec<Destination>) -> Pair {
        Pair {
            id: self.id.into(),
            owner_id: self.owner_id.into(),
            name: self.name,
            source_account_id: self.source_account_id.into(),
            source_chat_id: self.source_chat_id,
            enabled: self.enabled,
            paused_at: self.paused_at,
            paused_reason: self.paused_reason,
            destinations,
            bridge: self.bridge,
            rules: self.rules,
            pause_mode: self.pause_mode,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl From<DestinationRow> for Destination {
    fn from(r: DestinationRow) -> Self {
        Destination {
            id: r.id.into(),
            account_id: r.account_id.into(),
            chat_id: r.chat_id,
            position: r.position,
            show_author: r.show_author,
            rules: r.rules,
        }
    }
}

const PAIR_COLUMNS: &str = "id, owner_id, name, source_account_id, source_chat_id, enabled, paused_at, paused_reason, bridge, rules, pause_mode, created_at, updated_at";
const DESTINATION_COLUMNS: &str = "id, pair_id, account_id, chat_id, position, \
     COALESCE((options->>'show_author')::boolean, true) AS show_author, options->'rules' AS rules";

/// The composite foreign keys that prove an account is the pair owner's.
const ACCOUNT_KEYS: &[(&str, &str)] = &[
    (
        "forwarding_pairs_source_account_id_owner_id_fkey",
        "source account",
    ),
    (
        "pair_destinations_account_id_owner_id_fkey",
        "destination account",
    ),
];

/// The live plan of a user: an active or past-due subscription's, otherwise Free.
const PLAN_OF: &str = "COALESCE((SELECT s.plan_id FROM subscriptions s \
     WHERE s.user_id = $1 AND s.status IN ('active', 'past_due') LIMIT 1), 'free')";

impl Database {
    /// Creates a pair and its destinations in one transaction, within the owner's plan
    /// (`PlanLimit` otherwise; concurrent creations of one owner are serialised so two of
    /// them cannot both take the last free place).
    pub async fn create_pair(&self, owner: UserId, new: &NewPair) -> Result<Pair, StoreError> {
        let mut tx = self.pool().begin().await?;
        // Serialises the owner's pair creations; the foreign keys to users take only
        // KEY SHARE locks, which this does not block.
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
                .bind(owner.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let limits = plan_limits(&mut tx, owner).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM forwarding_pairs WHERE owner_id = $1")
                .bind(owner.as_uuid())
                .fetch_one(&mut *tx)
                .await?;
        if count >= i64::from(limits.max_pairs) {
            return Err(StoreError::PlanLimit {
                plan: limits.plan,
                what: "pairs",
                limit: limits.max_pairs,
            });
        }
        check_destination_count(&limits, new.destinations.len())?;
        let row: PairRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO forwarding_pairs (owner_id, name, source_account_id, source_chat_id, bridge, rules) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {PAIR_COLUMNS}"
        )))
        .bind(owner.as_uuid())
        .bind(&new.name)
        .bind(new.source_account_id.as_uuid())
        .bind(&new.source_chat_id)
        .bind(new.bridge)
        .bind(&new.rules)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::on_foreign(e, ACCOUNT_KEYS))?;
        let id = PairId::from(row.id);
        insert_destinations(&mut tx, owner, id, &new.destinations, 0).await?;
        let destinations = destinations_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok(row.into_pair(destinations))
    }

    /// The owner's pairs, oldest first.
    pub async fn pairs(&self, owner: UserId) -> Result<Vec<Pair>, StoreError> {
        let rows: Vec<PairRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PAIR_COLUMNS} FROM forwarding_pairs WHERE owner_id = $1 ORDER BY created_at, id"
        )))
        .bind(owner.as_uuid())
        .fetch_all(self.pool())
        .await?;
        let destinations: Vec<DestinationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DESTINATION_COLUMNS} FROM pair_destinations WHERE owner_id = $1 ORDER BY pair_id, position, id"
        )))
        .bind(owner.as_uuid())
        .fetch_all(self.pool())
        .await?;
        let mut by_pair: HashMap<Uuid, Vec<Destination>> = HashMap::new();
        for d in destinations {
            by_pair.entry(d.pair_id).or_default().push(d.into());
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let destinations = by_pair.remove(&r.id).unwrap_or_default();
                r.into_pair(destinations)
            })
            .collect())
    }

    /// How many pairs the owner has (enabled or not).
    pub async fn count_pairs(&self, owner: UserId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM forwarding_pairs WHERE owner_id = $1")
                .bind(owner.as_uuid())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// One of the owner's pairs; another owner's is `NotFound`.
    pub async fn pair(&self, owner: UserId, id: PairId) -> Result<Pair, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_pair(&mut conn, owner, id, false).await
    }

    /// Changes a pair in one transaction. Destinations are replaced as a set: those that
    /// stay (same account and chat) keep their ids and take their new position, those left
    /// out are deleted (with their outbox rows and message map), new ones are added.
    pub async fn update_pair(
        &self,
        owner: UserId,
        id: PairId,
        changes: &PairChanges,
    ) -> Result<Pair, StoreError> {
        let mut tx = self.pool().begin().await?;
        let current = load_pair(&mut tx, owner, id, true).await?;
        // `updated_at` moves only when something does.
        let changed = changes.name.as_ref().is_some_and(|n| *n != current.name)
            || changes
                .source_chat_id
                .as_ref()
                .is_some_and(|c| *c != current.source_chat_id)
            || changes.enabled.is_some_and(|e| e != current.enabled)
            || changes.bridge.is_some_and(|b| b != current.bridge)
            || changes.rules.as_ref().is_some_and(|r| *r != current.rules)
            || changes
                .pause_mode
                .as_ref()
                .is_some_and(|m| *m != current.pause_mode)
            || changes.destinations.as_ref().is_some_and(|wanted| {
                !wanted
                    .iter()
                    .map(|d| (d.account_id, &d.chat_id, d.show_author, &d.rules))
                    .eq(current
                        .destinations
                        .iter()
                        .map(|d| (d.account_id, &d.chat_id, d.show_author, &d.rules)))
            });
        let done = sqlx::query(
            "UPDATE forwarding_pairs SET name = COALESCE($3, name), \
             source_chat_id = COALESCE($4, source_chat_id), enabled = COALESCE($5, enabled), \
             bridge = COALESCE($7, bridge), rules = COALESCE($8, rules), \
             pause_mode = COALESCE($9, pause_mode), \
             updated_at = CASE WHEN $6 THEN now() ELSE updated_at END \
             WHERE id = $1 AND owner_id = $2",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .bind(changes.name.as_deref())
        .bind(changes.source_chat_id.as_deref())
        .bind(changes.enabled)
        .bind(changed)
        .bind(changes.bridge)
        .bind(changes.rules.as_ref())
        .bind(changes.pause_mode.as_deref())
        .execute(&mut *tx)
        .await?;
        StoreError::found(done)?;
        if let Some(wanted) = &changes.destinations {
            let limits = plan_limits(&mut tx, owner).await?;
            check_destination_count(&limits, wanted.len())?;
            let key = |account: AccountId, chat: &Option<String>| (account, chat.clone());
            let kept: HashMap<_, usize> = wanted
                .iter()
                .enumerate()
                .map(|(i, d)| (key(d.account_id, &d.chat_id), i))
                .collect();
            let mut gone = Vec::new();
            let mut existing = HashMap::new();
            for d in &current.destinations {
                match kept.get(&key(d.account_id, &d.chat_id)) {
                    Some(_) => {
                        existing.insert(key(d.account_id, &d.chat_id), d.id);
                    }
                    None => gone.push(d.id.as_uuid()),
                }
            }
            if !gone.is_empty() {
                sqlx::query(
                    "DELETE FROM pair_destinations WHERE pair_id = $1 AND owner_id = $2 AND id = ANY($3)",
                )
                .bind(id.as_uuid())
                .bind(owner.as_uuid())
                .bind(&gone)
                .execute(&mut *tx)
                .await?;
            }
            for (position, d) in wanted.iter().enumerate() {
                let position = i32::try_from(position).map_err(StoreError::corrupt)?;
                match existing.get(&key(d.account_id, &d.chat_id)) {
                    Some(dest) => {
                        sqlx::query(
                            "UPDATE pair_destinations SET position = $2, \
                             options = jsonb_strip_nulls(jsonb_set(jsonb_set(options, '{show_author}', \
                                 to_jsonb($3::boolean)), '{rules}', COALESCE($4::jsonb, 'null'::jsonb))) \
                             WHERE id = $1 AND (position <> $2 \
                               OR COALESCE((options->>'show_author')::boolean, true) <> $3 \
                               OR (options->'rules') IS DISTINCT FROM $4::jsonb)",
                        )
                        .bind(dest.as_uuid())
                        .bind(position)
                        .bind(d.show_author)
                        .bind(d.rules.as_ref())
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        insert_destinations(&mut tx, owner, id, std::slice::from_ref(d), position)
                            .await?;
                    }
                }
            }
        }
        let pair = load_pair(&mut tx, owner, id, false).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Deletes a pair with its destinations, outbox rows and message map.
    pub async fn delete_pair(&self, owner: UserId, id: PairId) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM forwarding_pairs WHERE id = $1 AND owner_id = $2")
            .bind(id.as_uuid())
            .bind(owner.as_uuid())
            .execute(self.pool())
            .await?;
        StoreError::found(done)
    }

    /// Pauses (keeping the first pause's time) or resumes a pair.
    pub async fn set_pair_paused(
        &self,
        owner: UserId,
        id: PairId,
        paused: bool,
    ) -> Result<Pair, StoreError> {
        let mut tx = self.pool().begin().await?;
        let current = load_pair(&mut tx, owner, id, true).await?;
        if !paused && current.destinations.is_empty() {
            return Err(StoreError::Conflict {
                field: "destinations",
                message: "the pair has no destinations; add one before resuming it".into(),
            });
        }
        let done = sqlx::query(
            "UPDATE forwarding_pairs SET \
             paused_at = CASE WHEN $3 THEN COALESCE(paused_at, now()) ELSE NULL END, \
             paused_reason = CASE WHEN $3 THEN paused_reason ELSE NULL END, \
             updated_at = CASE WHEN (paused_at IS NOT NULL) = $3 THEN updated_at ELSE now() END \
             WHERE id = $1 AND owner_id = $2",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .bind(paused)
        .execute(&mut *tx)
        .await?;
        StoreError::found(done)?;
        if !paused {
            // What a holding pause kept goes out now, in order (the sweeper queues it).
            sqlx::query(
                "UPDATE deliveries SET next_attempt_at = now(), decided_by = NULL, \
                 updated_at = now() - interval '1 hour' \
                 WHERE pair_id = $1 AND owner_id = $2 AND state = 'pending' AND decided_by = 'paused'",
            )
            .bind(id.as_uuid())
            .bind(owner.as_uuid())
            .execute(&mut *tx)
            .await?;
        }
        let pair = load_pair(&mut tx, owner, id, false).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// What the owner's plan allows: the live subscription's plan (active or past due),
    /// otherwise Free.
    pub async fn plan_of(&self, owner: UserId) -> Result<PlanLimits, StoreError> {
        let mut conn = self.pool().acquire().await?;
        plan_limits(&mut conn, owner).await
    }

    /// The enabled, unpaused pairs that read this chat of this account, with their
    /// destinations in order and the owner's priority. Banned owners' pairs do not run.
    pub async fn routes_for_source(
        &self,
        account: AccountId,
        chat_id: &str,
    ) -> Result<Vec<Route>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            pair_id: Uuid,
            owner_id: Uuid,
            name: String,
            priority: String,
            features: serde_json::Value,
            daily_messages: i32,
            rules: serde_json::Value,
            held: bool,
            destination_id: Uuid,
            account_id: Uuid,
            account_kind: String,
            chat_id: Option<String>,
            dest_rules: Option<serde_json::Value>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.id AS pair_id, p.owner_id, p.name, pl.priority, pl.features, pl.daily_messages, p.rules, \
                    p.paused_at IS NOT NULL AS held, d.id AS destination_id, \
                    d.account_id, a.kind AS account_kind, d.chat_id, d.options->'rules' AS dest_rules \
             FROM forwarding_pairs p \
             JOIN users u ON u.id = p.owner_id AND u.status = 'active' \
             JOIN plans pl ON pl.id = COALESCE((SELECT s.plan_id FROM subscriptions s \
                  WHERE s.user_id = p.owner_id AND s.status IN ('active', 'past_due') LIMIT 1), 'free') \
             JOIN pair_destinations d ON d.pair_id = p.id \
             JOIN platform_accounts a ON a.id = d.account_id \
             WHERE p.source_account_id = $1 AND p.source_chat_id = $2 \
               AND p.enabled AND (p.paused_at IS NULL OR p.pause_mode = 'hold') \
             ORDER BY p.created_at, p.id, d.position, d.id",
        )
        .bind(account.as_uuid())
        .bind(chat_id)
        .fetch_all(self.pool())
        .await?;
        let mut routes: Vec<Route> = Vec::new();
        for r in rows {
            let destination = RouteDestination {
                id: r.destination_id.into(),
                account_id: r.account_id.into(),
                account_kind: r.account_kind.parse().map_err(StoreError::corrupt)?,
                chat_id: r.chat_id,
                rules: r.dest_rules,
            };
            match routes.last_mut() {
                Some(route) if route.pair_id.as_uuid() == r.pair_id => {
                    route.destinations.push(destination)
                }
                _ => routes.push(Route {
                    pair_id: r.pair_id.into(),
                    owner_id: r.owner_id.into(),
                    name: r.name,
                    priority: r.priority.parse().map_err(StoreError::corrupt)?,
                    features: r.features,
                    daily_messages: r.daily_messages,
                    rules: r.rules,
                    held: r.held,
                    destinations: vec![destination],
                }),
            }
        }
        Ok(routes)
    }

    /// The source chats of the account's enabled pairs that forward (unpaused, or paused
    /// holding what comes meanwhile), each once, sorted.
    pub async fn watched_chats(&self, account: AccountId) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT p.source_chat_id FROM forwarding_pairs p \
             JOIN users u ON u.id = p.owner_id AND u.status = 'active' \
             WHERE p.source_account_id = $1 AND p.enabled AND (p.paused_at IS NULL OR p.pause_mode = 'hold') \
             ORDER BY 1",
        )
        .bind(account.as_uuid())
        .fetch_all(self.pool())
        .await?)
    }
}

fn check_destination_count(limits: &PlanLimits, count: usize) -> Result<(), StoreError> {
    if count > usize::try_from(limits.max_destinations_per_pair).unwrap_or(0) {
        return Err(StoreError::PlanLimit {
            plan: limits.plan,
            what: "destinations per pair",
            limit: limits.max_destinations_per_pair,
        });
    }
    Ok(())
}

async fn plan_limits(conn: &mut PgConnection, owner: UserId) -> Result<PlanLimits, StoreError> {
    let (plan, priority, max_pairs, max_destinations_per_pair): (String, String, i32, i32) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, priority, max_pairs, max_destinations_per_pair FROM plans WHERE id = {PLAN_OF}"
        )))
        .bind(owner.as_uuid())
        .fetch_one(&mut *conn)
        .await?;
    Ok(PlanLimits {
        plan: plan.parse().map_err(StoreError::corrupt)?,
        priority: priority.parse().map_err(StoreError::corrupt)?,
        max_pairs,
        max_destinations_per_pair,
    })
}

async fn load_pair(
    conn: &mut PgConnection,
    owner: UserId,
    id: PairId,
    lock: bool,
) -> Result<Pair, StoreError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row: Option<PairRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAIR_COLUMNS} FROM forwarding_pairs WHERE id = $1 AND owner_id = $2{lock}"
    )))
    .bind(id.as_uuid())
    .bind(owner.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(StoreError::NotFound)?;
    let destinations = destinations_of(conn, id).await?;
    Ok(row.into_pair(destinations))
}

async fn destinations_of(
    conn: &mut PgConnection,
    id: PairId,
) -> Result<Vec<Destination>, StoreError> {
    let rows: Vec<DestinationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DESTINATION_COLUMNS} FROM pair_destinations WHERE pair_id = $1 ORDER BY position, id"
    )))
    .bind(id.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(Destination::from).collect())
}

/// Inserts destinations at positions `first..`, in one statement.
async fn insert_destinations(
    conn: &mut PgConnection,
    owner: UserId,
    pair: PairId,
    destinations: &[NewDestination],
    first: i32,
) -> Result<(), StoreError> {
    if destinations.is_empty() {
        return Ok(());
    }
    let accounts: Vec<Uuid> = destinations
        .iter()
        .map(|d| d.account_id.as_uuid())
        .collect();
    let chats: Vec<Option<String>> = destinations.iter().map(|d| d.chat_id.clone()).collect();
    let show_author: Vec<bool> = destinations.iter().map(|d| d.show_author).collect();
    let rules: Vec<Option<&serde_json::Value>> =
        destinations.iter().map(|d| d.rules.as_ref()).collect();
    sqlx::query(
        "INSERT INTO pair_destinations (pair_id, owner_id, account_id, chat_id, position, options) \
         SELECT $1, $2, t.account_id, t.chat_id, $3 + (t.ord - 1)::int, \
                jsonb_strip_nulls(jsonb_build_object('show_author', t.show_author, 'rules', t.rules)) \
         FROM UNNEST($4::uuid[], $5::text[], $6::bool[], $7::jsonb[]) \
              WITH ORDINALITY AS t(account_id, chat_id, show_author, rules, ord) \
         ORDER BY t.ord",
    )
    .bind(pair.as_uuid())
    .bind(owner.as_uuid())
    .bind(first)
    .bind(&accounts)
    .bind(&chats)
    .bind(&show_author)
    .bind(&rules)
    .execute(&mut *conn)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(ref db)
            if db.constraint() == Some("pair_destinations_target_key") =>
        {
            StoreError::Duplicate("destination")
        }
        other => StoreError::on_foreign(other, ACCOUNT_KEYS),
    })?;
    Ok(())
}
