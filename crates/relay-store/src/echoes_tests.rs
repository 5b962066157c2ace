//! Recognising copies Relay sent: by message id alone on Discord (whichever account reads
//! it), by chat and id in Telegram channels, and only for the same account where Telegram
//! ids are per account; and which of Relay's accounts an author is.

use crate::outbox_tests::{delivery, world};
use crate::pairs_tests::{account, dest, new_pair, user};
use crate::{EchoFinding, EchoProbe, NewDelivery};
use relay_core::{AccountId, AccountKind};
use std::time::Duration;

fn probe<'a>(
    platform: &'static str,
    account_id: AccountId,
    chat_id: &'a str,
    message_id: &'a str,
    author_id: &'a str,
) -> EchoProbe<'a> {
    EchoProbe {
        platform,
        account_id,
        chat_id,
        message_id,
        author_id,
        shared_ids: platform == "discord" || chat_id.starts_with("-100"),
    }
}

#[tokio::test]
async fn copies_are_found_by_id_per_platform_and_authors_by_external_id() {
    let w = world().await;
    // A Discord copy: sent into "c" as message 900.
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
    w.db.record_copy(&claimed, "10", 0, "c", "900")
        .await
        .expect("record");

    // Telegram copies by a bot of another tenant: into a channel and into a small group.
    let bob = user(&w.db, "bob@example.com").await;
    let tg = account(&w.db, bob, AccountKind::TelegramBot, "777").await;
    for (chat, sent) in [("-1002", "31"), ("-5", "32")] {
        let pair =
            w.db.create_pair(bob, &new_pair(tg, "-1001", vec![dest(tg, Some(chat))]))
                .await
                .expect("pair");
        let row = NewDelivery {
            owner_id: bob,
            pair_id: pair.id,
            destination_id: pair.destinations[0].id,
            sender_account_id: tg,
            source_chat_id: "-1001".into(),
            ..delivery(&w, "1", 0)
        };
        let id = w.db.insert_deliveries(&[row]).await.expect("insert")[0].id;
        let claimed =
            w.db.claim_delivery(id, 1, Duration::from_secs(30))
                .await
                .expect("claim")
                .expect("claimable");
        w.db.record_copy(&claimed, "1", 0, chat, sent)
            .await
            .expect("record");
    }

    let reader = AccountId::from(uuid::Uuid::from_u128(99));
    let probes = [
        // Discord: any channel, any reader.
        probe("discord", reader, "elsewhere", "900", ""),
        // The same id on Telegram is not that copy.
        probe("telegram", reader, "c", "900", ""),
        // A Telegram channel: chat and id, any reader.
        probe("telegram", reader, "-1002", "31", ""),
        probe("telegram", reader, "-1003", "31", ""),
        // A small group: only the account that sent it.
        probe("telegram", reader, "-5", "32", ""),
        probe("telegram", tg, "-5", "32", ""),
        // Authors: Alice's Discord bot is "1", Bob's Telegram bot "777".
        probe("discord", reader, "c", "1", "1"),
        probe("telegram", reader, "-5", "1", "777"),
        probe("telegram", reader, "-5", "1", "1"),
    ];
    let found = w.db.find_echoes(&probes).await.expect("find");
    let copies: Vec<bool> = found.iter().map(|f| f.copy).collect();
    assert_eq!(
        copies,
        [true, false, true, false, false, true, false, false, false]
    );
    assert_eq!(found[6].relay_accounts, [w.pair.source_account_id]);
    assert_eq!(found[7].relay_accounts, [tg]);
    assert_eq!(found[8], EchoFinding::default());
    assert!(w.db.find_echoes(&[]).await.expect("none").is_empty());
}
