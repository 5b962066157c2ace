//! Holds the fake's schemas and limits (`spec`) to Discord's OpenAPI description: always
//! to the copy in `specs/discord-openapi.extract.json`, and that copy to the full
//! description in `../shared/specs/` when it is there (`RELAY_SPECS_DIR` points elsewhere;
//! `RELAY_WRITE_SPEC_EXTRACTS=1` rewrites the copy from it).

use super::spec::*;
use super::spec::{self, ALL_MODELS};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

const EXTRACT: &str = "discord-openapi.extract.json";

/// The operations the fake serves: path, methods.
const OPERATIONS: &[(&str, &[&str])] = &[
    ("/channels/{channel_id}/messages", &["get", "post"]),
    (
        "/channels/{channel_id}/messages/{message_id}",
        &["get", "patch", "delete"],
    ),
    ("/webhooks/{webhook_id}/{webhook_token}", &["get", "post"]),
    (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        &["patch", "delete"],
    ),
];

const OTHER_SCHEMAS: &[&str] = &[
    "AllowedMentionTypes",
    "MessageReferenceType",
    "SnowflakeType",
    "ErrorResponse",
    "Error",
    "ErrorDetails",
    "InnerErrors",
];

fn committed() -> Value {
    crate::spec_extracts::committed(EXTRACT)
}

/// The parts of the full description the fake follows.
fn extract(full: &Value) -> Value {
    let mut paths = Map::new();
    for (path, methods) in OPERATIONS {
        let item = &full["paths"][*path];
        let mut ops = Map::new();
        if let Some(params) = item.get("parameters") {
            ops.insert("parameters".into(), params.clone());
        }
        for method in *methods {
            ops.insert((*method).into(), item[*method].clone());
        }
        paths.insert((*path).into(), Value::Object(ops));
    }
    let mut names: BTreeSet<&str> = OTHER_SCHEMAS.iter().copied().collect();
    for model in ALL_MODELS {
        names.insert(model.schema);
        names.extend(model.response);
    }
    let schemas: Map<String, Value> = names
        .into_iter()
        .map(|n| (n.to_owned(), full["components"]["schemas"][n].clone()))
        .collect();
    json!({
        "source": "discord/discord-api-spec, specs/openapi.json (MIT, see discord-openapi.LICENSE): only the operations and schemas the fake Discord serves",
        "info": full["info"],
        "paths": paths,
        "schemas": schemas,
    })
}

#[test]
fn the_extract_matches_the_full_description_when_present() {
    crate::spec_extracts::check_against_full("discord-openapi.json", EXTRACT, extract);
}

fn schema<'a>(spec: &'a Value, name: &str) -> &'a Value {
    let s = &spec["schemas"][name];
    assert!(s.is_object(), "no schema {name} in the extract");
    s
}

