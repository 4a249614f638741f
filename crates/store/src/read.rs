//! The read path of pages: a query's rows as plain values, read on SQLite through rusqlite on
//! the calling thread, and on PostgreSQL through the sqlx pool.
//!
//! Why a second way to read SQLite: sqlx runs each SQLite connection on a worker thread and
//! hands every row across a channel, so a page of a dozen statements and a few hundred rows
//! costs hundreds of thread wake-ups. Measured at city scale, that hand-off, not SQLite, was
//! most of the 3 ms of CPU a ledger page took (docs/benchmarks.md). Page reads are short
//! index lookups, tens of microseconds each, so they run where the request runs, on
//! connections of their own (WAL: readers never wait for the writer). The query text is the
//! same for both engines (`$1…$n`, bound by name), so nothing is written twice. Writes keep
//! going through sqlx in one transaction with their audit event (`Write`).

use crate::error::{Error, Result};
use sqlx::{Column, Row as _, ValueRef};
use std::sync::{Arc, Mutex};

/// A value bound to a `$n` placeholder.
#[derive(Clone, Debug)]
pub(crate) enum Bind {
    I(i64),
    S(String),
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// One row: its values in column order, the names shared by every row of the query.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

/// A Rust type a column can be read as.
pub(crate) trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Option<f64> {
        match value {
            Value::Real(x) => Some(*x),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<String> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Option<Vec<u8>> {
        match value {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Row {
    /// The column `name` as a `T`; a missing column or another type is an internal error
    /// (the query and the code that reads it disagree), never a panic.
    pub(crate) fn try_get<T: FromValue>(&self, name: &str) -> Result<T> {
        let index = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::Internal(format!("查询结果缺少列 {name}")))?;
        let value = self.values.get(index).unwrap_or(&Value::Null);
        T::from_value(value).ok_or_else(|| {
            Error::Internal(format!(
                "列 {name} 的类型不符：{} 不能读作 {}",
                value.kind(),
                std::any::type_name::<T>()
            ))
        })
    }
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "整数",
            Value::Real(_) => "小数",
            Value::Text(_) => "文本",
            Value::Blob(_) => "二进制",
        }
    }
}

/// SQLite connections for reading, kept for reuse. A connection is taken only for the span of
/// one synchronous read, so there are never more than the threads that read at once.
#[derive(Debug)]
pub(crate) struct Readers {
    path: String,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// Idle connections kept; more may be open for a moment when more threads read at once.
const IDLE_READERS: usize = 8;

impl Readers {
    /// Readers of the SQLite database a `sqlite:` URL names (`sqlite://PATH?mode=rwc`).
    pub(crate) fn for_url(url: &str) -> Readers {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = rest.split('?').next().unwrap_or(rest).to_owned();
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        // Read-write open (a WAL reader may need to write the -shm index), but `query_only`
        // refuses any statement that would change the database.
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // 16 MiB of page cache each (2 MiB by default): the pages a busy unit's list touches
        // stay in memory instead of being read from the OS again. Readers are few (one per
        // thread reading at once), so this stays well within the memory budget.
        conn.execute_batch("PRAGMA query_only = 1; PRAGMA cache_size = -16384")?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(conn)
    }

    fn take(&self) -> Result<rusqlite::Connection> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => self.open(),
        }
    }

    fn give_back(&self, conn: rusqlite::Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_READERS
        {
            idle.push(conn);
        }
    }

    /// Runs one query and collects its rows.
    fn rows(&self, sql: &str, binds: &[Bind]) -> Result<Vec<Row>> {
        let conn = self.take()?;
        let outcome = run_sqlite(&conn, sql, binds);
        // A connection whose statement failed may be in any state: close it.
        if outcome.is_ok() {
            self.give_back(conn);
        }
        outcome
    }
}

fn run_sqlite(conn: &rusqlite::Connection, sql: &str, binds: &[Bind]) -> Result<Vec<Row>> {
    use rusqlite::types::ValueRef as Lite;
    let mut stmt = conn.prepare_cached(sql)?;
    for (k, bind) in binds.iter().enumerate() {
        // Bound by name: `$2` may come before `$1` in the text, and a name may recur.
        let Some(index) = stmt.parameter_index(&format!("${}", k + 1))? else {
            continue;
        };
        match bind {
            Bind::I(v) => stmt.raw_bind_parameter(index, v)?,
            Bind::S(v) => stmt.raw_bind_parameter(index, v)?,
        }
    }
    let names: Arc<[String]> = stmt
        .column_names()
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let width = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i)? {
                Lite::Null => Value::Null,
                Lite::Integer(n) => Value::Int(n),
                Lite::Real(x) => Value::Real(x),
                Lite::Text(t) => Value::Text(
                    String::from_utf8(t.to_vec())
                        .map_err(|_| Error::Internal("数据库中的文本不是 UTF-8".to_owned()))?,
                ),
                Lite::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row {
            names: names.clone(),
            values,
        });
    }
    Ok(out)
}

