//! Echo suppression: a message Relay itself sent (by any account or webhook of any tenant)
//! is never taken as a new source message, nor are its edits and deletions. This is what
//! lets two pairs A→B and B→A (a two-way bridge) carry each message across once.
//!
//! Per router batch, one statement ([`Database::find_echoes`]) asks the message map for
//! every created, edited or deleted message, and which of Relay's accounts its author is;
//! one Redis round trip ([`EchoMarks`]) then covers what the map cannot know yet:
//!
//! - **Just sent**: the deliverer marks each id it sent (`id_mark`) before lowering its
//!   account's in-flight counter, so a copy whose map row is not committed yet is known.
//! - **Still sending**: a platform may show the message to a listener before the send
//!   returns. A created message whose author is one of Relay's accounts, found nowhere while
//!   that account has sends in flight, is checked again every few milliseconds until the
//!   sends end (then the marks and the map say) or `RECHECK_FOR` passes (then it counts
//!   as a new message and a warning is logged).
//! - **Private chats and small groups** (Telegram ids differ per account there): a copy
//!   sent by one account and read by another is recognised by a fingerprint of its chat,
//!   sending account and text (`fingerprint_mark`, two minutes), and then marked by the
//!   reader's id so its edits and deletions are dropped too (for a week).

use relay_core::AccountId;
use relay_core::messages::{OutgoingMessage, SourceEvent};
use relay_queue::EchoMarks;
use relay_store::{Database, EchoFinding, EchoProbe, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long an id mark lasts: the message map has the copy long before.
pub const ID_MARK_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a fingerprint waits for the copy to show up at another account.
pub const FINGERPRINT_TTL: Duration = Duration::from_secs(120);
/// How long a copy recognised by its fingerprint stays known by the reader's id.
const SEEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a created message by a Relay account that is still sending waits for its
/// sends to end.
const RECHECK_FOR: Duration = Duration::from_secs(3);
const RECHECK_EVERY: Duration = Duration::from_millis(20);

/// Whether every account sees a chat's messages under the same ids: Discord (global ids),
/// Telegram channels and supergroups (`-100…`).
pub fn shared_ids(discord: bool, chat: &str) -> bool {
    discord || chat.starts_with("-100")
}

/// The mark of a message id sent into `chat` by `account` (the chat is left out on Discord,
/// where a webhook's channel is not known and ids are global; the account is named only
/// where ids are per account).
pub fn id_mark(discord: bool, chat: &str, message_id: &str, account: AccountId) -> String {
    if discord {
        format!("id:discord:{message_id}")
    } else if shared_ids(false, chat) {
        format!("id:telegram:{chat}:{message_id}")
    } else {
        format!("id:telegram:{chat}:{message_id}:{account}")
    }
}

/// The fingerprint of a message `account` sent into a Telegram chat whose ids are its own:
/// the chat, the account, the text and the number of files.
pub fn fingerprint_mark(chat: &str, account: AccountId, text: &str, files: usize) -> String {
    let mut hash = Sha256::new();
    hash.update(text.trim().as_bytes());
    hash.update(files.to_le_bytes());
    let digest = hash.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("fp:{chat}:{account}:{hex}")
}

/// The plain text and number of files of each message a send puts out, for its
/// fingerprints.
pub fn contents<'a>(
    messages: impl IntoIterator<Item = &'a OutgoingMessage>,
) -> Vec<(String, usize)> {
    messages
        .into_iter()
        .map(|m| (m.text.text.clone(), m.files.len()))
        .collect()
}

/// The marks a send leaves behind: its ids, and for a Telegram chat whose ids are per
/// account, the fingerprints of what went out.
pub fn marks_of_send(
    discord: bool,
    chat: &str,
    account: AccountId,
    sent_ids: &[String],
    contents: &[(String, usize)],
) -> Vec<(String, Duration)> {
    let mut marks: Vec<(String, Duration)> = sent_ids
        .iter()
        .map(|id| (id_mark(discord, chat, id, account), ID_MARK_TTL))
        .collect();
    if !shared_ids(discord, chat) {
        marks.extend(contents.iter().map(|(text, files)| {
            (
                fingerprint_mark(chat, account, text, *files),
                FINGERPRINT_TTL,
            )
        }));
    }
    marks
}

/// One event of a batch as the filter sees it.
pub struct Seen<'a> {
    pub account: AccountId,
    /// The reading account is a Discord bot.
    pub discord: bool,
    pub event: &'a SourceEvent,
}

struct Probe<'a> {
    chat: &'a str,
    message_id: &'a str,
    author: &'a str,
    created: Option<(&'a str, usize)>,
}

