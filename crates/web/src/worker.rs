//! The background tasks of a node: the reminder scan every `notify.scan_minutes`, and the
//! outbox delivery every `notify.deliver_seconds`. Both are safe to run on every node at once:
//! the scan is serialised in the database and enqueues each reminder once, and outbox rows are
//! claimed with a lease, so each delivery attempt has one owner.
//!
//! Delivery is plain HTTP/1 (intranet gateways); an https address is refused at startup. Each
//! POST carries the row's `Idempotency-Key`, and only a 2xx answer counts as delivered. Logs
//! name the channel and the host, never the path or query (robot keys live there).

use crate::AppState;
use std::time::Duration;
use zhongshu_store::now_ms;
use zhongshu_store::outbox::{self, Claimed};
use zhongshu_store::reminders::{self, Scan, ScanOutcome};

/// How long a claimed row is held before another worker may try it.
const LEASE_MS: i64 = 120_000;
/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(15);
/// Rows per delivery tick.
const BATCH: i64 = 50;

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
    let mut done = Delivered::default();
    for row in rows {
        match post(&client, &row).await {
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

/// The host (and port) of a URL, for logs.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn logs_name_the_host_only() {
        assert_eq!(
            host_of("http://gw.local:8080/cgi-bin/webhook/send?key=secret"),
            "gw.local:8080"
        );
        assert_eq!(host_of("http://u:p@gw?x"), "gw");
    }
}