fn properties(spec: &Value, name: &str) -> BTreeSet<String> {
    let props = schema(spec, name)["properties"].as_object();
    props
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_fields_of_every_request_object_are_the_schemas_fields() {
    let spec = committed();
    for model in ALL_MODELS {
        let ours: BTreeSet<String> = model.fields.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(ours, properties(&spec, model.schema), "{}", model.schema);
        if let Some(response) = model.response {
            let mut theirs = properties(&spec, model.schema);
            theirs.extend(properties(&spec, response));
            let mut ours = ours.clone();
            ours.extend(model.echoed.iter().map(|f| (*f).to_owned()));
            assert_eq!(ours, theirs, "{} with {response}", model.schema);
        }
    }
}

#[test]
fn every_limit_is_the_schemas_limit() {
    let spec = committed();
    for l in LIMITS {
        let field = &schema(&spec, l.schema)["properties"][l.field];
        assert_eq!(
            field[l.keyword].as_i64(),
            Some(l.value),
            "{}.{} {}: {field}",
            l.schema,
            l.field,
            l.keyword
        );
    }
    let nonce = &schema(&spec, "MessageCreateRequest")["properties"]["nonce"]["oneOf"];
    let string = nonce
        .as_array()
        .and_then(|o| o.iter().find(|s| s["type"] == "string"));
    assert_eq!(
        string.map(|s| s["maxLength"].clone()),
        Some(json!(spec::NONCE))
    );
    for (name, required) in [
        ("MessageReferenceRequest", json!(["message_id"])),
        ("RichEmbedField", json!(["name", "value"])),
        ("MessageAttachmentRequest", json!(["id"])),
    ] {
        assert_eq!(schema(&spec, name)["required"], required, "{name}");
    }
}

fn consts(spec: &Value, name: &str) -> Vec<Value> {
    let one_of = schema(spec, name)["oneOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    one_of.iter().map(|o| o["const"].clone()).collect()
}

#[test]
fn enums_content_types_and_query_parameters_are_the_specs() {
    let spec = committed();
    let mut types = consts(&spec, "AllowedMentionTypes");
    types.sort_by_key(|v| v.to_string());
    let mut ours: Vec<Value> = spec::MENTION_TYPES.iter().map(|t| json!(t)).collect();
    ours.sort_by_key(|v| v.to_string());
    assert_eq!(types, ours);
    for kind in consts(&spec, "MessageReferenceType") {
        assert!(
            spec::REFERENCE_TYPES.contains(&kind.as_i64().unwrap_or(-1)),
            "{kind}"
        );
    }
    let ops = &spec["paths"];
    let create = &ops["/channels/{channel_id}/messages"]["post"]["requestBody"]["content"];
    let media: BTreeSet<&str> = create
        .as_object()
        .expect("content")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(media, spec::CONTENT_TYPES.iter().copied().collect());
    let files = &create["multipart/form-data"]["schema"]["allOf"][1]["properties"];
    assert_eq!(files.as_object().map(Map::len), Some(spec::FILES));

    let param = |path: &str, method: &str, name: &str| -> Value {
        let params = ops[path][method]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let found = params.into_iter().find(|p| p["name"] == name);
        found.unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))["schema"].clone()
    };
    let hook = "/webhooks/{webhook_id}/{webhook_token}";
    assert_eq!(param(hook, "post", "wait"), json!({"type": "boolean"}));
    assert_eq!(
        param(hook, "post", "with_components"),
        json!({"type": "boolean"})
    );
    let snowflake = json!({"$ref": "#/components/schemas/SnowflakeType"});
    assert_eq!(param(hook, "post", "thread_id"), snowflake);
    let history = param("/channels/{channel_id}/messages", "get", "limit");
    assert_eq!(
        history,
        json!({"type": "integer", "minimum": 1, "maximum": spec::HISTORY_LIMIT})
    );
}

/// A limit as the spec states it: `keyword` (`maxLength`, `maxItems`, `minLength`,
/// `minimum`, `maximum`) of `field` in the schema `schema`.
pub(crate) struct Limit {
    pub(crate) schema: &'static str,
    pub(crate) field: &'static str,
    pub(crate) keyword: &'static str,
    pub(crate) value: i64,
}

const fn limit(
    schema: &'static str,
    field: &'static str,
    keyword: &'static str,
    value: usize,
) -> Limit {
    Limit {
        schema,
        field,
        keyword,
        value: value as i64,
    }
}

const MAX_LEN: &str = "maxLength";
const MAX_ITEMS: &str = "maxItems";

