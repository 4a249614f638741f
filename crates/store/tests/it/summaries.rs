//! Progress summaries (进展汇总) in the store, on the demo county with its demo ledger and its
//! four progress reports moved to known days: a week or month takes exactly the reports made in
//! it (Beijing days), items nobody reported on are listed, grouping by leader follows the
//! ledger's 责任领导, and a liaison's summary holds only their own unit.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use jiff::civil::{Date, date};
use jiff::tz::{TimeZone, offset};
use zhongshu_domain::access::Viewer;
use zhongshu_store::Error;
use zhongshu_store::summaries::{GroupBy, Period, PeriodKind, Summary, SummaryGroup};
use zhongshu_store::supervision::NewReport;

store_tests!(
    a_period_takes_the_reports_made_in_it_and_no_others,
    items_nobody_reported_on_are_listed_by_unit,
    grouping_by_leader_follows_the_ledgers_leaders,
    a_liaisons_summary_holds_only_their_unit,
);

const YEAR: i16 = 2026;
const TODAY: Date = date(2026, 11, 30);

const INVESTMENT: &str = "（1）完成年度重大项目投资计划的80%以上";
const BUSINESS: &str = "（1）企业开办时间压缩至1个工作日以内";
const DOCTORS: &str = "（2）家庭医生签约服务覆盖率达到75%";
const HOUSING: &str = "（1）完成12个老旧小区改造";
const KINDERGARTENS: &str = "（1）新建改扩建幼儿园3所";

/// Unix ms of a Beijing wall-clock time.
fn beijing(day: Date, hour: i8, minute: i8) -> i64 {
    day.at(hour, minute, 0, 0)
        .to_zoned(TimeZone::fixed(offset(8)))
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// Moves a unit's reports to a Beijing time.
async fn move_reports(db: &TestDb, unit: &str, at: i64) {
    let n = db
        .exec(&format!(
            "UPDATE progress_reports SET reported_at = {at} \
             WHERE unit_id = (SELECT id FROM units WHERE name = '{unit}')"
        ))
        .await
        .expect("move the reports");
    assert!(n > 0, "{unit} has no reports to move");
}

/// The demo county and ledger, every item assigned on 5 January, and the four reports on:
/// 县发展和改革局 Wed 18 Nov 10:00; 县行政审批服务局 Mon 23 Nov 00:30 (still Sunday in UTC);
/// 县卫生健康局 Sun 1 Nov 07:00 (still October in UTC); 县住房和城乡建设局 20 Oct.
async fn with_demo_ledger(db: &TestDb) -> Viewer {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
    let ducha = sign_in(db, "ducha").await;
    db.store
        .load_demo_ledger(ducha.as_supervisor().unwrap(), YEAR)
        .await
        .expect("load_demo_ledger");
    db.edit_items(&format!(
        "UPDATE items SET assigned_at = {}",
        beijing(date(2026, 1, 5), 9, 0)
    ))
    .await
    .unwrap();
    move_reports(db, "县发展和改革局", beijing(date(2026, 11, 18), 10, 0)).await;
    move_reports(db, "县行政审批服务局", beijing(date(2026, 11, 23), 0, 30)).await;
    move_reports(db, "县卫生健康局", beijing(date(2026, 11, 1), 7, 0)).await;
    move_reports(db, "县住房和城乡建设局", beijing(date(2026, 10, 20), 10, 0)).await;
    ducha
}

async fn summary(
    db: &TestDb,
    viewer: &Viewer,
    kind: PeriodKind,
    day: Date,
    by: GroupBy,
) -> Summary {
    db.store
        .summary(
            viewer,
            Period::containing(kind, day),
            by,
            Some(i64::from(YEAR)),
            TODAY,
        )
        .await
        .unwrap_or_else(|e| panic!("summary as {}: {e}", viewer.username))
}

/// The titles of the items reported on, in every group.
fn reported(s: &Summary) -> Vec<&str> {
    s.groups
        .iter()
        .flat_map(|g| g.reported_items())
        .map(|i| i.title.as_str())
        .collect()
}

#[track_caller]
fn group<'a>(s: &'a Summary, name: &str) -> &'a SummaryGroup {
    s.groups.iter().find(|g| g.name == name).unwrap_or_else(|| {
        let names: Vec<&str> = s.groups.iter().map(|g| g.name.as_str()).collect();
        panic!("no group {name}: {names:?}")
    })
}

fn silent(g: &SummaryGroup) -> Vec<&str> {
    g.silent_items().map(|i| i.title.as_str()).collect()
}

