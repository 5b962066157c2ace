//! Rules as the customer writes them (JSON on a pair, `rules`, and on a destination,
//! `options.rules`): filters that decide whether a message goes out, transformations of
//! what goes out, and a delay or schedule that holds it. Parsed with [`super::parse`], which
//! names the field at fault; compiled with [`super::CompiledRules::compile`].

use serde::{Deserialize, Serialize};

/// A pair's (or a destination's) rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Every filter must let a message through (the first that does not names the reason).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Applied in order to what passed the filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
    /// Hold each message this many seconds before sending it (edits and deletes meanwhile
    /// apply first). At most a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<u32>,
    /// Forward only within these hours; outside them messages wait for the next window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// An IANA time zone (`Europe/Berlin`) for the schedule and `{date}`; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A destination's own rules: added to its pair's (its filters after the pair's, its
/// transforms after the pair's), or in place of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationRules {
    #[serde(default)]
    pub mode: Combine,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
}

/// How a destination's rules meet its pair's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    #[default]
    Add,
    Replace,
}

/// One filter. A message goes out only if every filter lets it through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Filter {
    /// Words or phrases in the text.
    Keywords {
        words: Vec<String>,
        /// `any` (default): at least one; `all`: every one; `none`: not one.
        #[serde(default)]
        mode: KeywordMode,
        #[serde(default)]
        case_sensitive: bool,
        /// Match only whole words (`cat` does not match `category`). On by default.
        #[serde(default = "yes")]
        whole_words: bool,
    },
    /// A regular expression (the `regex` crate's syntax; matched anywhere in the text).
    Regex {
        pattern: String,
        #[serde(default)]
        case_sensitive: bool,
        /// Let through what does NOT match instead.
        #[serde(default)]
        exclude: bool,
    },
    /// Authors by id or name (names compare without case). With `allow`, only those; with
    /// `deny`, anyone but those.
    Senders {
        #[serde(default)]
        allow: Vec<String>,
        #[serde(default)]
        deny: Vec<String>,
    },
    /// Message kinds. With `allow`, only messages of those kinds; with `deny`, none of them.
    Kinds {
        #[serde(default)]
        allow: Vec<MessageKind>,
        #[serde(default)]
        deny: Vec<MessageKind>,
    },
    /// Messages forwarded from elsewhere at the source.
    Forwarded { keep: Keep },
    /// Replies.
    Replies { keep: Keep },
    /// Messages written by bots.
    Bots { keep: Keep },
    /// Text length in characters.
    Length {
        #[serde(default)]
        min: Option<u32>,
        #[serde(default)]
        max: Option<u32>,
    },
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordMode {
    #[default]
    Any,
    All,
    None,
}

/// For the forwarded / replies / bots filters: only such messages, or none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    Only,
    Exclude,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Photo,
    Video,
    Document,
    Voice,
    Sticker,
    Poll,
    Album,
}

/// One transformation of the text that goes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// Replace every occurrence of `find` with `with`.
    Replace {
        find: String,
        with: String,
        #[serde(default = "yes")]
        case_sensitive: bool,
    },
    /// Replace every match of `pattern`; `with` may name groups (`$1`, `${name}`).
    RegexReplace {
        pattern: String,
        with: String,
        #[serde(default = "yes")]
        case_sensitive: bool,
    },
    /// Remove links, mentions, hashtags or formatting.
    Remove { what: Removable },
    /// A line before the text; `{source_chat}`, `{author}`, `{date}`, `{link}` are filled in.
    Header { template: String },
    /// A line after the text, with the same placeholders.
    Footer { template: String },
    /// A fixed text added to the captions of messages with media.
    Watermark { text: String },
    /// Cut the text to at most this many characters (at a word, ending in `…`).
    Limit { max_chars: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removable {
    /// Bare URLs are removed; a link on words keeps the words.
    Links,
    /// `@username` and mentions.
    Mentions,
    /// `#hashtags`.
    Hashtags,
    /// Every style: the text stays, plain.
    Formatting,
}

/// Forwarding hours: one or more windows, each on some days of the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub windows: Vec<Window>,
}

/// From `from` to `to` (`HH:MM`, local time; `to` before `from` runs past midnight) on
/// `days` (`mon` … `sun`; every day when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default)]
    pub days: Vec<Weekday>,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Filter {
    /// The filter's `type`, as outcomes name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Filter::Keywords { .. } => "keywords",
            Filter::Regex { .. } => "regex",
            Filter::Senders { .. } => "senders",
            Filter::Kinds { .. } => "kinds",
            Filter::Forwarded { .. } => "forwarded",
            Filter::Replies { .. } => "replies",
            Filter::Bots { .. } => "bots",
            Filter::Length { .. } => "length",
        }
    }
}

impl Rules {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self == &Rules::default()
    }

    /// The plan features these rules use: `filters`, `regex`, `transforms`, `delay`.
    pub fn features(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if !self.filters.is_empty() {
            features.push("filters");
        }
        let regex = self
            .filters
            .iter()
            .any(|f| matches!(f, Filter::Regex { .. }))
            || self
                .transforms
                .iter()
                .any(|t| matches!(t, Transform::RegexReplace { .. }));
        if regex {
            features.push("regex");
        }
        if !self.transforms.is_empty() {
            features.push("transforms");
        }
        if self.delay_seconds.is_some() || self.schedule.is_some() {
            features.push("delay");
        }
        features
    }

    /// A destination's rules over these (the pair's).
    pub fn with_destination(&self, destination: &DestinationRules) -> Rules {
        let (mut filters, mut transforms) = match destination.mode {
            Combine::Add => (self.filters.clone(), self.transforms.clone()),
            Combine::Replace => (Vec::new(), Vec::new()),
        };
        filters.extend(destination.filters.iter().cloned());
        transforms.extend(destination.transforms.iter().cloned());
        Rules {
            filters,
            transforms,
            ..self.clone()
        }
    }
}
