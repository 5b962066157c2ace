//! The daily quota when the day turns: copies past the quota wait (held, visible on the
//! pair's outcomes) and go out, in order and once, when the clock reaches tomorrow.

use crate::stack::Stack;
use std::time::Duration;

#[tokio::test]
async fn copies_past_the_daily_quota_go_out_in_order_when_the_day_turns() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let d = &s.discord.fake;
    let bot = d.add_bot("day-bot-token", "relay bot");
    let guild = d.add_guild("Day", &[bot]);
    let (source, target) = (
        d.add_channel(guild, "source"),
        d.add_channel(guild, "target"),
    );
    let person = d.add_user("someone");
    let discord_bot = s.discord_bot(&alice, "day-bot-token").await;
    s.pair(
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
    tokio::time::sleep(Duration::from_secs(1)).await;
    let warm_ups = s.discord_texts(target).len();
    // Today's quota leaves room for two more copies.
    sqlx::query("UPDATE plans SET daily_messages = $1 WHERE id = 'elite'")
        .bind(warm_ups as i32 + 2)
        .execute(s.db.pool())
        .await
        .expect("plan");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let posts = |t: &[String]| t.iter().filter(|t| t.starts_with("day")).count();
    for i in 0..5 {
        d.user_posts(source, person, &format!("day {i}"));
    }
    let room = 2;
    s.eventually("today's room is used", Duration::from_secs(20), || async {
        posts(&s.discord_texts(target)) == room
    })
    .await;
    // Two quota ticks pass: nothing more goes out today.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(posts(&s.discord_texts(target)), room, "held past the quota");
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE decided_by = 'quota' AND state = 'pending'",
    )
    .fetch_one(s.db.pool())
    .await
    .expect("held");
    assert_eq!(held, (5 - room) as i64, "the rest wait, visibly");

    s.clock.advance(Duration::from_secs(86_400));
    s.eventually(
        "tomorrow the held copies go out",
        Duration::from_secs(40),
        || async { posts(&s.discord_texts(target)) == 5 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent: Vec<String> = s
        .discord_texts(target)
        .into_iter()
        .filter(|t| t.starts_with("day"))
        .collect();
    assert_eq!(
        sent,
        (0..5).map(|i| format!("day {i}")).collect::<Vec<_>>(),
        "all of them, once, in order"
    );
    s.stop().await;
}
