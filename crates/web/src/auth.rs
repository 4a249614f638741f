//! Sign-in and the session at the door: the `Session` extractor resolves the cookie (pages) or
//! a bearer token (API) into the viewer, and hands out permission proofs, recording every
//! refusal in the audit log.

use crate::error::WebError;
use crate::util::{ValidForm, cookie};
use crate::{AppState, shell};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::net::SocketAddr;
use zhongshu_domain::access::{AuditAdmin, SecurityAdmin, SysAdmin, UserLister, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_store::sessions::SessionState;

pub const SESSION_COOKIE: &str = "zs_session";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

/// The signed-in viewer of a request.
pub struct Session {
    pub viewer: Viewer,
    /// The session cookie's token (None when signed in by an API token).
    pub token: Option<String>,
}

/// The client's address: the socket peer (a reverse proxy should be configured to pass it).
pub fn client_addr<B>(request: &axum::http::Request<B>) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

fn parts_client_addr(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let addr = parts_client_addr(parts);
        let next = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        if let Some(token) = bearer(&parts.headers) {
            return match state.store.token_viewer(&token).await? {
                Some(viewer) => Ok(Session {
                    viewer: viewer.with_client_addr(addr),
                    token: None,
                }),
                None => Err(WebError::NotSignedIn {
                    expired: false,
                    next,
                }),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::NotSignedIn {
                expired: false,
                next,
            });
        };
        match state
            .store
            .session(&token, &state.settings.sign_in_policy())
            .await?
        {
            SessionState::Active {
                viewer,
                must_change_password,
            } => {
                let path = parts.uri.path();
                if must_change_password && path != "/password" && path != "/logout" {
                    return Err(WebError::MustChangePassword);
                }
                Ok(Session {
                    viewer: viewer.with_client_addr(addr),
                    token: Some(token),
                })
            }
            SessionState::Expired => Err(WebError::NotSignedIn {
                expired: true,
                next,
            }),
            SessionState::Unknown => Err(WebError::NotSignedIn {
                expired: false,
                next,
            }),
        }
    }
}

impl Session {
    /// Records a refused permission and returns the 403.
    pub async fn refuse(&self, state: &AppState, target: &str) -> WebError {
        if let Err(err) = state
            .store
            .record_security_event(&self.viewer, AuditCode::PermissionRefused, target, None)
            .await
        {
            tracing::error!("无法记录越权访问：{err}");
        }
        WebError::Forbidden
    }

    /// Allows the request when the viewer holds `capability`; otherwise records the refusal
    /// and returns the 403.
    pub async fn require(
        &self,
        state: &AppState,
        capability: zhongshu_domain::access::Capability,
        target: &str,
    ) -> Result<(), WebError> {
        if self.viewer.can(capability) {
            Ok(())
        } else {
            Err(self.refuse(state, target).await)
        }
    }

    pub async fn sys_admin(
        &self,
        state: &AppState,
        target: &str,
    ) -> Result<SysAdmin<'_>, WebError> {
        match self.viewer.as_sys_admin() {
            Ok(proof) => Ok(proof),
            Err(_) => Err(self.refuse(state, target).await),
        }
    }

    pub async fn security_admin(
        &self,
        state: &AppState,
        target: &str,
    ) -> Result<SecurityAdmin<'_>, WebError> {
        match self.viewer.as_security_admin() {
            Ok(proof) => Ok(proof),
            Err(_) => Err(self.refuse(state, target).await),
        }
    }

    pub async fn audit_admin(
        &self,
        state: &AppState,
        target: &str,
    ) -> Result<AuditAdmin<'_>, WebError> {
        match self.viewer.as_audit_admin() {
            Ok(proof) => Ok(proof),
            Err(_) => Err(self.refuse(state, target).await),
        }
    }

    pub async fn user_lister(
        &self,
        state: &AppState,
        target: &str,
    ) -> Result<UserLister<'_>, WebError> {
        match self.viewer.as_user_lister() {
            Ok(proof) => Ok(proof),
            Err(_) => Err(self.refuse(state, target).await),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    expired: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub region: String,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
) -> Result<LoginPage, WebError> {
    Ok(LoginPage {
        region: shell::region_name(&state).await?,
        username: String::new(),
        next: safe_next(&q.next),
        error: None,
        notice: q
            .expired
            .map(|_| "登录已超时（长时间未操作），请重新登录".to_owned()),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after sign-in, never another site.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ValidForm(form): ValidForm<LoginForm>,
) -> Result<Response, WebError> {
    let next = safe_next(&form.next);
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let outcome = state
        .store
        .sign_in(
            &form.username,
            &form.password,
            Some(addr.ip().to_string()),
            agent,
            &state.settings.sign_in_policy(),
        )
        .await;
    match outcome {
        Ok(session) => {
            let target = if session.must_change_password {
                "/password".to_owned()
            } else {
                next
            };
            let mut response = Redirect::to(&target).into_response();
            let cookie = session_cookie(&state, &session.token, None);
            if let Ok(value) = header::HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            Ok(response)
        }
        Err(zhongshu_store::Error::Unauthenticated(message)) => {
            let page = LoginPage {
                region: shell::region_name(&state).await?,
                username: form.username,
                next,
                error: Some(message),
                notice: None,
            };
            Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure when configured.
pub fn session_cookie(state: &AppState, token: &str, max_age: Option<i64>) -> String {
    let mut cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax");
    if state.settings.security.cookie_secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

async fn logout(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    if let Some(token) = &session.token {
        state.store.end_session(&session.viewer, token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = header::HeaderValue::from_str(&session_cookie(&state, "", Some(0))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
