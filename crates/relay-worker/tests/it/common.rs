//! A database, a Redis prefix and the fakes for one test, and accounts in them.

use relay_core::credentials::Email;
use relay_core::{AccountId, AccountKind, AccountState, Role, UserId};
use relay_queue::testing::TestPrefix;
use relay_queue::{JobQueue, QueueConfig, RedisConn};
use relay_store::crypto::Keyring;
use relay_store::testing::TestDatabase;
use relay_store::{Account, NewAccount};
use std::time::Duration;

pub struct World {
    pub db: TestDatabase,
    /// Deletes the test's keys when the test ends.
    _keys: TestPrefix,
    pub redis: RedisConn,
    pub queue: JobQueue,
}

impl World {
    pub async fn new() -> Self {
        relay_discord::install_crypto_provider();
        let db = relay_store::testing::test_database()
            .await
            .expect("database");
        let keys = TestPrefix::new();
        let redis = keys.connect().expect("redis");
        let queue =
            JobQueue::new(redis.clone(), keys.url(), QueueConfig::default()).expect("queue");
        Self {
            db,
            _keys: keys,
            redis,
            queue,
        }
    }

    /// A user on Elite (so plan limits stay out of the way).
    pub async fn elite_user(&self, email: &str) -> UserId {
        let user = self
            .db
            .create_user(&Email::parse(email).expect("email"), "h", Role::User)
            .await
            .expect("user")
            .id;
        sqlx::query(
            "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1, 'elite', 'active')",
        )
        .bind(user.as_uuid())
        .execute(self.db.pool())
        .await
        .expect("subscription");
        user
    }

    pub async fn account(
        &self,
        owner: UserId,
        kind: AccountKind,
        external: &str,
        secret: &str,
    ) -> Account {
        self.db
            .create_account(
                &Keyring::development(),
                &NewAccount {
                    owner_id: owner,
                    kind,
                    display_name: "acc",
                    external_id: external,
                    secret: Some(secret.as_bytes()),
                    state: AccountState::Connected,
                },
            )
            .await
            .expect("account")
    }

    /// A pair reading `chat` of `source` into `chat_out` of `sink` (straight in SQL: the
    /// plan's pair limit is not what these tests are about).
    pub async fn pair(&self, owner: UserId, source: AccountId, chat: &str, sink: AccountId) {
        let pair: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO forwarding_pairs (owner_id, source_account_id, source_chat_id) \
             VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(owner.as_uuid())
        .bind(source.as_uuid())
        .bind(chat)
        .fetch_one(self.db.pool())
        .await
        .expect("pair");
        sqlx::query(
            "INSERT INTO pair_destinations (pair_id, owner_id, account_id, chat_id) \
             VALUES ($1, $2, $3, '-100999')",
        )
        .bind(pair)
        .bind(owner.as_uuid())
        .bind(sink.as_uuid())
        .execute(self.db.pool())
        .await
        .expect("destination");
    }
}

pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {within:?}");
}
