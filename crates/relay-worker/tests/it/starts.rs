//! One start per account: deliveries asking for the sink and the ownership loop starting
//! the listener, all at once, leave exactly one listener (one gateway connection) running.

use crate::common::{World, eventually};
use relay_core::AccountKind;
use relay_discord::DiscordEndpoints;
use relay_fakes::discord::FakeDiscord;
use relay_store::crypto::Keyring;
use relay_worker::Platforms;
use relay_worker::accounts::AccountHub;
use relay_worker::lease_keeper::{Held, HeldPartition};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn concurrent_starts_and_sink_requests_open_one_gateway_connection() {
    let w = World::new().await;
    let discord = FakeDiscord::new()
        .start("127.0.0.1:0")
        .await
        .expect("fake discord");
    let bot = discord.fake.add_bot("start-bot-token", "relay bot");
    let guild = discord.fake.add_guild("G", &[bot]);
    let channel = discord.fake.add_channel(guild, "source");
    let owner = w.elite_user("starts@example.com").await;
    let account = w
        .account(
            owner,
            AccountKind::DiscordBot,
            &bot.to_string(),
            "start-bot-token",
        )
        .await;
    w.pair(owner, account.id, &channel.to_string(), account.id)
        .await;

    // This worker holds every partition.
    let held = Held::new(w.queue.config().partitions);
    for p in 0..held.partition_count() {
        held.insert(
            p,
            HeldPartition {
                token: 1,
                renewed: Instant::now(),
                stop: CancellationToken::new(),
                task: tokio::spawn(async {}),
            },
        );
    }
    let (events, _batches) = tokio::sync::mpsc::channel(64);
    let hub = AccountHub::new(
        w.db.database().clone(),
        Keyring::development(),
        Arc::new(Platforms {
            discord: DiscordEndpoints {
                api_url: discord.api_url(),
                gateway_url: discord.gateway_url(),
            },
            fast_identify: true,
            ..Platforms::default()
        }),
        events,
        held.clone(),
    );

    let mut racers = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (hub, account) = (hub.clone(), account.clone());
        racers.spawn(async move {
            if i % 2 == 0 {
                hub.start(&account, true).await.map(drop)
            } else {
                hub.sink(&account).await.map(drop)
            }
        });
    }
    while let Some(done) = racers.join_next().await {
        done.expect("racer").expect("started");
    }
    assert!(hub.is_listening(account.id));
    eventually(
        "the gateway is connected",
        Duration::from_secs(10),
        || async { discord.fake.live_connections() >= 1 },
    )
    .await;
    // Anything a second start opened would be connected by now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        discord.fake.live_connections(),
        1,
        "one listener, one connection"
    );

    // A partition given up stops the account here, and no start gets past it.
    let p = held.partition_of(&account.id);
    held.give_up(p);
    hub.stop_partition(p);
    assert!(
        hub.start(&account, true).await.is_err(),
        "not started without its partition"
    );
    eventually(
        "the connection is closed",
        Duration::from_secs(10),
        || async { discord.fake.live_connections() == 0 },
    )
    .await;
    assert!(hub.running_ids().is_empty());
}
