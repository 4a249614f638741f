//! Supervision (督查督办) in the store, on the demo county 明湖县: importing a 任务分解表 all
//! or nothing, who sees which items, an item's lifecycle, two people acting at once, and
//! progress reports. The harness checks the audit chain after every test.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use jiff::civil::{Date, date};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{Action, ItemState, TaskRow};
use zhongshu_domain::supervision::{Cycle, Signal, Source, Urgency};
use zhongshu_store::Error;
use zhongshu_store::supervision::{
    ImportSummary, ItemDetail, ItemFilter, ItemRow, NewItem, NewReport, Queue, QueueCounts,
};

store_tests!(
    paging_the_ledger_by_key_visits_every_item_once_and_the_counts_match_a_fresh_count,
    the_kept_totals_equal_a_fresh_count_after_a_write_and_as_the_date_moves,
    an_import_writes_every_row_groups_measures_under_their_task_and_opens_the_ledger,
    an_import_with_bad_rows_is_refused_row_by_row_and_writes_nothing,
    an_import_larger_than_one_statement_keeps_every_row_under_its_group_and_finds_it_by_text,
    importing_the_same_rows_again_is_refused_as_duplicates,
    a_unit_sees_only_the_items_it_leads_or_co_owns,
    an_item_goes_from_assignment_to_closure_and_every_step_is_in_its_history,
    two_people_acting_on_one_item_at_once_one_wins_and_the_other_is_told_it_changed,
    progress_on_another_units_item_is_refused_and_a_bad_batch_writes_nothing,
    an_import_tells_each_units_liaison_and_head_once,
    urging_again_within_the_interval_is_refused_and_each_urge_is_counted,
    a_leader_is_told_when_the_item_they_instructed_on_closes,
    a_hand_registered_item_is_a_draft_until_registered_and_assigned_and_keeps_every_field,
    registering_at_once_assigns_and_tells_the_units,
    a_bad_registration_is_refused_field_by_field_and_writes_nothing,
    a_critical_item_counts_in_hours_and_turns_red_after_24,
    an_approved_extension_moves_the_deadline_and_keeps_the_history,
    a_refused_extension_keeps_the_deadline_and_only_the_lead_unit_of_an_open_item_may_ask,
    a_disputed_item_is_reassigned_and_only_the_new_units_see_it,
    progress_counts_per_reporting_cycle_and_imported_items_report_monthly,
    the_supervisor_queues_count_their_items,
    a_units_open_page_puts_the_overdue_first_and_counts_only_its_open_items,
);

const YEAR: i16 = 2026;
const CATEGORY: &str = "一、推动经济高质量发展";
/// The day signals are computed for: early in the 2026 ledger, before any deadline below.
const TODAY: Date = date(2026, 3, 2);
const YELLOW_DAYS: u32 = 3;

/// One 具体措施 row of a 任务分解表.
fn task_row(
    row: usize,
    seq: &str,
    task: &str,
    measure: &str,
    lead: &str,
    co: &[&str],
    deadline: &str,
) -> TaskRow {
    TaskRow {
        row,
        category: CATEGORY.to_owned(),
        seq: seq.to_owned(),
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

const FINANCE_1: &str = "（1）一般公共预算收入增长5%";
const FINANCE_2: &str = "（2）压减一般性支出10%";
const EDUCATION_1: &str = "（1）新建公办幼儿园2所";
const EDUCATION_2: &str = "（2）完成义务教育薄弱环节改造";

/// Two 重点任务 with two measures each: 县财政局 leads the first two and co-owns the third;
/// 县教育局 leads the last two.
fn ledger_rows() -> Vec<TaskRow> {
    vec![
        task_row(
            4,
            "1",
            "财政收支管理",
            FINANCE_1,
            "县财政局",
            &["县税务局"],
            "6月底前",
        ),
        task_row(
            5,
            "1",
            "财政收支管理",
            FINANCE_2,
            "县财政局",
            &["县审计局"],
            "12月31日前",
        ),
        task_row(
            6,
            "2",
            "教育提质扩容",
            EDUCATION_1,
            "县教育局",
            &["县财政局", "县住房和城乡建设局"],
            "9月底前",
        ),
        task_row(
            7,
            "2",
            "教育提质扩容",
            EDUCATION_2,
            "县教育局",
            &[],
            "10月15日前",
        ),
    ]
}

async fn load_demo(db: &TestDb) {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
}

/// The demo loaded and the standard ledger imported by the supervision office.
async fn with_ledger(db: &TestDb) -> ImportSummary {
    load_demo(db).await;
    let ducha = sign_in(db, "ducha").await;
    db.store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &ledger_rows())
        .await
        .expect("import_items")
}

async fn list(db: &TestDb, viewer: &Viewer) -> Vec<ItemRow> {
    db.store
        .list_items(viewer, &ItemFilter::default(), TODAY, YELLOW_DAYS, 1000)
        .await
        .expect("list_items")
}

async fn titles(db: &TestDb, viewer: &Viewer) -> Vec<String> {
    let mut titles: Vec<String> = list(db, viewer)
        .await
        .into_iter()
        .map(|r| r.title)
        .collect();
    titles.sort();
    titles
}

fn sorted(titles: &[&str]) -> Vec<String> {
    let mut titles: Vec<String> = titles.iter().map(|&t| t.to_owned()).collect();
    titles.sort();
    titles
}

/// The id of the item with this title, as the whole ledger shows it.
async fn item_id(db: &TestDb, title: &str) -> i64 {
    list(db, &Viewer::console())
        .await
        .into_iter()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no item {title}"))
        .id
}

async fn detail(db: &TestDb, viewer: &Viewer, id: i64) -> ItemDetail {
    db.store
        .get_item(viewer, id, TODAY, YELLOW_DAYS)
        .await
        .unwrap_or_else(|e| panic!("get_item({id}) as {}: {e}", viewer.username))
}

async fn version(db: &TestDb, id: i64) -> i64 {
    detail(db, &Viewer::console(), id).await.item.version
}

/// Takes a step with the item's current version.
async fn act(
    db: &TestDb,
    viewer: &Viewer,
    id: i64,
    action: Action,
    note: &str,
) -> Result<ItemState, Error> {
    let version = version(db, id).await;
    db.store
        .act_on_item(viewer, id, action, version, note)
        .await
}

/// The messages of an `Error::Invalid`; panics on any other outcome.
#[track_caller]
fn refusal<T: std::fmt::Debug>(outcome: Result<T, Error>) -> String {
    match outcome {
        Err(Error::Invalid(problems)) => problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
}

fn report(done: &str) -> NewReport {
    NewReport {
        done: done.to_owned(),
        problems: "资金到位较慢".to_owned(),
        coordination: String::new(),
        next_steps: "加快推进".to_owned(),
        percent: Some(40),
    }
}

async fn events(db: &TestDb, code: AuditCode) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE code = {}",
        code.code()
    ))
    .await
}

async fn item_count(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM items").await
}

async fn report_count(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM progress_reports").await
}

