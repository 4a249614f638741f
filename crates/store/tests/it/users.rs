//! Accounts, roles and passwords.

use crate::harness::{PASSWORD, TestDb, invalid_fields, new_user};
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_domain::ids::UserId;
use zhongshu_domain::password::PasswordPolicy;
use zhongshu_store::Error;
use zhongshu_store::sessions::{SessionState, SignInPolicy};
use zhongshu_store::users::UserFilter;

store_tests!(
    roles_are_granted_at_creation_only_with_the_security_administrators_proof,
    a_password_that_breaks_the_policy_is_refused_on_the_password_field,
    a_duplicate_username_is_refused,
    setting_roles_from_a_stale_copy_is_refused,
    setting_roles_ends_the_users_sessions,
    a_reset_password_signs_in_and_must_be_changed,
);

/// A signed-in system administrator who is not also the security administrator.
fn sys_admin_only() -> Viewer {
    Viewer::user(
        UserId::from_db(999),
        "xitong".into(),
        "刘志刚".into(),
        zhongshu_domain::ids::UnitId::from_db(1),
        "县大数据中心".into(),
        vec![Role::SysAdmin],
    )
}

async fn roles_are_granted_at_creation_only_with_the_security_administrators_proof(db: &TestDb) {
    let console = Viewer::console();
    let lister = console.as_user_lister().unwrap();
    db.region().await;
    let unit = db.unit(None, "县委督查室").await;

    // The console holds both proofs.
    let id = db
        .store
        .create_user(
            console.as_sys_admin().unwrap(),
            Some(console.as_security_admin().unwrap()),
            new_user(unit, "ducha", &[Role::Supervisor, Role::Liaison]),
            &PasswordPolicy::default(),
        )
        .await
        .unwrap();
    let user = db.store.get_user(lister, id).await.unwrap();
    assert_eq!(user.roles, vec![Role::Supervisor, Role::Liaison]);
    assert_eq!(user.unit_id, unit);
    assert_eq!(user.unit_name, "县委督查室");

    // A system administrator alone has no proof to give.
    let sys = sys_admin_only();
    assert!(sys.as_security_admin().is_err());
    let events = db.audit_count().await;
    let err = db
        .store
        .create_user(
            sys.as_sys_admin().unwrap(),
            None,
            new_user(unit, "ducha2", &[Role::Supervisor]),
            &PasswordPolicy::default(),
        )
        .await
        .expect_err("roles granted without the security administrator");
    assert_eq!(invalid_fields(&err), vec!["roles"]);
    assert!(db.store.find_user(lister, "ducha2").await.is_err());
    assert_eq!(db.audit_count().await, events);
    // Without roles the system administrator may create the account.
    let plain = db
        .store
        .create_user(
            sys.as_sys_admin().unwrap(),
            None,
            new_user(unit, "ducha2", &[]),
            &PasswordPolicy::default(),
        )
        .await
        .unwrap();
    assert!(
        db.store
            .get_user(lister, plain)
            .await
            .unwrap()
            .roles
            .is_empty()
    );
    let supervisors = db
        .store
        .list_users(
            lister,
            &UserFilter {
                role: Some(Role::Supervisor),
                ..UserFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(
        supervisors
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        vec!["ducha"]
    );
}

async fn a_password_that_breaks_the_policy_is_refused_on_the_password_field(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let users = db.count("SELECT COUNT(*) AS n FROM users").await;
    for (password, reason) in [
        ("Ab1!", "至少需要8个字符"),
        ("abcdefgh12", "至少3类"),
        ("Caizheng#2026", "不能包含用户名"),
    ] {
        let mut new = new_user(unit, "caizheng", &[]);
        new.password = password.to_owned();
        let err = db
            .store
            .create_user(
                console.as_sys_admin().unwrap(),
                None,
                new,
                &PasswordPolicy::default(),
            )
            .await
            .expect_err("a weak password");
        assert_eq!(invalid_fields(&err), vec!["password"], "{password}");
        assert!(err.to_string().contains(reason), "{password}: {err}");
    }
    // Several bad fields are reported together, each by its field.
    let mut new = new_user(unit, "Bad Name", &[]);
    new.password = "short".to_owned();
    new.display_name = " ".to_owned();
    let err = db
        .store
        .create_user(
            console.as_sys_admin().unwrap(),
            None,
            new,
            &PasswordPolicy::default(),
        )
        .await
        .unwrap_err();
    let fields = invalid_fields(&err);
    assert!(fields.contains(&"username"), "{fields:?}");
    assert!(fields.contains(&"display_name"), "{fields:?}");
    assert!(fields.contains(&"password"), "{fields:?}");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM users").await, users);
}

async fn a_duplicate_username_is_refused(db: &TestDb) {
    let console = Viewer::console();
    let lister = console.as_user_lister().unwrap();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let first = db.user(unit, "caizheng", &[]).await;
    let events = db.audit_count().await;
    let mut again = new_user(unit, "caizheng", &[]);
    again.display_name = "另一个人".to_owned();
    let err = db
        .store
        .create_user(
            console.as_sys_admin().unwrap(),
            None,
            again,
            &PasswordPolicy::default(),
        )
        .await
        .expect_err("a second account of the same username");
    assert_eq!(invalid_fields(&err), vec!["username"]);
    assert!(err.to_string().contains("已存在"), "{err}");
    let found = db.store.find_user(lister, "caizheng").await.unwrap();
    assert_eq!(found.id, first);
    assert_eq!(found.display_name, "caizheng同志");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM users").await, 1);
    assert_eq!(db.audit_count().await, events);
}

async fn setting_roles_from_a_stale_copy_is_refused(db: &TestDb) {
    let console = Viewer::console();
    let lister = console.as_user_lister().unwrap();
    let security = console.as_security_admin().unwrap();
    db.region().await;
    let unit = db.unit(None, "县委办公室").await;
    let id = db.user(unit, "xinxi", &[Role::Editor]).await;
    let copy = db.store.get_user(lister, id).await.unwrap();

    db.store
        .set_roles(
            security,
            id,
            &[Role::Editor, Role::DutyOfficer],
            copy.version,
        )
        .await
        .unwrap();
    let events = db.audit_count().await;
    let err = db
        .store
        .set_roles(security, id, &[Role::Leader], copy.version)
        .await
        .expect_err("roles set from the copy read before the last change");
    assert!(matches!(err, Error::StaleVersion), "{err:?}");
    let now = db.store.get_user(lister, id).await.unwrap();
    assert_eq!(now.roles, vec![Role::Editor, Role::DutyOfficer]);
    assert_eq!(now.version, copy.version + 1);
    assert_eq!(db.audit_count().await, events);
}

async fn setting_roles_ends_the_users_sessions(db: &TestDb) {
    let console = Viewer::console();
    let lister = console.as_user_lister().unwrap();
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县委办公室").await;
    let id = db.user(unit, "xinxi", &[Role::Editor]).await;
    let other = db.user(unit, "zhiban", &[Role::DutyOfficer]).await;
    let session = db
        .store
        .sign_in("xinxi", PASSWORD, None, None, &policy)
        .await
        .unwrap();
    let bystander = db
        .store
        .sign_in("zhiban", PASSWORD, None, None, &policy)
        .await
        .unwrap();
    assert!(matches!(
        db.store.session(&session.token, &policy).await.unwrap(),
        SessionState::Active { .. }
    ));

    let version = db.store.get_user(lister, id).await.unwrap().version;
    db.store
        .set_roles(
            console.as_security_admin().unwrap(),
            id,
            &[Role::Leader],
            version,
        )
        .await
        .unwrap();
    assert!(matches!(
        db.store.session(&session.token, &policy).await.unwrap(),
        SessionState::Unknown
    ));
    // Someone else's session is untouched.
    let SessionState::Active { viewer, .. } =
        db.store.session(&bystander.token, &policy).await.unwrap()
    else {
        panic!("the other user's session ended too");
    };
    assert_eq!(viewer.user_id, Some(other));
    // Signing in again gives the new roles.
    let again = db
        .store
        .sign_in("xinxi", PASSWORD, None, None, &policy)
        .await
        .unwrap();
    let SessionState::Active { viewer, .. } =
        db.store.session(&again.token, &policy).await.unwrap()
    else {
        panic!("a fresh session is not active");
    };
    assert_eq!(viewer.roles(), &[Role::Leader]);
}

async fn a_reset_password_signs_in_and_must_be_changed(db: &TestDb) {
    let console = Viewer::console();
    let lister = console.as_user_lister().unwrap();
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let id = db.user(unit, "caizheng", &[]).await;
    let old_session = db
        .store
        .sign_in("caizheng", PASSWORD, None, None, &policy)
        .await
        .unwrap();
    assert!(!old_session.must_change_password);

    let password = db
        .store
        .reset_password(console.as_sys_admin().unwrap(), id)
        .await
        .unwrap();
    assert!(
        PasswordPolicy::default()
            .problems(&password, "caizheng")
            .is_empty(),
        "the reset password {password} breaks the policy"
    );
    assert!(
        db.store
            .get_user(lister, id)
            .await
            .unwrap()
            .must_change_password
    );
    assert!(
        matches!(
            db.store.session(&old_session.token, &policy).await.unwrap(),
            SessionState::Unknown
        ),
        "a reset ends the sessions"
    );
    assert!(
        db.store
            .sign_in("caizheng", PASSWORD, None, None, &policy)
            .await
            .is_err(),
        "the old password still works"
    );
    let session = db
        .store
        .sign_in("caizheng", &password, None, None, &policy)
        .await
        .unwrap();
    assert!(session.must_change_password);
    let SessionState::Active {
        viewer,
        must_change_password,
    } = db.store.session(&session.token, &policy).await.unwrap()
    else {
        panic!("the session after a reset is not active");
    };
    assert!(must_change_password);

    // Changing it clears the flag.
    db.store
        .change_own_password(
            &viewer,
            &password,
            "Xin#Mima2027",
            &PasswordPolicy::default(),
        )
        .await
        .unwrap();
    assert!(
        !db.store
            .get_user(lister, id)
            .await
            .unwrap()
            .must_change_password
    );
    let session = db
        .store
        .sign_in("caizheng", "Xin#Mima2027", None, None, &policy)
        .await
        .unwrap();
    assert!(!session.must_change_password);
}
