//! No loops, no echoes: two pairs A→B and B→A marked as a two-way bridge carry each
//! message across once, its edits and deletions too, and nothing comes back — for a
//! Discord bot channel ↔ a Telegram bot chat, a Telegram user session's supergroup ↔ a
//! Discord channel written by a webhook and read by a Discord bot, and a user session ↔ a
//! Telegram bot. And a webhook of one tenant posting into a chat another tenant reads is
//! not forwarded as a new message.

use crate::stack::Stack;
use relay_fakes::telegram_dc::Peer;
use serde_json::{Value, json};
use std::time::Duration;

/// How long "nothing more arrives" is watched.
const SETTLE: Duration = Duration::from_secs(3);
const WITHIN: Duration = Duration::from_secs(30);

fn bridge(source: (&str, String), dest: Value) -> Value {
    json!({
        "source": {"account_id": source.0, "chat_id": source.1},
        "destinations": [dest],
        "bridge": true,
    })
}

fn to(account: &str, chat: impl ToString) -> Value {
    json!({"account_id": account, "chat_id": chat.to_string(), "show_author": false})
}

/// Texts of a user session's chat (deleted messages left out), oldest first.
fn session_texts(s: &Stack, chat: Peer) -> Vec<String> {
    s.dc.fake
        .messages(chat)
        .into_iter()
        .filter(|m| !m.deleted)
        .map(|m| m.text)
        .collect()
}

