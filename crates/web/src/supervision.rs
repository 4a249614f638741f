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
use axum::extract::{Multipart, Path, Query, RawForm, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use zhongshu_domain::access::Capability;
use zhongshu_domain::supervision::{Action, ItemState, Signal};
use zhongshu_office::export::{ExportRow, write_items_xlsx};
use zhongshu_store::supervision::{ItemDetail, ItemFilter, ItemRow, NewReport};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision", get(ledger_page))
        .route("/supervision/import", post(import))
        .route("/supervision/export", get(export))
        .route("/supervision/mine", get(mine_page).post(mine_report))
        .route("/supervision/items/{id}", get(item_page))
        .route("/supervision/items/{id}/act", post(act))
        .route("/supervision/items/{id}/report", post(report))
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
    #[serde(default)]
    pub ok: Option<String>,
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
}

const SIGNALS: [Signal; 4] = [Signal::Red, Signal::Yellow, Signal::Stalled, Signal::Green];

fn filter_from(q: &LedgerQuery) -> ItemFilter {
    ItemFilter {
        year: q.year.trim().parse().ok(),
        state: ItemState::from_code(q.state.trim()),
        unit_id: None,
        query: Some(q.q.clone()).filter(|t| !t.trim().is_empty()),
        overdue_on: None,
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
    let rows = load_rows(state, session, &q).await?;
    let counts = SIGNALS
        .iter()
        .map(|s| {
            (
                s.code(),
                s.label(),
                rows.iter().filter(|r| r.signal == *s).count(),
            )
        })
        .collect();
    let export_query = format!(
        "year={}&state={}&signal={}&q={}",
        crate::util::url_encode(&q.year),
        crate::util::url_encode(&q.state),
        crate::util::url_encode(&q.signal),
        crate::util::url_encode(&q.q)
    );
    Ok(LedgerPage {
        shell: Shell::new(state, &session.viewer, "督查督办台账", "/supervision")
            .await?
            .with_notice(q.ok.as_deref()),
        rows,
        years: state.store.ledger_years().await?,
        states: ItemState::ALL
            .iter()
            .filter(|s| **s != ItemState::Draft)
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
    let bytes = write_items_xlsx(&title, &export_rows(&rows))
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
                format!("attachment; filename=\"items.xlsx\"; filename*=UTF-8''{file_name}"),
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
    pub reported: usize,
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
        })
        .collect();
    let can_report =
        zhongshu_domain::supervision::transition(d.item.state, Action::ReportProgress, standing)
            .is_ok();
    let reported = d
        .units
        .iter()
        .filter(|u| u.last_report_at.is_some())
        .count();
    Ok(ItemPage {
        general_errors: errors.other(&["done", "percent", "action", "note"]),
        shell: Shell::new(state, &session.viewer, "督办事项", "/supervision")
            .await?
            .with_notice(notice),
        d,
        actions,
        can_report,
        errors,
        reported,
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

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
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

async fn act(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<ActForm>,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let action = parse_action(form.action.trim())
        .ok_or_else(|| WebError::BadRequest(format!("未知操作“{}”", form.action)))?;
    let version = form.version.trim().parse().unwrap_or(0);
    match state
        .store
        .act_on_item(&session.viewer, id, action, version, &form.note)
        .await
    {
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

async fn report(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<ReportForm>,
) -> Result<Response, WebError> {
    let id = item_id(&id)?;
    let outcome = match parse_percent(&form.percent) {
        Ok(percent) => {
            state
                .store
                .report_progress(
                    &session.viewer,
                    id,
                    &NewReport {
                        done: form.done,
                        problems: form.problems,
                        coordination: form.coordination,
                        next_steps: form.next_steps,
                        percent,
                    },
                )
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
    pub rows: Vec<ItemRow>,
    pub errors: Vec<String>,
    pub last_report: HashMap<i64, String>,
}

async fn render_mine(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    errors: Vec<String>,
) -> Result<MinePage, WebError> {
    if !session.viewer.can(Capability::ActForUnit) {
        return Err(session.refuse(state, "supervision:mine").await);
    }
    let mut rows = state
        .store
        .list_items(
            &session.viewer,
            &ItemFilter::default(),
            beijing_today(),
            state.settings.signals.yellow_workdays,
            10_000,
        )
        .await?;
    rows.retain(|r| r.state.is_open());
    // Most urgent first: overdue, due soon, stalled, then the rest.
    rows.sort_by_key(|r| match r.signal {
        Signal::Red => 0,
        Signal::Yellow => 1,
        Signal::Stalled => 2,
        _ => 3,
    });
    let last_report = rows
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
        rows,
        errors,
        last_report,
    })
}

async fn mine_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ItemQuery>,
) -> Result<MinePage, WebError> {
    render_mine(&state, &session, q.ok.as_deref(), vec![]).await
}

/// One form reports on every item at once: fields `done_{id}`, `problems_{id}`, … Items whose
/// `done` is left empty are skipped. All reports are checked before any is written.
async fn mine_report(
    State(state): State<AppState>,
    session: Session,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let mut reports: HashMap<i64, ReportForm> = HashMap::new();
    for pair in body.split(|b| *b == b'&') {
        let text = String::from_utf8_lossy(pair).replace('+', " ");
        let (key, value) = text.split_once('=').unwrap_or((&text, ""));
        let value = crate::util::url_decode(value);
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
    let page = render_mine(&state, &session, None, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
