//! Telegram albums, both ways.
//!
//! In: Telegram delivers an album as separate messages (one per file) that share a grouped
//! id (MTProto `grouped_id`, Bot API `media_group_id`), one after another and possibly
//! split across update batches. [`AlbumGrouper`] holds the members of an open album and
//! reports them as ONE [`IncomingMessage`]: the first member's id, the others in
//! `grouped_ids`, every file in order, and the caption (whichever member carries it). An
//! album closes when [`QUIET`] passes without a new member, when it has [`MAX_MEMBERS`],
//! or when anything else happens in its chat (a message outside it, an edit, a delete).
//!
//! Out: [`send_groups`] cuts a message's files into what Telegram takes as one album:
//! photos and videos may mix, documents go together, voice notes and stickers alone, and at
//! most [`MAX_MEMBERS`] per album, keeping the files' order within each kind.

use crate::files::{FileKind, kind_of};
use relay_core::messages::{IncomingMessage, SourceEvent};
use std::time::{Duration, Instant};

/// How long an album waits for another member before it is reported.
pub const QUIET: Duration = Duration::from_millis(400);
/// Members of one Telegram album at most.
pub const MAX_MEMBERS: usize = 10;

/// What may share an album with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Photos and videos.
    Visual,
    Document,
    /// Never in an album (voice notes, stickers).
    Alone,
}

fn class(filename: &str) -> Class {
    match kind_of(filename) {
        FileKind::Photo | FileKind::Video => Class::Visual,
        FileKind::Document => Class::Document,
        FileKind::Voice | FileKind::Sticker => Class::Alone,
    }
}

/// The files (by index) in the groups Telegram takes: each kind in the order it first
/// appears, at most [`MAX_MEMBERS`] per group, files that cannot be in an album alone. A
/// group of one is sent as a single message.
pub fn send_groups<'a>(filenames: impl IntoIterator<Item = &'a str>) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Class, Vec<usize>)> = Vec::new();
    for (i, name) in filenames.into_iter().enumerate() {
        let class = class(name);
        let open = groups
            .iter_mut()
            .rev()
            .find(|(c, files)| *c == class && class != Class::Alone && files.len() < MAX_MEMBERS);
        match open {
            Some((_, files)) => files.push(i),
            None => groups.push((class, vec![i])),
        }
    }
    groups.into_iter().map(|(_, files)| files).collect()
}

/// One album being collected.
#[derive(Debug)]
struct Open {
    chat_id: String,
    group: String,
    members: Vec<IncomingMessage>,
    /// When the last member arrived.
    last: Instant,
}

/// Turns a source's events, in order, into the events to report, albums joined. Held
/// members are reported later (by [`Self::push`] or [`Self::due`]); a listener must not
/// let its source's position pass them before then ([`Self::is_holding`]).
#[derive(Debug)]
pub struct AlbumGrouper {
    quiet: Duration,
    open: Vec<Open>,
}

impl Default for AlbumGrouper {
    fn default() -> Self {
        Self::new(QUIET)
    }
}

impl AlbumGrouper {
    pub fn new(quiet: Duration) -> Self {
        Self {
            quiet,
            open: Vec::new(),
        }
    }

    /// Takes the next event (`group`: the album a new message belongs to) and returns what
    /// is ready to report, in order.
    pub fn push(
        &mut self,
        event: SourceEvent,
        group: Option<String>,
        now: Instant,
    ) -> Vec<SourceEvent> {
        let mut ready = Vec::new();
        match (event, group) {
            (SourceEvent::Created(message), Some(group)) => {
                let chat = message.chat_id.clone();
                if let Some(i) = self
                    .open
                    .iter()
                    .position(|o| o.chat_id == chat && o.group == group)
                {
                    let open = &mut self.open[i];
                    open.members.push(message);
                    open.last = now;
                    if open.members.len() >= MAX_MEMBERS {
                        ready.push(joined(self.open.remove(i).members));
                    }
                } else {
                    // Another album in this chat ended where this one starts.
                    ready.extend(self.close(|o| o.chat_id == chat));
                    self.open.push(Open {
                        chat_id: chat,
                        group,
                        members: vec![message],
                        last: now,
                    });
                }
            }
            (event, _) => {
                // Anything else in a chat ends its album first (a delete in a private chat
                // or small group names no chat, and so does a lost authorization: all end).
                let chat = match &event {
                    SourceEvent::Created(m) | SourceEvent::Edited(m) => Some(m.chat_id.clone()),
                    SourceEvent::Deleted { chat_id, .. } if !chat_id.is_empty() => {
                        Some(chat_id.clone())
                    }
                    _ => None,
                };
                ready.extend(self.close(|o| chat.as_ref().is_none_or(|c| *c == o.chat_id)));
                ready.push(event);
            }
        }
        ready
    }

    /// The albums that waited [`QUIET`] without a new member, joined.
    pub fn due(&mut self, now: Instant) -> Vec<SourceEvent> {
        let quiet = self.quiet;
        self.close(|o| now.duration_since(o.last) >= quiet)
    }

    /// Every album held, joined (a source that must report what it has).
    pub fn flush(&mut self) -> Vec<SourceEvent> {
        self.close(|_| true)
    }

    /// When the next album is due, if one is held.
    pub fn deadline(&self) -> Option<Instant> {
        self.open.iter().map(|o| o.last + self.quiet).min()
    }

    pub fn is_holding(&self) -> bool {
        !self.open.is_empty()
    }

    fn close(&mut self, which: impl Fn(&Open) -> bool) -> Vec<SourceEvent> {
        let mut closed = Vec::new();
        let mut i = 0;
        while i < self.open.len() {
            if which(&self.open[i]) {
                closed.push(joined(self.open.remove(i).members));
            } else {
                i += 1;
            }
        }
        closed
    }
}

/// An album's members as one message: the first member's id, the others in
/// `grouped_ids`, every file in order, the caption of whichever member has one.
pub fn join(mut members: Vec<IncomingMessage>) -> Option<IncomingMessage> {
    members.sort_by_key(|m| m.message_id.parse::<i64>().unwrap_or(i64::MAX));
    let mut members = members.into_iter();
    let mut album = members.next()?;
    for member in members {
        if album.text.is_empty() && !member.text.is_empty() {
            album.text = member.text;
        }
        if album.reply_to.is_none() {
            album.reply_to = member.reply_to;
            album.reply_quote = member.reply_quote;
        }
        album.media.extend(member.media);
        album.grouped_ids.push(member.message_id);
    }
    Some(album)
}

fn joined(members: Vec<IncomingMessage>) -> SourceEvent {
    // `members` is never empty: an album opens with its first member.
    SourceEvent::Created(join(members).unwrap_or_default())
}

#[cfg(test)]
#[path = "album_tests.rs"]
mod tests;
