//! The outbox (发件箱): copies of in-app notifications for external channels — a generic
//! webhook (HTTP POST of JSON) and the 企业微信 / 钉钉 group robots — written in the same
//! transaction as the notification and delivered at least once by a background worker.
//!
//! A worker claims due rows (`claim`), which counts the attempt and leases the row: its next
//! attempt moves out by the lease, so a worker that dies mid-delivery leaves a row that simply
//! comes due again. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, SQLite inside
//! `BEGIN IMMEDIATE`, so two workers never hold one row at once. Every row has an idempotency
//! key, sent as the `Idempotency-Key` header, so a receiver can drop the duplicates that
//! at-least-once delivery allows.

use crate::error::{Error, Result};
use crate::notify::Message;
use crate::{Backend, Store, db::now_ms};
use serde_json::json;
use sqlx::Row;

/// An external channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A generic webhook: one POST per recipient, with the notification's fields.
    Webhook,
    /// A 企业微信 group robot: one text message per event.
    WeCom,
    /// A 钉钉 group robot: one text message per event.
    DingTalk,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::WeCom => "wecom",
            Channel::DingTalk => "dingtalk",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Webhook => "Webhook",
            Channel::WeCom => "企业微信群机器人",
            Channel::DingTalk => "钉钉群机器人",
        }
    }

    pub fn from_code(code: &str) -> Option<Channel> {
        [Channel::Webhook, Channel::WeCom, Channel::DingTalk]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

/// Where external copies go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub channel: Channel,
    pub url: String,
}

/// A claimed row, ready to post.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    /// The stored key (notification key and target).
    pub key: String,
    pub channel: Channel,
    pub url: String,
    /// The JSON body to POST.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    token: String,
}

impl Claimed {
    /// The `Idempotency-Key` header: the same for every attempt at this row, short and ASCII
    /// whatever the URL holds (SM3 of the stored key).
    pub fn header_key(&self) -> String {
        header_key(&self.key)
    }
}

/// The header value for a stored key.
pub fn header_key(key: &str) -> String {
    use sm3::Digest;
    let digest = sm3::Sm3::digest(key.as_bytes());
    format!("zs-{}", hex::encode(&digest[..16]))
}

/// How the outbox stands, for tests and the operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Not delivered and still to be tried.
    pub pending: i64,
    pub delivered: i64,
    /// Not delivered after the maximum number of attempts: given up.
    pub abandoned: i64,
}

/// The delay before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, … up to
/// an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.saturating_sub(1).clamp(0, 20) as u32;
    30_000_i64.saturating_mul(1_i64 << exp).min(3_600_000)
}

