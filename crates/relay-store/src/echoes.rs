//! Is a source message a copy Relay sent? One statement answers it for a whole router
//! batch: whether the message map has the message as some destination's copy, and which
//! of Relay's accounts (of any tenant) the author is.
//!
//! Message ids: Discord's are global snowflakes, so the id alone names a copy (whatever
//! account sent it, a webhook included, whose channel the map does not know). Telegram's
//! are per chat in channels and supergroups (every account sees the same id), but per
//! account in private chats and small groups: there a copy is recognised only when the
//! account that reads is the one that sent it (`shared_ids: false`).

use crate::{Database, StoreError};
use relay_core::AccountId;
use uuid::Uuid;

/// One source message to check.
#[derive(Debug, Clone)]
pub struct EchoProbe<'a> {
    /// `telegram` or `discord`: the reading account's platform.
    pub platform: &'static str,
    /// The account that read it.
    pub account_id: AccountId,
    pub chat_id: &'a str,
    pub message_id: &'a str,
    /// The author's platform id (bot, user or webhook id); empty when unknown.
    pub author_id: &'a str,
    /// Whether every account sees this chat's messages under the same ids.
    pub shared_ids: bool,
}

/// What is known about one probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EchoFinding {
    /// The message map has it as a copy.
    pub copy: bool,
    /// Relay's accounts (of any tenant) the author is.
    pub relay_accounts: Vec<AccountId>,
}

impl Database {
    /// One finding per probe, in order, in one statement.
    pub async fn find_echoes(
        &self,
        probes: &[EchoProbe<'_>],
    ) -> Result<Vec<EchoFinding>, StoreError> {
        if probes.is_empty() {
            return Ok(Vec::new());
        }
        let platforms: Vec<&str> = probes.iter().map(|p| p.platform).collect();
        let accounts: Vec<Uuid> = probes.iter().map(|p| p.account_id.as_uuid()).collect();
        let chats: Vec<&str> = probes.iter().map(|p| p.chat_id).collect();
        let messages: Vec<&str> = probes.iter().map(|p| p.message_id).collect();
        let authors: Vec<&str> = probes.iter().map(|p| p.author_id).collect();
        let shared: Vec<bool> = probes.iter().map(|p| p.shared_ids).collect();
        let rows: Vec<(i64, bool, Vec<Uuid>)> = sqlx::query_as(
            "SELECT p.i, \
                EXISTS (SELECT 1 FROM message_map m \
                        JOIN platform_accounts a ON a.id = m.dest_account_id \
                        WHERE m.dest_message_id = p.message_id \
                          AND (p.platform = 'discord' OR m.dest_chat_id = p.chat_id) \
                          AND (p.shared OR m.dest_account_id = p.account_id) \
                          AND split_part(a.kind, '_', 1) = p.platform), \
                COALESCE((SELECT array_agg(a.id) FROM platform_accounts a \
                          WHERE p.author_id <> '' AND a.external_id = p.author_id \
                            AND split_part(a.kind, '_', 1) = p.platform), '{}') \
             FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[]) \
                  WITH ORDINALITY AS p(platform, account_id, chat_id, message_id, author_id, shared, i) \
             ORDER BY p.i",
        )
        .bind(&platforms)
        .bind(&accounts)
        .bind(&chats)
        .bind(&messages)
        .bind(&authors)
        .bind(&shared)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(_, copy, relay_accounts)| EchoFinding {
                copy,
                relay_accounts: relay_accounts.into_iter().map(AccountId::from).collect(),
            })
            .collect())
    }
}
