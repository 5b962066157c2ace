use crate::testing::test_database;
use crate::{Database, RevokeReason, Rotation};
use chrono::{Duration, Utc};
use relay_core::credentials::Email;
use relay_core::{Role, UserId};

async fn user(db: &Database, email: &str) -> UserId {
    let email = Email::parse(email).expect("email");
    db.create_user(&email, "hash", Role::User)
        .await
        .expect("user")
        .id
}

fn hash(n: u8) -> [u8; 32] {
    [n; 32]
}

#[tokio::test]
async fn rotation_moves_the_family_forward_and_reuse_revokes_it() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let family = db
        .start_refresh_family(alice, &hash(1), Utc::now() + Duration::days(1), "hash")
        .await
        .expect("query")
        .expect("family");

    let rotated = db
        .rotate_refresh_token(&hash(1), &hash(2))
        .await
        .expect("rotate");
    assert_eq!(
        rotated,
        Rotation::Rotated {
            user_id: alice,
            family_id: family
        }
    );
    let rotated = db
        .rotate_refresh_token(&hash(2), &hash(3))
        .await
        .expect("rotate");
    assert_eq!(
        rotated,
        Rotation::Rotated {
            user_id: alice,
            family_id: family
        }
    );

    // Token 1 was used already: someone else holds it. The family dies, token 3 included.
    let reused = db
        .rotate_refresh_token(&hash(1), &hash(9))
        .await
        .expect("reuse");
    assert_eq!(
        reused,
        Rotation::ReuseDetected {
            user_id: alice,
            family_id: family
        }
    );
    assert_eq!(
        db.rotate_refresh_token(&hash(3), &hash(4))
            .await
            .expect("newest"),
        Rotation::Invalid
    );
    assert!(!db.refresh_family_is_live(family).await.expect("live"));
    assert_eq!(
        db.rotate_refresh_token(&hash(77), &hash(78))
            .await
            .expect("unknown"),
        Rotation::Invalid
    );
}

#[tokio::test]
async fn expired_families_and_other_users_families_do_not_rotate_or_revoke() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    db.start_refresh_family(alice, &hash(1), Utc::now() - Duration::seconds(1), "hash")
        .await
        .expect("query")
        .expect("family");
    assert_eq!(
        db.rotate_refresh_token(&hash(1), &hash(2))
            .await
            .expect("expired"),
        Rotation::Invalid
    );

    let bobs = db
        .start_refresh_family(bob, &hash(5), Utc::now() + Duration::days(1), "hash")
        .await
        .expect("query")
        .expect("family");
    assert!(
        !db.revoke_refresh_family(alice, bobs, RevokeReason::Logout)
            .await
            .expect("revoke"),
        "not alice's"
    );
    assert!(db.refresh_family_is_live(bobs).await.expect("live"));
    assert!(
        db.revoke_refresh_family(bob, bobs, RevokeReason::Logout)
            .await
            .expect("revoke")
    );
    assert!(!db.refresh_family_is_live(bobs).await.expect("live"));
}

#[tokio::test]
async fn revoking_other_families_keeps_the_current_one() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let later = Utc::now() + Duration::days(1);
    let phone = db
        .start_refresh_family(alice, &hash(1), later, "hash")
        .await
        .expect("query")
        .expect("f1");
    let laptop = db
        .start_refresh_family(alice, &hash(2), later, "hash")
        .await
        .expect("query")
        .expect("f2");
    let tablet = db
        .start_refresh_family(alice, &hash(3), later, "hash")
        .await
        .expect("query")
        .expect("f3");
    let revoked = db
        .change_password(alice, "new hash", laptop)
        .await
        .expect("change");
    assert_eq!(revoked, 2);
    assert!(db.refresh_family_is_live(laptop).await.expect("live"));
    assert!(!db.refresh_family_is_live(phone).await.expect("live"));
    assert!(!db.refresh_family_is_live(tablet).await.expect("live"));
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_never_both_succeed() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    db.start_refresh_family(alice, &hash(1), Utc::now() + Duration::days(1), "hash")
        .await
        .expect("query")
        .expect("family");
    let (one, two, three) = (hash(1), hash(2), hash(3));
    let (a, b) = tokio::join!(
        db.rotate_refresh_token(&one, &two),
        db.rotate_refresh_token(&one, &three)
    );
    let outcomes = [a.expect("a"), b.expect("b")];
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, Rotation::Rotated { .. }))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Rotation::ReuseDetected { .. })),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn duplicate_emails_are_reported_by_field() {
    let db = test_database().await.expect("db");
    user(&db, "alice@example.com").await;
    let email = Email::parse("ALICE@example.com").expect("email");
    let err = db
        .create_user(&email, "hash", Role::User)
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, crate::StoreError::Duplicate("email")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_login_checked_against_an_old_password_starts_no_session() {
    let db = test_database().await.expect("db");
    let alice = user(&db, "alice@example.com").await;
    let later = Utc::now() + Duration::days(1);
    let keep = db
        .start_refresh_family(alice, &hash(1), later, "hash")
        .await
        .expect("query")
        .expect("family");
    db.change_password(alice, "new hash", keep)
        .await
        .expect("change");
    // A login that verified "hash" before the change lands after it: refused.
    assert_eq!(
        db.start_refresh_family(alice, &hash(2), later, "hash")
            .await
            .expect("query"),
        None
    );
    assert!(
        db.start_refresh_family(alice, &hash(3), later, "new hash")
            .await
            .expect("query")
            .is_some()
    );
    assert!(
        db.refresh_family_is_live(keep).await.expect("live"),
        "the session that changed it goes on"
    );
}
