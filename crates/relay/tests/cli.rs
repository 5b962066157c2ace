//! The `relay` binary as a newcomer meets it: configuration errors, `config check`,
//! `migrate`, missing dependencies, and `relay all` from start to a graceful stop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when a test ends, passed or not, so no Relay outlives its test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_client() -> reqwest::Client {
    relay_discord::install_crypto_provider();
    // Discord (and so its fake) refuses API requests without a User-Agent.
    reqwest::Client::builder()
        .user_agent("relay-cli-tests")
        .build()
        .expect("client")
}

fn relay() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relay"));
    // The tests decide the configuration: nothing leaks in from the caller's shell.
    for (name, _) in std::env::vars() {
        if name.starts_with("RELAY_") || name == "DATABASE_URL" || name == "REDIS_URL" {
            cmd.env_remove(name);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run relay")
}

fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn three_configuration_problems_exit_2_with_one_line_each() {
    let out = output(
        relay()
            .args(["serve"])
            .env("RELAY_DATABASE_URL", "nonsense")
            .env("RELAY_HTTP_ADDR", "127.0.0.1:70000")
            .env("RELAY_ENCRYPTION_KEY", "tooshort"),
    );
    assert_eq!(out.status.code(), Some(2));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[0].starts_with("RELAY_DATABASE_URL: "));
    assert!(lines[1].starts_with("RELAY_HTTP_ADDR: "));
    assert!(lines[2].starts_with("RELAY_ENCRYPTION_KEY: "));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("panicked") || l.contains("backtrace"))
    );
}

#[test]
fn config_check_prints_the_effective_configuration_without_secrets() {
    let out = output(
        relay()
            .args(["config", "check"])
            .env(
                "RELAY_JWT_SECRET",
                "an-unguessable-secret-of-sufficient-length",
            )
            .env("RELAY_HTTP_ADDR", "127.0.0.1:9999"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("http_addr = \"127.0.0.1:9999\"  # RELAY_HTTP_ADDR"),
        "{text}"
    );
    assert!(!text.contains("an-unguessable"), "{text}");
}

#[test]
fn production_without_secrets_refuses_to_start() {
    let out = output(
        relay()
            .args(["config", "check"])
            .env("RELAY_ENV", "production"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_lines(&out).len(), 2);
}

#[tokio::test]
async fn migrate_creates_the_schema_and_a_second_run_is_a_no_op() {
    let db = relay_store::testing::empty_database()
        .await
        .expect("database");
    let url = db.url().to_owned();
    let first = output(relay().arg("migrate").env("RELAY_DATABASE_URL", &url));
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("applied "));
    let second = output(relay().arg("migrate").env("RELAY_DATABASE_URL", &url));
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "the database is up to date"
    );
}

#[test]
fn missing_postgres_and_redis_are_both_named_with_how_to_start_them() {
    let out = output(
        relay()
            .arg("serve")
            .env("RELAY_HTTP_ADDR", "127.0.0.1:0")
            .env(
                "RELAY_DATABASE_URL",
                "postgres://postgres@127.0.0.1:1/relay",
            )
            .env("RELAY_REDIS_URL", "redis://127.0.0.1:1"),
    );
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("PostgreSQL is not reachable at postgres://postgres@127.0.0.1:1/relay"),
        "{text}"
    );
    assert!(text.contains("pg_ctlcluster"), "{text}");
    assert!(
        text.contains("Redis is not reachable at redis://127.0.0.1:1"),
        "{text}"
    );
    assert!(text.contains("redis-server --daemonize yes"), "{text}");
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn relay_all_serves_the_api_and_stops_cleanly_on_sigterm() {
    let db = relay_store::testing::empty_database()
        .await
        .expect("database");
    let url = db.url().to_owned();
    let port = free_port();
    let keys = relay_queue::testing::TestPrefix::new();
    let prefix = keys.prefix().to_string();
    let log_file = std::env::temp_dir().join(format!("{prefix}.log"));
    let mut child = KillOnDrop(
        relay()
            .arg("all")
            .env("RELAY_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("RELAY_DATABASE_URL", &url)
            .env("RELAY_REDIS_URL", keys.url())
            .env("RELAY_REDIS_KEY_PREFIX", &prefix)
            .env("RELAY_LOG_FORMAT", "json")
            .env("RELAY_LOG_FILE", &log_file)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );

    let client = http_client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        if let Ok(res) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            break res;
        }
        assert!(Instant::now() < deadline, "relay all did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");

    let pid = child.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.0.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "a SIGTERM is a clean stop");
    let stderr = child.0.stderr.take().expect("stderr");
    let lines: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    let text = lines.join("\n");
    assert!(text.contains("applied database migrations"), "{text}");
    assert!(text.contains("worker stopped"), "{text}");
    assert!(
        lines.last().is_some_and(|l| l.contains("\"stopped\"")),
        "{text}"
    );
    // Every request log line carries its request id.
    let request_lines: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("finished processing request"))
        .collect();
    assert!(!request_lines.is_empty(), "{text}");
    assert!(
        request_lines
            .iter()
            .all(|l| l.contains("\"request_id\":\"")),
        "{text}"
    );
    let file = std::fs::read_to_string(&log_file).expect("log file");
    assert_eq!(
        file.lines().count(),
        lines.len(),
        "the log file gets the same lines"
    );
    std::fs::remove_file(&log_file).ok();
}

