//! Settings: defaults, then `zhongshu.toml`, then `ZHONGSHU_*` variables, then flags (the
//! binary layers them with figment). Every key is documented in docs/configuration.md.
//! Secrets live in types whose `Debug` and `Display` hide them, so they never reach a log.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// A string that must never be logged (passwords, URLs with passwords in them).
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A database URL whose password is hidden when printed.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(value: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let Some(scheme_end) = url.find("://") else {
            return url.clone();
        };
        let rest = &url[scheme_end + 3..];
        let Some(at) = rest.find('@') else {
            return url.clone();
        };
        let userinfo = &rest[..at];
        match userinfo.find(':') {
            Some(colon) => format!(
                "{}://{}:***{}",
                &url[..scheme_end],
                &userinfo[..colon],
                &rest[at..]
            ),
            None => url.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// All settings. See docs/configuration.md.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// Empty means SQLite at `{data_dir}/zhongshu.db`.
    pub database_url: DatabaseUrl,
    pub listen: String,
    /// The address users type (behind a reverse proxy), trusted as an origin for form posts.
    pub public_url: String,
    /// This node's name; each node writes its own audit checkpoint.
    pub node_name: String,
    pub max_connections: u32,
    /// Where licensed fonts (仿宋_GB2312, 方正小标宋) are placed for PDF output.
    pub fonts_dir: String,
    /// The demo accounts' password; random and printed when empty.
    pub demo_password: Secret,
    pub security: SecuritySettings,
    pub audit: AuditSettings,
    pub signals: SignalSettings,
    pub notify: NotifySettings,
    pub attachments: AttachmentSettings,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    pub password_min_length: usize,
    pub password_min_classes: usize,
    pub max_failed_logins: i64,
    pub lockout_minutes: i64,
    pub idle_timeout_minutes: i64,
    pub session_max_hours: i64,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
    /// argon2id memory in KiB and passes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Largest request body accepted, in MiB (imports and uploads).
    pub max_body_mib: usize,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Empty means `{data_dir}/audit/audit.key`.
    pub key_file: String,
    /// Empty means `{data_dir}/audit`.
    pub checkpoint_dir: String,
}

/// Supervision thresholds (used by the supervision module).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalSettings {
    pub yellow_workdays: u32,
    pub urgent_hours: u32,
    pub acknowledge_workdays: u32,
    pub default_cadence: String,
    /// The shortest time between two 催办 of one item, in hours.
    pub urge_min_interval_hours: i64,
}

/// Attachments (附件) of progress reports and closure requests (`[attachments]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentSettings {
    /// Empty means `{data_dir}/files`.
    pub files_dir: String,
    /// The largest file accepted, in MiB.
    pub max_file_mib: u64,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        AttachmentSettings {
            files_dir: String::new(),
            max_file_mib: 20,
        }
    }
}

/// Reminders and the external channels of notifications (`[notify]`). The URLs may carry
/// access tokens (robot keys), so they are secrets: never printed.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Generic webhooks: each notification is POSTed as JSON, one message per recipient.
    pub webhook_urls: Vec<Secret>,
    /// 企业微信 group robots (or an intranet gateway relaying to them).
    pub wecom_urls: Vec<Secret>,
    /// 钉钉 group robots (or an intranet gateway relaying to them).
    pub dingtalk_urls: Vec<Secret>,
    /// Attempts per message before it is given up.
    pub max_attempts: i64,
    /// The shortest time between two scheduled reminders of one kind for one item.
    pub reminder_min_interval_hours: i64,
    /// Minutes between two reminder scans on this node; 0 means this node does not scan.
    pub scan_minutes: u64,
    /// Seconds between two outbox deliveries on this node; 0 means this node does not deliver.
    pub deliver_seconds: u64,
    /// The SMTP relay for e-mail; empty means no e-mail is sent (nor enqueued).
    pub smtp_host: String,
    pub smtp_port: u16,
    /// The sender, e.g. `督查室 <ducha@gov.local>`.
    pub smtp_from: String,
    /// Sign in to the relay (AUTH) when both are set; many intranet relays take none.
    pub smtp_username: String,
    pub smtp_password: Secret,
    /// Require STARTTLS: refuse to send (the attempt fails) when the relay does not offer it,
    /// rather than send in the clear. Off by default: intranet relays are often plain.
    pub smtp_starttls: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            webhook_urls: Vec::new(),
            wecom_urls: Vec::new(),
            dingtalk_urls: Vec::new(),
            max_attempts: 8,
            reminder_min_interval_hours: 24,
            scan_minutes: 10,
            deliver_seconds: 5,
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_from: String::new(),
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            smtp_starttls: false,
        }
    }
}