/// Enqueues the external copies of a notification just written for `user`: one row per
/// configured target, none when no target is configured. Webhooks get one message per
/// recipient; a group robot gets one per event (a message told to three people of a unit is
/// posted to the group once).
pub(crate) async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    user: i64,
    m: &Message<'_>,
) -> Result<()> {
    let targets: Vec<(String, String)> =
        sqlx::query("SELECT channel, url FROM outbox_targets ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("channel")?, r.try_get("url")?)))
            .collect::<Result<_>>()?;
    if targets.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let text = if m.body.trim().is_empty() {
        format!("【督查督办】{}", m.title)
    } else {
        format!("【督查督办】{}\n{}", m.title, m.body.trim())
    };
    for (channel, url) in targets {
        let Some(channel) = Channel::from_code(&channel) else {
            continue;
        };
        let (key, payload) = match channel {
            Channel::Webhook => {
                let row = sqlx::query(
                    "SELECT u.username, u.display_name, n.name AS unit FROM users u \
                     LEFT JOIN units n ON n.id = u.unit_id WHERE u.id = $1",
                )
                .bind(user)
                .fetch_optional(&mut *conn)
                .await?;
                let (username, display_name, unit) = match row {
                    Some(r) => (
                        r.try_get::<String, _>("username")?,
                        r.try_get::<String, _>("display_name")?,
                        r.try_get::<Option<String>, _>("unit")?,
                    ),
                    None => (String::new(), String::new(), None),
                };
                let key = format!("{}:u{user}:webhook:{url}", m.key);
                let payload = json!({
                    "idempotency_key": header_key(&key),
                    "kind": m.kind,
                    "item_id": m.item_id,
                    "title": m.title,
                    "body": m.body,
                    "text": text,
                    "recipient": {
                        "user_id": user,
                        "username": username,
                        "display_name": display_name,
                        "unit": unit,
                    },
                    "created_at": now,
                });
                (key, payload)
            }
            Channel::WeCom | Channel::DingTalk => (
                format!("{}:{}:{url}", m.key, channel.code()),
                json!({ "msgtype": "text", "text": { "content": text } }),
            ),
        };
        sqlx::query(
            "INSERT INTO outbox (idempotency_key, channel, url, payload, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&key)
        .bind(channel.code())
        .bind(&url)
        .bind(payload.to_string())
        .bind(now)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Claims up to `limit` due rows (undelivered, `next_attempt_at <= now`, fewer than
/// `max_attempts` attempts): counts the attempt and leases each row for `lease_ms`.
pub async fn claim(
    store: &Store,
    now: i64,
    limit: i64,
    lease_ms: i64,
    max_attempts: i64,
) -> Result<Vec<Claimed>> {
    // A cheap read first: an idle outbox takes no write lock every few seconds.
    let due = sqlx::query(
        "SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
         AND attempts < $2 LIMIT 1",
    )
    .bind(now)
    .bind(max_attempts)
    .fetch_optional(store.pool())
    .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let token = crate::sessions::new_token()?;
    let lock = match store.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, claim_token = $2 \
         WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL \
         AND next_attempt_at <= $3 AND attempts < $4 ORDER BY next_attempt_at, id LIMIT $5{lock}) \
         RETURNING id, idempotency_key, channel, url, payload, attempts"
    );
    let mut w = store.write().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.saturating_add(lease_ms.max(1)))
        .bind(&token)
        .bind(now)
        .bind(max_attempts)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&mut *w.tx)
        .await?;
    let mut claimed = rows
        .iter()
        .map(|r| {
            let channel: String = r.try_get("channel")?;
            Ok(Claimed {
                id: r.try_get("id")?,
                key: r.try_get("idempotency_key")?,
                channel: Channel::from_code(&channel)
                    .ok_or_else(|| Error::Internal(format!("未知的发送渠道：{channel}")))?,
                url: r.try_get("url")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
                token: token.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    w.commit().await?;
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Records a delivery. Whoever delivered, the row is done: a worker whose lease ran out and
/// whose row another worker holds still marks it, sparing the receiver one more duplicate.
/// `false` when it was delivered already.
pub async fn mark_delivered(store: &Store, row: &Claimed, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET delivered_at = $1, claim_token = NULL, last_error = NULL \
         WHERE id = $2 AND delivered_at IS NULL",
    )
    .bind(now)
    .bind(row.id)
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Records a failed attempt and when to try again; ignored (`false`) when the claim is no
/// longer this worker's (its lease ran out and another worker holds the row).
pub async fn mark_failed(
    store: &Store,
    row: &Claimed,
    error: &str,
    next_attempt_at: i64,
) -> Result<bool> {
    let error: String = error.chars().take(500).collect();
    let done = sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, last_error = $2, claim_token = NULL \
         WHERE id = $3 AND claim_token = $4 AND delivered_at IS NULL",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(row.id)
    .bind(&row.token)
    .execute(store.pool())
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// How many rows are pending, delivered and given up after `max_attempts`.
pub async fn counts(store: &Store, max_attempts: i64) -> Result<OutboxCounts> {
    let row = sqlx::query(
        "SELECT \
         COALESCE(SUM(CASE WHEN delivered_at IS NULL AND attempts < $1 THEN 1 ELSE 0 END), 0) \
         AS pending, \
         COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered, \
         COALESCE(SUM(CASE WHEN delivered_at IS NULL AND attempts >= $1 THEN 1 ELSE 0 END), 0) \
         AS abandoned FROM outbox",
    )
    .bind(max_attempts)
    .fetch_one(store.pool())
    .await?;
    Ok(OutboxCounts {
        pending: row.try_get("pending")?,
        delivered: row.try_get("delivered")?,
        abandoned: row.try_get("abandoned")?,
    })
}

impl Store {
    /// Replaces the external targets with `targets` (from the settings, at startup). Rows
    /// already enqueued keep their target. Configuration, not a change of data: not audited.
    pub async fn set_outbox_targets(&self, targets: &[Target]) -> Result<()> {
        let mut w = self.write().await?;
        sqlx::query("DELETE FROM outbox_targets")
            .execute(&mut *w.tx)
            .await?;
        for t in targets {
            sqlx::query(
                "INSERT INTO outbox_targets (channel, url) VALUES ($1, $2) \
                 ON CONFLICT (channel, url) DO NOTHING",
            )
            .bind(t.channel.code())
            .bind(&t.url)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await
    }
}
