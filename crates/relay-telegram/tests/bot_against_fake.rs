//! The bot adapter (teloxide-core, unmodified) against the fake Bot API.

use relay_core::messages::{
    LimitScope, MediaSource, MessageSink, OutgoingFile, OutgoingMessage, SendError, SourceEvent,
};
use relay_fakes::telegram_bot::{FakeBotApi, RunningBotApi};
use relay_telegram::{BotFile, BotListener, BotSink, TelegramBot};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "123456:relay-test-token";

struct World {
    api: RunningBotApi,
    group: i64,
    channel: i64,
}

impl World {
    fn bot(&self) -> TelegramBot {
        TelegramBot::new(TOKEN, &self.api.url()).expect("url")
    }

    fn sink(&self) -> BotSink {
        BotSink::new(&self.bot())
    }

    fn fake(&self) -> &FakeBotApi {
        &self.api.fake
    }

    fn messages(&self, chat: i64) -> Vec<Value> {
        self.fake().messages(chat)
    }
}

async fn world() -> World {
    let fake = FakeBotApi::new();
    let bot = fake.add_bot(TOKEN, "relay_bot");
    let group = fake.add_chat("supergroup", "Group", &[bot]);
    let channel = fake.add_chat("channel", "News", &[bot]);
    World {
        api: fake.start("127.0.0.1:0").await.expect("start"),
        group,
        channel,
    }
}

fn text(s: &str) -> OutgoingMessage {
    OutgoingMessage {
        text: s.into(),
        ..Default::default()
    }
}

fn file(name: &str, bytes: &[u8]) -> OutgoingFile {
    OutgoingFile {
        filename: name.into(),
        bytes: bytes.to_vec(),
    }
}

#[tokio::test]
async fn the_token_is_checked_with_get_me() {
    let w = world().await;
    let (id, name) = w.bot().me().await.expect("me");
    assert!(id > 0);
    assert_eq!(name, "relay_bot");
    let wrong = TelegramBot::new("1:wrong", &w.api.url()).expect("url");
    assert!(matches!(wrong.me().await, Err(SendError::Unauthorized(_))));
}

async fn next(rx: &mut mpsc::Receiver<SourceEvent>) -> SourceEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("in time")
        .expect("open")
}

#[tokio::test]
async fn long_polling_reports_new_and_edited_messages_and_channel_posts() {
    let w = world().await;
    let (tx, mut rx) = mpsc::channel(100);
    let stop = CancellationToken::new();
    tokio::spawn(
        BotListener::new(&w.bot(), Duration::from_secs(2)).run(acknowledging(tx), stop.clone()),
    );
    let posted = w
        .fake()
        .user_posts(w.group, "Alice", "hello from telegram")
        .expect("posted");
    match next(&mut rx).await {
        SourceEvent::Created(m) => {
            assert_eq!(m.text.text, "hello from telegram");
            assert_eq!(m.author.name, "Alice");
            assert_eq!(m.chat_id, w.group.to_string());
        }
        other => panic!("{other:?}"),
    }
    let id = posted["message_id"].as_i64().expect("id");
    w.fake().user_edits(w.group, id, "hello, edited");
    assert!(
        matches!(next(&mut rx).await, SourceEvent::Edited(m) if m.text.text == "hello, edited")
    );
    w.fake().user_posts(w.channel, "News admin", "channel post");
    assert!(
        matches!(next(&mut rx).await, SourceEvent::Created(m) if m.text.text == "channel post" && m.chat_id == w.channel.to_string())
    );
    stop.cancel();
}

