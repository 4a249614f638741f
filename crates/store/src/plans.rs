//! Monthly and weekly plans (月计划/周计划) of the supervision ledger: for one period, what each
//! lead unit's items owe in it — due dates, milestones, cadence report dates — and the open
//! items already overdue when it starts, grouped by lead unit.
//!
//! Read-only. The items come through [`Store::list_items`] and [`Store::list_open_items`], so
//! visibility and signals are exactly the ledger's: the supervision office and leaders see the
//! whole ledger, a unit's liaison and head only their unit's non-draft items, anyone else
//! nothing. Which dates fall in the period is decided by [`zhongshu_domain::plan::dates_in`].

use crate::Store;
use crate::error::Result;
use crate::supervision::{ItemFilter, ItemRow};
use jiff::civil::Date;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use zhongshu_domain::access::{Capability, Viewer};
use zhongshu_domain::plan::{Due, Period, PlanItem, dates_in};
use zhongshu_domain::supervision::ItemState;

/// Items a plan loads at most (per query); a ledger year of a whole city stays well below.
const PLAN_LIMIT: i64 = 100_000;

/// One line of a plan: an item and what it owes on a day of the period.
#[derive(Clone, Debug)]
pub struct PlanEntry {
    pub date: Date,
    pub due: Due,
    pub item: ItemRow,
}

/// One lead unit's lines, by date.
#[derive(Clone, Debug)]
pub struct PlanGroup {
    /// The lead unit (or, for a unit's own viewer, that unit); "未定牵头单位" when none.
    pub unit: String,
    pub entries: Vec<PlanEntry>,
}

/// The plan of one period.
#[derive(Clone, Debug)]
pub struct Plan {
    pub period: Period,
    pub groups: Vec<PlanGroup>,
}

impl Plan {
    /// All lines, group after group.
    pub fn entries(&self) -> impl Iterator<Item = &PlanEntry> {
        self.groups.iter().flat_map(|g| g.entries.iter())
    }

    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many lines of each kind, in the order of [`Due`].
    pub fn counts(&self) -> Vec<(Due, usize)> {
        let mut counts: BTreeMap<Due, usize> = BTreeMap::new();
        for entry in self.entries() {
            *counts.entry(entry.due).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}

impl Store {
    /// The plan of `period` for the items the viewer may see, with signals for `today`. The
    /// candidates are every open item (of any ledger year: an item carried over still owes
    /// its dates) and every item of the ledger years the period touches (a closed item due in
    /// the period still shows, as 已办结); drafts and cancelled items owe nothing.
    pub async fn supervision_plan(
        &self,
        viewer: &Viewer,
        period: &Period,
        today: Date,
        yellow_days: u32,
    ) -> Result<Plan> {
        let mut items: HashMap<i64, ItemRow> = HashMap::new();
        for row in self
            .list_open_items(viewer, today, yellow_days, PLAN_LIMIT)
            .await?
        {
            items.insert(row.id, row);
        }
        for year in period.years() {
            let filter = ItemFilter {
                year: Some(i64::from(year)),
                ..ItemFilter::default()
            };
            for row in self
                .list_items(viewer, &filter, today, yellow_days, PLAN_LIMIT)
                .await?
            {
                items.entry(row.id).or_insert(row);
            }
        }
        items.retain(|_, r| !matches!(r.state, ItemState::Draft | ItemState::Cancelled));
        if items.is_empty() {
            return Ok(Plan {
                period: *period,
                groups: Vec::new(),
            });
        }
        let milestones = self.plan_milestones(period).await?;
        let unit_order = self.unit_order().await?;
        let calendar = self.work_calendar().await?;
        let own_unit = (!viewer.can(Capability::SeeAllItems)).then(|| viewer.unit_name.clone());

        let mut groups: BTreeMap<(i64, String), Vec<PlanEntry>> = BTreeMap::new();
        for item in items.into_values() {
            let nodes = milestones
                .get(&item.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let due = item
                .due_date
                .as_deref()
                .and_then(|d| d.parse::<Date>().ok());
            let plan_item = PlanItem {
                due,
                milestones: nodes,
                cadence: item.cadence.as_deref(),
                assigned: item.assigned_at.and_then(beijing_date),
                open: item.state.is_open(),
            };
            let dates = dates_in(period, &plan_item, &calendar);
            if dates.is_empty() {
                continue;
            }
            let key = match &own_unit {
                Some(unit) => (0, unit.clone()),
                None if item.lead_unit.is_empty() => (i64::MAX, "未定牵头单位".to_owned()),
                None => (
                    item.lead_unit_id
                        .and_then(|id| unit_order.get(&id).copied())
                        .unwrap_or(i64::MAX - 1),
                    item.lead_unit.clone(),
                ),
            };
            let entries = groups.entry(key).or_default();
            for (date, due) in dates {
                entries.push(PlanEntry {
                    date,
                    due,
                    item: item.clone(),
                });
            }
        }
        let groups = groups
            .into_iter()
            .map(|((_, unit), mut entries)| {
                entries.sort_by(|a, b| {
                    (a.date, a.due, &a.item.seq, a.item.id).cmp(&(
                        b.date,
                        b.due,
                        &b.item.seq,
                        b.item.id,
                    ))
                });
                PlanGroup { unit, entries }
            })
            .collect();
        Ok(Plan {
            period: *period,
            groups,
        })
    }

    /// The milestones of the items that may have some in or before the period: every item of
    /// the period's years and every open item.
    async fn plan_milestones(&self, period: &Period) -> Result<HashMap<i64, Vec<Date>>> {
        let years = period.years();
        let first = years.first().copied().map_or(0, i64::from);
        let last = years.last().copied().map_or(0, i64::from);
        let rows = sqlx::query(
            "SELECT id, milestones FROM items WHERE is_group = 0 AND COALESCE(milestones, '') <> '' \
             AND ((ledger_year >= $1 AND ledger_year <= $2) \
             OR state IN ('registered', 'assigned', 'in_progress', 'closure_requested'))",
        )
        .bind(first)
        .bind(last)
        .fetch_all(self.pool())
        .await?;
        let mut out = HashMap::new();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let text: String = r.try_get("milestones")?;
            let mut dates: Vec<Date> = text
                .split(',')
                .filter_map(|d| d.trim().parse::<Date>().ok())
                .collect();
            dates.sort();
            dates.dedup();
            out.insert(id, dates);
        }
        Ok(out)
    }

    /// Each unit's place in the organisation's order, so groups follow the unit tree.
    async fn unit_order(&self) -> Result<HashMap<i64, i64>> {
        let rows = sqlx::query("SELECT id, sort_order FROM units")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("sort_order")?)))
            .collect()
    }
}

/// Unix milliseconds as the day in Beijing (UTC+8, no daylight saving).
fn beijing_date(ms: i64) -> Option<Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| {
        t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .date()
    })
}