async fn an_import_writes_every_row_groups_measures_under_their_task_and_opens_the_ledger(
    db: &TestDb,
) {
    load_demo(db).await;
    assert!(db.store.ledger_years().await.unwrap().is_empty());
    let ducha = sign_in(db, "ducha").await;
    let summary = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &ledger_rows())
        .await
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            items: 4,
            groups: 2,
            ledger_opened: true
        }
    );
    assert_eq!(db.store.ledger_years().await.unwrap(), vec![2026]);
    assert_eq!(item_count(db).await, 6, "four measures and two 重点任务");

    let rows = list(db, &ducha).await;
    assert_eq!(rows.len(), 4, "the list shows measures, not their groups");
    let row = |title: &str| {
        rows.iter()
            .find(|r| r.title == title)
            .unwrap_or_else(|| panic!("no row {title}"))
    };
    let finance = row(FINANCE_1);
    assert_eq!(finance.ledger_year, 2026);
    assert_eq!(finance.parent_title, "财政收支管理");
    assert_eq!(finance.category, CATEGORY);
    assert_eq!(finance.seq, "1");
    assert_eq!(finance.lead_unit, "县财政局");
    assert_eq!(finance.co_units, vec!["县税务局".to_owned()]);
    assert_eq!(finance.deadline_text, "6月底前");
    assert_eq!(finance.due_date.as_deref(), Some("2026-06-30"));
    assert_eq!(finance.state, ItemState::Assigned);
    assert_eq!(finance.leader, "陈国平");
    assert_eq!(finance.person, "张明");
    assert_eq!(finance.version, 1);
    assert!(finance.last_report_at.is_none());
    assert_eq!(
        row(FINANCE_2).parent_id,
        finance.parent_id,
        "one 重点任务 groups both measures"
    );
    assert!(finance.parent_id.is_some());
    assert_eq!(row(FINANCE_2).due_date.as_deref(), Some("2026-12-31"));
    let education = row(EDUCATION_1);
    assert_eq!(education.parent_title, "教育提质扩容");
    assert_ne!(education.parent_id, finance.parent_id);
    assert_eq!(education.due_date.as_deref(), Some("2026-09-30"));
    let mut co = education.co_units.clone();
    co.sort();
    assert_eq!(co, sorted(&["县财政局", "县住房和城乡建设局"]));
    assert!(row(EDUCATION_2).co_units.is_empty());
    assert_eq!(row(EDUCATION_2).due_date.as_deref(), Some("2026-10-15"));

    let d = detail(db, &ducha, education.id).await;
    assert_eq!(d.units.len(), 3);
    let lead: Vec<&str> = d
        .units
        .iter()
        .filter(|u| u.lead)
        .map(|u| u.unit_name.as_str())
        .collect();
    assert_eq!(lead, vec!["县教育局"]);
    assert!(d.units.iter().all(|u| u.acknowledged_at.is_none()));
    assert_eq!(d.history.len(), 1);
    assert_eq!(d.history[0].action, "导入交办");
    assert_eq!(d.history[0].to_state.as_deref(), Some("assigned"));

    let year = db
        .store
        .list_items(
            &ducha,
            &ItemFilter {
                year: Some(2026),
                query: Some("幼儿园".to_owned()),
                ..ItemFilter::default()
            },
            TODAY,
            YELLOW_DAYS,
            100,
        )
        .await
        .unwrap();
    assert_eq!(year.len(), 1);
    assert_eq!(year[0].title, EDUCATION_1);
    assert_eq!(events(db, AuditCode::ItemsImported).await, 1);
}

async fn an_import_larger_than_one_statement_keeps_every_row_under_its_group_and_finds_it_by_text(
    db: &TestDb,
) {
    load_demo(db).await;
    let ducha = sign_in(db, "ducha").await;
    // 1,200 measures in 150 重点任务: more rows than one multi-row statement takes, so every
    // table is written in several, and their ids come back by key, not by position.
    let leads = ["县财政局", "县教育局", "县水利局", "县审计局"];
    let mut rows = Vec::new();
    for g in 0..150 {
        for k in 0..8 {
            let n = g * 8 + k;
            let measure = if n == 777 {
                "完成珍珠湖清淤疏浚工程".to_owned()
            } else {
                format!("（{k}）推进第{g}项重点工作第{k}条措施")
            };
            let lead = leads[n % leads.len()];
            let co = leads[(n + 1) % leads.len()];
            let mut row = task_row(
                n + 4,
                &g.to_string(),
                &format!("重点任务{g}"),
                &measure,
                lead,
                &[co],
                "年底前",
            );
            row.person = format!("责任人{n}");
            rows.push(row);
        }
    }
    let summary = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &rows)
        .await
        .expect("import_items");
    assert_eq!(
        summary,
        ImportSummary {
            items: 1200,
            groups: 150,
            ledger_opened: true
        }
    );
    // Each measure sits under the group of its own 重点任务, with its own row's fields.
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM items i JOIN items p ON p.id = i.parent_id \
             WHERE i.is_group = 0 AND p.is_group = 1 AND p.title = '重点任务' || i.seq"
        )
        .await,
        1200
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM items WHERE is_group = 0 AND person_text = \
             '责任人' || CAST(CAST(seq AS INTEGER) * 8 + CAST(SUBSTR(title, 2, 1) AS INTEGER) \
             AS TEXT) AND title LIKE '（%'"
        )
        .await,
        1199
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM item_units WHERE role = 'lead' AND item_open = 1")
            .await,
        1200
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM item_units iu JOIN items i ON i.id = iu.item_id \
             JOIN units u ON u.id = iu.unit_id WHERE iu.role = 'lead' AND u.id = i.lead_unit_id"
        )
        .await,
        1200
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM item_units WHERE role = 'co'")
            .await,
        1200
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM item_history WHERE action = '导入交办'")
            .await,
        1200
    );
    let found = db
        .store
        .search(&ducha, "珍珠湖清淤", 10)
        .await
        .expect("search");
    assert_eq!(found.item_count, 1, "{found:?}");
    assert_eq!(found.items[0].title, "完成珍珠湖清淤疏浚工程");
    assert_eq!(found.items[0].parent_title, "重点任务97");
    // 县财政局 leads 300 measures and co-owns 300: one notice tells of all 600.
    let liaison = sign_in(db, "czj_lly").await;
    assert_eq!(
        inbox_titles(db, &liaison).await,
        vec!["新交办事项600项：（0）推进第0项重点工作第0条措施等".to_owned()]
    );
}

async fn an_import_with_bad_rows_is_refused_row_by_row_and_writes_nothing(db: &TestDb) {
    load_demo(db).await;
    let ducha = sign_in(db, "ducha").await;
    let audit = db.audit_count().await;
    let rows = vec![
        task_row(
            4,
            "1",
            "财政收支管理",
            FINANCE_1,
            "县财正局",
            &[],
            "6月底前",
        ),
        task_row(5, "1", "财政收支管理", FINANCE_2, "县财政局", &[], "8月前"),
        task_row(6, "2", "教育提质扩容", EDUCATION_1, "", &[], "9月底前"),
        task_row(
            7,
            "2",
            "教育提质扩容",
            EDUCATION_2,
            "县教育局",
            &[],
            "年底前",
        ),
        task_row(
            8,
            "2",
            "教育提质扩容",
            EDUCATION_2,
            "县教育局",
            &[],
            "年底前",
        ),
        task_row(
            9,
            "3",
            "项目建设",
            "（1）开工重点项目10个",
            "县发展和改革局",
            &[],
            "2025年6月30日前",
        ),
        task_row(
            10,
            "3",
            "项目建设",
            "（2）完成投资",
            "县发展和改革局",
            &[],
            "年底前",
        ),
    ];
    let err = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &rows)
        .await
        .unwrap_err();
    let Error::Rows(problems) = &err else {
        panic!("expected Error::Rows, got {err:?}");
    };
    let found: Vec<(usize, &str)> = problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (4, "牵头单位"),
            (5, "完成时限"),
            (6, "牵头单位"),
            (8, "具体措施"),
            (9, "完成时限"),
        ],
        "{err}"
    );
    let reason = |row: usize| {
        problems
            .iter()
            .find(|p| p.row == row)
            .map(|p| p.reason.clone())
            .unwrap()
    };
    assert!(reason(4).contains("“县财正局”不存在"), "{}", reason(4));
    assert!(reason(4).contains("您是否要找"), "{}", reason(4));
    assert!(reason(4).contains("县财政局"), "{}", reason(4));
    assert!(reason(5).contains("“8月前”"), "{}", reason(5));
    assert_eq!(reason(6), "不能为空");
    assert_eq!(reason(8), "与第7行重复");
    assert!(
        reason(9).contains("早于2026年台账的起始日期"),
        "{}",
        reason(9)
    );
    let text = err.to_string();
    assert!(text.contains("第4行“牵头单位”"), "{text}");
    assert!(text.contains("第9行“完成时限”"), "{text}");

    assert!(list(db, &ducha).await.is_empty(), "no item written");
    assert_eq!(item_count(db).await, 0);
    assert!(
        db.store.ledger_years().await.unwrap().is_empty(),
        "the ledger is not opened"
    );
    assert_eq!(
        db.audit_count().await,
        audit,
        "a refused import is not logged"
    );

    let empty = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&empty, Error::Rows(p) if p.len() == 1 && p[0].reason == "没有任何事项"),
        "{empty:?}"
    );
}

