//! All four directions (TG→DC, DC→TG, TG→TG, DC→DC), a Telegram user session as a source,
//! the manual forward through the API, and failures that end in the dead-letter stream.

use crate::stack::Stack;
use relay_fakes::telegram_dc::Peer;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_message_reaches_its_destination_in_each_of_the_four_directions() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;

    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("Alice's server", &[bot]);
    let (dc_source, dc_target, dc_hooked) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "target"),
        d.add_channel(guild, "hooked"),
    );
    let (hook_id, hook_token) = d.add_webhook(dc_hooked, "relay hook");
    let someone = d.add_user("someone");

    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let (tg_source, tg_target, tg_other) = (
        b.add_chat("supergroup", "source", &[tg_bot]),
        b.add_chat("supergroup", "target", &[tg_bot]),
        b.add_chat("supergroup", "other", &[tg_bot]),
    );

    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    // TG→DC and TG→TG from one Telegram chat; DC→TG and DC→DC (webhook) from one channel.
    s.pair(
        &alice,
        (&telegram_bot, tg_source.to_string()),
        &[
            (&discord_bot, Some(dc_target.to_string())),
            (&telegram_bot, Some(tg_other.to_string())),
        ],
    )
    .await;
    s.pair(
        &alice,
        (&discord_bot, dc_source.to_string()),
        &[
            (&telegram_bot, Some(tg_target.to_string())),
            (&webhook, None),
        ],
    )
    .await;

    // Listeners start within a lease tick; keep posting until the first message is seen.
    s.eventually(
        "the Telegram source is listened to",
        Duration::from_secs(30),
        || async {
            b.user_posts(tg_source, "Tina", "**hello** from Telegram");
            tokio::time::sleep(Duration::from_millis(400)).await;
            !s.discord_texts(dc_target).is_empty()
        },
    )
    .await;
    s.eventually(
        "the Discord source is listened to",
        Duration::from_secs(30),
        || async {
            d.user_posts(dc_source, someone, "hello from Discord");
            tokio::time::sleep(Duration::from_millis(400)).await;
            !s.bot_texts(tg_target).is_empty()
        },
    )
    .await;
    s.eventually(
        "every direction delivered",
        Duration::from_secs(20),
        || async { !s.bot_texts(tg_other).is_empty() && !s.discord_texts(dc_hooked).is_empty() },
    )
    .await;
    assert!(s.discord_texts(dc_target)[0].contains("hello"), "TG→DC");
    assert!(s.bot_texts(tg_other)[0].contains("hello"), "TG→TG");
    assert!(
        s.bot_texts(tg_target)[0].contains("hello from Discord"),
        "DC→TG"
    );
    let hooked = d.messages(dc_hooked);
    assert!(hooked[0].content.contains("hello from Discord"), "DC→DC");
    assert_eq!(
        hooked[0].author.name, "someone",
        "the webhook shows the source's author"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_telegram_user_session_forwards_its_channel_and_the_api_forwards_on_request() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("News", false, &[author, me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;

    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let target = d.add_channel(guild, "news-mirror");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let pair = s
        .pair(
            &alice,
            (&user_account, (-1_000_000_000_000 - channel).to_string()),
            &[(&discord_bot, Some(target.to_string()))],
        )
        .await;

    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;
    dc.post(Peer::Channel(channel), author, "breaking news");
    s.eventually(
        "the channel post arrives",
        Duration::from_secs(20),
        || async {
            s.discord_texts(target)
                .iter()
                .any(|t| t.contains("breaking news"))
        },
    )
    .await;

    // The API path: a message queued through the pair by hand.
    s.post(
        &format!("/api/v1/pairs/{pair}/forward"),
        &alice,
        json!({"text": "sent from the API"}),
    )
    .await;
    s.eventually(
        "the manual forward arrives",
        Duration::from_secs(20),
        || async {
            s.discord_texts(target)
                .iter()
                .any(|t| t == "sent from the API")
        },
    )
    .await;

    // A manual forward longer than Discord's 2,000 characters goes out in parts, in order.
    let long: Vec<String> = (0..50)
        .map(|i| format!("Line {i:02} {}", "word ".repeat(19)))
        .collect();
    s.post(
        &format!("/api/v1/pairs/{pair}/forward"),
        &alice,
        json!({"text": long.join("\n")}),
    )
    .await;
    s.eventually(
        "the long manual forward arrives in parts",
        Duration::from_secs(20),
        || async {
            s.discord_texts(target)
                .iter()
                .any(|t| t.contains("Line 49"))
        },
    )
    .await;
    let texts = s.discord_texts(target);
    let parts: Vec<&String> = texts.iter().filter(|t| t.starts_with("Line ")).collect();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    assert!(parts.iter().all(|t| t.chars().count() <= 2000));
    let lines: Vec<&str> = parts
        .iter()
        .flat_map(|t| t.lines())
        .map(str::trim_end)
        .collect();
    assert_eq!(lines, long.iter().map(|l| l.trim_end()).collect::<Vec<_>>());
    s.stop().await;
}

#[tokio::test]
async fn a_destination_that_always_fails_ends_in_the_dead_letters_and_the_error_log() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let source = d.add_channel(guild, "source");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    // A channel that does not exist (or that the bot cannot see): Discord answers 404.
    let pair = s
        .pair(
            &alice,
            (&discord_bot, source.to_string()),
            &[(&discord_bot, Some("123456789012345678".into()))],
        )
        .await;
    s.post(
        &format!("/api/v1/pairs/{pair}/forward"),
        &alice,
        json!({"text": "into the void"}),
    )
    .await;
    s.eventually(
        "the failure is visible",
        Duration::from_secs(20),
        || async {
            let (_, failures) = s
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/pairs/{pair}/failures"),
                    &alice,
                    None,
                )
                .await;
            failures.as_array().is_some_and(|f| !f.is_empty())
        },
    )
    .await;
    let (_, errors) = s
        .call(reqwest::Method::GET, "/api/v1/errors", &alice, None)
        .await;
    let errors = errors.as_array().expect("errors").clone();
    assert!(!errors.is_empty());
    assert_eq!(errors[0]["component"], "delivery");
    let dead = s.queue().dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains("not_found"), "{dead:?}");
    s.stop().await;
}

