//! Discord threads and Telegram forum topics as sources and destinations: a thread is named
//! by its own channel id (a webhook posts into one with `?thread_id=`), a topic by the
//! forum's id, `/` and the topic's id; the forum's plain id still reads the whole forum.

use crate::stack::Stack;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn threads_and_topics_carry_messages_both_ways_and_the_whole_forum_still_reads_all() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;

    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let parent = d.add_channel(guild, "talk");
    let everything = d.add_channel(guild, "everything");
    let (from_thread, to_thread, hooked_thread) = (
        d.add_thread(parent, "from here"),
        d.add_thread(parent, "to here"),
        d.add_thread(parent, "hooked"),
    );
    let (hook_id, hook_token) = d.add_webhook(parent, "relay hook");
    let someone = d.add_user("someone");

    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let forum = b.add_forum("Forum", &[tg_bot]);
    let inbox = b.add_topic(forum, "inbox").expect("topic");
    let outbox = b.add_topic(forum, "outbox").expect("topic");

    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let webhook = s.discord_webhook(&alice, hook_id, &hook_token).await;
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    // A malformed topic is refused with a field error.
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/pairs",
            &alice,
            Some(
                json!({"source": {"account_id": telegram_bot, "chat_id": format!("{forum}/x")},
                "destinations": [{"account_id": discord_bot, "chat_id": to_thread.to_string()}]}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["source.chat_id"][0]
            .as_str()
            .is_some_and(|m| m.contains("forum topic")),
        "{body}"
    );

    // Discord thread → Telegram topic.
    s.pair(
        &alice,
        (&discord_bot, from_thread.to_string()),
        &[(&telegram_bot, Some(format!("{forum}/{inbox}")))],
    )
    .await;
    // Telegram topic → a Discord thread (bot) and a thread through a webhook.
    s.pair(
        &alice,
        (&telegram_bot, format!("{forum}/{outbox}")),
        &[
            (&discord_bot, Some(to_thread.to_string())),
            (&webhook, Some(hooked_thread.to_string())),
        ],
    )
    .await;
    // The whole forum.
    s.pair(
        &alice,
        (&telegram_bot, forum.to_string()),
        &[(&discord_bot, Some(everything.to_string()))],
    )
    .await;

    s.eventually(
        "the Discord thread is read",
        Duration::from_secs(30),
        || async {
            d.user_posts(from_thread, someone, "from the thread");
            tokio::time::sleep(Duration::from_millis(400)).await;
            b.messages(forum).iter().any(|m| {
                m["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("from the thread"))
            })
        },
    )
    .await;
    let copy = b
        .messages(forum)
        .into_iter()
        .find(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.contains("from the thread"))
        })
        .expect("copy");
    assert_eq!(
        copy["message_thread_id"], inbox,
        "into the inbox topic: {copy}"
    );
    assert_eq!(copy["is_topic_message"], true);

    s.eventually(
        "the Telegram topic is read",
        Duration::from_secs(30),
        || async {
            b.user_posts_in_topic(forum, outbox, "Tina", "from the topic");
            tokio::time::sleep(Duration::from_millis(400)).await;
            !s.discord_texts(to_thread).is_empty()
        },
    )
    .await;
    s.eventually(
        "the webhook's thread and the whole-forum pair get it",
        Duration::from_secs(20),
        || async {
            !s.discord_texts(hooked_thread).is_empty()
                && s.discord_texts(everything)
                    .iter()
                    .any(|t| t.contains("from the topic"))
        },
    )
    .await;
    // A message in another topic reaches only the whole-forum pair.
    b.user_posts_in_topic(forum, inbox, "Tina", "elsewhere in the forum");
    s.eventually(
        "the whole forum reads it",
        Duration::from_secs(20),
        || async {
            s.discord_texts(everything)
                .iter()
                .any(|t| t.contains("elsewhere in the forum"))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for thread in [to_thread, hooked_thread] {
        let texts = s.discord_texts(thread);
        let first = texts.first().cloned().unwrap_or_default();
        assert!(first.contains("from the topic"), "{texts:?}");
        assert!(
            texts.iter().all(|t| !t.contains("elsewhere")),
            "only the outbox topic reaches the thread: {texts:?}"
        );
    }
    assert!(
        d.messages(hooked_thread)[0].webhook_id.is_some(),
        "posted by the webhook"
    );
    assert!(
        s.discord_texts(parent).is_empty(),
        "nothing lands in the webhook's own channel"
    );
    s.stop().await;
}
