//! Every write is one transaction with its audit event: all of it or none of it.

use crate::harness::{Engine, PASSWORD, TestDb, new_unit, new_user};
use sqlx::Row;
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_domain::org::{UnitListRow, UnitName, check_unit_rows};
use zhongshu_domain::password::PasswordPolicy;
use zhongshu_store::audit::{Verification, read_checkpoints};
use zhongshu_store::sessions::{SessionState, SignInPolicy};
use zhongshu_store::units::UnitChanges;

store_tests!(
    a_refused_change_writes_nothing_and_no_audit_event,
    a_change_whose_audit_event_cannot_be_written_is_rolled_back,
    concurrent_writers_all_succeed_and_keep_the_chain_gapless,
);

/// Everything a change could have touched, in one comparable value.
async fn snapshot(db: &TestDb) -> Vec<String> {
    let mut conn = db.raw().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT id, name, parent_id, path, status, version FROM units ORDER BY id",
        "SELECT id, username, unit_id, version, failed_logins, locked_until FROM users ORDER BY id",
        "SELECT user_id, role FROM user_roles ORDER BY user_id, role",
        "SELECT id, user_id FROM sessions ORDER BY id",
        "SELECT year, body FROM calendar_years ORDER BY year",
        "SELECT id, hash FROM audit_events ORDER BY id",
        "SELECT seq, hash FROM audit_head",
    ] {
        let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        for row in rows {
            let cells: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| {
                            row.try_get::<Option<i64>, _>(i)
                                .ok()
                                .flatten()
                                .map(|n| n.to_string())
                        })
                        .unwrap_or_else(|| "NULL".to_owned())
                })
                .collect();
            out.push(format!("{sql}: {}", cells.join("|")));
        }
    }
    out
}

async fn a_refused_change_writes_nothing_and_no_audit_event(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    let security = console.as_security_admin().unwrap();
    db.region().await;
    let office = db.unit(None, "县委办公室").await;
    let child = db.unit(Some(office), "县委督查室").await;
    let user = db.user(child, "ducha", &[Role::Supervisor]).await;
    let before = snapshot(db).await;
    assert!(before.len() > 5);

    let refused = [
        db.store
            .create_unit(sys, new_unit(None, "县委办公室"))
            .await
            .map(|_| ()),
        db.store
            .update_unit(
                sys,
                child,
                UnitChanges {
                    name: UnitName::parse("督查室").unwrap(),
                    unit_type: zhongshu_domain::org::UnitType::Office,
                    key_reporting: false,
                    sort_order: 0,
                    version: 0,
                },
            )
            .await,
        db.store.move_unit(sys, office, Some(child), 1).await,
        db.store.merge_unit(sys, office, child).await,
        db.store
            .create_user(
                sys,
                Some(security),
                new_user(office, "ducha", &[]),
                &PasswordPolicy::default(),
            )
            .await
            .map(|_| ()),
        db.store.set_roles(security, user, &[Role::Leader], 0).await,
        db.store
            .import_units(
                sys,
                check_unit_rows(&[
                    UnitListRow {
                        row: 2,
                        name: "县财政局".into(),
                        parent: String::new(),
                        unit_type: "县直部门".into(),
                        key_reporting: "是".into(),
                    },
                    UnitListRow {
                        row: 3,
                        name: "预算股".into(),
                        parent: "县财政厅".into(),
                        unit_type: "科室".into(),
                        key_reporting: String::new(),
                    },
                ])
                .unwrap(),
            )
            .await
            .map(|_| ()),
        db.store
            .save_calendar_text(sys, "2027 春节 02-06..02-12\n2027 上班 02-15")
            .await
            .map(|_| ()),
        db.store.create_region(sys, "另一个县").await.map(|_| ()),
    ];
    for (i, outcome) in refused.iter().enumerate() {
        assert!(outcome.is_err(), "change {i} was not refused");
    }
    assert_eq!(snapshot(db).await, before);
}

