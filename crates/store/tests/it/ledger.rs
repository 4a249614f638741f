//! The ledger's year steps in the store, on the demo county 明湖县: 建账, 查账 frozen forever
//! (the figures do not follow the items, and SQL cannot change them), 结账 with carry-over into
//! the next year or with a reason, and a closed year refusing new items.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use jiff::civil::{Date, date};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{Action, ItemState, TaskRow};
use zhongshu_store::Error;
use zhongshu_store::ledger::{CloseChoice, CloseMode, Figures, SnapshotKind};
use zhongshu_store::supervision::{ItemFilter, ItemRow};

store_tests!(
    a_snapshot_keeps_its_figures_after_items_change_and_sql_cannot_change_it,
    closing_with_carry_over_copies_unfinished_items_into_next_year_and_closes_the_year,
    closing_by_concluding_needs_a_reason_and_a_closed_year_refuses_any_new_item,
    only_the_office_opens_a_year_and_leaders_read_while_units_are_refused,
);

const YEAR: i16 = 2026;
const MID_YEAR: Date = date(2026, 7, 1);
const FINANCE_1: &str = "（1）一般公共预算收入增长5%";
const FINANCE_2: &str = "（2）压减一般性支出10%";
const EDUCATION_1: &str = "（1）新建公办幼儿园2所";

fn task_row(
    row: usize,
    category: &str,
    task: &str,
    measure: &str,
    lead: &str,
    co: &[&str],
    deadline: &str,
) -> TaskRow {
    TaskRow {
        row,
        category: category.to_owned(),
        seq: row.to_string(),
        task: task.to_owned(),
        measure: measure.to_owned(),
        lead_unit: lead.to_owned(),
        co_units: co.iter().map(|&c| c.to_owned()).collect(),
        leader: "陈国平".to_owned(),
        person: "张明".to_owned(),
        deadline: deadline.to_owned(),
        note: String::new(),
    }
}

/// 县财政局 leads two measures (one due 6月底, past on 7月1日; one far off), 县教育局 one.
fn rows() -> Vec<TaskRow> {
    vec![
        task_row(
            4,
            "一、推动经济高质量发展",
            "财政收支管理",
            FINANCE_1,
            "县财政局",
            &["县税务局"],
            "6月底前",
        ),
        task_row(
            5,
            "一、推动经济高质量发展",
            "财政收支管理",
            FINANCE_2,
            "县财政局",
            &["县审计局"],
            "2099年12月31日前",
        ),
        task_row(
            6,
            "二、持续改善民生福祉",
            "教育提质扩容",
            EDUCATION_1,
            "县教育局",
            &["县财政局", "县住房和城乡建设局"],
            "9月底前",
        ),
    ]
}

/// The demo county with the 2026 ledger imported by 督查室; returns 督查室's viewer.
async fn with_ledger(db: &TestDb) -> Viewer {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
    let ducha = sign_in(db, "ducha").await;
    db.store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &rows())
        .await
        .expect("import_items");
    ducha
}

async fn items(db: &TestDb, viewer: &Viewer, year: Option<i64>) -> Vec<ItemRow> {
    db.store
        .list_items(
            viewer,
            &ItemFilter {
                year,
                ..ItemFilter::default()
            },
            MID_YEAR,
            3,
            1000,
        )
        .await
        .expect("list_items")
}

async fn item(db: &TestDb, year: i64, title: &str) -> ItemRow {
    items(db, &Viewer::console(), Some(year))
        .await
        .into_iter()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no item {title} in {year}"))
}

/// Takes a step on an item with its current version.
async fn act(db: &TestDb, viewer: &Viewer, id: i64, action: Action) {
    let version = db
        .store
        .get_item(&Viewer::console(), id, MID_YEAR, 3)
        .await
        .unwrap()
        .item
        .version;
    db.store
        .act_on_item(viewer, id, action, version, "")
        .await
        .unwrap_or_else(|e| panic!("{action:?} on {id}: {e}"));
}

/// The lead unit's liaison signs and asks to close; the office approves.
async fn close_item(db: &TestDb, ducha: &Viewer, liaison: &Viewer, id: i64) {
    act(db, liaison, id, Action::Acknowledge).await;
    act(db, liaison, id, Action::RequestClosure).await;
    act(db, ducha, id, Action::ApproveClosure).await;
}

async fn events(db: &TestDb, code: AuditCode) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
        code.code()
    ))
    .await
}

fn figures(items: i64, closed: i64, on_time: i64, overdue: i64, in_progress: i64) -> Figures {
    Figures {
        items,
        closed,
        on_time,
        overdue,
        in_progress,
    }
}