/// Converts sqlx's rows (PostgreSQL) to plain rows.
fn from_any(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Row>> {
    use sqlx::any::AnyTypeInfoKind as K;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let names: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    rows.iter()
        .map(|r| {
            let mut values = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                let raw = r.try_get_raw(i)?;
                let value = if raw.is_null() {
                    Value::Null
                } else {
                    match raw.type_info().kind() {
                        K::Null => Value::Null,
                        K::Bool => Value::Int(i64::from(r.try_get::<bool, _>(i)?)),
                        K::SmallInt => Value::Int(i64::from(r.try_get::<i16, _>(i)?)),
                        K::Integer => Value::Int(i64::from(r.try_get::<i32, _>(i)?)),
                        K::BigInt => Value::Int(r.try_get::<i64, _>(i)?),
                        K::Real => Value::Real(f64::from(r.try_get::<f32, _>(i)?)),
                        K::Double => Value::Real(r.try_get::<f64, _>(i)?),
                        K::Text => Value::Text(r.try_get::<String, _>(i)?),
                        K::Blob => Value::Blob(r.try_get::<Vec<u8>, _>(i)?),
                    }
                };
                values.push(value);
            }
            Ok(Row {
                names: names.clone(),
                values,
            })
        })
        .collect()
}

impl crate::Store {
    /// The rows of one read-only query (`$1…$n` bound in order).
    pub(crate) async fn read(&self, sql: &str, binds: &[Bind]) -> Result<Vec<Row>> {
        match self.readers() {
            Some(readers) => readers.rows(sql, binds),
            None => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                for b in binds {
                    q = match b {
                        Bind::I(v) => q.bind(*v),
                        Bind::S(v) => q.bind(v.clone()),
                    };
                }
                from_any(q.fetch_all(self.pool()).await?)
            }
        }
    }

    /// The first row of one read-only query, if any.
    pub(crate) async fn read_one(&self, sql: &str, binds: &[Bind]) -> Result<Option<Row>> {
        Ok(self.read(sql, binds).await?.into_iter().next())
    }

    /// One integer (a count or a sum) named `n`; no row reads as zero.
    pub(crate) async fn read_count(&self, sql: &str, binds: &[Bind]) -> Result<i64> {
        match self.read_one(sql, binds).await? {
            Some(row) => Ok(row.try_get::<Option<i64>>("n")?.unwrap_or(0)),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Row, Value};
    use std::sync::Arc;

    fn row() -> Row {
        let names: Arc<[String]> = ["id", "title", "done", "percent"]
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
        Row {
            names,
            values: vec![
                Value::Int(7),
                Value::Text("新建公办幼儿园2所".to_owned()),
                Value::Null,
                Value::Real(0.5),
            ],
        }
    }

    #[test]
    fn a_column_reads_as_its_own_type_and_null_as_none() {
        let row = row();
        assert_eq!(row.try_get::<i64>("id").ok(), Some(7));
        assert_eq!(
            row.try_get::<String>("title").ok().as_deref(),
            Some("新建公办幼儿园2所")
        );
        assert_eq!(row.try_get::<Option<i64>>("done").ok(), Some(None));
        assert_eq!(row.try_get::<Option<i64>>("id").ok(), Some(Some(7)));
        assert_eq!(
            row.try_get::<f64>("id").ok(),
            Some(7.0),
            "an integer widens"
        );
    }

    /// The error's message; empty when the read succeeded (the assertions then fail).
    fn message<T>(outcome: crate::error::Result<T>) -> String {
        outcome.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn another_type_or_a_missing_column_is_an_error_naming_it_not_a_panic() {
        let row = row();
        let wrong = message(row.try_get::<i64>("title"));
        assert!(wrong.contains("title") && wrong.contains("文本"), "{wrong}");
        let null = message(row.try_get::<String>("done"));
        assert!(null.contains("NULL"), "{null}");
        assert!(
            row.try_get::<i64>("percent").is_err(),
            "a real is not narrowed"
        );
        let missing = message(row.try_get::<i64>("nope"));
        assert!(missing.contains("nope"), "{missing}");
    }
}
