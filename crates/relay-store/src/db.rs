//! Connecting to PostgreSQL, creating the database when it is missing, and applying the
//! migrations embedded in the binary.

use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// The schema, embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("row not found")]
    NotFound,
    /// A unique key refused the row; names the field the client can change.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// A row names something that is not the owner's (a composite foreign key refused it):
    /// names what, e.g. `source account` or `destination account`.
    #[error("the {0} is not one of the owner's")]
    NotOwned(&'static str),
    /// The owner's plan does not allow this many of something (`what`: `pairs` or
    /// `destinations per pair`).
    #[error("the {plan} plan allows at most {limit} {what}")]
    PlanLimit {
        plan: relay_core::PlanId,
        what: &'static str,
        limit: i32,
    },
    /// The request conflicts with the current state (`field` names what to change).
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// A stored value does not fit the domain types (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn corrupt(err: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(err.to_string())
    }

    /// `NotFound` when a statement changed no row (the row is not there, or not the caller's).
    pub(crate) fn found(done: sqlx::postgres::PgQueryResult) -> Result<(), Self> {
        if done.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Maps a violation of one of the foreign keys in `keys` (constraint, what) to
    /// `NotOwned(what)`; anything else stays a database error.
    pub(crate) fn on_foreign(err: sqlx::Error, keys: &[(&str, &'static str)]) -> Self {
        if let sqlx::Error::Database(db) = &err
            && let Some(constraint) = db.constraint()
            && let Some((_, what)) = keys.iter().find(|(c, _)| *c == constraint)
        {
            return StoreError::NotOwned(what);
        }
        StoreError::Sqlx(err)
    }

    /// Maps a violation of the unique index `constraint` to `Duplicate(field)`.
    pub(crate) fn on_unique(err: sqlx::Error, constraint: &str, field: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => {
                StoreError::Duplicate(field)
            }
            _ => StoreError::Sqlx(err),
        }
    }
}

/// Checks a PostgreSQL URL without connecting: the scheme, the syntax, and a database name.
pub fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err("expected postgres://user@host:port/database".to_owned());
    };
    PgConnectOptions::from_str(url).map_err(|e| e.to_string())?;
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or_default();
    let name = path.split('?').next().unwrap_or_default();
    if name.is_empty() {
        return Err("the URL names no database (…/relay at the end)".to_owned());
    }
    Ok(())
}

#[derive(Clone)]
pub struct DbConfig {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("DbConfig")
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// A pool of connections to Relay's database.
#[derive(Clone, Debug)]
pub struct Database {
    pool: PgPool,
}

impl Database {
    /// Connects lazily: the pool opens connections on first use, so a server can start
    /// while PostgreSQL is still down and report that through `/readyz`.
    pub fn connect_lazy(config: &DbConfig) -> Result<Self, StoreError> {
        // Plans made for the values at hand, every time: a prepared statement's generic
        // plan is made once, while the outbox is small (a sequential scan is cheapest
        // then), and kept while the table grows a hundredfold, since nothing invalidates it
        // until the next ANALYZE. Planning the outbox statements costs a fraction of a
        // millisecond; a stale plan cost up to 12 ms per claim at 20,000 rows.
        let options = PgConnectOptions::from_str(&config.url)?
            .options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// Wraps an existing pool (tests use the one `#[sqlx::test]` hands them).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the database named in `url` if it does not exist yet. Returns whether it
    /// was created.
    pub async fn create_if_missing(url: &str) -> Result<bool, StoreError> {
        if Postgres::database_exists(url).await? {
            return Ok(false);
        }
        match Postgres::create_database(url).await {
            Ok(()) => Ok(true),
            // Another process created it between the check and the create.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies pending migrations; returns how many were applied. Safe to run from
    /// several processes at once (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let applied_before = self.applied_migrations().await.unwrap_or(0);
        MIGRATOR.run(&self.pool).await?;
        let applied_after = self.applied_migrations().await?;
        Ok(applied_after.saturating_sub(applied_before))
    }

    /// Versions of the migrations that the binary carries and the database lacks.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let applied: Vec<i64> = match sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        {
            Ok(v) => v,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_without_connecting() {
        assert!(check_url("postgres://postgres@127.0.0.1:5432/relay").is_ok());
        assert!(check_url("postgresql://u:p@db/relay?sslmode=disable").is_ok());
        assert!(check_url("nonsense").is_err());
        assert!(check_url("mysql://localhost/relay").is_err());
        assert!(check_url("postgres://localhost").is_err());
        assert!(check_url("postgres://localhost:99999/relay").is_err());
    }

    #[tokio::test]
    async fn migrate_creates_the_schema_and_a_second_run_is_a_no_op() {
        let db = crate::testing::empty_database().await.expect("database");
        let total = MIGRATOR.iter().count();
        assert_eq!(db.pending_migrations().await.expect("pending").len(), total);
        assert_eq!(db.migrate().await.expect("first run"), total);
        assert!(db.pending_migrations().await.expect("pending").is_empty());
        assert_eq!(db.migrate().await.expect("second run"), 0);

        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        )
        .fetch_all(db.pool())
        .await
        .expect("tables");
        for table in [
            "users",
            "refresh_token_families",
            "refresh_tokens",
            "plans",
            "subscriptions",
            "usage_daily",
            "platform_accounts",
            "telegram_sessions",
            "telegram_peers",
            "telegram_logins",
            "forwarding_pairs",
            "pair_destinations",
            "deliveries",
            "message_map",
            "payments",
            "payment_events",
            "error_log",
            "admin_audit_log",
            "ip_allowlist",
        ] {
            assert!(tables.iter().any(|t| t == table), "missing table {table}");
        }
    }
}
