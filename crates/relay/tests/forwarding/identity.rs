//! Replies and who wrote what, end to end: a reply chain (A, B replying to A, C replying
//! to B) arrives as replies at a Telegram bot and a Telegram user session, and as quotes
//! at a Discord webhook (which cannot reply); a reply to a message from before the pair arrives with a quote of it; bots and
//! sessions start each copy with a bold author line (on by default); webhook copies carry
//! the author's name and avatar instead.

use crate::stack::Stack;
use relay_core::format::{Style, from_discord_markdown};
use relay_fakes::discord::model::NewMessage;
use relay_fakes::telegram_dc::Peer;
use serde_json::{Value, json};
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(30);
const AVATAR: &str = "0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn a_reply_chain_arrives_as_replies_with_author_lines_and_webhook_identities() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let dc_bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[dc_bot]);
    let (source, hooked) = (d.add_channel(guild, "talk"), d.add_channel(guild, "hooked"));
    let (hook_id, hook_token) = d.add_webhook(hooked, "hook");
    let dora = d.add_user("dora");
    d.set_avatar(dora, AVATAR);
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let tg_chat = b.add_chat("supergroup", "bot copy", &[tg_bot]);
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let group = dc.add_group("session copy", &[me]);
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    let session = s.telegram_user(&alice, "+15550100").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;
    // An older message, posted before the pair exists: it will have no copies.
    let old = d
        .user_posts(source, dora, "an **old** message\nfrom before")
        .expect("posted");
    let pair = s
        .post(
            "/api/v1/pairs",
            &alice,
            json!({
                "source": {"account_id": discord_bot, "chat_id": source.to_string()},
                "destinations": [
                    {"account_id": telegram_bot, "chat_id": tg_chat.to_string()},
                    {"account_id": session, "chat_id": (-group).to_string()},
                    {"account_id": webhook},
                ],
            }),
        )
        .await;
    for d in pair["destinations"].as_array().expect("destinations") {
        assert_eq!(d["show_author"], true, "on by default");
    }

    let reply = |to: u64, text: &str| {
        d.user_sends(
            source,
            dora,
            NewMessage {
                content: text.to_owned(),
                reply_to: Some(to),
                ..Default::default()
            },
        )
        .expect("posted")
        .id
        .get()
    };
    let a = d.user_posts(source, dora, "A").expect("posted").id.get();
    s.eventually("A arrives everywhere", WITHIN, || async {
        b.messages(tg_chat).len() == 1 && d.messages(hooked).len() == 1
    })
    .await;
    let bb = reply(a, "B");
    s.eventually("B arrives everywhere", WITHIN, || async {
        b.messages(tg_chat).len() == 2 && d.messages(hooked).len() == 2
    })
    .await;
    reply(bb, "C");
    reply(old.id.get(), "answering the old one");
    s.eventually("C and the late reply arrive", WITHIN, || async {
        b.messages(tg_chat).len() == 4
            && d.messages(hooked).len() == 4
            && dc
                .messages(Peer::Chat(group))
                .iter()
                .filter(|m| m.from == me)
                .count()
                == 4
    })
    .await;

    // Telegram bot: replies to the copies, each with a bold author line.
    let bot = b.messages(tg_chat);
    let id = |m: &Value| m["message_id"].as_i64().expect("id");
    let parent = |m: &Value| m["reply_to_message"]["message_id"].as_i64();
    assert_eq!(parent(&bot[1]), Some(id(&bot[0])));
    assert_eq!(parent(&bot[2]), Some(id(&bot[1])));
    assert_eq!(bot[0]["text"], "dora:\nA");
    let bold = &bot[0]["entities"][0];
    assert_eq!(
        (
            bold["type"].as_str(),
            bold["offset"].as_i64(),
            bold["length"].as_i64()
        ),
        (Some("bold"), Some(0), Some(5))
    );
    // The old message has no copy: quoted, and no reply.
    assert_eq!(parent(&bot[3]), None);
    assert_eq!(
        bot[3]["text"],
        "dora:\n↪ dora: an old message from before\nanswering the old one"
    );
    assert!(
        bot[3]["entities"]
            .as_array()
            .expect("entities")
            .iter()
            .any(|e| e["type"] == "blockquote"),
        "{}",
        bot[3]
    );

    // Telegram user session: the same.
    let copies: Vec<_> = dc
        .messages(Peer::Chat(group))
        .into_iter()
        .filter(|m| m.from == me)
        .collect();
    assert_eq!(copies[1].reply_to, Some(copies[0].id));
    assert_eq!(copies[2].reply_to, Some(copies[1].id));
    assert_eq!(copies[3].reply_to, None);
    assert_eq!(copies[0].text, "dora:\nA");
    assert!(
        copies[3]
            .text
            .contains("↪ dora: an old message from before")
    );

    // Discord webhook (it cannot reply): every parent quoted, the author's name and
    // avatar, no author line.
    let hooked = d.messages(hooked);
    assert!(hooked.iter().all(|m| m.reference.is_none()));
    let texts: Vec<String> = hooked
        .iter()
        .map(|m| from_discord_markdown(&m.content).text)
        .collect();
    assert_eq!(texts[0], "A");
    assert_eq!(texts[1], "↪ dora: A\nB");
    assert_eq!(texts[2], "↪ dora: B\nC");
    for m in &hooked {
        assert_eq!(m.author.name, "dora");
        assert_eq!(
            d.webhook_avatar(m.id.get()).as_deref(),
            Some(format!("https://cdn.discordapp.com/avatars/{dora}/{AVATAR}.png").as_str())
        );
    }
    let quoted = from_discord_markdown(&hooked[3].content);
    assert_eq!(
        quoted.text,
        "↪ dora: an old message from before\nanswering the old one"
    );
    assert!(
        quoted
            .spans
            .iter()
            .any(|s| matches!(s.style, Style::Blockquote { .. })),
        "{}",
        hooked[3].content
    );
    s.stop().await;
}