async fn a_snapshot_keeps_its_figures_after_items_change_and_sql_cannot_change_it(db: &TestDb) {
    let ducha = with_ledger(db).await;
    let id = db
        .store
        .take_snapshot(ducha.as_supervisor().unwrap(), 2026, "", MID_YEAR)
        .await
        .unwrap();
    let before = db.store.snapshot(&ducha, id).await.unwrap();
    assert_eq!(before.header.kind, SnapshotKind::Audit);
    assert_eq!(before.header.label, "年中查账");
    assert_eq!(before.header.as_of, "2026-07-01");
    assert_eq!(before.header.taken_by, "王建军");
    assert_eq!(
        before.total,
        figures(3, 0, 0, 1, 2),
        "6月底 is past on 7月1日"
    );
    let units: Vec<(&str, Figures)> = before
        .by_unit
        .iter()
        .map(|l| (l.label.as_str(), l.figures))
        .collect();
    assert_eq!(
        units,
        vec![
            ("县教育局", figures(1, 0, 0, 0, 1)),
            ("县财政局", figures(2, 0, 0, 1, 1)),
        ],
        "lead units in the county's unit order"
    );
    let categories: Vec<&str> = before
        .by_category
        .iter()
        .map(|l| l.label.as_str())
        .collect();
    assert_eq!(
        categories,
        vec!["一、推动经济高质量发展", "二、持续改善民生福祉"]
    );
    assert_eq!(events(db, AuditCode::LedgerSnapshotTaken).await, 1);

    // 县财政局 closes one item after the count: the snapshot does not move.
    let czj = sign_in(db, "czj_lly").await;
    let finance = item(db, 2026, FINANCE_2).await;
    close_item(db, &ducha, &czj, finance.id).await;
    let after = db.store.snapshot(&ducha, id).await.unwrap();
    assert_eq!(after.total, before.total);
    assert_eq!(after.by_unit.len(), 2);
    assert_eq!(after.by_unit[1].figures, figures(2, 0, 0, 1, 1));
    let overview = db.store.ledger_overview(&ducha, MID_YEAR).await.unwrap();
    assert_eq!(overview.len(), 1);
    assert_eq!(overview[0].done, 1, "the live figures do follow the items");
    assert_eq!(overview[0].snapshots.len(), 1);
    assert_eq!(overview[0].snapshots[0].id, id);

    // A second count sees the closed item, on time.
    let second = db
        .store
        .take_snapshot(ducha.as_supervisor().unwrap(), 2026, "三季度查账", MID_YEAR)
        .await
        .unwrap();
    let second = db.store.snapshot(&ducha, second).await.unwrap();
    assert_eq!(second.total, figures(3, 1, 1, 1, 1));
    assert_eq!(second.total.completion_rate(), "33.3%");

    // Frozen: no UPDATE, no DELETE of a header or a line, through SQL either.
    for sql in [
        format!("UPDATE ledger_snapshots SET label = '改过' WHERE id = {id}"),
        format!("DELETE FROM ledger_snapshots WHERE id = {id}"),
        format!("UPDATE ledger_snapshot_lines SET closed_count = 3 WHERE snapshot_id = {id}"),
        format!("DELETE FROM ledger_snapshot_lines WHERE snapshot_id = {id}"),
    ] {
        let err = db.exec(&sql).await.expect_err(&sql);
        assert!(err.to_string().contains("查账记录不可"), "{sql}: {err}");
    }
    let again = db.store.snapshot(&ducha, id).await.unwrap();
    assert_eq!(again.total, before.total);
    assert_eq!(again.header.label, "年中查账");
}

