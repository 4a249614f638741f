//! Generated data at the sizes of PRODUCT.md (county, city, province), for benchmarks and scale
//! tests. Written in batches of one transaction each, so progress can be shown and a large run
//! does not hold the write lock for minutes.

use crate::error::{Error, Result};
use crate::units::NewUnit;
use crate::users::{NewUser, hash_password, insert_user_row};
use crate::{Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use std::collections::HashMap;
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

/// What `generate_items` reports as it goes: (items done, progress reports done).
pub type ItemProgress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// The ledger years `generate_items` fills, and the items (measures) per year at city size.
pub const ITEM_YEARS: std::ops::RangeInclusive<i64> = 2022..=2026;
const MEASURES_PER_YEAR: usize = 50_000;
/// Measures under one 重点任务 group.
const MEASURES_PER_GROUP: usize = 20;
/// Measures written per transaction (with their units, reports and history).
const ITEMS_PER_BATCH: usize = 5_000;
/// Rows per multi-row INSERT.
const ROWS_PER_STATEMENT: usize = 400;

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

/// What `generate_items` wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ItemCounts {
    pub groups: usize,
    pub items: usize,
    pub item_units: usize,
    pub reports: usize,
    pub history: usize,
}

/// A small deterministic generator (splitmix64), so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    /// true with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Collects rows and writes them as multi-row INSERTs of `ROWS_PER_STATEMENT`. Values are
/// generated here (numbers and fixed texts), written as SQL literals.
struct Bulk {
    head: &'static str,
    rows: Vec<String>,
    written: usize,
}

impl Bulk {
    fn new(head: &'static str) -> Bulk {
        Bulk {
            head,
            rows: Vec::with_capacity(ROWS_PER_STATEMENT),
            written: 0,
        }
    }

    fn push(&mut self, row: String) {
        self.rows.push(row);
    }

    fn full(&self) -> bool {
        self.rows.len() >= ROWS_PER_STATEMENT
    }

    async fn flush(&mut self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!("{} VALUES {}", self.head, self.rows.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
        self.written += self.rows.len();
        self.rows.clear();
        Ok(())
    }
}

/// A text as an SQL literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn opt_lit(text: Option<&str>) -> String {
    text.map_or_else(|| "NULL".to_owned(), lit)
}

fn opt_num(n: Option<i64>) -> String {
    n.map_or_else(|| "NULL".to_owned(), |n| n.to_string())
}

const CATEGORIES: &[&str] = &[
    "经济发展",
    "项目建设",
    "民生保障",
    "生态环保",
    "乡村振兴",
    "社会治理",
    "营商环境",
    "安全生产",
];

const VERBS: &[&str] = &[
    "加快推进",
    "全面完成",
    "持续深化",
    "统筹落实",
    "积极推动",
    "扎实开展",
];

const OBJECTS: &[&str] = &[
    "城区老旧小区改造",
    "高标准农田建设",
    "重点项目征地拆迁",
    "义务教育学校扩容",
    "农村生活污水治理",
    "企业开办便利化改革",
    "县域医共体建设",
    "道路交通安全隐患排查整治",
    "河湖长制年度任务",
    "招商引资项目落地",
    "养老服务设施建设",
    "数字政府平台整合",
];

const DONE: &[&str] = &[
    "已召开专题推进会，明确责任分工和时间节点。",
    "完成现场踏勘和方案编制，正在履行审批程序。",
    "已完成年度目标任务的六成，资金已拨付到位。",
    "施工单位已进场，主体工程按计划推进。",
    "已完成初步验收，正在整理归档材料。",
    "组织开展督导检查，发现问题已逐项整改。",
];

/// A day of `year` (day 0 = 1 January, clamped to 31 December).
fn day_of(year: i64, day: usize) -> Option<jiff::civil::Date> {
    let year = i16::try_from(year).ok()?;
    let first = jiff::civil::Date::new(year, 1, 1).ok()?;
    let day = i64::try_from(day.min(364)).ok()?;
    first.checked_add(jiff::Span::new().days(day)).ok()
}

