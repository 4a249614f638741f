//! The ledger's year steps (年初建账，平时管账，年中查账，年底结账): the years with their figures
//! and snapshots, 建账, 查账 (a snapshot frozen for good), a snapshot's page, and 结账 with the
//! office's one choice for every unfinished item (结转 into the next year, or 终结 with a reason).
//!
//! The office (督查室) acts; leaders read the same pages without the forms; everyone else is
//! refused (and the refusal audited).

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::org::FieldErrors;
use crate::shell::Shell;
use crate::util::{ValidForm, beijing_today};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use zhongshu_domain::access::Capability;
use zhongshu_store::ledger::{CloseChoice, CloseMode, LedgerYear, Snapshot, UnfinishedItem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision/ledgers", get(ledgers_page))
        .route("/supervision/ledgers/open", post(open))
        .route("/supervision/ledgers/{year}/snapshot", post(snapshot))
        .route(
            "/supervision/ledgers/{year}/close",
            get(close_page).post(close),
        )
        .route("/supervision/ledgers/snapshots/{id}", get(snapshot_page))
}

const ACTIVE: &str = "/supervision/ledgers";

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The page's frame, with the notice a redirect named.
async fn shell(
    state: &AppState,
    session: &Session,
    title: &str,
    done: Option<&str>,
) -> Result<Shell, WebError> {
    Ok(Shell::new(state, &session.viewer, title, ACTIVE)
        .await?
        .with_notice(done))
}

fn year_of(text: &str) -> Result<i64, WebError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or(WebError::NotFound("台账年度"))
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/ledgers.html")]
pub struct LedgersPage {
    pub shell: Shell,
    pub years: Vec<LedgerYear>,
    pub can_act: bool,
    pub errors: Vec<String>,
    pub open_year: String,
    pub today: String,
}

async fn render_ledgers(
    state: &AppState,
    session: &Session,
    done: Option<&str>,
    errors: Vec<String>,
    open_year: Option<String>,
) -> Result<LedgersPage, WebError> {
    let today = beijing_today();
    let years = state.store.ledger_overview(&session.viewer, today).await?;
    // The first year from this one that has no ledger yet.
    let mut suggested = i64::from(today.year());
    while years.iter().any(|y| y.year == suggested) {
        suggested += 1;
    }
    Ok(LedgersPage {
        shell: shell(state, session, "年度台账", done).await?,
        can_act: session.viewer.can(Capability::Supervise),
        errors,
        open_year: open_year.unwrap_or_else(|| suggested.to_string()),
        today: today.to_string(),
        years,
    })
}

async fn ledgers_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<DoneQuery>,
) -> Result<LedgersPage, WebError> {
    session
        .require(&state, Capability::SeeAllItems, "supervision:ledgers")
        .await?;
    render_ledgers(&state, &session, q.done.as_deref(), vec![], None).await
}

