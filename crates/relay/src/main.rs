//! `relay`: parse the command line, load the configuration, run the command.
//!
//! Exit codes: 0 done, 1 failed while running, 2 bad configuration or usage,
//! 3 PostgreSQL or Redis not reachable at start-up.

use clap::Parser;
use relay::cli::{AdminCommand, Cli, Command, ConfigCommand, FakeCommand};
use relay::config::{self, Config};
use relay::preflight::{self, EXIT_DEPENDENCY};
use relay::run::{self, Roles};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = config::load_with_sources(cli.config.as_deref(), &config::process_env);
    let (raw, mut config) = match loaded {
        Ok(loaded) => loaded,
        Err(problems) => {
            for problem in problems {
                eprintln!("{problem}");
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Command::Worker(args) | Command::All(args) = &cli.command
        && let Some(n) = args.concurrency
    {
        config.worker_concurrency = usize::from(n);
    }
    if let Command::Config(ConfigCommand::Check) = cli.command {
        for line in config::describe(&raw, &config) {
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    if let Err(e) = relay::logging::init(&config) {
        eprintln!("{e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    relay_discord::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(execute(cli.command, config))
}

async fn execute(command: Command, config: Config) -> ExitCode {
    let roles = match command {
        Command::Serve => Roles {
            api: true,
            worker: false,
        },
        Command::Worker(_) => Roles {
            api: false,
            worker: true,
        },
        Command::All(_) => Roles {
            api: true,
            worker: true,
        },
        Command::Migrate => return migrate(&config).await,
        Command::Admin(AdminCommand::Create { email }) => {
            return relay::admin::create(&config, &email).await;
        }
        Command::Fake(FakeCommand::Discord { addr }) => return relay::fake::discord(&addr).await,
        Command::Fake(FakeCommand::Telegram { addr, bot_api_addr }) => {
            return relay::fake::telegram(&addr, &bot_api_addr).await;
        }
        Command::Fake(FakeCommand::Paypal { addr, webhook_url }) => {
            return relay::fake::paypal(&addr, &webhook_url).await;
        }
        Command::Fake(FakeCommand::Nowpayments { addr }) => {
            return relay::fake::nowpayments(&addr).await;
        }
        Command::Bench(args) => {
            return relay::bench::run(args).await;
        }
        Command::Config(_) => return ExitCode::SUCCESS,
    };
    let listener = if roles.api {
        match run::bind(&config).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    } else {
        None
    };
    let shutdown = CancellationToken::new();
    relay::shutdown::on_signals(shutdown.clone());
    match run::run(config, roles, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(run::RunError::Startup(e)) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_DEPENDENCY)
        }
        Err(run::RunError::Failed(why)) => {
            eprintln!("{why}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &Config) -> ExitCode {
    let db = match preflight::connect_database(config, true).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_DEPENDENCY);
        }
    };
    match db.migrate().await {
        Ok(0) => println!("the database is up to date"),
        Ok(n) => println!("applied {n} migration(s)"),
        Err(e) => {
            eprintln!("migrating failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    db.close().await;
    ExitCode::SUCCESS
}
