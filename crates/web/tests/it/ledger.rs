//! The ledger's years and inspections over HTTP: the office takes a snapshot (查账) and closes
//! the year carrying its unfinished items over (结转); the office records an inspection, a
//! finding whose rectification item reaches the unit's liaison, and a referral; leaders read
//! without forms; units' liaisons are refused.

use crate::harness::{Reply, TestApp, Visitor};
use reqwest::StatusCode;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_store::supervision::ItemFilter;

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_office_takes_a_snapshot_and_closes_the_year_carrying_items_over() {
        super::the_office_takes_a_snapshot_and_closes_the_year_carrying_items_over(
            &crate::harness::TestApp::sqlite().await,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_office_records_an_inspection_a_finding_and_a_referral() {
        super::the_office_records_an_inspection_a_finding_and_a_referral(
            &crate::harness::TestApp::sqlite().await,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leaders_read_without_forms_and_liaisons_are_refused() {
        super::leaders_read_without_forms_and_liaisons_are_refused(
            &crate::harness::TestApp::sqlite().await,
        )
        .await;
    }
}

const YEAR: i16 = 2026;
const PROBLEM: &str = "政务服务窗口午休时段无人值守";

/// The demo ledger of 2026, loaded by the console as the office.
async fn demo_ledger(app: &TestApp) {
    let console = Viewer::console();
    app.store
        .load_demo_ledger(console.as_supervisor().unwrap(), YEAR)
        .await
        .expect("load_demo_ledger");
}

fn snapshot_id(reply: &Reply) -> i64 {
    let location = reply.location();
    location
        .strip_prefix("/supervision/ledgers/snapshots/")
        .and_then(|rest| rest.strip_suffix("?done=snapshot_taken"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a snapshot page: {location}"))
}

async fn the_office_takes_a_snapshot_and_closes_the_year_carrying_items_over(app: &TestApp) {
    demo_ledger(app).await;
    let ducha = app.login_demo("ducha").await;
    let page = ducha.get("/supervision/ledgers").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("2026年台账")
        .assert_contains("进行中")
        .assert_contains("查账（冻结当前数字）")
        .assert_contains("action=\"/supervision/ledgers/open\"")
        .assert_contains("尚未查账");

    // 查账: the figures are frozen on their own page.
    let reply = ducha
        .post_form(
            "/supervision/ledgers/2026/snapshot",
            &[("label", "年中查账")],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let id = snapshot_id(&reply);
    let snapshot = ducha.get(reply.location()).await;
    snapshot
        .assert_status(StatusCode::OK)
        .assert_contains("查账完成")
        .assert_contains("2026年台账 · 年中查账")
        .assert_contains("按牵头单位")
        .assert_contains("按分类")
        .assert_contains("县发展和改革局")
        .assert_contains("一、推动经济高质量发展");
    assert_eq!(
        app.audit_count(AuditCode::LedgerSnapshotTaken, "ducha")
            .await,
        1
    );
    let frozen = app.store.snapshot(&Viewer::console(), id).await.unwrap();
    assert!(frozen.total.items > 0);

    // 建账 of an open year is refused with the reason.
    ducha
        .post_form("/supervision/ledgers/open", &[("year", "2026")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("2026年台账已建账");

    // 结账: the page lists the unfinished items; concluding needs a reason.
    let unfinished = app
        .store
        .unfinished_items(&Viewer::console(), 2026)
        .await
        .unwrap();
    assert!(!unfinished.is_empty());
    ducha
        .get("/supervision/ledgers/2026/close")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(&format!("未完成事项（{} 项）", unfinished.len()))
        .assert_contains(&unfinished[0].title)
        .assert_contains("结转到2027年台账");
    ducha
        .post_form(
            "/supervision/ledgers/2026/close",
            &[("mode", "conclude"), ("reason", " ")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请写明终结未完成事项的理由");
    ducha
        .post_form(
            "/supervision/ledgers/2026/close",
            &[("mode", "carry_over"), ("new_due", "明年六月")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("日期“明年六月”不正确");
    let closed = ducha
        .post_form(
            "/supervision/ledgers/2026/close",
            &[("mode", "carry_over"), ("new_due", "2027-06-30")],
        )
        .await;
    closed.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(closed.location(), "/supervision/ledgers?done=ledger_closed");
    let page = ducha.get(closed.location()).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("年度台账已结账")
        .assert_contains("2027年台账")
        .assert_contains("已结账")
        .assert_contains("未完成事项结转下一年度")
        .assert_contains("年底结账");
    assert_eq!(app.audit_count(AuditCode::LedgerClosed, "ducha").await, 1);

    // The carried items are in 2027, due on the new date; the snapshot did not move.
    let next = app
        .store
        .list_items(
            &Viewer::console(),
            &ItemFilter {
                year: Some(2027),
                ..ItemFilter::default()
            },
            jiff::civil::date(2027, 1, 4),
            3,
            1000,
        )
        .await
        .unwrap();
    assert_eq!(next.len(), unfinished.len());
    assert!(next.iter().all(|r| r.note.starts_with("由2026年结转")));
    let again = app.store.snapshot(&Viewer::console(), id).await.unwrap();
    assert_eq!(again.total, frozen.total);
    ducha
        .get(&format!("/supervision/ledgers/snapshots/{id}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_lacks("查账完成");

    // A closed year has no close page form and refuses a second close.
    ducha
        .get("/supervision/ledgers/2026/close")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("2026年台账已结账，不能再次结账")
        .assert_lacks("确认结账");
    ducha
        .post_form("/supervision/ledgers/2026/close", &[("mode", "carry_over")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    ducha
        .get("/supervision/ledgers/2031/close")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    ducha
        .get("/supervision/ledgers/snapshots/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// POSTs the new-inspection form as a browser sends it (repeated `body` and `unit` fields).
async fn record(ducha: &Visitor<'_>, fields: &[(&str, &str)]) -> Reply {
    ducha.post_form("/supervision/inspections", fields).await
}

async fn the_office_records_an_inspection_a_finding_and_a_referral(app: &TestApp) {
    let ducha = app.login_demo("ducha").await;
    ducha
        .get("/supervision/inspections")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("登记督查")
        .assert_contains("还没有登记任何督查")
        .assert_contains("县财政局");
    let czj = app.unit_id("县财政局").await.get().to_string();
    let jyj = app.unit_id("县教育局").await.get().to_string();

    let refused = record(
        &ducha,
        &[("title", " "), ("kind", "joint"), ("inspected_on", "")],
    )
    .await;
    refused
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请填写督查名称")
        .assert_contains("请至少选择一个参加单位")
        .assert_contains("请至少选择一个被督查单位")
        .assert_contains("请填写督查日期");
    record(
        &ducha,
        &[
            ("title", "暗访"),
            ("kind", "unannounced"),
            ("body", "police"),
        ],
    )
    .await
    .assert_status(StatusCode::BAD_REQUEST);

    let reply = record(
        &ducha,
        &[
            ("title", "政务服务窗口作风暗访"),
            ("kind", "unannounced"),
            ("body", "office"),
            ("body", "discipline"),
            ("body", "media"),
            ("unit", &czj),
            ("unit", &jyj),
            ("inspected_on", "2026-11-20"),
            ("summary", "随机走访窗口8个"),
        ],
    )
    .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let location = reply.location().to_owned();
    let id: i64 = location
        .strip_prefix("/supervision/inspections/")
        .and_then(|rest| rest.strip_suffix("?done=inspection_recorded"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {location}"));
    let page = ducha.get(&location).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("督查已登记")
        .assert_contains("政务服务窗口作风暗访")
        .assert_contains("暗访")
        .assert_contains("纪检")
        .assert_contains("媒体")
        .assert_contains("县教育局")
        .assert_contains("尚未登记发现的问题");
    assert_eq!(
        app.audit_count(AuditCode::InspectionRecorded, "ducha")
            .await,
        1
    );

    // A finding: refused without the problem, then recorded with its rectification item.
    let path = format!("/supervision/inspections/{id}/findings");
    ducha
        .post_form(
            &path,
            &[("problem", ""), ("unit", &czj), ("deadline", "2026-12-20")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请填写发现的问题");
    ducha
        .post_form(
            &path,
            &[
                ("problem", PROBLEM),
                ("unit", &czj),
                ("deadline", "2026-11-01"),
            ],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("整改期限不能早于督查日期2026-11-20");
    let added = ducha
        .post_form(
            &path,
            &[
                ("problem", PROBLEM),
                ("unit", &czj),
                ("deadline", "2026-12-20"),
            ],
        )
        .await;
    added.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        added.location(),
        format!("/supervision/inspections/{id}?done=finding_recorded")
    );
    let detail = app
        .store
        .get_inspection(&Viewer::console(), id)
        .await
        .unwrap();
    let finding = &detail.findings[0];
    ducha
        .get(added.location())
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("整改事项已交办到被督查单位")
        .assert_contains(PROBLEM)
        .assert_contains("整改期限 2026-12-20")
        .assert_contains(&format!("/supervision/items/{}", finding.item_id));

    // 县财政局's liaison finds the rectification among the unit's items.
    let liaison = app.login_demo("czj_lly").await;
    liaison
        .get("/supervision/mine")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(PROBLEM)
        .assert_contains("暗访：政务服务窗口作风暗访");
    liaison
        .get(&format!("/supervision/items/{}", finding.item_id))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("督查交办整改");

    // A referral to 纪检 for 慢作为.
    let referrals = format!("/supervision/inspections/{id}/referrals");
    let finding_id = finding.id.to_string();
    let referred = ducha
        .post_form(
            &referrals,
            &[
                ("finding", &finding_id),
                ("to", "discipline"),
                ("conduct", "slow_action"),
                ("note", "多次督促仍未整改"),
            ],
        )
        .await;
    referred.assert_status(StatusCode::SEE_OTHER);
    ducha
        .get(referred.location())
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("移交已记录")
        .assert_contains("移交纪检监察机关")
        .assert_contains("慢作为")
        .assert_contains("多次督促仍未整改");
    ducha
        .post_form(
            &referrals,
            &[
                ("finding", &finding_id),
                ("to", "discipline"),
                ("conduct", "inaction"),
            ],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("该问题已移交纪检监察机关");
    ducha
        .post_form(
            &referrals,
            &[
                ("finding", "999999"),
                ("to", "organisation"),
                ("conduct", "inaction"),
            ],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("请选择要移交的问题");
    assert_eq!(
        app.audit_count(AuditCode::FindingRecorded, "ducha").await,
        1
    );
    assert_eq!(
        app.audit_count(AuditCode::ReferralRecorded, "ducha").await,
        1
    );

    ducha
        .get("/supervision/inspections")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("政务服务窗口作风暗访")
        .assert_contains("共 1 次督查");
    ducha
        .get("/supervision/inspections/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

async fn leaders_read_without_forms_and_liaisons_are_refused(app: &TestApp) {
    demo_ledger(app).await;
    let console = Viewer::console();
    let sup = console.as_supervisor().unwrap();
    let snapshot = app
        .store
        .take_snapshot(sup, 2026, "", jiff::civil::date(2026, 7, 1))
        .await
        .unwrap();
    let czj = app.unit_id("县财政局").await;
    let inspection = app
        .store
        .record_inspection(
            sup,
            &zhongshu_store::inspections::NewInspection {
                title: "营商环境专项督查".to_owned(),
                kind: Some(zhongshu_store::inspections::InspectionKind::Special),
                bodies: vec![zhongshu_store::inspections::Body::Office],
                units: vec![czj],
                inspected_on: Some(jiff::civil::date(2026, 6, 1)),
                summary: String::new(),
            },
        )
        .await
        .unwrap();

    let leader = app.login_demo("lingdao").await;
    leader
        .get("/supervision/ledgers")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("2026年台账")
        .assert_contains(&format!("/supervision/ledgers/snapshots/{snapshot}"))
        .assert_lacks("action=\"/supervision/ledgers/open\"")
        .assert_lacks("/snapshot\"")
        .assert_lacks("年底结账…");
    leader
        .get(&format!("/supervision/ledgers/snapshots/{snapshot}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("按牵头单位");
    leader
        .get("/supervision/inspections")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("营商环境专项督查")
        .assert_lacks("action=\"/supervision/inspections\"");
    leader
        .get(&format!("/supervision/inspections/{inspection}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("营商环境专项督查")
        .assert_lacks("/findings\"")
        .assert_lacks("/referrals\"");
    let refused_before = app
        .audit_count(AuditCode::PermissionRefused, "lingdao")
        .await;
    let findings = format!("/supervision/inspections/{inspection}/findings");
    for (path, form) in [
        ("/supervision/ledgers/open", [("year", "2030")]),
        ("/supervision/ledgers/2026/snapshot", [("label", "x")]),
        ("/supervision/ledgers/2026/close", [("mode", "carry_over")]),
        ("/supervision/inspections", [("title", "x")]),
        (findings.as_str(), [("problem", "x")]),
    ] {
        leader
            .post_form(path, &form)
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    leader
        .get("/supervision/ledgers/2026/close")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        app.audit_count(AuditCode::PermissionRefused, "lingdao")
            .await,
        refused_before + 6
    );
    assert_eq!(app.store.ledger_years().await.unwrap(), vec![2026]);

    for username in ["czj_lly", "czj_fzr", "xitong"] {
        let visitor = app.login_demo(username).await;
        for path in [
            "/supervision/ledgers".to_owned(),
            format!("/supervision/ledgers/snapshots/{snapshot}"),
            "/supervision/inspections".to_owned(),
            format!("/supervision/inspections/{inspection}"),
        ] {
            visitor
                .get(&path)
                .await
                .assert_status(StatusCode::FORBIDDEN);
        }
        assert!(
            app.audit_count(AuditCode::PermissionRefused, username)
                .await
                >= 4
        );
    }
}