/// A webhook send that Discord carried out but answered only after Relay's 15 s request
/// timeout: Discord webhooks have no idempotency key, so Relay records it and never resends.
#[tokio::test]
async fn a_webhook_send_answered_too_late_is_recorded_as_ambiguous_and_not_resent() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (source, hooked) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "hooked"),
    );
    let (hook_id, hook_token) = d.add_webhook(hooked, "hook");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;
    let pair = s
        .pair(
            &alice,
            (&discord_bot, source.to_string()),
            &[(&webhook, None)],
        )
        .await;
    d.answer_late(&format!("webhooks/{hook_id}/"), Duration::from_secs(20));
    s.post(
        &format!("/api/v1/pairs/{pair}/forward"),
        &alice,
        json!({"text": "maybe twice"}),
    )
    .await;
    s.eventually(
        "the failure is visible",
        Duration::from_secs(40),
        || async {
            let (_, failures) = s
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/pairs/{pair}/failures"),
                    &alice,
                    None,
                )
                .await;
            failures.as_array().is_some_and(|f| !f.is_empty())
        },
    )
    .await;
    let state: String = sqlx::query_scalar("SELECT state::text FROM deliveries")
        .fetch_one(s.db.pool())
        .await
        .expect("delivery");
    assert_eq!(state, "dead");
    let (_, errors) = s
        .call(reqwest::Method::GET, "/api/v1/errors", &alice, None)
        .await;
    let errors = errors.as_array().expect("errors").clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "ambiguous_timeout", "{errors:?}");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(
        message.contains("may have arrived") && message.contains("not sent again"),
        "{message}"
    );
    // Longer than a retry's backoff: still the one request and the one message.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let posts = d
        .requests()
        .iter()
        .filter(|r| r.starts_with(&format!("POST /api/v10/webhooks/{hook_id}/")))
        .count();
    assert_eq!(posts, 1, "{:?}", d.requests());
    assert_eq!(s.discord_texts(hooked), vec!["maybe twice"]);
    s.stop().await;
}

