//! `GET /accounts/{id}/chats` for Telegram accounts: a user session's dialogs (listed by the
//! worker that drives it) and the chats a bot has seen, with ids in the form pairs take;
//! 404 for another tenant's account, 503 while a session's chats are not known, 409 for a
//! session that lost its authorization.

use crate::stack::Stack;
use relay_fakes::telegram_dc::Peer;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

fn find<'a>(chats: &'a Value, id: &str) -> &'a Value {
    chats
        .as_array()
        .and_then(|list| list.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("chat {id} not listed in {chats}"))
}

#[tokio::test]
async fn a_user_sessions_dialogs_and_a_bots_seen_chats_are_listed() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let bob_tenant = s.user("bob@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let carol = dc.add_user("+15550111", "Carol", None);
    let channel = dc.add_channel("News", false, &[carol, me]);
    let megagroup = dc.add_channel("Big group", true, &[carol, me]);
    let group = dc.add_group("Small group", &[carol, me]);
    dc.post(Peer::User(me), carol, "hello");
    let session = s.telegram_user(&alice, "+15550100").await;

    let path = format!("/api/v1/accounts/{session}/chats");
    let (status, body) = s.call(Method::GET, &path, &bob_tenant, None).await;
    assert_eq!(status, 404, "another tenant's account: {body}");

    let listed = std::cell::RefCell::new(Value::Null);
    s.eventually(
        "the session's dialogs are listed",
        Duration::from_secs(30),
        || async {
            let (status, body) = s.call(Method::GET, &path, &alice, None).await;
            assert!(status == 200 || status == 503, "{status} {body}");
            if status == 503 {
                assert!(body["error"]["message"].is_string(), "a JSON error: {body}");
            }
            *listed.borrow_mut() = body;
            status == 200
        },
    )
    .await;
    let chats = listed.borrow().clone();
    let channel_id = (-1_000_000_000_000 - channel).to_string();
    let megagroup_id = (-1_000_000_000_000 - megagroup).to_string();
    assert_eq!(find(&chats, &channel_id)["kind"], "channel");
    assert_eq!(find(&chats, &channel_id)["name"], "News");
    assert_eq!(find(&chats, &megagroup_id)["kind"], "supergroup");
    assert_eq!(find(&chats, &(-group).to_string())["kind"], "group");
    assert_eq!(find(&chats, &(-group).to_string())["name"], "Small group");
    assert_eq!(find(&chats, &carol.to_string())["kind"], "private");
    assert_eq!(find(&chats, &carol.to_string())["name"], "Carol");
    assert_eq!(chats.as_array().map(Vec::len), Some(4), "{chats}");

    // A bot lists the chats it has seen in its updates, once someone posts there.
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let team = b.add_chat("group", "Team", &[tg_bot]);
    let bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    let path = format!("/api/v1/accounts/{bot}/chats");
    s.eventually(
        "the bot's chat is listed",
        Duration::from_secs(30),
        || async {
            b.user_posts(team, "Tina", "hi bot");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let (status, body) = s.call(Method::GET, &path, &alice, None).await;
            assert_eq!(status, 200, "{body}");
            let seen = body.as_array().is_some_and(|c| !c.is_empty());
            *listed.borrow_mut() = body;
            seen
        },
    )
    .await;
    let chats = listed.borrow().clone();
    assert_eq!(find(&chats, &team.to_string())["kind"], "group");
    assert_eq!(find(&chats, &team.to_string())["name"], "Team");
    s.stop().await;
}

#[tokio::test]
async fn a_session_not_listed_yet_is_a_503_and_an_unauthorized_one_a_409() {
    // No worker: nobody lists the session's dialogs.
    let s = Stack::start(false).await;
    let alice = s.user("alice@example.com").await;
    s.dc.fake.add_user("+15550100", "Alice", None);
    let session = s.telegram_user(&alice, "+15550100").await;
    let path = format!("/api/v1/accounts/{session}/chats");
    let (status, body) = s.call(Method::GET, &path, &alice, None).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not known yet")),
        "{body}"
    );
    sqlx::query("UPDATE platform_accounts SET state = 'unauthorized' WHERE id = $1::uuid")
        .bind(&session)
        .execute(s.db.pool())
        .await
        .expect("state");
    let (status, body) = s.call(Method::GET, &path, &alice, None).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("reconnect"))
    );
    let (status, _) = s
        .call(
            Method::GET,
            "/api/v1/accounts/not-a-uuid/chats",
            &alice,
            None,
        )
        .await;
    assert_eq!(status, 404);
    s.stop().await;
}
