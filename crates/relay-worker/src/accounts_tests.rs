//! Listener supervision: a listener that panics is taken out and paused before a restart,
//! also when it panics before its start was recorded, and no other account is touched.

use super::*;
use crate::lease_keeper::HeldPartition;
use relay_store::DbConfig;
use std::time::Instant;

fn hub() -> AccountHub {
    // Nothing here reaches PostgreSQL but a state update nobody waits for.
    let db = Database::connect_lazy(&DbConfig {
        url: "postgres://postgres@127.0.0.1:1/none".into(),
        max_connections: 1,
        acquire_timeout: Duration::from_millis(100),
    })
    .expect("db");
    let held = Held::new(4);
    for p in 0..4 {
        held.insert(
            p,
            HeldPartition {
                token: 1,
                renewed: Instant::now(),
                stop: CancellationToken::new(),
                task: tokio::spawn(async {}),
            },
        );
    }
    let (events, _) = mpsc::channel(8);
    AccountHub::new(db, Keyring::development(), Arc::default(), events, held)
}

fn sink() -> AnySink {
    let rest = DiscordRest::new(&relay_discord::DiscordEndpoints::default(), None);
    AnySink::DiscordWebhook(relay_discord::WebhookSink::new(
        rest,
        WebhookTarget {
            id: 1,
            token: "t".into(),
        },
    ))
}

/// Starts a listener the way `start` does, with `run` as its body.
fn start_with<F, Fut>(hub: &AccountHub, account: AccountId, run: F) -> Result<(), AccountError>
where
    F: FnOnce(SourceSender, CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let stop = CancellationToken::new();
    let generation = hub
        .generations
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let task = hub.spawn_listener(account, generation, stop.clone(), run);
    hub.record_start(
        account,
        Running {
            kind: AccountKind::DiscordBot,
            generation,
            sink: sink(),
            stop,
            listening: true,
            task: Some(task),
            telegram_bot: None,
            chats: None,
        },
    )
}

#[tokio::test]
async fn a_panicking_listener_is_taken_out_and_paused_and_the_others_run_on() {
    let hub = hub();
    let (broken, healthy) = (AccountId::new(), AccountId::new());
    start_with(&hub, broken, |_, _| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        panic!("a platform library broke");
    })
    .expect("started");
    start_with(
        &hub,
        healthy,
        |_, stop| async move { stop.cancelled().await },
    )
    .expect("started");
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(!hub.is_listening(broken), "the broken account is taken out");
    assert!(
        !hub.may_start(broken),
        "and waits before it is started again"
    );
    assert!(hub.is_listening(healthy), "the other account runs on");
    assert!(hub.may_start(healthy));
    hub.stop_all();
}

#[tokio::test]
async fn a_listener_that_panics_before_its_start_is_recorded_is_not_left_for_dead() {
    let hub = hub();
    let account = AccountId::new();
    let stop = CancellationToken::new();
    let generation = 7;
    let task = hub.spawn_listener(account, generation, stop.clone(), |_, _| async {
        panic!("at once")
    });
    // The watcher has seen the panic before the start is recorded.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let recorded = hub.record_start(
        account,
        Running {
            kind: AccountKind::DiscordBot,
            generation,
            sink: sink(),
            stop,
            listening: true,
            task: Some(task),
            telegram_bot: None,
            chats: None,
        },
    );
    assert!(recorded.is_err(), "not recorded as running");
    assert!(!hub.is_listening(account));
    assert!(!hub.may_start(account), "paused before the next start");
}
