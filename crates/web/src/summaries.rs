//! Progress summaries (进展汇总): the week's or month's progress reports gathered by lead unit or
//! by responsible leader, with the items nobody reported on named, as a page and as a Word
//! document in the official layout — so units never re-type what they already reported (减负).
//!
//! Who sees what is the ledger's rule, applied by the store: the supervision office and leaders
//! get every unit, a unit's liaison or head only their own unit; anyone else is refused here.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use crate::util::{beijing_time, beijing_today, url_encode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::civil::Date;
use serde::Deserialize;
use zhongshu_domain::access::Capability;
use zhongshu_office::summary::{SummaryEntry, SummaryGroup, SummaryReport, write_summary_docx};
use zhongshu_store::summaries::{GroupBy, Period, PeriodKind, Summary, SummaryItem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision/summaries", get(summary_page))
        .route("/supervision/summaries.docx", get(summary_docx))
}

/// The period and grouping as the query string carries them; all optional.
#[derive(Deserialize, Default, Clone)]
pub struct SummaryQuery {
    /// `week` or `month` (the default).
    #[serde(default)]
    pub kind: String,
    /// Any day of the period, `YYYY-MM-DD`; today by default.
    #[serde(default)]
    pub date: String,
    /// `unit` (the default) or `leader`.
    #[serde(default)]
    pub by: String,
    /// One ledger year, or every year when empty.
    #[serde(default)]
    pub year: String,
}

/// The query settled: what the summary is of.
struct Settled {
    period: Period,
    by: GroupBy,
    year: Option<i64>,
}

impl Settled {
    fn from(q: &SummaryQuery, today: Date) -> Settled {
        let kind = PeriodKind::from_code(&q.kind).unwrap_or(PeriodKind::Month);
        let day = q.date.trim().parse::<Date>().unwrap_or(today);
        Settled {
            period: Period::containing(kind, day),
            by: GroupBy::from_code(&q.by).unwrap_or(GroupBy::Unit),
            year: q
                .year
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|y| (1900..=2999).contains(y)),
        }
    }

    /// The query string of this summary with the period, grouping or kind replaced.
    fn query(&self, kind: PeriodKind, day: Date, by: GroupBy) -> String {
        format!(
            "kind={}&date={}&by={}&year={}",
            kind.code(),
            day,
            by.code(),
            self.year.map(|y| y.to_string()).unwrap_or_default()
        )
    }

    fn this(&self) -> String {
        self.query(self.period.kind, self.period.start, self.by)
    }
}

/// A link of the period picker.
pub struct Link {
    pub label: String,
    pub href: String,
    pub active: bool,
}

/// One report as the page shows it.
pub struct ReportView {
    pub unit: String,
    pub author: String,
    pub at: String,
    pub percent: Option<i64>,
    pub done: String,
    pub problems: String,
    pub coordination: String,
    pub next_steps: String,
}

/// An item of a group, with its reports (none for the 未报送 list).
pub struct ItemView {
    pub id: i64,
    pub title: String,
    /// The lead unit or the leader, whichever the grouping does not show.
    pub owner: String,
    pub overdue: bool,
    pub deadline: String,
    pub reports: Vec<ReportView>,
}

