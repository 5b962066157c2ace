//! The router acknowledges a source only once its rows are committed: with PostgreSQL
//! unreachable a batch stays unacknowledged (its source keeps its position), and once
//! PostgreSQL is back the rows and the position are committed before the acknowledgement.
//! Positions are kept only for chats some pair reads. A replayed event (a reconnect, a
//! catch-up) makes no second delivery, edits included.

use crate::common::World;
use relay_core::AccountKind;
use relay_core::messages::{Author, IncomingMessage, SourceEvent};
use relay_core::source::{Position, SourceBatch};
use relay_fakes::proxy::FlakyProxy;
use relay_store::crypto::Keyring;
use relay_store::{Database, DbConfig};
use relay_worker::Platforms;
use relay_worker::accounts::AccountHub;
use relay_worker::lease_keeper::Held;
use relay_worker::router::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

fn post(chat: &str, id: u64) -> SourceEvent {
    SourceEvent::Created(IncomingMessage {
        chat_id: chat.into(),
        message_id: id.to_string(),
        author: Author {
            id: "7".into(),
            name: "someone".into(),
            avatar_url: None,
        },
        text: format!("post {id}").into(),
        media: Vec::new(),
        embeds: Vec::new(),
        reply_to: None,
        posted_at_ms: 0,
        ..IncomingMessage::default()
    })
}

#[tokio::test]
async fn a_batch_is_acknowledged_only_after_its_rows_and_position_are_committed() {
    let w = World::new().await;
    let owner = w.elite_user("router@example.com").await;
    let source = w
        .account(owner, AccountKind::DiscordBot, "41", "source-token")
        .await;
    let sink = w
        .account(owner, AccountKind::DiscordBot, "42", "sink-token")
        .await;
    w.pair(owner, source.id, "100", sink.id).await;

    // The router reaches PostgreSQL through a proxy the test cuts; the test reads directly.
    let proxy = FlakyProxy::start("127.0.0.1:5432").await.expect("proxy");
    let through = Database::connect_lazy(&DbConfig {
        url: w
            .db
            .url()
            .replace("127.0.0.1:5432", &proxy.addr.to_string()),
        max_connections: 2,
        acquire_timeout: Duration::from_millis(500),
    })
    .expect("pool");
    let (events_tx, _) = mpsc::channel(1);
    let hub = AccountHub::new(
        through.clone(),
        Keyring::development(),
        Arc::new(Platforms::default()),
        events_tx,
        Held::new(w.queue.config().partitions),
    );
    let router = Arc::new(Router::new(
        through,
        w.queue.clone(),
        hub,
        relay_core::clock::Clock::system(),
    ));
    let (batches, mut rx) = mpsc::channel(8);
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (router, stop) = (Arc::clone(&router), stop.clone());
        async move { router.run(&mut rx, stop).await }
    });

    proxy.take_down();
    let (ack, mut acknowledged) = oneshot::channel();
    batches
        .send((
            source.id,
            SourceBatch {
                events: vec![post("100", 5), post("100", 6)],
                position: Some(Position::DiscordChannel {
                    channel_id: 100,
                    message_id: 6,
                }),
                ack: Some(ack),
            },
        ))
        .await
        .expect("router");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        acknowledged.try_recv().is_err(),
        "nothing is committed, so nothing is acknowledged"
    );
    let rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deliveries")
            .fetch_one(w.db.pool())
            .await
            .expect("count")
    };
    assert_eq!(rows().await, 0);

    proxy.bring_back();
    tokio::time::timeout(Duration::from_secs(15), acknowledged)
        .await
        .expect("acknowledged once PostgreSQL is back")
        .expect("acknowledged, not dropped");
    assert_eq!(
        rows().await,
        2,
        "the rows were committed before the acknowledgement"
    );
    let cursor: i64 = sqlx::query_scalar(
        "SELECT message_id FROM discord_channel_cursors WHERE account_id = $1 AND channel_id = 100",
    )
    .bind(source.id.as_uuid())
    .fetch_one(w.db.pool())
    .await
    .expect("the position is committed with them");
    assert_eq!(cursor, 6);

    // A channel no pair reads (the bot sees every channel of its guilds): acknowledged,
    // and no position is written for it.
    let (ack, acknowledged) = oneshot::channel();
    batches
        .send((
            source.id,
            SourceBatch {
                events: vec![post("999", 8)],
                position: Some(Position::DiscordChannel {
                    channel_id: 999,
                    message_id: 8,
                }),
                ack: Some(ack),
            },
        ))
        .await
        .expect("router");
    tokio::time::timeout(Duration::from_secs(15), acknowledged)
        .await
        .expect("acknowledged")
        .expect("acknowledged, not dropped");
    let cursors: i64 = sqlx::query_scalar("SELECT count(*) FROM discord_channel_cursors")
        .fetch_one(w.db.pool())
        .await
        .expect("count");
    assert_eq!(cursors, 1, "only the channel a pair reads has a position");
    assert_eq!(rows().await, 2);

    stop.cancel();
    running.await.expect("router");
}

