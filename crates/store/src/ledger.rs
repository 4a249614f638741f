//! The ledger's year (台账): 年初建账，平时管账，年中查账，年底结账.
//!
//! A year is opened (建账) explicitly or by its first import. 查账 counts completion on a day, by
//! lead unit and by category, and keeps the figures as they were counted: the snapshot tables
//! have no update or delete path here, and triggers refuse one through SQL. 结账 freezes the
//! year-end figures the same way, then carries every unfinished item over (结转) into the next
//! year's ledger, with its units and a link back, or concludes it with a reason; a closed year
//! accepts no new items (a trigger refuses the insert).
//!
//! Only the supervision office (a [`Supervisor`] proof) opens, counts and closes; whoever sees
//! the whole ledger (the office and leaders) reads.

use crate::error::{Error, Result};
use crate::{Store, db::now_ms};
use jiff::civil::Date;
use serde_json::json;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use zhongshu_domain::access::{Capability, Forbidden, Supervisor, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{Action, ItemState, Standing, transition};

/// States of an item that is still being worked on (or was never started): what 结账 must
/// carry over or conclude.
const UNFINISHED: &str = "('draft', 'registered', 'assigned', 'in_progress', 'closure_requested')";

/// What a 查账 snapshot records: taken by hand during the year, or at 结账.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    Audit,
    Close,
}

impl SnapshotKind {
    pub fn code(self) -> &'static str {
        match self {
            SnapshotKind::Audit => "audit",
            SnapshotKind::Close => "close",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SnapshotKind::Audit => "查账",
            SnapshotKind::Close => "结账",
        }
    }

    fn from_code(code: &str) -> SnapshotKind {
        if code == "close" {
            SnapshotKind::Close
        } else {
            SnapshotKind::Audit
        }
    }
}

/// How 结账 dealt with the year's unfinished items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseMode {
    CarryOver,
    Conclude,
}

impl CloseMode {
    pub fn code(self) -> &'static str {
        match self {
            CloseMode::CarryOver => "carry_over",
            CloseMode::Conclude => "conclude",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CloseMode::CarryOver => "未完成事项结转下一年度",
            CloseMode::Conclude => "未完成事项予以终结",
        }
    }

    pub fn from_code(code: &str) -> Option<CloseMode> {
        [CloseMode::CarryOver, CloseMode::Conclude]
            .into_iter()
            .find(|m| m.code() == code.trim())
    }
}

/// The supervisor's choice for every unfinished item of a year being closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseChoice {
    /// 结转: copy each into the next year's ledger, assigned again to the same units. A new
    /// due date, when given, replaces the due date of the items that had one.
    CarryOver { new_due: Option<Date> },
    /// Conclude each (marked 已撤销) with this reason.
    Conclude { reason: String },
}

/// Completion figures of some items on a day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Items counted (cancelled items are not).
    pub items: i64,
    /// 已办结.
    pub closed: i64,
    /// Closed no later than their due date (or with none).
    pub on_time: i64,
    /// Not closed, and past their due date on the day counted.
    pub overdue: i64,
    /// Not closed and not overdue.
    pub in_progress: i64,
}

impl Figures {
    /// Closed items as a share of all, "62.5%"; "—" when there are none.
    pub fn completion_rate(&self) -> String {
        percent(self.closed, self.items)
    }

    /// Items closed on time as a share of all.
    pub fn on_time_rate(&self) -> String {
        percent(self.on_time, self.items)
    }

    fn add(&mut self, item: &CountedItem, as_of: Date) {
        self.items += 1;
        if item.state == ItemState::Closed {
            self.closed += 1;
            let closed_on = item.closed_at.and_then(beijing_date);
            let on_time = match (item.due, closed_on) {
                (None, _) => true,
                (Some(due), Some(day)) => day <= due,
                (Some(_), None) => false,
            };
            if on_time {
                self.on_time += 1;
            }
        } else if item.due.is_some_and(|due| due < as_of) {
            self.overdue += 1;
        } else {
            self.in_progress += 1;
        }
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".to_owned();
    }
    // One decimal, rounded half up, without floating point.
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

fn beijing_date(ms: i64) -> Option<Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| {
        t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .date()
    })
}

