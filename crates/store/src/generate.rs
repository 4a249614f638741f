//! Generated data at the sizes of PRODUCT.md (county, city, province), for benchmarks and scale
//! tests. Written in batches of one transaction each, so progress can be shown and a large run
//! does not hold the write lock for minutes.

use crate::error::{Error, Result};
use crate::units::NewUnit;
use crate::users::{NewUser, hash_password, insert_user_row};
use crate::{Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use zhongshu_domain::access::{Role, SysAdmin};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::{RegionId, UnitId};
use zhongshu_domain::org::{UnitName, UnitType};

/// The deployment sizes of PRODUCT.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    County,
    City,
    Province,
}

impl Scale {
    pub fn parse(text: &str) -> Option<Scale> {
        match text {
            "county" => Some(Scale::County),
            "city" => Some(Scale::City),
            "province" => Some(Scale::Province),
            _ => None,
        }
    }

    /// (counties, units per county, users per unit): about 150 / 1,700 / 15,000 units and
    /// 1,500 / 20,000 / 200,000 users.
    fn shape(self) -> (usize, usize, usize) {
        match self {
            Scale::County => (1, 150, 10),
            Scale::City => (10, 170, 12),
            Scale::Province => (100, 150, 13),
        }
    }

    pub fn target_units(self) -> usize {
        let (counties, per, _) = self.shape();
        if counties == 1 { per } else { counties * per }
    }

    pub fn target_users(self) -> usize {
        let (_, _, users) = self.shape();
        self.target_units() * users
    }

    fn region_name(self) -> &'static str {
        match self {
            Scale::County => "示范县",
            Scale::City => "示范市",
            Scale::Province => "示范省",
        }
    }
}

const DEPARTMENTS: &[&str] = &[
    "财政局",
    "教育局",
    "公安局",
    "民政局",
    "司法局",
    "审计局",
    "统计局",
    "商务局",
    "水利局",
    "林业局",
    "卫生健康局",
    "交通运输局",
    "农业农村局",
    "应急管理局",
    "医疗保障局",
    "信访局",
    "发展和改革局",
    "自然资源局",
    "住房和城乡建设局",
    "市场监督管理局",
    "人力资源和社会保障局",
    "文化广电和旅游局",
    "科学技术局",
    "工业和信息化局",
    "退役军人事务局",
    "生态环境局",
];

/// What `generate` reports as it goes: (units done, users done).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

impl Store {
    /// Adds generated units and users (one shared password hash). Creates the region if the
    /// database has none; otherwise adds under the existing region.
    pub async fn generate(
        &self,
        admin: SysAdmin<'_>,
        scale: Scale,
        password: &str,
        progress: Progress<'_>,
    ) -> Result<(usize, usize)> {
        let cost = self.hash_cost();
        let owned = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(cost, &owned))
            .await
            .map_err(|e| Error::Internal(format!("口令散列任务失败：{e}")))??;
        let region = match self.region().await? {
            Some(r) => r.id,
            None => self.create_region(admin, scale.region_name()).await?.id,
        };
        let (counties, per_county, users_per_unit) = scale.shape();
        // A run number keeps names and usernames unique when gen-data runs twice.
        let run: i64 = sqlx::query("SELECT COUNT(*) AS n FROM units")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        let mut units_done = 0usize;
        let mut users_done = 0usize;
        for county in 0..counties {
            let mut w = self.write().await?;
            let (root, root_path) = if counties == 1 {
                (None, "/".to_owned())
            } else {
                let new = NewUnit {
                    parent_id: None,
                    name: name(&format!("第{}县（{run}）", county + 1))?,
                    unit_type: UnitType::Other,
                    key_reporting: false,
                    sort_order: i64::try_from(county).unwrap_or(0),
                };
                let id = crate::units::insert_unit(&mut w.tx, region, "/", &new).await?;
                units_done += 1;
                (Some(id), format!("/{id}/"))
            };
            let mut created: Vec<UnitId> = root.into_iter().collect();
            let own = if counties == 1 {
                per_county
            } else {
                per_county - 1
            };
            for i in 0..own {
                let (label, unit_type) = if i < 15 {
                    (format!("第{}镇", i + 1), UnitType::Township)
                } else {
                    let d = DEPARTMENTS[i % DEPARTMENTS.len()];
                    (
                        format!("{d}{}（{run}）", i / DEPARTMENTS.len() + 1),
                        UnitType::Department,
                    )
                };
                let new = NewUnit {
                    parent_id: root,
                    name: name(&format!("{label}·{run}"))?,
                    unit_type,
                    key_reporting: i % 8 == 0,
                    sort_order: i64::try_from(i).unwrap_or(0),
                };
                created.push(insert_unit(&mut w, region, &root_path, &new).await?);
                units_done += 1;
            }
            for (n, unit_id) in created.iter().enumerate() {
                for k in 0..users_per_unit {
                    let role = match k {
                        0 => vec![Role::Liaison],
                        1 => vec![Role::UnitHead],
                        _ => vec![],
                    };
                    let new = NewUser {
                        username: format!("g{run}c{county}u{n}k{k}"),
                        display_name: format!("测试用户{county}-{n}-{k}"),
                        title: String::new(),
                        unit_id: *unit_id,
                        password: String::new(),
                        roles: role,
                        must_change_password: false,
                    };
                    insert_user_row(&mut w.tx, &new, &hash).await?;
                    users_done += 1;
                }
            }
            w.audit(
                admin.viewer(),
                AuditCode::DataGenerated,
                &format!("region:{region}"),
                None,
                Some(json!({ "batch": county, "units": units_done, "users": users_done, "at": now_ms() })),
            )
            .await?;
            w.commit().await?;
            progress(units_done, users_done);
        }
        Ok((units_done, users_done))
    }
}

async fn insert_unit(
    w: &mut crate::Write<'_>,
    region: RegionId,
    parent_path: &str,
    new: &NewUnit,
) -> Result<UnitId> {
    crate::units::insert_unit(&mut w.tx, region, parent_path, new).await
}

fn name(text: &str) -> Result<UnitName> {
    UnitName::parse(text).map_err(Error::Internal)
}
