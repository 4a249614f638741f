//! Full-text search over items and progress reports, on the demo county 明湖县: two-character
//! words and words inside longer ones, report text, entries written by the change itself, who
//! finds what (and how many), query syntax typed by a person, and rebuilding the index.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use jiff::civil::{Date, date};
use zhongshu_domain::access::Viewer;
use zhongshu_domain::supervision::{Action, ItemState, TaskRow};
use zhongshu_store::Error;
use zhongshu_store::search::{Reindexed, SearchResults};
use zhongshu_store::supervision::{ItemFilter, NewItem, NewReport};

store_tests!(
    a_two_character_word_is_found_in_the_items_that_contain_it,
    a_word_inside_a_longer_compound_is_found,
    a_progress_reports_text_is_found_with_its_item,
    a_changed_item_is_found_by_its_new_words_as_soon_as_the_change_returns,
    a_refused_report_leaves_nothing_to_find,
    a_liaison_finds_only_items_and_reports_of_their_own_unit_and_counts_only_those,
    a_draft_is_found_by_the_office_but_not_by_its_units_until_assigned,
    an_administrator_finds_nothing,
    query_syntax_typed_by_a_person_is_searched_for_as_words_never_obeyed,
    an_empty_or_punctuation_only_query_is_refused_in_chinese,
    hits_of_the_newest_ledger_year_come_first,
    a_rebuild_writes_every_entry_again,
    a_renamed_unit_s_items_are_found_by_its_new_name,
);

const TODAY: Date = date(2026, 3, 2);

const FINANCE_1: &str = "（1）一般公共预算收入增长5%";
const FINANCE_2: &str = "（2）压减一般性支出10%";
const EDUCATION_1: &str = "（1）新建公办幼儿园2所";
const EDUCATION_2: &str = "（2）完成义务教育薄弱环节改造";

fn task_row(
    row: usize,
    seq: &str,
    task: &str,
    measure: &str,
    lead: &str,
    co: &[&str],
    note: &str,
) -> TaskRow {
    TaskRow {
        row,
        category: "一、推动经济高质量发展".to_owned(),
        seq: seq.to_owned(),
        task: task.to_owned(),
        measure: measure.to_owned(),
        lead_unit: lead.to_owned(),
        co_units: co.iter().map(|&c| c.to_owned()).collect(),
        leader: "陈国平".to_owned(),
        person: "张明".to_owned(),
        deadline: "12月31日前".to_owned(),
        note: note.to_owned(),
    }
}

/// 县财政局 leads the two finance measures and co-owns 幼儿园; 县教育局 leads both education
/// measures. 整改 is in one finance note and one education note.
fn ledger_rows() -> Vec<TaskRow> {
    vec![
        task_row(
            4,
            "1",
            "财政收支管理",
            FINANCE_1,
            "县财政局",
            &["县税务局"],
            "建立督查督办工作机制",
        ),
        task_row(
            5,
            "1",
            "财政收支管理",
            FINANCE_2,
            "县财政局",
            &[],
            "审计发现问题限期整改",
        ),
        task_row(
            6,
            "2",
            "教育提质扩容",
            EDUCATION_1,
            "县教育局",
            &["县财政局"],
            "",
        ),
        task_row(
            7,
            "2",
            "教育提质扩容",
            EDUCATION_2,
            "县教育局",
            &[],
            "整改问题清单实行销号管理",
        ),
    ]
}

/// The demo county with the 2026 ledger above imported by the supervision office.
async fn with_ledger(db: &TestDb) {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
    let ducha = sign_in(db, "ducha").await;
    db.store
        .import_items(ducha.as_supervisor().unwrap(), 2026, &ledger_rows())
        .await
        .expect("import_items");
}

async fn item_id(db: &TestDb, title: &str) -> i64 {
    db.store
        .list_items(&Viewer::console(), &ItemFilter::default(), TODAY, 3, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.title == title)
        .unwrap_or_else(|| panic!("no item {title}"))
        .id
}

async fn unit(db: &TestDb, name: &str) -> i64 {
    db.count(&format!("SELECT id AS n FROM units WHERE name = '{name}'"))
        .await
}

async fn search(db: &TestDb, viewer: &Viewer, query: &str) -> SearchResults {
    db.store
        .search(viewer, query, 50)
        .await
        .unwrap_or_else(|e| panic!("search({query}) as {}: {e:?}", viewer.username))
}