#[tokio::test]
async fn a_discord_bot_channel_and_a_telegram_bot_chat_bridged_carry_each_message_once() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let dc_bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[dc_bot]);
    let channel = d.add_channel(guild, "bridge");
    let human = d.add_user("dora");
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let chat = b.add_chat("supergroup", "bridge", &[tg_bot]);
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    // Without the flag the second pair closes a loop: a 409 naming it.
    let there = json!({"source": {"account_id": discord_bot, "chat_id": channel.to_string()},
                       "destinations": [to(&telegram_bot, chat)]});
    let there = s.post("/api/v1/pairs", &alice, there).await;
    let back = bridge((&telegram_bot, chat.to_string()), to(&discord_bot, channel));
    let (status, body) = s
        .call(
            reqwest::Method::POST,
            "/api/v1/pairs",
            &alice,
            Some(back.clone()),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let named = format!("telegram:{chat} → discord:{channel} → telegram:{chat}");
    assert!(body.to_string().contains(&named), "{body}");
    // Both sides marked: allowed.
    let path = format!("/api/v1/pairs/{}", there["id"].as_str().expect("id"));
    let (status, _) = s
        .call(
            reqwest::Method::PATCH,
            &path,
            &alice,
            Some(json!({"bridge": true})),
        )
        .await;
    assert_eq!(status, 200);
    s.post("/api/v1/pairs", &alice, back).await;

    let from_discord = d
        .user_posts(channel, human, "from discord")
        .expect("posted");
    s.eventually("Discord → Telegram", WITHIN, || async {
        s.bot_texts(chat) == ["from discord"]
    })
    .await;
    let from_telegram = b.user_posts(chat, "tom", "from telegram").expect("posted");
    s.eventually("Telegram → Discord", WITHIN, || async {
        s.discord_texts(channel) == ["from discord", "from telegram"]
    })
    .await;
    d.user_edits(channel, from_discord.id.get(), "from discord, edited");
    let tg_id = from_telegram["message_id"].as_i64().expect("id");
    b.user_edits(chat, tg_id, "from telegram, edited");
    s.eventually("both edits cross", WITHIN, || async {
        s.bot_texts(chat) == ["from discord, edited", "from telegram, edited"]
            && s.discord_texts(channel) == ["from discord, edited", "from telegram, edited"]
    })
    .await;
    d.user_deletes(channel, from_discord.id.get());
    s.eventually("the delete crosses", WITHIN, || async {
        s.bot_texts(chat) == ["from telegram, edited"]
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(s.bot_texts(chat), ["from telegram, edited"]);
    assert_eq!(s.discord_texts(channel), ["from telegram, edited"]);
    s.stop().await;
}

#[tokio::test]
async fn a_session_supergroup_and_a_webhook_channel_read_by_a_bot_bridged_echo_nothing() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let bob = dc.add_user("+15550111", "Bob", None);
    let group = dc.add_channel("bridge", true, &[bob, me]);
    let tg_chat = -1_000_000_000_000 - group;
    let d = &s.discord.fake;
    let dc_bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[dc_bot]);
    let channel = d.add_channel(guild, "bridge");
    let (hook_id, hook_token) = d.add_webhook(channel, "hook");
    let human = d.add_user("dora");
    let session = s.telegram_user(&alice, "+15550100").await;
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;
    s.post(
        "/api/v1/pairs",
        &alice,
        bridge(
            (&session, tg_chat.to_string()),
            json!({"account_id": webhook}),
        ),
    )
    .await;
    s.post(
        "/api/v1/pairs",
        &alice,
        bridge((&discord_bot, channel.to_string()), to(&session, tg_chat)),
    )
    .await;
    s.eventually("the user session listens", WITHIN, || async {
        dc.connected_sessions(me) > 0
    })
    .await;

    let peer = Peer::Channel(group);
    let from_bob = dc.post(peer, bob, "from telegram");
    s.eventually("Telegram → Discord by webhook", WITHIN, || async {
        s.discord_texts(channel) == ["from telegram"]
    })
    .await;
    let from_dora = d
        .user_posts(channel, human, "from discord")
        .expect("posted");
    s.eventually("Discord → Telegram by the session", WITHIN, || async {
        session_texts(&s, peer) == ["from telegram", "from discord"]
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(s.discord_texts(channel), ["from telegram", "from discord"]);
    assert_eq!(session_texts(&s, peer), ["from telegram", "from discord"]);

    dc.edit(peer, from_bob, "from telegram, edited");
    d.user_edits(channel, from_dora.id.get(), "from discord, edited");
    s.eventually("both edits cross", WITHIN, || async {
        s.discord_texts(channel) == ["from telegram, edited", "from discord, edited"]
            && session_texts(&s, peer) == ["from telegram, edited", "from discord, edited"]
    })
    .await;
    dc.delete(peer, &[from_bob]);
    d.user_deletes(channel, from_dora.id.get());
    s.eventually("both deletes cross", WITHIN, || async {
        s.discord_texts(channel).is_empty() && session_texts(&s, peer).is_empty()
    })
    .await;
    // Nothing came back.
    tokio::time::sleep(SETTLE).await;
    assert!(s.discord_texts(channel).is_empty());
    assert!(session_texts(&s, peer).is_empty());
    s.stop().await;
}

#[tokio::test]
async fn a_user_session_and_a_telegram_bot_bridged_carry_each_message_once() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let bob = dc.add_user("+15550111", "Bob", None);
    let group = dc.add_channel("bridge", true, &[bob, me]);
    let tg_chat = -1_000_000_000_000 - group;
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let chat = b.add_chat("supergroup", "bridge", &[tg_bot]);
    let session = s.telegram_user(&alice, "+15550100").await;
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    s.post(
        "/api/v1/pairs",
        &alice,
        bridge((&session, tg_chat.to_string()), to(&telegram_bot, chat)),
    )
    .await;
    s.post(
        "/api/v1/pairs",
        &alice,
        bridge((&telegram_bot, chat.to_string()), to(&session, tg_chat)),
    )
    .await;
    s.eventually("the user session listens", WITHIN, || async {
        dc.connected_sessions(me) > 0
    })
    .await;

    let peer = Peer::Channel(group);
    let from_bob = dc.post(peer, bob, "from the session's group");
    s.eventually("session → bot", WITHIN, || async {
        s.bot_texts(chat) == ["from the session's group"]
    })
    .await;
    let from_tom = b
        .user_posts(chat, "tom", "from the bot's group")
        .expect("posted");
    s.eventually("bot → session", WITHIN, || async {
        session_texts(&s, peer) == ["from the session's group", "from the bot's group"]
    })
    .await;
    dc.edit(peer, from_bob, "edited in the session's group");
    let tom_id = from_tom["message_id"].as_i64().expect("id");
    b.user_edits(chat, tom_id, "edited in the bot's group");
    s.eventually("both edits cross", WITHIN, || async {
        s.bot_texts(chat) == ["edited in the session's group", "edited in the bot's group"]
            && session_texts(&s, peer)
                == ["edited in the session's group", "edited in the bot's group"]
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(s.bot_texts(chat).len(), 2);
    assert_eq!(session_texts(&s, peer).len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn a_webhook_of_another_tenant_posting_into_a_source_chat_is_not_forwarded_as_new() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let bob = s.user("bob@example.com").await;
    let d = &s.discord.fake;
    let dc_bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[dc_bot]);
    let channel = d.add_channel(guild, "shared");
    let (hook_id, hook_token) = d.add_webhook(channel, "bob's hook");
    let human = d.add_user("dora");
    let b = &s.bots.fake;
    let alice_tg = b.add_bot("111:alice-bot-token", "alice_bot");
    let bob_tg = b.add_bot("222:bob-bot-token", "bob_bot");
    let alice_chat = b.add_chat("supergroup", "alice's copy", &[alice_tg]);
    let bob_chat = b.add_chat("supergroup", "bob's news", &[bob_tg]);
    // Alice reads the Discord channel into her Telegram chat.
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let alice_bot = s.telegram_bot(&alice, "111:alice-bot-token").await;
    s.pair(
        &alice,
        (&discord_bot, channel.to_string()),
        &[(&alice_bot, Some(alice_chat.to_string()))],
    )
    .await;
    // Bob forwards his Telegram chat into the same channel through a webhook.
    let bob_bot = s.telegram_bot(&bob, "222:bob-bot-token").await;
    let webhook = s.discord_webhook(&bob, hook_id, &hook_token).await;
    s.pair(&bob, (&bob_bot, bob_chat.to_string()), &[(&webhook, None)])
        .await;

    b.user_posts(bob_chat, "tom", "bob's news").expect("posted");
    s.eventually("Bob's copy arrives by webhook", WITHIN, || async {
        s.discord_texts(channel) == ["bob's news"]
    })
    .await;
    d.user_posts(channel, human, "said on discord")
        .expect("posted");
    s.eventually("a person's message is forwarded", WITHIN, || async {
        s.bot_texts(alice_chat) == ["said on discord"]
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(s.bot_texts(alice_chat), ["said on discord"]);
    s.stop().await;
}
