//! Progress summaries (进展汇总) over HTTP on the demo county with its demo ledger (whose four
//! progress reports are made when it loads, so they fall in this week and this month): 督查室
//! sees the reports and the 未报送 lists by unit and by leader, downloads the Word file, a
//! liaison sees only their own unit, and an administrator is refused.

use crate::harness::TestApp;
use reqwest::StatusCode;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;

on_both_engines!(
    the_office_sees_this_months_reports_and_who_reported_nothing,
    the_word_file_downloads_with_its_name,
    a_liaison_sees_only_their_unit_and_an_administrator_is_refused,
);

const YEAR: i16 = 2026;

async fn with_demo_ledger(app: &TestApp) {
    let console = Viewer::console();
    app.store
        .load_demo_ledger(console.as_supervisor().expect("console"), YEAR)
        .await
        .expect("load_demo_ledger");
}

async fn the_office_sees_this_months_reports_and_who_reported_nothing(app: &TestApp) {
    with_demo_ledger(app).await;
    let ducha = app.login_demo("ducha").await;
    let today = zhongshu_web::util::beijing_today();

    // This month by unit, by default.
    let page = ducha.get("/supervision/summaries").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("进展汇总")
        .assert_contains(&format!("{}年{}月", today.year(), today.month()))
        .assert_contains("1至10月完成投资42.6亿元，占年度计划的78%。")
        .assert_contains("2个项目用地报批滞后。")
        .assert_contains("企业开办“一网通办”上线")
        .assert_contains("<h2>县发展和改革局</h2>")
        // A unit that reported nothing: its items are listed.
        .assert_contains("<h2>县教育局</h2>")
        .assert_contains("本期未报送进展")
        .assert_contains("（2）完成中小学教师轮岗交流")
        .assert_contains("下载 Word")
        .assert_contains("/supervision/summaries.docx?kind=month")
        .assert_lacks(" style=")
        .assert_lacks("<script>");

    // This week holds the same reports; by leader, the groups are the leaders.
    ducha
        .get("/supervision/summaries?kind=week&by=leader")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("周")
        .assert_contains("<h2>孙立华</h2>")
        .assert_contains("<h2>周红梅</h2>")
        .assert_contains("<h2>陈国平</h2>")
        .assert_contains("签约覆盖率达到68%");

    // A month long before the ledger: nothing to summarise. Garbage falls back to defaults.
    ducha
        .get("/supervision/summaries?kind=month&date=2020-03-04&year=2026")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("2020年3月")
        .assert_contains("本期没有需要汇总的督办事项")
        .assert_lacks("42.6亿元");
    ducha
        .get("/supervision/summaries?kind=decade&date=yesterday&by=nobody&year=x")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("42.6亿元");
}

async fn the_word_file_downloads_with_its_name(app: &TestApp) {
    with_demo_ledger(app).await;
    let ducha = app.login_demo("ducha").await;
    let today = zhongshu_web::util::beijing_today();
    let reply = ducha
        .request(
            reqwest::Method::GET,
            "/supervision/summaries.docx?kind=month&by=unit",
        )
        .send()
        .await
        .expect("download");
    assert_eq!(reply.status(), StatusCode::OK);
    let headers = reply.headers().clone();
    let bytes = reply.bytes().await.expect("body");
    assert_eq!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let disposition = headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let name = format!("{}年{}月督办事项进展汇总.docx", today.year(), today.month());
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains(&format!(
                "filename*=UTF-8''{}",
                zhongshu_web::util::url_encode(&name)
            )),
        "{disposition}"
    );
    assert!(bytes.starts_with(b"PK"), "a .docx is a zip");
    assert!(bytes.len() > 2000, "{} bytes", bytes.len());

    // By week and by leader too.
    ducha
        .get("/supervision/summaries.docx?kind=week&by=leader")
        .await
        .assert_status(StatusCode::OK);
}

async fn a_liaison_sees_only_their_unit_and_an_administrator_is_refused(app: &TestApp) {
    with_demo_ledger(app).await;
    let fgj = app.login_demo("fgj_lly").await;
    fgj.get("/supervision/summaries")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("<h2>县发展和改革局</h2>")
        .assert_contains("42.6亿元")
        .assert_contains("（2）建立重大项目月调度、季通报机制")
        .assert_lacks("企业开办“一网通办”上线")
        .assert_lacks("<h2>县教育局</h2>");
    let reply = fgj
        .request(reqwest::Method::GET, "/supervision/summaries.docx")
        .send()
        .await
        .expect("download");
    assert_eq!(reply.status(), StatusCode::OK);
    let disposition = reply
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        disposition.contains(&zhongshu_web::util::url_encode("县发展和改革局")),
        "the unit's own summary is named for it: {disposition}"
    );

    let admin = app.login_demo("xitong").await;
    admin
        .get("/supervision/summaries")
        .await
        .assert_status(StatusCode::FORBIDDEN)
        .assert_lacks("42.6亿元");
    let refused = admin.get("/supervision/summaries.docx").await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(!refused.body.starts_with("PK"));
    assert!(
        app.audit_count(AuditCode::PermissionRefused, "xitong")
            .await
            >= 2,
        "the refusals are audited"
    );
    // Not signed in: not shown the summary.
    assert_ne!(
        app.get("/supervision/summaries.docx").await.status,
        StatusCode::OK
    );
}
