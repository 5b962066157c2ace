//! Recording what happens in chats: every new, edited or deleted message advances the pts
//! of its box (each participant's common pts, or the channel's pts), lands in that box's log
//! for getDifference, and is pushed as an `updates` to the participants' live connections.

use super::model::Peer;
use super::state::{ChatKey, Event, LogEntry, Msg, State, now};
use super::tl;
use grammers_tl_types::{Serializable, enums, types};

fn chat_peer(key: ChatKey) -> Option<Peer> {
    match key {
        ChatKey::Private(..) => None,
        ChatKey::Group(id) => Some(Peer::Chat(id)),
        ChatKey::Channel(id) => Some(Peer::Channel(id)),
    }
}

impl State {
    /// Records `event` in `key`'s chat, pushes it to every participant's connections except
    /// `skip_conn`, and returns the `updates` as `viewer` (the sender) sees them.
    pub(crate) fn record(
        &mut self,
        key: ChatKey,
        event: Event,
        viewer: Option<i64>,
        skip_conn: Option<u64>,
    ) -> Option<types::Updates> {
        let count = match &event {
            Event::Delete(ids) => ids.len() as i32,
            Event::New(_) | Event::Edit(_) => 1,
        };
        if count == 0 {
            return None;
        }
        let mut mine = None;
        let members = self.participants(key);
        let channel_pts = match key {
            ChatKey::Channel(id) => {
                let channel = self.channels.get_mut(&id)?;
                channel.pts += count;
                channel.log.push(LogEntry {
                    pts: channel.pts,
                    count,
                    event: event.clone(),
                });
                Some(channel.pts)
            }
            _ => None,
        };
        for user in members {
            let pts = match channel_pts {
                Some(pts) => pts,
                None => {
                    let Some(u) = self.users.get_mut(&user) else {
                        continue;
                    };
                    u.pts += count;
                    u.log.push(LogEntry {
                        pts: u.pts,
                        count,
                        event: event.clone(),
                    });
                    u.pts
                }
            };
            let updates = self.updates_for(user, key, &event, pts, count);
            self.push_to_user(user, &updates, skip_conn);
            if Some(user) == viewer {
                mine = Some(updates);
            }
        }
        mine
    }

    fn updates_for(
        &self,
        viewer: i64,
        key: ChatKey,
        event: &Event,
        pts: i32,
        count: i32,
    ) -> types::Updates {
        let msgs: Vec<&Msg> = match event {
            Event::New(m) | Event::Edit(m) => vec![m],
            Event::Delete(_) => Vec::new(),
        };
        types::Updates {
            updates: vec![self.event_update(viewer, key, event, pts, count)],
            users: tl::users_of(self, &msgs, Some(viewer)),
            chats: chat_peer(key)
                .and_then(|p| tl::chat_of(self, p, Some(viewer)))
                .into_iter()
                .collect(),
            date: now(),
            seq: 0,
        }
    }

    pub(crate) fn event_update(
        &self,
        viewer: i64,
        key: ChatKey,
        event: &Event,
        pts: i32,
        pts_count: i32,
    ) -> enums::Update {
        let channel = match key {
            ChatKey::Channel(id) => Some(id),
            _ => None,
        };
        match (event, channel) {
            (Event::New(m), Some(_)) => types::UpdateNewChannelMessage {
                message: tl::message(self, m, viewer),
                pts,
                pts_count,
            }
            .into(),
            (Event::New(m), None) => types::UpdateNewMessage {
                message: tl::message(self, m, viewer),
                pts,
                pts_count,
            }
            .into(),
            (Event::Edit(m), Some(_)) => types::UpdateEditChannelMessage {
                message: tl::message(self, m, viewer),
                pts,
                pts_count,
            }
            .into(),
            (Event::Edit(m), None) => types::UpdateEditMessage {
                message: tl::message(self, m, viewer),
                pts,
                pts_count,
            }
            .into(),
            (Event::Delete(ids), Some(channel_id)) => types::UpdateDeleteChannelMessages {
                channel_id,
                messages: ids.clone(),
                pts,
                pts_count,
            }
            .into(),
            (Event::Delete(ids), None) => types::UpdateDeleteMessages {
                messages: ids.clone(),
                pts,
                pts_count,
            }
            .into(),
        }
    }