async fn importing_the_same_rows_again_is_refused_as_duplicates(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let items = item_count(db).await;
    let audit = db.audit_count().await;
    let err = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &ledger_rows())
        .await
        .unwrap_err();
    let Error::Rows(problems) = &err else {
        panic!("expected Error::Rows, got {err:?}");
    };
    assert_eq!(
        problems.iter().map(|p| p.row).collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );
    assert!(
        problems
            .iter()
            .all(|p| p.column == "具体措施" && p.reason.contains("已有")),
        "{err}"
    );
    assert_eq!(item_count(db).await, items, "nothing written");
    assert_eq!(db.audit_count().await, audit);

    // The same measures with spaces added are the same items; one new row does not let the
    // rest in.
    let mut again = ledger_rows();
    again[0].measure = format!(" {} ", FINANCE_1.replace('5', " 5 "));
    again.push(task_row(
        8,
        "3",
        "项目建设",
        "（1）开工重点项目10个",
        "县发展和改革局",
        &[],
        "年底前",
    ));
    let err = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR, &again)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rows(p) if p.len() == 4 && p.iter().all(|p| p.row != 8)),
        "{err:?}"
    );
    assert_eq!(item_count(db).await, items);

    // The next year's ledger is another ledger: the same rows are welcome there.
    let next = db
        .store
        .import_items(ducha.as_supervisor().unwrap(), YEAR + 1, &ledger_rows())
        .await
        .unwrap();
    assert!(next.ledger_opened);
    assert_eq!(db.store.ledger_years().await.unwrap(), vec![2027, 2026]);
    assert_eq!(events(db, AuditCode::ItemsImported).await, 2);
}

async fn a_unit_sees_only_the_items_it_leads_or_co_owns(db: &TestDb) {
    with_ledger(db).await;
    let all = sorted(&[FINANCE_1, FINANCE_2, EDUCATION_1, EDUCATION_2]);
    let finance = sorted(&[FINANCE_1, FINANCE_2, EDUCATION_1]);
    for username in ["czj_lly", "czj_fzr"] {
        let viewer = sign_in(db, username).await;
        assert_eq!(titles(db, &viewer).await, finance, "{username}");
    }
    let education = sign_in(db, "jyj_lly").await;
    assert_eq!(
        titles(db, &education).await,
        sorted(&[EDUCATION_1, EDUCATION_2])
    );
    let water = sign_in(db, "slj_lly").await;
    assert!(titles(db, &water).await.is_empty(), "an unrelated unit");
    for username in ["ducha", "ducha2", "lingdao"] {
        let viewer = sign_in(db, username).await;
        assert_eq!(titles(db, &viewer).await, all, "{username}");
    }
    for username in ["xitong", "anquan", "shenji", "xinxi", "zhiban"] {
        let viewer = sign_in(db, username).await;
        assert!(titles(db, &viewer).await.is_empty(), "{username}");
    }

    let finance_item = item_id(db, FINANCE_1).await;
    let czj = sign_in(db, "czj_lly").await;
    let d = detail(db, &czj, finance_item).await;
    assert_eq!(d.item.title, FINANCE_1);
    let co_owned = item_id(db, EDUCATION_1).await;
    assert_eq!(detail(db, &czj, co_owned).await.item.title, EDUCATION_1);
    let others = item_id(db, EDUCATION_2).await;
    for (viewer, id) in [
        (&czj, others),
        (&water, finance_item),
        (&sign_in(db, "xitong").await, finance_item),
    ] {
        let err = db
            .store
            .get_item(viewer, id, TODAY, YELLOW_DAYS)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotFound(_)),
            "{}: {err:?}",
            viewer.username
        );
    }
    // Nor can an unrelated unit act on it, or learn that it exists.
    let version = version(db, finance_item).await;
    let err = db
        .store
        .act_on_item(&water, finance_item, Action::Acknowledge, version, "")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let lingdao = sign_in(db, "lingdao").await;
    assert_eq!(
        detail(db, &lingdao, others).await.item.lead_unit,
        "县教育局"
    );
    // A group (重点任务) is not an item of its own.
    let group = list(db, &lingdao).await[0].parent_id.unwrap();
    assert!(matches!(
        db.store.get_item(&lingdao, group, TODAY, YELLOW_DAYS).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(version, 1, "looking changes nothing");
    assert_eq!(events(db, AuditCode::ItemChanged).await, 0);
}

async fn an_item_goes_from_assignment_to_closure_and_every_step_is_in_its_history(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let lead = sign_in(db, "jyj_lly").await;
    let co = sign_in(db, "czj_lly").await;
    let id = item_id(db, EDUCATION_1).await;

    // A progress report is not a bare step: it goes through report_progress, with its text.
    let why = refusal(act(db, &lead, id, Action::ReportProgress, "").await);
    assert!(why.contains("报送进展"), "{why}");
    assert_eq!(version(db, id).await, 1);
    assert_eq!(
        act(db, &lead, id, Action::Acknowledge, "").await.unwrap(),
        ItemState::InProgress
    );
    // A co-unit signs for its part without moving the item, and cannot ask to close it.
    assert_eq!(
        act(db, &co, id, Action::Acknowledge, "").await.unwrap(),
        ItemState::InProgress
    );
    let before = version(db, id).await;
    let why = refusal(act(db, &co, id, Action::RequestClosure, "").await);
    assert!(why.contains("只有牵头单位"), "{why}");
    assert_eq!(
        version(db, id).await,
        before,
        "a refused step changes nothing"
    );
    let d = detail(db, &ducha, id).await;
    assert!(
        d.units
            .iter()
            .filter(|u| u.unit_name != "县住房和城乡建设局")
            .all(|u| u.acknowledged_at.is_some())
    );

    db.store
        .report_progress(&lead, id, &report("已完成选址和立项"))
        .await
        .unwrap();
    let d = detail(db, &ducha, id).await;
    assert_eq!(d.reports.len(), 1);
    assert_eq!(d.reports[0].done, "已完成选址和立项");
    assert_eq!(d.reports[0].unit_name, "县教育局");
    assert_eq!(d.reports[0].percent, Some(40));
    assert_eq!(d.reports[0].author_name, lead.display_or_username());
    assert_eq!(d.item.latest_progress, "已完成选址和立项");
    assert!(d.item.last_report_at.is_some());
    let reported: Vec<&str> = d
        .units
        .iter()
        .filter(|u| u.last_report_at.is_some())
        .map(|u| u.unit_name.as_str())
        .collect();
    assert_eq!(reported, vec!["县教育局"], "1 of 3 units reported");
    assert_eq!(d.units.len(), 3);
    assert_eq!(d.item.state, ItemState::InProgress);

    assert_eq!(
        act(db, &lead, id, Action::RequestClosure, "")
            .await
            .unwrap(),
        ItemState::ClosureRequested
    );
    let why = refusal(act(db, &ducha, id, Action::SendBack, "  ").await);
    assert!(why.contains("请写明理由"), "{why}");
    assert_eq!(
        detail(db, &ducha, id).await.item.state,
        ItemState::ClosureRequested
    );
    assert_eq!(
        act(db, &ducha, id, Action::SendBack, "缺少验收材料")
            .await
            .unwrap(),
        ItemState::InProgress
    );
    assert_eq!(
        act(db, &lead, id, Action::RequestClosure, "已补充验收材料")
            .await
            .unwrap(),
        ItemState::ClosureRequested
    );
    // Only the office approves.
    let why = refusal(act(db, &lead, id, Action::ApproveClosure, "").await);
    assert!(why.contains("只有督查室"), "{why}");
    assert_eq!(
        act(db, &ducha, id, Action::ApproveClosure, "")
            .await
            .unwrap(),
        ItemState::Closed
    );

    let why = refusal(act(db, &lead, id, Action::RequestExtension, "工期紧").await);
    assert!(why.contains("事项当前为“已办结”，不能申请延期"), "{why}");
    let why = refusal(db.store.report_progress(&lead, id, &report("补报")).await);
    assert!(why.contains("已办结"), "{why}");

    let d = detail(db, &ducha, id).await;
    assert_eq!(d.item.state, ItemState::Closed);
    assert_eq!(d.reports.len(), 1, "the refused report is not written");
    let mut steps: Vec<(&str, Option<&str>, &str)> = d
        .history
        .iter()
        .map(|h| (h.action.as_str(), h.to_state.as_deref(), h.note.as_str()))
        .collect();
    steps.reverse();
    assert_eq!(
        steps,
        vec![
            ("导入交办", Some("assigned"), ""),
            ("签收", Some("in_progress"), ""),
            ("签收", Some("in_progress"), ""),
            ("报送进展", Some("in_progress"), ""),
            ("申请办结", Some("closure_requested"), ""),
            ("退回办结申请", Some("in_progress"), "缺少验收材料"),
            ("申请办结", Some("closure_requested"), "已补充验收材料"),
            ("同意办结", Some("closed"), ""),
        ]
    );
    assert_eq!(d.history[0].actor_name, ducha.display_or_username());
    // Six steps taken, one report: each audited once, the refusals not at all.
    assert_eq!(events(db, AuditCode::ItemChanged).await, 6);
    assert_eq!(events(db, AuditCode::ProgressReported).await, 1);
    // The other items did not move.
    let untouched = detail(db, &ducha, item_id(db, EDUCATION_2).await).await;
    assert_eq!(untouched.item.state, ItemState::Assigned);
    assert_eq!(untouched.item.version, 1);
}

async fn two_people_acting_on_one_item_at_once_one_wins_and_the_other_is_told_it_changed(
    db: &TestDb,
) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let ducha2 = sign_in(db, "ducha2").await;
    let lead = sign_in(db, "czj_lly").await;
    for title in [FINANCE_1, FINANCE_2] {
        let id = item_id(db, title).await;
        act(db, &lead, id, Action::Acknowledge, "").await.unwrap();
        act(db, &lead, id, Action::RequestClosure, "")
            .await
            .unwrap();
        let version = version(db, id).await;
        let (approved, sent_back) = tokio::join!(
            db.store
                .act_on_item(&ducha, id, Action::ApproveClosure, version, ""),
            db.store
                .act_on_item(&ducha2, id, Action::SendBack, version, "数据需核实"),
        );
        let d = detail(db, &ducha, id).await;
        match (&approved, &sent_back) {
            (Ok(ItemState::Closed), Err(Error::StaleVersion)) => {
                assert_eq!(d.item.state, ItemState::Closed);
            }
            (Err(Error::StaleVersion), Ok(ItemState::InProgress)) => {
                assert_eq!(d.item.state, ItemState::InProgress);
            }
            other => panic!("expected exactly one winner: {other:?}"),
        }
        assert_eq!(d.item.version, version + 1, "one step was taken");
        assert_eq!(
            d.history.len(),
            4,
            "import, acknowledge, request and one decision"
        );
        // A copy read before the change stays stale, whatever it asks for.
        let late = db
            .store
            .act_on_item(&ducha, id, Action::Cancel, version, "重复立项")
            .await
            .unwrap_err();
        assert!(matches!(late, Error::StaleVersion), "{late:?}");
        assert_eq!(late.to_string(), "已被他人修改，请刷新后重试");
    }
    assert_eq!(events(db, AuditCode::ItemChanged).await, 6);
}

