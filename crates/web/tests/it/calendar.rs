//! The working-day calendar: the page, the administrator's corrections, and the API that
//! deadlines are computed with.

use crate::harness::TestApp;
use reqwest::StatusCode;
use zhongshu_domain::audit::AuditCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_page_shows_a_shipped_year_with_its_festivals() {
    let app = TestApp::sqlite().await;
    let visitor = app.login_demo("zhiban").await;
    visitor
        .get("/calendar?year=2024")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("春节")
        .assert_contains("2月4日")
        .assert_lacks("name=\"body\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrators_correction_changes_what_the_api_answers() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let token = app.token_for("zhiban").await;
    let before = app
        .get_api("/calendar/is-workday?date=2031-01-01", &token)
        .await;
    before.assert_status(StatusCode::OK);
    assert_eq!(
        before.json()["workday"],
        true,
        "a Wednesday before the correction"
    );

    let saved = admin
        .post_form(
            "/calendar",
            &[
                (
                    "body",
                    "2031 来源 测试通知\n2031 元旦 01-01\n2031 上班 01-04\n",
                ),
                ("year", "2031"),
            ],
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), "/calendar?year=2031&ok=calendar_saved");

    let new_year = app
        .get_api("/calendar/is-workday?date=2031-01-01", &token)
        .await
        .json();
    assert_eq!(new_year["workday"], false);
    assert_eq!(new_year["festival"], "元旦");
    let make_up = app
        .get_api("/calendar/is-workday?date=2031-01-04", &token)
        .await
        .json();
    assert_eq!(make_up["workday"], true, "a Saturday made a workday");
    let next = app
        .get_api("/calendar/add-workdays?date=2030-12-31&n=1", &token)
        .await
        .json();
    assert_eq!(next["result"], "2031-01-02");
    assert_eq!(
        app.audit_events(AuditCode::CalendarYearSaved).await.len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_text_with_a_bad_line_is_refused_by_line_and_not_saved() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let reply = admin
        .post_form(
            "/calendar",
            &[
                ("body", "2031 元旦 01-01\n2031 上班 01-06\n"),
                ("year", "2031"),
            ],
        )
        .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("未保存")
        .assert_contains("第2行");
    assert!(
        app.audit_events(AuditCode::CalendarYearSaved)
            .await
            .is_empty()
    );
    let empty = admin
        .post_form("/calendar", &[("body", "# 只有注释\n"), ("year", "2031")])
        .await;
    empty
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("没有任何年份的节假日数据");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_is_imported_from_a_small_gbk_file() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let text = "2032 来源 测试通知\n2032 春节 02-10..02-16\n2032 上班 02-08\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    assert!(std::str::from_utf8(&gbk).is_err(), "the file really is GBK");
    let saved = admin.post_file("/calendar/import", "2032.txt", &gbk).await;
    saved.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), "/calendar?year=2032&ok=calendar_saved");
    let token = app.token_for("zhiban").await;
    let day = app
        .get_api("/calendar/is-workday?date=2032-02-12", &token)
        .await
        .json();
    assert_eq!(day["workday"], false);
    assert_eq!(day["festival"], "春节");

    // A bad file is refused by line and saves nothing.
    let refused = admin
        .post_file(
            "/calendar/import",
            "bad.txt",
            "2033 春节 02-30\n".as_bytes(),
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("第1行");
    assert_eq!(
        app.audit_events(AuditCode::CalendarYearSaved).await.len(),
        1
    );
    // Only the system administrator may import.
    let other = app.login_demo("ducha").await;
    other
        .post_file("/calendar/import", "2032.txt", &gbk)
        .await
        .assert_status(StatusCode::FORBIDDEN);
}
