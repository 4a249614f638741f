//! The JSON API: its OpenAPI document, bearer tokens, and errors as `{"code", "message"}`.

use crate::harness::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use zhongshu_domain::audit::AuditCode;

on_both_engines!(a_unit_is_created_over_the_api_and_bad_input_is_invalid_with_fields,);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_routes() {
    let app = TestApp::sqlite().await;
    let reply = app.get("/api/v1/openapi.json").await;
    reply.assert_status(StatusCode::OK);
    assert!(reply.header("content-type").starts_with("application/json"));
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/me",
        "/units",
        "/units/{id}",
        "/users",
        "/calendar/is-workday",
        "/calendar/add-workdays",
        "/calendar/count-workdays",
        "/calendar/years/{year}",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} is missing: {:?}",
            paths.keys()
        );
    }
    assert!(paths["/units"]["get"].is_object());
    assert!(paths["/units"]["post"]["requestBody"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_without_a_token_is_401_json_not_a_redirect() {
    let app = TestApp::sqlite().await;
    let reply = app.get("/api/v1/units").await;
    reply.assert_status(StatusCode::UNAUTHORIZED);
    assert!(reply.header("location").is_empty());
    let body = reply.json();
    assert_eq!(body["code"], "not_signed_in");
    assert_eq!(body["message"], "请先登录");

    let forged = app.get_api("/units", &"f".repeat(64)).await;
    forged.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(forged.json()["code"], "not_signed_in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_tells_who_the_token_belongs_to() {
    let app = TestApp::sqlite().await;
    let token = app.token_for("czj_fzr").await;
    let reply = app.get_api("/me", &token).await;
    reply.assert_status(StatusCode::OK);
    let me = reply.json();
    assert_eq!(me["username"], "czj_fzr");
    assert_eq!(me["unit_name"], "县财政局");
    assert_eq!(me["roles"], json!(["unit_head"]));
}

async fn a_unit_is_created_over_the_api_and_bad_input_is_invalid_with_fields(app: &TestApp) {
    let token = app.token_for("xitong").await;
    let created = app
        .post_json(
            "/units",
            &token,
            &json!({ "name": "接口新建单位", "unit_type": "乡镇", "key_reporting": true }),
        )
        .await;
    created.assert_status(StatusCode::CREATED);
    let unit = created.json();
    assert_eq!(unit["name"], "接口新建单位");
    assert_eq!(unit["unit_type"], "township");
    let id = unit["id"].as_i64().expect("id");
    let fetched = app.get_api(&format!("/units/{id}"), &token).await;
    fetched.assert_status(StatusCode::OK);
    assert_eq!(fetched.json()["name"], "接口新建单位");

    let invalid = app
        .post_json(
            "/units",
            &token,
            &json!({ "name": "", "unit_type": "星球" }),
        )
        .await;
    invalid.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = invalid.json();
    assert_eq!(body["code"], "invalid");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["name", "unit_type"]);

    let duplicate = app
        .post_json(
            "/units",
            &token,
            &json!({ "name": "接口新建单位", "unit_type": "乡镇" }),
        )
        .await;
    duplicate.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("已有名为"),
        "{}",
        duplicate.body
    );
    assert_eq!(app.audit_events(AuditCode::UnitCreated).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_400_with_a_chinese_message() {
    let app = TestApp::sqlite().await;
    let token = app.token_for("xitong").await;
    let reply = app
        .post_api_raw(
            "/units",
            &token,
            "application/json",
            b"{\"name\": \"x\", ".to_vec(),
        )
        .await;
    reply.assert_status(StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(body["code"], "bad_request");
    assert_eq!(body["message"], "JSON 语法错误");

    let not_json = app
        .post_api_raw("/units", &token, "text/plain", b"name=x".to_vec())
        .await;
    not_json.assert_status(StatusCode::BAD_REQUEST);
    assert!(
        not_json.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("请求须为 JSON"),
        "{}",
        not_json.body
    );

    let wrong_shape = app.post_json("/units", &token, &json!({ "name": 3 })).await;
    wrong_shape.assert_status(StatusCode::BAD_REQUEST);
    assert!(
        wrong_shape.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("JSON 字段不正确"),
        "{}",
        wrong_shape.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::sqlite_with(|s| s.security.max_body_mib = 1).await;
    let token = app.token_for("xitong").await;
    // Just over the limit: the server refuses on the Content-Length before reading the body
    // and closes the connection, so a much larger body could still be in flight when it does
    // (a reset instead of a reply). A body this size fits in the loopback socket buffers.
    let name = "单".repeat((1024 * 1024 + 8 * 1024) / 3);
    let body = serde_json::to_vec(&json!({ "name": name, "unit_type": "乡镇" })).expect("json");
    assert!(body.len() > 1024 * 1024, "{}", body.len());
    let reply = app
        .post_api_raw("/units", &token, "application/json", body)
        .await;
    reply.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["code"], "too_large");

    // Just under the limit is read (and then judged on its content).
    let small = app
        .post_json(
            "/units",
            &token,
            &json!({ "name": "单".repeat(60), "unit_type": "乡镇" }),
        )
        .await;
    small.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.audit_events(AuditCode::UnitCreated).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_workday_knows_make_up_days_and_refuses_impossible_dates() {
    let app = TestApp::sqlite().await;
    let token = app.token_for("zhiban").await;
    let sunday = app
        .get_api("/calendar/is-workday?date=2024-02-04", &token)
        .await;
    sunday.assert_status(StatusCode::OK);
    let body = sunday.json();
    assert_eq!(body["workday"], true, "2024-02-04 was a make-up Sunday");
    assert_eq!(body["date"], "2024-02-04");

    let spring = app
        .get_api("/calendar/is-workday?date=2024-02-12", &token)
        .await
        .json();
    assert_eq!(spring["workday"], false);
    assert_eq!(spring["festival"], "春节");

    let bad = app
        .get_api("/calendar/is-workday?date=2024-13-01", &token)
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.json();
    assert_eq!(body["code"], "invalid");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("不是有效日期"),
        "{}",
        bad.body
    );
    assert_eq!(body["fields"][0]["field"], "date");

    let count = app
        .get_api(
            "/calendar/count-workdays?start=2024-02-09&end=2024-02-19",
            &token,
        )
        .await
        .json();
    // 02-10..02-17 off, 02-18 (Sunday) worked, 02-19 Monday: two workdays after the 9th.
    assert_eq!(count["workdays"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_without_data_is_a_json_404() {
    let app = TestApp::sqlite().await;
    let token = app.token_for("zhiban").await;
    let reply = app.get_api("/calendar/years/1999", &token).await;
    reply.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["code"], "not_found");
    let year = app.get_api("/calendar/years/2024", &token).await;
    year.assert_status(StatusCode::OK);
    assert_eq!(year.json()["year"], 2024);
}
