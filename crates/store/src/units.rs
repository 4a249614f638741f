//! The organisation: the region and its unit tree. Create, rename, move, merge (the merged unit
//! stays, marked and pointing at its successor, so history keeps its names), and import a unit
//! list all-or-nothing.

use crate::error::{Error, FieldProblem, Result};
use crate::{Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;
use zhongshu_domain::access::{SysAdmin, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::{RegionId, UnitId};
use zhongshu_domain::org::{CheckedUnitRow, RowProblem, UnitName, UnitType};

/// The region a deployment serves.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Region {
    pub id: RegionId,
    pub name: String,
}

/// A unit as pages and the API show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Unit {
    pub id: UnitId,
    pub parent_id: Option<UnitId>,
    pub name: String,
    pub unit_type: UnitType,
    pub key_reporting: bool,
    pub sort_order: i64,
    pub merged: bool,
    pub merged_into: Option<UnitId>,
    /// Depth below the region: 1 for a unit directly under it.
    pub depth: usize,
    pub path: String,
    pub version: i64,
}

/// A new unit, parsed at the edge.
#[derive(Clone, Debug)]
pub struct NewUnit {
    pub parent_id: Option<UnitId>,
    pub name: UnitName,
    pub unit_type: UnitType,
    pub key_reporting: bool,
    pub sort_order: i64,
}

/// Changes to a unit's attributes; `version` is the one the editor saw.
#[derive(Clone, Debug)]
pub struct UnitChanges {
    pub name: UnitName,
    pub unit_type: UnitType,
    pub key_reporting: bool,
    pub sort_order: i64,
    pub version: i64,
}

const UNIT_COLUMNS: &str = "id, parent_id, name, unit_type, key_reporting, sort_order, status, \
                            merged_into, path, version";

fn unit_from_row(row: &sqlx::any::AnyRow) -> Result<Unit> {
    let unit_type: String = row.try_get("unit_type")?;
    let path: String = row.try_get("path")?;
    let status: String = row.try_get("status")?;
    Ok(Unit {
        id: UnitId::from_db(row.try_get("id")?),
        parent_id: row
            .try_get::<Option<i64>, _>("parent_id")?
            .map(UnitId::from_db),
        name: row.try_get("name")?,
        unit_type: UnitType::from_code(&unit_type).unwrap_or(UnitType::Other),
        key_reporting: row.try_get::<i64, _>("key_reporting")? != 0,
        sort_order: row.try_get("sort_order")?,
        merged: status == "merged",
        merged_into: row
            .try_get::<Option<i64>, _>("merged_into")?
            .map(UnitId::from_db),
        depth: path.matches('/').count().saturating_sub(1),
        path,
        version: row.try_get("version")?,
    })
}

fn unit_json(unit: &Unit) -> serde_json::Value {
    json!({
        "name": unit.name,
        "parent_id": unit.parent_id,
        "unit_type": unit.unit_type.label(),
        "key_reporting": unit.key_reporting,
        "sort_order": unit.sort_order,
        "merged_into": unit.merged_into,
    })
}

