//! Each filter and transformation on its own, saved rules' errors with their paths, and
//! property tests: no rules and no text make anything panic, and transformed text stays
//! well-formed.

use super::*;
use crate::format::{FormattedText, Span, Style};
use proptest::prelude::*;
use serde_json::json;

fn compile(rules: serde_json::Value) -> CompiledRules {
    let rules = parse(&rules).expect("parses");
    CompiledRules::compile(&rules).expect("compiles")
}

fn errors(rules: serde_json::Value) -> Vec<(String, String)> {
    let parsed = match parse(&rules) {
        Ok(rules) => rules,
        Err(e) => return e.into_iter().map(|e| (e.path, e.message)).collect(),
    };
    match CompiledRules::compile(&parsed) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

fn paths(rules: serde_json::Value) -> Vec<String> {
    errors(rules).into_iter().map(|(p, _)| p).collect()
}

struct Msg {
    text: FormattedText,
    kinds: Vec<MessageKind>,
    author_id: &'static str,
    author_name: &'static str,
    bot: bool,
    forwarded: bool,
    reply: bool,
}

fn msg(text: &str) -> Msg {
    Msg {
        text: FormattedText::plain(text),
        kinds: vec![MessageKind::Text],
        author_id: "42",
        author_name: "Alice",
        bot: false,
        forwarded: false,
        reply: false,
    }
}

impl Msg {
    fn subject(&self) -> Subject<'_> {
        Subject {
            text: &self.text,
            kinds: &self.kinds,
            author_id: self.author_id,
            author_name: self.author_name,
            author_is_bot: self.bot,
            forwarded: self.forwarded,
            reply: self.reply,
            has_media: self.kinds.iter().any(|k| *k != MessageKind::Text),
            source_chat: "News",
            link: Some("https://t.me/news/7"),
            posted_at_ms: 1_764_684_000_000, // 2025-12-02T14:00:00Z
        }
    }
}

fn passes(rules: &CompiledRules, m: &Msg) -> bool {
    rules.check(&m.subject()).is_ok()
}

fn out(rules: &CompiledRules, m: &Msg) -> String {
    rules.transform(&m.subject()).text
}

#[test]
fn keywords_any_all_none_with_case_and_whole_words() {
    let any = compile(json!({"filters": [{"type": "keywords", "words": ["sale", "deal"]}]}));
    assert!(passes(&any, &msg("Big SALE today")));
    assert!(
        !passes(&any, &msg("wholesale prices")),
        "whole words by default"
    );
    assert!(!passes(&any, &msg("nothing here")));
    let all = compile(
        json!({"filters": [{"type": "keywords", "words": ["sale", "deal"], "mode": "all"}]}),
    );
    assert!(all.check(&msg("sale!").subject()).is_err());
    assert!(passes(&all, &msg("a deal on the sale")));
    let none =
        compile(json!({"filters": [{"type": "keywords", "words": ["spam"], "mode": "none"}]}));
    assert!(passes(&none, &msg("fine")));
    assert!(!passes(&none, &msg("pure Spam")));
    let exact = compile(json!({"filters": [{"type": "keywords", "words": ["Rust"],
        "case_sensitive": true, "whole_words": false}]}));
    assert!(passes(&exact, &msg("Rustacean")));
    assert!(!passes(&exact, &msg("rust")));
}

#[test]
fn a_dropped_message_names_the_filter() {
    let rules = compile(json!({"filters": [
        {"type": "length", "min": 1},
        {"type": "keywords", "words": ["x"]}
    ]}));
    assert_eq!(
        rules.check(&msg("hello").subject()),
        Err(Dropped {
            rule: "filters[1]".into(),
            kind: "keywords"
        })
    );
}

#[test]
fn regex_filter_and_its_exclusion() {
    let rules = compile(json!({"filters": [{"type": "regex", "pattern": r"#\d{3}\b"}]}));
    assert!(passes(&rules, &msg("order #123 shipped")));
    assert!(!passes(&rules, &msg("order #12 shipped")));
    let exclude =
        compile(json!({"filters": [{"type": "regex", "pattern": "^ad:", "exclude": true}]}));
    assert!(
        !passes(&exclude, &msg("AD: buy now")),
        "case-insensitive by default"
    );
    assert!(passes(&exclude, &msg("news: rates up")));
}

