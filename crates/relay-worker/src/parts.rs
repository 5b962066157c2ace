//! Long text at a destination: the outgoing message in parts within the destination's
//! limit (Discord: 2,000 characters of rendered markdown; Telegram: 4,096 UTF-16 units, the
//! first 1,024 when it is a media caption), split on paragraphs, lines, then words, with
//! styles closed and reopened at a cut (`relay_core::format::split`).
//!
//! The parts go out in order, each recorded in the message map (part 0, 1, …) as soon as
//! it is sent, so a retried delivery sends only the parts not out yet. An edit edits every
//! part, sends the parts a longer text adds and deletes those a shorter one drops; a delete
//! removes every part. A text that fits is one part and takes the single-message path.
//!
//! Files go with the first part, cut into what one destination message takes: on Discord
//! at most 10 attachments a message, on Telegram albums of 2–10 files of kinds that may
//! share one (`relay_telegram::album::send_groups`); the further groups follow the first
//! part, without text, before the text's other parts. A send that creates several messages
//! (a Telegram album is a message per file) records them all: part `n` of the text at `n`,
//! the other messages of send `i` at [`ALBUM_BASE`]` + 16·i + k`. Edits change the text's
//! parts only (an album's files stay); a delete removes every message.

use crate::accounts::AnySink;
use crate::deliver::Failure;
use relay_core::AccountKind;
use relay_core::format::{
    DISCORD_MESSAGE_LIMIT, DiscordOptions, Measure, TELEGRAM_CAPTION_LIMIT, TELEGRAM_MESSAGE_LIMIT,
    split_with_first,
};
use relay_core::messages::{OutgoingFile, OutgoingMessage, SendError};
use relay_store::Database;
use relay_store::outbox::{ClaimedDelivery, MessageCopy};
use relay_telegram::album::send_groups;

/// Where the other messages of a send are recorded (below it: the text's parts).
pub(crate) const ALBUM_BASE: i16 = 1000;
/// Message map slots per send above [`ALBUM_BASE`] (a send makes at most 11 messages: ten
/// files and a caption too long for them).
const PER_SEND: i16 = 16;

/// One message (or album) to send, and the message map part its first message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) part: i16,
    pub(crate) message: OutgoingMessage,
}

/// The message map part of the `k`-th message (from 1) of send `send`.
fn other_part(send: usize, k: usize) -> i16 {
    ALBUM_BASE + PER_SEND * send as i16 + k as i16
}

/// `message` as the sends the destination's platform takes, in order: the first with the
/// text's first part, the first files, embeds and reply; then the other file groups; then
/// the text's other parts (with the author, for webhooks).
pub(crate) fn split(kind: AccountKind, message: OutgoingMessage) -> Vec<Part> {
    let mut texts = split_text(kind, message).into_iter();
    let Some(mut first) = texts.next() else {
        return Vec::new();
    };
    let author = first.author.clone();
    let mut groups = file_groups(kind, std::mem::take(&mut first.files)).into_iter();
    first.files = groups.next().unwrap_or_default();
    let mut parts = vec![Part {
        part: 0,
        message: first,
    }];
    for files in groups {
        let send = parts.len();
        parts.push(Part {
            part: other_part(send, 0),
            message: OutgoingMessage {
                files,
                author: author.clone(),
                ..OutgoingMessage::default()
            },
        });
    }
    parts.extend(texts.enumerate().map(|(i, message)| Part {
        part: i as i16 + 1,
        message,
    }));
    parts
}

/// Files in the groups one message of the destination carries.
fn file_groups(kind: AccountKind, files: Vec<OutgoingFile>) -> Vec<Vec<OutgoingFile>> {
    match kind {
        AccountKind::DiscordBot | AccountKind::DiscordWebhook => {
            let mut groups = Vec::new();
            let mut files = files.into_iter().peekable();
            while files.peek().is_some() {
                groups.push(files.by_ref().take(relay_discord::MAX_FILES).collect());
            }
            groups
        }
        AccountKind::TelegramBot | AccountKind::TelegramUser => {
            let order = send_groups(files.iter().map(|f| f.filename.as_str()));
            let mut files: Vec<Option<OutgoingFile>> = files.into_iter().map(Some).collect();
            order
                .into_iter()
                .map(|group| group.into_iter().filter_map(|i| files[i].take()).collect())
                .collect()
        }
    }
}