async fn progress_on_another_units_item_is_refused_and_a_bad_batch_writes_nothing(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let czj = sign_in(db, "czj_lly").await;
    let lead_item = item_id(db, FINANCE_1).await;
    let co_item = item_id(db, EDUCATION_1).await;
    let others = item_id(db, EDUCATION_2).await;

    let why = refusal(
        db.store
            .report_progress(&czj, others, &report("越权报送"))
            .await,
    );
    assert!(why.contains("只能对本单位"), "{why}");
    // Nor may the office report for a unit, nor anyone report on an item that does not exist.
    let why = refusal(
        db.store
            .report_progress(&ducha, lead_item, &report("代报"))
            .await,
    );
    assert!(why.contains("只能对本单位"), "{why}");
    let why = refusal(
        db.store
            .report_progress(&czj, 999_999, &report("不存在"))
            .await,
    );
    assert!(why.contains("只能对本单位"), "{why}");
    assert_eq!(report_count(db).await, 0);

    // One report without its "done" refuses the whole batch.
    let mut empty = report("");
    empty.done = "   ".to_owned();
    let why = refusal(
        db.store
            .report_progress_batch(
                &czj,
                &[(lead_item, report("收入进度过半")), (co_item, empty)],
            )
            .await,
    );
    assert!(
        why.contains(&format!("事项{co_item}：请填写已完成的工作")),
        "{why}"
    );
    let mut over = report("超额");
    over.percent = Some(120);
    let why = refusal(
        db.store
            .report_progress_batch(&czj, &[(lead_item, over), (others, report("越权"))])
            .await,
    );
    assert!(why.contains("完成进度须在0到100之间"), "{why}");
    assert!(why.contains("只能对本单位"), "{why}");
    assert_eq!(report_count(db).await, 0);

    // A step the state machine refuses halfway through the batch rolls back the reports
    // before it.
    let cancelled = item_id(db, FINANCE_2).await;
    act(db, &ducha, cancelled, Action::Cancel, "任务调整")
        .await
        .unwrap();
    let why = refusal(
        db.store
            .report_progress_batch(
                &czj,
                &[
                    (lead_item, report("收入进度过半")),
                    (cancelled, report("已撤销仍报")),
                ],
            )
            .await,
    );
    assert!(why.contains("已撤销"), "{why}");
    assert_eq!(report_count(db).await, 0);
    assert_eq!(events(db, AuditCode::ProgressReported).await, 0);
    let d = detail(db, &czj, lead_item).await;
    assert_eq!(d.item.state, ItemState::Assigned);
    assert!(d.units.iter().all(|u| u.last_report_at.is_none()));

    // The good batch: the lead unit's report starts its item, the co-unit's leaves it.
    db.store
        .report_progress_batch(
            &czj,
            &[
                (lead_item, report("收入进度过半")),
                (co_item, report("资金已安排")),
            ],
        )
        .await
        .unwrap();
    assert_eq!(report_count(db).await, 2);
    assert_eq!(events(db, AuditCode::ProgressReported).await, 2);
    let lead = detail(db, &czj, lead_item).await;
    assert_eq!(lead.item.state, ItemState::InProgress);
    assert_eq!(lead.item.version, 2);
    let co = detail(db, &czj, co_item).await;
    assert_eq!(
        co.item.state,
        ItemState::Assigned,
        "a co-unit does not start it"
    );
    assert_eq!(co.item.version, 1);
    let finance_part = co.units.iter().find(|u| u.unit_name == "县财政局").unwrap();
    assert!(finance_part.last_report_at.is_some());
    assert!(
        finance_part.acknowledged_at.is_some(),
        "reporting signs for the item"
    );
    assert_eq!(co.reports[0].unit_name, "县财政局");
    assert_eq!(co.history[0].action, "报送进展");
}

/// The item with this title as the supervision office sees it: (id, version).
async fn item(db: &TestDb, title: &str) -> (i64, i64) {
    let ducha = sign_in(db, "ducha").await;
    let row = list(db, &ducha)
        .await
        .into_iter()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no item {title}"));
    (row.id, row.version)
}

async fn inbox_titles(db: &TestDb, viewer: &Viewer) -> Vec<String> {
    db.store
        .inbox(viewer, 100)
        .await
        .expect("inbox")
        .into_iter()
        .map(|n| n.title)
        .collect()
}

async fn an_import_tells_each_units_liaison_and_head_once(db: &TestDb) {
    with_ledger(db).await;
    for username in ["czj_lly", "czj_fzr"] {
        let viewer = sign_in(db, username).await;
        let inbox = db.store.inbox(&viewer, 100).await.expect("inbox");
        // 县财政局 leads two measures and co-owns a third: one notice names all three and
        // leads to the unit's own items, not to one of them.
        assert_eq!(inbox.len(), 1, "{username}: {inbox:?}");
        assert_eq!(
            inbox[0].title,
            format!("新交办事项3项：{FINANCE_1}等"),
            "{inbox:?}"
        );
        assert_eq!(inbox[0].item_id, None, "{inbox:?}");
        assert_eq!(db.store.unread_count(&viewer).await.expect("unread"), 1);
    }
    // A unit given one item is told of that item, with its link.
    let audit = sign_in(db, "sjj_lly").await;
    let inbox = db.store.inbox(&audit, 100).await.expect("inbox");
    let (finance_2, _) = item(db, FINANCE_2).await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].title, format!("新交办事项：{FINANCE_2}"));
    assert_eq!(inbox[0].item_id, Some(finance_2));
    // Someone of an unrelated unit is told nothing; neither is the supervision office.
    let other = sign_in(db, "slj_lly").await;
    assert!(inbox_titles(db, &other).await.is_empty());
    // Reading one's inbox marks it read for that person only.
    let liaison = sign_in(db, "czj_lly").await;
    db.store.mark_read(&liaison, None).await.expect("mark_read");
    assert_eq!(db.store.unread_count(&liaison).await.expect("unread"), 0);
    let head = sign_in(db, "czj_fzr").await;
    assert_eq!(db.store.unread_count(&head).await.expect("unread"), 1);
}

