//! Outages: Redis losing every key mid-burst, PostgreSQL going away and coming back, and a
//! destination that answers 429 while the others keep flowing.

use crate::recovery::{
    all_arrived, check_exactly_once, check_exactly_once_in_order, fan_out, warm_up,
};
use crate::stack::Stack;
use relay_fakes::proxy::FlakyProxy;
use std::time::Duration;

/// Deletes every key of the stack's prefix: from Relay's side, a flushed Redis.
async fn flush(s: &Stack) -> usize {
    let client = redis::Client::open(s.env["RELAY_REDIS_URL"].as_str()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let pattern = format!("{}:*", s.env["RELAY_REDIS_KEY_PREFIX"]);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(&pattern)
        .query_async(&mut conn)
        .await
        .expect("keys");
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .expect("del");
    }
    keys.len()
}

#[tokio::test]
async fn a_redis_flush_mid_burst_loses_nothing_once_the_sweeper_has_run() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let (source, poster, targets) = fan_out(&s, &alice, 5).await;
    warm_up(&s, source, poster, &targets).await;
    for i in 0..300 {
        s.discord.fake.user_posts(source, poster, &format!("m{i}"));
    }
    s.eventually(
        "the burst is under way",
        Duration::from_secs(30),
        || async {
            targets
                .iter()
                .map(|t| s.discord_texts(*t).len())
                .sum::<usize>()
                > 100
        },
    )
    .await;
    let flushed = flush(&s).await;
    assert!(flushed > 0, "there were keys to lose");
    all_arrived(&s, &targets, 300, Duration::from_secs(90)).await;
    // Nothing lost, nothing twice (order may bend where the sweeper put jobs back).
    check_exactly_once(&s, &targets, 300, false);
    s.stop().await;
}

#[tokio::test]
async fn postgres_going_away_pauses_the_workers_and_they_resume_without_loss() {
    let proxy = FlakyProxy::start("127.0.0.1:5432").await.expect("proxy");
    let s = Stack::start_with(true, &[("DB_PROXY", &proxy.addr.to_string())]).await;
    let alice = s.user("alice@example.com").await;
    let (source, poster, targets) = fan_out(&s, &alice, 3).await;
    warm_up(&s, source, poster, &targets).await;

    for i in 0..50 {
        s.discord.fake.user_posts(source, poster, &format!("m{i}"));
    }
    proxy.take_down();
    s.eventually(
        "/readyz reports PostgreSQL",
        Duration::from_secs(20),
        || async {
            let res = s.http.get(format!("{}/readyz", s.api)).send().await;
            match res {
                Ok(r) if r.status() == 503 => r.text().await.is_ok_and(|t| t.contains("postgres")),
                _ => false,
            }
        },
    )
    .await;
    // Posted while the database is away: held by the listener and the router.
    for i in 50..100 {
        s.discord.fake.user_posts(source, poster, &format!("m{i}"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.bring_back();
    s.eventually("/readyz is back", Duration::from_secs(30), || async {
        s.http
            .get(format!("{}/readyz", s.api))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    all_arrived(&s, &targets, 100, Duration::from_secs(90)).await;
    check_exactly_once_in_order(&s, &targets, 100);
    s.stop().await;
}

#[tokio::test]
async fn a_rate_limited_destination_waits_alone() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let (source, poster, targets) = fan_out(&s, &alice, 3).await;
    warm_up(&s, source, poster, &targets).await;
    // The first destination answers 429 (wait 2 s) four times in a row.
    let limited = targets[0];
    for _ in 0..4 {
        s.discord.fake.force_429(
            &format!("channels/{limited}/messages"),
            Duration::from_secs(2),
        );
    }
    for i in 0..20 {
        s.discord.fake.user_posts(source, poster, &format!("m{i}"));
    }
    all_arrived(&s, &targets[1..], 20, Duration::from_secs(30)).await;
    let waiting = s.discord_texts(limited).len() - 1;
    assert!(
        waiting < 20,
        "the limited destination was still waiting ({waiting} of 20 sent)"
    );
    all_arrived(&s, &targets, 20, Duration::from_secs(60)).await;
    check_exactly_once_in_order(&s, &targets, 20);
    s.stop().await;
}
