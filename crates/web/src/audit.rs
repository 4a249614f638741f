//! The audit page, for the audit administrator only: filter the log and verify the chain.

use crate::AppState;
use crate::auth::Session;
use crate::error::WebError;
use crate::shell::Shell;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use zhongshu_domain::audit::AuditCode;
use zhongshu_store::audit::{AuditFilter, Verification};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit_page))
        .route("/audit/verify", post(verify))
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: Option<i64>,
}

pub struct Row {
    pub id: i64,
    pub time: String,
    pub label: &'static str,
    pub security: bool,
    pub actor: String,
    pub target: String,
    pub detail: String,
    pub client: String,
}

pub struct CodeOption {
    pub code: i64,
    pub label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub shell: Shell,
    pub rows: Vec<Row>,
    pub codes: Vec<CodeOption>,
    pub q: AuditQuery,
    pub next_before: Option<i64>,
    pub verification: Option<(bool, String)>,
    pub errors: Vec<String>,
}

fn parse_day(text: &str, field: &str, errors: &mut Vec<String>) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = text.parse::<jiff::civil::Date>().ok().and_then(|d| {
        d.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").ok()?)
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    });
    if parsed.is_none() {
        errors.push(format!("{field}“{text}”不是有效日期（格式如 2026-11-25）"));
    }
    parsed
}

async fn render(
    state: &AppState,
    session: &Session,
    q: AuditQuery,
    verification: Option<(bool, String)>,
) -> Result<AuditPage, WebError> {
    let admin = session.audit_admin(state, "audit").await?;
    let mut errors = Vec::new();
    let from = parse_day(&q.from, "开始日期", &mut errors);
    let to = parse_day(&q.to, "结束日期", &mut errors).map(|t| t + 86_400_000);
    let filter = AuditFilter {
        code: q.code.trim().parse().ok(),
        actor: Some(q.actor.trim().to_owned()).filter(|a| !a.is_empty()),
        target: Some(q.target.trim().to_owned()).filter(|a| !a.is_empty()),
        from,
        to,
        before_id: q.before,
    };
    let events = state.store.list_audit(admin, &filter, 100).await?;
    let next_before = if events.len() == 100 {
        events.last().map(|e| e.id)
    } else {
        None
    };
    let rows = events
        .into_iter()
        .map(|e| Row {
            id: e.id,
            time: crate::util::beijing_time(e.occurred_at),
            label: e.label,
            security: AuditCode::from_code(e.code).is_some_and(AuditCode::is_security_event),
            actor: e.actor_name,
            target: e.target,
            detail: match (e.before, e.after) {
                (Some(b), Some(a)) => format!("{b} → {a}"),
                (None, Some(a)) => a,
                (Some(b), None) => b,
                (None, None) => String::new(),
            },
            client: e.client_addr.unwrap_or_default(),
        })
        .collect();
    Ok(AuditPage {
        shell: Shell::new(state, &session.viewer, "审计日志", "/audit").await?,
        rows,
        codes: AuditCode::ALL
            .iter()
            .map(|c| CodeOption {
                code: c.code(),
                label: c.label(),
            })
            .collect(),
        q,
        next_before,
        verification,
        errors,
    })
}

async fn audit_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, WebError> {
    render(&state, &session, q, None).await
}

async fn verify(State(state): State<AppState>, session: Session) -> Result<AuditPage, WebError> {
    let admin = session.audit_admin(&state, "audit:verify").await?;
    let outcome = state
        .store
        .verify_audit(admin, &state.settings.audit_checkpoint_dir())
        .await?;
    let verification = match outcome {
        Verification::Intact { events } => (
            true,
            format!("校验通过：全部 {events} 条审计记录完整，未被篡改。"),
        ),
        Verification::Broken {
            first_bad_id,
            reason,
        } => (
            false,
            format!("校验失败：{reason}（首个异常记录编号 {first_bad_id}）"),
        ),
    };
    render(&state, &session, AuditQuery::default(), Some(verification)).await
}