async fn urging_again_within_the_interval_is_refused_and_each_urge_is_counted(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let (id, version) = item(db, FINANCE_1).await;
    db.store
        .act_on_item(&ducha, id, Action::Urge, version, "请加快进度")
        .await
        .expect("first urge");
    let again = db
        .store
        .act_on_item(&ducha, id, Action::Urge, version + 1, "")
        .await;
    let Err(Error::Invalid(problems)) = again else {
        panic!("a second urge within the interval must be refused: {again:?}");
    };
    assert!(problems[0].message.contains("间隔"), "{problems:?}");
    db.store.set_urge_interval_minutes(0);
    db.store
        .act_on_item(&ducha, id, Action::Urge, version + 1, "")
        .await
        .expect("second urge once the interval allows");
    let detail = db
        .store
        .get_item(&ducha, id, TODAY, YELLOW_DAYS)
        .await
        .expect("get_item");
    assert_eq!(detail.urge_count, 2);
    let liaison = sign_in(db, "czj_lly").await;
    let titles = inbox_titles(db, &liaison).await;
    assert!(
        titles.iter().any(|t| t.starts_with("催办（第1次）")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.starts_with("催办（第2次）")),
        "{titles:?}"
    );
}

async fn a_leader_is_told_when_the_item_they_instructed_on_closes(db: &TestDb) {
    with_ledger(db).await;
    let (id, version) = item(db, FINANCE_1).await;
    let leader = sign_in(db, "lingdao").await;
    let empty = db
        .store
        .act_on_item(&leader, id, Action::Instruct, version, " ")
        .await;
    assert!(matches!(empty, Err(Error::Invalid(_))), "{empty:?}");
    db.store
        .act_on_item(&leader, id, Action::Instruct, version, "务必按期完成。")
        .await
        .expect("instruct");
    let liaison = sign_in(db, "czj_lly").await;
    assert!(
        inbox_titles(db, &liaison)
            .await
            .iter()
            .any(|t| t.contains("批示")),
        "the units are told of the instruction"
    );
    let (_, v) = item(db, FINANCE_1).await;
    db.store
        .act_on_item(&liaison, id, Action::Acknowledge, v, "")
        .await
        .expect("acknowledge");
    let (_, v) = item(db, FINANCE_1).await;
    db.store
        .act_on_item(&liaison, id, Action::RequestClosure, v, "已完成")
        .await
        .expect("request closure");
    assert!(
        !inbox_titles(db, &leader)
            .await
            .iter()
            .any(|t| t.starts_with("您批示的事项已办结")),
        "not before it closes"
    );
    let ducha = sign_in(db, "ducha").await;
    assert!(
        inbox_titles(db, &ducha)
            .await
            .iter()
            .any(|t| t.starts_with("申请办结，待审核")),
        "the supervision office is told of the closure request"
    );
    let (_, v) = item(db, FINANCE_1).await;
    db.store
        .act_on_item(&ducha, id, Action::ApproveClosure, v, "")
        .await
        .expect("approve");
    let told: Vec<String> = inbox_titles(db, &leader)
        .await
        .into_iter()
        .filter(|t| t.starts_with("您批示的事项已办结"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    let detail = db
        .store
        .get_item(&leader, id, TODAY, YELLOW_DAYS)
        .await
        .expect("get_item");
    assert_eq!(detail.instructions.len(), 1);
    assert_eq!(detail.instructions[0].text, "务必按期完成。");
}

// ---------------------------------------------------------------------------------------
// Registration by hand, 特急 items, extensions, reassignment, reporting cycles, queues.

async fn unit(db: &TestDb, name: &str) -> i64 {
    db.count(&format!("SELECT id AS n FROM units WHERE name = '{name}'"))
        .await
}

const PONDING: &str = "整治城区易涝积水点";

async fn new_item(db: &TestDb) -> NewItem {
    NewItem {
        ledger_year: 2026,
        source: "instruction".to_owned(),
        source_ref: "明政阅〔2026〕12号".to_owned(),
        category: "三、保障和改善民生".to_owned(),
        urgency: "urgent".to_owned(),
        title: PONDING.to_owned(),
        content: "汛期前完成城区12处积水点改造。".to_owned(),
        lead_unit_id: Some(unit(db, "县财政局").await),
        // The lead repeated among the co-units is dropped.
        co_unit_ids: vec![unit(db, "县审计局").await, unit(db, "县财政局").await],
        leader: "陈国平".to_owned(),
        person: "王志强".to_owned(),
        deadline: "9月底前".to_owned(),
        parent_id: None,
        note: "领导批示件".to_owned(),
    }
}

async fn register(db: &TestDb, new: &NewItem, assign: bool) -> Result<i64, Error> {
    let ducha = sign_in(db, "ducha").await;
    db.store
        .create_item(ducha.as_supervisor().unwrap(), new, assign)
        .await
}

async fn row_of(db: &TestDb, id: i64) -> ItemRow {
    list(db, &Viewer::console())
        .await
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

fn beijing_ms(day: Date) -> i64 {
    day.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp()
        .as_millisecond()
}

async fn a_hand_registered_item_is_a_draft_until_registered_and_assigned_and_keeps_every_field(
    db: &TestDb,
) {
    load_demo(db).await;
    let new = new_item(db).await;
    let id = register(db, &new, false).await.expect("create_item");
    let ducha = sign_in(db, "ducha").await;
    let d = detail(db, &ducha, id).await;
    assert_eq!(d.item.state, ItemState::Draft);
    assert_eq!(d.item.title, PONDING);
    assert_eq!(d.item.ledger_year, 2026);
    assert_eq!(d.source, Source::Instruction);
    assert_eq!(d.source_ref, "明政阅〔2026〕12号");
    assert_eq!(d.content, "汛期前完成城区12处积水点改造。");
    assert_eq!(d.item.category, "三、保障和改善民生");
    assert_eq!(d.item.urgency, Urgency::Urgent);
    assert_eq!(d.item.lead_unit, "县财政局");
    assert_eq!(d.item.co_units, vec!["县审计局".to_owned()]);
    assert_eq!(d.item.leader, "陈国平");
    let chen = db
        .count("SELECT id AS n FROM users WHERE display_name = '陈国平'")
        .await;
    assert_eq!(d.leader_user_id, Some(chen), "the one leader of that name");
    assert_eq!(d.item.person, "王志强");
    assert_eq!(d.item.deadline_text, "9月底前");
    assert_eq!(d.item.due_date.as_deref(), Some("2026-09-30"));
    assert_eq!(d.item.cadence.as_deref(), Some("monthly:31"));
    assert_eq!(d.item.note, "领导批示件");
    assert!(d.item.assigned_at.is_none());
    assert_eq!(d.history.len(), 1);
    assert_eq!(d.history[0].to_state.as_deref(), Some("draft"));
    assert_eq!(events(db, AuditCode::ItemRegistered).await, 1);
    // A draft is the office's own: the units neither see it nor hear of it.
    let liaison = sign_in(db, "czj_lly").await;
    assert!(matches!(
        db.store.get_item(&liaison, id, TODAY, YELLOW_DAYS).await,
        Err(Error::NotFound(_))
    ));
    assert!(
        !inbox_titles(db, &liaison)
            .await
            .iter()
            .any(|t| t.contains(PONDING))
    );

    assert_eq!(
        act(db, &ducha, id, Action::Register, "").await.unwrap(),
        ItemState::Registered
    );
    assert_eq!(
        act(db, &ducha, id, Action::Assign, "").await.unwrap(),
        ItemState::Assigned
    );
    let d = detail(db, &liaison, id).await;
    assert_eq!(d.item.state, ItemState::Assigned);
    assert!(d.item.assigned_at.is_some());
    for username in ["czj_lly", "czj_fzr", "sjj_lly"] {
        let viewer = sign_in(db, username).await;
        let told = inbox_titles(db, &viewer)
            .await
            .into_iter()
            .filter(|t| *t == format!("新交办事项：{PONDING}"))
            .count();
        assert_eq!(told, 1, "{username}");
    }
    let steps: Vec<String> = d.history.iter().rev().map(|h| h.action.clone()).collect();
    assert_eq!(steps, vec!["登记草稿", "立项", "交办"]);
}

async fn registering_at_once_assigns_and_tells_the_units(db: &TestDb) {
    load_demo(db).await;
    let id = register(db, &new_item(db).await, true)
        .await
        .expect("create_item");
    let row = row_of(db, id).await;
    assert_eq!(row.state, ItemState::Assigned);
    assert!(row.assigned_at.is_some());
    let liaison = sign_in(db, "sjj_lly").await;
    assert!(
        inbox_titles(db, &liaison)
            .await
            .contains(&format!("新交办事项：{PONDING}"))
    );
    let d = detail(db, &liaison, id).await;
    let steps: Vec<&str> = d.history.iter().rev().map(|h| h.action.as_str()).collect();
    assert_eq!(steps, vec!["立项", "交办"]);
    assert_eq!(events(db, AuditCode::ItemRegistered).await, 1);
}

async fn a_bad_registration_is_refused_field_by_field_and_writes_nothing(db: &TestDb) {
    load_demo(db).await;
    let items = item_count(db).await;
    let notes = db.count("SELECT COUNT(*) AS n FROM notifications").await;
    let bad = NewItem {
        lead_unit_id: None,
        leader: "张三丰".to_owned(),
        deadline: "等领导定".to_owned(),
        title: "  ".to_owned(),
        ..new_item(db).await
    };
    let err = register(db, &bad, true).await.expect_err("refused");
    let mut fields = crate::harness::invalid_fields(&err);
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec!["deadline", "lead_unit_id", "leader", "title"],
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("请选择牵头单位"), "{text}");
    assert!(text.contains("没有名为“张三丰”的领导"), "{text}");
    // One problem at a time is also refused.
    for broken in [
        NewItem {
            deadline: "下辈子".to_owned(),
            ..new_item(db).await
        },
        NewItem {
            lead_unit_id: None,
            ..new_item(db).await
        },
        NewItem {
            leader: "不存在的领导".to_owned(),
            ..new_item(db).await
        },
        NewItem {
            deadline: String::new(),
            ..new_item(db).await
        },
        NewItem {
            lead_unit_id: Some(999_999),
            ..new_item(db).await
        },
        NewItem {
            source: "gossip".to_owned(),
            ..new_item(db).await
        },
        NewItem {
            parent_id: Some(999_999),
            ..new_item(db).await
        },
    ] {
        let err = register(db, &broken, false).await.expect_err("refused");
        assert_eq!(crate::harness::invalid_fields(&err).len(), 1, "{err}");
    }
    assert_eq!(item_count(db).await, items, "no item written");
    assert_eq!(
        events(db, AuditCode::ItemRegistered).await,
        0,
        "no event written"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM notifications").await,
        notes
    );
}

async fn a_critical_item_counts_in_hours_and_turns_red_after_24(db: &TestDb) {
    load_demo(db).await;
    let new = NewItem {
        urgency: "critical".to_owned(),
        deadline: String::new(),
        ..new_item(db).await
    };
    let id = register(db, &new, true).await.expect("create_item");
    let row = row_of(db, id).await;
    assert_eq!(row.urgency, Urgency::Critical);
    assert_eq!(row.deadline_text, "交办后24小时内");
    let (assigned, due) = (row.assigned_at.unwrap(), row.due_at.unwrap());
    assert_eq!(due - assigned, 24 * 3_600_000);
    assert_eq!(row.signal, Signal::Green);
    assert_eq!(row.hours_left, Some(24));
    // 21 hours later: three hours left, yellow.
    db.edit_items(&format!(
        "UPDATE items SET assigned_at = assigned_at - 75600000, due_at = due_at - 75600000 \
         WHERE id = {id}"
    ))
    .await
    .unwrap();
    let row = row_of(db, id).await;
    assert_eq!(row.signal, Signal::Yellow);
    assert_eq!(row.hours_left, Some(3));
    // 24 hours and a minute after assignment: red, whatever its due day says.
    db.edit_items(&format!(
        "UPDATE items SET assigned_at = assigned_at - 10860000, due_at = due_at - 10860000 \
         WHERE id = {id}"
    ))
    .await
    .unwrap();
    let row = row_of(db, id).await;
    assert_eq!(row.signal, Signal::Red);
    assert_eq!(row.hours_left, Some(-1));
    // A normal item assigned at the same moment is not red.
    let other = register(
        db,
        &NewItem {
            title: "另一事项".to_owned(),
            ..new_item(db).await
        },
        true,
    )
    .await
    .unwrap();
    assert_eq!(row_of(db, other).await.hours_left, None);
    assert_ne!(row_of(db, other).await.signal, Signal::Red);
}

async fn an_approved_extension_moves_the_deadline_and_keeps_the_history(db: &TestDb) {
    with_ledger(db).await;
    let (id, version) = item(db, FINANCE_1).await;
    let lead = sign_in(db, "czj_lly").await;
    db.store
        .request_extension(&lead, id, version, "9月底前", "上级资金尚未下达")
        .await
        .expect("request");
    let ducha = sign_in(db, "ducha").await;
    let d = detail(db, &ducha, id).await;
    let pending = d.pending_extension().expect("pending");
    assert_eq!(pending.new_due_date, "2026-09-30");
    assert_eq!(pending.old_due_date.as_deref(), Some("2026-06-30"));
    assert_eq!(pending.unit_name, "县财政局");
    assert_eq!(
        d.item.due_date.as_deref(),
        Some("2026-06-30"),
        "not before approval"
    );
    assert!(
        inbox_titles(db, &ducha)
            .await
            .iter()
            .any(|t| *t == format!("申请延期，待审批：{FINANCE_1}"))
    );
    // A second request waits for the first.
    let again = db
        .store
        .request_extension(&lead, id, d.item.version, "10月底前", "再议")
        .await;
    assert!(refusal(again).contains("待审批"));
    // A co-unit's or a leader's decision is refused; the office decides.
    let leader = sign_in(db, "lingdao").await;
    assert!(
        db.store
            .decide_extension(&leader, id, d.item.version, true, "")
            .await
            .is_err()
    );
    db.store
        .decide_extension(&ducha, id, d.item.version, true, "同意")
        .await
        .expect("approve");
    let d = detail(db, &ducha, id).await;
    assert_eq!(d.item.due_date.as_deref(), Some("2026-09-30"));
    assert_eq!(d.item.deadline_text, "9月底前");
    assert!(d.pending_extension().is_none());
    assert_eq!(d.deadline_changes.len(), 1);
    assert_eq!(d.deadline_changes[0].status, "approved");
    assert_eq!(d.deadline_changes[0].reason, "上级资金尚未下达");
    assert_eq!(d.deadline_changes[0].old_deadline_text, "6月底前");
    assert!(d.deadline_changes[0].decided_by_name.is_some());
    let actions: Vec<&str> = d.history.iter().map(|h| h.action.as_str()).collect();
    assert!(
        actions.contains(&"申请延期") && actions.contains(&"同意延期"),
        "{actions:?}"
    );
    assert!(
        inbox_titles(db, &lead)
            .await
            .iter()
            .any(|t| *t == format!("同意延期：{FINANCE_1}"))
    );
    // The new deadline must be later than the current one.
    let earlier = db
        .store
        .request_extension(&lead, id, d.item.version, "8月底前", "再延")
        .await;
    assert!(refusal(earlier).starts_with("new_deadline"));
    assert_eq!(events(db, AuditCode::ExtensionRequested).await, 1);
    assert_eq!(events(db, AuditCode::ExtensionDecided).await, 1);
}

async fn a_refused_extension_keeps_the_deadline_and_only_the_lead_unit_of_an_open_item_may_ask(
    db: &TestDb,
) {
    with_ledger(db).await;
    let (id, version) = item(db, EDUCATION_1).await;
    // 县财政局 only co-owns this item.
    let co = sign_in(db, "czj_lly").await;
    let why = refusal(
        db.store
            .request_extension(&co, id, version, "11月底前", "配合单位想延期")
            .await,
    );
    assert!(why.contains("只有牵头单位"), "{why}");
    let lead = sign_in(db, "jyj_lly").await;
    let why = refusal(
        db.store
            .request_extension(&lead, id, version, "等通知", "")
            .await,
    );
    assert!(
        why.contains("new_deadline") && why.contains("reason"),
        "{why}"
    );
    db.store
        .request_extension(&lead, id, version, "2026年11月30日前", "施工许可延迟")
        .await
        .expect("request");
    let ducha = sign_in(db, "ducha").await;
    let v = version + 1;
    let why = refusal(db.store.decide_extension(&ducha, id, v, false, " ").await);
    assert!(why.starts_with("decision_note"), "{why}");
    db.store
        .decide_extension(&ducha, id, v, false, "请按原时限推进")
        .await
        .expect("refuse");
    let d = detail(db, &ducha, id).await;
    assert_eq!(d.item.due_date.as_deref(), Some("2026-09-30"), "unchanged");
    assert_eq!(d.deadline_changes[0].status, "refused");
    assert_eq!(d.deadline_changes[0].decision_note, "请按原时限推进");
    // A closed item cannot be extended.
    let (id2, _) = item(db, FINANCE_2).await;
    let czj = sign_in(db, "czj_lly").await;
    act(db, &czj, id2, Action::Acknowledge, "").await.unwrap();
    act(db, &czj, id2, Action::RequestClosure, "已完成")
        .await
        .unwrap();
    act(db, &ducha, id2, Action::ApproveClosure, "")
        .await
        .unwrap();
    let v2 = version_of(db, id2).await;
    let why = refusal(
        db.store
            .request_extension(&czj, id2, v2, "12月31日前", "想再做")
            .await,
    );
    assert!(why.contains("已办结"), "{why}");
    // A stale copy is refused.
    let stale = db
        .store
        .request_extension(&lead, id, version, "11月30日前", "再申请")
        .await;
    assert!(matches!(stale, Err(Error::StaleVersion)), "{stale:?}");
}

async fn version_of(db: &TestDb, id: i64) -> i64 {
    version(db, id).await
}

async fn a_disputed_item_is_reassigned_and_only_the_new_units_see_it(db: &TestDb) {
    with_ledger(db).await;
    let (id, _) = item(db, FINANCE_1).await;
    let old = sign_in(db, "czj_lly").await;
    assert_eq!(
        act(db, &old, id, Action::Dispute, "不属于本局职责")
            .await
            .unwrap(),
        ItemState::Registered
    );
    let ducha = sign_in(db, "ducha").await;
    let sup = ducha.as_supervisor().unwrap();
    let (slj, sjj) = (unit(db, "县水利局").await, unit(db, "县审计局").await);
    let v = version(db, id).await;
    db.store
        .change_item_units(sup, id, v, Some(slj), &[sjj])
        .await
        .expect("change units");
    assert_eq!(
        act(db, &ducha, id, Action::Assign, "").await.unwrap(),
        ItemState::Assigned
    );
    let new_lead = sign_in(db, "slj_lly").await;
    let d = detail(db, &new_lead, id).await;
    assert_eq!(d.item.lead_unit, "县水利局");
    assert_eq!(d.item.co_units, vec!["县审计局".to_owned()]);
    assert!(
        inbox_titles(db, &new_lead)
            .await
            .contains(&format!("新交办事项：{FINANCE_1}"))
    );
    assert!(
        inbox_titles(db, &sign_in(db, "sjj_lly").await)
            .await
            .contains(&format!("新交办事项：{FINANCE_1}"))
    );
    assert!(matches!(
        db.store.get_item(&old, id, TODAY, YELLOW_DAYS).await,
        Err(Error::NotFound(_))
    ));
    assert!(!titles(db, &old).await.contains(&FINANCE_1.to_owned()));
    let changed = d
        .history
        .iter()
        .find(|h| h.action == "调整承办单位")
        .expect("history");
    assert!(
        changed.note.contains("县财政局") && changed.note.contains("县水利局"),
        "{}",
        changed.note
    );
    assert_eq!(events(db, AuditCode::ItemUnitsChanged).await, 1);
    // An assigned item's units are not changed in place.
    let (id2, v2) = item(db, FINANCE_2).await;
    let why = refusal(
        db.store
            .change_item_units(sup, id2, v2, Some(slj), &[])
            .await,
    );
    assert!(why.contains("退回交办"), "{why}");
}

async fn progress_counts_per_reporting_cycle_and_imported_items_report_monthly(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    for r in list(db, &ducha).await {
        assert_eq!(r.cadence.as_deref(), Some("monthly:31"), "{}", r.title);
        // Imported today: no monthly report was owed before assignment.
        assert_eq!(r.signal, Signal::Green, "{}", r.title);
    }
    let (id, _) = item(db, EDUCATION_1).await;
    let lead = sign_in(db, "jyj_lly").await;
    let co = sign_in(db, "czj_lly").await;
    db.store
        .report_progress(&lead, id, &report("开工"))
        .await
        .unwrap();
    db.store
        .report_progress(&co, id, &report("资金已拨付"))
        .await
        .unwrap();
    let d = detail(db, &ducha, id).await;
    assert_eq!(d.cycle, Cycle::Month);
    assert_eq!(d.units.len(), 3);
    assert_eq!(d.reported_this_cycle, 2);
    // 县财政局's report was in February: it does not count for March.
    let czj = unit(db, "县财政局").await;
    db.edit_items(&format!(
        "UPDATE progress_reports SET reported_at = {} WHERE unit_id = {czj}",
        beijing_ms(date(2026, 2, 15))
    ))
    .await
    .unwrap();
    assert_eq!(detail(db, &ducha, id).await.reported_this_cycle, 1);
    // Assigned in January and never reported: February's report is missing.
    let (id2, _) = item(db, EDUCATION_2).await;
    db.edit_items(&format!(
        "UPDATE items SET assigned_at = {} WHERE id = {id2}",
        beijing_ms(date(2026, 1, 10))
    ))
    .await
    .unwrap();
    assert_eq!(row_of(db, id2).await.signal, Signal::Stalled);
}

async fn queue_counts(db: &TestDb) -> QueueCounts {
    let ducha = sign_in(db, "ducha").await;
    db.store
        .queue_counts(&ducha, Some(2026))
        .await
        .expect("queue_counts")
}

async fn the_supervisor_queues_count_their_items(db: &TestDb) {
    with_ledger(db).await;
    assert_eq!(
        queue_counts(db).await,
        QueueCounts {
            unacknowledged: 4,
            ..QueueCounts::default()
        }
    );
    let czj = sign_in(db, "czj_lly").await;
    let (f1, _) = item(db, FINANCE_1).await;
    let (f2, _) = item(db, FINANCE_2).await;
    act(db, &czj, f1, Action::Acknowledge, "").await.unwrap();
    let mut asks = report("推进中");
    asks.coordination = "需县自然资源局协调用地指标".to_owned();
    db.store.report_progress(&czj, f2, &asks).await.unwrap();
    act(db, &czj, f1, Action::RequestClosure, "已完成")
        .await
        .unwrap();
    let (e1, v) = item(db, EDUCATION_1).await;
    let jyj = sign_in(db, "jyj_lly").await;
    db.store
        .request_extension(&jyj, e1, v, "11月底前", "工期延误")
        .await
        .unwrap();
    assert_eq!(
        queue_counts(db).await,
        QueueCounts {
            unacknowledged: 2,
            coordination: 1,
            closure_requested: 1,
            extension: 1,
        }
    );
    let ducha = sign_in(db, "ducha").await;
    let in_queue = |queue| {
        let ducha = ducha.clone();
        async move {
            db.store
                .list_items(
                    &ducha,
                    &ItemFilter {
                        queue: Some(queue),
                        ..ItemFilter::default()
                    },
                    TODAY,
                    YELLOW_DAYS,
                    100,
                )
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        in_queue(Queue::Unacknowledged).await,
        vec![EDUCATION_1, EDUCATION_2]
    );
    assert_eq!(in_queue(Queue::Coordination).await, vec![FINANCE_2]);
    assert_eq!(in_queue(Queue::ClosureRequested).await, vec![FINANCE_1]);
    assert_eq!(in_queue(Queue::Extension).await, vec![EDUCATION_1]);
    // The unit's next report without a request for coordination takes it off the queue.
    db.store
        .report_progress(&czj, f2, &report("已协调"))
        .await
        .unwrap();
    assert_eq!(queue_counts(db).await.coordination, 0);
}

async fn paging_the_ledger_by_key_visits_every_item_once_and_the_counts_match_a_fresh_count(
    db: &TestDb,
) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let liaison = sign_in(db, "czj_lly").await;
    // Late in the year, so some items are overdue and the counts have something to count.
    let late = date(2026, 9, 30);
    for viewer in [&ducha, &liaison] {
        let all = db
            .store
            .list_items(viewer, &ItemFilter::default(), late, YELLOW_DAYS, 1000)
            .await
            .expect("list_items");
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = db
                .store
                .list_items_page(
                    viewer,
                    &ItemFilter::default(),
                    None,
                    after,
                    late,
                    YELLOW_DAYS,
                    1,
                )
                .await
                .expect("list_items_page");
            assert_eq!(page.total, i64::try_from(all.len()).unwrap());
            seen.extend(page.rows.iter().map(|r| r.id));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut expected: Vec<i64> = all.iter().map(|r| r.id).collect();
        expected.sort_unstable();
        seen.sort_unstable();
        assert_eq!(
            seen, expected,
            "one page of one row at a time visits every item once"
        );
        // The red and yellow cards equal a fresh count of the signals computed row by row.
        let counts = db
            .store
            .signal_counts(viewer, &ItemFilter::default(), late, YELLOW_DAYS)
            .await
            .expect("signal_counts");
        for (signal, n) in counts {
            let fresh = all.iter().filter(|r| r.signal == signal).count();
            assert_eq!(n, i64::try_from(fresh).unwrap(), "{signal:?}");
        }
        // The overdue filter pages the same rows as the computed red signal.
        let red = db
            .store
            .list_items_page(
                viewer,
                &ItemFilter::default(),
                Some(zhongshu_domain::supervision::Signal::Red),
                None,
                late,
                YELLOW_DAYS,
                50,
            )
            .await
            .expect("red page");
        let fresh_red = all
            .iter()
            .filter(|r| r.signal == zhongshu_domain::supervision::Signal::Red)
            .count();
        assert_eq!(red.rows.len(), fresh_red);
        assert!(fresh_red > 0, "the test needs overdue items");
    }
}

/// The supervisor's totals and red/yellow counts come from tallies kept by the writing
/// transaction; on every day of the year and after each write they equal the signals and
/// states computed row by row.
async fn the_kept_totals_equal_a_fresh_count_after_a_write_and_as_the_date_moves(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let days = [
        date(2026, 1, 5),
        date(2026, 3, 2),
        date(2026, 6, 30),
        date(2026, 7, 1),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2027, 1, 4),
    ];
    let check = |stage: &'static str| {
        let ducha = ducha.clone();
        async move {
            for day in days {
                for year in [None, Some(i64::from(YEAR))] {
                    let filter = ItemFilter {
                        year,
                        ..ItemFilter::default()
                    };
                    let all = db
                        .store
                        .list_items(&ducha, &filter, day, YELLOW_DAYS, 1000)
                        .await
                        .unwrap();
                    let counts = db
                        .store
                        .signal_counts(&ducha, &filter, day, YELLOW_DAYS)
                        .await
                        .unwrap();
                    for (signal, n) in counts {
                        let fresh = all.iter().filter(|r| r.signal == signal).count();
                        assert_eq!(
                            n,
                            i64::try_from(fresh).unwrap(),
                            "{stage}: {signal:?} on {day}, year {year:?}"
                        );
                        let page = db
                            .store
                            .list_items_page(&ducha, &filter, Some(signal), None, day, 3, 50)
                            .await
                            .unwrap();
                        assert_eq!(page.total, n, "{stage}: {signal:?} total on {day}");
                    }
                    for state in [
                        ItemState::Assigned,
                        ItemState::InProgress,
                        ItemState::Closed,
                    ] {
                        let by_state = ItemFilter {
                            state: Some(state),
                            ..filter.clone()
                        };
                        let page = db
                            .store
                            .list_items_page(&ducha, &by_state, None, None, day, 3, 50)
                            .await
                            .unwrap();
                        let fresh = all.iter().filter(|r| r.state == state).count();
                        assert_eq!(
                            page.total,
                            i64::try_from(fresh).unwrap(),
                            "{stage}: {state:?} total"
                        );
                    }
                    // Stalled, green and closed depend on each item's cadence, not only on
                    // columns: their lists are kept until an item changes or the day moves.
                    for signal in [Signal::Stalled, Signal::Green, Signal::None] {
                        let page = db
                            .store
                            .list_items_page(&ducha, &filter, Some(signal), None, day, 3, 2)
                            .await
                            .unwrap();
                        let fresh: Vec<i64> = all
                            .iter()
                            .filter(|r| r.signal == signal)
                            .map(|r| r.id)
                            .collect();
                        assert_eq!(
                            page.total,
                            i64::try_from(fresh.len()).unwrap(),
                            "{stage}: {signal:?} total on {day}"
                        );
                        let shown: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
                        assert_eq!(shown, fresh[..fresh.len().min(2)], "{stage}: {signal:?}");
                        assert!(page.rows.iter().all(|r| r.signal == signal));
                    }
                }
            }
            assert_eq!(
                db.store.check_tallies().await.unwrap(),
                Vec::<String>::new()
            );
        }
    };
    check("after the import").await;
    let rows = db
        .store
        .list_items(&ducha, &ItemFilter::default(), TODAY, YELLOW_DAYS, 1000)
        .await
        .unwrap();
    let finance = rows.iter().find(|r| r.title == FINANCE_1).unwrap();
    let czj = sign_in(db, "czj_lly").await;
    act(db, &czj, finance.id, Action::Acknowledge, "")
        .await
        .unwrap();
    db.store
        .report_progress(&czj, finance.id, &report("已完成一季度目标"))
        .await
        .unwrap();
    check("after a report").await;
    let education = rows.iter().find(|r| r.title == EDUCATION_1).unwrap();
    act(db, &ducha, education.id, Action::Cancel, "并入其他事项")
        .await
        .unwrap();
    check("after a cancellation").await;
}

