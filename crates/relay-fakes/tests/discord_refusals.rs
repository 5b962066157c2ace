//! The fake Discord refuses what Discord refuses, the way Discord does: raw HTTP requests
//! that no client library would build (a 26-character nonce, a reply without
//! `message_id`, an embed over its limits, JSON sent as text, no User-Agent, `?wait=yes`)
//! get Discord's status and error body, and nothing is posted. Valid requests of each kind
//! still pass.

use relay_fakes::discord::{FakeDiscord, RunningFake};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "bot-token-1";
const UA: &str = "DiscordBot (https://example.com, 1.0)";

struct World {
    fake: RunningFake,
    channel: u64,
    hook: String,
    http: reqwest::Client,
}

async fn world() -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDiscord::new();
    let bot = fake.add_bot(TOKEN, "relay-bot");
    let guild = fake.add_guild("guild", &[bot]);
    let channel = fake.add_channel(guild, "general");
    let (wid, token) = fake.add_webhook(channel, "hook");
    let fake = fake.start("127.0.0.1:0").await.expect("start");
    let http = reqwest::Client::builder()
        .user_agent(UA)
        .build()
        .expect("client");
    World {
        channel,
        hook: format!("webhooks/{wid}/{token}"),
        fake,
        http,
    }
}

impl World {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/api/v10/{path}", self.fake.api_url());
        self.http
            .request(method, url)
            .header("authorization", format!("Bot {TOKEN}"))
    }

    fn messages(&self) -> String {
        format!("channels/{}/messages", self.channel)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = req.send().await.expect("send");
        let status = res.status();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn create(&self, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, &self.messages()).json(&body))
            .await
    }

    fn posted(&self) -> usize {
        self.fake.fake.message_count(self.channel)
    }
}

fn form_error(errors: Value) -> Value {
    json!({"code": 50035, "message": "Invalid Form Body", "errors": errors})
}

fn error(code: &str, message: &str) -> Value {
    json!({"_errors": [{"code": code, "message": message}]})
}

