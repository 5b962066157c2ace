//! The schema's own guarantees: tenancy through composite foreign keys, the idempotency
//! keys of the outbox and of payment events, and the seeded plans.

use crate::testing::TestDatabase;
use sqlx::PgPool;
use uuid::Uuid;

/// A pool on a fresh database, and the guard that drops it: keep the guard to the end.
async fn fresh() -> (PgPool, TestDatabase) {
    let db = crate::testing::test_database()
        .await
        .expect("test database");
    (db.pool().clone(), db)
}

async fn user(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id")
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("user")
}

async fn account(pool: &PgPool, owner: Uuid, external: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform_accounts (owner_id, kind, external_id) VALUES ($1, 'discord_bot', $2) RETURNING id",
    )
    .bind(owner)
    .bind(external)
    .fetch_one(pool)
    .await
    .expect("account")
}

async fn pair(pool: &PgPool, owner: Uuid, source: Uuid) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO forwarding_pairs (owner_id, source_account_id, source_chat_id) VALUES ($1, $2, '100') RETURNING id",
    )
    .bind(owner)
    .bind(source)
    .fetch_one(pool)
    .await
}

fn constraint(err: sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(e) => e.constraint().unwrap_or_default().to_owned(),
        other => panic!("expected a database error, got {other}"),
    }
}

#[tokio::test]
async fn a_pair_cannot_use_another_tenants_account() {
    let (pool, _db) = fresh().await;
    let alice = user(&pool, "alice@example.com").await;
    let bob = user(&pool, "bob@example.com").await;
    let bobs_bot = account(&pool, bob, "1").await;
    let err = pair(&pool, alice, bobs_bot)
        .await
        .expect_err("cross-tenant source");
    assert_eq!(
        constraint(err),
        "forwarding_pairs_source_account_id_owner_id_fkey"
    );

    let alices_bot = account(&pool, alice, "2").await;
    let p = pair(&pool, alice, alices_bot).await.expect("own account");
    let err = sqlx::query(
        "INSERT INTO pair_destinations (pair_id, owner_id, account_id, chat_id) VALUES ($1, $2, $3, '5')",
    )
    .bind(p)
    .bind(alice)
    .bind(bobs_bot)
    .execute(&pool)
    .await
    .expect_err("cross-tenant destination");
    assert_eq!(
        constraint(err),
        "pair_destinations_account_id_owner_id_fkey"
    );
}

#[tokio::test]
async fn a_delivery_exists_once_per_destination_message_and_part() {
    let (pool, _db) = fresh().await;
    let alice = user(&pool, "alice@example.com").await;
    let bot = account(&pool, alice, "1").await;
    let p = pair(&pool, alice, bot).await.expect("pair");
    let dest: Uuid = sqlx::query_scalar(
        "INSERT INTO pair_destinations (pair_id, owner_id, account_id, chat_id) VALUES ($1, $2, $3, '7') RETURNING id",
    )
    .bind(p)
    .bind(alice)
    .bind(bot)
    .fetch_one(&pool)
    .await
    .expect("destination");

    let insert = |part: i16| {
        sqlx::query(
            "INSERT INTO deliveries (owner_id, pair_id, destination_id, sender_account_id, source_chat_id, \
             source_message_id, part, priority, payload) VALUES ($1, $2, $3, $4, '100', '42', $5, 'low', '{}') \
             ON CONFLICT DO NOTHING",
        )
        .bind(alice)
        .bind(p)
        .bind(dest)
        .bind(bot)
        .bind(part)
        .execute(&pool)
    };
    assert_eq!(insert(0).await.expect("first").rows_affected(), 1);
    assert_eq!(
        insert(0).await.expect("again").rows_affected(),
        0,
        "second attempt is a no-op"
    );
    assert_eq!(insert(1).await.expect("part 1").rows_affected(), 1);
}

#[tokio::test]
async fn a_redelivered_payment_webhook_is_stored_once() {
    let (pool, _db) = fresh().await;
    let insert = || {
        sqlx::query(
            "INSERT INTO payment_events (provider, provider_event_id, event_type, payload) \
             VALUES ('paypal', 'WH-1', 'PAYMENT.CAPTURE.COMPLETED', '{}') ON CONFLICT DO NOTHING",
        )
        .execute(&pool)
    };
    assert_eq!(insert().await.expect("first").rows_affected(), 1);
    assert_eq!(insert().await.expect("redelivery").rows_affected(), 0);
}

#[tokio::test]
async fn emails_are_unique_and_stored_normalised() {
    let (pool, _db) = fresh().await;
    user(&pool, "alice@example.com").await;
    let err =
        sqlx::query("INSERT INTO users (email, password_hash) VALUES ('alice@example.com', 'x')")
            .execute(&pool)
            .await
            .expect_err("duplicate");
    assert_eq!(constraint(err), "users_email_key");
    let err =
        sqlx::query("INSERT INTO users (email, password_hash) VALUES (' Bob@Example.com', 'x')")
            .execute(&pool)
            .await
            .expect_err("not normalised");
    assert_eq!(constraint(err), "users_email_check");
}

#[tokio::test]
async fn plans_are_seeded_with_their_priorities() {
    let (pool, _db) = fresh().await;
    let plans: Vec<(String, String)> =
        sqlx::query_as("SELECT id, priority FROM plans ORDER BY price_cents")
            .fetch_all(&pool)
            .await
            .expect("plans");
    let expected = [("free", "low"), ("pro", "medium"), ("elite", "high")];
    let got: Vec<(&str, &str)> = plans
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_delivery_cannot_name_another_pairs_destination_or_another_tenants_sender() {
    let (pool, _db) = fresh().await;
    let alice = user(&pool, "alice@example.com").await;
    let bob = user(&pool, "bob@example.com").await;
    let alices_bot = account(&pool, alice, "1").await;
    let bobs_bot = account(&pool, bob, "2").await;
    let alices_pair = pair(&pool, alice, alices_bot).await.expect("pair");
    let bobs_pair = pair(&pool, bob, bobs_bot).await.expect("pair");
    let destination = |p: Uuid, owner: Uuid, acc: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO pair_destinations (pair_id, owner_id, account_id, chat_id) VALUES ($1, $2, $3, '7') RETURNING id",
            )
            .bind(p)
            .bind(owner)
            .bind(acc)
            .fetch_one(&pool)
            .await
            .expect("destination")
        }
    };
    let bobs_destination = destination(bobs_pair, bob, bobs_bot).await;
    let alices_destination = destination(alices_pair, alice, alices_bot).await;
    let insert = |destination: Uuid, sender: Uuid| {
        sqlx::query(
            "INSERT INTO deliveries (owner_id, pair_id, destination_id, sender_account_id, source_chat_id, \
             source_message_id, priority, payload) VALUES ($1, $2, $3, $4, '100', '42', 'low', '{}')",
        )
        .bind(alice)
        .bind(alices_pair)
        .bind(destination)
        .bind(sender)
        .execute(&pool)
    };
    let err = insert(bobs_destination, alices_bot)
        .await
        .expect_err("Bob's destination under Alice's pair");
    assert_eq!(constraint(err), "deliveries_destination_pair_owner_fkey");
    let err = insert(alices_destination, bobs_bot)
        .await
        .expect_err("Bob's bot as Alice's sender");
    assert_eq!(constraint(err), "deliveries_sender_owner_fkey");
    insert(alices_destination, alices_bot)
        .await
        .expect("all Alice's");
}