/// A snapshot as the year's list shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SnapshotHeader {
    pub id: i64,
    pub ledger_year: i64,
    pub kind: SnapshotKind,
    pub label: String,
    /// The day the figures were counted for.
    pub as_of: String,
    pub taken_at: i64,
    pub taken_by: String,
}

/// One line of a snapshot: a lead unit or a category.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SnapshotLine {
    pub label: String,
    pub unit_id: Option<i64>,
    pub figures: Figures,
}

/// A snapshot with its figures, exactly as counted.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Snapshot {
    pub header: SnapshotHeader,
    pub total: Figures,
    pub by_unit: Vec<SnapshotLine>,
    pub by_category: Vec<SnapshotLine>,
}

/// A ledger year with its current figures and its snapshots.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LedgerYear {
    pub year: i64,
    pub closed: bool,
    pub opened_at: i64,
    /// Who opened the year, by display name (the console as 命令行).
    pub opened_by: String,
    pub closed_at: Option<i64>,
    /// Who closed it, by display name.
    pub closed_by: Option<String>,
    pub close_mode: Option<CloseMode>,
    pub close_note: String,
    /// Items of the year (not the 重点任务 groups, not cancelled ones).
    pub items: i64,
    pub done: i64,
    pub open: i64,
    /// Open and past their due date today.
    pub overdue: i64,
    /// Cancelled or concluded (those carried over are counted in `carried_out` instead).
    pub cancelled: i64,
    /// Items that came from the previous year (结转).
    pub carried_in: i64,
    /// Items carried over into the next year.
    pub carried_out: i64,
    /// The figures frozen at 结账 (a closed year's items have all left the open states, so
    /// these are the year's result).
    pub year_end: Option<Figures>,
    /// Newest first.
    pub snapshots: Vec<SnapshotHeader>,
}

/// An item 结账 would carry over or conclude.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnfinishedItem {
    pub id: i64,
    pub title: String,
    pub parent_title: String,
    pub lead_unit: String,
    pub state: ItemState,
    pub due_date: Option<String>,
}

/// What 结账 did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseSummary {
    pub carried: usize,
    pub concluded: usize,
    /// The year the items were carried into (when carrying over).
    pub next_year: Option<i64>,
    /// The year-end snapshot taken before any item was touched.
    pub snapshot_id: i64,
}

/// An item as a snapshot counts it.
struct CountedItem {
    id: i64,
    unit_id: Option<i64>,
    unit_name: String,
    category: String,
    state: ItemState,
    due: Option<Date>,
    closed_at: Option<i64>,
}

fn forbidden() -> Error {
    Error::Forbidden(Forbidden {
        capability: Capability::SeeAllItems,
    })
}

fn check_year(year: i64) -> Result<()> {
    if (2000..=2100).contains(&year) {
        Ok(())
    } else {
        Err(Error::invalid("year", format!("年度“{year}”不正确")))
    }
}

/// A date as offices write a deadline, "2027年3月31日前".
pub(crate) fn deadline_text(date: Date) -> String {
    format!("{}年{}月{}日前", date.year(), date.month(), date.day())
}

/// Appends a step to an item's history.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn item_history(
    conn: &mut sqlx::AnyConnection,
    item: i64,
    action: &str,
    actor: &str,
    unit: Option<i64>,
    from: Option<ItemState>,
    to: Option<ItemState>,
    note: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO item_history (item_id, action, actor_name, unit_id, from_state, to_state, \
         note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(item)
    .bind(action)
    .bind(actor)
    .bind(unit)
    .bind(from.map(|s| s.code()))
    .bind(to.map(|s| s.code()))
    .bind(note)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The ledger's status, `None` when the year was never opened.
pub(crate) async fn ledger_status(
    conn: &mut sqlx::AnyConnection,
    year: i64,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT status FROM ledgers WHERE year = $1")
        .bind(year)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("status")?),
        None => None,
    })
}

