//! The JSON-valued parameters of the sending methods, read as the Bot API server reads
//! them: `reply_parameters` (a `ReplyParameters` object) and `sendMediaGroup`'s `media` (an
//! array of `InputMedia…`), then the album rules TDLib applies
//! (`check_message_group_message_contents`).

use super::text::{self, Kind};
use super::{
    ALBUM_MAX, ALBUM_MIN, bool_field, int_field, required_int, required_string, string_field,
};
use crate::telegram_bot::params::Params;
use serde_json::Value;

/// The message a new one replies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::telegram_bot) struct Reply {
    pub(in crate::telegram_bot) message_id: i64,
    /// Send as no reply when that message is not there, instead of refusing.
    pub(in crate::telegram_bot) allow_sending_without_reply: bool,
}

/// `reply_parameters`, or the older `reply_to_message_id`.
pub(in crate::telegram_bot) fn reply(params: &Params) -> Result<Option<Reply>, String> {
    if !params.has("reply_parameters") {
        let message_id = params.int("reply_to_message_id").unwrap_or(0);
        let allow_sending_without_reply = params.flag("allow_sending_without_reply");
        return Ok((message_id > 0).then_some(Reply {
            message_id,
            allow_sending_without_reply,
        }));
    }
    let value = match params.json("reply_parameters") {
        None => return Ok(None),
        Some(Err(())) => return Err("Can't parse reply parameters JSON object".into()),
        Some(Ok(v)) => v,
    };
    let obj = value
        .as_object()
        .ok_or("Object expected as reply parameters")?;
    if obj.is_empty() {
        return Ok(None);
    }
    string_field(obj, "chat_id")?;
    let message_id = required_int(obj, "message_id")?;
    let allow_sending_without_reply = bool_field(obj, "allow_sending_without_reply")?;
    for name in ["quote", "quote_parse_mode", "poll_option_id"] {
        string_field(obj, name)?;
    }
    for name in ["quote_position", "checklist_task_id"] {
        int_field(obj, name)?;
    }
    Ok((message_id > 0).then_some(Reply {
        message_id,
        allow_sending_without_reply,
    }))
}

/// The `type`s an album item may have (`InputMediaAudio`, `…Document`, `…LivePhoto`,
/// `…Photo`, `…Video`), as `input_media` takes them.
#[cfg(test)]
pub(in crate::telegram_bot) const ALBUM_KINDS: &[&str] =
    &["audio", "document", "live_photo", "photo", "video"];

/// One item of an album.
#[derive(Debug, Clone)]
pub(in crate::telegram_bot) struct Media {
    /// `photo`, `video`, `audio` or `document`.
    pub(in crate::telegram_bot) kind: String,
    /// `attach://<part>` or a file id.
    pub(in crate::telegram_bot) media: String,
    pub(in crate::telegram_bot) caption: String,
    pub(in crate::telegram_bot) caption_entities: Option<Value>,
    above: bool,
}

/// `sendMediaGroup`'s `media`, with the album rules.
pub(in crate::telegram_bot) fn album(params: &Params) -> Result<Vec<Media>, String> {
    let value = match params.json("media") {
        None => return Err("Parameter \"media\" is required".into()),
        Some(Err(())) => return Err("Can't parse media JSON object".into()),
        Some(Ok(v)) => v,
    };
    let items = value.as_array().ok_or("Expected an Array of InputMedia")?;
    let mut album = Vec::new();
    for item in items {
        let media =
            input_media(params, item).map_err(|e| format!("Can't parse InputMedia: {e}"))?;
        album.push(media);
    }
    if album.is_empty() {
        return Err("There are no messages to send".into());
    }
    for media in &album {
        text::check(
            &media.caption,
            media.caption_entities.as_ref(),
            Kind::Caption,
        )?;
    }
    if album.len() > ALBUM_MAX {
        return Err("Too many messages to send as an album".into());
    }
    if album.iter().any(|m| m.above != album[0].above) {
        return Err("Parameter show_caption_above_media must be the same for all messages".into());
    }
    // TDLib sees a live photo as a photo.
    fn content(m: &Media) -> &str {
        if m.kind == "live_photo" {
            "photo"
        } else {
            &m.kind
        }
    }
    let mixed = album.iter().any(|m| content(m) != content(&album[0]));
    let alone = album
        .iter()
        .find(|m| matches!(m.kind.as_str(), "audio" | "document"));
    if let (true, Some(alone)) = (mixed, alone) {
        let name = if alone.kind == "audio" {
            "Audio"
        } else {
            "Document"
        };
        return Err(format!("{name} can't be mixed with other media types"));
    }
    if album.len() < ALBUM_MIN {
        return Err(format!(
            "Media group of {} item: the Bot API documents 2-10 items (the server would send one as an album of one; the fake refuses it)",
            album.len()
        ));
    }
    Ok(album)
}

fn input_media(params: &Params, v: &Value) -> Result<Media, String> {
    let obj = v.as_object().ok_or("expected an Object")?;
    let caption = string_field(obj, "caption")?.unwrap_or_default();
    string_field(obj, "parse_mode")?;
    let caption_entities = obj.get("caption_entities").cloned();
    text::entities(caption_entities.as_ref())
        .map_err(|e| format!("Can't parse MessageEntity: {e}"))?;
    let above = bool_field(obj, "show_caption_above_media")?;
    bool_field(obj, "has_spoiler")?;
    let kind = required_string(obj, "type")?;
    let media = string_field(obj, "media")?.unwrap_or_default();
    let found = match media.strip_prefix("attach://") {
        Some(part) => params.files.contains_key(part),
        None => !media.is_empty(),
    };
    if !found {
        return Err("media not found".into());
    }
    match kind.as_str() {
        "photo" | "audio" | "document" => {}
        "live_photo" => {
            let photo = string_field(obj, "photo")?.unwrap_or_default();
            let found = match photo.strip_prefix("attach://") {
                Some(part) => params.files.contains_key(part),
                None => !photo.is_empty(),
            };
            if !found {
                return Err("photo not found".into());
            }
        }
        "video" => {
            for name in ["width", "height", "duration", "start_timestamp"] {
                int_field(obj, name)?;
            }
            bool_field(obj, "supports_streaming")?;
            string_field(obj, "cover")?;
        }
        "animation" => return Err(format!("type \"{kind}\" can't be used in sendMediaGroup")),
        _ => return Err(format!("type \"{kind}\" is unsupported")),
    }
    Ok(Media {
        kind,
        media,
        caption,
        caption_entities,
        above,
    })
}
