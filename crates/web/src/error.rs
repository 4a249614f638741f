//! The one error type of the web edge. Handlers return `Result<_, WebError>` and use `?`.
//!
//! A 4xx carries a Chinese message for the person; a 5xx logs the cause with an error id and
//! shows only that id. Pages get an HTML error page; under `/api` the same error becomes JSON
//! `{"code": "stable_code", "message": "中文说明"}` (see [`api_errors_as_json`]).

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use zhongshu_store::Error as StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("请先登录")]
    NotSignedIn { expired: bool, next: String },
    #[error("您没有权限访问此页面")]
    Forbidden,
    #[error("首次登录须先修改密码")]
    MustChangePassword,
    #[error("{0}不存在")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("提交的内容过大")]
    TooLarge,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an error response says, attached to the response so the API layer can reshape it.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<zhongshu_store::FieldProblem>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

impl WebError {
    fn info(&self) -> ErrorInfo {
        let (status, code, message, fields) = match self {
            WebError::NotSignedIn { expired, .. } => (
                StatusCode::UNAUTHORIZED,
                if *expired {
                    "session_expired"
                } else {
                    "not_signed_in"
                },
                if *expired {
                    "登录已超时，请重新登录".to_owned()
                } else {
                    "请先登录".to_owned()
                },
                vec![],
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "您没有权限执行此操作".to_owned(),
                vec![],
            ),
            WebError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what}不存在"),
                vec![],
            ),
            WebError::MustChangePassword => (
                StatusCode::FORBIDDEN,
                "must_change_password",
                "首次登录须先修改密码".to_owned(),
                vec![],
            ),
            WebError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "提交的内容过大，请拆分后再提交".to_owned(),
                vec![],
            ),
            WebError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                message.clone(),
                vec![],
            ),
            WebError::Store(err) => match err {
                StoreError::NotFound(what) => (
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("{what}不存在"),
                    vec![],
                ),
                StoreError::Invalid(fields) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    err.to_string(),
                    fields.clone(),
                ),
                StoreError::Rows(_) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rows_refused",
                    err.to_string(),
                    vec![],
                ),
                StoreError::StaleVersion => (
                    StatusCode::CONFLICT,
                    "stale_version",
                    err.to_string(),
                    vec![],
                ),
                StoreError::Forbidden(_) => (
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "您没有权限执行此操作".to_owned(),
                    vec![],
                ),
                StoreError::Unauthenticated(message) => (
                    StatusCode::UNAUTHORIZED,
                    "sign_in_refused",
                    message.clone(),
                    vec![],
                ),
                StoreError::Database(_) | StoreError::Internal(_) => {
                    let id = error_id();
                    tracing::error!(error_id = %id, "内部错误：{err:?}");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        format!("系统内部错误，请联系系统管理员并提供错误编号 {id}"),
                        vec![],
                    )
                }
            },
        };
        ErrorInfo {
            status,
            code,
            message,
            fields,
        }
    }
}

fn error_id() -> String {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::NotSignedIn { expired, next } = &self {
            let mut target = String::from("/login?");
            if *expired {
                target.push_str("expired=1&");
            }
            target.push_str("next=");
            target.push_str(&crate::util::url_encode(next));
            let mut response = Redirect::to(&target).into_response();
            response.extensions_mut().insert(self.info());
            return response;
        }
        if let WebError::MustChangePassword = &self {
            let mut response = Redirect::to("/password").into_response();
            response.extensions_mut().insert(self.info());
            return response;
        }
        let info = self.info();
        let page = ErrorPage {
            status: info.status.as_u16(),
            title: match info.status.as_u16() {
                403 => "无权访问",
                404 => "未找到",
                409 => "已被他人修改",
                500 => "系统错误",
                _ => "请求有误",
            },
            message: info.message.clone(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("{} {}", info.status.as_u16(), info.message));
        let mut response = (
            info.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        response.extensions_mut().insert(info);
        response
    }
}

/// Turns any error response under `/api` into JSON: `{"code", "message", "fields"?}`.
pub async fn api_errors_as_json(response: Response) -> Response {
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return response;
    };
    let mut body = serde_json::json!({ "code": info.code, "message": info.message });
    if !info.fields.is_empty() {
        body["fields"] = serde_json::json!(info.fields);
    }
    (info.status, axum::Json(body)).into_response()
}
