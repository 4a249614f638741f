//! E-mail through the outbox against a real SMTP exchange: a minimal relay inside the test (a
//! TCP listener on 127.0.0.1 that answers EHLO, MAIL, RCPT, DATA and QUIT and records what it
//! was sent), the worker's delivery ticks run by hand, on SQLite and PostgreSQL. Also how the
//! addresses get there: the user page (system administrator) and 个人中心 (oneself).

use crate::harness::{Engine, TestApp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::supervision::{Action, ItemState};
use zhongshu_store::supervision::ItemFilter;
use zhongshu_web::{AppState, Settings, worker};

/// An accepted message: its recipients and the raw message.
type Mail = (Vec<String>, String);

/// What the test relay saw.
#[derive(Clone, Default)]
struct Relay {
    /// Every command line, in order, across connections.
    commands: Arc<Mutex<Vec<String>>>,
    messages: Arc<Mutex<Vec<Mail>>>,
    /// Answer DATA with 451 (try again later).
    refuse_data: Arc<AtomicBool>,
}

impl Relay {
    fn messages(&self) -> Vec<Mail> {
        self.messages.lock().unwrap().clone()
    }

    fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

/// Starts the relay on a port the kernel picked; its port.
async fn relay() -> (Relay, u16) {
    let relay = Relay::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let r = relay.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(session(r.clone(), socket));
        }
    });
    (relay, port)
}

/// One SMTP session (RFC 5321, the part a client sending one message uses). No STARTTLS is
/// offered.
async fn session(relay: Relay, socket: tokio::net::TcpStream) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    say(&mut write, "220 relay.test ESMTP ready\r\n").await;
    let mut recipients = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_owned();
        relay.commands.lock().unwrap().push(line.clone());
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                say(
                    &mut write,
                    "250-relay.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
                )
                .await
            }
            "HELO" | "NOOP" => say(&mut write, "250 OK\r\n").await,
            "RSET" => {
                recipients.clear();
                say(&mut write, "250 OK\r\n").await;
            }
            "MAIL" => {
                recipients.clear();
                say(&mut write, "250 2.1.0 OK\r\n").await;
            }
            "RCPT" => {
                let to = line
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(addr, _)| addr.to_owned())
                    .unwrap_or_default();
                recipients.push(to);
                say(&mut write, "250 2.1.5 OK\r\n").await;
            }
            "DATA" => {
                if relay.refuse_data.load(Ordering::SeqCst) {
                    say(&mut write, "451 4.3.0 Mail server temporarily busy\r\n").await;
                    continue;
                }
                say(&mut write, "354 End data with <CR><LF>.<CR><LF>\r\n").await;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    // Dot-stuffing (RFC 5321 §4.5.2).
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                relay
                    .messages
                    .lock()
                    .unwrap()
                    .push((std::mem::take(&mut recipients), data));
                say(&mut write, "250 2.0.0 OK queued\r\n").await;
            }
            "QUIT" => {
                say(&mut write, "221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => say(&mut write, "502 5.5.2 Command not recognised\r\n").await,
        }
    }
}

async fn say(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) {
    w.write_all(text.as_bytes()).await.unwrap();
}

/// A server whose only outbox target is the relay, with the demo ledger loaded without
/// telling anyone; the settings it runs with and a worker state of its own.
async fn app_with_relay(
    engine: Engine,
    port: u16,
    starttls: bool,
) -> Option<(TestApp, AppState, Settings)> {
    let mut captured = None;
    let app = TestApp::start(engine, |s| {
        s.notify.smtp_host = "127.0.0.1".to_owned();
        s.notify.smtp_port = port;
        s.notify.smtp_from = "督查室 <ducha@gov.local>".to_owned();
        s.notify.smtp_starttls = starttls;
        s.notify.deliver_seconds = 0;
        s.notify.scan_minutes = 0;
        s.notify.max_attempts = 3;
        s.public_url = "http://zs.gov.local".to_owned();
        captured = Some(s.clone());
    })
    .await?;
    let settings = captured.unwrap();
    let console = Viewer::console();
    app.store.set_outbox_targets(&[]).await.unwrap();
    app.store
        .load_demo_ledger(console.as_supervisor().unwrap(), 2026)
        .await
        .unwrap();
    app.store
        .set_outbox_targets(&settings.notify.targets().unwrap())
        .await
        .unwrap();
    let state = AppState {
        store: app.store.clone(),
        settings: Arc::new(settings.clone()),
    };
    Some((app, state, settings))
}

/// The first assigned item of the ledger: (id, title, version).
async fn first_item(app: &TestApp) -> (i64, String, i64) {
    let console = Viewer::console();
    let item = app
        .store
        .list_items(
            &console,
            &ItemFilter::default(),
            jiff::civil::date(2026, 3, 2),
            3,
            1000,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.parent_id.is_some() && r.state == ItemState::Assigned)
        .expect("an assigned item");
    (item.id, item.title, item.version)
}