async fn a_change_whose_audit_event_cannot_be_written_is_rolled_back(db: &TestDb) {
    let console = Viewer::console();
    let sys = console.as_sys_admin().unwrap();
    let policy = SignInPolicy::default();
    db.region().await;
    let unit = db.unit(None, "县财政局").await;
    let user = db.user(unit, "caizheng", &[]).await;
    let session = db
        .store
        .sign_in("caizheng", PASSWORD, None, None, &policy)
        .await
        .unwrap();
    let checkpoint = read_checkpoints(&db.checkpoint_dir).unwrap()[0].1.clone();

    // Make every audit insert fail, as a full disk or a broken column would.
    match db.engine() {
        Engine::Sqlite => {
            db.exec(
                "CREATE TRIGGER audit_events_refuse BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, '测试：审计记录无法写入'); END",
            )
            .await
            .unwrap();
        }
        Engine::Postgres => {
            db.exec(
                "CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION '测试：审计记录无法写入'; END; $$",
            )
            .await
            .unwrap();
            db.exec(
                "CREATE TRIGGER audit_events_refuse BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()",
            )
            .await
            .unwrap();
        }
    }
    let before = snapshot(db).await;

    assert!(
        db.store
            .create_unit(sys, new_unit(None, "县教育局"))
            .await
            .is_err()
    );
    assert!(
        db.store
            .create_user(
                sys,
                None,
                new_user(unit, "kuaiji", &[]),
                &PasswordPolicy::default()
            )
            .await
            .is_err()
    );
    let version = db
        .store
        .get_user(console.as_user_lister().unwrap(), user)
        .await
        .unwrap()
        .version;
    assert!(
        db.store
            .set_roles(
                console.as_security_admin().unwrap(),
                user,
                &[Role::Leader],
                version
            )
            .await
            .is_err()
    );
    // A wrong password's failure count and a right password's session are changes too.
    assert!(
        db.store
            .sign_in("caizheng", "Wrong#Pass1", None, None, &policy)
            .await
            .is_err()
    );
    assert!(
        db.store
            .sign_in("caizheng", PASSWORD, None, None, &policy)
            .await
            .is_err()
    );
    assert_eq!(snapshot(db).await, before);
    assert!(matches!(
        db.store.session(&session.token, &policy).await.unwrap(),
        SessionState::Active { .. }
    ));
    assert_eq!(
        read_checkpoints(&db.checkpoint_dir).unwrap()[0].1,
        checkpoint,
        "the checkpoint moved for a change that was rolled back"
    );

    match db.engine() {
        Engine::Sqlite => {
            db.exec("DROP TRIGGER audit_events_refuse").await.unwrap();
        }
        Engine::Postgres => {
            db.exec("DROP TRIGGER audit_events_refuse ON audit_events")
                .await
                .unwrap();
            db.exec("DROP FUNCTION audit_events_refuse()")
                .await
                .unwrap();
        }
    }
    // The chain continues where it stopped: no hole where the refused changes were.
    db.unit(None, "县教育局").await;
    assert_eq!(
        db.verify().await,
        Verification::Intact {
            events: checkpoint.seq + 1
        }
    );
}

async fn concurrent_writers_all_succeed_and_keep_the_chain_gapless(db: &TestDb) {
    db.region().await;
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16 {
        let store = db.store.clone();
        tasks.spawn(async move {
            let console = Viewer::console();
            let mut errors = Vec::new();
            for i in 0..10 {
                let new = new_unit(None, &format!("单位{task:02}-{i}"));
                if let Err(err) = store
                    .create_unit(console.as_sys_admin().unwrap(), new)
                    .await
                {
                    errors.push(format!("{task}-{i}: {err:?}"));
                }
            }
            errors
        });
    }
    let mut errors = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        errors.extend(outcome.unwrap());
    }
    assert!(errors.is_empty(), "{} errors: {errors:#?}", errors.len());
    assert_eq!(db.store.unit_count(&Viewer::console()).await.unwrap(), 160);
    let n = 161;
    assert_eq!(db.audit_count().await, n);
    assert_eq!(db.count("SELECT MIN(id) AS n FROM audit_events").await, 1);
    assert_eq!(db.count("SELECT MAX(id) AS n FROM audit_events").await, n);
    assert_eq!(db.count("SELECT seq AS n FROM audit_head").await, n);
    assert_eq!(db.verify().await, Verification::Intact { events: n });
    assert_eq!(read_checkpoints(&db.checkpoint_dir).unwrap()[0].1.seq, n);
}
