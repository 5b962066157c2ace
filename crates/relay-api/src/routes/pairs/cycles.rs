//! Pairs that would forward a message back to where it came from: the owner's pairs form
//! a graph of chats (`relay_core::cycles`), and a new or changed pair that closes a loop
//! in it is a 409 naming the loop, unless every pair in the loop is a bridge. A webhook destination's channel is known only to
//! Discord, so it takes part only through the direct check in `destinations`.

use super::Accounts;
use super::destinations::Target;
use super::validation::{Platform, platform};
use crate::{ApiError, AppState, FieldErrors};
use relay_core::cycles::{ChatNode, unbridged_loop};
use relay_core::{AccountKind, PairId, UserId};

fn node(kind: AccountKind, chat: &str) -> ChatNode {
    let name = match platform(kind) {
        Platform::Telegram => "telegram",
        Platform::Discord => "discord",
    };
    ChatNode::new(name, chat)
}

/// Refuses the pair (`except`: the pair being changed, whose stored edges it replaces)
/// when a message could come back to its source chat through the owner's other pairs and
/// not every pair on the way (this one included: `bridge`) is a bridge.
pub(super) async fn check_cycles(
    state: &AppState,
    owner: UserId,
    except: Option<PairId>,
    accounts: &Accounts,
    (source, bridge): ((AccountKind, &str), bool),
    targets: &[Option<Target<'_>>],
) -> Result<(), ApiError> {
    let mut edges = Vec::new();
    for pair in state.db.pairs(owner).await? {
        if Some(pair.id) == except {
            continue;
        }
        let Some(from) = accounts.get(&pair.source_account_id) else {
            continue;
        };
        let from = node(from.kind, &pair.source_chat_id);
        for d in &pair.destinations {
            if let (Some(account), Some(chat)) = (accounts.get(&d.account_id), &d.chat_id) {
                edges.push((from.clone(), node(account.kind, chat), pair.bridge));
            }
        }
    }
    let start = node(source.0, source.1);
    let destinations: Vec<ChatNode> = targets
        .iter()
        .flatten()
        .filter_map(|t| Some(node(t.account.kind, t.chat_id.as_deref()?)))
        .collect();
    let Some(path) = unbridged_loop(&edges, &start, &destinations, bridge) else {
        return Ok(());
    };
    let shown: Vec<String> = path.iter().map(ToString::to_string).collect();
    let message = format!(
        "this pair would close a loop with your other pairs: {}; a message would come back to where it was posted (mark every pair of the loop as a two-way bridge, \"bridge\": true, to allow it)",
        shown.join(" → ")
    );
    Err(ApiError::Conflict {
        fields: FieldErrors::from([("destinations".to_owned(), vec![message.clone()])]),
        message,
    })
}
