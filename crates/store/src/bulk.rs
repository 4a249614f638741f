//! Many rows in one statement: a large write (an import of 10,000 items, the tallies and search
//! entries it touches) as a few multi-row `INSERT … VALUES` statements instead of one statement
//! per row.
//!
//! Why: each statement sqlx runs on SQLite is handed to the connection's worker thread and back,
//! tens of microseconds whatever it does; an import of 10,000 rows one statement per row spent
//! most of its time in those hand-offs. On SQLite the placeholders are anonymous `?`: SQLite
//! looks a numbered `$n` up by walking the statement's list of names, once per value, so a
//! statement of thousands of `$n` values costs time quadratic in their number (measured: 74 % of
//! an import's CPU in `sqlite3_bind_parameter_name`). PostgreSQL numbers its parameters.

use crate::db::Backend;
use crate::error::{Error, Result};
use sqlx::any::AnyRow;
use std::fmt::Write as _;

/// Values per statement: well under SQLite's limit of 32,766 and PostgreSQL's of 65,535, and
/// large enough that a 10,000-row import is a handful of statements.
const MAX_VALUES: usize = 8_000;

/// One value of a row, with its type even when it is null (PostgreSQL needs the type).
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}

/// Which engine a connection talks to.
pub(crate) fn backend_of(conn: &sqlx::AnyConnection) -> Backend {
    if conn.backend_name() == "PostgreSQL" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Inserts `rows` (all of one width) as `head VALUES (…), (…) tail`, in as few statements as
/// the limits allow, and returns what `tail`'s `RETURNING` gives (in no particular order: map
/// returned rows by a key, never by position).
pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: &[Vec<Arg>],
) -> Result<Vec<AnyRow>> {
    insert_with(conn, head, tail, rows, |_, p| p).await
}

/// As [`insert`], with each placeholder passed through `wrap(column, placeholder)`: PostgreSQL's
/// search entries take `to_tsvector('simple', $n)`.
pub(crate) async fn insert_with(
    conn: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: &[Vec<Arg>],
    wrap: impl Fn(usize, String) -> String,
) -> Result<Vec<AnyRow>> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(Vec::new());
    };
    if width == 0 || rows.iter().any(|r| r.len() != width) {
        return Err(Error::Internal(format!("批量写入的行宽不一致：{head}")));
    }
    let backend = backend_of(conn);
    let mut out = Vec::new();
    for chunk in rows.chunks((MAX_VALUES / width).max(1)) {
        let sql = values_sql(backend, head, tail, width, chunk.len(), &wrap);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for row in chunk {
            for arg in row {
                q = match arg {
                    Arg::Int(v) => q.bind(*v),
                    Arg::Text(v) => q.bind(v.as_deref()),
                };
            }
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The statement text for `rows` rows of `width` values.
fn values_sql(
    backend: Backend,
    head: &str,
    tail: &str,
    width: usize,
    rows: usize,
    wrap: &impl Fn(usize, String) -> String,
) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 6 + 16);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0usize;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            let placeholder = match backend {
                Backend::Sqlite => "?".to_owned(),
                Backend::Postgres => format!("${n}"),
            };
            sql.push_str(&wrap(c, placeholder));
        }
        sql.push(')');
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    sql
}

/// `1, 2, 3` for an `IN (…)` list. Only for ids this process holds as integers: written into
/// the text, they cannot carry SQL, and a statement of thousands of them binds nothing.
pub(crate) fn id_list(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8);
    for (k, id) in ids.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{id}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_statements_use_anonymous_placeholders_and_postgres_numbers_them() {
        let p = |_: usize, p: String| p;
        assert_eq!(
            values_sql(Backend::Sqlite, "INSERT INTO t (a, b)", "", 2, 2, &p),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            values_sql(
                Backend::Postgres,
                "INSERT INTO t (a, b)",
                "RETURNING a",
                2,
                2,
                &p
            ),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING a"
        );
    }

    #[test]
    fn a_wrapped_column_wraps_only_its_placeholders() {
        let wrap = |c: usize, p: String| if c == 1 { format!("f({p})") } else { p };
        assert_eq!(
            values_sql(Backend::Postgres, "INSERT INTO t (a, b)", "", 2, 2, &wrap),
            "INSERT INTO t (a, b) VALUES ($1, f($2)), ($3, f($4))"
        );
    }

    #[test]
    fn an_id_list_is_the_ids_separated_by_commas() {
        assert_eq!(id_list(&[3, -1, 20]), "3, -1, 20");
        assert_eq!(id_list(&[]), "");
    }
}