#[tokio::test]
async fn text_replies_media_and_albums_are_sent() {
    let w = world().await;
    let sink = w.sink();
    let chat = w.group.to_string();
    let first = sink.send(&chat, &text("first"), "k").await.expect("text");
    let reply = OutgoingMessage {
        text: "a reply".into(),
        reply_to: Some(first.message_id.clone()),
        ..Default::default()
    };
    sink.send(&chat, &reply, "k").await.expect("reply");
    let photo = OutgoingMessage {
        text: "a photo".into(),
        files: vec![file("p.jpg", b"\xff\xd8jpeg")],
        ..Default::default()
    };
    sink.send(&chat, &photo, "k").await.expect("photo");
    sink.send(
        &chat,
        &OutgoingMessage {
            files: vec![file("notes.pdf", b"%PDF")],
            ..Default::default()
        },
        "k",
    )
    .await
    .expect("document");
    sink.send(
        &chat,
        &OutgoingMessage {
            files: vec![file("voice.ogg", b"OggS")],
            ..Default::default()
        },
        "k",
    )
    .await
    .expect("voice");
    sink.send(
        &chat,
        &OutgoingMessage {
            files: vec![file("clip.mp4", b"mp4")],
            ..Default::default()
        },
        "k",
    )
    .await
    .expect("video");
    let album = OutgoingMessage {
        text: "three photos".into(),
        files: vec![
            file("a.jpg", b"a"),
            file("b.jpg", b"b"),
            file("c.png", b"c"),
        ],
        ..Default::default()
    };
    sink.send(&chat, &album, "k").await.expect("album");

    let stored = w.messages(w.group);
    assert_eq!(stored.len(), 9);
    assert_eq!(
        stored[1]["reply_to_message"]["message_id"].to_string(),
        first.message_id
    );
    assert_eq!(stored[2]["caption"], "a photo");
    let photo_id = stored[2]["photo"][0]["file_id"].as_str().expect("file id");
    assert_eq!(
        w.fake().file_bytes(photo_id).expect("bytes"),
        b"\xff\xd8jpeg"
    );
    assert_eq!(stored[3]["document"]["file_name"], "notes.pdf");
    assert!(stored[4]["voice"].is_object());
    assert!(stored[5]["video"].is_object());
    let group = &stored[6]["media_group_id"];
    assert!(group.is_string());
    assert!(
        stored[6..9]
            .iter()
            .all(|m| &m["media_group_id"] == group && m["photo"].is_array()),
        "one album, in order"
    );
    assert_eq!(stored[6]["caption"], "three photos");
}

#[tokio::test]
async fn the_bot_api_limits_come_back_as_rejections() {
    let w = world().await;
    let sink = w.sink();
    let chat = w.group.to_string();
    assert!(matches!(
        sink.send(&chat, &text(&"x".repeat(4097)), "k").await,
        Err(SendError::Rejected { .. })
    ));
    let eleven = OutgoingMessage {
        files: (0..11).map(|i| file(&format!("{i}.jpg"), b"x")).collect(),
        ..Default::default()
    };
    assert!(matches!(
        sink.send(&chat, &eleven, "k").await,
        Err(SendError::Rejected { .. })
    ));
    assert!(matches!(
        sink.send("-100999", &text("x"), "k").await,
        Err(SendError::NotFound(_))
    ));
    // A caption over 1024 characters: the media goes first, the text follows as a reply.
    let long = OutgoingMessage {
        text: "y".repeat(1500).into(),
        files: vec![file("p.jpg", b"p")],
        ..Default::default()
    };
    sink.send(&chat, &long, "k")
        .await
        .expect("sent in two parts");
    let stored = w.messages(w.group);
    assert_eq!(stored.len(), 2);
    assert!(stored[0].get("caption").is_none());
    assert_eq!(stored[1]["text"].as_str().map(str::len), Some(1500));
}

#[tokio::test]
async fn a_429_is_a_typed_wait() {
    let w = world().await;
    let sink = w.sink();
    w.fake().force_429("sendMessage", 3);
    let err = sink
        .send(&w.group.to_string(), &text("later"), "k")
        .await
        .expect_err("429");
    assert_eq!(
        err,
        SendError::RateLimited {
            retry_after: Duration::from_secs(3),
            scope: LimitScope::Route
        }
    );
    sink.send(&w.group.to_string(), &text("later"), "k")
        .await
        .expect("then it goes through");
    assert_eq!(w.messages(w.group).len(), 1);
}

#[tokio::test]
async fn edits_and_deletes_follow_the_message() {
    let w = world().await;
    let sink = w.sink();
    let chat = w.group.to_string();
    let sent = sink.send(&chat, &text("v1"), "k").await.expect("send");
    sink.edit(&chat, &sent.message_id, &text("v2"))
        .await
        .expect("edit");
    assert_eq!(w.messages(w.group)[0]["text"], "v2");
    // A photo went out with the text as its caption: the edit changes the caption.
    let photo = OutgoingMessage {
        text: "a photo".into(),
        files: vec![file("p.jpg", b"\xff\xd8jpeg")],
        ..Default::default()
    };
    let with_photo = sink.send(&chat, &photo, "k").await.expect("photo");
    sink.edit(&chat, &with_photo.message_id, &text("a better photo"))
        .await
        .expect("caption edit");
    assert_eq!(w.messages(w.group)[1]["caption"], "a better photo");
    sink.delete(&chat, &sent.message_id).await.expect("delete");
    assert_eq!(w.messages(w.group).len(), 1);
    assert!(matches!(
        sink.delete(&chat, &sent.message_id).await,
        Err(SendError::NotFound(_))
    ));
}

