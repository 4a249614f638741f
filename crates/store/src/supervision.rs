//! Supervision (督查督办) in the database: the year's ledger, importing a 任务分解表 all or
//! nothing, the item list with signals, an item with its units, reports and history, the moves
//! of its lifecycle, and progress reports.
//!
//! Visibility is decided here: the supervision office and leaders see the whole ledger; a unit's
//! liaison and head see only items their unit leads or co-owns; everyone else sees none.

use crate::bulk::{self, Arg};
use crate::error::{Error, Result};
use crate::{Store, attachments, db::now_ms, notify, tallies};
use jiff::civil::Date;
use serde_json::json;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use zhongshu_domain::access::{Capability, Supervisor, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::calendar::WorkCalendar;
use zhongshu_domain::deadline::{Deadline, parse_deadline};
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::org::RowProblem;
use zhongshu_domain::supervision::{
    Action, CRITICAL_HOURS, CRITICAL_YELLOW_HOURS, Cycle, DEFAULT_CADENCE, ItemState, Signal,
    Source, Standing, TaskRow, Urgency, critical_due_at, critical_signal, hours_left, signal,
    transition,
};

/// The columns [`item_from_row`] reads, of `items i` joined with its parent `p` and lead unit
/// `u`.
const ITEM_COLUMNS: &str = "i.id, i.ledger_year, i.parent_id, \
     COALESCE(p.title, '') AS parent_title, i.seq, i.category, i.title, i.lead_unit_id, \
     COALESCE(u.name, '') AS lead_unit, i.leader_text, i.person_text, i.deadline_text, \
     i.due_date, i.cadence, i.state, i.note, i.version, i.urgency, i.assigned_at, i.due_at";

/// An item as lists show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub ledger_year: i64,
    pub parent_id: Option<i64>,
    pub parent_title: String,
    pub seq: String,
    pub category: String,
    pub title: String,
    pub lead_unit_id: Option<i64>,
    pub lead_unit: String,
    pub co_units: Vec<String>,
    pub leader: String,
    pub person: String,
    pub deadline_text: String,
    pub due_date: Option<String>,
    pub cadence: Option<String>,
    pub state: ItemState,
    pub signal: Signal,
    pub note: String,
    pub version: i64,
    /// Latest progress report's "done" text.
    pub latest_progress: String,
    pub last_report_at: Option<i64>,
    pub urgency: Urgency,
    pub assigned_at: Option<i64>,
    /// The instant a 特急 item is due (24 hours after assignment); `None` for the others.
    pub due_at: Option<i64>,
    /// Whole hours left until `due_at` (negative once overdue), for open 特急 items.
    pub hours_left: Option<i64>,
}

/// The supervisor's work queues on the ledger page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// 待签收: assigned, the lead unit has not signed for it.
    Unacknowledged,
    /// 需协调事项: a unit's latest report asks for coordination.
    Coordination,
    /// 申请办结: closure requested.
    ClosureRequested,
    /// 待审批延期: an extension request awaits a decision.
    Extension,
}

impl Queue {
    pub const ALL: [Queue; 4] = [
        Queue::Unacknowledged,
        Queue::Coordination,
        Queue::ClosureRequested,
        Queue::Extension,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Queue::Unacknowledged => "unacknowledged",
            Queue::Coordination => "coordination",
            Queue::ClosureRequested => "closure_requested",
            Queue::Extension => "extension",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Queue::Unacknowledged => "待签收",
            Queue::Coordination => "需协调事项",
            Queue::ClosureRequested => "申请办结",
            Queue::Extension => "待审批延期",
        }
    }

    pub fn from_code(code: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.code() == code)
    }

    /// The condition on `items i` for the list of this queue: the flags kept in
    /// `item_counted` (see `crate::tallies`), which equal [`Queue::condition`] and are cheap.
    fn list_condition(self) -> &'static str {
        match self {
            Queue::Unacknowledged => {
                " AND i.id IN (SELECT c.item_id FROM item_counted c WHERE c.unacknowledged = 1)"
            }
            Queue::Coordination => {
                " AND i.id IN (SELECT c.item_id FROM item_counted c WHERE c.coordination = 1)"
            }
            Queue::ClosureRequested => " AND i.state = 'closure_requested'",
            Queue::Extension => {
                " AND i.id IN (SELECT c.item_id FROM item_counted c WHERE c.extension = 1)"
            }
        }
    }

    /// The condition on `items i` that puts an item in this queue, from the rows themselves.
    pub(crate) fn condition(self) -> &'static str {
        match self {
            Queue::Unacknowledged => {
                " AND i.state = 'assigned' AND EXISTS (SELECT 1 FROM item_units qa \
                 WHERE qa.item_id = i.id AND qa.role = 'lead' AND qa.acknowledged_at IS NULL)"
            }
            Queue::Coordination => {
                " AND i.state IN ('assigned', 'in_progress', 'closure_requested') \
                 AND EXISTS (SELECT 1 FROM progress_reports qr WHERE qr.item_id = i.id \
                 AND qr.coordination <> '' AND qr.id = (SELECT MAX(qm.id) FROM progress_reports qm \
                 WHERE qm.item_id = i.id AND qm.unit_id = qr.unit_id))"
            }
            Queue::ClosureRequested => " AND i.state = 'closure_requested'",
            Queue::Extension => {
                " AND EXISTS (SELECT 1 FROM item_deadline_changes qe WHERE qe.item_id = i.id \
                 AND qe.status = 'pending')"
            }
        }
    }
}

/// Filters of the ledger list; all optional.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    pub year: Option<i64>,
    pub state: Option<ItemState>,
    pub unit_id: Option<UnitId>,
    /// Part of the title or the 重点任务.
    pub query: Option<String>,
    /// Only items past their due date and still open.
    pub overdue_on: Option<Date>,
    /// Only the items of one supervisor queue.
    pub queue: Option<Queue>,
}

/// What an import wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub items: usize,
    pub groups: usize,
    pub ledger_opened: bool,
}

/// One unit's part in an item.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemUnit {
    pub unit_id: i64,
    pub unit_name: String,
    pub lead: bool,
    pub acknowledged_at: Option<i64>,
    pub last_report_at: Option<i64>,
}

/// A progress report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProgressReport {
    pub id: i64,
    pub unit_name: String,
    pub author_name: String,
    pub reported_at: i64,
    pub done: String,
    pub problems: String,
    pub coordination: String,
    pub next_steps: String,
    pub percent: Option<i64>,
}

/// One step of an item's history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryEntry {
    pub action: String,
    pub actor_name: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub note: String,
    pub at: i64,
}

/// An item with everything its page shows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemDetail {
    pub item: ItemRow,
    /// Leaders' instructions (批示) on the item, newest first.
    pub instructions: Vec<Instruction>,
    /// How many times the supervision office has urged (催办) the item.
    pub urge_count: i64,
    pub units: Vec<ItemUnit>,
    pub reports: Vec<ProgressReport>,
    pub history: Vec<HistoryEntry>,
    pub milestones: Vec<String>,
    pub source: Source,
    /// The source's reference (文号).
    pub source_ref: String,
    pub content: String,
    /// The responsible leader's user, when the name matched exactly one leader.
    pub leader_user_id: Option<i64>,
    /// The deadline history: every extension request and its outcome, newest first.
    pub deadline_changes: Vec<DeadlineChange>,
    /// The reporting cycle the count below is for.
    pub cycle: Cycle,
    /// How many of the item's units reported in the current cycle.
    pub reported_this_cycle: usize,
}

/// One extension request (申请延期) and its outcome.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeadlineChange {
    pub id: i64,
    pub unit_name: String,
    pub old_deadline_text: String,
    pub old_due_date: Option<String>,
    pub new_deadline_text: String,
    pub new_due_date: String,
    pub reason: String,
    pub requested_by_name: String,
    pub requested_at: i64,
    /// `pending`, `approved` or `refused`.
    pub status: String,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: String,
}

impl DeadlineChange {
    pub fn is_pending(&self) -> bool {
        self.status == "pending"
    }

    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "pending" => "待审批",
            "approved" => "已同意",
            _ => "未同意",
        }
    }
}

impl ItemDetail {
    /// The extension request awaiting a decision, if any.
    pub fn pending_extension(&self) -> Option<&DeadlineChange> {
        self.deadline_changes.iter().find(|c| c.is_pending())
    }
}

/// An item as the supervision office registers it (立项) by hand. Ids and codes come from the
/// form as chosen; everything is checked by [`Store::create_item`].
#[derive(Clone, Debug, Default)]
pub struct NewItem {
    pub ledger_year: i64,
    /// A [`Source`] code.
    pub source: String,
    pub source_ref: String,
    pub category: String,
    /// An [`Urgency`] code.
    pub urgency: String,
    pub title: String,
    pub content: String,
    pub lead_unit_id: Option<i64>,
    pub co_unit_ids: Vec<i64>,
    pub leader: String,
    pub person: String,
    pub deadline: String,
    pub parent_id: Option<i64>,
    pub note: String,
}

/// What the registration form offers.
#[derive(Clone, Debug, Default)]
pub struct RegistrationOptions {
    /// Active units, in tree order.
    pub units: Vec<(i64, String)>,
    /// Display names of active leaders.
    pub leaders: Vec<String>,
    /// 重点任务 groups of open ledgers: (id, year, label).
    pub groups: Vec<(i64, i64, String)>,
    /// Open ledger years, newest first.
    pub open_years: Vec<i64>,
}

/// How many items each supervisor queue holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub unacknowledged: i64,
    pub coordination: i64,
    pub closure_requested: i64,
    pub extension: i64,
}

impl QueueCounts {
    pub fn get(&self, queue: Queue) -> i64 {
        match queue {
            Queue::Unacknowledged => self.unacknowledged,
            Queue::Coordination => self.coordination,
            Queue::ClosureRequested => self.closure_requested,
            Queue::Extension => self.extension,
        }
    }
}

/// A leader's instruction (批示) on an item.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Instruction {
    pub leader_name: String,
    pub text: String,
    pub created_at: i64,
}

/// A progress report as a unit writes it.
#[derive(Clone, Debug, Default)]
pub struct NewReport {
    pub done: String,
    pub problems: String,
    pub coordination: String,
    pub next_steps: String,
    pub percent: Option<i64>,
}

/// Who may see which items.
enum Scope {
    All,
    Unit(UnitId),
    Nothing,
}

fn scope(viewer: &Viewer) -> Scope {
    if viewer.can(Capability::SeeAllItems) {
        Scope::All
    } else if viewer.can(Capability::ActForUnit) {
        viewer.unit_id.map_or(Scope::Nothing, Scope::Unit)
    } else {
        Scope::Nothing
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<String>()
}

struct CheckedRow<'a> {
    row: &'a TaskRow,
    lead: UnitId,
    co: Vec<UnitId>,
    deadline: Deadline,
    dedup: String,
}

