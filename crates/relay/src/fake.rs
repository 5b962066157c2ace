//! `relay fake discord`: the fake Discord as a process of its own, with a demo world, so
//! Relay can be tried end to end without internet.

use relay_fakes::discord::FakeDiscord;
use std::process::ExitCode;

pub const DEMO_BOT_TOKEN: &str = "demo-bot-token";

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
