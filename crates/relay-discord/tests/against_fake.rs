//! Relay's Discord adapter against the fake Discord: the listener through the real
//! twilight-gateway, the bot and webhook destinations through Relay's REST client.

use relay_core::messages::{
    Author, EmbedPart, LimitScope, MessageSink, OutgoingFile, OutgoingMessage, SendError,
    SourceEvent,
};
use relay_core::source::SourceSender;
use relay_discord::{
    BotSink, DiscordEndpoints, DiscordListener, DiscordRest, ListenerConfig, WebhookSink,
    WebhookTarget,
};
use relay_fakes::discord::{FakeDiscord, GatewayCommand, RunningFake};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "relay-bot-token";

struct World {
    fake: RunningFake,
    channel: u64,
    user: u64,
}

impl World {
    fn endpoints(&self) -> DiscordEndpoints {
        DiscordEndpoints {
            api_url: self.fake.api_url(),
            gateway_url: self.fake.gateway_url(),
        }
    }

    fn rest(&self) -> DiscordRest {
        DiscordRest::new(&self.endpoints(), Some(TOKEN))
    }

    fn fake(&self) -> &FakeDiscord {
        &self.fake.fake
    }

    fn texts(&self) -> Vec<String> {
        self.fake()
            .messages(self.channel)
            .into_iter()
            .map(|m| m.content)
            .collect()
    }
}

async fn world() -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDiscord::new();
    let bot = fake.add_bot(TOKEN, "relay");
    let guild = fake.add_guild("guild", &[bot]);
    let channel = fake.add_channel(guild, "general");
    let user = fake.add_user("alice");
    fake.set_heartbeat_interval(250);
    World {
        fake: fake.start("127.0.0.1:0").await.expect("start"),
        channel,
        user,
    }
}

struct Listening {
    events: mpsc::Receiver<SourceEvent>,
    _stop: tokio_util::sync::DropGuard,
}

fn listen(w: &World) -> (DiscordListener, Listening) {
    let listener = DiscordListener::new(ListenerConfig {
        token: TOKEN.into(),
        endpoints: w.endpoints(),
        fast_identify: true,
    });
    let (tx, rx) = mpsc::channel(1000);
    let stop = CancellationToken::new();
    tokio::spawn(listener.clone().run(acknowledging(tx), stop.clone()));
    (
        listener,
        Listening {
            events: rx,
            _stop: stop.drop_guard(),
        },
    )
}

