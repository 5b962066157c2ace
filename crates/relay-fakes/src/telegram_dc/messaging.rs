//! What a logged-in client does to messages: send (text, media, albums), edit, delete and
//! fetch. Sends answer with the plain `updates` constructor holding `updateMessageID` per
//! random_id plus the new-message updates (advancing the same pts as pushes); a random_id
//! already used by that user in that chat replays the original answer instead of sending
//! again. Telegram's limits apply: 4096 characters of text, 1024 of caption, albums of 2–10.

use super::FakeDc;
use super::auth::me;
use super::files::input_media;
use super::model::{MediaKind, Peer};
use super::reply::{Ctx, Reply, RpcError, err, ok};
use super::state::{ChatKey, Event, Msg, State, now};
use super::tl;
use grammers_tl_types::{Serializable, enums, functions, types};

const TEXT_MAX: usize = 4096;
const CAPTION_MAX: usize = 1024;

pub(crate) fn resolve_peer(st: &State, me: i64, peer: &enums::InputPeer) -> Result<Peer, RpcError> {
    let invalid = || err(400, "PEER_ID_INVALID");
    match peer {
        enums::InputPeer::PeerSelf => Ok(Peer::User(me)),
        enums::InputPeer::User(u) if st.users.contains_key(&u.user_id) => Ok(Peer::User(u.user_id)),
        enums::InputPeer::Chat(c) if st.groups.contains_key(&c.chat_id) => {
            Ok(Peer::Chat(c.chat_id))
        }
        enums::InputPeer::Channel(c) if st.channels.contains_key(&c.channel_id) => {
            Ok(Peer::Channel(c.channel_id))
        }
        enums::InputPeer::Channel(_) => Err(err(400, "CHANNEL_INVALID")),
        _ => Err(invalid()),
    }
}

fn can_write(st: &State, me: i64, peer: Peer) -> Result<(), RpcError> {
    match peer {
        Peer::User(_) => Ok(()),
        Peer::Chat(id) => match st.groups.get(&id) {
            Some(g) if g.members.contains(&me) => Ok(()),
            _ => Err(err(403, "CHAT_WRITE_FORBIDDEN")),
        },
        Peer::Channel(id) => match st.channels.get(&id) {
            Some(c) if !c.members.contains(&me) => Err(err(403, "CHAT_WRITE_FORBIDDEN")),
            Some(c) if !c.megagroup && c.creator() != Some(me) => {
                Err(err(403, "CHAT_ADMIN_REQUIRED"))
            }
            Some(_) => Ok(()),
            None => Err(err(400, "CHANNEL_INVALID")),
        },
    }
}

/// One message to create.
pub(crate) struct NewMsg {
    pub text: String,
    pub entities: Vec<super::model::FakeEntity>,
    pub media: Option<i64>,
    pub reply_to: Option<i32>,
    pub random_id: Option<i64>,
    pub grouped_id: Option<i64>,
}

/// Stores messages from `from` in `peer`, records and pushes them (skipping `skip_conn`),
/// and returns the stored messages plus the `updates` as `from` sees them.
pub(crate) fn create(
    st: &mut State,
    peer: Peer,
    from: i64,
    items: Vec<NewMsg>,
    skip_conn: Option<u64>,
) -> (Vec<Msg>, types::Updates) {
    let key = ChatKey::of(peer, from);
    let mut reply = types::Updates {
        updates: Vec::new(),
        users: Vec::new(),
        chats: Vec::new(),
        date: now(),
        seq: 0,
    };
    let mut created = Vec::new();
    for item in items {
        let msg = Msg {
            id: st.next_msg_id(key),
            peer,
            from,
            text: item.text,
            entities: item.entities,
            media: item.media,
            grouped_id: item.grouped_id,
            reply_to: item.reply_to,
            random_id: item.random_id,
            date: now(),
            edit_date: None,
            deleted: false,
        };
        st.msgs.push(msg.clone());
        if let Some(random_id) = msg.random_id {
            reply.updates.push(
                types::UpdateMessageId {
                    id: msg.id,
                    random_id,
                }
                .into(),
            );
        }
        if let Some(mine) = st.record(key, Event::New(msg.clone()), Some(from), skip_conn) {
            merge(&mut reply, mine);
        }
        created.push(msg);
    }
    (created, reply)
}

fn merge(into: &mut types::Updates, from: types::Updates) {
    into.updates.extend(from.updates);
    for u in from.users {
        if !into.users.iter().any(|x| x.id() == u.id()) {
            into.users.push(u);
        }
    }
    for c in from.chats {
        if !into.chats.iter().any(|x| x.id() == c.id()) {
            into.chats.push(c);
        }
    }
}

