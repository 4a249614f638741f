//! The outbox page (发件箱): how the external copies of notifications stand — counts by
//! channel and status, the newest rows with their last error — and a button that puts a
//! given-up row back in the queue. For the supervision office, whose reminders these are, and
//! the system administrator, who runs the relays; refused (and audited) for anyone else.
//!
//! Webhook and robot addresses carry keys, so the page shows only their host; an e-mail row
//! shows the recipient's address.

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
use zhongshu_store::now_ms;
use zhongshu_store::outbox::{ChannelCounts, OutboxOperator, RowStatus};

/// Rows on the page.
const LATEST: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supervision/outbox", get(outbox_page))
        .route("/supervision/outbox/{id}/retry", post(retry))
}

/// One row as the page shows it.
pub struct RowView {
    pub id: i64,
    pub channel: &'static str,
    pub destination: String,
    pub recipient: String,
    pub title: String,
    pub attempts: i64,
    pub last_error: String,
    pub created: String,
    /// When it was delivered, or when it is next tried ("" when given up).
    pub when: String,
    pub status: &'static str,
    /// The tag's class: red for given up, grey for delivered.
    pub status_class: &'static str,
    pub can_retry: bool,
}

/// What the relay settings say, for the operator (never the password itself).
pub struct SmtpView {
    pub relay: String,
    pub from: String,
    pub starttls: bool,
    pub login: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub shell: Shell,
    pub counts: Vec<ChannelCounts>,
    pub totals: ChannelTotals,
    pub rows: Vec<RowView>,
    pub max_attempts: i64,
    pub smtp: Option<SmtpView>,
    pub targets: usize,
}

/// The counts of every channel added up.
#[derive(Default)]
pub struct ChannelTotals {
    pub pending: i64,
    pub delivering: i64,
    pub delivered: i64,
    pub gave_up: i64,
}

/// The last error in words for the office: the worker's reasons are Chinese already, but a
/// bare HTTP status needs saying who answered it.
fn error_text(error: Option<String>) -> String {
    match error {
        Some(e) if e.starts_with("HTTP ") => format!("接收方返回 {e}"),
        Some(e) => e,
        None => String::new(),
    }
}

async fn outbox_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> Result<OutboxPage, WebError> {
    let Ok(operator) = OutboxOperator::of(&session.viewer) else {
        return Err(session.refuse(&state, "outbox").await);
    };
    let notify = &state.settings.notify;
    let max_attempts = notify.max_attempts.max(1);
    let (counts, rows) = state
        .store
        .outbox_overview(operator, now_ms(), max_attempts, LATEST)
        .await?;
    let totals = counts
        .iter()
        .fold(ChannelTotals::default(), |t, c| ChannelTotals {
            pending: t.pending + c.pending,
            delivering: t.delivering + c.delivering,
            delivered: t.delivered + c.delivered,
            gave_up: t.gave_up + c.gave_up,
        });
    let rows = rows
        .into_iter()
        .map(|r| RowView {
            id: r.id,
            channel: r.channel.label(),
            destination: r.destination,
            recipient: r.recipient.unwrap_or_default(),
            title: r.title,
            attempts: r.attempts,
            last_error: error_text(r.last_error),
            created: crate::util::beijing_time(r.created_at),
            when: match (r.status, r.delivered_at) {
                (RowStatus::Delivered, Some(at)) => crate::util::beijing_time(at),
                (RowStatus::GaveUp, _) => String::new(),
                _ => crate::util::beijing_time(r.next_attempt_at),
            },
            status: r.status.label(),
            status_class: match r.status {
                RowStatus::GaveUp => "tag key",
                RowStatus::Delivered => "tag grey",
                RowStatus::Pending | RowStatus::Delivering => "tag",
            },
            can_retry: r.status == RowStatus::GaveUp,
        })
        .collect();
    // Checked at startup, so an error cannot reach here; shown as "not configured" if it did.
    let smtp = notify.smtp().ok().flatten().map(|s| SmtpView {
        relay: format!("{}:{}", s.host, s.port),
        from: s.from.to_string(),
        starttls: s.starttls,
        login: s.credentials.map(|(user, _)| user).unwrap_or_default(),
    });
    Ok(OutboxPage {
        shell: Shell::new(&state, &session.viewer, "发件箱", "/supervision/outbox")
            .await?
            .with_notice(q.ok.as_deref()),
        counts,
        totals,
        rows,
        max_attempts,
        smtp,
        targets: notify.webhook_urls.len() + notify.wecom_urls.len() + notify.dingtalk_urls.len(),
    })
}

/// Puts a given-up row back in the queue (audited by the store).
async fn retry(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Redirect, WebError> {
    let Ok(operator) = OutboxOperator::of(&session.viewer) else {
        return Err(session.refuse(&state, &format!("outbox:{id}:retry")).await);
    };
    state
        .store
        .retry_outbox_row(
            operator,
            id,
            now_ms(),
            state.settings.notify.max_attempts.max(1),
        )
        .await?;
    Ok(Redirect::to("/supervision/outbox?ok=outbox_retried"))
}
