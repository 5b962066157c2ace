//! Long text at a destination: the outgoing message in parts within the destination's
//! limit (Discord: 2,000 characters of rendered markdown; Telegram: 4,096 UTF-16 units, the
//! first 1,024 when it is a media caption), split on paragraphs, lines, then words, with
//! styles closed and reopened at a cut (`relay_core::format::split`).
//!
//! The parts go out in order, each recorded in the message map (part 0, 1, …) as soon as
//! it is sent, so a retried delivery sends only the parts not out yet. An edit edits every
//! part, sends the parts a longer text adds and deletes those a shorter one drops; a delete
//! removes every part. A text that fits is one part and takes the single-message path.

use crate::accounts::AnySink;
use crate::deliver::Failure;
use relay_core::AccountKind;
use relay_core::format::{
    DISCORD_MESSAGE_LIMIT, DiscordOptions, Measure, TELEGRAM_CAPTION_LIMIT, TELEGRAM_MESSAGE_LIMIT,
    split_with_first,
};
use relay_core::messages::{OutgoingMessage, SendError};
use relay_store::Database;
use relay_store::outbox::{ClaimedDelivery, MessageCopy};

/// `message` in the parts the destination's platform takes, in order: the first with the
/// files, embeds and reply, the others text only (with the author, for webhooks).
pub(crate) fn split(kind: AccountKind, message: OutgoingMessage) -> Vec<OutgoingMessage> {
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

/// Sends the parts an earlier attempt did not, recording each; the first part's id.
pub(crate) async fn send(
    db: &Database,
    sink: &AnySink,
    claimed: &ClaimedDelivery,
    chat: &str,
    parts: &[OutgoingMessage],
) -> Result<String, Failure> {
    let source = &claimed.source_message_id;
    let sent = db
        .message_copies(claimed.destination_id, &claimed.source_chat_id, source)
        .await
        .map_err(store)?;
    let mut first = None;
    for (i, part) in parts.iter().enumerate() {
        let id = match copy_of(&sent, i) {
            Some(copy) => copy.dest_message_id.clone(),
            None => {
                let id = sink
                    .send(chat, part, &key(claimed.id, i))
                    .await
                    .map_err(Failure::Send)?
                    .message_id;
                db.record_copy(claimed, source, i as i16, chat, &id)
                    .await
                    .map_err(store)?;
                id
            }
        };
        first.get_or_insert(id);
    }
    Ok(first.unwrap_or_default())
}

/// Brings the copies of `target` to `parts`: edits the parts both have, sends the new ones
/// and deletes (and forgets) the ones no longer needed.
pub(crate) async fn edit(
    db: &Database,
    sink: &AnySink,
    claimed: &ClaimedDelivery,
    target: &str,
    chat: &str,
    copies: &[MessageCopy],
    parts: &[OutgoingMessage],
) -> Result<(), Failure> {
    let last_copy = copies
        .iter()
        .map(|c| c.part as usize + 1)
        .max()
        .unwrap_or(0);
    for i in 0..parts.len().max(last_copy) {
        match (parts.get(i), copy_of(copies, i)) {
            (Some(part), Some(copy)) => sink
                .edit(chat, &copy.dest_message_id, part)
                .await
                .map_err(Failure::Send)?,
            (Some(part), None) => {
                let id = sink
                    .send(chat, part, &key(claimed.id, i))
                    .await
                    .map_err(Failure::Send)?
                    .message_id;
                db.record_copy(claimed, target, i as i16, chat, &id)
                    .await
                    .map_err(store)?;
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

fn copy_of(copies: &[MessageCopy], part: usize) -> Option<&MessageCopy> {
    copies.iter().find(|c| c.part as usize == part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::format::{FormattedText, Span, Style};
    use relay_core::messages::{Author, OutgoingFile};

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
            vec![message]
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
        let discord = split(AccountKind::DiscordWebhook, message.clone());
        assert_eq!(discord.len(), 6);
        let telegram = split(AccountKind::TelegramBot, message);
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
}
