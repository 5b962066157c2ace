//! `relay config check`: the effective configuration, one line per setting with where its
//! value came from. Secrets are never printed, and passwords in URLs are masked.

use super::redact::redact_url;
use super::sources::{Origin, RawConfig, SETTINGS};
use super::validate::Config;

pub fn describe(raw: &RawConfig, config: &Config) -> Vec<String> {
    SETTINGS
        .iter()
        .map(|setting| {
            let value = raw.get(setting.key);
            let text = value.map(|v| v.text.as_str()).unwrap_or_default();
            let shown = match setting.key {
                "encryption_key" => {
                    format!("[redacted] (key id {})", config.keyring.current_key_id())
                }
                "encryption_old_keys" => {
                    let count = text.split(',').filter(|k| !k.trim().is_empty()).count();
                    format!("[redacted] ({count} old key(s))")
                }
                _ if setting.secret => "[redacted]".to_owned(),
                "database_url" | "redis_url" => redact_url(text),
                _ => text.to_owned(),
            };
            let origin = value.map(|v| v.origin.clone()).unwrap_or(Origin::Default);
            format!("{} = {:?}  # {}", setting.key, shown, origin)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_origins_shown() {
        let env = |name: &str| match name {
            "RELAY_JWT_SECRET" => Some("a-very-secret-value-that-is-long-enough".to_owned()),
            "RELAY_DATABASE_URL" => Some("postgres://u:hunter2@db/relay".to_owned()),
            _ => None,
        };
        let (raw, problems) = RawConfig::load(None, &env);
        assert!(problems.is_empty());
        let config = Config::from_raw(&raw).expect("valid");
        let text = describe(&raw, &config).join("\n");
        assert!(
            !text.contains("a-very-secret")
                && !text.contains("hunter2")
                && !text.contains("cmVsYXkt"),
            "{text}"
        );
        assert!(
            text.contains("jwt_secret = \"[redacted]\"  # RELAY_JWT_SECRET"),
            "{text}"
        );
        assert!(
            text.contains("database_url = \"postgres://u:***@db/relay\"  # RELAY_DATABASE_URL"),
            "{text}"
        );
        assert!(
            text.contains("encryption_key = \"[redacted] (key id dev)\"  # default"),
            "{text}"
        );
        assert_eq!(text.lines().count(), SETTINGS.len());
    }
}
