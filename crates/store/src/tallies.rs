//! Tallies: how many items of each ledger year are in each state, in each supervisor queue, and
//! (open ones) due on each day, kept by the transaction that changes the items.
//!
//! The ledger page of a city year (50,000 items) shows its total, four queue counts and the red
//! and yellow counts; counting them afresh costs tens of milliseconds per request. Instead each
//! write that changes an item calls [`crate::Write::item_changed`], and just before it commits
//! [`refresh`] re-derives the item's row in `item_counted` and moves the tallies by the
//! difference. Red and yellow depend on the day as well: they are sums over the due-date tallies
//! before and after it (a few hundred rows), so they are exact on any day without a cache.
//! [`crate::Store::check_tallies`] compares every tally with a fresh count.

use crate::Store;
use crate::bulk::{self, Arg};
use crate::error::Result;
use crate::supervision::{Bind, Queue};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use zhongshu_domain::supervision::ItemState;

/// The tally row that counts the writes to items (under a year no ledger has).
const GENERATION: &str = "generation";
const GENERATION_YEAR: i64 = 0;

/// How many transactions have changed items so far: equal numbers, equal items.
pub(crate) async fn generation(pool: &sqlx::AnyPool) -> Result<i64> {
    let row = sqlx::query("SELECT n FROM item_tallies WHERE ledger_year = $1 AND name = $2")
        .bind(GENERATION_YEAR)
        .bind(GENERATION)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("n")?,
        None => 0,
    })
}

/// An item's counted row, derived from its current rows (the queue rules are those of
/// [`Queue::condition`]). Bound: `$1` the item id.
const COUNTED_ONE: &str = "SELECT i.id, i.ledger_year, i.state, \
    CASE WHEN i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested') \
        AND NOT (i.urgency = 'critical' AND i.due_at IS NOT NULL) THEN i.due_date END AS due_date, \
    CASE WHEN i.state = 'assigned' AND EXISTS (SELECT 1 FROM item_units qa \
        WHERE qa.item_id = i.id AND qa.role = 'lead' AND qa.acknowledged_at IS NULL) \
        THEN 1 ELSE 0 END AS unacknowledged, \
    CASE WHEN i.state IN ('assigned', 'in_progress', 'closure_requested') \
        AND EXISTS (SELECT 1 FROM progress_reports qr WHERE qr.item_id = i.id \
        AND qr.coordination <> '' AND qr.id = (SELECT MAX(qm.id) FROM progress_reports qm \
        WHERE qm.item_id = i.id AND qm.unit_id = qr.unit_id)) THEN 1 ELSE 0 END AS coordination, \
    CASE WHEN EXISTS (SELECT 1 FROM item_deadline_changes qe WHERE qe.item_id = i.id \
        AND qe.status = 'pending') THEN 1 ELSE 0 END AS extension \
    FROM items i WHERE i.id = $1 AND i.is_group = 0";

/// Unit rows whose `item_open` disagrees with their item. Bound: nothing.
const OPEN_MISMATCH: &str = "SELECT COUNT(*) AS n FROM item_units iu JOIN items i \
    ON i.id = iu.item_id WHERE iu.item_open <> CASE WHEN i.is_group = 0 AND i.state IN \
    ('registered', 'assigned', 'in_progress', 'closure_requested') THEN 1 ELSE 0 END";

/// What one item is counted as.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Counted {
    ledger_year: i64,
    state: String,
    due_date: Option<String>,
    unacknowledged: bool,
    coordination: bool,
    extension: bool,
}

impl Counted {
    fn from_row(r: &sqlx::any::AnyRow) -> Result<Counted> {
        Ok(Counted {
            ledger_year: r.try_get("ledger_year")?,
            state: r.try_get("state")?,
            due_date: r.try_get("due_date")?,
            unacknowledged: r.try_get::<i64, _>("unacknowledged")? != 0,
            coordination: r.try_get::<i64, _>("coordination")? != 0,
            extension: r.try_get::<i64, _>("extension")? != 0,
        })
    }