/// The people an urge of `item` tells (its lead unit's liaisons and head), by id.
async fn recipients(app: &TestApp, item: i64) -> Vec<i64> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
         JOIN item_units iu ON iu.unit_id = u.unit_id \
         WHERE iu.item_id = $1 AND iu.role = 'lead' AND u.disabled = 0 \
         AND r.role IN ('liaison', 'unit_head') ORDER BY u.id",
    )
    .bind(item)
    .fetch_all(app.store.pool_for_tests())
    .await
    .unwrap();
    use sqlx::Row;
    rows.iter().map(|r| r.try_get("id").unwrap()).collect()
}

/// Gives the first recipient of `item` an address; the address.
async fn give_address(app: &TestApp, item: i64) -> String {
    let people = recipients(app, item).await;
    assert!(people.len() >= 2, "the lead unit has a liaison and a head");
    let console = Viewer::console();
    let address = "zhang.san@czj.gov.local".to_owned();
    app.store
        .set_user_email(
            console.as_sys_admin().unwrap(),
            zhongshu_domain::ids::UserId::from_db(people[0]),
            &address,
        )
        .await
        .unwrap();
    address
}

async fn urge(app: &TestApp, item: i64, version: i64) {
    let console = Viewer::console();
    app.store
        .act_on_item(&console, item, Action::Urge, version, "请加快进度")
        .await
        .expect("urge");
}

/// (user_id, url, last_error) of every e-mail row.
async fn email_rows(app: &TestApp) -> Vec<(Option<i64>, String, Option<String>)> {
    use sqlx::Row;
    sqlx::query("SELECT user_id, url, last_error FROM outbox WHERE channel = 'email' ORDER BY id")
        .fetch_all(app.store.pool_for_tests())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get("user_id").unwrap(),
                r.try_get("url").unwrap(),
                r.try_get("last_error").unwrap(),
            )
        })
        .collect()
}

/// A header's value, unfolded.
fn header(message: &str, name: &str) -> String {
    let head = message.split("\r\n\r\n").next().unwrap_or("");
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line),
            Some(_) => break,
            None => {
                if let Some((n, v)) = line.split_once(':')
                    && n.eq_ignore_ascii_case(name)
                {
                    value = Some(v.trim().to_owned());
                }
            }
        }
    }
    value.unwrap_or_default()
}

fn base64(text: &str) -> Vec<u8> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = ABC.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("quoted-printable"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    for word in value.split_whitespace() {
        let parts: Vec<&str> = word.split('?').collect();
        if parts.len() == 5 && parts[0] == "=" && parts[4] == "=" {
            let bytes = if parts[2].eq_ignore_ascii_case("b") {
                base64(parts[3])
            } else {
                quoted_printable(&parts[3].replace('_', " "))
            };
            out.push_str(&String::from_utf8(bytes).unwrap());
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// The text body, decoded by its transfer encoding.
fn body(message: &str) -> String {
    let raw = message.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let encoding = header(message, "Content-Transfer-Encoding").to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => base64(raw),
        "quoted-printable" => quoted_printable(raw),
        _ => raw.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).unwrap()
}

/// Declares each `async fn NAME(engine: Engine)` as `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both {
    ($($story:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(crate::harness::Engine::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    super::$story(crate::harness::Engine::Postgres).await;
                }
            )+
        }
    };
}

on_both!(
    a_notification_is_emailed_once_in_chinese_and_not_again_after_a_restart,
    a_451_to_data_is_retried_after_the_backoff_and_then_delivered,
    required_starttls_against_a_relay_without_it_sends_nothing,
    addresses_are_set_on_the_user_page_and_by_oneself_and_checked_in_chinese,
);

