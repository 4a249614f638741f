//! Supervision pages (督查督办): the ledger list with signals and filters, importing a
//! 任务分解表 and exporting any filtered list, the item page with its units, reports, history
//! and the actions the viewer may take, and the liaison's one-page report on all of a unit's
//! items.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::org::FieldErrors;
use crate::shell::Shell;
use crate::util::{ValidForm, beijing_time, beijing_today};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, RawForm, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use zhongshu_domain::access::Capability;
use zhongshu_domain::supervision::{
    Action, CRITICAL_HOURS, CRITICAL_YELLOW_HOURS, ItemState, Signal, Source, Standing, Urgency,
    transition,
};
use zhongshu_office::export::{ExportRow, write_items_xlsx};
use zhongshu_store::attachments::{Attachment, AttachmentKind, MAX_FILES, size_label};
use zhongshu_store::supervision::{
    ItemDetail, ItemFilter, ItemRow, NewItem, NewReport, Queue, RegistrationOptions, UnitOpenPage,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision", get(ledger_page))
        .route("/supervision/import", post(import))
        .route("/supervision/export", get(export))
        .route("/supervision/mine", get(mine_page).post(mine_report))
        .route(
            "/supervision/items/new",
            get(new_item_page).post(create_item),
        )
        .route("/supervision/items/{id}", get(item_page))
        .route("/supervision/items/{id}/extension", post(request_extension))
        .route(
            "/supervision/items/{id}/extension/decide",
            post(decide_extension),
        )
        .route("/supervision/items/{id}/units", post(change_units))
        // These two take files: `attachments::read_form` enforces the attachment limits part
        // by part, so the general body limit (sized for forms and imports) is lifted here.
        .route(
            "/supervision/items/{id}/act",
            post(act).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/supervision/items/{id}/report",
            post(report).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/supervision/attachments/{id}",
            get(crate::attachments::download),
        )
}

#[derive(Deserialize, Default, Clone)]
pub struct LedgerQuery {
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub signal: String,
    #[serde(default)]
    pub q: String,
    /// A supervisor queue (`unacknowledged`, `coordination`, `closure_requested`, `extension`).
    #[serde(default)]
    pub queue: String,
    /// Keyset paging: the last item id of the previous page.
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub ok: Option<String>,
}

/// One supervisor queue on the ledger page: code, label, count.
pub struct QueueLink {
    pub code: &'static str,
    pub label: &'static str,
    pub count: i64,
}

pub struct Option2 {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/ledger.html")]
pub struct LedgerPage {
    pub shell: Shell,
    pub rows: Vec<ItemRow>,
    pub q: LedgerQuery,
    pub years: Vec<i64>,
    pub states: Vec<Option2>,
    pub signals: Vec<Option2>,
    pub counts: Vec<(&'static str, &'static str, usize)>,
    pub can_import: bool,
    pub import_errors: Vec<String>,
    pub import_year: String,
    pub export_query: String,
    /// The supervisor queues (empty for leaders).
    pub queues: Vec<QueueLink>,
    /// The label of the queue the list is filtered by, if any.
    pub queue_label: &'static str,
    /// How many items match the filters (all pages).
    pub total: i64,
    /// The link to the next page (empty on the last page).
    pub next_query: String,
    /// The link back to the first page (empty on the first page).
    pub first_query: String,
}

const SIGNALS: [Signal; 4] = [Signal::Red, Signal::Yellow, Signal::Stalled, Signal::Green];

/// Rows per page of the ledger list.
const PAGE_SIZE: i64 = 50;

fn filter_from(q: &LedgerQuery) -> ItemFilter {
    ItemFilter {
        year: q.year.trim().parse().ok(),
        state: ItemState::from_code(q.state.trim()),
        unit_id: None,
        query: Some(q.q.clone()).filter(|t| !t.trim().is_empty()),
        overdue_on: None,
        queue: Queue::from_code(q.queue.trim()),
    }
}

async fn load_rows(
    state: &AppState,
    session: &Session,
    q: &LedgerQuery,
) -> Result<Vec<ItemRow>, WebError> {
    let rows = state
        .store
        .list_items(
            &session.viewer,
            &filter_from(q),
            beijing_today(),
            state.settings.signals.yellow_workdays,
            100_000,
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| q.signal.is_empty() || r.signal.code() == q.signal)
        .collect())
}