#[tokio::test]
async fn bodies_outside_the_create_message_schema_get_invalid_form_body() {
    let w = world().await;
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (
            json!({"content": "hi", "nonce": long(26)}),
            json!({"nonce": error("NONCE_TYPE_TOO_LONG", "Must be 25 or fewer characters long.")}),
        ),
        (
            json!({"content": "hi", "message_reference": {"channel_id": "1", "type": 0}}),
            json!({"message_reference": {"message_id": error("BASE_TYPE_REQUIRED", "This field is required")}}),
        ),
        (
            json!({"embeds": [{"title": long(257)}]}),
            json!({"embeds": {"0": {"title": error("BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length.")}}}),
        ),
        (
            json!({"embeds": [{"title": "t", "url": "not a url"}]}),
            json!({"embeds": {"0": {"url": error("URL_TYPE_INVALID_URL", "Not a well formed URL.")}}}),
        ),
        (
            json!({"embeds": [{"title": "t", "url": "ftp://example.com/x"}]}),
            json!({"embeds": {"0": {"url": error("URL_TYPE_INVALID_SCHEME",
                "Scheme \"ftp\" is not supported. Scheme must be one of ('http', 'https').")}}}),
        ),
        (
            json!({"embeds": [{"title": "t", "color": 16_777_216}]}),
            json!({"embeds": {"0": {"color": error("NUMBER_TYPE_MAX",
                "int value should be less than or equal to 16777215.")}}}),
        ),
        (
            json!({"content": "hi", "allowed_mentions": {"parse": ["nobody"]}}),
            json!({"allowed_mentions": {"parse": {"0": error("ENUM_TYPE_COERCE",
                "Value \"nobody\" is not a valid enum value.")}}}),
        ),
        (
            json!({"content": long(2001)}),
            json!({"content": error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")}),
        ),
        (
            json!({"embeds": (0..11).map(|_| json!({"title": "t"})).collect::<Vec<_>>()}),
            json!({"embeds": error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")}),
        ),
        (
            json!({"embeds": [{"description": long(4096)}, {"description": long(2000)}]}),
            json!({"embeds": error("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")}),
        ),
        (
            json!({"embeds": [{"fields": [{"name": "n"}, {"name": "n", "value": long(1025)}]}]}),
            json!({"embeds": {"0": {"fields": {
                "0": {"value": error("BASE_TYPE_REQUIRED", "This field is required")},
                "1": {"value": error("BASE_TYPE_MAX_LENGTH", "Must be 1024 or fewer in length.")}}}}}),
        ),
        (
            json!({"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}),
            json!({"allowed_mentions": error("MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                "parse:[\"users\"] and users: [ids...] are mutually exclusive.")}),
        ),
        (
            json!({"content": "hi", "tts": "yes", "sticker_ids": ["abc"]}),
            json!({"tts": error("BOOLEAN_TYPE_CONVERT", "Must be either true or false."),
                "sticker_ids": {"0": error("NUMBER_TYPE_COERCE", "Value \"abc\" is not snowflake.")}}),
        ),
    ];
    for (body, errors) in cases {
        let (status, answer) = w.create(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer, form_error(errors), "{body}");
    }
    // A field no schema names (here a misspelling) is refused too, though Discord ignores it.
    let (status, answer) = w
        .create(json!({"content": "hi", "allowed_mention": {"parse": []}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["errors"]["allowed_mention"]["_errors"][0]["code"],
        "UNKNOWN_FIELD"
    );
    assert_eq!(w.posted(), 0, "nothing refused was posted");
}

#[tokio::test]
async fn headers_and_query_parameters_are_checked_before_the_body() {
    let w = world().await;
    let json_as_text = w
        .request(Method::POST, &w.messages())
        .header("content-type", "text/plain")
        .body(r#"{"content":"hi"}"#);
    let (status, answer) = w.send(json_as_text).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer,
        form_error(json!({"_misc": error("CONTENT_TYPE_INVALID",
            "Expected \"Content-Type\" header to be one of {'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'}.")}))
    );

    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/v10/{}", w.fake.api_url(), w.messages()))
        .header("authorization", format!("Bot {TOKEN}"))
        .json(&json!({"content": "hi"}));
    let (status, answer) = w.send(anonymous).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer,
        json!({"message": "internal network error", "code": 40333})
    );

    let path = format!("{}?wait=yes", w.hook);
    let (status, answer) = w
        .send(
            w.request(Method::POST, &path)
                .json(&json!({"content": "hi"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer,
        form_error(json!({"wait": error("BOOLEAN_TYPE_CONVERT", "Must be either true or false.")}))
    );

    let history = format!("{}?limit=101", w.messages());
    let (status, answer) = w.send(w.request(Method::GET, &history)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer,
        form_error(
            json!({"limit": error("NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")})
        )
    );
    assert_eq!(w.posted(), 0);
}

#[tokio::test]
async fn an_edit_may_not_leave_a_message_empty() {
    let w = world().await;
    let (_, sent) = w.create(json!({"content": "hi"})).await;
    let path = format!("{}/{}", w.messages(), sent["id"].as_str().expect("id"));
    let (status, answer) = w
        .send(
            w.request(Method::PATCH, &path)
                .json(&json!({"content": null})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer,
        json!({"code": 50006, "message": "Cannot send an empty message"})
    );
    assert_eq!(w.fake.fake.messages(w.channel)[0].content, "hi");
}

#[tokio::test]
async fn webhook_usernames_keep_off_the_names_discord_reserves() {
    let w = world().await;
    let path = format!("{}?wait=true", w.hook);
    for (name, code, message) in [
        (
            "",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 80 in length.",
        ),
        (
            "Discord fan",
            "USERNAME_INVALID_CONTAINS",
            "Username cannot contain \"discord\"",
        ),
        (
            "Clyde",
            "USERNAME_INVALID_CONTAINS",
            "Username cannot contain \"clyde\"",
        ),
        (
            "everyone",
            "USERNAME_INVALID",
            "Username cannot be \"everyone\"",
        ),
    ] {
        let body = json!({"content": "hi", "username": name});
        let (status, answer) = w.send(w.request(Method::POST, &path).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(
            answer,
            form_error(json!({"username": error(code, message)})),
            "{name}"
        );
    }
    assert_eq!(w.posted(), 0);
}

#[tokio::test]
async fn valid_requests_of_every_kind_still_pass() {
    let w = world().await;
    let full = json!({
        "content": "x".repeat(2000),
        "nonce": "n".repeat(25),
        "enforce_nonce": true,
        "tts": false,
        "allowed_mentions": {"parse": ["users", "roles", "everyone"], "replied_user": false},
        "embeds": [{
            "type": "rich", "title": "t".repeat(256), "description": "d", "url": "https://example.com/a?b=c",
            "color": 16_777_215, "timestamp": "2024-01-01T00:00:00+00:00",
            "author": {"name": "a", "url": "https://example.com", "icon_url": "https://example.com/i.png"},
            "footer": {"text": "f", "icon_url": "attachment://f.png"},
            "image": {"url": "https://example.com/i.png"}, "thumbnail": {"url": "https://example.com/t.png"},
            "fields": [{"name": "n", "value": "v", "inline": true}],
        }],
    });
    let (status, first) = w.create(full).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first_id = first["id"].as_str().expect("id").to_owned();
    let nulls = json!({"content": "reply", "embeds": [{"type": "rich", "title": null, "description": "d",
        "url": null, "color": null}], "allowed_mentions": {"parse": []},
        "message_reference": {"message_id": first_id, "fail_if_not_exists": false}});
    let (status, reply) = w.create(nulls).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["message_reference"]["message_id"], json!(first_id));
    // A reply to a message that is gone, with `fail_if_not_exists: false`, is no reply.
    let gone = json!({"content": "orphan", "message_reference": {"message_id": "1", "fail_if_not_exists": false}});
    let (status, orphan) = w.create(gone).await;
    assert_eq!(status, StatusCode::OK, "{orphan}");
    assert!(
        orphan.get("message_reference").is_none_or(Value::is_null),
        "{orphan}"
    );

    let form = reqwest::multipart::Form::new()
        .part(
            "payload_json",
            reqwest::multipart::Part::text(
                r#"{"content":"file","attachments":[{"id":0,"filename":"a.txt"}]}"#,
            )
            .mime_str("application/json")
            .expect("mime"),
        )
        .part(
            "files[0]",
            reqwest::multipart::Part::bytes(b"bytes".to_vec()).file_name("a.txt"),
        );
    let (status, with_file) = w
        .send(w.request(Method::POST, &w.messages()).multipart(form))
        .await;
    assert_eq!(status, StatusCode::OK, "{with_file}");

    let edit = format!("{}/{first_id}", w.messages());
    let (status, edited) = w
        .send(
            w.request(Method::PATCH, &edit)
                .json(&json!({"content": "edited", "embeds": []})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");

    let hook_body = json!({"content": "via hook", "username": "Alice (Telegram)",
        "avatar_url": "https://example.com/alice.png", "allowed_mentions": {"parse": []}});
    let waited = format!("{}?wait=true&with_components=false", w.hook);
    let (status, hooked) = w
        .send(w.request(Method::POST, &waited).json(&hook_body))
        .await;
    assert_eq!(status, StatusCode::OK, "{hooked}");
    let not_waited = format!("{}?wait=false", w.hook);
    let res = w
        .request(Method::POST, &not_waited)
        .json(&hook_body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let hook_edit = format!("{}/messages/{}", w.hook, hooked["id"].as_str().expect("id"));
    let (status, answer) = w
        .send(
            w.request(Method::PATCH, &hook_edit)
                .json(&json!({"content": "hook, edited"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let history = format!("{}?after=1&limit=100", w.messages());
    let (status, page) = w.send(w.request(Method::GET, &history)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page.as_array().map(Vec::len), Some(6));
}
