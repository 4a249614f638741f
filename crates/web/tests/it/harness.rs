//! One running server per test: a fresh database with the demo county 明湖县 loaded, the app
//! served on a port the kernel picked, and a plain HTTP client that follows no redirects and
//! keeps the session cookie by hand, so every status code and header is seen as a browser
//! would receive it.
//!
//! SQLite always; PostgreSQL when `ZHONGSHU_TEST_PG_URL` names a server to create databases on.

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;
use tempfile::TempDir;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::{UnitId, UserId};
use zhongshu_store::Store;
use zhongshu_store::audit::{AuditEvent, AuditFilter};
use zhongshu_web::config::{DatabaseUrl, SecuritySettings};
use zhongshu_web::{AppState, Settings};

/// The PostgreSQL server to make test databases on, e.g. `postgres://postgres@127.0.0.1/postgres`.
pub const PG_URL_VAR: &str = "ZHONGSHU_TEST_PG_URL";
/// Every demo account's password in these tests.
pub const DEMO_PASSWORD: &str = "Demo#2026pw";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A server on a fresh database holding the demo county.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The store the server uses, for checks behind its back (audit log, ids, tokens).
    pub store: Store,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    // Dropped after the server is stopped: the PostgreSQL database, then the directory.
    _pg: Option<PgDatabase>,
    _dir: TempDir,
}

impl TestApp {
    /// A server on SQLite with the test settings.
    pub async fn sqlite() -> TestApp {
        TestApp::sqlite_with(|_| {}).await
    }

