//! Progress summaries (进展汇总): the progress reports units made in one week or month, grouped
//! by lead unit or by responsible leader, with each group's counts and the items nobody
//! reported on — so the office assembles its weekly or monthly summary from what units already
//! reported instead of asking them to type it again (减负).
//!
//! Visibility is the ledger's: viewers who see the whole ledger get every unit; a unit's liaison
//! or head gets only the items their unit leads or co-owns, with their own unit's reports, all
//! in their unit's group; anyone else is refused.

use crate::Store;
use crate::error::{Error, Result};
use crate::supervision::ProgressReport;
use jiff::civil::Date;
use jiff::tz::{TimeZone, offset};
use sqlx::Row;
use std::collections::HashMap;
use zhongshu_domain::access::{Capability, Forbidden, Viewer};
use zhongshu_domain::supervision::ItemState;

/// How long a summary's period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum PeriodKind {
    /// Monday to Sunday, in Beijing.
    Week,
    /// A calendar month, in Beijing.
    Month,
}

impl PeriodKind {
    pub fn code(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }

    pub fn from_code(code: &str) -> Option<PeriodKind> {
        match code.trim() {
            "week" => Some(PeriodKind::Week),
            "month" => Some(PeriodKind::Month),
            _ => None,
        }
    }

    /// 周报 / 月报 as a page names it.
    pub fn label(self) -> &'static str {
        match self {
            PeriodKind::Week => "按周",
            PeriodKind::Month => "按月",
        }
    }
}

/// A week (starting on its Monday) or a calendar month (starting on its first day).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    /// The first day: a Monday for a week, the 1st for a month.
    pub start: Date,
}

impl Period {
    /// The week or month that contains `day`.
    pub fn containing(kind: PeriodKind, day: Date) -> Period {
        let start = match kind {
            PeriodKind::Week => {
                let back = i64::from(day.weekday().to_monday_zero_offset());
                day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
            }
            PeriodKind::Month => day.first_of_month(),
        };
        Period { kind, start }
    }

    /// The first day after the period.
    pub fn end(&self) -> Date {
        let span = match self.kind {
            PeriodKind::Week => jiff::Span::new().weeks(1),
            PeriodKind::Month => jiff::Span::new().months(1),
        };
        self.start.checked_add(span).unwrap_or(Date::MAX)
    }

    /// The period's last day.
    pub fn last_day(&self) -> Date {
        self.end().yesterday().unwrap_or(self.start)
    }

    /// The period before this one.
    pub fn previous(&self) -> Period {
        let day = self.start.yesterday().unwrap_or(self.start);
        Period::containing(self.kind, day)
    }

    /// The period after this one.
    pub fn next(&self) -> Period {
        Period::containing(self.kind, self.end())
    }

    /// Whether `day` falls in the period.
    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && day < self.end()
    }

    /// The period in unix milliseconds, `[from, to)`: midnight to midnight in Beijing.
    pub fn millis(&self) -> (i64, i64) {
        (
            beijing_midnight_ms(self.start),
            beijing_midnight_ms(self.end()),
        )
    }

    /// “2026年11月” or “2026年第47周”.
    pub fn name(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{}年{}月", self.start.year(), self.start.month()),
            PeriodKind::Week => {
                let iso = self.start.iso_week_date();
                format!("{}年第{}周", iso.year(), iso.week())
            }
        }
    }

    /// The days it runs, “2026年11月16日—11月22日” (the year repeated only when it changes).
    pub fn range(&self) -> String {
        let (a, b) = (self.start, self.last_day());
        if a.year() == b.year() {
            format!(
                "{}年{}月{}日—{}月{}日",
                a.year(),
                a.month(),
                a.day(),
                b.month(),
                b.day()
            )
        } else {
            format!(
                "{}年{}月{}日—{}年{}月{}日",
                a.year(),
                a.month(),
                a.day(),
                b.year(),
                b.month(),
                b.day()
            )
        }
    }
}

