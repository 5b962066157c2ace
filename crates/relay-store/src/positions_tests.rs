use crate::pairs_tests::{account, dest, new_pair, user};
use crate::testing::test_database;
use relay_core::AccountKind;
use relay_core::source::Position;

#[tokio::test]
async fn discord_cursors_are_committed_with_rows_and_only_move_forward() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let bot = account(&db, alice, AccountKind::DiscordBot, "1").await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    db.create_pair(
        alice,
        &new_pair(bot, "100000000000000001", vec![dest(bot, Some("7"))]),
    )
    .await
    .expect("pair");
    let starts = db.discord_channel_starts(bot).await.expect("starts");
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].cursor, None, "a channel never read has no cursor");
    assert!(starts[0].watched_since > before);

    let at = |message_id| Position::DiscordChannel {
        channel_id: 100000000000000001,
        message_id,
    };
    db.record_source_events(&[], &[(bot, at(50)), (bot, at(40))])
        .await
        .expect("record");
    let starts = db.discord_channel_starts(bot).await.expect("starts");
    assert_eq!(starts[0].cursor, Some(50), "never backwards");
}

#[tokio::test]
async fn telegram_positions_land_in_the_session_rows_and_first_reads_do_not_overwrite() {
    let db = test_database().await.expect("db");
    let keyring = crate::crypto::Keyring::development();
    let alice = user(&db, "alice@example.com").await;
    let account = session_account(&db, &keyring, alice).await;

    assert!(
        db.init_telegram_cursor(
            account,
            crate::SessionCursor {
                pts: 5,
                qts: 0,
                date: 1,
                seq: 0
            }
        )
        .await
        .expect("init")
    );
    assert!(
        db.init_telegram_channel_pts(account, 9, 100)
            .await
            .expect("init")
    );
    db.record_source_events(
        &[],
        &[
            (
                account,
                Position::TelegramCommon {
                    pts: 7,
                    date: 2,
                    seq: 0,
                },
            ),
            (
                account,
                Position::TelegramChannel {
                    channel_id: 9,
                    pts: 120,
                },
            ),
        ],
    )
    .await
    .expect("record");
    // Later "first reads" (grammers' own state) never move a recorded position.
    assert!(
        !db.init_telegram_cursor(
            account,
            crate::SessionCursor {
                pts: 99,
                qts: 0,
                date: 3,
                seq: 0
            }
        )
        .await
        .expect("init")
    );
    assert!(
        !db.init_telegram_channel_pts(account, 9, 999)
            .await
            .expect("init")
    );
    let stored = db
        .telegram_session(&keyring, account)
        .await
        .expect("session");
    assert_eq!(stored.cursor.map(|c| c.pts), Some(7));
    assert_eq!(stored.channels, vec![(9, 120)]);
}

/// A Telegram user account whose session was stored at login without any update state.
async fn session_account(
    db: &crate::Database,
    keyring: &crate::crypto::Keyring,
    owner: relay_core::UserId,
) -> relay_core::AccountId {
    let login = db
        .start_telegram_login(
            keyring,
            owner,
            "+15550100",
            b"k",
            chrono::Utc::now() + chrono::Duration::minutes(10),
        )
        .await
        .expect("start");
    let guard = db
        .lock_telegram_login(keyring, owner, login)
        .await
        .expect("lock");
    let session = crate::StoredSession {
        home_dc: 2,
        data: b"k".to_vec(),
        ..crate::StoredSession::default()
    };
    let (account, _) = guard
        .complete(keyring, "Alice", "42", &session)
        .await
        .expect("complete");
    account.id
}
