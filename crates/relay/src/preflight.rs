//! Start-up checks: PostgreSQL and Redis must answer (and when one does not, say which and
//! how to start it), the database is created when missing and migrated when asked.

use crate::config::{Config, redact_url};
use relay_queue::{RedisConfig, RedisConn};
use relay_store::{Database, DbConfig};
use std::time::Duration;

/// Exit code when PostgreSQL or Redis is not there.
pub const EXIT_DEPENDENCY: u8 = 3;

/// A start-up failure, phrased for the person starting Relay.
#[derive(Debug)]
pub struct StartupError {
    pub lines: Vec<String>,
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

impl std::error::Error for StartupError {}

/// What start-up should do to the database.
#[derive(Debug, Clone, Copy)]
pub struct DbSetup {
    pub create_if_missing: bool,
    pub migrate: bool,
}

pub fn db_config(config: &Config) -> DbConfig {
    DbConfig {
        url: config.database_url.expose().to_owned(),
        max_connections: config.database_max_connections,
        acquire_timeout: Duration::from_secs(5),
    }
}

pub fn redis_config(config: &Config) -> RedisConfig {
    RedisConfig {
        url: config.redis_url.expose().to_owned(),
        key_prefix: config.redis_key_prefix.clone(),
        command_timeout: Duration::from_secs(2),
    }
}

/// Checks both dependencies, reporting every one that is missing, then brings the schema
/// up to date (or refuses to start on an outdated one).
pub async fn connect(
    config: &Config,
    setup: DbSetup,
) -> Result<(Database, RedisConn), StartupError> {
    let (db, redis) = tokio::join!(database(config, setup.create_if_missing), redis(config));
    let (db, redis) = match (db, redis) {
        (Ok(db), Ok(redis)) => (db, redis),
        (db, redis) => {
            let lines = [db.err(), redis.err()].into_iter().flatten().collect();
            return Err(StartupError { lines });
        }
    };
    let shown = redact_url(config.database_url.expose());
    let fail = |line: String| StartupError { lines: vec![line] };
    if setup.migrate {
        let applied = db
            .migrate()
            .await
            .map_err(|e| fail(format!("migrating {shown} failed: {e}")))?;
        if applied > 0 {
            tracing::info!(applied, "applied database migrations");
        }
    } else {
        let pending = db
            .pending_migrations()
            .await
            .map_err(|e| fail(format!("reading {shown}: {e}")))?;
        if !pending.is_empty() {
            return Err(fail(format!(
                "the database at {shown} lacks {} migration(s); run `relay migrate` or set RELAY_AUTO_MIGRATE=true",
                pending.len()
            )));
        }
    }
    Ok((db, redis))
}

/// Connects to PostgreSQL only (for `relay migrate`).
pub async fn connect_database(
    config: &Config,
    create_if_missing: bool,
) -> Result<Database, StartupError> {
    database(config, create_if_missing)
        .await
        .map_err(|line| StartupError { lines: vec![line] })
}

async fn database(config: &Config, create_if_missing: bool) -> Result<Database, String> {
    let url = config.database_url.expose();
    let shown = redact_url(url);
    let unreachable = |e: &dyn std::fmt::Display| {
        format!(
            "PostgreSQL is not reachable at {shown} ({e}). Start it (Debian: pg_ctlcluster $(ls /etc/postgresql) main start; \
             elsewhere: systemctl start postgresql or brew services start postgresql) or set RELAY_DATABASE_URL."
        )
    };
    if create_if_missing {
        match Database::create_if_missing(url).await {
            Ok(true) => tracing::info!(database = %shown, "created the database"),
            Ok(false) => {}
            Err(e) => return Err(unreachable(&e)),
        }
    }
    let db = Database::connect_lazy(&db_config(config))
        .map_err(|e| format!("RELAY_DATABASE_URL: {e}"))?;
    db.ping().await.map_err(|e| unreachable(&e))?;
    Ok(db)
}

async fn redis(config: &Config) -> Result<RedisConn, String> {
    let shown = redact_url(config.redis_url.expose());
    let conn = RedisConn::connect_lazy(&redis_config(config))
        .map_err(|e| format!("RELAY_REDIS_URL: {e}"))?;
    conn.ping().await.map_err(|e| {
        format!(
            "Redis is not reachable at {shown} ({e}). Start it (redis-server --daemonize yes, or systemctl start redis-server) \
             or set RELAY_REDIS_URL."
        )
    })?;
    Ok(conn)
}
