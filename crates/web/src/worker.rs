//! The background tasks of a node: the reminder scan every `notify.scan_minutes`, and the
//! outbox delivery every `notify.deliver_seconds`. Both are safe to run on every node at once:
//! the scan is serialised in the database and enqueues each reminder once, and outbox rows are
//! claimed with a lease, so each delivery attempt has one owner.
//!
//! Delivery is plain HTTP/1 (intranet gateways); an https address is refused at startup. Each
//! POST carries the row's `Idempotency-Key`, and only a 2xx answer counts as delivered. Logs
//! name the channel and the host, never the path or query (robot keys live there).
//!
//! E-mail rows go to the `[notify]` SMTP relay with lettre: one connection per tick's message,
//! plain unless `smtp_starttls` is set, in which case a relay that does not offer STARTTLS
//! fails the attempt (nothing is sent in the clear). Each message carries its row's key as the
//! `Message-ID` and in `X-Zhongshu-Idempotency-Key`, so a retried copy can be recognised. Only
//! the relay's 250 after the message counts as delivered; a 4xx or 5xx is retried with the same
//! backoff as the webhooks until the maximum number of attempts.

use crate::AppState;
use crate::config::SmtpSettings;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use zhongshu_store::now_ms;
use zhongshu_store::outbox::{self, Channel, Claimed, host_of};
use zhongshu_store::reminders::{self, Scan, ScanOutcome};

/// How long a claimed row is held before another worker may try it.
const LEASE_MS: i64 = 120_000;
/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(15);
/// Rows per delivery tick.
const BATCH: i64 = 50;
/// How long one SMTP command may take (lettre's default is a minute: too long for a tick).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// The header that repeats an e-mail's idempotency key.
const KEY_HEADER: &str = "X-Zhongshu-Idempotency-Key";

/// What one delivery tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: usize,
    pub failed: usize,
}

/// Starts the background tasks; abort the handles to stop them.
pub fn spawn(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let scan_minutes = state.settings.notify.scan_minutes;
    if scan_minutes > 0 {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let period = Duration::from_secs(scan_minutes.saturating_mul(60));
            // The first scan comes one period after start, not at once: a node restarting in a
            // loop does not hammer the database, and nothing is lost (the scan catches up).
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match scan_once(&state).await {
                    Ok(outcome) if outcome.total() > 0 => tracing::info!(
                        "到期提醒：即将到期{}件，逾期{}件",
                        outcome.due_soon,
                        outcome.overdue
                    ),
                    Ok(_) => {}
                    Err(err) => tracing::error!("到期提醒扫描失败：{err}"),
                }
            }
        }));
    }
    let deliver_seconds = state.settings.notify.deliver_seconds;
    if deliver_seconds > 0 {
        tasks.push(tokio::spawn(async move {
            let period = Duration::from_secs(deliver_seconds);
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(err) = deliver_once(&state).await {
                    tracing::error!("外部消息投递失败：{err}");
                }
            }
        }));
    }
    tasks
}

/// Today in Beijing.
fn beijing_today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

/// One reminder scan with the settings, for today.
pub async fn scan_once(state: &AppState) -> zhongshu_store::Result<ScanOutcome> {
    let notify = &state.settings.notify;
    reminders::scan(
        &state.store,
        &Scan {
            today: beijing_today(),
            now_ms: now_ms(),
            yellow_days: state.settings.signals.yellow_workdays,
            min_interval_ms: notify.reminder_min_interval_hours.saturating_mul(3_600_000),
        },
    )
    .await
}

/// One delivery tick now.
pub async fn deliver_once(state: &AppState) -> zhongshu_store::Result<Delivered> {
    deliver_at(state, now_ms()).await
}

