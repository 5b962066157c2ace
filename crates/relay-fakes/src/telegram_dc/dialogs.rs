//! The user's dialogs: messages.getDialogs (every channel, megagroup and basic group the
//! user is a member of, with each channel's pts, then the private chats they have messages
//! in, in one `messages.dialogs` — the fake has no folders and no paging) and messages.getPeerDialogs (the channels asked for: where
//! each stands, what a client reads to start following a channel).

use super::FakeDc;
use super::auth::me;
use super::reply::{Ctx, Reply, err, ok};
use super::state::{ChannelRec, ChatKey};
use super::tl;
use grammers_tl_types::{enums, functions, types};

fn dialog(peer: enums::Peer, top_message: i32, pts: Option<i32>) -> enums::Dialog {
    enums::Dialog::Dialog(types::Dialog {
        pinned: false,
        unread_mark: false,
        view_forum_as_messages: false,
        peer,
        top_message,
        read_inbox_max_id: 0,
        read_outbox_max_id: 0,
        unread_count: 0,
        unread_mentions_count: 0,
        unread_reactions_count: 0,
        unread_poll_votes_count: 0,
        notify_settings: types::PeerNotifySettings {
            show_previews: None,
            silent: None,
            mute_until: None,
            ios_sound: None,
            android_sound: None,
            other_sound: None,
            stories_muted: None,
            stories_hide_sender: None,
            stories_ios_sound: None,
            stories_android_sound: None,
            stories_other_sound: None,
        }
        .into(),
        pts,
        draft: None,
        folder_id: None,
        ttl_period: None,
    })
}

fn channel_dialog(c: &ChannelRec) -> enums::Dialog {
    dialog(
        types::PeerChannel { channel_id: c.id }.into(),
        c.next_msg_id,
        Some(c.pts),
    )
}

/// Every chat the user is a member of (channels and megagroups with their pts, then basic
/// groups); no messages are attached.
pub(crate) fn get_dialogs(dc: &FakeDc, ctx: &Ctx, _req: functions::messages::GetDialogs) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    let mut dialogs = Vec::new();
    let mut chats = Vec::new();
    for c in st.channels.values().filter(|c| c.members.contains(&me)) {
        dialogs.push(channel_dialog(c));
        chats.push(tl::channel(c, Some(me)));
    }
    for g in st.groups.values().filter(|g| g.members.contains(&me)) {
        dialogs.push(dialog(types::PeerChat { chat_id: g.id }.into(), 0, None));
        chats.push(tl::group(g, Some(me)));
    }
    // Private chats: everyone the user exchanged a message with, in first-message order.
    let mut users = Vec::new();
    for m in &st.msgs {
        let ChatKey::Private(a, b) = m.key() else {
            continue;
        };
        let other = match (a == me, b == me) {
            (true, _) => b,
            (_, true) => a,
            _ => continue,
        };
        if other == me || users.iter().any(|u: &enums::User| u.id() == other) {
            continue;
        }
        if let Some(u) = st.users.get(&other) {
            dialogs.push(dialog(tl::peer_user(other), m.id, None));
            users.push(tl::user(u, Some(me)));
        }
    }
    ok(enums::messages::Dialogs::Dialogs(
        types::messages::Dialogs {
            dialogs,
            messages: Vec::new(),
            chats,
            users,
        },
    ))
}

/// The dialogs of the channels asked for, each with the channel's pts (what a client reads
/// to start following a channel). Peers other than the user's channels are left out.
pub(crate) fn get_peer_dialogs(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::messages::GetPeerDialogs,
) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    let mut dialogs = Vec::new();
    let mut chats = Vec::new();
    for peer in &req.peers {
        let enums::InputDialogPeer::Peer(types::InputDialogPeer {
            peer: enums::InputPeer::Channel(channel),
        }) = peer
        else {
            continue;
        };
        let Some(c) = st.channels.get(&channel.channel_id) else {
            return Err(err(400, "CHANNEL_INVALID"));
        };
        if !c.members.contains(&me) {
            return Err(err(400, "CHANNEL_PRIVATE"));
        }
        dialogs.push(channel_dialog(c));
        chats.push(tl::channel(c, Some(me)));
    }
    ok(enums::messages::PeerDialogs::Dialogs(
        types::messages::PeerDialogs {
            dialogs,
            messages: Vec::new(),
            chats,
            users: Vec::new(),
            state: st.updates_state(me),
        },
    ))
}