fn reply_to_id(reply_to: &Option<enums::InputReplyTo>) -> Option<i32> {
    match reply_to {
        Some(enums::InputReplyTo::Message(r)) => Some(r.reply_to_msg_id),
        _ => None,
    }
}

fn entities_of(entities: &Option<Vec<enums::MessageEntity>>) -> Vec<super::model::FakeEntity> {
    entities.iter().flatten().map(tl::entity_from_tl).collect()
}

/// Validates the sender and chat, replays a repeated random_id, else creates `items`.
fn send(
    dc: &FakeDc,
    ctx: &Ctx,
    peer: &enums::InputPeer,
    build: impl FnOnce(&mut State) -> Result<Vec<NewMsg>, RpcError>,
    first_random_id: i64,
) -> Reply {
    let mut st = dc.state();
    let me = me(&st, ctx)?;
    let peer = resolve_peer(&st, me, peer)?;
    can_write(&st, me, peer)?;
    let key = ChatKey::of(peer, me);
    if let Some(previous) = st.sent.get(&(me, key, first_random_id)) {
        return Ok(previous.clone());
    }
    let items = build(&mut st)?;
    let random_ids: Vec<i64> = items.iter().filter_map(|i| i.random_id).collect();
    let (_, updates) = create(&mut st, peer, me, items, Some(ctx.conn_id));
    let bytes = enums::Updates::Updates(updates).to_bytes();
    for random_id in random_ids {
        st.sent.insert((me, key, random_id), bytes.clone());
    }
    Ok(bytes)
}

fn check_text(text: &str, max: usize, too_long: &str) -> Result<(), RpcError> {
    if text.chars().count() > max {
        return Err(err(400, too_long));
    }
    Ok(())
}

pub(crate) fn send_message(dc: &FakeDc, ctx: &Ctx, req: functions::messages::SendMessage) -> Reply {
    if req.message.trim().is_empty() {
        return Err(err(400, "MESSAGE_EMPTY"));
    }
    check_text(&req.message, TEXT_MAX, "MESSAGE_TOO_LONG")?;
    let random_id = req.random_id;
    send(
        dc,
        ctx,
        &req.peer,
        |_| {
            Ok(vec![NewMsg {
                entities: entities_of(&req.entities),
                text: req.message,
                media: None,
                reply_to: reply_to_id(&req.reply_to),
                random_id: Some(random_id),
                grouped_id: None,
            }])
        },
        random_id,
    )
}

pub(crate) fn send_media(dc: &FakeDc, ctx: &Ctx, req: functions::messages::SendMedia) -> Reply {
    check_text(&req.message, CAPTION_MAX, "MEDIA_CAPTION_TOO_LONG")?;
    let random_id = req.random_id;
    send(
        dc,
        ctx,
        &req.peer,
        |st| {
            let media = input_media(st, &req.media)?;
            Ok(vec![NewMsg {
                entities: entities_of(&req.entities),
                text: req.message,
                media: Some(media),
                reply_to: reply_to_id(&req.reply_to),
                random_id: Some(random_id),
                grouped_id: None,
            }])
        },
        random_id,
    )
}

pub(crate) fn send_multi_media(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::messages::SendMultiMedia,
) -> Reply {
    if req.multi_media.len() < 2 {
        return Err(err(400, "MEDIA_INVALID"));
    }
    if req.multi_media.len() > 10 {
        return Err(err(400, "MULTI_MEDIA_TOO_LONG"));
    }
    let singles: Vec<types::InputSingleMedia> = req
        .multi_media
        .into_iter()
        .map(|enums::InputSingleMedia::Media(m)| m)
        .collect();
    for single in &singles {
        check_text(&single.message, CAPTION_MAX, "MEDIA_CAPTION_TOO_LONG")?;
    }
    let first_random_id = singles.first().map_or(0, |s| s.random_id);
    let reply_to = reply_to_id(&req.reply_to);
    send(
        dc,
        ctx,
        &req.peer,
        |st| {
            let grouped_id = st.alloc_id();
            let items = singles
                .into_iter()
                .map(|s| {
                    Ok(NewMsg {
                        media: Some(input_media(st, &s.media)?),
                        entities: entities_of(&s.entities),
                        text: s.message,
                        reply_to,
                        random_id: Some(s.random_id),
                        grouped_id: Some(grouped_id),
                    })
                })
                .collect::<Result<Vec<_>, RpcError>>()?;
            check_album_kinds(st, &items)?;
            Ok(items)
        },
        first_random_id,
    )
}

