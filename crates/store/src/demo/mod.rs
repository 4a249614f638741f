//! Loads the demo county 明湖县 into an empty database, in one transaction.

pub mod data;
pub mod ledger;

use crate::error::{Error, Result};
use crate::units::NewUnit;
use crate::users::{NewUser, hash_password, insert_user_row};
use crate::{Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;
use zhongshu_domain::access::{Role, Supervisor, SysAdmin, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::{RegionId, UnitId};
use zhongshu_domain::org::{UnitName, UnitType};

/// What `load_demo` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    Loaded {
        units: usize,
        users: usize,
    },
    /// The database already holds a region; nothing was changed.
    AlreadyLoaded {
        region: String,
    },
}

impl Store {
    /// Loads 明湖县 with its units, the named office staff and a liaison and a head for every
    /// unit, all with `password` (no forced change: demo accounts are for trying things out).
    /// One argon2 hash is computed and shared, so hundreds of accounts cost one hash.
    pub async fn load_demo(&self, admin: SysAdmin<'_>, password: &str) -> Result<DemoOutcome> {
        if let Some(region) = self.region().await? {
            return Ok(DemoOutcome::AlreadyLoaded {
                region: region.name,
            });
        }
        let cost = self.hash_cost();
        let owned = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(cost, &owned))
            .await
            .map_err(|e| Error::Internal(format!("口令散列任务失败：{e}")))??;
        let mut w = self.write().await?;
        let region =
            sqlx::query("INSERT INTO regions (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(data::REGION_NAME)
                .bind(now_ms())
                .fetch_one(&mut *w.tx)
                .await?;
        let region = RegionId::from_db(region.try_get("id")?);
        let mut ids: HashMap<&str, (UnitId, String)> = HashMap::new();
        for (i, unit) in data::UNITS.iter().enumerate() {
            let (parent_id, parent_path) = match unit.parent.and_then(|p| ids.get(p)) {
                Some((id, path)) => (Some(*id), path.clone()),
                None => (None, "/".to_owned()),
            };
            let new = NewUnit {
                parent_id,
                name: UnitName::parse(unit.name).map_err(Error::Internal)?,
                unit_type: UnitType::from_label(unit.unit_type).unwrap_or(UnitType::Other),
                key_reporting: unit.key_reporting,
                sort_order: i64::try_from(i).unwrap_or(0),
            };
            let id = crate::units::insert_unit(&mut w.tx, region, &parent_path, &new).await?;
            ids.insert(unit.code, (id, format!("{parent_path}{id}/")));
        }
        let mut users = 0usize;
        for person in data::PEOPLE {
            let Some((unit_id, _)) = ids.get(person.unit) else {
                continue;
            };
            let new = NewUser {
                username: person.username.to_owned(),
                display_name: person.display_name.to_owned(),
                title: person.title.to_owned(),
                unit_id: *unit_id,
                password: String::new(),
                roles: person
                    .roles
                    .iter()
                    .filter_map(|r| Role::from_code(r))
                    .collect(),
                must_change_password: false,
            };
            insert_user_row(&mut w.tx, &new, &hash).await?;
            users += 1;
        }
        for unit in data::UNITS {
            let Some((unit_id, _)) = ids.get(unit.code) else {
                continue;
            };
            for (username, display_name, role, title) in [
                (
                    data::liaison_username(unit.code),
                    data::liaison_display_name(unit.name),
                    Role::Liaison,
                    "联络员",
                ),
                (
                    data::head_username(unit.code),
                    data::head_display_name(unit.name),
                    Role::UnitHead,
                    "负责人",
                ),
            ] {
                let new = NewUser {
                    username,
                    display_name,
                    title: title.to_owned(),
                    unit_id: *unit_id,
                    password: String::new(),
                    roles: vec![role],
                    must_change_password: false,
                };
                insert_user_row(&mut w.tx, &new, &hash).await?;
                users += 1;
            }
        }
        w.audit(
            admin.viewer(),
            AuditCode::DemoLoaded,
            &format!("region:{region}"),
            None,
            Some(json!({ "region": data::REGION_NAME, "units": ids.len(), "users": users })),
        )
        .await?;
        w.commit().await?;
        Ok(DemoOutcome::Loaded {
            units: ids.len(),
            users,
        })
    }

    /// Loads the demo county's supervision ledger for `year` (once) with a few progress reports,
    /// through the same import path as an uploaded 任务分解表. Returns the number of items, or
    /// `None` when that year's ledger exists already.
    pub async fn load_demo_ledger(&self, sup: Supervisor<'_>, year: i16) -> Result<Option<usize>> {
        if self.ledger_years().await?.contains(&i64::from(year)) {
            return Ok(None);
        }
        let summary = self.import_items(sup, year, &ledger::rows()).await?;
        for (measure, username, done, problems, percent) in ledger::REPORTS {
            let item = sqlx::query(
                "SELECT id FROM items WHERE ledger_year = $1 AND title = $2 AND is_group = 0",
            )
            .bind(i64::from(year))
            .bind(*measure)
            .fetch_optional(self.pool())
            .await?;
            let user = sqlx::query(
                "SELECT u.id, u.display_name, u.unit_id, un.name FROM users u \
                 JOIN units un ON un.id = u.unit_id WHERE u.username = $1",
            )
            .bind(*username)
            .fetch_optional(self.pool())
            .await?;
            let (Some(item), Some(user)) = (item, user) else {
                continue;
            };
            let viewer = Viewer::user(
                zhongshu_domain::ids::UserId::from_db(user.try_get("id")?),
                (*username).to_owned(),
                user.try_get("display_name")?,
                UnitId::from_db(user.try_get("unit_id")?),
                user.try_get("name")?,
                vec![Role::Liaison],
            );
            self.report_progress(
                &viewer,
                item.try_get("id")?,
                &crate::supervision::NewReport {
                    done: (*done).to_owned(),
                    problems: (*problems).to_owned(),
                    coordination: String::new(),
                    next_steps: String::new(),
                    percent: Some(*percent),
                },
            )
            .await?;
        }
        Ok(Some(summary.items))
    }
}
