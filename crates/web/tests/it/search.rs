//! Search (检索) over HTTP: a liaison's page lists only their unit's items and reports with the
//! words marked, the top bar carries the search box, the JSON API answers the same, query
//! syntax is searched for as words, an administrator gets an empty answer, and an empty query
//! is a 400 with its Chinese message on the page and in the API.

use crate::harness::{Reply, TestApp, Visitor};
use reqwest::StatusCode;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::supervision::TaskRow;
use zhongshu_store::supervision::ItemFilter;

on_both_engines!(
    a_liaison_finds_only_their_units_items_and_reports_with_the_words_marked,
    the_api_answers_the_same_hits_and_refuses_an_empty_query_with_400,
);

const FINANCE_2: &str = "（2）压减一般性支出10%";
const EDUCATION_2: &str = "（2）完成义务教育薄弱环节改造";

fn row(row: usize, seq: &str, task: &str, measure: &str, lead: &str, note: &str) -> TaskRow {
    TaskRow {
        row,
        category: "一、推动经济高质量发展".to_owned(),
        seq: seq.to_owned(),
        task: task.to_owned(),
        measure: measure.to_owned(),
        lead_unit: lead.to_owned(),
        co_units: vec![],
        leader: "陈国平".to_owned(),
        person: "张明".to_owned(),
        deadline: "2099年12月31日前".to_owned(),
        note: note.to_owned(),
    }
}

/// Two items with 整改 in their notes: one led by 县财政局, one by 县教育局.
async fn with_ledger(app: &TestApp) {
    let console = Viewer::console();
    app.store
        .import_items(
            console.as_supervisor().unwrap(),
            2026,
            &[
                row(
                    4,
                    "1",
                    "财政收支管理",
                    FINANCE_2,
                    "县财政局",
                    "审计发现问题限期整改",
                ),
                row(
                    5,
                    "2",
                    "教育提质扩容",
                    EDUCATION_2,
                    "县教育局",
                    "整改问题清单实行销号管理",
                ),
            ],
        )
        .await
        .expect("import_items");
}

