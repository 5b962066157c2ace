//! Throwaway databases for tests: each call creates a fresh database on the local server
//! (or the one in `RELAY_TEST_DATABASE_URL`), applies the migrations, and hands it over.
//! Databases left behind by earlier runs are dropped once they are two hours old.
//!
//! Tests need no environment of their own: `cargo test` works on a fresh machine.

use crate::{Database, DbConfig, StoreError};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PREFIX: &str = "relay_test_";
const STALE_AFTER_SECS: u64 = 2 * 3600;

static CLEANED: AtomicBool = AtomicBool::new(false);

/// The server tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("RELAY_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// `admin_url` with its database name replaced.
pub fn url_for(database: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (admin.clone(), String::new()),
    };
    let server = base.rsplit_once('/').map(|(s, _)| s).unwrap_or(&base);
    format!("{server}/{database}{query}")
}

/// A new, migrated database of its own.
pub async fn test_database() -> Result<Database, StoreError> {
    let (db, _) = empty_database().await?;
    db.migrate().await?;
    Ok(db)
}

/// A new database without the schema, and its URL.
pub async fn empty_database() -> Result<(Database, String), StoreError> {
    let mut admin = PgConnection::connect(&admin_url()).await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    if !CLEANED.swap(true, Ordering::SeqCst) {
        drop_stale(&mut admin, now).await;
    }
    let name = format!("{PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
    // The name is ours: a fixed prefix, digits and hex.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let url = url_for(&name);
    let db = Database::connect_lazy(&DbConfig {
        url: url.clone(),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(10),
    })?;
    Ok((db, url))
}

async fn drop_stale(admin: &mut PgConnection, now: u64) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'relay\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let created = name[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|t| t.parse::<u64>().ok());
        let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if plain && created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER_SECS) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}
