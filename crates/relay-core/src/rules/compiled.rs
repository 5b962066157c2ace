//! Rules made ready to run: patterns compiled, templates and hours checked, the time zone
//! found — once per pair version, not per message — and applied to a message described by
//! a [`Subject`].

use super::edits::{Edit, apply};
use super::model::{
    DestinationRules, Filter, Keep, KeywordMode, MessageKind, Removable, Rules, Transform,
};
use super::schedule::Hours;
use super::template::{Template, Values};
use super::{MAX_PATTERN_CHARS, RuleError};
use crate::format::{FormattedText, Span, Style};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use regex::{Regex, RegexBuilder};
use std::sync::LazyLock;

/// The longest delay, in seconds (a day).
pub const MAX_DELAY_SECONDS: u32 = 86_400;

/// What the rules look at in a message.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub text: &'a FormattedText,
    /// What the message is: `text` for text alone, else its media kinds (`album` for
    /// several files).
    pub kinds: &'a [MessageKind],
    pub author_id: &'a str,
    pub author_name: &'a str,
    pub author_is_bot: bool,
    pub forwarded: bool,
    pub reply: bool,
    pub has_media: bool,
    /// The source chat's name, for `{source_chat}`.
    pub source_chat: &'a str,
    /// A link to the original message, for `{link}`, when the source has one.
    pub link: Option<&'a str>,
    pub posted_at_ms: i64,
}

/// Why a message was not forwarded: the filter that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Where the filter is: `filters[2]` (the pair's) or `destination.filters[0]`.
    pub rule: String,
    /// The filter's type (`keywords`, `regex`, ...).
    pub kind: &'static str,
}

#[derive(Debug)]
pub(super) enum Check {
    Keywords {
        words: Vec<String>,
        mode: KeywordMode,
        case_sensitive: bool,
        whole_words: bool,
    },
    Regex {
        regex: Regex,
        exclude: bool,
    },
    Senders {
        allow: Vec<String>,
        deny: Vec<String>,
    },
    Kinds {
        allow: Vec<MessageKind>,
        deny: Vec<MessageKind>,
    },
    Forwarded(Keep),
    Replies(Keep),
    Bots(Keep),
    Length {
        min: Option<u32>,
        max: Option<u32>,
    },
}

#[derive(Debug)]
pub(super) enum Step {
    Replace {
        regex: Regex,
        with: String,
        expand: bool,
    },
    Remove(Removable),
    Header(Template),
    Footer(Template),
    Watermark(String),
    Limit(usize),
}

/// Rules ready to apply.
#[derive(Debug)]
pub struct CompiledRules {
    checks: Vec<(String, &'static str, Check)>,
    steps: Vec<Step>,
    delay_ms: i64,
    hours: Option<Hours>,
    tz: TimeZone,
}

impl CompiledRules {
    /// A pair's rules, with a destination's added or in their place.
    pub fn compile_for(
        pair: &Rules,
        destination: Option<&DestinationRules>,
    ) -> Result<Self, Vec<RuleError>> {
        let mut errors = Vec::new();
        let mut rules = CompiledRules::base(pair, &mut errors);
        let destination_replaces = destination.is_some_and(|d| d.mode == super::Combine::Replace);
        if destination_replaces {
            rules.checks.clear();
            rules.steps.clear();
        }
        if let Some(d) = destination {
            rules.add_filters(&d.filters, "destination.", &mut errors);
            rules.add_transforms(&d.transforms, "destination.", &mut errors);
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors)
        }
    }

    /// A pair's rules alone.
    pub fn compile(rules: &Rules) -> Result<Self, Vec<RuleError>> {
        Self::compile_for(rules, None)
    }

    fn base(rules: &Rules, errors: &mut Vec<RuleError>) -> Self {
        let tz = match &rules.time_zone {
            None => TimeZone::UTC,
            Some(name) => TimeZone::get(name).unwrap_or_else(|_| {
                errors.push(RuleError::new(
                    "time_zone",
                    format!("is not a known time zone: {name:?} (use an IANA name such as Europe/Berlin)"),
                ));
                TimeZone::UTC
            }),
        };
        let delay = rules.delay_seconds.unwrap_or(0);
        if delay > MAX_DELAY_SECONDS {
            errors.push(RuleError::new(
                "delay_seconds",
                format!("must be at most {MAX_DELAY_SECONDS} (a day)"),
            ));
        }
        let hours = rules.schedule.as_ref().and_then(|s| {
            Hours::check(s)
                .map_err(|e| {
                    errors.extend(
                        e.into_iter()
                            .map(|(path, message)| RuleError { path, message }),
                    )
                })
                .ok()
        });
        let mut compiled = CompiledRules {
            checks: Vec::new(),
            steps: Vec::new(),
            delay_ms: i64::from(delay) * 1000,
            hours,
            tz,
        };
        compiled.add_filters(&rules.filters, "", errors);
        compiled.add_transforms(&rules.transforms, "", errors);
        compiled
    }