async fn item_id(app: &TestApp, title: &str) -> i64 {
    app.store
        .list_items(
            &Viewer::console(),
            &ItemFilter::default(),
            jiff::civil::date(2026, 3, 2),
            3,
            1000,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no item {title}"))
        .id
}

/// `text` percent-encoded for a query string, as a browser sends a form field.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// GET /search?q=…
async fn search_page(visitor: &Visitor<'_>, q: &str) -> Reply {
    visitor.get(&format!("/search?q={}", encode(q))).await
}

/// GET /api/v1/search?q=…
async fn search_api(app: &TestApp, token: &str, q: &str) -> Reply {
    app.get_api(&format!("/search?q={}", encode(q)), token)
        .await
}

async fn a_liaison_finds_only_their_units_items_and_reports_with_the_words_marked(app: &TestApp) {
    with_ledger(app).await;
    let (finance, education) = (
        item_id(app, FINANCE_2).await,
        item_id(app, EDUCATION_2).await,
    );
    // Each unit reports on its own item through the page.
    let czj = app.login_demo("czj_lly").await;
    czj.post_form(
        &format!("/supervision/items/{finance}/report"),
        &[
            ("done", "整改台账已建立"),
            ("problems", "个别问题拨付资金滞后"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let jyj = app.login_demo("jyj_lly").await;
    jyj.post_form(
        &format!("/supervision/items/{education}/report"),
        &[("done", "整改资金已下达")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    // The search box is in the top bar of every page of the shell.
    czj.get("/")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("action=\"/search\"")
        .assert_contains("placeholder=\"搜索事项、进展\"");
    // Opening the page without a query shows the form.
    czj.get("/search")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("name=\"q\"")
        .assert_lacks("共 ");

    let page = search_page(&czj, "整改").await;
    page.assert_status(StatusCode::OK)
        .assert_contains(FINANCE_2)
        .assert_contains(&format!("href=\"/supervision/items/{finance}\""))
        .assert_contains("限期<mark>整改</mark>")
        .assert_contains("<mark>整改</mark>台账已建立")
        .assert_contains("共 1 项")
        .assert_contains("共 1 条")
        .assert_lacks(EDUCATION_2)
        .assert_lacks("整改资金已下达")
        .assert_lacks(&format!("/supervision/items/{education}\""));
    // A report's own words, marked, with the unit that reported.
    search_page(&czj, "拨付")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("<mark>拨付</mark>资金滞后")
        .assert_contains("县财政局")
        .assert_contains("共 0 项");
    // The other unit's words: nothing, not even a count.
    search_page(&czj, "下达")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("共 0 项")
        .assert_contains("共 0 条")
        .assert_lacks("下达</mark>");

    let ducha = app.login_demo("ducha").await;
    search_page(&ducha, "整改")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(FINANCE_2)
        .assert_contains(EDUCATION_2)
        .assert_contains("共 2 项")
        .assert_contains("共 2 条");

    // An administrator may search but finds nothing.
    let admin = app.login_demo("xitong").await;
    search_page(&admin, "整改")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("共 0 项")
        .assert_lacks(FINANCE_2);

    // Query syntax is searched for as words: no error page.
    for q in ["整改 OR \"", "NEAR(整改", "整改*", "tokens:整改", "整改'--"] {
        search_page(&ducha, q).await.assert_status(StatusCode::OK);
    }
    // An empty query: the form again, with the message, as a 400.
    for q in ["", "  ", "，。*"] {
        search_page(&ducha, q)
            .await
            .assert_status(StatusCode::BAD_REQUEST)
            .assert_contains("请输入要搜索的词")
            .assert_contains("name=\"q\"");
    }
    // Not signed in: off to the sign-in page.
    let anonymous = app.get(&format!("/search?q={}", encode("整改"))).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous.location().starts_with("/login"),
        "{}",
        anonymous.location()
    );
}

async fn the_api_answers_the_same_hits_and_refuses_an_empty_query_with_400(app: &TestApp) {
    with_ledger(app).await;
    let finance = item_id(app, FINANCE_2).await;
    let czj = app.token_for("czj_lly").await;
    let reply = search_api(app, &czj, "整改").await;
    reply.assert_status(StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["item_count"], 1, "{json}");
    assert_eq!(json["report_count"], 0, "{json}");
    assert_eq!(json["items"][0]["item_id"], finance, "{json}");
    assert_eq!(json["items"][0]["title"], FINANCE_2, "{json}");
    assert_eq!(json["items"][0]["lead_unit"], "县财政局", "{json}");
    assert_eq!(json["items"][0]["ledger_year"], 2026, "{json}");
    assert_eq!(json["items"][0]["state"], "assigned", "{json}");
    assert_eq!(json["items"][0]["snippet"]["field"], "备注", "{json}");
    assert_eq!(
        json["items"][0]["snippet"]["parts"],
        serde_json::json!([
            { "text": "审计发现问题限期", "hit": false },
            { "text": "整改", "hit": true }
        ]),
        "{json}"
    );
    assert_eq!(json["words"], serde_json::json!(["整改"]), "{json}");

    let ducha = app.token_for("ducha").await;
    assert_eq!(
        search_api(app, &ducha, "整改").await.json()["item_count"],
        2
    );
    let limited = app
        .get_api(&format!("/search?q={}&limit=1", encode("整改")), &ducha)
        .await;
    let json = limited.json();
    assert_eq!(json["item_count"], 2, "{json}");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(1), "{json}");

    let reply = app
        .get_api(&format!("/search?q={}&limit=many", encode("整改")), &ducha)
        .await;
    reply.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["code"], "bad_request");

    let admin = app.token_for("xitong").await;
    let json = search_api(app, &admin, "整改").await.json();
    assert_eq!(json["item_count"], 0, "{json}");
    assert_eq!(json["items"], serde_json::json!([]), "{json}");

    for q in ["督办 OR \"", "*整改", "NEAR(", "'", ":"] {
        let reply = search_api(app, &ducha, q).await;
        assert!(
            reply.status == StatusCode::OK || reply.status == StatusCode::BAD_REQUEST,
            "{q}: {} {}",
            reply.status,
            reply.body
        );
    }
    for q in ["", "，", "*"] {
        let reply = search_api(app, &ducha, q).await;
        reply.assert_status(StatusCode::BAD_REQUEST);
        let json = reply.json();
        assert_eq!(json["code"], "bad_request", "{json}");
        assert_eq!(json["message"], "请输入要搜索的词", "{json}");
    }
    // No q at all is the same empty query.
    let reply = app.get_api("/search", &ducha).await;
    reply.assert_status(StatusCode::BAD_REQUEST);
    // The route is in the OpenAPI document.
    let doc = app.get_api("/openapi.json", &ducha).await.json();
    assert!(doc["paths"]["/search"]["get"].is_object(), "{doc}");
}