async fn render_ledger(
    state: &AppState,
    session: &Session,
    q: LedgerQuery,
    import_errors: Vec<String>,
    import_year: String,
) -> Result<LedgerPage, WebError> {
    let filter = filter_from(&q);
    let today = beijing_today();
    let yellow_days = state.settings.signals.yellow_workdays;
    let signal = SIGNALS.into_iter().find(|s| s.code() == q.signal.trim());
    let page = state
        .store
        .list_items_page(
            &session.viewer,
            &filter,
            signal,
            q.after.trim().parse().ok(),
            today,
            yellow_days,
            PAGE_SIZE,
        )
        .await?;
    // The red and yellow cards are counted in SQL; stalled and green depend on each item's
    // report cadence and are not counted on the card row (filter by them to see them).
    let counts = state
        .store
        .signal_counts(&session.viewer, &filter, today, yellow_days)
        .await?
        .into_iter()
        .map(|(s, n)| (s.code(), s.label(), usize::try_from(n).unwrap_or(0)))
        .collect();
    let export_query = format!(
        "year={}&state={}&signal={}&q={}&queue={}",
        crate::util::url_encode(&q.year),
        crate::util::url_encode(&q.state),
        crate::util::url_encode(&q.signal),
        crate::util::url_encode(&q.q),
        crate::util::url_encode(&q.queue)
    );
    let next_query = page
        .next_after
        .map(|id| format!("{export_query}&after={id}"))
        .unwrap_or_default();
    let first_query = if q.after.trim().is_empty() {
        String::new()
    } else {
        export_query.clone()
    };
    let rows = page.rows;
    let queues = if session.viewer.can(Capability::Supervise) {
        let counts = state
            .store
            .queue_counts(&session.viewer, q.year.trim().parse().ok())
            .await?;
        Queue::ALL
            .into_iter()
            .map(|queue| QueueLink {
                code: queue.code(),
                label: queue.label(),
                count: counts.get(queue),
            })
            .collect()
    } else {
        Vec::new()
    };
    let queue_label = Queue::from_code(q.queue.trim()).map_or("", Queue::label);
    Ok(LedgerPage {
        shell: Shell::new(state, &session.viewer, "督查督办台账", "/supervision")
            .await?
            .with_notice(q.ok.as_deref()),
        rows,
        years: state.store.ledger_years().await?,
        states: ItemState::ALL
            .iter()
            .map(|s| Option2 {
                code: s.code(),
                label: s.label(),
            })
            .collect(),
        signals: SIGNALS
            .iter()
            .map(|s| Option2 {
                code: s.code(),
                label: s.label(),
            })
            .collect(),
        counts,
        can_import: session.viewer.can(Capability::Supervise),
        import_errors,
        import_year: if import_year.is_empty() {
            beijing_today().year().to_string()
        } else {
            import_year
        },
        export_query,
        queues,
        queue_label,
        total: page.total,
        next_query,
        first_query,
        q,
    })
}

async fn ledger_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, WebError> {
    if !session.viewer.can(Capability::SeeAllItems) {
        if session.viewer.can(Capability::ActForUnit) {
            return Ok(Redirect::to("/supervision/mine").into_response());
        }
        return Err(session.refuse(&state, "supervision").await);
    }
    Ok(render_ledger(&state, &session, q, vec![], String::new())
        .await?
        .into_response())
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::TooLarge
    } else {
        WebError::BadRequest("上传内容不正确，请重新选择文件".to_owned())
    }
}

