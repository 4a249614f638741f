//! Monthly and weekly plans (月计划/周计划) over HTTP: a month lists what falls due in it and not
//! what falls due the month after, a week lists a monthly report date inside it, a unit's
//! liaison sees only their unit's items on the page and in the export, and an administrator is
//! kept out.
//!
//! The items are imported (and so assigned) today, so the periods are taken after today: next
//! month and the week holding its 25th.

use crate::harness::{TestApp, Visitor};
use reqwest::StatusCode;
use reqwest::header;
use zhongshu_domain::plan::Period;

on_both_engines!(a_liaison_sees_only_their_units_items_in_the_plan_and_its_export,);

const FINANCE: &str = "（1）计划测试：清理暂付款";
const EDUCATION_LATER: &str = "（1）计划测试：改造薄弱学校";
const EDUCATION_MONTHLY: &str = "（2）计划测试：推进课后服务";

/// Next month: after every item's assignment (today).
fn next_month() -> Period {
    Period::month_of(zhongshu_web::util::beijing_today()).next()
}

/// A 任务分解表 for next month's ledger year: a 县财政局 measure due on the 20th of next month,
/// a 县教育局 measure due on the 15th of the month after, and a 县教育局 measure reported on
/// the 25th of every month. 县审计局 co-owns all three.
fn task_csv(month: &Period) -> String {
    let after = month.next();
    format!(
        "序号,重点任务,具体措施,牵头单位,责任单位,责任领导,责任人,完成时限,备注\n\
         1,财政管理,{FINANCE},县财政局,县审计局,陈国平,张明,{}年{}月20日前,\n\
         2,教育提质,{EDUCATION_LATER},县教育局,县审计局,孙立华,李华,{}年{}月15日前,\n\
         ,,{EDUCATION_MONTHLY},县教育局,县审计局,孙立华,李华,每月25日前报送进展,\n",
        month.start.year(),
        month.start.month(),
        after.start.year(),
        after.start.month(),
    )
}

/// 督查室 (ducha) imports the table into next month's ledger year.
async fn imported(app: &TestApp) -> Period {
    let month = next_month();
    let ducha = app.login_demo("ducha").await;
    let boundary = "----zhongshu-plan-boundary-51f2";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"year\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{}\r\n--{boundary}--\r\n",
        month.start.year(),
        task_csv(&month)
    );
    let reply = app
        .send(
            ducha
                .request(reqwest::Method::POST, "/supervision/import")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert!(
        reply.location().contains("ok=items_imported"),
        "{}",
        reply.location()
    );
    month
}

/// The table rows (`<tr …>…</tr>`) of a page that mention `text`.
fn rows_with<'a>(body: &'a str, text: &str) -> Vec<&'a str> {
    body.split("<tr")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap_or(row))
        .filter(|row| row.contains(text))
        .collect()
}

/// The 具体措施 of an exported plan, read back as a task table.
async fn exported_measures(visitor: &Visitor<'_>, query: &str) -> Vec<String> {
    let response = visitor
        .request(
            reqwest::Method::GET,
            &format!("/supervision/plan/export?{query}"),
        )
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.expect("export body");
    let rows = zhongshu_office::tasks::read_task_table("plan.xlsx", &bytes)
        .unwrap_or_else(|problems| panic!("the export does not read back: {problems:?}"));
    rows.into_iter().map(|r| r.measure).collect()
}