fn item_titles(r: &SearchResults) -> Vec<String> {
    let mut titles: Vec<String> = r.items.iter().map(|h| h.title.clone()).collect();
    titles.sort();
    titles
}

fn sorted(titles: &[&str]) -> Vec<String> {
    let mut titles: Vec<String> = titles.iter().map(|&t| t.to_owned()).collect();
    titles.sort();
    titles
}

/// A snippet with its marked words in brackets.
fn marked(parts: &[zhongshu_store::search::SnippetPart]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.hit {
                format!("[{}]", p.text)
            } else {
                p.text.clone()
            }
        })
        .collect()
}

fn report(done: &str, problems: &str) -> NewReport {
    NewReport {
        done: done.to_owned(),
        problems: problems.to_owned(),
        coordination: String::new(),
        next_steps: "加快推进".to_owned(),
        percent: Some(40),
    }
}

async fn a_two_character_word_is_found_in_the_items_that_contain_it(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let found = search(db, &ducha, "整改").await;
    assert_eq!(item_titles(&found), sorted(&[FINANCE_2, EDUCATION_2]));
    assert_eq!(found.item_count, 2);
    assert_eq!(found.report_count, 0);
    let hit = found.items.iter().find(|h| h.title == FINANCE_2).unwrap();
    assert_eq!(hit.ledger_year, 2026);
    assert_eq!(hit.lead_unit, "县财政局");
    assert_eq!(hit.parent_title, "财政收支管理");
    assert_eq!(hit.state, ItemState::Assigned);
    assert_eq!(hit.snippet.field, "备注");
    assert_eq!(marked(&hit.snippet.parts), "审计发现问题限期[整改]");
    // The parent 重点任务 and the lead unit are found too.
    let found = search(db, &ducha, "教育提质扩容").await;
    assert_eq!(item_titles(&found), sorted(&[EDUCATION_1, EDUCATION_2]));
    let found = search(db, &ducha, "县教育局").await;
    assert_eq!(found.item_count, 2);
    // Every word must match.
    assert_eq!(search(db, &ducha, "整改 幼儿园").await.item_count, 0);
    assert_eq!(search(db, &ducha, "台风").await.item_count, 0);
}

async fn a_word_inside_a_longer_compound_is_found(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    // 督办 is written only inside 督查督办.
    for query in ["督办", "督查", "督查督办", "督查督办工作"] {
        let found = search(db, &ducha, query).await;
        assert_eq!(item_titles(&found), sorted(&[FINANCE_1]), "{query}");
    }
    // What was searched for is marked: the part, or the whole word.
    let found = search(db, &ducha, "督办").await;
    assert_eq!(
        marked(&found.items[0].snippet.parts),
        "建立督查[督办]工作机制"
    );
    let found = search(db, &ducha, "督查督办").await;
    assert_eq!(
        marked(&found.items[0].snippet.parts),
        "建立[督查督办]工作机制",
        "the longest searched word is marked whole"
    );
    // 幼儿园 inside the measure's title, 预算 inside 一般公共预算收入.
    assert_eq!(
        item_titles(&search(db, &ducha, "幼儿园").await),
        sorted(&[EDUCATION_1])
    );
    assert_eq!(
        item_titles(&search(db, &ducha, "预算").await),
        sorted(&[FINANCE_1])
    );
}

async fn a_progress_reports_text_is_found_with_its_item(db: &TestDb) {
    with_ledger(db).await;
    let jyj = sign_in(db, "jyj_lly").await;
    let id = item_id(db, EDUCATION_2).await;
    db.store
        .report_progress(
            &jyj,
            id,
            &report("完成三所学校改造", "校舍改造资金拨付滞后"),
        )
        .await
        .expect("report_progress");
    let ducha = sign_in(db, "ducha").await;
    let found = search(db, &ducha, "拨付").await;
    assert_eq!(found.item_count, 0, "the item's own text has no 拨付");
    assert_eq!(found.report_count, 1);
    let hit = &found.reports[0];
    assert_eq!(hit.item_id, id);
    assert_eq!(hit.item_title, EDUCATION_2);
    assert_eq!(hit.unit, "县教育局");
    assert_eq!(hit.lead_unit, "县教育局");
    assert_eq!(hit.ledger_year, 2026);
    assert_eq!(hit.snippet.field, "存在问题");
    assert_eq!(marked(&hit.snippet.parts), "校舍改造资金[拨付]滞后");
    // Words from two fields of one report.
    assert_eq!(search(db, &ducha, "学校 资金").await.report_count, 1);
    assert_eq!(search(db, &ducha, "加快推进").await.report_count, 1);
}

