//! The fake Bot API refuses what the Bot API refuses, with its descriptions: raw calls no
//! client library would make (`reply_parameters.message_id: "abc"`, an album mixing a
//! document and a photo, `getUpdates` with `limit=500`, texts and entities out of bounds)
//! get `{"ok": false, "error_code": 400, "description": "Bad Request: …"}` and post nothing;
//! every parameter the documentation marks required is required; valid calls still pass.

use relay_fakes::telegram_bot::{FakeBotApi, RunningBotApi};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const TOKEN: &str = "1:t";

struct World {
    api: RunningBotApi,
    /// The bot behind `TOKEN`.
    bot: i64,
    chat: i64,
    http: reqwest::Client,
}

async fn world() -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeBotApi::new();
    let bot = fake.add_bot(TOKEN, "bot");
    let chat = fake.add_chat("supergroup", "G", &[bot]);
    let api = fake.start("127.0.0.1:0").await.expect("start");
    World {
        api,
        bot,
        chat,
        http: reqwest::Client::new(),
    }
}

impl World {
    fn url(&self, method: &str) -> String {
        format!("{}bot{TOKEN}/{method}", self.api.url())
    }

    async fn call(&self, method: &str, body: Value) -> Value {
        let res = self.http.post(self.url(method)).json(&body).send().await;
        res.expect("send").json().await.expect("json")
    }

    async fn upload(&self, method: &str, form: Form) -> Value {
        let res = self
            .http
            .post(self.url(method))
            .multipart(form)
            .send()
            .await;
        res.expect("send").json().await.expect("json")
    }

    /// A photo already on the fake's servers, by file id.
    async fn file_id(&self) -> String {
        let form = Form::new()
            .text("chat_id", self.chat.to_string())
            .part("photo", Part::bytes(b"img".to_vec()).file_name("p.jpg"));
        let sent = self.upload("sendPhoto", form).await;
        sent["result"]["photo"][0]["file_id"]
            .as_str()
            .expect("file id")
            .to_owned()
    }

    fn posted(&self) -> usize {
        self.api.fake.messages(self.chat).len()
    }
}

fn bad(description: &str) -> Value {
    json!({"ok": false, "error_code": 400, "description": format!("Bad Request: {description}")})
}

fn album(items: &[(&str, &str)]) -> Form {
    let media: Vec<Value> = items
        .iter()
        .map(|(kind, part)| json!({"type": kind, "media": format!("attach://{part}")}))
        .collect();
    items.iter().fold(
        Form::new().text("media", Value::Array(media).to_string()),
        |form, (_, part)| {
            let file = Part::bytes(b"bytes".to_vec()).file_name(format!("{part}.bin"));
            form.part(part.to_string(), file)
        },
    )
}