#[tokio::test]
async fn admin_create_makes_an_admin_from_env_or_stdin_and_refuses_duplicates() {
    use std::io::Write;
    let db = relay_store::testing::empty_database()
        .await
        .expect("database");
    let url = db.url().to_owned();
    let out = output(
        relay()
            .args(["admin", "create", "--email", " Root@Example.com "])
            .env("RELAY_DATABASE_URL", &url)
            .env("RELAY_ADMIN_PASSWORD", "a strong admin password"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("created admin root@example.com ("));
    let email = relay_core::credentials::Email::parse("root@example.com").expect("email");
    let admin = db
        .user_by_email(&email)
        .await
        .expect("query")
        .expect("exists");
    assert_eq!(admin.user.role, relay_core::Role::Admin);
    assert!(!admin.password_hash.contains("a strong admin password"));

    let again = output(
        relay()
            .args(["admin", "create", "--email", "root@example.com"])
            .env("RELAY_DATABASE_URL", &url)
            .env("RELAY_ADMIN_PASSWORD", "a strong admin password"),
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let mut child = relay()
        .args(["admin", "create", "--email", "ops@example.com"])
        .env("RELAY_DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"piped admin password\n")
        .expect("write");
    let piped = child.wait_with_output().expect("wait");
    assert_eq!(
        piped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );

    let weak = output(
        relay()
            .args(["admin", "create", "--email", "weak@example.com"])
            .env("RELAY_DATABASE_URL", &url)
            .env("RELAY_ADMIN_PASSWORD", "short"),
    );
    assert_eq!(weak.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&weak.stderr).trim(),
        "password: must be at least 10 characters"
    );
}

#[tokio::test]
async fn relay_fake_discord_serves_a_demo_world() {
    let port = free_port();
    let mut child = KillOnDrop(
        relay()
            .args(["fake", "discord", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let client = http_client();
    let url = format!("http://127.0.0.1:{port}/api/v10/users/@me");
    let deadline = Instant::now() + Duration::from_secs(20);
    let res = loop {
        if let Ok(res) = client
            .get(&url)
            .header("authorization", "Bot demo-bot-token")
            .send()
            .await
        {
            break res;
        }
        assert!(Instant::now() < deadline, "the fake did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.expect("json");
    assert_eq!(me["username"], "relay-demo-bot");
    let stdout = child.0.stdout.take().expect("stdout");
    drop(child);
    let text = std::io::read_to_string(stdout).expect("stdout");
    assert!(
        text.contains(&format!("RELAY_DISCORD_API_URL=http://127.0.0.1:{port}")),
        "{text}"
    );
}

#[tokio::test]
async fn relay_fake_telegram_lets_the_demo_user_sign_in() {
    use relay_telegram::user::login::{PasswordStep, request_code, submit_code};
    use relay_telegram::user::{DcOverride, MtprotoConfig, parse_key_half};
    let (dc_port, bot_port) = (free_port(), free_port());
    let mut child = KillOnDrop(
        relay()
            .args([
                "fake",
                "telegram",
                "--addr",
                &format!("127.0.0.1:{dc_port}"),
            ])
            .args(["--bot-api-addr", &format!("127.0.0.1:{bot_port}")])
            .env("RELAY_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    // Log lines arrive on a thread: the login code is read from them, as a demo user would.
    let stderr = child.0.stderr.take().expect("stderr");
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let client = http_client();
    let url = format!("http://127.0.0.1:{bot_port}/bot123456:demo-telegram-bot-token/getMe");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(&url).send().await.map(|r| r.status()).ok() != Some(reqwest::StatusCode::OK) {
        assert!(Instant::now() < deadline, "the fake did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let config = MtprotoConfig {
        api_id: 12345,
        api_hash: "0123456789abcdef0123456789abcdef".into(),
        dc: Some(DcOverride {
            addr: format!("127.0.0.1:{dc_port}").parse().expect("addr"),
            key_half: parse_key_half(relay_fakes::telegram_dc::DEFAULT_KEY_HALF_HEX).expect("key"),
        }),
    };
    let state = request_code(&config, "+15550100").await.expect("code sent");
    let code = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the fake logs the code");
        if line.contains("login code") {
            let entry: serde_json::Value = serde_json::from_str(&line).expect("json log");
            break entry["fields"]["code"].as_str().expect("code").to_owned();
        }
    };
    match submit_code(&config, &state, "+15550100", &code)
        .await
        .expect("sign in")
    {
        PasswordStep::SignedIn(user) => assert_eq!(user.display_name, "Alice"),
        PasswordStep::PasswordNeeded { .. } => panic!("Alice has no password"),
    }
    let stdout = child.0.stdout.take().expect("stdout");
    drop(child);
    let text = std::io::read_to_string(stdout).expect("stdout");
    assert!(
        text.contains(&format!("RELAY_TELEGRAM_DC_ADDR=127.0.0.1:{dc_port}")),
        "{text}"
    );
}
