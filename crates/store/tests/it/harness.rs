//! One fresh database per test: a SQLite file in a temporary directory, and, when
//! `ZHONGSHU_TEST_PG_URL` is set, a PostgreSQL database made for the test and dropped after it.
//!
//! `store_tests!` turns each `async fn NAME(db: &TestDb)` of a module into two tests,
//! `MODULE::sqlite::NAME` and `MODULE::postgres::NAME`, and checks after each that the audit
//! chain is whole: every change, refused or not, must keep it so.

use sqlx::{AnyConnection, Connection, Executor, PgConnection, Row};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use zhongshu_domain::access::{Role, Viewer};
use zhongshu_domain::ids::{UnitId, UserId};
use zhongshu_domain::org::{UnitName, UnitType};
use zhongshu_domain::password::PasswordPolicy;
use zhongshu_store::audit::{AuditKey, Verification};
use zhongshu_store::units::NewUnit;
use zhongshu_store::users::NewUser;
use zhongshu_store::{Backend, Error, HashCost, Store, StoreOptions};

/// The PostgreSQL server to make test databases on, e.g. `postgres://postgres@127.0.0.1/postgres`.
pub const PG_URL_VAR: &str = "ZHONGSHU_TEST_PG_URL";
/// The audit key every test store is opened with.
pub const AUDIT_KEY: &[u8] = b"test-key-0123456789abcdef";
/// The password the stories that load the demo county give its accounts.
pub const DEMO_PASSWORD: &str = "Demo#2026pw";
/// A password that meets the default policy.
pub const PASSWORD: &str = "Zhongshu#2026";

/// Which engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh database with a store open on it.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with (for a second store or a raw connection).
    pub url: String,
    /// Where the store writes its audit checkpoint.
    pub checkpoint_dir: PathBuf,
    // Dropped after the store: the PostgreSQL database, then the directory.
    _pg: Option<PgDatabase>,
    _dir: TempDir,
}

impl TestDb {
    /// A fresh database on `engine`; `None` when PostgreSQL is not configured outside CI.
    pub async fn new(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => Some(TestDb::sqlite().await),
            Engine::Postgres => TestDb::postgres().await,
        }
    }

    /// A fresh SQLite file in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = TempDir::new().expect("temporary directory");
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        TestDb::open_on(url, dir, None).await
    }

    /// A fresh PostgreSQL database, or `None` (with a notice) when `ZHONGSHU_TEST_PG_URL` is not
    /// set; in CI a missing URL fails the test instead.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "ZHONGSHU_TEST_PG_URL is not set in CI"
                );
                eprintln!("skipping PostgreSQL: ZHONGSHU_TEST_PG_URL not set");
                return None;
            }
        };
        let token = zhongshu_store::sessions::new_token().expect("random name");
        let name = format!("zs_t_{}", &token[..16]);
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_VAR}={admin_url}: {e}"));
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        let pg = PgDatabase {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        };
        let dir = TempDir::new().expect("temporary directory");
        Some(TestDb::open_on(pg.url.clone(), dir, Some(pg)).await)
    }

    async fn open_on(url: String, dir: TempDir, pg: Option<PgDatabase>) -> TestDb {
        let checkpoint_dir = dir.path().join("audit");
        let store = Store::open(options(&url, &checkpoint_dir))
            .await
            .unwrap_or_else(|e| panic!("Store::open({url}): {e}"));
        TestDb {
            store,
            url,
            checkpoint_dir,
            _pg: pg,
            _dir: dir,
        }
    }

    pub fn engine(&self) -> Engine {
        match self.store.backend() {
            Backend::Sqlite => Engine::Sqlite,
            Backend::Postgres => Engine::Postgres,
        }
    }

    /// The options the store was opened with.
    pub fn options(&self) -> StoreOptions {
        options(&self.url, &self.checkpoint_dir)
    }

    /// Verifies the chain with the store's key against this test's checkpoint directory.
    pub async fn verify(&self) -> Verification {
        let console = Viewer::console();
        self.store
            .verify_audit(console.as_audit_admin().unwrap(), &self.checkpoint_dir)
            .await
            .expect("verify_audit")
    }

    /// The end of every test that changes nothing behind the store's back: the chain is whole.
    pub async fn finish(self) {
        let verification = self.verify().await;
        assert!(
            matches!(verification, Verification::Intact { .. }),
            "the audit chain is not intact at the end of the test: {verification:?}"
        );
        let events = self.count("SELECT COUNT(*) AS n FROM audit_events").await;
        assert_eq!(
            verification,
            Verification::Intact { events },
            "verify_audit did not walk every event"
        );
        let differences = self.store.check_tallies().await.expect("check_tallies");
        assert!(
            differences.is_empty(),
            "the tallies differ from a fresh count at the end of the test: {differences:?}"
        );
        self.store.close().await;
    }

    /// The end of a test that broke the chain on purpose.
    pub async fn finish_tampered(self) {
        self.store.close().await;
    }

    /// A connection of its own, outside the store's pool: an operator (or attacker) with SQL.
    pub async fn raw(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        AnyConnection::connect(&self.url)
            .await
            .expect("raw connection")
    }

    /// Runs one statement on a raw connection.
    pub async fn exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let mut conn = self.raw().await;
        let outcome = conn
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .map(|r| r.rows_affected());
        let _ = conn.close().await;
        outcome
    }

    /// Changes items behind the store's back (to give a story the dates or states it needs),
    /// then rebuilds the tallies the store keeps when it makes such changes itself.
    pub async fn edit_items(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let changed = self.exec(sql).await?;
        self.store
            .rebuild_tallies()
            .await
            .expect("rebuild_tallies after an edit");
        Ok(changed)
    }

    /// The `n` column of a one-row query.
    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.raw().await;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let n: i64 = row.try_get("n").expect("column n");
        let _ = conn.close().await;
        n
    }

    pub async fn audit_count(&self) -> i64 {
        self.count("SELECT COUNT(*) AS n FROM audit_events").await
    }

    pub async fn unit_count(&self) -> i64 {
        self.count("SELECT COUNT(*) AS n FROM units").await
    }

    /// Creates the region 明湖县.
    pub async fn region(&self) {
        let console = Viewer::console();
        self.store
            .create_region(console.as_sys_admin().unwrap(), "明湖县")
            .await
            .expect("create_region");
    }

    /// Creates a department under `parent` (or the region).
    pub async fn unit(&self, parent: Option<UnitId>, name: &str) -> UnitId {
        let console = Viewer::console();
        self.store
            .create_unit(console.as_sys_admin().unwrap(), new_unit(parent, name))
            .await
            .unwrap_or_else(|e| panic!("create_unit({name}): {e}"))
    }

    /// Creates an account with [`PASSWORD`] and the roles, not forced to change it.
    pub async fn user(&self, unit: UnitId, username: &str, roles: &[Role]) -> UserId {
        let console = Viewer::console();
        self.store
            .create_user(
                console.as_sys_admin().unwrap(),
                Some(console.as_security_admin().unwrap()),
                new_user(unit, username, roles),
                &PasswordPolicy::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("create_user({username}): {e}"))
    }
}