pub(crate) const LIMITS: &[Limit] = &[
    limit(
        "MessageCreateRequest",
        "content",
        MAX_LEN,
        CONTENT_SPEC_FOR_BOT_ROUTES,
    ),
    limit(
        "MessageEditRequestPartial",
        "content",
        MAX_LEN,
        CONTENT_SPEC_FOR_BOT_ROUTES,
    ),
    limit("IncomingWebhookRequestPartial", "content", MAX_LEN, CONTENT),
    limit(
        "IncomingWebhookUpdateRequestPartial",
        "content",
        MAX_LEN,
        CONTENT,
    ),
    limit("MessageCreateRequest", "embeds", MAX_ITEMS, EMBEDS),
    limit("MessageEditRequestPartial", "embeds", MAX_ITEMS, EMBEDS),
    limit("IncomingWebhookRequestPartial", "embeds", MAX_ITEMS, EMBEDS),
    limit("MessageCreateRequest", "sticker_ids", MAX_ITEMS, STICKERS),
    limit("MessageCreateRequest", "components", MAX_ITEMS, COMPONENTS),
    limit(
        "MessageCreateRequest",
        "attachments",
        MAX_ITEMS,
        ATTACHMENTS,
    ),
    limit(
        "IncomingWebhookRequestPartial",
        "attachments",
        MAX_ITEMS,
        ATTACHMENTS,
    ),
    limit("IncomingWebhookRequestPartial", "username", "minLength", 1),
    limit(
        "IncomingWebhookRequestPartial",
        "username",
        MAX_LEN,
        USERNAME,
    ),
    limit("IncomingWebhookRequestPartial", "avatar_url", MAX_LEN, URL),
    limit(
        "IncomingWebhookRequestPartial",
        "thread_name",
        MAX_LEN,
        THREAD_NAME,
    ),
    limit(
        "IncomingWebhookRequestPartial",
        "applied_tags",
        MAX_ITEMS,
        APPLIED_TAGS,
    ),
    limit("RichEmbed", "type", MAX_LEN, EMBED_TYPE),
    limit("RichEmbed", "url", MAX_LEN, URL),
    limit("RichEmbed", "title", MAX_LEN, EMBED_TITLE),
    limit("RichEmbed", "description", MAX_LEN, EMBED_DESCRIPTION),
    limit("RichEmbed", "fields", MAX_ITEMS, EMBED_FIELDS),
    limit("RichEmbed", "color", "minimum", 0),
    limit("RichEmbed", "color", "maximum", COLOR as usize),
    limit("RichEmbedField", "name", MAX_LEN, FIELD_NAME),
    limit("RichEmbedField", "value", MAX_LEN, FIELD_VALUE),
    limit("RichEmbedFooter", "text", MAX_LEN, FOOTER_TEXT),
    limit("RichEmbedFooter", "icon_url", MAX_LEN, URL),
    limit("RichEmbedAuthor", "name", MAX_LEN, AUTHOR_NAME),
    limit("RichEmbedAuthor", "url", MAX_LEN, URL),
    limit("RichEmbedAuthor", "icon_url", MAX_LEN, URL),
    limit("RichEmbedProvider", "name", MAX_LEN, PROVIDER_NAME),
    limit("RichEmbedProvider", "url", MAX_LEN, URL),
    limit("RichEmbedImage", "url", MAX_LEN, URL),
    limit("RichEmbedImage", "placeholder", MAX_LEN, PLACEHOLDER),
    limit(
        "RichEmbedImage",
        "placeholder_version",
        "maximum",
        PLACEHOLDER_VERSION as usize,
    ),
    limit("RichEmbedImage", "description", MAX_LEN, MEDIA_DESCRIPTION),
    limit("RichEmbedThumbnail", "url", MAX_LEN, URL),
    limit("RichEmbedVideo", "url", MAX_LEN, URL),
    limit(
        "MessageAllowedMentionsRequest",
        "users",
        MAX_ITEMS,
        MENTION_IDS,
    ),
    limit(
        "MessageAllowedMentionsRequest",
        "roles",
        MAX_ITEMS,
        MENTION_IDS,
    ),
    limit("MessageAttachmentRequest", "filename", "minLength", 1),
    limit(
        "MessageAttachmentRequest",
        "filename",
        MAX_LEN,
        ATTACHMENT_TEXT,
    ),
    limit(
        "MessageAttachmentRequest",
        "description",
        MAX_LEN,
        ATTACHMENT_TEXT,
    ),
    limit(
        "MessageAttachmentRequest",
        "title",
        MAX_LEN,
        ATTACHMENT_TEXT,
    ),
    limit("MessageAttachmentRequest", "waveform", MAX_LEN, WAVEFORM),
];
