//! Monthly and weekly plans (月计划/周计划) of the supervision ledger: for a month
//! (`/supervision/plan?month=2026-11`) or a week starting on Monday
//! (`/supervision/plan?week=2026-11-23`), what falls due — due dates, milestones, report dates
//! of each item's cadence — and the open items already overdue, grouped by lead unit, with
//! links to the previous and next period; the same plan exports as Excel.
//!
//! Read-only; visibility is the ledger's, decided in the store (`Store::supervision_plan`).
//! Who may open it is checked here as the ledger export does: supervisors and leaders, and a
//! unit's liaison or head (who see only their unit's items); anyone else gets 403.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use crate::util::beijing_today;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use zhongshu_domain::access::Capability;
use zhongshu_domain::plan::{Due, Period, PeriodKind};
use zhongshu_office::export::ExportRow;
use zhongshu_store::plans::Plan;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision/plan", get(plan_page))
        .route("/supervision/plan/export", get(plan_export))
}

/// The period as the query string carries it: `month=2026-11` or `week=2026-11-23` (any day
/// of the week); neither means this month.
#[derive(Deserialize, Default, Clone)]
pub struct PlanQuery {
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub week: String,
}

impl PlanQuery {
    fn period(&self) -> Result<Period, WebError> {
        let today = beijing_today();
        if !self.week.trim().is_empty() {
            return Period::parse_week(&self.week).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "周“{}”不正确：请写成该周任一天的日期，如“{}”",
                    self.week.trim(),
                    Period::week_of(today).code()
                ))
            });
        }
        if !self.month.trim().is_empty() {
            return Period::parse_month(&self.month).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "月份“{}”不正确：请写成“{}”这样的年月",
                    self.month.trim(),
                    Period::month_of(today).code()
                ))
            });
        }
        Ok(Period::month_of(today))
    }
}

/// A link to another period.
pub struct PeriodLink {
    pub label: String,
    pub query: String,
}

impl PeriodLink {
    fn to(period: &Period, label: &str) -> PeriodLink {
        PeriodLink {
            label: label.to_owned(),
            query: format!("{}={}", period.kind_code(), period.code()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/plan.html")]
pub struct PlanPage {
    pub shell: Shell,
    pub plan: Plan,
    pub is_month: bool,
    /// `2026年11月` / `2026年11月23日至11月29日`.
    pub label: String,
    pub previous: PeriodLink,
    pub next: PeriodLink,
    /// This month or week, when another one is shown.
    pub current: Option<PeriodLink>,
    /// The month holding this period's first day, and its week.
    pub as_month: PeriodLink,
    pub as_week: PeriodLink,
    /// The query of this period, for the export link.
    pub query: String,
    /// Lines of each kind: (code, label, count).
    pub counts: Vec<(&'static str, &'static str, usize)>,
    /// The viewer sees only their own unit's items.
    pub own_unit: bool,
}

/// Opens the plan to the ledger's readers and to units; records and refuses anyone else.
async fn load(state: &AppState, session: &Session, q: &PlanQuery) -> Result<Plan, WebError> {
    let viewer = &session.viewer;
    if !viewer.can(Capability::SeeAllItems) && !viewer.can(Capability::ActForUnit) {
        return Err(session.refuse(state, "supervision:plan").await);
    }
    let period = q.period()?;
    Ok(state
        .store
        .supervision_plan(
            viewer,
            &period,
            beijing_today(),
            state.settings.signals.yellow_workdays,
        )
        .await?)
}

async fn plan_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PlanQuery>,
) -> Result<Response, WebError> {
    let plan = load(&state, &session, &q).await?;
    let period = plan.period;
    let today = beijing_today();
    let this = match period.kind {
        PeriodKind::Month => Period::month_of(today),
        PeriodKind::Week => Period::week_of(today),
    };
    let (is_month, title) = match period.kind {
        PeriodKind::Month => (true, "月计划"),
        PeriodKind::Week => (false, "周计划"),
    };
    let counts = plan
        .counts()
        .into_iter()
        .map(|(due, n)| (due.code(), due.label(), n))
        .collect();
    let page = PlanPage {
        shell: Shell::new(&state, &session.viewer, title, "/supervision/plan").await?,
        is_month,
        label: period.label(),
        previous: PeriodLink::to(
            &period.previous(),
            if is_month { "上一月" } else { "上一周" },
        ),
        next: PeriodLink::to(&period.next(), if is_month { "下一月" } else { "下一周" }),
        current: (this != period)
            .then(|| PeriodLink::to(&this, if is_month { "本月" } else { "本周" })),
        as_month: PeriodLink::to(&Period::month_of(period.start), "月计划"),
        as_week: PeriodLink::to(&Period::week_of(period.start), "周计划"),
        query: format!("{}={}", period.kind_code(), period.code()),
        counts,
        own_unit: !session.viewer.can(Capability::SeeAllItems),
        plan,
    };
    Ok(page.into_response())
}

/// The plan's lines in the ledger export's columns: 截止日期 holds the line's date and 备注
/// what falls due on it (截止、节点、报送进展、逾期未完成).
pub fn plan_rows(plan: &Plan) -> Vec<ExportRow> {
    plan.entries()
        .map(|e| {
            let r = &e.item;
            let note = match e.due {
                Due::Overdue => format!(
                    "{}（截止日期{}）",
                    e.due.label(),
                    r.due_date.as_deref().unwrap_or("")
                ),
                _ => e.due.label().to_owned(),
            };
            ExportRow {
                seq: r.seq.clone(),
                task: r.parent_title.clone(),
                measure: r.title.clone(),
                lead_unit: r.lead_unit.clone(),
                co_units: r.co_units.join("、"),
                leader: r.leader.clone(),
                person: r.person.clone(),
                deadline: r.deadline_text.clone(),
                note,
                due_date: e.date.to_string(),
                state: r.state.label().to_owned(),
                signal: r.signal.label().to_owned(),
                latest_progress: r.latest_progress.clone(),
            }
        })
        .collect()
}

async fn plan_export(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PlanQuery>,
) -> Result<Response, WebError> {
    let plan = load(&state, &session, &q).await?;
    let kind = match plan.period.kind {
        PeriodKind::Month => "月计划",
        PeriodKind::Week => "周计划",
    };
    let title = format!("督查督办{kind}（{}）", plan.period.label());
    crate::supervision::items_workbook(&title, &plan_rows(&plan), "plan.xlsx")
}
