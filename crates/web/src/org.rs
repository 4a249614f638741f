//! Organisation pages: the unit tree, adding, editing, moving, merging and importing units.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use crate::util::ValidForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use zhongshu_domain::access::Capability;
use zhongshu_domain::ids::UnitId;
use zhongshu_domain::org::{UnitName, UnitType};
use zhongshu_store::units::{NewUnit, Unit, UnitChanges};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/units", get(units_page).post(create_unit))
        .route("/units/import", post(import_units))
        .route("/units/{id}", get(unit_page).post(update_unit))
        .route("/units/{id}/move", post(move_unit))
        .route("/units/{id}/merge", post(merge_unit))
}

/// A unit as a row of the tree.
pub struct TreeRow {
    pub id: UnitId,
    pub name: String,
    pub type_label: &'static str,
    pub key_reporting: bool,
    pub merged: bool,
    pub indent: usize,
}

/// The unit tree as a flat sequence a template can nest: a unit with children opens a group
/// (a `<details>` that folds), its children follow, and `Close` ends it.
pub enum TreeToken {
    Open(TreeRow),
    Leaf(TreeRow),
    Close,
}

/// Turns rows in tree order (parents first, with depths) into nesting tokens.
fn tree_tokens(rows: Vec<TreeRow>) -> Vec<TreeToken> {
    let mut tokens = Vec::with_capacity(rows.len() + rows.len() / 4);
    let mut open: Vec<usize> = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while let Some(row) = rows.next() {
        while open.last().is_some_and(|depth| *depth >= row.indent) {
            open.pop();
            tokens.push(TreeToken::Close);
        }
        if rows.peek().is_some_and(|next| next.indent > row.indent) {
            open.push(row.indent);
            tokens.push(TreeToken::Open(row));
        } else {
            tokens.push(TreeToken::Leaf(row));
        }
    }
    tokens.extend(open.iter().map(|_| TreeToken::Close));
    tokens
}

pub struct TypeOption {
    pub code: &'static str,
    pub label: &'static str,
}

fn type_options() -> Vec<TypeOption> {
    UnitType::ALL
        .iter()
        .map(|t| TypeOption {
            code: t.code(),
            label: t.label(),
        })
        .collect()
}

/// Field errors shown next to the fields.
#[derive(Default)]
pub struct FieldErrors(HashMap<&'static str, String>);

impl FieldErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn from_problems(problems: &[zhongshu_store::FieldProblem]) -> FieldErrors {
        let mut map = HashMap::new();
        for p in problems {
            map.entry(p.field)
                .and_modify(|m: &mut String| {
                    m.push('；');
                    m.push_str(&p.message);
                })
                .or_insert_with(|| p.message.clone());
        }
        FieldErrors(map)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Messages for fields the form has no slot for.
    pub fn other(&self, known: &[&str]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| !known.contains(k))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct UnitForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub unit_type: String,
    #[serde(default)]
    pub key_reporting: Option<String>,
    #[serde(default)]
    pub sort_order: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "units.html")]
pub struct UnitsPage {
    pub shell: Shell,
    pub tree: Vec<TreeToken>,
    /// Groups start unfolded in a county-sized tree and folded in a city-sized one.
    pub unfold: bool,
    pub parents: Vec<TreeRow>,
    pub types: Vec<TypeOption>,
    pub can_manage: bool,
    pub form: UnitForm,
    pub errors: FieldErrors,
    pub other_errors: Vec<String>,
    pub import_errors: Vec<String>,
    pub active_count: usize,
    pub merged_count: usize,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    pub ok: Option<String>,
}

fn tree_rows(units: &[Unit]) -> Vec<TreeRow> {
    units
        .iter()
        .map(|u| TreeRow {
            id: u.id,
            name: u.name.clone(),
            type_label: u.unit_type.label(),
            key_reporting: u.key_reporting,
            merged: u.merged,
            indent: u.depth.saturating_sub(1),
        })
        .collect()
}

async fn render_units(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    form: UnitForm,
    errors: FieldErrors,
    import_errors: Vec<String>,
) -> Result<UnitsPage, WebError> {
    let units = state.store.list_units(&session.viewer).await?;
    let rows = tree_rows(&units);
    let parents = rows.iter().filter(|r| !r.merged).map(|r| TreeRow {
        id: r.id,
        name: r.name.clone(),
        type_label: r.type_label,
        key_reporting: r.key_reporting,
        merged: false,
        indent: r.indent,
    });
    let other_errors = errors.other(&["name", "parent_id", "unit_type", "sort_order"]);
    Ok(UnitsPage {
        shell: Shell::new(state, &session.viewer, "组织机构", "/units")
            .await?
            .with_notice(notice),
        active_count: units.iter().filter(|u| !u.merged).count(),
        merged_count: units.iter().filter(|u| u.merged).count(),
        parents: parents.collect(),
        unfold: rows.len() <= 300,
        tree: tree_tokens(rows),
        types: type_options(),
        can_manage: session.viewer.can(Capability::ManageOrganisation),
        form,
        errors,
        other_errors,
        import_errors,
    })
}