    /// A server on SQLite whose settings `configure` adjusts first.
    pub async fn sqlite_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        TestApp::start(Engine::Sqlite, configure)
            .await
            .expect("SQLite is always available")
    }

    /// A server on `engine`; `None` (after a notice) when PostgreSQL is not configured outside
    /// CI. In CI a missing `ZHONGSHU_TEST_PG_URL` fails the test.
    pub async fn new(engine: Engine) -> Option<TestApp> {
        TestApp::start(engine, |_| {}).await
    }

    pub async fn start(engine: Engine, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let dir = TempDir::new().expect("temporary directory");
        let pg = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(PgDatabase::create().await?),
        };
        let mut settings = Settings {
            data_dir: dir.path().to_owned(),
            database_url: pg
                .as_ref()
                .map_or_else(DatabaseUrl::default, |pg| DatabaseUrl::new(pg.url.clone())),
            security: SecuritySettings {
                argon2_memory_kib: 64,
                argon2_iterations: 1,
                ..SecuritySettings::default()
            },
            ..Settings::default()
        };
        configure(&mut settings);
        let store = settings
            .open_store()
            .await
            .unwrap_or_else(|e| panic!("open_store({}): {e}", settings.database_url()));
        let console = Viewer::console();
        store
            .load_demo(console.as_sys_admin().expect("console"), DEMO_PASSWORD)
            .await
            .expect("load_demo");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let state = AppState {
            store: store.clone(),
            settings: Arc::new(settings),
        };
        // The listener is bound already: requests made before the server polls it queue.
        let server = tokio::spawn(zhongshu_web::serve(state, listener));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Some(TestApp {
            base: format!("http://{addr}"),
            store,
            client,
            server,
            _pg: pg,
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request builder for `path` with no cookie and no token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request and reads the whole reply.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("HTTP request")).await
    }

    /// GET without signing in.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// POST a form without signing in.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(self.request(reqwest::Method::POST, path).form(form))
            .await
    }

    /// POST the login form; the reply as it comes (303 with a cookie, or 401 with the page).
    pub async fn try_login(&self, username: &str, password: &str) -> Reply {
        self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    /// Signs in (which must succeed) and returns a visitor carrying the session cookie.
    pub async fn login(&self, username: &str, password: &str) -> Visitor<'_> {
        let reply = self.try_login(username, password).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "signing in as {username} failed: {}",
            reply.body
        );
        let cookie = reply
            .session_cookie()
            .unwrap_or_else(|| panic!("signing in as {username} set no session cookie"));
        Visitor { app: self, cookie }
    }

    /// Signs in as a demo account.
    pub async fn login_demo(&self, username: &str) -> Visitor<'_> {
        self.login(username, DEMO_PASSWORD).await
    }

    /// GET under `/api/v1` with a bearer token.
    pub async fn get_api(&self, path: &str, token: &str) -> Reply {
        self.send(
            self.request(reqwest::Method::GET, &format!("/api/v1{path}"))
                .bearer_auth(token),
        )
        .await
    }

    /// POST JSON under `/api/v1` with a bearer token.
    pub async fn post_json(&self, path: &str, token: &str, body: &serde_json::Value) -> Reply {
        self.send(
            self.request(reqwest::Method::POST, &format!("/api/v1{path}"))
                .bearer_auth(token)
                .json(body),
        )
        .await
    }

    /// POST raw bytes under `/api/v1` with a bearer token and a content type.
    pub async fn post_api_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        self.send(
            self.request(reqwest::Method::POST, &format!("/api/v1{path}"))
                .bearer_auth(token)
                .header(header::CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }

    /// The id of a demo account.
    pub async fn user_id(&self, username: &str) -> UserId {
        self.user(username).await.id
    }

    /// A demo account as the store holds it now.
    pub async fn user(&self, username: &str) -> zhongshu_store::users::User {
        let console = Viewer::console();
        self.store
            .find_user(console.as_user_lister().expect("console"), username)
            .await
            .unwrap_or_else(|e| panic!("find_user({username}): {e}"))
    }

    /// A fresh API token for a user, made by the console.
    pub async fn token_for(&self, username: &str) -> String {
        let id = self.user_id(username).await;
        let console = Viewer::console();
        let (_, token) = self
            .store
            .create_token(console.as_sys_admin().expect("console"), id, "t")
            .await
            .expect("create_token");
        token
    }

    /// The id of a unit named by its name (or path).
    pub async fn unit_id(&self, name: &str) -> UnitId {
        self.store
            .find_unit(&Viewer::console(), name)
            .await
            .unwrap_or_else(|e| panic!("find_unit({name}): {e}"))
    }

    /// The active units' names, as the store lists them.
    pub async fn unit_names(&self) -> Vec<String> {
        self.store
            .list_units(&Viewer::console())
            .await
            .expect("list_units")
            .into_iter()
            .filter(|u| !u.merged)
            .map(|u| u.name)
            .collect()
    }

    /// The newest audit events with this code (at most 500), read by the console.
    pub async fn audit_events(&self, code: AuditCode) -> Vec<AuditEvent> {
        let console = Viewer::console();
        self.store
            .list_audit(
                console.as_audit_admin().expect("console"),
                &AuditFilter {
                    code: Some(code.code()),
                    ..AuditFilter::default()
                },
                500,
            )
            .await
            .expect("list_audit")
    }

    /// How many audit events with this code name this actor.
    pub async fn audit_count(&self, code: AuditCode, actor: &str) -> usize {
        self.audit_events(code)
            .await
            .iter()
            .filter(|e| e.actor_name == actor)
            .count()
    }
}

