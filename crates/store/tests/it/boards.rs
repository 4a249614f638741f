//! Supervision boards (挂图作战) in the store, on the demo county with its demo ledger: the
//! unit × status matrix agrees with the ledger list unit by unit, the timeline carries start,
//! due date and milestones, the filters narrow both, and only viewers who see the whole ledger
//! get a board.

use crate::harness::{DEMO_PASSWORD, TestDb, sign_in};
use jiff::civil::{Date, date};
use zhongshu_domain::access::{Capability, Viewer};
use zhongshu_domain::supervision::{ItemState, Signal};
use zhongshu_store::Error;
use zhongshu_store::boards::{Board, BoardFilter, BoardItem, BoardUnit, MATRIX_STATES, matrix};
use zhongshu_store::supervision::{ItemFilter, ItemRow};

store_tests!(
    the_matrix_counts_agree_with_the_ledger_unit_by_unit_and_state_by_state,
    the_timeline_carries_start_due_and_milestones,
    the_filters_narrow_the_matrix_and_the_timeline,
    a_liaison_is_refused_a_board_and_a_leader_sees_the_whole_ledger,
);

const YEAR: i16 = 2026;
/// Midway through the demo ledger's year: some deadlines passed (red), some near, most ahead.
const TODAY: Date = date(2026, 6, 26);
const YELLOW_DAYS: u32 = 3;
/// The demo ledger's items (任务分解表 of 15 measures).
const DEMO_ITEMS: usize = 15;

/// The demo county with its demo ledger for [`YEAR`], and 督查室 (ducha) signed in.
async fn with_demo_ledger(db: &TestDb) -> Viewer {
    let console = Viewer::console();
    db.store
        .load_demo(console.as_sys_admin().unwrap(), DEMO_PASSWORD)
        .await
        .expect("load_demo");
    let ducha = sign_in(db, "ducha").await;
    let loaded = db
        .store
        .load_demo_ledger(ducha.as_supervisor().unwrap(), YEAR)
        .await
        .expect("load_demo_ledger");
    assert_eq!(loaded, Some(DEMO_ITEMS));
    ducha
}

async fn board(db: &TestDb, viewer: &Viewer, filter: BoardFilter) -> Board {
    let board = db
        .store
        .supervision_board(viewer, &filter, TODAY, YELLOW_DAYS)
        .await
        .unwrap_or_else(|e| panic!("supervision_board as {}: {e}", viewer.username));
    (*board).clone()
}

fn year() -> BoardFilter {
    BoardFilter {
        year: Some(i64::from(YEAR)),
        ..BoardFilter::default()
    }
}

async fn ledger(db: &TestDb, viewer: &Viewer, filter: ItemFilter) -> Vec<ItemRow> {
    db.store
        .list_items(
            viewer,
            &ItemFilter {
                year: Some(i64::from(YEAR)),
                ..filter
            },
            TODAY,
            YELLOW_DAYS,
            1000,
        )
        .await
        .expect("list_items")
}