#[tokio::test]
async fn refusals_carry_the_bot_apis_descriptions() {
    let w = world().await;
    let chat = w.chat;
    let cases = [
        (
            "sendMessage",
            json!({"chat_id": chat, "text": "hi", "reply_parameters": {"message_id": "abc"}}),
            bad("field \"message_id\" must be a valid Number"),
        ),
        (
            "sendMessage",
            json!({"chat_id": chat, "text": "hi", "reply_parameters": {"message_id": 999}}),
            bad("message to be replied not found"),
        ),
        (
            "sendMessage",
            json!({"chat_id": chat, "text": "hi", "reply_parameters": "{"}),
            bad("can't parse reply parameters JSON object"),
        ),
        (
            "getUpdates",
            json!({"limit": 500}),
            bad(
                "limit 500: the Bot API documents values between 1-100 (the server would clamp it; the fake refuses it)",
            ),
        ),
        (
            "sendMessage",
            json!({"chat_id": chat, "text": "x".repeat(4097)}),
            bad("message is too long"),
        ),
        (
            "sendMessage",
            json!({"chat_id": chat, "text": " \n "}),
            bad("text must be non-empty"),
        ),
        (
            "sendMessage",
            json!({"text": "hi"}),
            bad("chat_id is empty"),
        ),
        (
            "sendMessage",
            json!({"chat_id": "abc", "text": "hi"}),
            bad("chat not found"),
        ),
        (
            "sendMessage",
            json!({"chat_id": chat, "text": "hi", "entities": [{"type": "bold", "offset": 1, "length": 5}]}),
            bad(
                "entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 6",
            ),
        ),
        (
            "sendMessage",
            json!({"chat_id": chat, "text": "hi", "entities": [{"type": "text_link", "offset": 0, "length": 2}]}),
            bad("can't parse MessageEntity: Can't find field \"url\""),
        ),
        (
            "sendPhoto",
            json!({"chat_id": chat, "photo": "any", "caption": "x".repeat(1025)}),
            bad("message caption is too long"),
        ),
        (
            "deleteMessage",
            json!({"chat_id": chat}),
            bad("message identifier is not specified"),
        ),
    ];
    for (method, body, answer) in cases {
        assert_eq!(
            w.call(method, body.clone()).await,
            answer,
            "{method} {body}"
        );
    }
    let albums = [
        (
            &[("document", "a"), ("photo", "b")][..],
            "document can't be mixed with other media types",
        ),
        (
            &[("photo", "a"), ("audio", "b")][..],
            "audio can't be mixed with other media types",
        ),
        (
            &[("photo", "a"), ("animation", "b")][..],
            "can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup",
        ),
        (
            &[("photo", "a"); 11][..],
            "too many messages to send as an album",
        ),
        (&[][..], "there are no messages to send"),
        (
            &[("photo", "a")][..],
            "media group of 1 item: the Bot API documents 2-10 items (the server would send one as an album of one; the fake refuses it)",
        ),
    ];
    for (items, description) in albums {
        let form = album(items).text("chat_id", chat.to_string());
        assert_eq!(
            w.upload("sendMediaGroup", form).await,
            bad(description),
            "{items:?}"
        );
    }
    let unattached = Form::new().text("chat_id", chat.to_string()).text(
        "media",
        json!([{"type": "photo", "media": "attach://a"}, {"type": "photo", "media": "attach://b"}])
            .to_string(),
    );
    let answer = w.upload("sendMediaGroup", unattached).await;
    assert_eq!(answer, bad("can't parse InputMedia: media not found"));
    assert_eq!(w.posted(), 0, "nothing refused was posted");

    // A caption is not a text: editMessageText refuses a photo.
    let file_id = w.file_id().await;
    let photo = w
        .call(
            "sendPhoto",
            json!({"chat_id": chat, "photo": file_id, "caption": "c"}),
        )
        .await;
    let edit = json!({"chat_id": chat, "message_id": photo["result"]["message_id"], "text": "new"});
    let answer = w.call("editMessageText", edit).await;
    assert_eq!(answer, bad("there is no text in the message to edit"));
}

#[tokio::test]
async fn valid_calls_of_every_kind_still_pass() {
    let w = world().await;
    let chat = w.chat;
    let first = w.call("sendMessage", json!({"chat_id": chat, "text": "😀".repeat(4096),
        "entities": [{"type": "bold", "offset": 0, "length": 8192}, {"type": "url", "offset": 9000, "length": 3}]})).await;
    assert_eq!(first["ok"], json!(true), "{first}");
    let first_id = first["result"]["message_id"].clone();
    // Telegram reads integers from strings too, and may send a reply to nothing as no reply.
    let reply = json!({"chat_id": chat.to_string(), "text": "re",
        "reply_parameters": {"message_id": first_id.to_string(), "allow_sending_without_reply": true}});
    let answer = w.call("sendMessage", reply).await;
    assert_eq!(
        answer["result"]["reply_to_message"]["message_id"], first_id,
        "{answer}"
    );
    let orphan = json!({"chat_id": chat, "text": "orphan",
        "reply_parameters": {"message_id": 999, "allow_sending_without_reply": true}});
    let answer = w.call("sendMessage", orphan).await;
    assert!(
        answer["result"].get("reply_to_message").is_none(),
        "{answer}"
    );

    let file_id = w.file_id().await;
    let captioned = json!({"chat_id": chat, "photo": file_id, "caption": "c".repeat(1024)});
    assert_eq!(w.call("sendPhoto", captioned).await["ok"], json!(true));
    for items in [
        &[("photo", "a"), ("video", "b")][..],
        &[("document", "a"), ("document", "b")][..],
    ] {
        let form = album(items).text("chat_id", chat.to_string());
        let sent = w.upload("sendMediaGroup", form).await;
        assert_eq!(sent["result"].as_array().map(Vec::len), Some(2), "{sent}");
    }
    let updates = w
        .call("getUpdates", json!({"limit": 100, "timeout": 0}))
        .await;
    assert_eq!(updates["ok"], json!(true), "{updates}");
    let edit = json!({"chat_id": chat, "message_id": first_id, "text": "edited"});
    assert_eq!(w.call("editMessageText", edit).await["ok"], json!(true));
    let copy = json!({"chat_id": chat, "from_chat_id": chat, "message_id": first_id});
    assert_eq!(w.call("copyMessage", copy).await["ok"], json!(true));
    let delete = json!({"chat_id": chat, "message_id": first_id});
    assert_eq!(
        w.call("deleteMessage", delete).await,
        json!({"ok": true, "result": true})
    );
}

