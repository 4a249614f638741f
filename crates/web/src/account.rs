//! The signed-in person's own page: change password (forced at first sign-in), open sessions,
//! "log out everywhere", personal API tokens, and the e-mail address reminders go to.

use crate::AppState;
use crate::auth::{Session, session_cookie};
use crate::error::WebError;
use crate::org::{FieldErrors, NoticeQuery};
use crate::shell::Shell;
use crate::util::ValidForm;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use zhongshu_store::sessions::SessionInfo;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/password", get(password_page).post(change_password))
        .route("/account", get(account_page))
        .route("/account/logout-everywhere", post(logout_everywhere))
        .route("/account/tokens", post(create_token))
        .route("/account/email", post(save_email))
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub region: String,
    pub user: String,
    pub forced: bool,
    pub errors: FieldErrors,
    pub min_length: usize,
    pub min_classes: usize,
}

async fn password_page(
    State(state): State<AppState>,
    session: Session,
) -> Result<PasswordPage, WebError> {
    password_form(&state, &session, FieldErrors::default()).await
}

async fn password_form(
    state: &AppState,
    session: &Session,
    errors: FieldErrors,
) -> Result<PasswordPage, WebError> {
    Ok(PasswordPage {
        region: crate::shell::region_name(state).await?,
        user: session.viewer.display_name.clone(),
        forced: false,
        errors,
        min_length: state.settings.security.password_min_length,
        min_classes: state.settings.security.password_min_classes,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<PasswordForm>,
) -> Result<Response, WebError> {
    let outcome = if form.new != form.confirm {
        Err(zhongshu_store::Error::invalid(
            "confirm",
            "两次输入的新密码不一致",
        ))
    } else {
        state
            .store
            .change_own_password(
                &session.viewer,
                &form.current,
                &form.new,
                &state.settings.password_policy(),
            )
            .await
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/account?ok=password_changed").into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page =
                password_form(&state, &session, FieldErrors::from_problems(&problems)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub struct SessionRow {
    pub created: String,
    pub last_seen: String,
    pub client: String,
    pub agent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub shell: Shell,
    pub username: String,
    pub sessions: Vec<SessionRow>,
    pub new_token: Option<String>,
    pub errors: FieldErrors,
    /// The address reminders are e-mailed to ("" = none).
    pub email: String,
}

async fn render_account(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    new_token: Option<String>,
    errors: FieldErrors,
) -> Result<AccountPage, WebError> {
    let sessions = state.store.my_sessions(&session.viewer).await?;
    Ok(AccountPage {
        shell: Shell::new(state, &session.viewer, "个人中心", "/account")
            .await?
            .with_notice(notice),
        username: session.viewer.username.clone(),
        sessions: sessions
            .into_iter()
            .map(|s: SessionInfo| SessionRow {
                created: crate::util::beijing_time(s.created_at),
                last_seen: crate::util::beijing_time(s.last_seen_at),
                client: s.client_addr.unwrap_or_default(),
                agent: s.user_agent.unwrap_or_default(),
            })
            .collect(),
        new_token,
        errors,
        email: state.store.own_email(&session.viewer).await?,
    })
}

async fn account_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> Result<AccountPage, WebError> {
    render_account(
        &state,
        &session,
        q.ok.as_deref(),
        None,
        FieldErrors::default(),
    )
    .await
}

async fn logout_everywhere(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, WebError> {
    state.store.end_all_sessions(&session.viewer).await?;
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = header::HeaderValue::from_str(&session_cookie(&state, "", Some(0))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<TokenForm>,
) -> Result<Response, WebError> {
    match state
        .store
        .create_own_token(&session.viewer, &form.name)
        .await
    {
        Ok((_, token)) => Ok(render_account(
            &state,
            &session,
            Some("token_created"),
            Some(token),
            FieldErrors::default(),
        )
        .await?
        .into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = render_account(
                &state,
                &session,
                None,
                None,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn save_email(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<EmailForm>,
) -> Result<Response, WebError> {
    match state
        .store
        .set_own_email(&session.viewer, &form.email)
        .await
    {
        Ok(()) => Ok(Redirect::to("/account?ok=email_saved").into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = render_account(
                &state,
                &session,
                None,
                None,
                FieldErrors::from_problems(&problems),
            )
            .await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
