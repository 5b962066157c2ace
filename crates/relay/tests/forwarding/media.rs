//! Media end to end: a photo posted in a Telegram user session's channel and fanned out to
//! 50 destinations is fetched from Telegram once and stored once, and every copy carries
//! it; a file over a destination's size limit arrives there as a notice with a link to the
//! original (the rest of the message still goes out) at every destination kind — Discord
//! bot and webhook (10 MB), Telegram bot (50 MB) and user session (Relay's 50 MB cap) —
//! while destinations whose limit it fits get the file, and each notice is counted; an
//! edit of the message keeps the notice.

use crate::stack::Stack;
use relay_fakes::telegram_dc::{FakeMedia, MediaKind, Peer};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// Rows of the media store: how many files, and how many fetches in all.
async fn stored(s: &Stack) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), coalesce(sum(fetches), 0)::int8 FROM media_files")
        .fetch_one(s.db.pool())
        .await
        .expect("media files")
}

fn count(calls: &[String], name: &str) -> usize {
    calls.iter().filter(|c| c.as_str() == name).count()
}

#[tokio::test]
async fn a_photo_fanned_out_to_50_destinations_is_fetched_once_and_stored_once() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let photo: Vec<u8> = b"\xff\xd8\xff\xe0"
        .iter()
        .copied()
        .chain((0..40_000).map(|i| (i % 241) as u8))
        .collect();
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("Photos", false, &[author, me]);
    // A chat no pair reads: its photo is never fetched.
    let elsewhere = dc.add_channel("Not forwarded", false, &[author, me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;

    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let targets: Vec<u64> = (0..50)
        .map(|i| d.add_channel(guild, &format!("copy-{i}")))
        .collect();
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    // The plan takes 25 destinations per pair: two pairs read the channel.
    let source = (-1_000_000_000_000 - channel).to_string();
    for half in targets.chunks(25) {
        let destinations: Vec<(&str, Option<String>)> = half
            .iter()
            .map(|c| (discord_bot.as_str(), Some(c.to_string())))
            .collect();
        s.pair(&alice, (&user_account, source.clone()), &destinations)
            .await;
    }
    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;

    dc.post_media(
        Peer::Channel(elsewhere),
        author,
        "nobody reads this",
        FakeMedia::new(MediaKind::Photo, photo.clone()),
    );
    dc.post_media(
        Peer::Channel(channel),
        author,
        "one photo, fifty copies",
        FakeMedia::new(MediaKind::Photo, photo.clone()),
    );
    s.eventually("all 50 copies arrive", Duration::from_secs(90), || async {
        targets.iter().all(|c| !d.messages(*c).is_empty())
    })
    .await;

    for channel in &targets {
        let messages = d.messages(*channel);
        assert_eq!(messages.len(), 1, "channel {channel}");
        assert_eq!(messages[0].content, "one photo, fifty copies");
        let attachment = messages[0].attachments.first().expect("the photo");
        assert_eq!(
            d.attachment_bytes(attachment.id.get()).as_deref(),
            Some(photo.as_slice()),
            "channel {channel}"
        );
    }
    let calls = dc.calls();
    assert_eq!(
        count(&calls, "upload.getFile"),
        1,
        "fetched from Telegram once (a {} byte photo is one chunk): {calls:?}",
        photo.len()
    );
    assert_eq!(count(&calls, "channels.getMessages"), 1, "{calls:?}");
    assert_eq!(stored(&s).await, (1, 1), "stored once, fetched once");
    let size: i64 = sqlx::query_scalar("SELECT octet_length(bytes)::int8 FROM media_files")
        .fetch_one(s.db.pool())
        .await
        .expect("size");
    assert_eq!(size as usize, photo.len());
    s.stop().await;
}

#[tokio::test]
async fn a_file_over_a_destinations_limit_arrives_there_as_a_notice_with_a_link() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;

    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (source, dc_target, hooked) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "copy"),
        d.add_channel(guild, "hooked"),
    );
    let (hook_id, hook_token) = d.add_webhook(hooked, "hook");
    let someone = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;

    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let tg_target = b.add_chat("supergroup", "bot copy", &[tg_bot]);
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let group = dc.add_group("user copy", &[me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;

    let pair = s
        .pair(
            &alice,
            (&discord_bot, source.to_string()),
            &[
                (&discord_bot, Some(dc_target.to_string())),
                (&webhook, None),
                (&telegram_bot, Some(tg_target.to_string())),
                (&user_account, Some((-group).to_string())),
            ],
        )
        .await;

    let user_copy = || {
        dc.messages(Peer::Chat(group))
            .into_iter()
            .filter(|m| !m.deleted)
            .collect::<Vec<_>>()
    };
    // Once a text gets through, the source is listened to; the files come after it.
    s.eventually(
        "the Discord source is listened to",
        Duration::from_secs(30),
        || async {
            if b.messages(tg_target).is_empty() {
                d.user_posts(source, someone, "hello");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            !b.messages(tg_target).is_empty()
        },
    )
    .await;
    let arrived = |n: usize| {
        d.messages(dc_target).len() == n
            && d.messages(hooked).len() == n
            && b.messages(tg_target).len() == n
            && user_copy().len() == n
    };
    s.eventually(
        "the greeting everywhere",
        Duration::from_secs(30),
        || async {
            !d.messages(dc_target).is_empty()
                && !d.messages(hooked).is_empty()
                && !user_copy().is_empty()
        },
    )
    .await;
    let base = b.messages(tg_target).len();
    s.eventually("the greeting once", Duration::from_secs(10), || async {
        arrived(base)
    })
    .await;

    // Over Discord's 10 MB, within Telegram's limits.
    let eleven: Vec<u8> = (0..11 * MIB).map(|i| (i % 253) as u8).collect();
    d.user_posts_file(source, someone, "the report", "report.bin", eleven.clone())
        .expect("posted");
    s.eventually(
        "every destination has the first file's message",
        Duration::from_secs(60),
        || async { arrived(base + 1) },
    )
    .await;
    let first = d.messages(source).pop().expect("the source message");
    let first_url = first.attachments[0].url.clone();

    let notice_here = |content: &str, file: &str, size: &str, limit: &str, url: &str| {
        let expected = format!(
            "📎 {file} ({size}) is too large to forward here (the limit is {limit}): {url}"
        );
        assert!(
            content.contains(&expected),
            "{content:?} lacks {expected:?}"
        );
    };
    for channel in [dc_target, hooked] {
        let message = d.messages(channel).pop().expect("first");
        assert!(
            message.attachments.is_empty(),
            "no file where it does not fit"
        );
        assert!(message.content.starts_with("the report"));
        notice_here(
            &message.content,
            "report.bin",
            "11.0 MB",
            "10.0 MB",
            &first_url,
        );
    }
    let tg = b.messages(tg_target).pop().expect("first");
    assert_eq!(tg["caption"], "the report");
    let file_id = tg["document"]["file_id"].as_str().expect("a document");
    assert!(
        b.file_bytes(file_id) == Some(eleven.clone()),
        "the Telegram bot got the file"
    );
    let user = user_copy().pop().expect("first");
    assert_eq!(user.text, "the report");
    assert!(
        user.media.as_ref().is_some_and(|m| m.bytes == eleven),
        "the user session got the file"
    );

    // Over every destination's limit (Telegram bots upload 50 MB, Relay stores up to 50 MB):
    // a notice everywhere, and the file is never downloaded.
    let huge = vec![7u8; 50 * MIB + 1];
    let second = d
        .user_posts_file(source, someone, "the recording", "recording.bin", huge)
        .expect("posted");
    let second_url = second.attachments[0].url.clone();
    s.eventually(
        "every destination has the second file's message",
        Duration::from_secs(60),
        || async { arrived(base + 2) },
    )
    .await;
    for channel in [dc_target, hooked] {
        let message = d.messages(channel).pop().expect("second");
        assert!(message.attachments.is_empty());
        notice_here(
            &message.content,
            "recording.bin",
            "50.0 MB",
            "10.0 MB",
            &second_url,
        );
    }
    let tg_text = b.messages(tg_target).pop().expect("second")["text"]
        .as_str()
        .expect("a text message, no file")
        .to_owned();
    notice_here(&tg_text, "recording.bin", "50.0 MB", "50.0 MB", &second_url);
    let user_message = user_copy().pop().expect("second");
    assert!(user_message.media.is_none());
    notice_here(
        &user_message.text,
        "recording.bin",
        "50.0 MB",
        "50.0 MB",
        &second_url,
    );

    // An edit changes the text and keeps the notice; nothing is fetched for it.
    d.user_edits(source, first.id.get(), "the final report")
        .expect("edited");
    s.eventually("the edit arrives", Duration::from_secs(30), || async {
        d.messages(dc_target)
            .iter()
            .chain(d.messages(hooked).iter())
            .filter(|m| m.content.starts_with("the final report"))
            .count()
            == 2
    })
    .await;
    for channel in [dc_target, hooked] {
        let edited = d
            .messages(channel)
            .into_iter()
            .find(|m| m.content.starts_with("the final report"))
            .expect("edited copy");
        notice_here(
            &edited.content,
            "report.bin",
            "11.0 MB",
            "10.0 MB",
            &first_url,
        );
    }

    assert_eq!(d.attachment_downloads(first.attachments[0].id.get()), 1);
    assert_eq!(
        d.attachment_downloads(second.attachments[0].id.get()),
        0,
        "over every limit by its declared size: never downloaded"
    );

    // Counted: six files not carried (two of the first message, four of the second).
    let reasons: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT filename, reason, limit_bytes FROM media_notices WHERE pair_id = $1::uuid \
         ORDER BY filename, limit_bytes",
    )
    .bind(&pair)
    .fetch_all(s.db.pool())
    .await
    .expect("notices");
    let ten = 10 * MIB as i64;
    let fifty = 50 * MIB as i64;
    let expected: Vec<(String, String, i64)> = [
        ("recording.bin", ten),
        ("recording.bin", ten),
        ("recording.bin", fifty),
        ("recording.bin", fifty),
        ("report.bin", ten),
        ("report.bin", ten),
    ]
    .into_iter()
    .map(|(f, l)| (f.to_owned(), "destination_limit".to_owned(), l))
    .collect();
    assert_eq!(reasons, expected);
    s.stop().await;
}

#[tokio::test]
async fn a_file_over_the_plans_size_limit_arrives_as_a_notice_naming_the_plan() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    // Alice's plan carries files up to 100 kB; Discord would take 10 MB.
    sqlx::query("UPDATE plans SET max_media_bytes = 100000 WHERE id = 'elite'")
        .execute(s.db.pool())
        .await
        .expect("plan");
    let d = &s.discord.fake;
    let bot = d.add_bot("plan-media-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (source, target) = (d.add_channel(guild, "source"), d.add_channel(guild, "copy"));
    let someone = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "plan-media-token").await;
    s.pair(
        &alice,
        (&discord_bot, source.to_string()),
        &[(&discord_bot, Some(target.to_string()))],
    )
    .await;
    s.eventually(
        "the source is listened to",
        Duration::from_secs(30),
        || async {
            if d.messages(target).is_empty() {
                d.user_posts(source, someone, "hello");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            !d.messages(target).is_empty()
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let base = d.messages(target).len();

    let small: Vec<u8> = (0..50_000).map(|i| (i % 251) as u8).collect();
    let large: Vec<u8> = (0..200_000).map(|i| (i % 241) as u8).collect();
    d.user_posts_file(source, someone, "small one", "small.bin", small.clone())
        .expect("posted");
    d.user_posts_file(source, someone, "large one", "large.bin", large)
        .expect("posted");
    s.eventually("both messages arrive", Duration::from_secs(60), || async {
        d.messages(target).len() == base + 2
    })
    .await;
    let copies = d.messages(target);
    let (carried, refused) = (&copies[base], &copies[base + 1]);
    assert_eq!(carried.attachments.len(), 1, "within the plan: carried");
    assert_eq!(
        d.attachment_bytes(carried.attachments[0].id.get())
            .as_deref(),
        Some(small.as_slice())
    );
    assert!(refused.attachments.is_empty(), "over the plan: not carried");
    assert!(
        refused.content.starts_with("large one")
            && refused
                .content
                .contains("📎 large.bin (195.3 KB) is over this plan's file size limit of 97.7 KB"),
        "{:?}",
        refused.content
    );
    let reasons: Vec<String> = sqlx::query_scalar("SELECT reason FROM media_notices")
        .fetch_all(s.db.pool())
        .await
        .expect("notices");
    assert_eq!(reasons, ["plan_limit"]);
    s.stop().await;
}