pub struct GroupView {
    pub name: String,
    pub items: usize,
    pub reported: usize,
    pub not_reported: usize,
    pub overdue: usize,
    pub entries: Vec<ItemView>,
    pub silent: Vec<ItemView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/summary.html")]
pub struct SummaryPage {
    pub shell: Shell,
    pub period_name: String,
    pub period_range: String,
    pub kinds: Vec<Link>,
    pub groupings: Vec<Link>,
    pub previous: String,
    /// Empty when the next period has not begun.
    pub next: String,
    pub current: String,
    pub docx: String,
    pub kind: &'static str,
    pub by: &'static str,
    pub date: String,
    pub year: String,
    pub years: Vec<i64>,
    /// Only the viewer's own unit (a liaison or head).
    pub own_unit: bool,
    pub items: usize,
    pub reported: usize,
    pub not_reported: usize,
    pub overdue: usize,
    pub reports: usize,
    pub groups: Vec<GroupView>,
}

/// Checks the viewer and loads the summary.
async fn load(
    state: &AppState,
    session: &Session,
    q: &SummaryQuery,
    target: &str,
) -> Result<(Summary, Settled, Date), WebError> {
    let viewer = &session.viewer;
    if !viewer.can(Capability::SeeAllItems) && !viewer.can(Capability::ActForUnit) {
        return Err(session.refuse(state, target).await);
    }
    let today = beijing_today();
    let settled = Settled::from(q, today);
    let summary = state
        .store
        .summary(viewer, settled.period, settled.by, settled.year, today)
        .await?;
    Ok((summary, settled, today))
}

/// `11月18日 10:02` from unix ms, in Beijing.
fn month_day(ms: i64) -> String {
    let full = beijing_time(ms);
    // `2026-11-18 10:02` → `11月18日`
    let date = full.get(..10).unwrap_or("");
    match date.parse::<Date>() {
        Ok(d) => format!("{}月{}日", d.month(), d.day()),
        Err(_) => full,
    }
}

fn owner(item: &SummaryItem, by: GroupBy) -> String {
    match by {
        GroupBy::Unit => item.leader.clone(),
        GroupBy::Leader => item.lead_unit.clone(),
    }
}

fn item_view(item: &SummaryItem, by: GroupBy) -> ItemView {
    ItemView {
        id: item.id,
        title: item.title.clone(),
        owner: owner(item, by),
        overdue: item.overdue,
        deadline: item.deadline_text.clone(),
        reports: item
            .reports
            .iter()
            .map(|r| ReportView {
                unit: r.unit_name.clone(),
                author: r.author_name.clone(),
                at: beijing_time(r.reported_at),
                percent: r.percent,
                done: r.done.clone(),
                problems: r.problems.clone(),
                coordination: r.coordination.clone(),
                next_steps: r.next_steps.clone(),
            })
            .collect(),
    }
}

async fn summary_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<SummaryQuery>,
) -> Result<SummaryPage, WebError> {
    let (summary, settled, today) = load(&state, &session, &q, "supervision:summaries").await?;
    let period = settled.period;
    let href = |query: String| format!("/supervision/summaries?{query}");
    let next = period.next();
    let kinds = [PeriodKind::Week, PeriodKind::Month]
        .into_iter()
        .map(|k| Link {
            label: match k {
                PeriodKind::Week => "周汇总".to_owned(),
                PeriodKind::Month => "月汇总".to_owned(),
            },
            // Switching keeps the day: the week or month around the period's first day.
            href: href(settled.query(k, period.start, settled.by)),
            active: k == period.kind,
        })
        .collect();
    let groupings = [GroupBy::Unit, GroupBy::Leader]
        .into_iter()
        .map(|b| Link {
            label: b.label().to_owned(),
            href: href(settled.query(period.kind, period.start, b)),
            active: b == settled.by,
        })
        .collect();
    let groups = summary
        .groups
        .iter()
        .map(|g| GroupView {
            name: g.name.clone(),
            items: g.items.len(),
            reported: g.reported,
            not_reported: g.not_reported,
            overdue: g.overdue,
            entries: g
                .reported_items()
                .map(|i| item_view(i, settled.by))
                .collect(),
            silent: g.silent_items().map(|i| item_view(i, settled.by)).collect(),
        })
        .collect();
    let own_unit = !session.viewer.can(Capability::SeeAllItems);
    Ok(SummaryPage {
        shell: Shell::new(
            &state,
            &session.viewer,
            "进展汇总",
            "/supervision/summaries",
        )
        .await?,
        period_name: period.name(),
        period_range: period.range(),
        kinds,
        groupings,
        previous: href(settled.query(period.kind, period.previous().start, settled.by)),
        next: if next.start <= today {
            href(settled.query(period.kind, next.start, settled.by))
        } else {
            String::new()
        },
        current: if period.contains(today) {
            String::new()
        } else {
            href(settled.query(period.kind, today, settled.by))
        },
        docx: format!("/supervision/summaries.docx?{}", settled.this()),
        kind: period.kind.code(),
        by: settled.by.code(),
        date: period.start.to_string(),
        year: settled.year.map(|y| y.to_string()).unwrap_or_default(),
        years: state.store.ledger_years().await?,
        own_unit,
        items: summary.items,
        reported: summary.reported,
        not_reported: summary.not_reported,
        overdue: summary.overdue,
        reports: summary.reports,
        groups,
    })
}

/// The document's title: “2026年11月督办事项进展汇总”, with the unit first for a unit's own.
fn document_title(summary: &Summary, unit: Option<&str>) -> String {
    format!(
        "{}{}督办事项进展汇总",
        unit.unwrap_or_default(),
        summary.period.name()
    )
}

/// The store's summary in the document's words.
fn document_groups(summary: &Summary) -> Vec<SummaryGroup> {
    summary
        .groups
        .iter()
        .map(|g| SummaryGroup {
            name: g.name.clone(),
            items: g.items.len(),
            reported: g.reported,
            overdue: g.overdue,
            entries: g
                .reported_items()
                .map(|i| SummaryEntry {
                    title: i.title.clone(),
                    reports: i
                        .reports
                        .iter()
                        .map(|r| SummaryReport {
                            // The unit is named only when it is not the group's own.
                            by: if r.unit_name == g.name {
                                month_day(r.reported_at)
                            } else {
                                format!("{}{}", r.unit_name, month_day(r.reported_at))
                            },
                            done: r.done.clone(),
                            problems: r.problems.clone(),
                            coordination: r.coordination.clone(),
                            next_steps: r.next_steps.clone(),
                            percent: r.percent,
                        })
                        .collect(),
                })
                .collect(),
            not_reported: g
                .silent_items()
                .map(|i| {
                    let other = owner(i, summary.group_by);
                    let mut text = i.title.trim().to_owned();
                    let mut notes = Vec::new();
                    if summary.group_by == GroupBy::Leader && !other.is_empty() {
                        notes.push(other);
                    }
                    if i.overdue {
                        notes.push("已逾期".to_owned());
                    }
                    if !notes.is_empty() {
                        text.push_str(&format!("（{}）", notes.join("，")));
                    }
                    text
                })
                .collect(),
        })
        .collect()
}

async fn summary_docx(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<SummaryQuery>,
) -> Result<Response, WebError> {
    let (summary, settled, _) = load(&state, &session, &q, "supervision:summaries.docx").await?;
    let unit = (!session.viewer.can(Capability::SeeAllItems))
        .then(|| session.viewer.unit_name.clone())
        .filter(|n| !n.is_empty());
    let title = document_title(&summary, unit.as_deref());
    let mut subtitle = format!("（{}", summary.period.range());
    if settled.by == GroupBy::Leader {
        subtitle.push_str("，按责任领导");
    }
    subtitle.push('）');
    let bytes = write_summary_docx(&title, &subtitle, &document_groups(&summary))
        .map_err(|m| WebError::Store(zhongshu_store::Error::Internal(m)))?;
    let file_name = url_encode(&format!("{title}.docx"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"summary.docx\"; filename*=UTF-8''{file_name}"),
            ),
        ],
        bytes,
    )
        .into_response())
}
