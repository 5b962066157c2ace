//! Bare links (`https://…`) in Discord text. Discord shows them as links and does not read
//! markdown or escapes inside them, so the renderer leaves them unescaped (an escaped `_`
//! would end up in the link) and the parser takes them literally. Both use this one
//! definition, so what one leaves raw the other reads raw.
//!
//! A bare link starts with `http://` or `https://` (any case) where the character before is
//! not a letter or digit, runs until whitespace or one of `< > [ ] \ * | ` "` or a doubled
//! `__`/`~~` (markdown that closes around it), and sheds trailing `. , : ; ! ? ' _ ~` and
//! an unbalanced `)`.

/// The length of the scheme (`https://`) `text` starts with, if any.
pub(crate) fn scheme_len(text: &str) -> Option<usize> {
    ["https://", "http://"].into_iter().find_map(|scheme| {
        text.get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(|s| s.len())
    })
}

fn is_stop(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '[' | ']' | '\\' | '*' | '|' | '`' | '"')
}

/// The length in bytes of the bare link at the start of `rest`, if one starts there; `prev`
/// is the character before `rest`.
pub(crate) fn bare_url_len(prev: Option<char>, rest: &str) -> Option<usize> {
    if prev.is_some_and(char::is_alphanumeric) {
        return None;
    }
    let scheme = scheme_len(rest)?;
    let mut end = scheme;
    for (i, c) in rest[scheme..].char_indices() {
        let at = scheme + i;
        if is_stop(c) || (matches!(c, '_' | '~') && rest[at + 1..].starts_with(c)) {
            break;
        }
        end = at + c.len_utf8();
    }
    let mut url = &rest[..end];
    while let Some(last) = url[scheme..].chars().next_back() {
        let shed = match last {
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '_' | '~' => true,
            ')' => url.matches(')').count() > url.matches('(').count(),
            _ => false,
        };
        if !shed {
            break;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    (url.len() > scheme).then_some(url.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_end_where_discord_ends_them() {
        fn len(s: &str) -> Option<&str> {
            bare_url_len(None, s).map(|n| &s[..n])
        }
        assert_eq!(
            len("https://example.com/a_b_c rest"),
            Some("https://example.com/a_b_c")
        );
        assert_eq!(len("HTTPS://x.y/z."), Some("HTTPS://x.y/z"));
        assert_eq!(
            len("https://en.wikipedia.org/wiki/Rust_(programming_language))"),
            Some("https://en.wikipedia.org/wiki/Rust_(programming_language)")
        );
        assert_eq!(len("https://x.y/a__"), Some("https://x.y/a"));
        assert_eq!(len("https://x.y/~user~~"), Some("https://x.y/~user"));
        assert_eq!(len("https://x.y**"), Some("https://x.y"));
        assert_eq!(len("https://"), None);
        assert_eq!(len("ftp://x.y"), None);
        assert_eq!(bare_url_len(Some('x'), "https://x.y"), None);
        assert_eq!(bare_url_len(Some('('), "https://x.y)"), Some(11));
    }
}
