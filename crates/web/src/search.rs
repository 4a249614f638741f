//! Full-text search (检索) over supervision items and progress reports: the page `/search` in
//! the shell, and `GET /api/v1/search` (registered in [`crate::api`]) with the same results as
//! JSON.
//!
//! The store decides what the viewer may find (`Store::search`, the ledger list's rule), so a
//! unit's liaison finds only their unit's items and reports and an administrator finds nothing.
//! An empty or punctuation-only query is a 400 with the store's Chinese message: on the page
//! the form is shown again with it; under `/api` it becomes `{"code": "bad_request", …}`.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use zhongshu_store::search::SearchResults;

/// Hits of each kind a page or an API answer lists (the counts cover all of them).
const DEFAULT_LIMIT: i64 = 50;
/// The most an API caller may ask for at once.
const MAX_LIMIT: i64 = 200;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search_page))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchQuery {
    /// Absent: the page shows an empty form. Present but empty: refused.
    pub q: Option<String>,
    /// Text, parsed by the handler, so a bad number gets a Chinese message rather than the
    /// extractor's plain-text refusal.
    pub limit: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub shell: Shell,
    pub q: String,
    /// Why the query was refused, in Chinese.
    pub error: Option<String>,
    pub results: Option<SearchResults>,
}

async fn search_page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<SearchQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::new(&state, &session.viewer, "搜索", "/search").await?;
    let Some(q) = query.q else {
        return Ok(SearchPage {
            shell,
            q: String::new(),
            error: None,
            results: None,
        }
        .into_response());
    };
    match state.store.search(&session.viewer, &q, DEFAULT_LIMIT).await {
        Ok(results) => Ok(SearchPage {
            shell,
            q,
            error: None,
            results: Some(results),
        }
        .into_response()),
        Err(zhongshu_store::Error::Invalid(problems)) => {
            let page = SearchPage {
                shell,
                q,
                error: Some(join_messages(&problems)),
                results: None,
            };
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /api/v1/search?q=…&limit=…`: the hits the caller may see, newest ledger year first,
/// with the count of each kind.
pub(crate) async fn api_search(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchResults>, WebError> {
    let limit = match query.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| WebError::BadRequest(format!("limit 须为1到{MAX_LIMIT}之间的整数")))?
            .clamp(1, MAX_LIMIT),
    };
    let q = query.q.unwrap_or_default();
    match state.store.search(&session.viewer, &q, limit).await {
        Ok(results) => Ok(Json(results)),
        // A bad query is the request's fault, like a missing parameter: 400, not 422.
        Err(zhongshu_store::Error::Invalid(problems)) => {
            Err(WebError::BadRequest(join_messages(&problems)))
        }
        Err(other) => Err(other.into()),
    }
}

fn join_messages(problems: &[zhongshu_store::FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("；")
}