impl Store {
    /// The deployment's region, if one has been set up.
    pub async fn region(&self) -> Result<Option<Region>> {
        let row = self
            .read_one("SELECT id, name FROM regions ORDER BY id LIMIT 1", &[])
            .await?;
        row.map(|row| {
            Ok(Region {
                id: RegionId::from_db(row.try_get("id")?),
                name: row.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn require_region(&self) -> Result<Region> {
        self.region().await?.ok_or_else(|| {
            Error::invalid(
                "region",
                "尚未初始化地区：请先运行 zhongshu init --region 名称（或 zhongshu demo）",
            )
        })
    }

    /// Creates the region (the root of the tree). Refused if one exists already.
    pub async fn create_region(&self, admin: SysAdmin<'_>, name: &str) -> Result<Region> {
        let name = UnitName::parse(name).map_err(|m| Error::invalid("region", m))?;
        let mut w = self.write().await?;
        let existing = sqlx::query("SELECT name FROM regions LIMIT 1")
            .fetch_optional(&mut *w.tx)
            .await?;
        if let Some(row) = existing {
            let old: String = row.try_get("name")?;
            return Err(Error::invalid("region", format!("已初始化地区“{old}”")));
        }
        let row =
            sqlx::query("INSERT INTO regions (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name.as_str())
                .bind(now_ms())
                .fetch_one(&mut *w.tx)
                .await?;
        let id = RegionId::from_db(row.try_get("id")?);
        w.audit(
            admin.viewer(),
            AuditCode::RegionCreated,
            &format!("region:{id}"),
            None,
            Some(json!({ "name": name.as_str() })),
        )
        .await?;
        w.commit().await?;
        Ok(Region {
            id,
            name: name.into_string(),
        })
    }

    /// Every unit, in tree order (parents before children, siblings by sort order then name).
    /// The organisation tree is not business content: every signed-in user may read it.
    pub async fn list_units(&self, _viewer: &Viewer) -> Result<Vec<Unit>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UNIT_COLUMNS} FROM units ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        let units = rows.iter().map(unit_from_row).collect::<Result<Vec<_>>>()?;
        Ok(tree_order(units))
    }

    /// Counts for the home page.
    pub async fn unit_count(&self, _viewer: &Viewer) -> Result<i64> {
        self.read_count(
            "SELECT COUNT(*) AS n FROM units WHERE status = 'active'",
            &[],
        )
        .await
    }

    pub async fn get_unit(&self, _viewer: &Viewer, id: UnitId) -> Result<Unit> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE id = $1"
        )))
        .bind(id.get())
        .fetch_optional(self.pool())
        .await?
        .ok_or(Error::NotFound("单位"))?;
        unit_from_row(&row)
    }

    /// Finds an active unit by name, or by path (`明湖县/县委办公室/县委督查室`) where the name
    /// alone is not unique.
    pub async fn find_unit(&self, _viewer: &Viewer, text: &str) -> Result<UnitId> {
        let region = self.require_region().await?;
        let units = self.active_units().await?;
        let index = NameIndex::new(&region.name, &units);
        index.resolve(text).map_err(|m| Error::invalid("unit", m))
    }