#[tokio::test]
async fn stickers_and_copies() {
    let w = world().await;
    let sink = w.sink();
    let chat = w.group.to_string();
    let sticker = OutgoingMessage {
        text: "with words".into(),
        files: vec![file("cat.webp", b"RIFFwebp")],
        ..Default::default()
    };
    let sent = sink.send(&chat, &sticker, "k").await.expect("sticker");
    let stored = w.messages(w.group);
    assert!(stored[0]["sticker"].is_object(), "{}", stored[0]);
    assert_eq!(
        stored[1]["text"], "with words",
        "a sticker's words follow it"
    );
    assert_eq!(
        stored[1]["reply_to_message"]["message_id"].to_string(),
        sent.message_id
    );

    let copy = sink
        .copy(&chat, &sent.message_id, &w.channel.to_string())
        .await
        .expect("copy");
    let copied = w.messages(w.channel);
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0]["message_id"].to_string(), copy.message_id);
    assert!(copied[0]["sticker"].is_object());
    assert!(matches!(
        sink.copy(&chat, "999", &w.channel.to_string()).await,
        Err(SendError::Rejected { .. } | SendError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_received_photo_is_reported_and_downloaded_through_the_bot() {
    let w = world().await;
    let (tx, mut rx) = mpsc::channel(100);
    let stop = CancellationToken::new();
    tokio::spawn(
        BotListener::new(&w.bot(), Duration::from_secs(2)).run(acknowledging(tx), stop.clone()),
    );
    let bytes: Vec<u8> = (0..5000).map(|i| (i % 251) as u8).collect();
    w.fake()
        .user_posts_photo(w.group, "Alice", "look", bytes.clone())
        .expect("posted");
    let SourceEvent::Created(m) = next(&mut rx).await else {
        panic!("expected a message");
    };
    assert_eq!(m.text.text, "look");
    let MediaSource::TelegramBotFile { file_id, .. } = &m.media[0].source else {
        panic!("expected a bot file");
    };
    assert_eq!(
        w.bot().file(file_id, 1 << 20).await.expect("download"),
        BotFile::Bytes(bytes)
    );
    assert_eq!(
        w.bot().file(file_id, 10).await.expect("over the cap"),
        BotFile::TooLarge { size: 5000 }
    );
    // Telegram hands bots files up to 20 MB.
    let big = vec![1u8; 20 * 1024 * 1024 + 1];
    w.fake()
        .user_posts_photo(w.group, "Alice", "big", big)
        .expect("posted");
    let SourceEvent::Created(m) = next(&mut rx).await else {
        panic!("expected a message");
    };
    let MediaSource::TelegramBotFile { file_id, .. } = &m.media[0].source else {
        panic!("expected a bot file");
    };
    assert_eq!(
        w.bot().file(file_id, 50 << 20).await.expect("too big"),
        BotFile::TooLarge { size: 0 }
    );
    stop.cancel();
}

/// A source channel whose batches are acknowledged at once, their events passed on.
fn acknowledging(tx: mpsc::Sender<SourceEvent>) -> relay_core::source::SourceSender {
    let (source, mut batches) = relay_core::source::SourceSender::channel(100);
    tokio::spawn(async move {
        while let Some(mut batch) = batches.recv().await {
            for event in std::mem::take(&mut batch.events) {
                if tx.send(event).await.is_err() {
                    return;
                }
            }
            batch.acknowledge();
        }
    });
    source
}

#[tokio::test]
async fn a_send_answered_too_late_is_ambiguous_and_arrived_once() {
    let w = world().await;
    let bot =
        TelegramBot::with_timeout(TOKEN, &w.api.url(), Duration::from_millis(300)).expect("url");
    let sink = BotSink::new(&bot);
    w.fake().answer_late("sendMessage", Duration::from_secs(2));
    let err = sink
        .send(&w.group.to_string(), &text("maybe twice"), "k")
        .await
        .expect_err("no answer in time");
    assert!(
        matches!(&err, SendError::Ambiguous(why) if why.contains("after the message was sent")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let texts: Vec<_> = w
        .messages(w.group)
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(texts, vec!["maybe twice"], "the message did arrive, once");
}

#[tokio::test]
async fn a_bot_api_that_cannot_be_reached_is_transient() {
    let bot = TelegramBot::with_timeout(TOKEN, "http://127.0.0.1:1", Duration::from_millis(300))
        .expect("url");
    let err = BotSink::new(&bot)
        .send("-100", &text("x"), "k")
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

/// A Bot API message's entities as (type, offset, length, url).
fn entity_list(m: &Value, field: &str) -> Vec<(String, i64, i64, Option<String>)> {
    m[field]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let url = e["url"].as_str().map(str::to_owned);
            let kind = e["type"].as_str().unwrap_or_default().to_owned();
            (
                kind,
                e["offset"].as_i64().unwrap_or(-1),
                e["length"].as_i64().unwrap_or(-1),
                url,
            )
        })
        .collect()
}

#[tokio::test]
async fn formatting_comes_in_and_goes_out_as_entities_with_the_literals_intact() {
    use relay_core::format::{FormattedText, Span, Style};
    let w = world().await;
    let (tx, mut rx) = mpsc::channel(100);
    let stop = CancellationToken::new();
    tokio::spawn(
        BotListener::new(&w.bot(), Duration::from_secs(2)).run(acknowledging(tx), stop.clone()),
    );
    // The emoji is two UTF-16 units (entity offsets) and four UTF-8 bytes (span offsets).
    let text = "😀 bold 2*3*4 = 24\nfirst line\n<b>tag</b> link";
    let url = "https://example.com/page";
    let posted = serde_json::json!([
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 41, "length": 4, "url": url},
    ]);
    w.fake()
        .user_posts_formatted(w.group, "Alice", text, posted.clone());
    let SourceEvent::Created(m) = next(&mut rx).await else {
        panic!("expected a message");
    };
    let link = Style::TextLink { url: url.into() };
    let formatted = FormattedText::new(
        text,
        vec![Span::new(5, 9, Style::Bold), Span::new(43, 47, link)],
    );
    assert_eq!(m.text, formatted);

    // Out again as text and entities: nothing parsed, nothing lost.
    let sink = w.sink();
    // In the group, where the person's post is message 0 (the fake refuses edits of a
    // bot's channel posts).
    let chat = w.group.to_string();
    let sent = sink
        .send(
            &chat,
            &OutgoingMessage {
                text: formatted.clone(),
                ..Default::default()
            },
            "k",
        )
        .await
        .expect("send");
    let expected = entity_list(&serde_json::json!({ "e": posted }), "e");
    let stored = w.messages(w.group);
    assert_eq!(stored[1]["text"], text);
    assert_eq!(entity_list(&stored[1], "entities"), expected);
    assert!(stored[1].get("parse_mode").is_none());

    // An edit replaces the entities; a caption carries them as caption_entities.
    let italic = FormattedText::new(text, vec![Span::new(10, 15, Style::Italic)]);
    let edit = OutgoingMessage {
        text: italic,
        ..Default::default()
    };
    sink.edit(&chat, &sent.message_id, &edit)
        .await
        .expect("edit");
    let italic_entity = vec![("italic".to_owned(), 8, 5, None)];
    assert_eq!(
        entity_list(&w.messages(w.group)[1], "entities"),
        italic_entity
    );
    let photo = OutgoingMessage {
        text: formatted,
        files: vec![file("p.jpg", b"\xff\xd8jpeg")],
        ..Default::default()
    };
    sink.send(&chat, &photo, "k2").await.expect("photo");
    let stored = w.messages(w.group);
    assert_eq!(stored[2]["caption"], text);
    assert_eq!(entity_list(&stored[2], "caption_entities"), expected);
    stop.cancel();
}

#[tokio::test]
async fn an_album_posted_by_a_person_is_reported_as_one_message() {
    let w = world().await;
    let (tx, mut rx) = mpsc::channel(100);
    let stop = CancellationToken::new();
    tokio::spawn(
        BotListener::new(&w.bot(), Duration::from_secs(2)).run(acknowledging(tx), stop.clone()),
    );
    let posted = w.fake().user_posts_album(
        w.group,
        "Alice",
        vec![
            ("photo", "a.jpg", b"a".to_vec(), ""),
            ("video", "b.mp4", b"b".to_vec(), "the caption"),
            ("photo", "c.jpg", b"c".to_vec(), ""),
        ],
    );
    let ids: Vec<String> = posted.iter().map(|m| m["message_id"].to_string()).collect();
    w.fake().user_posts(w.group, "Alice", "after the album");
    let SourceEvent::Created(album) = next(&mut rx).await else {
        panic!("expected the album");
    };
    assert_eq!(album.message_id, ids[0]);
    assert_eq!(album.grouped_ids, ids[1..].to_vec());
    assert_eq!(album.text.text, "the caption");
    let names: Vec<&str> = album.media.iter().map(|m| m.filename.as_str()).collect();
    assert_eq!(names, ["photo.jpg", "b.mp4", "photo.jpg"]);
    let SourceEvent::Created(after) = next(&mut rx).await else {
        panic!("expected the next message");
    };
    assert_eq!(after.text.text, "after the album");

    // An album at the end of what was posted is reported once no member follows.
    let posted = w.fake().user_posts_album(
        w.group,
        "Alice",
        vec![
            ("document", "x.pdf", b"x".to_vec(), "papers"),
            ("document", "y.pdf", b"y".to_vec(), ""),
        ],
    );
    let SourceEvent::Created(album) = next(&mut rx).await else {
        panic!("expected the second album");
    };
    assert_eq!(album.message_id, posted[0]["message_id"].to_string());
    assert_eq!(album.media.len(), 2);
    assert_eq!(album.text.text, "papers");
    stop.cancel();
}

#[tokio::test]
async fn an_album_send_reports_every_message_and_the_fake_refuses_what_telegram_does() {
    let w = world().await;
    let sink = w.sink();
    let chat = w.group.to_string();
    let album = OutgoingMessage {
        text: "two".into(),
        files: vec![file("a.jpg", b"a"), file("b.mp4", b"b")],
        ..Default::default()
    };
    let sent = sink.send(&chat, &album, "k").await.expect("album");
    let stored = w.messages(w.group);
    let ids: Vec<String> = stored.iter().map(|m| m["message_id"].to_string()).collect();
    assert_eq!(sent.message_id, ids[0]);
    assert_eq!(sent.others, ids[1..].to_vec());

    // Eleven files, or a document among photos, are refused by sendMediaGroup itself.
    let eleven = OutgoingMessage {
        files: (0..11).map(|i| file(&format!("{i}.jpg"), b"p")).collect(),
        ..Default::default()
    };
    assert!(matches!(
        sink.send(&chat, &eleven, "k").await,
        Err(SendError::Rejected { .. })
    ));
    let bot = teloxide_core::Bot::new(TOKEN).set_api_url(w.api.url().parse().expect("url"));
    use teloxide_core::prelude::Requester;
    use teloxide_core::types::{
        ChatId, InputFile, InputMedia, InputMediaDocument, InputMediaPhoto,
    };
    let mixed = vec![
        InputMedia::Photo(InputMediaPhoto::new(
            InputFile::memory(b"p".to_vec()).file_name("p.jpg"),
        )),
        InputMedia::Document(InputMediaDocument::new(
            InputFile::memory(b"d".to_vec()).file_name("d.pdf"),
        )),
    ];
    let refused = bot.send_media_group(ChatId(w.group), mixed).await;
    assert!(
        refused.is_err_and(|e| e.to_string().contains("can't be mixed")),
        "a document and a photo in one album"
    );
    assert_eq!(w.messages(w.group).len(), 2);
}

#[tokio::test]
async fn an_album_held_when_the_listener_stops_is_polled_again() {
    let w = world().await;
    let (tx, mut rx) = mpsc::channel(100);
    let stop = CancellationToken::new();
    let listener = tokio::spawn(
        BotListener::new(&w.bot(), Duration::from_secs(2)).run(acknowledging(tx), stop.clone()),
    );
    let posted = w.fake().user_posts_album(
        w.group,
        "Alice",
        vec![
            ("photo", "a.jpg", b"a".to_vec(), "kept"),
            ("photo", "b.jpg", b"b".to_vec(), ""),
        ],
    );
    // Stopped while the album waits for more members: nothing was reported or confirmed.
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.cancel();
    listener.await.expect("stopped");
    assert!(rx.try_recv().is_err(), "nothing reported yet");

    let (tx, mut rx) = mpsc::channel(100);
    let stop = CancellationToken::new();
    tokio::spawn(
        BotListener::new(&w.bot(), Duration::from_secs(2)).run(acknowledging(tx), stop.clone()),
    );
    let SourceEvent::Created(album) = next(&mut rx).await else {
        panic!("expected the album");
    };
    assert_eq!(album.message_id, posted[0]["message_id"].to_string());
    assert_eq!(album.grouped_ids, vec![posted[1]["message_id"].to_string()]);
    assert_eq!(album.text.text, "kept");
    stop.cancel();
}