    /// Sends `updates` to every live connection whose device key is logged in as `user`.
    pub(crate) fn push_to_user(&self, user: i64, updates: &types::Updates, skip_conn: Option<u64>) {
        let mut bytes = None;
        for (id, conn) in &self.conns {
            if Some(*id) == skip_conn {
                continue;
            }
            let (Some(key_id), Some(push)) = (&conn.key_id, &conn.push) else {
                continue;
            };
            if self.user_of_key(key_id) != Some(user) {
                continue;
            }
            let bytes =
                bytes.get_or_insert_with(|| enums::Updates::Updates(updates.clone()).to_bytes());
            let _ = push.send(bytes.clone());
        }
    }

    pub(crate) fn updates_state(&self, user: i64) -> enums::updates::State {
        enums::updates::State::State(types::updates::State {
            pts: self.users.get(&user).map_or(0, |u| u.pts),
            qts: 0,
            date: now(),
            seq: 0,
            unread_count: 0,
        })
    }

    /// Everything in `user`'s common box after `pts`, plus a nudge (`updateChannelTooLong`
    /// without pts) for every channel of theirs that has messages, so that the client
    /// fetches those channels' differences from the pts it knows.
    pub(crate) fn difference(&self, user: i64, pts: i32) -> enums::updates::Difference {
        let Some(u) = self.users.get(&user) else {
            return empty_difference();
        };
        let mut new_messages = Vec::new();
        let mut other_updates = Vec::new();
        let mut msgs = Vec::new();
        let mut chats = Vec::new();
        for entry in u.log.iter().filter(|e| e.pts > pts) {
            match &entry.event {
                Event::New(m) => {
                    new_messages.push(tl::message(self, m, user));
                    msgs.push(m);
                }
                other => {
                    if let Event::Edit(m) = other {
                        msgs.push(m);
                    }
                    other_updates.push(self.event_update(
                        user,
                        ChatKey::Private(0, 0),
                        other,
                        entry.pts,
                        entry.count,
                    ));
                }
            }
        }
        for m in &msgs {
            if let Peer::Chat(id) = m.peer
                && let Some(g) = self.groups.get(&id)
                && !chats.iter().any(|c: &enums::Chat| c.id() == id)
            {
                chats.push(tl::group(g, Some(user)));
            }
        }
        for c in self.channels.values() {
            if c.members.contains(&user) && c.pts > 0 {
                other_updates.push(
                    types::UpdateChannelTooLong {
                        channel_id: c.id,
                        pts: None,
                    }
                    .into(),
                );
                chats.push(tl::channel(c, Some(user)));
            }
        }
        if new_messages.is_empty() && other_updates.is_empty() {
            return empty_difference();
        }
        let users = tl::users_of(self, &msgs, Some(user));
        enums::updates::Difference::Difference(types::updates::Difference {
            new_messages,
            new_encrypted_messages: Vec::new(),
            other_updates,
            chats,
            users,
            state: self.updates_state(user),
        })
    }

    /// The channel's messages and changes after `pts`, all at once (`final`).
    pub(crate) fn channel_difference(
        &self,
        user: i64,
        channel_id: i64,
        pts: i32,
    ) -> Option<enums::updates::ChannelDifference> {
        let c = self.channels.get(&channel_id)?;
        let entries: Vec<&LogEntry> = c.log.iter().filter(|e| e.pts > pts).collect();
        if entries.is_empty() {
            return Some(
                types::updates::ChannelDifferenceEmpty {
                    r#final: true,
                    pts: c.pts,
                    timeout: None,
                }
                .into(),
            );
        }
        let mut new_messages = Vec::new();
        let mut other_updates = Vec::new();
        let mut msgs = Vec::new();
        for entry in entries {
            match &entry.event {
                Event::New(m) => {
                    new_messages.push(tl::message(self, m, user));
                    msgs.push(m);
                }
                other => other_updates.push(self.event_update(
                    user,
                    ChatKey::Channel(channel_id),
                    other,
                    entry.pts,
                    entry.count,
                )),
            }
        }
        Some(
            types::updates::ChannelDifference {
                r#final: true,
                pts: c.pts,
                timeout: None,
                new_messages,
                other_updates,
                chats: vec![tl::channel(c, Some(user))],
                users: tl::users_of(self, &msgs, Some(user)),
            }
            .into(),
        )
    }
}

fn empty_difference() -> enums::updates::Difference {
    types::updates::DifferenceEmpty {
        date: now(),
        seq: 0,
    }
    .into()
}
