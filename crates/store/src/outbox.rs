//! The outbox (发件箱): copies of in-app notifications for external channels — a generic
//! webhook (HTTP POST of JSON), the 企业微信 / 钉钉 group robots and e-mail (one message per
//! recipient with an address, through the configured SMTP relay) — written in the same
//! transaction as the notification and delivered at least once by a background worker.
//!
//! A worker claims due rows (`claim`), which counts the attempt and leases the row: its next
//! attempt moves out by the lease, so a worker that dies mid-delivery leaves a row that simply
//! comes due again. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, SQLite inside
//! `BEGIN IMMEDIATE`, so two workers never hold one row at once. Every row has an idempotency
//! key, sent as the `Idempotency-Key` header (in e-mail: the `Message-ID` and an
//! `X-Zhongshu-Idempotency-Key` header), so a receiver can drop the duplicates that
//! at-least-once delivery allows.
//!
//! The supervision office and the system administrator see the outbox on its own page
//! ([`Store::outbox_overview`]) and may put a given-up row back in the queue
//! ([`Store::retry_outbox_row`], audited).

use crate::error::{Error, Result};
use crate::notify::Message;
use crate::{Backend, Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use zhongshu_domain::access::{Forbidden, Supervisor, SysAdmin, Viewer};
use zhongshu_domain::audit::AuditCode;

/// An external channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A generic webhook: one POST per recipient, with the notification's fields.
    Webhook,
    /// A 企业微信 group robot: one text message per event.
    WeCom,
    /// A 钉钉 group robot: one text message per event.
    DingTalk,
    /// E-mail through the SMTP relay: one message per recipient that has an address. The
    /// target's `url` is `smtp://host:port` (no credentials: those stay in the settings); an
    /// outbox row's `url` is the recipient's address.
    Email,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::WeCom => "wecom",
            Channel::DingTalk => "dingtalk",
            Channel::Email => "email",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Webhook => "Webhook",
            Channel::WeCom => "企业微信群机器人",
            Channel::DingTalk => "钉钉群机器人",
            Channel::Email => "电子邮件",
        }
    }

    /// Every channel, in the order pages list them.
    pub const ALL: [Channel; 4] = [
        Channel::Email,
        Channel::Webhook,
        Channel::WeCom,
        Channel::DingTalk,
    ];

    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code)
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
/// posted to the group once); e-mail goes to the recipient when they have an address.
pub(crate) async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    user: i64,
    m: &Message<'_>,
) -> Result<()> {
    let targets = targets(conn).await?;
    enqueue_to(conn, user, m, &targets).await
}

/// The channels configured (channel code, url), in order.
pub(crate) async fn targets(conn: &mut sqlx::AnyConnection) -> Result<Vec<(String, String)>> {
    sqlx::query("SELECT channel, url FROM outbox_targets ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("channel")?, r.try_get("url")?)))
        .collect()
}

/// [`enqueue`] with the channels already read (see [`targets`]).
pub(crate) async fn enqueue_to(
    conn: &mut sqlx::AnyConnection,
    user: i64,
    m: &Message<'_>,
    targets: &[(String, String)],
) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let text = if m.body.trim().is_empty() {
        format!("【督查督办】{}", m.title)
    } else {
        format!("【督查督办】{}\n{}", m.title, m.body.trim())
    };
    let recipient = recipient(conn, user).await?;
    for (channel, url) in targets.iter().cloned() {
        let Some(channel) = Channel::from_code(&channel) else {
            continue;
        };
        let (key, url, for_user, payload) = match channel {
            Channel::Webhook => {
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
                        "username": recipient.username,
                        "display_name": recipient.display_name,
                        "unit": recipient.unit,
                    },
                    "created_at": now,
                });
                (key, url, Some(user), payload)
            }
            Channel::WeCom | Channel::DingTalk => (
                format!("{}:{}:{url}", m.key, channel.code()),
                url,
                None,
                json!({ "msgtype": "text", "text": { "content": text } }),
            ),
            Channel::Email => {
                if recipient.email.is_empty() {
                    continue;
                }
                // Keyed by the event and the person, not the address or the relay: a person
                // is e-mailed about one event once, whichever relay or address is current.
                let key = format!("{}:u{user}:email", m.key);
                let payload = json!({
                    "idempotency_key": header_key(&key),
                    "kind": m.kind,
                    "to_name": recipient.display_name,
                    "subject": format!("【督查督办】{}", m.title),
                    "title": m.title,
                    "body": m.body.trim(),
                    "path": m.item_id.map(|id| format!("/supervision/items/{id}")),
                });
                (key, recipient.email.clone(), Some(user), payload)
            }
        };
        sqlx::query(
            "INSERT INTO outbox (idempotency_key, channel, url, payload, created_at, \
             next_attempt_at, user_id, title) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&key)
        .bind(channel.code())
        .bind(&url)
        .bind(payload.to_string())
        .bind(now)
        .bind(now)
        .bind(for_user)
        .bind(m.title)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Who a notification is for, as the external copies name them.
#[derive(Default)]
struct Recipient {
    username: String,
    display_name: String,
    unit: Option<String>,
    email: String,
}

async fn recipient(conn: &mut sqlx::AnyConnection, user: i64) -> Result<Recipient> {
    let row = sqlx::query(
        "SELECT u.username, u.display_name, u.email, n.name AS unit FROM users u \
         LEFT JOIN units n ON n.id = u.unit_id WHERE u.id = $1",
    )
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Recipient {
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            unit: r.try_get("unit")?,
            email: r.try_get::<String, _>("email")?.trim().to_owned(),
        },
        None => Recipient::default(),
    })
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

