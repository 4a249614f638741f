//! Supervision (督查督办) over HTTP: the office imports a task table (a refused workbook and
//! an accepted CSV), the lead unit's liaison reports on one page, the ledger exports as Excel,
//! a stale copy is refused with 409, and an administrator is kept out.

use crate::harness::{Reply, TestApp, Visitor};
use reqwest::StatusCode;
use reqwest::header;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::ItemState;
use zhongshu_store::supervision::{ItemFilter, ItemRow};

on_both_engines!(the_office_imports_a_csv_and_the_lead_units_liaison_reports_on_its_item,);

const YEAR: &str = "2026";
const FINANCE_1: &str = "（1）一般公共预算收入增长5%";
const FINANCE_2: &str = "（2）压减一般性支出10%";
const EDUCATION_1: &str = "（1）新建公办幼儿园2所";

/// A 任务分解表 as Excel saves it in UTF-8 (with a BOM), naming demo units. The first measure
/// was due before today (red); the others are far off (green). Row 4 leaves 序号 and 重点任务
/// blank under the first measure of its group, as offices do.
const TASK_CSV: &str = "\u{feff}2026年重点工作任务分解表\n\
序号,重点任务,具体措施,牵头单位,责任单位,责任领导,责任人,完成时限,备注\n\
1,财政收支管理,（1）一般公共预算收入增长5%,县财政局,县税务局,陈国平,张明,2026年6月底前,\n\
,,（2）压减一般性支出10%,县财政局,县审计局、县税务局,陈国平,张明,2099年12月31日前,按季度报送\n\
2,教育提质扩容,（1）新建公办幼儿园2所,县教育局,县财政局、县住房和城乡建设局,孙立华,李华,2099年9月底前,\n";

const SAMPLE_XLSX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/sample-renwu-fenjie-2025.xlsx"
);

