//! Inspections (督查): 专项督查, 暗访, 联合督查 and 实地督查 of some units by some bodies (督查室,
//! 纪检, 组织部, 人大, 政协, 媒体). Each finding opens a rectification item (整改) in the ledger of
//! its deadline's year, led by the unit it concerns, so it reaches that unit's pages and the
//! ledger like any other item; a finding of 不作为, 慢作为 or 乱作为 may be referred to discipline
//! inspection (纪检) or the organisation department (组织部), and the referral is recorded.
//!
//! Only the supervision office records; whoever sees the whole ledger (the office and leaders)
//! reads. Every write is one transaction with its audit event.

use crate::error::{Error, FieldProblem, Result};
use crate::ledger::{deadline_text, item_history, ledger_status};
use crate::{Store, db::now_ms};
use jiff::civil::Date;
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;
use zhongshu_domain::access::{Capability, Forbidden, Supervisor, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::supervision::ItemState;

/// The category rectification items carry in the ledger.
pub const RECTIFICATION_CATEGORY: &str = "督查整改";

macro_rules! coded {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and sent by forms.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.code() == code.trim())
            }
        }
    };
}

coded!(
    /// What kind of inspection.
    InspectionKind {
        Special => ("special", "专项督查"),
        Unannounced => ("unannounced", "暗访"),
        Joint => ("joint", "联合督查"),
        OnSite => ("on_site", "实地督查"),
    }
);

coded!(
    /// A body taking part in an inspection.
    Body {
        Office => ("office", "督查室"),
        Discipline => ("discipline", "纪检"),
        Organisation => ("organisation", "组织部"),
        Congress => ("congress", "人大"),
        Cppcc => ("cppcc", "政协"),
        Media => ("media", "媒体"),
    }
);

coded!(
    /// Where a finding is referred for accountability.
    ReferralTo {
        Discipline => ("discipline", "纪检监察机关"),
        Organisation => ("organisation", "组织部"),
    }
);

coded!(
    /// The conduct a referral names.
    Conduct {
        Inaction => ("inaction", "不作为"),
        SlowAction => ("slow_action", "慢作为"),
        Misconduct => ("misconduct", "乱作为"),
    }
);

/// An inspection as the office records it. Fields a form could not parse are `None`, so every
/// problem is reported here, by field.
#[derive(Clone, Debug, Default)]
pub struct NewInspection {
    pub title: String,
    pub kind: Option<InspectionKind>,
    pub bodies: Vec<Body>,
    pub units: Vec<UnitId>,
    pub inspected_on: Option<Date>,
    pub summary: String,
}

/// A finding: the problem, the unit it concerns (one of the inspected units) and the deadline
/// of its rectification.
#[derive(Clone, Debug, Default)]
pub struct NewFinding {
    pub problem: String,
    pub unit: Option<UnitId>,
    pub deadline: Option<Date>,
}

/// A referral of a finding for accountability.
#[derive(Clone, Debug, Default)]
pub struct NewReferral {
    pub to: Option<ReferralTo>,
    pub conduct: Option<Conduct>,
    pub note: String,
}

/// An inspection as the list shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InspectionRow {
    pub id: i64,
    pub title: String,
    pub kind: InspectionKind,
    pub inspected_on: String,
    pub bodies: Vec<Body>,
    pub units: Vec<String>,
    pub findings: i64,
    /// Findings whose rectification item is not closed yet.
    pub open_rectifications: i64,
    pub referrals: i64,
}

/// A unit an inspection covered.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InspectedUnit {
    pub id: i64,
    pub name: String,
}

/// A referral as recorded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Referral {
    pub id: i64,
    pub to: ReferralTo,
    pub conduct: Conduct,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A finding with its rectification item and referrals.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    pub id: i64,
    pub problem: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub deadline: String,
    /// The rectification item now: the one the finding opened, or its copy in a later year's
    /// ledger when 结账 carried it over (结转).
    pub item_id: i64,
    pub item_year: i64,
    pub item_state: ItemState,
    /// The item was carried over from the year the finding opened it in.
    pub carried: bool,
    pub created_by: String,
    pub created_at: i64,
    pub referrals: Vec<Referral>,
}