/// Proof that the viewer may watch the outbox and put given-up rows back in the queue: the
/// supervision office (whose reminders these are) or the system administrator (who runs the
/// relays and gateways). Only [`OutboxOperator::of`] makes one, from the domain's proofs.
#[derive(Clone, Copy, Debug)]
pub enum OutboxOperator<'a> {
    Office(Supervisor<'a>),
    Admin(SysAdmin<'a>),
}

impl<'a> OutboxOperator<'a> {
    /// The viewer's proof, or `Forbidden`.
    pub fn of(viewer: &'a Viewer) -> std::result::Result<OutboxOperator<'a>, Forbidden> {
        match viewer.as_supervisor() {
            Ok(office) => Ok(OutboxOperator::Office(office)),
            Err(refused) => viewer
                .as_sys_admin()
                .map(OutboxOperator::Admin)
                .map_err(|_| refused),
        }
    }

    pub fn viewer(&self) -> &'a Viewer {
        match self {
            OutboxOperator::Office(p) => p.viewer(),
            OutboxOperator::Admin(p) => p.viewer(),
        }
    }
}

/// Where a row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker whose lease has not run out.
    Delivering,
    Delivered,
    /// Not delivered after the maximum number of attempts.
    GaveUp,
}

impl RowStatus {
    pub fn label(self) -> &'static str {
        match self {
            RowStatus::Pending => "待投递",
            RowStatus::Delivering => "投递中",
            RowStatus::Delivered => "已送达",
            RowStatus::GaveUp => "已放弃",
        }
    }
}

/// The counts of one channel by status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelCounts {
    pub channel: Channel,
    pub pending: i64,
    pub delivering: i64,
    pub delivered: i64,
    pub gave_up: i64,
}

/// One outbox row as the outbox page shows it. `url` is not here: robot and webhook
/// addresses carry keys, so only their host is.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: Channel,
    /// The host (and port) of a webhook or robot; the address of an e-mail.
    pub destination: String,
    /// The person a per-person row is for (webhook, e-mail).
    pub recipient: Option<String>,
    pub title: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub status: RowStatus,
}

/// The status of a row from its columns, at `now`.
fn status_of(
    delivered: bool,
    leased: bool,
    next_attempt_at: i64,
    attempts: i64,
    now: i64,
    max_attempts: i64,
) -> RowStatus {
    if delivered {
        RowStatus::Delivered
    } else if leased && next_attempt_at > now {
        RowStatus::Delivering
    } else if attempts >= max_attempts {
        RowStatus::GaveUp
    } else {
        RowStatus::Pending
    }
}

/// The host (and port) of a URL: robot keys live in the path and query, so nothing else of a
/// webhook address is ever shown or logged.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// A title for rows written before titles were stored: the webhook's `title`, or the first
/// line after the tag of a robot's text.
fn title_from_payload(payload: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(payload) else {
        return String::new();
    };
    if let Some(title) = json["title"].as_str() {
        return title.to_owned();
    }
    json["text"]["content"]
        .as_str()
        .and_then(|t| t.lines().next())
        .map(|l| l.trim_start_matches("【督查督办】").to_owned())
        .unwrap_or_default()
}

