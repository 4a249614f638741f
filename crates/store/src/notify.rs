//! In-app notifications (站内消息): written in the same transaction as the change that causes
//! them, addressed to users, each with an idempotency key so it is enqueued exactly once however
//! often the change is retried, and shown once in the inbox. Each notification written also
//! enqueues its external copies (webhook, group robots) in the outbox, in the same transaction.

use crate::error::{Error, Result};
use crate::{Store, db::now_ms};
use sqlx::Row;
use zhongshu_domain::access::Viewer;

/// A notification as the inbox shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub item_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read: bool,
}

/// What to tell.
pub(crate) struct Message<'a> {
    pub kind: &'a str,
    pub item_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    /// Unique per event; the recipient is appended.
    pub key: &'a str,
}

/// Writes one user's notification; false when it exists already (same event, same user).
async fn insert(conn: &mut sqlx::AnyConnection, user: i64, m: &Message<'_>) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO notifications (user_id, kind, item_id, title, body, idempotency_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(user)
    .bind(m.kind)
    .bind(m.item_id)
    .bind(m.title)
    .bind(m.body)
    .bind(format!("{}:u{user}", m.key))
    .bind(now_ms())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Tells one user.
pub(crate) async fn to_user(
    conn: &mut sqlx::AnyConnection,
    user: i64,
    m: &Message<'_>,
) -> Result<()> {
    // Only a notification written now goes out to the external channels: a retried change
    // whose notification exists already enqueues nothing more.
    if insert(conn, user, m).await? {
        crate::outbox::enqueue(conn, user, m).await?;
    }
    Ok(())
}

/// Who is told, remembered for one transaction that tells many: an import of thousands of items
/// would otherwise look up each unit's people and the outbox's channels once per item.
#[derive(Default)]
pub(crate) struct Fanout {
    people: std::collections::HashMap<i64, Vec<i64>>,
    targets: Option<Vec<(String, String)>>,
}

impl Fanout {
    /// Tells the liaisons and heads of these units, as [`to_unit`] does for each.
    pub async fn tell_units(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        units: &[i64],
        m: &Message<'_>,
    ) -> Result<()> {
        for &unit in units {
            let people = match self.people.get(&unit) {
                Some(people) => people.clone(),
                None => {
                    let people = unit_people(conn, unit).await?;
                    self.people.insert(unit, people.clone());
                    people
                }
            };
            for user in people {
                let inserted = insert(conn, user, m).await?;
                if inserted {
                    if self.targets.is_none() {
                        self.targets = Some(crate::outbox::targets(conn).await?);
                    }
                    let targets = self.targets.as_deref().unwrap_or_default();
                    crate::outbox::enqueue_to(conn, user, m, targets).await?;
                }
            }
        }
        Ok(())
    }
}

/// Tells a unit: its liaisons and its head.
pub(crate) async fn to_unit(
    conn: &mut sqlx::AnyConnection,
    unit: i64,
    m: &Message<'_>,
) -> Result<()> {
    for user in unit_people(conn, unit).await? {
        to_user(conn, user, m).await?;
    }
    Ok(())
}

/// Tells every unit of an item (lead and co-units), or only the lead unit.
pub(crate) async fn to_item_units(
    conn: &mut sqlx::AnyConnection,
    item: i64,
    lead_only: bool,
    m: &Message<'_>,
) -> Result<()> {
    let units: Vec<i64> = sqlx::query("SELECT unit_id, role FROM item_units WHERE item_id = $1")
        .bind(item)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .filter(|r| {
            !lead_only
                || r.try_get::<String, _>("role")
                    .is_ok_and(|role| role == "lead")
        })
        .filter_map(|r| r.try_get::<i64, _>("unit_id").ok())
        .collect();
    for unit in units {
        to_unit(conn, unit, m).await?;
    }
    Ok(())
}

impl Store {
    /// The viewer's newest notifications.
    pub async fn inbox(&self, viewer: &Viewer, limit: i64) -> Result<Vec<Notification>> {
        let user = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        let rows = sqlx::query(
            "SELECT id, kind, item_id, title, body, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user.get())
        .bind(limit.clamp(1, 500))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    item_id: r.try_get("item_id")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                    read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }

    /// How many of the viewer's notifications are unread (shown in the top bar).
    pub async fn unread_count(&self, viewer: &Viewer) -> Result<i64> {
        let Some(user) = viewer.user_id else {
            return Ok(0);
        };
        self.read_count(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
            &[crate::read::Bind::I(user.get())],
        )
        .await
    }

    /// Marks the viewer's notifications read: one, or all when `id` is `None`. Reading one's own
    /// inbox is not a change to audit.
    pub async fn mark_read(&self, viewer: &Viewer, id: Option<i64>) -> Result<()> {
        let user = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 \
                     AND read_at IS NULL",
                )
                .bind(now_ms())
                .bind(id)
                .bind(user.get())
                .execute(self.pool())
                .await?;
            }
            None => {
                sqlx::query(
                    "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
                )
                .bind(now_ms())
                .bind(user.get())
                .execute(self.pool())
                .await?;
            }
        }
        Ok(())
    }
}

/// The people of a unit who are told about its items: its liaisons and heads, not disabled.
async fn unit_people(conn: &mut sqlx::AnyConnection, unit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query(
        "SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE u.unit_id = $1 AND u.disabled = 0 AND r.role IN ('liaison', 'unit_head') \
         ORDER BY u.id",
    )
    .bind(unit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|r| r.try_get::<i64, _>("id").ok())
    .collect())
}