/// One delivery tick as if it were `now` (tests move the clock to make a retry due).
pub async fn deliver_at(state: &AppState, now: i64) -> zhongshu_store::Result<Delivered> {
    let max_attempts = state.settings.notify.max_attempts.max(1);
    let rows = outbox::claim(&state.store, now, BATCH, LEASE_MS, max_attempts).await?;
    if rows.is_empty() {
        return Ok(Delivered::default());
    }
    let client = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| zhongshu_store::Error::Internal(format!("无法创建 HTTP 客户端：{e}")))?;
    // Checked at startup (open_store), so an error here is only a relay this node lacks.
    let smtp = state.settings.notify.smtp().ok().flatten();
    let mailer = smtp.as_ref().map(mailer).transpose();
    let mut done = Delivered::default();
    for row in rows {
        let outcome = match row.channel {
            Channel::Email => match (&smtp, &mailer) {
                (Some(smtp), Ok(Some(mailer))) => {
                    send_email(mailer, smtp, &state.settings.public_url, &row).await
                }
                (_, Err(reason)) => Err(reason.clone()),
                _ => Err("本节点未配置邮件服务器（notify.smtp_host），稍后重试".to_owned()),
            },
            Channel::Webhook | Channel::WeCom | Channel::DingTalk => post(&client, &row).await,
        };
        match outcome {
            Ok(()) => {
                outbox::mark_delivered(&state.store, &row, now_ms()).await?;
                done.delivered += 1;
            }
            Err(reason) => {
                done.failed += 1;
                let next = now.saturating_add(outbox::backoff_ms(row.attempts));
                if row.attempts >= max_attempts {
                    tracing::error!(
                        "外部消息第{}次投递失败，已放弃（{} {}）：{reason}",
                        row.attempts,
                        row.channel.label(),
                        host_of(&row.url)
                    );
                } else {
                    tracing::warn!(
                        "外部消息第{}次投递失败，稍后重试（{} {}）：{reason}",
                        row.attempts,
                        row.channel.label(),
                        host_of(&row.url)
                    );
                }
                outbox::mark_failed(&state.store, &row, &reason, next).await?;
            }
        }
    }
    Ok(done)
}