#[test]
fn senders_kinds_origins_and_length() {
    let allow = compile(json!({"filters": [{"type": "senders", "allow": ["alice"]}]}));
    assert!(passes(&allow, &msg("hi")), "by name, without case");
    let deny = compile(json!({"filters": [{"type": "senders", "deny": ["42"]}]}));
    assert!(!passes(&deny, &msg("hi")), "by id");

    let photos = compile(json!({"filters": [{"type": "kinds", "allow": ["photo", "album"]}]}));
    let mut photo = msg("look");
    photo.kinds = vec![MessageKind::Photo];
    assert!(passes(&photos, &photo));
    assert!(!passes(&photos, &msg("text only")));
    let no_stickers = compile(json!({"filters": [{"type": "kinds", "deny": ["sticker"]}]}));
    let mut sticker = msg("");
    sticker.kinds = vec![MessageKind::Sticker];
    assert!(!passes(&no_stickers, &sticker));

    let mut m = msg("x");
    m.forwarded = true;
    m.reply = true;
    m.bot = true;
    for (kind, flag_is_set) in [("forwarded", true), ("replies", true), ("bots", true)] {
        let only = compile(json!({"filters": [{"type": kind, "keep": "only"}]}));
        let exclude = compile(json!({"filters": [{"type": kind, "keep": "exclude"}]}));
        assert_eq!(passes(&only, &m), flag_is_set, "{kind}");
        assert_eq!(passes(&exclude, &m), !flag_is_set, "{kind}");
        assert!(passes(&exclude, &msg("plain")), "{kind}");
    }

    let length = compile(json!({"filters": [{"type": "length", "min": 3, "max": 5}]}));
    assert!(!passes(&length, &msg("ab")));
    assert!(passes(&length, &msg("äöü")), "characters, not bytes");
    assert!(!passes(&length, &msg("abcdef")));
}

#[test]
fn replacements_keep_the_formatting_around_them() {
    let rules = compile(json!({"transforms": [
        {"type": "replace", "find": "colour", "with": "color"},
        {"type": "regex_replace", "pattern": r"(\d+) USD", "with": "$$$1"}
    ]}));
    let mut m = msg("");
    m.text = FormattedText::new(
        "The colour costs 5 USD",
        vec![Span::new(4, 10, Style::Bold)],
    );
    let t = rules.transform(&m.subject());
    assert_eq!(t.text, "The color costs $5");
    assert_eq!(t.spans, vec![Span::new(4, 9, Style::Bold)]);
}

#[test]
fn removals() {
    let links = compile(json!({"transforms": [{"type": "remove", "what": "links"}]}));
    let mut m = msg("");
    m.text = FormattedText::new(
        "read https://x.io/a?b=1 and the docs now",
        vec![Span::new(
            28,
            32,
            Style::TextLink {
                url: "https://docs.rs".into(),
            },
        )],
    );
    let t = links.transform(&m.subject());
    assert_eq!(t.text, "read and the docs now");
    assert!(t.spans.is_empty(), "the words stay, the link goes");

    let mentions = compile(json!({"transforms": [{"type": "remove", "what": "mentions"}]}));
    assert_eq!(
        out(&mentions, &msg("hi @alice and bob@mail.com")),
        "hi and bob@mail.com"
    );
    let tags = compile(json!({"transforms": [{"type": "remove", "what": "hashtags"}]}));
    assert_eq!(
        out(&tags, &msg("#news rates up #economy &#39;")),
        "rates up &#39;"
    );
    let formatting = compile(json!({"transforms": [{"type": "remove", "what": "formatting"}]}));
    let mut bold = msg("");
    bold.text = FormattedText::new("loud", vec![Span::new(0, 4, Style::Bold)]);
    assert!(formatting.transform(&bold.subject()).spans.is_empty());
}

#[test]
fn header_footer_watermark_and_limit() {
    let rules = compile(json!({
        "time_zone": "Europe/Berlin",
        "transforms": [
            {"type": "header", "template": "{author} in {source_chat}, {date}"},
            {"type": "footer", "template": "{link}"},
            {"type": "watermark", "text": "via Relay"}
        ]
    }));
    assert_eq!(
        out(&rules, &msg("hello")),
        "Alice in News, 2025-12-02 15:00\nhello\nhttps://t.me/news/7"
    );
    let mut photo = msg("");
    photo.kinds = vec![MessageKind::Photo];
    assert!(out(&rules, &photo).ends_with("https://t.me/news/7\nvia Relay"));

    let limit = compile(json!({"transforms": [{"type": "limit", "max_chars": 20}]}));
    let t = out(&limit, &msg("the quick brown fox jumps over the lazy dog"));
    assert_eq!(t, "the quick brown fox…");
    assert!(t.chars().count() <= 20);
    assert_eq!(out(&limit, &msg("short")), "short");
}