    fn add_filters(&mut self, filters: &[Filter], prefix: &str, errors: &mut Vec<RuleError>) {
        for (i, filter) in filters.iter().enumerate() {
            let at = format!("{prefix}filters[{i}]");
            if let Some(check) = check(filter, &at, errors) {
                self.checks.push((at, filter.kind(), check));
            }
        }
    }

    fn add_transforms(
        &mut self,
        transforms: &[Transform],
        prefix: &str,
        errors: &mut Vec<RuleError>,
    ) {
        for (i, transform) in transforms.iter().enumerate() {
            let at = format!("{prefix}transforms[{i}]");
            if let Some(step) = step(transform, &at, errors) {
                self.steps.push(step);
            }
        }
    }

    /// Whether the message goes out; if not, the first filter that stopped it.
    pub fn check(&self, s: &Subject<'_>) -> Result<(), Dropped> {
        for (rule, kind, check) in &self.checks {
            if !passes(check, s) {
                return Err(Dropped {
                    rule: rule.clone(),
                    kind,
                });
            }
        }
        Ok(())
    }

    /// The text that goes out, after every transformation in order.
    pub fn transform(&self, s: &Subject<'_>) -> FormattedText {
        let mut text = s.text.clone();
        for step in &self.steps {
            text = run(step, text, s, &self.tz);
        }
        text
    }

    /// Whether there is any transformation.
    pub fn transforms(&self) -> bool {
        !self.steps.is_empty()
    }

    /// When a message posted at `posted_at_ms` may go out, if not at `now_ms`: after the
    /// delay, within the forwarding hours.
    pub fn hold_until(&self, posted_at_ms: i64, now_ms: i64) -> Option<i64> {
        let mut at = now_ms.max(posted_at_ms.saturating_add(self.delay_ms));
        if let Some(hours) = &self.hours
            && let Ok(t) = Timestamp::from_millisecond(at)
        {
            at = hours.next_open(t, &self.tz).as_millisecond();
        }
        (at > now_ms).then_some(at)
    }
}

fn regex(pattern: &str, case_sensitive: bool, at: &str) -> Result<Regex, RuleError> {
    let field = format!("{at}.pattern");
    if pattern.is_empty() {
        return Err(RuleError::new(field, "must not be empty"));
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(RuleError::new(
            field,
            format!("is longer than {MAX_PATTERN_CHARS} characters"),
        ));
    }
    RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(256 * 1024)
        .dfa_size_limit(1024 * 1024)
        .nest_limit(16)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => RuleError::new(
                field,
                "is too complex (its compiled form is over the size limit)",
            ),
            other => RuleError::new(field, format!("is not a valid regular expression: {other}")),
        })
}

pub(super) fn check(filter: &Filter, at: &str, errors: &mut Vec<RuleError>) -> Option<Check> {
    let mut fail = |field: &str, message: &str| {
        errors.push(RuleError::new(format!("{at}.{field}"), message));
        None
    };
    Some(match filter {
        Filter::Keywords {
            words,
            mode,
            case_sensitive,
            whole_words,
        } => {
            if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
                return fail("words", "must list at least one word, none of them blank");
            }
            let fold = |w: &String| {
                if *case_sensitive {
                    w.clone()
                } else {
                    w.to_lowercase()
                }
            };
            Check::Keywords {
                words: words.iter().map(fold).collect(),
                mode: *mode,
                case_sensitive: *case_sensitive,
                whole_words: *whole_words,
            }
        }
        Filter::Regex {
            pattern,
            case_sensitive,
            exclude,
        } => match regex(pattern, *case_sensitive, at) {
            Ok(regex) => Check::Regex {
                regex,
                exclude: *exclude,
            },
            Err(e) => {
                errors.push(e);
                return None;
            }
        },
        Filter::Senders { allow, deny } => {
            if allow.is_empty() && deny.is_empty() {
                return fail("allow", "give `allow` or `deny` (ids or names)");
            }
            let fold = |v: &Vec<String>| v.iter().map(|s| s.trim().to_lowercase()).collect();
            Check::Senders {
                allow: fold(allow),
                deny: fold(deny),
            }
        }
        Filter::Kinds { allow, deny } => {
            if allow.is_empty() && deny.is_empty() {
                return fail("allow", "give `allow` or `deny` (message kinds)");
            }
            Check::Kinds {
                allow: allow.clone(),
                deny: deny.clone(),
            }
        }
        Filter::Forwarded { keep } => Check::Forwarded(*keep),
        Filter::Replies { keep } => Check::Replies(*keep),
        Filter::Bots { keep } => Check::Bots(*keep),
        Filter::Length { min, max } => {
            if min.is_none() && max.is_none() {
                return fail("min", "give `min`, `max` or both");
            }
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return fail("max", "must not be below `min`");
            }
            Check::Length {
                min: *min,
                max: *max,
            }
        }
    })
}

