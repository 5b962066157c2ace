//! The fake Discord against the unmodified twilight clients: if twilight accepts what the
//! fake answers, Relay's tests against the fake mean something for the real platform.

use relay_fakes::discord::{FakeDiscord, GatewayCommand, RunningFake};
use std::time::Duration;
use twilight_gateway::queue::InMemoryQueue;
use twilight_gateway::{ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt};
use twilight_http::Client;
use twilight_model::channel::message::Embed;
use twilight_model::id::Id;

const TOKEN: &str = "bot-token-1";

struct World {
    fake: RunningFake,
    bot: u64,
    channel: u64,
    user: u64,
}

async fn world() -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDiscord::new();
    let bot = fake.add_bot(TOKEN, "relay-bot");
    let guild = fake.add_guild("guild", &[bot]);
    let channel = fake.add_channel(guild, "general");
    let user = fake.add_user("alice");
    fake.set_heartbeat_interval(300);
    let fake = fake.start("127.0.0.1:0").await.expect("start");
    World {
        fake,
        bot,
        channel,
        user,
    }
}

fn http(w: &World) -> Client {
    Client::builder()
        .proxy(w.fake.addr.to_string(), true)
        .ratelimiter(None)
        .token(TOKEN.to_owned())
        .build()
}

fn shard(w: &World) -> Shard {
    let config = ConfigBuilder::new(
        TOKEN.to_owned(),
        Intents::GUILD_MESSAGES | Intents::MESSAGE_CONTENT,
    )
    .proxy_url(w.fake.gateway_url())
    .queue(InMemoryQueue::new(0, 0, Duration::ZERO, 0))
    .build();
    Shard::with_config(ShardId::ONE, config)
}

/// The next message-created content, skipping other events.
async fn next_content(shard: &mut Shard) -> String {
    loop {
        let event = tokio::time::timeout(
            Duration::from_secs(10),
            shard.next_event(EventTypeFlags::all()),
        )
        .await
        .expect("an event in time")
        .expect("stream open")
        .expect("event parses");
        if let Event::MessageCreate(m) = event {
            return m.content.clone();
        }
    }
}

#[tokio::test]
async fn twilight_http_creates_replies_edits_and_deletes_messages() {
    let w = world().await;
    let client = http(&w);
    let me = client
        .current_user()
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    assert_eq!(me.id.get(), w.bot);

    let channel = Id::new(w.channel);
    let embed = Embed {
        author: None,
        color: Some(0xff),
        description: Some("d".into()),
        fields: vec![],
        flags: None,
        footer: None,
        image: None,
        kind: "rich".into(),
        provider: None,
        thumbnail: None,
        timestamp: None,
        title: Some("t".into()),
        url: None,
        video: None,
    };
    let first = client
        .create_message(channel)
        .content("hello")
        .embeds(&[embed])
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    let reply = client
        .create_message(channel)
        .content("re")
        .reply(first.id)
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    assert_eq!(reply.reference.and_then(|r| r.message_id), Some(first.id));
    let file = twilight_model::http::attachment::Attachment::from_bytes(
        "a.txt".into(),
        b"bytes".to_vec(),
        0,
    );
    let with_file = client
        .create_message(channel)
        .content("file")
        .attachments(&[file])
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    assert_eq!(with_file.attachments[0].filename, "a.txt");
    assert_eq!(
        w.fake
            .fake
            .attachment_bytes(with_file.attachments[0].id.get())
            .as_deref(),
        Some(&b"bytes"[..])
    );

    let edited = client
        .update_message(channel, first.id)
        .content(Some("hello, edited"))
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    assert!(edited.edited_timestamp.is_some());
    client
        .delete_message(channel, reply.id)
        .await
        .expect("delete");
    let stored: Vec<String> = w
        .fake
        .fake
        .messages(w.channel)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(stored, vec!["hello, edited", "file"]);

    let err = client
        .create_message(Id::new(12345))
        .content("x")
        .await
        .expect_err("unknown channel");
    assert!(
        err.to_string().contains("10003") || format!("{err:?}").contains("10003"),
        "{err:?}"
    );
}

#[tokio::test]
async fn enforce_nonce_through_payload_json_creates_one_message() {
    let w = world().await;
    let client = http(&w);
    let body = br#"{"content":"once","nonce":"relay-1","enforce_nonce":true}"#;
    let a = client
        .create_message(Id::new(w.channel))
        .payload_json(body)
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    let b = client
        .create_message(Id::new(w.channel))
        .payload_json(body)
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    assert_eq!(a.id, b.id);
    assert_eq!(w.fake.fake.messages(w.channel).len(), 1);
}

#[tokio::test]
async fn twilight_http_executes_webhooks_with_wait() {
    let w = world().await;
    let client = http(&w);
    let (wid, token) = w.fake.fake.add_webhook(w.channel, "hook");
    let msg = client
        .execute_webhook(Id::new(wid), &token)
        .content("via hook")
        .username("Alice (Telegram)")
        .wait()
        .await
        .expect("send")
        .model()
        .await
        .expect("parse");
    assert_eq!(msg.webhook_id.map(|i| i.get()), Some(wid));
    assert_eq!(msg.author.name, "Alice (Telegram)");
}

#[tokio::test]
async fn twilight_gateway_receives_dispatches_and_resumes_after_op7_and_a_dropped_connection() {
    let w = world().await;
    let mut shard = shard(&w);
    w.fake.fake.user_posts(w.channel, w.user, "before");
    // Nothing is dispatched before Identify; the first message arrives after READY.
    let ready = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(Ok(Event::Ready(r))) = shard.next_event(EventTypeFlags::all()).await {
                return r;
            }
        }
    })
    .await
    .expect("ready");
    assert_eq!(ready.user.id.get(), w.bot);
    w.fake.fake.user_posts(w.channel, w.user, "one");
    assert_eq!(next_content(&mut shard).await, "one");

    // Op 7: twilight reconnects and resumes; what was posted meanwhile is replayed.
    w.fake.fake.gateway_command(GatewayCommand::Reconnect);
    w.fake.fake.user_posts(w.channel, w.user, "two");
    assert_eq!(next_content(&mut shard).await, "two");

    // A dropped TCP connection: the same.
    w.fake.fake.gateway_command(GatewayCommand::Drop);
    w.fake.fake.user_posts(w.channel, w.user, "three");
    w.fake.fake.user_posts(w.channel, w.user, "four");
    assert_eq!(next_content(&mut shard).await, "three");
    assert_eq!(next_content(&mut shard).await, "four");
}