/// A source channel whose batches are acknowledged at once, their events passed on one by
/// one.
fn acknowledging(tx: mpsc::Sender<SourceEvent>) -> SourceSender {
    let (source, mut batches) = SourceSender::channel(1000);
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

async fn next_text(l: &mut Listening) -> String {
    match tokio::time::timeout(Duration::from_secs(20), l.events.recv())
        .await
        .expect("an event in time")
        .expect("open")
    {
        SourceEvent::Created(m) => m.text.text,
        other => panic!("expected a new message, got {other:?}"),
    }
}

async fn wait_connected(w: &World) {
    for _ in 0..200 {
        if w.fake().live_connections() > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the listener never connected");
}

#[tokio::test]
async fn a_posted_message_reaches_relay_through_the_gateway() {
    let w = world().await;
    let (_listener, mut l) = listen(&w);
    wait_connected(&w).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    w.fake().user_posts(w.channel, w.user, "hello **world**");
    match tokio::time::timeout(Duration::from_secs(10), l.events.recv())
        .await
        .expect("in time")
        .expect("open")
    {
        SourceEvent::Created(m) => {
            assert_eq!(
                m.text,
                relay_core::format::from_discord_markdown("hello **world**")
            );
            assert_eq!(m.text.text, "hello world");
            assert_eq!(m.author.name, "alice");
            assert_eq!(m.chat_id, w.channel.to_string());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_forced_disconnect_then_resume_loses_no_event() {
    let w = world().await;
    let (_listener, mut l) = listen(&w);
    wait_connected(&w).await;
    w.fake().user_posts(w.channel, w.user, "m0");
    assert_eq!(next_text(&mut l).await, "m0");
    w.fake().gateway_command(GatewayCommand::Drop);
    for i in 1..=5 {
        w.fake().user_posts(w.channel, w.user, &format!("m{i}"));
    }
    w.fake().gateway_command(GatewayCommand::Reconnect);
    for i in 6..=8 {
        w.fake().user_posts(w.channel, w.user, &format!("m{i}"));
    }
    for i in 1..=8 {
        assert_eq!(next_text(&mut l).await, format!("m{i}"));
    }
}

#[tokio::test]
async fn a_longer_outage_is_caught_up_from_history_without_duplicates() {
    let w = world().await;
    let (listener, mut l) = listen(&w);
    wait_connected(&w).await;
    w.fake().user_posts(w.channel, w.user, "before");
    assert_eq!(next_text(&mut l).await, "before");

    // The gateway goes away and forgets the session: a Resume will be refused.
    w.fake().set_gateway_down(true);
    w.fake().forget_sessions();
    for i in 0..120 {
        w.fake()
            .user_posts(w.channel, w.user, &format!("missed {i}"));
    }
    w.fake().set_gateway_down(false);
    for i in 0..120 {
        assert_eq!(next_text(&mut l).await, format!("missed {i}"));
    }
    w.fake().user_posts(w.channel, w.user, "after");
    assert_eq!(next_text(&mut l).await, "after");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), l.events.recv())
            .await
            .is_err(),
        "no duplicates"
    );
    let last = w.fake().messages(w.channel).last().map(|m| m.id.get());
    assert_eq!(listener.last_seen(w.channel), last);
}

#[tokio::test]
async fn the_bots_own_messages_are_not_reported() {
    let w = world().await;
    let (_listener, mut l) = listen(&w);
    wait_connected(&w).await;
    let sink = BotSink::new(w.rest());
    sink.send(
        &w.channel.to_string(),
        &OutgoingMessage {
            text: "from relay".into(),
            ..Default::default()
        },
        "k1",
    )
    .await
    .expect("send");
    w.fake().user_posts(w.channel, w.user, "from a person");
    assert_eq!(next_text(&mut l).await, "from a person");
}

#[tokio::test]
async fn sends_arrive_as_discord_stores_them() {
    let w = world().await;
    let sink = BotSink::new(w.rest());
    let chat = w.channel.to_string();
    let first = sink
        .send(
            &chat,
            &OutgoingMessage {
                text: "plain".into(),
                ..Default::default()
            },
            "n1",
        )
        .await
        .expect("text");
    let embed = EmbedPart {
        title: Some("Title".into()),
        description: Some("Body".into()),
        url: None,
        color: Some(0x3366ff),
    };
    sink.send(
        &chat,
        &OutgoingMessage {
            text: "with embed".into(),
            embeds: vec![embed],
            ..Default::default()
        },
        "n2",
    )
    .await
    .expect("embed");
    let file = OutgoingFile {
        filename: "photo.jpg".into(),
        bytes: vec![0xff, 0xd8, 0xff, 1, 2, 3],
    };
    sink.send(
        &chat,
        &OutgoingMessage {
            text: "with file".into(),
            files: vec![file],
            ..Default::default()
        },
        "n3",
    )
    .await
    .expect("file");
    let reply = OutgoingMessage {
        text: "a reply".into(),
        reply_to: Some(first.message_id.clone()),
        ..Default::default()
    };
    sink.send(&chat, &reply, "n4").await.expect("reply");

    let stored = w.fake().messages(w.channel);
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[1].embeds[0].title.as_deref(), Some("Title"));
    assert_eq!(stored[1].embeds[0].color, Some(0x3366ff));
    assert_eq!(stored[2].attachments[0].filename, "photo.jpg");
    assert_eq!(
        w.fake()
            .attachment_bytes(stored[2].attachments[0].id.get())
            .expect("bytes"),
        vec![0xff, 0xd8, 0xff, 1, 2, 3]
    );
    assert_eq!(
        stored[3]
            .reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|i| i.to_string()),
        Some(first.message_id.clone())
    );

    sink.edit(
        &chat,
        &first.message_id,
        &OutgoingMessage {
            text: "plain, edited".into(),
            ..Default::default()
        },
    )
    .await
    .expect("edit");
    sink.delete(&chat, &stored[1].id.to_string())
        .await
        .expect("delete");
    let texts = w.texts();
    assert_eq!(texts, vec!["plain, edited", "with file", "a reply"]);
}