    /// The tally names this item adds one to.
    fn names(&self) -> Vec<String> {
        let mut names = vec![format!("state:{}", self.state)];
        for (on, queue) in [
            (self.unacknowledged, Queue::Unacknowledged),
            (self.coordination, Queue::Coordination),
            (self.extension, Queue::Extension),
        ] {
            if on {
                names.push(format!("queue:{}", queue.code()));
            }
        }
        names
    }
}

#[derive(Default)]
struct Deltas {
    named: BTreeMap<(i64, String), i64>,
    due: BTreeMap<(i64, String, String), i64>,
}

impl Deltas {
    fn add(&mut self, c: &Counted, by: i64) {
        for name in c.names() {
            *self.named.entry((c.ledger_year, name)).or_default() += by;
        }
        if let Some(due) = &c.due_date {
            *self
                .due
                .entry((c.ledger_year, due.clone(), c.state.clone()))
                .or_default() += by;
        }
    }
}

/// Items refreshed per round of statements: their ids are written into the statements' text.
const REFRESH_CHUNK: usize = 500;

/// Re-derives the counted rows of these items and moves the tallies by the difference, inside
/// the caller's transaction. A few statements per 500 items, not per item: an import changes
/// ten thousand at once.
pub(crate) async fn refresh(
    conn: &mut sqlx::AnyConnection,
    items: &[i64],
    lock_rows: bool,
) -> Result<()> {
    let mut deltas = Deltas::default();
    for chunk in items.chunks(REFRESH_CHUNK) {
        let mut sorted = chunk.to_vec();
        sorted.sort_unstable();
        let list = bulk::id_list(&sorted);
        // On PostgreSQL take the items' row locks first, in id order: two transactions
        // refreshing one item then take turns, and the second reads what the first committed.
        // SQLite has one writer at a time and needs no lock.
        if lock_rows {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM items WHERE id IN ({list}) ORDER BY id FOR UPDATE"
            )))
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        }
        let mut old: HashMap<i64, Counted> = HashMap::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT item_id AS id, ledger_year, state, due_date, unacknowledged, coordination, \
             extension FROM item_counted WHERE item_id IN ({list})"
        )))
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?
        {
            old.insert(r.try_get("id")?, Counted::from_row(&r)?);
        }
        let mut new: HashMap<i64, Counted> = HashMap::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(
            COUNTED_ONE.replace("i.id = $1", &format!("i.id IN ({list})")),
        ))
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?
        {
            new.insert(r.try_get("id")?, Counted::from_row(&r)?);
        }
        // The unit rows say whether the item is open (a unit's open items are found by them).
        // Set on every changed item, not only when its state moved: a unit added or reassigned
        // gets a new row, and the update touches no row when nothing differs.
        let (open, shut): (Vec<i64>, Vec<i64>) = sorted.iter().partition(|id| {
            new.get(id)
                .and_then(|c| ItemState::from_code(&c.state))
                .is_some_and(|s| s.is_open())
        });
        for (ids, flag) in [(open, 1), (shut, 0)] {
            if !ids.is_empty() {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE item_units SET item_open = {flag} WHERE item_id IN ({}) \
                     AND item_open <> {flag}",
                    bulk::id_list(&ids)
                )))
                .persistent(false)
                .execute(&mut *conn)
                .await?;
            }
        }
        // Most writes (a progress report) leave the item counted as it was.
        let changed: Vec<i64> = sorted
            .iter()
            .copied()
            .filter(|id| old.get(id) != new.get(id))
            .collect();
        let gone: Vec<i64> = changed
            .iter()
            .copied()
            .filter(|id| old.contains_key(id))
            .collect();
        if !gone.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM item_counted WHERE item_id IN ({})",
                bulk::id_list(&gone)
            )))
            .persistent(false)
            .execute(&mut *conn)
            .await?;
        }
        let mut rows = Vec::new();
        for id in changed {
            if let Some(old) = old.get(&id) {
                deltas.add(old, -1);
            }
            if let Some(new) = new.get(&id) {
                deltas.add(new, 1);
                rows.push(vec![
                    Arg::from(id),
                    new.ledger_year.into(),
                    new.state.clone().into(),
                    new.due_date.clone().into(),
                    i64::from(new.unacknowledged).into(),
                    i64::from(new.coordination).into(),
                    i64::from(new.extension).into(),
                ]);
            }
        }
        bulk::insert(
            conn,
            "INSERT INTO item_counted (item_id, ledger_year, state, due_date, unacknowledged, \
             coordination, extension)",
            "",
            &rows,
        )
        .await?;
    }
    // Any change to items moves the generation, so a cache of something computed from items
    // (the board) knows it is stale, on every node.
    deltas
        .named
        .insert((GENERATION_YEAR, GENERATION.to_owned()), 1);
    // In key order, so that concurrent writers on PostgreSQL lock tally rows in one order.
    for ((year, name), by) in deltas.named {
        if by != 0 {
            sqlx::query(
                "INSERT INTO item_tallies (ledger_year, name, n) VALUES ($1, $2, $3) \
                 ON CONFLICT (ledger_year, name) DO UPDATE SET n = item_tallies.n + excluded.n",
            )
            .bind(year)
            .bind(name)
            .bind(by)
            .execute(&mut *conn)
            .await?;
        }
    }
    for ((year, due, state), by) in deltas.due {
        if by != 0 {
            sqlx::query(
                "INSERT INTO item_due_tallies (ledger_year, due_date, state, n) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (ledger_year, due_date, state) \
                 DO UPDATE SET n = item_due_tallies.n + excluded.n",
            )
            .bind(year)
            .bind(due)
            .bind(state)
            .bind(by)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The fresh counts, derived from the items themselves; `refresh` must keep the tables equal to
/// these. Bound: nothing.
const FRESH_NAMED: &str = "SELECT ledger_year, name, n FROM ( \
    SELECT i.ledger_year, 'state:' || i.state AS name, COUNT(*) AS n FROM items i \
        WHERE i.is_group = 0 GROUP BY i.ledger_year, i.state) f WHERE n > 0";

impl Store {
    /// Rebuilds every tally from the items, in one transaction: after bulk generation, or as a
    /// repair if [`Store::check_tallies`] ever finds a difference.
    pub async fn rebuild_tallies(&self) -> Result<()> {
        let mut w = self.write().await?;
        rebuild(&mut w.tx).await?;
        w.commit().await
    }

    /// Compares every tally with a fresh count of the items and returns the differences, one
    /// line each (empty when all agree). The queue counts are compared with the queue
    /// conditions of the ledger list, the due-date tallies with the red count of every day.
    pub async fn check_tallies(&self) -> Result<Vec<String>> {
        let mut fresh: BTreeMap<(i64, String), i64> = BTreeMap::new();
        for r in sqlx::query(FRESH_NAMED).fetch_all(self.pool()).await? {
            fresh.insert(
                (r.try_get("ledger_year")?, r.try_get("name")?),
                r.try_get("n")?,
            );
        }
        for queue in [Queue::Unacknowledged, Queue::Coordination, Queue::Extension] {
            let sql = format!(
                "SELECT i.ledger_year, COUNT(*) AS n FROM items i WHERE i.is_group = 0 {} \
                 GROUP BY i.ledger_year",
                queue.condition()
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(self.pool())
                .await?
            {
                fresh.insert(
                    (r.try_get("ledger_year")?, format!("queue:{}", queue.code())),
                    r.try_get("n")?,
                );
            }
        }
        let mut kept: BTreeMap<(i64, String), i64> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT ledger_year, name, n FROM item_tallies WHERE n <> 0 AND ledger_year <> $1",
        )
        .bind(GENERATION_YEAR)
        .fetch_all(self.pool())
        .await?
        {
            kept.insert(
                (r.try_get("ledger_year")?, r.try_get("name")?),
                r.try_get("n")?,
            );
        }
        let mut differences = compare(&fresh, &kept, |(year, name)| format!("{year} {name}"));
        let mut fresh_due: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT i.ledger_year, i.due_date, i.state, COUNT(*) AS n FROM items i \
             WHERE i.is_group = 0 AND i.due_date IS NOT NULL \
             AND i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested') \
             AND NOT (i.urgency = 'critical' AND i.due_at IS NOT NULL) \
             GROUP BY i.ledger_year, i.due_date, i.state",
        )
        .fetch_all(self.pool())
        .await?
        {
            fresh_due.insert(
                (
                    r.try_get("ledger_year")?,
                    r.try_get("due_date")?,
                    r.try_get("state")?,
                ),
                r.try_get("n")?,
            );
        }
        let mut kept_due: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
        for r in
            sqlx::query("SELECT ledger_year, due_date, state, n FROM item_due_tallies WHERE n <> 0")
                .fetch_all(self.pool())
                .await?
        {
            kept_due.insert(
                (
                    r.try_get("ledger_year")?,
                    r.try_get("due_date")?,
                    r.try_get("state")?,
                ),
                r.try_get("n")?,
            );
        }
        differences.extend(compare(&fresh_due, &kept_due, |(year, due, state)| {
            format!("{year} {due} {state}")
        }));
        let wrong: i64 = sqlx::query(OPEN_MISMATCH)
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        if wrong != 0 {
            differences.push(format!("责任单位的在办标记：{wrong} 条与事项状态不符"));
        }
        Ok(differences)
    }
}

/// One line per key whose kept count differs from the fresh one (a missing key counts 0).
fn compare<K: Ord>(
    fresh: &BTreeMap<K, i64>,
    kept: &BTreeMap<K, i64>,
    label: impl Fn(&K) -> String,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&K> = fresh.keys().chain(kept.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let f = fresh.get(key).copied().unwrap_or(0);
            let k = kept.get(key).copied().unwrap_or(0);
            (f != k).then(|| format!("{}: 计数 {k}，实际 {f}", label(key)))
        })
        .collect()
}

