use crate::crypto::Keyring;
use crate::testing::test_database;
use crate::{Database, LoginStep, SessionCursor, StoreError, StoredPeer, StoredSession};
use chrono::{Duration, Utc};
use relay_core::credentials::Email;
use relay_core::{AccountKind, Role, UserId};

async fn user(db: &Database, email: &str) -> UserId {
    let email = Email::parse(email).expect("email");
    db.create_user(&email, "hash", Role::User)
        .await
        .expect("user")
        .id
}

fn peer(dialog_id: i64, kind: &str, hash: Option<i64>, is_self: bool) -> StoredPeer {
    StoredPeer {
        dialog_id,
        kind: kind.into(),
        access_hash: hash,
        is_self,
    }
}

fn session(secret: &[u8]) -> StoredSession {
    StoredSession {
        home_dc: 2,
        data: secret.to_vec(),
        cursor: Some(SessionCursor {
            pts: 10,
            qts: 0,
            date: 1_700_000_000,
            seq: 0,
        }),
        channels: vec![(77, 5)],
        peers: vec![
            peer(42, "user", Some(9), true),
            peer(-1000000000077, "channel", Some(3), false),
        ],
    }
}

#[tokio::test]
async fn a_completed_login_stores_a_sealed_session_that_round_trips() {
    let db = test_database().await.expect("db");
    let keyring = Keyring::development();
    let alice = user(&db, "alice@example.com").await;
    let secret = b"auth-key-bytes-that-must-never-be-stored-in-clear";
    let login = db
        .start_telegram_login(
            &keyring,
            alice,
            "+15550100",
            secret,
            Utc::now() + Duration::minutes(10),
        )
        .await
        .expect("start");

    let guard = db
        .lock_telegram_login(&keyring, alice, login)
        .await
        .expect("lock");
    assert_eq!(guard.login.step, LoginStep::Code);
    assert_eq!(guard.login.state, secret);
    let (account, created) = guard
        .complete(&keyring, "Alice", "42", &session(secret))
        .await
        .expect("complete");
    assert!(created);
    assert_eq!(account.kind, AccountKind::TelegramUser);

    let stored = db
        .telegram_session(&keyring, account.id)
        .await
        .expect("session");
    assert_eq!(stored.data, secret);
    assert_eq!(stored.cursor, session(secret).cursor);
    assert_eq!(stored.channels, vec![(77, 5)]);
    assert_eq!(stored.peers.len(), 2);

    // Nothing readable at rest: neither the session row nor the finished login.
    let (raw,): (Vec<u8>,) =
        sqlx::query_as("SELECT data_ciphertext FROM telegram_sessions WHERE account_id = $1")
            .bind(account.id.as_uuid())
            .fetch_one(db.pool())
            .await
            .expect("row");
    assert!(!raw.windows(secret.len()).any(|w| w == secret));
    let guard = db
        .lock_telegram_login(&keyring, alice, login)
        .await
        .expect("lock");
    assert_eq!(guard.login.step, LoginStep::Done);
    assert!(guard.login.state.is_empty());
}

#[tokio::test]
async fn signing_in_again_replaces_the_session_of_the_same_account() {
    let db = test_database().await.expect("db");
    let keyring = Keyring::development();
    let alice = user(&db, "alice@example.com").await;
    let mut accounts = Vec::new();
    for secret in [b"first".as_slice(), b"second".as_slice()] {
        let login = db
            .start_telegram_login(
                &keyring,
                alice,
                "+15550100",
                secret,
                Utc::now() + Duration::minutes(10),
            )
            .await
            .expect("start");
        let guard = db
            .lock_telegram_login(&keyring, alice, login)
            .await
            .expect("lock");
        accounts.push(
            guard
                .complete(&keyring, "Alice", "42", &session(secret))
                .await
                .expect("complete"),
        );
    }
    assert!(accounts[0].1 && !accounts[1].1);
    assert_eq!(accounts[0].0.id, accounts[1].0.id);
    let stored = db
        .telegram_session(&keyring, accounts[0].0.id)
        .await
        .expect("session");
    assert_eq!(stored.data, b"second");
}

#[tokio::test]
async fn state_updates_peers_and_tenancy() {
    let db = test_database().await.expect("db");
    let keyring = Keyring::development();
    let alice = user(&db, "alice@example.com").await;
    let mallory = user(&db, "mallory@example.com").await;
    let login = db
        .start_telegram_login(
            &keyring,
            alice,
            "+15550100",
            b"k",
            Utc::now() + Duration::minutes(10),
        )
        .await
        .expect("start");
    assert!(matches!(
        db.lock_telegram_login(&keyring, mallory, login).await,
        Err(StoreError::NotFound)
    ));
    let guard = db
        .lock_telegram_login(&keyring, alice, login)
        .await
        .expect("lock");
    let (account, _) = guard
        .complete(&keyring, "Alice", "42", &session(b"k"))
        .await
        .expect("complete");

    let cursor = SessionCursor {
        pts: 99,
        qts: 1,
        date: 5,
        seq: 0,
    };
    db.save_telegram_cursor(account.id, cursor, Some(&[(1, 2), (3, 4)]))
        .await
        .expect("cursor");
    db.save_telegram_channel_pts(account.id, 3, 40)
        .await
        .expect("channel");
    db.save_telegram_peers(
        account.id,
        &[
            peer(7, "bot", None, false),
            peer(7, "bot", Some(8), false),
            peer(42, "user", None, false),
        ],
    )
    .await
    .expect("peers");
    db.save_telegram_session_data(&keyring, account.id, 4, b"new keys")
        .await
        .expect("data");

    let stored = db
        .telegram_session(&keyring, account.id)
        .await
        .expect("session");
    assert_eq!(stored.home_dc, 4);
    assert_eq!(stored.data, b"new keys");
    assert_eq!(stored.cursor, Some(cursor));
    assert_eq!(stored.channels, vec![(1, 2), (3, 40)]);
    let me = stored
        .peers
        .iter()
        .find(|p| p.dialog_id == 42)
        .expect("self");
    assert!(
        me.is_self,
        "a later sighting does not unmark the session's own user"
    );
    assert_eq!(
        me.access_hash,
        Some(9),
        "an unknown hash keeps the known one"
    );
    let bot = stored.peers.iter().find(|p| p.dialog_id == 7).expect("bot");
    assert_eq!(bot.access_hash, Some(8));
}
