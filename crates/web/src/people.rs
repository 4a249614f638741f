//! User administration: the list (system and security administrators), new accounts and
//! password resets (system administrator), roles (security administrator only: 三员分立).

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::org::{FieldErrors, NoticeQuery};
use crate::shell::Shell;
use crate::util::ValidForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use zhongshu_domain::access::{Capability, Role};
use zhongshu_domain::ids::{UnitId, UserId};
use zhongshu_store::units::Unit;
use zhongshu_store::users::{NewUser, User, UserFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(users_page).post(create_user))
        .route("/users/{id}", get(user_page))
        .route("/users/{id}/roles", post(save_roles))
        .route("/users/{id}/reset-password", post(reset_password))
        .route("/users/{id}/unlock", post(unlock))
        .route("/users/{id}/disable", post(disable))
        .route("/users/{id}/enable", post(enable))
        .route("/users/{id}/email", post(save_email))
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    ok: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewUserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub password: String,
}

pub struct RoleOption {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct UnitOption {
    pub id: UnitId,
    pub name: String,
    pub indent: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub shell: Shell,
    pub users: Vec<User>,
    pub q: String,
    pub role: String,
    pub roles: Vec<RoleOption>,
    pub units: Vec<UnitOption>,
    pub can_create: bool,
    pub form: NewUserForm,
    pub errors: FieldErrors,
    pub created_password: Option<String>,
}

fn unit_options(units: &[Unit]) -> Vec<UnitOption> {
    units
        .iter()
        .filter(|u| !u.merged)
        .map(|u| UnitOption {
            id: u.id,
            name: u.name.clone(),
            indent: u.depth.saturating_sub(1),
        })
        .collect()
}

async fn render_users(
    state: &AppState,
    session: &Session,
    query: UsersQuery,
    form: NewUserForm,
    errors: FieldErrors,
) -> Result<UsersPage, WebError> {
    let lister = session.user_lister(state, "users").await?;
    let role = Role::from_code(&query.role);
    let users = state
        .store
        .list_users(
            lister,
            &UserFilter {
                query: Some(query.q.clone()).filter(|q| !q.trim().is_empty()),
                unit_id: None,
                role,
            },
            200,
        )
        .await?;
    let units = state.store.list_units(&session.viewer).await?;
    Ok(UsersPage {
        shell: Shell::new(state, &session.viewer, "用户管理", "/users")
            .await?
            .with_notice(query.ok.as_deref()),
        users,
        roles: Role::ALL
            .iter()
            .map(|r| RoleOption {
                code: r.code(),
                label: r.label(),
                checked: Some(*r) == role,
            })
            .collect(),
        q: query.q,
        role: query.role,
        units: unit_options(&units),
        can_create: session.viewer.can(Capability::ManageUsers),
        form,
        errors,
        created_password: None,
    })
}

async fn users_page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<UsersQuery>,
) -> Result<UsersPage, WebError> {
    render_users(
        &state,
        &session,
        query,
        NewUserForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn create_user(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<NewUserForm>,
) -> Result<Response, WebError> {
    let admin = session.sys_admin(&state, "users:create").await?;
    let Some(unit_id) = UnitId::parse(&form.unit_id) else {
        let errors = FieldErrors::from_problems(&[zhongshu_store::FieldProblem::new(
            "unit_id",
            "请选择所属单位",
        )]);
        let page = render_users(&state, &session, UsersQuery::default(), form, errors).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let new = NewUser {
        username: form.username.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        title: form.title.trim().to_owned(),
        unit_id,
        password: form.password.clone(),
        roles: vec![],
        must_change_password: true,
    };
    match state
        .store
        .create_user(admin, None, new, &state.settings.password_policy())
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/users/{id}?ok=user_created")).into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let mut form = form;
            form.password.clear();
            let page = render_users(
                &state,
                &session,
                UsersQuery::default(),
                form,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "user.html")]
pub struct UserPage {
    pub shell: Shell,
    pub user: User,
    pub roles: Vec<RoleOption>,
    pub can_grant: bool,
    pub can_manage: bool,
    pub locked_until: Option<String>,
    pub new_password: Option<String>,
    pub errors: FieldErrors,
}

fn user_id(text: &str) -> Result<UserId, WebError> {
    UserId::parse(text).ok_or(WebError::NotFound("用户"))
}

async fn render_user(
    state: &AppState,
    session: &Session,
    id: UserId,
    notice: Option<&str>,
    new_password: Option<String>,
    errors: FieldErrors,
) -> Result<UserPage, WebError> {
    let lister = session.user_lister(state, &format!("user:{id}")).await?;
    let user = state.store.get_user(lister, id).await?;
    let now = zhongshu_store::now_ms();
    Ok(UserPage {
        shell: Shell::new(state, &session.viewer, &user.display_name, "/users")
            .await?
            .with_notice(notice),
        roles: Role::ALL
            .iter()
            .map(|r| RoleOption {
                code: r.code(),
                label: r.label(),
                checked: user.roles.contains(r),
            })
            .collect(),
        can_grant: session.viewer.can(Capability::GrantRoles),
        can_manage: session.viewer.can(Capability::ManageUsers),
        locked_until: user
            .locked_until
            .filter(|t| *t > now)
            .map(crate::util::beijing_time),
        new_password,
        errors,
        user,
    })
}

async fn user_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<UserPage, WebError> {
    render_user(
        &state,
        &session,
        user_id(&id)?,
        q.ok.as_deref(),
        None,
        FieldErrors::default(),
    )
    .await
}

/// Roles come as repeated `role` fields (checkboxes), which `Form` cannot gather into a Vec.
async fn save_roles(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, WebError> {
    let id = user_id(&id)?;
    let admin = session
        .security_admin(&state, &format!("user:{id}:roles"))
        .await?;
    let mut roles = Vec::new();
    let mut version = 0i64;
    for pair in body.split(|b| *b == b'&') {
        let text = String::from_utf8_lossy(pair);
        let (key, value) = text.split_once('=').unwrap_or((&text, ""));
        match key {
            "role" => match Role::from_code(value) {
                Some(role) => roles.push(role),
                None => return Err(WebError::BadRequest(format!("未知角色“{value}”"))),
            },
            "version" => version = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    match state.store.set_roles(admin, id, &roles, version).await {
        Ok(()) => Ok(Redirect::to(&format!("/users/{id}?ok=roles_saved")).into_response()),
        Err(zhongshu_store::Error::StaleVersion) => {
            let errors = FieldErrors::from_problems(&[zhongshu_store::FieldProblem::new(
                "roles",
                "已被他人修改：下面显示的是最新角色，请核对后重新提交",
            )]);
            let page = render_user(&state, &session, id, None, None, errors).await?;
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<UserPage, WebError> {
    let id = user_id(&id)?;
    let admin = session
        .sys_admin(&state, &format!("user:{id}:password"))
        .await?;
    let password = state.store.reset_password(admin, id).await?;
    render_user(
        &state,
        &session,
        id,
        None,
        Some(password),
        FieldErrors::default(),
    )
    .await
}

/// The system administrator's account switches: unlock, disable, enable.
#[derive(Clone, Copy)]
enum AccountSwitch {
    Unlock,
    Disable,
    Enable,
}

impl AccountSwitch {
    fn code(self) -> &'static str {
        match self {
            AccountSwitch::Unlock => "unlock",
            AccountSwitch::Disable => "disable",
            AccountSwitch::Enable => "enable",
        }
    }

    /// The notice shown after it.
    fn notice(self) -> &'static str {
        match self {
            AccountSwitch::Unlock => "unlocked",
            AccountSwitch::Disable => "disabled",
            AccountSwitch::Enable => "enabled",
        }
    }
}

async fn switch_account(
    state: &AppState,
    session: &Session,
    id: &str,
    switch: AccountSwitch,
) -> Result<Redirect, WebError> {
    let id = user_id(id)?;
    let admin = session
        .sys_admin(state, &format!("user:{id}:{}", switch.code()))
        .await?;
    match switch {
        AccountSwitch::Unlock => state.store.unlock_user(admin, id).await?,
        AccountSwitch::Disable => state.store.set_disabled(admin, id, true).await?,
        AccountSwitch::Enable => state.store.set_disabled(admin, id, false).await?,
    }
    Ok(Redirect::to(&format!("/users/{id}?ok={}", switch.notice())))
}

async fn unlock(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    switch_account(&state, &session, &id, AccountSwitch::Unlock).await
}

async fn disable(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    switch_account(&state, &session, &id, AccountSwitch::Disable).await
}

async fn enable(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    switch_account(&state, &session, &id, AccountSwitch::Enable).await
}

#[derive(serde::Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// The system administrator sets a user's e-mail address (where reminders are e-mailed).
async fn save_email(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<EmailForm>,
) -> Result<Response, WebError> {
    let id = user_id(&id)?;
    let admin = session
        .sys_admin(&state, &format!("user:{id}:email"))
        .await?;
    match state.store.set_user_email(admin, id, &form.email).await {
        Ok(()) => Ok(Redirect::to(&format!("/users/{id}?ok=email_saved")).into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let errors = FieldErrors::from_problems(&problems);
            let page = render_user(&state, &session, id, None, None, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
