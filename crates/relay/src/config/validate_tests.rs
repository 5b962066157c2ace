use super::*;
use crate::config::load;
use std::collections::HashMap;
use std::path::Path;

const GOOD_KEY: &str = "prod1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const GOOD_JWT: &str = "a-long-production-secret-of-40-characters!";

fn with_env(vars: &[(&str, &str)]) -> Result<Config, Vec<String>> {
    with_file_and_env(None, vars)
}

fn with_file_and_env(file: Option<&Path>, vars: &[(&str, &str)]) -> Result<Config, Vec<String>> {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load(file, &|name| env.get(name).cloned())
}

#[test]
fn the_defaults_work_in_development() {
    let config = with_env(&[]).expect("defaults are valid");
    assert_eq!(config.env, Environment::Development);
    assert_eq!(config.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(
        config.database_url.expose(),
        "postgres://postgres@127.0.0.1:5432/relay"
    );
    assert_eq!(config.keyring.current_key_id(), "dev");
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(config.log_file, None);
}

#[test]
fn three_problems_give_three_lines_naming_their_variables() {
    let problems = with_env(&[
        ("RELAY_DATABASE_URL", "nonsense"),
        ("RELAY_HTTP_ADDR", "127.0.0.1:70000"),
        ("RELAY_ENCRYPTION_KEY", "c2hvcnQ="),
    ])
    .expect_err("invalid");
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].starts_with("RELAY_DATABASE_URL: 'nonsense' is not a PostgreSQL URL"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1]
            .starts_with("RELAY_HTTP_ADDR: '127.0.0.1:70000' is not a valid listening address"),
        "{}",
        problems[1]
    );
    assert_eq!(
        problems[2],
        "RELAY_ENCRYPTION_KEY: (hidden) is not a usable encryption key: must be 32 bytes, got 5 bytes"
    );
}

#[test]
fn secrets_never_appear_in_problems() {
    let problems = with_env(&[
        ("RELAY_JWT_SECRET", "tooshort-but-secret"),
        ("RELAY_ENCRYPTION_OLD_KEYS", "x:zzzz"),
    ])
    .expect_err("invalid");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| !p.contains("tooshort") && !p.contains("zzzz")),
        "{problems:#?}"
    );
}

#[test]
fn database_url_and_redis_url_are_aliases_that_the_relay_names_override() {
    let config = with_env(&[
        ("DATABASE_URL", "postgres://a@db/one"),
        ("REDIS_URL", "redis://cache:6380"),
    ])
    .expect("valid");
    assert_eq!(config.database_url.expose(), "postgres://a@db/one");
    assert_eq!(config.redis_url.expose(), "redis://cache:6380");
    let config = with_env(&[
        ("DATABASE_URL", "postgres://a@db/one"),
        ("RELAY_DATABASE_URL", "postgres://b@db/two"),
    ])
    .expect("valid");
    assert_eq!(config.database_url.expose(), "postgres://b@db/two");
    let problems = with_env(&[("DATABASE_URL", "nonsense")]).expect_err("invalid");
    assert!(
        problems[0].starts_with("DATABASE_URL: "),
        "names the variable actually set: {}",
        problems[0]
    );
}

#[test]
fn production_refuses_missing_secrets() {
    let problems = with_env(&[("RELAY_ENV", "production")]).expect_err("secrets missing");
    assert_eq!(
        problems,
        vec![
            "RELAY_ENCRYPTION_KEY: is required in production (the development default is refused)",
            "RELAY_JWT_SECRET: is required in production (the development default is refused)",
        ]
    );
}

#[test]
fn production_refuses_development_keys_even_when_set_explicitly() {
    let problems = with_env(&[
        ("RELAY_ENV", "production"),
        (
            "RELAY_ENCRYPTION_KEY",
            relay_store::crypto::DEV_ENCRYPTION_KEY,
        ),
        (
            "RELAY_JWT_SECRET",
            "relay-development-jwt-secret-not-for-production",
        ),
    ])
    .expect_err("dev keys");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("RELAY_ENCRYPTION_KEY: the development key is refused"));
    assert!(problems[1].starts_with("RELAY_JWT_SECRET: the development secret is refused"));
}

#[test]
fn production_with_real_secrets_is_accepted() {
    let config = with_env(&[
        ("RELAY_ENV", "production"),
        ("RELAY_ENCRYPTION_KEY", GOOD_KEY),
        ("RELAY_JWT_SECRET", GOOD_JWT),
        ("RELAY_LOG_FORMAT", "json"),
    ])
    .expect("valid");
    assert_eq!(config.env, Environment::Production);
    assert_eq!(config.keyring.current_key_id(), "prod1");
    assert!(
        !format!("{config:?}").contains(GOOD_JWT),
        "Debug redacts secrets"
    );
}