/// The text of `message` in the parts the destination's platform takes: the first with
/// the files, embeds and reply, the others text only (with the author, for webhooks).
fn split_text(kind: AccountKind, message: OutgoingMessage) -> Vec<OutgoingMessage> {
    let (first, rest, measure) = match kind {
        AccountKind::DiscordBot | AccountKind::DiscordWebhook => (
            DISCORD_MESSAGE_LIMIT,
            DISCORD_MESSAGE_LIMIT,
            // As the Discord sinks render it.
            Measure::Discord(DiscordOptions::default()),
        ),
        AccountKind::TelegramBot | AccountKind::TelegramUser if !message.files.is_empty() => (
            TELEGRAM_CAPTION_LIMIT,
            TELEGRAM_MESSAGE_LIMIT,
            Measure::Telegram,
        ),
        AccountKind::TelegramBot | AccountKind::TelegramUser => (
            TELEGRAM_MESSAGE_LIMIT,
            TELEGRAM_MESSAGE_LIMIT,
            Measure::Telegram,
        ),
    };
    let texts = split_with_first(&message.text, first, rest, measure);
    if texts.len() <= 1 {
        return vec![message];
    }
    let author = message.author.clone();
    let mut texts = texts.into_iter();
    let mut parts = vec![OutgoingMessage {
        text: texts.next().unwrap_or_default(),
        ..message
    }];
    parts.extend(texts.map(|text| OutgoingMessage {
        text,
        author: author.clone(),
        ..OutgoingMessage::default()
    }));
    parts
}

/// The idempotency key of part `part` of a delivery (part 0 keeps the single message's).
fn key(delivery: i64, part: usize) -> String {
    match part {
        0 => format!("relay-{delivery}"),
        n => format!("relay-{delivery}-{n}"),
    }
}

fn store(e: relay_store::StoreError) -> Failure {
    Failure::Store(e)
}

/// Whether `parts` go out as more than one message (then [`send`] records them).
pub(crate) fn several(parts: &[Part]) -> bool {
    parts.len() > 1 || parts.iter().any(|p| p.message.files.len() > 1)
}

/// Sends the parts an earlier attempt did not, recording each (every message of it);
/// the first part's id.
pub(crate) async fn send(
    db: &Database,
    sink: &AnySink,
    claimed: &ClaimedDelivery,
    chat: &str,
    parts: &[Part],
) -> Result<String, Failure> {
    let source = &claimed.source_message_id;
    let sent = db
        .message_copies(claimed.destination_id, &claimed.source_chat_id, source)
        .await
        .map_err(store)?;
    let mut first = None;
    for (i, part) in parts.iter().enumerate() {
        let id = match copy_of(&sent, part.part) {
            Some(copy) => copy.dest_message_id.clone(),
            None => send_part(db, sink, claimed, source, chat, i, part).await?,
        };
        first.get_or_insert(id);
    }
    Ok(first.unwrap_or_default())
}

/// Sends one part (send `i` of the delivery) and records every message it made.
async fn send_part(
    db: &Database,
    sink: &AnySink,
    claimed: &ClaimedDelivery,
    source: &str,
    chat: &str,
    i: usize,
    part: &Part,
) -> Result<String, Failure> {
    let sent = sink
        .send(chat, &part.message, &key(claimed.id, i))
        .await
        .map_err(Failure::Send)?;
    let mut copies = vec![(part.part, sent.message_id.clone())];
    copies.extend(
        sent.others
            .into_iter()
            .enumerate()
            .map(|(k, id)| (other_part(i, k + 1), id)),
    );
    db.record_copies(claimed, source, chat, &copies)
        .await
        .map_err(store)?;
    Ok(sent.message_id)
}

/// Brings the copies of `target` to `parts`: edits the text's parts both have, sends the
/// new ones and deletes (and forgets) the ones no longer needed. An album's other
/// messages stay as they are.
pub(crate) async fn edit(
    db: &Database,
    sink: &AnySink,
    claimed: &ClaimedDelivery,
    target: &str,
    chat: &str,
    copies: &[MessageCopy],
    parts: &[Part],
) -> Result<(), Failure> {
    let texts: Vec<&Part> = parts.iter().filter(|p| p.part < ALBUM_BASE).collect();
    let last_copy = copies
        .iter()
        .filter(|c| c.part < ALBUM_BASE)
        .map(|c| c.part as usize + 1)
        .max()
        .unwrap_or(0);
    for i in 0..texts.len().max(last_copy) {
        match (texts.get(i), copy_of(copies, i as i16)) {
            (Some(part), Some(copy)) => sink
                .edit(chat, &copy.dest_message_id, &part.message)
                .await
                .map_err(Failure::Send)?,
            (Some(part), None) => {
                send_part(db, sink, claimed, target, chat, i, part).await?;
            }
            (None, Some(copy)) => {
                match sink.delete(chat, &copy.dest_message_id).await {
                    Ok(()) | Err(SendError::NotFound(_)) => {}
                    Err(e) => return Err(Failure::Send(e)),
                }
                db.forget_copy(
                    claimed.destination_id,
                    &claimed.source_chat_id,
                    target,
                    copy.part,
                )
                .await
                .map_err(store)?;
            }
            (None, None) => {}
        }
    }
    Ok(())
}

/// Deletes every part, the first last (a later part already gone is no failure).
pub(crate) async fn delete(
    sink: &AnySink,
    chat: &str,
    copies: &[MessageCopy],
) -> Result<(), Failure> {
    for copy in copies.iter().rev() {
        match sink.delete(chat, &copy.dest_message_id).await {
            Err(SendError::NotFound(_)) if copy.part > 0 => {}
            done => done.map_err(Failure::Send)?,
        }
    }
    Ok(())
}

