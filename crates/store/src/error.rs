//! The store's error type. It knows nothing of HTTP: the web layer maps each variant to a status
//! code and the command line to an exit code, each in one place.
//!
//! Use `Error::NotFound` for an id that names nothing, `Invalid` for input that fails a rule
//! (each problem names its field), `Rows` for a refused import (each problem names its row and
//! column), `StaleVersion` for an edit made on an out-of-date copy, `Forbidden` for a missing
//! permission, and let `?` turn every `sqlx::Error` into `Database`.

use zhongshu_domain::access::Forbidden;
use zhongshu_domain::org::RowProblem;

/// A problem with one field of a form or request, in Chinese.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named thing does not exist (or the viewer may not know it does).
    #[error("{0}不存在")]
    NotFound(&'static str),
    /// The input breaks a rule; every problem is listed.
    #[error("{}", join_fields(.0))]
    Invalid(Vec<FieldProblem>),
    /// An import was refused; every problem is listed by row and column.
    #[error("{}", join_rows(.0))]
    Rows(Vec<RowProblem>),
    /// Someone else changed the record since it was read.
    #[error("已被他人修改，请刷新后重试")]
    StaleVersion,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Sign-in refused; the message is safe to show.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("数据库错误")]
    Database(#[source] sqlx::Error),
    #[error("内部错误：{0}")]
    Internal(String),
}

fn join_fields(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| p.message.clone())
        .collect::<Vec<_>>()
        .join("；")
}

fn join_rows(problems: &[RowProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// One field problem.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid(vec![FieldProblem::new(field, message)])
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        // The read path only reads: any failure there is ours or the disk's.
        tracing::error!(error = %err, "SQLite read failed");
        Error::Internal("数据库读取失败".to_owned())
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Error {
        // A unique violation that slipped past the friendly pre-checks (two people at once)
        // becomes a field conflict rather than a 500.
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            let (field, message) = if text.contains("username") {
                ("username", "用户名已存在")
            } else if text.contains("units") {
                ("name", "同一上级单位下已有同名单位")
            } else {
                ("", "记录已存在")
            };
            return Error::invalid(field, message);
        }
        Error::Database(err)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