#[test]
fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let dir = std::env::temp_dir().join(format!("relay-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("relay.toml");
    std::fs::write(
        &file,
        "http_addr = \"127.0.0.1:9000\"\nworker_concurrency = 3\nlog_format = \"json\"\n",
    )
    .expect("write");
    let config = with_file_and_env(Some(&file), &[("RELAY_LOG_FORMAT", "pretty")]).expect("valid");
    assert_eq!(config.http_addr.to_string(), "127.0.0.1:9000");
    assert_eq!(config.worker_concurrency, 3);
    assert_eq!(config.log_format, LogFormat::Pretty);

    std::fs::write(&file, "http_addr = \"nowhere\"\nbogus = 1\n").expect("write");
    let problems =
        with_file_and_env(Some(&file), &[("RELAY_WORKER_CONCURRENCY", "0")]).expect_err("invalid");
    assert_eq!(
        problems.len(),
        3,
        "the file's problems and the environment's, at once: {problems:#?}"
    );
    assert!(
        problems[0].ends_with("unknown setting 'bogus'"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].starts_with("RELAY_HTTP_ADDR: 'nowhere'"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].starts_with("RELAY_WORKER_CONCURRENCY: "),
        "{}",
        problems[2]
    );

    std::fs::write(
        &file,
        "jwt_secret = \"super-secret-value-that-is-long-enough\nbroken\n",
    )
    .expect("write");
    let problems = with_file_and_env(Some(&file), &[]).expect_err("invalid");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("not valid TOML at line "),
        "{}",
        problems[0]
    );
    assert!(
        !problems[0].contains("super-secret"),
        "the secret line is not quoted: {}",
        problems[0]
    );

    std::fs::write(&file, "http_addr = \"nowhere\"\n").expect("write");
    let problems = with_file_and_env(Some(&file), &[]).expect_err("invalid");
    assert!(
        problems[0].starts_with("RELAY_HTTP_ADDR: 'nowhere'")
            && problems[0].contains("(set as 'http_addr' in"),
        "{}",
        problems[0]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn passwords_in_urls_never_appear_in_problems() {
    let problems = with_env(&[
        ("RELAY_DATABASE_URL", "postgres://app:S3cret@db"),
        ("RELAY_REDIS_URL", "http://:hunter2@cache"),
    ])
    .expect_err("invalid");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| !p.contains("S3cret") && !p.contains("hunter2")),
        "{problems:#?}"
    );
    assert!(
        problems[0].contains("postgres://app:***@db"),
        "{}",
        problems[0]
    );
}

#[test]
fn values_are_range_checked() {
    let problems = with_env(&[
        ("RELAY_WORKER_CONCURRENCY", "0"),
        ("RELAY_AUTO_MIGRATE", "perhaps"),
        ("RELAY_LOG_LEVEL", "loud=[["),
        ("RELAY_LOG_FILE", "/no/such/dir/relay.log"),
        ("RELAY_ENV", "staging"),
    ])
    .expect_err("invalid");
    assert_eq!(problems.len(), 5, "{problems:#?}");
}

#[test]
fn telegram_user_accounts_need_both_api_settings_and_no_fake_dc_in_production() {
    assert!(with_env(&[]).expect("defaults").telegram_user.is_none());
    let config = with_env(&[
        ("RELAY_TELEGRAM_API_ID", "12345"),
        (
            "RELAY_TELEGRAM_API_HASH",
            "0123456789abcdef0123456789abcdef",
        ),
        ("RELAY_TELEGRAM_DC_ADDR", "127.0.0.1:4430"),
    ])
    .expect("valid");
    let telegram = config.telegram_user.expect("enabled");
    assert_eq!(telegram.api_id, 12345);
    let dc = telegram.dc.expect("fake dc");
    assert_eq!(dc.addr.to_string(), "127.0.0.1:4430");
    assert_eq!(
        dc.key_half,
        relay_fakes::telegram_dc::default_key_half(),
        "the default key half is the fake DC's"
    );

    let problems = with_env(&[("RELAY_TELEGRAM_API_ID", "12345")]).expect_err("no hash");
    assert_eq!(
        problems,
        ["RELAY_TELEGRAM_API_HASH: is needed with RELAY_TELEGRAM_API_ID"]
    );
    let problems = with_env(&[
        ("RELAY_TELEGRAM_API_ID", "-1"),
        ("RELAY_TELEGRAM_API_HASH", "secret-hash"),
        ("RELAY_TELEGRAM_DC_KEY", "abcd"),
    ])
    .expect_err("invalid");
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[1].starts_with("RELAY_TELEGRAM_API_HASH: (hidden)"),
        "{problems:#?}"
    );
    let problems = with_env(&[
        ("RELAY_ENV", "production"),
        ("RELAY_ENCRYPTION_KEY", GOOD_KEY),
        ("RELAY_JWT_SECRET", GOOD_JWT),
        ("RELAY_TELEGRAM_API_ID", "12345"),
        (
            "RELAY_TELEGRAM_API_HASH",
            "0123456789abcdef0123456789abcdef",
        ),
        ("RELAY_TELEGRAM_DC_ADDR", "127.0.0.1:4430"),
    ])
    .expect_err("fake DC in production");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("RELAY_TELEGRAM_DC_ADDR: points Telegram at a fake DC")),
        "{problems:#?}"
    );
}
