//! The job queue against the local Redis, each test under a key prefix of its own.

use relay_core::delivery::QueuedDelivery;
use relay_core::{AccountId, DestinationId};
use relay_queue::testing::TestPrefix;
use relay_queue::{
    Entry, Job, JobQueue, KeyPrefix, Priority, QueueConfig, RedisConfig, RedisConn, StreamKind,
    backoff, partition_of,
};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// A connection under a fresh prefix, and the guard that deletes its keys: keep the guard
/// until the test ends.
fn conn() -> (RedisConn, TestPrefix) {
    let keys = TestPrefix::new();
    (keys.connect().expect("client"), keys)
}

fn queue() -> (JobQueue, RedisConn, TestPrefix) {
    let (redis, keys) = conn();
    let queue = JobQueue::new(redis.clone(), keys.url(), QueueConfig::default()).expect("queue");
    (queue, redis, keys)
}

fn job(delivery_id: i64, destination: &str, priority: Priority) -> Job {
    Job {
        delivery_id,
        destination: destination.to_owned(),
        priority,
        attempt: 0,
    }
}

/// Deletes every key of the test's prefix (a FLUSHDB that spares the other tests).
async fn wipe(redis: &RedisConn) {
    let pattern = format!("{}:*", redis.prefix());
    let mut cursor: u64 = 0;
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000);
        let (next, keys): (u64, Vec<String>) = redis.run(&scan).await.expect("scan");
        if !keys.is_empty() {
            let _: i64 = redis.run(redis::cmd("DEL").arg(&keys)).await.expect("del");
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}

fn ids(entries: &[Entry]) -> Vec<i64> {
    entries.iter().map(|e| e.job.delivery_id).collect()
}

const NO_BLOCK: Duration = Duration::ZERO;

#[tokio::test]
async fn reads_serve_retry_then_high_medium_low() {
    let (queue, redis, _keys) = queue();
    queue
        .enqueue_many(&[
            (0, job(1, "low", Priority::Low)),
            (0, job(2, "medium", Priority::Medium)),
            (0, job(3, "high", Priority::High)),
        ])
        .await
        .expect("enqueue");
    // Turn the high job into a due retry.
    let first = queue.read(0, "w1", 1, NO_BLOCK).await.expect("read");
    assert_eq!(ids(&first), vec![3]);
    assert_eq!(first[0].stream, StreamKind::High);
    queue
        .delay(0, &first[0], Duration::ZERO)
        .await
        .expect("delay");
    assert_eq!(queue.promote_due(0, 10).await.expect("promote"), 1);
    queue
        .enqueue(0, &job(4, "high", Priority::High))
        .await
        .expect("enqueue");

    let two = queue.read(0, "w1", 2, NO_BLOCK).await.expect("read");
    assert_eq!(ids(&two), vec![3, 4], "retry first, then high");
    assert_eq!(two[0].stream, StreamKind::Retry);
    assert_eq!(two[0].job.attempt, 1);
    assert_eq!(two[0].job.priority, Priority::High, "keeps its priority");
    assert_eq!(two[1].stream, StreamKind::High);
    let rest = queue.read(0, "w1", 10, NO_BLOCK).await.expect("read");
    assert_eq!(ids(&rest), vec![2, 1]);
    assert_eq!(rest[0].stream, StreamKind::Medium);
    assert_eq!(rest[1].stream, StreamKind::Low);
    assert!(
        queue
            .read(0, "w1", 10, NO_BLOCK)
            .await
            .expect("read")
            .is_empty()
    );
    // Another partition is independent.
    assert!(
        queue
            .read(1, "w1", 10, NO_BLOCK)
            .await
            .expect("read")
            .is_empty()
    );
    wipe(&redis).await;
}

#[tokio::test]
async fn a_blocking_read_wakes_on_a_new_entry_and_outlives_the_response_timeout() {
    let (queue, redis, _keys) = queue();
    // Nothing arrives: empty after the block (longer than the driver's 500 ms), no error.
    let start = Instant::now();
    let none = queue
        .read(3, "w1", 10, Duration::from_millis(700))
        .await
        .expect("an idle block is not an error");
    assert!(none.is_empty());
    assert!(
        start.elapsed() >= Duration::from_millis(650),
        "{:?}",
        start.elapsed()
    );

    // Two partitions blocked at once (two blocking connections), woken by enqueues.
    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            queue
                .enqueue(3, &job(7, "a", Priority::Low))
                .await
                .expect("enqueue");
            queue
                .enqueue(4, &job(8, "b", Priority::High))
                .await
                .expect("enqueue");
        })
    };
    let start = Instant::now();
    let (a, b) = tokio::join!(
        queue.read(3, "w1", 10, Duration::from_secs(2)),
        queue.read(4, "w1", 10, Duration::from_secs(2)),
    );
    let elapsed = start.elapsed();
    producer.await.expect("producer");
    assert_eq!(ids(&a.expect("read")), vec![7]);
    assert_eq!(ids(&b.expect("read")), vec![8]);
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    wipe(&redis).await;
}

