use crate::pairs_tests::{account, dest, new_pair, user};
use crate::testing::{TestDatabase, test_database};
use crate::{Database, DeliveryAction, NewDelivery, Pair};
use chrono::Utc;
use relay_core::{AccountId, AccountKind, Priority, Severity, UserId};
use serde_json::json;
use std::time::Duration;

pub(crate) struct World {
    /// Derefs to the [`Database`]; the throwaway database goes when the world does.
    pub(crate) db: TestDatabase,
    alice: UserId,
    bot: AccountId,
    pub(crate) pair: Pair,
}

pub(crate) async fn world() -> World {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let bot = account(&db, alice, AccountKind::DiscordBot, "1").await;
    let pair = db
        .create_pair(
            alice,
            &new_pair(
                bot,
                "100000000000000001",
                vec![dest(bot, Some("100000000000000002"))],
            ),
        )
        .await
        .expect("pair");
    World {
        db,
        alice,
        bot,
        pair,
    }
}

pub(crate) fn delivery(w: &World, message: &str, part: i16) -> NewDelivery {
    NewDelivery {
        owner_id: w.alice,
        pair_id: w.pair.id,
        destination_id: w.pair.destinations[0].id,
        sender_account_id: w.bot,
        source_chat_id: w.pair.source_chat_id.clone(),
        source_message_id: message.into(),
        action: DeliveryAction::Create,
        revision: 0,
        part,
        priority: Priority::Low,
        payload: json!({"text": format!("message {message}")}),
        source_at: Utc::now(),
        decision: crate::RowDecision::Send,
    }
}

/// Makes every row look untouched for a minute, so `quiet` does not hide it.
async fn age(db: &Database) {
    sqlx::query("UPDATE deliveries SET updated_at = updated_at - interval '1 minute'")
        .execute(db.pool())
        .await
        .expect("age");
}

#[tokio::test]
async fn a_batch_is_inserted_once_in_order_and_a_second_write_is_a_no_op() {
    let w = world().await;
    let batch = vec![
        delivery(&w, "10", 0),
        delivery(&w, "10", 1),
        delivery(&w, "11", 0),
        delivery(&w, "10", 0), // twice in one batch
    ];
    let first = w.db.insert_deliveries(&batch).await.expect("insert");
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|p| p[0].id < p[1].id), "id order");
    assert!(first.iter().all(|q| q.sender_account_id == w.bot
        && q.destination_id == w.pair.destinations[0].id
        && q.priority == Priority::Low
        && q.attempts == 0));
    let parts: Vec<(String, i16)> =
        sqlx::query_as("SELECT source_message_id, part FROM deliveries ORDER BY id")
            .fetch_all(w.db.pool())
            .await
            .expect("rows");
    assert_eq!(
        parts,
        vec![("10".into(), 0), ("10".into(), 1), ("11".into(), 0)],
        "ids follow the batch's order"
    );

    let again = w.db.insert_deliveries(&batch).await.expect("again");
    assert!(again.is_empty(), "the same keys are no-ops");
    let mut edit = delivery(&w, "10", 0);
    edit.action = DeliveryAction::Edit;
    edit.revision = 1;
    assert_eq!(
        w.db.insert_deliveries(&[edit]).await.expect("edit").len(),
        1
    );
    assert!(w.db.insert_deliveries(&[]).await.expect("empty").is_empty());
    assert_eq!(
        w.db.delivery_states(w.pair.id).await.expect("states"),
        vec![("pending".to_owned(), 4)]
    );

    // A destination of another tenant's pair is never written.
    let bob = user(&w.db, "bob@example.com").await;
    let mut foreign = delivery(&w, "12", 0);
    foreign.owner_id = bob;
    assert!(
        w.db.insert_deliveries(&[foreign])
            .await
            .expect("skip")
            .is_empty()
    );
}

