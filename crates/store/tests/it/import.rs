//! Importing a unit list: all or nothing.

use crate::harness::TestDb;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::org::{CheckedUnitRow, UnitListRow, UnitType, check_unit_rows};
use zhongshu_store::Error;

store_tests!(
    an_import_may_name_a_parent_that_a_later_row_creates,
    an_import_with_one_unknown_parent_writes_nothing,
    importing_an_existing_unit_again_is_refused,
);

fn rows(rows: &[(usize, &str, &str, &str)]) -> Vec<CheckedUnitRow> {
    let rows: Vec<UnitListRow> = rows
        .iter()
        .map(|(row, name, parent, kind)| UnitListRow {
            row: *row,
            name: (*name).to_owned(),
            parent: (*parent).to_owned(),
            unit_type: (*kind).to_owned(),
            key_reporting: "否".to_owned(),
        })
        .collect();
    check_unit_rows(&rows).expect("rows that are valid on their own")
}

async fn an_import_may_name_a_parent_that_a_later_row_creates(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let events = db.audit_count().await;
    let imported = db
        .store
        .import_units(
            console.as_sys_admin().unwrap(),
            rows(&[
                (2, "预算股", "县财政局", "科室"),
                (3, "县财政局", "", "县直部门"),
                (4, "国库股", "明湖县/县财政局", "科室"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(imported, 3);
    let finance = db.store.find_unit(&console, "县财政局").await.unwrap();
    let budget = db.store.find_unit(&console, "预算股").await.unwrap();
    let treasury = db.store.find_unit(&console, "国库股").await.unwrap();
    let budget = db.store.get_unit(&console, budget).await.unwrap();
    assert_eq!(budget.parent_id, Some(finance));
    assert_eq!(budget.unit_type, UnitType::Office);
    assert_eq!(budget.path, format!("/{finance}/{}/", budget.id));
    assert_eq!(
        db.store
            .get_unit(&console, treasury)
            .await
            .unwrap()
            .parent_id,
        Some(finance)
    );
    assert_eq!(db.unit_count().await, 3);
    assert_eq!(
        db.audit_count().await,
        events + 1,
        "one event for the import"
    );
}

async fn an_import_with_one_unknown_parent_writes_nothing(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    db.unit(None, "县财政局").await;
    let units = db.unit_count().await;
    let events = db.audit_count().await;
    let err = db
        .store
        .import_units(
            console.as_sys_admin().unwrap(),
            rows(&[
                (2, "县教育局", "", "县直部门"),
                (3, "预算股", "县财政局", "科室"),
                (4, "基础教育股", "县教育厅", "科室"),
                (5, "人事股", "县教育局", "科室"),
            ]),
        )
        .await
        .expect_err("an import naming a parent that does not exist");
    let Error::Rows(problems) = &err else {
        panic!("expected Error::Rows, got {err:?}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].row, 4);
    assert_eq!(problems[0].column, "上级单位");
    assert!(problems[0].reason.contains("县教育厅"), "{problems:?}");
    assert!(err.to_string().contains("第4行"), "{err}");
    // The rows before and after the bad one were inserted in the transaction, then rolled back.
    assert_eq!(db.unit_count().await, units);
    assert_eq!(db.audit_count().await, events);
    assert!(db.store.find_unit(&console, "县教育局").await.is_err());
    assert!(db.store.find_unit(&console, "预算股").await.is_err());
}

async fn importing_an_existing_unit_again_is_refused(db: &TestDb) {
    let console = Viewer::console();
    db.region().await;
    let file = rows(&[
        (2, "县财政局", "", "县直部门"),
        (3, "预算股", "县财政局", "科室"),
    ]);
    db.store
        .import_units(console.as_sys_admin().unwrap(), file.clone())
        .await
        .unwrap();
    let units = db.unit_count().await;
    let events = db.audit_count().await;
    let err = db
        .store
        .import_units(console.as_sys_admin().unwrap(), file)
        .await
        .expect_err("the same file imported twice");
    let Error::Rows(problems) = &err else {
        panic!("expected Error::Rows, got {err:?}");
    };
    let located: Vec<(usize, &str)> = problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert_eq!(located, vec![(2, "单位名称"), (3, "单位名称")]);
    assert!(
        problems.iter().all(|p| p.reason.contains("已存在")),
        "{problems:?}"
    );
    assert_eq!(db.unit_count().await, units);
    assert_eq!(db.audit_count().await, events);
}
