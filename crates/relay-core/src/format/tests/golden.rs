//! The golden table: real-looking messages in one platform's form and the other's. Each row
//! is checked in the direction it names (`Both` = Telegram → Discord and Discord →
//! Telegram). Telegram entities are written `type[:argument] offset length` (UTF-16), `;`
//! between them; Discord mentions resolve through [`names`].

use crate::format::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Both,
    ToDiscord,
    ToTelegram,
}
use Way::*;

struct Case {
    name: &'static str,
    text: &'static str,
    entities: &'static str,
    discord: &'static str,
    way: Way,
}

const fn case(
    name: &'static str,
    text: &'static str,
    entities: &'static str,
    discord: &'static str,
    way: Way,
) -> Case {
    Case {
        name,
        text,
        entities,
        discord,
        way,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    case("plain text", "hello world", "", "hello world", Both),
    case("single newlines stay", "first line\nsecond line", "", "first line\nsecond line", Both),
    case("literal asterisks", "2*3*4 = 24", "", "2\\*3\\*4 = 24", Both),
    case("html-looking text", "<b>tag</b>", "", "<b>tag</b>", Both),
    case("snake case", "snake_case_name", "", "snake\\_case\\_name", Both),
    case("bold", "Hello bold world", "bold 6 4", "Hello **bold** world", Both),
    case("italic between spaces", "an italic word", "italic 3 6", "an _italic_ word", Both),
    case("italic inside a word", "unbelievable", "italic 2 6", "un*believ*able", Both),
    case("underline and strikethrough", "under and struck", "underline 0 5; strikethrough 10 6", "__under__ and ~~struck~~", Both),
    case("spoiler", "The butler did it", "spoiler 4 13", "The ||butler did it||", Both),
    case("italic inside bold", "bold italic bold", "bold 0 16; italic 5 6", "**bold _italic_ bold**", Both),
    case("bold italic on one word", "both", "bold 0 4; italic 0 4", "**_both_**", Both),
    case("crossing entities nest", "one two three", "bold 0 7; italic 4 9", "**one _two_** _three_", ToDiscord),
    case("inline code keeps markdown", "Run rm -rf * now", "code 4 8", "Run `rm -rf *` now", Both),
    case("inline code with a backtick", "use a`b here", "code 4 3", "use ``a`b`` here", Both),
    case("code block with language", "fn main() {\n    println!(\"**hi**\");\n}", "pre:rust 0 37", "```rust\nfn main() {\n    println!(\"**hi**\");\n}\n```", Both),
    case("code block between lines", "Output:\nerror: *boom*\nDone", "pre 8 13", "Output:\n```\nerror: *boom*\n```\nDone", Both),
    case("link with underscores", "see the docs", "text_link:https://example.com/some_page_name 8 4", "see the [docs](https://example.com/some_page_name)", Both),
    case("bare link with underscores", "https://example.com/a_b_c is the link", "url 0 25", "https://example.com/a_b_c is the link", ToDiscord),
    case("link with parentheses", "about Rust", "text_link:https://en.wikipedia.org/wiki/Rust_(programming_language) 6 4", "about [Rust](https://en.wikipedia.org/wiki/Rust_(programming_language))", Both),
    case("link whose text is its url", "https://x.com", "text_link:https://x.com 0 13", "https://x.com", ToDiscord),
    case("link Discord cannot show", "ping me", "text_link:tg://user?id=42 0 7", "ping me", ToDiscord),
    case("text mention becomes the name", "thanks Alice Smith!", "text_mention:123456789 7 11", "thanks Alice Smith!", ToDiscord),
    case("username mention", "cc @alice_bot", "mention 3 10", "cc @alice\\_bot", ToDiscord),
    case("Discord mentions become names", "hey @alice and @mods in #general", "", "hey <@80351110224678912> and <@&123> in <#456>", ToTelegram),
    case("unknown Discord mention", "who is @999?", "", "who is <@!999>?", ToTelegram),
    case("Discord custom emoji become :name:", "nice :blobcat: :party:", "", "nice <:blobcat:396521773216301056> <a:party:1>", ToTelegram),
    case("Telegram custom emoji becomes its emoji", "great 👍", "custom_emoji:5368324170671202286 6 2", "great 👍", ToDiscord),
    case("skin tone emoji then bold", "👍🏽 approved", "bold 5 8", "👍🏽 **approved**", Both),
    case("ZWJ family then italic", "👩‍👩‍👧 family time", "italic 9 6", "👩‍👩‍👧 _family_ time", Both),
    case("Arabic bold", "مرحبا بالعالم", "bold 0 5", "**مرحبا** بالعالم", Both),
    case("Hebrew with points in italic", "שָׁלוֹם world", "italic 0 7", "_שָׁלוֹם_ world", Both),
    case("Arabic link", "اقرأ المقال", "text_link:https://example.com/ar 5 6", "اقرأ [المقال](https://example.com/ar)", Both),
    case("quote over two lines", "quoted line\nsecond quoted\nnot quoted", "blockquote 0 25", "> quoted line\n> second quoted\nnot quoted", Both),
    case("bold inside a quote", "He said:\nthis is important", "blockquote 9 17; bold 17 9", "He said:\n> this is **important**", Both),
    case("expandable quote", "long\nquote", "expandable_blockquote 0 10", "> long\n> quote", ToDiscord),
    case("literal block markers", "> not a quote\n# not a header\n- not a list\n1. not a list", "", "\\> not a quote\n\\# not a header\n\\- not a list\n1\\. not a list", Both),
    case("Discord block quote to the end", "all\nof this", "blockquote 0 11", ">>> all\nof this", ToTelegram),
    case("spoiler before an emoji", "the answer is 42 🎉", "spoiler 14 2", "the answer is ||42|| 🎉", Both),
    case("escaped markers", "*not italic* and __not underline__", "", "\\*not italic\\* and \\_\\_not underline\\_\\_", Both),
    case("markdown inside a code block", "# Title\n**bold**", "pre:md 0 16", "```md\n# Title\n**bold**\n```", Both),
    case("strikethrough inside a spoiler", "secret", "spoiler 0 6; strikethrough 0 6", "||~~secret~~||", Both),
    case("Discord underlines __init__", "init.py", "underline 0 4", "__init__.py", ToTelegram),
    case("bold across lines", "line one\nline two", "bold 0 17", "**line one\nline two**", Both),
    case("code with a backslash and a pipe", "path C:\\dir|x", "code 5 8", "path `C:\\dir|x`", Both),
    case("literal masked link", "[not](a link)", "", "\\[not\\](a link)", Both),
    case("detected entities are plain text", "/start #news", "bot_command 0 6; hashtag 7 5", "/start #news", ToDiscord),
    case("literal timestamp", "<t:1700000000:R>", "", "\\<t:1700000000:R>", Both),
    case("bold inside a word", "unbelievable", "bold 2 6", "un**believ**able", Both),
    case("bold link", "the guide", "text_link:https://x.y/guide_1 0 9; bold 0 9", "[**the guide**](https://x.y/guide_1)", Both),
    case("flag then strikethrough", "🇩🇪 old new", "strikethrough 5 3", "🇩🇪 ~~old~~ new", Both),
    case("spaces at a bold's edges move out", "a  spaced  b", "bold 1 10", "a  **spaced**  b", ToDiscord),
    case("entity past the end is clipped", "short", "bold 3 100", "sho**rt**", ToDiscord),
    case("entity inside a surrogate pair widens", "x😀y", "bold 2 1", "x**😀**y", ToDiscord),
    case("quote marker inside a quote", "> nested?", "blockquote 0 9", "> \\> nested?", Both),
    case("star list", "* item", "", "\\* item", Both),
    case("subtext", "-# small", "", "\\-# small", Both),
    case("quotes apart stay apart", "a\n\nb", "blockquote 0 1; blockquote 3 1", "> a\n\n> b", Both),
    case("code touching bold", "send **now**", "bold 0 4; code 5 7", "**send** `**now**`", Both),
];

fn names() -> MentionNames {
    MentionNames {
        users: [(80351110224678912, "alice".to_owned())].into(),
        roles: [(123, "mods".to_owned())].into(),
        channels: [(456, "general".to_owned())].into(),
    }
}

fn entity(spec: &str) -> TelegramEntity {
    let mut words = spec.split_whitespace();
    let (kind, offset, length) = match (words.next(), words.next(), words.next()) {
        (Some(k), Some(o), Some(l)) => (k, o, l),
        _ => panic!("bad entity {spec:?}"),
    };
    let (name, arg) = kind.split_once(':').unwrap_or((kind, ""));
    let arg = arg.to_owned();
    let kind = match name {
        "bold" => EntityKind::Bold,
        "italic" => EntityKind::Italic,
        "underline" => EntityKind::Underline,
        "strikethrough" => EntityKind::Strikethrough,
        "spoiler" => EntityKind::Spoiler,
        "code" => EntityKind::Code,
        "pre" => EntityKind::Pre {
            language: (!arg.is_empty()).then_some(arg),
        },
        "text_link" => EntityKind::TextLink { url: arg },
        "text_mention" => EntityKind::TextMention {
            user_id: arg.parse().expect("a user id"),
        },
        "mention" => EntityKind::Mention,
        "custom_emoji" => EntityKind::CustomEmoji {
            custom_emoji_id: arg,
        },
        "blockquote" => EntityKind::Blockquote,
        "expandable_blockquote" => EntityKind::ExpandableBlockquote,
        "url" => EntityKind::Url,
        "hashtag" => EntityKind::Hashtag,
        "bot_command" => EntityKind::BotCommand,
        other => panic!("unknown entity type {other:?}"),
    };
    TelegramEntity {
        kind,
        offset_utf16: offset.parse().expect("an offset"),
        length_utf16: length.parse().expect("a length"),
    }
}

fn entities(specs: &str) -> Vec<TelegramEntity> {
    let mut out: Vec<TelegramEntity> = specs
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(entity)
        .collect();
    sort(&mut out);
    out
}

fn sort(entities: &mut [TelegramEntity]) {
    entities.sort_by(|a, b| {
        (
            a.offset_utf16,
            std::cmp::Reverse(a.length_utf16),
            a.kind.bot_api_type(),
        )
            .cmp(&(
                b.offset_utf16,
                std::cmp::Reverse(b.length_utf16),
                b.kind.bot_api_type(),
            ))
    });
}

#[test]
fn the_table_has_enough_real_looking_messages() {
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let both_ways = CASES.iter().filter(|c| c.way == Both).count();
    assert!(both_ways >= 30, "{both_ways} checked both ways");
}

#[test]
fn telegram_to_discord() {
    let mut failed = Vec::new();
    for case in CASES.iter().filter(|c| c.way != ToTelegram) {
        let formatted = from_telegram(case.text, &entities(case.entities));
        let got = to_discord_markdown(&formatted, &DiscordOptions::default());
        if got != case.discord {
            failed.push(format!(
                "{}: expected {:?}, got {got:?}",
                case.name, case.discord
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn discord_to_telegram() {
    let mut failed = Vec::new();
    for case in CASES.iter().filter(|c| c.way != ToDiscord) {
        let formatted = from_discord_markdown_with(case.discord, &names());
        let (text, mut got) = to_telegram(&formatted);
        sort(&mut got);
        let expected = entities(case.entities);
        if text != case.text || got != expected {
            failed.push(format!(
                "{}: expected {:?} {expected:?}, got {text:?} {got:?}",
                case.name, case.text
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