async fn a_changed_item_is_found_by_its_new_words_as_soon_as_the_change_returns(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let sup = ducha.as_supervisor().unwrap();
    let new = NewItem {
        ledger_year: 2026,
        source: "instruction".to_owned(),
        source_ref: "明政阅〔2026〕12号".to_owned(),
        category: "三、保障和改善民生".to_owned(),
        urgency: "normal".to_owned(),
        title: "整治城区易涝积水点".to_owned(),
        content: "汛期前完成城区12处积水点改造".to_owned(),
        lead_unit_id: Some(unit(db, "县财政局").await),
        co_unit_ids: vec![],
        leader: "陈国平".to_owned(),
        person: "王志强".to_owned(),
        deadline: "9月底前".to_owned(),
        parent_id: None,
        note: "领导批示件".to_owned(),
    };
    // A new item is found at once, by its content and its note.
    let id = db.store.create_item(sup, &new, false).await.unwrap();
    let found = search(db, &ducha, "积水点").await;
    assert_eq!(
        found.items.iter().map(|h| h.item_id).collect::<Vec<_>>(),
        [id]
    );
    assert_eq!(found.items[0].state, ItemState::Draft);
    assert_eq!(search(db, &ducha, "批示").await.item_count, 1);
    assert_eq!(search(db, &ducha, "水利局 积水点").await.item_count, 0);

    // A new lead unit: found by its name, no longer by the old one.
    let version = db
        .store
        .get_item(&ducha, id, TODAY, 3)
        .await
        .unwrap()
        .item
        .version;
    db.store
        .change_item_units(sup, id, version, Some(unit(db, "县水利局").await), &[])
        .await
        .expect("change_item_units");
    assert_eq!(search(db, &ducha, "水利局 积水点").await.item_count, 1);
    assert_eq!(search(db, &ducha, "县财政局 积水点").await.item_count, 0);

    // A report on an imported item: found by its words at once.
    let czj = sign_in(db, "czj_lly").await;
    let finance = item_id(db, FINANCE_1).await;
    assert_eq!(search(db, &ducha, "征管").await.report_count, 0);
    db.store
        .report_progress(&czj, finance, &report("强化税收征管", ""))
        .await
        .expect("report_progress");
    let found = search(db, &ducha, "征管").await;
    assert_eq!(found.report_count, 1);
    assert_eq!(found.reports[0].item_id, finance);
}

async fn a_refused_report_leaves_nothing_to_find(db: &TestDb) {
    with_ledger(db).await;
    // 县财政局 has no part in this item: the report is refused, and so is its entry.
    let czj = sign_in(db, "czj_lly").await;
    let education = item_id(db, EDUCATION_2).await;
    assert!(
        db.store
            .report_progress(&czj, education, &report("越权填报的进展", ""))
            .await
            .is_err()
    );
    let ducha = sign_in(db, "ducha").await;
    assert_eq!(search(db, &ducha, "越权").await.report_count, 0);
    let entries = db.count("SELECT COUNT(*) AS n FROM report_search").await;
    assert_eq!(entries, 0);
}

async fn a_liaison_finds_only_items_and_reports_of_their_own_unit_and_counts_only_those(
    db: &TestDb,
) {
    with_ledger(db).await;
    let czj = sign_in(db, "czj_lly").await;
    let jyj = sign_in(db, "jyj_lly").await;
    let (finance_2, education_2) = (item_id(db, FINANCE_2).await, item_id(db, EDUCATION_2).await);
    db.store
        .report_progress(&czj, finance_2, &report("整改台账已建立", ""))
        .await
        .unwrap();
    db.store
        .report_progress(&jyj, education_2, &report("整改资金已下达", ""))
        .await
        .unwrap();

    let ducha = sign_in(db, "ducha").await;
    let all = search(db, &ducha, "整改").await;
    assert_eq!((all.item_count, all.report_count), (2, 2));
    let leader = sign_in(db, "lingdao").await;
    let seen = search(db, &leader, "整改").await;
    assert_eq!((seen.item_count, seen.report_count), (2, 2));

    let mine = search(db, &czj, "整改").await;
    assert_eq!(item_titles(&mine), sorted(&[FINANCE_2]));
    assert_eq!((mine.item_count, mine.report_count), (1, 1));
    assert_eq!(mine.reports[0].item_id, finance_2);
    let theirs = search(db, &jyj, "整改").await;
    assert_eq!(item_titles(&theirs), sorted(&[EDUCATION_2]));
    assert_eq!((theirs.item_count, theirs.report_count), (1, 1));
    assert_eq!(theirs.reports[0].item_id, education_2);
    // The other unit's words find nothing at all, not even a count.
    let none = search(db, &czj, "资金 下达").await;
    assert_eq!((none.item_count, none.report_count), (0, 0));
    assert!(none.items.is_empty() && none.reports.is_empty());
    // An item 县财政局 co-owns is found by it; its head sees what its liaison sees.
    assert_eq!(
        item_titles(&search(db, &czj, "幼儿园").await),
        sorted(&[EDUCATION_1])
    );
    let head = sign_in(db, "czj_fzr").await;
    let by_head = search(db, &head, "整改").await;
    assert_eq!((by_head.item_count, by_head.report_count), (1, 1));
    // A unit with no part in any item finds nothing.
    let slj = sign_in(db, "slj_lly").await;
    let none = search(db, &slj, "整改").await;
    assert_eq!((none.item_count, none.report_count), (0, 0));
}

