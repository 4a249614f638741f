//! Who may open what: every role's demo user against every page, API route and guarded form
//! post, each cell an exact status from the table below. Every refusal is audited.

use crate::harness::{Reply, TestApp};
use reqwest::StatusCode;
use zhongshu_domain::audit::AuditCode;

on_both_engines!(every_role_gets_exactly_the_pages_and_actions_the_table_allows,);

/// One demo user per role: 系统管理员, 安全管理员, 安全审计员, 督查室, 信息编辑, 领导, 值班员,
/// and 县财政局's 联络员 and 负责人.
const USERS: [&str; 9] = [
    "xitong", "anquan", "shenji", "ducha", "xinxi", "lingdao", "zhiban", "czj_lly", "czj_fzr",
];

/// The expected status of each request for each user, in the order of [`USERS`].
/// 200 (or 303 for a form post that redirects) is allowed, 403 refused.
#[rustfmt::skip]
const MATRIX: &[(&str, [u16; 9])] = &[
    //                          xitong anquan shenji ducha xinxi lingdao zhiban czj_lly czj_fzr
    ("GET /",                   [200,   200,   200,   200,  200,  200,    200,   200,    200]),
    ("GET /units",              [200,   200,   200,   200,  200,  200,    200,   200,    200]),
    ("GET /users",              [200,   200,   403,   403,  403,  403,    403,   403,    403]),
    ("GET /users/1",            [200,   200,   403,   403,  403,  403,    403,   403,    403]),
    ("GET /calendar",           [200,   200,   200,   200,  200,  200,    200,   200,    200]),
    ("GET /audit",              [403,   403,   200,   403,  403,  403,    403,   403,    403]),
    ("GET /settings",           [200,   200,   403,   403,  403,  403,    403,   403,    403]),
    ("GET /account",            [200,   200,   200,   200,  200,  200,    200,   200,    200]),
    ("API /units",              [200,   200,   200,   200,  200,  200,    200,   200,    200]),
    ("API /users",              [200,   200,   403,   403,  403,  403,    403,   403,    403]),
    ("API /me",                 [200,   200,   200,   200,  200,  200,    200,   200,    200]),
    ("POST /units",             [303,   403,   403,   403,  403,  403,    403,   403,    403]),
    ("POST /calendar",          [303,   403,   403,   403,  403,  403,    403,   403,    403]),
    ("POST /users/{id}/roles",  [403,   303,   403,   403,  403,  403,    403,   403,    403]),
    ("POST /audit/verify",      [403,   403,   200,   403,  403,  403,    403,   403,    403]),
];

/// Whose roles the security administrator's cell rewrites (not one of [`USERS`], since changing
/// roles signs the user out).
const ROLES_TARGET: &str = "xinxi2";

fn matrix_unit_name(username: &str) -> String {
    format!("权限矩阵单位{username}")
}

async fn request(app: &TestApp, username: &str, cookie: &str, token: &str, what: &str) -> Reply {
    let visitor = crate::harness::Visitor {
        app,
        cookie: cookie.to_owned(),
    };
    match what.split_once(' ') {
        Some(("GET", path)) => visitor.get(path).await,
        Some(("API", path)) => app.get_api(path, token).await,
        Some(("POST", "/units")) => {
            let name = matrix_unit_name(username);
            visitor
                .post_form("/units", &[("name", &name), ("unit_type", "department")])
                .await
        }
        Some(("POST", "/calendar")) => {
            visitor
                .post_form(
                    "/calendar",
                    &[
                        ("body", "2031 元旦 01-01\n2031 上班 01-04\n"),
                        ("year", "2031"),
                    ],
                )
                .await
        }
        Some(("POST", "/users/{id}/roles")) => {
            let target = app.user(ROLES_TARGET).await;
            let version = target.version.to_string();
            visitor
                .post_form(
                    &format!("/users/{}/roles", target.id),
                    &[("role", "editor"), ("version", &version)],
                )
                .await
        }
        Some(("POST", "/audit/verify")) => visitor.post_form("/audit/verify", &[]).await,
        _ => panic!("no request for {what}"),
    }
}