fn options(url: &str, checkpoint_dir: &Path) -> StoreOptions {
    StoreOptions {
        url: url.to_owned(),
        max_connections: 8,
        audit_key: AuditKey::from_bytes(AUDIT_KEY.to_vec()),
        checkpoint_dir: checkpoint_dir.to_owned(),
        node_name: "test".into(),
        hash_cost: HashCost::for_tests(),
        files_dir: checkpoint_dir.with_file_name("files"),
    }
}

pub fn new_unit(parent: Option<UnitId>, name: &str) -> NewUnit {
    NewUnit {
        parent_id: parent,
        name: UnitName::parse(name).expect("unit name"),
        unit_type: UnitType::Department,
        key_reporting: false,
        sort_order: 0,
    }
}

pub fn new_user(unit: UnitId, username: &str, roles: &[Role]) -> NewUser {
    NewUser {
        username: username.to_owned(),
        display_name: format!("{username}同志"),
        title: String::new(),
        unit_id: unit,
        password: PASSWORD.to_owned(),
        roles: roles.to_vec(),
        must_change_password: false,
    }
}

/// The fields an `Error::Invalid` names; panics on any other error.
#[track_caller]
pub fn invalid_fields(err: &Error) -> Vec<&'static str> {
    match err {
        Error::Invalid(problems) => problems.iter().map(|p| p.field).collect(),
        other => panic!("expected Error::Invalid, got {other:?} ({other})"),
    }
}

/// `url` naming database `name` instead, keeping user, host, port and parameters.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// A database made for one test, dropped when the test's handle is.
struct PgDatabase {
    admin_url: String,
    url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop cannot await, and may run inside the test's runtime: use a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                let outcome = conn
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                let _ = conn.close().await;
                outcome
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: thread panicked",
                self.name
            ),
        }
    }
}

/// Declares each `async fn NAME(db: &TestDb)` of the calling module as the tests
/// `sqlite::NAME` and `postgres::NAME`. Tests listed after `tampered:` break the audit chain on
/// purpose and are not checked for an intact chain at the end.
macro_rules! store_tests {
    (@engine $module:ident, $engine:ident; $($name:ident),*; $($tampered:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) =
                        $crate::harness::TestDb::new($crate::harness::Engine::$engine).await
                    else {
                        return;
                    };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $tampered() {
                    let Some(db) =
                        $crate::harness::TestDb::new($crate::harness::Engine::$engine).await
                    else {
                        return;
                    };
                    super::$tampered(&db).await;
                    db.finish_tampered().await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)? $(; tampered: $($tampered:ident),+ $(,)?)?) => {
        store_tests!(@engine sqlite, Sqlite; $($name),*; $($($tampered),+)?);
        store_tests!(@engine postgres, Postgres; $($name),*; $($($tampered),+)?);
    };
}

#[test]
fn a_postgres_url_is_pointed_at_the_test_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "zs_t_1"),
        "postgres://postgres@127.0.0.1:5432/zs_t_1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "zs_t_1"),
        "postgres://u:p@h/zs_t_1?sslmode=disable"
    );
    assert_eq!(
        with_database("postgresql://h:5433", "zs_t_1"),
        "postgresql://h:5433/zs_t_1"
    );
}

/// Signs a demo account in with [`DEMO_PASSWORD`] and returns its session's viewer.
pub async fn sign_in(db: &TestDb, username: &str) -> Viewer {
    let policy = zhongshu_store::sessions::SignInPolicy::default();
    let session = db
        .store
        .sign_in(username, DEMO_PASSWORD, None, None, &policy)
        .await
        .unwrap_or_else(|e| panic!("sign_in({username}): {e}"));
    let Ok(zhongshu_store::sessions::SessionState::Active { viewer, .. }) =
        db.store.session(&session.token, &policy).await
    else {
        panic!("the session of {username} does not resolve");
    };
    viewer
}
