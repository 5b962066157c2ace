//! Long text end to end: a 10,000-character formatted post in a Telegram user session's
//! channel arrives in parts within each destination's limit (Discord bot and webhook: 2,000
//! characters of markdown; Telegram bot and user session: 4,096), in order, each part with
//! its formatting; an edit that shortens it edits the first parts and deletes the rest; a
//! delete removes every part.

use crate::stack::Stack;
use relay_core::format::{
    DISCORD_MESSAGE_LIMIT, DiscordOptions, FormattedText, Measure, Span, Style,
    TELEGRAM_MESSAGE_LIMIT, from_discord_markdown, split,
};
use relay_fakes::telegram_dc::{FakeEntity, Peer};
use std::time::Duration;

/// `n` paragraphs of about 100 characters, each starting with a bold label, separated by
/// blank lines; with the bold entities (ASCII, so UTF-16 offsets are byte offsets).
fn paragraphs(n: usize) -> (String, Vec<FakeEntity>) {
    let mut text = String::new();
    let mut entities = Vec::new();
    for i in 0..n {
        if i > 0 {
            text.push_str("\n\n");
        }
        let label = format!("Paragraph {i:03}");
        entities.push(FakeEntity::new(
            "bold",
            text.len() as i32,
            label.len() as i32,
        ));
        text.push_str(&label);
        text.push_str(": 2*3*4 = 24 and <b>tag</b>, then words to fill the line up to a hundred.");
    }
    (text, entities)
}

/// How many parts Discord and Telegram take for the text with these bold entities.
fn part_counts(text: &str, bold: &[FakeEntity]) -> (usize, usize) {
    let spans = bold
        .iter()
        .map(|e| {
            let start = e.offset as usize;
            Span::new(start, start + e.length as usize, Style::Bold)
        })
        .collect();
    let formatted = FormattedText::new(text, spans);
    let discord = Measure::Discord(DiscordOptions::default());
    (
        split(&formatted, DISCORD_MESSAGE_LIMIT, discord).len(),
        split(&formatted, TELEGRAM_MESSAGE_LIMIT, Measure::Telegram).len(),
    )
}

#[tokio::test]
async fn a_long_text_goes_out_in_parts_and_its_edit_and_delete_follow_every_part() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("Long reads", false, &[author, me]);
    let group = dc.add_group("user copy", &[me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let tg_target = b.add_chat("supergroup", "bot copy", &[tg_bot]);
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (dc_target, hooked) = (d.add_channel(guild, "copy"), d.add_channel(guild, "hooked"));
    let (hook_id, hook_token) = d.add_webhook(hooked, "hook");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;
    s.pair(
        &alice,
        (&user_account, (-1_000_000_000_000 - channel).to_string()),
        &[
            (&discord_bot, Some(dc_target.to_string())),
            (&webhook, None),
            (&telegram_bot, Some(tg_target.to_string())),
            (&user_account, Some((-group).to_string())),
        ],
    )
    .await;
    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;

    // What each destination shows: its parts' texts (formatting read back) and the number
    // of bold spans in them.
    let discord = |c: u64| -> Vec<(String, usize)> {
        d.messages(c)
            .iter()
            .map(|m| {
                assert!(m.content.chars().count() <= 2000, "{}", m.content.len());
                let shown = from_discord_markdown(&m.content);
                (shown.text, shown.spans.len())
            })
            .collect()
    };
    let bot_api = || -> Vec<(String, usize)> {
        b.messages(tg_target)
            .iter()
            .map(|m| {
                let text = m["text"].as_str().unwrap_or_default().to_owned();
                assert!(text.encode_utf16().count() <= 4096);
                let bold = m["entities"].as_array().map_or(0, Vec::len);
                (text, bold)
            })
            .collect()
    };
    let user = || -> Vec<(String, usize)> {
        dc.messages(Peer::Chat(group))
            .iter()
            .filter(|m| !m.deleted)
            .map(|m| (m.text.clone(), m.entities.len()))
            .collect()
    };
    let shows = |parts: &[(String, usize)], text: &str, bold: usize, count: usize| {
        let joined: Vec<&str> = parts.iter().map(|(t, _)| t.as_str()).collect();
        parts.len() == count
            && joined.join("\n\n") == text
            && parts.iter().map(|(_, b)| b).sum::<usize>() == bold
    };

    let (long, entities) = paragraphs(115);
    assert!(long.len() > 10_000, "{}", long.len());
    let (dc_parts, tg_parts) = part_counts(&long, &entities);
    assert!(dc_parts >= 6 && tg_parts == 3, "{dc_parts} {tg_parts}");
    let id = dc.post_formatted(Peer::Channel(channel), author, &long, entities);
    s.eventually("every part arrives", Duration::from_secs(40), || async {
        shows(&discord(dc_target), &long, 115, dc_parts)
            && shows(&discord(hooked), &long, 115, dc_parts)
            && shows(&bot_api(), &long, 115, tg_parts)
            && shows(&user(), &long, 115, tg_parts)
    })
    .await;

    // Shortened to 25 paragraphs (plain now): two Discord parts, one Telegram message.
    let (short, _) = paragraphs(25);
    assert_eq!(part_counts(&short, &[]), (2, 1));
    dc.edit(Peer::Channel(channel), id, &short);
    s.eventually(
        "the edit reaches every part",
        Duration::from_secs(40),
        || async {
            shows(&discord(dc_target), &short, 0, 2)
                && shows(&discord(hooked), &short, 0, 2)
                && shows(&bot_api(), &short, 0, 1)
                && shows(&user(), &short, 0, 1)
        },
    )
    .await;

    dc.delete(Peer::Channel(channel), &[id]);
    s.eventually(
        "the delete removes every part",
        Duration::from_secs(40),
        || async {
            d.messages(dc_target).is_empty()
                && d.messages(hooked).is_empty()
                && b.messages(tg_target).is_empty()
                && user().is_empty()
        },
    )
    .await;
    s.stop().await;
}
