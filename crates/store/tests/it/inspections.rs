//! Inspections (督查) in the store, on the demo county 明湖县: a finding opens a rectification
//! item (整改) that the inspected unit's liaison sees among its items, bad input is refused field
//! by field and writes nothing, a finding is referred to each body once, and only those who see
//! the whole ledger read inspections.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use jiff::civil::date;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::supervision::ItemState;
use zhongshu_store::Error;
use zhongshu_store::inspections::{
    Body, Conduct, InspectionKind, NewFinding, NewInspection, NewReferral, ReferralTo,
};
use zhongshu_store::ledger::CloseChoice;
use zhongshu_store::supervision::{ItemFilter, ItemRow};

store_tests!(
    a_finding_opens_a_rectification_item_that_the_inspected_units_liaison_sees,
    bad_inspections_and_findings_are_refused_field_by_field_and_write_nothing,
    a_finding_is_referred_to_each_body_once,
    only_those_who_see_the_whole_ledger_read_inspections,
);

const PROBLEM: &str = "政务服务窗口午休时段无人值守，群众反映办事难";

async fn unit(db: &TestDb, name: &str) -> UnitId {
    db.store.find_unit(&Viewer::console(), name).await.unwrap()
}

/// The demo county and an unannounced inspection of 县财政局 and 县教育局; returns 督查室's
/// viewer and the inspection's id.
async fn with_inspection(db: &TestDb) -> (Viewer, i64) {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
    let ducha = sign_in(db, "ducha").await;
    let new = NewInspection {
        title: "政务服务窗口作风暗访".to_owned(),
        kind: Some(InspectionKind::Unannounced),
        bodies: vec![Body::Discipline, Body::Office, Body::Media, Body::Office],
        units: vec![unit(db, "县财政局").await, unit(db, "县教育局").await],
        inspected_on: Some(date(2026, 5, 12)),
        summary: "随机走访窗口8个".to_owned(),
    };
    let id = db
        .store
        .record_inspection(ducha.as_supervisor().unwrap(), &new)
        .await
        .expect("record_inspection");
    (ducha, id)
}

async fn items_of(db: &TestDb, viewer: &Viewer) -> Vec<ItemRow> {
    db.store
        .list_items(viewer, &ItemFilter::default(), date(2026, 6, 1), 3, 1000)
        .await
        .expect("list_items")
}

async fn events(db: &TestDb, code: AuditCode) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
        code.code()
    ))
    .await
}

fn fields(err: &Error) -> Vec<&'static str> {
    match err {
        Error::Invalid(problems) => problems.iter().map(|p| p.field).collect(),
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
}

