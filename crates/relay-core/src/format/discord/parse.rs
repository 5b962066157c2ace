//! Discord markdown into [`FormattedText`]. Recognised: `**bold**`, `*italic*`, `_italic_`,
//! `__underline__`, `~~strike~~`, `||spoiler||`, `` `code` ``, ```` ```lang\n…``` ````,
//! `[label](https://…)`, `<@id>`/`<@!id>`, `<@&id>`, `<#id>`, `<:name:id>`/`<a:name:id>`,
//! `<https://…>`, `> ` and `>>> ` quotes, and `\` escapes (before any character that is not
//! a letter, digit or space). Headers, subtext and lists stay plain text, markers included;
//! a bare link is taken literally (see [`super::url`]). Nothing is refused: what does not
//! parse is text.

use super::atoms::{self, Angle};
use super::emphasis::{self, Run};
use super::options::MentionNames;
use super::url::bare_url_len;
use crate::format::model::{CustomEmoji, FormattedText, MentionTarget, Span, Style};
use std::collections::HashMap;

/// Discord markdown in the neutral form; mentions read as their ids.
pub fn from_discord_markdown(markdown: &str) -> FormattedText {
    from_discord_markdown_with(markdown, &MentionNames::default())
}

/// Discord markdown in the neutral form, mentions reading as the names in `names`.
pub fn from_discord_markdown_with(markdown: &str, names: &MentionNames) -> FormattedText {
    container(markdown, false, names).normalized()
}

/// A piece of the lexed text.
enum Node {
    Text(String),
    /// A marker run, by its index among the runs.
    Marker(usize),
    /// A piece parsed on its own, with a style over all of it.
    Piece(FormattedText, Option<Style>),
}

struct Lexer<'a> {
    names: &'a MentionNames,
    nodes: Vec<Node>,
    runs: Vec<Run>,
    text: String,
}

impl Lexer<'_> {
    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.nodes.push(Node::Text(std::mem::take(&mut self.text)));
        }
    }

    fn piece(&mut self, piece: FormattedText, style: Option<Style>) {
        self.flush();
        self.nodes.push(Node::Piece(piece, style));
    }

    fn styled(&mut self, text: String, style: Style) {
        self.piece(FormattedText::plain(text), Some(style));
    }

    fn marker(&mut self, run: Run) {
        self.flush();
        self.nodes.push(Node::Marker(self.runs.len()));
        self.runs.push(run);
    }

    fn angle(&mut self, angle: Angle<'_>) {
        let names = self.names;
        let named = |map: &std::collections::BTreeMap<u64, String>, id: u64| {
            map.get(&id).cloned().unwrap_or_else(|| id.to_string())
        };
        let (text, style) = match angle {
            Angle::Url(url) => {
                self.text.push_str(url);
                return;
            }
            Angle::User(user_id) => (
                format!("@{}", named(&names.users, user_id)),
                MentionTarget::DiscordUser { user_id },
            ),
            Angle::Role(role_id) => (
                format!("@{}", named(&names.roles, role_id)),
                MentionTarget::DiscordRole { role_id },
            ),
            Angle::Channel(channel_id) => (
                format!("#{}", named(&names.channels, channel_id)),
                MentionTarget::DiscordChannel { channel_id },
            ),
            Angle::Emoji { name, id, animated } => {
                let emoji = CustomEmoji::Discord {
                    id,
                    name: name.to_owned(),
                    animated,
                };
                self.styled(format!(":{name}:"), Style::CustomEmoji { emoji });
                return;
            }
        };
        self.styled(text, Style::Mention { target: style });
    }
}

/// Who may open or close emphasis with a run of `len` × `ch` between `prev` and `next`.
fn run(ch: char, len: usize, prev: Option<char>, next: Option<char>) -> Run {
    let solid = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let (can_open, can_close) = match ch {
        '*' => (solid(next), solid(prev)),
        '_' => (
            solid(next) && (len >= 2 || !word(prev)),
            solid(prev) && (len >= 2 || !word(next)),
        ),
        _ => (next.is_some(), prev.is_some()),
    };
    Run {
        ch,
        len,
        can_open,
        can_close,
    }
}