/// What Telegram lets share an album: photos with videos, documents with documents, audio
/// with audio; voice notes, stickers and animations never.
fn check_album_kinds(st: &State, items: &[NewMsg]) -> Result<(), RpcError> {
    let class = |item: &NewMsg| {
        let kind = item.media.and_then(|id| st.files.get(&id)).map(|f| f.kind);
        match kind {
            Some(MediaKind::Photo | MediaKind::Video) => Ok(0),
            Some(MediaKind::Document) => Ok(1),
            Some(MediaKind::Audio) => Ok(2),
            _ => Err(err(400, "MEDIA_INVALID")),
        }
    };
    let mut classes = items.iter().map(class);
    let first = classes.next().transpose()?;
    for class in classes {
        if Some(class?) != first {
            return Err(err(400, "GROUPED_MEDIA_INVALID"));
        }
    }
    Ok(())
}

pub(crate) fn edit_message(dc: &FakeDc, ctx: &Ctx, req: functions::messages::EditMessage) -> Reply {
    let mut st = dc.state();
    let me = me(&st, ctx)?;
    let peer = resolve_peer(&st, me, &req.peer)?;
    let key = ChatKey::of(peer, me);
    let index = st
        .find_msg(key, req.id)
        .ok_or_else(|| err(400, "MESSAGE_ID_INVALID"))?;
    if st.msgs[index].from != me {
        return Err(err(403, "MESSAGE_AUTHOR_REQUIRED"));
    }
    let media = match &req.media {
        Some(m) => Some(input_media(&mut st, m)?),
        None => None,
    };
    let msg = &mut st.msgs[index];
    let max = if msg.media.is_some() || media.is_some() {
        (CAPTION_MAX, "MEDIA_CAPTION_TOO_LONG")
    } else {
        (TEXT_MAX, "MESSAGE_TOO_LONG")
    };
    let before = (msg.text.clone(), msg.entities.clone(), msg.media);
    if let Some(text) = req.message {
        check_text(&text, max.0, max.1)?;
        if text.trim().is_empty() && msg.media.is_none() && media.is_none() {
            return Err(err(400, "MESSAGE_EMPTY"));
        }
        msg.text = text;
        msg.entities = entities_of(&req.entities);
    }
    if media.is_some() {
        msg.media = media;
    }
    if (msg.text.clone(), msg.entities.clone(), msg.media) == before {
        return Err(err(400, "MESSAGE_NOT_MODIFIED"));
    }
    msg.edit_date = Some(now());
    let snapshot = msg.clone();
    let updates = st
        .record(key, Event::Edit(snapshot), Some(me), Some(ctx.conn_id))
        .ok_or_else(|| err(400, "MESSAGE_ID_INVALID"))?;
    ok(enums::Updates::Updates(updates))
}

/// Marks messages deleted and records one delete event per chat; returns (pts, count) of
/// the last box touched as `viewer` sees it.
pub(crate) fn delete_in(
    st: &mut State,
    targets: Vec<(ChatKey, i32)>,
    viewer: Option<i64>,
    skip_conn: Option<u64>,
) -> i32 {
    let mut by_chat: Vec<(ChatKey, Vec<i32>)> = Vec::new();
    for (key, id) in targets {
        let Some(index) = st.find_msg(key, id) else {
            continue;
        };
        st.msgs[index].deleted = true;
        match by_chat.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(id),
            None => by_chat.push((key, vec![id])),
        }
    }
    let mut count = 0;
    for (key, ids) in by_chat {
        count += ids.len() as i32;
        st.record(key, Event::Delete(ids), viewer, skip_conn);
    }
    count
}

pub(crate) fn delete_messages(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::messages::DeleteMessages,
) -> Reply {
    let mut st = dc.state();
    let me = me(&st, ctx)?;
    let targets: Vec<(ChatKey, i32)> = req
        .id
        .iter()
        .filter_map(|&id| {
            st.msgs
                .iter()
                .find(|m| m.id == id && !m.deleted && visible_common(&st, m, me))
                .map(|m| (m.key(), id))
        })
        .collect();
    let count = delete_in(&mut st, targets, Some(me), Some(ctx.conn_id));
    let pts = st.users.get(&me).map_or(0, |u| u.pts);
    ok(enums::messages::AffectedMessages::Messages(
        types::messages::AffectedMessages {
            pts,
            pts_count: count,
        },
    ))
}

