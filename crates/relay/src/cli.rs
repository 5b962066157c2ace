//! Command-line interface.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "relay",
    version,
    about = "Forward messages between Telegram and Discord"
)]
pub struct Cli {
    /// A TOML file with settings (environment variables still win over it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API.
    Serve,
    /// Run a worker (forwarding, sessions, health checks).
    Worker(WorkerArgs),
    /// Run the API and a worker in one process.
    All(WorkerArgs),
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run a fake platform for demos and benchmarks.
    #[command(subcommand)]
    Fake(FakeCommand),
    /// Measure Relay end to end on this machine (the fake Discord, rate limits off, the
    /// real PostgreSQL and Redis); prints `bench: messages=… throughput=… p99_ms=… lost=…`.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Messages (deliveries) to forward.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Workers (in this process).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Messages per second; 0 = as fast as they can be posted.
    #[arg(long, default_value_t = 0)]
    pub rate: u32,
    /// Destination channels (each sent by its own bot).
    #[arg(long, default_value_t = 8)]
    pub destinations: usize,
    /// Deliveries each worker runs at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

#[derive(Debug, Subcommand)]
pub enum FakeCommand {
    /// A fake Discord (REST, gateway, webhooks) with a demo bot, server and channels.
    Discord {
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:3001")]
        addr: String,
    },
    /// A fake Telegram: an MTProto DC for user sessions (grammers) and a Bot API server,
    /// with demo users, a channel, a group and a bot. Login codes are logged.
    Telegram {
        /// Where the MTProto DC listens (RELAY_TELEGRAM_DC_ADDR).
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:4430")]
        addr: String,
        /// Where the Bot API listens (RELAY_TELEGRAM_BOT_API_URL).
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:3002")]
        bot_api_addr: String,
    },
    /// A fake PayPal (OAuth, products, plans, subscriptions, signed webhooks). Opening a
    /// subscription's approve link approves it; POST /_fake/subscriptions/{id}/{renew,
    /// fail,cancel,refund,expire} pulls the other levers.
    Paypal {
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:3003")]
        addr: String,
        /// Where webhooks go (Relay's PayPal webhook).
        #[arg(
            long,
            value_name = "URL",
            default_value = "http://127.0.0.1:8080/api/v1/payments/webhooks/paypal"
        )]
        webhook_url: String,
    },
    /// A fake NOWPayments (invoices, payments, signed IPNs). Opening an invoice URL pays
    /// it; POST /_fake/invoices/{id}/{pay,underpay,expire,fail} pulls the levers.
    Nowpayments {
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:3004")]
        addr: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account. The password comes from RELAY_ADMIN_PASSWORD or, when that
    /// is unset, from the first line of standard input.
    Create {
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Deliveries run at once (overrides RELAY_WORKER_CONCURRENCY).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print it, secrets redacted.
    Check,
}