async fn a_units_open_page_puts_the_overdue_first_and_counts_only_its_open_items(db: &TestDb) {
    with_ledger(db).await;
    let czj = sign_in(db, "czj_lly").await;
    // 1 July: FINANCE_1 (六月底前) is overdue; the finance bureau also leads FINANCE_2 and
    // co-owns EDUCATION_1.
    let day = date(2026, 7, 1);
    let page = |viewer: Viewer, number: usize, size: usize| async move {
        db.store
            .unit_open_page(&viewer, day, YELLOW_DAYS, number, size)
            .await
            .expect("unit_open_page")
    };
    let first = page(czj.clone(), 1, 50).await;
    let titles: Vec<&str> = first.rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(first.total, 3, "{titles:?}");
    assert_eq!(titles.first(), Some(&FINANCE_1), "the overdue item leads");
    assert_eq!(
        sorted(&titles),
        sorted(&[FINANCE_1, FINANCE_2, EDUCATION_1])
    );
    assert!(
        first
            .rows
            .iter()
            .all(|r| !r.co_units.is_empty() || r.title == FINANCE_2)
    );
    // The counts are those of a fresh look at every open item.
    let fresh = db
        .store
        .list_open_items(&czj, day, YELLOW_DAYS, 1000)
        .await
        .unwrap();
    let count = |s: Signal| fresh.iter().filter(|r| r.signal == s).count();
    assert_eq!(
        (first.red, first.yellow, first.stalled),
        (
            count(Signal::Red),
            count(Signal::Yellow),
            count(Signal::Stalled)
        )
    );
    assert_eq!(first.red, 1);

    // Pages of one: each item once, in the same order; a page past the end is the last.
    let mut paged = Vec::new();
    for number in 1..=3 {
        let one = page(czj.clone(), number, 1).await;
        assert_eq!((one.page, one.pages, one.rows.len()), (number, 3, 1));
        paged.push(one.rows[0].title.clone());
    }
    assert_eq!(paged, titles);
    assert_eq!(page(czj.clone(), 99, 1).await.page, 3);

    // A report moves its item behind the others of its rank at once (the kept order is read
    // again after any change).
    let reported = item_id(db, titles[1]).await;
    act(db, &czj, reported, Action::Acknowledge, "")
        .await
        .unwrap();
    db.store
        .report_progress(&czj, reported, &report("已完成部分工作"))
        .await
        .unwrap();
    let moved = page(czj.clone(), 1, 50).await;
    let order: Vec<&str> = moved.rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(order, [titles[0], titles[2], titles[1]]);

    // A cancelled item leaves the unit's open page; another unit's page never shows them.
    let ducha = sign_in(db, "ducha").await;
    let education = item_id(db, EDUCATION_1).await;
    act(db, &ducha, education, Action::Cancel, "并入其他事项")
        .await
        .unwrap();
    let after = page(czj.clone(), 1, 50).await;
    assert_eq!(after.total, 2);
    assert!(after.rows.iter().all(|r| r.title != EDUCATION_1));
    let water = page(sign_in(db, "slj_lly").await, 1, 50).await;
    assert_eq!((water.total, water.rows.len(), water.pages), (0, 0, 1));
    let system = page(sign_in(db, "xitong").await, 1, 50).await;
    assert_eq!(system.total, 0, "an account with no unit sees none");
}
