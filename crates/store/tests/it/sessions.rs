//! Sign-in, lockout, sessions and API tokens.

use crate::harness::{PASSWORD, TestDb};
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_store::Error;
use zhongshu_store::audit::AuditFilter;
use zhongshu_store::sessions::{SessionState, SignInPolicy};

store_tests!(
    the_right_password_opens_a_session_with_the_users_roles,
    five_wrong_passwords_lock_the_account_even_against_the_right_one,
    failed_sign_ins_and_the_lockout_are_in_the_audit_log,
    an_unknown_username_is_refused_like_a_wrong_password,
    an_idle_session_expires_and_its_row_is_deleted,
    ending_all_sessions_ends_every_session_of_the_user,
    an_api_token_resolves_to_its_owner_and_an_unknown_one_to_nobody,
);

fn unauthenticated(err: Error) -> String {
    match err {
        Error::Unauthenticated(message) => message,
        other => panic!("expected Error::Unauthenticated, got {other:?}"),
    }
}

async fn the_right_password_opens_a_session_with_the_users_roles(db: &TestDb) {
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县委督查室").await;
    let id = db
        .user(unit, "ducha", &[Role::Supervisor, Role::Leader])
        .await;
    let session = db
        .store
        .sign_in(
            " ducha ",
            PASSWORD,
            Some("10.0.0.7".into()),
            Some("Firefox".into()),
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(session.token.len(), 64);
    assert!(!session.must_change_password);
    let SessionState::Active {
        viewer,
        must_change_password,
    } = db.store.session(&session.token, &policy).await.unwrap()
    else {
        panic!("a new session does not resolve");
    };
    assert!(!must_change_password);
    assert_eq!(viewer.user_id, Some(id));
    assert_eq!(viewer.username, "ducha");
    assert_eq!(viewer.unit_id, Some(unit));
    assert_eq!(viewer.unit_name, "县委督查室");
    assert_eq!(viewer.roles(), &[Role::Leader, Role::Supervisor]);
    let sessions = db.store.my_sessions(&viewer).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].client_addr.as_deref(), Some("10.0.0.7"));
    // Only the token's hash is stored.
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = '{}'",
            session.token
        ))
        .await,
        0
    );
    // A token that was never issued resolves to nothing.
    assert!(matches!(
        db.store.session(&"0".repeat(64), &policy).await.unwrap(),
        SessionState::Unknown
    ));
    // Signing out ends it.
    db.store.end_session(&viewer, &session.token).await.unwrap();
    assert!(matches!(
        db.store.session(&session.token, &policy).await.unwrap(),
        SessionState::Unknown
    ));
}

async fn five_wrong_passwords_lock_the_account_even_against_the_right_one(db: &TestDb) {
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let id = db.user(unit, "caizheng", &[]).await;
    for attempt in 1..=4 {
        let message = unauthenticated(
            db.store
                .sign_in("caizheng", "Wrong#Pass1", None, None, &policy)
                .await
                .unwrap_err(),
        );
        assert!(
            message.contains("用户名或密码不正确"),
            "{attempt}: {message}"
        );
        assert!(
            message.contains(&format!("再错{}次", 5 - attempt)),
            "{attempt}: {message}"
        );
    }
    let message = unauthenticated(
        db.store
            .sign_in("caizheng", "Wrong#Pass1", None, None, &policy)
            .await
            .unwrap_err(),
    );
    assert!(message.contains("已锁定"), "{message}");
    let console = Viewer::console();
    let user = db
        .store
        .get_user(console.as_user_lister().unwrap(), id)
        .await
        .unwrap();
    assert!(
        user.locked_until
            .is_some_and(|t| t > zhongshu_store::now_ms())
    );

    let message = unauthenticated(
        db.store
            .sign_in("caizheng", PASSWORD, None, None, &policy)
            .await
            .expect_err("the right password while locked"),
    );
    assert!(message.contains("锁定"), "{message}");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM sessions").await, 0);

    // The system administrator lifts the lock; the right password works again.
    db.store
        .unlock_user(console.as_sys_admin().unwrap(), id)
        .await
        .unwrap();
    db.store
        .sign_in("caizheng", PASSWORD, None, None, &policy)
        .await
        .unwrap();
}