fn probe(event: &SourceEvent) -> Option<Probe<'_>> {
    match event {
        SourceEvent::Created(m) => Some(Probe {
            chat: &m.chat_id,
            message_id: &m.message_id,
            author: &m.author.id,
            created: Some((&m.text.text, m.media.len())),
        }),
        SourceEvent::Edited(m) => Some(Probe {
            chat: &m.chat_id,
            message_id: &m.message_id,
            author: &m.author.id,
            created: None,
        }),
        SourceEvent::Deleted {
            chat_id,
            message_id,
        } => Some(Probe {
            chat: chat_id,
            message_id,
            author: "",
            created: None,
        }),
        SourceEvent::Unauthorized { .. } => None,
    }
}

/// Finds the echoes among a router batch's events.
pub struct EchoFilter {
    db: Database,
    marks: EchoMarks,
}

impl EchoFilter {
    pub fn new(db: Database, marks: EchoMarks) -> Self {
        Self { db, marks }
    }

    /// For each event, whether it is an echo of a message Relay sent. Redis trouble is
    /// logged and counts as "not an echo" (the map still answers); PostgreSQL trouble is
    /// an error (the router retries the batch).
    pub async fn echoes(&self, seen: &[Seen<'_>]) -> Result<Vec<bool>, StoreError> {
        let probes: Vec<Option<Probe>> = seen.iter().map(|s| probe(s.event)).collect();
        let (index, store_probes): (Vec<usize>, Vec<EchoProbe>) = probes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let p = p.as_ref()?;
                Some((
                    i,
                    EchoProbe {
                        platform: if seen[i].discord {
                            "discord"
                        } else {
                            "telegram"
                        },
                        account_id: seen[i].account,
                        chat_id: p.chat,
                        message_id: p.message_id,
                        author_id: p.author,
                        shared_ids: shared_ids(seen[i].discord, p.chat),
                    },
                ))
            })
            .unzip();
        let mut echo = vec![false; seen.len()];
        if store_probes.is_empty() {
            return Ok(echo);
        }
        let findings = self.db.find_echoes(&store_probes).await?;
        let mut open: Vec<(usize, EchoFinding)> = Vec::new();
        for (i, finding) in index.into_iter().zip(findings) {
            if finding.copy {
                echo[i] = true;
            } else {
                open.push((i, finding));
            }
        }
        if open.is_empty() {
            return Ok(echo);
        }
        match self.check_marks(seen, &probes, &open, &mut echo).await {
            Ok(waiting) if !waiting.is_empty() => {
                self.wait_for_sends(seen, &probes, waiting, &mut echo)
                    .await?;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "echo marks unreadable; only the message map was asked");
            }
        }
        Ok(echo)
    }

    /// Marks the open events found in Redis as echoes; gives back the created ones whose
    /// author (a Relay account) is still sending.
    async fn check_marks(
        &self,
        seen: &[Seen<'_>],
        probes: &[Option<Probe<'_>>],
        open: &[(usize, EchoFinding)],
        echo: &mut [bool],
    ) -> Result<Vec<(usize, Vec<AccountId>)>, relay_queue::QueueError> {
        // Per open event: its id mark under the reader, the senders it could be from,
        // and fingerprints under each of them.
        let mut names = Vec::new();
        let mut owners = Vec::new();
        let mut senders: Vec<AccountId> = Vec::new();
        for (i, finding) in open {
            let Some(p) = &probes[*i] else { continue };
            let discord = seen[*i].discord;
            names.push(id_mark(discord, p.chat, p.message_id, seen[*i].account));
            owners.push((*i, false));
            if let Some((text, files)) = p.created {
                for account in &finding.relay_accounts {
                    if !shared_ids(discord, p.chat) {
                        names.push(fingerprint_mark(p.chat, *account, text, files));
                        owners.push((*i, true));
                    }
                    senders.push(*account);
                }
            }
        }
        senders.sort();
        senders.dedup();
        let sender_names: Vec<String> = senders.iter().map(ToString::to_string).collect();
        let (set, counts) = self.marks.look(&names, &sender_names).await?;
        let mut remember = Vec::new();
        for ((i, fingerprint), set) in owners.into_iter().zip(set) {
            if set && !echo[i] {
                echo[i] = true;
                if fingerprint && let Some(p) = &probes[i] {
                    // Known by the reader's id from now on: its edits and deletes too.
                    let account = seen[i].account;
                    remember.push((id_mark(false, p.chat, p.message_id, account), SEEN_TTL));
                }
            }
        }
        self.marks.mark(&remember).await?;
        let busy: HashSet<AccountId> = senders
            .into_iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(a, _)| a)
            .collect();
        Ok(open
            .iter()
            .filter(|(i, f)| {
                !echo[*i]
                    && probes[*i].as_ref().is_some_and(|p| p.created.is_some())
                    && f.relay_accounts.iter().any(|a| busy.contains(a))
            })
            .map(|(i, f)| (*i, f.relay_accounts.clone()))
            .collect())
    }

    /// Checks again until the authors' sends end: then the marks and the map say.
    async fn wait_for_sends(
        &self,
        seen: &[Seen<'_>],
        probes: &[Option<Probe<'_>>],
        mut waiting: Vec<(usize, Vec<AccountId>)>,
        echo: &mut [bool],
    ) -> Result<(), StoreError> {
        let deadline = Instant::now() + RECHECK_FOR;
        while !waiting.is_empty() {
            if Instant::now() >= deadline {
                tracing::warn!(
                    messages = waiting.len(),
                    "messages by Relay accounts still sending were taken as new after waiting"
                );
                break;
            }
            tokio::time::sleep(RECHECK_EVERY).await;
            let open: Vec<(usize, EchoFinding)> = waiting
                .iter()
                .map(|(i, accounts)| {
                    (
                        *i,
                        EchoFinding {
                            copy: false,
                            relay_accounts: accounts.clone(),
                        },
                    )
                })
                .collect();
            let still = match self.check_marks(seen, probes, &open, echo).await {
                Ok(still) => still,
                Err(e) => {
                    tracing::warn!(error = %e, "echo marks unreadable while waiting");
                    break;
                }
            };
            let finished: Vec<usize> = waiting
                .iter()
                .map(|(i, _)| *i)
                .filter(|i| !echo[*i] && !still.iter().any(|(j, _)| j == i))
                .collect();
            // Sends ended without a mark: the map has the copy if it was a long text
            // (parts are recorded as they go out).
            self.recheck_map(seen, probes, &finished, echo).await?;
            waiting = still;
        }
        Ok(())
    }

    async fn recheck_map(
        &self,
        seen: &[Seen<'_>],
        probes: &[Option<Probe<'_>>],
        which: &[usize],
        echo: &mut [bool],
    ) -> Result<(), StoreError> {
        let store_probes: Vec<EchoProbe> = which
            .iter()
            .filter_map(|&i| {
                let p = probes[i].as_ref()?;
                Some(EchoProbe {
                    platform: if seen[i].discord {
                        "discord"
                    } else {
                        "telegram"
                    },
                    account_id: seen[i].account,
                    chat_id: p.chat,
                    message_id: p.message_id,
                    author_id: "",
                    shared_ids: shared_ids(seen[i].discord, p.chat),
                })
            })
            .collect();
        let findings = self.db.find_echoes(&store_probes).await?;
        for (&i, finding) in which.iter().zip(findings) {
            echo[i] |= finding.copy;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::from(uuid::Uuid::from_u128(7))
    }

    #[test]
    fn discord_ids_are_global_and_telegram_private_ids_name_the_account() {
        assert_eq!(id_mark(true, "", "55", account()), "id:discord:55");
        assert_eq!(
            id_mark(true, "123", "55", account()),
            id_mark(true, "", "55", account())
        );
        assert_eq!(
            id_mark(false, "-1009", "5", account()),
            "id:telegram:-1009:5"
        );
        assert!(id_mark(false, "-9", "5", account()).ends_with(&account().to_string()));
        assert!(id_mark(false, "42", "5", account()).ends_with(&account().to_string()));
    }

    #[test]
    fn fingerprints_tell_texts_and_files_apart_but_not_trailing_space() {
        let a = fingerprint_mark("-5", account(), "hello", 0);
        assert_eq!(a, fingerprint_mark("-5", account(), "hello\n", 0));
        assert_ne!(a, fingerprint_mark("-5", account(), "hello!", 0));
        assert_ne!(a, fingerprint_mark("-5", account(), "hello", 1));
        assert_ne!(a, fingerprint_mark("-6", account(), "hello", 0));
    }

    #[test]
    fn only_chats_with_per_account_ids_get_fingerprints() {
        let message = OutgoingMessage {
            text: relay_core::format::FormattedText::plain("hi"),
            embeds: Vec::new(),
            files: Vec::new(),
            reply_to: None,
            author: None,
        };
        let sent = contents(&[message]);
        assert_eq!(sent, [("hi".to_owned(), 0)]);
        let ids = ["9".to_owned()];
        let channel = marks_of_send(false, "-1001", account(), &ids, &sent);
        assert_eq!(channel.len(), 1);
        let group = marks_of_send(false, "-42", account(), &ids, &sent);
        assert_eq!(group.len(), 2);
        assert!(group[1].0.starts_with("fp:-42:"));
        let discord = marks_of_send(true, "", account(), &ids, &sent);
        assert_eq!(discord.len(), 1);
    }
}