async fn closing_with_carry_over_copies_unfinished_items_into_next_year_and_closes_the_year(
    db: &TestDb,
) {
    let ducha = with_ledger(db).await;
    let czj = sign_in(db, "czj_lly").await;
    let done = item(db, 2026, FINANCE_2).await;
    close_item(db, &ducha, &czj, done.id).await;
    let old_finance = item(db, 2026, FINANCE_1).await;
    let old_education = item(db, 2026, EDUCATION_1).await;
    assert_eq!(
        db.store.unfinished_items(&ducha, 2026).await.unwrap().len(),
        2
    );

    let summary = db
        .store
        .close_ledger(
            ducha.as_supervisor().unwrap(),
            2026,
            &CloseChoice::CarryOver {
                new_due: Some(date(2027, 6, 30)),
            },
            date(2026, 12, 31),
        )
        .await
        .unwrap();
    assert_eq!(summary.carried, 2);
    assert_eq!(summary.concluded, 0);
    assert_eq!(summary.next_year, Some(2027));

    // The next year holds copies, assigned to the same units, under the same 重点任务.
    let next = items(db, &Viewer::console(), Some(2027)).await;
    let mut titles: Vec<&str> = next.iter().map(|r| r.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(titles, vec![FINANCE_1, EDUCATION_1]);
    let finance = item(db, 2027, FINANCE_1).await;
    assert_eq!(finance.state, ItemState::Assigned);
    assert_eq!(finance.lead_unit, "县财政局");
    assert_eq!(finance.co_units, old_finance.co_units);
    assert_eq!(finance.parent_title, "财政收支管理");
    assert_ne!(finance.parent_id, old_finance.parent_id);
    assert_eq!(finance.due_date.as_deref(), Some("2027-06-30"));
    assert_eq!(finance.deadline_text, "2027年6月30日前");
    assert!(finance.note.starts_with("由2026年结转"), "{}", finance.note);
    let education = item(db, 2027, EDUCATION_1).await;
    let mut co = education.co_units.clone();
    co.sort();
    let mut old_co = old_education.co_units.clone();
    old_co.sort();
    assert_eq!(co, old_co);
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM items WHERE id = {} AND carried_from = {}",
            finance.id, old_finance.id
        ))
        .await,
        1,
        "the copy links back to the item it continues"
    );
    let detail = db
        .store
        .get_item(&ducha, finance.id, MID_YEAR, 3)
        .await
        .unwrap();
    assert_eq!(detail.history[0].action, "结转");
    assert!(detail.units.iter().all(|u| u.acknowledged_at.is_none()));
    assert_eq!(detail.units.len(), 2);

    // The old items end in 2026; the finished one is untouched.
    let old = item(db, 2026, FINANCE_1).await;
    assert_eq!(old.state, ItemState::Cancelled);
    let old_detail = db
        .store
        .get_item(&ducha, old.id, MID_YEAR, 3)
        .await
        .unwrap();
    assert!(
        old_detail.history[0].note.contains("结转至2027年台账"),
        "{:?}",
        old_detail.history[0]
    );
    assert_eq!(item(db, 2026, FINANCE_2).await.state, ItemState::Closed);

    // 县财政局's liaison sees the carried item open in 2027, the old one no longer open.
    let open: Vec<(i64, String)> = items(db, &czj, None)
        .await
        .into_iter()
        .filter(|r| r.state.is_open())
        .map(|r| (r.ledger_year, r.title))
        .collect();
    assert!(open.contains(&(2027, FINANCE_1.to_owned())), "{open:?}");
    assert!(
        open.contains(&(2027, EDUCATION_1.to_owned())),
        "a co-unit: {open:?}"
    );
    assert!(open.iter().all(|(year, _)| *year == 2027), "{open:?}");

    let overview = db
        .store
        .ledger_overview(&ducha, date(2027, 1, 5))
        .await
        .unwrap();
    let years: Vec<(i64, bool)> = overview.iter().map(|y| (y.year, y.closed)).collect();
    assert_eq!(years, vec![(2027, false), (2026, true)]);
    let closed = &overview[1];
    assert_eq!(closed.close_mode, Some(CloseMode::CarryOver));
    assert_eq!(closed.closed_by.as_deref(), Some("王建军"));
    assert_eq!(
        closed.cancelled, 0,
        "carried items count as carried, not cancelled"
    );
    assert_eq!(closed.carried_out, 2);
    assert_eq!(closed.open, 0);
    assert_eq!(overview[0].carried_in, 2);
    let frozen = closed.year_end.expect("the year-end figures");
    assert_eq!((frozen.items, frozen.closed), (3, 1));
    assert!(overview[0].year_end.is_none());
    assert_eq!(closed.snapshots.len(), 1);
    assert_eq!(closed.snapshots[0].kind, SnapshotKind::Close);
    let year_end = db
        .store
        .snapshot(&ducha, summary.snapshot_id)
        .await
        .unwrap();
    assert_eq!(
        year_end.total.items, 3,
        "counted before the items were ended"
    );
    assert_eq!(year_end.total.closed, 1);

    // A closed year is closed: no second 结账, no 查账.
    let again = db
        .store
        .close_ledger(
            ducha.as_supervisor().unwrap(),
            2026,
            &CloseChoice::CarryOver { new_due: None },
            date(2026, 12, 31),
        )
        .await
        .unwrap_err();
    assert!(again.to_string().contains("已结账"), "{again}");
    let snap = db
        .store
        .take_snapshot(ducha.as_supervisor().unwrap(), 2026, "", date(2027, 1, 5))
        .await
        .unwrap_err();
    assert!(matches!(snap, Error::Invalid(_)), "{snap:?}");
    assert_eq!(events(db, AuditCode::LedgerClosed).await, 1);
}