pub(super) fn step(transform: &Transform, at: &str, errors: &mut Vec<RuleError>) -> Option<Step> {
    let template = |t: &str, errors: &mut Vec<RuleError>| {
        Template::parse(t)
            .map_err(|e| errors.push(RuleError::new(format!("{at}.template"), e)))
            .ok()
    };
    Some(match transform {
        Transform::Replace {
            find,
            with,
            case_sensitive,
        } => {
            if find.is_empty() {
                errors.push(RuleError::new(format!("{at}.find"), "must not be empty"));
                return None;
            }
            Step::Replace {
                regex: regex(&regex::escape(find), *case_sensitive, at).ok()?,
                with: with.clone(),
                expand: false,
            }
        }
        Transform::RegexReplace {
            pattern,
            with,
            case_sensitive,
        } => match regex(pattern, *case_sensitive, at) {
            Ok(regex) => Step::Replace {
                regex,
                with: with.clone(),
                expand: true,
            },
            Err(e) => {
                errors.push(e);
                return None;
            }
        },
        Transform::Remove { what } => Step::Remove(*what),
        Transform::Header { template: t } => Step::Header(template(t, errors)?),
        Transform::Footer { template: t } => Step::Footer(template(t, errors)?),
        Transform::Watermark { text } => {
            if text.trim().is_empty() {
                errors.push(RuleError::new(format!("{at}.text"), "must not be blank"));
                return None;
            }
            Step::Watermark(text.clone())
        }
        Transform::Limit { max_chars } => {
            if *max_chars == 0 {
                errors.push(RuleError::new(
                    format!("{at}.max_chars"),
                    "must be at least 1",
                ));
                return None;
            }
            Step::Limit(*max_chars as usize)
        }
    })
}

fn passes(check: &Check, s: &Subject<'_>) -> bool {
    let keep = |keep: &Keep, is: bool| match keep {
        Keep::Only => is,
        Keep::Exclude => !is,
    };
    match check {
        Check::Keywords {
            words,
            mode,
            case_sensitive,
            whole_words,
        } => {
            let text = if *case_sensitive {
                s.text.text.clone()
            } else {
                s.text.text.to_lowercase()
            };
            let found = |w: &String| contains(&text, w, *whole_words);
            match mode {
                KeywordMode::Any => words.iter().any(found),
                KeywordMode::All => words.iter().all(found),
                KeywordMode::None => !words.iter().any(found),
            }
        }
        Check::Regex { regex, exclude } => regex.is_match(&s.text.text) != *exclude,
        Check::Senders { allow, deny } => {
            let (id, name) = (s.author_id.to_lowercase(), s.author_name.to_lowercase());
            let listed = |list: &Vec<String>| list.iter().any(|e| *e == id || *e == name);
            (allow.is_empty() || listed(allow)) && !listed(deny)
        }
        Check::Kinds { allow, deny } => {
            let any = |list: &Vec<MessageKind>| s.kinds.iter().any(|k| list.contains(k));
            (allow.is_empty() || any(allow)) && !any(deny)
        }
        Check::Forwarded(k) => keep(k, s.forwarded),
        Check::Replies(k) => keep(k, s.reply),
        Check::Bots(k) => keep(k, s.author_is_bot),
        Check::Length { min, max } => {
            let n = s.text.text.chars().count();
            min.is_none_or(|m| n >= m as usize) && max.is_none_or(|m| n <= m as usize)
        }
    }
}