impl Store {
    /// Parses and checks every row, then writes them all in one transaction, opening the
    /// year's ledger (建账) if it is not open. Every problem is reported by row and column.
    pub async fn import_items(
        &self,
        sup: Supervisor<'_>,
        year: i16,
        rows: &[TaskRow],
    ) -> Result<ImportSummary> {
        let closed = sqlx::query("SELECT status FROM ledgers WHERE year = $1")
            .bind(i64::from(year))
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get::<String, _>("status"))
            .transpose()?
            .is_some_and(|status| status == "closed");
        if closed {
            return Err(Error::invalid(
                "year",
                format!("{year}年台账已结账，不能再导入"),
            ));
        }
        let calendar = self.work_calendar().await?;
        let units = self.unit_names().await?;
        let existing: HashSet<String> = sqlx::query(
            "SELECT dedup_key FROM items WHERE ledger_year = $1 AND dedup_key IS NOT NULL",
        )
        .bind(i64::from(year))
        .fetch_all(self.pool())
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String, _>("dedup_key").ok())
        .collect();
        let (checked, problems) = check_rows(rows, year, &calendar, &units, &existing);
        if !problems.is_empty() {
            return Err(Error::Rows(problems));
        }
        let now = now_ms();
        let mut w = self.write().await?;
        let opened = sqlx::query(
            "INSERT INTO ledgers (year, opened_at, opened_by) VALUES ($1, $2, $3) \
             ON CONFLICT (year) DO NOTHING",
        )
        .bind(i64::from(year))
        .bind(now)
        .bind(&sup.viewer().username)
        .execute(&mut *w.tx)
        .await?
        .rows_affected()
            > 0;
        let actor = sup.viewer().display_or_username();
        // The 重点任务 groups first, one row each, in the order the file gives them.
        let mut group_rows: Vec<Vec<Arg>> = Vec::new();
        let mut group_keys: HashSet<(&str, &str, &str)> = HashSet::new();
        for c in &checked {
            let task = c.row.task.trim();
            if !task.is_empty() && group_keys.insert((&c.row.category, &c.row.seq, task)) {
                group_rows.push(vec![
                    i64::from(year).into(),
                    1.into(),
                    c.row.seq.as_str().into(),
                    c.row.category.as_str().into(),
                    task.into(),
                    "assigned".into(),
                    now.into(),
                    now.into(),
                ]);
            }
        }
        let mut groups: HashMap<(String, String, String), i64> = HashMap::new();
        for r in bulk::insert(
            &mut w.tx,
            "INSERT INTO items (ledger_year, is_group, seq, category, title, state, created_at, \
             updated_at)",
            "RETURNING id, seq, category, title",
            &group_rows,
        )
        .await?
        {
            groups.insert(
                (
                    r.try_get("category")?,
                    r.try_get("seq")?,
                    r.try_get("title")?,
                ),
                r.try_get("id")?,
            );
        }
        let group_count = groups.len();
        // Then the measures, each under its group; RETURNING comes in no set order, so ids are
        // matched back by the dedup key, unique in a checked file.
        let mut item_rows = Vec::with_capacity(checked.len());
        for c in &checked {
            let task = c.row.task.trim();
            let parent = (!task.is_empty())
                .then(|| {
                    groups
                        .get(&(c.row.category.clone(), c.row.seq.clone(), task.to_owned()))
                        .copied()
                })
                .flatten();
            let (kind, due, milestones, cadence, working_days) = deadline_columns(&c.deadline);
            // An item whose deadline names no cadence reports monthly, by the month's last day.
            let cadence = cadence.or_else(|| Some(DEFAULT_CADENCE.to_owned()));
            item_rows.push(vec![
                i64::from(year).into(),
                parent.into(),
                c.row.seq.as_str().into(),
                c.row.category.as_str().into(),
                c.row.measure.trim().into(),
                c.lead.get().into(),
                c.row.leader.trim().into(),
                c.row.person.trim().into(),
                c.row.deadline.trim().into(),
                kind.into(),
                due.into(),
                milestones.into(),
                cadence.into(),
                working_days.into(),
                c.row.note.trim().into(),
                "assigned".into(),
                now.into(),
                c.dedup.as_str().into(),
                now.into(),
                now.into(),
            ]);
        }
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(checked.len());
        for r in bulk::insert(
            &mut w.tx,
            "INSERT INTO items (ledger_year, parent_id, seq, category, title, lead_unit_id, \
             leader_text, person_text, deadline_text, deadline_kind, due_date, milestones, \
             cadence, working_days, note, state, assigned_at, dedup_key, created_at, updated_at)",
            "RETURNING id, dedup_key",
            &item_rows,
        )
        .await?
        {
            ids.insert(r.try_get("dedup_key")?, r.try_get("id")?);
        }
        let mut unit_rows = Vec::new();
        let mut history_rows = Vec::with_capacity(checked.len());
        // What each unit is told: its new items, in file order.
        let mut told: BTreeMap<i64, Vec<(i64, &str)>> = BTreeMap::new();
        for c in &checked {
            let id = *ids.get(&c.dedup).ok_or_else(|| {
                Error::Internal(format!("导入的事项未取回编号：第{}行", c.row.row))
            })?;
            // The item's units as its rows hold them: the lead, then each co-unit once.
            let mut units = vec![c.lead.get()];
            for co in &c.co {
                if !units.contains(&co.get()) {
                    units.push(co.get());
                }
            }
            for (k, &unit) in units.iter().enumerate() {
                let role = if k == 0 { "lead" } else { "co" };
                unit_rows.push(vec![id.into(), unit.into(), role.into(), 1.into()]);
                told.entry(unit)
                    .or_default()
                    .push((id, c.row.measure.trim()));
            }
            history_rows.push(vec![
                id.into(),
                "导入交办".into(),
                actor.as_str().into(),
                Arg::Int(None),
                Arg::Text(None),
                ItemState::Assigned.code().into(),
                "".into(),
                now.into(),
            ]);
            w.item_changed(id);
        }
        bulk::insert(
            &mut w.tx,
            "INSERT INTO item_units (item_id, unit_id, role, item_open)",
            "",
            &unit_rows,
        )
        .await?;
        bulk::insert(
            &mut w.tx,
            "INSERT INTO item_history (item_id, action, actor_name, unit_id, from_state, \
             to_state, note, at)",
            "",
            &history_rows,
        )
        .await?;
        // One notification per unit for the whole file: a unit given forty items is told once,
        // with a link to its own items, not forty times (nor forty e-mails).
        let mut fanout = notify::Fanout::default();
        for (unit, items) in &told {
            let (Some(&(first_id, first_title)), Some(key_id)) =
                (items.first(), items.iter().map(|(id, _)| *id).min())
            else {
                continue;
            };
            let (title, item_id, body) = if items.len() == 1 {
                (
                    format!("新交办事项：{first_title}"),
                    Some(first_id),
                    format!("{year}年台账导入，请签收"),
                )
            } else {
                (
                    format!("新交办事项{}项：{first_title}等", items.len()),
                    None,
                    format!("{year}年台账导入，请到“本单位督办”签收"),
                )
            };
            fanout
                .tell_units(
                    &mut w.tx,
                    &[*unit],
                    &notify::Message {
                        kind: "assigned",
                        item_id,
                        title: &title,
                        body: &body,
                        key: &format!("assigned:import:{key_id}:unit{unit}"),
                    },
                )
                .await?;
        }
        w.audit(
            sup.viewer(),
            AuditCode::ItemsImported,
            &format!("ledger:{year}"),
            None,
            Some(json!({ "items": checked.len(), "groups": group_count, "ledger_opened": opened })),
        )
        .await?;
        w.commit().await?;
        Ok(ImportSummary {
            items: checked.len(),
            groups: group_count,
            ledger_opened: opened,
        })
    }

    async fn unit_names(&self) -> Result<Vec<(UnitId, String)>> {
        let rows = sqlx::query("SELECT id, name FROM units WHERE status = 'active' ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((UnitId::from_db(r.try_get("id")?), r.try_get("name")?)))
            .collect()
    }

    /// The ledger list: items (not the 重点任务 groups) the viewer may see, in 序号 order, with
    /// signals computed for `today`.
    pub async fn list_items(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        today: Date,
        yellow_days: u32,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        self.list_items_detail(viewer, filter, today, yellow_days, limit, true)
            .await
    }

    /// The open items (registered to closure requested) the viewer may see, of every year, as
    /// [`Store::list_items`] lists them: a unit's page, without loading its closed items.
    pub async fn list_open_items(
        &self,
        viewer: &Viewer,
        today: Date,
        yellow_days: u32,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        let Some((where_sql, binds)) = open_where(viewer) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, (SELECT MAX(x.last_report_at) FROM item_units x \
             WHERE x.item_id = i.id) AS last_report_max FROM items i \
             LEFT JOIN items p ON p.id = i.parent_id LEFT JOIN units u ON u.id = i.lead_unit_id \
             WHERE i.is_group = 0 {where_sql} ORDER BY i.ledger_year DESC, i.id LIMIT {}",
            limit.clamp(1, 100_000)
        );
        let rows = self.read(&sql, &binds).await?;
        let calendar = self.work_calendar().await?;
        let mut last = Extras::default();
        for r in &rows {
            last.last_report
                .insert(r.try_get("id")?, r.try_get("last_report_max")?);
        }
        let mut rows = rows
            .iter()
            .map(|r| item_from_row(r, &last, &calendar, today, yellow_days))
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let extras = self.item_extras(&ids).await?;
        for row in &mut rows {
            extras.fill(row);
        }
        Ok(rows)
    }

    /// One page of the open items of the viewer's unit, most pressing first: overdue, due
    /// soon, stalled, then the rest; within each, the item reported on longest ago (or never)
    /// first, so that what was just reported makes way. With the counts of all of them.
    pub async fn unit_open_page(
        &self,
        viewer: &Viewer,
        today: Date,
        yellow_days: u32,
        page: usize,
        page_size: usize,
    ) -> Result<UnitOpenPage> {
        // First the few columns a signal needs, for all of them, to order them; then the
        // page's rows in full.
        let Some((where_sql, binds)) = open_where(viewer) else {
            return Ok(UnitOpenPage::default());
        };
        let calendar = self.work_calendar().await?;
        // The order depends on the items (every change moves the generation), the day and,
        // for 特急 items counted in hours, the time: kept a minute at most.
        let key = format!(
            "{where_sql}|{binds:?}|{today}|{yellow_days}|{}|{}",
            now_ms() / 60_000,
            tallies::current_generation(self).await?
        );
        let keys = match self.inner.open_order_cache.get(&key) {
            Some(keys) => keys,
            None => {
                let keys = Arc::new(
                    self.open_order(where_sql, &binds, &calendar, today, yellow_days)
                        .await?,
                );
                self.inner.open_order_cache.put(key, keys.clone());
                keys
            }
        };
        let count = |rank: u8| keys.iter().filter(|k| k.0 == rank).count();
        let (total, red, yellow, stalled) = (keys.len(), count(0), count(1), count(2));
        let page_size = page_size.max(1);
        let pages = total.div_ceil(page_size).max(1);
        let page = page.clamp(1, pages);
        let ids: Vec<i64> = keys
            .iter()
            .skip((page - 1) * page_size)
            .take(page_size)
            .map(|k| k.2)
            .collect();
        let rows = self.rows_in_order(&ids, today, yellow_days).await?;
        Ok(UnitOpenPage {
            rows,
            total,
            red,
            yellow,
            stalled,
            page,
            pages,
        })
    }

    /// Every open item of `where_sql`, most pressing first, as (rank, last report, id).
    async fn open_order(
        &self,
        where_sql: &str,
        binds: &[Bind],
        calendar: &WorkCalendar,
        today: Date,
        yellow_days: u32,
    ) -> Result<Vec<(u8, i64, i64)>> {
        let sql = format!(
            "SELECT i.id, i.state, i.due_date, i.cadence, i.urgency, i.assigned_at, i.due_at, \
             (SELECT MAX(x.last_report_at) FROM item_units x WHERE x.item_id = i.id) \
             AS last_report_max FROM items i WHERE i.is_group = 0 {where_sql} LIMIT 10000"
        );
        let mut keys = Vec::new();
        for r in self.read(&sql, binds).await? {
            let last: Option<i64> = r.try_get("last_report_max")?;
            let light = row_signal(&r, last, calendar, today, yellow_days)?;
            let rank = match light {
                Signal::Red => 0,
                Signal::Yellow => 1,
                Signal::Stalled => 2,
                _ => 3,
            };
            keys.push((rank, last.unwrap_or(i64::MIN), r.try_get::<i64>("id")?));
        }
        keys.sort_unstable();
        Ok(keys)
    }

    /// The ids of the items matching `filter` whose signal is `signal`, in list order (year
    /// descending, then id), kept by filter, day, minute and items generation.
    async fn signal_list(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        signal: Signal,
        today: Date,
        yellow_days: u32,
    ) -> Result<Arc<Vec<i64>>> {
        let Some((where_sql, binds)) = item_where(viewer, filter) else {
            return Ok(Arc::default());
        };
        let key = format!(
            "{signal:?}|{where_sql}|{binds:?}|{today}|{yellow_days}|{}|{}",
            now_ms() / 60_000,
            tallies::current_generation(self).await?
        );
        if let Some(ids) = self.inner.signal_list_cache.get(&key) {
            return Ok(ids);
        }
        let parent_join = if filter.query.as_ref().is_some_and(|q| !q.trim().is_empty()) {
            " LEFT JOIN items p ON p.id = i.parent_id"
        } else {
            ""
        };
        let sql = format!(
            "SELECT i.id, i.state, i.due_date, i.cadence, i.urgency, i.assigned_at, i.due_at, \
             (SELECT MAX(x.last_report_at) FROM item_units x WHERE x.item_id = i.id) \
             AS last_report_max FROM items i{parent_join} WHERE i.is_group = 0 {where_sql} \
             ORDER BY i.ledger_year DESC, i.id LIMIT 100000"
        );
        let calendar = self.work_calendar().await?;
        let mut ids = Vec::new();
        for r in self.read(&sql, &binds).await? {
            let last: Option<i64> = r.try_get("last_report_max")?;
            if row_signal(&r, last, &calendar, today, yellow_days)? == signal {
                ids.push(r.try_get::<i64>("id")?);
            }
        }
        let ids = Arc::new(ids);
        self.inner.signal_list_cache.put(key, ids.clone());
        Ok(ids)
    }

    /// These items in full, in this order (ids the viewer was shown by a visible list).
    async fn rows_in_order(
        &self,
        ids: &[i64],
        today: Date,
        yellow_days: u32,
    ) -> Result<Vec<ItemRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let calendar = self.work_calendar().await?;
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN items p ON p.id = i.parent_id \
             LEFT JOIN units u ON u.id = i.lead_unit_id WHERE i.id IN ({})",
            crate::bulk::id_list(ids)
        );
        let extras = self.item_extras(ids).await?;
        let mut by_id = HashMap::new();
        for r in self.read(&sql, &[]).await? {
            let mut row = item_from_row(&r, &extras, &calendar, today, yellow_days)?;
            extras.fill(&mut row);
            by_id.insert(row.id, row);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// As [`Store::list_items`] without each item's latest progress (`latest_progress` empty).
    pub(crate) async fn list_items_without_progress(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        today: Date,
        yellow_days: u32,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        self.list_items_detail(viewer, filter, today, yellow_days, limit, false)
            .await
    }

    /// The list of [`Store::list_items`], with or without each item's latest progress.
    async fn list_items_detail(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        today: Date,
        yellow_days: u32,
        limit: i64,
        latest: bool,
    ) -> Result<Vec<ItemRow>> {
        let Some((where_sql, binds)) = item_where(viewer, filter) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN items p ON p.id = i.parent_id \
             LEFT JOIN units u ON u.id = i.lead_unit_id WHERE i.is_group = 0 {where_sql} \
             ORDER BY i.ledger_year DESC, i.id LIMIT {}",
            limit.clamp(1, 100_000)
        );
        let rows = self.read(&sql, &binds).await?;
        let calendar = self.work_calendar().await?;
        let ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<i64>("id").ok())
            .collect();
        let extras = self.item_extras_for(&ids, latest).await?;
        rows.iter()
            .map(|r| item_from_row(r, &extras, &calendar, today, yellow_days))
            .collect()
    }

    /// One page of the ledger list, in the order of [`Store::list_items`], paged by key: the
    /// items after the item `after` (the last id of the previous page), at most `limit`, with
    /// the number of all matching items. The red (overdue) and yellow (due soon) signal
    /// filters are SQL conditions; the stalled and green filters depend on each item's
    /// report cadence and are computed over all matching items, as `list_items` does.
    #[allow(clippy::too_many_arguments)]
    pub async fn list_items_page(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        signal_filter: Option<Signal>,
        after: Option<i64>,
        today: Date,
        yellow_days: u32,
        limit: i64,
    ) -> Result<ItemPage> {
        let limit = limit.clamp(1, 1_000);
        if matches!(
            signal_filter,
            Some(Signal::Stalled | Signal::Green | Signal::None)
        ) {
            // Not expressible as a plain condition (it depends on each item's report
            // cadence): the matching ids, in list order, from narrow rows, kept until items
            // change; then the page's rows in full.
            let signal = signal_filter.unwrap_or(Signal::None);
            let ids = self
                .signal_list(viewer, filter, signal, today, yellow_days)
                .await?;
            let total = i64::try_from(ids.len()).unwrap_or(i64::MAX);
            let start = match after {
                Some(id) => ids.iter().position(|&i| i == id).map_or(0, |p| p + 1),
                None => 0,
            };
            let take = usize::try_from(limit).unwrap_or(50);
            let page: Vec<i64> = ids.iter().skip(start).take(take + 1).copied().collect();
            let rows = self.rows_in_order(&page, today, yellow_days).await?;
            return Ok(page_of(rows, take, total));
        }
        let Some((mut where_sql, mut binds)) = item_where(viewer, filter) else {
            return Ok(ItemPage::default());
        };
        if let Some(signal) = signal_filter {
            let calendar = self.work_calendar().await?;
            let until = calendar.add_workdays(today, yellow_days);
            where_sql.push_str(&signal_condition(
                signal,
                today,
                until,
                now_ms(),
                &mut binds,
            ));
        }
        // The parent is joined only when the text search needs its title.
        let parent_join = if filter.query.as_ref().is_some_and(|q| !q.trim().is_empty()) {
            " LEFT JOIN items p ON p.id = i.parent_id"
        } else {
            ""
        };
        let total = match self
            .tallied_total(viewer, filter, signal_filter, today, yellow_days)
            .await?
        {
            Some(n) => n,
            None => {
                let count_sql = format!(
                    "SELECT COUNT(*) AS n FROM items i{parent_join} WHERE i.is_group = 0 \
                     {where_sql}"
                );
                self.read_count(&count_sql, &binds).await?
            }
        };
        let mut page_where = where_sql;
        let after_year: Option<i64> = match after {
            Some(id) => self
                .read_one(
                    "SELECT ledger_year FROM items WHERE id = $1",
                    &[Bind::I(id)],
                )
                .await?
                .map(|r| r.try_get("ledger_year"))
                .transpose()?,
            None => None,
        };
        if let (Some(id), Some(year)) = (after, after_year)
            && filter.year == Some(year)
        {
            // One year: the key is the id alone, a range on the index.
            binds.push(Bind::I(id));
            page_where.push_str(&format!(" AND i.id > ${}", binds.len()));
        } else if let Some(id) = after {
            binds.push(Bind::I(id));
            let n = binds.len();
            page_where.push_str(&format!(
                " AND (i.ledger_year < (SELECT a.ledger_year FROM items a WHERE a.id = ${n}) \
                 OR (i.ledger_year = (SELECT a.ledger_year FROM items a WHERE a.id = ${n}) \
                 AND i.id > ${n}))"
            ));
        }
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN items p ON p.id = i.parent_id \
             LEFT JOIN units u ON u.id = i.lead_unit_id WHERE i.is_group = 0 {page_where} \
             ORDER BY i.ledger_year DESC, i.id LIMIT {}",
            limit + 1
        );
        let rows = self.read(&sql, &binds).await?;
        let calendar = self.work_calendar().await?;
        let ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<i64>("id").ok())
            .collect();
        let extras = self.item_extras(&ids).await?;
        let rows = rows
            .iter()
            .map(|r| item_from_row(r, &extras, &calendar, today, yellow_days))
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(rows, usize::try_from(limit).unwrap_or(50), total))
    }

    /// How many of the items matching `filter` are red (overdue) and yellow (due within
    /// `yellow_days` working days), counted in SQL.
    pub async fn signal_counts(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        today: Date,
        yellow_days: u32,
    ) -> Result<Vec<(Signal, i64)>> {
        let calendar = self.work_calendar().await?;
        let until = calendar.add_workdays(today, yellow_days);
        let parent_join = if filter.query.as_ref().is_some_and(|q| !q.trim().is_empty()) {
            " LEFT JOIN items p ON p.id = i.parent_id"
        } else {
            ""
        };
        let mut counts = Vec::new();
        for signal in [Signal::Red, Signal::Yellow] {
            if let Some(n) = self
                .tallied_total(viewer, filter, Some(signal), today, yellow_days)
                .await?
            {
                counts.push((signal, n));
                continue;
            }
            let Some((where_sql, mut binds)) = item_where(viewer, filter) else {
                return Ok(vec![(Signal::Red, 0), (Signal::Yellow, 0)]);
            };
            let Some((by_date, critical)) =
                signal_parts(signal, today, until, now_ms(), &mut binds)
            else {
                continue;
            };
            // Two counts that each use an index, rather than one OR that uses neither well.
            let sql = format!(
                "SELECT (SELECT COUNT(*) FROM items i{parent_join} WHERE i.is_group = 0 \
                 {where_sql} AND {by_date}) + (SELECT COUNT(*) FROM items i{parent_join} \
                 WHERE i.is_group = 0 {where_sql} AND {critical}) AS n"
            );
            counts.push((signal, self.read_count(&sql, &binds).await?));
        }
        Ok(counts)
    }

    /// Co-units, latest progress and last report time for a page of items, in three queries
    /// rather than three per item.
    async fn item_extras(&self, ids: &[i64]) -> Result<Extras> {
        self.item_extras_for(ids, true).await
    }

    /// As [`Store::item_extras`]; without `latest`, no latest progress (the board shows none,
    /// and for a city year it is 50,000 report texts).
    async fn item_extras_for(&self, ids: &[i64], latest: bool) -> Result<Extras> {
        let mut extras = Extras::default();
        if ids.is_empty() {
            return Ok(extras);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = self
            .read(
                &format!(
                    "SELECT iu.item_id, un.name, iu.last_report_at, iu.role FROM item_units iu \
                     JOIN units un ON un.id = iu.unit_id WHERE iu.item_id IN ({list}) \
                     ORDER BY un.id"
                ),
                &[],
            )
            .await?;
        for r in &rows {
            let item: i64 = r.try_get("item_id")?;
            let role: String = r.try_get("role")?;
            if role == "co" {
                extras.co.entry(item).or_default().push(r.try_get("name")?);
            }
            let last: Option<i64> = r.try_get("last_report_at")?;
            let slot = extras.last_report.entry(item).or_default();
            *slot = (*slot).max(last);
        }
        if !latest {
            return Ok(extras);
        }
        let rows = self
            .read(
                &format!(
                    "SELECT r.item_id, r.done FROM progress_reports r WHERE r.id IN \
                     (SELECT MAX(id) FROM progress_reports WHERE item_id IN ({list}) \
                     GROUP BY item_id)"
                ),
                &[],
            )
            .await?;
        for r in &rows {
            extras
                .latest
                .insert(r.try_get("item_id")?, r.try_get("done")?);
        }
        Ok(extras)
    }

    /// One item with its units, reports and history, if the viewer may see it.
    pub async fn get_item(
        &self,
        viewer: &Viewer,
        id: i64,
        today: Date,
        yellow_days: u32,
    ) -> Result<ItemDetail> {
        let filter = ItemFilter::default();
        let Some((where_sql, binds)) = item_where(viewer, &filter) else {
            return Err(Error::NotFound("事项"));
        };
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, i.milestones, i.source, i.source_ref, i.content, \
             i.leader_user_id, i.urge_count FROM items i LEFT JOIN items p ON p.id = i.parent_id \
             LEFT JOIN units u ON u.id = i.lead_unit_id WHERE i.is_group = 0 AND i.id = ${} \
             {where_sql}",
            binds.len() + 1
        );
        let mut binds = binds;
        binds.push(Bind::I(id));
        let row = self
            .read_one(&sql, &binds)
            .await?
            .ok_or(Error::NotFound("事项"))?;
        let calendar = self.work_calendar().await?;
        let extras = self.item_extras(&[id]).await?;
        let item = item_from_row(&row, &extras, &calendar, today, yellow_days)?;
        let milestones: String = row.try_get("milestones")?;
        let source: String = row.try_get("source")?;
        let source_ref: String = row.try_get("source_ref")?;
        let content: String = row.try_get("content")?;
        let leader_user_id: Option<i64> = row.try_get("leader_user_id")?;
        let cycle = Cycle::from_cadence(item.cadence.as_deref());
        let cycle_start = match cycle.start(today) {
            Some(day) => beijing_midnight_ms(day),
            None => item.assigned_at,
        }
        .unwrap_or(0);
        let reported_this_cycle: i64 = self
            .read_count(
                "SELECT COUNT(DISTINCT r.unit_id) AS n FROM progress_reports r \
                 JOIN item_units iu ON iu.item_id = r.item_id AND iu.unit_id = r.unit_id \
                 WHERE r.item_id = $1 AND r.reported_at >= $2",
                &[Bind::I(id), Bind::I(cycle_start)],
            )
            .await?;
        let deadline_changes = self.deadline_changes(id).await?;
        let units = self
            .read(
                "SELECT iu.unit_id, un.name, iu.role, iu.acknowledged_at, iu.last_report_at \
             FROM item_units iu JOIN units un ON un.id = iu.unit_id WHERE iu.item_id = $1 \
             ORDER BY iu.role DESC, un.id",
                &[Bind::I(id)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ItemUnit {
                    unit_id: r.try_get("unit_id")?,
                    unit_name: r.try_get("name")?,
                    lead: r.try_get::<String>("role")? == "lead",
                    acknowledged_at: r.try_get("acknowledged_at")?,
                    last_report_at: r.try_get("last_report_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let reports = self
            .read(
                "SELECT r.id, un.name AS unit_name, r.author_name, r.reported_at, r.done, r.problems, \
             r.coordination, r.next_steps, r.percent FROM progress_reports r \
             JOIN units un ON un.id = r.unit_id WHERE r.item_id = $1 ORDER BY r.id DESC",
                &[Bind::I(id)],
            )
            .await?
        .iter()
        .map(|r| {
            Ok(ProgressReport {
                id: r.try_get("id")?,
                unit_name: r.try_get("unit_name")?,
                author_name: r.try_get("author_name")?,
                reported_at: r.try_get("reported_at")?,
                done: r.try_get("done")?,
                problems: r.try_get("problems")?,
                coordination: r.try_get("coordination")?,
                next_steps: r.try_get("next_steps")?,
                percent: r.try_get("percent")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let history = self
            .read(
                "SELECT action, actor_name, from_state, to_state, note, at FROM item_history \
             WHERE item_id = $1 ORDER BY id DESC",
                &[Bind::I(id)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(HistoryEntry {
                    action: r.try_get("action")?,
                    actor_name: r.try_get("actor_name")?,
                    from_state: r.try_get("from_state")?,
                    to_state: r.try_get("to_state")?,
                    note: r.try_get("note")?,
                    at: r.try_get("at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let instructions = self
            .read(
                "SELECT leader_name, text, created_at FROM item_instructions WHERE item_id = $1 \
             ORDER BY id DESC",
                &[Bind::I(id)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Instruction {
                    leader_name: r.try_get("leader_name")?,
                    text: r.try_get("text")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let urge_count: i64 = row.try_get("urge_count")?;
        Ok(ItemDetail {
            item,
            instructions,
            urge_count,
            units,
            reports,
            history,
            milestones: milestones
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
            source: Source::from_code(&source).unwrap_or(Source::Decision),
            source_ref,
            content,
            leader_user_id,
            deadline_changes,
            cycle,
            reported_this_cycle: usize::try_from(reported_this_cycle).unwrap_or(0),
        })
    }

    /// How the viewer stands to an item: supervisor, leader, lead unit, co-unit or other.
    async fn standing(&self, viewer: &Viewer, item: i64) -> Result<(Standing, Option<UnitId>)> {
        if viewer.can(Capability::Supervise) {
            return Ok((Standing::Supervisor, None));
        }
        if viewer.can(Capability::Instruct) {
            return Ok((Standing::Leader, None));
        }
        if viewer.can(Capability::ActForUnit)
            && let Some(unit) = viewer.unit_id
        {
            let row = self
                .read_one(
                    "SELECT role FROM item_units WHERE item_id = $1 AND unit_id = $2",
                    &[Bind::I(item), Bind::I(unit.get())],
                )
                .await?;
            if let Some(row) = row {
                let role: String = row.try_get("role")?;
                let standing = if role == "lead" {
                    Standing::LeadUnit
                } else {
                    Standing::CoUnit
                };
                return Ok((standing, Some(unit)));
            }
        }
        Ok((Standing::Other, None))
    }

    /// Takes one step of the lifecycle (anything but a progress report), refusing it when the
    /// state machine does, and refusing a stale copy: two people acting at once, one wins and
    /// the other is told it changed (已被他人修改).
    pub async fn act_on_item(
        &self,
        viewer: &Viewer,
        id: i64,
        action: Action,
        version: i64,
        note: &str,
    ) -> Result<ItemState> {
        self.act(viewer, id, action, version, note, Vec::new())
            .await
    }

    /// A closure request (申请办结) with its evidence (佐证材料): the files are checked first,
    /// written to disk before the transaction, and their rows written inside it with the step.
    pub async fn request_closure(
        &self,
        viewer: &Viewer,
        id: i64,
        version: i64,
        note: &str,
        evidence: Vec<attachments::Upload>,
    ) -> Result<ItemState> {
        let problems = attachments::check_uploads(&evidence, self.attachment_max_bytes());
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        // Refuse a step the rules refuse before writing any file (fewer orphans on disk).
        let (standing, _) = self.standing(viewer, id).await?;
        let state: Option<String> =
            sqlx::query("SELECT state FROM items WHERE id = $1 AND is_group = 0")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("state"))
                .transpose()?;
        let Some(state) = state.filter(|_| standing != Standing::Other) else {
            return Err(Error::NotFound("事项"));
        };
        let current = ItemState::from_code(&state).unwrap_or(ItemState::Registered);
        transition(current, Action::RequestClosure, standing)
            .map_err(|refused| Error::invalid("action", refused.0))?;
        let stored = self.keep_files(evidence).await?;
        self.act(viewer, id, Action::RequestClosure, version, note, stored)
            .await
    }

    async fn act(
        &self,
        viewer: &Viewer,
        id: i64,
        action: Action,
        version: i64,
        note: &str,
        evidence: Vec<attachments::StoredFile>,
    ) -> Result<ItemState> {
        let (standing, unit) = self.standing(viewer, id).await?;
        let mut w = self.write().await?;
        let row = sqlx::query("SELECT state, version FROM items WHERE id = $1 AND is_group = 0")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(Error::NotFound("事项"))?;
        if standing == Standing::Other {
            return Err(Error::NotFound("事项"));
        }
        if action == Action::ReportProgress {
            return Err(Error::invalid("action", "请通过“报送进展”填写本期进展"));
        }
        let current: String = row.try_get("state")?;
        let current = ItemState::from_code(&current).unwrap_or(ItemState::Registered);
        if row.try_get::<i64, _>("version")? != version {
            return Err(Error::StaleVersion);
        }
        let next = transition(current, action, standing)
            .map_err(|refused| Error::invalid("action", refused.0))?;
        if matches!(action, Action::RequestExtension | Action::DecideExtension) {
            return Err(Error::invalid(
                "action",
                "请通过“申请延期”或“审批延期”填写新的完成时限和意见",
            ));
        }
        if matches!(action, Action::SendBack | Action::Dispute | Action::Cancel)
            && note.trim().is_empty()
        {
            return Err(Error::invalid("note", "请写明理由"));
        }
        if action == Action::Instruct && note.trim().is_empty() {
            return Err(Error::invalid("note", "请填写批示内容"));
        }
        let now = now_ms();
        let title: String = sqlx::query("SELECT title FROM items WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("title")?;
        if action == Action::Urge {
            let row = sqlx::query("SELECT urge_count, last_urged_at FROM items WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *w.tx)
                .await?;
            let last: Option<i64> = row.try_get("last_urged_at")?;
            let interval = self.urge_interval_ms();
            if let Some(last) = last
                && now - last < interval
            {
                let hours = (interval + 3_599_999) / 3_600_000;
                return Err(Error::invalid(
                    "action",
                    format!("同一事项两次催办须间隔{hours}小时以上，上次催办时间未满"),
                ));
            }
            let count: i64 = row.try_get::<i64, _>("urge_count")? + 1;
            sqlx::query("UPDATE items SET urge_count = $1, last_urged_at = $2 WHERE id = $3")
                .bind(count)
                .bind(now)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            notify::to_item_units(
                &mut w.tx,
                id,
                true,
                &notify::Message {
                    kind: "urge",
                    item_id: Some(id),
                    title: &format!("催办（第{count}次）：{title}"),
                    body: note.trim(),
                    key: &format!("urge:{id}:{count}"),
                },
            )
            .await?;
        }
        if action == Action::Instruct {
            let instruction: i64 = sqlx::query(
                "INSERT INTO item_instructions (item_id, leader_user_id, leader_name, text, \
                 created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(id)
            .bind(viewer.user_id.map(|u| u.get()))
            .bind(viewer.display_or_username())
            .bind(note.trim())
            .bind(now)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
            notify::to_item_units(
                &mut w.tx,
                id,
                false,
                &notify::Message {
                    kind: "instruction",
                    item_id: Some(id),
                    title: &format!("{}批示：{title}", viewer.display_or_username()),
                    body: note.trim(),
                    key: &format!("instruction:{instruction}"),
                },
            )
            .await?;
        }
        let closed_at = (next == ItemState::Closed).then_some(now);
        let changed = sqlx::query(
            "UPDATE items SET state = $1, version = version + 1, updated_at = $2, \
             closed_at = COALESCE($3, closed_at) WHERE id = $4 AND version = $5",
        )
        .bind(next.code())
        .bind(now)
        .bind(closed_at)
        .bind(id)
        .bind(version)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(Error::StaleVersion);
        }
        if action == Action::Assign {
            assigned(&mut w.tx, id, version, &title, now).await?;
        }
        if action == Action::Acknowledge
            && let Some(unit) = unit
        {
            sqlx::query(
                "UPDATE item_units SET acknowledged_at = COALESCE(acknowledged_at, $1) \
                 WHERE item_id = $2 AND unit_id = $3",
            )
            .bind(now)
            .bind(id)
            .bind(unit.get())
            .execute(&mut *w.tx)
            .await?;
        }
        notify_outcome(&mut w.tx, id, action, version, &title, note.trim()).await?;
        if !evidence.is_empty() {
            let owner = attachments::Owner {
                item_id: id,
                report_id: None,
                unit,
                kind: attachments::AttachmentKind::Closure,
            };
            attachments::record(&mut w, viewer, &owner, &evidence, now).await?;
        }
        w.item_progressed(id);
        history(
            &mut w.tx,
            id,
            action.label(),
            &viewer.display_or_username(),
            unit,
            Some(current),
            Some(next),
            note.trim(),
        )
        .await?;
        w.audit(
            viewer,
            AuditCode::ItemChanged,
            &format!("item:{id}"),
            Some(json!({ "state": current.code() })),
            Some(json!({ "state": next.code(), "action": action.label(), "note": note.trim() })),
        )
        .await?;
        w.commit().await?;
        Ok(next)
    }

    /// How the viewer stands to an item, for offering only the actions the rules allow.
    pub async fn item_standing(&self, viewer: &Viewer, id: i64) -> Result<Standing> {
        Ok(self.standing(viewer, id).await?.0)
    }

    /// A unit reports progress on an item it leads or co-owns.
    pub async fn report_progress(
        &self,
        viewer: &Viewer,
        id: i64,
        report: &NewReport,
    ) -> Result<()> {
        self.report_progress_batch(viewer, &[(id, report.clone())])
            .await
    }

    /// Several progress reports from one unit at once (the liaison's one page for all items):
    /// every report is checked first, then all are written in one transaction.
    pub async fn report_progress_batch(
        &self,
        viewer: &Viewer,
        reports: &[(i64, NewReport)],
    ) -> Result<()> {
        let reports = reports.iter().map(|(id, r)| (*id, r, Vec::new())).collect();
        self.write_reports(viewer, reports).await
    }

    /// One progress report with its attachments (附件): the files are checked with the report,
    /// written to disk before its transaction, and their rows written inside it.
    pub async fn report_progress_with_files(
        &self,
        viewer: &Viewer,
        id: i64,
        report: &NewReport,
        files: Vec<attachments::Upload>,
    ) -> Result<()> {
        self.write_reports(viewer, vec![(id, report, files)]).await
    }

    async fn write_reports(
        &self,
        viewer: &Viewer,
        reports: Vec<(i64, &NewReport, Vec<attachments::Upload>)>,
    ) -> Result<()> {
        let mut problems = Vec::new();
        let mut units = Vec::with_capacity(reports.len());
        for (id, report, files) in &reports {
            let (standing, unit) = self.standing(viewer, *id).await?;
            let prefix = if reports.len() > 1 {
                format!("事项{id}：")
            } else {
                String::new()
            };
            match unit {
                None => problems.push(crate::FieldProblem::new(
                    "item",
                    format!("{prefix}只能对本单位承办的事项报送进展"),
                )),
                Some(unit) => units.push((unit, standing)),
            }
            if report.done.trim().is_empty() {
                problems.push(crate::FieldProblem::new(
                    "done",
                    format!("{prefix}请填写已完成的工作"),
                ));
            }
            if let Some(p) = report.percent
                && !(0..=100).contains(&p)
            {
                problems.push(crate::FieldProblem::new(
                    "percent",
                    format!("{prefix}完成进度须在0到100之间"),
                ));
            }
            problems.extend(attachments::check_uploads(
                files,
                self.attachment_max_bytes(),
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        // Files first, rows in the transaction: a row never names a file that is not on disk.
        let mut written = Vec::with_capacity(reports.len());
        for (id, report, files) in reports {
            written.push((id, report, self.keep_files(files).await?));
        }
        let mut w = self.write().await?;
        let now = now_ms();
        for ((id, report, files), (unit, standing)) in written.into_iter().zip(units) {
            let row = sqlx::query("SELECT state FROM items WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *w.tx)
                .await?
                .ok_or(Error::NotFound("事项"))?;
            let current: String = row.try_get("state")?;
            let current = ItemState::from_code(&current).unwrap_or(ItemState::Registered);
            let next = transition(current, Action::ReportProgress, standing)
                .map_err(|refused| Error::invalid("action", refused.0))?;
            let report_id: i64 = sqlx::query(
                "INSERT INTO progress_reports (item_id, unit_id, author_id, author_name, \
                 reported_at, done, problems, coordination, next_steps, percent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(id)
            .bind(unit.get())
            .bind(viewer.user_id.map(|u| u.get()))
            .bind(viewer.display_or_username())
            .bind(now)
            .bind(report.done.trim())
            .bind(report.problems.trim())
            .bind(report.coordination.trim())
            .bind(report.next_steps.trim())
            .bind(report.percent)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
            w.report_added(report_id, id);
            let owner = attachments::Owner {
                item_id: id,
                report_id: Some(report_id),
                unit: Some(unit),
                kind: attachments::AttachmentKind::Report,
            };
            attachments::record(&mut w, viewer, &owner, &files, now).await?;
            sqlx::query(
                "UPDATE item_units SET last_report_at = $1, \
                 acknowledged_at = COALESCE(acknowledged_at, $1) WHERE item_id = $2 AND unit_id = $3",
            )
            .bind(now)
            .bind(id)
            .bind(unit.get())
            .execute(&mut *w.tx)
            .await?;
            if next != current {
                sqlx::query(
                    "UPDATE items SET state = $1, version = version + 1, updated_at = $2 \
                     WHERE id = $3",
                )
                .bind(next.code())
                .bind(now)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            }
            w.item_progressed(id);
            history(
                &mut w.tx,
                id,
                Action::ReportProgress.label(),
                &viewer.display_or_username(),
                Some(unit),
                Some(current),
                Some(next),
                "",
            )
            .await?;
            w.audit(
                viewer,
                AuditCode::ProgressReported,
                &format!("item:{id}"),
                None,
                Some(json!({ "unit_id": unit, "percent": report.percent })),
            )
            .await?;
        }
        w.commit().await
    }

    /// Ledger years that exist, newest first.
    pub async fn ledger_years(&self) -> Result<Vec<i64>> {
        let rows = self
            .read("SELECT year FROM ledgers ORDER BY year DESC", &[])
            .await?;
        rows.iter().map(|r| r.try_get("year")).collect()
    }
}

/// Problems of one field, gathered before anything is written.
type Problems = Vec<crate::FieldProblem>;

fn problem(problems: &mut Problems, field: &'static str, message: impl Into<String>) {
    problems.push(crate::FieldProblem::new(field, message));
}

/// An item's columns that the extension and reassignment steps read.
struct ItemHead {
    state: ItemState,
    version: i64,
    ledger_year: i64,
    title: String,
    deadline_text: String,
    due_date: Option<String>,
    lead_unit_id: Option<i64>,
}

impl Store {
    /// What the registration form offers: active units, leaders, 重点任务 of open ledgers.
    pub async fn registration_options(&self, sup: Supervisor<'_>) -> Result<RegistrationOptions> {
        let units = self
            .list_units(sup.viewer())
            .await?
            .into_iter()
            .filter(|u| !u.merged)
            .map(|u| (u.id.get(), u.name))
            .collect();
        let leaders = sqlx::query(
            "SELECT DISTINCT u.display_name FROM users u JOIN user_roles r ON r.user_id = u.id \
             WHERE r.role = 'leader' AND u.disabled = 0 ORDER BY u.display_name",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("display_name"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
        let groups = sqlx::query(
            "SELECT i.id, i.ledger_year, i.seq, i.title FROM items i \
             JOIN ledgers l ON l.year = i.ledger_year \
             WHERE i.is_group = 1 AND l.status = 'open' ORDER BY i.ledger_year DESC, i.id",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let seq: String = r.try_get("seq")?;
            let title: String = r.try_get("title")?;
            let year: i64 = r.try_get("ledger_year")?;
            let label = if seq.is_empty() {
                format!("{year}年 · {title}")
            } else {
                format!("{year}年 · {seq}. {title}")
            };
            Ok((r.try_get("id")?, year, label))
        })
        .collect::<Result<Vec<_>>>()?;
        let open_years =
            sqlx::query("SELECT year FROM ledgers WHERE status = 'open' ORDER BY year DESC")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("year"))
                .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(RegistrationOptions {
            units,
            leaders,
            groups,
            open_years,
        })
    }

    /// Checks a set of lead and co-units: the lead is required, every unit must be active.
    /// Returns the lead and the co-units without the lead or repeats.
    async fn check_units(
        &self,
        lead: Option<i64>,
        co: &[i64],
        problems: &mut Problems,
    ) -> Result<(Option<i64>, Vec<i64>)> {
        let active: HashMap<i64, String> = self
            .unit_names()
            .await?
            .into_iter()
            .map(|(id, name)| (id.get(), name))
            .collect();
        let lead = match lead {
            None => {
                problem(problems, "lead_unit_id", "请选择牵头单位");
                None
            }
            Some(id) if !active.contains_key(&id) => {
                problem(problems, "lead_unit_id", "所选牵头单位不存在或已合并");
                None
            }
            Some(id) => Some(id),
        };
        let mut co_units = Vec::new();
        for id in co {
            if !active.contains_key(id) {
                problem(problems, "co_unit_ids", "所选责任单位不存在或已合并");
            } else if Some(*id) != lead && !co_units.contains(id) {
                co_units.push(*id);
            }
        }
        Ok((lead, co_units))
    }

    /// The leader user a 责任领导 text names: the one active leader of that display name. An
    /// empty text names none; a name no leader has is a problem; a name shared by several
    /// leaders, or several names, is kept as text only.
    async fn match_leader(&self, text: &str, problems: &mut Problems) -> Result<Option<i64>> {
        let names: Vec<&str> = text
            .split(['、', '，', ',', ' ', '　'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let mut matched = Vec::new();
        for name in &names {
            let ids: Vec<i64> = sqlx::query(
                "SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
                 WHERE r.role = 'leader' AND u.disabled = 0 AND u.display_name = $1",
            )
            .bind(*name)
            .fetch_all(self.pool())
            .await?
            .iter()
            .filter_map(|r| r.try_get::<i64, _>("id").ok())
            .collect();
            if ids.is_empty() {
                problem(
                    problems,
                    "leader",
                    format!("没有名为“{name}”的领导，请核对姓名"),
                );
            }
            matched.push(ids);
        }
        Ok(match matched.as_slice() {
            [one] if one.len() == 1 => one.first().copied(),
            _ => None,
        })
    }

    /// Registers (立项) an item by hand: as a draft, or registered and assigned at once
    /// (`assign`), telling its units. Every field is checked first and every problem reported
    /// by field; nothing is written unless all pass.
    pub async fn create_item(
        &self,
        sup: Supervisor<'_>,
        new: &NewItem,
        assign: bool,
    ) -> Result<i64> {
        let viewer = sup.viewer();
        let mut problems = Problems::new();
        let title = new.title.trim();
        if title.is_empty() {
            problem(&mut problems, "title", "请填写事项名称");
        } else if title.chars().count() > 500 {
            problem(&mut problems, "title", "事项名称不能超过500字");
        }
        let source = Source::from_code(new.source.trim());
        if source.is_none() {
            problem(&mut problems, "source", "请选择事项来源");
        }
        let urgency = Urgency::from_code(new.urgency.trim());
        if urgency.is_none() {
            problem(&mut problems, "urgency", "请选择紧急程度");
        }
        let year = i16::try_from(new.ledger_year)
            .ok()
            .filter(|y| (2000..=2100).contains(y));
        match year {
            None => problem(&mut problems, "ledger_year", "请填写正确的台账年度"),
            Some(y) => {
                let status: Option<String> =
                    sqlx::query("SELECT status FROM ledgers WHERE year = $1")
                        .bind(i64::from(y))
                        .fetch_optional(self.pool())
                        .await?
                        .map(|r| r.try_get("status"))
                        .transpose()?;
                if status.as_deref() == Some("closed") {
                    problem(
                        &mut problems,
                        "ledger_year",
                        format!("{y}年台账已结账，不能再立项"),
                    );
                }
            }
        }
        let (lead, co) = self
            .check_units(new.lead_unit_id, &new.co_unit_ids, &mut problems)
            .await?;
        let leader_user_id = self.match_leader(&new.leader, &mut problems).await?;
        let critical = urgency == Some(Urgency::Critical);
        let deadline_text = match new.deadline.trim() {
            "" if critical => format!("交办后{CRITICAL_HOURS}小时内"),
            text => text.to_owned(),
        };
        let mut deadline = None;
        if new.deadline.trim().is_empty() {
            if !critical {
                problem(&mut problems, "deadline", "请填写完成时限");
            }
        } else if let Some(y) = year {
            let calendar = self.work_calendar().await?;
            match parse_deadline(&deadline_text, y, &calendar) {
                Ok(d) => {
                    if let (Some(due), Ok(start)) = (d.due(), Date::new(y, 1, 1))
                        && due < start
                    {
                        problem(
                            &mut problems,
                            "deadline",
                            format!("“{deadline_text}”早于{y}年台账的起始日期"),
                        );
                    } else {
                        deadline = Some(d);
                    }
                }
                Err(e) => problem(&mut problems, "deadline", e.message),
            }
        }
        let mut parent = None;
        if let Some(pid) = new.parent_id {
            let row = sqlx::query(
                "SELECT ledger_year, seq, category FROM items WHERE id = $1 AND is_group = 1",
            )
            .bind(pid)
            .fetch_optional(self.pool())
            .await?;
            match row {
                None => problem(&mut problems, "parent_id", "所选重点任务不存在"),
                Some(r) => {
                    let py: i64 = r.try_get("ledger_year")?;
                    if Some(py) != year.map(i64::from) {
                        problem(
                            &mut problems,
                            "parent_id",
                            format!("所选重点任务属于{py}年台账，与台账年度不一致"),
                        );
                    } else {
                        let seq: String = r.try_get("seq")?;
                        let category: String = r.try_get("category")?;
                        parent = Some((pid, seq, category));
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let (Some(year), Some(source), Some(urgency), Some(lead)) = (year, source, urgency, lead)
        else {
            return Err(Error::Internal("立项校验不完整".to_owned()));
        };
        let (kind, due, milestones, cadence, working_days) = match &deadline {
            Some(d) => deadline_columns(d),
            None => ("date", None, String::new(), None, None),
        };
        let cadence = cadence.or_else(|| (!critical).then(|| DEFAULT_CADENCE.to_owned()));
        let category = match (new.category.trim(), &parent) {
            ("", Some((_, _, c))) => c.clone(),
            (c, _) => c.to_owned(),
        };
        let seq = parent
            .as_ref()
            .map(|(_, s, _)| s.clone())
            .unwrap_or_default();
        let now = now_ms();
        let mut w = self.write().await?;
        let opened = sqlx::query(
            "INSERT INTO ledgers (year, opened_at, opened_by) VALUES ($1, $2, $3) \
             ON CONFLICT (year) DO NOTHING",
        )
        .bind(i64::from(year))
        .bind(now)
        .bind(&viewer.username)
        .execute(&mut *w.tx)
        .await?
        .rows_affected()
            > 0;
        let state = if assign {
            ItemState::Registered
        } else {
            ItemState::Draft
        };
        let id: i64 = sqlx::query(
            "INSERT INTO items (ledger_year, parent_id, seq, category, title, content, source, \
             source_ref, urgency, lead_unit_id, leader_text, leader_user_id, person_text, \
             deadline_text, deadline_kind, due_date, milestones, cadence, working_days, note, \
             state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22) RETURNING id",
        )
        .bind(i64::from(year))
        .bind(parent.as_ref().map(|(id, _, _)| *id))
        .bind(&seq)
        .bind(&category)
        .bind(title)
        .bind(new.content.trim())
        .bind(source.code())
        .bind(new.source_ref.trim())
        .bind(urgency.code())
        .bind(lead)
        .bind(new.leader.trim())
        .bind(leader_user_id)
        .bind(new.person.trim())
        .bind(&deadline_text)
        .bind(kind)
        .bind(due.clone())
        .bind(milestones)
        .bind(cadence.clone())
        .bind(working_days)
        .bind(new.note.trim())
        .bind(state.code())
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        sqlx::query("INSERT INTO item_units (item_id, unit_id, role) VALUES ($1, $2, 'lead')")
            .bind(id)
            .bind(lead)
            .execute(&mut *w.tx)
            .await?;
        for unit in &co {
            sqlx::query("INSERT INTO item_units (item_id, unit_id, role) VALUES ($1, $2, 'co')")
                .bind(id)
                .bind(unit)
                .execute(&mut *w.tx)
                .await?;
        }
        let actor = viewer.display_or_username();
        if assign {
            w.item_changed(id);
            history(
                &mut w.tx,
                id,
                Action::Register.label(),
                &actor,
                None,
                None,
                Some(ItemState::Registered),
                "",
            )
            .await?;
            sqlx::query("UPDATE items SET state = 'assigned' WHERE id = $1")
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            assigned(&mut w.tx, id, 1, title, now).await?;
            w.item_changed(id);
            history(
                &mut w.tx,
                id,
                Action::Assign.label(),
                &actor,
                None,
                Some(ItemState::Registered),
                Some(ItemState::Assigned),
                "",
            )
            .await?;
        } else {
            w.item_changed(id);
            history(
                &mut w.tx,
                id,
                "登记草稿",
                &actor,
                None,
                None,
                Some(ItemState::Draft),
                "",
            )
            .await?;
        }
        w.audit(
            viewer,
            AuditCode::ItemRegistered,
            &format!("item:{id}"),
            None,
            Some(json!({
                "ledger_year": year,
                "title": title,
                "source": source.code(),
                "source_ref": new.source_ref.trim(),
                "urgency": urgency.code(),
                "lead_unit_id": lead,
                "co_unit_ids": co,
                "leader": new.leader.trim(),
                "leader_user_id": leader_user_id,
                "deadline": deadline_text,
                "due_date": due,
                "cadence": cadence,
                "parent_id": parent.as_ref().map(|(id, _, _)| *id),
                "state": if assign { "assigned" } else { "draft" },
                "ledger_opened": opened,
            })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    async fn item_head(&self, conn: &mut sqlx::AnyConnection, id: i64) -> Result<ItemHead> {
        let row = sqlx::query(
            "SELECT state, version, ledger_year, title, deadline_text, due_date, lead_unit_id \
             FROM items WHERE id = $1 AND is_group = 0",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("事项"))?;
        let state: String = row.try_get("state")?;
        Ok(ItemHead {
            state: ItemState::from_code(&state).unwrap_or(ItemState::Registered),
            version: row.try_get("version")?,
            ledger_year: row.try_get("ledger_year")?,
            title: row.try_get("title")?,
            deadline_text: row.try_get("deadline_text")?,
            due_date: row.try_get("due_date")?,
            lead_unit_id: row.try_get("lead_unit_id")?,
        })
    }

    /// The lead unit asks for a new deadline (申请延期): a date, or 完成时限 text read in the
    /// ledger's year, that is later than the current one, with a reason. The supervision office
    /// is told; one request may wait at a time.
    pub async fn request_extension(
        &self,
        viewer: &Viewer,
        id: i64,
        version: i64,
        new_deadline: &str,
        reason: &str,
    ) -> Result<()> {
        let (standing, unit) = self.standing(viewer, id).await?;
        if standing == Standing::Other {
            return Err(Error::NotFound("事项"));
        }
        let calendar = self.work_calendar().await?;
        let mut w = self.write().await?;
        let head = self.item_head(&mut w.tx, id).await?;
        transition(head.state, Action::RequestExtension, standing)
            .map_err(|refused| Error::invalid("action", refused.0))?;
        if head.version != version {
            return Err(Error::StaleVersion);
        }
        let mut problems = Problems::new();
        let pending = sqlx::query(
            "SELECT id FROM item_deadline_changes WHERE item_id = $1 AND status = 'pending'",
        )
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?;
        if pending.is_some() {
            problem(
                &mut problems,
                "action",
                "已有一项延期申请待审批，请等待督查室审批",
            );
        }
        let text = new_deadline.trim();
        let mut new_due = None;
        if text.is_empty() {
            problem(&mut problems, "new_deadline", "请填写延期后的完成时限");
        } else {
            let year = i16::try_from(head.ledger_year).unwrap_or(2000);
            match parse_deadline(text, year, &calendar) {
                Err(e) => problem(&mut problems, "new_deadline", e.message),
                Ok(d) => match d.due() {
                    None => problem(
                        &mut problems,
                        "new_deadline",
                        "延期后的完成时限须是一个具体日期，如“9月30日前”",
                    ),
                    Some(due) => {
                        let old = head
                            .due_date
                            .as_deref()
                            .and_then(|d| d.parse::<Date>().ok());
                        if let Some(old) = old
                            && due <= old
                        {
                            problem(
                                &mut problems,
                                "new_deadline",
                                format!("新的完成时限（{due}）须晚于原时限（{old}）"),
                            );
                        } else {
                            new_due = Some(due);
                        }
                    }
                },
            }
        }
        if reason.trim().is_empty() {
            problem(&mut problems, "reason", "请写明延期理由");
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let Some(new_due) = new_due else {
            return Err(Error::Internal("延期校验不完整".to_owned()));
        };
        let now = now_ms();
        let change: i64 = sqlx::query(
            "INSERT INTO item_deadline_changes (item_id, unit_id, old_deadline_text, \
             old_due_date, new_deadline_text, new_due_date, reason, requested_by, \
             requested_by_name, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id",
        )
        .bind(id)
        .bind(unit.map(UnitId::get))
        .bind(&head.deadline_text)
        .bind(head.due_date.clone())
        .bind(text)
        .bind(new_due.to_string())
        .bind(reason.trim())
        .bind(viewer.user_id.map(|u| u.get()))
        .bind(viewer.display_or_username())
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        bump_version(&mut w.tx, id, version, now).await?;
        let asked = if text == new_due.to_string() {
            new_due.to_string()
        } else {
            format!("{new_due}（{text}）")
        };
        let note = format!("申请延期至{asked}：{}", reason.trim());
        w.item_changed(id);
        history(
            &mut w.tx,
            id,
            Action::RequestExtension.label(),
            &viewer.display_or_username(),
            unit,
            Some(head.state),
            Some(head.state),
            &note,
        )
        .await?;
        to_supervisors(
            &mut w.tx,
            &notify::Message {
                kind: "extension_requested",
                item_id: Some(id),
                title: &format!("申请延期，待审批：{}", head.title),
                body: &note,
                key: &format!("extension-requested:{change}"),
            },
        )
        .await?;
        w.audit(
            viewer,
            AuditCode::ExtensionRequested,
            &format!("item:{id}"),
            Some(json!({ "deadline": head.deadline_text, "due_date": head.due_date })),
            Some(json!({
                "request": change,
                "deadline": text,
                "due_date": new_due.to_string(),
                "reason": reason.trim(),
            })),
        )
        .await?;
        w.commit().await
    }

    /// The supervision office decides the pending extension request (审批延期): approval moves
    /// the item's deadline to the one asked for; refusal keeps it and needs a reason. The lead
    /// unit is told either way; the request stays in the deadline history.
    pub async fn decide_extension(
        &self,
        viewer: &Viewer,
        id: i64,
        version: i64,
        approve: bool,
        note: &str,
    ) -> Result<()> {
        let (standing, _) = self.standing(viewer, id).await?;
        if standing == Standing::Other {
            return Err(Error::NotFound("事项"));
        }
        let mut w = self.write().await?;
        let head = self.item_head(&mut w.tx, id).await?;
        transition(head.state, Action::DecideExtension, standing)
            .map_err(|refused| Error::invalid("action", refused.0))?;
        if head.version != version {
            return Err(Error::StaleVersion);
        }
        let pending = sqlx::query(
            "SELECT id, new_deadline_text, new_due_date FROM item_deadline_changes \
             WHERE item_id = $1 AND status = 'pending'",
        )
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| Error::invalid("action", "没有待审批的延期申请"))?;
        if !approve && note.trim().is_empty() {
            return Err(Error::invalid("decision_note", "不同意延期时请写明理由"));
        }
        let change: i64 = pending.try_get("id")?;
        let new_text: String = pending.try_get("new_deadline_text")?;
        let new_due: String = pending.try_get("new_due_date")?;
        let now = now_ms();
        sqlx::query(
            "UPDATE item_deadline_changes SET status = $1, decided_by_name = $2, \
             decided_at = $3, decision_note = $4 WHERE id = $5",
        )
        .bind(if approve { "approved" } else { "refused" })
        .bind(viewer.display_or_username())
        .bind(now)
        .bind(note.trim())
        .bind(change)
        .execute(&mut *w.tx)
        .await?;
        if approve {
            // The new deadline is a date: a 特急 item's 24-hour instant no longer applies.
            sqlx::query(
                "UPDATE items SET deadline_text = $1, due_date = $2, deadline_kind = 'date', \
                 due_at = NULL WHERE id = $3",
            )
            .bind(&new_text)
            .bind(&new_due)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        }
        bump_version(&mut w.tx, id, version, now).await?;
        let (action, outcome) = if approve {
            let to = if new_text == new_due {
                new_due.clone()
            } else {
                format!("{new_due}（{new_text}）")
            };
            ("同意延期", format!("完成时限调整为{to}"))
        } else {
            ("不同意延期", format!("完成时限仍为{}", head.deadline_text))
        };
        let history_note = if note.trim().is_empty() {
            outcome.clone()
        } else {
            format!("{outcome}；{}", note.trim())
        };
        w.item_changed(id);
        history(
            &mut w.tx,
            id,
            action,
            &viewer.display_or_username(),
            None,
            Some(head.state),
            Some(head.state),
            &history_note,
        )
        .await?;
        notify::to_item_units(
            &mut w.tx,
            id,
            true,
            &notify::Message {
                kind: "extension_decided",
                item_id: Some(id),
                title: &format!("{action}：{}", head.title),
                body: &history_note,
                key: &format!("extension-decided:{change}"),
            },
        )
        .await?;
        w.audit(
            viewer,
            AuditCode::ExtensionDecided,
            &format!("item:{id}"),
            Some(json!({ "deadline": head.deadline_text, "due_date": head.due_date })),
            Some(json!({
                "request": change,
                "approved": approve,
                "deadline": if approve { new_text } else { head.deadline_text.clone() },
                "due_date": if approve { Some(new_due) } else { head.due_date.clone() },
                "note": note.trim(),
            })),
        )
        .await?;
        w.commit().await
    }

    /// Changes an item's lead and co-units (after a 退回交办, or on a draft): the units that
    /// leave no longer see it; the new ones are told when it is assigned again.
    pub async fn change_item_units(
        &self,
        sup: Supervisor<'_>,
        id: i64,
        version: i64,
        lead: Option<i64>,
        co: &[i64],
    ) -> Result<()> {
        let viewer = sup.viewer();
        let mut problems = Problems::new();
        let (lead, co) = self.check_units(lead, co, &mut problems).await?;
        let mut w = self.write().await?;
        let head = self.item_head(&mut w.tx, id).await?;
        if !matches!(head.state, ItemState::Draft | ItemState::Registered) {
            return Err(Error::invalid(
                "action",
                format!(
                    "事项当前为“{}”，只有草稿或已立项（含被退回交办）的事项可以调整承办单位",
                    head.state.label()
                ),
            ));
        }
        if head.version != version {
            return Err(Error::StaleVersion);
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let Some(lead) = lead else {
            return Err(Error::invalid("lead_unit_id", "请选择牵头单位"));
        };
        let before = self.unit_roles(&mut w.tx, id).await?;
        let mut keep: Vec<i64> = vec![lead];
        keep.extend(co.iter().copied());
        for (unit, _, _) in &before {
            if !keep.contains(unit) {
                sqlx::query("DELETE FROM item_units WHERE item_id = $1 AND unit_id = $2")
                    .bind(id)
                    .bind(unit)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
        for (unit, role) in std::iter::once((lead, "lead")).chain(co.iter().map(|c| (*c, "co"))) {
            sqlx::query(
                "INSERT INTO item_units (item_id, unit_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (item_id, unit_id) DO UPDATE SET role = excluded.role",
            )
            .bind(id)
            .bind(unit)
            .bind(role)
            .execute(&mut *w.tx)
            .await?;
        }
        let now = now_ms();
        sqlx::query("UPDATE items SET lead_unit_id = $1 WHERE id = $2")
            .bind(lead)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        bump_version(&mut w.tx, id, version, now).await?;
        let after = self.unit_roles(&mut w.tx, id).await?;
        let describe = |roles: &[(i64, String, String)]| {
            let lead: Vec<&str> = roles
                .iter()
                .filter(|r| r.2 == "lead")
                .map(|r| r.1.as_str())
                .collect();
            let co: Vec<&str> = roles
                .iter()
                .filter(|r| r.2 == "co")
                .map(|r| r.1.as_str())
                .collect();
            format!(
                "牵头单位：{}；责任单位：{}",
                lead.join("、"),
                if co.is_empty() {
                    "无".to_owned()
                } else {
                    co.join("、")
                }
            )
        };
        let note = format!("原{}。现{}", describe(&before), describe(&after));
        w.item_changed(id);
        history(
            &mut w.tx,
            id,
            "调整承办单位",
            &viewer.display_or_username(),
            None,
            Some(head.state),
            Some(head.state),
            &note,
        )
        .await?;
        w.audit(
            viewer,
            AuditCode::ItemUnitsChanged,
            &format!("item:{id}"),
            Some(json!({ "lead_unit_id": head.lead_unit_id, "units": before.iter().map(|r| r.0).collect::<Vec<_>>() })),
            Some(json!({ "lead_unit_id": lead, "units": after.iter().map(|r| r.0).collect::<Vec<_>>() })),
        )
        .await?;
        w.commit().await
    }

    /// (unit id, name, role) of an item's units, lead first.
    async fn unit_roles(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Vec<(i64, String, String)>> {
        sqlx::query(
            "SELECT iu.unit_id, un.name, iu.role FROM item_units iu \
             JOIN units un ON un.id = iu.unit_id WHERE iu.item_id = $1 ORDER BY iu.role DESC, un.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("unit_id")?, r.try_get("name")?, r.try_get("role")?)))
        .collect()
    }

    /// An item's deadline history, newest first.
    async fn deadline_changes(&self, id: i64) -> Result<Vec<DeadlineChange>> {
        self.read(
            "SELECT c.id, COALESCE(un.name, '') AS unit_name, c.old_deadline_text, \
             c.old_due_date, c.new_deadline_text, c.new_due_date, c.reason, \
             c.requested_by_name, c.requested_at, c.status, c.decided_by_name, c.decided_at, \
             c.decision_note FROM item_deadline_changes c LEFT JOIN units un ON un.id = c.unit_id \
             WHERE c.item_id = $1 ORDER BY c.id DESC",
            &[Bind::I(id)],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(DeadlineChange {
                id: r.try_get("id")?,
                unit_name: r.try_get("unit_name")?,
                old_deadline_text: r.try_get("old_deadline_text")?,
                old_due_date: r.try_get("old_due_date")?,
                new_deadline_text: r.try_get("new_deadline_text")?,
                new_due_date: r.try_get("new_due_date")?,
                reason: r.try_get("reason")?,
                requested_by_name: r.try_get("requested_by_name")?,
                requested_at: r.try_get("requested_at")?,
                status: r.try_get("status")?,
                decided_by_name: r.try_get("decided_by_name")?,
                decided_at: r.try_get("decided_at")?,
                decision_note: r.try_get("decision_note")?,
            })
        })
        .collect()
    }

    /// The number of items matching `filter` and `signal` read from the tallies, when the
    /// viewer sees every item and the filter is one the tallies keep (a year, a state or a
    /// queue, red or yellow); `None` when it must be counted.
    async fn tallied_total(
        &self,
        viewer: &Viewer,
        filter: &ItemFilter,
        signal: Option<Signal>,
        today: Date,
        yellow_days: u32,
    ) -> Result<Option<i64>> {
        let plain = matches!(scope(viewer), Scope::All)
            && filter.unit_id.is_none()
            && filter.overdue_on.is_none()
            && filter.query.as_ref().is_none_or(|q| q.trim().is_empty());
        if !plain {
            return Ok(None);
        }
        // Read before taking a connection: a request must never hold one pooled connection
        // while it waits for another, or a full pool waits on itself.
        let calendar = match signal {
            Some(Signal::Red | Signal::Yellow) => self.work_calendar().await?,
            _ => std::sync::Arc::new(WorkCalendar::default()),
        };
        let year = filter.year;
        let state = filter.state.map(ItemState::code);
        let n = match (signal, filter.queue, state) {
            (None, None, Some(state)) => {
                tallies::named_sum(self, year, &format!("state:{state}")).await?
            }
            (None, None, None) => tallies::named_sum(self, year, "state:%").await?,
            (None, Some(Queue::ClosureRequested), None) => {
                tallies::named_sum(self, year, "state:closure_requested").await?
            }
            (None, Some(queue), None) => {
                tallies::named_sum(self, year, &format!("queue:{}", queue.code())).await?
            }
            (Some(signal @ (Signal::Red | Signal::Yellow)), None, state) => {
                let (from, to) = if signal == Signal::Red {
                    (None, today.yesterday().ok().map(|d| d.to_string()))
                } else {
                    (
                        Some(today.to_string()),
                        Some(calendar.add_workdays(today, yellow_days).to_string()),
                    )
                };
                let by_date =
                    tallies::due_sum(self, year, state, from.as_deref(), to.as_deref()).await?;
                // 特急 items count by the hour: few, counted afresh over their own index.
                let until = calendar.add_workdays(today, yellow_days);
                let Some((where_sql, mut binds)) = item_where(viewer, filter) else {
                    return Ok(Some(0));
                };
                let Some((_, critical)) = signal_parts(signal, today, until, now_ms(), &mut binds)
                else {
                    return Ok(None);
                };
                let sql = format!(
                    "SELECT COUNT(*) AS n FROM items i WHERE i.is_group = 0 {where_sql} \
                     AND {critical}"
                );
                let critical = self.read_count(&sql, &binds).await?;
                by_date + critical
            }
            _ => return Ok(None),
        };
        Ok(Some(n))
    }

    /// How many items the viewer may see are in each supervisor queue (of one year, or all).
    pub async fn queue_counts(&self, viewer: &Viewer, year: Option<i64>) -> Result<QueueCounts> {
        let mut counts = QueueCounts::default();
        if matches!(scope(viewer), Scope::All) {
            // The supervisor's view: read from the tallies (see `crate::tallies`), in one query.
            let name = |queue: Queue| match queue {
                Queue::ClosureRequested => "state:closure_requested".to_owned(),
                other => format!("queue:{}", other.code()),
            };
            let names: Vec<String> = Queue::ALL.into_iter().map(name).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let sums = tallies::named_sums(self, year, &refs).await?;
            let n = |queue: Queue| sums.get(&name(queue)).copied().unwrap_or(0);
            counts.unacknowledged = n(Queue::Unacknowledged);
            counts.coordination = n(Queue::Coordination);
            counts.closure_requested = n(Queue::ClosureRequested);
            counts.extension = n(Queue::Extension);
            return Ok(counts);
        }
        for queue in Queue::ALL {
            let filter = ItemFilter {
                year,
                queue: Some(queue),
                ..ItemFilter::default()
            };
            let Some((where_sql, binds)) = item_where(viewer, &filter) else {
                return Ok(QueueCounts::default());
            };
            // No text filter here, so the parent need not be joined.
            let sql = format!("SELECT COUNT(*) AS n FROM items i WHERE i.is_group = 0 {where_sql}");
            let q = bound(sql, binds);
            let n: i64 = q.fetch_one(self.pool()).await?.try_get("n")?;
            match queue {
                Queue::Unacknowledged => counts.unacknowledged = n,
                Queue::Coordination => counts.coordination = n,
                Queue::ClosureRequested => counts.closure_requested = n,
                Queue::Extension => counts.extension = n,
            }
        }
        Ok(counts)
    }
}

/// Moves an item to its next version, refusing a stale copy.
async fn bump_version(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    version: i64,
    now: i64,
) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE items SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3",
    )
    .bind(now)
    .bind(id)
    .bind(version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::StaleVersion);
    }
    Ok(())
}

/// The condition for the open items the viewer may see: a unit's are found by the `item_open`
/// flag of its unit rows, so its closed items of earlier years are never read.
fn open_where(viewer: &Viewer) -> Option<(&'static str, Vec<Bind>)> {
    match scope(viewer) {
        Scope::Nothing => None,
        Scope::All => Some((
            " AND i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested')",
            Vec::new(),
        )),
        Scope::Unit(unit) => Some((
            " AND i.id IN (SELECT v.item_id FROM item_units v WHERE v.unit_id = $1 \
             AND v.item_open = 1)",
            vec![Bind::I(unit.get())],
        )),
    }
}

/// Results kept by a key that holds the items generation (moved by every write to items, on
/// every node) and the day: each unit's open items in order of pressure (the batch page of a
/// busy city unit ranks hundreds), the ids of a ledger filtered by a signal that only each
/// item's cadence decides (stalled, green), the tally sums of a ledger page, and boards. Most
/// requests follow no change to any item.
#[derive(Debug)]
pub(crate) struct KeptLists<T> {
    lists: std::sync::Mutex<HashMap<String, Arc<T>>>,
    /// How many it keeps at most (all are dropped when it is full).
    capacity: usize,
}

impl<T> Default for KeptLists<T> {
    fn default() -> Self {
        KeptLists::with_capacity(KEPT_LISTS)
    }
}

/// Lists a store keeps at most of each kind.
const KEPT_LISTS: usize = 1024;

impl<T> KeptLists<T> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        KeptLists {
            lists: std::sync::Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Arc<T>> {
        self.lists.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: String, list: Arc<T>) {
        if let Ok(mut lists) = self.lists.lock() {
            if lists.len() >= self.capacity {
                lists.clear();
            }
            lists.insert(key, list);
        }
    }
}

/// A unit's open items, most pressing first: (rank, last report, id).
pub(crate) type OpenOrder = Vec<(u8, i64, i64)>;

/// One page of a unit's open items, most pressing first, with the counts of all of them.
#[derive(Clone, Debug, Default)]
pub struct UnitOpenPage {
    pub rows: Vec<ItemRow>,
    pub total: usize,
    pub red: usize,
    pub yellow: usize,
    pub stalled: usize,
    /// 1-based, within `1..=pages`.
    pub page: usize,
    pub pages: usize,
}

#[derive(Default)]
struct Extras {
    co: HashMap<i64, Vec<String>>,
    latest: HashMap<i64, String>,
    last_report: HashMap<i64, Option<i64>>,
}

impl Extras {
    /// Puts a row's co-units and latest progress in (its signal was computed already).
    fn fill(&self, row: &mut ItemRow) {
        row.co_units = self.co.get(&row.id).cloned().unwrap_or_default();
        row.latest_progress = self.latest.get(&row.id).cloned().unwrap_or_default();
    }
}

pub(crate) use crate::read::Bind;

/// A query built at run time (`sql` holds only our own text and `$n` placeholders) with its
/// values bound in order.
pub(crate) fn bound(
    sql: String,
    binds: impl IntoIterator<Item = Bind>,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = match b {
            Bind::I(v) => q.bind(v),
            Bind::S(v) => q.bind(v),
        };
    }
    q
}

/// A page of the ledger list: its rows, the number of all matching items, and the key of the
/// next page (the last row's id) when there is one.
#[derive(Clone, Debug, Default)]
pub struct ItemPage {
    pub rows: Vec<ItemRow>,
    pub total: i64,
    pub next_after: Option<i64>,
}

/// `rows` holds up to `take + 1` rows; the extra one only says that another page follows.
fn page_of(mut rows: Vec<ItemRow>, take: usize, total: i64) -> ItemPage {
    let more = rows.len() > take;
    rows.truncate(take);
    let next_after = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    ItemPage {
        rows,
        total,
        next_after,
    }
}

/// The conditions on `items i` for a red or yellow signal (as [`signal`] and
/// [`critical_signal`] decide them), as two parts: items counted by due date, and 特急 items
/// counted by the hour. Either part alone uses an index; `None` for the other signals. `until`
/// is the last day that is still yellow (the Nth working day after today).
fn signal_parts(
    signal: Signal,
    today: Date,
    until: Date,
    now: i64,
    binds: &mut Vec<Bind>,
) -> Option<(String, String)> {
    const OPEN: &str = "i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested')";
    const CRITICAL: &str = "(i.urgency = 'critical' AND i.due_at IS NOT NULL)";
    let mut bind = |b: Bind| {
        binds.push(b);
        binds.len()
    };
    match signal {
        Signal::Red => {
            let d = bind(Bind::S(today.to_string()));
            let t = bind(Bind::I(now));
            Some((
                format!("{OPEN} AND i.due_date < ${d} AND NOT {CRITICAL}"),
                format!("{OPEN} AND {CRITICAL} AND i.due_at < ${t}"),
            ))
        }
        Signal::Yellow => {
            let d = bind(Bind::S(today.to_string()));
            let u = bind(Bind::S(until.to_string()));
            let t = bind(Bind::I(now));
            let h = bind(Bind::I(now + CRITICAL_YELLOW_HOURS * 3_600_000));
            Some((
                format!("{OPEN} AND i.due_date >= ${d} AND i.due_date <= ${u} AND NOT {CRITICAL}"),
                format!("{OPEN} AND {CRITICAL} AND i.due_at >= ${t} AND i.due_at <= ${h}"),
            ))
        }
        _ => None,
    }
}

/// Both parts of [`signal_parts`] as one condition.
fn signal_condition(
    signal: Signal,
    today: Date,
    until: Date,
    now: i64,
    binds: &mut Vec<Bind>,
) -> String {
    match signal_parts(signal, today, until, now, binds) {
        Some((by_date, critical)) => format!(" AND (({by_date}) OR ({critical}))"),
        None => String::new(),
    }
}

/// The visibility and filter conditions, with their binds; `None` when the viewer sees nothing.
pub(crate) fn item_where(viewer: &Viewer, filter: &ItemFilter) -> Option<(String, Vec<Bind>)> {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        binds.len()
    };
    match scope(viewer) {
        Scope::Nothing => return None,
        Scope::All => {}
        Scope::Unit(unit) => {
            let n = next(Bind::I(unit.get()), &mut binds);
            sql.push_str(&format!(
                " AND i.state <> 'draft' AND i.id IN (SELECT v.item_id FROM item_units v WHERE v.unit_id = ${n})"
            ));
        }
    }
    if let Some(year) = filter.year {
        let n = next(Bind::I(year), &mut binds);
        sql.push_str(&format!(" AND i.ledger_year = ${n}"));
    }
    if let Some(state) = filter.state {
        let n = next(Bind::S(state.code().to_owned()), &mut binds);
        sql.push_str(&format!(" AND i.state = ${n}"));
    }
    if let Some(unit) = filter.unit_id {
        let n = next(Bind::I(unit.get()), &mut binds);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM item_units f WHERE f.item_id = i.id AND f.unit_id = ${n})"
        ));
    }
    if let Some(q) = filter.query.as_ref().filter(|q| !q.trim().is_empty()) {
        let n = next(Bind::S(format!("%{}%", q.trim())), &mut binds);
        sql.push_str(&format!(" AND (i.title LIKE ${n} OR p.title LIKE ${n})"));
    }
    if let Some(day) = filter.overdue_on {
        let n = next(Bind::S(day.to_string()), &mut binds);
        sql.push_str(&format!(
            " AND i.due_date < ${n} AND i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested')"
        ));
    }
    if let Some(queue) = filter.queue {
        sql.push_str(queue.list_condition());
    }
    Some((sql, binds))
}

/// An item's signal from its row (`state`, `due_date`, `cadence`, `urgency`, `assigned_at`,
/// `due_at`) and its last report.
fn row_signal(
    r: &crate::read::Row,
    last_report_at: Option<i64>,
    calendar: &WorkCalendar,
    today: Date,
    yellow_days: u32,
) -> Result<Signal> {
    let state: String = r.try_get("state")?;
    let state = ItemState::from_code(&state).unwrap_or(ItemState::Registered);
    let due_date: Option<String> = r.try_get("due_date")?;
    let cadence: Option<String> = r.try_get("cadence")?;
    let due = due_date.as_deref().and_then(|d| d.parse::<Date>().ok());
    let last_report = last_report_at.and_then(beijing_date);
    let urgency: String = r.try_get("urgency")?;
    let urgency = Urgency::from_code(&urgency).unwrap_or(Urgency::Normal);
    let assigned_at: Option<i64> = r.try_get("assigned_at")?;
    let due_at: Option<i64> = r.try_get("due_at")?;
    // A report date before the item was assigned owes no report.
    let assigned_on = assigned_at.and_then(beijing_date);
    let next_report = cadence
        .as_deref()
        .and_then(|c| next_report_date(c, today))
        .filter(|d| assigned_on.is_none_or(|a| *d >= a));
    // 特急 items count in hours from assignment (see `critical_signal`).
    Ok(match due_at.filter(|_| urgency == Urgency::Critical) {
        Some(at) => critical_signal(state, at, now_ms()),
        None => signal(
            state,
            due,
            next_report,
            last_report,
            today,
            yellow_days,
            calendar,
        ),
    })
}

fn item_from_row(
    r: &crate::read::Row,
    extras: &Extras,
    calendar: &WorkCalendar,
    today: Date,
    yellow_days: u32,
) -> Result<ItemRow> {
    let id: i64 = r.try_get("id")?;
    let state: String = r.try_get("state")?;
    let state = ItemState::from_code(&state).unwrap_or(ItemState::Registered);
    let due_date: Option<String> = r.try_get("due_date")?;
    let cadence: Option<String> = r.try_get("cadence")?;
    let last_report_at = extras.last_report.get(&id).copied().flatten();
    let urgency: String = r.try_get("urgency")?;
    let urgency = Urgency::from_code(&urgency).unwrap_or(Urgency::Normal);
    let assigned_at: Option<i64> = r.try_get("assigned_at")?;
    let due_at: Option<i64> = r.try_get("due_at")?;
    let critical_due = due_at.filter(|_| urgency == Urgency::Critical);
    let now = now_ms();
    let light = row_signal(r, last_report_at, calendar, today, yellow_days)?;
    Ok(ItemRow {
        id,
        ledger_year: r.try_get("ledger_year")?,
        parent_id: r.try_get("parent_id")?,
        parent_title: r.try_get("parent_title")?,
        seq: r.try_get("seq")?,
        category: r.try_get("category")?,
        title: r.try_get("title")?,
        lead_unit_id: r.try_get("lead_unit_id")?,
        lead_unit: r.try_get("lead_unit")?,
        co_units: extras.co.get(&id).cloned().unwrap_or_default(),
        leader: r.try_get("leader_text")?,
        person: r.try_get("person_text")?,
        deadline_text: r.try_get("deadline_text")?,
        signal: light,
        due_date,
        cadence,
        state,
        note: r.try_get("note")?,
        version: r.try_get("version")?,
        latest_progress: extras.latest.get(&id).cloned().unwrap_or_default(),
        last_report_at,
        urgency,
        assigned_at,
        due_at,
        hours_left: critical_due
            .filter(|_| state.is_open())
            .map(|at| hours_left(at, now)),
    })
}

/// The Beijing date of an instant.
fn beijing_date(ms: i64) -> Option<Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| {
        t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .date()
    })
}

/// The instant a Beijing day begins.
fn beijing_midnight_ms(day: Date) -> Option<i64> {
    day.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// The most recent report date of a cadence on or before `today` (the one a report is owed
/// for), for the signal's "stalled" rule.
fn next_report_date(cadence: &str, today: Date) -> Option<Date> {
    let (kind, arg) = cadence.split_once(':').unwrap_or((cadence, ""));
    match kind {
        "monthly" => {
            let day: i8 = arg.split(',').next()?.parse().ok()?;
            let this_month = today.first_of_month();
            let candidate = this_month
                .checked_add(
                    jiff::Span::new().days(i64::from(day.min(this_month.days_in_month())) - 1),
                )
                .ok()?;
            if candidate <= today {
                Some(candidate)
            } else {
                let prev = this_month.checked_sub(jiff::Span::new().months(1)).ok()?;
                prev.checked_add(
                    jiff::Span::new().days(i64::from(day.min(prev.days_in_month())) - 1),
                )
                .ok()
            }
        }
        _ => None,
    }
}

type DeadlineColumns = (
    &'static str,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
);

fn deadline_columns(deadline: &Deadline) -> DeadlineColumns {
    let milestones = match deadline {
        Deadline::Milestones(dates) => dates
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    };
    let cadence = match deadline {
        Deadline::Recurring(c) => Some(c.code()),
        _ => None,
    };
    let working_days = match deadline {
        Deadline::Relative { working_days } => Some(i64::from(*working_days)),
        _ => None,
    };
    (
        deadline.kind(),
        deadline.due().map(|d| d.to_string()),
        milestones,
        cadence,
        working_days,
    )
}

/// Checks every row; returns the rows ready to write and every problem found.
fn check_rows<'a>(
    rows: &'a [TaskRow],
    year: i16,
    calendar: &WorkCalendar,
    units: &[(UnitId, String)],
    existing: &HashSet<String>,
) -> (Vec<CheckedRow<'a>>, Vec<RowProblem>) {
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let by_name: HashMap<&str, Vec<UnitId>> =
        units.iter().fold(HashMap::new(), |mut m, (id, n)| {
            m.entry(n.as_str()).or_default().push(*id);
            m
        });
    let problem = |row: usize, column: &str, reason: String| RowProblem {
        row,
        column: column.to_owned(),
        reason,
    };
    let resolve = |name: &str| -> std::result::Result<UnitId, String> {
        match by_name.get(name).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some(many) if many.len() > 1 => Err(format!("有{}个单位名为“{name}”", many.len())),
            _ => Err(format!(
                "单位“{name}”不存在{}",
                crate::units::suggest_names(name, units.iter().map(|(_, n)| n.as_str()))
            )),
        }
    };
    if rows.is_empty() {
        problems.push(problem(0, "文件", "没有任何事项".to_owned()));
    }
    let year_start = Date::new(year, 1, 1).ok();
    for r in rows {
        let mut ok = true;
        if r.measure.trim().is_empty() {
            problems.push(problem(r.row, "具体措施", "不能为空".to_owned()));
            ok = false;
        }
        let lead = if r.lead_unit.trim().is_empty() {
            problems.push(problem(r.row, "牵头单位", "不能为空".to_owned()));
            None
        } else {
            match resolve(r.lead_unit.trim()) {
                Ok(id) => Some(id),
                Err(reason) => {
                    problems.push(problem(r.row, "牵头单位", reason));
                    None
                }
            }
        };
        let mut co = Vec::new();
        for name in &r.co_units {
            match resolve(name.trim()) {
                Ok(id) => co.push(id),
                Err(reason) => {
                    problems.push(problem(r.row, "责任单位", reason));
                    ok = false;
                }
            }
        }
        let deadline = if r.deadline.trim().is_empty() {
            problems.push(problem(r.row, "完成时限", "不能为空".to_owned()));
            None
        } else {
            match parse_deadline(r.deadline.trim(), year, calendar) {
                Ok(d) => {
                    if let (Some(due), Some(start)) = (d.due(), year_start)
                        && due < start
                    {
                        problems.push(problem(
                            r.row,
                            "完成时限",
                            format!("“{}”早于{year}年台账的起始日期", r.deadline.trim()),
                        ));
                        None
                    } else {
                        Some(d)
                    }
                }
                Err(e) => {
                    problems.push(problem(r.row, "完成时限", e.message));
                    None
                }
            }
        };
        let dedup = format!(
            "{}|{}|{}",
            normalise(&r.task),
            normalise(&r.measure),
            normalise(&r.lead_unit)
        );
        if let Some(first) = seen.get(&dedup) {
            problems.push(problem(r.row, "具体措施", format!("与第{first}行重复")));
            ok = false;
        } else {
            seen.insert(dedup.clone(), r.row);
            if existing.contains(&dedup) {
                problems.push(problem(
                    r.row,
                    "具体措施",
                    "台账中已有同一重点任务、具体措施和牵头单位的事项，不能重复导入".to_owned(),
                ));
                ok = false;
            }
        }
        if let (true, Some(lead), Some(deadline)) = (ok, lead, deadline) {
            co.retain(|c| *c != lead);
            checked.push(CheckedRow {
                row: r,
                lead,
                co,
                deadline,
                dedup,
            });
        }
    }
    problems.sort_by_key(|p| p.row);
    (checked, problems)
}

/// What assigning (交办) an item does besides its state: the assignment time, the instant a
/// 特急 item falls due (24 hours later; its due date is that instant's day unless the
/// deadline named one), and the message to every unit of the item.
async fn assigned(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    version: i64,
    title: &str,
    now: i64,
) -> Result<()> {
    let row = sqlx::query("SELECT urgency, deadline_text FROM items WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let urgency: String = row.try_get("urgency")?;
    let deadline_text: String = row.try_get("deadline_text")?;
    let due_at =
        (Urgency::from_code(&urgency) == Some(Urgency::Critical)).then(|| critical_due_at(now));
    let due_day = due_at.and_then(beijing_date).map(|d| d.to_string());
    sqlx::query(
        "UPDATE items SET assigned_at = $1, due_at = $2, due_date = COALESCE(due_date, $3) \
         WHERE id = $4",
    )
    .bind(now)
    .bind(due_at)
    .bind(due_day)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let body = if due_at.is_some() {
        format!("特急：请于交办后{CRITICAL_HOURS}小时内办结。{deadline_text}")
    } else {
        format!("完成时限：{deadline_text}")
    };
    notify::to_item_units(
        conn,
        id,
        false,
        &notify::Message {
            kind: "assigned",
            item_id: Some(id),
            title: &format!("新交办事项：{title}"),
            body: &body,
            key: &format!("assigned:{id}:v{version}"),
        },
    )
    .await
}

/// Tells every active user of the supervision office.
async fn to_supervisors(conn: &mut sqlx::AnyConnection, m: &notify::Message<'_>) -> Result<()> {
    let supervisors: Vec<i64> = sqlx::query(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE r.role = 'supervisor' AND u.disabled = 0",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|r| r.try_get::<i64, _>("id").ok())
    .collect();
    for user in supervisors {
        notify::to_user(conn, user, m).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn history(
    conn: &mut sqlx::AnyConnection,
    item: i64,
    action: &str,
    actor: &str,
    unit: Option<UnitId>,
    from: Option<ItemState>,
    to: Option<ItemState>,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO item_history (item_id, action, actor_name, unit_id, from_state, to_state, \
         note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(item)
    .bind(action)
    .bind(actor)
    .bind(unit.map(UnitId::get))
    .bind(from.map(|s| s.code()))
    .bind(to.map(|s| s.code()))
    .bind(note)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Tells the people a step concerns: the lead unit of a review, the supervisors of a closure
/// request, and every leader who instructed on an item that closes (批示件闭环).
async fn notify_outcome(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    action: Action,
    version: i64,
    title: &str,
    note: &str,
) -> Result<()> {
    match action {
        Action::ApproveClosure => {
            notify::to_item_units(
                conn,
                id,
                true,
                &notify::Message {
                    kind: "closed",
                    item_id: Some(id),
                    title: &format!("办结申请已通过：{title}"),
                    body: note,
                    key: &format!("closed:{id}:{version}"),
                },
            )
            .await?;
            let leaders: Vec<(i64, i64)> = sqlx::query(
                "SELECT id, leader_user_id FROM item_instructions \
                 WHERE item_id = $1 AND leader_user_id IS NOT NULL",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .filter_map(|r| Some((r.try_get("id").ok()?, r.try_get("leader_user_id").ok()?)))
            .collect();
            for (instruction, leader) in leaders {
                notify::to_user(
                    conn,
                    leader,
                    &notify::Message {
                        kind: "instruction_closed",
                        item_id: Some(id),
                        title: &format!("您批示的事项已办结：{title}"),
                        body: "",
                        key: &format!("instruction-closed:{instruction}"),
                    },
                )
                .await?;
            }
        }
        Action::SendBack => {
            notify::to_item_units(
                conn,
                id,
                true,
                &notify::Message {
                    kind: "sent_back",
                    item_id: Some(id),
                    title: &format!("办结申请被退回：{title}"),
                    body: note,
                    key: &format!("sent-back:{id}:{version}"),
                },
            )
            .await?;
        }
        Action::RequestClosure | Action::Dispute => {
            let supervisors: Vec<i64> = sqlx::query(
                "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
                 WHERE r.role = 'supervisor' AND u.disabled = 0",
            )
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .filter_map(|r| r.try_get::<i64, _>("id").ok())
            .collect();
            let (kind, what) = if action == Action::RequestClosure {
                ("closure_requested", "申请办结，待审核")
            } else {
                ("disputed", "退回交办，待调整")
            };
            for user in supervisors {
                notify::to_user(
                    conn,
                    user,
                    &notify::Message {
                        kind,
                        item_id: Some(id),
                        title: &format!("{what}：{title}"),
                        body: note,
                        key: &format!("{kind}:{id}:{version}"),
                    },
                )
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}
