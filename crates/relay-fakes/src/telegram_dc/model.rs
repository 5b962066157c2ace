//! The public shapes of what the fake DC holds: peers, messages, entities and media.

/// A chat as the fake sees it. `User(x)` is the private dialog with user `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    User(i64),
    Chat(i64),
    Channel(i64),
}

/// A message stored by the fake. For a private message, `peer` is `Peer::User(recipient)`:
/// the dialog as seen by the sender `from`.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeMessage {
    pub id: i32,
    pub peer: Peer,
    pub from: i64,
    pub text: String,
    pub entities: Vec<FakeEntity>,
    pub media: Option<FakeMedia>,
    pub grouped_id: Option<i64>,
    pub reply_to: Option<i32>,
    pub random_id: Option<i64>,
    pub edited: bool,
    pub deleted: bool,
}

/// A formatting entity. `kind` is one of "bold", "italic", "underline", "strike", "code",
/// "pre", "text_url", "url", "mention", "hashtag", "email", "spoiler", "blockquote",
/// "mention_name", "custom_emoji" or "unknown".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeEntity {
    pub kind: String,
    pub offset: i32,
    pub length: i32,
    /// The link of a "text_url", the language of a "pre".
    pub url: Option<String>,
}

impl FakeEntity {
    pub fn new(kind: &str, offset: i32, length: i32) -> Self {
        Self {
            kind: kind.to_owned(),
            offset,
            length,
            url: None,
        }
    }
}

/// A photo or document attached to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeMedia {
    pub kind: MediaKind,
    pub bytes: Vec<u8>,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
}

impl FakeMedia {
    pub fn new(kind: MediaKind, bytes: Vec<u8>) -> Self {
        Self {
            kind,
            bytes,
            file_name: None,
            mime_type: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Photo,
    Video,
    Document,
    Voice,
    Sticker,
    Audio,
    Animation,
}