    async fn active_units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE status = 'active' ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// The sort order that puts a new unit after its siblings.
    pub async fn next_sort_order(&self, parent: Option<UnitId>) -> Result<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(MAX(sort_order), 0) AS BIGINT) AS n FROM units \
             WHERE COALESCE(parent_id, 0) = $1",
        )
        .bind(parent.map_or(0, UnitId::get))
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>("n")? + 1)
    }

    /// Creates a unit under `parent_id` (or directly under the region).
    pub async fn create_unit(&self, admin: SysAdmin<'_>, new: NewUnit) -> Result<UnitId> {
        let region = self.require_region().await?;
        let mut w = self.write().await?;
        let parent_path = match new.parent_id {
            Some(parent) => active_path(&mut w.tx, parent).await?,
            None => "/".to_owned(),
        };
        ensure_name_free(&mut w.tx, new.parent_id, new.name.as_str(), None).await?;
        let id = insert_unit(&mut w.tx, region.id, &parent_path, &new).await?;
        w.audit(
            admin.viewer(),
            AuditCode::UnitCreated,
            &format!("unit:{id}"),
            None,
            Some(json!({
                "name": new.name.as_str(),
                "parent_id": new.parent_id,
                "unit_type": new.unit_type.label(),
                "key_reporting": new.key_reporting,
            })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Renames a unit and edits its attributes, refusing a stale copy.
    pub async fn update_unit(
        &self,
        admin: SysAdmin<'_>,
        id: UnitId,
        changes: UnitChanges,
    ) -> Result<()> {
        let mut w = self.write().await?;
        let before = load_unit(&mut w.tx, id).await?;
        if before.merged {
            return Err(Error::invalid("name", "该单位已被合并，不能再修改"));
        }
        if before.version != changes.version {
            return Err(Error::StaleVersion);
        }
        if before.name != changes.name.as_str() {
            ensure_name_free(&mut w.tx, before.parent_id, changes.name.as_str(), Some(id)).await?;
        }
        sqlx::query(
            "UPDATE units SET name = $1, unit_type = $2, key_reporting = $3, sort_order = $4, \
             version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(changes.name.as_str())
        .bind(changes.unit_type.code())
        .bind(i64::from(changes.key_reporting))
        .bind(changes.sort_order)
        .bind(now_ms())
        .bind(id.get())
        .bind(changes.version)
        .execute(&mut *w.tx)
        .await?;
        let after = load_unit(&mut w.tx, id).await?;
        let code = if before.name != after.name {
            // The items it leads are found by their lead unit's name too: their search
            // entries are written again with the new one when this commits.
            let led = sqlx::query("SELECT id FROM items WHERE lead_unit_id = $1 AND is_group = 0")
                .bind(id.get())
                .fetch_all(&mut *w.tx)
                .await?;
            for r in &led {
                w.item_changed(r.try_get("id")?);
            }
            AuditCode::UnitRenamed
        } else {
            AuditCode::UnitUpdated
        };
        w.audit(
            admin.viewer(),
            code,
            &format!("unit:{id}"),
            Some(unit_json(&before)),
            Some(unit_json(&after)),
        )
        .await?;
        w.commit().await
    }

    /// Moves a unit (with its subtree) under another parent, or directly under the region.
    pub async fn move_unit(
        &self,
        admin: SysAdmin<'_>,
        id: UnitId,
        new_parent: Option<UnitId>,
        version: i64,
    ) -> Result<()> {
        let mut w = self.write().await?;
        let before = load_unit(&mut w.tx, id).await?;
        if before.merged {
            return Err(Error::invalid("parent_id", "该单位已被合并，不能再调整"));
        }
        if before.version != version {
            return Err(Error::StaleVersion);
        }
        let parent_path = match new_parent {
            Some(parent) => {
                let path = active_path(&mut w.tx, parent).await?;
                if path.starts_with(&before.path) {
                    return Err(Error::invalid(
                        "parent_id",
                        "不能把单位调整到它自己或它的下级单位之下",
                    ));
                }
                path
            }
            None => "/".to_owned(),
        };
        ensure_name_free(&mut w.tx, new_parent, &before.name, Some(id)).await?;
        let new_path = format!("{parent_path}{id}/");
        sqlx::query(
            "UPDATE units SET path = $1 || substr(path, CAST($2 AS INTEGER)) \
             WHERE path LIKE $3 AND id <> $4",
        )
        .bind(&new_path)
        .bind(i64::try_from(before.path.len() + 1).unwrap_or(i64::MAX))
        .bind(format!("{}%", before.path))
        .bind(id.get())
        .execute(&mut *w.tx)
        .await?;
        sqlx::query(
            "UPDATE units SET parent_id = $1, path = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(new_parent.map(UnitId::get))
        .bind(&new_path)
        .bind(now_ms())
        .bind(id.get())
        .execute(&mut *w.tx)
        .await?;
        let after = load_unit(&mut w.tx, id).await?;
        w.audit(
            admin.viewer(),
            AuditCode::UnitMoved,
            &format!("unit:{id}"),
            Some(unit_json(&before)),
            Some(unit_json(&after)),
        )
        .await?;
        w.commit().await
    }

    /// Merges `from` into `into`: its users and child units move to `into`, and `from` stays
    /// as a merged unit pointing at its successor, so old records keep their names.
    pub async fn merge_unit(&self, admin: SysAdmin<'_>, from: UnitId, into: UnitId) -> Result<()> {
        if from == into {
            return Err(Error::invalid("into", "不能把单位合并到它自己"));
        }
        let mut w = self.write().await?;
        let source = load_unit(&mut w.tx, from).await?;
        let target = load_unit(&mut w.tx, into).await?;
        if source.merged || target.merged {
            return Err(Error::invalid("into", "已被合并的单位不能再参与合并"));
        }
        if target.path.starts_with(&source.path) {
            return Err(Error::invalid("into", "不能把单位合并到它自己的下级单位"));
        }
        let children =
            sqlx::query("SELECT id, name FROM units WHERE parent_id = $1 AND status = 'active'")
                .bind(from.get())
                .fetch_all(&mut *w.tx)
                .await?;
        for child in &children {
            let child_id = UnitId::from_db(child.try_get("id")?);
            let name: String = child.try_get("name")?;
            ensure_name_free(&mut w.tx, Some(into), &name, Some(child_id)).await?;
            let child_path: String = active_path(&mut w.tx, child_id).await?;
            let new_path = format!("{}{child_id}/", target.path);
            sqlx::query(
                "UPDATE units SET path = $1 || substr(path, CAST($2 AS INTEGER)) \
                 WHERE path LIKE $3",
            )
            .bind(&new_path)
            .bind(i64::try_from(child_path.len() + 1).unwrap_or(i64::MAX))
            .bind(format!("{child_path}%"))
            .execute(&mut *w.tx)
            .await?;
            sqlx::query("UPDATE units SET parent_id = $1, version = version + 1 WHERE id = $2")
                .bind(into.get())
                .bind(child_id.get())
                .execute(&mut *w.tx)
                .await?;
        }
        let moved_users = sqlx::query("UPDATE users SET unit_id = $1 WHERE unit_id = $2")
            .bind(into.get())
            .bind(from.get())
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        sqlx::query(
            "UPDATE units SET status = 'merged', merged_into = $1, version = version + 1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(into.get())
        .bind(now_ms())
        .bind(from.get())
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            admin.viewer(),
            AuditCode::UnitMerged,
            &format!("unit:{from}"),
            Some(unit_json(&source)),
            Some(json!({
                "merged_into": into,
                "merged_into_name": target.name,
                "users_moved": moved_users,
                "children_moved": children.len(),
            })),
        )
        .await?;
        w.commit().await
    }

    /// Imports checked unit-list rows in one transaction: every parent is resolved (by name
    /// where unique, else by path; rows may name units created earlier in the same file) and
    /// every clash is reported before anything is written.
    pub async fn import_units(
        &self,
        admin: SysAdmin<'_>,
        rows: Vec<CheckedUnitRow>,
    ) -> Result<usize> {
        let region = self.require_region().await?;
        let mut w = self.write().await?;
        let rows_read = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE status = 'active' ORDER BY id"
        )))
        .fetch_all(&mut *w.tx)
        .await?;
        let mut existing = rows_read
            .iter()
            .map(unit_from_row)
            .collect::<Result<Vec<_>>>()?;
        let mut problems = Vec::new();
        let mut pending: Vec<&CheckedUnitRow> = rows.iter().collect();
        let mut created = 0usize;
        // Resolve in passes so a row may name a parent that a later row of the file creates.
        loop {
            let resolved: Vec<_> = {
                let index = NameIndex::new(&region.name, &existing);
                pending
                    .into_iter()
                    .map(|row| {
                        let parent = if row.parent.is_empty() {
                            Ok(None)
                        } else {
                            index.resolve(&row.parent).map(Some)
                        };
                        (row, parent)
                    })
                    .collect()
            };
            let mut next = Vec::new();
            let mut progressed = false;
            for (row, parent) in resolved {
                match parent {
                    Ok(parent_id) => {
                        if existing
                            .iter()
                            .any(|u| u.parent_id == parent_id && u.name == row.name.as_str())
                        {
                            problems.push(RowProblem {
                                row: row.row,
                                column: "单位名称".to_owned(),
                                reason: format!("“{}”已存在，不能重复导入", row.name.as_str()),
                            });
                            continue;
                        }
                        let parent_path = match parent_id {
                            Some(p) => existing
                                .iter()
                                .find(|u| u.id == p)
                                .map(|u| u.path.clone())
                                .unwrap_or_else(|| "/".to_owned()),
                            None => "/".to_owned(),
                        };
                        let new = NewUnit {
                            parent_id,
                            name: row.name.clone(),
                            unit_type: row.unit_type,
                            key_reporting: row.key_reporting,
                            sort_order: i64::try_from(row.row).unwrap_or(0),
                        };
                        let id = insert_unit(&mut w.tx, region.id, &parent_path, &new).await?;
                        existing.push(Unit {
                            id,
                            parent_id,
                            name: row.name.as_str().to_owned(),
                            unit_type: row.unit_type,
                            key_reporting: row.key_reporting,
                            sort_order: new.sort_order,
                            merged: false,
                            merged_into: None,
                            depth: 0,
                            path: format!("{parent_path}{id}/"),
                            version: 1,
                        });
                        created += 1;
                        progressed = true;
                    }
                    Err(reason) => next.push((row, reason)),
                }
            }
            if next.is_empty() {
                break;
            }
            if !progressed {
                for (row, reason) in next {
                    problems.push(RowProblem {
                        row: row.row,
                        column: "上级单位".to_owned(),
                        reason,
                    });
                }
                break;
            }
            pending = next.into_iter().map(|(row, _)| row).collect();
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.row);
            // Dropping the transaction rolls back every row inserted above.
            return Err(Error::Rows(problems));
        }
        w.audit(
            admin.viewer(),
            AuditCode::UnitsImported,
            "units",
            None,
            Some(json!({
                "count": created,
                "names": rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            })),
        )
        .await?;
        w.commit().await?;
        Ok(created)
    }
}

