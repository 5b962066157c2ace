//! Turning the raw text of every setting into typed configuration, collecting every
//! problem rather than stopping at the first.

use super::sources::{Origin, RawConfig, SETTINGS};
use relay_queue::LimitRule;
use relay_store::crypto::{EncryptionKey, Keyring};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// The development JWT secret from `defaults.toml`; refused in production.
const DEV_JWT_SECRET: &str = "relay-development-jwt-secret-not-for-production";
const MIN_JWT_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub env: Environment,
    pub database_url: Secret,
    pub database_max_connections: u32,
    pub database_auto_create: bool,
    pub auto_migrate: bool,
    pub redis_url: Secret,
    pub redis_key_prefix: relay_queue::KeyPrefix,
    pub http_addr: SocketAddr,
    pub http_body_limit_bytes: usize,
    pub http_request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub keyring: Keyring,
    pub jwt_secret: Secret,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_per_ip: LimitRule,
    pub login_per_account: LimitRule,
    pub session_cache_ttl: Duration,
    pub discord: relay_discord::DiscordEndpoints,
    pub telegram_bot_api_url: String,
    /// Telegram user accounts; `None` when no API id and hash are configured.
    pub telegram_user: Option<relay_telegram::user::MtprotoConfig>,
    pub http_trusted_proxies: Vec<ipnet::IpNet>,
    /// Where admin routes may be used from (besides the database's `ip_allowlist`).
    pub admin_allowlist: Vec<ipnet::IpNet>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub log_file: Option<PathBuf>,
    pub worker_concurrency: usize,
    pub worker_lease: Duration,
    pub queue_partitions: u16,
    pub queue_max_attempts: u32,
    pub sweep_interval: Duration,
    pub sweep_quiet: Duration,
    pub health_check: Duration,
    /// Payment providers (each optional).
    pub payments: relay_api::routes::payments::PaymentsSettings,
    /// How long past its period end a subscription is kept before it ends.
    pub subscription_grace: Duration,
    /// Wall-clock time (not a setting: tests replace it to move the day forward).
    pub clock: relay_core::clock::Clock,
    /// How often subscriptions past their end are looked for.
    pub subscription_sweep: Duration,
}

/// Reads settings one by one, remembering every problem.
struct Checker<'a> {
    raw: &'a RawConfig,
    problems: Vec<String>,
}

impl Checker<'_> {
    fn text(&self, key: &str) -> &str {
        self.raw
            .get(key)
            .map(|v| v.text.as_str())
            .unwrap_or_default()
    }

    fn origin(&self, key: &str) -> Origin {
        self.raw
            .get(key)
            .map(|v| v.origin.clone())
            .unwrap_or(Origin::Default)
    }

    /// Names the variable to fix, and the file when the value came from one.
    fn problem(&mut self, key: &str, message: impl fmt::Display) {
        let setting = SETTINGS.iter().find(|s| s.key == key);
        let primary = setting
            .and_then(|s| s.env.first())
            .copied()
            .unwrap_or("RELAY_?");
        let line = match self.origin(key) {
            Origin::Env(var) => format!("{var}: {message}"),
            Origin::File(path) => format!(
                "{primary}: {message} (set as '{key}' in {})",
                path.display()
            ),
            Origin::Default => format!("{primary}: {message}"),
        };
        self.problems.push(line);
    }

    fn parse<T>(
        &mut self,
        key: &str,
        what: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.text(key).trim().to_owned();
        match check(&text) {
            Ok(v) => Some(v),
            Err(why) => {
                let shown = if SETTINGS.iter().any(|s| s.key == key && s.secret) {
                    "(hidden)".to_owned()
                } else if key.ends_with("_url") {
                    // URLs may carry a password.
                    format!("'{}'", super::redact::redact_url(&text))
                } else {
                    format!("'{text}'")
                };
                self.problem(
                    key,
                    format!(
                        "{shown} is not {what}{}",
                        if why.is_empty() {
                            String::new()
                        } else {
                            format!(": {why}")
                        }
                    ),
                );
                None
            }
        }
    }

    fn number<T: FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        key: &str,
        min: T,
        max: T,
    ) -> Option<T> {
        self.parse(key, &format!("a whole number from {min} to {max}"), |t| {
            t.parse::<T>()
                .ok()
                .filter(|n| *n >= min && *n <= max)
                .ok_or_default()
        })
    }

    fn flag(&mut self, key: &str) -> Option<bool> {
        self.parse(key, "true or false", |t| {
            match t.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(String::new()),
            }
        })
    }
}