async fn import(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let sup = match session.viewer.as_supervisor() {
        Ok(p) => p,
        Err(_) => return Err(session.refuse(&state, "supervision:import").await),
    };
    let mut multipart = multipart.map_err(|_| {
        WebError::BadRequest("上传内容不正确：请以 multipart/form-data 方式上传文件".into())
    })?;
    let mut year_text = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("year") => year_text = field.text().await.map_err(upload_error)?,
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(upload_error)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let year: Option<i16> = year_text
        .trim()
        .parse()
        .ok()
        .filter(|y| (2000..=2100).contains(y));
    let problems: Vec<String> = match (year, file) {
        (None, _) => vec![format!("台账年度“{}”不正确", year_text.trim())],
        (_, None) => vec!["请选择要导入的任务分解表".to_owned()],
        (Some(_), Some((name, bytes))) if bytes.is_empty() => vec![format!("文件“{name}”是空的")],
        (Some(year), Some((name, bytes))) => {
            match zhongshu_office::tasks::read_task_table(&name, &bytes) {
                Err(problems) => problems.iter().map(ToString::to_string).collect(),
                Ok(rows) => match state.store.import_items(sup, year, &rows).await {
                    Ok(summary) => {
                        let _ = summary;
                        return Ok(Redirect::to(&format!(
                            "/supervision?year={year}&ok=items_imported"
                        ))
                        .into_response());
                    }
                    Err(zhongshu_store::Error::Rows(problems)) => {
                        problems.iter().map(ToString::to_string).collect()
                    }
                    Err(zhongshu_store::Error::Invalid(problems)) => {
                        problems.into_iter().map(|p| p.message).collect()
                    }
                    Err(other) => return Err(other.into()),
                },
            }
        }
    };
    let page = render_ledger(
        &state,
        &session,
        LedgerQuery::default(),
        problems,
        year_text,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Rows in the export's words.
pub fn export_rows(rows: &[ItemRow]) -> Vec<ExportRow> {
    rows.iter()
        .map(|r| ExportRow {
            seq: r.seq.clone(),
            task: r.parent_title.clone(),
            measure: r.title.clone(),
            lead_unit: r.lead_unit.clone(),
            co_units: r.co_units.join("、"),
            leader: r.leader.clone(),
            person: r.person.clone(),
            deadline: r.deadline_text.clone(),
            note: r.note.clone(),
            due_date: r.due_date.clone().unwrap_or_default(),
            state: r.state.label().to_owned(),
            signal: r.signal.label().to_owned(),
            latest_progress: r.latest_progress.clone(),
        })
        .collect()
}

async fn export(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, WebError> {
    if !session.viewer.can(Capability::SeeAllItems) && !session.viewer.can(Capability::ActForUnit) {
        return Err(session.refuse(&state, "supervision:export").await);
    }
    let rows = load_rows(&state, &session, &q).await?;
    let title = match q.year.trim() {
        "" => "督查督办事项台账".to_owned(),
        y => format!("{y}年督查督办事项台账"),
    };
    items_workbook(&title, &export_rows(&rows), "items.xlsx")
}

/// Rows in the task table's columns as an .xlsx download named `title` (`ascii_name` for
/// clients that cannot read the UTF-8 name).
pub(crate) fn items_workbook(
    title: &str,
    rows: &[zhongshu_office::export::ExportRow],
    ascii_name: &str,
) -> Result<Response, WebError> {
    let bytes = write_items_xlsx(title, rows)
        .map_err(|m| WebError::Store(zhongshu_store::Error::Internal(m)))?;
    let file_name = crate::util::url_encode(&format!("{title}.xlsx"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{file_name}"),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub struct ActionButton {
    pub code: &'static str,
    pub label: &'static str,
    pub needs_note: bool,
    pub danger: bool,
    /// The form takes evidence files (申请办结).
    pub evidence: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/item.html")]
pub struct ItemPage {
    pub shell: Shell,
    /// Messages that belong to no field of the page's forms.
    pub general_errors: Vec<String>,
    pub d: ItemDetail,
    pub actions: Vec<ActionButton>,
    pub can_report: bool,
    pub errors: FieldErrors,
    /// The lead unit may ask for a new deadline (no request pending).
    pub can_request_extension: bool,
    /// The supervision office may decide the pending request.
    pub can_decide_extension: bool,
    /// The supervision office may change the units (a draft, or registered after 退回交办).
    pub can_change_units: bool,
    /// Active units for the reassignment form (only when `can_change_units`).
    pub unit_options: Vec<(i64, String)>,
    /// The rule of 特急 items, for the tooltip.
    pub critical_rule: String,
    /// Every attachment of the item: report files and closure evidence.
    pub attachments: Vec<Attachment>,
    /// The attachment limits, as the upload fields state them.
    pub upload_hint: String,
}

impl ItemPage {
    /// The files of one progress report.
    fn report_files(&self, report: &i64) -> Vec<&Attachment> {
        self.attachments
            .iter()
            .filter(|a| a.report_id == Some(*report))
            .collect()
    }

    /// The evidence (佐证材料) of the item's closure requests, newest first.
    fn evidence(&self) -> Vec<&Attachment> {
        self.attachments
            .iter()
            .rev()
            .filter(|a| a.kind == AttachmentKind::Closure)
            .collect()
    }

    fn is_lead(&self, unit: &i64) -> bool {
        self.d.item.lead_unit_id == Some(*unit)
    }

    fn is_co(&self, unit: &i64) -> bool {
        self.d.units.iter().any(|u| !u.lead && u.unit_id == *unit)
    }
}

fn action_code(a: Action) -> &'static str {
    match a {
        Action::Register => "register",
        Action::Assign => "assign",
        Action::Acknowledge => "acknowledge",
        Action::Dispute => "dispute",
        Action::ReportProgress => "report",
        Action::RequestClosure => "request_closure",
        Action::ApproveClosure => "approve_closure",
        Action::SendBack => "send_back",
        Action::RequestExtension => "request_extension",
        Action::DecideExtension => "decide_extension",
        Action::Cancel => "cancel",
        Action::Instruct => "instruct",
        Action::Urge => "urge",
    }
}

async fn render_item(
    state: &AppState,
    session: &Session,
    id: i64,
    notice: Option<&str>,
    errors: FieldErrors,
) -> Result<ItemPage, WebError> {
    let d = state
        .store
        .get_item(
            &session.viewer,
            id,
            beijing_today(),
            state.settings.signals.yellow_workdays,
        )
        .await?;
    let standing = state.store.item_standing(&session.viewer, id).await?;
    let candidates = [
        Action::Register,
        Action::Assign,
        Action::Acknowledge,
        Action::RequestClosure,
        Action::Dispute,
        Action::ApproveClosure,
        Action::SendBack,
        Action::Urge,
        Action::Cancel,
        Action::Instruct,
    ];
    let actions = candidates
        .into_iter()
        .filter(|a| zhongshu_domain::supervision::transition(d.item.state, *a, standing).is_ok())
        .filter(|a| {
            // A unit that has signed already is not offered to sign again.
            *a != Action::Acknowledge
                || d.units.iter().any(|u| {
                    Some(u.unit_id) == session.viewer.unit_id.map(|x| x.get())
                        && u.acknowledged_at.is_none()
                })
        })
        .map(|a| ActionButton {
            code: action_code(a),
            label: a.label(),
            needs_note: matches!(
                a,
                Action::SendBack
                    | Action::Dispute
                    | Action::Cancel
                    | Action::Instruct
                    | Action::Urge
            ),
            danger: matches!(a, Action::Cancel | Action::SendBack | Action::Dispute),
            evidence: a == Action::RequestClosure,
        })
        .collect();
    let can_report =
        zhongshu_domain::supervision::transition(d.item.state, Action::ReportProgress, standing)
            .is_ok();
    let pending = d.pending_extension().is_some();
    let can_request_extension =
        !pending && transition(d.item.state, Action::RequestExtension, standing).is_ok();
    let can_decide_extension =
        pending && transition(d.item.state, Action::DecideExtension, standing).is_ok();
    let can_change_units = standing == Standing::Supervisor
        && matches!(d.item.state, ItemState::Draft | ItemState::Registered);
    let unit_options = match session.viewer.as_supervisor() {
        Ok(sup) if can_change_units => state.store.registration_options(sup).await?.units,
        _ => Vec::new(),
    };
    let attachments = state.store.item_attachments(&session.viewer, id).await?;
    Ok(ItemPage {
        general_errors: errors.other(&[
            "done",
            "percent",
            "action",
            "note",
            "new_deadline",
            "reason",
            "decision_note",
            "lead_unit_id",
            "co_unit_ids",
        ]),
        shell: Shell::new(state, &session.viewer, "督办事项", "/supervision")
            .await?
            .with_notice(notice),
        d,
        actions,
        can_report,
        errors,
        can_request_extension,
        can_decide_extension,
        can_change_units,
        unit_options,
        critical_rule: critical_rule(),
        attachments,
        upload_hint: format!(
            "可多选，最多{MAX_FILES}个，每个不超过{}；PDF、图片、Word、Excel、OFD、ZIP 或 TXT",
            size_label(state.store.attachment_max_bytes())
        ),
    })
}

#[derive(Deserialize, Default)]
pub struct ItemQuery {
    #[serde(default)]
    ok: Option<String>,
}

fn item_id(text: &str) -> Result<i64, WebError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(WebError::NotFound("事项"))
}

async fn item_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<ItemQuery>,
) -> Result<ItemPage, WebError> {
    render_item(
        &state,
        &session,
        item_id(&id)?,
        q.ok.as_deref(),
        FieldErrors::default(),
    )
    .await
}

fn parse_action(code: &str) -> Option<Action> {
    Action::ALL.into_iter().find(|a| action_code(*a) == code)
}

/// Re-renders the item page after a refused step: 409 with the current state for a stale
/// copy, 422 with the reason otherwise.
async fn item_failure(
    state: &AppState,
    session: &Session,
    id: i64,
    err: zhongshu_store::Error,
) -> Result<Response, WebError> {
    let (status, problems) = match err {
        zhongshu_store::Error::Invalid(problems) => (StatusCode::UNPROCESSABLE_ENTITY, problems),
        zhongshu_store::Error::StaleVersion => (
            StatusCode::CONFLICT,
            vec![zhongshu_store::FieldProblem::new(
                "action",
                "已被他人修改：下面显示的是事项的最新状态，请核对后再操作",
            )],
        ),
        other => return Err(other.into()),
    };
    let page = render_item(
        state,
        session,
        id,
        None,
        FieldErrors::from_problems(&problems),
    )
    .await?;
    Ok((status, page).into_response())
}

/// Reads a form that may carry files; a refused file re-renders the item page with the reason.
async fn item_form(
    state: &AppState,
    session: &Session,
    id: i64,
    request: Request,
) -> Result<Result<crate::attachments::Submitted, Response>, WebError> {
    match crate::attachments::read_form(state, request).await {
        Ok(form) => Ok(Ok(form)),
        Err(WebError::Store(err @ zhongshu_store::Error::Invalid(_))) => {
            Ok(Err(item_failure(state, session, id, err).await?))
        }
        Err(other) => Err(other),
    }
}

/// One step of the lifecycle; a closure request (申请办结) may carry evidence files.
async fn act(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let form = match item_form(&state, &session, id, request).await? {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    let code = form.get("action");
    let action = parse_action(code.trim())
        .ok_or_else(|| WebError::BadRequest(format!("未知操作“{code}”")))?;
    let version = form.get("version").trim().parse().unwrap_or(0);
    let note = form.get("note");
    let outcome = if action == Action::RequestClosure {
        state
            .store
            .request_closure(&session.viewer, id, version, &note, form.files)
            .await
    } else if !form.files.is_empty() {
        Err(zhongshu_store::Error::invalid(
            "files",
            "只有申请办结时可以上传佐证材料",
        ))
    } else {
        state
            .store
            .act_on_item(&session.viewer, id, action, version, &note)
            .await
    };
    match outcome {
        Ok(_) => {
            Ok(Redirect::to(&format!("/supervision/items/{id}?ok=item_changed")).into_response())
        }
        Err(err) => item_failure(&state, &session, id, err).await,
    }
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    done: String,
    #[serde(default)]
    problems: String,
    #[serde(default)]
    coordination: String,
    #[serde(default)]
    next_steps: String,
    #[serde(default)]
    percent: String,
}

fn parse_percent(text: &str) -> Result<Option<i64>, zhongshu_store::Error> {
    let t = text.trim().trim_end_matches('%');
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>()
        .map(Some)
        .map_err(|_| zhongshu_store::Error::invalid("percent", "完成进度须为0到100的整数"))
}

/// A progress report with its attachments (附件).
async fn report(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let form = match item_form(&state, &session, id, request).await? {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    let outcome = match parse_percent(&form.get("percent")) {
        Ok(percent) => {
            let report = NewReport {
                done: form.get("done"),
                problems: form.get("problems"),
                coordination: form.get("coordination"),
                next_steps: form.get("next_steps"),
                percent,
            };
            state
                .store
                .report_progress_with_files(&session.viewer, id, &report, form.files)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(
            Redirect::to(&format!("/supervision/items/{id}?ok=progress_reported")).into_response(),
        ),
        Err(err) => item_failure(&state, &session, id, err).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/mine.html")]
pub struct MinePage {
    pub shell: Shell,
    /// This page's rows, its number and the counts of all the unit's open items.
    pub open: UnitOpenPage,
    pub errors: Vec<String>,
    pub last_report: HashMap<i64, String>,
    /// The first row's number (from 1).
    pub first: usize,
}

/// Items per page of the unit's batch report page: a county unit has fewer and sees them all
/// on one page; a busy city unit (hundreds) gets them in turns, most pressing first.
const MINE_PAGE_SIZE: usize = 50;

#[derive(Debug, Default, serde::Deserialize)]
pub struct MineQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

async fn render_mine(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    errors: Vec<String>,
    page: usize,
) -> Result<MinePage, WebError> {
    if !session.viewer.can(Capability::ActForUnit) {
        return Err(session.refuse(state, "supervision:mine").await);
    }
    let open = state
        .store
        .unit_open_page(
            &session.viewer,
            beijing_today(),
            state.settings.signals.yellow_workdays,
            page,
            MINE_PAGE_SIZE,
        )
        .await?;
    let first = (open.page - 1) * MINE_PAGE_SIZE + 1;
    let last_report = open
        .rows
        .iter()
        .filter_map(|r| r.last_report_at.map(|t| (r.id, beijing_time(t))))
        .collect();
    Ok(MinePage {
        shell: Shell::new(
            state,
            &session.viewer,
            "本单位督办事项",
            "/supervision/mine",
        )
        .await?
        .with_notice(notice),
        open,
        errors,
        last_report,
        first,
    })
}

async fn mine_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<MineQuery>,
) -> Result<MinePage, WebError> {
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(1);
    render_mine(&state, &session, q.ok.as_deref(), vec![], page).await
}

/// One form reports on every item at once: fields `done_{id}`, `problems_{id}`, … Items whose
/// `done` is left empty are skipped. All reports are checked before any is written.
async fn mine_report(
    State(state): State<AppState>,
    session: Session,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let mut reports: HashMap<i64, ReportForm> = HashMap::new();
    let mut page = 1;
    for pair in body.split(|b| *b == b'&') {
        let text = String::from_utf8_lossy(pair).replace('+', " ");
        let (key, value) = text.split_once('=').unwrap_or((&text, ""));
        let value = crate::util::url_decode(value);
        if key == "page" {
            page = value.trim().parse().unwrap_or(1);
            continue;
        }
        let Some((field, id)) = key.rsplit_once('_') else {
            continue;
        };
        let Ok(id) = id.parse::<i64>() else {
            continue;
        };
        let entry = reports.entry(id).or_default();
        match field {
            "done" => entry.done = value,
            "problems" => entry.problems = value,
            "coordination" => entry.coordination = value,
            "next_steps" | "next" => entry.next_steps = value,
            "percent" => entry.percent = value,
            _ => {}
        }
    }
    let mut batch = Vec::new();
    let mut errors = Vec::new();
    let mut ids: Vec<_> = reports
        .into_iter()
        .filter(|(_, r)| !r.done.trim().is_empty())
        .collect();
    ids.sort_by_key(|(id, _)| *id);
    for (id, r) in ids {
        match parse_percent(&r.percent) {
            Ok(percent) => batch.push((
                id,
                NewReport {
                    done: r.done,
                    problems: r.problems,
                    coordination: r.coordination,
                    next_steps: r.next_steps,
                    percent,
                },
            )),
            Err(e) => errors.push(format!("事项{id}：{e}")),
        }
    }
    if batch.is_empty() && errors.is_empty() {
        errors.push("没有填写任何事项的进展".to_owned());
    }
    if errors.is_empty() {
        match state
            .store
            .report_progress_batch(&session.viewer, &batch)
            .await
        {
            Ok(()) => {
                return Ok(Redirect::to("/supervision/mine?ok=progress_reported").into_response());
            }
            Err(zhongshu_store::Error::Invalid(problems)) => {
                errors.extend(problems.into_iter().map(|p| p.message));
            }
            Err(other) => return Err(other.into()),
        }
    }
    let page = render_mine(&state, &session, None, errors, page).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The rule of 特急 items, as the item page's tooltip states it.
fn critical_rule() -> String {
    format!(
        "特急事项按小时计算：自交办起{CRITICAL_HOURS}小时内办结，不计节假日；\
         最后{CRITICAL_YELLOW_HOURS}小时亮黄灯，超过{CRITICAL_HOURS}小时亮红灯"
    )
}

/// The fields of a form body in order; repeated names (multiple selects) repeat.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair).replace('+', " ");
            let (key, value) = text.split_once('=').unwrap_or((&text, ""));
            (crate::util::url_decode(key), crate::util::url_decode(value))
        })
        .collect()
}

fn first(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn all_ids(pairs: &[(String, String)], name: &str) -> Vec<i64> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect()
}

/// The registration form as typed, re-shown after a refusal.
#[derive(Clone, Debug, Default)]
pub struct ItemForm {
    pub ledger_year: String,
    pub source: String,
    pub source_ref: String,
    pub category: String,
    pub urgency: String,
    pub title: String,
    pub content: String,
    pub lead_unit_id: String,
    pub co_unit_ids: Vec<i64>,
    pub leader: String,
    pub person: String,
    pub deadline: String,
    pub parent_id: String,
    pub note: String,
}

impl ItemForm {
    fn from_pairs(pairs: &[(String, String)]) -> ItemForm {
        ItemForm {
            ledger_year: first(pairs, "ledger_year"),
            source: first(pairs, "source"),
            source_ref: first(pairs, "source_ref"),
            category: first(pairs, "category"),
            urgency: first(pairs, "urgency"),
            title: first(pairs, "title"),
            content: first(pairs, "content"),
            lead_unit_id: first(pairs, "lead_unit_id"),
            co_unit_ids: all_ids(pairs, "co_unit_ids"),
            leader: first(pairs, "leader"),
            person: first(pairs, "person"),
            deadline: first(pairs, "deadline"),
            parent_id: first(pairs, "parent_id"),
            note: first(pairs, "note"),
        }
    }

    fn to_new_item(&self) -> NewItem {
        NewItem {
            ledger_year: self.ledger_year.trim().parse().unwrap_or(0),
            source: self.source.clone(),
            source_ref: self.source_ref.clone(),
            category: self.category.clone(),
            urgency: self.urgency.clone(),
            title: self.title.clone(),
            content: self.content.clone(),
            lead_unit_id: self.lead_unit_id.trim().parse().ok(),
            co_unit_ids: self.co_unit_ids.clone(),
            leader: self.leader.clone(),
            person: self.person.clone(),
            deadline: self.deadline.clone(),
            parent_id: self.parent_id.trim().parse().ok(),
            note: self.note.clone(),
        }
    }

    fn is_co(&self, unit: &i64) -> bool {
        self.co_unit_ids.contains(unit)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/new_item.html")]
pub struct NewItemPage {
    pub shell: Shell,
    pub form: ItemForm,
    pub errors: FieldErrors,
    pub other_errors: Vec<String>,
    pub options: RegistrationOptions,
    pub sources: Vec<Option2>,
    pub urgencies: Vec<Option2>,
    pub critical_rule: String,
}

async fn render_new_item(
    state: &AppState,
    session: &Session,
    form: ItemForm,
    errors: FieldErrors,
) -> Result<NewItemPage, WebError> {
    let sup = match session.viewer.as_supervisor() {
        Ok(sup) => sup,
        Err(_) => return Err(session.refuse(state, "supervision:new_item").await),
    };
    let options = state.store.registration_options(sup).await?;
    let other_errors = errors.other(&[
        "ledger_year",
        "source",
        "urgency",
        "title",
        "lead_unit_id",
        "co_unit_ids",
        "leader",
        "deadline",
        "parent_id",
    ]);
    Ok(NewItemPage {
        shell: Shell::new(state, &session.viewer, "督办事项立项", "/supervision").await?,
        form,
        errors,
        other_errors,
        options,
        sources: Source::ALL
            .iter()
            .map(|s| Option2 {
                code: s.code(),
                label: s.label(),
            })
            .collect(),
        urgencies: [Urgency::Normal, Urgency::Urgent, Urgency::Critical]
            .iter()
            .map(|u| Option2 {
                code: u.code(),
                label: u.label(),
            })
            .collect(),
        critical_rule: critical_rule(),
    })
}

async fn new_item_page(
    State(state): State<AppState>,
    session: Session,
) -> Result<NewItemPage, WebError> {
    let form = ItemForm {
        ledger_year: beijing_today().year().to_string(),
        source: Source::Decision.code().to_owned(),
        urgency: Urgency::Normal.code().to_owned(),
        ..ItemForm::default()
    };
    render_new_item(&state, &session, form, FieldErrors::default()).await
}

/// Saves a new item as a draft (`submit=draft`) or registers and assigns it at once
/// (`submit=assign`), then shows its page; refused fields re-render the form with 422.
async fn create_item(
    State(state): State<AppState>,
    session: Session,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let sup = match session.viewer.as_supervisor() {
        Ok(sup) => sup,
        Err(_) => return Err(session.refuse(&state, "supervision:new_item").await),
    };
    let pairs = form_pairs(&body);
    let form = ItemForm::from_pairs(&pairs);
    let assign = first(&pairs, "submit") == "assign";
    match state
        .store
        .create_item(sup, &form.to_new_item(), assign)
        .await
    {
        Ok(id) => {
            let notice = if assign {
                "item_assigned"
            } else {
                "item_drafted"
            };
            Ok(Redirect::to(&format!("/supervision/items/{id}?ok={notice}")).into_response())
        }
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = render_new_item(
                &state,
                &session,
                form,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    new_deadline: String,
    #[serde(default)]
    reason: String,
}

/// The lead unit asks for a new deadline.
async fn request_extension(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<ExtensionForm>,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let version = form.version.trim().parse().unwrap_or(0);
    match state
        .store
        .request_extension(
            &session.viewer,
            id,
            version,
            &form.new_deadline,
            &form.reason,
        )
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/supervision/items/{id}?ok=extension_requested"))
                .into_response(),
        ),
        Err(err) => item_failure(&state, &session, id, err).await,
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    decision_note: String,
}

/// The supervision office approves or refuses the pending extension request.
async fn decide_extension(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<DecisionForm>,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let approve = match form.decision.trim() {
        "approve" => true,
        "refuse" => false,
        other => return Err(WebError::BadRequest(format!("未知审批结果“{other}”"))),
    };
    let version = form.version.trim().parse().unwrap_or(0);
    match state
        .store
        .decide_extension(&session.viewer, id, version, approve, &form.decision_note)
        .await
    {
        Ok(()) => {
            let notice = if approve {
                "extension_approved"
            } else {
                "extension_refused"
            };
            Ok(Redirect::to(&format!("/supervision/items/{id}?ok={notice}")).into_response())
        }
        Err(err) => item_failure(&state, &session, id, err).await,
    }
}

/// The supervision office changes the lead and co-units of a draft or disputed item, and
/// assigns it again at once when `then=assign`.
async fn change_units(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let sup = match session.viewer.as_supervisor() {
        Ok(sup) => sup,
        Err(_) => return Err(session.refuse(&state, "supervision:units").await),
    };
    let pairs = form_pairs(&body);
    let version: i64 = first(&pairs, "version").trim().parse().unwrap_or(0);
    let lead = first(&pairs, "lead_unit_id").trim().parse().ok();
    let co = all_ids(&pairs, "co_unit_ids");
    if let Err(err) = state
        .store
        .change_item_units(sup, id, version, lead, &co)
        .await
    {
        return item_failure(&state, &session, id, err).await;
    }
    if first(&pairs, "then") != "assign" {
        return Ok(
            Redirect::to(&format!("/supervision/items/{id}?ok=units_changed")).into_response(),
        );
    }
    match state
        .store
        .act_on_item(&session.viewer, id, Action::Assign, version + 1, "")
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/supervision/items/{id}?ok=units_changed_assigned"
        ))
        .into_response()),
        Err(err) => item_failure(&state, &session, id, err).await,
    }
}