/// A refused change re-renders the years page with the reasons (422); anything else is an error.
async fn ledgers_failure(
    state: &AppState,
    session: &Session,
    err: zhongshu_store::Error,
    open_year: Option<String>,
) -> Result<Response, WebError> {
    match err {
        zhongshu_store::Error::Invalid(problems) => {
            let errors = problems.into_iter().map(|p| p.message).collect();
            let page = render_ledgers(state, session, None, errors, open_year).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    year: String,
}

async fn open(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<OpenForm>,
) -> Result<Response, WebError> {
    let Ok(sup) = session.viewer.as_supervisor() else {
        return Err(session.refuse(&state, "supervision:ledgers:open").await);
    };
    let outcome = match form.year.trim().parse::<i64>() {
        Ok(year) => state.store.open_ledger(sup, year).await,
        Err(_) => Err(zhongshu_store::Error::invalid(
            "year",
            format!("年度“{}”不正确", form.year.trim()),
        )),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/supervision/ledgers?done=ledger_opened").into_response()),
        Err(err) => ledgers_failure(&state, &session, err, Some(form.year)).await,
    }
}

#[derive(Deserialize)]
pub struct SnapshotForm {
    #[serde(default)]
    label: String,
}

async fn snapshot(
    State(state): State<AppState>,
    session: Session,
    Path(year): Path<String>,
    ValidForm(form): ValidForm<SnapshotForm>,
) -> Result<Response, WebError> {
    let year = year_of(&year)?;
    let Ok(sup) = session.viewer.as_supervisor() else {
        return Err(session
            .refuse(&state, &format!("supervision:ledgers:{year}:snapshot"))
            .await);
    };
    match state
        .store
        .take_snapshot(sup, year, &form.label, beijing_today())
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!(
            "/supervision/ledgers/snapshots/{id}?done=snapshot_taken"
        ))
        .into_response()),
        Err(err) => ledgers_failure(&state, &session, err, None).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/ledgers_snapshot.html")]
pub struct SnapshotPage {
    pub shell: Shell,
    pub s: Snapshot,
}

async fn snapshot_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<SnapshotPage, WebError> {
    session
        .require(
            &state,
            Capability::SeeAllItems,
            "supervision:ledgers:snapshot",
        )
        .await?;
    let id = id
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(WebError::NotFound("查账记录"))?;
    let s = state.store.snapshot(&session.viewer, id).await?;
    let title = format!("{}年台账 · {}", s.header.ledger_year, s.header.label);
    Ok(SnapshotPage {
        shell: shell(&state, &session, &title, q.done.as_deref()).await?,
        s,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/ledgers_close.html")]
pub struct ClosePage {
    pub shell: Shell,
    pub year: i64,
    pub next_year: i64,
    pub closed: bool,
    pub items: Vec<UnfinishedItem>,
    pub errors: FieldErrors,
    pub general_errors: Vec<String>,
    pub form: CloseForm,
}

#[derive(Deserialize, Default, Clone)]
pub struct CloseForm {
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub new_due: String,
    #[serde(default)]
    pub reason: String,
}

async fn render_close(
    state: &AppState,
    session: &Session,
    year: i64,
    form: CloseForm,
    errors: FieldErrors,
) -> Result<ClosePage, WebError> {
    let overview = state
        .store
        .ledger_overview(&session.viewer, beijing_today())
        .await?;
    let ledger = overview
        .iter()
        .find(|y| y.year == year)
        .ok_or(WebError::NotFound("台账年度"))?;
    Ok(ClosePage {
        shell: shell(state, session, &format!("{year}年台账结账"), None).await?,
        year,
        next_year: year + 1,
        closed: ledger.closed,
        items: state.store.unfinished_items(&session.viewer, year).await?,
        general_errors: errors.other(&["mode", "new_due", "reason"]),
        errors,
        form,
    })
}

async fn close_page(
    State(state): State<AppState>,
    session: Session,
    Path(year): Path<String>,
) -> Result<ClosePage, WebError> {
    let year = year_of(&year)?;
    if session.viewer.as_supervisor().is_err() {
        return Err(session
            .refuse(&state, &format!("supervision:ledgers:{year}:close"))
            .await);
    }
    let form = CloseForm {
        mode: CloseMode::CarryOver.code().to_owned(),
        ..CloseForm::default()
    };
    render_close(&state, &session, year, form, FieldErrors::default()).await
}

async fn close(
    State(state): State<AppState>,
    session: Session,
    Path(year): Path<String>,
    ValidForm(form): ValidForm<CloseForm>,
) -> Result<Response, WebError> {
    let year = year_of(&year)?;
    let Ok(sup) = session.viewer.as_supervisor() else {
        return Err(session
            .refuse(&state, &format!("supervision:ledgers:{year}:close"))
            .await);
    };
    let choice = match CloseMode::from_code(&form.mode) {
        Some(CloseMode::CarryOver) => match form.new_due.trim() {
            "" => Ok(CloseChoice::CarryOver { new_due: None }),
            text => text
                .parse::<jiff::civil::Date>()
                .map(|d| CloseChoice::CarryOver { new_due: Some(d) })
                .map_err(|_| {
                    zhongshu_store::Error::invalid("new_due", format!("日期“{text}”不正确"))
                }),
        },
        Some(CloseMode::Conclude) => Ok(CloseChoice::Conclude {
            reason: form.reason.clone(),
        }),
        None => Err(zhongshu_store::Error::invalid(
            "mode",
            "请选择未完成事项的处理方式",
        )),
    };
    let outcome = match choice {
        Ok(choice) => {
            state
                .store
                .close_ledger(sup, year, &choice, beijing_today())
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/supervision/ledgers?done=ledger_closed").into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = render_close(
                &state,
                &session,
                year,
                form,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