async fn a_period_takes_the_reports_made_in_it_and_no_others(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;

    // The periods are normalised: any day names its week (from Monday) or month (from the 1st).
    let week = Period::containing(PeriodKind::Week, date(2026, 11, 19));
    assert_eq!(week.start, date(2026, 11, 16));
    assert_eq!(week.last_day(), date(2026, 11, 22));
    assert_eq!(week.previous().start, date(2026, 11, 9));
    assert_eq!(week.next().start, date(2026, 11, 23));
    let month = Period::containing(PeriodKind::Month, date(2026, 11, 19));
    assert_eq!(month.start, date(2026, 11, 1));
    assert_eq!(month.last_day(), date(2026, 11, 30));
    assert_eq!(month.next().start, date(2026, 12, 1));
    assert_eq!(month.previous().start, date(2026, 10, 1));
    assert_eq!(month.name(), "2026年11月");
    assert_eq!(week.name(), "2026年第47周");
    assert_eq!(week.range(), "2026年11月16日—11月22日");

    // November in Beijing: three reports, not October's.
    let nov = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 11, 5),
        GroupBy::Unit,
    )
    .await;
    let mut titles = reported(&nov);
    titles.sort_unstable();
    let mut wanted = vec![INVESTMENT, BUSINESS, DOCTORS];
    wanted.sort_unstable();
    assert_eq!(titles, wanted);
    assert_eq!(nov.reports, 3);
    let investment = nov
        .groups
        .iter()
        .flat_map(|g| &g.items)
        .find(|i| i.title == INVESTMENT)
        .unwrap();
    let report = &investment.reports[0];
    assert_eq!(report.unit_name, "县发展和改革局");
    assert_eq!(report.done, "1至10月完成投资42.6亿元，占年度计划的78%。");
    assert_eq!(report.problems, "2个项目用地报批滞后。");
    assert_eq!(report.percent, Some(78));

    // October: only the housing report, and 1 November 07:00 Beijing is not October.
    let oct = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 10, 31),
        GroupBy::Unit,
    )
    .await;
    assert_eq!(reported(&oct), vec![HOUSING]);

    // The week of 16–22 November: only Wednesday's; Monday 23 00:30 Beijing is next week.
    let w47 = summary(
        db,
        &ducha,
        PeriodKind::Week,
        date(2026, 11, 22),
        GroupBy::Unit,
    )
    .await;
    assert_eq!(reported(&w47), vec![INVESTMENT]);
    let w48 = summary(
        db,
        &ducha,
        PeriodKind::Week,
        date(2026, 11, 23),
        GroupBy::Unit,
    )
    .await;
    assert_eq!(reported(&w48), vec![BUSINESS]);

    // Counts agree: every item once, reported plus not reported.
    assert_eq!(nov.items, 15);
    assert_eq!(nov.reported, 3);
    assert_eq!(nov.not_reported, 12);
    let per_group: usize = nov.groups.iter().map(|g| g.items.len()).sum();
    assert_eq!(per_group, nov.items);

    // Before the items were assigned there is nothing to summarise.
    let dec_2025 = db
        .store
        .summary(
            &ducha,
            Period::containing(PeriodKind::Month, date(2025, 12, 1)),
            GroupBy::Unit,
            None,
            TODAY,
        )
        .await
        .unwrap();
    assert!(dec_2025.groups.is_empty(), "{:?}", dec_2025.groups);
}

async fn items_nobody_reported_on_are_listed_by_unit(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    let nov = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Unit,
    )
    .await;

    // Groups are lead units; a unit that reported nothing has every item listed as silent.
    let housing = group(&nov, "县住房和城乡建设局");
    assert_eq!(housing.reported, 0);
    assert_eq!(housing.not_reported, 1);
    assert_eq!(silent(housing), vec![HOUSING]);
    let education = group(&nov, "县教育局");
    assert_eq!(education.reported, 0);
    assert_eq!(
        silent(education),
        vec![KINDERGARTENS, "（2）完成中小学教师轮岗交流"]
    );

    // A unit that reported on one item of two has the other listed.
    let ndrc = group(&nov, "县发展和改革局");
    assert_eq!(ndrc.items.len(), 2);
    assert_eq!(ndrc.reported, 1);
    assert_eq!(silent(ndrc), vec!["（2）建立重大项目月调度、季通报机制"]);
    // Due at the end of March and still open: overdue.
    assert_eq!(ndrc.overdue, 1);
    assert!(
        ndrc.items
            .iter()
            .any(|i| i.overdue && i.title == "（2）建立重大项目月调度、季通报机制")
    );

    // A closed item closed before the period is not owed a report; a cancelled one neither.
    db.edit_items(&format!(
        "UPDATE items SET state = 'closed', closed_at = {} WHERE title = '（2）完成中小学教师轮岗交流'",
        beijing(date(2026, 10, 10), 9, 0)
    ))
    .await
    .unwrap();
    db.edit_items("UPDATE items SET state = 'cancelled' WHERE title = '（1）新建改扩建幼儿园3所'")
        .await
        .unwrap();
    let nov = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Unit,
    )
    .await;
    assert!(
        nov.groups.iter().all(|g| g.name != "县教育局"),
        "县教育局 has nothing open in November"
    );
    let oct = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 10, 1),
        GroupBy::Unit,
    )
    .await;
    assert_eq!(
        silent(group(&oct, "县教育局")),
        vec!["（2）完成中小学教师轮岗交流"],
        "closed during October, it was still owed October's report"
    );
}

