//! Scheduled reminders (到期提醒): the lead unit of every open item is told once when it comes
//! due within the yellow window ("due soon") and, while it stays overdue, once per minimum
//! interval ("overdue").
//!
//! A scan is one write transaction (serialised: `BEGIN IMMEDIATE` on SQLite, a table lock on
//! PostgreSQL), so it can run every few minutes, on several nodes and after restarts, and each
//! reminder is still enqueued exactly once: `item_reminders` remembers the last reminder of each
//! kind per item and unit, and the notification keys are unique besides.

use crate::error::Result;
use crate::{Backend, Store, notify};
use jiff::civil::Date;
use serde_json::json;
use sqlx::Row;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::supervision::{ItemState, Signal, Urgency, critical_signal, signal};

/// What a scan is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct Scan {
    /// Today in Beijing.
    pub today: Date,
    /// Now, unix ms (特急 items count in hours).
    pub now_ms: i64,
    /// "Due soon" means due within this many working days (`signals.yellow_workdays`).
    pub yellow_days: u32,
    /// The shortest time between two reminders of one kind for one item and unit.
    pub min_interval_ms: i64,
}

/// What a scan sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanOutcome {
    pub due_soon: usize,
    pub overdue: usize,
}

impl ScanOutcome {
    pub fn total(&self) -> usize {
        self.due_soon + self.overdue
    }
}

/// The scheduled task, as the audit log names it.
fn system() -> Viewer {
    let mut v = Viewer::anonymous("system");
    v.display_name = "定时提醒".to_owned();
    v.client_addr = Some("scheduler".to_owned());
    v
}

struct Candidate {
    item: i64,
    unit: i64,
    title: String,
    due_date: Option<String>,
    kind: &'static str,
}

/// Scans open, assigned or in-progress items and tells their lead units of those due soon or
/// overdue; audited once (with the counts) when anything was sent.
pub async fn scan(store: &Store, scan: &Scan) -> Result<ScanOutcome> {
    let calendar = store.work_calendar().await?;
    let horizon = calendar
        .add_workdays(scan.today, scan.yellow_days)
        .to_string();
    let mut w = store.write().await?;
    if store.backend() == Backend::Postgres {
        // Scans on several nodes queue here instead of both deciding to send.
        sqlx::query("LOCK TABLE item_reminders IN EXCLUSIVE MODE")
            .execute(&mut *w.tx)
            .await?;
    }
    let rows = sqlx::query(
        "SELECT i.id, i.title, i.state, i.urgency, i.due_date, i.due_at, i.lead_unit_id \
         FROM items i JOIN ledgers l ON l.year = i.ledger_year \
         WHERE i.is_group = 0 AND i.state IN ('assigned', 'in_progress') \
         AND l.status = 'open' AND i.lead_unit_id IS NOT NULL \
         AND ((i.due_date IS NOT NULL AND i.due_date <= $1) OR i.due_at IS NOT NULL) \
         ORDER BY i.id",
    )
    .bind(&horizon)
    .fetch_all(&mut *w.tx)
    .await?;
    let mut candidates = Vec::new();
    for r in &rows {
        let state: String = r.try_get("state")?;
        let Some(state) = ItemState::from_code(&state) else {
            continue;
        };
        let urgency: String = r.try_get("urgency")?;
        let due_date: Option<String> = r.try_get("due_date")?;
        let due_at: Option<i64> = r.try_get("due_at")?;
        let light = match due_at.filter(|_| Urgency::from_code(&urgency) == Some(Urgency::Critical))
        {
            Some(at) => critical_signal(state, at, scan.now_ms),
            None => signal(
                state,
                due_date.as_deref().and_then(|d| d.parse::<Date>().ok()),
                None,
                None,
                scan.today,
                scan.yellow_days,
                &calendar,
            ),
        };
        let kind = match light {
            Signal::Yellow => "due_soon",
            Signal::Red => "overdue",
            _ => continue,
        };
        candidates.push(Candidate {
            item: r.try_get("id")?,
            unit: r.try_get("lead_unit_id")?,
            title: r.try_get("title")?,
            due_date,
            kind,
        });
    }
    let interval = scan.min_interval_ms.max(0);
    let mut outcome = ScanOutcome::default();
    for c in candidates {
        let due = c.due_date.as_deref().unwrap_or("");
        // Due soon: once per due date (an approved extension may bring another). Overdue: once
        // per interval window.
        let key = match c.kind {
            "due_soon" => format!("due-soon:{}:{}:{due}", c.item, c.unit),
            _ => format!(
                "overdue:{}:{}:{}",
                c.item,
                c.unit,
                scan.now_ms / interval.max(1)
            ),
        };
        let last = sqlx::query(
            "SELECT last_key, last_sent_at FROM item_reminders \
             WHERE item_id = $1 AND unit_id = $2 AND kind = $3",
        )
        .bind(c.item)
        .bind(c.unit)
        .bind(c.kind)
        .fetch_optional(&mut *w.tx)
        .await?;
        if let Some(last) = &last {
            let last_key: String = last.try_get("last_key")?;
            let last_sent: i64 = last.try_get("last_sent_at")?;
            if last_key == key || scan.now_ms - last_sent < interval {
                continue;
            }
        }
        let (title, body) = if c.kind == "due_soon" {
            (
                format!("即将到期：{}", c.title),
                format!(
                    "完成时限{due}，已不足{}个工作日，请抓紧办理；确需延期的请及时申请。",
                    scan.yellow_days
                ),
            )
        } else {
            (
                format!("已逾期：{}", c.title),
                format!("完成时限{due}已过，请尽快办结并报送进展。"),
            )
        };
        notify::to_unit(
            &mut w.tx,
            c.unit,
            &notify::Message {
                kind: c.kind,
                item_id: Some(c.item),
                title: &title,
                body: &body,
                key: &key,
            },
        )
        .await?;
        sqlx::query(
            "INSERT INTO item_reminders (item_id, unit_id, kind, last_key, last_sent_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (item_id, unit_id, kind) \
             DO UPDATE SET last_key = excluded.last_key, last_sent_at = excluded.last_sent_at",
        )
        .bind(c.item)
        .bind(c.unit)
        .bind(c.kind)
        .bind(&key)
        .bind(scan.now_ms)
        .execute(&mut *w.tx)
        .await?;
        if c.kind == "due_soon" {
            outcome.due_soon += 1;
        } else {
            outcome.overdue += 1;
        }
    }
    if outcome.total() > 0 {
        w.audit(
            &system(),
            AuditCode::RemindersSent,
            &format!("reminders:{}", scan.today),
            None,
            Some(json!({
                "due_soon": outcome.due_soon,
                "overdue": outcome.overdue,
                "at": scan.now_ms,
            })),
        )
        .await?;
    }
    w.commit().await?;
    Ok(outcome)
}

impl Store {
    /// Runs one reminder scan (see [`scan`]).
    pub async fn scan_reminders(&self, s: &Scan) -> Result<ScanOutcome> {
        scan(self, s).await
    }
}
