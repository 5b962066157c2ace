//! The unmodified grammers 0.11 client against the fake Telegram DC: login (code, 2FA,
//! errors), pushed updates, catch-up after a disconnect, sending text/media/albums, edit,
//! delete, download, forced errors, revocation and random_id dedupe.

use grammers_client::media::InputMedia;
use grammers_client::message::InputMessage;
use grammers_client::update::Update;
use grammers_client::{Client, InvocationError, SignInError};
use grammers_mtsender::{ConnectionParams, NoRetries, SenderPool, UpdatesConfiguration};
use grammers_session::SessionData;
use grammers_session::storages::MemorySession;
use grammers_session::types::{DcOption, PeerId, PeerRef};
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use relay_fakes::telegram_dc::{FakeDc, FakeMedia, MediaKind, Peer, RunningDc, device_auth_key};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const API_ID: i32 = 12345;
const API_HASH: &str = "0123456789abcdef";
const PHONE: &str = "+1 555-000-1234";

struct Device {
    session: Arc<MemorySession>,
    client: Client,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
    runner: JoinHandle<()>,
}

impl Drop for Device {
    fn drop(&mut self) {
        self.runner.abort();
    }
}

async fn start() -> (FakeDc, RunningDc) {
    let fake = FakeDc::new();
    let running = fake
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("fake DC starts");
    (fake, running)
}

/// A client whose every DC option points at the fake, with this device key.
fn device(running: &RunningDc, key: [u8; 256], retries: bool) -> Device {
    let port = running.addr().port();
    let mut data = SessionData {
        home_dc: 2,
        ..SessionData::default()
    };
    for id in 1..=5 {
        data.dc_options.insert(
            id,
            DcOption {
                id,
                ipv4: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
                ipv6: SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0),
                auth_key: Some(key),
            },
        );
    }
    with_session(Arc::new(MemorySession::from(data)), retries)
}

/// A client (a restarted process) on an existing session.
fn with_session(session: Arc<MemorySession>, retries: bool) -> Device {
    let pool = if retries {
        SenderPool::new(Arc::clone(&session), API_ID)
    } else {
        let params = ConnectionParams {
            retry_policy: Box::new(NoRetries),
            ..Default::default()
        };
        SenderPool::with_configuration(Arc::clone(&session), API_ID, params)
    };
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    Device {
        session,
        client,
        updates: Some(pool.updates),
        runner,
    }
}

/// A fresh device of the user with `phone`, logged in by code.
async fn logged_in(fake: &FakeDc, running: &RunningDc, phone: &str) -> Device {
    let device = device(running, device_auth_key(&fake.key_half()), true);
    let token = device
        .client
        .request_login_code(phone, API_HASH)
        .await
        .expect("code sent");
    let code = fake.last_code(phone).expect("a code");
    device
        .client
        .sign_in(&token, &code)
        .await
        .expect("signed in");
    device
}

async fn next_message(stream: &mut grammers_client::client::UpdateStream) -> (String, Update) {
    loop {
        let update = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an update in time")
            .expect("update stream works");
        let text = match &update {
            Update::NewMessage(m) | Update::MessageEdited(m) => m.text().to_owned(),
            _ => continue,
        };
        return (text, update);
    }
}