async fn a_finding_opens_a_rectification_item_that_the_inspected_units_liaison_sees(db: &TestDb) {
    let (ducha, id) = with_inspection(db).await;
    let czj = unit(db, "县财政局").await;
    let (finding, item) = db
        .store
        .record_finding(
            ducha.as_supervisor().unwrap(),
            id,
            &NewFinding {
                problem: format!("  {PROBLEM} "),
                unit: Some(czj),
                deadline: Some(date(2027, 3, 31)),
            },
        )
        .await
        .unwrap();
    assert!(finding > 0);

    // The deadline's year got its ledger; the item sits there, led by 县财政局, assigned.
    assert_eq!(db.store.ledger_years().await.unwrap(), vec![2027]);
    let liaison = sign_in(db, "czj_lly").await;
    let seen = items_of(db, &liaison).await;
    let row = seen
        .iter()
        .find(|r| r.id == item)
        .unwrap_or_else(|| panic!("县财政局's liaison does not see the rectification: {seen:?}"));
    assert_eq!(row.title, PROBLEM);
    assert_eq!(row.ledger_year, 2027);
    assert_eq!(row.lead_unit, "县财政局");
    assert_eq!(row.state, ItemState::Assigned);
    assert_eq!(row.due_date.as_deref(), Some("2027-03-31"));
    assert_eq!(row.deadline_text, "2027年3月31日前");
    assert_eq!(row.category, "督查整改");
    assert_eq!(row.parent_title, "暗访：政务服务窗口作风暗访");
    let education = sign_in(db, "jyj_lly").await;
    assert!(
        items_of(db, &education).await.iter().all(|r| r.id != item),
        "another inspected unit does not see 县财政局's rectification"
    );
    let detail = db
        .store
        .get_item(&liaison, item, date(2026, 6, 1), 3)
        .await
        .unwrap();
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.history[0].action, "督查交办整改");
    assert_eq!(detail.units.len(), 1);
    assert!(detail.units[0].lead);
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM items WHERE id = {item} AND source = 'rectification'"
        ))
        .await,
        1
    );

    // A second finding in the same year shares the 重点任务 of the inspection.
    let (_, second) = db
        .store
        .record_finding(
            ducha.as_supervisor().unwrap(),
            id,
            &NewFinding {
                problem: "教育收费公示不及时".to_owned(),
                unit: Some(unit(db, "县教育局").await),
                deadline: Some(date(2027, 1, 15)),
            },
        )
        .await
        .unwrap();
    let all = items_of(db, &ducha).await;
    let parent = |id: i64| all.iter().find(|r| r.id == id).unwrap().parent_id;
    assert_eq!(parent(item), parent(second));

    let inspection = db.store.get_inspection(&ducha, id).await.unwrap();
    assert_eq!(inspection.kind, InspectionKind::Unannounced);
    assert_eq!(
        inspection.bodies,
        vec![Body::Office, Body::Discipline, Body::Media],
        "in the fixed order, once each"
    );
    let units: Vec<&str> = inspection.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(units.len(), 2);
    assert!(units.contains(&"县财政局") && units.contains(&"县教育局"));
    assert_eq!(inspection.findings.len(), 2);
    assert_eq!(inspection.findings[0].problem, PROBLEM);
    assert_eq!(inspection.findings[0].item_id, item);
    assert_eq!(inspection.findings[0].item_state, ItemState::Assigned);
    assert_eq!(inspection.findings[0].deadline, "2027-03-31");
    let list = db.store.list_inspections(&ducha).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].findings, 2);
    assert_eq!(list[0].open_rectifications, 2);
    assert_eq!(events(db, AuditCode::InspectionRecorded).await, 1);
    assert_eq!(events(db, AuditCode::FindingRecorded).await, 2);

    // Carried over at 结账, the finding follows its rectification into the next year.
    db.store
        .close_ledger(
            ducha.as_supervisor().unwrap(),
            2027,
            &CloseChoice::CarryOver { new_due: None },
            date(2027, 12, 31),
        )
        .await
        .unwrap();
    let inspection = db.store.get_inspection(&ducha, id).await.unwrap();
    let carried = &inspection.findings[0];
    assert_ne!(carried.item_id, item);
    assert_eq!(carried.item_year, 2028);
    assert!(carried.carried);
    assert_eq!(carried.item_state, ItemState::Assigned);
    assert!(inspection.findings[1].carried, "both were in 2027");
    assert_eq!(
        db.store.list_inspections(&ducha).await.unwrap()[0].open_rectifications,
        2,
        "the carried copies are still open"
    );
    assert!(
        items_of(db, &liaison)
            .await
            .iter()
            .any(|r| r.id == carried.item_id && r.ledger_year == 2028)
    );
}

