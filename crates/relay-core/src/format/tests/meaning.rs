//! What survives a trip through Discord: the spans Discord markdown can express, as the
//! renderer expresses them. Mentions and custom emoji of Telegram (and, rendered as names,
//! Discord's) become text; the rest as the renderer documents.

use crate::format::discord::{is_language, link_target, scheme_len};
use crate::format::{FormattedText, Span, Style};

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// `formatted`'s spans that come back from Discord markdown rendered without live mentions
/// or emoji, in canonical form.
pub(super) fn discord_meaning(formatted: &FormattedText) -> FormattedText {
    let canonical = formatted.normalized();
    let text = &canonical.text;
    let pre_at = |at: usize| {
        canonical
            .spans
            .iter()
            .any(|s| s.start == at && matches!(s.style, Style::Pre { .. }))
    };
    let spans = canonical
        .spans
        .iter()
        .filter_map(|s| {
            let covered = &text[s.start..s.end];
            let style = match &s.style {
                Style::Mention { .. } | Style::CustomEmoji { .. } => return None,
                Style::Blockquote { .. } => Style::Blockquote { expandable: false },
                Style::Code if longest_backtick_run(covered) >= 2 || pre_at(s.end) => return None,
                Style::Pre { .. } if covered.contains("```") => return None,
                Style::Pre { language } => Style::Pre {
                    language: language.clone().filter(|l| is_language(l)),
                },
                Style::TextLink { url } => {
                    if scheme_len(url).is_none_or(|n| url.len() <= n) || covered == url {
                        return None;
                    }
                    Style::TextLink {
                        url: link_target(url),
                    }
                }
                other => other.clone(),
            };
            Some(Span::new(s.start, s.end, style))
        })
        .collect();
    FormattedText::new(text.clone(), spans)
}