async fn the_matrix_counts_agree_with_the_ledger_unit_by_unit_and_state_by_state(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    let b = board(db, &ducha, year()).await;
    let m = &b.matrix;
    assert_eq!(m.items, DEMO_ITEMS);
    assert_eq!(b.items.len(), DEMO_ITEMS);
    assert_eq!(m.totals.lead, DEMO_ITEMS);
    assert_eq!(m.totals.states.iter().sum::<usize>(), DEMO_ITEMS);
    assert_eq!(
        m.states.iter().map(|s| s.label()).collect::<Vec<_>>(),
        vec!["已交办", "办理中", "申请办结", "已办结", "已撤销"]
    );
    assert_eq!(
        m.signals.iter().map(|s| s.code()).collect::<Vec<_>>(),
        vec!["red", "yellow", "green", "stalled"]
    );
    // Every item is open, so every item has a light, and the lights agree with the ledger's.
    let all = ledger(db, &ducha, ItemFilter::default()).await;
    for (i, signal) in m.signals.iter().enumerate() {
        let expected = all.iter().filter(|r| r.signal == *signal).count();
        assert_eq!(m.totals.signals[i], expected, "{signal:?}");
    }
    assert!(m.totals.signals[0] > 0, "some items are overdue on {TODAY}");
    assert_eq!(m.totals.signals.iter().sum::<usize>(), DEMO_ITEMS);

    // Row by row: what the unit leads, by state and by signal, and what it co-owns.
    assert!(m.rows.len() > 12, "lead and co-units: {}", m.rows.len());
    let mut co_rows = 0;
    for row in &m.rows {
        let unit = row.unit.as_ref().expect("every demo item has a lead unit");
        let unit_id = zhongshu_domain::ids::UnitId::from_db(unit.id);
        let involved = ledger(
            db,
            &ducha,
            ItemFilter {
                unit_id: Some(unit_id),
                ..ItemFilter::default()
            },
        )
        .await;
        let (led, co): (Vec<&ItemRow>, Vec<&ItemRow>) = involved
            .iter()
            .partition(|r| r.lead_unit_id == Some(unit.id));
        assert_eq!(row.lead, led.len(), "{}", unit.name);
        assert_eq!(row.co, co.len(), "{}", unit.name);
        assert_eq!(row.states.iter().sum::<usize>(), row.lead, "{}", unit.name);
        for (i, state) in m.states.iter().enumerate() {
            let by_state = ledger(
                db,
                &ducha,
                ItemFilter {
                    unit_id: Some(unit_id),
                    state: Some(*state),
                    ..ItemFilter::default()
                },
            )
            .await;
            let expected = by_state
                .iter()
                .filter(|r| r.lead_unit_id == Some(unit.id))
                .count();
            assert_eq!(row.states[i], expected, "{} {}", unit.name, state.label());
        }
        for (i, signal) in m.signals.iter().enumerate() {
            let expected = led.iter().filter(|r| r.signal == *signal).count();
            assert_eq!(row.signals[i], expected, "{} {signal:?}", unit.name);
        }
        if row.lead == 0 {
            co_rows += 1;
        }
    }
    assert!(co_rows > 0, "units that only co-own items have rows too");
    assert!(
        m.rows
            .iter()
            .skip_while(|r| r.lead > 0)
            .all(|r| r.lead == 0),
        "the leading units come first"
    );
    let lead_sum: usize = m.rows.iter().map(|r| r.lead).sum();
    assert_eq!(lead_sum, DEMO_ITEMS);

    // 县教育局 leads two measures; 县财政局 leads none and co-owns three.
    let row = |name: &str| {
        m.rows
            .iter()
            .find(|r| r.unit.as_ref().is_some_and(|u| u.name == name))
            .unwrap_or_else(|| panic!("no row for {name}"))
    };
    assert_eq!((row("县教育局").lead, row("县教育局").co), (2, 0));
    assert_eq!((row("县财政局").lead, row("县财政局").co), (0, 3));

    // A state change moves a count from one column to another.
    let item = all
        .iter()
        .find(|r| r.title == "（1）新建改扩建幼儿园3所")
        .expect("the kindergarten item");
    let jyj = sign_in(db, "jyj_lly").await;
    db.store
        .act_on_item(
            &jyj,
            item.id,
            zhongshu_domain::supervision::Action::Acknowledge,
            item.version,
            "",
        )
        .await
        .expect("acknowledge");
    let after = board(db, &ducha, year()).await;
    let col = |s: ItemState| after.matrix.states.iter().position(|x| *x == s).unwrap();
    let jy = after
        .matrix
        .rows
        .iter()
        .find(|r| r.unit.as_ref().is_some_and(|u| u.name == "县教育局"))
        .unwrap();
    assert_eq!(jy.states[col(ItemState::InProgress)], 1);
    assert_eq!(jy.states[col(ItemState::Assigned)], 1);
}

async fn the_timeline_carries_start_due_and_milestones(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    let b = board(db, &ducha, year()).await;
    let all = ledger(db, &ducha, ItemFilter::default()).await;
    assert_eq!(
        b.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        "the timeline is in ledger order"
    );
    for (item, row) in b.items.iter().zip(&all) {
        assert_eq!(item.title, row.title);
        assert_eq!(item.signal, row.signal);
        assert_eq!(
            item.due.map(|d| d.to_string()),
            row.due_date,
            "{}",
            item.title
        );
        assert!(item.start.is_some(), "{} was assigned", item.title);
        assert_eq!(
            item.lead.as_ref().map(|u| u.name.as_str()),
            Some(row.lead_unit.as_str())
        );
        assert_eq!(
            item.co_units
                .iter()
                .map(|u| u.name.clone())
                .collect::<Vec<_>>()
                .len(),
            row.co_units.len()
        );
    }
    let drill = b
        .items
        .iter()
        .find(|i| i.title == "（2）组织防汛抗旱综合演练不少于2次")
        .expect("the drill item");
    assert_eq!(drill.milestones, vec![date(2026, 5, 31), date(2026, 9, 30)]);
    assert_eq!(drill.due, Some(date(2026, 9, 30)));
    // The monthly report has no due date: a row on the timeline without a bar.
    let monthly = b
        .items
        .iter()
        .find(|i| i.title == "（3）每月报送营商环境问题整改进展")
        .expect("the monthly item");
    assert_eq!(monthly.due, None);
    assert!(monthly.cadence.is_some());
}

