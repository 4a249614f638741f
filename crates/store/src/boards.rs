//! Supervision boards (挂图作战): one year's items as a unit × status matrix and as a timeline
//! of start, due date and milestones, narrowed by unit, responsible leader, category and signal.
//!
//! Only viewers who see the whole ledger (督查室 and leaders) get a board: anyone else is
//! refused with `Error::Forbidden`, so a liaison never learns how other units stand. The items
//! themselves come through [`Store::list_items`], so visibility and signals are exactly the
//! ledger's.

use crate::Store;
use crate::error::{Error, Result};
use crate::supervision::{Bind, ItemFilter, ItemRow, KeptLists};
use jiff::civil::Date;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use zhongshu_domain::access::{Capability, Forbidden, Viewer};
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::supervision::{ItemState, Signal};

/// The states every matrix shows, in the order of an item's life; 已立项 and 草稿 join them only
/// when some item is in them (an item sent back by its lead unit is 已立项 again).
pub const MATRIX_STATES: [ItemState; 5] = [
    ItemState::Assigned,
    ItemState::InProgress,
    ItemState::ClosureRequested,
    ItemState::Closed,
    ItemState::Cancelled,
];

/// The signals the matrix counts: 红、黄、绿、未按时报送.
pub const MATRIX_SIGNALS: [Signal; 4] =
    [Signal::Red, Signal::Yellow, Signal::Green, Signal::Stalled];

/// How many boards (filters) a store keeps at most.
const BOARD_CACHE_SIZE: usize = 32;

/// Boards computed lately, by filter, day, hour and items generation.
#[derive(Debug)]
pub(crate) struct BoardCache {
    boards: KeptLists<Board>,
    /// Held while a board is computed.
    computing: tokio::sync::Mutex<()>,
}

impl Default for BoardCache {
    fn default() -> Self {
        BoardCache {
            boards: KeptLists::with_capacity(BOARD_CACHE_SIZE),
            computing: tokio::sync::Mutex::new(()),
        }
    }
}

/// What narrows a board; every field optional.
#[derive(Clone, Debug, Default)]
pub struct BoardFilter {
    pub year: Option<i64>,
    /// Items this unit leads or co-owns.
    pub unit_id: Option<UnitId>,
    /// One responsible leader (责任领导) by name.
    pub leader: Option<String>,
    /// The category (分类, “一、推动经济高质量发展”) exactly.
    pub category: Option<String>,
    pub signal: Option<Signal>,
}

/// A unit as the board names it, with its place in the organisation's order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BoardUnit {
    pub id: i64,
    pub name: String,
    pub sort_order: i64,
}

/// One item as the boards use it.
#[derive(Clone, Debug)]
pub struct BoardItem {
    pub id: i64,
    pub seq: String,
    pub category: String,
    pub parent_title: String,
    pub title: String,
    pub lead: Option<BoardUnit>,
    pub co_units: Vec<BoardUnit>,
    pub leader: String,
    pub deadline_text: String,
    pub cadence: Option<String>,
    pub state: ItemState,
    pub signal: Signal,
    /// The day it was assigned (交办), in Beijing.
    pub start: Option<Date>,
    pub due: Option<Date>,
    pub milestones: Vec<Date>,
}

impl BoardItem {
    /// The leaders named in 责任领导 (“陈国平、孙立华” is two).
    pub fn leaders(&self) -> impl Iterator<Item = &str> {
        split_names(&self.leader)
    }
}

/// One row of the matrix: a unit and the items it leads, by state and by signal, and how many
/// it co-owns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MatrixRow {
    /// `None` for items with no lead unit.
    pub unit: Option<BoardUnit>,
    /// Items the unit leads.
    pub lead: usize,
    /// Items the unit leads, per [`Matrix::states`].
    pub states: Vec<usize>,
    /// Items the unit leads, per [`Matrix::signals`].
    pub signals: Vec<usize>,
    /// Items the unit co-owns (配合).
    pub co: usize,
}

/// The unit × status matrix. Every item is counted once, in its lead unit's row; co-units get
/// a row too (with their 配合 count) even when they lead nothing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Matrix {
    pub states: Vec<ItemState>,
    pub signals: Vec<Signal>,
    pub rows: Vec<MatrixRow>,
    /// Column totals; `co` is the number of co-ownerships.
    pub totals: MatrixRow,
    /// Items counted.
    pub items: usize,
}

/// A board: the items after the filter, their matrix, and what the filters may choose from
/// (taken from the whole year, so choosing one filter does not hide the others' options).
#[derive(Clone, Debug)]
pub struct Board {
    pub items: Vec<BoardItem>,
    pub matrix: Matrix,
    pub units: Vec<BoardUnit>,
    pub leaders: Vec<String>,
    pub categories: Vec<String>,
}