async fn units_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> Result<UnitsPage, WebError> {
    render_units(
        &state,
        &session,
        q.ok.as_deref(),
        UnitForm::default(),
        FieldErrors::default(),
        vec![],
    )
    .await
}

/// The unit form's fields, parsed: name, parent, type, key-reporting flag, sort order (`None`
/// when left empty: after its siblings).
type ParsedUnit = (UnitName, Option<UnitId>, UnitType, bool, Option<i64>);

/// Parses the unit form, gathering every field problem.
fn parse_unit_form(form: &UnitForm) -> Result<ParsedUnit, Vec<zhongshu_store::FieldProblem>> {
    use zhongshu_store::FieldProblem;
    let mut problems = Vec::new();
    let name = UnitName::parse(&form.name).map_err(|m| FieldProblem::new("name", m));
    let parent = if form.parent_id.trim().is_empty() {
        Ok(None)
    } else {
        UnitId::parse(&form.parent_id)
            .map(Some)
            .ok_or_else(|| FieldProblem::new("parent_id", "上级单位不正确"))
    };
    let unit_type = UnitType::from_code(form.unit_type.trim())
        .or_else(|| UnitType::from_label(&form.unit_type))
        .ok_or_else(|| FieldProblem::new("unit_type", "请选择单位类型"));
    let sort_order = if form.sort_order.trim().is_empty() {
        Ok(None)
    } else {
        form.sort_order
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| FieldProblem::new("sort_order", "排序号须为整数"))
    };
    let key = form.key_reporting.is_some();
    match (name, parent, unit_type, sort_order) {
        (Ok(n), Ok(p), Ok(t), Ok(s)) => Ok((n, p, t, key, s)),
        (n, p, t, s) => {
            problems.extend(n.err());
            problems.extend(p.err());
            problems.extend(t.err());
            problems.extend(s.err());
            Err(problems)
        }
    }
}

async fn create_unit(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<UnitForm>,
) -> Result<Response, WebError> {
    let admin = session.sys_admin(&state, "units:create").await?;
    let outcome = match parse_unit_form(&form) {
        Ok((name, parent_id, unit_type, key_reporting, sort_order)) => {
            let sort_order = match sort_order {
                Some(n) => n,
                None => state.store.next_sort_order(parent_id).await?,
            };
            state
                .store
                .create_unit(
                    admin,
                    NewUnit {
                        parent_id,
                        name,
                        unit_type,
                        key_reporting,
                        sort_order,
                    },
                )
                .await
        }
        Err(problems) => Err(zhongshu_store::Error::Invalid(problems)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/units?ok=unit_created").into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = render_units(
                &state,
                &session,
                None,
                form,
                FieldErrors::from_problems(&problems),
                vec![],
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// A broken upload is a Chinese 400; one over `security.max_body_mib` is a 413.
fn upload_error(err: axum::extract::multipart::MultipartError) -> WebError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        WebError::TooLarge
    } else {
        WebError::BadRequest(format!("上传内容不正确：{}", err.body_text()))
    }
}

async fn import_units(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let admin = session.sys_admin(&state, "units:import").await?;
    let mut multipart = multipart.map_err(|_| {
        WebError::BadRequest("上传内容不正确：请以 multipart/form-data 方式上传文件".to_owned())
    })?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(upload_error)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let problems: Vec<String> = match file {
        None => vec!["请选择要导入的文件".to_owned()],
        Some((name, bytes)) if bytes.is_empty() => vec![format!("文件“{name}”是空的")],
        Some((name, bytes)) => match zhongshu_office::units::read_unit_list(&name, &bytes) {
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
            Ok(rows) => match zhongshu_domain::org::check_unit_rows(&rows) {
                Err(problems) => problems.iter().map(ToString::to_string).collect(),
                Ok(checked) => match state.store.import_units(admin, checked).await {
                    Ok(_) => return Ok(Redirect::to("/units?ok=units_imported").into_response()),
                    Err(zhongshu_store::Error::Rows(problems)) => {
                        problems.iter().map(ToString::to_string).collect()
                    }
                    Err(zhongshu_store::Error::Invalid(problems)) => {
                        problems.into_iter().map(|p| p.message).collect()
                    }
                    Err(other) => return Err(other.into()),
                },
            },
        },
    };
    let page = render_units(
        &state,
        &session,
        None,
        UnitForm::default(),
        FieldErrors::default(),
        problems,
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "unit.html")]
pub struct UnitPage {
    pub shell: Shell,
    pub unit: Unit,
    pub parent_name: String,
    pub merged_into_name: String,
    pub parents: Vec<TreeRow>,
    pub types: Vec<TypeOption>,
    pub can_manage: bool,
    pub form: UnitForm,
    pub errors: FieldErrors,
    pub other_errors: Vec<String>,
}

async fn render_unit(
    state: &AppState,
    session: &Session,
    id: UnitId,
    notice: Option<&str>,
    form: Option<UnitForm>,
    errors: FieldErrors,
) -> Result<UnitPage, WebError> {
    let units = state.store.list_units(&session.viewer).await?;
    let unit = units
        .iter()
        .find(|u| u.id == id)
        .cloned()
        .ok_or(WebError::NotFound("单位"))?;
    let name_of = |id: Option<UnitId>| {
        id.and_then(|id| units.iter().find(|u| u.id == id))
            .map_or_else(String::new, |u| u.name.clone())
    };
    let form = form.unwrap_or_else(|| UnitForm {
        name: unit.name.clone(),
        parent_id: unit.parent_id.map_or_else(String::new, |p| p.to_string()),
        unit_type: unit.unit_type.code().to_owned(),
        key_reporting: unit.key_reporting.then(|| "on".to_owned()),
        sort_order: unit.sort_order.to_string(),
        version: unit.version.to_string(),
    });
    let parents = tree_rows(&units)
        .into_iter()
        .filter(|r| !r.merged && r.id != unit.id)
        .collect();
    let other_errors = errors.other(&["name", "parent_id", "unit_type", "sort_order", "into"]);
    Ok(UnitPage {
        shell: Shell::new(state, &session.viewer, &unit.name, "/units")
            .await?
            .with_notice(notice),
        parent_name: name_of(unit.parent_id),
        merged_into_name: name_of(unit.merged_into),
        parents,
        types: type_options(),
        can_manage: session.viewer.can(Capability::ManageOrganisation),
        form,
        errors,
        other_errors,
        unit,
    })
}

fn unit_id(text: &str) -> Result<UnitId, WebError> {
    UnitId::parse(text).ok_or(WebError::NotFound("单位"))
}

async fn unit_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<UnitPage, WebError> {
    render_unit(
        &state,
        &session,
        unit_id(&id)?,
        q.ok.as_deref(),
        None,
        FieldErrors::default(),
    )
    .await
}

/// Re-renders the unit page with field errors (422) or the stale-edit notice (409).
async fn unit_form_failure(
    state: &AppState,
    session: &Session,
    id: UnitId,
    form: UnitForm,
    err: zhongshu_store::Error,
) -> Result<Response, WebError> {
    let (status, problems, form) = match err {
        zhongshu_store::Error::Invalid(problems) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            problems,
            Some(form),
        ),
        zhongshu_store::Error::StaleVersion => (
            axum::http::StatusCode::CONFLICT,
            vec![zhongshu_store::FieldProblem::new(
                "version",
                "已被他人修改：下面显示的是最新内容，请核对后重新提交",
            )],
            None,
        ),
        other => return Err(other.into()),
    };
    let page = render_unit(
        state,
        session,
        id,
        None,
        form,
        FieldErrors::from_problems(&problems),
    )
    .await?;
    Ok((status, page).into_response())
}