#[tokio::test]
async fn a_blocking_read_never_returns_more_than_asked() {
    let (queue, redis, _keys) = queue();
    let p = 5;
    let reader = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.read(p, "w1", 1, Duration::from_secs(2)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Two streams get an entry in one transaction: the blocked read sees both at once.
    let key = |kind: &str| redis.prefix().key(&[&format!("{{p{p}}}"), "jobs", kind]);
    let mut tx = redis::pipe();
    tx.atomic();
    for (kind, d) in [("high", 1), ("low", 2)] {
        tx.cmd("XADD")
            .arg(key(kind))
            .arg("*")
            .arg("d")
            .arg(d)
            .arg("dest")
            .arg("x")
            .arg("prio")
            .arg(kind)
            .arg("a")
            .arg(0)
            .ignore();
    }
    let () = redis.run_pipe(&tx).await.expect("exec");
    let first = reader.await.expect("reader").expect("read");
    assert_eq!(ids(&first), vec![1]);
    let second = queue.read(p, "w1", 1, NO_BLOCK).await.expect("read");
    assert_eq!(ids(&second), vec![2], "the rest comes with the next read");
    assert!(
        queue
            .read(p, "w1", 1, NO_BLOCK)
            .await
            .expect("read")
            .is_empty()
    );
    wipe(&redis).await;
}

#[tokio::test]
async fn acked_entries_are_gone_and_unacked_ones_are_taken_over_in_delivery_order() {
    let (queue, redis, _keys) = queue();
    queue
        .enqueue_many(&[
            (2, job(30, "x", Priority::High)),
            (2, job(10, "x", Priority::Low)),
            (2, job(20, "y", Priority::Medium)),
            (2, job(40, "z", Priority::High)),
        ])
        .await
        .expect("enqueue");
    let read = queue
        .read(2, "dead-worker", 10, NO_BLOCK)
        .await
        .expect("read");
    assert_eq!(ids(&read), vec![30, 40, 20, 10]);
    let done: Vec<Entry> = read
        .iter()
        .filter(|e| e.job.delivery_id == 40)
        .cloned()
        .collect();
    queue.ack(2, &done).await.expect("ack");
    assert_eq!(
        queue.backlog(2).await.expect("backlog"),
        3,
        "acked entries are deleted"
    );

    // Nothing new for another consumer; the pending ones are claimed, sorted.
    assert!(
        queue
            .read(2, "w2", 10, NO_BLOCK)
            .await
            .expect("read")
            .is_empty()
    );
    let claimed = queue.claim_pending(2, "w2").await.expect("claim");
    assert_eq!(ids(&claimed), vec![10, 20, 30]);
    assert_eq!(claimed[0].stream, StreamKind::Low);
    assert_eq!(claimed[0].job, job(10, "x", Priority::Low));
    queue.ack(2, &claimed).await.expect("ack");
    assert!(
        queue
            .claim_pending(2, "w3")
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(queue.backlog(2).await.expect("backlog"), 0);
    // A partition never touched has nothing pending.
    assert!(
        queue
            .claim_pending(9, "w3")
            .await
            .expect("claim")
            .is_empty()
    );
    wipe(&redis).await;
}

#[tokio::test]
async fn claim_pending_follows_the_cursor_past_one_batch() {
    let (queue, redis, _keys) = queue();
    let jobs: Vec<(u16, Job)> = (0..1200)
        .rev()
        .map(|d| (6, job(d, &format!("dest-{}", d % 7), Priority::Medium)))
        .collect();
    queue.enqueue_many(&jobs).await.expect("enqueue");
    let read = queue.read(6, "old", 2000, NO_BLOCK).await.expect("read");
    assert_eq!(read.len(), 1200);
    let claimed = queue.claim_pending(6, "new").await.expect("claim");
    assert_eq!(ids(&claimed), (0..1200).collect::<Vec<i64>>());
    wipe(&redis).await;
}

#[tokio::test]
async fn a_delayed_job_waits_pauses_its_lane_and_comes_back_as_a_retry() {
    let (queue, redis, _keys) = queue();
    queue
        .enqueue(1, &job(10, "chat:1", Priority::Medium))
        .await
        .expect("enqueue");
    let entry = queue
        .read(1, "w1", 10, NO_BLOCK)
        .await
        .expect("read")
        .pop()
        .expect("entry");
    queue
        .delay(1, &entry, Duration::from_millis(300))
        .await
        .expect("delay");
    assert!(
        queue
            .read(1, "w1", 10, NO_BLOCK)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        queue
            .claim_pending(1, "w2")
            .await
            .expect("claim")
            .is_empty(),
        "acked"
    );
    let paused = queue.paused(1).await.expect("paused");
    assert_eq!(paused.get("chat:1"), Some(&10));
    assert_eq!(paused.len(), 1);
    assert_eq!(
        queue.backlog(1).await.expect("backlog"),
        1,
        "delayed jobs count"
    );
    assert_eq!(
        queue.promote_due(1, 10).await.expect("promote"),
        0,
        "not due yet"
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(queue.promote_due(1, 10).await.expect("promote"), 1);
    assert!(queue.paused(1).await.expect("paused").is_empty());
    let retry = queue.read(1, "w1", 10, NO_BLOCK).await.expect("read");
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].stream, StreamKind::Retry);
    assert_eq!(
        retry[0].job,
        Job {
            attempt: 1,
            ..job(10, "chat:1", Priority::Medium)
        }
    );
    assert_eq!(queue.promote_due(1, 10).await.expect("promote"), 0);
    wipe(&redis).await;
}

#[tokio::test]
async fn promotion_keeps_a_paused_marker_that_names_another_delivery() {
    let (queue, redis, _keys) = queue();
    queue
        .enqueue_many(&[
            (1, job(1, "lane|with|bars", Priority::Low)),
            (1, job(2, "lane|with|bars", Priority::Low)),
        ])
        .await
        .expect("enqueue");
    let read = queue.read(1, "w1", 10, NO_BLOCK).await.expect("read");
    queue
        .delay(1, &read[0], Duration::ZERO)
        .await
        .expect("delay");
    queue
        .delay(1, &read[1], Duration::from_secs(30))
        .await
        .expect("delay");
    assert_eq!(
        queue.paused(1).await.expect("paused").get("lane|with|bars"),
        Some(&2)
    );
    assert_eq!(queue.promote_due(1, 10).await.expect("promote"), 1);
    assert_eq!(
        queue.paused(1).await.expect("paused").get("lane|with|bars"),
        Some(&2),
        "the lane still waits for delivery 2"
    );
    let retry = queue.read(1, "w1", 10, NO_BLOCK).await.expect("read");
    assert_eq!(ids(&retry), vec![1]);
    assert_eq!(retry[0].job.destination, "lane|with|bars");
    // Delaying an entry that was already acked schedules nothing.
    queue.ack(1, &retry).await.expect("ack");
    queue
        .delay(1, &retry[0], Duration::ZERO)
        .await
        .expect("delay");
    assert_eq!(queue.promote_due(1, 10).await.expect("promote"), 0);
    wipe(&redis).await;
}

#[test]
fn backoff_grows_with_jitter_within_bounds() {
    let config = QueueConfig::default();
    let mut seen_first = HashSet::new();
    let mut last_ceiling = Duration::ZERO;
    for attempt in 1..=40u32 {
        let ceiling = config
            .base_backoff
            .saturating_mul(2u32.saturating_pow(attempt - 1))
            .min(config.max_backoff);
        assert!(ceiling >= last_ceiling);
        last_ceiling = ceiling;
        for _ in 0..200 {
            let wait = backoff(&config, attempt);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "attempt {attempt}: {wait:?}"
            );
            if attempt == 1 {
                seen_first.insert(wait);
            }
        }
    }
    assert!(seen_first.len() > 100, "jittered: {}", seen_first.len());
    assert!(backoff(&config, 1) <= Duration::from_secs(1));
    assert!(backoff(&config, 4) >= Duration::from_secs(4));
    assert!(backoff(&config, 4) <= Duration::from_secs(8));
    assert!(backoff(&config, 1000) >= config.max_backoff / 2);
    assert!(backoff(&config, 1000) <= config.max_backoff);
    assert!(
        backoff(&config, 0) <= Duration::from_secs(1),
        "0 counts as 1"
    );
}

