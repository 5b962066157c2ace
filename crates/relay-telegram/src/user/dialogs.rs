//! A user session's dialogs as the chats a customer can pick: each with the id pairs use
//! (the Bot API dialog id: a user's id, minus a basic group's, `-100…` for channels and
//! supergroups), its title and kind (a forum is a supergroup with topics).

use grammers_client::Client;
use grammers_client::peer::Peer;
use grammers_client::tl;
use relay_core::chats::{ChatKind, SeenChat};
use relay_core::messages::SendError;

/// Dialogs listed at most (Telegram pages them by 100).
pub const MAX_DIALOGS: usize = 2_000;

/// The session's dialogs, newest activity first (Telegram's order).
pub async fn list(client: &Client) -> Result<Vec<SeenChat>, SendError> {
    let mut dialogs = client.iter_dialogs();
    let mut chats = Vec::new();
    while chats.len() < MAX_DIALOGS {
        let Some(dialog) = dialogs.next().await.map_err(super::send_error)? else {
            break;
        };
        if let Some(chat) = seen_chat(&dialog.peer) {
            chats.push(chat);
        }
    }
    Ok(chats)
}

/// A dialog's peer as a chat to pick; `None` for what no pair can use (deleted accounts,
/// the self chat, communities).
fn seen_chat(peer: &Peer) -> Option<SeenChat> {
    let (title, kind) = match peer {
        Peer::User(user) if user.deleted() || user.is_self() => return None,
        Peer::User(user) => (user.full_name(), ChatKind::Private),
        Peer::Group(group) => {
            let kind = match &group.raw {
                tl::enums::Chat::Channel(c) if c.forum => ChatKind::Forum,
                tl::enums::Chat::Channel(_) | tl::enums::Chat::ChannelForbidden(_) => {
                    ChatKind::Supergroup
                }
                _ => ChatKind::Group,
            };
            (group.title().unwrap_or_default().to_owned(), kind)
        }
        Peer::Channel(channel) => (channel.title().to_owned(), ChatKind::Channel),
        Peer::Community(_) => return None,
    };
    Some(SeenChat {
        chat_id: peer.id().bot_api_dialog_id()?.to_string(),
        title,
        kind,
    })
}