/// Posts one row; `Err` with a reason fit for the log (no URL, no body).
async fn post(client: &reqwest::Client, row: &Claimed) -> Result<(), String> {
    let response = client
        .post(&row.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("idempotency-key", row.header_key())
        .body(row.payload.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "超时".to_owned()
            } else if e.is_connect() {
                "无法连接".to_owned()
            } else {
                "请求失败".to_owned()
            }
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

/// The SMTP transport for the relay: no pool (a tick sends a handful of messages, and an
/// idle pooled connection would outlive a relay restart), plain or STARTTLS-required.
fn mailer(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .timeout(Some(SMTP_TIMEOUT));
    if smtp.starttls {
        // `Required`, never `Opportunistic`: a relay (or someone in between) that does not
        // offer STARTTLS must not get the message or the password in the clear.
        let tls = TlsParameters::new(smtp.host.clone())
            .map_err(|e| format!("无法准备 STARTTLS 加密连接：{e}"))?;
        builder = builder.tls(Tls::Required(tls));
    }
    if let Some((user, password)) = &smtp.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// What an e-mail row's payload holds (written by the store at enqueue time).
#[derive(serde::Deserialize)]
struct EmailPayload {
    #[serde(default)]
    to_name: String,
    subject: String,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    path: Option<String>,
}

/// The plain-text body of a reminder e-mail.
fn email_text(p: &EmailPayload, public_url: &str) -> String {
    let mut text = String::new();
    if !p.to_name.is_empty() {
        text.push_str(&format!("{}：\n\n", p.to_name));
    }
    text.push_str(&format!("【督查督办】{}\n", p.title));
    if !p.body.is_empty() {
        text.push_str(&format!("{}\n", p.body));
    }
    if let Some(path) = &p.path {
        let base = public_url.trim_end_matches('/');
        if base.is_empty() {
            text.push_str(&format!("\n请登录系统查看：{path}\n"));
        } else {
            text.push_str(&format!("\n查看详情：{base}{path}\n"));
        }
    }
    text.push_str("\n——\n本邮件由督查督办系统自动发送，请勿直接回复。\n");
    text
}

/// Builds the message of an e-mail row: the same `Message-ID` for every attempt.
fn email_message(smtp: &SmtpSettings, public_url: &str, row: &Claimed) -> Result<Message, String> {
    let p: EmailPayload = serde_json::from_str(&row.payload)
        .map_err(|_| "外发消息内容损坏，无法组成邮件".to_owned())?;
    let address = row
        .url
        .parse::<lettre::Address>()
        .map_err(|_| format!("收件地址无效：{}", row.url))?;
    let to = Mailbox::new((!p.to_name.is_empty()).then(|| p.to_name.clone()), address);
    let key = row.header_key();
    Message::builder()
        .from(smtp.from.clone())
        .to(to)
        .subject(p.subject.clone())
        .message_id(Some(format!("<{key}@{}>", smtp.from.email.domain())))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(KEY_HEADER),
            key,
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(email_text(&p, public_url))
        .map_err(|e| format!("无法组成邮件：{e}"))
}

/// Sends one e-mail row; `Err` with a reason in Chinese for the log and the outbox page.
async fn send_email(
    mailer: &AsyncSmtpTransport<Tokio1Executor>,
    smtp: &SmtpSettings,
    public_url: &str,
    row: &Claimed,
) -> Result<(), String> {
    let message = email_message(smtp, public_url, row)?;
    match mailer.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err(smtp_reason(&e, smtp.starttls)),
    }
}

/// A Chinese reason for an SMTP failure, with the relay's own words where it gave some.
fn smtp_reason(e: &lettre::transport::smtp::Error, starttls: bool) -> String {
    use std::error::Error as _;
    let said = e
        .source()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
        .map_or_else(String::new, |s| format!("：{s}"));
    if let Some(code) = e.status() {
        return if e.is_transient() {
            format!("邮件服务器暂时拒收（{code}）{said}")
        } else {
            format!("邮件服务器拒收（{code}）{said}")
        };
    }
    // lettre reports a missing STARTTLS as a client error with this text; it is the one
    // refusal the operator must recognise at a glance.
    if starttls && e.is_client() && e.to_string().contains("STARTTLS") {
        return "邮件服务器未提供 STARTTLS：按 notify.smtp_starttls = true 的要求未发送（不以明文发送）"
            .to_owned();
    }
    if e.is_timeout() {
        return "邮件服务器响应超时".to_owned();
    }
    if e.is_tls() {
        return format!("与邮件服务器建立 TLS 加密失败（请检查证书是否受本机信任）{said}");
    }
    let mut source = e.source();
    while let Some(err) = source {
        if err.downcast_ref::<std::io::Error>().is_some() {
            return format!("无法连接邮件服务器{said}");
        }
        source = err.source();
    }
    format!("邮件发送失败{said}")
}

#[cfg(test)]
mod tests {
    use super::{EmailPayload, email_text, host_of};

    #[test]
    fn an_email_names_the_item_by_its_full_address_when_public_url_is_set() {
        let p = EmailPayload {
            to_name: "张三".to_owned(),
            subject: "【督查督办】催办".to_owned(),
            title: "催办".to_owned(),
            body: "请加快进度".to_owned(),
            path: Some("/supervision/items/7".to_owned()),
        };
        let text = email_text(&p, "http://zs.gov.local/");
        assert!(text.starts_with("张三："), "{text}");
        assert!(
            text.contains("http://zs.gov.local/supervision/items/7"),
            "{text}"
        );
        assert!(email_text(&p, "").contains("请登录系统查看：/supervision/items/7"));
    }

    #[test]
    fn logs_name_the_host_only() {
        assert_eq!(
            host_of("http://gw.local:8080/cgi-bin/webhook/send?key=secret"),
            "gw.local:8080"
        );
        assert_eq!(host_of("http://u:p@gw?x"), "gw");
    }
}