/// An inspection with everything its page shows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InspectionDetail {
    pub id: i64,
    pub title: String,
    pub kind: InspectionKind,
    pub inspected_on: String,
    pub summary: String,
    pub bodies: Vec<Body>,
    pub units: Vec<InspectedUnit>,
    pub created_by: String,
    pub created_at: i64,
    pub findings: Vec<Finding>,
}

/// A rectification item where it is now.
struct CurrentItem {
    id: i64,
    year: i64,
    state: ItemState,
}

fn forbidden() -> Error {
    Error::Forbidden(Forbidden {
        capability: Capability::SeeAllItems,
    })
}

fn too_long(text: &str, max: usize) -> bool {
    text.chars().count() > max
}

impl Store {
    /// Records an inspection; returns its id.
    pub async fn record_inspection(&self, sup: Supervisor<'_>, new: &NewInspection) -> Result<i64> {
        let mut problems = Vec::new();
        let title = new.title.trim();
        if title.is_empty() {
            problems.push(FieldProblem::new("title", "请填写督查名称"));
        } else if too_long(title, 200) {
            problems.push(FieldProblem::new("title", "督查名称不能超过200个字"));
        }
        if new.kind.is_none() {
            problems.push(FieldProblem::new("kind", "请选择督查方式"));
        }
        if new.bodies.is_empty() {
            problems.push(FieldProblem::new("bodies", "请至少选择一个参加单位"));
        }
        if new.units.is_empty() {
            problems.push(FieldProblem::new("units", "请至少选择一个被督查单位"));
        }
        if new.inspected_on.is_none() {
            problems.push(FieldProblem::new("inspected_on", "请填写督查日期"));
        }
        if too_long(new.summary.trim(), 5000) {
            problems.push(FieldProblem::new("summary", "督查情况不能超过5000个字"));
        }
        let active = self.active_unit_ids(&new.units).await?;
        if new.units.iter().any(|u| !active.contains_key(&u.get())) {
            problems.push(FieldProblem::new("units", "被督查单位不存在或已合并"));
        }
        let (Some(kind), Some(day), true) = (new.kind, new.inspected_on, problems.is_empty())
        else {
            return Err(Error::Invalid(problems));
        };
        let mut bodies = new.bodies.clone();
        bodies.sort_by_key(|b| Body::ALL.iter().position(|x| x == b));
        bodies.dedup();
        let mut units: Vec<i64> = new.units.iter().map(|u| u.get()).collect();
        units.sort_unstable();
        units.dedup();
        let now = now_ms();
        let mut w = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO inspections (title, kind, inspected_on, summary, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(title)
        .bind(kind.code())
        .bind(day.to_string())
        .bind(new.summary.trim())
        .bind(sup.viewer().display_or_username())
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        for body in &bodies {
            sqlx::query("INSERT INTO inspection_bodies (inspection_id, body) VALUES ($1, $2)")
                .bind(id)
                .bind(body.code())
                .execute(&mut *w.tx)
                .await?;
        }
        for unit in &units {
            sqlx::query("INSERT INTO inspection_units (inspection_id, unit_id) VALUES ($1, $2)")
                .bind(id)
                .bind(*unit)
                .execute(&mut *w.tx)
                .await?;
        }
        w.audit(
            sup.viewer(),
            AuditCode::InspectionRecorded,
            &format!("inspection:{id}"),
            None,
            Some(json!({
                "title": title, "kind": kind.code(), "inspected_on": day.to_string(),
                "bodies": bodies.iter().map(|b| b.code()).collect::<Vec<_>>(), "units": units,
            })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// The active units among `ids`, by id with their names.
    async fn active_unit_ids(&self, ids: &[UnitId]) -> Result<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids
            .iter()
            .map(|u| u.get().to_string())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, name FROM units WHERE status = 'active' AND id IN ({list})"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
    }

    /// Every inspection, newest first.
    pub async fn list_inspections(&self, viewer: &Viewer) -> Result<Vec<InspectionRow>> {
        if !viewer.can(Capability::SeeAllItems) {
            return Err(forbidden());
        }
        let rows = sqlx::query(
            "SELECT s.id, s.title, s.kind, s.inspected_on, \
             (SELECT COUNT(*) FROM inspection_findings f WHERE f.inspection_id = s.id) AS findings, \
             (SELECT COUNT(*) FROM inspection_referrals r JOIN inspection_findings f \
              ON f.id = r.finding_id WHERE f.inspection_id = s.id) AS referrals \
             FROM inspections s ORDER BY s.inspected_on DESC, s.id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        let bodies = self.bodies_by_inspection(None).await?;
        let opened: Vec<(i64, i64)> =
            sqlx::query("SELECT inspection_id, item_id FROM inspection_findings")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| Ok((r.try_get("inspection_id")?, r.try_get("item_id")?)))
                .collect::<Result<_>>()?;
        let current = self
            .current_items(&opened.iter().map(|(_, item)| *item).collect::<Vec<_>>())
            .await?;
        let mut open: HashMap<i64, i64> = HashMap::new();
        for (inspection, item) in &opened {
            if current.get(item).is_some_and(|c| c.state.is_open()) {
                *open.entry(*inspection).or_default() += 1;
            }
        }
        let mut units: HashMap<i64, Vec<String>> = HashMap::new();
        for r in sqlx::query(
            "SELECT iu.inspection_id, u.name FROM inspection_units iu \
             JOIN units u ON u.id = iu.unit_id ORDER BY u.sort_order, u.id",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        {
            units
                .entry(r.try_get("inspection_id")?)
                .or_default()
                .push(r.try_get("name")?);
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let kind: String = r.try_get("kind")?;
                Ok(InspectionRow {
                    id,
                    title: r.try_get("title")?,
                    kind: InspectionKind::from_code(&kind).unwrap_or(InspectionKind::Special),
                    inspected_on: r.try_get("inspected_on")?,
                    bodies: bodies.get(&id).cloned().unwrap_or_default(),
                    units: units.remove(&id).unwrap_or_default(),
                    findings: r.try_get("findings")?,
                    open_rectifications: open.get(&id).copied().unwrap_or(0),
                    referrals: r.try_get("referrals")?,
                })
            })
            .collect()
    }

    async fn bodies_by_inspection(&self, id: Option<i64>) -> Result<HashMap<i64, Vec<Body>>> {
        let rows = sqlx::query(
            "SELECT inspection_id, body FROM inspection_bodies \
             WHERE $1 IS NULL OR inspection_id = $1",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut out: HashMap<i64, Vec<Body>> = HashMap::new();
        for r in &rows {
            let code: String = r.try_get("body")?;
            if let Some(body) = Body::from_code(&code) {
                out.entry(r.try_get("inspection_id")?)
                    .or_default()
                    .push(body);
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|b| Body::ALL.iter().position(|x| x == b));
        }
        Ok(out)
    }

    /// One inspection with its units, findings (each with its rectification item's state) and
    /// referrals.
    pub async fn get_inspection(&self, viewer: &Viewer, id: i64) -> Result<InspectionDetail> {
        if !viewer.can(Capability::SeeAllItems) {
            return Err(forbidden());
        }
        let row = sqlx::query(
            "SELECT id, title, kind, inspected_on, summary, created_by, created_at \
             FROM inspections WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(Error::NotFound("督查"))?;
        let units = sqlx::query(
            "SELECT u.id, u.name FROM inspection_units iu JOIN units u ON u.id = iu.unit_id \
             WHERE iu.inspection_id = $1 ORDER BY u.sort_order, u.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(InspectedUnit {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let mut referrals: HashMap<i64, Vec<Referral>> = HashMap::new();
        for r in sqlx::query(
            "SELECT r.id, r.finding_id, r.referred_to, r.conduct, r.note, r.created_by, \
             r.created_at FROM inspection_referrals r JOIN inspection_findings f \
             ON f.id = r.finding_id WHERE f.inspection_id = $1 ORDER BY r.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        {
            let to: String = r.try_get("referred_to")?;
            let conduct: String = r.try_get("conduct")?;
            referrals
                .entry(r.try_get("finding_id")?)
                .or_default()
                .push(Referral {
                    id: r.try_get("id")?,
                    to: ReferralTo::from_code(&to).unwrap_or(ReferralTo::Discipline),
                    conduct: Conduct::from_code(&conduct).unwrap_or(Conduct::Inaction),
                    note: r.try_get("note")?,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                });
        }
        let rows = sqlx::query(
            "SELECT f.id, f.problem, f.unit_id, u.name AS unit_name, f.deadline, f.item_id, \
             f.created_by, f.created_at FROM inspection_findings f \
             JOIN units u ON u.id = f.unit_id WHERE f.inspection_id = $1 ORDER BY f.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let opened: Vec<i64> = rows
            .iter()
            .map(|r| Ok(r.try_get("item_id")?))
            .collect::<Result<_>>()?;
        let current = self.current_items(&opened).await?;
        let findings = rows
            .iter()
            .map(|r| {
                let fid: i64 = r.try_get("id")?;
                let opened: i64 = r.try_get("item_id")?;
                let now = current.get(&opened).ok_or(Error::NotFound("整改事项"))?;
                Ok(Finding {
                    id: fid,
                    problem: r.try_get("problem")?,
                    unit_id: r.try_get("unit_id")?,
                    unit_name: r.try_get("unit_name")?,
                    deadline: r.try_get("deadline")?,
                    item_id: now.id,
                    item_year: now.year,
                    item_state: now.state,
                    carried: now.id != opened,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                    referrals: referrals.remove(&fid).unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let kind: String = row.try_get("kind")?;
        Ok(InspectionDetail {
            id,
            title: row.try_get("title")?,
            kind: InspectionKind::from_code(&kind).unwrap_or(InspectionKind::Special),
            inspected_on: row.try_get("inspected_on")?,
            summary: row.try_get("summary")?,
            bodies: self
                .bodies_by_inspection(Some(id))
                .await?
                .remove(&id)
                .unwrap_or_default(),
            units,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            findings,
        })
    }

    /// Where each of these items is now: itself, or the end of its chain of 结转 copies.
    async fn current_items(&self, ids: &[i64]) -> Result<HashMap<i64, CurrentItem>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let read = |r: &sqlx::any::AnyRow| -> Result<CurrentItem> {
            let state: String = r.try_get("state")?;
            Ok(CurrentItem {
                id: r.try_get("id")?,
                year: r.try_get("ledger_year")?,
                state: ItemState::from_code(&state).unwrap_or(ItemState::Assigned),
            })
        };
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, ledger_year, state FROM items WHERE id IN ({})",
            list(ids)
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        {
            let item = read(r)?;
            out.insert(item.id, item);
        }
        // Follow the copies year by year: origin → its latest copy so far.
        let mut frontier: HashMap<i64, i64> = out.keys().map(|id| (*id, *id)).collect();
        for _ in 0..50 {
            if frontier.is_empty() {
                break;
            }
            let at: Vec<i64> = frontier.keys().copied().collect();
            let mut next = HashMap::new();
            for r in sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, ledger_year, state, carried_from FROM items WHERE carried_from IN ({})",
                list(&at)
            )))
            .fetch_all(self.pool())
            .await?
            .iter()
            {
                let from: i64 = r.try_get("carried_from")?;
                let copy = read(r)?;
                if let Some(origin) = frontier.get(&from) {
                    next.insert(copy.id, *origin);
                    out.insert(*origin, copy);
                }
            }
            frontier = next;
        }
        Ok(out)
    }

    /// Records a finding and opens its rectification item (整改) in the ledger of the
    /// deadline's year (opening that year if needed): led by the unit concerned, assigned, with
    /// a history row, under a 重点任务 named after the inspection. Returns (finding, item).
    pub async fn record_finding(
        &self,
        sup: Supervisor<'_>,
        inspection: i64,
        new: &NewFinding,
    ) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT title, kind, inspected_on FROM inspections WHERE id = $1")
            .bind(inspection)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("督查"))?;
        let title: String = row.try_get("title")?;
        let kind: String = row.try_get("kind")?;
        let kind = InspectionKind::from_code(&kind).unwrap_or(InspectionKind::Special);
        let inspected_on: String = row.try_get("inspected_on")?;
        let mut problems = Vec::new();
        let problem = new.problem.trim();
        if problem.is_empty() {
            problems.push(FieldProblem::new("problem", "请填写发现的问题"));
        } else if too_long(problem, 2000) {
            problems.push(FieldProblem::new("problem", "问题描述不能超过2000个字"));
        }
        let unit = match new.unit {
            None => {
                problems.push(FieldProblem::new("unit", "请选择问题所在单位"));
                None
            }
            Some(unit) => {
                let covered = sqlx::query(
                    "SELECT 1 AS n FROM inspection_units iu JOIN units u ON u.id = iu.unit_id \
                     WHERE iu.inspection_id = $1 AND iu.unit_id = $2 AND u.status = 'active'",
                )
                .bind(inspection)
                .bind(unit.get())
                .fetch_optional(self.pool())
                .await?;
                if covered.is_none() {
                    problems.push(FieldProblem::new("unit", "问题所在单位须为本次被督查单位"));
                }
                Some(unit)
            }
        };
        match new.deadline {
            None => problems.push(FieldProblem::new("deadline", "请填写整改期限")),
            Some(d) if d.to_string() < inspected_on => problems.push(FieldProblem::new(
                "deadline",
                format!("整改期限不能早于督查日期{inspected_on}"),
            )),
            Some(d) if !(2000..=2100).contains(&d.year()) => {
                problems.push(FieldProblem::new("deadline", "整改期限不正确"));
            }
            Some(_) => {}
        }
        let (Some(unit), Some(deadline), true) = (unit, new.deadline, problems.is_empty()) else {
            return Err(Error::Invalid(problems));
        };
        let year = i64::from(deadline.year());
        let actor = sup.viewer().display_or_username();
        let now = now_ms();
        let mut w = self.write().await?;
        let ledger_opened = match ledger_status(&mut w.tx, year).await?.as_deref() {
            Some("closed") => {
                return Err(Error::invalid(
                    "deadline",
                    format!("{year}年台账已结账，整改期限请定在{}年以后", year + 1),
                ));
            }
            Some(_) => false,
            None => {
                sqlx::query("INSERT INTO ledgers (year, opened_at, opened_by) VALUES ($1, $2, $3)")
                    .bind(year)
                    .bind(now)
                    .bind(&sup.viewer().username)
                    .execute(&mut *w.tx)
                    .await?;
                true
            }
        };
        let source_ref = format!("inspection:{inspection}");
        let group = sqlx::query(
            "SELECT id FROM items WHERE ledger_year = $1 AND is_group = 1 \
             AND source = 'rectification' AND source_ref = $2",
        )
        .bind(year)
        .bind(&source_ref)
        .fetch_optional(&mut *w.tx)
        .await?;
        let group: i64 = match group {
            Some(r) => r.try_get("id")?,
            None => sqlx::query(
                "INSERT INTO items (ledger_year, is_group, category, title, source, source_ref, \
                 state, created_at, updated_at) VALUES ($1, 1, $2, $3, 'rectification', $4, \
                 'assigned', $5, $5) RETURNING id",
            )
            .bind(year)
            .bind(RECTIFICATION_CATEGORY)
            .bind(format!("{}：{title}", kind.label()))
            .bind(&source_ref)
            .bind(now)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?,
        };
        let note = format!("{inspected_on}{}发现问题，限期整改", kind.label());
        let item: i64 = sqlx::query(
            "INSERT INTO items (ledger_year, parent_id, category, title, content, source, \
             source_ref, lead_unit_id, deadline_text, deadline_kind, due_date, note, state, \
             assigned_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $4, 'rectification', \
             $5, $6, $7, 'date', $8, $9, 'assigned', $10, $10, $10) RETURNING id",
        )
        .bind(year)
        .bind(group)
        .bind(RECTIFICATION_CATEGORY)
        .bind(problem)
        .bind(&source_ref)
        .bind(unit.get())
        .bind(deadline_text(deadline))
        .bind(deadline.to_string())
        .bind(&note)
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        sqlx::query("INSERT INTO item_units (item_id, unit_id, role) VALUES ($1, $2, 'lead')")
            .bind(item)
            .bind(unit.get())
            .execute(&mut *w.tx)
            .await?;
        w.item_changed(item);
        item_history(
            &mut w.tx,
            item,
            "督查交办整改",
            &actor,
            None,
            None,
            Some(ItemState::Assigned),
            &format!("{}“{title}”发现问题，限{}前整改", kind.label(), deadline),
            now,
        )
        .await?;
        let finding: i64 = sqlx::query(
            "INSERT INTO inspection_findings (inspection_id, unit_id, problem, deadline, item_id, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(inspection)
        .bind(unit.get())
        .bind(problem)
        .bind(deadline.to_string())
        .bind(item)
        .bind(&actor)
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        w.audit(
            sup.viewer(),
            AuditCode::FindingRecorded,
            &format!("inspection:{inspection}"),
            None,
            Some(json!({
                "finding_id": finding, "item_id": item, "unit_id": unit.get(),
                "deadline": deadline.to_string(), "ledger_year": year,
                "ledger_opened": ledger_opened,
            })),
        )
        .await?;
        w.commit().await?;
        Ok((finding, item))
    }

    /// Records the referral of a finding to 纪检 or 组织部; a finding goes to each at most once.
    pub async fn record_referral(
        &self,
        sup: Supervisor<'_>,
        finding: i64,
        new: &NewReferral,
    ) -> Result<i64> {
        let row = sqlx::query("SELECT inspection_id FROM inspection_findings WHERE id = $1")
            .bind(finding)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("督查发现的问题"))?;
        let inspection: i64 = row.try_get("inspection_id")?;
        let mut problems = Vec::new();
        if new.to.is_none() {
            problems.push(FieldProblem::new("to", "请选择移交机关"));
        }
        if new.conduct.is_none() {
            problems.push(FieldProblem::new("conduct", "请选择问题性质"));
        }
        if too_long(new.note.trim(), 2000) {
            problems.push(FieldProblem::new("note", "说明不能超过2000个字"));
        }
        let (Some(to), Some(conduct), true) = (new.to, new.conduct, problems.is_empty()) else {
            return Err(Error::Invalid(problems));
        };
        let now = now_ms();
        let mut w = self.write().await?;
        let already = sqlx::query(
            "SELECT 1 AS n FROM inspection_referrals WHERE finding_id = $1 AND referred_to = $2",
        )
        .bind(finding)
        .bind(to.code())
        .fetch_optional(&mut *w.tx)
        .await?;
        if already.is_some() {
            return Err(Error::invalid("to", format!("该问题已移交{}", to.label())));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO inspection_referrals (finding_id, referred_to, conduct, note, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(finding)
        .bind(to.code())
        .bind(conduct.code())
        .bind(new.note.trim())
        .bind(sup.viewer().display_or_username())
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        w.audit(
            sup.viewer(),
            AuditCode::ReferralRecorded,
            &format!("inspection:{inspection}"),
            None,
            Some(json!({
                "referral_id": id, "finding_id": finding, "to": to.code(),
                "conduct": conduct.code(), "note": new.note.trim(),
            })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }
}