async fn every_role_gets_exactly_the_pages_and_actions_the_table_allows(app: &TestApp) {
    let mut wrong = Vec::new();
    let mut cells = 0;
    for (column, username) in USERS.iter().enumerate() {
        let visitor = app.login_demo(username).await;
        let token = app.token_for(username).await;
        for (what, expected) in MATRIX {
            let expected = StatusCode::from_u16(expected[column]).expect("status");
            let refusals_before = app
                .audit_count(AuditCode::PermissionRefused, username)
                .await;
            let reply = request(app, username, &visitor.cookie, &token, what).await;
            let refusals_after = app
                .audit_count(AuditCode::PermissionRefused, username)
                .await;
            cells += 1;
            if reply.status != expected {
                wrong.push(format!(
                    "{username:8} {what:24} expected {expected}, got {} ({})",
                    reply.status,
                    reply.location()
                ));
                continue;
            }
            let audited = refusals_after - refusals_before;
            if expected == StatusCode::FORBIDDEN {
                if audited != 1 {
                    wrong.push(format!(
                        "{username:8} {what:24} refused but {audited} refusal events were audited"
                    ));
                }
                if what.starts_with("API ") {
                    let body = reply.json();
                    if body["code"] != "forbidden" {
                        wrong.push(format!("{username:8} {what:24} 403 body {}", reply.body));
                    }
                } else if !reply.body.contains("无权") {
                    wrong.push(format!(
                        "{username:8} {what:24} 403 page is not the Chinese refusal: {}",
                        reply.body
                    ));
                }
            } else if audited != 0 {
                wrong.push(format!(
                    "{username:8} {what:24} allowed but {audited} refusal events were audited"
                ));
            }
        }
    }
    assert_eq!(cells, USERS.len() * MATRIX.len());
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // What the allowed posts did, and that no refused one did anything.
    let names = app.unit_names().await;
    for username in USERS {
        assert_eq!(
            names.contains(&matrix_unit_name(username)),
            username == "xitong",
            "{username}'s unit"
        );
    }
    assert_eq!(app.audit_events(AuditCode::UnitCreated).await.len(), 1);
    assert_eq!(
        app.audit_events(AuditCode::CalendarYearSaved).await.len(),
        1
    );
    let roles = app.audit_events(AuditCode::RolesChanged).await;
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].actor_name, "anquan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_audited_with_who_what_and_from_where() {
    let app = TestApp::sqlite().await;
    let visitor = app.login_demo("czj_lly").await;
    let reply = visitor.get("/settings").await;
    reply
        .assert_status(StatusCode::FORBIDDEN)
        .assert_contains("您没有权限执行此操作");
    let events = app.audit_events(AuditCode::PermissionRefused).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.actor_name, "czj_lly");
    assert_eq!(event.target, "settings");
    assert_eq!(event.client_addr.as_deref(), Some("127.0.0.1"));
    let unit = app.unit_id("县财政局").await;
    assert_eq!(event.actor_unit_id, Some(unit.get()));

    let token = app.token_for("czj_lly").await;
    let api = app.get_api("/users", &token).await;
    api.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(api.json()["code"], "forbidden");
    let events = app.audit_events(AuditCode::PermissionRefused).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].target, "api:users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_navigation_offers_only_the_pages_a_role_may_open() {
    let app = TestApp::sqlite().await;
    let liaison = app.login_demo("czj_lly").await.get("/").await;
    liaison
        .assert_status(StatusCode::OK)
        .assert_contains("href=\"/units\"")
        .assert_lacks("href=\"/users\"")
        .assert_lacks("href=\"/audit\"")
        .assert_lacks("href=\"/settings\"");
    let auditor = app.login_demo("shenji").await.get("/").await;
    auditor
        .assert_contains("href=\"/audit\"")
        .assert_lacks("href=\"/users\"");
    let security = app.login_demo("anquan").await.get("/").await;
    security
        .assert_contains("href=\"/users\"")
        .assert_contains("href=\"/settings\"")
        .assert_lacks("href=\"/audit\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_system_administrator_sees_the_unit_forms() {
    let app = TestApp::sqlite().await;
    app.login_demo("xitong")
        .await
        .get("/units")
        .await
        .assert_contains("action=\"/units/import\"");
    app.login_demo("anquan")
        .await
        .get("/units")
        .await
        .assert_status(StatusCode::OK)
        .assert_lacks("action=\"/units/import\"")
        .assert_lacks("action=\"/units\"");
}

/// The settings page shows the outbox and attachment settings in force, but never a robot's
/// key or the mail relay's password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_page_shows_the_channels_without_their_secrets() {
    let app = TestApp::sqlite_with(|s| {
        s.notify.wecom_urls = vec![zhongshu_web::config::Secret::new(
            "http://127.0.0.1:9/cgi-bin/webhook/send?key=robot-secret-77",
        )];
        s.notify.smtp_host = "mail.gov.local".to_owned();
        s.notify.smtp_from = "督查室 <ducha@gov.local>".to_owned();
        s.notify.smtp_username = "ducha".to_owned();
        s.notify.smtp_password = zhongshu_web::config::Secret::new("smtp-secret-88");
        s.attachments.max_file_mib = 7;
    })
    .await;
    let page = app.login_demo("xitong").await.get("/settings").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("mail.gov.local:25")
        .assert_contains("已设置（不显示）")
        .assert_contains("单个附件上限（MB）")
        .assert_contains(">7<")
        .assert_lacks("robot-secret-77")
        .assert_lacks("smtp-secret-88");
}
