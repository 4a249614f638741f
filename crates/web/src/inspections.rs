//! Inspection pages (督查): the list with the office's form for a new inspection, and an
//! inspection's page with its findings (each a rectification item in the ledger) and the
//! referrals of 不作为/慢作为/乱作为 to 纪检 or 组织部.
//!
//! The office (督查室) records; leaders read the same pages without the forms; everyone else is
//! refused (and the refusal audited).

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::org::FieldErrors;
use crate::shell::Shell;
use crate::util::{beijing_today, url_decode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use serde::Deserialize;
use zhongshu_domain::access::Capability;
use zhongshu_domain::ids::UnitId;
use zhongshu_store::inspections::{
    Body, Conduct, InspectionDetail, InspectionKind, InspectionRow, NewFinding, NewInspection,
    NewReferral, ReferralTo,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision/inspections", get(list_page).post(create))
        .route("/supervision/inspections/{id}", get(detail_page))
        .route("/supervision/inspections/{id}/findings", post(add_finding))
        .route(
            "/supervision/inspections/{id}/referrals",
            post(add_referral),
        )
}

const ACTIVE: &str = "/supervision/inspections";

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

/// The fields of a form body in order; repeated names (checkboxes, multiple selects) repeat.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair).replace('+', " ");
            let (key, value) = text.split_once('=').unwrap_or((&text, ""));
            (url_decode(key), url_decode(value))
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

fn all<'a>(pairs: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn date(text: &str) -> Option<Date> {
    text.trim().parse().ok()
}

fn inspection_id(text: &str) -> Result<i64, WebError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(WebError::NotFound("督查"))
}

pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct UnitChoice {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

/// What the new-inspection form holds, to show it again after a refusal.
#[derive(Default)]
pub struct InspectionForm {
    pub title: String,
    pub kind: String,
    pub bodies: Vec<String>,
    pub units: Vec<i64>,
    pub inspected_on: String,
    pub summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/inspections.html")]
pub struct ListPage {
    pub shell: Shell,
    pub rows: Vec<InspectionRow>,
    pub can_act: bool,
    pub form: InspectionForm,
    pub kinds: Vec<Choice>,
    pub bodies: Vec<Choice>,
    pub units: Vec<UnitChoice>,
    pub errors: FieldErrors,
    pub open_form: bool,
}

async fn render_list(
    state: &AppState,
    session: &Session,
    done: Option<&str>,
    form: InspectionForm,
    errors: FieldErrors,
) -> Result<ListPage, WebError> {
    let rows = state.store.list_inspections(&session.viewer).await?;
    let can_act = session.viewer.can(Capability::Supervise);
    let units = if can_act {
        state
            .store
            .list_units(&session.viewer)
            .await?
            .into_iter()
            .filter(|u| !u.merged)
            .map(|u| UnitChoice {
                id: u.id.get(),
                selected: form.units.contains(&u.id.get()),
                name: u.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ListPage {
        shell: shell(state, session, "督查检查", done).await?,
        open_form: !errors.is_empty() || rows.is_empty(),
        kinds: InspectionKind::ALL
            .iter()
            .map(|k| Choice {
                code: k.code(),
                label: k.label(),
                checked: form.kind == k.code(),
            })
            .collect(),
        bodies: Body::ALL
            .iter()
            .map(|b| Choice {
                code: b.code(),
                label: b.label(),
                checked: form.bodies.iter().any(|c| c == b.code()),
            })
            .collect(),
        rows,
        can_act,
        units,
        errors,
        form,
    })
}

async fn list_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<DoneQuery>,
) -> Result<ListPage, WebError> {
    session
        .require(&state, Capability::SeeAllItems, "supervision:inspections")
        .await?;
    let form = InspectionForm {
        kind: InspectionKind::Special.code().to_owned(),
        bodies: vec![Body::Office.code().to_owned()],
        inspected_on: beijing_today().to_string(),
        ..InspectionForm::default()
    };
    render_list(
        &state,
        &session,
        q.done.as_deref(),
        form,
        FieldErrors::default(),
    )
    .await
}

/// Bodies and target units come as repeated fields, which `Form` cannot gather into a Vec.
async fn create(
    State(state): State<AppState>,
    session: Session,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let Ok(sup) = session.viewer.as_supervisor() else {
        return Err(session
            .refuse(&state, "supervision:inspections:create")
            .await);
    };
    let pairs = form_pairs(&body);
    let form = InspectionForm {
        title: first(&pairs, "title"),
        kind: first(&pairs, "kind"),
        bodies: all(&pairs, "body").map(str::to_owned).collect(),
        units: all(&pairs, "unit")
            .filter_map(|v| v.trim().parse().ok())
            .collect(),
        inspected_on: first(&pairs, "inspected_on"),
        summary: first(&pairs, "summary"),
    };
    let unknown_body = form.bodies.iter().any(|c| Body::from_code(c).is_none());
    let unknown_unit = all(&pairs, "unit").any(|v| UnitId::parse(v).is_none());
    if unknown_body || unknown_unit {
        return Err(WebError::BadRequest("表单中有未知的选项".to_owned()));
    }
    let new = NewInspection {
        title: form.title.clone(),
        kind: InspectionKind::from_code(&form.kind),
        bodies: form
            .bodies
            .iter()
            .filter_map(|c| Body::from_code(c))
            .collect(),
        units: form.units.iter().map(|id| UnitId::from_db(*id)).collect(),
        inspected_on: date(&form.inspected_on),
        summary: form.summary.clone(),
    };
    let mut outcome = state.store.record_inspection(sup, &new).await;
    if let Err(zhongshu_store::Error::Invalid(problems)) = &mut outcome
        && !form.inspected_on.trim().is_empty()
        && new.inspected_on.is_none()
    {
        for p in problems.iter_mut().filter(|p| p.field == "inspected_on") {
            p.message = format!("日期“{}”不正确", form.inspected_on.trim());
        }
    }
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!(
            "/supervision/inspections/{id}?done=inspection_recorded"
        ))
        .into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = render_list(
                &state,
                &session,
                None,
                form,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// What the finding and referral forms hold, to show them again after a refusal.
#[derive(Default)]
pub struct FindingForm {
    pub problem: String,
    pub unit: String,
    pub deadline: String,
    pub finding: String,
    pub to: String,
    pub conduct: String,
    pub note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/inspection.html")]
pub struct DetailPage {
    pub shell: Shell,
    pub d: InspectionDetail,
    pub can_act: bool,
    pub form: FindingForm,
    pub errors: FieldErrors,
    pub general_errors: Vec<String>,
    pub referral_to: Vec<Choice>,
    pub conducts: Vec<Choice>,
}

async fn render_detail(
    state: &AppState,
    session: &Session,
    id: i64,
    done: Option<&str>,
    form: FindingForm,
    errors: FieldErrors,
) -> Result<DetailPage, WebError> {
    let d = state.store.get_inspection(&session.viewer, id).await?;
    Ok(DetailPage {
        shell: shell(state, session, &d.title, done).await?,
        can_act: session.viewer.can(Capability::Supervise),
        general_errors: errors.other(&[
            "problem", "unit", "deadline", "finding", "to", "conduct", "note",
        ]),
        referral_to: ReferralTo::ALL
            .iter()
            .map(|t| Choice {
                code: t.code(),
                label: t.label(),
                checked: form.to == t.code(),
            })
            .collect(),
        conducts: Conduct::ALL
            .iter()
            .map(|c| Choice {
                code: c.code(),
                label: c.label(),
                checked: form.conduct == c.code(),
            })
            .collect(),
        d,
        errors,
        form,
    })
}

async fn detail_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<DetailPage, WebError> {
    session
        .require(&state, Capability::SeeAllItems, "supervision:inspection")
        .await?;
    let id = inspection_id(&id)?;
    // A month is the usual rectification period; the office changes it as needed.
    let deadline = beijing_today()
        .checked_add(jiff::Span::new().months(1))
        .map(|d| d.to_string())
        .unwrap_or_default();
    let form = FindingForm {
        deadline,
        ..FindingForm::default()
    };
    render_detail(
        &state,
        &session,
        id,
        q.done.as_deref(),
        form,
        FieldErrors::default(),
    )
    .await
}

/// Re-renders the inspection's page after a refused form (422).
async fn detail_failure(
    state: &AppState,
    session: &Session,
    id: i64,
    form: FindingForm,
    err: zhongshu_store::Error,
) -> Result<Response, WebError> {
    match err {
        zhongshu_store::Error::Invalid(problems) => {
            let page = render_detail(
                state,
                session,
                id,
                None,
                form,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        other => Err(other.into()),
    }
}

async fn add_finding(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let id = inspection_id(&id)?;
    let Ok(sup) = session.viewer.as_supervisor() else {
        return Err(session
            .refuse(&state, &format!("inspection:{id}:finding"))
            .await);
    };
    let pairs = form_pairs(&body);
    let form = FindingForm {
        problem: first(&pairs, "problem"),
        unit: first(&pairs, "unit"),
        deadline: first(&pairs, "deadline"),
        ..FindingForm::default()
    };
    let new = NewFinding {
        problem: form.problem.clone(),
        unit: UnitId::parse(&form.unit),
        deadline: date(&form.deadline),
    };
    let mut outcome = state.store.record_finding(sup, id, &new).await;
    if let Err(zhongshu_store::Error::Invalid(problems)) = &mut outcome
        && !form.deadline.trim().is_empty()
        && new.deadline.is_none()
    {
        for p in problems.iter_mut().filter(|p| p.field == "deadline") {
            p.message = format!("日期“{}”不正确", form.deadline.trim());
        }
    }
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!(
            "/supervision/inspections/{id}?done=finding_recorded"
        ))
        .into_response()),
        Err(err) => detail_failure(&state, &session, id, form, err).await,
    }
}

async fn add_referral(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let id = inspection_id(&id)?;
    let Ok(sup) = session.viewer.as_supervisor() else {
        return Err(session
            .refuse(&state, &format!("inspection:{id}:referral"))
            .await);
    };
    let pairs = form_pairs(&body);
    let form = FindingForm {
        finding: first(&pairs, "finding"),
        to: first(&pairs, "to"),
        conduct: first(&pairs, "conduct"),
        note: first(&pairs, "note"),
        ..FindingForm::default()
    };
    let detail = state.store.get_inspection(&session.viewer, id).await?;
    let finding = form
        .finding
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|f| detail.findings.iter().any(|x| x.id == *f));
    let Some(finding) = finding else {
        let err = zhongshu_store::Error::invalid("finding", "请选择要移交的问题");
        return detail_failure(&state, &session, id, form, err).await;
    };
    let new = NewReferral {
        to: ReferralTo::from_code(&form.to),
        conduct: Conduct::from_code(&form.conduct),
        note: form.note.clone(),
    };
    match state.store.record_referral(sup, finding, &new).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/supervision/inspections/{id}?done=referral_recorded"
        ))
        .into_response()),
        Err(err) => detail_failure(&state, &session, id, form, err).await,
    }
}
