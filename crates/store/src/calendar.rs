//! The working-day calendar as the deployment sees it: the shipped official years, replaced
//! year by year by an administrator's corrections stored in `calendar_years`.

use crate::error::{Error, Result};
use crate::{Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use zhongshu_domain::access::SysAdmin;
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::calendar::{WorkCalendar, parse_calendar_text};
use zhongshu_domain::org::RowProblem;

/// A year an administrator saved.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CalendarOverride {
    pub year: i64,
    pub body: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// How long a node trusts its copy of the calendar: a correction saved on this node is seen at
/// once; one saved on another node (PostgreSQL, several nodes) within this time. Every page
/// needs the calendar several times, and loading it is a query and a parse.
const CALENDAR_CACHE_TTL: Duration = Duration::from_secs(60);

/// This node's copy of the working-day calendar.
#[derive(Debug, Default)]
pub(crate) struct CalendarCache {
    entry: std::sync::Mutex<Option<(Instant, u64, Arc<WorkCalendar>)>>,
    /// Moved by every calendar correction saved on this node.
    version: AtomicU64,
}

impl Store {
    /// The official calendar with every stored correction applied, shared: pages ask for it
    /// several times each, and a copy of its years costs more than the rest of their logic.
    pub async fn work_calendar(&self) -> Result<Arc<WorkCalendar>> {
        let cache = &self.inner.calendar_cache;
        let version = cache.version.load(Ordering::Acquire);
        if let Ok(entry) = cache.entry.lock()
            && let Some((at, v, calendar)) = entry.as_ref()
            && *v == version
            && at.elapsed() < CALENDAR_CACHE_TTL
        {
            return Ok(calendar.clone());
        }
        let calendar = Arc::new(self.load_work_calendar().await?);
        if let Ok(mut entry) = cache.entry.lock() {
            *entry = Some((Instant::now(), version, calendar.clone()));
        }
        Ok(calendar)
    }

    async fn load_work_calendar(&self) -> Result<WorkCalendar> {
        let mut calendar = WorkCalendar::official();
        for o in self.calendar_overrides().await? {
            match parse_calendar_text(&o.body) {
                Ok(years) => {
                    for year in years {
                        calendar = calendar.with_year(year);
                    }
                }
                // Stored text was checked when saved; if it no longer parses, keep the shipped
                // year rather than fail every page.
                Err(errors) => tracing::error!(
                    "{}年节假日数据无法解析：{}",
                    o.year,
                    errors.first().map(ToString::to_string).unwrap_or_default()
                ),
            }
        }
        Ok(calendar)
    }

    pub async fn calendar_overrides(&self) -> Result<Vec<CalendarOverride>> {
        let rows = sqlx::query(
            "SELECT year, body, updated_at, updated_by FROM calendar_years ORDER BY year",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CalendarOverride {
                    year: row.try_get("year")?,
                    body: row.try_get("body")?,
                    updated_at: row.try_get("updated_at")?,
                    updated_by: row.try_get("updated_by")?,
                })
            })
            .collect()
    }

    /// Saves one or more years given in the calendar text format, replacing the shipped data
    /// for those years. Every line is checked first; nothing is written if any is wrong.
    pub async fn save_calendar_text(&self, admin: SysAdmin<'_>, text: &str) -> Result<Vec<i16>> {
        let years = parse_calendar_text(text).map_err(|errors| {
            Error::Rows(
                errors
                    .into_iter()
                    .map(|e| RowProblem {
                        row: e.line,
                        column: "节假日安排".to_owned(),
                        reason: e.message,
                    })
                    .collect(),
            )
        })?;
        if years.is_empty() {
            return Err(Error::invalid("body", "没有任何年份的节假日数据"));
        }
        let before = self.work_calendar().await?;
        let mut w = self.write().await?;
        let mut saved = Vec::new();
        for year in &years {
            let body = year.to_text();
            sqlx::query(
                "INSERT INTO calendar_years (year, body, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (year) DO UPDATE SET body = excluded.body, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(i64::from(year.year()))
            .bind(&body)
            .bind(now_ms())
            .bind(&admin.viewer().username)
            .execute(&mut *w.tx)
            .await?;
            w.audit(
                admin.viewer(),
                AuditCode::CalendarYearSaved,
                &format!("calendar:{}", year.year()),
                before.year(year.year()).map(|y| json!(y.to_text())),
                Some(json!(body)),
            )
            .await?;
            saved.push(year.year());
        }
        w.commit().await?;
        self.inner
            .calendar_cache
            .version
            .fetch_add(1, Ordering::AcqRel);
        Ok(saved)
    }
}