#[tokio::test]
async fn dead_letters_keep_the_job_and_the_error_newest_first() {
    let (queue, redis, _keys) = queue();
    queue
        .enqueue_many(&[
            (4, job(1, "d1", Priority::High)),
            (4, job(2, "d2", Priority::Low)),
        ])
        .await
        .expect("enqueue");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let read = queue.read(4, "w1", 10, NO_BLOCK).await.expect("read");
    queue
        .dead_letter(4, &read[0], "boom: 500")
        .await
        .expect("dead");
    queue.dead_letter(4, &read[1], "gone").await.expect("dead");
    let dead = queue.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].job, job(2, "d2", Priority::Low), "newest first");
    assert_eq!(dead[0].error, "gone");
    assert_eq!(dead[1].job, job(1, "d1", Priority::High));
    assert_eq!(dead[1].error, "boom: 500");
    assert_eq!(dead[1].partition, 4);
    assert!(dead[1].at_ms >= before && dead[1].at_ms < before + 10_000);
    assert_eq!(queue.dead_letters(1).await.expect("dead letters").len(), 1);
    assert_eq!(queue.backlog(4).await.expect("backlog"), 0, "entries gone");
    assert!(
        queue
            .claim_pending(4, "w2")
            .await
            .expect("claim")
            .is_empty()
    );
    wipe(&redis).await;
}