/// Counts the year's items for `as_of` and writes the snapshot; returns its id.
async fn write_snapshot(
    conn: &mut sqlx::AnyConnection,
    year: i64,
    kind: SnapshotKind,
    label: &str,
    as_of: Date,
    taken_by: &str,
    now: i64,
) -> Result<(i64, Figures)> {
    let rows = sqlx::query(
        "SELECT i.id, i.lead_unit_id, COALESCE(u.name, '') AS unit_name, i.category, i.state, \
         i.due_date, i.closed_at FROM items i LEFT JOIN units u ON u.id = i.lead_unit_id \
         WHERE i.ledger_year = $1 AND i.is_group = 0 AND i.state <> 'cancelled' \
         ORDER BY COALESCE(u.sort_order, 0), COALESCE(i.lead_unit_id, 0), i.id",
    )
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let state: String = r.try_get("state")?;
        let due: Option<String> = r.try_get("due_date")?;
        items.push(CountedItem {
            id: r.try_get("id")?,
            unit_id: r.try_get("lead_unit_id")?,
            unit_name: r.try_get("unit_name")?,
            category: r.try_get("category")?,
            state: ItemState::from_code(&state).unwrap_or(ItemState::Registered),
            due: due.and_then(|d| d.parse().ok()),
            closed_at: r.try_get("closed_at")?,
        });
    }
    let (total, by_unit, by_category) = count(&items, as_of);
    let id: i64 = sqlx::query(
        "INSERT INTO ledger_snapshots (ledger_year, kind, label, as_of, taken_at, taken_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(year)
    .bind(kind.code())
    .bind(label)
    .bind(as_of.to_string())
    .bind(now)
    .bind(taken_by)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let total_line = SnapshotLine {
        label: "合计".to_owned(),
        unit_id: None,
        figures: total,
    };
    let lines = std::iter::once(("total", &total_line))
        .chain(by_unit.iter().map(|l| ("unit", l)))
        .chain(by_category.iter().map(|l| ("category", l)));
    let mut ordinal = 0i64;
    for (dimension, line) in lines {
        ordinal += 1;
        sqlx::query(
            "INSERT INTO ledger_snapshot_lines (snapshot_id, dimension, ordinal, label, unit_id, \
             item_count, closed_count, on_time_count, overdue_count, in_progress_count) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(dimension)
        .bind(ordinal)
        .bind(&line.label)
        .bind(line.unit_id)
        .bind(line.figures.items)
        .bind(line.figures.closed)
        .bind(line.figures.on_time)
        .bind(line.figures.overdue)
        .bind(line.figures.in_progress)
        .execute(&mut *conn)
        .await?;
    }
    Ok((id, total))
}

/// The figures in total, by lead unit (in order of first appearance in `items`) and by
/// category (in ledger order: by the category's first item).
fn count(items: &[CountedItem], as_of: Date) -> (Figures, Vec<SnapshotLine>, Vec<SnapshotLine>) {
    let mut total = Figures::default();
    let mut by_unit: Vec<SnapshotLine> = Vec::new();
    let mut unit_index: HashMap<Option<i64>, usize> = HashMap::new();
    let mut by_category: Vec<SnapshotLine> = Vec::new();
    let mut category_index: HashMap<String, usize> = HashMap::new();
    let mut category_first: Vec<i64> = Vec::new();
    for item in items {
        total.add(item, as_of);
        let u = *unit_index.entry(item.unit_id).or_insert_with(|| {
            by_unit.push(SnapshotLine {
                label: if item.unit_name.is_empty() {
                    "未指定牵头单位".to_owned()
                } else {
                    item.unit_name.clone()
                },
                unit_id: item.unit_id,
                figures: Figures::default(),
            });
            by_unit.len() - 1
        });
        if let Some(line) = by_unit.get_mut(u) {
            line.figures.add(item, as_of);
        }
        let category = if item.category.trim().is_empty() {
            "未分类".to_owned()
        } else {
            item.category.trim().to_owned()
        };
        let c = *category_index.entry(category.clone()).or_insert_with(|| {
            by_category.push(SnapshotLine {
                label: category,
                unit_id: None,
                figures: Figures::default(),
            });
            category_first.push(item.id);
            by_category.len() - 1
        });
        if let Some(line) = by_category.get_mut(c) {
            line.figures.add(item, as_of);
        }
        if let Some(first) = category_first.get_mut(c) {
            *first = (*first).min(item.id);
        }
    }
    let mut order: Vec<(i64, SnapshotLine)> = category_first.into_iter().zip(by_category).collect();
    order.sort_by_key(|(first, _)| *first);
    let by_category = order.into_iter().map(|(_, line)| line).collect();
    (total, by_unit, by_category)
}

/// A recorded username as pages show it: the console's actions as 命令行.
fn shown_name(name: String) -> String {
    if name == "console" {
        "命令行".to_owned()
    } else {
        name
    }
}

impl LedgerYear {
    /// Closed items as a share of the year's items.
    pub fn completion_rate(&self) -> String {
        percent(self.done, self.items)
    }
}

fn header_from_row(r: &sqlx::any::AnyRow) -> Result<SnapshotHeader> {
    let kind: String = r.try_get("kind")?;
    Ok(SnapshotHeader {
        id: r.try_get("id")?,
        ledger_year: r.try_get("ledger_year")?,
        kind: SnapshotKind::from_code(&kind),
        label: r.try_get("label")?,
        as_of: r.try_get("as_of")?,
        taken_at: r.try_get("taken_at")?,
        taken_by: r.try_get("taken_by")?,
    })
}

impl Store {
    /// Every ledger year, newest first, with its figures for `today` and its snapshots.
    pub async fn ledger_overview(&self, viewer: &Viewer, today: Date) -> Result<Vec<LedgerYear>> {
        if !viewer.can(Capability::SeeAllItems) {
            return Err(forbidden());
        }
        let counts = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT ledger_year, \
             SUM(CASE WHEN state <> 'cancelled' THEN 1 ELSE 0 END) AS items, \
             SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END) AS done, \
             SUM(CASE WHEN state IN {UNFINISHED} THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN state IN {UNFINISHED} AND due_date < $1 THEN 1 ELSE 0 END) AS overdue, \
             SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END) AS cancelled, \
             SUM(CASE WHEN carried_from IS NOT NULL THEN 1 ELSE 0 END) AS carried_in \
             FROM items WHERE is_group = 0 GROUP BY ledger_year"
        )))
        .bind(today.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut figures: HashMap<i64, [i64; 6]> = HashMap::new();
        for r in &counts {
            let get =
                |name: &str| -> Result<i64> { Ok(r.try_get::<Option<i64>, _>(name)?.unwrap_or(0)) };
            figures.insert(
                r.try_get("ledger_year")?,
                [
                    get("items")?,
                    get("done")?,
                    get("open")?,
                    get("overdue")?,
                    get("cancelled")?,
                    get("carried_in")?,
                ],
            );
        }
        let carried_out: HashMap<i64, i64> = sqlx::query(
            "SELECT o.ledger_year, COUNT(*) AS n FROM items n JOIN items o ON o.id = n.carried_from \
             WHERE n.is_group = 0 GROUP BY o.ledger_year",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("ledger_year")?, r.try_get("n")?)))
        .collect::<Result<_>>()?;
        let year_end: HashMap<i64, Figures> = sqlx::query(
            "SELECT s.ledger_year, l.item_count, l.closed_count, l.on_time_count, \
             l.overdue_count, l.in_progress_count FROM ledger_snapshot_lines l \
             JOIN ledger_snapshots s ON s.id = l.snapshot_id \
             WHERE s.kind = 'close' AND l.dimension = 'total'",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("ledger_year")?,
                Figures {
                    items: r.try_get("item_count")?,
                    closed: r.try_get("closed_count")?,
                    on_time: r.try_get("on_time_count")?,
                    overdue: r.try_get("overdue_count")?,
                    in_progress: r.try_get("in_progress_count")?,
                },
            ))
        })
        .collect::<Result<_>>()?;
        let mut snapshots: HashMap<i64, Vec<SnapshotHeader>> = HashMap::new();
        for r in sqlx::query(
            "SELECT id, ledger_year, kind, label, as_of, taken_at, taken_by FROM ledger_snapshots \
             ORDER BY id DESC",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        {
            let header = header_from_row(r)?;
            snapshots
                .entry(header.ledger_year)
                .or_default()
                .push(header);
        }
        let rows = sqlx::query(
            "SELECT l.year, l.status, l.opened_at, COALESCE(o.display_name, l.opened_by) AS opened_name, \
             l.closed_at, COALESCE(c.display_name, l.closed_by) AS closed_name, l.close_mode, \
             l.close_note FROM ledgers l LEFT JOIN users o ON o.username = l.opened_by \
             LEFT JOIN users c ON c.username = l.closed_by ORDER BY l.year DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let year: i64 = r.try_get("year")?;
                let status: String = r.try_get("status")?;
                let mode: Option<String> = r.try_get("close_mode")?;
                let [items, done, open, overdue, cancelled, carried_in] =
                    figures.get(&year).copied().unwrap_or_default();
                let carried_out = carried_out.get(&year).copied().unwrap_or(0);
                let opened: String = r.try_get("opened_name")?;
                let closed: Option<String> = r.try_get("closed_name")?;
                Ok(LedgerYear {
                    year,
                    closed: status == "closed",
                    opened_at: r.try_get("opened_at")?,
                    opened_by: shown_name(opened),
                    closed_at: r.try_get("closed_at")?,
                    closed_by: closed.map(shown_name),
                    close_mode: mode.as_deref().and_then(CloseMode::from_code),
                    close_note: r.try_get("close_note")?,
                    items,
                    done,
                    open,
                    overdue,
                    cancelled: (cancelled - carried_out).max(0),
                    carried_in,
                    carried_out,
                    year_end: year_end.get(&year).copied(),
                    snapshots: snapshots.remove(&year).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// 建账: opens a year's ledger. Refused when it is open (or closed) already.
    pub async fn open_ledger(&self, sup: Supervisor<'_>, year: i64) -> Result<()> {
        check_year(year)?;
        let mut w = self.write().await?;
        match ledger_status(&mut w.tx, year).await?.as_deref() {
            Some("closed") => {
                return Err(Error::invalid("year", format!("{year}年台账已结账")));
            }
            Some(_) => return Err(Error::invalid("year", format!("{year}年台账已建账"))),
            None => {}
        }
        let now = now_ms();
        sqlx::query("INSERT INTO ledgers (year, opened_at, opened_by) VALUES ($1, $2, $3)")
            .bind(year)
            .bind(now)
            .bind(&sup.viewer().username)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            sup.viewer(),
            AuditCode::LedgerOpened,
            &format!("ledger:{year}"),
            None,
            Some(json!({ "year": year })),
        )
        .await?;
        w.commit().await
    }

    /// 查账: counts the open year's items for `as_of` and keeps the figures; returns the
    /// snapshot's id. An empty label becomes “年中查账”.
    pub async fn take_snapshot(
        &self,
        sup: Supervisor<'_>,
        year: i64,
        label: &str,
        as_of: Date,
    ) -> Result<i64> {
        check_year(year)?;
        let label = match label.trim() {
            "" => "年中查账".to_owned(),
            l if l.chars().count() > 50 => {
                return Err(Error::invalid("label", "名称不能超过50个字"));
            }
            l => l.to_owned(),
        };
        let mut w = self.write().await?;
        match ledger_status(&mut w.tx, year).await?.as_deref() {
            None => return Err(Error::NotFound("台账年度")),
            Some("closed") => {
                return Err(Error::invalid(
                    "year",
                    format!("{year}年台账已结账，结账时的数字已冻结，不能再查账"),
                ));
            }
            Some(_) => {}
        }
        let now = now_ms();
        let (id, total) = write_snapshot(
            &mut w.tx,
            year,
            SnapshotKind::Audit,
            &label,
            as_of,
            &sup.viewer().display_or_username(),
            now,
        )
        .await?;
        w.audit(
            sup.viewer(),
            AuditCode::LedgerSnapshotTaken,
            &format!("ledger:{year}"),
            None,
            Some(json!({
                "snapshot_id": id, "label": label, "as_of": as_of.to_string(),
                "items": total.items, "closed": total.closed, "on_time": total.on_time,
                "overdue": total.overdue, "in_progress": total.in_progress,
            })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// A snapshot with its figures, exactly as they were counted.
    pub async fn snapshot(&self, viewer: &Viewer, id: i64) -> Result<Snapshot> {
        if !viewer.can(Capability::SeeAllItems) {
            return Err(forbidden());
        }
        let row = sqlx::query(
            "SELECT id, ledger_year, kind, label, as_of, taken_at, taken_by FROM ledger_snapshots \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(Error::NotFound("查账记录"))?;
        let header = header_from_row(&row)?;
        let lines = sqlx::query(
            "SELECT dimension, label, unit_id, item_count, closed_count, on_time_count, \
             overdue_count, in_progress_count FROM ledger_snapshot_lines WHERE snapshot_id = $1 \
             ORDER BY ordinal",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut total = Figures::default();
        let mut by_unit = Vec::new();
        let mut by_category = Vec::new();
        for r in &lines {
            let dimension: String = r.try_get("dimension")?;
            let line = SnapshotLine {
                label: r.try_get("label")?,
                unit_id: r.try_get("unit_id")?,
                figures: Figures {
                    items: r.try_get("item_count")?,
                    closed: r.try_get("closed_count")?,
                    on_time: r.try_get("on_time_count")?,
                    overdue: r.try_get("overdue_count")?,
                    in_progress: r.try_get("in_progress_count")?,
                },
            };
            match dimension.as_str() {
                "total" => total = line.figures,
                "unit" => by_unit.push(line),
                _ => by_category.push(line),
            }
        }
        Ok(Snapshot {
            header,
            total,
            by_unit,
            by_category,
        })
    }

    /// The year's items that 结账 would carry over or conclude, in ledger order.
    pub async fn unfinished_items(
        &self,
        viewer: &Viewer,
        year: i64,
    ) -> Result<Vec<UnfinishedItem>> {
        if !viewer.can(Capability::SeeAllItems) {
            return Err(forbidden());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT i.id, i.title, COALESCE(p.title, '') AS parent_title, \
             COALESCE(u.name, '') AS lead_unit, i.state, i.due_date FROM items i \
             LEFT JOIN items p ON p.id = i.parent_id LEFT JOIN units u ON u.id = i.lead_unit_id \
             WHERE i.ledger_year = $1 AND i.is_group = 0 AND i.state IN {UNFINISHED} \
             ORDER BY i.id"
        )))
        .bind(year)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(UnfinishedItem {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    parent_title: r.try_get("parent_title")?,
                    lead_unit: r.try_get("lead_unit")?,
                    state: ItemState::from_code(&state).unwrap_or(ItemState::Registered),
                    due_date: r.try_get("due_date")?,
                })
            })
            .collect()
    }

    /// 结账: freezes the year-end figures (a snapshot counted for `today`), then carries every
    /// unfinished item over into the next year or concludes it, and closes the year. All in one
    /// transaction with one audit event.
    pub async fn close_ledger(
        &self,
        sup: Supervisor<'_>,
        year: i64,
        choice: &CloseChoice,
        today: Date,
    ) -> Result<CloseSummary> {
        check_year(year)?;
        let next = year + 1;
        let (mode, note) = match choice {
            CloseChoice::CarryOver { new_due } => {
                if let Some(due) = new_due
                    && i64::from(due.year()) != next
                {
                    return Err(Error::invalid(
                        "new_due",
                        format!("结转事项的新完成时限须在{next}年内"),
                    ));
                }
                (CloseMode::CarryOver, format!("由{year}年结转"))
            }
            CloseChoice::Conclude { reason } => {
                if reason.trim().is_empty() {
                    return Err(Error::invalid("reason", "请写明终结未完成事项的理由"));
                }
                if reason.trim().chars().count() > 500 {
                    return Err(Error::invalid("reason", "理由不能超过500个字"));
                }
                (CloseMode::Conclude, reason.trim().to_owned())
            }
        };
        let actor = sup.viewer().display_or_username();
        let mut w = self.write().await?;
        match ledger_status(&mut w.tx, year).await?.as_deref() {
            None => return Err(Error::NotFound("台账年度")),
            Some("closed") => return Err(Error::invalid("year", format!("{year}年台账已结账"))),
            Some(_) => {}
        }
        let mut next_opened = false;
        if mode == CloseMode::CarryOver {
            match ledger_status(&mut w.tx, next).await?.as_deref() {
                Some("closed") => {
                    return Err(Error::invalid(
                        "mode",
                        format!("{next}年台账已结账，不能结转到该年度"),
                    ));
                }
                Some(_) => {}
                None => {
                    sqlx::query(
                        "INSERT INTO ledgers (year, opened_at, opened_by) VALUES ($1, $2, $3)",
                    )
                    .bind(next)
                    .bind(now_ms())
                    .bind(&sup.viewer().username)
                    .execute(&mut *w.tx)
                    .await?;
                    next_opened = true;
                }
            }
        }
        let now = now_ms();
        let (snapshot_id, total) = write_snapshot(
            &mut w.tx,
            year,
            SnapshotKind::Close,
            &format!("{year}年年底结账"),
            today,
            &actor,
            now,
        )
        .await?;
        let unfinished = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, parent_id, state, dedup_key, due_date FROM items \
             WHERE ledger_year = $1 AND is_group = 0 AND state IN {UNFINISHED} ORDER BY id"
        )))
        .bind(year)
        .fetch_all(&mut *w.tx)
        .await?;
        let taken: HashSet<String> = if mode == CloseMode::CarryOver {
            sqlx::query(
                "SELECT dedup_key FROM items WHERE ledger_year = $1 AND dedup_key IS NOT NULL",
            )
            .bind(next)
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String, _>("dedup_key").ok())
            .collect()
        } else {
            HashSet::new()
        };
        let mut groups: HashMap<i64, i64> = HashMap::new();
        let mut carried = 0usize;
        let mut concluded = 0usize;
        for r in &unfinished {
            let id: i64 = r.try_get("id")?;
            let state: String = r.try_get("state")?;
            let current = ItemState::from_code(&state).unwrap_or(ItemState::Registered);
            // 结账 ends the item in this year the way the office's 撤销 does.
            let ended = transition(current, Action::Cancel, Standing::Supervisor)
                .map_err(|refused| Error::Internal(refused.0))?;
            let old_note = match choice {
                CloseChoice::CarryOver { new_due } => {
                    let parent: Option<i64> = r.try_get("parent_id")?;
                    let parent = match parent {
                        None => None,
                        Some(p) => match groups.get(&p) {
                            Some(copy) => Some(*copy),
                            None => {
                                let copy =
                                    copy_item(&mut w.tx, p, next, None, None, "", now).await?;
                                groups.insert(p, copy);
                                Some(copy)
                            }
                        },
                    };
                    let dedup: Option<String> = r.try_get("dedup_key")?;
                    let dedup = dedup.filter(|k| !taken.contains(k));
                    let had_due = r.try_get::<Option<String>, _>("due_date")?.is_some();
                    let due = new_due.filter(|_| had_due);
                    let copy = copy_item(&mut w.tx, id, next, parent, dedup.as_deref(), &note, now)
                        .await?;
                    if let Some(due) = due {
                        sqlx::query(
                            "UPDATE items SET due_date = $1, deadline_text = $2, \
                             deadline_kind = 'date', milestones = '' WHERE id = $3",
                        )
                        .bind(due.to_string())
                        .bind(deadline_text(due))
                        .bind(copy)
                        .execute(&mut *w.tx)
                        .await?;
                    }
                    sqlx::query(
                        "INSERT INTO item_units (item_id, unit_id, role) \
                         SELECT $1, unit_id, role FROM item_units WHERE item_id = $2",
                    )
                    .bind(copy)
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                    w.item_changed(copy);
                    item_history(
                        &mut w.tx,
                        copy,
                        "结转",
                        &actor,
                        None,
                        None,
                        Some(ItemState::Assigned),
                        &format!("由{year}年结转（原事项{id}）"),
                        now,
                    )
                    .await?;
                    carried += 1;
                    format!("结转至{next}年台账（事项{copy}）")
                }
                CloseChoice::Conclude { .. } => {
                    concluded += 1;
                    note.clone()
                }
            };
            sqlx::query(
                "UPDATE items SET state = $1, version = version + 1, updated_at = $2 \
                 WHERE id = $3",
            )
            .bind(ended.code())
            .bind(now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
            w.item_progressed(id);
            item_history(
                &mut w.tx,
                id,
                match mode {
                    CloseMode::CarryOver => "年底结账·结转",
                    CloseMode::Conclude => "年底结账·终结",
                },
                &actor,
                None,
                Some(current),
                Some(ended),
                &old_note,
                now,
            )
            .await?;
        }
        sqlx::query(
            "UPDATE ledgers SET status = 'closed', closed_at = $1, closed_by = $2, \
             close_mode = $3, close_note = $4 WHERE year = $5",
        )
        .bind(now)
        .bind(&sup.viewer().username)
        .bind(mode.code())
        .bind(match mode {
            CloseMode::CarryOver => String::new(),
            CloseMode::Conclude => note.clone(),
        })
        .bind(year)
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            sup.viewer(),
            AuditCode::LedgerClosed,
            &format!("ledger:{year}"),
            Some(json!({ "status": "open" })),
            Some(json!({
                "status": "closed", "mode": mode.code(), "carried": carried,
                "concluded": concluded, "next_year": (mode == CloseMode::CarryOver).then_some(next),
                "next_ledger_opened": next_opened, "snapshot_id": snapshot_id,
                "items": total.items, "closed": total.closed, "reason": match mode {
                    CloseMode::CarryOver => None,
                    CloseMode::Conclude => Some(note.clone()),
                },
            })),
        )
        .await?;
        w.commit().await?;
        Ok(CloseSummary {
            carried,
            concluded,
            next_year: (mode == CloseMode::CarryOver).then_some(next),
            snapshot_id,
        })
    }
}