/// POSTs the import form: the ledger year and one file.
async fn upload(visitor: &Visitor<'_>, year: &str, file_name: &str, bytes: &[u8]) -> Reply {
    let boundary = "----zhongshu-supervision-boundary-3a9c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"year\"\r\n\r\n{year}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    visitor
        .app
        .send(
            visitor
                .request(reqwest::Method::POST, "/supervision/import")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
}

/// The whole ledger, as the console (which holds the office's powers) sees it.
async fn ledger(app: &TestApp) -> Vec<ItemRow> {
    app.store
        .list_items(
            &Viewer::console(),
            &ItemFilter::default(),
            jiff::civil::date(2026, 3, 2),
            3,
            1000,
        )
        .await
        .expect("list_items")
}

async fn item(app: &TestApp, title: &str) -> ItemRow {
    ledger(app)
        .await
        .into_iter()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no item {title}"))
}

/// The demo county with the CSV imported by 督查室 (ducha).
async fn imported(app: &TestApp) {
    let ducha = app.login_demo("ducha").await;
    let reply = upload(&ducha, YEAR, "任务分解表.csv", TASK_CSV.as_bytes()).await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/supervision?year=2026&ok=items_imported");
}

async fn the_office_imports_a_csv_and_the_lead_units_liaison_reports_on_its_item(app: &TestApp) {
    let ducha = app.login_demo("ducha").await;
    let reply = upload(&ducha, YEAR, "任务分解表.csv", TASK_CSV.as_bytes()).await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/supervision?year=2026&ok=items_imported");
    assert_eq!(app.store.ledger_years().await.unwrap(), vec![2026]);
    assert_eq!(app.audit_count(AuditCode::ItemsImported, "ducha").await, 1);

    let page = ducha.get("/supervision?year=2026&ok=items_imported").await;
    page.assert_status(StatusCode::OK)
        .assert_contains(FINANCE_1)
        .assert_contains(FINANCE_2)
        .assert_contains(EDUCATION_1)
        .assert_contains("财政收支管理")
        .assert_contains("教育提质扩容")
        .assert_contains("县住房和城乡建设局")
        .assert_contains("2026-06-30")
        .assert_contains("2099-12-31")
        .assert_contains("共 3 项")
        .assert_contains("<option value=\"2026\" selected>2026年</option>");
    // Each row carries its light: the measure due last June is red, the far ones green.
    assert_eq!(page.body.matches("<span class=\"light ").count(), 3);
    assert_eq!(page.body.matches("<span class=\"light red\"").count(), 1);
    assert_eq!(page.body.matches("<span class=\"light green\"").count(), 2);
    let finance = item(app, FINANCE_1).await;
    assert_eq!(finance.parent_title, "财政收支管理");
    let second = item(app, FINANCE_2).await;
    assert_eq!(
        second.parent_id, finance.parent_id,
        "序号 and 重点任务 filled down"
    );
    assert_eq!(second.note, "按季度报送");

    // The lead unit's liaison is sent to the unit's page, which lists its items to report on.
    let liaison = app.login_demo("czj_lly").await;
    let redirect = liaison.get("/supervision").await;
    redirect.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(redirect.location(), "/supervision/mine");
    let mine = liaison.get("/supervision/mine").await;
    let done_field = format!("done_{}", finance.id);
    mine.assert_status(StatusCode::OK)
        .assert_contains(FINANCE_1)
        .assert_contains(EDUCATION_1)
        .assert_contains(&format!("name=\"{done_field}\""))
        .assert_contains("从未报送");

    // A bad percentage refuses the whole page: nothing is written.
    let percent_field = format!("percent_{}", finance.id);
    let next_field = format!("next_{}", finance.id);
    let problems_field = format!("problems_{}", finance.id);
    let refused = liaison
        .post_form(
            "/supervision/mine",
            &[
                (done_field.as_str(), "上半年收入完成52%"),
                (percent_field.as_str(), "过半"),
            ],
        )
        .await;
    refused
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("未报送")
        .assert_contains("完成进度须为0到100的整数");
    assert!(item(app, FINANCE_1).await.last_report_at.is_none());

    let reported = liaison
        .post_form(
            "/supervision/mine",
            &[
                (done_field.as_str(), "上半年收入完成52%，税收占比提高"),
                (problems_field.as_str(), "非税收入波动 & 土地出让放缓"),
                (next_field.as_str(), "加强收入征管"),
                (percent_field.as_str(), "60%"),
                (format!("done_{}", second.id).as_str(), ""),
            ],
        )
        .await;
    reported.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        reported.location(),
        "/supervision/mine?ok=progress_reported"
    );
    assert_eq!(
        app.audit_count(AuditCode::ProgressReported, "czj_lly")
            .await,
        1,
        "the item left empty is not reported"
    );
    let after = item(app, FINANCE_1).await;
    assert_eq!(after.state, ItemState::InProgress, "the lead unit's report");
    assert!(after.last_report_at.is_some());
    assert!(item(app, FINANCE_2).await.last_report_at.is_none());

    let page = liaison
        .get(&format!("/supervision/items/{}", finance.id))
        .await;
    page.assert_status(StatusCode::OK)
        .assert_contains("上半年收入完成52%，税收占比提高")
        .assert_contains("非税收入波动 &#38; 土地出让放缓")
        .assert_contains("加强收入征管")
        .assert_contains("完成 60%")
        .assert_contains("1 / 2 个单位已报送进展")
        .assert_contains("办理中")
        .assert_contains("报送进展");
    // The office sees it in the ledger's latest progress.
    ducha
        .get("/supervision?year=2026")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("上半年收入完成52%，税收占比提高");

    // A liaison of an unrelated unit cannot open it, report on it, or act on it.
    let outsider = app.login_demo("slj_lly").await;
    outsider
        .get(&format!("/supervision/items/{}", finance.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    outsider
        .get("/supervision/mine")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("本单位当前没有需要办理的督办事项")
        .assert_lacks(FINANCE_1);
    let version = after.version.to_string();
    outsider
        .post_form(
            &format!("/supervision/items/{}/act", finance.id),
            &[("action", "request_closure"), ("version", &version)],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    outsider
        .post_form(
            &format!("/supervision/items/{}/report", finance.id),
            &[("done", "冒名报送")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND)
        .assert_lacks(FINANCE_1);
    assert_eq!(
        app.audit_count(AuditCode::ProgressReported, "slj_lly")
            .await,
        0
    );
    assert_eq!(item(app, FINANCE_1).await.version, after.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workbook_naming_another_countys_units_is_refused_row_by_row_and_nothing_is_written() {
    let Ok(bytes) = std::fs::read(SAMPLE_XLSX) else {
        eprintln!("skipping: the project sample {SAMPLE_XLSX} is missing");
        return;
    };
    let app = TestApp::sqlite().await;
    let ducha = app.login_demo("ducha").await;
    let reply = upload(&ducha, "2025", "sample-renwu-fenjie-2025.xlsx", &bytes).await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("文件未导入，请修改以下问题后重新上传")
        .assert_contains("第4行“牵头单位”：单位“县卫生健康委员会”不存在")
        .assert_contains("不存在")
        .assert_contains("value=\"2025\"");
    assert!(
        reply.body.matches("<li>第").count() >= 2,
        "several problems are listed"
    );
    assert!(ledger(&app).await.is_empty(), "nothing written");
    assert!(app.store.ledger_years().await.unwrap().is_empty());
    assert!(app.audit_events(AuditCode::ItemsImported).await.is_empty());

    // A file that is not a task table, and a year that is not one, are refused too.
    upload(
        &ducha,
        "2026",
        "notes.csv",
        "姓名,电话\n张三,123\n".as_bytes(),
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("缺少");
    upload(&ducha, "明年", "任务分解表.csv", TASK_CSV.as_bytes())
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("台账年度“明年”不正确");
    assert!(ledger(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_exports_as_an_excel_workbook() {
    let app = TestApp::sqlite().await;
    imported(&app).await;
    for username in ["ducha", "lingdao", "czj_lly"] {
        let visitor = app.login_demo(username).await;
        let response = visitor
            .request(reqwest::Method::GET, "/supervision/export?year=2026&q=")
            .send()
            .await
            .expect("export");
        assert_eq!(response.status(), StatusCode::OK, "{username}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let disposition = response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
        let bytes = response.bytes().await.expect("export body");
        assert!(bytes.starts_with(b"PK"), "{username}: not a zip");
        assert!(bytes.len() > 1000, "{username}: {} bytes", bytes.len());
    }
    let admin = app.login_demo("xitong").await;
    admin
        .get("/supervision/export?year=2026")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acting_on_a_stale_copy_is_refused_with_409_and_the_current_state() {
    let app = TestApp::sqlite().await;
    imported(&app).await;
    let finance = item(&app, FINANCE_1).await;
    let old = finance.version.to_string();
    let path = format!("/supervision/items/{}/act", finance.id);

    let liaison = app.login_demo("czj_lly").await;
    let page = liaison
        .get(&format!("/supervision/items/{}", finance.id))
        .await;
    page.assert_status(StatusCode::OK)
        .assert_contains("value=\"acknowledge\"")
        .assert_contains(&format!("name=\"version\" value=\"{old}\""));
    // A progress report cannot be faked as a bare step without its text.
    liaison
        .post_form(&path, &[("action", "report"), ("version", &old)])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请通过“报送进展”填写本期进展");
    assert_eq!(item(&app, FINANCE_1).await.version, finance.version);
    let signed = liaison
        .post_form(&path, &[("action", "acknowledge"), ("version", &old)])
        .await;
    signed.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        signed.location(),
        format!("/supervision/items/{}?ok=item_changed", finance.id)
    );
    let current = item(&app, FINANCE_1).await;
    assert_eq!(current.state, ItemState::InProgress);
    assert_ne!(current.version, finance.version);

    // The office still holds the page it opened before the liaison signed.
    let ducha = app.login_demo("ducha").await;
    let stale = ducha
        .post_form(
            &path,
            &[
                ("action", "urge"),
                ("version", &old),
                ("note", "请加快进度"),
            ],
        )
        .await;
    stale
        .assert_status(StatusCode::CONFLICT)
        .assert_contains("已被他人修改")
        .assert_contains("办理中")
        .assert_contains(&format!("name=\"version\" value=\"{}\"", current.version));
    assert_eq!(item(&app, FINANCE_1).await.version, current.version);

    // With the fresh version the same step goes through; a send-back without a reason does not.
    let fresh = current.version.to_string();
    ducha
        .post_form(
            &path,
            &[
                ("action", "urge"),
                ("version", &fresh),
                ("note", "请加快进度"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let fresh = item(&app, FINANCE_1).await.version.to_string();
    liaison
        .post_form(&path, &[("action", "request_closure"), ("version", &fresh)])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let fresh = item(&app, FINANCE_1).await.version.to_string();
    ducha
        .post_form(
            &path,
            &[("action", "send_back"), ("version", &fresh), ("note", "")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请写明理由");
    assert_eq!(
        item(&app, FINANCE_1).await.state,
        ItemState::ClosureRequested
    );
    ducha
        .post_form(&path, &[("action", "fly"), ("version", &fresh)])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(app.audit_count(AuditCode::ItemChanged, "czj_lly").await, 2);
    assert_eq!(app.audit_count(AuditCode::ItemChanged, "ducha").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_is_kept_out_of_supervision() {
    let app = TestApp::sqlite().await;
    imported(&app).await;
    let finance = item(&app, FINANCE_1).await;
    let admin = app.login_demo("xitong").await;
    admin
        .get("/supervision")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    admin
        .get("/supervision/mine")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    admin
        .get(&format!("/supervision/items/{}", finance.id))
        .await
        .assert_status(StatusCode::NOT_FOUND)
        .assert_lacks(FINANCE_1);
    upload(&admin, YEAR, "任务分解表.csv", TASK_CSV.as_bytes())
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let refused = app
        .audit_events(AuditCode::PermissionRefused)
        .await
        .into_iter()
        .filter(|e| e.actor_name == "xitong" && e.target.starts_with("supervision"))
        .count();
    assert_eq!(refused, 3, "each refusal is audited");
    // A liaison may not import either; a leader reads the ledger without the import form.
    let liaison = app.login_demo("czj_lly").await;
    upload(&liaison, YEAR, "任务分解表.csv", TASK_CSV.as_bytes())
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.login_demo("lingdao")
        .await
        .get("/supervision")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(FINANCE_1)
        .assert_lacks("action=\"/supervision/import\"");
    assert_eq!(ledger(&app).await.len(), 3, "nothing more was imported");
}

const PONDING: &str = "整治城区易涝积水点";

/// The registration form filled in for a demo unit, with the submit button pressed.
fn registration<'a>(
    lead: &'a str,
    co: &'a str,
    deadline: &'a str,
    submit: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ledger_year", "2026"),
        ("source", "instruction"),
        ("source_ref", "明政阅〔2026〕12号"),
        ("category", "三、保障和改善民生"),
        ("urgency", "urgent"),
        ("title", PONDING),
        ("content", "汛期前完成改造。"),
        ("lead_unit_id", lead),
        ("co_unit_ids", co),
        ("leader", "陈国平"),
        ("person", "王志强"),
        ("deadline", deadline),
        ("parent_id", ""),
        ("note", ""),
        ("submit", submit),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_registers_an_item_on_the_form_and_is_shown_its_page() {
    let app = TestApp::sqlite().await;
    let ducha = app.login_demo("ducha").await;
    ducha
        .get("/supervision")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("href=\"/supervision/items/new\"")
        .assert_contains("待审批延期");
    ducha
        .get("/supervision/items/new")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("name=\"co_unit_ids\" multiple")
        .assert_contains("县财政局")
        .assert_contains("value=\"assign\"")
        .assert_lacks("style=");
    let lead = app.unit_id("县财政局").await.get().to_string();
    let co = app.unit_id("县审计局").await.get().to_string();
    let reply = ducha
        .post_form(
            "/supervision/items/new",
            &registration(&lead, &co, "9月底前", "assign"),
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let row = item(&app, PONDING).await;
    assert_eq!(
        reply.location(),
        format!("/supervision/items/{}?ok=item_assigned", row.id)
    );
    assert_eq!(row.state, ItemState::Assigned);
    assert_eq!(row.due_date.as_deref(), Some("2026-09-30"));
    assert_eq!(row.co_units, vec!["县审计局".to_owned()]);
    ducha
        .get(reply.location())
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(PONDING)
        .assert_contains("领导批示（明政阅〔2026〕12号）")
        .assert_contains("紧急")
        .assert_contains("事项已立项并交办");
    assert_eq!(app.audit_count(AuditCode::ItemRegistered, "ducha").await, 1);
    // The lead unit's liaison sees it; a draft would not have been shown.
    app.login_demo("czj_lly")
        .await
        .get(&format!("/supervision/items/{}", row.id))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("value=\"acknowledge\"")
        .assert_contains("申请延期");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_registration_re_renders_the_form_with_422_and_writes_nothing() {
    let app = TestApp::sqlite().await;
    let ducha = app.login_demo("ducha").await;
    let co = app.unit_id("县审计局").await.get().to_string();
    let mut form = registration("", &co, "等领导定", "draft");
    form.retain(|(k, _)| *k != "leader");
    form.push(("leader", "张三丰"));
    let reply = ducha.post_form("/supervision/items/new", &form).await;
    reply
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请选择牵头单位")
        .assert_contains("无法识别完成时限")
        .assert_contains("没有名为“张三丰”的领导")
        .assert_contains("class=\"field-error\"")
        // What was typed is kept.
        .assert_contains(&format!("value=\"{PONDING}\""))
        .assert_contains("value=\"等领导定\"");
    assert!(ledger(&app).await.is_empty(), "nothing written");
    assert_eq!(app.audit_count(AuditCode::ItemRegistered, "ducha").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_liaison_cannot_register_items() {
    let app = TestApp::sqlite().await;
    let liaison = app.login_demo("czj_lly").await;
    liaison
        .get("/supervision/items/new")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let lead = app.unit_id("县财政局").await.get().to_string();
    liaison
        .post_form(
            "/supervision/items/new",
            &registration(&lead, "", "9月底前", "assign"),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(ledger(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_extension_shows_on_the_item_page_and_in_the_offices_queue() {
    let app = TestApp::sqlite().await;
    imported(&app).await;
    let finance = item(&app, FINANCE_1).await;
    let path = format!("/supervision/items/{}", finance.id);
    let liaison = app.login_demo("czj_lly").await;
    let version = finance.version.to_string();
    liaison
        .post_form(
            &format!("{path}/extension"),
            &[
                ("version", &version),
                ("new_deadline", "明年再说"),
                ("reason", ""),
            ],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请写明延期理由");
    let reply = liaison
        .post_form(
            &format!("{path}/extension"),
            &[
                ("version", &version),
                ("new_deadline", "2026-12-31"),
                ("reason", "上级资金尚未下达"),
            ],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), format!("{path}?ok=extension_requested"));
    let ducha = app.login_demo("ducha").await;
    let page = ducha.get(&path).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("延期申请（待审批）")
        .assert_contains("2026-12-31")
        .assert_contains("上级资金尚未下达")
        .assert_contains("value=\"approve\"");
    ducha
        .get("/supervision?queue=extension")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(FINANCE_1)
        .assert_lacks(EDUCATION_1)
        .assert_contains("当前列表：待审批延期");
    let fresh = item(&app, FINANCE_1).await.version.to_string();
    ducha
        .post_form(
            &format!("{path}/extension/decide"),
            &[
                ("version", &fresh),
                ("decision", "approve"),
                ("decision_note", ""),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let after = item(&app, FINANCE_1).await;
    assert_eq!(after.due_date.as_deref(), Some("2026-12-31"));
    ducha
        .get(&path)
        .await
        .assert_contains("时限调整记录")
        .assert_contains("已同意")
        .assert_lacks("延期申请（待审批）");
}

/// A busy unit (60 open items) gets its batch report page 50 at a time: the overdue items come
/// first on page 1, page 2 holds the other 10, and a report sent from page 2 is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_units_batch_page_comes_fifty_at_a_time_most_pressing_first() {
    let app = TestApp::sqlite().await;
    let mut csv = String::from(
        "2026年重点工作任务分解表\n序号,重点任务,具体措施,牵头单位,责任单位,责任领导,责任人,完成时限,备注\n",
    );
    for i in 1..=60 {
        // The last five are long past due: red, so they lead page 1 although imported last.
        let deadline = if i > 55 {
            "2026年1月15日前"
        } else {
            "2099年12月31日前"
        };
        csv.push_str(&format!(
            "{i},财政管理,（{i}）财政第{i}项措施,县财政局,,陈国平,张明,{deadline},\n"
        ));
    }
    let ducha = app.login_demo("ducha").await;
    upload(&ducha, YEAR, "busy.csv", csv.as_bytes())
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let czj = app.login_demo("czj_lly").await;
    let first = czj.get("/supervision/mine").await;
    first
        .assert_status(StatusCode::OK)
        .assert_contains("共 <strong>60</strong> 项")
        .assert_contains("第 1/2 页")
        .assert_contains("红灯 5");
    assert_eq!(first.body.matches("name=\"done_").count(), 50);
    for i in 56..=60 {
        first.assert_contains(&format!("（{i}）财政第{i}项措施"));
    }
    let second = czj.get("/supervision/mine?page=2").await;
    second
        .assert_status(StatusCode::OK)
        .assert_contains("第 2/2 页");
    assert_eq!(second.body.matches("name=\"done_").count(), 10);
    let on_second = ledger(&app)
        .await
        .into_iter()
        .find(|r| second.body.contains(&format!("name=\"done_{}\"", r.id)))
        .expect("an item on page 2");
    let done_field = format!("done_{}", on_second.id);
    czj.post_form(
        "/supervision/mine",
        &[("page", "2"), (done_field.as_str(), "本周已完成资金拨付")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let reported = app
        .store
        .get_item(
            &Viewer::console(),
            on_second.id,
            jiff::civil::date(2026, 3, 2),
            3,
        )
        .await
        .expect("get_item");
    assert_eq!(reported.reports.len(), 1);
}
