//! Discord webhook URLs. Only Discord's own hosts over https with the
//! `/api[/vN]/webhooks/{id}/{token}` shape are accepted, so the field can never be used to
//! make Relay call another server.

use std::fmt;

const HOSTS: &[&str] = &[
    "discord.com",
    "discordapp.com",
    "ptb.discord.com",
    "canary.discord.com",
    "ptb.discordapp.com",
    "canary.discordapp.com",
];

/// A webhook's id and token.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub id: u64,
    pub token: String,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("id", &self.id)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl WebhookTarget {
    /// Parses and checks a webhook URL; the error says what is wrong, for a 422.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .ok_or("must be an https:// Discord webhook URL")?;
        let (host, path) = rest.split_once('/').ok_or(
            "must be a Discord webhook URL: https://discord.com/api/webhooks/{id}/{token}",
        )?;
        let host = host.to_ascii_lowercase();
        if !HOSTS.contains(&host.as_str()) {
            return Err(format!(
                "host '{host}' is not Discord; webhook URLs start with https://discord.com/api/webhooks/"
            ));
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        if parts.next() != Some("api") {
            return Err("the path must be /api/webhooks/{id}/{token}".into());
        }
        let mut next = parts.next();
        if next.is_some_and(|p| {
            p.len() > 1 && p.starts_with('v') && p[1..].bytes().all(|b| b.is_ascii_digit())
        }) {
            next = parts.next();
        }
        if next != Some("webhooks") {
            return Err("the path must be /api/webhooks/{id}/{token}".into());
        }
        let id = parts
            .next()
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|id| *id > 0)
            .ok_or("the webhook id must be a number")?;
        let token = parts.next().ok_or("the URL has no webhook token")?;
        if token.is_empty()
            || token.len() > 100
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("the webhook token is malformed".into());
        }
        if parts.next().is_some() {
            return Err("the path must end after the webhook token".into());
        }
        Ok(Self {
            id,
            token: token.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn discord_webhook_urls_are_accepted() {
        for url in [
            "https://discord.com/api/webhooks/123/abc-DEF_456",
            "https://discordapp.com/api/webhooks/123/tok",
            "https://canary.discord.com/api/v10/webhooks/123/tok",
            "https://PTB.discord.com/api/webhooks/123/tok?wait=true",
        ] {
            let target = WebhookTarget::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(target.id, 123);
        }
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for url in [
            "http://discord.com/api/webhooks/1/tok",
            "https://evil.com/api/webhooks/1/tok",
            "https://discord.com.evil.com/api/webhooks/1/tok",
            "https://discord.com@evil.com/api/webhooks/1/tok",
            "https://127.0.0.1/api/webhooks/1/tok",
            "https://discord.com:8443/api/webhooks/1/tok",
            "https://discord.com/api/webhooks/x/tok",
            "https://discord.com/api/webhooks/1",
            "https://discord.com/api/webhooks/1/tok/extra",
            "https://discord.com/api/channels/1/tok",
            "https://discord.com/api/webhooks/1/to%2Fk",
            "",
        ] {
            assert!(WebhookTarget::parse(url).is_err(), "{url} accepted");
        }
        assert!(
            !format!(
                "{:?}",
                WebhookTarget::parse("https://discord.com/api/webhooks/1/secret").expect("ok")
            )
            .contains("secret")
        );
    }

    proptest! {
        #[test]
        fn no_other_host_is_ever_accepted(host in "[a-z0-9.-]{1,30}", id in 1u64.., token in "[A-Za-z0-9_-]{1,20}") {
            let url = format!("https://{host}/api/webhooks/{id}/{token}");
            let accepted = WebhookTarget::parse(&url).is_ok();
            prop_assert_eq!(accepted, HOSTS.contains(&host.as_str()));
        }

        #[test]
        fn parsing_never_panics(input in "\\PC{0,120}") {
            let _ = WebhookTarget::parse(&input);
        }
    }
}
