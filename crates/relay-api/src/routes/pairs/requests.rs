//! The JSON a client sends: a new pair, a change to one, and `?limit=`.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPairRequest {
    /// Up to 200 characters; empty when left out.
    pub name: Option<String>,
    pub source: Option<SourceRequest>,
    /// One or more, up to the plan's limit per pair, in the order they are served.
    pub destinations: Option<Vec<DestinationRequest>>,
    /// One side of a two-way bridge (default `false`). Pairs that would forward a
    /// message back to where it was posted (A→B with B→A, or longer) are refused with a
    /// 409 unless every pair in the loop is a bridge; then each message crosses once
    /// (Relay never forwards a message it sent itself).
    #[schema(value_type = Option<bool>)]
    pub bridge: Option<Value>,
    /// Filters, transformations, delay and forwarding hours (see the API description of
    /// pair rules); checked when saved (422 field errors such as
    /// `rules.filters[2].pattern`); features the plan lacks are a 403 `plan_feature`.
    #[schema(value_type = Option<Object>)]
    pub rules: Option<Value>,
}

/// Where messages are read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SourceRequest {
    /// A Telegram user or bot account, or a Discord bot (a webhook cannot read).
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    /// Telegram: the chat id, e.g. -1001234567890 (string or number); one topic of a
    /// forum is the forum's id, `/` and the topic's id, e.g. `-1001234567890/42` (only that
    /// topic's messages; the plain forum id reads the whole forum). Discord: the channel
    /// id (a snowflake); a thread is named by its own id. `GET /accounts/{id}/chats` lists
    /// the ids an account can use.
    #[schema(value_type = Option<String>, example = "-1001234567890")]
    pub chat_id: Option<Value>,
}

/// Where messages are sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DestinationRequest {
    /// The account that sends.
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    /// The chat or channel, in the source's forms (a Telegram forum topic as
    /// `-1001234567890/42`, sent with `message_thread_id`; a Discord thread by its id).
    /// Left out for a Discord webhook, which posts into its own channel, or the id of a
    /// thread in that channel (sent with `?thread_id=`).
    #[schema(value_type = Option<String>, example = "1234567890123456789")]
    pub chat_id: Option<Value>,
    /// Whether each copy starts with a bold line naming the source author (default
    /// `true`). Telegram bots and sessions and Discord bots send as themselves, so this
    /// is how readers see who wrote the message; a Discord webhook shows the author's
    /// name and avatar as the sender instead and ignores it.
    #[schema(value_type = Option<bool>)]
    pub show_author: Option<Value>,
    /// This destination's own rules: `{mode: "add"|"replace", filters, transforms}` —
    /// added after the pair's (default) or in their place.
    #[schema(value_type = Option<Object>)]
    pub rules: Option<Value>,
}

/// Fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PairPatch {
    pub name: Option<String>,
    /// A new source chat on the same source account.
    #[schema(value_type = Option<String>)]
    pub source_chat_id: Option<Value>,
    /// The new set of destinations. Destinations that stay (same account and chat) keep
    /// their ids and their history; the others are removed.
    pub destinations: Option<Vec<DestinationRequest>>,
    pub enabled: Option<bool>,
    /// See `bridge` on a new pair; turning it off is checked for loops again.
    #[schema(value_type = Option<bool>)]
    pub bridge: Option<Value>,
    /// The pair's rules, replaced whole (`{}` for none).
    #[schema(value_type = Option<Object>)]
    pub rules: Option<Value>,
    /// What a pause does with messages meanwhile: `skip` them (default) or `hold` them and
    /// send them in order on resume.
    pub pause_mode: Option<String>,
}

/// `?limit=` for lists of failures and errors.
#[derive(Debug, Deserialize)]
pub struct LimitQuery {
    pub limit: Option<String>,
}