async fn the_filters_narrow_the_matrix_and_the_timeline(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    let whole = board(db, &ducha, year()).await;
    assert!(whole.leaders.contains(&"陈国平".to_owned()));
    assert_eq!(whole.categories.len(), 3);
    assert!(whole.units.iter().any(|u| u.name == "县财政局"));

    // By unit: the items it leads or co-owns, as the ledger's unit filter has them.
    let czj = whole
        .units
        .iter()
        .find(|u| u.name == "县财政局")
        .unwrap()
        .id;
    let czj = zhongshu_domain::ids::UnitId::from_db(czj);
    let by_unit = board(
        db,
        &ducha,
        BoardFilter {
            unit_id: Some(czj),
            ..year()
        },
    )
    .await;
    let expected = ledger(
        db,
        &ducha,
        ItemFilter {
            unit_id: Some(czj),
            ..ItemFilter::default()
        },
    )
    .await;
    assert_eq!(by_unit.matrix.items, expected.len());
    assert_eq!(by_unit.matrix.items, 3);
    assert_eq!(by_unit.items.len(), 3);
    // The options stay those of the whole year.
    assert_eq!(by_unit.units, whole.units);

    // By leader.
    let by_leader = board(
        db,
        &ducha,
        BoardFilter {
            leader: Some("陈国平".to_owned()),
            ..year()
        },
    )
    .await;
    let all = ledger(db, &ducha, ItemFilter::default()).await;
    let expected = all.iter().filter(|r| r.leader == "陈国平").count();
    assert_eq!(by_leader.matrix.items, expected);
    assert!(expected > 0 && expected < DEMO_ITEMS);
    assert!(by_leader.items.iter().all(|i| i.leader == "陈国平"));

    // A leader is matched by the whole name.
    let part = board(
        db,
        &ducha,
        BoardFilter {
            leader: Some("陈国".to_owned()),
            ..year()
        },
    )
    .await;
    assert_eq!(part.matrix.items, 0);

    // By category.
    let by_category = board(
        db,
        &ducha,
        BoardFilter {
            category: Some("二、持续改善民生福祉".to_owned()),
            ..year()
        },
    )
    .await;
    assert_eq!(by_category.matrix.items, 5);

    // By signal: only the red ones, and every one of them in the red column.
    let red = board(
        db,
        &ducha,
        BoardFilter {
            signal: Some(Signal::Red),
            ..year()
        },
    )
    .await;
    let expected = all.iter().filter(|r| r.signal == Signal::Red).count();
    assert_eq!(red.matrix.items, expected);
    assert_eq!(red.matrix.totals.signals, vec![expected, 0, 0, 0]);

    // Together: a leader's items in one category.
    let both = board(
        db,
        &ducha,
        BoardFilter {
            leader: Some("周红梅".to_owned()),
            category: Some("一、推动经济高质量发展".to_owned()),
            ..year()
        },
    )
    .await;
    assert_eq!(both.matrix.items, 4);

    // Another year has nothing.
    let empty = board(
        db,
        &ducha,
        BoardFilter {
            year: Some(2020),
            ..BoardFilter::default()
        },
    )
    .await;
    assert_eq!(empty.matrix.items, 0);
    assert!(empty.matrix.rows.is_empty());
    assert!(empty.units.is_empty());
}

async fn a_liaison_is_refused_a_board_and_a_leader_sees_the_whole_ledger(db: &TestDb) {
    let ducha = with_demo_ledger(db).await;
    let liaison = sign_in(db, "czj_lly").await;
    assert!(!liaison.can(Capability::SeeAllItems));
    // The liaison sees its unit's items in the ledger list, but gets no board at all.
    assert_eq!(ledger(db, &liaison, ItemFilter::default()).await.len(), 3);
    let refused = db
        .store
        .supervision_board(&liaison, &year(), TODAY, YELLOW_DAYS)
        .await;
    assert!(
        matches!(refused, Err(Error::Forbidden(_))),
        "{:?}",
        refused.map(|b| b.matrix.items)
    );
    let nobody = sign_in(db, "xitong").await;
    assert!(matches!(
        db.store
            .supervision_board(&nobody, &year(), TODAY, YELLOW_DAYS)
            .await,
        Err(Error::Forbidden(_))
    ));
    let leader = sign_in(db, "lingdao").await;
    let theirs = board(db, &leader, year()).await;
    let ours = board(db, &ducha, year()).await;
    assert_eq!(theirs.matrix, ours.matrix);
}