/// How the summary groups its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum GroupBy {
    /// By lead unit (牵头单位).
    Unit,
    /// By responsible leader (责任领导), as the ledger writes it.
    Leader,
}

impl GroupBy {
    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Unit => "unit",
            GroupBy::Leader => "leader",
        }
    }

    pub fn from_code(code: &str) -> Option<GroupBy> {
        match code.trim() {
            "unit" => Some(GroupBy::Unit),
            "leader" => Some(GroupBy::Leader),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Unit => "按单位",
            GroupBy::Leader => "按责任领导",
        }
    }
}

/// The group name of items without a lead unit.
pub const NO_UNIT: &str = "未指定牵头单位";
/// The group name of items without a responsible leader.
pub const NO_LEADER: &str = "未明确责任领导";

/// An item as the summary shows it, with the reports made on it in the period (oldest first).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SummaryItem {
    pub id: i64,
    pub ledger_year: i64,
    pub seq: String,
    pub parent_title: String,
    pub title: String,
    pub lead_unit: String,
    pub leader: String,
    pub deadline_text: String,
    pub due_date: Option<String>,
    pub state: ItemState,
    /// Past its due date and not closed by the period's end (or today, if sooner).
    pub overdue: bool,
    pub reports: Vec<ProgressReport>,
}

impl SummaryItem {
    pub fn reported(&self) -> bool {
        !self.reports.is_empty()
    }
}

/// One group: a unit or a leader, its items in ledger order and its counts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SummaryGroup {
    /// The unit's name or the leader text.
    pub name: String,
    pub items: Vec<SummaryItem>,
    /// Items with at least one report in the period.
    pub reported: usize,
    /// Items with none: the group's 未报送 list.
    pub not_reported: usize,
    pub overdue: usize,
}

impl SummaryGroup {
    /// The items reported on in the period.
    pub fn reported_items(&self) -> impl Iterator<Item = &SummaryItem> {
        self.items.iter().filter(|i| i.reported())
    }

    /// The items nobody reported on in the period.
    pub fn silent_items(&self) -> impl Iterator<Item = &SummaryItem> {
        self.items.iter().filter(|i| !i.reported())
    }
}

/// A summary of one period.
#[derive(Clone, Debug)]
pub struct Summary {
    pub period: Period,
    pub group_by: GroupBy,
    pub groups: Vec<SummaryGroup>,
    /// Items counted (each once).
    pub items: usize,
    pub reported: usize,
    pub not_reported: usize,
    pub overdue: usize,
    /// Reports made in the period.
    pub reports: usize,
}

/// Who the summary covers.
enum Scope {
    All,
    Unit(i64),
}

/// The states in which an item is still owed progress.
const OPEN: [ItemState; 4] = [
    ItemState::Registered,
    ItemState::Assigned,
    ItemState::InProgress,
    ItemState::ClosureRequested,
];

fn beijing() -> TimeZone {
    TimeZone::fixed(offset(8))
}

/// Midnight at the start of `day` in Beijing (UTC+8, no daylight saving), in unix ms.
fn beijing_midnight_ms(day: Date) -> i64 {
    day.to_zoned(beijing())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or_default()
}

/// How groups sort: (no unit or no leader last, the unit's order or the leader's first
/// appearance, the unit's id).
type GroupKey = (bool, i64, i64);

struct ItemLine {
    item: SummaryItem,
    unit_key: GroupKey,
    assigned_at: Option<i64>,
    closed_at: Option<i64>,
}