#[tokio::test]
async fn every_parameter_the_documentation_requires_is_required() {
    let w = world().await;
    let chat = w.chat;
    let file_id = w.file_id().await;
    let target = w
        .call("sendMessage", json!({"chat_id": chat, "text": "t"}))
        .await;
    let message_id = target["result"]["message_id"].clone();
    let two = json!([{"type": "photo", "media": file_id}, {"type": "photo", "media": file_id}]);
    let extract = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/specs/telegram-bot-api.extract.json"
    );
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(extract).expect("extract")).expect("json");
    for (method, def) in spec["methods"].as_object().expect("methods") {
        let required: Vec<&str> = def["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["required"] == json!(true))
            .filter_map(|f| f["name"].as_str())
            .collect();
        if required.is_empty() {
            continue;
        }
        let valid = match method.as_str() {
            "getFile" => json!({"file_id": file_id}),
            "sendMessage" => json!({"chat_id": chat, "text": "t"}),
            "sendPhoto" | "sendVideo" | "sendDocument" | "sendVoice" | "sendSticker" => {
                let field = method.trim_start_matches("send").to_ascii_lowercase();
                json!({"chat_id": chat, field: file_id})
            }
            "sendMediaGroup" => json!({"chat_id": chat, "media": two}),
            "copyMessage" => {
                json!({"chat_id": chat, "from_chat_id": chat, "message_id": message_id})
            }
            "deleteMessage" => json!({"chat_id": chat, "message_id": message_id}),
            other => panic!("{other} has required parameters: give this test a valid call of it"),
        };
        for name in &required {
            let mut body = valid.clone();
            body.as_object_mut().expect("object").remove(*name);
            let answer = w.call(method, body).await;
            assert_eq!(
                answer["ok"],
                json!(false),
                "{method} without {name}: {answer}"
            );
            assert_eq!(
                answer["error_code"],
                json!(400),
                "{method} without {name}: {answer}"
            );
        }
        let answer = w.call(method, valid).await;
        assert_eq!(answer["ok"], json!(true), "{method}: {answer}");
    }
}

#[tokio::test]
async fn a_bot_edits_its_own_channel_post_but_not_another_members_message() {
    let w = world().await;
    let fake = &w.api.fake;
    let channel = fake.add_chat("channel", "C", &[w.bot]);
    let post = w
        .call("sendMessage", json!({"chat_id": channel, "text": "v1"}))
        .await;
    let id = post["result"]["message_id"].clone();
    assert!(post["result"]["sender_chat"].is_object(), "{post}");
    let edited = w
        .call(
            "editMessageText",
            json!({"chat_id": channel, "message_id": id, "text": "v2"}),
        )
        .await;
    assert_eq!(edited["ok"], true, "{edited}");
    assert_eq!(edited["result"]["text"], "v2");

    fake.user_posts(w.chat, "Tina", "hers");
    let hers = fake.messages(w.chat).last().cloned().expect("a message");
    let refused = w
        .call(
            "editMessageText",
            json!({"chat_id": w.chat, "message_id": hers["message_id"], "text": "mine now"}),
        )
        .await;
    assert_eq!(refused["ok"], false);
    assert_eq!(
        refused["description"],
        "Bad Request: message can't be edited"
    );
}
