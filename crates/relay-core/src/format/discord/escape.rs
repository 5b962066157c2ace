//! Literal text for Discord: what would otherwise be read as markdown gets a backslash, so
//! the text shows as written (`2*3*4 = 24`, `snake_case_name`, `<b>tag</b>`).
//!
//! Escaped:
//! - always: `\` `*` `_` `~` `|` `` ` ``;
//! - `[` and `]` when a masked link could form: inside a link's label, or when the message
//!   has a link or the text contains `](`;
//! - `<` before `@`, `#`, `:`, `a:` or `http` (mentions, emoji, links), and before `t:123`
//!   and `/name:123` (timestamps, commands);
//! - at the start of a line (after spaces): `>` (quote), `#` in `# `, `## `, `### `
//!   (headers), `-` in `- ` and `-# ` (list, subtext), and the `.` of `1. ` (numbered
//!   list).
//!
//! Not escaped: bare links ([`super::url`]), where a backslash would become part of the link.

use super::url::{bare_url_len, scheme_len};

/// Where in its line the text so far is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Only spaces since the line started.
    Head,
    /// Spaces, then digits.
    Number,
    Body,
}

impl Line {
    fn after(self, c: char) -> Line {
        match (self, c) {
            (_, '\n') => Line::Head,
            (Line::Head, ' ' | '\t') => Line::Head,
            (Line::Head | Line::Number, '0'..='9') => Line::Number,
            _ => Line::Body,
        }
    }

    /// The state at `at` of `text`, from the start of its line (looking back only over
    /// spaces and digits).
    fn at(text: &str, at: usize) -> Line {
        let before = &text[..at];
        let head = before.trim_end_matches(|c: char| c == ' ' || c == '\t' || c.is_ascii_digit());
        if head.is_empty() || head.ends_with('\n') {
            before[head.len()..].chars().fold(Line::Head, Line::after)
        } else {
            Line::Body
        }
    }
}

fn opens_angle(rest: &str) -> bool {
    let after = &rest[1..];
    if after.starts_with(['@', '#', ':']) || after.starts_with("a:") || scheme_len(after).is_some()
    {
        return true;
    }
    // `<t:1700000000:R>` and `</command:123>`, but not `</b>`.
    let end = after
        .find(|c: char| c == '>' || c == '<' || c.is_whitespace())
        .unwrap_or(after.len());
    let inner = if after[end..].starts_with('>') {
        &after[..end]
    } else {
        ""
    };
    (after.starts_with("t:") || after.starts_with('/'))
        && inner
            .split(':')
            .nth(1)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_header(rest: &str) -> bool {
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    hashes <= 3 && rest[hashes..].starts_with(' ')
}

/// Appends `text[start..end]` to `out`, escaped. `brackets`: escape `[` and `]`.
pub(super) fn escape_into(out: &mut String, text: &str, start: usize, end: usize, brackets: bool) {
    let mut line = Line::at(text, start);
    let mut i = start;
    while let Some(c) = text[i..end].chars().next() {
        let prev = text[..i].chars().next_back();
        // A bare link stays within the segment: a marker may follow it.
        if let Some(n) = bare_url_len(prev, &text[i..end]) {
            out.push_str(&text[i..i + n]);
            line = Line::Body;
            i += n;
            continue;
        }
        // The rest looks past the segment: text rendered without markers (a mention's name)
        // may follow, and escaping too much is harmless.
        let rest = &text[i..];
        let escape = match c {
            '\\' | '*' | '_' | '~' | '|' | '`' => true,
            '[' | ']' => brackets,
            '<' => opens_angle(rest),
            '>' => line == Line::Head,
            '#' => line == Line::Head && is_header(rest),
            '-' => {
                line == Line::Head && (rest[1..].starts_with(' ') || rest[1..].starts_with("# "))
            }
            '.' => line == Line::Number && rest[1..].starts_with(' '),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
        line = line.after(c);
        i += c.len_utf8();
    }
}

/// `text` escaped as a whole.
#[cfg(test)]
pub(super) fn escape(text: &str, brackets: bool) -> String {
    let mut out = String::new();
    escape_into(&mut out, text, 0, text.len(), brackets);
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn literal_markdown_is_escaped() {
        assert_eq!(escape("2*3*4 = 24", false), r"2\*3\*4 = 24");
        assert_eq!(escape("snake_case_name", false), r"snake\_case\_name");
        assert_eq!(escape("<b>tag</b>", false), "<b>tag</b>");
        assert_eq!(
            escape("<@123> <#9> <t:1:R>", false),
            r"\<@123> \<#9> \<t:1:R>"
        );
        assert_eq!(
            escape("</ping:42> </b> <3 <a:b:1>", false),
            r"\</ping:42> </b> <3 \<a:b:1>"
        );
        assert_eq!(escape(r"a\b ~~ || `x`", false), r"a\\b \~\~ \|\| \`x\`");
        assert_eq!(escape("[x](y)", false), "[x](y)");
        assert_eq!(escape("[x](y)", true), r"\[x\](y)");
    }

    #[test]
    fn line_starts_are_escaped_where_they_would_be_blocks() {
        assert_eq!(escape("> quote\na > b", false), "\\> quote\na > b");
        assert_eq!(
            escape("# h\n## h\n#### h\n#tag", false),
            "\\# h\n\\## h\n#### h\n#tag"
        );
        assert_eq!(
            escape("- item\n-# small\n-1\n x - y", false),
            "\\- item\n\\-# small\n-1\n x - y"
        );
        assert_eq!(
            escape("1. one\n 22. two\n3.14", false),
            "1\\. one\n 22\\. two\n3.14"
        );
    }

    #[test]
    fn bare_links_stay_whole() {
        assert_eq!(
            escape("see https://example.com/a_b_c and x_y", false),
            r"see https://example.com/a_b_c and x\_y"
        );
        assert_eq!(escape("xhttps://a.b/c_d", false), r"xhttps://a.b/c\_d");
    }
}
