//! Signing in and out, lockout, idle expiry, cross-site form posts and the security headers.

use crate::harness::{DEMO_PASSWORD, TestApp};
use reqwest::StatusCode;
use zhongshu_domain::audit::AuditCode;

on_both_engines!(
    signing_in_and_adding_a_unit_works,
    a_demo_user_signs_in_with_a_safe_cookie_and_sees_their_name_on_the_home_page,
    five_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused_too,
    logging_out_everywhere_ends_the_other_browsers_session_too,
    a_cross_site_form_post_is_refused_audited_and_changes_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_is_served_in_chinese_to_anyone() {
    let app = TestApp::sqlite().await;
    let page = app.get("/login").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("<html lang=\"zh-CN\">")
        .assert_contains("用户名")
        .assert_contains("明湖县");
    assert!(
        page.header("content-type").starts_with("text/html"),
        "{}",
        page.header("content-type")
    );
}

async fn a_demo_user_signs_in_with_a_safe_cookie_and_sees_their_name_on_the_home_page(
    app: &TestApp,
) {
    let reply = app.try_login("xitong", DEMO_PASSWORD).await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/");
    let set = reply.set_session_cookie().expect("a session cookie is set");
    let attributes: Vec<&str> = set.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"HttpOnly"), "{set}");
    assert!(attributes.contains(&"SameSite=Lax"), "{set}");
    assert!(attributes.contains(&"Path=/"), "{set}");
    let cookie = reply.session_cookie().expect("a non-empty session token");
    assert_eq!(cookie.len(), "zs_session=".len() + 64, "{cookie}");

    let home = app
        .send(
            app.request(reqwest::Method::GET, "/")
                .header("cookie", &cookie),
        )
        .await;
    home.assert_status(StatusCode::OK)
        .assert_contains("刘志刚")
        .assert_contains("首页");
    assert_eq!(
        app.audit_count(AuditCode::LoginSucceeded, "xitong").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_with_401_and_a_chinese_message_and_no_cookie() {
    let app = TestApp::sqlite().await;
    let reply = app.try_login("xitong", "Wrong#2026pw").await;
    reply
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("用户名或密码不正确");
    assert!(reply.set_session_cookie().is_none(), "{:?}", reply.headers);
    // The username typed is kept in the form; the password is not echoed.
    reply
        .assert_contains("value=\"xitong\"")
        .assert_lacks("Wrong#2026pw");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_username_gets_the_same_answer_as_a_wrong_password() {
    let app = TestApp::sqlite().await;
    let reply = app.try_login("nobody", DEMO_PASSWORD).await;
    reply
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("用户名或密码不正确");
    assert!(reply.set_session_cookie().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_without_a_session_redirects_to_the_login_page_with_the_way_back() {
    let app = TestApp::sqlite().await;
    let reply = app.get("/units").await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/login?next=/units");
    let forged = app
        .send(
            app.request(reqwest::Method::GET, "/")
                .header("cookie", format!("zs_session={}", "0".repeat(64))),
        )
        .await;
    forged.assert_status(StatusCode::SEE_OTHER);
    assert!(
        forged.location().starts_with("/login"),
        "{}",
        forged.location()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_follows_only_a_local_next_path() {
    let app = TestApp::sqlite().await;
    let local = app
        .post_form(
            "/login",
            &[
                ("username", "xitong"),
                ("password", DEMO_PASSWORD),
                ("next", "/units"),
            ],
        )
        .await;
    local.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(local.location(), "/units");
    let elsewhere = app
        .post_form(
            "/login",
            &[
                ("username", "xitong"),
                ("password", DEMO_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    elsewhere.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(elsewhere.location(), "/");
}

async fn five_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused_too(
    app: &TestApp,
) {
    for attempt in 1..=4 {
        let reply = app.try_login("zhiban", "Wrong#2026pw").await;
        reply
            .assert_status(StatusCode::UNAUTHORIZED)
            .assert_contains("用户名或密码不正确");
        assert!(
            reply
                .body
                .contains(&format!("再错{}次将锁定账号", 5 - attempt)),
            "attempt {attempt}: {}",
            reply.body
        );
    }
    let fifth = app.try_login("zhiban", "Wrong#2026pw").await;
    fifth
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("锁定");
    assert!(fifth.set_session_cookie().is_none());

    let right = app.try_login("zhiban", DEMO_PASSWORD).await;
    right
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("已被锁定");
    assert!(
        right.set_session_cookie().is_none(),
        "a locked account must not get a session"
    );
    assert_eq!(app.audit_count(AuditCode::AccountLocked, "zhiban").await, 1);
    assert_eq!(
        app.audit_count(AuditCode::LoginSucceeded, "zhiban").await,
        0
    );
    // Someone else is not affected by zhiban's lockout.
    app.login_demo("xinxi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_expires_and_the_login_page_says_so() {
    let app = TestApp::sqlite_with(|s| s.security.idle_timeout_minutes = 0).await;
    let visitor = app.login_demo("xinxi").await;
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;

    let reply = visitor.get("/").await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let location = reply.location().to_owned();
    assert!(
        location.starts_with("/login?expired=1"),
        "redirected to {location}"
    );
    let login = app.get(&location).await;
    login
        .assert_status(StatusCode::OK)
        .assert_contains("登录已超时");
    // The expired session is gone for good.
    let again = visitor.get("/").await;
    again.assert_status(StatusCode::SEE_OTHER);
    assert!(
        again.location().starts_with("/login?next="),
        "{}",
        again.location()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_without_expired_says_nothing_about_a_timeout() {
    let app = TestApp::sqlite().await;
    app.get("/login?next=/units")
        .await
        .assert_status(StatusCode::OK)
        .assert_lacks("登录已超时")
        .assert_contains("value=\"/units\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_clears_the_cookie() {
    let app = TestApp::sqlite().await;
    let visitor = app.login_demo("xinxi").await;
    visitor.get("/").await.assert_status(StatusCode::OK);
    let out = visitor.post_form("/logout", &[]).await;
    out.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    let cleared = out.set_session_cookie().expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = visitor.get("/").await;
    after.assert_status(StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/login"));
}

async fn logging_out_everywhere_ends_the_other_browsers_session_too(app: &TestApp) {
    let office = app.login_demo("ducha").await;
    let laptop = app.login_demo("ducha").await;
    assert_ne!(office.cookie, laptop.cookie);
    laptop.get("/").await.assert_status(StatusCode::OK);

    let reply = office.post_form("/account/logout-everywhere", &[]).await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/login");

    let stale = laptop.get("/").await;
    stale.assert_status(StatusCode::SEE_OTHER);
    assert!(
        stale.location().starts_with("/login"),
        "{}",
        stale.location()
    );
    let own = office.get("/account").await;
    own.assert_status(StatusCode::SEE_OTHER);
    assert!(own.location().starts_with("/login"));
    assert_eq!(
        app.audit_count(AuditCode::LoggedOutEverywhere, "ducha")
            .await,
        1
    );
    // Someone else's session is untouched.
    let other = app.login_demo("xinxi").await;
    let again = app.login_demo("ducha").await;
    again
        .post_form("/account/logout-everywhere", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.audit_count(AuditCode::LoggedOutEverywhere, "ducha")
            .await,
        2
    );
    other.get("/").await.assert_status(StatusCode::OK);
}

async fn a_cross_site_form_post_is_refused_audited_and_changes_nothing(app: &TestApp) {
    let admin = app.login_demo("xitong").await;
    let token = app.token_for("xitong").await;
    let form = [
        ("name", "跨站测试单位"),
        ("parent_id", ""),
        ("unit_type", "department"),
        ("sort_order", ""),
    ];

    let refused = admin
        .post_form_with(
            "/units",
            &form,
            &[
                ("Origin", "http://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
        )
        .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    refused.assert_contains("跨站请求已被拒绝");
    let units = app.get_api("/units", &token).await;
    units.assert_status(StatusCode::OK);
    assert!(
        !units.body.contains("跨站测试单位"),
        "a refused cross-site post created the unit"
    );
    let events = app.audit_events(AuditCode::CrossSiteRequestRefused).await;
    assert_eq!(
        events.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        vec!["POST /units"],
        "the refusal must be in the audit log"
    );
    assert_eq!(app.audit_events(AuditCode::UnitCreated).await.len(), 0);

    // An old browser that sends only Origin from elsewhere is refused too.
    admin
        .post_form_with("/units", &form, &[("Origin", "http://evil.example")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        app.audit_events(AuditCode::CrossSiteRequestRefused)
            .await
            .len(),
        2
    );

    let accepted = admin.post_form("/units", &form).await;
    accepted.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(accepted.location(), "/units?ok=unit_created");
    let units = app.get_api("/units", &token).await;
    assert!(units.body.contains("跨站测试单位"), "{}", units.body);
    assert_eq!(app.audit_events(AuditCode::UnitCreated).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_origin_browser_post_is_accepted() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let origin = app.base.clone();
    let reply = admin
        .post_form_with(
            "/units",
            &[("name", "同源测试单位"), ("unit_type", "office")],
            &[
                ("Origin", origin.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
            ],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert!(app.unit_names().await.contains(&"同源测试单位".to_owned()));
    // An old browser (Origin only) on the same host is accepted as well.
    admin
        .post_form_with(
            "/units",
            &[("name", "同源测试单位二"), ("unit_type", "office")],
            &[("Origin", origin.as_str())],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.unit_names()
            .await
            .contains(&"同源测试单位二".to_owned())
    );
    assert!(
        app.audit_events(AuditCode::CrossSiteRequestRefused)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_the_security_headers() {
    let app = TestApp::sqlite().await;
    let visitor = app.login_demo("xinxi").await;
    for reply in [
        app.get("/login").await,
        visitor.get("/").await,
        visitor.get("/units/999999").await,
        app.get("/api/v1/openapi.json").await,
    ] {
        let csp = reply.header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "CSP: {csp:?}");
        assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp:?}");
        assert_eq!(reply.header("x-frame-options"), "DENY");
        assert_eq!(reply.header("x-content-type-options"), "nosniff");
        assert_eq!(reply.header("referrer-policy"), "same-origin");
    }
    let page = visitor.get("/").await;
    assert_eq!(page.header("cache-control"), "no-store");
}

/// The story every deployment must support, whichever the database: sign in, see the home page,
/// add a unit with the form, find it over the API, and find the change in the audit log.
async fn signing_in_and_adding_a_unit_works(app: &TestApp) {
    let wrong = app.try_login("xitong", "Wrong#2026pw").await;
    wrong
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("用户名或密码不正确");
    let admin = app.login_demo("xitong").await;
    admin
        .get("/")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("刘志刚");

    let parent = app.unit_id("县财政局").await.to_string();
    let created = admin
        .post_form(
            "/units",
            &[
                ("name", "预算绩效科"),
                ("parent_id", parent.as_str()),
                ("unit_type", "office"),
                ("key_reporting", "on"),
                ("sort_order", "3"),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(created.location(), "/units?ok=unit_created");
    admin
        .get("/units?ok=unit_created")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("单位已新增")
        .assert_contains("预算绩效科");

    let token = app.token_for("xitong").await;
    let units = app.get_api("/units", &token).await;
    units.assert_status(StatusCode::OK);
    let list = units.json();
    let unit = list
        .as_array()
        .expect("a list of units")
        .iter()
        .find(|u| u["name"] == "预算绩效科")
        .unwrap_or_else(|| panic!("the new unit is not listed: {}", units.body));
    assert_eq!(unit["parent_id"].to_string(), parent);
    assert_eq!(unit["key_reporting"], true);
    assert_eq!(unit["unit_type"], "office");
    assert_eq!(unit["sort_order"], 3);

    let duplicate = admin
        .post_form(
            "/units",
            &[
                ("name", "预算绩效科"),
                ("parent_id", parent.as_str()),
                ("unit_type", "office"),
            ],
        )
        .await;
    duplicate
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("已有名为");

    let events = app.audit_events(AuditCode::UnitCreated).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].actor_name, "xitong");
    assert_eq!(events[0].client_addr.as_deref(), Some("127.0.0.1"));
}