async fn a_liaison_sees_only_their_units_items_in_the_plan_and_its_export(app: &TestApp) {
    let month = imported(app).await;
    let query = format!("month={}", month.code());

    let ducha = app.login_demo("ducha").await;
    let page = ducha.get(&format!("/supervision/plan?{query}")).await;
    page.assert_status(StatusCode::OK)
        .assert_contains(FINANCE)
        .assert_contains(EDUCATION_LATER)
        .assert_contains(EDUCATION_MONTHLY)
        .assert_contains("县财政局")
        .assert_contains("县教育局");
    let mut all = exported_measures(&ducha, &query).await;
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3, "{all:?}");

    let liaison = app.login_demo("czj_lly").await;
    let page = liaison.get(&format!("/supervision/plan?{query}")).await;
    page.assert_status(StatusCode::OK)
        .assert_contains(FINANCE)
        .assert_lacks(EDUCATION_LATER)
        .assert_lacks(EDUCATION_MONTHLY);
    let mine = exported_measures(&liaison, &query).await;
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|m| m == FINANCE), "{mine:?}");

    // The co-unit's liaison sees the three items it co-owns, under its own unit.
    let audit = app.login_demo("sjj_lly").await;
    audit
        .get(&format!("/supervision/plan?{query}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(FINANCE)
        .assert_contains(EDUCATION_LATER)
        .assert_contains(EDUCATION_MONTHLY)
        .assert_contains("县审计局");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_view_lists_an_item_due_that_month_and_not_one_due_the_month_after() {
    let app = TestApp::sqlite().await;
    let month = imported(&app).await;
    let ducha = app.login_demo("ducha").await;
    let page = ducha
        .get(&format!("/supervision/plan?month={}", month.code()))
        .await;
    page.assert_status(StatusCode::OK)
        .assert_contains(&format!("{}计划</h2>", month.label()));
    let due_day = format!("{}-{:02}-20", month.start.year(), month.start.month());
    let finance = rows_with(&page.body, FINANCE);
    assert!(
        finance
            .iter()
            .any(|r| r.contains("plan-row-deadline") && r.contains(&due_day)),
        "{finance:?}"
    );
    // Due the month after: only its month-end progress report is owed this month.
    let later = rows_with(&page.body, EDUCATION_LATER);
    assert!(!later.is_empty());
    assert!(
        later.iter().all(|r| !r.contains("plan-row-deadline")),
        "{later:?}"
    );
    // And the month after lists its deadline.
    let after = ducha
        .get(&format!("/supervision/plan?month={}", month.next().code()))
        .await;
    assert!(
        rows_with(&after.body, EDUCATION_LATER)
            .iter()
            .any(|r| r.contains("plan-row-deadline")),
        "the month after lists the deadline"
    );
    // Previous and next links, and the switch to the week.
    page.assert_contains(&format!("month={}", month.previous().code()))
        .assert_contains(&format!("month={}", month.next().code()))
        .assert_contains(&format!("week={}", Period::week_of(month.start).code()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_view_lists_a_monthly_report_date_falling_in_that_week() {
    let app = TestApp::sqlite().await;
    let month = imported(&app).await;
    let the_25th = month
        .start
        .checked_add(jiff::Span::new().days(24))
        .expect("the 25th");
    let week = Period::week_of(the_25th);
    let ducha = app.login_demo("ducha").await;
    let page = ducha
        .get(&format!("/supervision/plan?week={}", the_25th))
        .await;
    page.assert_status(StatusCode::OK)
        .assert_contains(&format!("{}周计划", week.label()));
    let monthly = rows_with(&page.body, EDUCATION_MONTHLY);
    assert!(
        monthly
            .iter()
            .any(|r| r.contains("plan-row-report") && r.contains(&the_25th.to_string())),
        "{monthly:?}"
    );
    // The week before owes no report on the 25th.
    let before = ducha
        .get(&format!(
            "/supervision/plan?week={}",
            week.previous().code()
        ))
        .await;
    assert!(
        rows_with(&before.body, EDUCATION_MONTHLY)
            .iter()
            .all(|r| !r.contains(&the_25th.to_string())),
    );
    ducha
        .get("/supervision/plan?week=2026-02-30")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_is_refused_the_plan_and_its_export_with_403() {
    let app = TestApp::sqlite().await;
    let month = imported(&app).await;
    let admin = app.login_demo("xitong").await;
    admin
        .get(&format!("/supervision/plan?month={}", month.code()))
        .await
        .assert_status(StatusCode::FORBIDDEN)
        .assert_lacks(FINANCE);
    admin
        .get(&format!("/supervision/plan/export?month={}", month.code()))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // A leader reads the whole plan.
    app.login_demo("lingdao")
        .await
        .get(&format!("/supervision/plan?month={}", month.code()))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(FINANCE)
        .assert_contains(EDUCATION_LATER);
}