fn copy_of(copies: &[MessageCopy], part: i16) -> Option<&MessageCopy> {
    copies.iter().find(|c| c.part == part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::format::{FormattedText, Span, Style};
    use relay_core::messages::Author;

    fn messages(parts: Vec<Part>) -> Vec<OutgoingMessage> {
        parts.into_iter().map(|p| p.message).collect()
    }

    fn file(name: &str) -> OutgoingFile {
        OutgoingFile {
            filename: name.into(),
            bytes: vec![1],
        }
    }

    fn long(words: usize) -> FormattedText {
        let text = "word ".repeat(words);
        let text = text.trim_end();
        FormattedText::new(text, vec![Span::new(0, text.len(), Style::Bold)])
    }

    #[test]
    fn a_text_that_fits_is_the_message_itself() {
        let message = OutgoingMessage {
            text: "short".into(),
            reply_to: Some("1".into()),
            ..OutgoingMessage::default()
        };
        assert_eq!(
            split(AccountKind::DiscordBot, message.clone()),
            vec![Part { part: 0, message }]
        );
    }

    #[test]
    fn long_text_is_cut_per_platform_with_the_files_and_reply_on_the_first_part() {
        let author = Author {
            name: "Alice".into(),
            ..Author::default()
        };
        let message = OutgoingMessage {
            text: long(2000), // 9,999 characters, bold: 10,003 in markdown
            files: vec![OutgoingFile {
                filename: "a.png".into(),
                bytes: vec![1],
            }],
            reply_to: Some("7".into()),
            author: Some(author.clone()),
            ..OutgoingMessage::default()
        };
        let discord = messages(split(AccountKind::DiscordWebhook, message.clone()));
        assert_eq!(discord.len(), 6);
        let telegram = messages(split(AccountKind::TelegramBot, message));
        // A caption of at most 1,024, then 4,096 at most: 1,024 + 4,096 + 4,096 + ….
        assert_eq!(telegram.len(), 4);
        assert!(telegram[0].text.text.len() <= 1024);
        for parts in [&discord, &telegram] {
            assert_eq!(parts[0].files.len(), 1);
            assert_eq!(parts[0].reply_to.as_deref(), Some("7"));
            assert!(parts[1..].iter().all(|p| p.files.is_empty()
                && p.reply_to.is_none()
                && p.author == Some(author.clone())
                && p.text.spans.len() == 1));
        }
        let words: usize = telegram
            .iter()
            .map(|p| p.text.text.split(' ').count())
            .sum();
        assert_eq!(words, 2000, "no word lost or cut");
    }

    #[test]
    fn an_album_goes_out_in_groups_each_destination_takes_with_the_caption_once() {
        let names = [
            "1.jpg", "2.pdf", "3.jpg", "4.mp4", "5.jpg", "6.jpg", "7.jpg", "8.jpg", "9.jpg",
            "10.jpg", "11.jpg", "12.png", "13.txt",
        ];
        let message = OutgoingMessage {
            text: long(300), // over a Telegram caption: a second part
            files: names.iter().map(|n| file(n)).collect(),
            reply_to: Some("7".into()),
            ..OutgoingMessage::default()
        };
        let names_of = |p: &Part| -> Vec<String> {
            p.message.files.iter().map(|f| f.filename.clone()).collect()
        };

        let discord = split(AccountKind::DiscordBot, message.clone());
        assert_eq!(discord.len(), 2, "ten attachments, then three");
        assert_eq!(names_of(&discord[0]), names[..10].to_vec());
        assert_eq!(names_of(&discord[1]), names[10..].to_vec());
        assert_eq!(
            (discord[0].part, discord[1].part),
            (0, ALBUM_BASE + PER_SEND)
        );
        assert!(discord[1].message.text.is_empty() && discord[1].message.reply_to.is_none());

        let telegram = split(AccountKind::TelegramUser, message);
        let groups: Vec<Vec<String>> = telegram.iter().map(names_of).collect();
        assert_eq!(
            groups,
            vec![
                vec![
                    "1.jpg", "3.jpg", "4.mp4", "5.jpg", "6.jpg", "7.jpg", "8.jpg", "9.jpg",
                    "10.jpg", "11.jpg"
                ],
                vec!["2.pdf", "13.txt"],
                vec!["12.png"],
                vec![],
            ]
        );
        let captions: Vec<bool> = telegram
            .iter()
            .map(|p| !p.message.text.is_empty())
            .collect();
        assert_eq!(
            captions,
            vec![true, false, false, true],
            "the caption once, then its rest"
        );
        assert!(telegram[0].message.text.text.encode_utf16().count() <= 1024);
        let parts: Vec<i16> = telegram.iter().map(|p| p.part).collect();
        assert_eq!(
            parts,
            vec![0, ALBUM_BASE + PER_SEND, ALBUM_BASE + 2 * PER_SEND, 1]
        );
        assert!(several(&telegram));
        // Every message a send makes has its own slot: ten per album at most, plus one.
        assert!(other_part(0, 11) < other_part(1, 0));
    }
}