fn edit(chat: &str, id: u64, text: &str, edited_at_ms: Option<i64>) -> SourceEvent {
    let SourceEvent::Created(mut m) = post(chat, id) else {
        unreachable!("post makes a create")
    };
    m.text = text.into();
    m.edited_at_ms = edited_at_ms;
    SourceEvent::Edited(m)
}

#[tokio::test]
async fn a_replayed_source_event_makes_no_second_delivery() {
    let w = World::new().await;
    let owner = w.elite_user("replay@example.com").await;
    let source = w
        .account(owner, AccountKind::DiscordBot, "51", "source-token")
        .await;
    let sink = w
        .account(owner, AccountKind::DiscordBot, "52", "sink-token")
        .await;
    w.pair(owner, source.id, "200", sink.id).await;
    let (events_tx, _) = mpsc::channel(1);
    let hub = AccountHub::new(
        w.db.database().clone(),
        Keyring::development(),
        Arc::new(Platforms::default()),
        events_tx,
        Held::new(w.queue.config().partitions),
    );
    let router = Arc::new(Router::new(
        w.db.database().clone(),
        w.queue.clone(),
        hub,
        relay_core::clock::Clock::system(),
    ));
    let (batches, mut rx) = mpsc::channel(8);
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (router, stop) = (Arc::clone(&router), stop.clone());
        async move { router.run(&mut rx, stop).await }
    });
    let record = |events: Vec<SourceEvent>| {
        let batches = batches.clone();
        async move {
            let (ack, acknowledged) = oneshot::channel();
            let batch = SourceBatch {
                events,
                position: None,
                ack: Some(ack),
            };
            batches.send((source.id, batch)).await.expect("router");
            tokio::time::timeout(Duration::from_secs(15), acknowledged)
                .await
                .expect("recorded")
                .expect("acknowledged");
        }
    };
    let pool = w.db.pool().clone();
    let rows = |action: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deliveries WHERE action = $1")
                .bind(action)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };

    // The first reading, then the same events again (a reconnect, a catch-up).
    let edited_at = Some(1_700_000_000_000);
    let first = || {
        vec![
            post("200", 7),
            edit("200", 7, "post 7, fixed", edited_at),
            SourceEvent::Deleted {
                chat_id: "200".into(),
                message_id: "7".into(),
            },
        ]
    };
    record(first()).await;
    record(first()).await;
    assert_eq!(rows("create").await, 1);
    assert_eq!(
        rows("edit").await,
        1,
        "the same edit read twice is one delivery"
    );
    assert_eq!(rows("delete").await, 1);

    // A second edit in the same second (Telegram's edit times are in seconds) is new.
    record(vec![edit("200", 7, "post 7, fixed twice", edited_at)]).await;
    assert_eq!(rows("edit").await, 2);

    stop.cancel();
    running.await.expect("router");
}