/// Beijing midnight of a day, in unix ms.
fn day_ms(day: jiff::civil::Date) -> i64 {
    day.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

impl Store {
    /// Adds five ledger years (2022–2026) of items spread over the active units, each with a
    /// lead unit and 0–2 co-units, deadlines (dates or monthly reports), states (past years
    /// mostly closed; the current year a mix, some overdue), history, and about 12 progress
    /// reports per item. Written as multi-row INSERTs, one transaction and one audit event per
    /// batch. Past years' ledgers are closed at the end.
    pub async fn generate_items(
        &self,
        admin: SysAdmin<'_>,
        today: jiff::civil::Date,
        progress: ItemProgress<'_>,
    ) -> Result<ItemCounts> {
        let units: Vec<i64> =
            sqlx::query("SELECT id FROM units WHERE status = 'active' ORDER BY id")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
        if units.is_empty() {
            return Err(Error::Internal("没有单位，无法生成事项".to_owned()));
        }
        let first_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM items")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        let now = now_ms();
        // Open every year being written (a closed ledger refuses items); past years are closed
        // again at the end.
        {
            let mut w = self.write().await?;
            for year in ITEM_YEARS {
                sqlx::query(
                    "INSERT INTO ledgers (year, opened_at, opened_by) VALUES ($1, $2, 'gen-data')                      ON CONFLICT (year) DO NOTHING",
                )
                .bind(year)
                .bind(now)
                .execute(&mut *w.tx)
                .await?;
                sqlx::query("UPDATE ledgers SET status = 'open', closed_at = NULL WHERE year = $1")
                    .bind(year)
                    .execute(&mut *w.tx)
                    .await?;
            }
            w.commit().await?;
        }
        let mut rng = Rng(0x5EED_2026 ^ u64::try_from(first_id).unwrap_or(0));
        let mut counts = ItemCounts::default();
        let mut next_id = first_id;
        let mut year = *ITEM_YEARS.start();
        let mut group: Option<i64> = None;
        let mut measure = 0usize;
        while year <= *ITEM_YEARS.end() {
            let mut w = self.write().await?;
            let conn: &mut sqlx::AnyConnection = &mut w.tx;
            let mut items = Bulk::new(
                "INSERT INTO items (id, ledger_year, parent_id, is_group, seq, category, title, \
                 content, urgency, lead_unit_id, leader_text, person_text, deadline_text, \
                 deadline_kind, due_date, cadence, state, assigned_at, closed_at, created_at, \
                 updated_at)",
            );
            let mut item_units = Bulk::new(
                "INSERT INTO item_units (item_id, unit_id, role, acknowledged_at, last_report_at)",
            );
            let mut reports = Bulk::new(
                "INSERT INTO progress_reports (item_id, unit_id, author_name, reported_at, done, \
                 problems, coordination, next_steps, percent)",
            );
            let mut history = Bulk::new(
                "INSERT INTO item_history (item_id, action, actor_name, unit_id, from_state, \
                 to_state, note, at)",
            );
            let mut in_batch = 0usize;
            while in_batch < ITEMS_PER_BATCH && year <= *ITEM_YEARS.end() {
                let current = year == i64::from(today.year());
                let year_start = day_of(year, 0).unwrap_or(today);
                if measure.is_multiple_of(MEASURES_PER_GROUP) {
                    // A 重点任务 group for the next measures.
                    let id = next_id;
                    next_id += 1;
                    let category = CATEGORIES[rng.below(CATEGORIES.len())];
                    let group_title = format!(
                        "{}{}（{}年第{}项）",
                        VERBS[rng.below(VERBS.len())],
                        OBJECTS[rng.below(OBJECTS.len())],
                        year,
                        measure / MEASURES_PER_GROUP + 1
                    );
                    let created = day_ms(year_start);
                    items
                        .push(format!(
                                "({id},{year},NULL,1,{},{},{},'','normal',NULL,'','','','none',NULL,NULL,'registered',NULL,NULL,{created},{created})",
                                lit(&(measure / MEASURES_PER_GROUP + 1).to_string()),
                                lit(category),
                                lit(&group_title)
                            ));
                    group = Some(id);
                    counts.groups += 1;
                }
                let id = next_id;
                next_id += 1;
                let seq = format!(
                    "{}.{}",
                    measure / MEASURES_PER_GROUP + 1,
                    measure % MEASURES_PER_GROUP + 1
                );
                // Some units are much busier than others (财政局, 发改局 …).
                let lead = if rng.chance(15) {
                    units[rng.below(units.len().min(10))]
                } else {
                    units[rng.below(units.len())]
                };
                let mut co: Vec<i64> = Vec::new();
                for _ in 0..rng.below(3) {
                    let u = units[rng.below(units.len())];
                    if u != lead && !co.contains(&u) {
                        co.push(u);
                    }
                }
                let assigned_day = rng.below(60);
                let assigned = day_of(year, assigned_day).unwrap_or(year_start);
                let recurring = rng.chance(15);
                let due = if recurring {
                    None
                } else {
                    day_of(year, 90 + rng.below(275))
                };
                let (deadline_text, kind, cadence) = match due {
                    Some(d) => (
                        format!("{}年{}月{}日前完成", d.year(), d.month(), d.day()),
                        "date",
                        None,
                    ),
                    None => (
                        "每月25日前报送进展".to_owned(),
                        "recurring",
                        Some("monthly:25"),
                    ),
                };
                // Past years: nearly all closed. This year: closed or open by how far along.
                let state = if !current {
                    if rng.chance(96) {
                        "closed"
                    } else if rng.chance(50) {
                        "cancelled"
                    } else {
                        "in_progress"
                    }
                } else {
                    let past_due = due.is_some_and(|d| d < today);
                    let r = rng.below(100);
                    if past_due {
                        // Most past-due items are closed; about one in six is overdue.
                        match r {
                            0..=82 => "closed",
                            83..=94 => "in_progress",
                            95..=97 => "closure_requested",
                            _ => "assigned",
                        }
                    } else {
                        match r {
                            0..=24 => "closed",
                            25..=84 => "in_progress",
                            85..=92 => "assigned",
                            93..=96 => "closure_requested",
                            _ => "registered",
                        }
                    }
                };
                let assigned_ms = day_ms(assigned) + 9 * 3_600_000;
                let end = match (state, due) {
                    ("closed", Some(d)) => d.min(today),
                    ("closed", None) => day_of(year, 364).unwrap_or(today).min(today),
                    _ => {
                        if current {
                            today
                        } else {
                            day_of(year, 364).unwrap_or(today)
                        }
                    }
                };
                let closed_ms = (state == "closed").then(|| day_ms(end) + 17 * 3_600_000);
                let urgency = if rng.chance(8) { "urgent" } else { "normal" };
                let title = format!(
                    "{}{}第{}阶段任务（{}）",
                    VERBS[rng.below(VERBS.len())],
                    OBJECTS[rng.below(OBJECTS.len())],
                    measure % MEASURES_PER_GROUP + 1,
                    seq
                );
                let registered = state == "registered";
                items
                    .push(format!(
                            "({id},{year},{},0,{},{},{},'','{urgency}',{lead},'县政府分管领导','经办人',{},'{kind}',{},{},'{state}',{},{},{assigned_ms},{assigned_ms})",
                            opt_num(group),
                            lit(&seq),
                            lit(CATEGORIES[measure % CATEGORIES.len()]),
                            lit(&title),
                            lit(&deadline_text),
                            opt_lit(due.map(|d| d.to_string()).as_deref()),
                            opt_lit(cadence),
                            if registered { "NULL".to_owned() } else { assigned_ms.to_string() },
                            opt_num(closed_ms)
                        ));
                // Progress reports, about 12 per item (none before assignment), spread from
                // assignment to the end date, mostly by the lead unit.
                let mut last: HashMap<i64, i64> = HashMap::new();
                if !registered {
                    let n = 6 + rng.below(13);
                    let span = (day_ms(end) - assigned_ms).max(86_400_000);
                    for k in 0..n {
                        let unit = if co.is_empty() || rng.chance(75) {
                            lead
                        } else {
                            co[rng.below(co.len())]
                        };
                        let step = span / i64::try_from(n).unwrap_or(1);
                        let at = assigned_ms
                            + step * i64::try_from(k).unwrap_or(0)
                            + i64::try_from(rng.below(8 * 3_600_000)).unwrap_or(0);
                        let coordination = if k + 1 == n && rng.chance(3) {
                            "需县领导协调用地指标"
                        } else {
                            ""
                        };
                        let percent = i64::try_from((k + 1) * 100 / n).unwrap_or(100);
                        reports.push(format!(
                            "({id},{unit},'联络员',{at},{},'',{},'下一步继续推进',{percent})",
                            lit(DONE[rng.below(DONE.len())]),
                            lit(coordination)
                        ));
                        let slot = last.entry(unit).or_insert(at);
                        *slot = (*slot).max(at);
                    }
                }
                let ack = if registered || (state == "assigned" && rng.chance(50)) {
                    "NULL".to_owned()
                } else {
                    (assigned_ms + 3_600_000).to_string()
                };
                item_units.push(format!(
                    "({id},{lead},'lead',{ack},{})",
                    opt_num(last.get(&lead).copied())
                ));
                for c in &co {
                    item_units.push(format!(
                        "({id},{c},'co',{ack},{})",
                        opt_num(last.get(c).copied())
                    ));
                }
                counts.item_units += 1 + co.len();
                history.push(format!(
                    "({id},'register','督查室',NULL,NULL,'registered','',{assigned_ms})"
                ));
                if !registered {
                    history.push(format!(
                        "({id},'assign','督查室',NULL,'registered','assigned','',{})",
                        assigned_ms + 60_000
                    ));
                }
                if let Some(at) = closed_ms {
                    history
                        .push(format!("({id},'approve_closure','督查室',NULL,'closure_requested','closed','',{at})"));
                }
                if items.full() || item_units.full() || reports.full() || history.full() {
                    // Parents first: the rows below refer to these items.
                    items.flush(conn).await?;
                    item_units.flush(conn).await?;
                    reports.flush(conn).await?;
                    history.flush(conn).await?;
                }
                counts.items += 1;
                in_batch += 1;
                measure += 1;
                if measure == MEASURES_PER_YEAR {
                    measure = 0;
                    group = None;
                    year += 1;
                }
            }
            items.flush(conn).await?;
            item_units.flush(conn).await?;
            reports.flush(conn).await?;
            history.flush(conn).await?;
            counts.reports += reports.written;
            counts.history += history.written;
            w.audit(
                admin.viewer(),
                AuditCode::DataGenerated,
                "items",
                None,
                Some(json!({ "items": counts.items, "reports": counts.reports, "at": now_ms() })),
            )
            .await?;
            w.commit().await?;
            progress(counts.items + counts.groups, counts.reports);
        }
        let mut w = self.write().await?;
        if self.backend() == crate::db::Backend::Postgres {
            for table in ["items", "progress_reports", "item_history"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )))
                .execute(&mut *w.tx)
                .await?;
            }
        }
        for year in ITEM_YEARS.filter(|y| *y < i64::from(today.year())) {
            sqlx::query(
                "UPDATE ledgers SET status = 'closed', closed_at = $1, closed_by = 'gen-data', \
                 close_mode = 'conclude' WHERE year = $2",
            )
            .bind(now)
            .bind(year)
            .execute(&mut *w.tx)
            .await?;
        }
        // The batches wrote rows in bulk, bypassing the per-item tallies: count them once here.
        crate::tallies::rebuild(&mut w.tx).await?;
        w.audit(
            admin.viewer(),
            AuditCode::DataGenerated,
            "items",
            None,
            Some(json!({ "groups": counts.groups, "items": counts.items, "reports": counts.reports })),
        )
        .await?;
        w.commit().await?;
        Ok(counts)
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