/// Rebuilds every tally from the items inside the caller's transaction.
pub(crate) async fn rebuild(conn: &mut sqlx::AnyConnection) -> Result<()> {
    for table in ["item_due_tallies", "item_counted"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM item_tallies WHERE ledger_year <> $1")
        .bind(GENERATION_YEAR)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO item_tallies (ledger_year, name, n) VALUES ($1, $2, 1) \
         ON CONFLICT (ledger_year, name) DO UPDATE SET n = item_tallies.n + 1",
    )
    .bind(GENERATION_YEAR)
    .bind(GENERATION)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE item_units SET item_open = CASE WHEN item_id IN (SELECT i.id FROM items i \
         WHERE i.is_group = 0 AND i.state IN \
         ('registered', 'assigned', 'in_progress', 'closure_requested')) THEN 1 ELSE 0 END",
    )
    .execute(&mut *conn)
    .await?;
    let all = COUNTED_ONE.replace("i.id = $1 AND ", "");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO item_counted (item_id, ledger_year, state, due_date, unacknowledged, \
         coordination, extension) {all}"
    )))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO item_tallies (ledger_year, name, n) SELECT ledger_year, \
         'state:' || state, COUNT(*) FROM item_counted GROUP BY ledger_year, state",
    )
    .execute(&mut *conn)
    .await?;
    for queue in ["unacknowledged", "coordination", "extension"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO item_tallies (ledger_year, name, n) SELECT ledger_year, \
             'queue:{queue}', COUNT(*) FROM item_counted WHERE {queue} = 1 \
             GROUP BY ledger_year"
        )))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO item_due_tallies (ledger_year, due_date, state, n) SELECT ledger_year, \
         due_date, state, COUNT(*) FROM item_counted WHERE due_date IS NOT NULL \
         GROUP BY ledger_year, due_date, state",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Tally sums a store keeps, by statement, values and items generation (filters × days; all
