//! The pieces of Discord markdown that are recognised whole, before emphasis is matched:
//! quotes, code blocks, inline code, `<…>` mentions, emoji and links, and masked links.
//! Each recogniser looks at the text from its first character and says how much it takes.

use super::url::scheme_len;
use std::collections::HashMap;

/// A quote at the start of a line: `>>> ` takes the rest of the text, `> ` takes that line
/// and the following lines that start with `> `. Returns the content without the markers
/// and the bytes taken (not the newline after the last line).
pub(super) fn quote(rest: &str) -> Option<(String, usize)> {
    if let Some(body) = rest.strip_prefix(">>> ") {
        return Some((body.to_owned(), rest.len()));
    }
    let mut lines = Vec::new();
    let (mut pos, mut used) = (0, 0);
    loop {
        let line_end = rest[pos..].find('\n').map_or(rest.len(), |n| pos + n);
        let Some(body) = rest[pos..line_end].strip_prefix("> ") else {
            break;
        };
        lines.push(body);
        used = line_end;
        if line_end == rest.len() {
            break;
        }
        pos = line_end + 1;
    }
    (!lines.is_empty()).then(|| (lines.join("\n"), used))
}

fn is_language_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+-.#".contains(c)
}

/// Whether Discord takes `language` as a code block's language.
pub(crate) fn is_language(language: &str) -> bool {
    !language.is_empty() && language.chars().all(is_language_char)
}

/// A code block: ```` ```lang\n…``` ```` (the language line optional). Returns the
/// language, the content without the newlines next to the fences, and the bytes taken.
pub(super) fn code_block(rest: &str) -> Option<(Option<&str>, &str, usize)> {
    let body = rest.strip_prefix("```")?;
    let lang_len = body.find(|c| !is_language_char(c)).unwrap_or(body.len());
    if lang_len > 0
        && body[lang_len..].starts_with('\n')
        && let Some((content, used)) = block_body(&body[lang_len + 1..])
    {
        return Some((Some(&body[..lang_len]), content, 3 + lang_len + 1 + used));
    }
    let (content, used) = block_body(body)?;
    Some((None, content, 3 + used))
}

/// Newlines, then at least one character, up to the next fence.
fn block_body(body: &str) -> Option<(&str, usize)> {
    let from = body.len() - body.trim_start_matches('\n').len();
    let first = body[from..].chars().next()?;
    let after_first = from + first.len_utf8();
    let close = after_first + body[after_first..].find("```")?;
    Some((body[from..close].trim_end_matches('\n'), close + 3))
}

/// Inline code: a run of backticks, content, and a run of exactly as many. One space next to
/// a backtick at either end of the content is padding and dropped.
pub(super) fn inline_code(rest: &str) -> Option<(&str, usize)> {
    let n = rest.len() - rest.trim_start_matches('`').len();
    let body = &rest[n..];
    let mut from = 0;
    loop {
        let at = from + body[from..].find('`')?;
        let run = body[at..].len() - body[at..].trim_start_matches('`').len();
        if run == n && at > 0 {
            let mut content = &body[..at];
            if content.starts_with(' ') && content.trim_start_matches(' ').starts_with('`') {
                content = &content[1..];
            }
            if content.ends_with(' ') && content.trim_end_matches(' ').ends_with('`') {
                content = &content[..content.len() - 1];
            }
            return Some((content, n + at + n));
        }
        from = at + run;
    }
}

/// What `<…>` can hold.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Angle<'a> {
    User(u64),
    Role(u64),
    Channel(u64),
    Emoji {
        name: &'a str,
        id: u64,
        animated: bool,
    },
    /// `<https://…>`: a link without a preview; the text is the link.
    Url(&'a str),
}

fn snowflake(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn emoji(inner: &str, animated: bool) -> Option<Angle<'_>> {
    let (name, id) = inner.split_once(':')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some(Angle::Emoji {
        name,
        id: snowflake(id)?,
        animated,
    })
}

/// `<@id>`, `<@!id>`, `<@&id>`, `<#id>`, `<:name:id>`, `<a:name:id>` or `<https://…>`.
pub(super) fn angle(rest: &str) -> Option<(Angle<'_>, usize)> {
    let close = rest[1..].find(|c: char| c == '>' || c == '<' || c.is_whitespace())? + 1;
    if !rest[close..].starts_with('>') {
        return None;
    }
    let inner = &rest[1..close];
    let angle = if let Some(id) = inner.strip_prefix("@&") {
        Angle::Role(snowflake(id)?)
    } else if let Some(id) = inner.strip_prefix("@!").or_else(|| inner.strip_prefix('@')) {
        Angle::User(snowflake(id)?)
    } else if let Some(id) = inner.strip_prefix('#') {
        Angle::Channel(snowflake(id)?)
    } else if let Some(e) = inner.strip_prefix("a:") {
        emoji(e, true)?
    } else if let Some(e) = inner.strip_prefix(':') {
        emoji(e, false)?
    } else if scheme_len(inner).is_some_and(|n| inner.len() > n) {
        Angle::Url(inner)
    } else {
        return None;
    };
    Some((angle, close + 1))
}

/// Where each `[` of `src` is closed: the first `]` after it outside nested brackets and
/// backslash escapes. One pass, so that many `[` cost no more than one.
pub(super) fn closing_brackets(src: &str) -> HashMap<usize, usize> {
    let mut open = Vec::new();
    let mut pairs = HashMap::new();
    let mut chars = src.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => open.push(i),
            ']' => {
                if let Some(o) = open.pop() {
                    pairs.insert(o, i);
                }
            }
            _ => {}
        }
    }
    pairs
}

/// `[label](https://…)` or `[label](<https://…>)`, the label ending at `label_end` (from
/// [`closing_brackets`]). Returns the label's markdown, the URL and the bytes taken. The URL
/// ends at the first `)` outside balanced parentheses and may not contain whitespace.
pub(super) fn masked_link(rest: &str, label_end: usize) -> Option<(&str, &str, usize)> {
    let label = &rest[1..label_end];
    let target_start = label_end + 2;
    let target = rest[label_end + 1..].strip_prefix('(')?;
    let (target, angled) = match target.strip_prefix('<') {
        Some(t) => (t, 1),
        None => (target, 0),
    };
    let scheme = scheme_len(target)?;
    let mut depth = 0usize;
    let mut end = None;
    for (i, c) in target.char_indices() {
        match c {
            _ if c.is_whitespace() || c == '<' => return None,
            '>' if angled == 1 => {
                end = target[i + 1..].starts_with(')').then_some(i);
                break;
            }
            '>' => return None,
            '(' if angled == 0 => depth += 1,
            ')' if angled == 0 && depth == 0 => {
                end = Some(i);
                break;
            }
            ')' if angled == 0 => depth -= 1,
            _ => {}
        }
    }
    let end = end?;
    if label.is_empty() || end <= scheme {
        return None;
    }
    let used = target_start + angled + end + angled + 1;
    Some((label, &target[..end], used))
}

#[cfg(test)]
#[path = "atoms_tests.rs"]
mod tests;
