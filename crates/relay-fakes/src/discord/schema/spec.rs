//! What the fake takes from Discord's OpenAPI description: the field names of each request
//! object and the limits on them. `spec_tests` compares every entry here with the copy in
//! `specs/discord-openapi.extract.json` (and that copy with the full description when it is
//! at hand), so the two cannot drift apart silently.

/// A request object: the fields its schema names, and the fields Discord sends back in
/// the matching response object (a client may echo them; Discord ignores them).
#[cfg_attr(not(test), allow(dead_code))] // `schema` and `response` are for `spec_tests`.
pub(crate) struct Model {
    pub(crate) schema: &'static str,
    pub(crate) fields: &'static [&'static str],
    pub(crate) response: Option<&'static str>,
    pub(crate) echoed: &'static [&'static str],
}

const fn model(schema: &'static str, fields: &'static [&'static str]) -> Model {
    Model {
        schema,
        fields,
        response: None,
        echoed: &[],
    }
}

pub(crate) const MESSAGE_CREATE: Model = model(
    "MessageCreateRequest",
    &[
        "content",
        "embeds",
        "allowed_mentions",
        "sticker_ids",
        "components",
        "flags",
        "attachments",
        "poll",
        "shared_client_theme",
        "message_reference",
        "nonce",
        "enforce_nonce",
        "tts",
    ],
);
pub(crate) const MESSAGE_EDIT: Model = model(
    "MessageEditRequestPartial",
    &[
        "content",
        "embeds",
        "flags",
        "allowed_mentions",
        "sticker_ids",
        "components",
        "attachments",
    ],
);
/// Execute takes `IncomingWebhookRequestPartial` or the update schema, a subset of it.
pub(crate) const WEBHOOK_EXECUTE: Model = model(
    "IncomingWebhookRequestPartial",
    &[
        "content",
        "embeds",
        "allowed_mentions",
        "components",
        "attachments",
        "poll",
        "tts",
        "flags",
        "username",
        "avatar_url",
        "thread_name",
        "applied_tags",
    ],
);
pub(crate) const WEBHOOK_EDIT: Model = model(
    "IncomingWebhookUpdateRequestPartial",
    &[
        "content",
        "embeds",
        "allowed_mentions",
        "components",
        "attachments",
        "poll",
        "flags",
    ],
);
pub(crate) const EMBED: Model = Model {
    response: Some("MessageEmbedResponse"),
    echoed: &["flags", "components"],
    ..model(
        "RichEmbed",
        &[
            "type",
            "url",
            "title",
            "color",
            "timestamp",
            "description",
            "author",
            "image",
            "thumbnail",
            "footer",
            "fields",
            "provider",
            "video",
        ],
    )
};
pub(crate) const EMBED_AUTHOR: Model = Model {
    response: Some("MessageEmbedAuthorResponse"),
    echoed: &["proxy_icon_url"],
    ..model("RichEmbedAuthor", &["name", "url", "icon_url"])
};
pub(crate) const EMBED_FIELD: Model = model("RichEmbedField", &["name", "value", "inline"]);
pub(crate) const EMBED_FOOTER: Model = Model {
    response: Some("MessageEmbedFooterResponse"),
    echoed: &["proxy_icon_url"],
    ..model("RichEmbedFooter", &["text", "icon_url"])
};
const MEDIA_FIELDS: &[&str] = &[
    "url",
    "width",
    "height",
    "placeholder",
    "placeholder_version",
    "is_animated",
    "description",
];
const MEDIA_ECHOED: &[&str] = &["proxy_url", "content_type", "flags"];
pub(crate) const EMBED_IMAGE: Model = Model {
    response: Some("MessageEmbedImageResponse"),
    echoed: MEDIA_ECHOED,
    ..model("RichEmbedImage", MEDIA_FIELDS)
};
pub(crate) const EMBED_THUMBNAIL: Model = Model {
    response: Some("MessageEmbedImageResponse"),
    echoed: MEDIA_ECHOED,
    ..model("RichEmbedThumbnail", MEDIA_FIELDS)
};
pub(crate) const EMBED_VIDEO: Model = Model {
    response: Some("MessageEmbedVideoResponse"),
    echoed: MEDIA_ECHOED,
    ..model("RichEmbedVideo", MEDIA_FIELDS)
};
pub(crate) const EMBED_PROVIDER: Model = model("RichEmbedProvider", &["name", "url"]);
pub(crate) const ALLOWED_MENTIONS: Model = model(
    "MessageAllowedMentionsRequest",
    &["parse", "users", "roles", "replied_user"],
);
pub(crate) const MESSAGE_REFERENCE: Model = model(
    "MessageReferenceRequest",
    &[
        "guild_id",
        "channel_id",
        "message_id",
        "fail_if_not_exists",
        "type",
    ],
);
pub(crate) const ATTACHMENT: Model = model(
    "MessageAttachmentRequest",
    &[
        "id",
        "filename",
        "description",
        "duration_secs",
        "waveform",
        "title",
        "is_spoiler",
        "is_remix",
    ],
);

#[cfg(test)]
pub(crate) const ALL_MODELS: &[&Model] = &[
    &MESSAGE_CREATE,
    &MESSAGE_EDIT,
    &WEBHOOK_EXECUTE,
    &WEBHOOK_EDIT,
    &EMBED,
    &EMBED_AUTHOR,
    &EMBED_FIELD,
    &EMBED_FOOTER,
    &EMBED_IMAGE,
    &EMBED_THUMBNAIL,
    &EMBED_VIDEO,
    &EMBED_PROVIDER,
    &ALLOWED_MENTIONS,
    &MESSAGE_REFERENCE,
    &ATTACHMENT,
];

/// Message content, in characters: 2000 for bots and webhooks (Discord's documentation).
/// The spec says 4000 for the bot routes, the limit of users with Nitro, not of bots.
pub(crate) const CONTENT: usize = 2000;
#[cfg(test)]
pub(crate) const CONTENT_SPEC_FOR_BOT_ROUTES: usize = 4000;
pub(crate) const EMBEDS: usize = 10;
pub(crate) const EMBED_TITLE: usize = 256;
pub(crate) const EMBED_DESCRIPTION: usize = 4096;
pub(crate) const EMBED_FIELDS: usize = 25;
pub(crate) const FIELD_NAME: usize = 256;
pub(crate) const FIELD_VALUE: usize = 1024;
pub(crate) const FOOTER_TEXT: usize = 2048;
pub(crate) const AUTHOR_NAME: usize = 256;
pub(crate) const PROVIDER_NAME: usize = 256;
pub(crate) const EMBED_TYPE: usize = 152_133;
pub(crate) const MEDIA_DESCRIPTION: usize = 4096;
pub(crate) const PLACEHOLDER: usize = 64;
pub(crate) const PLACEHOLDER_VERSION: i64 = 2_147_483_647;
pub(crate) const URL: usize = 2048;
pub(crate) const COLOR: i64 = 16_777_215;
/// Title, description, field names and values, footer text and author name of all the
/// embeds of a message together (Discord's documentation; not in the spec).
pub(crate) const EMBEDS_TOTAL: usize = 6000;
pub(crate) const NONCE: usize = 25;
pub(crate) const STICKERS: usize = 3;
pub(crate) const COMPONENTS: usize = 40;
pub(crate) const ATTACHMENTS: usize = 10;
pub(crate) const ATTACHMENT_TEXT: usize = 1024;
pub(crate) const WAVEFORM: usize = 400;
pub(crate) const USERNAME: usize = 80;
pub(crate) const THREAD_NAME: usize = 100;
pub(crate) const APPLIED_TAGS: usize = 5;
pub(crate) const MENTION_IDS: usize = 100;
pub(crate) const HISTORY_LIMIT: i64 = 100;
/// The multipart parts that carry files: `files[0]` to `files[9]`.
pub(crate) const FILES: usize = 10;

/// `allowed_mentions.parse` values (`AllowedMentionTypes`).
pub(crate) const MENTION_TYPES: &[&str] = &["users", "roles", "everyone"];
/// `message_reference.type`: the spec lists DEFAULT (0); Discord's documentation adds
/// FORWARD (1), which the fake takes too.
pub(crate) const REFERENCE_TYPES: &[i64] = &[0, 1];
/// The bodies the message routes take.
pub(crate) const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];