/// A stretch of markdown parsed on its own: the whole message, a quote's content, a link's
/// label. `in_quote` forbids quotes (Discord does not nest them).
fn container(src: &str, in_quote: bool, names: &MentionNames) -> FormattedText {
    let mut lx = Lexer {
        names,
        nodes: Vec::new(),
        runs: Vec::new(),
        text: String::new(),
    };
    let brackets = atoms::closing_brackets(src);
    // Backtick runs of a length with no closing run after some point.
    let mut unclosed: HashMap<usize, usize> = HashMap::new();
    let mut i = 0;
    while let Some(c) = src[i..].chars().next() {
        let rest = &src[i..];
        let prev = src[..i].chars().next_back();
        if !in_quote
            && matches!(prev, None | Some('\n'))
            && let Some((content, used)) = atoms::quote(rest)
        {
            let quote = container(&content, true, names);
            lx.piece(quote, Some(Style::Blockquote { expandable: false }));
            i += used;
            continue;
        }
        let used = match c {
            '\\' => match rest[1..].chars().next() {
                Some(n) if !n.is_ascii_alphanumeric() && !n.is_whitespace() => {
                    lx.text.push(n);
                    1 + n.len_utf8()
                }
                _ => {
                    lx.text.push('\\');
                    1
                }
            },
            '`' => {
                if let Some((language, content, used)) = atoms::code_block(rest) {
                    let language = language.map(str::to_owned);
                    lx.styled(content.to_owned(), Style::Pre { language });
                    used
                } else {
                    let n = rest.len() - rest.trim_start_matches('`').len();
                    let closed = unclosed.get(&n).is_none_or(|&from| from > i);
                    match atoms::inline_code(rest).filter(|_| closed) {
                        Some((content, used)) => {
                            lx.styled(content.to_owned(), Style::Code);
                            used
                        }
                        None => {
                            unclosed.entry(n).or_insert(i);
                            lx.text.push_str(&rest[..n]);
                            n
                        }
                    }
                }
            }
            '<' => match atoms::angle(rest) {
                Some((angle, used)) => {
                    lx.angle(angle);
                    used
                }
                None => {
                    lx.text.push('<');
                    1
                }
            },
            '[' => match brackets
                .get(&i)
                .and_then(|close| atoms::masked_link(rest, close - i))
            {
                Some((label, url, used)) => {
                    let label = container(label, true, names);
                    let url = url.to_owned();
                    lx.piece(label, Some(Style::TextLink { url }));
                    used
                }
                None => {
                    lx.text.push('[');
                    1
                }
            },
            '*' | '_' | '~' | '|' => {
                let n = rest.len() - rest.trim_start_matches(c).len();
                if n >= 2 || matches!(c, '*' | '_') {
                    lx.marker(run(c, n, prev, rest[n..].chars().next()));
                } else {
                    lx.text.push(c);
                }
                n
            }
            _ => match bare_url_len(prev, rest) {
                Some(n) => {
                    lx.text.push_str(&rest[..n]);
                    n
                }
                None => {
                    lx.text.push(c);
                    c.len_utf8()
                }
            },
        };
        i += used;
    }
    lx.flush();
    flatten(lx.nodes, &lx.runs)
}

/// The nodes as one text, the matched markers as spans and the unmatched ones as text.
fn flatten(nodes: Vec<Node>, runs: &[Run]) -> FormattedText {
    let (matched, left) = emphasis::resolve(runs);
    let mut out = FormattedText::default();
    // Where each run's leftover text starts and ends.
    let mut bounds = vec![(0, 0); runs.len()];
    for node in nodes {
        let start = out.text.len();
        match node {
            Node::Text(text) => out.text.push_str(&text),
            Node::Marker(r) => {
                out.text.extend(std::iter::repeat_n(runs[r].ch, left[r]));
                bounds[r] = (start, out.text.len());
            }
            Node::Piece(piece, style) => {
                out.text.push_str(&piece.text);
                out.spans.extend(
                    piece
                        .spans
                        .into_iter()
                        .map(|s| Span::new(start + s.start, start + s.end, s.style)),
                );
                if let Some(style) = style {
                    out.spans.push(Span::new(start, out.text.len(), style));
                }
            }
        }
    }
    // Leftover markers are the outer characters of a run: spans start after an opening
    // run's leftover and end before a closing run's.
    for m in matched {
        let (start, end) = (bounds[m.opener].1, bounds[m.closer].0);
        out.spans.push(Span::new(start, end, m.style));
    }
    out
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
