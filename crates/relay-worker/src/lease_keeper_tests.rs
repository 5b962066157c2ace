//! The lease keeper against the local Redis: a renewal keeps the lease, a lease another
//! worker took is given up at once (its runner told to stop and watched while it drains),
//! and a Redis that does not answer costs a partition only after half the lease.

use super::{Held, HeldPartition, LeaseKeeper, lease_name};
use relay_queue::testing::TestPrefix;
use relay_queue::{Leases, RedisConfig, RedisConn};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const TTL: Duration = Duration::from_secs(2);
const WORKER: &str = "keeper-test";

fn keeper(leases: Leases) -> LeaseKeeper {
    LeaseKeeper {
        worker_id: WORKER.into(),
        leases,
        held: Held::new(8),
        ttl: TTL,
    }
}

/// Holds `partition` under `token`, last renewed `ago`; the runner ends `drain` after it
/// is told to stop.
fn hold(
    held: &Held,
    partition: u16,
    token: u64,
    ago: Duration,
    drain: Duration,
) -> CancellationToken {
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let stop = stop.clone();
        async move {
            stop.cancelled().await;
            tokio::time::sleep(drain).await;
        }
    });
    held.insert(
        partition,
        HeldPartition {
            token,
            renewed: Instant::now()
                .checked_sub(ago)
                .expect("the clock is past boot"),
            stop: stop.clone(),
            task,
        },
    );
    stop
}

#[tokio::test]
async fn a_renewal_keeps_the_lease_and_marks_the_partition_fresh() {
    let prefix = TestPrefix::new();
    let leases = Leases::new(prefix.connect().expect("redis"));
    let k = keeper(leases.clone());
    let token = leases
        .acquire(&lease_name(3), WORKER, TTL)
        .await
        .expect("redis")
        .expect("a free lease");
    let stop = hold(&k.held, 3, token, Duration::from_secs(5), Duration::ZERO);
    assert!(k.held.stale(3, token, TTL / 2));

    assert!(k.renew_once().await.is_empty());
    assert!(k.held.holds(3));
    assert!(!k.held.stale(3, token, TTL / 2), "the renewal is recorded");
    assert!(!stop.is_cancelled());
    let holder = leases.holder(&lease_name(3)).await.expect("redis");
    assert_eq!(holder, Some((WORKER.to_owned(), token)));
}

#[tokio::test]
async fn a_lease_another_worker_holds_is_given_up_and_drains_before_it_is_taken_again() {
    let prefix = TestPrefix::new();
    let leases = Leases::new(prefix.connect().expect("redis"));
    let k = keeper(leases.clone());
    let ours = leases
        .acquire(&lease_name(5), WORKER, Duration::from_millis(50))
        .await
        .expect("redis")
        .expect("a free lease");
    // Our lease lapsed (this worker was frozen) and another worker took the partition.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let theirs = leases
        .acquire(&lease_name(5), "other", TTL)
        .await
        .expect("redis")
        .expect("a free lease");
    assert!(theirs > ours);
    let stop = hold(&k.held, 5, ours, Duration::ZERO, Duration::from_millis(300));

    assert_eq!(k.renew_once().await, [5]);
    assert!(
        stop.is_cancelled(),
        "the partition's lanes are told to stop"
    );
    assert!(!k.held.holds(5));
    assert!(k.held.draining(5), "its runner is still finishing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!k.held.draining(5));
    let holder = leases.holder(&lease_name(5)).await.expect("redis");
    assert_eq!(
        holder,
        Some(("other".to_owned(), theirs)),
        "theirs is untouched"
    );
}

#[tokio::test]
async fn a_silent_redis_costs_a_partition_only_after_half_the_lease() {
    let prefix = TestPrefix::new();
    // Nothing listens on port 1: every renewal fails.
    let away = RedisConn::connect_lazy(&RedisConfig {
        url: "redis://127.0.0.1:1".into(),
        ..prefix.config(Duration::from_millis(200))
    })
    .expect("a lazy connection");
    let k = keeper(Leases::new(away));
    let fresh = hold(&k.held, 1, 7, Duration::from_millis(100), Duration::ZERO);
    let old = hold(
        &k.held,
        2,
        9,
        TTL / 2 + Duration::from_millis(100),
        Duration::ZERO,
    );

    assert_eq!(
        k.renew_once().await,
        [2],
        "only the one unrenewed for ttl/2"
    );
    assert!(old.is_cancelled());
    assert!(!fresh.is_cancelled());
    assert!(k.held.holds(1));
}
