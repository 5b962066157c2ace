//! A pair forwards from the moment its 201 returns: creating or resuming a pair starts the
//! listeners it needs and drops cached routes at once (a route change committed in
//! PostgreSQL is heard by every worker), so the first message posted right after the
//! answer arrives — from a listener already running, and from one that had to start.

use crate::stack::Stack;
use relay_fakes::telegram_dc::Peer;
use std::time::Duration;

/// A Telegram user session listening (no pair reads its channel yet) and a Discord bot
/// with a target channel.
struct Listening {
    author: i64,
    channel: i64,
    user_account: String,
    target: u64,
    discord_bot: String,
}

/// Sets up [`Listening`]; `before` is posted in the channel before the session logs in.
async fn listening(s: &Stack, alice: &str, before: &[&str]) -> Listening {
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("News", false, &[author, me]);
    for text in before {
        dc.post(Peer::Channel(channel), author, text);
    }
    let user_account = s.telegram_user(alice, "+15550100").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let target = d.add_channel(guild, "news-mirror");
    let discord_bot = s.discord_bot(alice, "discord-bot-token").await;
    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;
    Listening {
        author,
        channel,
        user_account,
        target,
        discord_bot,
    }
}

#[tokio::test]
async fn a_user_session_forwards_a_post_made_right_after_the_pair_is_created_or_resumed() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let Listening {
        author,
        channel,
        user_account,
        target,
        discord_bot,
    } = listening(&s, &alice, &[]).await;
    // A post while no pair reads the channel: the worker learns (and may cache) that
    // nothing reads it.
    dc.post(Peer::Channel(channel), author, "before the pair");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pair = s
        .pair(
            &alice,
            (&user_account, (-1_000_000_000_000 - channel).to_string()),
            &[(&discord_bot, Some(target.to_string()))],
        )
        .await;
    dc.post(Peer::Channel(channel), author, "right after the 201");
    s.eventually(
        "the first post arrives",
        Duration::from_secs(15),
        || async {
            s.discord_texts(target)
                .iter()
                .any(|t| t.contains("right after the 201"))
        },
    )
    .await;

    s.post(
        &format!("/api/v1/pairs/{pair}/pause"),
        &alice,
        serde_json::json!({}),
    )
    .await;
    dc.post(Peer::Channel(channel), author, "while paused");
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.post(
        &format!("/api/v1/pairs/{pair}/resume"),
        &alice,
        serde_json::json!({}),
    )
    .await;
    dc.post(Peer::Channel(channel), author, "right after resuming");
    s.eventually(
        "the post after resuming arrives",
        Duration::from_secs(15),
        || async {
            s.discord_texts(target)
                .iter()
                .any(|t| t.contains("right after resuming"))
        },
    )
    .await;
    let texts = s.discord_texts(target);
    assert!(
        !texts.iter().any(|t| t.contains("before the pair")),
        "nothing from before the pair: {texts:?}"
    );
    assert_eq!(texts.len(), 2, "{texts:?}");
    s.stop().await;
}

#[tokio::test]
async fn a_discord_and_a_telegram_bot_source_forward_a_post_made_right_after_the_201() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (dc_source, dc_target) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "target"),
    );
    let someone = d.add_user("someone");
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let (tg_source, tg_target) = (
        b.add_chat("supergroup", "source", &[tg_bot]),
        b.add_chat("supergroup", "target", &[tg_bot]),
    );
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    s.pair(
        &alice,
        (&discord_bot, dc_source.to_string()),
        &[(&telegram_bot, Some(tg_target.to_string()))],
    )
    .await;
    d.user_posts(dc_source, someone, "first Discord post");
    s.pair(
        &alice,
        (&telegram_bot, tg_source.to_string()),
        &[(&discord_bot, Some(dc_target.to_string()))],
    )
    .await;
    b.user_posts(tg_source, "Tina", "first Telegram post");

    s.eventually(
        "both first posts arrive",
        Duration::from_secs(20),
        || async {
            s.bot_texts(tg_target)
                .iter()
                .any(|t| t.contains("first Discord post"))
                && s.discord_texts(dc_target)
                    .iter()
                    .any(|t| t.contains("first Telegram post"))
        },
    )
    .await;
    s.stop().await;
}

/// A channel a running user session starts reading has its position recorded as soon as
/// the pair exists, not at its first committed update: a crash before that update cannot
/// make the next start begin after what was posted meanwhile.
#[tokio::test]
async fn a_channel_a_running_user_session_starts_reading_gets_its_position_at_once() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let Listening {
        channel,
        user_account,
        target,
        discord_bot,
        ..
    } = listening(&s, &alice, &["one", "two"]).await;

    s.pair(
        &alice,
        (&user_account, (-1_000_000_000_000 - channel).to_string()),
        &[(&discord_bot, Some(target.to_string()))],
    )
    .await;
    let account: uuid::Uuid = user_account.parse().expect("account id");
    s.eventually(
        "the channel's position is recorded where it stands",
        Duration::from_secs(15),
        || async {
            let pts: Option<i32> = sqlx::query_scalar(
                "SELECT pts FROM telegram_channel_states WHERE account_id = $1 AND channel_id = $2",
            )
            .bind(account)
            .bind(channel)
            .fetch_optional(s.db.pool())
            .await
            .expect("query");
            pts == Some(2)
        },
    )
    .await;
    assert!(
        s.discord_texts(target).is_empty(),
        "nothing old is forwarded"
    );
    s.stop().await;
}