async fn bad_inspections_and_findings_are_refused_field_by_field_and_write_nothing(db: &TestDb) {
    let (ducha, id) = with_inspection(db).await;
    let sup = ducha.as_supervisor().unwrap();
    let audit = db.audit_count().await;
    let err = db
        .store
        .record_inspection(sup, &NewInspection::default())
        .await
        .unwrap_err();
    assert_eq!(
        fields(&err),
        vec!["title", "kind", "bodies", "units", "inspected_on"]
    );
    let err = db
        .store
        .record_inspection(
            sup,
            &NewInspection {
                title: "专项督查".to_owned(),
                kind: Some(InspectionKind::Special),
                bodies: vec![Body::Office],
                units: vec![UnitId::from_db(999_999)],
                inspected_on: Some(date(2026, 5, 1)),
                summary: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["units"]);

    let outside = unit(db, "县公安局").await;
    let err = db
        .store
        .record_finding(
            sup,
            id,
            &NewFinding {
                problem: " ".to_owned(),
                unit: Some(outside),
                deadline: Some(date(2026, 5, 1)),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["problem", "unit", "deadline"]);
    let err = db
        .store
        .record_finding(sup, id, &NewFinding::default())
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["problem", "unit", "deadline"]);
    let err = db
        .store
        .record_finding(sup, 999_999, &NewFinding::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    // A deadline in a closed year is refused: the ledger accepts no new item.
    db.store.open_ledger(sup, 2026).await.unwrap();
    db.store
        .close_ledger(
            sup,
            2026,
            &CloseChoice::Conclude {
                reason: "测试".to_owned(),
            },
            date(2026, 12, 31),
        )
        .await
        .unwrap();
    let audit_after_close = db.audit_count().await;
    assert_eq!(audit_after_close, audit + 2);
    let err = db
        .store
        .record_finding(
            sup,
            id,
            &NewFinding {
                problem: PROBLEM.to_owned(),
                unit: Some(unit(db, "县财政局").await),
                deadline: Some(date(2026, 8, 31)),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["deadline"]);
    assert!(err.to_string().contains("2026年台账已结账"), "{err}");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM inspections").await, 1);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM inspection_findings")
            .await,
        0
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM items").await, 0);
    assert_eq!(db.audit_count().await, audit_after_close);
}

async fn a_finding_is_referred_to_each_body_once(db: &TestDb) {
    let (ducha, id) = with_inspection(db).await;
    let sup = ducha.as_supervisor().unwrap();
    let (finding, _) = db
        .store
        .record_finding(
            sup,
            id,
            &NewFinding {
                problem: PROBLEM.to_owned(),
                unit: Some(unit(db, "县财政局").await),
                deadline: Some(date(2026, 9, 30)),
            },
        )
        .await
        .unwrap();
    let err = db
        .store
        .record_referral(sup, finding, &NewReferral::default())
        .await
        .unwrap_err();
    assert_eq!(fields(&err), vec!["to", "conduct"]);
    db.store
        .record_referral(
            sup,
            finding,
            &NewReferral {
                to: Some(ReferralTo::Discipline),
                conduct: Some(Conduct::SlowAction),
                note: "多次督促仍未整改".to_owned(),
            },
        )
        .await
        .unwrap();
    let err = db
        .store
        .record_referral(
            sup,
            finding,
            &NewReferral {
                to: Some(ReferralTo::Discipline),
                conduct: Some(Conduct::Inaction),
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("已移交"), "{err}");
    db.store
        .record_referral(
            sup,
            finding,
            &NewReferral {
                to: Some(ReferralTo::Organisation),
                conduct: Some(Conduct::Inaction),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let err = db
        .store
        .record_referral(sup, 999_999, &NewReferral::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let inspection = db.store.get_inspection(&ducha, id).await.unwrap();
    let referrals = &inspection.findings[0].referrals;
    assert_eq!(referrals.len(), 2);
    assert_eq!(referrals[0].to, ReferralTo::Discipline);
    assert_eq!(referrals[0].conduct, Conduct::SlowAction);
    assert_eq!(referrals[0].note, "多次督促仍未整改");
    assert_eq!(referrals[0].created_by, "王建军");
    assert_eq!(referrals[1].to, ReferralTo::Organisation);
    assert_eq!(
        db.store.list_inspections(&ducha).await.unwrap()[0].referrals,
        2
    );
    assert_eq!(events(db, AuditCode::ReferralRecorded).await, 2);
}

async fn only_those_who_see_the_whole_ledger_read_inspections(db: &TestDb) {
    let (_, id) = with_inspection(db).await;
    let leader = sign_in(db, "lingdao").await;
    assert_eq!(db.store.list_inspections(&leader).await.unwrap().len(), 1);
    assert_eq!(
        db.store.get_inspection(&leader, id).await.unwrap().title,
        "政务服务窗口作风暗访"
    );
    assert!(leader.as_supervisor().is_err(), "a leader cannot record");
    for username in ["czj_lly", "czj_fzr", "xitong"] {
        let viewer = sign_in(db, username).await;
        assert!(
            matches!(
                db.store.list_inspections(&viewer).await,
                Err(Error::Forbidden(_))
            ),
            "{username}"
        );
        assert!(
            matches!(
                db.store.get_inspection(&viewer, id).await,
                Err(Error::Forbidden(_))
            ),
            "{username}"
        );
    }
    let err = db.store.get_inspection(&leader, 999_999).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));
}