async fn a_notification_is_emailed_once_in_chinese_and_not_again_after_a_restart(engine: Engine) {
    let (relay, port) = relay().await;
    let Some((app, state, settings)) = app_with_relay(engine, port, false).await else {
        return;
    };
    let (item, title, version) = first_item(&app).await;
    let address = give_address(&app, item).await;
    urge(&app, item, version).await;

    // One row: the recipient with an address; the others have none.
    let rows = email_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, address);
    assert_eq!(rows[0].0, Some(recipients(&app, item).await[0]));

    let now = zhongshu_store::now_ms();
    let done = worker::deliver_at(&state, now).await.unwrap();
    assert_eq!(done.delivered, 1);
    let messages = relay.messages();
    assert_eq!(messages.len(), 1);
    let (to, message) = &messages[0];
    assert_eq!(to, &vec![address.clone()]);
    assert_eq!(
        decode_words(&header(message, "Subject")),
        format!("【督查督办】催办（第1次）：{title}")
    );
    assert!(
        header(message, "From").contains("<ducha@gov.local>"),
        "{message}"
    );
    let key = header(message, "X-Zhongshu-Idempotency-Key");
    assert!(key.starts_with("zs-"), "{message}");
    assert_eq!(header(message, "Message-ID"), format!("<{key}@gov.local>"));
    let text = body(message);
    assert!(text.contains("请加快进度"), "{text}");
    assert!(
        text.contains(&format!("http://zs.gov.local/supervision/items/{item}")),
        "{text}"
    );

    // Delivered: later ticks send nothing.
    let done = worker::deliver_at(&state, now + 10 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(done, worker::Delivered::default());

    // A restart: a new store and worker on the same database send nothing again.
    let restarted = settings.open_store().await.unwrap();
    let state = AppState {
        store: restarted.clone(),
        settings: Arc::new(settings),
    };
    let done = worker::deliver_at(&state, now + 100 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(done, worker::Delivered::default());
    assert_eq!(relay.messages().len(), 1);
    restarted.close().await;
}

async fn a_451_to_data_is_retried_after_the_backoff_and_then_delivered(engine: Engine) {
    let (relay, port) = relay().await;
    let Some((app, state, _)) = app_with_relay(engine, port, false).await else {
        return;
    };
    let (item, _, version) = first_item(&app).await;
    give_address(&app, item).await;
    urge(&app, item, version).await;
    relay.refuse_data.store(true, Ordering::SeqCst);

    let now = zhongshu_store::now_ms();
    let done = worker::deliver_at(&state, now).await.unwrap();
    assert_eq!(done.failed, 1);
    assert!(relay.messages().is_empty());
    assert!(relay.commands().iter().any(|c| c == "DATA"));
    let error = email_rows(&app).await[0].2.clone().unwrap_or_default();
    assert!(error.contains("451") && error.contains("暂时"), "{error}");

    // Not due again before the backoff.
    let done = worker::deliver_at(&state, now + 1_000).await.unwrap();
    assert_eq!(done, worker::Delivered::default());
    relay.refuse_data.store(false, Ordering::SeqCst);
    let done = worker::deliver_at(&state, now + 3_600_000).await.unwrap();
    assert_eq!(done.delivered, 1);
    assert_eq!(relay.messages().len(), 1);
    let done = worker::deliver_at(&state, now + 100 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(done, worker::Delivered::default());
    assert_eq!(relay.messages().len(), 1);
}

async fn required_starttls_against_a_relay_without_it_sends_nothing(engine: Engine) {
    let (relay, port) = relay().await;
    let Some((app, state, _)) = app_with_relay(engine, port, true).await else {
        return;
    };
    let (item, _, version) = first_item(&app).await;
    give_address(&app, item).await;
    urge(&app, item, version).await;

    let done = worker::deliver_at(&state, zhongshu_store::now_ms())
        .await
        .unwrap();
    assert_eq!(done.failed, 1);
    let error = email_rows(&app).await[0].2.clone().unwrap_or_default();
    assert!(
        error.contains("STARTTLS") && error.contains("未发送"),
        "{error}"
    );
    // The relay heard a greeting and nothing more: no sender, no recipient, no message.
    let commands = relay.commands();
    assert!(
        commands
            .iter()
            .all(|c| c.starts_with("EHLO") || c.starts_with("QUIT")),
        "{commands:?}"
    );
    assert!(relay.messages().is_empty());
}

async fn addresses_are_set_on_the_user_page_and_by_oneself_and_checked_in_chinese(engine: Engine) {
    let Some(app) = TestApp::new(engine).await else {
        return;
    };
    let liaison = app.user("czj_lly").await;
    assert_eq!(liaison.email, "");
    let admin = app.login_demo("xitong").await;
    let path = format!("/users/{}/email", liaison.id);
    admin
        .post_form(&path, &[("email", "zhang san@czj")])
        .await
        .assert_status(reqwest::StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("电子邮箱格式不正确");
    let updates = app
        .audit_count(zhongshu_domain::audit::AuditCode::UserUpdated, "xitong")
        .await;
    let reply = admin
        .post_form(&path, &[("email", "czj@czj.gov.local")])
        .await;
    reply.assert_status(reqwest::StatusCode::SEE_OTHER);
    assert_eq!(app.user("czj_lly").await.email, "czj@czj.gov.local");
    assert_eq!(
        app.audit_count(zhongshu_domain::audit::AuditCode::UserUpdated, "xitong")
            .await,
        updates + 1
    );
    admin
        .get(reply.location())
        .await
        .assert_contains("czj@czj.gov.local")
        .assert_contains("电子邮箱已保存");

    // The person changes it on 个人中心, but cannot use the administrator's form.
    let me = app.login_demo("czj_lly").await;
    me.post_form(&path, &[("email", "x@y.z")])
        .await
        .assert_status(reqwest::StatusCode::FORBIDDEN);
    me.post_form("/account/email", &[("email", "@gov.local")])
        .await
        .assert_status(reqwest::StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("电子邮箱格式不正确");
    me.post_form("/account/email", &[("email", "me@czj.gov.local")])
        .await
        .assert_status(reqwest::StatusCode::SEE_OTHER);
    me.get("/account")
        .await
        .assert_contains("value=\"me@czj.gov.local\"");
    // Cleared: no address, no e-mail.
    me.post_form("/account/email", &[("email", "")])
        .await
        .assert_status(reqwest::StatusCode::SEE_OTHER);
    assert_eq!(app.user("czj_lly").await.email, "");
}
