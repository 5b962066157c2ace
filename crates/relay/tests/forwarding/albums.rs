//! Albums end to end, from every source kind to every destination kind: a Telegram album
//! (one grouped id, delivered by the platform as separate messages) arrives on Discord as
//! ONE message carrying all its files, and on Telegram as one media group; a Discord
//! message with several files becomes Telegram media groups, split by kind so Telegram
//! takes them (photos and videos together, documents together). The caption goes with the
//! album once; editing it edits the copy's caption; deleting the album deletes every
//! message of the copy.

use crate::stack::Stack;
use relay_fakes::telegram_dc::{FakeMedia, MediaKind, Peer};
use serde_json::Value;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// The destinations every test forwards to: a Discord bot's channel, a webhook's channel,
/// a Telegram bot's chat and a group the Telegram user session writes to.
struct Destinations {
    /// The Discord bot's guild and the Telegram bot's id, for sources beside them.
    guild: u64,
    telegram_bot: i64,
    discord_channel: u64,
    hooked_channel: u64,
    bot_chat: i64,
    user_group: i64,
}

/// What a destination shows: per message, its text (caption) and file names.
type Shown = Vec<(String, Vec<String>)>;

impl Destinations {
    fn discord(s: &Stack, channel: u64) -> Shown {
        s.discord
            .fake
            .messages(channel)
            .into_iter()
            .map(|m| {
                let files = m.attachments.iter().map(|a| a.filename.clone()).collect();
                (m.content, files)
            })
            .collect()
    }

