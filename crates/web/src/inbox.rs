//! The in-app inbox (站内消息): what was assigned, urged, reviewed or instructed, for the
//! signed-in person.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::org::NoticeQuery;
use crate::shell::Shell;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use zhongshu_store::notify::Notification;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox_page))
        .route("/inbox/read-all", post(read_all))
        .route("/inbox/{id}/open", post(open))
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub shell: Shell,
    pub items: Vec<Notification>,
}

async fn inbox_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> Result<InboxPage, WebError> {
    Ok(InboxPage {
        items: state.store.inbox(&session.viewer, 200).await?,
        shell: Shell::new(&state, &session.viewer, "站内消息", "/inbox")
            .await?
            .with_notice(q.ok.as_deref()),
    })
}

async fn read_all(State(state): State<AppState>, session: Session) -> Result<Redirect, WebError> {
    state.store.mark_read(&session.viewer, None).await?;
    Ok(Redirect::to("/inbox?ok=all_read"))
}

/// Marks one notification read and goes to its item; a notice of many items at once (an
/// import's) goes to the unit's own items.
async fn open(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, WebError> {
    state.store.mark_read(&session.viewer, Some(id)).await?;
    let target = state
        .store
        .inbox(&session.viewer, 500)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .map_or_else(
            || "/inbox".to_owned(),
            |n| match n.item_id {
                Some(item) => format!("/supervision/items/{item}"),
                None if n.kind == "assigned" => "/supervision/mine".to_owned(),
                None => "/inbox".to_owned(),
            },
        );
    Ok(Redirect::to(&target))
}
