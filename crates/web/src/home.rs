//! The home page: counts and what needs attention.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use zhongshu_domain::access::Capability;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub units: i64,
    pub users: i64,
    pub today: String,
    pub today_is_workday: bool,
    pub next_workday: String,
    pub festival: Option<String>,
    pub can_manage: bool,
    pub can_audit: bool,
}

async fn home(State(state): State<AppState>, session: Session) -> Result<HomePage, WebError> {
    let viewer = &session.viewer;
    let calendar = state.store.work_calendar().await?;
    let today = crate::util::beijing_today();
    Ok(HomePage {
        shell: Shell::new(&state, viewer, "首页", "/").await?,
        units: state.store.unit_count(viewer).await?,
        users: state.store.user_count(viewer).await?,
        today: today.strftime("%Y年%-m月%-d日").to_string(),
        today_is_workday: calendar.is_workday(today),
        next_workday: calendar
            .add_workdays(today, 1)
            .strftime("%-m月%-d日")
            .to_string(),
        festival: calendar.festival(today).map(str::to_owned),
        can_manage: viewer.can(Capability::ManageOrganisation),
        can_audit: viewer.can(Capability::ReadAudit),
    })
}