pub(crate) async fn insert_unit(
    conn: &mut sqlx::AnyConnection,
    region: RegionId,
    parent_path: &str,
    new: &NewUnit,
) -> Result<UnitId> {
    let now = now_ms();
    // The path needs the new id, so insert with a placeholder and set it in the same transaction.
    let row = sqlx::query(
        "INSERT INTO units (region_id, parent_id, name, unit_type, key_reporting, sort_order, \
         path, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, '', $7, $7) RETURNING id",
    )
    .bind(region.get())
    .bind(new.parent_id.map(UnitId::get))
    .bind(new.name.as_str())
    .bind(new.unit_type.code())
    .bind(i64::from(new.key_reporting))
    .bind(new.sort_order)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = UnitId::from_db(row.try_get("id")?);
    sqlx::query("UPDATE units SET path = $1 WHERE id = $2")
        .bind(format!("{parent_path}{id}/"))
        .bind(id.get())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

async fn load_unit(conn: &mut sqlx::AnyConnection, id: UnitId) -> Result<Unit> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM units WHERE id = $1"
    )))
    .bind(id.get())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("单位"))?;
    unit_from_row(&row)
}

async fn active_path(conn: &mut sqlx::AnyConnection, id: UnitId) -> Result<String> {
    let unit = load_unit(conn, id).await?;
    if unit.merged {
        return Err(Error::Invalid(vec![FieldProblem::new(
            "parent_id",
            format!("“{}”已被合并，不能作为上级单位", unit.name),
        )]));
    }
    Ok(unit.path)
}