/// Copies an item (or a 重点任务 group) into `year`'s ledger, assigned again, pointing back at
/// the original; returns the copy's id. Units, history and deadlines are the caller's.
async fn copy_item(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    year: i64,
    parent: Option<i64>,
    dedup: Option<&str>,
    note: &str,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO items (ledger_year, parent_id, is_group, seq, category, title, content, \
         source, source_ref, urgency, lead_unit_id, leader_text, leader_user_id, person_text, \
         deadline_text, deadline_kind, due_date, milestones, cadence, working_days, note, state, \
         assigned_at, dedup_key, carried_from, created_at, updated_at) \
         SELECT $1, $2, is_group, seq, category, title, content, source, source_ref, urgency, \
         lead_unit_id, leader_text, leader_user_id, person_text, deadline_text, deadline_kind, \
         due_date, milestones, cadence, working_days, \
         CASE WHEN $3 = '' THEN note WHEN note = '' THEN $3 ELSE $3 || '；' || note END, \
         'assigned', $4, $5, id, $4, $4 FROM items WHERE id = $6 RETURNING id",
    )
    .bind(year)
    .bind(parent)
    .bind(note)
    .bind(now)
    .bind(dedup)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn item(unit: i64, category: &str, state: ItemState, due: Option<Date>) -> CountedItem {
        CountedItem {
            id: 0,
            unit_id: Some(unit),
            unit_name: format!("单位{unit}"),
            category: category.to_owned(),
            state,
            due,
            closed_at: None,
        }
    }

    #[test]
    fn figures_count_closed_on_time_overdue_and_in_progress() {
        let as_of = date(2026, 7, 1);
        // Closed 2026-06-30 08:00 Beijing = 2026-06-30 00:00 UTC.
        let closed_ms = jiff::civil::date(2026, 6, 30)
            .at(0, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0);
        let mut on_time = item(1, "一", ItemState::Closed, Some(date(2026, 6, 30)));
        on_time.closed_at = Some(closed_ms);
        let mut late = item(1, "一", ItemState::Closed, Some(date(2026, 6, 29)));
        late.closed_at = Some(closed_ms);
        let mut items = vec![
            item(2, "二", ItemState::InProgress, Some(date(2026, 6, 30))),
            on_time,
            late,
            item(2, "", ItemState::Assigned, Some(date(2026, 7, 1))),
            item(2, "二", ItemState::InProgress, None),
        ];
        // Ledger order puts 二 first; the units come as the query ordered them.
        for (i, it) in items.iter_mut().enumerate() {
            it.id = [5, 1, 2, 9, 3][i];
        }
        let (total, by_unit, by_category) = count(&items, as_of);
        assert_eq!(
            total,
            Figures {
                items: 5,
                closed: 2,
                on_time: 1,
                overdue: 1,
                in_progress: 2
            }
        );
        assert_eq!(by_unit.len(), 2);
        assert_eq!(by_unit[0].label, "单位2");
        assert_eq!(by_unit[0].figures.overdue, 1);
        assert_eq!(by_unit[1].figures.on_time, 1);
        let labels: Vec<&str> = by_category.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["一", "二", "未分类"]);
        assert_eq!(total.completion_rate(), "40.0%");
        assert_eq!(total.on_time_rate(), "20.0%");
        assert_eq!(Figures::default().completion_rate(), "—");
        assert_eq!(percent(2, 3), "66.7%");
    }
}
