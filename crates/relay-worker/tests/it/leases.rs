//! Leases renew on their own timer: 200 accounts whose health checks hang (the platform
//! takes their requests and never answers in time) cannot make a partition lease lapse.

use crate::common::{World, eventually};
use relay_core::AccountKind;
use relay_fakes::telegram_bot::FakeBotApi;
use relay_queue::Leases;
use relay_store::crypto::Keyring;
use relay_worker::{Platforms, Worker, WorkerConfig};
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const ACCOUNTS: usize = 200;

#[tokio::test]
async fn two_hundred_hanging_health_checks_lose_no_lease() {
    let w = World::new().await;
    let bots = FakeBotApi::new()
        .start("127.0.0.1:0")
        .await
        .expect("fake bot api");
    let owner = w.elite_user("hang@example.com").await;
    bots.fake.add_bot("1:sink", "sink_bot");
    let sink = w
        .account(owner, AccountKind::TelegramBot, "1", "1:sink")
        .await;
    for i in 0..ACCOUNTS {
        let token = format!("{}:hanging-{i}", 1000 + i);
        bots.fake.add_bot(&token, &format!("bot_{i}"));
        let account = w
            .account(
                owner,
                AccountKind::TelegramBot,
                &(1000 + i).to_string(),
                &token,
            )
            .await;
        w.pair(owner, account.id, &format!("-100{i}"), sink.id)
            .await;
    }
    // Every health check from now on hangs for a minute (each lever holds one answer).
    for _ in 0..ACCOUNTS * 10 {
        bots.fake.answer_late("getMe", Duration::from_secs(60));
    }

    let ttl = Duration::from_secs(2);
    let config = WorkerConfig {
        lease_ttl: ttl,
        heartbeat_interval: Duration::from_millis(300),
        health_interval: Duration::from_millis(200),
        ..WorkerConfig::new("hang-worker")
    };
    let worker = Worker::new(
        config,
        w.db.database().clone(),
        w.redis.clone(),
        w.queue.clone(),
        Keyring::development(),
        Platforms {
            telegram_bot_api_url: bots.url(),
            ..Platforms::default()
        },
    );
    let stop = CancellationToken::new();
    let task = tokio::spawn(worker.run(stop.clone()));

    let leases = Leases::new(w.redis.clone());
    let partitions = w.queue.config().partitions;
    let holders = || async {
        let mut held = HashMap::new();
        for p in 0..partitions {
            if let Some((holder, token)) = leases
                .holder(&format!("partition:{p}"))
                .await
                .expect("redis")
            {
                held.insert(p, (holder, token));
            }
        }
        held
    };
    eventually(
        "the worker holds every partition",
        Duration::from_secs(20),
        || async { holders().await.len() == usize::from(partitions) },
    )
    .await;
    let first = holders().await;
    eventually(
        "the health checks are under way",
        Duration::from_secs(20),
        || async {
            let calls = bots.fake.calls();
            calls
                .iter()
                .filter(|c| c.eq_ignore_ascii_case("getMe"))
                .count()
                >= 16
        },
    )
    .await;

    // Five lease lifetimes with every check hanging: each lease stays held, under the
    // token it was taken with (never lapsed and taken again).
    let until = tokio::time::Instant::now() + ttl * 5;
    while tokio::time::Instant::now() < until {
        let now = holders().await;
        assert_eq!(
            now, first,
            "a partition lease lapsed while health checks hung"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    stop.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the worker stops although checks hang")
        .expect("worker task");
    assert!(stopped.is_ok(), "{stopped:?}");
}