trait OkOrDefault<T> {
    fn ok_or_default(self) -> Result<T, String>;
}

impl<T> OkOrDefault<T> for Option<T> {
    fn ok_or_default(self) -> Result<T, String> {
        self.ok_or_else(String::new)
    }
}

impl Config {
    pub fn from_raw(raw: &RawConfig) -> Result<Self, Vec<String>> {
        let mut c = Checker {
            raw,
            problems: Vec::new(),
        };
        let env = c.parse("env", "development or production", |t| match t {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            _ => Err(String::new()),
        });
        let database_url = c.parse("database_url", "a PostgreSQL URL", |t| {
            relay_store::db::check_url(t).map(|()| Secret(t.to_owned()))
        });
        let database_max_connections = c.number("database_max_connections", 1u32, 1000);
        let database_auto_create = c.flag("database_auto_create");
        let auto_migrate = c.flag("auto_migrate");
        let redis_url = c.parse("redis_url", "a Redis URL", |t| {
            relay_queue::check_redis_url(t).map(|()| Secret(t.to_owned()))
        });
        let redis_key_prefix = c.parse("redis_key_prefix", "a key prefix", |t| {
            relay_queue::KeyPrefix::parse(t)
        });
        let http_addr = c.parse("http_addr", "a valid listening address", |t| {
            SocketAddr::from_str(t).map_err(|_| {
                "expected IP:port with a port from 0 to 65535, e.g. 127.0.0.1:8080".to_owned()
            })
        });
        let http_body_limit_bytes = c.number("http_body_limit_bytes", 1024usize, 1 << 30);
        let http_request_timeout = c
            .number("http_request_timeout_secs", 1u64, 3600)
            .map(Duration::from_secs);
        let shutdown_grace = c
            .number("shutdown_grace_secs", 0u64, 3600)
            .map(Duration::from_secs);
        let keyring = keyring(&mut c);
        let jwt_secret = c.parse("jwt_secret", "a usable secret", |t| {
            if t.len() < MIN_JWT_SECRET_LEN {
                Err(format!(
                    "must be at least {MIN_JWT_SECRET_LEN} characters, got {}",
                    t.len()
                ))
            } else {
                Ok(Secret(t.to_owned()))
            }
        });
        let access_token_ttl = c
            .number("access_token_ttl_secs", 60u64, 86_400)
            .map(Duration::from_secs);
        let refresh_token_ttl = c
            .number("refresh_token_ttl_days", 1u64, 365)
            .map(|d| Duration::from_secs(d * 86_400));
        let login_per_ip = limit(&mut c, "login_ip_limit", "login_ip_window_secs");
        let login_per_account = limit(&mut c, "login_account_limit", "login_account_window_secs");
        let session_cache_ttl = c
            .number("session_cache_ms", 0u64, 60_000)
            .map(Duration::from_millis);
        let discord_api_url = c.parse("discord_api_url", "an http(s) URL", |t| {
            url_with_scheme(t, &["https://", "http://"])
        });
        let discord_gateway_url = c.parse("discord_gateway_url", "a ws(s) URL", |t| {
            url_with_scheme(t, &["wss://", "ws://"])
        });
        let telegram_bot_api_url = c.parse("telegram_bot_api_url", "an http(s) URL", |t| {
            url_with_scheme(t, &["https://", "http://"])
        });
        let telegram_user = telegram_user(&mut c, env);
        let http_trusted_proxies = c.parse(
            "http_trusted_proxies",
            "a list of IP addresses or networks",
            networks,
        );
        let admin_allowlist = c.parse(
            "admin_allowlist",
            "a list of IP addresses or networks",
            networks,
        );
        let log_level = c.parse("log_level", "a log filter", |t| {
            tracing_subscriber::EnvFilter::try_new(t)
                .map(|_| t.to_owned())
                .map_err(|e| e.to_string())
        });
        let log_format = c.parse("log_format", "pretty or json", |t| match t {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err(String::new()),
        });
        let log_file = c.parse("log_file", "a usable file path", |t| {
            if t.is_empty() {
                return Ok(None);
            }
            let path = PathBuf::from(t);
            match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                    Err(format!("directory {} does not exist", dir.display()))
                }
                _ => Ok(Some(path)),
            }
        });
        let worker_concurrency = c.number("worker_concurrency", 1usize, 1024);
        let worker_lease = c
            .number("worker_lease_secs", 1u64, 15)
            .map(Duration::from_secs);
        let queue_partitions = c.number("queue_partitions", 1u16, 1024);
        let queue_max_attempts = c.number("queue_max_attempts", 1u32, 100);
        let sweep_interval = c
            .number("sweep_interval_secs", 1u64, 3600)
            .map(Duration::from_secs);
        let sweep_quiet = c
            .number("sweep_quiet_secs", 1u64, 3600)
            .map(Duration::from_secs);
        let health_check = c
            .number("health_check_secs", 10u64, 86_400)
            .map(Duration::from_secs);

        let payments = payments::payments(&mut c, env);
        let subscription_grace = c
            .number("subscription_grace_secs", 0u64, 30 * 86_400)
            .map(Duration::from_secs);
        let subscription_sweep = c
            .number("subscription_sweep_secs", 1u64, 86_400)
            .map(Duration::from_secs);

        if env == Some(Environment::Production) {
            production_rules(&mut c, keyring.as_ref(), jwt_secret.as_ref());
        }
        if !c.problems.is_empty() {
            return Err(c.problems);
        }
        // Every `None` above recorded a problem, so with none recorded all are `Some`.
        let config = || {
            Some(Config {
                env: env?,
                database_url: database_url?,
                database_max_connections: database_max_connections?,
                database_auto_create: database_auto_create?,
                auto_migrate: auto_migrate?,
                redis_url: redis_url?,
                redis_key_prefix: redis_key_prefix?,
                http_addr: http_addr?,
                http_body_limit_bytes: http_body_limit_bytes?,
                http_request_timeout: http_request_timeout?,
                shutdown_grace: shutdown_grace?,
                keyring: keyring?,
                jwt_secret: jwt_secret?,
                access_token_ttl: access_token_ttl?,
                refresh_token_ttl: refresh_token_ttl?,
                login_per_ip: login_per_ip?,
                login_per_account: login_per_account?,
                session_cache_ttl: session_cache_ttl?,
                discord: relay_discord::DiscordEndpoints {
                    api_url: discord_api_url?,
                    gateway_url: discord_gateway_url?,
                },
                telegram_bot_api_url: telegram_bot_api_url?,
                telegram_user: telegram_user?,
                http_trusted_proxies: http_trusted_proxies?,
                admin_allowlist: admin_allowlist?,
                log_level: log_level?,
                log_format: log_format?,
                log_file: log_file?,
                worker_concurrency: worker_concurrency?,
                worker_lease: worker_lease?,
                queue_partitions: queue_partitions?,
                queue_max_attempts: queue_max_attempts?,
                sweep_interval: sweep_interval?,
                sweep_quiet: sweep_quiet?,
                health_check: health_check?,
                payments: payments?,
                subscription_grace: subscription_grace?,
                subscription_sweep: subscription_sweep?,
                clock: relay_core::clock::Clock::system(),
            })
        };
        config().ok_or_else(|| vec!["configuration: a setting could not be read".to_owned()])
    }
}