fn channel_ref(id: i64) -> PeerRef {
    PeerId::channel(id).expect("channel id").to_ambient_ref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_code_wrong_code_and_get_me() {
    let (fake, running) = start().await;
    let user = fake.add_user(PHONE, "Alice", None);
    let device = device(&running, device_auth_key(&fake.key_half()), true);
    let client = &device.client;
    assert!(!client.is_authorized().await.expect("getState answers"));

    let token = client
        .request_login_code(PHONE, API_HASH)
        .await
        .expect("sent");
    let code = fake.last_code(PHONE).expect("code");
    assert_eq!(code.len(), 5);
    let wrong = if code == "00000" { "11111" } else { "00000" };
    assert!(matches!(
        client.sign_in(&token, wrong).await,
        Err(SignInError::InvalidCode)
    ));
    let me = client.sign_in(&token, &code).await.expect("signed in");
    assert_eq!(me.id().bare_id(), Some(user));
    assert!(client.is_authorized().await.expect("getState"));
    let again = client.get_me().await.expect("get_me");
    assert_eq!(again.id().bare_id(), Some(user));
    assert_eq!(fake.connected_sessions(user), 1);

    let calls = fake.calls();
    for method in [
        "help.getConfig",
        "auth.sendCode",
        "auth.signIn",
        "updates.getState",
    ] {
        assert!(calls.iter().any(|c| c == method), "{method} in {calls:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_two_factor_password() {
    let (fake, running) = start().await;
    let user = fake.add_user(PHONE, "Bob", Some("secret"));
    let device = device(&running, device_auth_key(&fake.key_half()), true);
    let client = &device.client;
    let token = client
        .request_login_code(PHONE, API_HASH)
        .await
        .expect("sent");
    let code = fake.last_code(PHONE).expect("code");
    let Err(SignInError::PasswordRequired(password)) = client.sign_in(&token, &code).await else {
        panic!("2FA expected");
    };
    let Err(SignInError::InvalidPassword(password)) =
        client.check_password(password, "wrong").await
    else {
        panic!("the wrong password must fail");
    };
    let me = client
        .check_password(password, "secret")
        .await
        .expect("the right password logs in");
    assert_eq!(me.id().bare_id(), Some(user));
    assert!(client.is_authorized().await.expect("getState"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_errors() {
    let (fake, running) = start().await;
    fake.add_user(PHONE, "Carol", None);
    let device = device(&running, device_auth_key(&fake.key_half()), true);
    let client = &device.client;

    match client.request_login_code("12ab", API_HASH).await {
        Err(InvocationError::Rpc(e)) => {
            assert_eq!((e.code, e.name.as_str()), (400, "PHONE_NUMBER_INVALID"))
        }
        Err(other) => panic!("expected PHONE_NUMBER_INVALID, got {other:?}"),
        Ok(_) => panic!("an invalid phone got a code"),
    }

    let token = client
        .request_login_code(PHONE, API_HASH)
        .await
        .expect("sent");
    let code = fake.last_code(PHONE).expect("code");
    fake.expire_codes();
    assert!(matches!(
        client.sign_in(&token, &code).await,
        Err(SignInError::InvalidCode)
    ));

    // A code requested by one device key can't be used by another.
    let token = client
        .request_login_code(PHONE, API_HASH)
        .await
        .expect("sent");
    let code = fake.last_code(PHONE).expect("code");
    let other = self::device(&running, device_auth_key(&fake.key_half()), true);
    assert!(matches!(
        other.client.sign_in(&token, &code).await,
        Err(SignInError::InvalidCode)
    ));

    // A valid phone without an account gets a code, then sign-up is required.
    let token = client
        .request_login_code("+44 7700 900123", API_HASH)
        .await
        .expect("sent");
    let code = fake.last_code("447700900123").expect("code");
    assert!(matches!(
        client.sign_in(&token, &code).await,
        Err(SignInError::SignUpRequired)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_login_and_pushed_messages() {
    let (fake, running) = start().await;
    let bot = fake.add_bot("123:abc", "relay_bot");
    let alice = fake.add_user(PHONE, "Alice", None);
    let channel = fake.add_channel("News", false, &[alice, bot]);
    let group = fake.add_group("Friends", &[alice, bot]);

    let mut device = device(&running, device_auth_key(&fake.key_half()), true);
    let me = device
        .client
        .bot_sign_in("123:abc", API_HASH)
        .await
        .expect("bot login");
    assert_eq!(me.id().bare_id(), Some(bot));
    let rx = device.updates.take().expect("updates");
    let mut stream = device
        .client
        .stream_updates(rx, UpdatesConfiguration { catch_up: false })
        .await
        .expect("stream");

    fake.post(Peer::Channel(channel), alice, "channel post");
    let (text, update) = next_message(&mut stream).await;
    assert_eq!(text, "channel post");
    let Update::NewMessage(m) = update else {
        panic!("new message expected")
    };
    assert_eq!(m.peer_id(), PeerId::channel(channel).expect("id"));

    fake.post(Peer::Chat(group), alice, "group hello");
    assert_eq!(next_message(&mut stream).await.0, "group hello");
    fake.post(Peer::User(bot), alice, "private hello");
    let (text, update) = next_message(&mut stream).await;
    assert_eq!(text, "private hello");
    let Update::NewMessage(m) = update else {
        panic!("new message expected")
    };
    assert_eq!(m.sender_id(), PeerId::user(alice));

    let photo = vec![9u8; 700_000];
    let id = fake.post_media(
        Peer::Channel(channel),
        alice,
        "pic",
        FakeMedia::new(MediaKind::Photo, photo.clone()),
    );
    let (text, update) = next_message(&mut stream).await;
    assert_eq!(text, "pic");
    let Update::NewMessage(m) = update else {
        panic!("new message expected")
    };
    assert_eq!(m.id(), id);
    let media = m.media().expect("media");
    let mut download = device.client.iter_download(&media);
    let mut bytes = Vec::new();
    while let Some(chunk) = download.next().await.expect("chunk") {
        bytes.extend(chunk);
    }
    assert_eq!(bytes, photo);

    fake.edit(Peer::Channel(channel), id, "pic, edited");
    let (text, update) = next_message(&mut stream).await;
    assert_eq!(text, "pic, edited");
    assert!(matches!(update, Update::MessageEdited(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_after_disconnect_loses_and_duplicates_nothing() {
    let (fake, running) = start().await;
    let alice = fake.add_user(PHONE, "Alice", None);
    let bob = fake.add_user("+15550009999", "Bob", None);
    let channel = fake.add_channel("Group", true, &[bob, alice]);
    let mut device = logged_in(&fake, &running, PHONE).await;
    let rx = device.updates.take().expect("updates");
    let mut stream = device
        .client
        .stream_updates(rx, UpdatesConfiguration { catch_up: false })
        .await
        .expect("stream");

    fake.post(Peer::Channel(channel), bob, "c1");
    fake.post(Peer::User(alice), bob, "p1");
    let mut seen = vec![
        next_message(&mut stream).await.0,
        next_message(&mut stream).await.0,
    ];

    fake.disconnect_all();
    tokio::time::sleep(Duration::from_millis(100)).await;
    fake.post(Peer::Channel(channel), bob, "c2");
    fake.post(Peer::User(alice), bob, "p2");
    fake.post(Peer::User(alice), bob, "p3");
    fake.post(Peer::Channel(channel), bob, "c3");
    // Something must make the client notice; a call reconnects at the latest.
    let _ = device.client.is_authorized().await;
    for _ in 0..4 {
        seen.push(next_message(&mut stream).await.0);
    }
    fake.post(Peer::User(alice), bob, "p4");
    seen.push(next_message(&mut stream).await.0);
    let extra = tokio::time::timeout(Duration::from_millis(800), stream.next()).await;
    assert!(extra.is_err(), "no duplicates: {extra:?}");
    seen.sort();
    assert_eq!(seen, ["c1", "c2", "c3", "p1", "p2", "p3", "p4"]);
    assert!(fake.calls().iter().any(|c| c == "updates.getDifference"));
}

async fn upload(client: &Client, bytes: &[u8], name: &str) -> grammers_client::media::Uploaded {
    let mut cursor = std::io::Cursor::new(bytes.to_vec());
    client
        .upload_stream(&mut cursor, bytes.len(), name.to_owned())
        .await
        .expect("uploaded")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_text_media_albums_edits_and_deletes() {
    let (fake, running) = start().await;
    let alice = fake.add_user(PHONE, "Alice", None);
    let bob = fake.add_user("+15550009999", "Bob", None);
    let channel = fake.add_channel("Team", true, &[bob, alice]);
    let device = logged_in(&fake, &running, PHONE).await;
    let bob_device = logged_in(&fake, &running, "+15550009999").await;
    let client = &device.client;
    let peer = channel_ref(channel);

    let entities = vec![
        tl::types::MessageEntityBold {
            offset: 0,
            length: 5,
        }
        .into(),
        tl::types::MessageEntityTextUrl {
            offset: 6,
            length: 4,
            url: "https://example.com".into(),
        }
        .into(),
    ];
    let sent = client
        .send_message(
            peer,
            InputMessage::new()
                .text("Hello link")
                .fmt_entities(entities),
        )
        .await
        .expect("sent");
    assert_eq!(sent.text(), "Hello link");
    let stored = fake.messages(Peer::Channel(channel));
    let text = stored.last().expect("stored");
    assert_eq!((text.id, text.from), (sent.id(), alice));
    assert_eq!(text.entities[0].kind, "bold");
    assert_eq!(text.entities[1].url.as_deref(), Some("https://example.com"));

    let photo = vec![1u8; 600 * 1024];
    let uploaded = upload(client, &photo, "photo.jpg").await;
    let sent_photo = client
        .send_message(peer, InputMessage::new().text("a photo").photo(uploaded))
        .await
        .expect("photo sent");
    let doc = b"%PDF-1.4 fake".to_vec();
    let uploaded = upload(client, &doc, "report.pdf").await;
    client
        .send_message(peer, InputMessage::new().text("a doc").document(uploaded))
        .await
        .expect("document sent");
    let stored = fake.messages(Peer::Channel(channel));
    let [.., p, d] = &stored[..] else {
        panic!("two media messages")
    };
    assert_eq!(p.id, sent_photo.id());
    let media = p.media.as_ref().expect("photo");
    assert_eq!(
        (media.kind, media.bytes.len()),
        (MediaKind::Photo, photo.len())
    );
    let media = d.media.as_ref().expect("document");
    assert_eq!(media.kind, MediaKind::Document);
    assert_eq!(media.bytes, doc);
    assert_eq!(media.file_name.as_deref(), Some("report.pdf"));

    let one = upload(client, &[2u8; 1000], "1.jpg").await;
    let two = upload(client, &[3u8; 2000], "2.jpg").await;
    let album = client
        .send_album(
            peer,
            vec![
                InputMedia::new().caption("first").photo(one),
                InputMedia::new().caption("second").photo(two),
            ],
        )
        .await
        .expect("album sent");
    assert_eq!(album.len(), 2);
    assert!(album.iter().all(Option::is_some));
    let stored = fake.messages(Peer::Channel(channel));
    let [.., a, b] = &stored[..] else {
        panic!("album stored")
    };
    assert!(a.grouped_id.is_some());
    assert_eq!(a.grouped_id, b.grouped_id);
    assert_eq!((a.text.as_str(), b.text.as_str()), ("first", "second"));

    client
        .edit_message(peer, sent.id(), "Hello again")
        .await
        .expect("edited");
    let deleted = client
        .delete_messages(peer, &[sent_photo.id()])
        .await
        .expect("deleted");
    assert_eq!(deleted, 1);
    let stored = fake.messages(Peer::Channel(channel));
    let edited = stored.iter().find(|m| m.id == sent.id()).expect("kept");
    assert!(edited.edited);
    assert_eq!(edited.text, "Hello again");
    assert!(stored.iter().any(|m| m.id == sent_photo.id() && m.deleted));

    // A private message to Bob, and limits.
    let bob_ref = PeerId::user(bob).expect("id").to_ambient_ref();
    client.send_message(bob_ref, "hi Bob").await.expect("sent");
    assert!(
        fake.messages(Peer::User(bob))
            .iter()
            .any(|m| m.text == "hi Bob" && m.from == alice)
    );
    match client.send_message(bob_ref, "x".repeat(4097)).await {
        Err(InvocationError::Rpc(e)) => assert_eq!(e.name, "MESSAGE_TOO_LONG"),
        other => panic!("expected MESSAGE_TOO_LONG, got {other:?}"),
    }
    let broadcast = fake.add_channel("Announcements", false, &[bob, alice]);
    match client.send_message(channel_ref(broadcast), "may I?").await {
        Err(InvocationError::Rpc(e)) => {
            assert_eq!((e.code, e.name.as_str()), (403, "CHAT_ADMIN_REQUIRED"))
        }
        other => panic!("expected CHAT_ADMIN_REQUIRED, got {other:?}"),
    }
    bob_device
        .client
        .send_message(channel_ref(broadcast), "announcement")
        .await
        .expect("the creator may post");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_flood_wait_revoke_and_random_id_dedupe() {
    let (fake, running) = start().await;
    let alice = fake.add_user(PHONE, "Alice", None);
    let group = fake.add_group("Pair", &[alice]);
    let key = device_auth_key(&fake.key_half());
    let device = {
        let d = device(&running, key, false);
        let token = d
            .client
            .request_login_code(PHONE, API_HASH)
            .await
            .expect("sent");
        let code = fake.last_code(PHONE).expect("code");
        d.client.sign_in(&token, &code).await.expect("login");
        d
    };
    let client = &device.client;
    let peer = PeerId::chat(group).expect("id").to_ambient_ref();

    fake.force_error("messages.sendMessage", 420, "FLOOD_WAIT_30", 1);
    match client.send_message(peer, "flood").await {
        Err(InvocationError::Rpc(e)) => {
            assert_eq!(
                (e.code, e.name.as_str(), e.value),
                (420, "FLOOD_WAIT", Some(30))
            )
        }
        other => panic!("expected FLOOD_WAIT, got {other:?}"),
    }
    client
        .send_message(peer, "after flood")
        .await
        .expect("sent");

    let request = tl::functions::messages::SendMessage {
        no_webpage: true,
        silent: false,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer: tl::types::InputPeerChat { chat_id: group }.into(),
        reply_to: None,
        message: "once".into(),
        random_id: 424242,
        reply_markup: None,
        entities: None,
        schedule_date: None,
        schedule_repeat_period: None,
        send_as: None,
        quick_reply_shortcut: None,
        effect: None,
        allow_paid_stars: None,
        suggested_post: None,
        rich_message: None,
    };
    let first = client.invoke(&request).await.expect("first send");
    let second = client.invoke(&request).await.expect("repeated send");
    assert_eq!(first, second);
    let once: Vec<_> = fake
        .messages(Peer::Chat(group))
        .into_iter()
        .filter(|m| m.text == "once")
        .collect();
    assert_eq!(once.len(), 1);
    assert_eq!(once[0].random_id, Some(424242));

    // The same device key reconnecting (another process) is still logged in.
    let again = self::device(&running, key, false);
    assert!(again.client.is_authorized().await.expect("getState"));

    fake.revoke(alice);
    match client.send_message(peer, "revoked?").await {
        Err(InvocationError::Rpc(e)) => {
            assert_eq!((e.code, e.name.as_str()), (401, "AUTH_KEY_UNREGISTERED"))
        }
        other => panic!("expected AUTH_KEY_UNREGISTERED, got {other:?}"),
    }
    assert!(!again.client.is_authorized().await.expect("getState"));
    match client
        .invoke(&tl::functions::contacts::GetContacts { hash: 0 })
        .await
    {
        Err(InvocationError::Rpc(e)) => assert_eq!(e.name, "METHOD_NOT_SUPPORTED_BY_FAKE"),
        other => panic!("expected METHOD_NOT_SUPPORTED_BY_FAKE, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_client_catches_up_from_its_saved_state() {
    let (fake, running) = start().await;
    let alice = fake.add_user(PHONE, "Alice", None);
    let bob = fake.add_user("+15550009999", "Bob", None);
    let mut device = logged_in(&fake, &running, PHONE).await;
    let rx = device.updates.take().expect("updates");
    let mut stream = device
        .client
        .stream_updates(rx, UpdatesConfiguration { catch_up: false })
        .await
        .expect("stream");
    fake.post(Peer::User(alice), bob, "before");
    assert_eq!(next_message(&mut stream).await.0, "before");
    stream.sync_update_state().await.expect("state saved");
    let session = Arc::clone(&device.session);
    drop(stream);
    drop(device);

    fake.post(Peer::User(alice), bob, "while away 1");
    fake.post(Peer::User(alice), bob, "while away 2");

    let mut device = with_session(session, true);
    let rx = device.updates.take().expect("updates");
    let mut stream = device
        .client
        .stream_updates(rx, UpdatesConfiguration { catch_up: true })
        .await
        .expect("stream");
    assert_eq!(next_message(&mut stream).await.0, "while away 1");
    assert_eq!(next_message(&mut stream).await.0, "while away 2");
    let extra = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
    assert!(extra.is_err(), "nothing else: {extra:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_by_one_client_is_pushed_to_the_other_member() {
    let (fake, running) = start().await;
    let alice = fake.add_user(PHONE, "Alice", None);
    let bob = fake.add_user("+15550009999", "Bob", None);
    let group = fake.add_group("Pair", &[alice, bob]);
    let alice_device = logged_in(&fake, &running, PHONE).await;
    let mut bob_device = logged_in(&fake, &running, "+15550009999").await;
    let rx = bob_device.updates.take().expect("updates");
    let mut stream = bob_device
        .client
        .stream_updates(rx, UpdatesConfiguration { catch_up: false })
        .await
        .expect("stream");
    let peer = PeerId::chat(group).expect("id").to_ambient_ref();
    alice_device
        .client
        .send_message(peer, "from Alice")
        .await
        .expect("sent");
    let (text, update) = next_message(&mut stream).await;
    assert_eq!(text, "from Alice");
    let Update::NewMessage(m) = update else {
        panic!("new message expected")
    };
    assert!(!m.outgoing());
    assert_eq!(m.sender_id(), PeerId::user(alice));
}
