//! A worker process SIGKILLed while three kinds of sources (a Telegram user session reading
//! a channel, a Telegram bot, a Discord bot) each receive a burst: after a new worker takes
//! over, every message arrives exactly once and in order. Each source resumes from the
//! position committed with its outbox rows (MTProto pts, the unconfirmed getUpdates
//! offset, the Discord channel cursor), not from what it had merely read.

use crate::stack::Stack;
use relay_fakes::telegram_dc::Peer;
use std::time::Duration;

const BURST: usize = 60;

/// The burst's numbers in a target's texts (`tag-7` → 7), in arrival order.
fn numbers(texts: &[String], tag: &str) -> Vec<usize> {
    texts
        .iter()
        .filter_map(|t| {
            let at = t.find(&format!("{tag}-"))?;
            let digits: String = t[at + tag.len() + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn a_worker_killed_while_every_kind_of_source_receives_a_burst_loses_and_doubles_nothing() {
    let s = Stack::start(false).await;
    let alice = s.user("alice@example.com").await;

    // Three Discord targets, each written by its own bot.
    let d = &s.discord.fake;
    let source_bot = d.add_bot("source-bot-token", "source bot");
    let writers: Vec<u64> = (0..3)
        .map(|i| d.add_bot(&format!("writer-{i}"), &format!("writer {i}")))
        .collect();
    let mut members = writers.clone();
    members.push(source_bot);
    let guild = d.add_guild("G", &members);
    let dc_source = d.add_channel(guild, "source");
    let targets: Vec<u64> = (0..3)
        .map(|i| d.add_channel(guild, &format!("target-{i}")))
        .collect();
    let poster = d.add_user("poster");
    let mut writer_accounts = Vec::new();
    for i in 0..3 {
        writer_accounts.push(s.discord_bot(&alice, &format!("writer-{i}")).await);
    }

    // The sources.
    let dc_account = s.discord_bot(&alice, "source-bot-token").await;
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let tg_chat = b.add_chat("supergroup", "source", &[tg_bot]);
    let bot_account = s.telegram_bot(&alice, "111:telegram-bot-token").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let author = dc.add_user("+15550111", "Bob", None);
    let channel = dc.add_channel("News", false, &[author, me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;

    let sources = [
        (
            user_account.as_str(),
            (-1_000_000_000_000 - channel).to_string(),
        ),
        (bot_account.as_str(), tg_chat.to_string()),
        (dc_account.as_str(), dc_source.to_string()),
    ];
    for (i, (account, chat)) in sources.iter().enumerate() {
        s.pair(
            &alice,
            (account, chat.clone()),
            &[(writer_accounts[i].as_str(), Some(targets[i].to_string()))],
        )
        .await;
    }
    let post = |source: usize, text: &str| match source {
        0 => {
            dc.post(Peer::Channel(channel), author, text);
        }
        1 => {
            b.user_posts(tg_chat, "Tina", text);
        }
        _ => {
            d.user_posts(dc_source, poster, text);
        }
    };

    let mut worker = s.worker_process();
    for (i, target) in targets.iter().enumerate() {
        s.eventually(
            "the source is listened to",
            Duration::from_secs(60),
            || async {
                if s.discord_texts(*target).is_empty() {
                    post(i, "warm-up");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                !s.discord_texts(*target).is_empty()
            },
        )
        .await;
    }

    // The burst; the worker dies a third of the way through it.
    for n in 0..BURST {
        for i in 0..3 {
            post(i, &format!("s{i}-{n}"));
        }
        if n == BURST / 3 {
            worker.kill();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _restarted = s.worker_process();
    s.eventually(
        "every message arrives",
        Duration::from_secs(120),
        || async {
            targets
                .iter()
                .enumerate()
                .all(|(i, t)| numbers(&s.discord_texts(*t), &format!("s{i}")).len() >= BURST)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (i, target) in targets.iter().enumerate() {
        let got = numbers(&s.discord_texts(*target), &format!("s{i}"));
        let expected: Vec<usize> = (0..BURST).collect();
        assert_eq!(got, expected, "source {i}: exactly once, in order");
    }
    s.stop().await;
}
