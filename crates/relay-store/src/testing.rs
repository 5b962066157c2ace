//! Throwaway databases for tests: each call creates a fresh database on the local server
//! (or the one in `RELAY_TEST_DATABASE_URL`), applies the migrations, and hands it over
//! inside a [`TestDatabase`] guard that drops the database when the test ends, passed or
//! failed. Databases left behind by runs that were killed are dropped once two hours old.
//!
//! Tests need no environment of their own: `cargo test` works on a fresh machine.

use crate::{Database, DbConfig, StoreError};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::ops::Deref;
use std::sync::Arc;
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

/// A throwaway database and a pool on it. Derefs to [`Database`]; clones share the
/// database, which is dropped (`WITH (FORCE)`, so open connections do not hold it) when the
/// last clone goes, whether the test passed or panicked.
#[derive(Clone, Debug)]
pub struct TestDatabase {
    inner: Arc<Guard>,
}

#[derive(Debug)]
struct Guard {
    db: Database,
    name: String,
    url: String,
}

impl TestDatabase {
    /// The pool on the throwaway database.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// The database's name (`relay_test_<unix seconds>_<uuid>`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// A URL for connecting to it, as a separate process would.
    pub fn url(&self) -> &str {
        &self.inner.url
    }
}

impl Deref for TestDatabase {
    type Target = Database;

    fn deref(&self) -> &Database {
        &self.inner.db
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be the one this runs on: the
        // statement runs on a thread of its own, with a runtime of its own, and is waited for.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url())
                    .await
                    .map_err(|e| e.to_string())?;
                drop_database(&mut admin, &name)
                    .await
                    .map_err(|e| e.to_string())?;
                admin.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping the test database {} panicked", self.name),
        }
    }
}

/// A new, migrated database of its own.
pub async fn test_database() -> Result<TestDatabase, StoreError> {
    let db = empty_database().await?;
    db.migrate().await?;
    Ok(db)
}

/// A new database without the schema.
pub async fn empty_database() -> Result<TestDatabase, StoreError> {
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
    // From here on the guard owns the database: an error below still drops it.
    let db = Database::connect_lazy(&DbConfig {
        url: url.clone(),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(10),
    });
    let db = match db {
        Ok(db) => db,
        Err(e) => {
            let mut admin = PgConnection::connect(&admin_url()).await?;
            drop_database(&mut admin, &name).await?;
            return Err(e);
        }
    };
    Ok(TestDatabase {
        inner: Arc::new(Guard { db, name, url }),
    })
}

/// `DROP DATABASE IF EXISTS … WITH (FORCE)`, for names that are plainly ours.
async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let plain =
        name.starts_with(PREFIX) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !plain {
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut *admin)
    .await
    .map(drop)
}

/// The safety net for runs that were killed before their guards could drop anything.
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
        if created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER_SECS) {
            let _ = drop_database(admin, &name).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(name: &str) -> bool {
        let mut admin = PgConnection::connect(&admin_url()).await.expect("admin");
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
        )
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("pg_database")
    }

    #[tokio::test]
    async fn the_database_is_dropped_with_its_last_guard_even_with_connections_open() {
        let db = test_database().await.expect("db");
        let name = db.name().to_owned();
        let copy = db.clone();
        // An open connection, as a test that ends mid-query leaves one.
        let _: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(db.pool())
            .await
            .expect("query");
        drop(db);
        assert!(exists(&name).await, "a clone still holds it");
        drop(copy);
        assert!(!exists(&name).await, "{name} is still there");
    }

    #[test]
    fn a_test_that_panics_still_drops_its_database() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (tx, rx) = std::sync::mpsc::channel();
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {
                let db = test_database().await.expect("db");
                tx.send(db.name().to_owned()).expect("send");
                panic!("the test fails");
            })
        }));
        assert!(failed.is_err());
        let name = rx.recv().expect("name");
        assert!(!runtime.block_on(exists(&name)), "{name} is still there");
    }
}
