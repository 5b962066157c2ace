//! Formatting end to end: one message with bold, italic, inline code and a link, then text
//! that markup would eat (`2*3*4 = 24`, two lines, `<b>tag</b>`), posted from every kind of
//! source (a Telegram user session's channel, a Telegram bot's chat, a Discord bot's
//! channel) and arriving at every kind of destination (a Discord bot's channel, a Discord
//! webhook, a Telegram bot's chat, a Telegram user session's group) in the destination's own
//! form: Discord markdown with the literals escaped, Telegram text with entities.

use crate::stack::Stack;
use relay_fakes::telegram_dc::{FakeEntity, Peer};
use serde_json::{Value, json};
use std::time::Duration;

/// The text as every destination shows it.
const TEXT: &str = "bold, italic, code and a link: 2*3*4 = 24\nfirst line\nsecond line <b>tag</b>";
const LINK: &str = "https://example.com/page";
/// What a Discord user types for it (and what a Discord destination must hold): the
/// literal asterisks escaped, everything else as written.
const MARKDOWN: &str = "**bold**, _italic_, `code` and [a link](https://example.com/page): \
                        2\\*3\\*4 = 24\nfirst line\nsecond line <b>tag</b>";

/// A Telegram entity: type, UTF-16 offset, length, URL.
type Entity = (String, i64, i64, Option<String>);

/// The formatting as Telegram entities. The text is ASCII, so UTF-16 offsets are byte
/// offsets.
fn entities(link_type: &str) -> Vec<Entity> {
    vec![
        ("bold".into(), 0, 4, None),
        ("italic".into(), 6, 6, None),
        ("code".into(), 14, 4, None),
        (link_type.into(), 23, 6, Some(LINK.into())),
    ]
}

/// A Bot API message's text and entities.
fn bot_api_form(m: &Value) -> (String, Vec<Entity>) {
    let entities = m["entities"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_owned(),
                e["offset"].as_i64().unwrap_or(-1),
                e["length"].as_i64().unwrap_or(-1),
                e["url"].as_str().map(str::to_owned),
            )
        })
        .collect();
    (m["text"].as_str().unwrap_or_default().to_owned(), entities)
}

#[tokio::test]
async fn formatting_and_literal_text_arrive_from_every_source_at_every_destination() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;

    // Telegram user session: reads a channel, writes small groups.
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("Formatted", false, &[author, me]);
    let groups: Vec<i64> = (0..3)
        .map(|i| dc.add_group(&format!("user copy {i}"), &[me]))
        .collect();
    let user_account = s.telegram_user(&alice, "+15550100").await;

    // Telegram bot: reads one chat, writes three.
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let tg_source = b.add_chat("supergroup", "source", &[tg_bot]);
    let tg_targets: Vec<i64> = (0..3)
        .map(|i| b.add_chat("supergroup", &format!("bot copy {i}"), &[tg_bot]))
        .collect();
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    // Discord: a bot reads one channel and writes three; three webhooks write three more.
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let dc_source = d.add_channel(guild, "source");
    let dc_targets: Vec<u64> = (0..3)
        .map(|i| d.add_channel(guild, &format!("bot copy {i}")))
        .collect();
    let hooked: Vec<u64> = (0..3)
        .map(|i| d.add_channel(guild, &format!("hook copy {i}")))
        .collect();
    let someone = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let mut webhooks = Vec::new();
    for channel in &hooked {
        let (id, token) = d.add_webhook(*channel, "hook");
        webhooks.push(s.discord_webhook(&alice, id, &token).await);
    }

    let sources: [(&str, String); 3] = [
        (&user_account, (-1_000_000_000_000 - channel).to_string()),
        (&telegram_bot, tg_source.to_string()),
        (&discord_bot, dc_source.to_string()),
    ];
    for (i, source) in sources.into_iter().enumerate() {
        s.pair(
            &alice,
            source,
            &[
                (&discord_bot, Some(dc_targets[i].to_string())),
                (&webhooks[i], None),
                (&telegram_bot, Some(tg_targets[i].to_string())),
                (&user_account, Some((-groups[i]).to_string())),
            ],
        )
        .await;
    }

    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;
    // Each source posts until its first copy shows (listeners start within a lease tick).
    s.eventually(
        "every source is listened to",
        Duration::from_secs(40),
        || async {
            if d.messages(dc_targets[0]).is_empty() {
                let link = FakeEntity {
                    url: Some(LINK.into()),
                    ..FakeEntity::new("text_url", 23, 6)
                };
                dc.post_formatted(
                    Peer::Channel(channel),
                    author,
                    TEXT,
                    vec![
                        FakeEntity::new("bold", 0, 4),
                        FakeEntity::new("italic", 6, 6),
                        FakeEntity::new("code", 14, 4),
                        link,
                    ],
                );
            }
            if d.messages(dc_targets[1]).is_empty() {
                let entities: Vec<Value> = entities("text_link")
                    .into_iter()
                    .map(|(kind, offset, length, url)| {
                        let mut e = json!({"type": kind, "offset": offset, "length": length});
                        if let Some(url) = url {
                            e["url"] = json!(url);
                        }
                        e
                    })
                    .collect();
                b.user_posts_formatted(tg_source, "Tina", TEXT, json!(entities));
            }
            if d.messages(dc_targets[2]).is_empty() {
                d.user_posts(dc_source, someone, MARKDOWN);
            }
            tokio::time::sleep(Duration::from_millis(700)).await;
            dc_targets.iter().all(|c| !d.messages(*c).is_empty())
        },
    )
    .await;
    s.eventually(
        "every destination has its copies",
        Duration::from_secs(30),
        || async {
            (0..3).all(|i| {
                !d.messages(hooked[i]).is_empty()
                    && !b.messages(tg_targets[i]).is_empty()
                    && !dc.messages(Peer::Chat(groups[i])).is_empty()
            })
        },
    )
    .await;

    for (i, from) in ["Telegram user", "Telegram bot", "Discord bot"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            s.discord_texts(dc_targets[i])[0],
            MARKDOWN,
            "{from} → Discord bot"
        );
        assert_eq!(
            s.discord_texts(hooked[i])[0],
            MARKDOWN,
            "{from} → Discord webhook"
        );
        assert_eq!(
            bot_api_form(&b.messages(tg_targets[i])[0]),
            (TEXT.to_owned(), entities("text_link")),
            "{from} → Telegram bot"
        );
        let copy = dc.messages(Peer::Chat(groups[i]))[0].clone();
        let form: Vec<_> = copy
            .entities
            .iter()
            .map(|e| {
                (
                    e.kind.clone(),
                    i64::from(e.offset),
                    i64::from(e.length),
                    e.url.clone(),
                )
            })
            .collect();
        assert_eq!(
            (copy.text, form),
            (TEXT.to_owned(), entities("text_url")),
            "{from} → Telegram user"
        );
    }
    s.stop().await;
}
