use crate::crypto::Keyring;
use crate::testing::test_database;
use crate::{Database, NewAccount, NewDestination, NewPair, PairChanges, StoreError};
use relay_core::credentials::Email;
use relay_core::{AccountId, AccountKind, AccountState, PairId, PlanId, Priority, Role, UserId};

pub(crate) async fn user(db: &Database, email: &str) -> UserId {
    db.create_user(&Email::parse(email).expect("email"), "h", Role::User)
        .await
        .expect("user")
        .id
}

pub(crate) async fn account(
    db: &Database,
    owner: UserId,
    kind: AccountKind,
    external: &str,
) -> AccountId {
    db.create_account(
        &Keyring::development(),
        &NewAccount {
            owner_id: owner,
            kind,
            display_name: "acc",
            external_id: external,
            secret: Some(b"secret"),
            state: AccountState::Connected,
        },
    )
    .await
    .expect("account")
    .id
}

pub(crate) fn dest(account: AccountId, chat: Option<&str>) -> NewDestination {
    NewDestination {
        account_id: account,
        chat_id: chat.map(str::to_owned),
        show_author: true,
        rules: None,
    }
}

pub(crate) fn new_pair(
    source: AccountId,
    chat: &str,
    destinations: Vec<NewDestination>,
) -> NewPair {
    NewPair {
        name: "news".into(),
        source_account_id: source,
        source_chat_id: chat.into(),
        destinations,
        bridge: false,
        rules: serde_json::json!({}),
    }
}

async fn subscribe(db: &Database, owner: UserId, plan: &str, status: &str) {
    sqlx::query("INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1, $2, $3)")
        .bind(owner.as_uuid())
        .bind(plan)
        .bind(status)
        .execute(db.pool())
        .await
        .expect("subscription");
}