async fn closing_by_concluding_needs_a_reason_and_a_closed_year_refuses_any_new_item(db: &TestDb) {
    let ducha = with_ledger(db).await;
    let sup = ducha.as_supervisor().unwrap();
    let err = db
        .store
        .close_ledger(
            sup,
            2026,
            &CloseChoice::Conclude {
                reason: "  ".to_owned(),
            },
            date(2026, 12, 31),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(p) if p[0].field == "reason"),
        "{err:?}"
    );
    let err = db
        .store
        .close_ledger(
            sup,
            2026,
            &CloseChoice::CarryOver {
                new_due: Some(date(2028, 1, 1)),
            },
            date(2026, 12, 31),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(p) if p[0].field == "new_due"),
        "{err:?}"
    );
    assert_eq!(events(db, AuditCode::LedgerClosed).await, 0);

    let summary = db
        .store
        .close_ledger(
            sup,
            2026,
            &CloseChoice::Conclude {
                reason: "机构改革，事项不再推进".to_owned(),
            },
            date(2026, 12, 31),
        )
        .await
        .unwrap();
    assert_eq!(summary.concluded, 3);
    assert_eq!(summary.next_year, None);
    assert!(db.store.ledger_years().await.unwrap() == vec![2026]);
    let rows = items(db, &ducha, Some(2026)).await;
    assert!(rows.iter().all(|r| r.state == ItemState::Cancelled));
    let detail = db
        .store
        .get_item(&ducha, rows[0].id, MID_YEAR, 3)
        .await
        .unwrap();
    assert_eq!(detail.history[0].note, "机构改革，事项不再推进");
    let overview = db.store.ledger_overview(&ducha, MID_YEAR).await.unwrap();
    assert_eq!(overview[0].close_mode, Some(CloseMode::Conclude));
    assert_eq!(overview[0].close_note, "机构改革，事项不再推进");
    assert_eq!(overview[0].cancelled, 3);

    // No import into the closed year: the database refuses the rows, nothing is written.
    let before = db.count("SELECT COUNT(*) AS n FROM items").await;
    let audit = db.audit_count().await;
    let mut late = rows_for_late_import();
    late.truncate(1);
    let refused = db.store.import_items(sup, YEAR, &late).await;
    assert!(
        refused.is_err(),
        "an import into a closed year was accepted"
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM items").await, before);
    assert_eq!(db.audit_count().await, audit);
    // Nor through SQL.
    let sql = "INSERT INTO items (ledger_year, title, created_at, updated_at) \
               VALUES (2026, '补录', 0, 0)";
    let err = db.exec(sql).await.expect_err("insert into a closed year");
    assert!(err.to_string().contains("已结账"), "{err}");
    // Opening it again is refused too.
    let err = db.store.open_ledger(sup, 2026).await.unwrap_err();
    assert!(err.to_string().contains("已结账"), "{err}");
}

fn rows_for_late_import() -> Vec<TaskRow> {
    vec![task_row(
        4,
        "三、提升基层治理效能",
        "矛盾纠纷化解",
        "（1）信访积案清仓见底",
        "县信访局",
        &[],
        "12月31日前",
    )]
}

async fn only_the_office_opens_a_year_and_leaders_read_while_units_are_refused(db: &TestDb) {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .unwrap();
    let ducha = sign_in(db, "ducha").await;
    let leader = sign_in(db, "lingdao").await;
    let liaison = sign_in(db, "czj_lly").await;
    assert!(
        leader.as_supervisor().is_err(),
        "a leader holds no office proof"
    );
    assert!(liaison.as_supervisor().is_err());

    db.store
        .open_ledger(ducha.as_supervisor().unwrap(), 2027)
        .await
        .unwrap();
    let err = db
        .store
        .open_ledger(ducha.as_supervisor().unwrap(), 2027)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("已建账"), "{err}");
    let err = db
        .store
        .open_ledger(ducha.as_supervisor().unwrap(), 1999)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
    assert_eq!(events(db, AuditCode::LedgerOpened).await, 1);

    let seen = db.store.ledger_overview(&leader, MID_YEAR).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].year, 2027);
    assert_eq!(seen[0].items, 0);
    assert!(!seen[0].closed);
    assert!(matches!(
        db.store.ledger_overview(&liaison, MID_YEAR).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        db.store.unfinished_items(&liaison, 2027).await,
        Err(Error::Forbidden(_))
    ));
    // An import into the open year works as before (and does not open it twice).
    let summary = db
        .store
        .import_items(
            ducha.as_supervisor().unwrap(),
            2027,
            &rows_for_late_import(),
        )
        .await
        .unwrap();
    assert!(!summary.ledger_opened);
}