#[tokio::test]
async fn only_the_current_claim_can_finish_a_delivery() {
    let w = world().await;
    let id =
        w.db.insert_deliveries(&[delivery(&w, "10", 0)])
            .await
            .expect("insert")[0]
            .id;

    let claimed =
        w.db.claim_delivery(id, 1, Duration::from_secs(30))
            .await
            .expect("claim")
            .expect("claimable");
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.account_kind, AccountKind::DiscordBot);
    assert_eq!(claimed.dest_chat_id.as_deref(), Some("100000000000000002"));
    assert_eq!(claimed.source_message_id, "10");
    assert_eq!(claimed.action, DeliveryAction::Create);
    assert_eq!(claimed.payload["text"], "message 10");
    assert_eq!(claimed.owner_id, w.alice);
    assert_eq!(claimed.pair_id, w.pair.id);

    // The first worker is presumed dead; another takes it over with a new token.
    let again =
        w.db.claim_delivery(id, 2, Duration::from_secs(30))
            .await
            .expect("reclaim")
            .expect("claimable");
    assert_eq!(again.attempts, 2);
    assert!(
        !w.db
            .complete_delivery(id, 1, "c", "m-old")
            .await
            .expect("old token")
    );
    assert!(
        !w.db
            .retry_delivery(id, 1, "x", Utc::now())
            .await
            .expect("old token")
    );
    assert!(
        !w.db
            .kill_delivery(id, 1, "x", "x")
            .await
            .expect("old token")
    );
    assert!(
        w.db.complete_delivery(id, 2, "100000000000000002", "m-new")
            .await
            .expect("done")
    );
    assert!(
        !w.db
            .complete_delivery(id, 2, "c", "m-twice")
            .await
            .expect("twice"),
        "only from in flight"
    );
    assert!(
        w.db.claim_delivery(id, 3, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none(),
        "done is final"
    );
    assert!(
        w.db.claim_delivery(9999, 3, Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none()
    );
    assert_eq!(
        w.db.message_copy(w.pair.destinations[0].id, &w.pair.source_chat_id, "10", 0)
            .await
            .expect("copy")
            .as_deref(),
        Some("m-new")
    );
    assert_eq!(
        w.db.message_copy(w.pair.destinations[0].id, &w.pair.source_chat_id, "10", 1)
            .await
            .expect("copy"),
        None
    );
    assert_eq!(
        w.db.delivery_states(w.pair.id).await.expect("states"),
        vec![("done".to_owned(), 1)]
    );
}

#[tokio::test]
async fn retries_go_back_to_pending_and_given_up_deliveries_reach_the_error_log() {
    let w = world().await;
    let ids: Vec<i64> =
        w.db.insert_deliveries(&[delivery(&w, "10", 0), delivery(&w, "11", 0)])
            .await
            .expect("insert")
            .iter()
            .map(|q| q.id)
            .collect();

    w.db.claim_delivery(ids[0], 7, Duration::from_secs(30))
        .await
        .expect("claim");
    let later = Utc::now() + chrono::Duration::seconds(60);
    assert!(
        w.db.retry_delivery(ids[0], 7, "timeout", later)
            .await
            .expect("retry")
    );
    let (state, error, next): (String, Option<String>, chrono::DateTime<Utc>) =
        sqlx::query_as("SELECT state, last_error, next_attempt_at FROM deliveries WHERE id = $1")
            .bind(ids[0])
            .fetch_one(w.db.pool())
            .await
            .expect("row");
    assert_eq!(state, "pending");
    assert_eq!(error.as_deref(), Some("timeout"));
    assert_eq!(next.timestamp_micros(), later.timestamp_micros());
    assert!(
        !w.db
            .retry_delivery(ids[0], 7, "again", later)
            .await
            .expect("not in flight")
    );

    let claimed =
        w.db.claim_delivery(ids[1], 8, Duration::from_secs(30))
            .await
            .expect("claim")
            .expect("claimable");
    assert_eq!(claimed.attempts, 1);
    assert!(
        w.db.kill_delivery(ids[1], 8, "discord_403", "Missing Access")
            .await
            .expect("kill")
    );
    assert!(
        !w.db
            .kill_delivery(ids[1], 8, "x", "x")
            .await
            .expect("only once")
    );

    let failed =
        w.db.failed_deliveries(w.alice, Some(w.pair.id), 10)
            .await
            .expect("failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, ids[1]);
    assert_eq!(failed[0].attempts, 1);
    assert_eq!(failed[0].last_error.as_deref(), Some("Missing Access"));
    assert_eq!(failed[0].source_message_id, "11");
    assert_eq!(
        w.db.failed_deliveries(w.alice, None, 10)
            .await
            .expect("all")
            .len(),
        1
    );

    let log = w.db.error_log(w.alice, 10).await.expect("log");
    assert_eq!(log.len(), 1);
    let entry = &log[0];
    assert_eq!(entry.severity, Severity::Error);
    assert_eq!(entry.component, "delivery");
    assert_eq!(entry.code, "discord_403");
    assert_eq!(entry.message, "Missing Access");
    assert_eq!(entry.pair_id, Some(w.pair.id));
    assert_eq!(entry.account_id, Some(w.bot));
    assert_eq!(entry.delivery_id, Some(ids[1]));

    // Nobody else sees it.
    let bob = user(&w.db, "bob@example.com").await;
    assert!(
        w.db.failed_deliveries(bob, None, 10)
            .await
            .expect("bob")
            .is_empty()
    );
    assert!(
        w.db.failed_deliveries(bob, Some(w.pair.id), 10)
            .await
            .expect("bob")
            .is_empty()
    );
    assert!(w.db.error_log(bob, 10).await.expect("bob").is_empty());

    assert_eq!(
        w.db.delivery_states(w.pair.id).await.expect("states"),
        vec![("dead".to_owned(), 1), ("pending".to_owned(), 1)]
    );
}

#[tokio::test]
async fn the_sweeper_returns_due_work_and_lapsed_claims_once_per_quiet_period() {
    let w = world().await;
    let ids: Vec<i64> =
        w.db.insert_deliveries(&[
            delivery(&w, "1", 0), // due, untouched
            delivery(&w, "2", 0), // in flight, claim held
            delivery(&w, "3", 0), // in flight, claim lapsed
            delivery(&w, "4", 0), // pending, not due yet
            delivery(&w, "5", 0), // done
        ])
        .await
        .expect("insert")
        .iter()
        .map(|q| q.id)
        .collect();
    let quiet = Duration::from_secs(30);

    // Freshly written rows are the listener's: its own enqueue is on the way.
    assert!(
        w.db.sweep_deliveries(quiet, 100)
            .await
            .expect("sweep")
            .is_empty()
    );

    w.db.claim_delivery(ids[1], 1, Duration::from_secs(600))
        .await
        .expect("claim");
    w.db.claim_delivery(ids[2], 2, Duration::from_secs(600))
        .await
        .expect("claim");
    w.db.claim_delivery(ids[3], 3, Duration::from_secs(600))
        .await
        .expect("claim");
    w.db.retry_delivery(ids[3], 3, "429", Utc::now() + chrono::Duration::minutes(5))
        .await
        .expect("retry");
    w.db.claim_delivery(ids[4], 4, Duration::from_secs(600))
        .await
        .expect("claim");
    w.db.complete_delivery(ids[4], 4, "c", "m")
        .await
        .expect("done");
    sqlx::query(
        "UPDATE deliveries SET in_flight_until = now() - interval '1 second' WHERE id = $1",
    )
    .bind(ids[2])
    .execute(w.db.pool())
    .await
    .expect("lapse");
    age(&w.db).await;

    let swept = w.db.sweep_deliveries(quiet, 100).await.expect("sweep");
    let got: Vec<i64> = swept.iter().map(|q| q.id).collect();
    assert_eq!(got, vec![ids[0], ids[2]]);
    assert_eq!(swept[1].attempts, 1);
    assert!(
        w.db.sweep_deliveries(quiet, 100)
            .await
            .expect("again")
            .is_empty(),
        "not twice within quiet"
    );

    // With no quiet period they come back, oldest first, at most `limit`.
    let swept =
        w.db.sweep_deliveries(Duration::ZERO, 1)
            .await
            .expect("sweep");
    assert_eq!(swept.iter().map(|q| q.id).collect::<Vec<_>>(), vec![ids[0]]);

    // The lapsed claim can be taken over, and then the old token is fenced off.
    let taken =
        w.db.claim_delivery(ids[2], 20, Duration::from_secs(30))
            .await
            .expect("claim")
            .expect("lapsed claim");
    assert_eq!(taken.attempts, 2);
    assert!(
        !w.db
            .complete_delivery(ids[2], 2, "c", "m")
            .await
            .expect("old")
    );
    assert!(
        w.db.complete_delivery(ids[2], 20, "c", "m")
            .await
            .expect("new")
    );
}

#[tokio::test]
async fn two_sweepers_split_the_work() {
    let w = world().await;
    let batch: Vec<NewDelivery> = (0..40).map(|i| delivery(&w, &i.to_string(), 0)).collect();
    w.db.insert_deliveries(&batch).await.expect("insert");
    age(&w.db).await;
    let quiet = Duration::from_secs(30);
    let (a, b) = tokio::join!(
        w.db.sweep_deliveries(quiet, 25),
        w.db.sweep_deliveries(quiet, 25)
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    let mut all: Vec<i64> = a.iter().chain(b.iter()).map(|q| q.id).collect();
    assert_eq!(all.len(), 40, "{} + {}", a.len(), b.len());
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 40, "no row twice");
}

#[tokio::test]
async fn lanes_claim_in_one_statement_each_under_its_own_token_and_give_unused_claims_back() {
    let w = world().await;
    let ids: Vec<i64> =
        w.db.insert_deliveries(&[
            delivery(&w, "1", 0),
            delivery(&w, "2", 0),
            delivery(&w, "3", 0),
        ])
        .await
        .expect("insert")
        .iter()
        .map(|q| q.id)
        .collect();
    let hold = Duration::from_secs(60);

    // The third is held by a newer owner (token 9): a claim under 5 does not take it.
    assert_eq!(
        w.db.claim_delivery(ids[2], 9, hold)
            .await
            .expect("claim")
            .map(|c| c.id),
        Some(ids[2])
    );
    let claimed =
        w.db.claim_many(
            &[
                (ids[1], 5),
                (ids[0], 5),
                (ids[2], 5),
                (ids[0], 4),
                (4242, 5),
            ],
            hold,
        )
        .await
        .expect("claim many");
    let got: Vec<(i64, i32)> = claimed.iter().map(|c| (c.id, c.attempts)).collect();
    assert_eq!(
        got,
        vec![(ids[0], 1), (ids[1], 1)],
        "in id order, once each"
    );
    assert_eq!(
        w.db.delivery_states(w.pair.id).await.expect("states"),
        vec![("in_flight".to_owned(), 3)]
    );

    // A claim given back unused: pending again, its attempt not counted, claimable by anyone.
    assert_eq!(
        w.db.release_claims(&[ids[0], ids[2]], 5)
            .await
            .expect("release"),
        1,
        "only claims made under that token"
    );
    assert!(
        !w.db
            .complete_delivery(ids[0], 5, "c", "m")
            .await
            .expect("complete"),
        "a released claim cannot finish the delivery"
    );
    let again =
        w.db.claim_delivery(ids[0], 1, hold)
            .await
            .expect("claim")
            .expect("claimable");
    assert_eq!(again.attempts, 1);
    assert_eq!(
        w.db.delivery_states(w.pair.id).await.expect("states"),
        vec![("in_flight".to_owned(), 3)]
    );
}

#[tokio::test]
async fn a_claim_updates_the_row_in_place_without_touching_an_index() {
    let w = world().await;
    let ids: Vec<i64> =
        w.db.insert_deliveries(
            &(0..20)
                .map(|i| delivery(&w, &i.to_string(), 0))
                .collect::<Vec<_>>(),
        )
        .await
        .expect("insert")
        .iter()
        .map(|q| q.id)
        .collect();
    // One connection, one transaction: its own counters are exact and immediate.
    let mut tx = w.db.pool().begin().await.expect("tx");
    sqlx::query(
        "UPDATE deliveries SET claim_token = 1, in_flight_until = now() + interval '1 minute', \
             attempts = attempts + 1, updated_at = now() WHERE id = ANY($1)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await
    .expect("claim");
    let (updated, hot): (i64, i64) = sqlx::query_as(
        "SELECT pg_stat_get_xact_tuples_updated('deliveries'::regclass), \
             pg_stat_get_xact_tuples_hot_updated('deliveries'::regclass)",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("stats");
    assert_eq!(updated, 20);
    assert_eq!(
        hot, 20,
        "the columns a claim changes must stay out of every index"
    );
}

#[tokio::test]
async fn the_sweeper_leaves_out_what_its_filter_refuses_for_a_later_sweep() {
    let w = world().await;
    let ids: Vec<i64> =
        w.db.insert_deliveries(&[delivery(&w, "1", 0), delivery(&w, "2", 0)])
            .await
            .expect("insert")
            .iter()
            .map(|q| q.id)
            .collect();
    sqlx::query(
        "UPDATE deliveries SET updated_at = updated_at - interval '1 minute', \
             next_attempt_at = next_attempt_at - interval '1 minute'",
    )
    .execute(w.db.pool())
    .await
    .expect("age");
    let quiet = Duration::from_secs(30);
    let now = Utc::now();
    let mut seen = Vec::new();
    let swept =
        w.db.sweep_deliveries_where(quiet, 100, |row, touched| {
            seen.push((row.id, touched));
            row.id == ids[1]
        })
        .await
        .expect("sweep");
    assert_eq!(swept.iter().map(|q| q.id).collect::<Vec<_>>(), vec![ids[1]]);
    assert_eq!(seen.len(), 2);
    for (_, touched) in &seen {
        // Last touched (written, or due) a minute ago, not now.
        assert!(*touched < now - chrono::Duration::seconds(50), "{touched}");
    }
    // The refused row was not touched: the next sweep still finds it; the taken one waits.
    let again: Vec<i64> =
        w.db.sweep_deliveries(quiet, 100)
            .await
            .expect("again")
            .iter()
            .map(|q| q.id)
            .collect();
    assert_eq!(again, vec![ids[0]]);
}

#[tokio::test]
async fn a_new_partition_owner_finds_its_senders_rows_not_in_flight_at_once() {
    let w = world().await;
    let ids: Vec<i64> =
        w.db.insert_deliveries(&[
            delivery(&w, "1", 0),
            delivery(&w, "2", 0),
            delivery(&w, "3", 0),
        ])
        .await
        .expect("insert")
        .iter()
        .map(|q| q.id)
        .collect();
    // One is in flight under a live claim: its owner's entry still stands for it.
    w.db.claim_many(&[(ids[1], 5)], Duration::from_secs(60))
        .await
        .expect("claim");

    let none =
        w.db.unqueued_of_senders(|_| false, 100)
            .await
            .expect("none");
    assert!(none.is_empty(), "another partition's senders: nothing");
    let found: Vec<i64> =
        w.db.unqueued_of_senders(|a| a == w.bot, 100)
            .await
            .expect("found")
            .iter()
            .map(|q| q.id)
            .collect();
    assert_eq!(
        found,
        vec![ids[0], ids[2]],
        "fresh rows, no quiet period, oldest first"
    );
}