async fn ensure_name_free(
    conn: &mut sqlx::AnyConnection,
    parent: Option<UnitId>,
    name: &str,
    except: Option<UnitId>,
) -> Result<()> {
    let row = sqlx::query(
        "SELECT id FROM units WHERE COALESCE(parent_id, 0) = $1 AND name = $2 \
         AND status = 'active' AND id <> $3",
    )
    .bind(parent.map_or(0, UnitId::get))
    .bind(name)
    .bind(except.map_or(0, UnitId::get))
    .fetch_optional(&mut *conn)
    .await?;
    if row.is_some() {
        return Err(Error::invalid(
            "name",
            format!("同一上级单位下已有名为“{name}”的单位"),
        ));
    }
    Ok(())
}

/// Parents before children, siblings by sort order then name.
fn tree_order(units: Vec<Unit>) -> Vec<Unit> {
    let mut children: HashMap<Option<UnitId>, Vec<Unit>> = HashMap::new();
    for unit in units {
        children.entry(unit.parent_id).or_default().push(unit);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
    }
    let mut ordered = Vec::new();
    let mut stack: Vec<Unit> = children.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(unit) = stack.pop() {
        if let Some(mut kids) = children.remove(&Some(unit.id)) {
            kids.reverse();
            stack.extend(kids);
        }
        ordered.push(unit);
    }
    // Units whose parent is missing from the list (cannot happen with foreign keys) still show.
    for (_, rest) in children {
        ordered.extend(rest);
    }
    ordered
}

