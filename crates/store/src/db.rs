//! Connection pool, migrations and write transactions: the one dialect seam.
//!
//! Both engines run the same query text through sqlx's Any driver. What differs lives here:
//! the migration tree, SQLite's per-connection pragmas, and how a write transaction begins
//! (`BEGIN IMMEDIATE` on SQLite, so concurrent writers queue on the lock instead of failing
//! when a read upgrades to a write).

use crate::error::{Error, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// Which engine a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::invalid(
                "database_url",
                "数据库地址须以 sqlite: 或 postgres:// 开头",
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Runs the embedded migrations on a dedicated connection, closed afterwards whatever happens:
/// on PostgreSQL a failed run keeps its advisory lock, which would block the next run forever if
/// the connection went back to a pool.
pub async fn migrate(url: &str) -> Result<()> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url)?;
    let mut conn = AnyConnection::connect(url).await?;
    let migrator = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let outcome = migrator.run(&mut conn).await;
    let _ = conn.close().await;
    outcome.map_err(|err| match err {
        sqlx::migrate::MigrateError::VersionMismatch(v) => Error::Internal(format!(
            "第{v}号数据库迁移在应用后被修改过，拒绝启动（迁移文件只能追加，不能修改）"
        )),
        other => Error::Internal(format!("数据库迁移失败：{other}")),
    })
}

/// Opens the pool; SQLite connections get WAL with `synchronous=FULL` (an acknowledged write
/// survives power loss), foreign keys and a busy timeout on every pooled connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url)?;
    let options = AnyConnectOptions::from_str(url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        // No ping on every checkout: on SQLite each one is a round trip to the connection's
        // worker thread, as costly as a small query, and pages run a dozen statements. A
        // connection that did break fails its statement and is dropped by the pool.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    // Checkpoints are the node's `checkpoint_wal` task's, not a writer's: a
                    // committing writer would copy the log into the database and fsync it
                    // while holding the writers' turn (hundreds of milliseconds after an
                    // import, and a p99 spike for 32 writers). A large limit stays as a net.
                    conn.execute("PRAGMA wal_autocheckpoint = 20000").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Begins a transaction that will write.
pub async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    let tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    Ok(tx)
}

/// Now, as unix milliseconds (UTC).
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
