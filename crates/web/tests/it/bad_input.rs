//! What a person or a program gets for ids that name nothing, unknown pages and malformed
//! requests: a Chinese page (or JSON under `/api`) with the right status, never a 500.

use crate::harness::TestApp;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_that_name_nothing_and_unknown_pages_are_chinese_404_pages() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    for (path, what) in [
        ("/units/999999", "单位不存在"),
        ("/units/abc", "单位不存在"),
        ("/units/-1", "单位不存在"),
        ("/users/999999", "用户不存在"),
        ("/users/abc", "用户不存在"),
        ("/no-such-page", "页面不存在"),
    ] {
        let reply = admin.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.body
        );
        assert!(reply.body.contains(what), "{path}: {}", reply.body);
        assert!(reply.body.contains("未找到"), "{path}: {}", reply.body);
        assert!(reply.is_chinese(), "{path}");
        assert!(
            reply.header("content-type").starts_with("text/html"),
            "{path}"
        );
    }
    // An unknown page is 404 even before signing in.
    let anonymous = app.get("/no-such-page").await;
    anonymous
        .assert_status(StatusCode::NOT_FOUND)
        .assert_contains("页面不存在");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_routes_and_ids_are_json_404s() {
    let app = TestApp::sqlite().await;
    let token = app.token_for("xitong").await;
    for path in [
        "/units/999999",
        "/units/abc",
        "/users/999999",
        "/nothing-here",
    ] {
        let reply = app.get_api(path, &token).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.body
        );
        let body = reply.json();
        assert_eq!(body["code"], "not_found", "{path}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .ends_with("不存在"),
            "{path}: {}",
            reply.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_is_not_a_form_is_a_chinese_400() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let reply = app
        .send(
            admin
                .request(reqwest::Method::POST, "/units")
                .header("content-type", "application/json")
                .body("{\"name\": \"x\"}"),
        )
        .await;
    reply
        .assert_status(StatusCode::BAD_REQUEST)
        .assert_contains("表单数据格式不正确")
        .assert_contains("请求有误");
    let login = app
        .send(
            app.request(reqwest::Method::POST, "/login")
                .header("content-type", "text/plain")
                .body("username=xitong"),
        )
        .await;
    login
        .assert_status(StatusCode::BAD_REQUEST)
        .assert_contains("表单数据格式不正确");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_role_code_is_refused_and_changes_nothing() {
    let app = TestApp::sqlite().await;
    let security = app.login_demo("anquan").await;
    let target = app.user("czj_lly").await;
    let version = target.version.to_string();
    let reply = security
        .post_form(
            &format!("/users/{}/roles", target.id),
            &[("role", "root"), ("version", version.as_str())],
        )
        .await;
    reply
        .assert_status(StatusCode::BAD_REQUEST)
        .assert_contains("未知角色“root”");
    assert_eq!(app.user("czj_lly").await.roles, target.roles);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_post_that_is_not_multipart_is_a_chinese_error() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let reply = admin
        .post_form("/units/import", &[("file", "单位名称")])
        .await;
    reply
        .assert_status(StatusCode::BAD_REQUEST)
        .assert_contains("上传内容不正确")
        .assert_lacks("boundary");
    assert!(reply.is_chinese());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_answers_ok() {
    let app = TestApp::sqlite().await;
    app.get("/healthz")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_a_chinese_413_and_imports_nothing() {
    let app = TestApp::sqlite_with(|s| s.security.max_body_mib = 1).await;
    let admin = app.login_demo("xitong").await;
    let before = app.unit_names().await;
    let mut list = String::from("单位名称,单位类型\n");
    let mut n = 0;
    while list.len() < 2 * 1024 * 1024 {
        n += 1;
        list.push_str(&format!("超限单位{n},县直部门\n"));
    }
    let reply = admin
        .post_file("/units/import", "big.csv", list.as_bytes())
        .await;
    reply
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE)
        .assert_contains("提交的内容过大");
    assert_eq!(app.unit_names().await, before);
}
