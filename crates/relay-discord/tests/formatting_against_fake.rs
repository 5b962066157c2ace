//! Formatted text through the Discord destinations (a bot and a webhook) against the fake
//! Discord: styles as markdown markers, literal text escaped so Discord shows it as written,
//! line breaks kept, mentions of other platforms as their names; edits the same.

use relay_core::format::{FormattedText, MentionTarget, Span, Style, from_discord_markdown};
use relay_core::messages::{MessageSink, OutgoingMessage};
use relay_discord::{BotSink, DiscordEndpoints, DiscordRest, WebhookSink, WebhookTarget};
use relay_fakes::discord::FakeDiscord;

const TOKEN: &str = "relay-bot-token";

/// Bold, italic, code, a link and a Telegram mention, then literal text markdown would eat.
fn formatted() -> FormattedText {
    let text = "bold, italic, code and a link @tina: 2*3*4 = 24\nfirst line\n<b>tag</b> snake_case";
    let link = Style::TextLink {
        url: "https://example.com/page".into(),
    };
    let mention = Style::Mention {
        target: MentionTarget::TelegramUsername {
            username: "tina".into(),
        },
    };
    FormattedText::new(
        text,
        vec![
            Span::new(0, 4, Style::Bold),
            Span::new(6, 12, Style::Italic),
            Span::new(14, 18, Style::Code),
            Span::new(23, 29, link),
            Span::new(30, 35, mention),
        ],
    )
}

const MARKDOWN: &str = "**bold**, _italic_, `code` and [a link](https://example.com/page) @tina: \
                        2\\*3\\*4 = 24\nfirst line\n<b>tag</b> snake\\_case";

#[tokio::test]
async fn bots_and_webhooks_send_and_edit_formatting_as_markdown_with_literals_escaped() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDiscord::new();
    let bot = fake.add_bot(TOKEN, "relay");
    let guild = fake.add_guild("guild", &[bot]);
    let channel = fake.add_channel(guild, "general");
    let hooked = fake.add_channel(guild, "hooked");
    let (hook_id, hook_token) = fake.add_webhook(hooked, "hook");
    let running = fake.start("127.0.0.1:0").await.expect("start");
    let endpoints = DiscordEndpoints {
        api_url: running.api_url(),
        gateway_url: running.gateway_url(),
    };
    let message = OutgoingMessage {
        text: formatted(),
        ..Default::default()
    };
    let bot_sink = BotSink::new(DiscordRest::new(&endpoints, Some(TOKEN)));
    let webhook_sink = WebhookSink::new(
        DiscordRest::new(&endpoints, None),
        WebhookTarget {
            id: hook_id,
            token: hook_token,
        },
    );
    let chat = channel.to_string();
    let by_bot = bot_sink.send(&chat, &message, "n1").await.expect("bot");
    let by_hook = webhook_sink
        .send(&hooked.to_string(), &message, "n2")
        .await
        .expect("webhook");
    for target in [channel, hooked] {
        let content = running.fake.messages(target)[0].content.clone();
        assert_eq!(content, MARKDOWN);
        // What Discord shows is the text, with the styles (the mention is now plain text).
        let shown = from_discord_markdown(&content);
        assert_eq!(shown.text, formatted().text);
        assert_eq!(shown.spans, formatted().spans[..4]);
    }

    // Edits render the same way.
    let edited = OutgoingMessage {
        text: FormattedText::new("now bold_ly", vec![Span::new(4, 8, Style::Bold)]),
        ..Default::default()
    };
    bot_sink
        .edit(&chat, &by_bot.message_id, &edited)
        .await
        .expect("bot edit");
    webhook_sink
        .edit(&hooked.to_string(), &by_hook.message_id, &edited)
        .await
        .expect("webhook edit");
    for target in [channel, hooked] {
        assert_eq!(
            running.fake.messages(target)[0].content,
            "now **bold**\\_ly"
        );
    }
}
