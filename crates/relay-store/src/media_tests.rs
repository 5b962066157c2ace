//! The media store against PostgreSQL: one claim among concurrent ones, lapsed claims and
//! requests taken over, rows forgotten once their message's deliveries are finished, and
//! the record of files not carried.

use crate::media::{MediaFile, MediaNotice, MediaState, NoticeReason};
use crate::outbox_tests::{delivery, world};
use crate::pairs_tests::account;
use relay_core::AccountKind;
use relay_core::messages::MediaSource;
use serde_json::json;
use std::time::Duration;

const HOLD: Duration = Duration::from_secs(60);

fn url_source() -> MediaSource {
    MediaSource::Url {
        url: "https://cdn.discordapp.com/attachments/1/2/a.png".into(),
    }
}

fn file<'a>(
    w: &'a crate::outbox_tests::World,
    source: &'a MediaSource,
    message: &'a str,
) -> MediaFile<'a> {
    MediaFile {
        key: message,
        owner_id: w.pair.owner_id,
        source_chat_id: &w.pair.source_chat_id,
        source_message_id: message,
        source,
        fetch_account: None,
        cap: 1000,
    }
}

async fn fetches(db: &crate::Database, key: &str) -> i32 {
    sqlx::query_scalar("SELECT fetches FROM media_files WHERE key = $1")
        .bind(key)
        .fetch_one(db.pool())
        .await
        .expect("fetches")
}

#[tokio::test]
async fn of_concurrent_claims_one_fetches_and_the_others_read_the_stored_copy() {
    let w = world().await;
    let source = url_source();
    let f = file(&w, &source, "10");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (db, source) = (w.db.database().clone(), source.clone());
        let (owner, chat) = (w.pair.owner_id, w.pair.source_chat_id.clone());
        tasks.spawn(async move {
            let f = MediaFile {
                key: "10",
                owner_id: owner,
                source_chat_id: &chat,
                source_message_id: "10",
                source: &source,
                fetch_account: None,
                cap: 1000,
            };
            db.claim_media(&f, true, HOLD).await.expect("claim")
        });
    }
    let claims: Vec<MediaState> = tasks.join_all().await;
    assert_eq!(
        claims.iter().filter(|c| **c == MediaState::Fetch).count(),
        1,
        "{claims:?}"
    );
    assert_eq!(
        claims.iter().filter(|c| **c == MediaState::Pending).count(),
        19
    );
    assert!(w.db.store_media("10", b"bytes").await.expect("store"));
    assert!(
        !w.db.store_media("10", b"again").await.expect("once"),
        "no claim now"
    );
    assert_eq!(
        w.db.claim_media(&f, true, HOLD).await.expect("claim"),
        MediaState::Stored(b"bytes".to_vec())
    );
    assert_eq!(fetches(&w.db, "10").await, 1);
}

#[tokio::test]
async fn a_lapsed_claim_is_taken_over_and_outcomes_are_read_back() {
    let w = world().await;
    let source = url_source();
    let f = file(&w, &source, "11");
    assert_eq!(
        w.db.claim_media(&f, true, Duration::ZERO)
            .await
            .expect("claim"),
        MediaState::Fetch
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        w.db.claim_media(&f, true, HOLD).await.expect("take over"),
        MediaState::Fetch,
        "the first fetcher's claim lapsed"
    );
    assert_eq!(
        w.db.claim_media(&f, true, HOLD).await.expect("held"),
        MediaState::Pending
    );
    assert!(w.db.media_too_large("11", 5000).await.expect("too large"));
    assert_eq!(
        w.db.claim_media(&f, true, HOLD).await.expect("claim"),
        MediaState::TooLarge { size: 5000 }
    );
    assert_eq!(fetches(&w.db, "11").await, 2);

    let g = file(&w, &source, "12");
    assert_eq!(
        w.db.claim_media(&g, true, HOLD).await.expect("claim"),
        MediaState::Fetch
    );
    w.db.media_fetch_failed("12", Duration::ZERO)
        .await
        .expect("failed");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        w.db.claim_media(&g, true, HOLD).await.expect("retry"),
        MediaState::Fetch,
        "a failed fetch is tried again"
    );
    assert!(
        w.db.media_gone("12", "deleted at the source")
            .await
            .expect("gone")
    );
    assert_eq!(
        w.db.media_state("12").await.expect("state"),
        MediaState::Gone("deleted at the source".into())
    );
}