async fn a_draft_is_found_by_the_office_but_not_by_its_units_until_assigned(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    let new = NewItem {
        ledger_year: 2026,
        source: "decision".to_owned(),
        source_ref: String::new(),
        category: String::new(),
        urgency: "normal".to_owned(),
        title: "推进老旧小区加装电梯".to_owned(),
        content: String::new(),
        lead_unit_id: Some(unit(db, "县财政局").await),
        co_unit_ids: vec![],
        leader: "陈国平".to_owned(),
        person: "王志强".to_owned(),
        deadline: "9月底前".to_owned(),
        parent_id: None,
        note: String::new(),
    };
    let id = db
        .store
        .create_item(ducha.as_supervisor().unwrap(), &new, false)
        .await
        .unwrap();
    let czj = sign_in(db, "czj_lly").await;
    assert_eq!(search(db, &ducha, "电梯").await.item_count, 1);
    assert_eq!(search(db, &czj, "电梯").await.item_count, 0);
    for action in [Action::Register, Action::Assign] {
        let version = db
            .store
            .get_item(&ducha, id, TODAY, 3)
            .await
            .unwrap()
            .item
            .version;
        db.store
            .act_on_item(&ducha, id, action, version, "")
            .await
            .unwrap();
    }
    let found = search(db, &czj, "电梯").await;
    assert_eq!(found.item_count, 1);
    assert_eq!(found.items[0].state, ItemState::Assigned);
}

async fn an_administrator_finds_nothing(db: &TestDb) {
    with_ledger(db).await;
    for username in ["xitong", "anquan", "shenji"] {
        let admin = sign_in(db, username).await;
        let found = search(db, &admin, "整改").await;
        assert_eq!((found.item_count, found.report_count), (0, 0), "{username}");
        assert!(found.items.is_empty() && found.reports.is_empty());
    }
}

async fn query_syntax_typed_by_a_person_is_searched_for_as_words_never_obeyed(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    for query in [
        "督办 OR \"",
        "整改 OR 幼儿园",
        "整改 NOT 督办",
        "NEAR(整改 督办)",
        "tokens:整改",
        "item_search:整改",
        "{tokens}: 整改",
        "整改*",
        "^整改",
        "-整改",
        "\"整改\"",
        "整改' OR '1'='1",
        "'; DROP TABLE items; --",
        "整改 & 督办 | !幼儿园",
        "整改:*",
        "(整改",
        "\\整改%_",
    ] {
        match db.store.search(&ducha, query, 50).await {
            Ok(found) => assert!(found.item_count <= 2, "{query}: {found:?}"),
            Err(e) => panic!("{query} gave {e:?}"),
        }
    }
    // Operators are words: OR does not widen, NOT does not exclude, NEAR is a word.
    assert_eq!(search(db, &ducha, "NEAR(").await.item_count, 0);
    assert_eq!(search(db, &ducha, "整改 OR 幼儿园").await.item_count, 0);
    assert_eq!(search(db, &ducha, "整改 NOT 督办").await.item_count, 0);
    // Punctuation around a word is dropped; the word is still found.
    for query in ["整改*", "-整改", "\"整改\"", "「整改」", "整改:*", "(整改"] {
        assert_eq!(search(db, &ducha, query).await.item_count, 2, "{query}");
    }
    // Punctuation alone is no query.
    for query in ["*", ":", "'", "\"", "（）", "&|!", "\"\"*:^"] {
        assert!(
            matches!(
                db.store.search(&ducha, query, 50).await,
                Err(Error::Invalid(_))
            ),
            "{query}"
        );
    }
    // The items table is still there.
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM items").await, 6);
}