/// The MTProto settings: both the API id and hash or neither; a DC address only outside
/// production.
fn telegram_user(
    c: &mut Checker<'_>,
    env: Option<Environment>,
) -> Option<Option<relay_telegram::user::MtprotoConfig>> {
    use relay_telegram::user::{DcOverride, MtprotoConfig, parse_key_half};
    let api_id = c.parse("telegram_api_id", "a Telegram API id", |t| {
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<i32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| "expected the positive number from my.telegram.org".to_owned())
    });
    let api_hash = c.parse("telegram_api_hash", "a Telegram API hash", |t| {
        if t.is_empty() || (t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())) {
            Ok((!t.is_empty()).then(|| t.to_owned()))
        } else {
            Err("expected the 32 hex digits from my.telegram.org".to_owned())
        }
    });
    let dc_addr = c.parse("telegram_dc_addr", "a host:port address", |t| {
        if t.is_empty() {
            return Ok(None);
        }
        SocketAddr::from_str(t)
            .map(Some)
            .map_err(|_| "expected IP:port, e.g. 127.0.0.1:4430".to_owned())
    });
    let dc_key = c.parse("telegram_dc_key", "a key half", parse_key_half);
    let (api_id, api_hash, dc_addr, dc_key) = (api_id?, api_hash?, dc_addr?, dc_key?);
    if dc_addr.is_some() && env == Some(Environment::Production) {
        c.problem(
            "telegram_dc_addr",
            "points Telegram at a fake DC, which production refuses; leave it empty",
        );
        return None;
    }
    match (api_id, api_hash) {
        (Some(api_id), Some(api_hash)) => Some(Some(MtprotoConfig {
            api_id,
            api_hash,
            dc: dc_addr.map(|addr| DcOverride {
                addr,
                key_half: dc_key,
            }),
        })),
        (None, None) => Some(None),
        (None, Some(_)) => {
            c.problem("telegram_api_id", "is needed with RELAY_TELEGRAM_API_HASH");
            None
        }
        (Some(_), None) => {
            c.problem("telegram_api_hash", "is needed with RELAY_TELEGRAM_API_ID");
            None
        }
    }
}

