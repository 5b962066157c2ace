//! `relay bench`: Relay end to end on this machine's PostgreSQL and Redis, with the fake
//! Discord (platform rate limits off): a user posts numbered messages in a source channel,
//! the source bot's listener turns them into outbox rows and jobs, W in-process workers
//! send them through D destination bots into D channels, and the fake records each arrival.
//! A "message" is one delivery: from the post on the source to its arrival at one
//! destination; N messages are N / D posts fanned out to D destinations.
//!
//! Latency is the time between the source post and the arrival, both stamped by the fake
//! (message snowflakes, millisecond precision). Lost, duplicated and reordered come from the
//! destination channels' contents. The throwaway database and the Redis keys are removed
//! at the end.

use crate::cli::BenchArgs;
use crate::config::{self, Config};
use crate::preflight::{self, DbSetup};
use relay_core::credentials::Email;
use relay_core::{AccountKind, AccountState, Role};
use relay_fakes::discord::{FakeDiscord, RunningFake};
use relay_store::{NewAccount, NewDestination, NewPair};
use relay_worker::{Worker, WorkerConfig};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub messages: usize,
    pub seconds: f64,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub lost: usize,
    pub duplicated: usize,
    pub reordered: usize,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bench: messages={} seconds={:.2} throughput={:.0}/s p50_ms={:.1} p99_ms={:.1} lost={} duplicated={} reordered={}",
            self.messages,
            self.seconds,
            self.throughput,
            self.p50_ms,
            self.p99_ms,
            self.lost,
            self.duplicated,
            self.reordered
        )
    }
}