async fn an_empty_or_punctuation_only_query_is_refused_in_chinese(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    for query in ["", "  ", "，。", "*"] {
        match db.store.search(&ducha, query, 50).await {
            Err(Error::Invalid(problems)) => {
                assert_eq!(problems.len(), 1);
                assert_eq!(problems[0].field, "q");
                assert_eq!(problems[0].message, "请输入要搜索的词");
            }
            other => panic!("{query:?} gave {other:?}"),
        }
    }
    // Checked before visibility: an administrator is told the same.
    let admin = sign_in(db, "xitong").await;
    assert!(matches!(
        db.store.search(&admin, "", 50).await,
        Err(Error::Invalid(_))
    ));
}

async fn hits_of_the_newest_ledger_year_come_first(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    db.store
        .import_items(
            ducha.as_supervisor().unwrap(),
            2025,
            &[task_row(
                4,
                "1",
                "巡察反馈问题整改",
                "（1）完成巡察反馈问题整改",
                "县财政局",
                &[],
                "",
            )],
        )
        .await
        .expect("import 2025");
    let found = search(db, &ducha, "整改").await;
    assert_eq!(found.item_count, 3);
    let years: Vec<i64> = found.items.iter().map(|h| h.ledger_year).collect();
    assert_eq!(years, [2026, 2026, 2025]);
    // The limit cuts the list, not the count.
    let first = db.store.search(&ducha, "整改", 1).await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].ledger_year, 2026);
    assert_eq!(first.item_count, 3);
}

async fn a_rebuild_writes_every_entry_again(db: &TestDb) {
    with_ledger(db).await;
    let czj = sign_in(db, "czj_lly").await;
    let finance = item_id(db, FINANCE_2).await;
    db.store
        .report_progress(&czj, finance, &report("整改台账已建立", ""))
        .await
        .unwrap();
    let ducha = sign_in(db, "ducha").await;
    let before = search(db, &ducha, "整改").await;
    assert_eq!((before.item_count, before.report_count), (2, 1));
    // Entries lost (as after bulk generation, which writes rows without them).
    db.exec("DELETE FROM item_search").await.unwrap();
    db.exec("DELETE FROM report_search").await.unwrap();
    let lost = search(db, &ducha, "整改").await;
    assert_eq!((lost.item_count, lost.report_count), (0, 0));

    let done = db.store.rebuild_search_index().await.expect("rebuild");
    assert_eq!(
        done,
        Reindexed {
            items: 4,
            reports: 1
        },
        "four measures (not the two groups) and one report"
    );
    let after = search(db, &ducha, "整改").await;
    assert_eq!((after.item_count, after.report_count), (2, 1));
    assert_eq!(item_titles(&after), item_titles(&before));
    // Again: the same entries, none doubled.
    db.store.rebuild_search_index().await.unwrap();
    let again = search(db, &ducha, "整改").await;
    assert_eq!((again.item_count, again.report_count), (2, 1));
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM item_search").await, 4);
}

async fn a_renamed_unit_s_items_are_found_by_its_new_name(db: &TestDb) {
    with_ledger(db).await;
    let ducha = sign_in(db, "ducha").await;
    assert!(search(db, &ducha, "国有资产").await.items.is_empty());
    let console = Viewer::console();
    let id = zhongshu_domain::ids::UnitId::from_db(unit(db, "县财政局").await);
    let before = db.store.get_unit(&console, id).await.unwrap();
    db.store
        .update_unit(
            console.as_sys_admin().unwrap(),
            id,
            zhongshu_store::units::UnitChanges {
                name: zhongshu_domain::org::UnitName::parse("县财政和国有资产局").unwrap(),
                unit_type: before.unit_type,
                key_reporting: before.key_reporting,
                sort_order: before.sort_order,
                version: before.version,
            },
        )
        .await
        .unwrap();
    // The two measures it leads, not the one it only co-owns.
    let found = search(db, &ducha, "国有资产").await;
    assert_eq!(item_titles(&found), sorted(&[FINANCE_1, FINANCE_2]));
    assert_eq!(found.item_count, 2);
}