async fn update_unit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<UnitForm>,
) -> Result<Response, WebError> {
    let id = unit_id(&id)?;
    let admin = session.sys_admin(&state, &format!("unit:{id}")).await?;
    let version = form.version.trim().parse::<i64>().unwrap_or(0);
    let outcome = match parse_unit_form(&form) {
        Ok((name, _, unit_type, key_reporting, sort_order)) => {
            let sort_order = sort_order.unwrap_or(0);
            state
                .store
                .update_unit(
                    admin,
                    id,
                    UnitChanges {
                        name,
                        unit_type,
                        key_reporting,
                        sort_order,
                        version,
                    },
                )
                .await
        }
        Err(problems) => Err(zhongshu_store::Error::Invalid(problems)),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/units/{id}?ok=unit_saved")).into_response()),
        Err(err) => unit_form_failure(&state, &session, id, form, err).await,
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    version: String,
}

async fn move_unit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<MoveForm>,
) -> Result<Response, WebError> {
    let id = unit_id(&id)?;
    let admin = session.sys_admin(&state, &format!("unit:{id}")).await?;
    let parent = if form.parent_id.trim().is_empty() {
        None
    } else {
        Some(UnitId::parse(&form.parent_id).ok_or(WebError::BadRequest("上级单位不正确".into()))?)
    };
    let version = form.version.trim().parse::<i64>().unwrap_or(0);
    match state.store.move_unit(admin, id, parent, version).await {
        Ok(()) => Ok(Redirect::to(&format!("/units/{id}?ok=unit_moved")).into_response()),
        Err(err) => unit_form_failure(&state, &session, id, UnitForm::default(), err).await,
    }
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    into: String,
}

async fn merge_unit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<MergeForm>,
) -> Result<Response, WebError> {
    let id = unit_id(&id)?;
    let admin = session.sys_admin(&state, &format!("unit:{id}")).await?;
    let Some(into) = UnitId::parse(&form.into) else {
        let err = zhongshu_store::Error::invalid("into", "请选择合并到哪个单位");
        return unit_form_failure(&state, &session, id, UnitForm::default(), err).await;
    };
    match state.store.merge_unit(admin, id, into).await {
        Ok(()) => Ok(Redirect::to(&format!("/units/{id}?ok=unit_merged")).into_response()),
        Err(err) => unit_form_failure(&state, &session, id, UnitForm::default(), err).await,
    }
}