fn visible_common(st: &State, m: &Msg, me: i64) -> bool {
    match m.key() {
        ChatKey::Private(a, b) => a == me || b == me,
        ChatKey::Group(id) => st.groups.get(&id).is_some_and(|g| g.members.contains(&me)),
        ChatKey::Channel(_) => false,
    }
}

fn input_channel(st: &State, me: i64, channel: &enums::InputChannel) -> Result<i64, RpcError> {
    let enums::InputChannel::Channel(c) = channel else {
        return Err(err(400, "CHANNEL_INVALID"));
    };
    let rec = st
        .channels
        .get(&c.channel_id)
        .ok_or_else(|| err(400, "CHANNEL_INVALID"))?;
    if !rec.members.contains(&me) {
        return Err(err(400, "CHANNEL_PRIVATE"));
    }
    Ok(c.channel_id)
}

pub(crate) fn delete_channel_messages(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::channels::DeleteMessages,
) -> Reply {
    let mut st = dc.state();
    let me = me(&st, ctx)?;
    let channel = input_channel(&st, me, &req.channel)?;
    let key = ChatKey::Channel(channel);
    let is_creator = st.channels.get(&channel).and_then(|c| c.creator()) == Some(me);
    for &id in &req.id {
        if let Some(index) = st.find_msg(key, id)
            && st.msgs[index].from != me
            && !is_creator
        {
            return Err(err(403, "MESSAGE_DELETE_FORBIDDEN"));
        }
    }
    let targets = req.id.iter().map(|&id| (key, id)).collect();
    let count = delete_in(&mut st, targets, Some(me), Some(ctx.conn_id));
    let pts = st.channels.get(&channel).map_or(0, |c| c.pts);
    ok(enums::messages::AffectedMessages::Messages(
        types::messages::AffectedMessages {
            pts,
            pts_count: count,
        },
    ))
}

fn wanted_ids(ids: &[enums::InputMessage]) -> Vec<i32> {
    ids.iter()
        .filter_map(|m| match m {
            enums::InputMessage::Id(m) => Some(m.id),
            _ => None,
        })
        .collect()
}

fn found(st: &State, me: i64, msgs: &[&Msg], ids: &[i32]) -> Vec<enums::Message> {
    ids.iter()
        .map(|&id| match msgs.iter().find(|m| m.id == id) {
            Some(m) => tl::message(st, m, me),
            None => types::MessageEmpty { id, peer_id: None }.into(),
        })
        .collect()
}

pub(crate) fn get_messages(dc: &FakeDc, ctx: &Ctx, req: functions::messages::GetMessages) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    let ids = wanted_ids(&req.id);
    let msgs: Vec<&Msg> = st
        .msgs
        .iter()
        .filter(|m| !m.deleted && ids.contains(&m.id) && visible_common(&st, m, me))
        .collect();
    let mut chats = Vec::new();
    for m in &msgs {
        if let Some(chat) = tl::chat_of(&st, m.peer, Some(me))
            && !chats.iter().any(|c: &enums::Chat| c.id() == chat.id())
        {
            chats.push(chat);
        }
    }
    ok(enums::messages::Messages::Messages(
        types::messages::Messages {
            messages: found(&st, me, &msgs, &ids),
            topics: Vec::new(),
            chats,
            users: tl::users_of(&st, &msgs, Some(me)),
        },
    ))
}

pub(crate) fn get_channel_messages(
    dc: &FakeDc,
    ctx: &Ctx,
    req: functions::channels::GetMessages,
) -> Reply {
    let st = dc.state();
    let me = me(&st, ctx)?;
    let channel = input_channel(&st, me, &req.channel)?;
    let ids = wanted_ids(&req.id);
    let msgs: Vec<&Msg> = st
        .msgs
        .iter()
        .filter(|m| !m.deleted && ids.contains(&m.id) && m.key() == ChatKey::Channel(channel))
        .collect();
    let c = st
        .channels
        .get(&channel)
        .ok_or_else(|| err(400, "CHANNEL_INVALID"))?;
    ok(enums::messages::Messages::ChannelMessages(
        types::messages::ChannelMessages {
            inexact: false,
            pts: c.pts,
            count: msgs.len() as i32,
            offset_id_offset: None,
            messages: found(&st, me, &msgs, &ids),
            topics: Vec::new(),
            chats: vec![tl::channel(c, Some(me))],
            users: tl::users_of(&st, &msgs, Some(me)),
        },
    ))
}