impl TestApp {
    /// The end of every story: whatever the pages changed, the ledger's tallies still equal a
    /// fresh count.
    pub async fn assert_tallies(&self) {
        let differences = self.store.check_tallies().await.expect("check_tallies");
        assert!(
            differences.is_empty(),
            "the tallies differ from a fresh count at the end of the story: {differences:?}"
        );
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A signed-in browser: every request carries its session cookie.
pub struct Visitor<'a> {
    pub app: &'a TestApp,
    /// `zs_session=TOKEN`
    pub cookie: String,
}

impl Visitor<'_> {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .request(method, path)
            .header(header::COOKIE, &self.cookie)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.app
            .send(self.request(reqwest::Method::GET, path))
            .await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.app
            .send(self.request(reqwest::Method::POST, path).form(form))
            .await
    }

    /// POST a form with extra request headers (Origin, Sec-Fetch-Site…).
    pub async fn post_form_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.request(reqwest::Method::POST, path).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.app.send(request).await
    }

    /// POST one file as `multipart/form-data` under the field name `file`.
    pub async fn post_file(&self, path: &str, file_name: &str, bytes: &[u8]) -> Reply {
        let boundary = "----zhongshu-test-boundary-7d1f";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.app
            .send(
                self.request(reqwest::Method::POST, path)
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(body),
            )
            .await
    }
}

/// A reply read whole: status, headers and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("reply body");
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.header("location")
    }

    /// The `Set-Cookie` header of the session cookie, if any.
    pub fn set_session_cookie(&self) -> Option<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("zs_session="))
    }

    /// `zs_session=TOKEN` from a non-empty session cookie, ready for a `Cookie` header.
    pub fn session_cookie(&self) -> Option<String> {
        let set = self.set_session_cookie()?;
        let pair = set.split(';').next()?.trim();
        (pair.len() > "zs_session=".len()).then(|| pair.to_owned())
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Reply {
        assert_eq!(
            self.status, expected,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    /// Asserts the body contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Reply {
        assert!(
            self.body.contains(text),
            "the {} reply does not contain {text:?}; body:\n{}",
            self.status,
            self.body
        );
        self
    }

    /// Asserts the body does not contain `text`.
    #[track_caller]
    pub fn assert_lacks(&self, text: &str) -> &Reply {
        assert!(
            !self.body.contains(text),
            "the {} reply contains {text:?}; body:\n{}",
            self.status,
            self.body
        );
        self
    }

    /// Whether the body contains any CJK ideograph (a page "in Chinese").
    pub fn is_chinese(&self) -> bool {
        self.body
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }
}

/// A PostgreSQL database made for one test, dropped (even with open connections) after it.
struct PgDatabase {
    admin_url: String,
    url: String,
    name: String,
}

impl PgDatabase {
    async fn create() -> Option<PgDatabase> {
        let admin_url = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{PG_URL_VAR} is not set, but CI is: the PostgreSQL web tests must run in CI \
                     (set {PG_URL_VAR}=postgres://USER@HOST:PORT/postgres)"
                );
                eprintln!("skipping a PostgreSQL web test: {PG_URL_VAR} is not set");
                return None;
            }
        };
        let token = zhongshu_store::sessions::new_token().expect("random name");
        let name = format!("zs_w_{}", &token[..16]);
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_VAR}: {e}"));
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        Some(PgDatabase {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop cannot await and runs inside the test's runtime: use a thread and runtime of our own.
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

#[test]
fn a_postgres_url_is_pointed_at_the_test_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "zs_w_1"),
        "postgres://postgres@127.0.0.1:5432/zs_w_1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "zs_w_1"),
        "postgres://u:p@h/zs_w_1?sslmode=disable"
    );
}

/// Declares each `async fn NAME(app: &TestApp)` of the calling module as two tests,
/// `sqlite::NAME` and `postgres::NAME`, each on a fresh server and database. The PostgreSQL one
/// is skipped with a notice when `ZHONGSHU_TEST_PG_URL` is not set (and fails in CI).
macro_rules! on_both_engines {
    ($($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let app = $crate::harness::TestApp::new($crate::harness::Engine::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$story(&app).await;
                    app.assert_tallies().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let Some(app) =
                        $crate::harness::TestApp::new($crate::harness::Engine::Postgres).await
                    else {
                        return;
                    };
                    assert_eq!(app.store.backend(), zhongshu_store::Backend::Postgres);
                    super::$story(&app).await;
                    app.assert_tallies().await;
                }
            )+
        }
    };
}