#[test]
fn a_destination_adds_to_or_replaces_its_pairs_rules() {
    let pair = parse(
        &json!({"filters": [{"type": "keywords", "words": ["news"]}],
        "transforms": [{"type": "header", "template": "pair"}]}),
    )
    .expect("pair");
    let add = parse_destination(&json!({"transforms": [{"type": "footer", "template": "dest"}]}))
        .expect("dest");
    let both = CompiledRules::compile_for(&pair, Some(&add)).expect("compiles");
    assert!(!passes(&both, &msg("other")));
    assert_eq!(out(&both, &msg("news")), "pair\nnews\ndest");
    let replace = parse_destination(&json!({"mode": "replace",
        "filters": [{"type": "length", "max": 3}]}))
    .expect("dest");
    let own = CompiledRules::compile_for(&pair, Some(&replace)).expect("compiles");
    assert!(passes(&own, &msg("abc")));
    assert_eq!(
        own.check(&msg("news!").subject())
            .expect_err("refused")
            .rule,
        "destination.filters[0]"
    );
    assert_eq!(out(&own, &msg("abc")), "abc");
}

#[test]
fn delay_and_hours_hold_messages() {
    let delay = compile(json!({"delay_seconds": 60}));
    assert_eq!(delay.hold_until(1_000, 1_000), Some(61_000));
    assert_eq!(delay.hold_until(1_000, 70_000), None);
    let hours = compile(json!({"schedule": {"windows": [{"from": "09:00", "to": "17:00"}]}}));
    // 2025-12-02T18:00Z is after hours: held to 09:00 the next day.
    let evening = 1_764_698_400_000;
    assert_eq!(hours.hold_until(evening, evening), Some(1_764_752_400_000));
    assert_eq!(compile(json!({})).hold_until(5, 5), None);
}

#[test]
fn saved_rules_errors_point_into_the_json() {
    assert_eq!(
        paths(
            json!({"filters": [{"type": "keywords", "words": ["a"]}, {"type": "regex"}, {"type": "regex", "pattern": "("}]})
        ),
        ["filters[1].pattern", "filters[2].pattern"]
    );
    assert_eq!(
        paths(json!({"filters": [{"type": "colour"}]})),
        ["filters[0].type"]
    );
    assert_eq!(
        paths(json!({"filters": [{"words": ["a"]}]})),
        ["filters[0].type"]
    );
    assert_eq!(
        paths(json!({"filters": [{"type": "keywords", "words": ["a"], "colour": 1}]})),
        ["filters[0].colour"]
    );
    assert_eq!(
        paths(json!({"transforms": [{"type": "header", "template": "{sender}"}]})),
        ["transforms[0].template"]
    );
    assert_eq!(paths(json!({"time_zone": "Mars/Olympus"})), ["time_zone"]);
    assert_eq!(paths(json!({"delay_seconds": 100_000})), ["delay_seconds"]);
    assert_eq!(paths(json!({"filters": {}})), ["filters"]);
    assert_eq!(paths(json!({"colour": 1})), ["colour"]);
    assert_eq!(
        paths(json!({"filters": [{"type": "kinds", "allow": ["gif"]}]})),
        ["filters[0]"]
    );
    assert!(errors(json!({})).is_empty());
}

#[test]
fn a_regex_over_the_limits_is_refused_when_saved() {
    let long = "a".repeat(MAX_PATTERN_CHARS + 1);
    let (path, message) = errors(json!({"filters": [{"type": "regex", "pattern": long}]}))
        .pop()
        .expect("an error");
    assert_eq!(path, "filters[0].pattern");
    assert!(message.contains("longer than"), "{message}");
    // Short, but enormous once compiled (a counted repetition of a Unicode class).
    let (path, message) = errors(json!({"transforms": [{"type": "regex_replace",
        "pattern": r"\w{1000}\w{1000}\w{1000}", "with": ""}]}))
    .pop()
    .expect("an error");
    assert_eq!(path, "transforms[0].pattern");
    assert!(message.contains("too complex"), "{message}");
    let nested = format!("{}a{}", "(".repeat(40), ")".repeat(40));
    assert_eq!(
        paths(json!({"filters": [{"type": "regex", "pattern": nested}]})),
        ["filters[0].pattern"]
    );
}

