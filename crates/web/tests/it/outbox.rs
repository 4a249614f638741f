//! The outbox worker against a fake 企业微信 robot: a tiny server on 127.0.0.1 that records
//! every POST and answers with the status the test sets. Delivery ticks are run by hand
//! (`worker::deliver_at`); the node's own background delivery is switched off.

use crate::harness::TestApp;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::supervision::{Action, ItemState};
use zhongshu_store::outbox::{Channel, Target};
use zhongshu_store::supervision::ItemFilter;
use zhongshu_web::config::Secret;
use zhongshu_web::{AppState, worker};

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    status: Arc<AtomicU16>,
}

async fn record(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    r.got.lock().unwrap().push((key, body));
    StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
}

/// The receiver, serving on a port the kernel picked; its URL.
async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    r.status.store(200, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/robot", axum::routing::post(record))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, format!("http://{addr}/robot?key=secret-robot-key"))
}

/// A server whose only target is the receiver, with the demo ledger loaded without telling it.
async fn app_with(url: &str) -> (TestApp, AppState) {
    let url_owned = url.to_owned();
    let app = TestApp::sqlite_with(|s| {
        s.notify.wecom_urls = vec![Secret::new(url)];
        s.notify.deliver_seconds = 0;
        s.notify.scan_minutes = 0;
        s.notify.max_attempts = 3;
    })
    .await;
    // The same target open_store wrote from the settings.
    let targets = vec![Target {
        channel: Channel::WeCom,
        url: url_owned,
    }];
    let console = Viewer::console();
    app.store.set_outbox_targets(&[]).await.unwrap();
    app.store
        .load_demo_ledger(console.as_supervisor().unwrap(), 2026)
        .await
        .unwrap();
    app.store.set_outbox_targets(&targets).await.unwrap();
    let mut settings = zhongshu_web::Settings::default();
    settings.notify.max_attempts = 3;
    let state = AppState {
        store: app.store.clone(),
        settings: Arc::new(settings),
    };
    (app, state)
}

/// Urges the first open item of the ledger; its title.
async fn urge(app: &TestApp) -> String {
    let console = Viewer::console();
    let today = jiff::civil::date(2026, 3, 2);
    let item = app
        .store
        .list_items(&console, &ItemFilter::default(), today, 3, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.parent_id.is_some() && r.state == ItemState::Assigned)
        .expect("an assigned item");
    app.store
        .act_on_item(&console, item.id, Action::Urge, item.version, "请加快进度")
        .await
        .expect("urge");
    item.title
}

#[tokio::test]
async fn a_notification_is_posted_once_to_the_robot_with_its_idempotency_key() {
    let (receiver, url) = receiver().await;
    let (app, state) = app_with(&url).await;
    let title = urge(&app).await;

    let now = zhongshu_store::now_ms();
    let done = worker::deliver_at(&state, now).await.unwrap();
    assert_eq!(done.delivered, 1);
    {
        let got = receiver.got.lock().unwrap();
        assert_eq!(got.len(), 1, "exactly one POST");
        let (key, body) = &got[0];
        assert!(key.starts_with("zs-"), "{key}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["msgtype"], "text");
        let content = json["text"]["content"].as_str().unwrap();
        assert!(content.contains("催办（第1次）"), "{content}");
        assert!(content.contains(&title), "{content}");
        assert!(content.contains("请加快进度"), "{content}");
    }
    // Delivered: later ticks send nothing.
    for later in [now + 1, now + 10 * 3_600_000] {
        let done = worker::deliver_at(&state, later).await.unwrap();
        assert_eq!(done, worker::Delivered::default());
    }
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_key_until_it_succeeds() {
    let (receiver, url) = receiver().await;
    let (app, state) = app_with(&url).await;
    urge(&app).await;
    receiver.status.store(500, Ordering::SeqCst);

    let now = zhongshu_store::now_ms();
    let done = worker::deliver_at(&state, now).await.unwrap();
    assert_eq!(done.failed, 1);
    // Not due again before the backoff.
    let done = worker::deliver_at(&state, now + 1_000).await.unwrap();
    assert_eq!(done, worker::Delivered::default());
    receiver.status.store(200, Ordering::SeqCst);
    let done = worker::deliver_at(&state, now + 3_600_000).await.unwrap();
    assert_eq!(done.delivered, 1);
    let done = worker::deliver_at(&state, now + 100 * 3_600_000)
        .await
        .unwrap();
    assert_eq!(done, worker::Delivered::default());

    let got = receiver.got.lock().unwrap();
    assert_eq!(got.len(), 2, "one failure, one success");
    assert_eq!(got[0].0, got[1].0, "the same Idempotency-Key");
    assert_eq!(got[0].1, got[1].1, "the same body");
}

#[tokio::test]
async fn an_https_target_is_refused_at_startup() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut settings = zhongshu_web::Settings {
        data_dir: dir.path().to_owned(),
        ..zhongshu_web::Settings::default()
    };
    settings.notify.dingtalk_urls = vec![Secret::new(
        "https://oapi.dingtalk.com/robot/send?access_token=t0ken",
    )];
    let err = settings.open_store().await.expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("TLS") && text.contains("http://"), "{text}");
    assert!(!text.contains("t0ken"), "{text}");
}
