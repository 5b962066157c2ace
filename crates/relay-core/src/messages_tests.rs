//! Delivery payloads through serde: the structured text round-trips, and rows stored while
//! the text was a string of markdown still load.

use super::*;
use crate::format::{Span, Style};
use serde_json::json;

#[test]
fn a_payload_with_formatted_text_round_trips() {
    let payload = DeliveryPayload {
        text: FormattedText::new(
            "bold 2*3*4 = 24\nsecond line <b>tag</b>",
            vec![
                Span::new(0, 4, Style::Bold),
                Span::new(
                    16,
                    22,
                    Style::TextLink {
                        url: "https://example.com/".into(),
                    },
                ),
            ],
        ),
        author: Some(Author {
            id: "7".into(),
            name: "Alice".into(),
            avatar_url: None,
        }),
        reply_to_source: Some("3".into()),
        posted_at_ms: 42,
        ..DeliveryPayload::default()
    };
    let stored = serde_json::to_value(&payload).expect("serialize");
    assert!(stored["text"].is_object(), "{stored}");
    let loaded: DeliveryPayload = serde_json::from_value(stored).expect("deserialize");
    assert_eq!(loaded, payload);
}

#[test]
fn a_plain_text_is_stored_as_an_object_and_stays_literal() {
    let payload = DeliveryPayload {
        text: "2*3*4 = 24".into(),
        ..DeliveryPayload::default()
    };
    let stored = serde_json::to_value(&payload).expect("serialize");
    assert_eq!(stored["text"], json!({"text": "2*3*4 = 24"}));
    let loaded: DeliveryPayload = serde_json::from_value(stored).expect("deserialize");
    assert_eq!(loaded.text, FormattedText::plain("2*3*4 = 24"));
}

#[test]
fn a_row_stored_with_markdown_text_is_read_as_discord_markdown() {
    let row = json!({"text": "**hello** and `code`", "posted_at_ms": 5});
    let payload: DeliveryPayload = serde_json::from_value(row).expect("old row");
    assert_eq!(payload.text.text, "hello and code");
    assert_eq!(
        payload.text.spans,
        vec![Span::new(0, 5, Style::Bold), Span::new(10, 14, Style::Code)]
    );
    assert_eq!(payload.posted_at_ms, 5);
}

#[test]
fn a_row_without_text_loads_with_none() {
    let payload: DeliveryPayload =
        serde_json::from_value(json!({"target_source_message": "9"})).expect("row");
    assert!(payload.text.is_empty());
    assert_eq!(payload.target_source_message.as_deref(), Some("9"));
}

#[test]
fn text_from_a_str_is_plain() {
    let message = OutgoingMessage {
        text: "*not italic*".into(),
        ..OutgoingMessage::default()
    };
    assert_eq!(message.text.text, "*not italic*");
    assert!(message.text.spans.is_empty());
}