impl Store {
    /// The summary of `period`: the items the viewer may see (of ledger `year`, or every year),
    /// grouped by `group_by`, each with the reports made in the period, and per group how many
    /// items there are, how many were reported on, which were not, and how many are overdue.
    ///
    /// An item is counted when it was reported on in the period, or when it was assigned before
    /// the period ended and still open during it (not cancelled, not closed before it began).
    /// Overdue is judged on the period's last day, or `today` if that is sooner.
    pub async fn summary(
        &self,
        viewer: &Viewer,
        period: Period,
        group_by: GroupBy,
        year: Option<i64>,
        today: Date,
    ) -> Result<Summary> {
        let scope = if viewer.can(Capability::SeeAllItems) {
            Scope::All
        } else if viewer.can(Capability::ActForUnit)
            && let Some(unit) = viewer.unit_id
        {
            Scope::Unit(unit.get())
        } else {
            return Err(Error::Forbidden(Forbidden {
                capability: Capability::SeeAllItems,
            }));
        };
        let (from, to) = period.millis();
        let own_unit = match scope {
            Scope::All => None,
            Scope::Unit(u) => Some(self.unit_name_and_order(u).await?),
        };

        // The items in scope, in ledger order.
        let mut sql = String::from(
            "SELECT i.id, i.ledger_year, i.seq, COALESCE(p.title, '') AS parent_title, i.title, \
             i.lead_unit_id, COALESCE(u.name, '') AS lead_unit, COALESCE(u.sort_order, 0) AS \
             unit_order, i.leader_text, i.deadline_text, i.due_date, i.state, i.assigned_at, \
             i.closed_at FROM items i LEFT JOIN items p ON p.id = i.parent_id \
             LEFT JOIN units u ON u.id = i.lead_unit_id WHERE i.is_group = 0",
        );
        let mut binds: Vec<i64> = Vec::new();
        if let Scope::Unit(unit) = scope {
            binds.push(unit);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM item_units v WHERE v.item_id = i.id AND v.unit_id = ${})",
                binds.len()
            ));
        }
        if let Some(year) = year {
            binds.push(year);
            sql.push_str(&format!(" AND i.ledger_year = ${}", binds.len()));
        }
        sql.push_str(" ORDER BY i.ledger_year, i.id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let as_of = period.last_day().min(today);
        let as_of_end = beijing_midnight_ms(as_of.tomorrow().unwrap_or(as_of));
        let mut lines: Vec<ItemLine> = Vec::with_capacity(rows.len());
        let mut index: HashMap<i64, usize> = HashMap::new();
        for r in &rows {
            let state: String = r.try_get("state")?;
            let state = ItemState::from_code(&state).unwrap_or(ItemState::Registered);
            let due_date: Option<String> = r.try_get("due_date")?;
            let closed_at: Option<i64> = r.try_get("closed_at")?;
            let due = due_date.as_deref().and_then(|d| d.parse::<Date>().ok());
            let still_open_then = OPEN.contains(&state)
                || (state == ItemState::Closed && closed_at.is_some_and(|c| c >= as_of_end));
            let lead_unit_id: Option<i64> = r.try_get("lead_unit_id")?;
            let unit_order: i64 = r.try_get("unit_order")?;
            let id: i64 = r.try_get("id")?;
            index.insert(id, lines.len());
            lines.push(ItemLine {
                unit_key: match lead_unit_id {
                    Some(u) => (false, unit_order, u),
                    None => (true, 0, 0),
                },
                assigned_at: r.try_get("assigned_at")?,
                closed_at,
                item: SummaryItem {
                    id,
                    ledger_year: r.try_get("ledger_year")?,
                    seq: r.try_get("seq")?,
                    parent_title: r.try_get("parent_title")?,
                    title: r.try_get("title")?,
                    lead_unit: r.try_get("lead_unit")?,
                    leader: r.try_get::<String, _>("leader_text")?.trim().to_owned(),
                    deadline_text: r.try_get("deadline_text")?,
                    overdue: still_open_then && due.is_some_and(|d| d < as_of),
                    due_date,
                    state,
                    reports: Vec::new(),
                },
            });
        }

        // The reports made in the period (a unit's viewer: their own unit's only).
        let mut sql = String::from(
            "SELECT r.id, r.item_id, un.name AS unit_name, r.author_name, r.reported_at, r.done, \
             r.problems, r.coordination, r.next_steps, r.percent FROM progress_reports r \
             JOIN units un ON un.id = r.unit_id WHERE r.reported_at >= $1 AND r.reported_at < $2",
        );
        if let Scope::Unit(_) = scope {
            sql.push_str(" AND r.unit_id = $3");
        }
        sql.push_str(" ORDER BY r.reported_at, r.id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        if let Scope::Unit(unit) = scope {
            q = q.bind(unit);
        }
        let mut reports = 0usize;
        for r in q.fetch_all(self.pool()).await? {
            let item: i64 = r.try_get("item_id")?;
            let Some(line) = index.get(&item).and_then(|i| lines.get_mut(*i)) else {
                continue;
            };
            reports += 1;
            line.item.reports.push(ProgressReport {
                id: r.try_get("id")?,
                unit_name: r.try_get("unit_name")?,
                author_name: r.try_get("author_name")?,
                reported_at: r.try_get("reported_at")?,
                done: r.try_get("done")?,
                problems: r.try_get("problems")?,
                coordination: r.try_get("coordination")?,
                next_steps: r.try_get("next_steps")?,
                percent: r.try_get("percent")?,
            });
        }

        // Which items the period counts.
        lines.retain(|l| {
            if l.item.reported() {
                return true;
            }
            let assigned_in_time = l.assigned_at.is_some_and(|a| a < to);
            let live = match l.item.state {
                ItemState::Draft | ItemState::Registered | ItemState::Cancelled => false,
                ItemState::Closed => l.closed_at.is_none_or(|c| c >= from),
                _ => true,
            };
            assigned_in_time && live
        });

        // Group.
        let mut keyed: Vec<(GroupKey, String, Vec<SummaryItem>)> = Vec::new();
        for line in lines {
            let (key, name) = match (group_by, &own_unit) {
                (GroupBy::Unit, Some((name, order, id))) => ((false, *order, *id), name.clone()),
                (GroupBy::Unit, None) => (
                    line.unit_key,
                    if line.item.lead_unit.is_empty() {
                        NO_UNIT.to_owned()
                    } else {
                        line.item.lead_unit.clone()
                    },
                ),
                (GroupBy::Leader, _) => {
                    let name = if line.item.leader.is_empty() {
                        NO_LEADER.to_owned()
                    } else {
                        line.item.leader.clone()
                    };
                    // Leaders in the order the ledger first names them; none last.
                    let empty = line.item.leader.is_empty();
                    let at = keyed
                        .iter()
                        .position(|(_, n, _)| *n == name)
                        .unwrap_or(keyed.len());
                    ((empty, i64::try_from(at).unwrap_or(i64::MAX), 0), name)
                }
            };
            match keyed.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, items)) => items.push(line.item),
                None => keyed.push((key, name, vec![line.item])),
            }
        }
        keyed.sort_by_key(|g| g.0);
        let groups: Vec<SummaryGroup> = keyed
            .into_iter()
            .map(|(_, name, items)| {
                let reported = items.iter().filter(|i| i.reported()).count();
                SummaryGroup {
                    name,
                    reported,
                    not_reported: items.len() - reported,
                    overdue: items.iter().filter(|i| i.overdue).count(),
                    items,
                }
            })
            .collect();
        let items: usize = groups.iter().map(|g| g.items.len()).sum();
        let reported: usize = groups.iter().map(|g| g.reported).sum();
        Ok(Summary {
            period,
            group_by,
            items,
            reported,
            not_reported: items - reported,
            overdue: groups.iter().map(|g| g.overdue).sum(),
            reports,
            groups,
        })
    }

    async fn unit_name_and_order(&self, unit: i64) -> Result<(String, i64, i64)> {
        let row = sqlx::query("SELECT name, sort_order FROM units WHERE id = $1")
            .bind(unit)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("单位"))?;
        Ok((row.try_get("name")?, row.try_get("sort_order")?, unit))
    }
}