pub async fn run(args: BenchArgs) -> ExitCode {
    match bench(args).await {
        Ok(figures) => {
            println!("{figures}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

struct World {
    fake: RunningFake,
    source: u64,
    poster: u64,
    targets: Vec<u64>,
}

async fn bench(args: BenchArgs) -> Result<Figures, String> {
    let destinations = args.destinations.max(1);
    let posts = args.messages.div_ceil(destinations).max(1);
    let messages = posts * destinations;
    relay_discord::set_global_limit(false);
    let fake = FakeDiscord::new();
    fake.set_global_limit(false);
    let fake = fake
        .start("127.0.0.1:0")
        .await
        .map_err(|e| format!("fake Discord: {e}"))?;

    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let database = format!("relay_bench_{stamp}_{suffix}");
    let admin_url = std::env::var("RELAY_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db_url = match admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{database}"),
        None => return Err("RELAY_DATABASE_URL has no database part".into()),
    };
    let prefix = format!("bench-{suffix}");
    let env: HashMap<&str, String> = [
        ("RELAY_DATABASE_URL", db_url.clone()),
        ("RELAY_REDIS_KEY_PREFIX", prefix.clone()),
        ("RELAY_DISCORD_API_URL", fake.api_url()),
        ("RELAY_DISCORD_GATEWAY_URL", fake.gateway_url()),
        ("RELAY_LOG_LEVEL", "error".into()),
        ("RELAY_WORKER_LEASE_SECS", "5".into()),
        ("RELAY_DATABASE_MAX_CONNECTIONS", "40".into()),
    ]
    .into_iter()
    .collect();
    let config = config::load(None, &|k| env.get(k).cloned().or_else(|| passthrough(k)))
        .map_err(|problems| problems.join("; "))?;
    let (db, redis) = preflight::connect(
        &config,
        DbSetup {
            create_if_missing: true,
            migrate: true,
        },
    )
    .await
    .map_err(|e| e.lines.join("; "))?;

    let result = async {
        let world = arrange(&db, &config, fake, destinations).await?;
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        for i in 0..args.workers.max(1) {
            let queue = crate::run::job_queue(&config, &redis).map_err(|e| e.lines.join("; "))?;
            let worker = Worker::new(
                WorkerConfig {
                    concurrency: args.concurrency,
                    lease_ttl: config.worker_lease,
                    ..WorkerConfig::new(format!("bench-{suffix}-{i}"))
                },
                db.clone(),
                redis.clone(),
                queue,
                config.keyring.clone(),
                crate::run::platforms(&config),
            );
            tasks.push(tokio::spawn(worker.run(shutdown.clone())));
        }
        let figures = measure(&world, posts, destinations, args.rate).await;
        shutdown.cancel();
        for task in tasks {
            let _ = task.await;
        }
        figures
    }
    .await;

    // Clean up: the Redis keys of this run, then the database.
    let _ = redis
        .run::<()>(
            redis::cmd("EVAL")
                .arg("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end")
                .arg(0)
                .arg(format!("{prefix}:*")),
        )
        .await;
    db.close().await;
    if let Ok(mut admin) = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
    }
    let mut figures = result?;
    figures.messages = messages;
    Ok(figures)
}

/// The settings the bench does not choose come from the environment as usual.
fn passthrough(key: &str) -> Option<String> {
    match key {
        "RELAY_REDIS_URL" | "REDIS_URL" | "RELAY_ENCRYPTION_KEY" | "RELAY_JWT_SECRET" => {
            std::env::var(key).ok()
        }
        _ => None,
    }
}

async fn arrange(
    db: &relay_store::Database,
    config: &Config,
    fake: RunningFake,
    destinations: usize,
) -> Result<World, String> {
    let err = |e: relay_store::StoreError| e.to_string();
    let f = &fake.fake;
    let source_bot = f.add_bot("bench-source", "source");
    let mut bots = vec![source_bot];
    for i in 0..destinations {
        bots.push(f.add_bot(&format!("bench-sender-{i}"), &format!("sender {i}")));
    }
    // The targets are in a server the source bot is not in, so deliveries do not come back
    // to its gateway as events to filter out (which a real deployment would often avoid too).
    let guild = f.add_guild("bench source", &[source_bot]);
    let target_guild = f.add_guild("bench targets", &bots[1..]);
    let source = f.add_channel(guild, "source");
    let targets: Vec<u64> = (0..destinations)
        .map(|i| f.add_channel(target_guild, &format!("target-{i}")))
        .collect();
    let poster = f.add_user("poster");

    let email = Email::parse("bench@example.com").map_err(|e| e.to_string())?;
    let user = db.create_user(&email, "-", Role::User).await.map_err(err)?;
    sqlx::query(
        "INSERT INTO subscriptions (user_id, plan_id, status, provider) VALUES ($1, 'elite', 'active', 'admin')",
    )
    .bind(user.id.as_uuid())
    .execute(db.pool())
    .await
    .map_err(|e| e.to_string())?;
    let account = |token: String, external: u64| async move {
        db.create_account(
            &config.keyring,
            &NewAccount {
                owner_id: user.id,
                kind: AccountKind::DiscordBot,
                display_name: "bench bot",
                external_id: &external.to_string(),
                secret: Some(token.as_bytes()),
                state: AccountState::Connected,
            },
        )
        .await
        .map(|a| a.id)
    };
    let source_account = account("bench-source".into(), source_bot)
        .await
        .map_err(err)?;
    let mut dests = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let id = account(format!("bench-sender-{i}"), bots[i + 1])
            .await
            .map_err(err)?;
        dests.push(NewDestination {
            account_id: id,
            chat_id: Some(target.to_string()),
            show_author: true,
            rules: None,
        });
    }
    db.create_pair(
        user.id,
        &NewPair {
            name: "bench".into(),
            source_account_id: source_account,
            source_chat_id: source.to_string(),
            destinations: dests,
            bridge: false,
            rules: serde_json::json!({}),
        },
    )
    .await
    .map_err(err)?;
    Ok(World {
        fake,
        source,
        poster,
        targets,
    })
}

/// Milliseconds since the epoch, from a snowflake.
fn snowflake_ms(id: u64) -> i64 {
    ((id >> 22) + 1_420_070_400_000) as i64
}

async fn measure(
    world: &World,
    posts: usize,
    destinations: usize,
    rate: u32,
) -> Result<Figures, String> {
    let f = &world.fake.fake;
    // Warm up: the listener is connected and every partition is owned.
    let ready = Instant::now();
    loop {
        if world
            .targets
            .iter()
            .all(|t| f.messages(*t).iter().any(|m| m.content == "warm-up"))
        {
            break;
        }
        if ready.elapsed() > Duration::from_secs(60) {
            return Err("the pipeline did not come up within 60 s".into());
        }
        if f.messages(world.targets[0]).is_empty() {
            f.user_posts(world.source, world.poster, "warm-up");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Post, paced to `rate` deliveries per second.
    let started = Instant::now();
    let mut posted_ms = Vec::with_capacity(posts);
    let per_post = if rate == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(destinations as f64 / f64::from(rate))
    };
    for i in 0..posts {
        if !per_post.is_zero() {
            let due = started + per_post * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                tokio::time::sleep(wait).await;
            }
        } else if i % 500 == 0 {
            tokio::task::yield_now().await;
        }
        let message = f
            .user_posts(world.source, world.poster, &format!("b{i}"))
            .ok_or("posting failed")?;
        posted_ms.push(snowflake_ms(message.id.get()));
    }

    // Wait for every arrival, or until nothing has moved for 30 s.
    let expected = posts * destinations;
    let mut last = (0usize, Instant::now());
    loop {
        let arrived: usize = world
            .targets
            .iter()
            .map(|t| f.message_count(*t).saturating_sub(1))
            .sum();
        if arrived >= expected {
            break;
        }
        if arrived != last.0 {
            last = (arrived, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(30) {
            break;
        }
        // Arrival times are stamped by the fake; polling only decides when to stop.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let mut latencies = Vec::with_capacity(expected);
    let (mut lost, mut duplicated, mut reordered) = (0, 0, 0);
    let mut finished_ms = 0i64;
    for target in &world.targets {
        let mut seen = vec![0u32; posts];
        let mut previous: Option<usize> = None;
        for m in f.messages(*target) {
            let Some(i) = m
                .content
                .strip_prefix('b')
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if i >= posts {
                continue;
            }
            seen[i] += 1;
            if seen[i] > 1 {
                duplicated += 1;
                continue;
            }
            if previous.is_some_and(|p| i < p) {
                reordered += 1;
            }
            previous = Some(i);
            let arrived = snowflake_ms(m.id.get());
            finished_ms = finished_ms.max(arrived);
            latencies.push((arrived - posted_ms[i]).max(0) as f64);
        }
        lost += seen.iter().filter(|n| **n == 0).count();
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        }
    };
    let first_ms = posted_ms.first().copied().unwrap_or_default();
    let seconds = ((finished_ms - first_ms).max(1) as f64) / 1000.0;
    Ok(Figures {
        messages: expected,
        seconds,
        throughput: latencies.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        lost,
        duplicated,
        reordered,
    })
}