#[tokio::test]
async fn a_telegram_bot_reply_to_an_unforwarded_message_reaches_a_discord_bot_quoted() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let chat = b.add_chat("supergroup", "news", &[tg_bot]);
    let d = &s.discord.fake;
    let dc_bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[dc_bot]);
    let target = d.add_channel(guild, "copy");
    let warm = b.add_chat("supergroup", "warm-up", &[tg_bot]);
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let pair = |chat: i64| {
        json!({
            "source": {"account_id": telegram_bot, "chat_id": chat.to_string()},
            "destinations": [{"account_id": discord_bot, "chat_id": target.to_string()}],
        })
    };
    // The bot listens (through another pair) when the old message is posted, so it is
    // read and dropped: no pair reads its chat yet.
    s.post("/api/v1/pairs", &alice, pair(warm)).await;
    b.user_posts(warm, "tom", "warm").expect("posted");
    s.eventually("the bot listens", WITHIN, || async {
        d.messages(target).len() == 1
    })
    .await;
    let old = b
        .user_posts(chat, "tom", "posted before the pair")
        .expect("posted");
    tokio::time::sleep(Duration::from_secs(2)).await;
    s.post("/api/v1/pairs", &alice, pair(chat)).await;
    let first = b.user_posts(chat, "tom", "first").expect("posted");
    s.eventually("the first message arrives", WITHIN, || async {
        d.messages(target).len() == 2
    })
    .await;
    let old_id = old["message_id"].as_i64().expect("id");
    b.user_replies(chat, "ann", "late answer", old_id)
        .expect("posted");
    let first_id = first["message_id"].as_i64().expect("id");
    b.user_replies(chat, "ann", "quick answer", first_id)
        .expect("posted");
    s.eventually("both replies arrive", WITHIN, || async {
        d.messages(target).len() == 4
    })
    .await;
    let shown = d.messages(target).split_off(1);
    let first_copy = from_discord_markdown(&shown[0].content);
    assert_eq!(first_copy.text, "tom:\nfirst");
    assert!(
        first_copy
            .spans
            .iter()
            .any(|s| s.style == Style::Bold && s.start == 0 && s.end == 4)
    );
    let late = from_discord_markdown(&shown[1].content);
    assert_eq!(
        late.text,
        "ann:\n↪ tom: posted before the pair\nlate answer"
    );
    assert!(shown[1].reference.is_none());
    // A parent with a copy: a real reply, no quote.
    let quick = from_discord_markdown(&shown[2].content);
    assert_eq!(quick.text, "ann:\nquick answer");
    assert_eq!(
        shown[2]
            .reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|i| i.get()),
        Some(shown[0].id.get())
    );
    s.stop().await;
}