/// dropped when full). A ledger page reads four or five sums (its total, the queue counts, red
/// and yellow: a fifth of its CPU at city scale); they change only when items do, and every
/// such write moves the generation, on every node. The date is in the values (red and yellow
/// depend on it), so a kept sum is exact when the date changes too.
pub(crate) const KEPT_SUMS: usize = 512;

/// The items generation, read on the pages' read path (see [`generation`]).
pub(crate) async fn current_generation(store: &Store) -> Result<i64> {
    store
        .read_count(
            "SELECT n FROM item_tallies WHERE ledger_year = $1 AND name = $2",
            &[Bind::I(GENERATION_YEAR), Bind::S(GENERATION.to_owned())],
        )
        .await
}

/// The rows of a tally statement, from the cache while the generation has not moved.
async fn cached_rows(store: &Store, sql: &str, binds: &[Bind]) -> Result<Vec<crate::read::Row>> {
    // The generation first: rows read after it are at least that new, so a row kept under a
    // generation is never older than it.
    let generation = current_generation(store).await?;
    let key = format!("{sql}|{binds:?}|{generation}");
    let cache = &store.inner.sum_cache;
    if let Some(rows) = cache.get(&key) {
        return Ok(rows.as_ref().clone());
    }
    let rows = store.read(sql, binds).await?;
    cache.put(key, Arc::new(rows.clone()));
    Ok(rows)
}