/// Whether `word` occurs in `text`, as a whole word (not inside a longer one) if asked.
fn contains(text: &str, word: &str, whole: bool) -> bool {
    text.match_indices(word).any(|(at, _)| {
        !whole || {
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
        }
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn run(step: &Step, text: FormattedText, s: &Subject<'_>, tz: &TimeZone) -> FormattedText {
    match step {
        Step::Replace {
            regex,
            with,
            expand,
        } => {
            let edits: Vec<Edit> = regex
                .captures_iter(&text.text)
                .filter_map(|caps| {
                    let whole = caps.get(0)?;
                    let mut replacement = String::new();
                    if *expand {
                        caps.expand(with, &mut replacement);
                    } else {
                        replacement.push_str(with);
                    }
                    Some(Edit {
                        range: whole.range(),
                        with: replacement,
                    })
                })
                .collect();
            apply(&text, &edits)
        }
        Step::Remove(Removable::Formatting) => FormattedText::plain(text.text),
        Step::Remove(what) => remove(&text, *what),
        Step::Header(t) => {
            let line = t.render(&values(s, tz, &mut String::new()));
            if line.is_empty() {
                return text;
            }
            let sep = if text.is_empty() { "" } else { "\n" };
            apply(
                &text,
                &[Edit {
                    range: 0..0,
                    with: format!("{line}{sep}"),
                }],
            )
        }
        Step::Footer(t) => {
            let line = t.render(&values(s, tz, &mut String::new()));
            append(text, &line)
        }
        Step::Watermark(mark) if s.has_media => append(text, mark),
        Step::Watermark(_) => text,
        Step::Limit(max) => limit(text, *max),
    }
}

fn append(text: FormattedText, line: &str) -> FormattedText {
    if line.is_empty() {
        return text;
    }
    let end = text.text.len();
    let sep = if text.is_empty() { "" } else { "\n" };
    apply(
        &text,
        &[Edit {
            range: end..end,
            with: format!("{sep}{line}"),
        }],
    )
}

fn values<'a>(s: &Subject<'a>, tz: &TimeZone, date: &'a mut String) -> Values<'a> {
    *date = Timestamp::from_millisecond(s.posted_at_ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    Values {
        source_chat: s.source_chat,
        author: s.author_name,
        date,
        link: s.link,
    }
}

/// Cuts the text to `max` characters: at the last space in the final fifth if there is
/// one, ending in `…`.
fn limit(text: FormattedText, max: usize) -> FormattedText {
    let count = text.text.chars().count();
    if count <= max {
        return text;
    }
    let keep = max.saturating_sub(1);
    let hard = text
        .text
        .char_indices()
        .nth(keep)
        .map_or(text.text.len(), |(i, _)| i);
    let soft = text.text[..hard]
        .rfind(char::is_whitespace)
        .filter(|at| text.text[..*at].chars().count() >= keep * 4 / 5);
    let at_word_end = text.text[hard..].starts_with(char::is_whitespace);
    let cut = if at_word_end {
        hard
    } else {
        soft.unwrap_or(hard)
    };
    let head = text.text[..cut].trim_end().len();
    apply(
        &text,
        &[Edit {
            range: head..text.text.len(),
            with: "…".into(),
        }],
    )
}

static LINKS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:https?://|www\.)[^\s<>]+").expect("a fixed pattern"));
/// `@name` not inside a word or an e-mail address.
static MENTIONS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w@.])(@\w{2,})").expect("a fixed pattern"));
/// `#tag` not inside a word or an HTML entity.
static HASHTAGS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w#&])(#\w+)").expect("a fixed pattern"));

/// Removes links, mentions or hashtags (with one space next to each, so no double spaces
/// are left).
fn remove(text: &FormattedText, what: Removable) -> FormattedText {
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    let mut plain_spans: Vec<&Span> = Vec::new();
    match what {
        Removable::Links => {
            for m in LINKS.find_iter(&text.text) {
                ranges.push(m.range());
            }
            // A link on words keeps the words: only the link goes.
            plain_spans.extend(
                text.spans
                    .iter()
                    .filter(|s| matches!(s.style, Style::TextLink { .. })),
            );
        }
        Removable::Mentions => {
            for span in &text.spans {
                if matches!(span.style, Style::Mention { .. }) {
                    ranges.push(span.start..span.end);
                }
            }
            for m in MENTIONS.captures_iter(&text.text) {
                if let Some(m) = m.get(1) {
                    ranges.push(m.range());
                }
            }
        }
        Removable::Hashtags => {
            for m in HASHTAGS.captures_iter(&text.text) {
                if let Some(m) = m.get(1) {
                    ranges.push(m.range());
                }
            }
        }
        Removable::Formatting => return FormattedText::plain(text.text.clone()),
    }
    let kept = FormattedText::new(
        text.text.clone(),
        text.spans
            .iter()
            .filter(|s| !plain_spans.contains(s))
            .cloned()
            .collect(),
    );
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut edits: Vec<Edit> = Vec::new();
    for r in ranges {
        // With one adjacent space: the one after, else the one before.
        let bytes = text.text.as_bytes();
        let r = if bytes.get(r.end) == Some(&b' ') {
            r.start..r.end + 1
        } else if r.start > 0 && bytes[r.start - 1] == b' ' {
            r.start - 1..r.end
        } else {
            r
        };
        match edits.last_mut() {
            Some(last) if r.start < last.range.end => {
                last.range.end = last.range.end.max(r.end);
            }
            _ => edits.push(Edit {
                range: r,
                with: String::new(),
            }),
        }
    }
    apply(&kept, &edits)
}
