use crate::RouteChange;
use crate::pairs_tests::{account, dest, new_pair, user};
use crate::testing::test_database;
use relay_core::AccountKind;
use std::time::Duration;

async fn next(changes: &mut crate::RouteChanges) -> RouteChange {
    tokio::time::timeout(Duration::from_secs(5), changes.next())
        .await
        .expect("a notification within 5 s")
        .expect("listening")
}

#[tokio::test]
async fn creating_pausing_and_deleting_a_pair_is_heard_at_commit_and_bumps_the_version() {
    let db = test_database().await.expect("db");
    let owner = user(&db, "routes@example.com").await;
    let source = account(&db, owner, AccountKind::DiscordBot, "1").await;
    let sink = account(&db, owner, AccountKind::TelegramBot, "2").await;
    let mut changes = db.listen_route_changes().await.expect("listen");
    let v0 = db.route_version().await.expect("version");

    let pair = db
        .create_pair(
            owner,
            &new_pair(source, "42", vec![dest(sink, Some("-100"))]),
        )
        .await
        .expect("pair");
    assert_eq!(next(&mut changes).await, RouteChange::Account(source));
    let v1 = db.route_version().await.expect("version");
    assert!(v1 > v0, "a new pair bumps the version ({v0} -> {v1})");

    db.set_pair_paused(owner, pair.id, true)
        .await
        .expect("pause");
    assert_eq!(next(&mut changes).await, RouteChange::Account(source));
    let v2 = db.route_version().await.expect("version");
    assert!(v2 > v1);

    db.delete_pair(owner, pair.id).await.expect("delete");
    assert_eq!(next(&mut changes).await, RouteChange::Account(source));
    assert!(db.route_version().await.expect("version") > v2);
}

#[tokio::test]
async fn a_change_rolled_back_is_never_heard() {
    let db = test_database().await.expect("db");
    let owner = user(&db, "rollback@example.com").await;
    let source = account(&db, owner, AccountKind::DiscordBot, "1").await;
    let sink = account(&db, owner, AccountKind::TelegramBot, "2").await;
    let mut changes = db.listen_route_changes().await.expect("listen");
    let v0 = db.route_version().await.expect("version");

    let mut tx = db.pool().begin().await.expect("tx");
    sqlx::query(
        "INSERT INTO forwarding_pairs (owner_id, source_account_id, source_chat_id) VALUES ($1, $2, '7')",
    )
    .bind(owner.as_uuid())
    .bind(source.as_uuid())
    .execute(&mut *tx)
    .await
    .expect("insert");
    tx.rollback().await.expect("rollback");
    assert_eq!(db.route_version().await.expect("version"), v0);

    // The next committed change is the first thing heard.
    let other = account(&db, owner, AccountKind::DiscordBot, "3").await;
    db.create_pair(owner, &new_pair(other, "8", vec![dest(sink, Some("-100"))]))
        .await
        .expect("pair");
    assert_eq!(next(&mut changes).await, RouteChange::Account(other));
}