async fn grouping_by_leader_follows_the_ledgers_leaders(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    let nov = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Leader,
    )
    .await;
    let names: Vec<&str> = nov.groups.iter().map(|g| g.name.as_str()).collect();
    // In the order the ledger first names them.
    assert_eq!(names, vec!["孙立华", "周红梅", "陈国平"]);
    let sun = group(&nov, "孙立华");
    let titles: Vec<&str> = sun.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        vec![INVESTMENT, "（2）建立重大项目月调度、季通报机制", HOUSING]
    );
    assert_eq!(sun.reported, 1);
    assert_eq!(
        silent(sun),
        vec!["（2）建立重大项目月调度、季通报机制", HOUSING]
    );
    let zhou = group(&nov, "周红梅");
    assert_eq!(zhou.items.len(), 8);
    assert_eq!(zhou.reported, 2);
    assert!(zhou.items.iter().all(|i| i.leader == "周红梅"));
    let chen = group(&nov, "陈国平");
    assert_eq!(chen.reported, 0);
    assert_eq!(chen.not_reported, 4);
    assert_eq!(nov.items, 15);
}

async fn a_liaisons_summary_holds_only_their_unit(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    // 县市场监督管理局 co-owns the business item 县行政审批服务局 leads and reports on it too.
    let scjg = sign_in(db, "scjg_lly").await;
    let business = db
        .count(&format!(
            "SELECT id AS n FROM items WHERE title = '{BUSINESS}' AND is_group = 0"
        ))
        .await;
    db.store
        .report_progress(
            &scjg,
            business,
            &NewReport {
                done: "市场主体登记全程电子化。".into(),
                ..NewReport::default()
            },
        )
        .await
        .expect("the co-unit reports");
    db.edit_items(&format!(
        "UPDATE progress_reports SET reported_at = {} WHERE done = '市场主体登记全程电子化。'",
        beijing(date(2026, 11, 24), 9, 0)
    ))
    .await
    .unwrap();

    let xzsp = sign_in(db, "xzsp_lly").await;
    let mine = summary(
        db,
        &xzsp,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Unit,
    )
    .await;
    let names: Vec<&str> = mine.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, vec!["县行政审批服务局"], "only their own unit");
    let own = &mine.groups[0];
    // The item it leads and the one it co-owns (县政务服务中心 leads it): nothing else.
    let titles: Vec<&str> = own.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, vec![BUSINESS, "（3）每月报送营商环境问题整改进展"]);
    // Its own report only, not the co-unit's.
    let reports: Vec<&str> = own
        .items
        .iter()
        .flat_map(|i| &i.reports)
        .map(|r| r.unit_name.as_str())
        .collect();
    assert_eq!(reports, vec!["县行政审批服务局"]);
    assert_eq!(mine.reports, 1);
    let by_leader = summary(
        db,
        &xzsp,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Leader,
    )
    .await;
    assert_eq!(by_leader.items, 2);
    assert_eq!(by_leader.groups.len(), 1);
    assert_eq!(by_leader.groups[0].name, "周红梅");

    // The office sees both units' reports on the item.
    let all = summary(
        db,
        &ducha,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Unit,
    )
    .await;
    let units: Vec<&str> = group(&all, "县行政审批服务局")
        .items
        .iter()
        .filter(|i| i.title == BUSINESS)
        .flat_map(|i| &i.reports)
        .map(|r| r.unit_name.as_str())
        .collect();
    assert_eq!(units, vec!["县行政审批服务局", "县市场监督管理局"]);

    // A unit with no items gets an empty summary; an administrator gets none at all.
    let audit = sign_in(db, "sjj_lly").await;
    let nothing = summary(
        db,
        &audit,
        PeriodKind::Month,
        date(2026, 11, 1),
        GroupBy::Unit,
    )
    .await;
    assert!(nothing.groups.is_empty(), "{:?}", nothing.groups);
    let admin = sign_in(db, "xitong").await;
    let refused = db
        .store
        .summary(
            &admin,
            Period::containing(PeriodKind::Month, TODAY),
            GroupBy::Unit,
            None,
            TODAY,
        )
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
}