    /// Bot API messages: caption and the kind of file each carries; with their album ids.
    fn bot(s: &Stack, chat: i64) -> (Shown, Vec<Option<String>>) {
        let messages = s.bots.fake.messages(chat);
        let groups = messages
            .iter()
            .map(|m| m["media_group_id"].as_str().map(str::to_owned))
            .collect();
        let shown = messages
            .iter()
            .map(|m| {
                let text = m["caption"]
                    .as_str()
                    .or(m["text"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                let files = ["photo", "video", "document", "audio"]
                    .into_iter()
                    .filter(|k| !m[*k].is_null())
                    .map(|k| match &m[k]["file_name"] {
                        Value::String(name) => name.clone(),
                        _ => k.to_owned(),
                    })
                    .collect();
                (text, files)
            })
            .collect();
        (shown, groups)
    }

    /// The user session's group (messages not deleted), with their grouped ids.
    fn user(s: &Stack, group: i64) -> (Shown, Vec<Option<i64>>) {
        let messages: Vec<_> =
            s.dc.fake
                .messages(Peer::Chat(group))
                .into_iter()
                .filter(|m| !m.deleted)
                .collect();
        let groups = messages.iter().map(|m| m.grouped_id).collect();
        let shown = messages
            .into_iter()
            .map(|m| {
                let files = m
                    .media
                    .map(|f| vec![f.file_name.unwrap_or_else(|| format!("{:?}", f.kind))])
                    .unwrap_or_default();
                (m.text, files)
            })
            .collect();
        (shown, groups)
    }
}

/// Every message in one album (the same group id, set).
fn one_album<T: PartialEq + std::fmt::Debug>(groups: &[Option<T>]) -> bool {
    groups.first().is_some_and(|g| g.is_some()) && groups.iter().all(|g| g == &groups[0])
}

/// The captions of a destination's messages, in order.
fn captions(shown: &Shown) -> Vec<&str> {
    shown.iter().map(|(t, _)| t.as_str()).collect()
}

fn file_count(shown: &Shown) -> usize {
    shown.iter().map(|(_, f)| f.len()).sum()
}

#[tokio::test]
async fn a_telegram_user_sessions_album_is_one_message_everywhere_and_its_edit_and_delete_follow() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("Trips", false, &[author, me]);
    let user_group = dc.add_group("user copy", &[me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;
    let to = destinations(&s, &alice).await;
    let (discord_bot, webhook, telegram_bot) = (&to.1, &to.2, &to.3);
    let to = Destinations { user_group, ..to.0 };
    s.pair(
        &alice,
        (&user_account, (-1_000_000_000_000 - channel).to_string()),
        &[
            (discord_bot, Some(to.discord_channel.to_string())),
            (webhook, None),
            (telegram_bot, Some(to.bot_chat.to_string())),
            (&user_account, Some((-user_group).to_string())),
        ],
    )
    .await;
    s.eventually("the user session listens", WAIT, || async {
        dc.connected_sessions(me) > 0
    })
    .await;

    let named = |kind, name: &str, byte: u8| FakeMedia {
        file_name: Some(name.to_owned()),
        ..FakeMedia::new(kind, vec![byte; 64])
    };
    let ids = dc.post_album(
        Peer::Channel(channel),
        author,
        vec![
            (
                "Our trip".to_owned(),
                FakeMedia::new(MediaKind::Photo, vec![1; 64]),
            ),
            (String::new(), named(MediaKind::Video, "clip.mp4", 2)),
            (String::new(), FakeMedia::new(MediaKind::Photo, vec![3; 64])),
        ],
    );
    assert_eq!(ids.len(), 3);

    s.eventually("the album arrives once everywhere", WAIT, || async {
        album_everywhere(&s, &to, "Our trip", 3)
    })
    .await;
    let discord = Destinations::discord(&s, to.discord_channel);
    assert_eq!(
        discord[0].1,
        vec!["photo.jpg", "clip.mp4", "photo.jpg"],
        "the files in order"
    );

    dc.edit(Peer::Channel(channel), ids[0], "Our trip, day 2");
    s.eventually("the caption edit reaches every copy", WAIT, || async {
        album_everywhere(&s, &to, "Our trip, day 2", 3)
    })
    .await;

    // Telegram deletes an album's every member; the copies go, every message of them.
    dc.delete(Peer::Channel(channel), &ids);
    s.eventually("the delete removes every message", WAIT, || async {
        Destinations::discord(&s, to.discord_channel).is_empty()
            && Destinations::discord(&s, to.hooked_channel).is_empty()
            && Destinations::bot(&s, to.bot_chat).0.is_empty()
            && Destinations::user(&s, user_group).0.is_empty()
    })
    .await;
    s.stop().await;
}

#[tokio::test]
async fn a_telegram_bots_album_is_one_message_everywhere_and_its_caption_edit_follows() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let user_group = dc.add_group("user copy", &[me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;
    let to = destinations(&s, &alice).await;
    let (discord_bot, webhook, telegram_bot) = (&to.1, &to.2, &to.3);
    let to = Destinations { user_group, ..to.0 };
    let b = &s.bots.fake;
    let source = b.add_chat("supergroup", "source", &[to.telegram_bot]);
    s.pair(
        &alice,
        (telegram_bot, source.to_string()),
        &[
            (discord_bot, Some(to.discord_channel.to_string())),
            (webhook, None),
            (telegram_bot, Some(to.bot_chat.to_string())),
            (&user_account, Some((-user_group).to_string())),
        ],
    )
    .await;
    // The bot listens within a lease tick: a first plain message shows it does.
    s.eventually("the bot listens", WAIT, || async {
        b.user_posts(source, "Tina", "warming up");
        tokio::time::sleep(Duration::from_millis(500)).await;
        !Destinations::discord(&s, to.discord_channel).is_empty()
    })
    .await;
    s.eventually("the warm-up is through", WAIT, || async {
        let warm = |shown: &Shown| shown.iter().any(|(t, _)| t.contains("warming up"));
        warm(&Destinations::discord(&s, to.hooked_channel))
            && warm(&Destinations::bot(&s, to.bot_chat).0)
            && warm(&Destinations::user(&s, user_group).0)
    })
    .await;
    let warm_ups = |shown: Shown| -> Shown {
        shown
            .into_iter()
            .filter(|(t, _)| !t.contains("warming up"))
            .collect()
    };

    // The caption on the second member, as a client may put it.
    let posted = b.user_posts_album(
        source,
        "Tina",
        vec![
            ("photo", "a.jpg", vec![1; 32], ""),
            ("photo", "b.jpg", vec![2; 32], "Holiday"),
            ("video", "c.mp4", vec![3; 32], ""),
        ],
    );
    assert_eq!(posted.len(), 3);
    let ok = |caption: &str| {
        let discord = warm_ups(Destinations::discord(&s, to.discord_channel));
        let hooked = warm_ups(Destinations::discord(&s, to.hooked_channel));
        let (bot, bot_groups) = Destinations::bot(&s, to.bot_chat);
        let (user, user_groups) = Destinations::user(&s, user_group);
        let (bot, user) = (warm_ups(bot), warm_ups(user));
        let bot_groups: Vec<_> = bot_groups.into_iter().filter(Option::is_some).collect();
        let user_groups: Vec<_> = user_groups.into_iter().filter(Option::is_some).collect();
        discord.len() == 1
            && discord[0].0 == caption
            && discord[0].1.len() == 3
            && hooked.len() == 1
            && hooked[0].0 == caption
            && hooked[0].1.len() == 3
            && captions(&bot) == vec![caption, "", ""]
            && file_count(&bot) == 3
            && one_album(&bot_groups)
            && captions(&user) == vec![caption, "", ""]
            && file_count(&user) == 3
            && one_album(&user_groups)
    };
    s.eventually("the album arrives once everywhere", WAIT, || async {
        ok("Holiday")
    })
    .await;

    let second = posted[1]["message_id"].as_i64().expect("id");
    b.user_edits(source, second, "Holiday at sea");
    s.eventually("the caption edit reaches every copy", WAIT, || async {
        ok("Holiday at sea")
    })
    .await;
    s.stop().await;
}

#[tokio::test]
async fn a_discord_message_with_several_files_becomes_telegram_albums_by_kind() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let user_group = dc.add_group("user copy", &[me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;
    let to = destinations(&s, &alice).await;
    let (discord_bot, webhook, telegram_bot) = (&to.1, &to.2, &to.3);
    let to = Destinations { user_group, ..to.0 };
    let d = &s.discord.fake;
    let source = d.add_channel(to.guild, "source");
    let someone = d.add_user("someone");
    s.pair(
        &alice,
        (discord_bot, source.to_string()),
        &[
            (discord_bot, Some(to.discord_channel.to_string())),
            (webhook, None),
            (telegram_bot, Some(to.bot_chat.to_string())),
            (&user_account, Some((-user_group).to_string())),
        ],
    )
    .await;
    s.eventually("the Discord bot listens", WAIT, || async {
        d.user_posts(source, someone, "warming up");
        tokio::time::sleep(Duration::from_millis(500)).await;
        !Destinations::discord(&s, to.discord_channel).is_empty()
    })
    .await;
    s.eventually("the warm-up is through", WAIT, || async {
        let warm = |shown: &Shown| shown.iter().any(|(t, _)| t.contains("warming up"));
        warm(&Destinations::discord(&s, to.hooked_channel))
            && warm(&Destinations::bot(&s, to.bot_chat).0)
            && warm(&Destinations::user(&s, user_group).0)
    })
    .await;
    let warm_ups = |shown: Shown| -> Shown {
        shown
            .into_iter()
            .filter(|(t, _)| !t.contains("warming up"))
            .collect()
    };

    // Ten files, Discord's most: seven pictures and three documents, mixed.
    let names = [
        "1.png", "2.pdf", "3.jpg", "4.jpg", "5.txt", "6.png", "7.jpg", "8.pdf", "9.jpg", "10.jpg",
    ];
    let files = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, vec![i as u8; 16]))
        .collect();
    let message = d
        .user_posts_files(source, someone, "Ten files", files)
        .expect("posted");
    assert!(
        d.user_posts_files(source, someone, "too many", vec![("x.png", vec![1]); 11])
            .is_none(),
        "Discord takes 10 attachments at most"
    );

    let pictures = [
        "1.png", "3.jpg", "4.jpg", "6.png", "7.jpg", "9.jpg", "10.jpg",
    ];
    let documents = ["2.pdf", "5.txt", "8.pdf"];
    let ok = |caption: &str| {
        let discord = warm_ups(Destinations::discord(&s, to.discord_channel));
        let hooked = warm_ups(Destinations::discord(&s, to.hooked_channel));
        let (bot, bot_groups) = Destinations::bot(&s, to.bot_chat);
        let (user, user_groups) = Destinations::user(&s, user_group);
        let (bot, user) = (warm_ups(bot), warm_ups(user));
        let bot_groups: Vec<_> = bot_groups.into_iter().filter(Option::is_some).collect();
        let user_groups: Vec<_> = user_groups.into_iter().filter(Option::is_some).collect();
        let mut expected_captions = vec![caption];
        expected_captions.extend([""; 9]);
        let document_names = |shown: &Shown| -> Vec<String> {
            shown[7..].iter().flat_map(|(_, f)| f.clone()).collect()
        };
        discord.len() == 1
            && discord[0].0 == caption
            && discord[0].1 == names
            && hooked.len() == 1
            && hooked[0].0 == caption
            && hooked[0].1 == names
            && captions(&bot) == expected_captions
            && file_count(&bot) == 10
            && document_names(&bot) == documents
            // Two albums: the seven pictures, then the three documents.
            && bot_groups[..7].iter().all(|g| g == &bot_groups[0])
            && bot_groups[7..].iter().all(|g| g == &bot_groups[7])
            && bot_groups[0] != bot_groups[7]
            && captions(&user) == expected_captions
            && file_count(&user) == 10
            && document_names(&user) == documents
            && user_groups[..7].iter().all(|g| g == &user_groups[0])
            && user_groups[7..].iter().all(|g| g == &user_groups[7])
            && user_groups[0] != user_groups[7]
    };
    s.eventually(
        "the files arrive as one message or albums by kind",
        WAIT,
        || async { ok("Ten files") },
    )
    .await;
    assert_eq!(pictures.len() + documents.len(), names.len());

    let id = message.id.get();
    d.user_edits(source, id, "Ten files, sorted");
    s.eventually("the caption edit reaches every copy", WAIT, || async {
        ok("Ten files, sorted")
    })
    .await;

    d.user_deletes(source, id);
    s.eventually("the delete removes every message", WAIT, || async {
        warm_ups(Destinations::discord(&s, to.discord_channel)).is_empty()
            && warm_ups(Destinations::discord(&s, to.hooked_channel)).is_empty()
            && warm_ups(Destinations::bot(&s, to.bot_chat).0).is_empty()
            && warm_ups(Destinations::user(&s, user_group).0).is_empty()
    })
    .await;
    s.stop().await;
}

/// Whether the Telegram album with `caption` and `files` files shows as one message on
/// each Discord destination and as one media group (caption on the first) on each
/// Telegram one.
fn album_everywhere(s: &Stack, to: &Destinations, caption: &str, files: usize) -> bool {
    let discord = Destinations::discord(s, to.discord_channel);
    let hooked = Destinations::discord(s, to.hooked_channel);
    let (bot, bot_groups) = Destinations::bot(s, to.bot_chat);
    let (user, user_groups) = Destinations::user(s, to.user_group);
    let mut expected = vec![caption];
    expected.extend(vec![""; files - 1]);
    discord.len() == 1
        && discord[0].0 == caption
        && discord[0].1.len() == files
        && hooked.len() == 1
        && hooked[0].0 == caption
        && hooked[0].1.len() == files
        && captions(&bot) == expected
        && file_count(&bot) == files
        && one_album(&bot_groups)
        && captions(&user) == expected
        && file_count(&user) == files
        && one_album(&user_groups)
}

/// The Discord bot (its guild), webhook and Telegram bot every test forwards to, with the
/// accounts: (destinations, Discord bot, webhook, Telegram bot).
async fn destinations(s: &Stack, owner: &str) -> (Destinations, String, String, String) {
    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (discord_channel, hooked_channel) =
        (d.add_channel(guild, "copy"), d.add_channel(guild, "hooked"));
    let (hook_id, hook_token) = d.add_webhook(hooked_channel, "hook");
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let bot_chat = b.add_chat("supergroup", "bot copy", &[tg_bot]);
    let discord_bot = s.discord_bot(owner, "discord-bot-token").await;
    let webhook = s.discord_webhook(owner, hook_id, &hook_token).await;
    let telegram_bot = s.telegram_bot(owner, "111:telegram-bot-token").await;
    (
        Destinations {
            guild,
            telegram_bot: tg_bot,
            discord_channel,
            hooked_channel,
            bot_chat,
            user_group: 0,
        },
        discord_bot,
        webhook,
        telegram_bot,
    )
}
