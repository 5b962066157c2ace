//! `relay fake discord`, `relay fake telegram`, `relay fake paypal` and `relay fake
//! nowpayments`: the fakes as processes of their own, with a demo world, so Relay can be
//! tried end to end without internet.

use relay_fakes::discord::FakeDiscord;
use relay_fakes::nowpayments::FakeNowPayments;
use relay_fakes::paypal::FakePayPal;
use relay_fakes::telegram_bot::FakeBotApi;
use relay_fakes::telegram_dc::{FakeDc, Peer};
use std::net::SocketAddr;
use std::process::ExitCode;

pub const DEMO_BOT_TOKEN: &str = "demo-bot-token";
pub const DEMO_TELEGRAM_BOT_TOKEN: &str = "123456:demo-telegram-bot-token";
pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_PAYPAL_CLIENT_ID: &str = "demo-paypal-client";
pub const DEMO_PAYPAL_SECRET: &str = "demo-paypal-secret";
pub const DEMO_PAYPAL_WEBHOOK_ID: &str = "DEMO-WEBHOOK-ID";
pub const DEMO_NOWPAYMENTS_KEY: &str = "demo-nowpayments-key";
pub const DEMO_IPN_SECRET: &str = "demo-ipn-secret";

pub async fn discord(addr: &str) -> ExitCode {
    let fake = FakeDiscord::new();
    let bot = fake.add_bot(DEMO_BOT_TOKEN, "relay-demo-bot");
    let guild = fake.add_guild("Relay demo", &[bot]);
    let source = fake.add_channel(guild, "source");
    let destination = fake.add_channel(guild, "destination");
    let (hook_id, hook_token) = fake.add_webhook(destination, "relay-demo-hook");
    let user = fake.add_user("alice");
    let running = match fake.start(addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("fake Discord on {}", running.api_url());
    println!("  RELAY_DISCORD_API_URL={}", running.api_url());
    println!("  RELAY_DISCORD_GATEWAY_URL={}", running.gateway_url());
    println!("  bot token: {DEMO_BOT_TOKEN} (user id {bot})");
    println!("  server {guild}: #source {source}, #destination {destination}");
    println!(
        "  webhook: https://discord.com/api/webhooks/{hook_id}/{hook_token} (add it; Relay sends it to the fake)"
    );
    println!("  user alice: {user}");
    let _ = tokio::signal::ctrl_c().await;
    drop(running);
    ExitCode::SUCCESS
}

pub async fn telegram(addr: &str, bot_api_addr: &str) -> ExitCode {
    let Ok(dc_addr) = addr.parse::<SocketAddr>() else {
        eprintln!("--addr: '{addr}' is not IP:PORT");
        return ExitCode::from(2);
    };
    let dc = FakeDc::new();
    let alice = dc.add_user("+15550100", "Alice", None);
    let bob = dc.add_user("+15550111", "Bob", Some(DEMO_PASSWORD));
    let channel = dc.add_channel("Relay demo news", false, &[alice, bob]);
    let group = dc.add_group("Relay demo chat", &[alice, bob]);
    dc.post(
        Peer::Channel(channel),
        alice,
        "Welcome to the **demo** channel",
    );
    let bots = FakeBotApi::new();
    let bot = bots.add_bot(DEMO_TELEGRAM_BOT_TOKEN, "relay_demo_bot");
    let bot_chat = bots.add_chat("supergroup", "Relay demo bot chat", &[bot]);
    let running_dc = match dc.start(dc_addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::from(2);
        }
    };
    let running_bots = match bots.start(bot_api_addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("cannot listen on {bot_api_addr}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("fake Telegram DC on {}", running_dc.addr());
    println!("  RELAY_TELEGRAM_DC_ADDR={}", running_dc.addr());
    println!(
        "  RELAY_TELEGRAM_API_ID=12345 RELAY_TELEGRAM_API_HASH=0123456789abcdef0123456789abcdef (any)"
    );
    println!(
        "  users: Alice +15550100 (no password), Bob +15550111 (password {DEMO_PASSWORD}); codes are logged"
    );
    println!(
        "  channel 'Relay demo news': {}; group 'Relay demo chat': -{group}",
        -1_000_000_000_000 - channel
    );
    println!("fake Telegram Bot API on {}", running_bots.url());
    println!("  RELAY_TELEGRAM_BOT_API_URL={}", running_bots.url());
    println!("  bot token: {DEMO_TELEGRAM_BOT_TOKEN}; chat {bot_chat}");
    let _ = tokio::signal::ctrl_c().await;
    drop(running_dc);
    drop(running_bots);
    ExitCode::SUCCESS
}

pub async fn paypal(addr: &str, webhook_url: &str) -> ExitCode {
    let fake = FakePayPal::new(
        DEMO_PAYPAL_CLIENT_ID,
        DEMO_PAYPAL_SECRET,
        DEMO_PAYPAL_WEBHOOK_ID,
    );
    fake.set_webhook_url(webhook_url);
    // Relay must trust the fake's test certificate: it goes in a file for the setting.
    let cert = std::env::temp_dir().join("relay-fake-paypal-cert.pem");
    if let Err(e) = std::fs::write(&cert, relay_fakes::paypal::TEST_CERT_PEM) {
        eprintln!("cannot write {}: {e}", cert.display());
        return ExitCode::from(2);
    }
    let running = match fake.start(addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::from(2);
        }
    };
    let url = running.url();
    println!("fake PayPal on {url}; webhooks to {webhook_url}");
    println!("  RELAY_PAYPAL_API_URL={url}");
    println!(
        "  RELAY_PAYPAL_CLIENT_ID={DEMO_PAYPAL_CLIENT_ID} RELAY_PAYPAL_CLIENT_SECRET={DEMO_PAYPAL_SECRET}"
    );
    println!("  RELAY_PAYPAL_WEBHOOK_ID={DEMO_PAYPAL_WEBHOOK_ID}");
    println!(
        "  RELAY_PAYPAL_CERT_ROOTS_FILE={} RELAY_PAYPAL_CERT_FETCH_URL={url}",
        cert.display()
    );
    println!(
        "  open a checkout's URL to approve; POST {url}/_fake/subscriptions/<I-…>/<renew|fail|cancel|refund|expire>"
    );
    let _ = tokio::signal::ctrl_c().await;
    drop(running);
    ExitCode::SUCCESS
}

pub async fn nowpayments(addr: &str) -> ExitCode {
    let fake = FakeNowPayments::new(DEMO_NOWPAYMENTS_KEY, DEMO_IPN_SECRET);
    let running = match fake.start(addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::from(2);
        }
    };
    let url = running.url();
    println!("fake NOWPayments on {url}; IPNs go to each invoice's ipn_callback_url");
    println!("  RELAY_NOWPAYMENTS_API_URL={url}");
    println!(
        "  RELAY_NOWPAYMENTS_API_KEY={DEMO_NOWPAYMENTS_KEY} RELAY_NOWPAYMENTS_IPN_SECRET={DEMO_IPN_SECRET}"
    );
    println!(
        "  open a checkout's URL to pay; POST {url}/_fake/invoices/<id>/<pay|underpay|expire|fail>"
    );
    let _ = tokio::signal::ctrl_c().await;
    drop(running);
    ExitCode::SUCCESS
}
