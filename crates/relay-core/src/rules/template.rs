//! Header and footer templates: `{source_chat}`, `{author}`, `{date}` (in the rules' time
//! zone) and `{link}` (to the original, when the source has one) are filled in; `{{` and
//! `}}` stand for literal braces. Checked when the rules are saved, so an unknown
//! placeholder is a field error rather than text that appears in every message.

/// A template, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    SourceChat,
    Author,
    Date,
    Link,
}

/// What the placeholders stand for in one message.
pub struct Values<'a> {
    pub source_chat: &'a str,
    pub author: &'a str,
    /// Already in the rules' time zone.
    pub date: &'a str,
    pub link: Option<&'a str>,
}

impl Template {
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => {
                                return Err(
                                    "has a { that is never closed; write {{ for a brace".into()
                                );
                            }
                        }
                    }
                    let piece = match name.as_str() {
                        "source_chat" => Piece::SourceChat,
                        "author" => Piece::Author,
                        "date" => Piece::Date,
                        "link" => Piece::Link,
                        other => {
                            return Err(format!(
                                "has an unknown placeholder {{{other}}}; use {{source_chat}}, {{author}}, {{date}} or {{link}} (and {{{{ }}}} for braces)"
                            ));
                        }
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(piece);
                }
                '}' => return Err("has a lone }; write }} for a brace".into()),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    pub fn render(&self, values: &Values<'_>) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::SourceChat => out.push_str(values.source_chat),
                Piece::Author => out.push_str(values.author),
                Piece::Date => out.push_str(values.date),
                Piece::Link => out.push_str(values.link.unwrap_or_default()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_braces_escaped() {
        let t = Template::parse("{{{author}}} in {source_chat} at {date}: {link}").expect("ok");
        let out = t.render(&Values {
            source_chat: "News",
            author: "Alice",
            date: "2026-12-02 14:00",
            link: None,
        });
        assert_eq!(out, "{Alice} in News at 2026-12-02 14:00: ");
    }

    #[test]
    fn unknown_or_broken_placeholders_are_refused() {
        assert!(
            Template::parse("{sender}")
                .expect_err("refused")
                .contains("{sender}")
        );
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("{author").is_err());
    }
}
