//! Known chats (a session's dialogs replaced whole, a bot's seen chats upserted) and the
//! chats of deleted messages, found from what Relay forwarded.

use crate::pairs_tests::{account, dest, new_pair, user};
use crate::testing::test_database;
use crate::{DeliveryAction, NewDelivery, StoreError};
use chrono::Utc;
use relay_core::chats::{ChatKind, SeenChat};
use relay_core::{AccountKind, Priority};
use serde_json::json;
use std::time::Duration;

fn chat(id: &str, title: &str, kind: ChatKind) -> SeenChat {
    SeenChat {
        chat_id: id.into(),
        title: title.into(),
        kind,
    }
}

#[tokio::test]
async fn dialogs_replace_the_list_bots_add_to_it_and_only_the_owner_reads_it() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    let session = account(&db, alice, AccountKind::TelegramUser, "1").await;
    let bot = account(&db, alice, AccountKind::TelegramBot, "2").await;

    let never = db.known_chats(alice, session).await.expect("known");
    assert_eq!(never.listed_at, None, "never listed");
    assert!(never.chats.is_empty());
    assert!(matches!(
        db.known_chats(bob, session).await,
        Err(StoreError::NotFound)
    ));

    let first = [
        chat("-1001", "News", ChatKind::Channel),
        chat("-5", "Friends", ChatKind::Group),
    ];
    db.replace_dialogs(session, &first).await.expect("replace");
    let second = [
        chat("-1001", "News (renamed)", ChatKind::Channel),
        chat("42", "Carol", ChatKind::Private),
    ];
    db.replace_dialogs(session, &second).await.expect("replace");
    let known = db.known_chats(alice, session).await.expect("known");
    assert!(known.listed_at.is_some());
    let mut ids: Vec<_> = known.chats.iter().map(|(c, _)| c.clone()).collect();
    ids.sort_by(|a, b| a.chat_id.cmp(&b.chat_id));
    assert_eq!(
        ids,
        [second[0].clone(), second[1].clone()],
        "the group left"
    );

    db.record_seen_chats(bot, &[chat("-7", "Team", ChatKind::Group)])
        .await
        .expect("seen");
    tokio::time::sleep(Duration::from_millis(5)).await;
    db.record_seen_chats(bot, &[chat("-1009", "Forum", ChatKind::Forum)])
        .await
        .expect("seen");
    let known = db.known_chats(alice, bot).await.expect("known");
    assert_eq!(known.listed_at, None);
    let ids: Vec<_> = known
        .chats
        .iter()
        .map(|(c, _)| c.chat_id.as_str())
        .collect();
    assert_eq!(ids, ["-1009", "-7"], "newest first, the first one kept");
}

#[tokio::test]
async fn a_deleted_message_is_found_in_the_non_channel_chat_it_was_forwarded_from() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let session = account(&db, alice, AccountKind::TelegramUser, "1").await;
    let other = account(&db, alice, AccountKind::TelegramUser, "2").await;
    let hook = account(&db, alice, AccountKind::DiscordWebhook, "3").await;
    sqlx::query(
        "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1, 'pro', 'active')",
    )
    .bind(alice.as_uuid())
    .execute(db.pool())
    .await
    .expect("subscription");
    let private = db
        .create_pair(alice, &new_pair(session, "42", vec![dest(hook, None)]))
        .await
        .expect("pair");
    let group = db
        .create_pair(alice, &new_pair(session, "-1003", vec![dest(hook, None)]))
        .await
        .expect("pair");
    let channel = db
        .create_pair(
            alice,
            &new_pair(session, "-1001234567890", vec![dest(hook, None)]),
        )
        .await
        .expect("pair");
    let topic = db
        .create_pair(
            alice,
            &new_pair(session, "-1001234567890/42", vec![dest(hook, None)]),
        )
        .await
        .expect("pair");
    let row = |pair: &crate::Pair, message: &str| NewDelivery {
        owner_id: alice,
        pair_id: pair.id,
        destination_id: pair.destinations[0].id,
        sender_account_id: hook,
        source_chat_id: pair.source_chat_id.clone(),
        source_message_id: message.into(),
        action: DeliveryAction::Create,
        revision: 0,
        part: 0,
        priority: Priority::Low,
        payload: json!({}),
        source_at: Utc::now(),
        decision: crate::RowDecision::Send,
    };
    let ids = db
        .insert_deliveries(&[
            row(&private, "10"),
            row(&group, "11"),
            row(&channel, "12"),
            row(&topic, "14"),
        ])
        .await
        .expect("insert");
    // The private chat's message is already sent (in the message map).
    let claimed = db
        .claim_delivery(ids[0].id, 1, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("claimable");
    assert!(
        db.complete_delivery(ids[0].id, 1, "c", "900")
            .await
            .expect("done")
    );
    drop(claimed);

    let asked: Vec<String> = ["10", "11", "12", "13"].map(String::from).into();
    let found = db
        .chats_of_forwarded_messages(session, &asked)
        .await
        .expect("lookup");
    assert_eq!(
        found,
        [("10".into(), "42".into()), ("11".into(), "-1003".into())],
        "a basic group whose id starts with 100 is no channel; channels name their chat themselves; unknown ids stay unknown"
    );
    let channel_deletes = [
        ("-1001234567890".to_owned(), "14".to_owned()),
        ("-1001234567890".to_owned(), "12".to_owned()),
    ];
    assert_eq!(
        db.topics_of_forwarded_messages(session, &channel_deletes)
            .await
            .expect("topics"),
        [(
            "-1001234567890".to_owned(),
            "14".to_owned(),
            "-1001234567890/42".to_owned()
        )],
        "a channel's deletion reaches the topic its message was forwarded from"
    );
    assert!(
        db.chats_of_forwarded_messages(other, &asked)
            .await
            .expect("lookup")
            .is_empty(),
        "another account's message ids are its own"
    );
}
