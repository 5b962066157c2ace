//! The parts of a long text in the message map: recorded one by one as they are sent (a
//! second record of a part changes nothing), listed in part order, forgotten one by one.

use crate::outbox::MessageCopy;
use crate::outbox_tests::{delivery, world};
use std::time::Duration;

#[tokio::test]
async fn parts_are_recorded_as_sent_listed_in_order_and_forgotten_one_by_one() {
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
    let (dest, chat) = (w.pair.destinations[0].id, &w.pair.source_chat_id);
    for (part, message) in [(2, "m-2"), (0, "m-0"), (1, "m-1"), (1, "m-1-again")] {
        w.db.record_copy(&claimed, "10", part, "c", message)
            .await
            .expect("record");
    }
    let copy = |part: i16, id: &str| MessageCopy {
        part,
        dest_message_id: id.to_owned(),
    };
    let copies = w.db.message_copies(dest, chat, "10").await.expect("copies");
    assert_eq!(copies, [copy(0, "m-0"), copy(1, "m-1"), copy(2, "m-2")]);
    // Completing the delivery records part 0 again: the first record stays.
    assert!(
        w.db.complete_delivery(id, 1, "c", "m-0")
            .await
            .expect("done")
    );
    w.db.forget_copy(dest, chat, "10", 2).await.expect("forget");
    let copies = w.db.message_copies(dest, chat, "10").await.expect("copies");
    assert_eq!(copies, [copy(0, "m-0"), copy(1, "m-1")]);
    assert!(
        w.db.message_copies(dest, chat, "11")
            .await
            .expect("none")
            .is_empty()
    );
}

#[tokio::test]
async fn an_albums_messages_are_recorded_at_once_and_its_members_point_at_it() {
    let w = world().await;
    let id =
        w.db.insert_deliveries(&[delivery(&w, "20", 0)])
            .await
            .expect("insert")[0]
            .id;
    let claimed =
        w.db.claim_delivery(id, 1, Duration::from_secs(30))
            .await
            .expect("claim")
            .expect("claimable");
    let (dest, chat) = (w.pair.destinations[0].id, &w.pair.source_chat_id);
    let sent = [
        (0, "a".to_owned()),
        (1001, "b".to_owned()),
        (1002, "c".to_owned()),
    ];
    w.db.record_copies(&claimed, "20", "c", &sent)
        .await
        .expect("record");
    // Recording again (a retried send) keeps the first record.
    w.db.record_copies(&claimed, "20", "c", &[(1001, "other".to_owned())])
        .await
        .expect("again");
    let copies = w.db.message_copies(dest, chat, "20").await.expect("copies");
    let parts: Vec<(i16, &str)> = copies
        .iter()
        .map(|c| (c.part, c.dest_message_id.as_str()))
        .collect();
    assert_eq!(parts, [(0, "a"), (1001, "b"), (1002, "c")]);

    let members = ["21".to_owned(), "22".to_owned()];
    w.db.record_album(&claimed, "20", &members)
        .await
        .expect("album");
    w.db.record_album(&claimed, "20", &members)
        .await
        .expect("again");
    for member in &members {
        assert_eq!(
            w.db.album_lead(dest, chat, member)
                .await
                .expect("lead")
                .as_deref(),
            Some("20")
        );
    }
    assert_eq!(w.db.album_lead(dest, chat, "20").await.expect("lead"), None);
    assert_eq!(
        w.db.album_lead(dest, "other chat", "21")
            .await
            .expect("lead"),
        None
    );
}