#[tokio::test]
async fn pairs_are_created_read_and_scoped_to_their_owner() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    subscribe(&db, alice, "pro", "active").await;
    let tg = account(&db, alice, AccountKind::TelegramBot, "1").await;
    let hook = account(&db, alice, AccountKind::DiscordWebhook, "2").await;
    let bobs = account(&db, bob, AccountKind::DiscordBot, "3").await;

    let pair = db
        .create_pair(
            alice,
            &new_pair(tg, "-1001", vec![dest(hook, None), dest(tg, Some("-1002"))]),
        )
        .await
        .expect("create");
    assert_eq!(pair.owner_id, alice);
    assert!(pair.enabled);
    assert_eq!(pair.paused_at, None);
    let positions: Vec<_> = pair
        .destinations
        .iter()
        .map(|d| (d.account_id, d.chat_id.clone(), d.position))
        .collect();
    assert_eq!(
        positions,
        vec![(hook, None, 0), (tg, Some("-1002".to_owned()), 1)]
    );
    assert_eq!(db.pair(alice, pair.id).await.expect("get"), pair);
    assert_eq!(db.pairs(alice).await.expect("list"), vec![pair.clone()]);
    assert_eq!(db.count_pairs(alice).await.expect("count"), 1);

    // Bob sees nothing of it and changes nothing.
    assert!(matches!(
        db.pair(bob, pair.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(db.pairs(bob).await.expect("list").is_empty());
    assert!(matches!(
        db.update_pair(
            bob,
            pair.id,
            &PairChanges {
                enabled: Some(false),
                ..Default::default()
            }
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.set_pair_paused(bob, pair.id, true).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.delete_pair(bob, pair.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.pair(alice, PairId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.pair(alice, pair.id).await.expect("untouched"), pair);

    // Another tenant's account, as source or destination, is refused by the foreign keys,
    // and nothing is left behind.
    let err = db
        .create_pair(alice, &new_pair(bobs, "1", vec![dest(tg, Some("5"))]))
        .await
        .expect_err("Bob's source");
    assert!(
        matches!(err, StoreError::NotOwned("source account")),
        "{err}"
    );
    let err = db
        .create_pair(alice, &new_pair(tg, "1", vec![dest(bobs, Some("5"))]))
        .await
        .expect_err("Bob's destination");
    assert!(
        matches!(err, StoreError::NotOwned("destination account")),
        "{err}"
    );
    let err = db
        .update_pair(
            alice,
            pair.id,
            &PairChanges {
                destinations: Some(vec![dest(bobs, Some("5"))]),
                ..Default::default()
            },
        )
        .await
        .expect_err("Bob's destination on update");
    assert!(matches!(err, StoreError::NotOwned("destination account")));
    assert_eq!(db.pairs(alice).await.expect("list"), vec![pair.clone()]);

    let err = db
        .create_pair(
            alice,
            &new_pair(tg, "1", vec![dest(tg, Some("5")), dest(tg, Some("5"))]),
        )
        .await
        .expect_err("twice");
    assert!(matches!(err, StoreError::Duplicate("destination")));

    db.delete_pair(alice, pair.id).await.expect("delete");
    assert!(db.pairs(alice).await.expect("list").is_empty());
}

#[tokio::test]
async fn updating_destinations_keeps_the_ids_of_those_that_stay() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    subscribe(&db, alice, "pro", "active").await;
    let bot = account(&db, alice, AccountKind::DiscordBot, "1").await;
    let tg = account(&db, alice, AccountKind::TelegramBot, "2").await;
    let pair = db
        .create_pair(
            alice,
            &new_pair(
                bot,
                "100000000000000001",
                vec![
                    dest(bot, Some("100000000000000002")),
                    dest(tg, Some("-100")),
                    dest(tg, Some("-200")),
                ],
            ),
        )
        .await
        .expect("create");
    let id_of = |chat: &str| {
        pair.destinations
            .iter()
            .find(|d| d.chat_id.as_deref() == Some(chat))
            .expect("destination")
            .id
    };
    let before = pair.updated_at;
    let changed = db
        .update_pair(
            alice,
            pair.id,
            &PairChanges {
                name: Some("renamed".into()),
                source_chat_id: Some("100000000000000009".into()),
                destinations: Some(vec![
                    dest(tg, Some("-200")),
                    dest(tg, Some("-300")),
                    dest(bot, Some("100000000000000002")),
                ]),
                enabled: Some(false),
                bridge: Some(true),
                rules: Some(serde_json::json!({"delay_seconds": 5})),
                pause_mode: Some("hold".into()),
            },
        )
        .await
        .expect("update");
    assert_eq!(changed.name, "renamed");
    assert_eq!(changed.rules, serde_json::json!({"delay_seconds": 5}));
    assert_eq!(changed.pause_mode, "hold");
    assert_eq!(changed.source_chat_id, "100000000000000009");
    assert!(!changed.enabled);
    assert!(changed.bridge);
    assert!(changed.updated_at >= before);
    let got: Vec<_> = changed
        .destinations
        .iter()
        .map(|d| (d.chat_id.clone().expect("chat"), d.position))
        .collect();
    assert_eq!(
        got,
        vec![
            ("-200".to_owned(), 0),
            ("-300".to_owned(), 1),
            ("100000000000000002".to_owned(), 2)
        ]
    );
    assert_eq!(changed.destinations[0].id, id_of("-200"));
    assert_eq!(changed.destinations[2].id, id_of("100000000000000002"));
    assert!(
        pair.destinations
            .iter()
            .all(|d| d.id != changed.destinations[1].id),
        "a new destination has a new id"
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pair_destinations WHERE pair_id = $1")
        .bind(pair.id.as_uuid())
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(left, 3, "-100 is gone");

    // No change at all is the pair as it is.
    let same = db
        .update_pair(alice, pair.id, &PairChanges::default())
        .await
        .expect("no change");
    assert_eq!(same, changed, "nothing changed, not even updated_at");
}

#[tokio::test]
async fn plans_limit_pairs_and_destinations() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let tg = account(&db, alice, AccountKind::TelegramBot, "1").await;

    let limits = db.plan_of(alice).await.expect("plan");
    assert_eq!(limits.plan, PlanId::Free);
    assert_eq!(limits.priority, Priority::Low);
    assert_eq!((limits.max_pairs, limits.max_destinations_per_pair), (2, 1));

    let err = db
        .create_pair(
            alice,
            &new_pair(tg, "1", vec![dest(tg, Some("5")), dest(tg, Some("6"))]),
        )
        .await
        .expect_err("two destinations on Free");
    assert!(matches!(
        err,
        StoreError::PlanLimit {
            plan: PlanId::Free,
            what: "destinations per pair",
            limit: 1
        }
    ));
    for chat in ["1", "2"] {
        db.create_pair(alice, &new_pair(tg, chat, vec![dest(tg, Some("5"))]))
            .await
            .expect("within the plan");
    }
    let err = db
        .create_pair(alice, &new_pair(tg, "3", vec![dest(tg, Some("5"))]))
        .await
        .expect_err("third pair on Free");
    assert!(matches!(
        err,
        StoreError::PlanLimit {
            plan: PlanId::Free,
            what: "pairs",
            limit: 2
        }
    ));
    assert_eq!(db.count_pairs(alice).await.expect("count"), 2);

    // A canceled subscription is Free; a past-due one still counts.
    subscribe(&db, alice, "elite", "canceled").await;
    assert_eq!(db.plan_of(alice).await.expect("plan").plan, PlanId::Free);
    subscribe(&db, alice, "pro", "past_due").await;
    let pro = db.plan_of(alice).await.expect("plan");
    assert_eq!(pro.plan, PlanId::Pro);
    assert_eq!(pro.priority, Priority::Medium);
    assert_eq!((pro.max_pairs, pro.max_destinations_per_pair), (20, 5));
    db.create_pair(alice, &new_pair(tg, "3", vec![dest(tg, Some("5"))]))
        .await
        .expect("room on Pro");
}

#[tokio::test]
async fn the_listener_finds_enabled_unpaused_routes_with_the_owners_priority() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    subscribe(&db, alice, "elite", "active").await;
    let alices_tg = account(&db, alice, AccountKind::TelegramUser, "42").await;
    let hook = account(&db, alice, AccountKind::DiscordWebhook, "7").await;
    let bobs_tg = account(&db, bob, AccountKind::TelegramBot, "43").await;

    let first = db
        .create_pair(
            alice,
            &new_pair(
                alices_tg,
                "-100",
                vec![dest(hook, None), dest(alices_tg, Some("-300"))],
            ),
        )
        .await
        .expect("pair");
    let second = db
        .create_pair(
            alice,
            &new_pair(alices_tg, "-100", vec![dest(alices_tg, Some("-400"))]),
        )
        .await
        .expect("pair");
    let other_chat = db
        .create_pair(alice, &new_pair(alices_tg, "-200", vec![dest(hook, None)]))
        .await
        .expect("pair");
    // Bob's bot reads the same chat id; it is his own route.
    db.create_pair(
        bob,
        &new_pair(bobs_tg, "-100", vec![dest(bobs_tg, Some("-1"))]),
    )
    .await
    .expect("pair");

    let routes = db
        .routes_for_source(alices_tg, "-100")
        .await
        .expect("routes");
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[0].pair_id, first.id);
    assert_eq!(routes[0].owner_id, alice);
    assert_eq!(routes[0].priority, Priority::High);
    let kinds: Vec<_> = routes[0]
        .destinations
        .iter()
        .map(|d| (d.id, d.account_kind, d.chat_id.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (first.destinations[0].id, AccountKind::DiscordWebhook, None),
            (
                first.destinations[1].id,
                AccountKind::TelegramUser,
                Some("-300".to_owned())
            ),
        ]
    );
    assert_eq!(routes[1].pair_id, second.id);
    let bobs_routes = db.routes_for_source(bobs_tg, "-100").await.expect("routes");
    assert_eq!(bobs_routes.len(), 1);
    assert_eq!(bobs_routes[0].priority, Priority::Low);

    assert_eq!(
        db.watched_chats(alices_tg).await.expect("chats"),
        vec!["-100".to_owned(), "-200".to_owned()]
    );

    // Paused and disabled pairs do not run.
    db.set_pair_paused(alice, first.id, true)
        .await
        .expect("pause");
    db.update_pair(
        alice,
        other_chat.id,
        &PairChanges {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .expect("disable");
    let routes = db
        .routes_for_source(alices_tg, "-100")
        .await
        .expect("routes");
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].pair_id, second.id);
    assert_eq!(
        db.watched_chats(alices_tg).await.expect("chats"),
        vec!["-100".to_owned()]
    );

    // Pausing twice keeps the first time; resuming clears it.
    let paused = db.pair(alice, first.id).await.expect("pair");
    let at = paused.paused_at.expect("paused");
    let again = db
        .set_pair_paused(alice, first.id, true)
        .await
        .expect("pause");
    assert_eq!(again.paused_at, Some(at));
    let resumed = db
        .set_pair_paused(alice, first.id, false)
        .await
        .expect("resume");
    assert_eq!(resumed.paused_at, None);
    assert_eq!(
        db.routes_for_source(alices_tg, "-100")
            .await
            .expect("routes")
            .len(),
        2
    );

    // A banned owner's pairs stop.
    sqlx::query("UPDATE users SET status = 'banned' WHERE id = $1")
        .bind(bob.as_uuid())
        .execute(db.pool())
        .await
        .expect("ban");
    assert!(
        db.routes_for_source(bobs_tg, "-100")
            .await
            .expect("routes")
            .is_empty()
    );
    assert!(db.watched_chats(bobs_tg).await.expect("chats").is_empty());
}

#[tokio::test]
async fn a_downgrade_pauses_the_newest_pairs_over_the_limit_with_a_reason() {
    let db = test_database().await.expect("db");
    let owner = user(&db, "down@example.com").await;
    let bot = account(&db, owner, AccountKind::DiscordBot, "7").await;
    subscribe(&db, owner, "pro", "active").await;
    let mut pairs = Vec::new();
    for chat in [
        "100000000000000011",
        "100000000000000012",
        "100000000000000013",
    ] {
        let pair = db
            .create_pair(
                owner,
                &new_pair(bot, chat, vec![dest(bot, Some("100000000000000099"))]),
            )
            .await
            .expect("pair");
        pairs.push(pair.id);
    }
    assert!(
        db.pause_pairs_over_limit(Some(owner))
            .await
            .expect("none")
            .is_empty()
    );
    sqlx::query("UPDATE subscriptions SET status = 'expired' WHERE user_id = $1")
        .bind(owner.as_uuid())
        .execute(db.pool())
        .await
        .expect("expire");
    // Free allows 2: the newest is paused, the two oldest run on.
    assert_eq!(
        db.pause_pairs_over_limit(None).await.expect("paused"),
        vec![pairs[2]]
    );
    let newest = db.pair(owner, pairs[2]).await.expect("pair");
    assert!(newest.paused_at.is_some());
    assert!(
        newest
            .paused_reason
            .as_deref()
            .is_some_and(|r| r.contains("Free plan's limit of 2 pairs")),
        "{:?}",
        newest.paused_reason
    );
    assert!(
        db.pair(owner, pairs[0])
            .await
            .expect("pair")
            .paused_at
            .is_none()
    );
    assert!(
        db.pair(owner, pairs[1])
            .await
            .expect("pair")
            .paused_at
            .is_none()
    );
    assert!(
        db.pause_pairs_over_limit(None)
            .await
            .expect("again")
            .is_empty(),
        "once"
    );
}