impl NotifySettings {
    /// The external targets, refusing an address this version cannot post to.
    pub fn targets(&self) -> Result<Vec<zhongshu_store::outbox::Target>, zhongshu_store::Error> {
        use zhongshu_store::outbox::{Channel, Target};
        let mut targets = Vec::new();
        for (key, channel, urls) in [
            ("notify.webhook_urls", Channel::Webhook, &self.webhook_urls),
            ("notify.wecom_urls", Channel::WeCom, &self.wecom_urls),
            (
                "notify.dingtalk_urls",
                Channel::DingTalk,
                &self.dingtalk_urls,
            ),
        ] {
            for url in urls {
                let url = url.expose().trim();
                let lower = url.to_ascii_lowercase();
                if lower.starts_with("https://") {
                    return Err(zhongshu_store::Error::invalid(
                        key,
                        format!(
                            "{key} 中的{}地址使用 https：本版本尚不支持 TLS 加密连接，\
                             请改用内网 http 网关转发（地址以 http:// 开头）",
                            channel.label()
                        ),
                    ));
                }
                let host = lower.strip_prefix("http://").unwrap_or("");
                if host.is_empty() || host.starts_with('/') {
                    return Err(zhongshu_store::Error::invalid(
                        key,
                        format!(
                            "{key} 中有无效的{}地址：须以 http:// 开头并写明主机",
                            channel.label()
                        ),
                    ));
                }
                targets.push(Target {
                    channel,
                    url: url.to_owned(),
                });
            }
        }
        if let Some(smtp) = self.smtp()? {
            targets.push(Target {
                channel: Channel::Email,
                url: format!("smtp://{}:{}", smtp.host, smtp.port),
            });
        }
        Ok(targets)
    }

    /// The SMTP relay, checked; `None` when `smtp_host` is empty (no e-mail).
    pub fn smtp(&self) -> Result<Option<SmtpSettings>, zhongshu_store::Error> {
        let host = self.smtp_host.trim();
        if host.is_empty() {
            return Ok(None);
        }
        let invalid =
            |key: &'static str, message: String| Err(zhongshu_store::Error::invalid(key, message));
        if host.contains(['/', ':', '@', ' ']) {
            return invalid(
                "notify.smtp_host",
                format!(
                    "notify.smtp_host 应只写邮件服务器的主机名或 IP 地址（如 mail.gov.local），\
                     端口写在 notify.smtp_port：“{host}”"
                ),
            );
        }
        if self.smtp_port == 0 {
            return invalid("notify.smtp_port", "notify.smtp_port 不能为 0".to_owned());
        }
        let from_text = self.smtp_from.trim();
        if from_text.is_empty() {
            return invalid(
                "notify.smtp_from",
                "设置了 notify.smtp_host 时须同时设置发件人 notify.smtp_from，\
                 如 \"督查室 <ducha@gov.local>\""
                    .to_owned(),
            );
        }
        let Ok(from) = from_text.parse::<lettre::message::Mailbox>() else {
            return invalid(
                "notify.smtp_from",
                format!(
                    "notify.smtp_from 不是有效的发件人：“{from_text}”，\
                     应形如 \"督查室 <ducha@gov.local>\" 或 ducha@gov.local"
                ),
            );
        };
        let username = self.smtp_username.trim();
        if username.is_empty() != self.smtp_password.is_empty() {
            return invalid(
                "notify.smtp_username",
                "notify.smtp_username 与 notify.smtp_password 须同时设置或同时留空".to_owned(),
            );
        }
        Ok(Some(SmtpSettings {
            host: host.to_owned(),
            port: self.smtp_port,
            from,
            credentials: (!username.is_empty())
                .then(|| (username.to_owned(), self.smtp_password.clone())),
            starttls: self.smtp_starttls,
        }))
    }
}

/// The SMTP relay in effect, parsed from `[notify]`.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: lettre::message::Mailbox,
    /// User name and password for AUTH.
    pub credentials: Option<(String, Secret)>,
    pub starttls: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            database_url: DatabaseUrl::default(),
            listen: "127.0.0.1:8080".to_owned(),
            public_url: String::new(),
            node_name: "main".to_owned(),
            max_connections: 8,
            fonts_dir: String::new(),
            demo_password: Secret::default(),
            security: SecuritySettings::default(),
            audit: AuditSettings::default(),
            signals: SignalSettings::default(),
            notify: NotifySettings::default(),
            attachments: AttachmentSettings::default(),
        }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            password_min_length: 8,
            password_min_classes: 3,
            max_failed_logins: 5,
            lockout_minutes: 15,
            idle_timeout_minutes: 30,
            session_max_hours: 12,
            cookie_secure: false,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            max_body_mib: 20,
        }
    }
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings {
            yellow_workdays: 3,
            urgent_hours: 24,
            acknowledge_workdays: 1,
            default_cadence: "monthly".to_owned(),
            urge_min_interval_hours: 24,
        }
    }
}

