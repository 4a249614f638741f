//! The settings page: the effective configuration, read-only (it comes from zhongshu.toml,
//! the environment and flags; see docs/configuration.md). Secrets are never shown.

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
    Router::new().route("/settings", get(settings_page))
}

pub struct Setting {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub shell: Shell,
    pub groups: Vec<(&'static str, Vec<Setting>)>,
}

async fn settings_page(
    State(state): State<AppState>,
    session: Session,
) -> Result<SettingsPage, WebError> {
    if !session.viewer.can(Capability::ViewSettings) {
        return Err(session.refuse(&state, "settings").await);
    }
    let s = &state.settings;
    let set = |key, label, value: String| Setting { key, label, value };
    let groups = vec![
        (
            "运行",
            vec![
                set("data_dir", "数据目录", s.data_dir.display().to_string()),
                set("database_url", "数据库", s.database_url().redacted()),
                set("listen", "监听地址", s.listen.clone()),
                set("public_url", "对外访问地址", s.public_url.clone()),
                set("node_name", "节点名称", s.node_name.clone()),
                set("fonts_dir", "字体目录", s.fonts_dir.clone()),
            ],
        ),
        (
            "安全",
            vec![
                set(
                    "security.password_min_length",
                    "密码最短长度",
                    s.security.password_min_length.to_string(),
                ),
                set(
                    "security.password_min_classes",
                    "密码须含字符类别数",
                    s.security.password_min_classes.to_string(),
                ),
                set(
                    "security.max_failed_logins",
                    "连续输错锁定次数",
                    s.security.max_failed_logins.to_string(),
                ),
                set(
                    "security.lockout_minutes",
                    "锁定时长（分钟）",
                    s.security.lockout_minutes.to_string(),
                ),
                set(
                    "security.idle_timeout_minutes",
                    "空闲超时（分钟）",
                    s.security.idle_timeout_minutes.to_string(),
                ),
                set(
                    "security.session_max_hours",
                    "会话最长（小时）",
                    s.security.session_max_hours.to_string(),
                ),
                set(
                    "security.cookie_secure",
                    "仅 HTTPS 发送会话",
                    s.security.cookie_secure.to_string(),
                ),
            ],
        ),
        (
            "审计",
            vec![
                set(
                    "audit.key_file",
                    "审计密钥文件",
                    s.audit_key_file().display().to_string(),
                ),
                set(
                    "audit.checkpoint_dir",
                    "检查点目录",
                    s.audit_checkpoint_dir().display().to_string(),
                ),
            ],
        ),
        (
            "督查督办",
            vec![
                set(
                    "signals.yellow_workdays",
                    "黄灯：距期限工作日",
                    s.signals.yellow_workdays.to_string(),
                ),
                set(
                    "signals.urgent_hours",
                    "特急事项时限（小时）",
                    s.signals.urgent_hours.to_string(),
                ),
                set(
                    "signals.acknowledge_workdays",
                    "签收时限（工作日）",
                    s.signals.acknowledge_workdays.to_string(),
                ),
                set(
                    "signals.default_cadence",
                    "默认报送周期",
                    s.signals.default_cadence.clone(),
                ),
                set(
                    "signals.urge_min_interval_hours",
                    "两次催办最短间隔（小时）",
                    s.signals.urge_min_interval_hours.to_string(),
                ),
            ],
        ),
        (
            "外部消息",
            vec![
                // Robot and webhook addresses carry their keys: only how many are set is shown.
                set(
                    "notify.webhook_urls",
                    "Webhook 网关地址",
                    format!("{} 个", s.notify.webhook_urls.len()),
                ),
                set(
                    "notify.wecom_urls",
                    "企业微信群机器人",
                    format!("{} 个", s.notify.wecom_urls.len()),
                ),
                set(
                    "notify.dingtalk_urls",
                    "钉钉群机器人",
                    format!("{} 个", s.notify.dingtalk_urls.len()),
                ),
                set(
                    "notify.smtp_host",
                    "邮件服务器",
                    if s.notify.smtp_host.is_empty() {
                        "未配置（不发送电子邮件）".to_owned()
                    } else {
                        format!("{}:{}", s.notify.smtp_host, s.notify.smtp_port)
                    },
                ),
                set("notify.smtp_from", "发件人", s.notify.smtp_from.clone()),
                set(
                    "notify.smtp_username",
                    "邮件服务器用户名",
                    s.notify.smtp_username.clone(),
                ),
                set(
                    "notify.smtp_password",
                    "邮件服务器密码",
                    if s.notify.smtp_password.is_empty() {
                        "未设置".to_owned()
                    } else {
                        "已设置（不显示）".to_owned()
                    },
                ),
                set(
                    "notify.smtp_starttls",
                    "要求 STARTTLS",
                    s.notify.smtp_starttls.to_string(),
                ),
                set(
                    "notify.max_attempts",
                    "最多投递次数",
                    s.notify.max_attempts.to_string(),
                ),
                set(
                    "notify.reminder_min_interval_hours",
                    "同类提醒最短间隔（小时）",
                    s.notify.reminder_min_interval_hours.to_string(),
                ),
            ],
        ),
        (
            "附件",
            vec![
                set(
                    "attachments.files_dir",
                    "附件目录",
                    s.files_dir().display().to_string(),
                ),
                set(
                    "attachments.max_file_mib",
                    "单个附件上限（MB）",
                    s.attachments.max_file_mib.to_string(),
                ),
            ],
        ),
    ];
    Ok(SettingsPage {
        shell: Shell::new(&state, &session.viewer, "系统设置", "/settings").await?,
        groups,
    })
}