/// A single `n` of a tally statement, as [`cached_rows`] reads it.
async fn cached_count(store: &Store, sql: &str, binds: &[Bind]) -> Result<i64> {
    Ok(match cached_rows(store, sql, binds).await?.first() {
        Some(row) => row.try_get::<Option<i64>>("n")?.unwrap_or(0),
        None => 0,
    })
}

/// The sum of the named tallies (`name` exactly, or every name starting with `prefix` when
/// `name` ends with `%`) of one ledger year or of all.
pub(crate) async fn named_sum(store: &Store, year: Option<i64>, name: &str) -> Result<i64> {
    let op = if name.ends_with('%') { "LIKE" } else { "=" };
    let year_sql = if year.is_some() {
        " AND ledger_year = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM item_tallies \
         WHERE name {op} $1{year_sql}"
    );
    let mut binds = vec![Bind::S(name.to_owned())];
    binds.extend(year.map(Bind::I));
    cached_count(store, &sql, &binds).await
}

/// Several named tallies (exact names) of one ledger year or of all, in one query.
pub(crate) async fn named_sums(
    store: &Store,
    year: Option<i64>,
    names: &[&str],
) -> Result<std::collections::HashMap<String, i64>> {
    let list: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let mut sql = format!(
        "SELECT name, CAST(SUM(n) AS BIGINT) AS n FROM item_tallies WHERE name IN ({})",
        list.join(", ")
    );
    if year.is_some() {
        sql.push_str(&format!(" AND ledger_year = ${}", names.len() + 1));
    }
    sql.push_str(" GROUP BY name");
    let mut binds: Vec<Bind> = names.iter().map(|n| Bind::S((*n).to_owned())).collect();
    binds.extend(year.map(Bind::I));
    let mut sums = std::collections::HashMap::new();
    for r in cached_rows(store, &sql, &binds).await? {
        sums.insert(r.try_get("name")?, r.try_get("n")?);
    }
    Ok(sums)
}

/// How many open, non-特急 items (of one year or all, of one state or any) fall due from
/// `from` to `to` inclusive (either end open when `None`).
pub(crate) async fn due_sum(
    store: &Store,
    year: Option<i64>,
    state: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<i64> {
    let mut sql =
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM item_due_tallies WHERE 1 = 1"
            .to_owned();
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |sql: &mut String, cond: &str, b: Bind| {
        binds.push(b);
        sql.push_str(&format!(" AND {cond} ${}", binds.len()));
    };
    if let Some(year) = year {
        push(&mut sql, "ledger_year =", Bind::I(year));
    }
    if let Some(state) = state {
        push(&mut sql, "state =", Bind::S(state.to_owned()));
    }
    if let Some(from) = from {
        push(&mut sql, "due_date >=", Bind::S(from.to_owned()));
    }
    if let Some(to) = to {
        push(&mut sql, "due_date <=", Bind::S(to.to_owned()));
    }
    cached_count(store, &sql, &binds).await
}
