//! A pair's destination list: each destination's account and chat, the plan's count, no
//! repeats, and no destination that sends back into the source chat (a webhook's channel
//! is asked of Discord).

use super::Accounts;
use super::requests::DestinationRequest;
use super::validation::{chat_id, lookup, names_chat, plan_name, platform, present_value};
use crate::auth::AuthUser;
use crate::routes::Fields;
use crate::routes::accounts::limit_platform_checks;
use crate::{ApiError, AppState};
use relay_core::AccountId;
use relay_core::messages::SendError;
use relay_discord::DiscordRest;
use relay_store::{Account, NewDestination, PlanLimits};
use std::collections::HashMap;

/// A destination that passed its own checks.
pub(super) struct Target<'a> {
    /// `destinations[i]`
    pub(super) field: String,
    pub(super) account: &'a Account,
    pub(super) chat_id: Option<String>,
    pub(super) show_author: bool,
    pub(super) rules: Option<relay_core::rules::DestinationRules>,
}

/// Checks a destination list on its own (accounts, chat ids, count, repeats); `None` for
/// each entry that failed.
pub(super) fn check_destinations<'a>(
    fields: &mut Fields,
    accounts: &'a Accounts,
    limits: &PlanLimits,
    list: &[DestinationRequest],
) -> Vec<Option<Target<'a>>> {
    let max = usize::try_from(limits.max_destinations_per_pair).unwrap_or(0);
    if list.is_empty() {
        fields.add("destinations", "needs at least one destination");
    } else if list.len() > max {
        let noun = if max == 1 {
            "destination"
        } else {
            "destinations"
        };
        fields.add(
            "destinations",
            format!(
                "the {} plan allows at most {max} {noun} per pair",
                plan_name(limits.plan)
            ),
        );
        return Vec::new();
    }
    let mut targets = Vec::with_capacity(list.len());
    let mut seen: HashMap<(AccountId, Option<String>), usize> = HashMap::new();
    for (i, d) in list.iter().enumerate() {
        let at = format!("destinations[{i}]");
        let account_field = format!("{at}.account_id");
        let chat_field = format!("{at}.chat_id");
        let Some(id) = fields.required(&account_field, &d.account_id) else {
            targets.push(None);
            continue;
        };
        let Some(account) = lookup(accounts, id) else {
            fields.add(&account_field, "is not one of your accounts");
            targets.push(None);
            continue;
        };
        let chat = match (names_chat(account.kind), present_value(&d.chat_id)) {
            (false, None) => Ok(None),
            // A webhook posts into its own channel, or a thread of it named by the thread's id.
            (false, Some(value)) => chat_id(account.kind, value).map(Some).map_err(|_| {
                "must be left out (a Discord webhook posts to its own channel) or be the id of a \
                 thread in the webhook's channel"
                    .to_owned()
            }),
            (true, None) => Err("is required".to_owned()),
            (true, Some(value)) => chat_id(account.kind, value)
                .map(Some)
                .map_err(str::to_owned),
        };
        let chat = match chat {
            Ok(chat) => chat,
            Err(why) => {
                fields.add(&chat_field, why);
                targets.push(None);
                continue;
            }
        };
        let Some(show_author) =
            check_flag(fields, &format!("{at}.show_author"), &d.show_author, true)
        else {
            targets.push(None);
            continue;
        };
        let Some(rules) =
            super::rules::check_destination_rules(fields, &format!("{at}.rules"), d.rules.as_ref())
        else {
            targets.push(None);
            continue;
        };
        if let Some(first) = seen.insert((account.id, chat.clone()), i) {
            fields.add(&at, format!("is the same as destinations[{first}]"));
            targets.push(None);
            continue;
        }
        targets.push(Some(Target {
            field: at,
            account,
            chat_id: chat,
            show_author,
            rules,
        }));
    }
    targets
}

const LOOP: &str = "would send back into the source chat";

/// Refuses destinations that are the source chat itself on the source's platform.
/// Returns the webhooks whose channel must be asked of Discord.
pub(super) fn check_loops<'a, 'b>(
    fields: &mut Fields,
    source: &Account,
    source_chat: &str,
    targets: &'b [Option<Target<'a>>],
) -> Vec<&'b Target<'a>> {
    let mut webhooks = Vec::new();
    for target in targets.iter().flatten() {
        if platform(target.account.kind) != platform(source.kind) {
            continue;
        }
        match &target.chat_id {
            Some(chat) if chat == source_chat => {
                fields.add(&format!("{}.chat_id", target.field), LOOP);
            }
            Some(_) => {}
            None => webhooks.push(target),
        }
    }
    webhooks
}

/// Asks Discord which channel each webhook posts to, and refuses those that post into the
/// source channel.
pub(super) async fn check_webhook_loops(
    state: &AppState,
    auth: &AuthUser,
    source_chat: &str,
    webhooks: &[&Target<'_>],
) -> Result<(), ApiError> {
    if webhooks.is_empty() {
        return Ok(());
    }
    limit_platform_checks(state, auth).await?;
    let rest = DiscordRest::new(&state.config.discord, None);
    let mut fields = Fields::default();
    for target in webhooks {
        let field = format!("{}.account_id", target.field);
        let hook_id: u64 = target
            .account
            .external_id
            .parse()
            .map_err(ApiError::internal)?;
        let token = state
            .db
            .account_secret(&state.keyring, auth.id(), target.account.id)
            .await?;
        let token = String::from_utf8(token).map_err(ApiError::internal)?;
        match rest.get_webhook(hook_id, &token).await {
            Ok(hook) => {
                if hook.channel_id.as_deref() == Some(source_chat) {
                    fields.add(
                        &field,
                        format!("{LOOP}: this webhook posts into channel {source_chat}"),
                    );
                }
            }
            Err(
                SendError::Unauthorized(_) | SendError::NotFound(_) | SendError::Rejected { .. },
            ) => fields.add(
                &field,
                "Discord no longer knows this webhook: connect it again",
            ),
            Err(SendError::RateLimited { retry_after, .. }) => {
                return Err(ApiError::TooManyRequests { retry_after });
            }
            Err(SendError::Transient(why) | SendError::Ambiguous(why)) => {
                return Err(ApiError::Unavailable(format!(
                    "Discord could not be reached to check the webhook's channel ({why}); try again"
                )));
            }
        }
    }
    fields.finish()
}

pub(super) fn new_destinations(targets: Vec<Option<Target<'_>>>) -> Vec<NewDestination> {
    targets
        .into_iter()
        .flatten()
        .map(|t| NewDestination {
            account_id: t.account.id,
            chat_id: t.chat_id,
            show_author: t.show_author,
            rules: super::rules::stored_destination(&t.rules),
        })
        .collect()
}

/// A true/false option: `default` when left out (or `null`), `None` (and a field error)
/// when it is not a boolean.
pub(super) fn check_flag(
    fields: &mut Fields,
    field: &str,
    value: &Option<serde_json::Value>,
    default: bool,
) -> Option<bool> {
    match value {
        None | Some(serde_json::Value::Null) => Some(default),
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(_) => {
            fields.add(field, "must be true or false");
            None
        }
    }
}