impl Settings {
    /// The database URL in effect.
    pub fn database_url(&self) -> DatabaseUrl {
        if self.database_url.is_empty() {
            DatabaseUrl::new(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("zhongshu.db").display()
            ))
        } else {
            self.database_url.clone()
        }
    }

    pub fn audit_key_file(&self) -> PathBuf {
        if self.audit.key_file.is_empty() {
            self.data_dir.join("audit").join("audit.key")
        } else {
            PathBuf::from(&self.audit.key_file)
        }
    }

    pub fn audit_checkpoint_dir(&self) -> PathBuf {
        if self.audit.checkpoint_dir.is_empty() {
            self.data_dir.join("audit")
        } else {
            PathBuf::from(&self.audit.checkpoint_dir)
        }
    }

    /// Where attachments are kept.
    pub fn files_dir(&self) -> PathBuf {
        if self.attachments.files_dir.is_empty() {
            self.data_dir.join("files")
        } else {
            PathBuf::from(&self.attachments.files_dir)
        }
    }

    /// The largest attachment accepted, in bytes.
    pub fn attachment_max_bytes(&self) -> u64 {
        self.attachments.max_file_mib.saturating_mul(1024 * 1024)
    }

    pub fn password_policy(&self) -> zhongshu_domain::password::PasswordPolicy {
        zhongshu_domain::password::PasswordPolicy {
            min_length: self.security.password_min_length,
            min_classes: self.security.password_min_classes,
        }
    }

    pub fn sign_in_policy(&self) -> zhongshu_store::sessions::SignInPolicy {
        zhongshu_store::sessions::SignInPolicy {
            max_failures: self.security.max_failed_logins,
            lockout_minutes: self.security.lockout_minutes,
            idle_minutes: self.security.idle_timeout_minutes,
            max_session_hours: self.security.session_max_hours,
        }
    }

    pub fn hash_cost(&self) -> zhongshu_store::HashCost {
        zhongshu_store::HashCost {
            memory_kib: self.security.argon2_memory_kib,
            iterations: self.security.argon2_iterations,
        }
    }

    /// Opens the store these settings describe (creating the audit key on first use).
    pub async fn open_store(&self) -> zhongshu_store::Result<zhongshu_store::Store> {
        let targets = self.notify.targets()?;
        if self.database_url.is_empty() {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                zhongshu_store::Error::Internal(format!(
                    "无法创建数据目录 {}：{e}",
                    self.data_dir.display()
                ))
            })?;
        }
        let key = zhongshu_store::audit::AuditKey::load_or_create(&self.audit_key_file())?;
        let store = zhongshu_store::Store::open(zhongshu_store::StoreOptions {
            url: self.database_url().expose().to_owned(),
            max_connections: self.max_connections,
            audit_key: key,
            checkpoint_dir: self.audit_checkpoint_dir(),
            node_name: self.node_name.clone(),
            hash_cost: self.hash_cost(),
            files_dir: self.files_dir(),
        })
        .await?;
        store.set_attachment_max_bytes(self.attachment_max_bytes());
        store.set_urge_interval_minutes(self.signals.urge_min_interval_hours.saturating_mul(60));
        store.set_outbox_targets(&targets).await?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_hide_their_password_in_debug_and_display() {
        let url = DatabaseUrl::new("postgres://zs:s3cret@db:5432/zs");
        assert_eq!(url.to_string(), "postgres://zs:***@db:5432/zs");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(!format!("{:?}", Secret::new("pw")).contains("pw"));
    }

    #[test]
    fn an_https_notify_url_is_refused_and_robot_keys_are_not_printed() {
        let mut notify = NotifySettings {
            wecom_urls: vec![Secret::new("http://gw.local/cgi-bin/webhook/send?key=k3y")],
            ..NotifySettings::default()
        };
        assert_eq!(notify.targets().map(|t| t.len()).ok(), Some(1));
        assert!(!format!("{notify:?}").contains("k3y"));
        notify.dingtalk_urls = vec![Secret::new("https://oapi.dingtalk.com/robot/send")];
        let err = notify
            .targets()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("TLS"), "{err}");
    }

    #[test]
    fn an_smtp_relay_becomes_an_email_target_and_its_password_is_not_printed() {
        let mut notify = NotifySettings {
            smtp_host: "mail.gov.local".to_owned(),
            smtp_from: "督查室 <ducha@gov.local>".to_owned(),
            smtp_username: "ducha".to_owned(),
            smtp_password: Secret::new("m4ilpw"),
            ..NotifySettings::default()
        };
        let targets = notify.targets().unwrap_or_default();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].url, "smtp://mail.gov.local:25");
        assert!(!format!("{notify:?}").contains("m4ilpw"));
        assert!(!format!("{:?}", notify.smtp()).contains("m4ilpw"));

        notify.smtp_from = "督查室".to_owned();
        let err = notify
            .smtp()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("smtp_from"), "{err}");
        notify.smtp_from = String::new();
        assert!(notify.smtp().is_err());
        notify.smtp_host = String::new();
        assert!(matches!(notify.smtp(), Ok(None)));
    }
}