#[tokio::test]
async fn the_queue_works_again_after_redis_lost_its_keys() {
    let (queue, redis, _keys) = queue();
    queue
        .enqueue(0, &job(1, "x", Priority::High))
        .await
        .expect("enqueue");
    assert_eq!(
        ids(&queue.read(0, "w1", 10, NO_BLOCK).await.expect("read")),
        vec![1]
    );

    wipe(&redis).await;
    // The queue still believes the group exists; the read recreates it.
    queue
        .enqueue(0, &job(2, "x", Priority::High))
        .await
        .expect("enqueue");
    assert_eq!(
        ids(&queue.read(0, "w1", 10, NO_BLOCK).await.expect("read")),
        vec![2]
    );

    // Keys vanish while a read is blocked: no error, and the next entry is found.
    let reader = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.read(0, "w1", 10, Duration::from_millis(800)).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    wipe(&redis).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    queue
        .enqueue(0, &job(3, "x", Priority::Medium))
        .await
        .expect("enqueue");
    let mut got = ids(&reader.await.expect("reader").expect("read"));
    if got.is_empty() {
        got = ids(&queue
            .read(0, "w1", 10, Duration::from_millis(500))
            .await
            .expect("read"));
    }
    assert_eq!(got, vec![3]);
    wipe(&redis).await;
}

#[tokio::test]
async fn enqueue_many_spreads_over_partitions_and_backlog_counts() {
    let (queue, redis, _keys) = queue();
    let jobs: Vec<(u16, Job)> = (0..30)
        .map(|d| {
            let account = format!("account-{}", d % 3);
            (
                partition_of(&account, 16),
                job(d, &account, Priority::ALL[(d % 3) as usize]),
            )
        })
        .collect();
    queue.enqueue_many(&jobs).await.expect("enqueue");
    queue.enqueue_many(&[]).await.expect("nothing");
    let mut total = 0;
    for p in 0..16 {
        total += queue.backlog(p).await.expect("backlog");
    }
    assert_eq!(total, 30);
    wipe(&redis).await;
}

#[tokio::test]
async fn outbox_rows_become_jobs_in_their_senders_partitions() {
    let (queue, redis, _keys) = queue();
    let partitions = queue.config().partitions;
    let (a, b) = (AccountId::new(), AccountId::new());
    let row = |id: i64, sender: AccountId, priority: Priority, attempts: i32| QueuedDelivery {
        id,
        sender_account_id: sender,
        destination_id: DestinationId::new(),
        priority,
        attempts,
    };
    let rows = vec![
        row(1, a, Priority::High, 0),
        row(2, b, Priority::Low, 3),
        // A negative count (the column allows it) is no attempt.
        row(3, a, Priority::High, -1),
    ];
    queue.enqueue_deliveries(&rows).await.expect("enqueue");
    let mut expected: HashMap<u16, Vec<Job>> = HashMap::new();
    for (r, attempt) in rows.iter().zip([0, 3, 0]) {
        expected
            .entry(partition_of(&r.sender_account_id.to_string(), partitions))
            .or_default()
            .push(Job {
                delivery_id: r.id,
                destination: r.destination_id.to_string(),
                priority: r.priority,
                attempt,
            });
    }
    for (partition, jobs) in expected {
        let mut read: Vec<Job> = queue
            .read(partition, "w", 10, NO_BLOCK)
            .await
            .expect("read")
            .into_iter()
            .map(|e| e.job)
            .collect();
        read.sort_by_key(|j| j.delivery_id);
        assert_eq!(read, jobs, "partition {partition}");
    }
    wipe(&redis).await;
}

