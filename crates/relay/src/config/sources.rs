//! Where each setting's text comes from: the embedded defaults, the optional file, or the
//! environment. Values stay text here; `validate` turns them into types.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("defaults.toml");

/// One setting: its key in TOML, the variables that set it (first wins), and whether its
/// value is a secret that must never be printed.
#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    pub env: &'static [&'static str],
    pub secret: bool,
}

const fn s(key: &'static str, env: &'static [&'static str]) -> Setting {
    Setting {
        key,
        env,
        secret: false,
    }
}

const fn secret(key: &'static str, env: &'static [&'static str]) -> Setting {
    Setting {
        key,
        env,
        secret: true,
    }
}

pub const SETTINGS: &[Setting] = &[
    s("env", &["RELAY_ENV"]),
    s("database_url", &["RELAY_DATABASE_URL", "DATABASE_URL"]),
    s(
        "database_max_connections",
        &["RELAY_DATABASE_MAX_CONNECTIONS"],
    ),
    s("database_auto_create", &["RELAY_DATABASE_AUTO_CREATE"]),
    s("auto_migrate", &["RELAY_AUTO_MIGRATE"]),
    s("redis_url", &["RELAY_REDIS_URL", "REDIS_URL"]),
    s("redis_key_prefix", &["RELAY_REDIS_KEY_PREFIX"]),
    s("http_addr", &["RELAY_HTTP_ADDR"]),
    s("http_trusted_proxies", &["RELAY_HTTP_TRUSTED_PROXIES"]),
    s("admin_allowlist", &["RELAY_ADMIN_ALLOWLIST"]),
    s("http_body_limit_bytes", &["RELAY_HTTP_BODY_LIMIT_BYTES"]),
    s(
        "http_request_timeout_secs",
        &["RELAY_HTTP_REQUEST_TIMEOUT_SECS"],
    ),
    s("shutdown_grace_secs", &["RELAY_SHUTDOWN_GRACE_SECS"]),
    secret("encryption_key", &["RELAY_ENCRYPTION_KEY"]),
    secret("encryption_old_keys", &["RELAY_ENCRYPTION_OLD_KEYS"]),
    secret("jwt_secret", &["RELAY_JWT_SECRET"]),
    s("access_token_ttl_secs", &["RELAY_ACCESS_TOKEN_TTL_SECS"]),
    s("refresh_token_ttl_days", &["RELAY_REFRESH_TOKEN_TTL_DAYS"]),
    s("login_ip_limit", &["RELAY_LOGIN_IP_LIMIT"]),
    s("login_ip_window_secs", &["RELAY_LOGIN_IP_WINDOW_SECS"]),
    s("login_account_limit", &["RELAY_LOGIN_ACCOUNT_LIMIT"]),
    s(
        "login_account_window_secs",
        &["RELAY_LOGIN_ACCOUNT_WINDOW_SECS"],
    ),
    s("session_cache_ms", &["RELAY_SESSION_CACHE_MS"]),
    s("discord_api_url", &["RELAY_DISCORD_API_URL"]),
    s("discord_gateway_url", &["RELAY_DISCORD_GATEWAY_URL"]),
    s("telegram_bot_api_url", &["RELAY_TELEGRAM_BOT_API_URL"]),
    s("telegram_api_id", &["RELAY_TELEGRAM_API_ID"]),
    secret("telegram_api_hash", &["RELAY_TELEGRAM_API_HASH"]),
    s("telegram_dc_addr", &["RELAY_TELEGRAM_DC_ADDR"]),
    s("telegram_dc_key", &["RELAY_TELEGRAM_DC_KEY"]),
    s("log_level", &["RELAY_LOG_LEVEL"]),
    s("log_format", &["RELAY_LOG_FORMAT"]),
    s("log_file", &["RELAY_LOG_FILE"]),
    s("worker_concurrency", &["RELAY_WORKER_CONCURRENCY"]),
    s("worker_lease_secs", &["RELAY_WORKER_LEASE_SECS"]),
    s("queue_partitions", &["RELAY_QUEUE_PARTITIONS"]),
    s("queue_max_attempts", &["RELAY_QUEUE_MAX_ATTEMPTS"]),
    s("sweep_interval_secs", &["RELAY_SWEEP_INTERVAL_SECS"]),
    s("sweep_quiet_secs", &["RELAY_SWEEP_QUIET_SECS"]),
    s("health_check_secs", &["RELAY_HEALTH_CHECK_SECS"]),
    s("payments_public_url", &["RELAY_PAYMENTS_PUBLIC_URL"]),
    s("paypal_api_url", &["RELAY_PAYPAL_API_URL"]),
    s("paypal_client_id", &["RELAY_PAYPAL_CLIENT_ID"]),
    secret("paypal_client_secret", &["RELAY_PAYPAL_CLIENT_SECRET"]),
    s("paypal_webhook_id", &["RELAY_PAYPAL_WEBHOOK_ID"]),
    s("paypal_verification", &["RELAY_PAYPAL_VERIFICATION"]),
    s("paypal_cert_hosts", &["RELAY_PAYPAL_CERT_HOSTS"]),
    s("paypal_cert_roots_file", &["RELAY_PAYPAL_CERT_ROOTS_FILE"]),
    s("paypal_cert_fetch_url", &["RELAY_PAYPAL_CERT_FETCH_URL"]),
    s("nowpayments_api_url", &["RELAY_NOWPAYMENTS_API_URL"]),
    secret("nowpayments_api_key", &["RELAY_NOWPAYMENTS_API_KEY"]),
    secret("nowpayments_ipn_secret", &["RELAY_NOWPAYMENTS_IPN_SECRET"]),
    s(
        "subscription_grace_secs",
        &["RELAY_SUBSCRIPTION_GRACE_SECS"],
    ),
    s(
        "subscription_sweep_secs",
        &["RELAY_SUBSCRIPTION_SWEEP_SECS"],
    ),
];

/// Where a value came from, so a problem can say what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(var) => f.write_str(var),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RawValue {
    pub text: String,
    pub origin: Origin,
}

/// Every setting's text and origin.
#[derive(Debug, Clone)]
pub struct RawConfig {
    values: BTreeMap<&'static str, RawValue>,
}

impl RawConfig {
    /// Every setting's text, and the problems met on the way (a file that cannot be read or
    /// parsed, an unknown key). Settings with problems keep their default, so validation can
    /// still report everything else at once.
    pub fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut values = BTreeMap::new();
        match parse_toml(DEFAULTS) {
            Ok(defaults) => merge(
                &mut values,
                defaults,
                Origin::Default,
                &mut problems,
                "defaults",
            ),
            Err(e) => problems.push(format!("embedded defaults: {e}")),
        }
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => match parse_toml(&text) {
                    Ok(table) => merge(
                        &mut values,
                        table,
                        Origin::File(path.to_owned()),
                        &mut problems,
                        &path.display().to_string(),
                    ),
                    Err(e) => problems.push(toml_problem(&path.display().to_string(), &text, &e)),
                },
                Err(e) => problems.push(format!(
                    "--config {}: cannot read the file: {e}",
                    path.display()
                )),
            }
        }
        for setting in SETTINGS {
            if let Some((var, text)) = setting
                .env
                .iter()
                .find_map(|var| env(var).map(|v| (*var, v)))
            {
                values.insert(
                    setting.key,
                    RawValue {
                        text,
                        origin: Origin::Env(var),
                    },
                );
            }
        }
        (Self { values }, problems)
    }

    /// The text of a setting (every setting has a default, so this is always there).
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.values.get(key)
    }
}

/// Where a file is not TOML, by line and column only: the message must not quote the line,
/// which may hold a secret.
fn toml_problem(source: &str, text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map(|span| span.start).unwrap_or(0).min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    format!(
        "{source}: not valid TOML at line {line}, column {column}: {}",
        e.message()
    )
}

fn parse_toml(text: &str) -> Result<toml::Table, toml::de::Error> {
    text.parse::<toml::Table>()
}

fn merge(
    values: &mut BTreeMap<&'static str, RawValue>,
    table: toml::Table,
    origin: Origin,
    problems: &mut Vec<String>,
    source: &str,
) {
    for (key, value) in table {
        let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
            problems.push(format!("{source}: unknown setting '{key}'"));
            continue;
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                problems.push(format!(
                    "{source}: '{key}' must be a string, number or boolean, not {}",
                    other.type_str()
                ));
                continue;
            }
        };
        values.insert(
            setting.key,
            RawValue {
                text,
                origin: origin.clone(),
            },
        );
    }
}