impl Store {
    /// The board of the items the viewer may see (the whole ledger: only viewers with
    /// `SeeAllItems` get one), with signals for `today`, narrowed by `filter`.
    pub async fn supervision_board(
        &self,
        viewer: &Viewer,
        filter: &BoardFilter,
        today: Date,
        yellow_days: u32,
    ) -> Result<Arc<Board>> {
        if !viewer.can(Capability::SeeAllItems) {
            return Err(Error::Forbidden(Forbidden {
                capability: Capability::SeeAllItems,
            }));
        }
        // A city year has 50,000 items: a board takes seconds to compute. It is kept while no
        // write changes any item (the generation, moved by every writing transaction on every
        // node, says so), for the day and the hour (特急 items count by the hour).
        let key = format!(
            "{filter:?}|{today}|{yellow_days}|{}|{}",
            crate::now_ms() / 3_600_000,
            crate::tallies::generation(self.pool()).await?
        );
        let cache = &self.inner.board_cache;
        if let Some(board) = cache.boards.get(&key) {
            return Ok(board);
        }
        // One board is computed at a time: the others asking wait for it rather than each
        // computing the same board (32 at once would take the server's memory and minutes).
        let _turn = cache.computing.lock().await;
        if let Some(board) = cache.boards.get(&key) {
            return Ok(board);
        }
        let board = Arc::new(
            self.compute_board(viewer, filter, today, yellow_days)
                .await?,
        );
        cache.boards.put(key, board.clone());
        Ok(board)
    }

    async fn compute_board(
        &self,
        viewer: &Viewer,
        filter: &BoardFilter,
        today: Date,
        yellow_days: u32,
    ) -> Result<Board> {
        let rows = self
            .list_items_without_progress(
                viewer,
                &ItemFilter {
                    year: filter.year,
                    ..ItemFilter::default()
                },
                today,
                yellow_days,
                100_000,
            )
            .await?;
        let visible: HashSet<i64> = rows.iter().map(|r| r.id).collect();
        let (units, extra) = self.board_extras(filter.year, &visible).await?;
        let all: Vec<BoardItem> = rows
            .into_iter()
            .map(|r| board_item(r, &units, &extra))
            .collect();
        let options = options(&all);
        let items: Vec<BoardItem> = all.into_iter().filter(|i| keeps(filter, i)).collect();
        Ok(Board {
            matrix: matrix(&items),
            items,
            units: options.0,
            leaders: options.1,
            categories: options.2,
        })
    }

    /// Each visible item's units (with their order) and its milestones and assignment day.
    async fn board_extras(&self, year: Option<i64>, visible: &HashSet<i64>) -> Result<Extras> {
        let mut units: HashMap<i64, Vec<(BoardUnit, bool)>> = HashMap::new();
        let mut extra: HashMap<i64, (String, Option<i64>)> = HashMap::new();
        if visible.is_empty() {
            return Ok((units, extra));
        }
        let year_sql = if year.is_some() {
            " AND i.ledger_year = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT iu.item_id, iu.unit_id, iu.role, un.name, un.sort_order FROM item_units iu \
             JOIN units un ON un.id = iu.unit_id JOIN items i ON i.id = iu.item_id \
             WHERE i.is_group = 0{year_sql} ORDER BY iu.item_id, un.sort_order, un.id"
        );
        let binds: Vec<Bind> = year.map(Bind::I).into_iter().collect();
        for r in self.read(&sql, &binds).await? {
            let item: i64 = r.try_get("item_id")?;
            if !visible.contains(&item) {
                continue;
            }
            let role: String = r.try_get("role")?;
            units.entry(item).or_default().push((
                BoardUnit {
                    id: r.try_get("unit_id")?,
                    name: r.try_get("name")?,
                    sort_order: r.try_get("sort_order")?,
                },
                role == "lead",
            ));
        }
        let sql = format!(
            "SELECT i.id, i.milestones, i.assigned_at FROM items i WHERE i.is_group = 0{year_sql}"
        );
        for r in self.read(&sql, &binds).await? {
            let id: i64 = r.try_get("id")?;
            if visible.contains(&id) {
                extra.insert(id, (r.try_get("milestones")?, r.try_get("assigned_at")?));
            }
        }
        Ok((units, extra))
    }
}

type Extras = (
    HashMap<i64, Vec<(BoardUnit, bool)>>,
    HashMap<i64, (String, Option<i64>)>,
);

fn board_item(
    r: ItemRow,
    units: &HashMap<i64, Vec<(BoardUnit, bool)>>,
    extra: &HashMap<i64, (String, Option<i64>)>,
) -> BoardItem {
    let mine = units.get(&r.id).map(Vec::as_slice).unwrap_or_default();
    let lead = mine
        .iter()
        .find(|(_, lead)| *lead)
        .map(|(u, _)| u.clone())
        .or_else(|| {
            // An item whose lead is only on the item itself still counts for that unit.
            r.lead_unit_id.map(|id| BoardUnit {
                id,
                name: r.lead_unit.clone(),
                sort_order: i64::MAX,
            })
        });
    let co_units = mine
        .iter()
        .filter(|(u, is_lead)| !*is_lead && Some(u.id) != lead.as_ref().map(|l| l.id))
        .map(|(u, _)| u.clone())
        .collect();
    let (milestones, assigned_at) = extra.get(&r.id).cloned().unwrap_or_default();
    let mut milestones: Vec<Date> = milestones
        .split(',')
        .filter_map(|m| m.trim().parse::<Date>().ok())
        .collect();
    milestones.sort();
    milestones.dedup();
    BoardItem {
        id: r.id,
        due: r.due_date.as_deref().and_then(|d| d.parse::<Date>().ok()),
        start: assigned_at.and_then(beijing_date),
        seq: r.seq,
        category: r.category,
        parent_title: r.parent_title,
        title: r.title,
        lead,
        co_units,
        leader: r.leader,
        deadline_text: r.deadline_text,
        cadence: r.cadence,
        state: r.state,
        signal: r.signal,
        milestones,
    }
}

