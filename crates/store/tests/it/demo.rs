//! The demo county and generated data.

use crate::harness::TestDb;
use std::sync::atomic::{AtomicUsize, Ordering};
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_store::demo::DemoOutcome;
use zhongshu_store::generate::Scale;
use zhongshu_store::sessions::{SessionState, SignInPolicy};

store_tests!(
    the_demo_county_loads_once,
    demo_users_sign_in_with_the_demo_password_without_a_forced_change,
);

const DEMO_PASSWORD: &str = "Minghu#2026";

async fn the_demo_county_loads_once(db: &TestDb) {
    let console = Viewer::console();
    let lister = console.as_user_lister().unwrap();
    let outcome = db
        .store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .unwrap();
    let DemoOutcome::Loaded { units, users } = outcome else {
        panic!("an empty database did not load the demo: {outcome:?}");
    };
    assert!((140..=160).contains(&units), "{units} units");
    assert_eq!(
        users,
        11 + 2 * units,
        "the named staff, a liaison and a head per unit"
    );
    assert_eq!(db.store.region().await.unwrap().unwrap().name, "明湖县");
    let unit_count = db.store.unit_count(&console).await.unwrap();
    assert_eq!(unit_count, i64::try_from(units).unwrap());
    let user_count = db.store.user_count(&console).await.unwrap();
    assert_eq!(user_count, i64::try_from(users).unwrap());

    for (username, role) in [
        ("xitong", Role::SysAdmin),
        ("anquan", Role::SecurityAdmin),
        ("shenji", Role::AuditAdmin),
        ("ducha", Role::Supervisor),
        ("lingdao", Role::Leader),
        ("xinxi", Role::Editor),
        ("zhiban", Role::DutyOfficer),
        ("czj_lly", Role::Liaison),
        ("czj_fzr", Role::UnitHead),
    ] {
        let user = db.store.find_user(lister, username).await.unwrap();
        assert_eq!(user.roles, vec![role], "{username}");
        assert!(!user.display_name.is_empty());
    }
    let ducha = db.store.find_user(lister, "ducha").await.unwrap();
    assert_eq!(ducha.unit_name, "县委督查室");
    // The nested offices hang under their office.
    let office = db.store.find_unit(&console, "县委办公室").await.unwrap();
    let supervision = db.store.find_unit(&console, "县委督查室").await.unwrap();
    let supervision = db.store.get_unit(&console, supervision).await.unwrap();
    assert_eq!(supervision.parent_id, Some(office));
    assert_eq!(supervision.depth, 2);
    let listed = db.store.list_units(&console).await.unwrap();
    assert_eq!(listed.len(), units);
    assert_eq!(listed[0].name, "县委办公室");

    let events = db.audit_count().await;
    let again = db
        .store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        again,
        DemoOutcome::AlreadyLoaded {
            region: "明湖县".to_owned()
        }
    );
    assert_eq!(db.store.unit_count(&console).await.unwrap(), unit_count);
    assert_eq!(db.store.user_count(&console).await.unwrap(), user_count);
    assert_eq!(db.audit_count().await, events);
}

async fn demo_users_sign_in_with_the_demo_password_without_a_forced_change(db: &TestDb) {
    let console = Viewer::console();
    let policy = SignInPolicy::default();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .unwrap();
    for username in ["xitong", "ducha", "lingdao", "czj_lly"] {
        let session = db
            .store
            .sign_in(username, DEMO_PASSWORD, None, None, &policy)
            .await
            .unwrap_or_else(|e| panic!("{username}: {e}"));
        assert!(!session.must_change_password, "{username}");
        let SessionState::Active {
            viewer,
            must_change_password,
        } = db.store.session(&session.token, &policy).await.unwrap()
        else {
            panic!("{username}: session not active");
        };
        assert!(!must_change_password);
        assert_eq!(viewer.username, username);
    }
    // The demo system administrator holds that proof, and only that one.
    let session = db
        .store
        .sign_in("xitong", DEMO_PASSWORD, None, None, &policy)
        .await
        .unwrap();
    let SessionState::Active { viewer, .. } =
        db.store.session(&session.token, &policy).await.unwrap()
    else {
        panic!("session not active");
    };
    assert!(viewer.as_sys_admin().is_ok());
    assert!(viewer.as_security_admin().is_err());
    assert!(
        db.store
            .sign_in("ducha", "Wrong#Pass1", None, None, &policy)
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generating_a_county_creates_about_150_units_and_1500_users() {
    let db = TestDb::sqlite().await;
    let console = Viewer::console();
    let calls = AtomicUsize::new(0);
    let progress = |_units: usize, _users: usize| {
        calls.fetch_add(1, Ordering::Relaxed);
    };
    let (units, users) = db
        .store
        .generate(
            console.as_sys_admin().unwrap(),
            Scale::County,
            "Shengcheng#2026",
            &progress,
        )
        .await
        .unwrap();
    assert_eq!((units, users), (150, 1500));
    assert_eq!(
        (Scale::County.target_units(), Scale::County.target_users()),
        (150, 1500)
    );
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(db.store.region().await.unwrap().unwrap().name, "示范县");
    assert_eq!(db.store.unit_count(&console).await.unwrap(), 150);
    assert_eq!(db.store.user_count(&console).await.unwrap(), 1500);
    let liaisons = db
        .count("SELECT COUNT(*) AS n FROM user_roles WHERE role = 'liaison'")
        .await;
    assert_eq!(liaisons, 150);
    // A generated account signs in with the password given.
    let username: String = {
        let console = Viewer::console();
        let users = db
            .store
            .list_users(
                console.as_user_lister().unwrap(),
                &zhongshu_store::users::UserFilter::default(),
                1,
            )
            .await
            .unwrap();
        users[0].username.clone()
    };
    db.store
        .sign_in(
            &username,
            "Shengcheng#2026",
            None,
            None,
            &SignInPolicy::default(),
        )
        .await
        .unwrap();
    db.finish().await;
}