/// Resolves a unit written by name or by path among the active units.
struct NameIndex<'a> {
    region: &'a str,
    units: &'a [Unit],
    by_name: HashMap<&'a str, Vec<&'a Unit>>,
}

impl<'a> NameIndex<'a> {
    fn new(region: &'a str, units: &'a [Unit]) -> NameIndex<'a> {
        let mut by_name: HashMap<&str, Vec<&Unit>> = HashMap::new();
        for unit in units {
            by_name.entry(unit.name.as_str()).or_default().push(unit);
        }
        NameIndex {
            region,
            units,
            by_name,
        }
    }

    fn resolve(&self, text: &str) -> std::result::Result<UnitId, String> {
        let text = text.trim();
        let parts: Vec<&str> = text
            .split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let parts: &[&str] = match parts.split_first() {
            Some((first, rest)) if *first == self.region && !rest.is_empty() => rest,
            _ => &parts,
        };
        let Some((last, ancestors)) = parts.split_last() else {
            return Err("单位不能为空".to_owned());
        };
        let candidates: Vec<&Unit> = self
            .by_name
            .get(last)
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|u| self.path_names(u).ends_with(parts))
                    .filter(|u| ancestors.is_empty() || self.path_names(u).len() == parts.len())
                    .collect()
            })
            .unwrap_or_default();
        match candidates.as_slice() {
            [one] => Ok(one.id),
            [] => Err(format!("单位“{text}”不存在{}", self.suggest(last))),
            many => Err(format!(
                "有{}个单位名为“{last}”，请写出完整路径，如“{}”",
                many.len(),
                many.iter()
                    .map(|u| format!("{}/{}", self.region, self.path_names(u).join("/")))
                    .collect::<Vec<_>>()
                    .join("”或“")
            )),
        }
    }

    fn path_names(&self, unit: &Unit) -> Vec<&'a str> {
        unit.path
            .split('/')
            .filter_map(|id| id.parse::<i64>().ok())
            .filter_map(|id| self.units.iter().find(|u| u.id.get() == id))
            .map(|u| u.name.as_str())
            .collect()
    }

    /// "，您是否要找：…" with up to three close names, or nothing.
    fn suggest(&self, name: &str) -> String {
        suggest_names(name, self.units.iter().map(|u| u.name.as_str()))
    }
}

/// "，您是否要找：…" naming up to three of `candidates` that share most characters with `name`
/// (at least half of them), or nothing: offices' unit names differ by a character or an
/// abbreviation (县发改局 / 县发展和改革局), so a miss is never matched silently but suggested.
pub(crate) fn suggest_names<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let wanted: Vec<char> = name.chars().collect();
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|n| (n.chars().filter(|c| wanted.contains(c)).count(), n))
        .filter(|(common, _)| *common * 2 >= wanted.len().max(2))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    let names: Vec<&str> = scored.into_iter().take(3).map(|(_, n)| n).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("，您是否要找：{}", names.join("、"))
    }
}
