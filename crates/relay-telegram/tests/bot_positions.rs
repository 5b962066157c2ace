//! The bot listener's position: Telegram's getUpdates offset moves past a poll's updates
//! only after the router acknowledged them, and an idle long poll is not an error.

use relay_core::messages::SourceEvent;
use relay_core::source::SourceSender;
use relay_fakes::telegram_bot::{FakeBotApi, RunningBotApi};
use relay_telegram::{BotListener, TelegramBot};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "123456:relay-test-token";

async fn fake() -> (RunningBotApi, i64) {
    let fake = FakeBotApi::new();
    let bot = fake.add_bot(TOKEN, "relay_bot");
    let group = fake.add_chat("supergroup", "Group", &[bot]);
    (fake.start("127.0.0.1:0").await.expect("start"), group)
}

fn text(batch: &relay_core::source::SourceBatch) -> Vec<String> {
    batch
        .events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Created(m) => Some(m.text.text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn updates_stay_unconfirmed_until_the_router_acknowledges_them() {
    let (api, group) = fake().await;
    let bot = TelegramBot::new(TOKEN, &api.url()).expect("url");
    api.fake.user_posts(group, "Alice", "one").expect("posted");

    // A listener whose batch is never acknowledged (the router's transaction did not
    // commit, then the process stopped).
    let (tx, mut rx) = SourceSender::channel(10);
    let stop = CancellationToken::new();
    let first = tokio::spawn(BotListener::new(&bot, Duration::from_secs(1)).run(tx, stop.clone()));
    let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("in time")
        .expect("a batch");
    assert_eq!(text(&batch), ["one"]);
    // Give a listener that does not wait time to confirm the update with its next poll.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.cancel();
    let _ = first.await;
    drop(batch);

    // The next owner gets it again, and once acknowledged it is confirmed.
    let (tx, mut rx) = SourceSender::channel(10);
    let stop = CancellationToken::new();
    let second = tokio::spawn(BotListener::new(&bot, Duration::from_secs(1)).run(tx, stop.clone()));
    let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("in time")
        .expect("a batch");
    assert_eq!(
        text(&batch),
        ["one"],
        "the unacknowledged update is read again"
    );
    batch.acknowledge();
    api.fake.user_posts(group, "Alice", "two").expect("posted");
    let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("in time")
        .expect("a batch");
    assert_eq!(text(&batch), ["two"], "the acknowledged one is not");
    batch.acknowledge();
    stop.cancel();
    let _ = second.await;
}

#[tokio::test]
async fn an_idle_long_poll_outlasts_the_default_client_timeout_without_failing() {
    let (api, _) = fake().await;
    let bot = TelegramBot::new(TOKEN, &api.url()).expect("url");
    let (tx, _rx) = SourceSender::channel(10);
    let stop = CancellationToken::new();
    // A 20 s poll: teloxide's default client would give up after 17 s and poll again.
    let listener =
        tokio::spawn(BotListener::new(&bot, Duration::from_secs(20)).run(tx, stop.clone()));
    tokio::time::sleep(Duration::from_secs(19)).await;
    let polls = api
        .fake
        .calls()
        .iter()
        .filter(|c| c.eq_ignore_ascii_case("getUpdates"))
        .count();
    assert_eq!(polls, 1, "one poll held for its whole timeout, none failed");
    stop.cancel();
    let _ = listener.await;
}