#[tokio::test]
async fn platform_limits_come_back_as_rejections() {
    let w = world().await;
    let sink = BotSink::new(w.rest());
    let too_long = OutgoingMessage {
        text: "x".repeat(2001).into(),
        ..Default::default()
    };
    assert!(
        matches!(sink.send(&w.channel.to_string(), &too_long, "a").await, Err(SendError::Rejected { code, .. }) if code == "50035")
    );
    let empty = OutgoingMessage::default();
    assert!(
        matches!(sink.send(&w.channel.to_string(), &empty, "b").await, Err(SendError::Rejected { code, .. }) if code == "50006")
    );
    let big = OutgoingMessage {
        files: vec![OutgoingFile {
            filename: "big.bin".into(),
            bytes: vec![0; 10 * 1024 * 1024 + 1],
        }],
        ..Default::default()
    };
    assert!(
        matches!(sink.send(&w.channel.to_string(), &big, "c").await, Err(SendError::Rejected { code, .. }) if code == "40005")
    );
    assert!(matches!(
        sink.send(
            "999",
            &OutgoingMessage {
                text: "x".into(),
                ..Default::default()
            },
            "d"
        )
        .await,
        Err(SendError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_429_pauses_with_retry_after_and_then_succeeds() {
    let w = world().await;
    let sink = BotSink::new(w.rest());
    let msg = OutgoingMessage {
        text: "patient".into(),
        ..Default::default()
    };
    w.fake().force_429(
        &format!("channels/{}", w.channel),
        Duration::from_millis(400),
    );
    let err = sink
        .send(&w.channel.to_string(), &msg, "p1")
        .await
        .expect_err("429");
    let SendError::RateLimited { retry_after, scope } = err else {
        panic!("{err:?}")
    };
    assert_eq!(scope, LimitScope::Route);
    assert!(
        (retry_after.as_secs_f64() - 0.4).abs() < 0.01,
        "{retry_after:?}"
    );
    tokio::time::sleep(retry_after).await;
    sink.send(&w.channel.to_string(), &msg, "p1")
        .await
        .expect("after waiting");
    assert_eq!(w.texts(), vec!["patient"]);
}

#[tokio::test]
async fn a_retried_send_with_the_same_nonce_creates_one_message() {
    let w = world().await;
    let sink = BotSink::new(w.rest());
    let msg = OutgoingMessage {
        text: "exactly once".into(),
        ..Default::default()
    };
    let a = sink
        .send(&w.channel.to_string(), &msg, "delivery-42")
        .await
        .expect("first");
    let b = sink
        .send(&w.channel.to_string(), &msg, "delivery-42")
        .await
        .expect("retry");
    assert_eq!(a, b);
    assert_eq!(w.texts(), vec!["exactly once"]);
}

#[tokio::test]
async fn a_webhook_send_answered_too_late_is_ambiguous_and_arrived_once() {
    let w = world().await;
    let (id, token) = w.fake().add_webhook(w.channel, "relay hook");
    let target = WebhookTarget::parse(&format!("https://discord.com/api/webhooks/{id}/{token}"))
        .expect("url");
    let rest =
        DiscordRest::new(&w.endpoints(), None).with_request_timeout(Duration::from_millis(300));
    let sink = WebhookSink::new(rest, target);
    w.fake().answer_late("webhooks/", Duration::from_secs(2));
    let msg = OutgoingMessage {
        text: "maybe twice".into(),
        ..Default::default()
    };
    let err = sink
        .send("", &msg, "k")
        .await
        .expect_err("no answer in time");
    assert!(
        matches!(&err, SendError::Ambiguous(why) if why.contains("after the webhook message was sent")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        w.texts(),
        vec!["maybe twice"],
        "the message did arrive, once"
    );
}

#[tokio::test]
async fn a_bot_send_answered_too_late_stays_retryable_and_its_nonce_keeps_it_single() {
    let w = world().await;
    let sink = BotSink::new(w.rest().with_request_timeout(Duration::from_millis(300)));
    w.fake().answer_late("channels/", Duration::from_secs(2));
    let msg = OutgoingMessage {
        text: "nonce saves it".into(),
        ..Default::default()
    };
    let chat = w.channel.to_string();
    let err = sink
        .send(&chat, &msg, "delivery-7")
        .await
        .expect_err("late");
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
    sink.send(&chat, &msg, "delivery-7").await.expect("retry");
    assert_eq!(w.texts(), vec!["nonce saves it"]);
}

#[tokio::test]
async fn a_webhook_that_cannot_be_reached_is_transient() {
    let w = world().await;
    let (id, token) = w.fake().add_webhook(w.channel, "relay hook");
    let target = WebhookTarget::parse(&format!("https://discord.com/api/webhooks/{id}/{token}"))
        .expect("url");
    let nowhere = DiscordEndpoints {
        api_url: "http://127.0.0.1:1".into(),
        gateway_url: "ws://127.0.0.1:1".into(),
    };
    let sink = WebhookSink::new(DiscordRest::new(&nowhere, None), target);
    let err = sink
        .send(
            "",
            &OutgoingMessage {
                text: "x".into(),
                ..Default::default()
            },
            "k",
        )
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn an_invalid_token_is_unauthorized() {
    let w = world().await;
    let rest = DiscordRest::new(&w.endpoints(), Some("not-a-token"));
    assert!(matches!(
        rest.current_user().await,
        Err(SendError::Unauthorized(_))
    ));
}

#[tokio::test]
async fn webhooks_send_with_a_per_message_name_and_avatar_then_edit_and_delete() {
    let w = world().await;
    let (id, token) = w.fake().add_webhook(w.channel, "relay hook");
    let target = WebhookTarget::parse(&format!("https://discord.com/api/webhooks/{id}/{token}"))
        .expect("url");
    let sink = WebhookSink::new(DiscordRest::new(&w.endpoints(), None), target);
    let author = Author {
        id: "7".into(),
        name: "Bob (Telegram)".into(),
        avatar_url: Some("https://example.com/bob.png".into()),
    };
    let sent = sink
        .send(
            "",
            &OutgoingMessage {
                text: "hi from tg".into(),
                author: Some(author),
                ..Default::default()
            },
            "k",
        )
        .await
        .expect("send");
    let stored = w.fake().messages(w.channel);
    assert_eq!(stored[0].author.name, "Bob (Telegram)");
    assert_eq!(
        w.fake().webhook_avatar(stored[0].id.get()).as_deref(),
        Some("https://example.com/bob.png")
    );
    sink.edit(
        "",
        &sent.message_id,
        &OutgoingMessage {
            text: "edited".into(),
            ..Default::default()
        },
    )
    .await
    .expect("edit");
    assert_eq!(w.texts(), vec!["edited"]);
    sink.delete("", &sent.message_id).await.expect("delete");
    assert!(w.texts().is_empty());

    // Names Discord would refuse in a webhook (any case) still send, looking the same.
    for name in ["Discord fan", "CLYDE", "Theresa", "@everyone: #1 ```"] {
        let author = Author {
            id: "8".into(),
            name: name.into(),
            avatar_url: None,
        };
        let message = OutgoingMessage {
            text: format!("from {name}").into(),
            author: Some(author),
            ..Default::default()
        };
        sink.send("", &message, "k").await.expect(name);
    }
    assert_eq!(w.texts().len(), 4);

    let wrong = WebhookSink::new(
        DiscordRest::new(&w.endpoints(), None),
        WebhookTarget {
            id,
            token: "wrong".into(),
        },
    );
    assert!(matches!(
        wrong
            .send(
                "",
                &OutgoingMessage {
                    text: "x".into(),
                    ..Default::default()
                },
                "k"
            )
            .await,
        Err(SendError::Unauthorized(_))
    ));
}

#[tokio::test]
async fn the_global_limit_is_never_exceeded() {
    let w = world().await;
    let rest = w.rest();
    let started = Instant::now();
    let sends = (0..60).map(|i| {
        let rest = rest.clone();
        let chat = w.channel.to_string();
        async move {
            rest.create_message(
                &chat,
                &OutgoingMessage {
                    text: format!("n{i}").into(),
                    ..Default::default()
                },
                &format!("g{i}"),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(sends).await;
    assert!(
        results.iter().all(Result::is_ok),
        "the fake answers a 51st request within a second with a global 429"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "the last 10 waited for the window"
    );
    assert_eq!(w.texts().len(), 60);
}

#[tokio::test]
async fn a_channel_watched_for_the_first_time_catches_up_from_when_it_was_first_watched() {
    let w = world().await;
    w.fake().user_posts(w.channel, w.user, "before the pair");
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The pair is created now; the gateway is down (no listener yet) while these arrive.
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    tokio::time::sleep(Duration::from_millis(20)).await;
    for i in 0..3 {
        w.fake()
            .user_posts(w.channel, w.user, &format!("missed {i}"));
    }
    let listener = DiscordListener::new(ListenerConfig {
        token: TOKEN.into(),
        endpoints: w.endpoints(),
        fast_identify: true,
    });
    listener.watch(w.channel, relay_discord::snowflake_at(created_ms));
    let (tx, rx) = mpsc::channel(1000);
    let stop = CancellationToken::new();
    tokio::spawn(listener.run(acknowledging(tx), stop.clone()));
    let mut l = Listening {
        events: rx,
        _stop: stop.drop_guard(),
    };
    for i in 0..3 {
        assert_eq!(next_text(&mut l).await, format!("missed {i}"));
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), l.events.recv())
            .await
            .is_err(),
        "nothing from before the pair"
    );
}

#[tokio::test]
async fn ten_files_go_in_one_message_and_eleven_are_refused() {
    let w = world().await;
    let (_listener, mut l) = listen(&w);
    wait_connected(&w).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A person's message with several files is one message with all of them.
    let files = (0..3)
        .map(|i| (["a.png", "b.pdf", "c.jpg"][i], vec![i as u8; 8]))
        .collect();
    w.fake()
        .user_posts_files(w.channel, w.user, "three files", files)
        .expect("posted");
    match tokio::time::timeout(Duration::from_secs(10), l.events.recv())
        .await
        .expect("in time")
        .expect("open")
    {
        SourceEvent::Created(m) => {
            let names: Vec<&str> = m.media.iter().map(|f| f.filename.as_str()).collect();
            assert_eq!(names, ["a.png", "b.pdf", "c.jpg"]);
            assert_eq!(m.text.text, "three files");
        }
        other => panic!("{other:?}"),
    }

    let files = |n: usize| -> Vec<OutgoingFile> {
        (0..n)
            .map(|i| OutgoingFile {
                filename: format!("{i}.png"),
                bytes: vec![i as u8; 4],
            })
            .collect()
    };
    let chat = w.channel.to_string();
    let ten = OutgoingMessage {
        text: "ten".into(),
        files: files(relay_discord::MAX_FILES),
        ..Default::default()
    };
    let sent = BotSink::new(w.rest())
        .send(&chat, &ten, "ten")
        .await
        .expect("ten");
    let stored = w.fake().messages(w.channel);
    let copy = stored
        .iter()
        .find(|m| m.id.to_string() == sent.message_id)
        .expect("stored");
    assert_eq!(copy.attachments.len(), 10);
    assert!(sent.others.is_empty());
    let eleven = OutgoingMessage {
        files: files(11),
        ..Default::default()
    };
    assert!(matches!(
        BotSink::new(w.rest()).send(&chat, &eleven, "eleven").await,
        Err(SendError::Rejected { .. })
    ));
}