#[tokio::test]
async fn a_photo_flows_in_every_direction() {
    use relay_fakes::telegram_dc::{FakeMedia, MediaKind};
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let photo: Vec<u8> = b"\xff\xd8\xff\xe0"
        .iter()
        .copied()
        .chain((0..30_000).map(|i| (i % 253) as u8))
        .collect();

    // Telegram side: a user session reads a channel; a bot writes a chat.
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("Photos", false, &[author, me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let (tg_from_tg, tg_from_dc) = (
        b.add_chat("supergroup", "from telegram", &[tg_bot]),
        b.add_chat("supergroup", "from discord", &[tg_bot]),
    );
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    // Discord side: a bot reads a channel and writes another; a webhook writes a third.
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (dc_source, dc_from_tg, dc_hooked) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "from telegram"),
        d.add_channel(guild, "hooked"),
    );
    let (hook_id, hook_token) = d.add_webhook(dc_hooked, "hook");
    let someone = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;

    s.pair(
        &alice,
        (&user_account, (-1_000_000_000_000 - channel).to_string()),
        &[
            (&discord_bot, Some(dc_from_tg.to_string())),
            (&telegram_bot, Some(tg_from_tg.to_string())),
        ],
    )
    .await;
    s.pair(
        &alice,
        (&discord_bot, dc_source.to_string()),
        &[
            (&telegram_bot, Some(tg_from_dc.to_string())),
            (&webhook, None),
        ],
    )
    .await;

    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;
    dc.post_media(
        Peer::Channel(channel),
        author,
        "a photo from Telegram",
        FakeMedia::new(MediaKind::Photo, photo.clone()),
    );
    s.eventually(
        "the Discord source is listened to",
        Duration::from_secs(30),
        || async {
            if s.bot_texts(tg_from_dc).is_empty() {
                d.user_posts_file(
                    dc_source,
                    someone,
                    "a photo from Discord",
                    "cat.jpg",
                    photo.clone(),
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            !s.bot_texts(tg_from_dc).is_empty()
        },
    )
    .await;
    s.eventually(
        "every direction delivered",
        Duration::from_secs(30),
        || async {
            !d.messages(dc_from_tg).is_empty()
                && !b.messages(tg_from_tg).is_empty()
                && !d.messages(dc_hooked).is_empty()
        },
    )
    .await;

    let discord_photo = |channel: u64| {
        let message = d.messages(channel).into_iter().next().expect("message");
        let attachment = message.attachments.first().expect("an attachment").clone();
        (
            message.content,
            d.attachment_bytes(attachment.id.get()).expect("bytes"),
        )
    };
    let telegram_photo = |chat: i64| {
        let message = b.messages(chat).into_iter().next().expect("message");
        let sizes = message["photo"].as_array().expect("a photo").clone();
        let file = sizes.last().expect("size")["file_id"]
            .as_str()
            .expect("id")
            .to_owned();
        (
            message["caption"].as_str().unwrap_or_default().to_owned(),
            b.file_bytes(&file).expect("bytes"),
        )
    };
    let (text, bytes) = discord_photo(dc_from_tg);
    assert_eq!(
        (text.as_str(), bytes == photo),
        ("a photo from Telegram", true),
        "TG→DC"
    );
    let (text, bytes) = telegram_photo(tg_from_tg);
    assert_eq!(
        (text.as_str(), bytes == photo),
        ("a photo from Telegram", true),
        "TG→TG"
    );
    let (text, bytes) = telegram_photo(tg_from_dc);
    assert_eq!(
        (text.as_str(), bytes == photo),
        ("a photo from Discord", true),
        "DC→TG"
    );
    let (text, bytes) = discord_photo(dc_hooked);
    assert_eq!(
        (text.as_str(), bytes == photo),
        ("a photo from Discord", true),
        "DC→DC"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_session_is_reported_and_not_retried() {
    let s = Stack::start_with(true, &[("RELAY_HEALTH_CHECK_SECS", "10")]).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let channel = dc.add_channel("News", false, &[me]);
    let account = s.telegram_user(&alice, "+15550100").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let target = d.add_channel(guild, "mirror");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    s.pair(
        &alice,
        (&account, (-1_000_000_000_000 - channel).to_string()),
        &[(&discord_bot, Some(target.to_string()))],
    )
    .await;
    let path = format!("/api/v1/accounts/{account}");
    let state = || s.call(reqwest::Method::GET, &path, &alice, None);
    s.eventually(
        "the session is connected",
        Duration::from_secs(30),
        || async { state().await.1["state"] == "connected" },
    )
    .await;

    // The user ends Relay's session from their phone: the next health check notices.
    dc.revoke(me);
    s.eventually(
        "the account is reported unauthorized",
        Duration::from_secs(40),
        || async { state().await.1["state"] == "unauthorized" },
    )
    .await;
    let account_view = state().await.1;
    assert!(
        account_view["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("AUTH_KEY_UNREGISTERED")),
        "{account_view}"
    );
    // Stopped for good: no session is open for it any more.
    s.eventually("the session is closed", Duration::from_secs(20), || async {
        dc.connected_sessions(me) == 0
    })
    .await;
    s.stop().await;
}

#[tokio::test]
async fn a_photo_from_a_telegram_bot_chat_is_fetched_through_that_bot() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let photo: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let tg_source = b.add_chat("supergroup", "source", &[tg_bot]);
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let target = d.add_channel(guild, "target");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    s.pair(
        &alice,
        (&telegram_bot, tg_source.to_string()),
        &[(&discord_bot, Some(target.to_string()))],
    )
    .await;
    s.eventually("the photo arrives", Duration::from_secs(30), || async {
        if d.messages(target).is_empty() {
            b.user_posts_photo(tg_source, "Tina", "from the bot chat", photo.clone());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        !d.messages(target).is_empty()
    })
    .await;
    let message = d.messages(target).into_iter().next().expect("message");
    assert_eq!(message.content, "from the bot chat");
    let attachment = message.attachments.first().expect("attachment");
    assert_eq!(d.attachment_bytes(attachment.id.get()), Some(photo));
    s.stop().await;
}
