//! Pair rules end to end, on a Discord channel read by a bot and copied by another bot:
//! a keyword filter drops what does not match (and the outcome names the rule), a header
//! and a replacement shape what goes out, a destination's own rules replace its pair's, a
//! delay holds a message (its edit during the hold goes out with it, a deleted one never
//! goes), and a holding pause sends what came meanwhile on resume, in order. Copies past
//! the plan's daily quota wait (visible as `quota`) and go out, in order, once the limit
//! rises; the day's count reaches `usage_daily`.

use crate::stack::Stack;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn filters_transforms_delays_and_a_holding_pause_act_on_real_messages() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("rules-bot-token", "relay bot");
    let guild = d.add_guild("Rules", &[bot]);
    let (source, filtered, everything) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "filtered"),
        d.add_channel(guild, "everything"),
    );
    let person = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "rules-bot-token").await;
    let pair = s
        .post(
            "/api/v1/pairs",
            &alice,
            json!({
                "name": "Newsroom",
                "source": {"account_id": discord_bot, "chat_id": source.to_string()},
                "destinations": [
                    {"account_id": discord_bot, "chat_id": filtered.to_string(), "show_author": false},
                    {"account_id": discord_bot, "chat_id": everything.to_string(), "show_author": false,
                     "rules": {"mode": "replace"}}
                ],
                "rules": {
                    "filters": [{"type": "keywords", "words": ["news"]}],
                    "transforms": [
                        {"type": "replace", "find": "colour", "with": "color"},
                        {"type": "header", "template": "[{source_chat}]"},
                        {"type": "footer", "template": "{link}"}
                    ]
                }
            }),
        )
        .await;
    let pair_id = pair["id"].as_str().expect("id").to_owned();

    s.eventually("the source is read", Duration::from_secs(30), || async {
        d.user_posts(source, person, "warm-up");
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.discord_texts(everything).iter().any(|t| t == "warm-up")
    })
    .await;
    // The preview says what each destination will get, by the same code as live sending.
    let preview = |text: &'static str| {
        let path = format!("/api/v1/pairs/{pair_id}/preview");
        let alice = alice.clone();
        let s = &s;
        async move {
            let (status, body) = s
                .call(
                    reqwest::Method::POST,
                    &path,
                    &alice,
                    Some(json!({"text": text})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let sky = preview("the colour of the sky").await;
    assert_eq!(sky[0]["outcome"], "filtered");
    assert_eq!(sky[0]["rule"], "filters[0]");
    assert_eq!(sky[1]["outcome"], "send");
    let news = preview("colour news today").await;
    assert_eq!(news[0]["outcome"], "send");
    d.user_posts(source, person, "the colour of the sky");
    d.user_posts(source, person, "colour news today");
    s.eventually(
        "both arrive where nothing filters",
        Duration::from_secs(20),
        || async {
            s.discord_texts(everything)
                .iter()
                .any(|t| t == "colour news today")
        },
    )
    .await;
    let link = format!("https://discord.com/channels/{guild}/{source}/");
    s.eventually(
        "the match arrives transformed",
        Duration::from_secs(20),
        || async {
            s.discord_texts(filtered).iter().any(|t| {
                let lines: Vec<&str> = t.lines().collect();
                lines.len() == 3
                    && lines[0].replace('\\', "") == "[Newsroom]"
                    && lines[1] == "color news today"
                    && lines[2].starts_with(&link)
            })
        },
    )
    .await;
    let live = s
        .discord_texts(filtered)
        .into_iter()
        .find(|t| t.contains("color news today"))
        .expect("live copy");
    // The sample has no link at the source, so its footer is empty; the rest is the same.
    let previewed = news[0]["text"].as_str().expect("text");
    assert_eq!(
        live.lines().take(2).collect::<Vec<_>>(),
        previewed.lines().collect::<Vec<_>>()
    );
    assert!(
        s.discord_texts(everything)
            .iter()
            .any(|t| t == news[1]["text"].as_str().expect("text"))
    );
    let texts = s.discord_texts(filtered);
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("sky") && !t.contains("warm-up")),
        "{texts:?}"
    );
    let (_, outcomes) = s
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/pairs/{pair_id}/outcomes"),
            &alice,
            None,
        )
        .await;
    let filters: Vec<&Value> = outcomes
        .as_array()
        .expect("outcomes")
        .iter()
        .filter(|o| o["decided_by"] == "filters[0]")
        .collect();
    assert_eq!(filters.len(), 1, "{outcomes}");
    assert_eq!(filters[0]["state"], "skipped");
    assert_eq!(
        filters[0]["deliveries"], 2,
        "warm-up and the sky: {outcomes}"
    );

    // A delay: held for 3 s; edited meanwhile, it goes out as edited; deleted, never.
    s.call(
        reqwest::Method::PATCH,
        &format!("/api/v1/pairs/{pair_id}"),
        &alice,
        Some(json!({"rules": {"delay_seconds": 3}})),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // the route cache and the listener
    let kept = d.user_posts(source, person, "draft one").expect("posted");
    let gone = d.user_posts(source, person, "draft two").expect("posted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    d.user_edits(source, kept.id.get(), "final one");
    d.user_deletes(source, gone.id.get());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !s.discord_texts(filtered).iter().any(|t| t.contains("one")),
        "held for the delay"
    );
    s.eventually(
        "the held message goes out edited",
        Duration::from_secs(30),
        || async { s.discord_texts(filtered).iter().any(|t| t == "final one") },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts = s.discord_texts(filtered);
    assert!(!texts.iter().any(|t| t.contains("draft")), "{texts:?}");

    // A holding pause: what comes meanwhile goes out on resume, in order.
    s.call(
        reqwest::Method::PATCH,
        &format!("/api/v1/pairs/{pair_id}"),
        &alice,
        Some(json!({"rules": {}, "pause_mode": "hold"})),
    )
    .await;
    s.post(&format!("/api/v1/pairs/{pair_id}/pause"), &alice, json!({}))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for i in 0..3 {
        d.user_posts(source, person, &format!("held {i}"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !s.discord_texts(filtered)
            .iter()
            .any(|t| t.starts_with("held")),
        "paused"
    );
    s.post(
        &format!("/api/v1/pairs/{pair_id}/resume"),
        &alice,
        json!({}),
    )
    .await;
    s.eventually(
        "the held messages go out on resume",
        Duration::from_secs(30),
        || async {
            s.discord_texts(filtered)
                .iter()
                .filter(|t| t.starts_with("held"))
                .count()
                == 3
        },
    )
    .await;
    let held: Vec<String> = s
        .discord_texts(filtered)
        .into_iter()
        .filter(|t| t.starts_with("held"))
        .collect();
    assert_eq!(held, ["held 0", "held 1", "held 2"]);
    s.stop().await;
}

#[tokio::test]
async fn copies_past_the_daily_quota_wait_and_go_out_after_an_upgrade_in_order() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    // Alice's plan allows 3 copies a day (warm-up included).
    sqlx::query("UPDATE plans SET daily_messages = 3 WHERE id = 'elite'")
        .execute(s.db.pool())
        .await
        .expect("plan");
    let d = &s.discord.fake;
    let bot = d.add_bot("quota-bot-token", "relay bot");
    let guild = d.add_guild("Quota", &[bot]);
    let (source, target) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "target"),
    );
    let person = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "quota-bot-token").await;
    let pair = s
        .pair(
            &alice,
            (&discord_bot, source.to_string()),
            &[(&discord_bot, Some(target.to_string()))],
        )
        .await;
    s.eventually("the source is read", Duration::from_secs(30), || async {
        if s.discord_texts(target).is_empty() {
            d.user_posts(source, person, "warm-up");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        !s.discord_texts(target).is_empty()
    })
    .await;
    let warm_ups = s.discord_texts(target).len();
    for i in 0..5 {
        d.user_posts(source, person, &format!("message {i}"));
    }
    let room = 3 - warm_ups;
    s.eventually(
        "the quota's room is used",
        Duration::from_secs(20),
        || async {
            s.discord_texts(target)
                .iter()
                .filter(|t| t.starts_with("message"))
                .count()
                == room
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        s.discord_texts(target)
            .iter()
            .filter(|t| t.starts_with("message"))
            .count(),
        room,
        "nothing past the quota goes out"
    );
    let (_, outcomes) = s
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/pairs/{pair}/outcomes"),
            &alice,
            None,
        )
        .await;
    let held = outcomes
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["decided_by"] == "quota")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(held["state"], "pending", "{outcomes}");
    assert_eq!(held["deliveries"], (5 - room) as i64, "{outcomes}");

    // An upgrade: the limit rises, the held copies go out, in order.
    sqlx::query("UPDATE plans SET daily_messages = 100 WHERE id = 'elite'")
        .execute(s.db.pool())
        .await
        .expect("plan");
    d.user_posts(source, person, "after the upgrade");
    s.eventually(
        "the held copies go out",
        Duration::from_secs(40),
        || async {
            s.discord_texts(target)
                .iter()
                .filter(|t| t.starts_with("message"))
                .count()
                == 5
        },
    )
    .await;
    let sent: Vec<String> = s
        .discord_texts(target)
        .into_iter()
        .filter(|t| t.starts_with("message"))
        .collect();
    assert_eq!(
        sent,
        (0..5).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
    s.eventually(
        "usage is flushed to usage_daily",
        Duration::from_secs(20),
        || async {
            let counted: i64 = sqlx::query_scalar(
                "SELECT COALESCE(sum(messages_forwarded), 0)::int8 FROM usage_daily",
            )
            .fetch_one(s.db.pool())
            .await
            .expect("usage");
            counted >= (warm_ups + 6) as i64
        },
    )
    .await;
    s.stop().await;
}