#[tokio::test]
async fn a_file_only_its_session_can_fetch_is_requested_from_that_sessions_worker() {
    let w = world().await;
    let session = account(&w.db, w.pair.owner_id, AccountKind::TelegramUser, "77").await;
    let other = account(&w.db, w.pair.owner_id, AccountKind::TelegramUser, "78").await;
    let source = MediaSource::TelegramUserMessage {
        account: Some(session),
        chat_id: -100123,
        message_id: 5,
    };
    let mut f = file(&w, &source, "13");
    f.fetch_account = Some(session);
    assert_eq!(
        w.db.claim_media(&f, false, HOLD).await.expect("request"),
        MediaState::Pending
    );
    assert_eq!(
        w.db.claim_media(&f, false, HOLD).await.expect("again"),
        MediaState::Pending
    );
    assert!(
        w.db.claim_requested_media(&[other], HOLD, 10)
            .await
            .expect("other")
            .is_empty(),
        "another session's worker does not take it"
    );
    let requests =
        w.db.claim_requested_media(&[session], HOLD, 10)
            .await
            .expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (
            requests[0].key.as_str(),
            &requests[0].source,
            requests[0].cap
        ),
        ("13", &source, 1000)
    );
    assert!(
        w.db.claim_requested_media(&[session], HOLD, 10)
            .await
            .expect("claimed")
            .is_empty(),
        "claimed once"
    );
    assert!(w.db.store_media("13", b"photo").await.expect("store"));
    assert_eq!(
        w.db.claim_media(&f, false, HOLD).await.expect("read"),
        MediaState::Stored(b"photo".to_vec())
    );
    assert_eq!(fetches(&w.db, "13").await, 1);
}

#[tokio::test]
async fn a_file_is_forgotten_once_no_pending_delivery_of_its_message_carries_files() {
    let w = world().await;
    let source = url_source();
    let media = json!([{"filename": "a.png", "source": {"kind": "url", "url": "https://x/a.png"},
        "size": 5, "content_type": null}]);
    let mut with_file = delivery(&w, "20", 0);
    with_file.payload = json!({"text": "look", "media": media});
    let text_only = delivery(&w, "21", 0);
    w.db.insert_deliveries(&[with_file, text_only])
        .await
        .expect("insert");
    for key in ["20", "21"] {
        assert_eq!(
            w.db.claim_media(&file(&w, &source, key), true, HOLD)
                .await
                .expect("claim"),
            MediaState::Fetch
        );
        assert!(w.db.store_media(key, b"bytes").await.expect("store"));
    }
    assert_eq!(
        w.db.forget_unneeded_media(Duration::from_secs(60), 100)
            .await
            .expect("grace"),
        0,
        "just stored"
    );
    assert_eq!(
        w.db.forget_unneeded_media(Duration::ZERO, 100)
            .await
            .expect("forget"),
        1
    );
    assert_eq!(
        w.db.media_state("21").await.expect("gone"),
        MediaState::Pending,
        "no row"
    );
    assert_eq!(
        w.db.media_state("20").await.expect("kept"),
        MediaState::Stored(b"bytes".to_vec()),
        "its delivery is still pending"
    );
    sqlx::query("UPDATE deliveries SET state = 'done' WHERE source_message_id = '20'")
        .execute(w.db.pool())
        .await
        .expect("done");
    assert_eq!(
        w.db.forget_unneeded_media(Duration::ZERO, 100)
            .await
            .expect("forget"),
        1
    );
    assert_eq!(
        w.db.forget_unneeded_media(Duration::ZERO, 100)
            .await
            .expect("none"),
        0
    );
}

#[tokio::test]
async fn a_file_not_carried_is_recorded_once_per_delivery() {
    let w = world().await;
    let inserted =
        w.db.insert_deliveries(&[delivery(&w, "30", 0)])
            .await
            .expect("insert");
    let notice = MediaNotice {
        delivery_id: inserted[0].id,
        file_index: 0,
        owner_id: w.pair.owner_id,
        pair_id: w.pair.id,
        destination_id: w.pair.destinations[0].id,
        filename: "big.bin".into(),
        size: 11 * 1024 * 1024,
        limit: 10 * 1024 * 1024,
        reason: NoticeReason::DestinationLimit,
    };
    w.db.record_media_notice(&notice).await.expect("record");
    w.db.record_media_notice(&notice)
        .await
        .expect("a retry records nothing new");
    let notices =
        w.db.media_notices(w.pair.owner_id, w.pair.id, 10)
            .await
            .expect("notices");
    assert_eq!(notices, vec![notice]);
}