// The matrix on its own, without a database.

fn unit(id: i64) -> BoardUnit {
    BoardUnit {
        id,
        name: format!("单位{id}"),
        sort_order: id,
    }
}

fn item(id: i64, lead: Option<i64>, co: &[i64], state: ItemState, signal: Signal) -> BoardItem {
    BoardItem {
        id,
        seq: String::new(),
        category: "一、推动经济高质量发展".to_owned(),
        parent_title: String::new(),
        title: format!("事项{id}"),
        lead: lead.map(unit),
        co_units: co.iter().copied().map(unit).collect(),
        leader: "陈国平、孙立华".to_owned(),
        deadline_text: String::new(),
        cadence: None,
        state,
        signal,
        start: Some(date(2026, 1, 5)),
        due: Some(date(2026, 6, 30)),
        milestones: vec![],
    }
}

fn sample() -> Vec<BoardItem> {
    use ItemState as S;
    use Signal as G;
    vec![
        item(1, Some(1), &[2, 3], S::Assigned, G::Red),
        item(2, Some(1), &[], S::InProgress, G::Green),
        item(3, Some(2), &[1], S::ClosureRequested, G::Yellow),
        item(4, Some(2), &[], S::Closed, G::None),
        item(5, Some(3), &[], S::Cancelled, G::None),
        item(6, Some(3), &[], S::InProgress, G::Stalled),
        item(7, None, &[4], S::Registered, G::Green),
    ]
}

#[test]
fn boards_matrix_counts_every_item_once_by_state_and_open_ones_once_by_signal() {
    let items = sample();
    let m = matrix(&items);
    assert_eq!(m.items, 7);
    let state_cells: usize = m.rows.iter().flat_map(|r| &r.states).sum();
    assert_eq!(state_cells, items.len(), "the cells add up to the items");
    let lead_cells: usize = m.rows.iter().map(|r| r.lead).sum();
    assert_eq!(lead_cells, items.len());
    let signal_cells: usize = m.rows.iter().flat_map(|r| &r.signals).sum();
    let open = items.iter().filter(|i| i.state.is_open()).count();
    assert_eq!(
        signal_cells, open,
        "closed and cancelled items have no light"
    );
    assert_eq!(m.totals.states.iter().sum::<usize>(), items.len());
    assert_eq!(m.totals.lead, items.len());
    assert_eq!(m.totals.co, 4);
    assert_eq!(matrix(&[]).items, 0);
    assert!(matrix(&[]).rows.is_empty());
}

#[test]
fn boards_matrix_shows_registered_only_when_an_item_is_in_it() {
    let items = sample();
    assert_eq!(
        matrix(&items).states,
        vec![
            ItemState::Registered,
            ItemState::Assigned,
            ItemState::InProgress,
            ItemState::ClosureRequested,
            ItemState::Closed,
            ItemState::Cancelled,
        ]
    );
    let without: Vec<BoardItem> = items
        .into_iter()
        .filter(|i| i.state != ItemState::Registered)
        .collect();
    assert_eq!(matrix(&without).states, MATRIX_STATES.to_vec());
}

#[test]
fn boards_matrix_rows_follow_the_unit_order_and_co_units_get_rows() {
    let mut items = sample();
    items.push(item(8, Some(5), &[], ItemState::InProgress, Signal::Green));
    let m = matrix(&items);
    let names: Vec<Option<&str>> = m
        .rows
        .iter()
        .map(|r| r.unit.as_ref().map(|u| u.name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            Some("单位1"),
            Some("单位2"),
            Some("单位3"),
            Some("单位5"),
            None,
            Some("单位4"),
        ],
        "leading units in order, then no lead unit, then units that only co-own"
    );
    let first = &m.rows[0];
    assert_eq!((first.lead, first.co), (2, 1));
    assert_eq!(first.states[1..3], [1, 1], "已交办 1, 办理中 1");
    assert_eq!(first.signals, vec![1, 0, 1, 0], "红 1, 绿 1");
    let co_only = &m.rows[5];
    assert_eq!((co_only.lead, co_only.co), (0, 1));
    assert_eq!(co_only.states.iter().sum::<usize>(), 0);
}
