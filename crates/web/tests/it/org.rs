//! The organisation pages over HTTP: adding units, refusals shown next to the field, importing
//! a unit list, and edits made on a stale copy.

use crate::harness::TestApp;
use reqwest::StatusCode;
use zhongshu_domain::audit::AuditCode;

on_both_engines!(
    a_duplicate_name_under_the_same_parent_is_shown_next_to_the_field_and_nothing_is_written,
    a_gbk_csv_unit_list_is_imported_with_its_tree,
    an_edit_made_on_a_stale_copy_is_refused_with_409_and_the_latest_content,
);

async fn a_duplicate_name_under_the_same_parent_is_shown_next_to_the_field_and_nothing_is_written(
    app: &TestApp,
) {
    let admin = app.login_demo("xitong").await;
    let before = app.unit_names().await;
    let audit_before = app.audit_events(AuditCode::UnitCreated).await.len();

    let reply = admin
        .post_form(
            "/units",
            &[
                ("name", "县财政局"),
                ("parent_id", ""),
                ("unit_type", "department"),
                ("sort_order", "7"),
            ],
        )
        .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("<p class=\"field-error\">同一上级单位下已有名为“县财政局”的单位</p>")
        .assert_contains("aria-invalid=\"true\"")
        // The form keeps what was typed.
        .assert_contains("value=\"7\"");
    assert_eq!(app.unit_names().await, before, "nothing may be written");
    assert_eq!(
        app.audit_events(AuditCode::UnitCreated).await.len(),
        audit_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_name_under_another_parent_is_accepted() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let parent = app.unit_id("县委办公室").await.to_string();
    admin
        .post_form(
            "/units",
            &[
                ("name", "县财政局"),
                ("parent_id", parent.as_str()),
                ("unit_type", "office"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let count = app
        .unit_names()
        .await
        .iter()
        .filter(|n| *n == "县财政局")
        .count();
    assert_eq!(count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_name_is_refused_with_a_chinese_field_error() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let before = app.unit_names().await.len();
    let reply = admin
        .post_form(
            "/units",
            &[
                ("name", "   "),
                ("unit_type", "department"),
                ("sort_order", "x"),
            ],
        )
        .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("单位名称不能为空")
        // Every problem of the form is shown at once.
        .assert_contains("排序号须为整数");
    assert_eq!(app.unit_names().await.len(), before);
}

async fn a_gbk_csv_unit_list_is_imported_with_its_tree(app: &TestApp) {
    let admin = app.login_demo("xitong").await;
    let list = "单位名称,上级单位,单位类型,重点信息报送单位\r\n\
                县数据资源中心,,县直部门,是\r\n\
                数据安全科,县数据资源中心,办公室,否\r\n\
                溪口新区管委会,,其他,\r\n";
    let (gbk, _, had_errors) = encoding_rs::GBK.encode(list);
    assert!(!had_errors);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the fixture must really be GBK"
    );

    let reply = admin.post_file("/units/import", "单位名单.csv", &gbk).await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/units?ok=units_imported");

    let token = app.token_for("xitong").await;
    let units = app.get_api("/units", &token).await.json();
    let units = units.as_array().expect("units");
    let find = |name: &str| {
        units
            .iter()
            .find(|u| u["name"] == name)
            .unwrap_or_else(|| panic!("{name} was not imported"))
            .clone()
    };
    let centre = find("县数据资源中心");
    let section = find("数据安全科");
    let zone = find("溪口新区管委会");
    assert_eq!(centre["key_reporting"], true);
    assert_eq!(centre["unit_type"], "department");
    assert_eq!(centre["parent_id"], serde_json::Value::Null);
    assert_eq!(section["parent_id"], centre["id"]);
    assert_eq!(section["unit_type"], "office");
    assert_eq!(section["key_reporting"], false);
    assert_eq!(zone["unit_type"], "other");
    assert_eq!(app.audit_events(AuditCode::UnitsImported).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_a_bad_row_writes_nothing_and_names_the_row() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let before = app.unit_names().await;
    let list = "单位名称,上级单位,单位类型\n新单位甲,,县直部门\n新单位乙,,外星部门\n";
    let reply = admin
        .post_file("/units/import", "list.csv", list.as_bytes())
        .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("文件未导入")
        .assert_contains("第3行");
    assert_eq!(app.unit_names().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_file_named_xlsx_is_refused_as_not_excel() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let before = app.unit_names().await;
    let reply = admin
        .post_file(
            "/units/import",
            "单位名单.xlsx",
            "单位名称,单位类型\n假单位,县直部门\n".as_bytes(),
        )
        .await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("不是有效的 Excel");
    assert_eq!(app.unit_names().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_without_a_file_or_with_an_empty_one_says_so() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    admin
        .post_file("/units/import", "empty.csv", b"")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("是空的");
}

async fn an_edit_made_on_a_stale_copy_is_refused_with_409_and_the_latest_content(app: &TestApp) {
    let admin = app.login_demo("xitong").await;
    let id = app.unit_id("县财政局").await;
    let path = format!("/units/{id}");
    let page = admin.get(&path).await;
    page.assert_status(StatusCode::OK);
    let unit = app
        .store
        .get_unit(&zhongshu_domain::access::Viewer::console(), id)
        .await
        .expect("get_unit");
    let seen = unit.version.to_string();
    page.assert_contains(&format!("name=\"version\" value=\"{seen}\""));

    // Someone saves first…
    let first = admin
        .post_form(
            &path,
            &[
                ("name", "县财政局（县国资办）"),
                ("unit_type", "department"),
                ("key_reporting", "on"),
                ("version", seen.as_str()),
            ],
        )
        .await;
    first.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(first.location(), format!("{path}?ok=unit_saved"));

    // …then an edit on the copy read before is refused, showing the latest name.
    let stale = admin
        .post_form(
            &path,
            &[
                ("name", "县财政局（旧稿）"),
                ("unit_type", "department"),
                ("version", seen.as_str()),
            ],
        )
        .await;
    stale
        .assert_status(StatusCode::CONFLICT)
        .assert_contains("已被他人修改")
        .assert_contains("县财政局（县国资办）")
        .assert_lacks("value=\"县财政局（旧稿）\"");
    let names = app.unit_names().await;
    assert!(names.contains(&"县财政局（县国资办）".to_owned()));
    assert!(!names.contains(&"县财政局（旧稿）".to_owned()));
    assert_eq!(app.audit_events(AuditCode::UnitRenamed).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_is_moved_and_merged_through_its_page() {
    let app = TestApp::sqlite().await;
    let admin = app.login_demo("xitong").await;
    let audit = app.unit_id("县审计局").await;
    let finance = app.unit_id("县财政局").await;
    let unit = app
        .store
        .get_unit(&zhongshu_domain::access::Viewer::console(), audit)
        .await
        .expect("get_unit");
    let version = unit.version.to_string();
    let finance_text = finance.to_string();
    admin
        .post_form(
            &format!("/units/{audit}/move"),
            &[("parent_id", finance_text.as_str()), ("version", &version)],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let moved = app
        .store
        .get_unit(&zhongshu_domain::access::Viewer::console(), audit)
        .await
        .expect("get_unit");
    assert_eq!(moved.parent_id, Some(finance));

    let refused = admin
        .post_form(&format!("/units/{finance}/merge"), &[("into", "")])
        .await;
    refused
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请选择合并到哪个单位");
}
