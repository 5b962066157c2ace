//! Telegram user sessions with the unmodified grammers client against the fake MTProto DC,
//! the session stored in the real PostgreSQL: pushed messages, catch-up after downtime,
//! every kind of send (once, even when retried), and waits as typed errors.

use relay_core::AccountId;
use relay_core::messages::{
    LimitScope, MessageSink, OutgoingFile, OutgoingMessage, SendError, SourceEvent,
};
use relay_fakes::telegram_dc::{FakeDc, MediaKind, Peer, RunningDc};
use relay_store::crypto::Keyring;
use relay_store::testing::TestDatabase;
use relay_telegram::user::login::{self, PasswordStep};
use relay_telegram::user::{
    Connection, DcOverride, MtprotoConfig, UserListener, UserSession, UserSink,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct World {
    dc: RunningDc,
    /// Derefs to the `Database`; the throwaway database goes with the world.
    db: TestDatabase,
    keyring: Keyring,
    config: MtprotoConfig,
}

impl World {
    async fn new() -> Self {
        let dc = FakeDc::new()
            .start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("fake dc");
        let config = MtprotoConfig {
            api_id: 12345,
            api_hash: "0123456789abcdef0123456789abcdef".into(),
            dc: Some(DcOverride {
                addr: dc.addr(),
                key_half: dc.fake.key_half(),
            }),
        };
        let db = relay_store::testing::test_database().await.expect("db");
        Self {
            dc,
            db,
            keyring: Keyring::development(),
            config,
        }
    }

    fn fake(&self) -> &FakeDc {
        &self.dc.fake
    }

    /// Signs a Telegram user in and stores the session under a Relay account.
    async fn account(&self, phone: &str, name: &str) -> (AccountId, i64) {
        let telegram_id = self.fake().add_user(phone, name, None);
        let state = login::request_code(&self.config, phone)
            .await
            .expect("code");
        let code = self.fake().last_code(phone).expect("code sent");
        let PasswordStep::SignedIn(signed_in) =
            login::submit_code(&self.config, &state, phone, &code)
                .await
                .expect("sign in")
        else {
            panic!("no password expected");
        };
        let email = relay_core::credentials::Email::parse(&format!("{}@example.com", telegram_id))
            .expect("email");
        let owner = self
            .db
            .create_user(&email, "hash", relay_core::Role::User)
            .await
            .expect("user")
            .id;
        let login_id = self
            .db
            .start_telegram_login(
                &self.keyring,
                owner,
                phone,
                b"state",
                chrono::Utc::now() + chrono::Duration::minutes(5),
            )
            .await
            .expect("login");
        let guard = self
            .db
            .lock_telegram_login(&self.keyring, owner, login_id)
            .await
            .expect("lock");
        let (account, _) = guard
            .complete(
                &self.keyring,
                &signed_in.display_name,
                &telegram_id.to_string(),
                &signed_in.session,
            )
            .await
            .expect("complete");
        (account.id, telegram_id)
    }

    async fn connect(&self, account: AccountId) -> Connection {
        let store = relay_store::PgSessionStore::new((*self.db).clone(), self.keyring.clone());
        let session = UserSession::load(Arc::new(store), account)
            .await
            .expect("session");
        Connection::open(&self.config, session)
    }
}

struct Listening {
    events: mpsc::Receiver<SourceEvent>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Listening {
    /// The listener, with a stand-in for the router that stores each batch's position
    /// (as the router does with the batch's rows) before passing its events on.
    fn start(world: &World, account: AccountId, connection: Connection) -> Self {
        Self::reading(world, account, connection, &[])
    }

    fn reading(
        world: &World,
        account: AccountId,
        connection: Connection,
        chats: &[String],
    ) -> Self {
        let (tx, events) = mpsc::channel(1000);
        let (source, mut batches) = relay_core::source::SourceSender::channel(1000);
        let db = world.db.clone();
        tokio::spawn(async move {
            while let Some(mut batch) = batches.recv().await {
                let positions: Vec<_> = batch.position.map(|p| (account, p)).into_iter().collect();
                db.record_source_events(&[], &positions)
                    .await
                    .expect("recorded");
                for event in std::mem::take(&mut batch.events) {
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                batch.acknowledge();
            }
        });
        let shutdown = CancellationToken::new();
        let listener = UserListener::new(connection).reading(chats);
        let task = tokio::spawn(listener.run(source, shutdown.clone()));
        Self {
            events,
            shutdown,
            task,
        }
    }

    /// The process dies: nothing is saved on the way out.
    async fn crash(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    async fn next(&mut self) -> SourceEvent {
        tokio::time::timeout(Duration::from_secs(15), self.events.recv())
            .await
            .expect("an event in time")
            .expect("listener running")
    }

    async fn created_texts(&mut self, n: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while out.len() < n {
            if let SourceEvent::Created(m) = self.next().await {
                out.push((m.chat_id, m.text.text));
            }
        }
        out
    }

    /// Nothing more arrives for a while.
    async fn quiet(&mut self) {
        let extra = tokio::time::timeout(Duration::from_millis(1500), self.events.recv()).await;
        assert!(extra.is_err(), "unexpected event: {extra:?}");
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.expect("listener ended cleanly");
    }
}

fn channel_chat(id: i64) -> String {
    (-1_000_000_000_000 - id).to_string()
}

#[tokio::test]
async fn pushed_messages_arrive_and_a_restarted_session_catches_up_on_what_it_missed() {
    let world = World::new().await;
    let (alice, alice_id) = world.account("+15550100", "Alice").await;
    let bob_id = world.fake().add_user("+15550111", "Bob", None);
    let channel = world.fake().add_channel("News", false, &[bob_id, alice_id]);

    let mut listening = Listening::start(&world, alice, world.connect(alice).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    world
        .fake()
        .post(Peer::Channel(channel), bob_id, "first post");
    world
        .fake()
        .post(Peer::User(alice_id), bob_id, "hello Alice");
    let got = listening.created_texts(2).await;
    assert_eq!(
        got,
        [
            (channel_chat(channel), "first post".to_owned()),
            (bob_id.to_string(), "hello Alice".to_owned()),
        ]
    );
    world
        .fake()
        .edit(Peer::Channel(channel), 1, "first post, edited");
    match listening.next().await {
        SourceEvent::Edited(m) => assert_eq!(m.text.text, "first post, edited"),
        other => panic!("expected an edit, got {other:?}"),
    }
    listening.stop().await;

    // While Relay is away: channel posts and private messages pile up.
    for i in 1..=3 {
        world
            .fake()
            .post(Peer::Channel(channel), bob_id, &format!("missed post {i}"));
    }
    world
        .fake()
        .post(Peer::User(alice_id), bob_id, "missed message");

    let mut listening = Listening::start(&world, alice, world.connect(alice).await);
    let mut got = listening.created_texts(4).await;
    // Each chat in order; the two chats' catch-ups may interleave.
    got.sort_by_key(|(chat, _)| !chat.starts_with('-'));
    assert_eq!(
        got,
        [
            (channel_chat(channel), "missed post 1".to_owned()),
            (channel_chat(channel), "missed post 2".to_owned()),
            (channel_chat(channel), "missed post 3".to_owned()),
            (bob_id.to_string(), "missed message".to_owned()),
        ]
    );
    listening.quiet().await;

    // A dropped connection (Telegram restarting, a network cut) loses nothing either.
    world.fake().disconnect_all();
    world
        .fake()
        .post(Peer::Channel(channel), bob_id, "after the cut");
    assert_eq!(
        listening.created_texts(1).await,
        [(channel_chat(channel), "after the cut".to_owned())]
    );
    listening.quiet().await;
    listening.stop().await;

    let (pts,): (Option<i32>,) =
        sqlx::query_as("SELECT pts FROM telegram_sessions WHERE account_id = $1")
            .bind(alice.as_uuid())
            .fetch_one(world.db.pool())
            .await
            .expect("row");
    assert!(pts.unwrap_or_default() > 0, "the update state is saved");
}

#[tokio::test]
async fn a_channel_read_for_the_first_time_is_caught_up_after_a_crash() {
    let world = World::new().await;
    let (alice, alice_id) = world.account("+15550100", "Alice").await;
    let bob_id = world.fake().add_user("+15550111", "Bob", None);
    let channel = world.fake().add_channel("News", false, &[bob_id, alice_id]);
    world
        .fake()
        .post(Peer::Channel(channel), bob_id, "old post");
    // The session knows the channel (as after a login that listed the dialogs), but has
    // no position in it.
    let hash: i64 = world.fake().channel_access_hash(channel);
    world
        .db
        .save_telegram_peers(
            alice,
            &[relay_store::StoredPeer {
                dialog_id: -1_000_000_000_000 - channel,
                kind: "channel".into(),
                access_hash: Some(hash),
                is_self: false,
            }],
        )
        .await
        .expect("peer");

    let listening = Listening::reading(
        &world,
        alice,
        world.connect(alice).await,
        &[channel_chat(channel)],
    );
    let mut recorded = None;
    for _ in 0..100 {
        let (pts,): (Option<i32>,) = sqlx::query_as(
            "SELECT max(pts) FROM telegram_channel_states WHERE account_id = $1 AND channel_id = $2",
        )
        .bind(alice.as_uuid())
        .bind(channel)
        .fetch_one(world.db.pool())
        .await
        .expect("row");
        recorded = pts;
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        recorded,
        Some(1),
        "the channel's position when reading started"
    );
    listening.crash().await;

    for i in 1..=3 {
        world
            .fake()
            .post(Peer::Channel(channel), bob_id, &format!("while down {i}"));
    }
    let mut listening = Listening::start(&world, alice, world.connect(alice).await);
    let got = listening.created_texts(3).await;
    let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["while down 1", "while down 2", "while down 3"]);
    listening.quiet().await;
    listening.stop().await;
}

fn file(name: &str, size: usize) -> OutgoingFile {
    OutgoingFile {
        filename: name.to_owned(),
        bytes: (0..size).map(|i| (i % 251) as u8).collect(),
    }
}

fn text(t: &str) -> OutgoingMessage {
    OutgoingMessage {
        text: t.into(),
        ..OutgoingMessage::default()
    }
}

/// Text with the formatting Discord markdown gives it.
fn markdown(t: &str) -> OutgoingMessage {
    OutgoingMessage {
        text: relay_core::format::from_discord_markdown(t),
        ..OutgoingMessage::default()
    }
}

#[tokio::test]
async fn every_kind_of_send_arrives_once_and_waits_come_back_typed() {
    let world = World::new().await;
    let (alice, alice_id) = world.account("+15550100", "Alice").await;
    let channel = world.fake().add_channel("Mirror", false, &[alice_id]);
    let chat = channel_chat(channel);

    // The session learns the channel (and its access hash) from an update, as in real life.
    let connection = world.connect(alice).await;
    let sink = UserSink::new(&connection);
    let mut listening = Listening::start(&world, alice, connection);
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.fake().post(Peer::Channel(channel), alice_id, "hello");
    listening.created_texts(1).await;

    // Text with formatting, sent twice under one delivery key: one message.
    let sent = sink
        .send(&chat, &markdown("**bold** and _italic_"), "delivery-1")
        .await
        .expect("send");
    let again = sink
        .send(&chat, &markdown("**bold** and _italic_"), "delivery-1")
        .await
        .expect("retry");
    assert_eq!(sent, again, "a retried delivery is the same message");
    let messages = world.fake().messages(Peer::Channel(channel));
    let formatted: Vec<_> = messages
        .iter()
        .filter(|m| m.text == "bold and italic")
        .collect();
    assert_eq!(formatted.len(), 1);
    let kinds: Vec<&str> = formatted[0]
        .entities
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["bold", "italic"]);

    // Each media kind, as Telegram shows it.
    for (name, kind) in [
        ("photo.jpg", MediaKind::Photo),
        ("clip.mp4", MediaKind::Video),
        ("note.ogg", MediaKind::Voice),
        ("cat.webp", MediaKind::Sticker),
        ("report.pdf", MediaKind::Document),
    ] {
        let message = OutgoingMessage {
            text: if kind == MediaKind::Sticker {
                String::new()
            } else {
                format!("a {name}")
            }
            .into(),
            files: vec![file(name, 600 * 1024)],
            ..OutgoingMessage::default()
        };
        let sent = sink
            .send(&chat, &message, &format!("media-{name}"))
            .await
            .expect(name);
        let stored = world
            .fake()
            .messages(Peer::Channel(channel))
            .into_iter()
            .find(|m| m.id.to_string() == sent.message_id)
            .expect("stored");
        let media = stored.media.expect("media");
        assert_eq!(media.kind, kind, "{name}");
        assert_eq!(
            media.bytes,
            file(name, 600 * 1024).bytes,
            "{name} arrives whole"
        );
    }

    // An album is one grouped message, its caption on the first item, sent once.
    let album = OutgoingMessage {
        text: "three at once".into(),
        files: vec![
            file("a.jpg", 1000),
            file("b.jpg", 2000),
            file("c.mp4", 3000),
        ],
        ..OutgoingMessage::default()
    };
    let first = sink.send(&chat, &album, "album-1").await.expect("album");
    let again = sink
        .send(&chat, &album, "album-1")
        .await
        .expect("album retry");
    assert_eq!(first, again);
    let grouped: Vec<_> = world
        .fake()
        .messages(Peer::Channel(channel))
        .into_iter()
        .filter(|m| m.grouped_id.is_some())
        .collect();
    assert_eq!(grouped.len(), 3, "{grouped:?}");
    assert!(
        grouped
            .iter()
            .all(|m| m.grouped_id == grouped[0].grouped_id)
    );
    assert_eq!(grouped[0].text, "three at once");
    assert_eq!(grouped[0].id.to_string(), first.message_id);
    let others: Vec<String> = grouped[1..].iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        first.others, others,
        "every message of the album is reported"
    );
    // Telegram refuses an album mixing documents with photos.
    let mixed = OutgoingMessage {
        files: vec![file("d.jpg", 100), file("e.pdf", 100)],
        ..OutgoingMessage::default()
    };
    match sink.send(&chat, &mixed, "album-2").await {
        Err(SendError::Rejected { code, .. }) => assert_eq!(code, "GROUPED_MEDIA_INVALID"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // A reply, an edit and a delete.
    let reply = OutgoingMessage {
        reply_to: Some(sent.message_id.clone()),
        ..text("replying")
    };
    let reply = sink.send(&chat, &reply, "reply-1").await.expect("reply");
    sink.edit(&chat, &reply.message_id, &text("replying, edited"))
        .await
        .expect("edit");
    sink.delete(&chat, &sent.message_id).await.expect("delete");
    let all = world.fake().messages(Peer::Channel(channel));
    let find = |id: &str| {
        all.iter()
            .find(|m| m.id.to_string() == id)
            .expect("message")
    };
    assert_eq!(
        find(&reply.message_id).reply_to.map(|r| r.to_string()),
        Some(sent.message_id.clone())
    );
    assert!(find(&reply.message_id).edited);
    assert_eq!(find(&reply.message_id).text, "replying, edited");
    assert!(find(&sent.message_id).deleted);

    // Waits come back at once as typed errors: FLOOD_WAIT for the account, SLOWMODE for the chat.
    world
        .fake()
        .force_error("messages.sendMessage", 420, "FLOOD_WAIT_30", 1);
    let started = std::time::Instant::now();
    let err = sink
        .send(&chat, &text("too fast"), "flood-1")
        .await
        .expect_err("flood");
    assert_eq!(
        err,
        SendError::RateLimited {
            retry_after: Duration::from_secs(30),
            scope: LimitScope::Account
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no sleeping inside the send"
    );
    world
        .fake()
        .force_error("messages.sendMessage", 420, "SLOWMODE_WAIT_10", 1);
    let err = sink
        .send(&chat, &text("too fast"), "flood-1")
        .await
        .expect_err("slowmode");
    assert_eq!(
        err,
        SendError::RateLimited {
            retry_after: Duration::from_secs(10),
            scope: LimitScope::Route
        }
    );
    sink.send(&chat, &text("too fast"), "flood-1")
        .await
        .expect("after the wait");

    // Refusals: a chat the session never saw, a text too long, a revoked session.
    assert!(matches!(
        sink.send("-1000000000999", &text("x"), "k").await,
        Err(SendError::NotFound(_))
    ));
    assert!(matches!(
        sink.send(&chat, &text(&"x".repeat(5000)), "k").await,
        Err(SendError::Rejected { .. })
    ));
    world.fake().revoke(alice_id);
    assert!(matches!(
        sink.send(&chat, &text("x"), "k2").await,
        Err(SendError::Unauthorized(_))
    ));
    listening.stop().await;
}

#[tokio::test]
async fn formatting_comes_in_and_goes_out_as_entities_with_the_literals_intact() {
    use relay_core::format::{FormattedText, Span, Style};
    use relay_fakes::telegram_dc::FakeEntity;
    let world = World::new().await;
    let (alice, alice_id) = world.account("+15550100", "Alice").await;
    let bob_id = world.fake().add_user("+15550111", "Bob", None);
    // Alice created the channel: she may post in it.
    let channel = world.fake().add_channel("News", false, &[alice_id, bob_id]);
    let connection = world.connect(alice).await;
    let sink = UserSink::new(&connection);
    let mut listening = Listening::start(&world, alice, connection);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // UTF-16 offsets in entities (the emoji is two units), UTF-8 bytes in spans (four).
    let text = "😀 bold 2*3*4 = 24\nfirst line\n<b>tag</b>";
    let entities = vec![FakeEntity::new("bold", 3, 4), FakeEntity::new("code", 8, 5)];
    let chat = Peer::Channel(channel);
    world
        .fake()
        .post_formatted(chat, bob_id, text, entities.clone());
    let SourceEvent::Created(m) = listening.next().await else {
        panic!("expected a message");
    };
    let spans = vec![Span::new(5, 9, Style::Bold), Span::new(10, 15, Style::Code)];
    assert_eq!(m.text, FormattedText::new(text, spans));
    // Out as the same text and entities: nothing parsed as markdown.
    let copy = OutgoingMessage {
        text: m.text,
        ..OutgoingMessage::default()
    };
    let sent = sink
        .send(&channel_chat(channel), &copy, "formatted")
        .await
        .expect("send");
    let stored = world.fake().messages(chat);
    let stored = stored
        .iter()
        .find(|m| m.id.to_string() == sent.message_id)
        .expect("sent");
    assert_eq!((stored.text.as_str(), &stored.entities), (text, &entities));
    listening.stop().await;
}

#[tokio::test]
async fn a_messages_file_is_fetched_through_the_session_up_to_the_cap() {
    use relay_fakes::telegram_dc::FakeMedia;
    use relay_telegram::user::MessageFile;
    let world = World::new().await;
    let (alice, alice_id) = world.account("+15550100", "Alice").await;
    let bob_id = world.fake().add_user("+15550111", "Bob", None);
    let channel = world
        .fake()
        .add_channel("Files", false, &[alice_id, bob_id]);
    let connection = world.connect(alice).await;
    let sink = UserSink::new(&connection);
    let mut listening = Listening::start(&world, alice, connection);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 1.2 MB: three chunks of getFile.
    let bytes: Vec<u8> = (0..1_200_000).map(|i| (i % 251) as u8).collect();
    let mut media = FakeMedia::new(MediaKind::Document, bytes.clone());
    media.file_name = Some("report.pdf".into());
    let id = world
        .fake()
        .post_media(Peer::Channel(channel), bob_id, "the report", media);
    let SourceEvent::Created(m) = listening.next().await else {
        panic!("expected a message");
    };
    // The listener only names the file; nothing is downloaded when the message arrives.
    assert!(matches!(
        m.media[0].source,
        relay_core::messages::MediaSource::TelegramUserMessage { message_id, .. } if message_id == id
    ));
    assert!(!world.fake().calls().iter().any(|c| c == "upload.getFile"));
    let chat_id: i64 = channel_chat(channel).parse().expect("id");

    assert_eq!(
        sink.message_file(chat_id, id, 2_000_000)
            .await
            .expect("file"),
        MessageFile::Bytes(bytes)
    );
    let fetched = world
        .fake()
        .calls()
        .iter()
        .filter(|c| *c == "upload.getFile")
        .count();
    assert_eq!(fetched, 3);
    // Declared over the cap: refused before any chunk is read.
    assert_eq!(
        sink.message_file(chat_id, id, 1_000_000)
            .await
            .expect("too large"),
        MessageFile::TooLarge { size: 1_200_000 }
    );
    let after = world
        .fake()
        .calls()
        .iter()
        .filter(|c| *c == "upload.getFile")
        .count();
    assert_eq!(after, 3);
    // A message that is not there.
    assert!(matches!(
        sink.message_file(chat_id, id + 100, 2_000_000).await,
        Err(SendError::NotFound(_))
    ));
    listening.stop().await;
}

#[tokio::test]
async fn an_album_is_reported_as_one_message_even_after_a_crash_while_it_was_held() {
    let world = World::new().await;
    let (alice, alice_id) = world.account("+15550100", "Alice").await;
    let bob_id = world.fake().add_user("+15550111", "Bob", None);
    let channel = world
        .fake()
        .add_channel("Photos", false, &[bob_id, alice_id]);
    let photo = |byte| relay_fakes::telegram_dc::FakeMedia::new(MediaKind::Photo, vec![byte; 10]);

    let mut listening = Listening::start(&world, alice, world.connect(alice).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.fake().post(Peer::Channel(channel), bob_id, "before");
    let ids = world.fake().post_album(
        Peer::Channel(channel),
        bob_id,
        vec![
            (String::new(), photo(1)),
            ("a caption".to_owned(), photo(2)),
            (String::new(), photo(3)),
        ],
    );
    world.fake().post(Peer::Channel(channel), bob_id, "after");
    assert_eq!(listening.created_texts(1).await[0].1, "before");
    let SourceEvent::Created(album) = listening.next().await else {
        panic!("expected the album");
    };
    assert_eq!(album.message_id, ids[0].to_string());
    let others: Vec<String> = ids[1..].iter().map(|id| id.to_string()).collect();
    assert_eq!(album.grouped_ids, others);
    assert_eq!(album.text.text, "a caption");
    assert_eq!(album.media.len(), 3);
    assert_eq!(listening.created_texts(1).await[0].1, "after");

    // An album at the end is held for a moment; a crash then loses nothing: its members
    // were not passed yet, so the session reads them again.
    let ids = world.fake().post_album(
        Peer::Channel(channel),
        bob_id,
        vec![("held".to_owned(), photo(4)), (String::new(), photo(5))],
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    listening.crash().await;
    let mut listening = Listening::start(&world, alice, world.connect(alice).await);
    let SourceEvent::Created(album) = listening.next().await else {
        panic!("expected the album again");
    };
    assert_eq!(album.message_id, ids[0].to_string());
    assert_eq!(album.grouped_ids, vec![ids[1].to_string()]);
    assert_eq!(album.text.text, "held");
    listening.quiet().await;
    listening.stop().await;
}