#[tokio::test]
async fn no_outbox_rows_ask_nothing_of_redis() {
    // Nothing listens on port 1: any command would fail.
    let redis = RedisConn::connect_lazy(&RedisConfig {
        url: "redis://127.0.0.1:1".into(),
        key_prefix: KeyPrefix::parse("relay-test-unreachable").expect("prefix"),
        command_timeout: Duration::from_millis(200),
    })
    .expect("client");
    let queue = JobQueue::new(redis, "redis://127.0.0.1:1", QueueConfig::default()).expect("queue");
    queue.enqueue_deliveries(&[]).await.expect("no-op");
    assert!(
        queue
            .enqueue_deliveries(&[QueuedDelivery {
                id: 1,
                sender_account_id: AccountId::new(),
                destination_id: DestinationId::new(),
                priority: Priority::Medium,
                attempts: 0,
            }])
            .await
            .is_err(),
        "a row to enqueue does reach for Redis"
    );
}

#[test]
fn partitions_are_stable_and_spread() {
    assert_eq!(partition_of("account-1", 16), 6);
    assert_eq!(partition_of("", 16), 5);
    assert_eq!(partition_of("account-1", 1), 0);
    assert_eq!(partition_of("account-1", 0), 0);
    let mut counts = [0u32; 16];
    for i in 0..1000 {
        let p = partition_of(&format!("{i}"), 16);
        counts[usize::from(p)] += 1;
    }
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
    assert!(counts.iter().all(|&c| c < 150), "{counts:?}");
}

#[tokio::test]
async fn a_flood_of_high_priority_work_leaves_a_share_for_the_lower_ones() {
    let (queue, _redis, _keys) = queue();
    let mut jobs: Vec<(u16, Job)> = (0..200)
        .map(|i| (0, job(i, "high", Priority::High)))
        .collect();
    jobs.extend((1000..1005).map(|i| (0, job(i, "low", Priority::Low))));
    queue.enqueue_many(&jobs).await.expect("enqueue");
    let read = queue.read(0, "w1", 50, NO_BLOCK).await.expect("read");
    assert_eq!(read.len(), 50);
    let low = read
        .iter()
        .filter(|e| e.job.priority == Priority::Low)
        .count();
    assert_eq!(low, 5, "the low jobs are not left behind 200 high ones");
    // Small reads stay strictly ordered.
    let next = queue.read(0, "w1", 5, NO_BLOCK).await.expect("read");
    assert!(next.iter().all(|e| e.job.priority == Priority::High));
}

#[tokio::test]
async fn the_oldest_waiting_entry_is_the_oldest_not_yet_acknowledged_in_any_stream() {
    let (queue, redis, _keys) = queue();
    assert_eq!(queue.oldest_waiting_ms(3).await.expect("empty"), None);
    let before = chrono_ms();
    queue
        .enqueue_many(&[(3, job(1, "a", Priority::Low))])
        .await
        .expect("enqueue");
    tokio::time::sleep(Duration::from_millis(20)).await;
    queue
        .enqueue_many(&[(3, job(2, "a", Priority::High))])
        .await
        .expect("enqueue");
    let oldest = queue
        .oldest_waiting_ms(3)
        .await
        .expect("oldest")
        .expect("some");
    assert!(
        (before - 1000..=chrono_ms()).contains(&oldest),
        "{oldest} is when job 1 was added"
    );
    assert_eq!(queue.oldest_waiting_ms(4).await.expect("other"), None);

    // Read but not acknowledged: still waiting. Acknowledged: gone.
    let read = queue.read(3, "w", 10, Duration::ZERO).await.expect("read");
    assert_eq!(ids(&read), vec![2, 1]);
    assert_eq!(
        queue.oldest_waiting_ms(3).await.expect("oldest"),
        Some(oldest)
    );
    let low: Vec<Entry> = read
        .iter()
        .filter(|e| e.job.delivery_id == 1)
        .cloned()
        .collect();
    queue.ack(3, &low).await.expect("ack");
    let newer = queue
        .oldest_waiting_ms(3)
        .await
        .expect("oldest")
        .expect("job 2 waits");
    assert!(newer >= oldest + 20, "{newer} is when job 2 was added");
    queue.ack(3, &read).await.expect("ack");
    assert_eq!(queue.oldest_waiting_ms(3).await.expect("drained"), None);
    wipe(&redis).await;
}

fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