async fn failed_sign_ins_and_the_lockout_are_in_the_audit_log(db: &TestDb) {
    let policy = SignInPolicy::default();
    let console = Viewer::console();
    let auditor = console.as_audit_admin().unwrap();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let id = db.user(unit, "caizheng", &[]).await;
    for _ in 0..5 {
        let _ = db
            .store
            .sign_in(
                "caizheng",
                "Wrong#Pass1",
                Some("10.1.2.3".into()),
                None,
                &policy,
            )
            .await
            .unwrap_err();
    }
    let _ = db
        .store
        .sign_in("caizheng", PASSWORD, None, None, &policy)
        .await
        .unwrap_err();
    let _ = db
        .store
        .sign_in("nobody", PASSWORD, None, None, &policy)
        .await
        .unwrap_err();

    let failed = db
        .store
        .list_audit(
            auditor,
            &AuditFilter {
                code: Some(AuditCode::LoginFailed.code()),
                ..AuditFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(failed.len(), 7, "5 wrong, 1 while locked, 1 unknown user");
    assert!(
        failed
            .iter()
            .all(|e| e.code == 1001 && e.label == "登录失败")
    );
    assert!(failed.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(failed[0].target, "username:nobody");
    assert!(failed[1].after.as_deref().unwrap().contains("账号已锁定"));
    let target = format!("user:{id}");
    assert_eq!(failed.iter().filter(|e| e.target == target).count(), 6);
    assert!(
        failed[2..]
            .iter()
            .all(|e| e.client_addr.as_deref() == Some("10.1.2.3"))
    );

    let locked = db
        .store
        .list_audit(
            auditor,
            &AuditFilter {
                code: Some(AuditCode::AccountLocked.code()),
                ..AuditFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].code, 1002);
    assert_eq!(locked[0].target, target);
    assert_eq!(locked[0].actor_name, "caizheng");
    // The lockout is recorded right after the fifth failure, in the same change.
    assert_eq!(locked[0].id, failed[2].id + 1);
    let none = db
        .store
        .list_audit(
            auditor,
            &AuditFilter {
                code: Some(AuditCode::LoginSucceeded.code()),
                ..AuditFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn an_unknown_username_is_refused_like_a_wrong_password(db: &TestDb) {
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    db.user(unit, "caizheng", &[]).await;
    let message = unauthenticated(
        db.store
            .sign_in("nobody", PASSWORD, None, None, &policy)
            .await
            .unwrap_err(),
    );
    assert_eq!(message, "用户名或密码不正确");
    let wrong = unauthenticated(
        db.store
            .sign_in("caizheng", "Wrong#Pass1", None, None, &policy)
            .await
            .unwrap_err(),
    );
    assert!(wrong.starts_with(&message), "{wrong}");
}

async fn an_idle_session_expires_and_its_row_is_deleted(db: &TestDb) {
    let policy = SignInPolicy {
        idle_minutes: 0,
        ..SignInPolicy::default()
    };
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    db.user(unit, "caizheng", &[]).await;
    let session = db
        .store
        .sign_in("caizheng", PASSWORD, None, None, &policy)
        .await
        .unwrap();
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM sessions").await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(matches!(
        db.store.session(&session.token, &policy).await.unwrap(),
        SessionState::Expired
    ));
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM sessions").await, 0);
    assert!(matches!(
        db.store.session(&session.token, &policy).await.unwrap(),
        SessionState::Unknown
    ));

    // A session past its lifetime expires however active it is.
    let short = SignInPolicy {
        max_session_hours: 0,
        ..SignInPolicy::default()
    };
    let session = db
        .store
        .sign_in("caizheng", PASSWORD, None, None, &short)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(matches!(
        db.store.session(&session.token, &short).await.unwrap(),
        SessionState::Expired
    ));
}

async fn ending_all_sessions_ends_every_session_of_the_user(db: &TestDb) {
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    db.user(unit, "caizheng", &[]).await;
    db.user(unit, "kuaiji", &[]).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(
            db.store
                .sign_in("caizheng", PASSWORD, None, None, &policy)
                .await
                .unwrap()
                .token,
        );
    }
    let other = db
        .store
        .sign_in("kuaiji", PASSWORD, None, None, &policy)
        .await
        .unwrap()
        .token;
    let SessionState::Active { viewer, .. } = db.store.session(&tokens[0], &policy).await.unwrap()
    else {
        panic!("session not active");
    };
    assert_eq!(db.store.my_sessions(&viewer).await.unwrap().len(), 3);
    assert_eq!(db.store.end_all_sessions(&viewer).await.unwrap(), 3);
    for token in &tokens {
        assert!(matches!(
            db.store.session(token, &policy).await.unwrap(),
            SessionState::Unknown
        ));
    }
    assert!(db.store.my_sessions(&viewer).await.unwrap().is_empty());
    assert!(matches!(
        db.store.session(&other, &policy).await.unwrap(),
        SessionState::Active { .. }
    ));
}

async fn an_api_token_resolves_to_its_owner_and_an_unknown_one_to_nobody(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let unit = db.unit(None, "县委信息科").await;
    let id = db.user(unit, "xinxi", &[Role::Editor]).await;
    let (_token_id, token) = db
        .store
        .create_token(console.as_sys_admin().unwrap(), id, " 报送接口 ")
        .await
        .unwrap();
    assert_eq!(token.len(), 64);
    let viewer = db
        .store
        .token_viewer(&token)
        .await
        .unwrap()
        .expect("a token just created resolves");
    assert_eq!(viewer.user_id, Some(id));
    assert_eq!(viewer.username, "xinxi");
    assert_eq!(viewer.roles(), &[Role::Editor]);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM api_tokens WHERE last_used_at IS NOT NULL")
            .await,
        1
    );
    assert!(
        db.store
            .token_viewer("no-such-token")
            .await
            .unwrap()
            .is_none()
    );
    let mut wrong = token.clone();
    wrong.replace_range(0..1, if token.starts_with('0') { "1" } else { "0" });
    assert!(db.store.token_viewer(&wrong).await.unwrap().is_none());
    // A disabled account's token resolves to nobody.
    db.store
        .set_disabled(console.as_sys_admin().unwrap(), id, true)
        .await
        .unwrap();
    assert!(db.store.token_viewer(&token).await.unwrap().is_none());
}
