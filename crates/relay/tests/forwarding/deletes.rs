//! Deletions in a Telegram user session's private chats and small groups: MTProto names
//! only the message ids (`updateDeleteMessages`), and Relay finds their chat from what it
//! forwarded, so the copies at a Discord bot and a Telegram bot destination go too.

use crate::stack::Stack;
use relay_fakes::telegram_dc::Peer;
use std::time::Duration;

#[tokio::test]
async fn deletions_in_a_private_chat_and_a_small_group_remove_the_copies() {
    let s = Stack::start(true).await;
    let alice = s.user("alice@example.com").await;
    let dc = &s.dc.fake;
    let me = dc.add_user("+15550100", "Alice", None);
    let bob = dc.add_user("+15550111", "Bob", None);
    let group = dc.add_group("Small group", &[bob, me]);
    let user_account = s.telegram_user(&alice, "+15550100").await;

    let d = &s.discord.fake;
    let bot = d.add_bot("discord-bot-token", "relay bot");
    let guild = d.add_guild("G", &[bot]);
    let (from_private, from_group) = (d.add_channel(guild, "dm"), d.add_channel(guild, "group"));
    let discord_bot = s.discord_bot(&alice, "discord-bot-token").await;
    let b = &s.bots.fake;
    let tg_bot = b.add_bot("111:telegram-bot-token", "relay_bot");
    let (tg_private, tg_group) = (
        b.add_chat("supergroup", "dm copies", &[tg_bot]),
        b.add_chat("supergroup", "group copies", &[tg_bot]),
    );
    let telegram_bot = s.telegram_bot(&alice, "111:telegram-bot-token").await;

    // The private chat with Bob is named by Bob's id; the small group by minus its id.
    s.pair(
        &alice,
        (&user_account, bob.to_string()),
        &[
            (&discord_bot, Some(from_private.to_string())),
            (&telegram_bot, Some(tg_private.to_string())),
        ],
    )
    .await;
    s.pair(
        &alice,
        (&user_account, (-group).to_string()),
        &[
            (&discord_bot, Some(from_group.to_string())),
            (&telegram_bot, Some(tg_group.to_string())),
        ],
    )
    .await;
    s.eventually(
        "the user session listens",
        Duration::from_secs(30),
        || async { dc.connected_sessions(me) > 0 },
    )
    .await;

    let kept = dc.post(Peer::User(me), bob, "stays in the chat");
    let private = dc.post(Peer::User(me), bob, "a private slip");
    let grouped = dc.post(Peer::Chat(group), bob, "a group slip");
    s.eventually("every copy arrives", Duration::from_secs(20), || async {
        s.discord_texts(from_private).len() == 2
            && s.bot_texts(tg_private).len() == 2
            && s.discord_texts(from_group).len() == 1
            && s.bot_texts(tg_group).len() == 1
    })
    .await;

    dc.delete(Peer::User(me), &[private]);
    dc.delete(Peer::Chat(group), &[grouped]);
    s.eventually(
        "the copies are deleted",
        Duration::from_secs(20),
        || async {
            s.discord_texts(from_private) == ["stays in the chat"]
                && s.bot_texts(tg_private) == ["stays in the chat"]
                && s.discord_texts(from_group).is_empty()
                && s.bot_texts(tg_group).is_empty()
        },
    )
    .await;
    assert_ne!(kept, private);
    s.stop().await;
}
