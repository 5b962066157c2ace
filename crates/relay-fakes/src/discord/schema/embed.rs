//! Rich embeds (`RichEmbed` and its parts): field names, lengths, URLs, colour, timestamp,
//! and the 6000 characters all the embeds of a message may hold together.

use super::Check;
use super::spec::{self, Model};
use serde_json::{Map, Value};

const WEB: &[&str] = &["http", "https"];
/// Media may also point at a file of the same request (`attachment://name`).
const MEDIA: &[&str] = &["http", "https", "attachment"];

/// Checks `embeds` (at its path) and the size of all of them together.
pub(super) fn check_embeds(c: &mut Check, v: &Value) {
    let Some(embeds) = c.array(v, spec::EMBEDS) else {
        return;
    };
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        total += c.at(i, |c| check_embed(c, embed));
    }
    if total > spec::EMBEDS_TOTAL {
        let text = format!("Embed size exceeds maximum size of {}", spec::EMBEDS_TOTAL);
        c.fail("MAX_EMBED_SIZE_EXCEEDED", text);
    }
}

fn fields<'a>(c: &mut Check, v: &'a Value, model: &Model) -> Option<&'a Map<String, Value>> {
    c.object(v, model.fields, model.echoed)
}

/// An array item: an object, where `null` is no more allowed than any other non-object.
fn item<'a>(c: &mut Check, v: &'a Value, model: &Model) -> Option<&'a Map<String, Value>> {
    if v.is_null() {
        c.fail(
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        );
    }
    fields(c, v, model)
}

/// The number of characters the embed counts towards the message's total.
fn chars(s: Option<&str>) -> usize {
    s.map_or(0, |s| s.chars().count())
}

fn check_embed(c: &mut Check, v: &Value) -> usize {
    let Some(embed) = item(c, v, &spec::EMBED) else {
        return 0;
    };
    let mut size = 0;
    c.field(embed, "type", |c, v| {
        c.string(v, 0, spec::EMBED_TYPE).map(drop)
    });
    c.field(embed, "url", |c, v| c.url(v, WEB));
    size += c.field(embed, "title", |c, v| {
        chars(c.string(v, 0, spec::EMBED_TITLE))
    });
    size += c.field(embed, "description", |c, v| {
        chars(c.string(v, 0, spec::EMBED_DESCRIPTION))
    });
    c.field(embed, "color", |c, v| c.int(v, 0, spec::COLOR).map(drop));
    c.field(embed, "timestamp", |c, v| c.timestamp(v));
    size += c
        .field(embed, "author", |c, v| {
            let author = fields(c, v, &spec::EMBED_AUTHOR)?;
            let name = c.field(author, "name", |c, v| {
                chars(c.string(v, 0, spec::AUTHOR_NAME))
            });
            c.field(author, "url", |c, v| c.url(v, WEB));
            c.field(author, "icon_url", |c, v| c.url(v, MEDIA));
            Some(name)
        })
        .unwrap_or(0);
    size += c
        .field(embed, "footer", |c, v| {
            let footer = fields(c, v, &spec::EMBED_FOOTER)?;
            let text = c.field(footer, "text", |c, v| {
                chars(c.string(v, 0, spec::FOOTER_TEXT))
            });
            c.field(footer, "icon_url", |c, v| c.url(v, MEDIA));
            Some(text)
        })
        .unwrap_or(0);
    for (name, model) in [
        ("image", &spec::EMBED_IMAGE),
        ("thumbnail", &spec::EMBED_THUMBNAIL),
        ("video", &spec::EMBED_VIDEO),
    ] {
        c.field(embed, name, |c, v| check_media(c, v, model));
    }
    c.field(embed, "provider", |c, v| {
        let provider = fields(c, v, &spec::EMBED_PROVIDER)?;
        c.field(provider, "name", |c, v| {
            c.string(v, 0, spec::PROVIDER_NAME).map(drop)
        });
        c.field(provider, "url", |c, v| c.url(v, WEB));
        Some(())
    });
    size += c.field(embed, "fields", |c, v| {
        let Some(list) = c.array(v, spec::EMBED_FIELDS) else {
            return 0;
        };
        let mut size = 0;
        for (i, item) in list.iter().enumerate() {
            size += c.at(i, |c| check_field(c, item));
        }
        size
    });
    size
}

fn check_field(c: &mut Check, v: &Value) -> usize {
    let Some(item) = item(c, v, &spec::EMBED_FIELD) else {
        return 0;
    };
    let mut size = 0;
    for (name, max) in [("name", spec::FIELD_NAME), ("value", spec::FIELD_VALUE)] {
        if c.required(item, name) {
            size += c.field(item, name, |c, v| chars(c.string(v, 0, max)));
        }
    }
    c.field(item, "inline", |c, v| c.boolean(v));
    size
}

fn check_media(c: &mut Check, v: &Value, model: &Model) -> Option<()> {
    let media = fields(c, v, model)?;
    c.field(media, "url", |c, v| c.url(v, MEDIA));
    for name in ["width", "height"] {
        c.field(media, name, |c, v| c.int(v, i64::MIN, i64::MAX).map(drop));
    }
    c.field(media, "placeholder", |c, v| {
        c.string(v, 0, spec::PLACEHOLDER).map(drop)
    });
    c.field(media, "placeholder_version", |c, v| {
        c.int(v, 0, spec::PLACEHOLDER_VERSION).map(drop)
    });
    c.field(media, "is_animated", |c, v| c.boolean(v).map(drop));
    c.field(media, "description", |c, v| {
        c.string(v, 0, spec::MEDIA_DESCRIPTION).map(drop)
    });
    Some(())
}