impl Store {
    /// The outbox at `now`: counts by channel and status (every channel, zeros included), and
    /// the newest `limit` rows.
    pub async fn outbox_overview(
        &self,
        _operator: OutboxOperator<'_>,
        now: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<(Vec<ChannelCounts>, Vec<OutboxRow>)> {
        let max_attempts = max_attempts.max(1);
        // The same rules as `status_of`, in SQL; the sums are cast because PostgreSQL would
        // otherwise hand the Any driver a type it cannot decode.
        let delivering =
            "delivered_at IS NULL AND claim_token IS NOT NULL AND next_attempt_at > $1";
        let sql = format!(
            "SELECT channel, \
             CAST(COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS delivered, \
             CAST(COALESCE(SUM(CASE WHEN {delivering} THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS delivering, \
             CAST(COALESCE(SUM(CASE WHEN delivered_at IS NULL AND NOT ({delivering}) \
             AND attempts >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS gave_up, \
             CAST(COUNT(*) AS BIGINT) AS total \
             FROM outbox GROUP BY channel"
        );
        let grouped = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(max_attempts)
            .fetch_all(self.pool())
            .await?;
        let mut counts: Vec<ChannelCounts> = Channel::ALL
            .into_iter()
            .map(|channel| ChannelCounts {
                channel,
                pending: 0,
                delivering: 0,
                delivered: 0,
                gave_up: 0,
            })
            .collect();
        for r in &grouped {
            let code: String = r.try_get("channel")?;
            let Some(c) = counts.iter_mut().find(|c| c.channel.code() == code) else {
                continue;
            };
            c.delivered = r.try_get("delivered")?;
            c.delivering = r.try_get("delivering")?;
            c.gave_up = r.try_get("gave_up")?;
            let total: i64 = r.try_get("total")?;
            c.pending = total - c.delivered - c.delivering - c.gave_up;
        }

        let rows = sqlx::query(
            "SELECT o.id, o.channel, o.url, o.payload, o.title, o.attempts, o.last_error, \
             o.created_at, o.next_attempt_at, o.delivered_at, o.claim_token, u.display_name \
             FROM outbox o LEFT JOIN users u ON u.id = o.user_id ORDER BY o.id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 500))
        .fetch_all(self.pool())
        .await?;
        let rows = rows
            .iter()
            .filter_map(|r| {
                let code: String = r.try_get("channel").ok()?;
                Some((Channel::from_code(&code)?, r))
            })
            .map(|(channel, r)| {
                let url: String = r.try_get("url")?;
                let mut title: String = r.try_get("title")?;
                if title.is_empty() {
                    title = title_from_payload(&r.try_get::<String, _>("payload")?);
                }
                let attempts: i64 = r.try_get("attempts")?;
                let next_attempt_at: i64 = r.try_get("next_attempt_at")?;
                let delivered_at: Option<i64> = r.try_get("delivered_at")?;
                let leased = r.try_get::<Option<String>, _>("claim_token")?.is_some();
                Ok(OutboxRow {
                    id: r.try_get("id")?,
                    channel,
                    destination: match channel {
                        Channel::Email => url,
                        _ => host_of(&url).to_owned(),
                    },
                    recipient: r.try_get("display_name")?,
                    title,
                    attempts,
                    last_error: r.try_get("last_error")?,
                    created_at: r.try_get("created_at")?,
                    next_attempt_at,
                    delivered_at,
                    status: status_of(
                        delivered_at.is_some(),
                        leased,
                        next_attempt_at,
                        attempts,
                        now,
                        max_attempts,
                    ),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((counts, rows))
    }

    /// Puts a given-up row back in the queue: its attempts start again from none and it is due
    /// at once. It keeps its idempotency key, so a receiver that did get an earlier attempt can
    /// still drop the copy. Audited; refused for a row that has not been given up.
    pub async fn retry_outbox_row(
        &self,
        operator: OutboxOperator<'_>,
        id: i64,
        now: i64,
        max_attempts: i64,
    ) -> Result<()> {
        let mut w = self.write().await?;
        let row = sqlx::query("SELECT channel, title, attempts FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(Error::NotFound("外发消息"))?;
        let channel: String = row.try_get("channel")?;
        let title: String = row.try_get("title")?;
        let attempts: i64 = row.try_get("attempts")?;
        let done = sqlx::query(
            "UPDATE outbox SET attempts = 0, next_attempt_at = $1, claim_token = NULL \
             WHERE id = $2 AND delivered_at IS NULL AND attempts >= $3 \
             AND (claim_token IS NULL OR next_attempt_at <= $1)",
        )
        .bind(now)
        .bind(id)
        .bind(max_attempts.max(1))
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if done != 1 {
            return Err(Error::invalid(
                "id",
                "该消息未被放弃（已送达、正在投递或仍在自动重试），无需手动重新投递",
            ));
        }
        w.audit(
            operator.viewer(),
            AuditCode::OutboxRetried,
            &format!("outbox:{id}"),
            Some(json!({ "attempts": attempts })),
            Some(json!({ "channel": channel, "title": title, "attempts": 0 })),
        )
        .await?;
        w.commit().await
    }

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