#[test]
fn rules_name_the_plan_features_they_use() {
    let rules = parse(&json!({
        "filters": [{"type": "regex", "pattern": "x"}],
        "transforms": [{"type": "limit", "max_chars": 5}],
        "delay_seconds": 5
    }))
    .expect("parses");
    assert_eq!(
        rules.features(),
        ["filters", "regex", "transforms", "delay"]
    );
    assert!(Rules::default().features().is_empty());
}

fn arb_text() -> impl Strategy<Value = FormattedText> {
    let styles = prop_oneof![
        Just(Style::Bold),
        Just(Style::Italic),
        Just(Style::Code),
        Just(Style::TextLink {
            url: "https://a.b".into()
        }),
        Just(Style::Mention {
            target: crate::format::MentionTarget::TelegramUsername {
                username: "x".into()
            }
        }),
    ];
    (
        "[a-z #@:/.é🙂\n]{0,60}",
        prop::collection::vec((0usize..70, 0usize..70, styles), 0..5),
    )
        .prop_map(|(text, spans)| {
            let spans = spans
                .into_iter()
                .map(|(a, b, style)| Span::new(a.min(b), a.max(b), style))
                .collect();
            FormattedText::new(text, spans)
        })
}

fn arb_transform() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        "[a-z@#]{1,3}".prop_map(|f| json!({"type": "replace", "find": f, "with": "ZZ"})),
        Just(json!({"type": "regex_replace", "pattern": r"(\w)(\w)", "with": "$2$1"})),
        Just(json!({"type": "regex_replace", "pattern": r"\s+", "with": " "})),
        Just(json!({"type": "remove", "what": "links"})),
        Just(json!({"type": "remove", "what": "mentions"})),
        Just(json!({"type": "remove", "what": "hashtags"})),
        Just(json!({"type": "remove", "what": "formatting"})),
        Just(json!({"type": "header", "template": "{author}:"})),
        Just(json!({"type": "footer", "template": "{link}"})),
        Just(json!({"type": "watermark", "text": "©"})),
        (1u32..30).prop_map(|n| json!({"type": "limit", "max_chars": n})),
    ]
}

proptest! {
    #[test]
    fn transformations_never_panic_and_keep_spans_well_formed(
        text in arb_text(),
        transforms in prop::collection::vec(arb_transform(), 0..6),
    ) {
        let rules = compile(json!({"transforms": transforms}));
        let mut m = msg("");
        m.text = text;
        m.kinds = vec![MessageKind::Photo];
        let t = rules.transform(&m.subject());
        for span in &t.spans {
            prop_assert!(span.start < span.end && span.end <= t.text.len());
            prop_assert!(t.text.is_char_boundary(span.start) && t.text.is_char_boundary(span.end));
        }
        prop_assert_eq!(&t, &t.normalized());
    }

    #[test]
    fn a_limit_is_a_limit(text in arb_text(), max in 1u32..40) {
        let rules = compile(json!({"transforms": [{"type": "limit", "max_chars": max}]}));
        let mut m = msg("");
        m.text = text.clone();
        let t = rules.transform(&m.subject());
        prop_assert!(t.text.chars().count() <= max as usize);
        if text.text.chars().count() <= max as usize {
            prop_assert_eq!(t, text);
        }
    }

    #[test]
    fn filters_never_panic_on_any_text(
        text in any::<String>(),
        word in "\\PC{1,5}",
        pattern in "[a-z.*+?()|\\[\\]]{1,8}",
    ) {
        let parsed = parse(&json!({"filters": [
            {"type": "keywords", "words": [word], "whole_words": true},
            {"type": "regex", "pattern": pattern, "exclude": true},
            {"type": "length", "max": 10}
        ]}));
        // An unsound pattern is an error when saved; a sound one must run on anything.
        if let Ok(rules) = parsed {
            let rules = CompiledRules::compile(&rules).expect("what parses compiles");
            let m = Msg { text: FormattedText::plain(text), ..msg("") };
            let _ = rules.check(&m.subject());
        }
    }

    #[test]
    fn any_json_is_an_answer_never_a_panic(value in arb_json()) {
        if let Ok(rules) = parse(&value) {
            prop_assert!(CompiledRules::compile(&rules).is_ok(), "what parses compiles");
        }
        let _ = parse_destination(&value);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "(filters|transforms|type|keywords|regex|words|pattern|limit|max_chars|schedule|windows|from|to|[a-z]{1,4})"
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                "(filters|transforms|type|words|pattern|with|find|template|delay_seconds|schedule|windows|from|to|time_zone|mode)",
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
