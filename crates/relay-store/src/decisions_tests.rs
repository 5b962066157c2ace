//! Rows the rules decided: a filtered row is written skipped with its rule and never
//! queued; a held row waits (pending, due later) and is not queued now; an edit of a held
//! message goes out with it, a delete of one means it never goes out; and both follow-ups
//! are recorded as skipped, with why.

use crate::outbox_tests::{delivery, world};
use crate::{DeliveryAction, RowDecision};
use chrono::{Duration, Utc};
use serde_json::json;

async fn row(
    w: &crate::outbox_tests::World,
    message: &str,
    action: &str,
) -> (String, Option<String>, serde_json::Value) {
    sqlx::query_as(
        "SELECT state, decided_by, payload FROM deliveries \
         WHERE source_message_id = $1 AND action = $2",
    )
    .bind(message)
    .bind(action)
    .fetch_one(w.db.pool())
    .await
    .expect("row")
}

#[tokio::test]
async fn filtered_and_held_rows_are_recorded_and_not_queued() {
    let w = world().await;
    let filtered = crate::NewDelivery {
        decision: RowDecision::Filtered {
            rule: "filters[1]".into(),
        },
        ..delivery(&w, "1", 0)
    };
    let held = crate::NewDelivery {
        decision: RowDecision::Held {
            until: Utc::now() + Duration::hours(1),
            reason: "rules.delay".into(),
        },
        ..delivery(&w, "2", 0)
    };
    let queued =
        w.db.insert_deliveries(&[filtered, held, delivery(&w, "3", 0)])
            .await
            .expect("insert");
    assert_eq!(queued.len(), 1, "only the row due now is queued");
    assert_eq!(row(&w, "1", "create").await.0, "skipped");
    assert_eq!(
        row(&w, "1", "create").await.1.as_deref(),
        Some("filters[1]")
    );
    let (state, why, _) = row(&w, "2", "create").await;
    assert_eq!(
        (state.as_str(), why.as_deref()),
        ("pending", Some("rules.delay"))
    );
    // The sweeper leaves it until its time.
    sqlx::query("UPDATE deliveries SET updated_at = updated_at - interval '1 minute'")
        .execute(w.db.pool())
        .await
        .expect("age");
    let swept =
        w.db.sweep_deliveries(std::time::Duration::from_secs(1), 100)
            .await
            .expect("sweep");
    assert!(
        swept.iter().all(|d| d.id != queued[0].id - 1),
        "the held row is not due"
    );
}

#[tokio::test]
async fn edits_and_deletes_of_a_held_message_apply_to_it() {
    let w = world().await;
    let held = |message: &str| crate::NewDelivery {
        decision: RowDecision::Held {
            until: Utc::now() + Duration::hours(1),
            reason: "rules.delay".into(),
        },
        ..delivery(&w, message, 0)
    };
    let follow_up =
        |message: &str, action: DeliveryAction, revision: i64, text: &str| crate::NewDelivery {
            action,
            revision,
            payload: json!({"text": text}),
            ..delivery(&w, message, 0)
        };
    w.db.insert_deliveries(&[held("5"), held("6")])
        .await
        .expect("held");
    let queued =
        w.db.insert_deliveries(&[
            follow_up("5", DeliveryAction::Edit, 1, "first edit"),
            follow_up("5", DeliveryAction::Edit, 2, "second edit"),
            follow_up("6", DeliveryAction::Delete, 0, ""),
        ])
        .await
        .expect("follow-ups");
    assert!(
        queued.is_empty(),
        "nothing is sent for a message still held"
    );
    let (state, _, payload) = row(&w, "5", "create").await;
    assert_eq!(state, "pending");
    assert_eq!(
        payload,
        json!({"text": "second edit"}),
        "it goes out as last edited"
    );
    let (state, why, _) = row(&w, "6", "create").await;
    assert_eq!(state, "skipped");
    assert_eq!(
        why.as_deref(),
        Some("its message was deleted before it was sent")
    );
    let (state, why, _) = row(&w, "6", "delete").await;
    assert_eq!((state.as_str(), why.is_some()), ("skipped", true));
    let edits: Vec<(String,)> = sqlx::query_as(
        "SELECT state FROM deliveries WHERE source_message_id = '5' AND action = 'edit'",
    )
    .fetch_all(w.db.pool())
    .await
    .expect("edits");
    assert_eq!(
        edits,
        vec![("skipped".to_owned(),), ("skipped".to_owned(),)]
    );

    // A message already sent is edited as usual.
    w.db.insert_deliveries(&[delivery(&w, "7", 0)])
        .await
        .expect("sent");
    let queued =
        w.db.insert_deliveries(&[follow_up("7", DeliveryAction::Edit, 1, "edited")])
            .await
            .expect("edit");
    assert_eq!(queued.len(), 1);
}