fn url_with_scheme(text: &str, schemes: &[&str]) -> Result<String, String> {
    let rest = schemes
        .iter()
        .find_map(|s| text.strip_prefix(s))
        .ok_or_else(|| format!("must start with {}", schemes.join(" or ")))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("has no host".into());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn limit(c: &mut Checker<'_>, max_key: &str, window_key: &str) -> Option<LimitRule> {
    let max = c.number(max_key, 1u32, 1_000_000);
    let window = c.number(window_key, 1u64, 86_400).map(Duration::from_secs);
    Some(LimitRule {
        max: max?,
        window: window?,
    })
}

fn keyring(c: &mut Checker<'_>) -> Option<Keyring> {
    let current = c.parse("encryption_key", "a usable encryption key", |t| {
        EncryptionKey::parse(t).map_err(|e| e.to_string())
    });
    let old = c.parse(
        "encryption_old_keys",
        "a list of old encryption keys",
        |t| {
            t.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| EncryptionKey::parse(k).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()
        },
    );
    let (current, old) = (current?, old?);
    match Keyring::new(current, old) {
        Ok(ring) => Some(ring),
        Err(e) => {
            c.problem("encryption_old_keys", e);
            None
        }
    }
}

/// Production refuses the published development values and secrets left at default.
fn production_rules(c: &mut Checker<'_>, keyring: Option<&Keyring>, jwt: Option<&Secret>) {
    for key in ["encryption_key", "jwt_secret"] {
        if c.origin(key) == Origin::Default {
            c.problem(
                key,
                "is required in production (the development default is refused)",
            );
        }
    }
    if c.origin("encryption_key") != Origin::Default
        && keyring.is_some_and(|_| {
            EncryptionKey::parse(c.text("encryption_key")).is_ok_and(|k| k.is_development_key())
        })
    {
        c.problem("encryption_key", "the development key is refused in production; generate one with: openssl rand -base64 32");
    }
    if c.origin("jwt_secret") != Origin::Default
        && jwt.is_some_and(|s| s.expose() == DEV_JWT_SECRET)
    {
        c.problem(
            "jwt_secret",
            "the development secret is refused in production",
        );
    }
}

#[path = "payments.rs"]
mod payments;

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

/// A comma-separated list of IP addresses and networks.
fn networks(t: &str) -> Result<Vec<ipnet::IpNet>, String> {
    t.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("'{p}' is neither an IP address nor a network"))
        })
        .collect()
}