/// Unix milliseconds as the day in Beijing (UTC+8, no daylight saving).
fn beijing_date(ms: i64) -> Option<Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| {
        t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .date()
    })
}

fn split_names(text: &str) -> impl Iterator<Item = &str> {
    text.split(['、', '，', ',', '；', ';', '/', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// Whether the item passes the filter (the year is applied by the query).
fn keeps(filter: &BoardFilter, item: &BoardItem) -> bool {
    let unit_ok = filter.unit_id.is_none_or(|unit| {
        item.lead.as_ref().is_some_and(|l| l.id == unit.get())
            || item.co_units.iter().any(|c| c.id == unit.get())
    });
    let leader_ok = filter
        .leader
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .is_none_or(|wanted| item.leaders().any(|l| l == wanted));
    let category_ok = filter
        .category
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .is_none_or(|c| item.category.trim() == c.trim());
    let signal_ok = filter.signal.is_none_or(|s| item.signal == s);
    unit_ok && leader_ok && category_ok && signal_ok
}

/// The units, leaders and categories the items name, each once, in a stable order.
fn options(items: &[BoardItem]) -> (Vec<BoardUnit>, Vec<String>, Vec<String>) {
    let mut units: BTreeMap<(i64, i64), BoardUnit> = BTreeMap::new();
    let mut leaders: Vec<String> = Vec::new();
    let mut categories: Vec<String> = Vec::new();
    for item in items {
        for unit in item.lead.iter().chain(&item.co_units) {
            units
                .entry((unit.sort_order, unit.id))
                .or_insert_with(|| unit.clone());
        }
        for leader in item.leaders() {
            if !leaders.iter().any(|l| l == leader) {
                leaders.push(leader.to_owned());
            }
        }
        let category = item.category.trim();
        if !category.is_empty() && !categories.iter().any(|c| c == category) {
            categories.push(category.to_owned());
        }
    }
    (units.into_values().collect(), leaders, categories)
}

/// Counts the items into the unit × status matrix: each item once, in its lead unit's row, by
/// state and by signal; each co-unit's row counts the items it co-owns. The units that lead
/// something come first, in the organisation's order, then the items without a lead unit, then
/// the units that only co-own (their rows have nothing but the 配合 count).
pub fn matrix(items: &[BoardItem]) -> Matrix {
    let mut states: Vec<ItemState> = MATRIX_STATES.to_vec();
    for extra in [ItemState::Registered, ItemState::Draft] {
        if items.iter().any(|i| i.state == extra) {
            states.push(extra);
        }
    }
    states.sort_by_key(|s| ItemState::ALL.iter().position(|x| x == s));
    let signals = MATRIX_SIGNALS.to_vec();
    let empty = |unit: Option<BoardUnit>| MatrixRow {
        unit,
        lead: 0,
        states: vec![0; states.len()],
        signals: vec![0; signals.len()],
        co: 0,
    };
    // Keyed by the organisation's order; `None` (no lead unit) sorts after every unit.
    let mut rows: BTreeMap<(bool, i64, i64), MatrixRow> = BTreeMap::new();
    let key = |unit: Option<&BoardUnit>| match unit {
        Some(u) => (false, u.sort_order, u.id),
        None => (true, 0, 0),
    };
    let mut totals = empty(None);
    for item in items {
        let row = rows
            .entry(key(item.lead.as_ref()))
            .or_insert_with(|| empty(item.lead.clone()));
        row.lead += 1;
        totals.lead += 1;
        if let Some(i) = states.iter().position(|s| *s == item.state) {
            row.states[i] += 1;
            totals.states[i] += 1;
        }
        if let Some(i) = signals.iter().position(|s| *s == item.signal) {
            row.signals[i] += 1;
            totals.signals[i] += 1;
        }
        for co in &item.co_units {
            rows.entry(key(Some(co)))
                .or_insert_with(|| empty(Some(co.clone())))
                .co += 1;
            totals.co += 1;
        }
    }
    let (mut rows, co_only): (Vec<MatrixRow>, Vec<MatrixRow>) =
        rows.into_values().partition(|r| r.lead > 0);
    rows.extend(co_only);
    Matrix {
        states,
        signals,
        rows,
        totals,
        items: items.len(),
    }
}
