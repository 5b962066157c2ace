//! Every object the fake Bot API returns carries the fields Telegram's own method list
//! marks as required (a copy of them lives in `tests/data/bot-api-required.json`).

use relay_fakes::telegram_bot::FakeBotApi;
use serde_json::{Value, json};

fn required(spec: &Value, kind: &str) -> Vec<String> {
    spec["types"][kind]
        .as_array()
        .expect("type")
        .iter()
        .map(|f| f.as_str().expect("name").to_owned())
        .collect()
}

fn check(spec: &Value, kind: &str, value: &Value) {
    for field in required(spec, kind) {
        assert!(
            value.get(&field).is_some(),
            "{kind} lacks required '{field}': {value}"
        );
    }
}

#[tokio::test]
async fn messages_updates_and_media_have_every_required_field() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let spec: Value =
        serde_json::from_str(include_str!("data/bot-api-required.json")).expect("spec");
    let fake = FakeBotApi::new();
    let bot = fake.add_bot("1:t", "bot");
    let chat = fake.add_chat("group", "G", &[bot]);
    let running = fake.start("127.0.0.1:0").await.expect("start");
    running.fake.user_posts(chat, "Alice", "hi").expect("post");

    let client = reqwest::Client::new();
    let call = |method: &str, body: Value| {
        let req = client
            .post(format!("{}bot1:t/{method}", running.url()))
            .json(&body);
        async move {
            req.send()
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let me = call("getMe", json!({})).await;
    check(&spec, "User", &me["result"]);
    let updates = call("getUpdates", json!({"timeout": 0})).await;
    let update = &updates["result"][0];
    check(&spec, "Update", update);
    check(&spec, "Message", &update["message"]);
    check(&spec, "Chat", &update["message"]["chat"]);
    check(&spec, "User", &update["message"]["from"]);

    let form = reqwest::multipart::Form::new()
        .text("chat_id", chat.to_string())
        .part(
            "photo",
            reqwest::multipart::Part::bytes(b"img".to_vec()).file_name("p.jpg"),
        );
    let sent: Value = client
        .post(format!("{}bot1:t/sendPhoto", running.url()))
        .multipart(form)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    check(&spec, "Message", &sent["result"]);
    check(&spec, "PhotoSize", &sent["result"]["photo"][0]);

    let bad = call("sendMessage", json!({"chat_id": chat, "text": ""})).await;
    assert_eq!(
        bad,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
    );
}
