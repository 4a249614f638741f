//! The database: migrations per dialect, one module per business area, write transactions with
//! their audit event inside, and the keyed audit chain.
//!
//! Every public write is one function that opens one transaction, records its audit event in it
//! and commits once; if the event cannot be written the change rolls back. Every read of
//! business data takes the viewer. This crate must not depend on the web layer.

pub mod attachments;
pub mod audit;
pub mod boards;
mod bulk;
pub mod calendar;
mod db;
pub mod demo;
pub mod error;
pub mod generate;
pub mod inspections;
pub mod ledger;
pub mod notify;
pub mod outbox;
pub mod plans;
mod read;
pub mod reminders;
pub mod search;
pub mod sessions;
pub mod summaries;
pub mod supervision;
pub mod tallies;
pub mod units;
pub mod users;

pub use db::{Backend, now_ms};
pub use error::{Error, FieldProblem, Result};

use audit::{AuditKey, ChainHead, Checkpointer};
use sqlx::AnyPool;
use std::path::PathBuf;
use std::sync::Arc;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::audit::AuditCode;

/// How expensive password hashing is. Production uses argon2id's recommended cost; tests and
/// bulk data generation may lower it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

impl HashCost {
    /// The cheapest cost argon2 accepts: for tests only.
    pub fn for_tests() -> HashCost {
        HashCost {
            memory_kib: 64,
            iterations: 1,
        }
    }
}

/// What the store needs to open.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `sqlite:PATH?mode=rwc` or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
    pub audit_key: AuditKey,
    /// Where this node writes its chain checkpoint (`checkpoint-NODE.json`), beside the key.
    pub checkpoint_dir: PathBuf,
    pub node_name: String,
    pub hash_cost: HashCost,
    /// Where attachments are kept, content-addressed (`{files_dir}/ab/cd/<sm3 hex>`).
    pub files_dir: PathBuf,
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: AnyPool,
    backend: Backend,
    key: AuditKey,
    checkpointer: Checkpointer,
    hash_cost: HashCost,
    /// The shortest time between two 催办 of one item (a setting; 24 hours by default).
    urge_interval_ms: std::sync::atomic::AtomicI64,
    /// Where attachments are kept (see [`attachments`]).
    files_dir: PathBuf,
    /// The largest attachment accepted, in bytes (a setting; 20 MiB by default).
    attachment_max_bytes: std::sync::atomic::AtomicU64,
    /// SQLite has one writer at a time. Writers of this process queue here, in order, rather
    /// than in SQLite's busy handler, which sleeps and retries and so gives the unlucky writer
    /// of a busy minute a wait of seconds. `None` on PostgreSQL, which locks rows.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Boards computed lately (see [`boards`]), by filter, day and items generation.
    board_cache: boards::BoardCache,
    /// The working-day calendar (see [`calendar`]).
    calendar_cache: calendar::CalendarCache,
    /// SQLite connections of the read path (see [`read`]); `None` on PostgreSQL.
    readers: Option<read::Readers>,
    sum_cache: supervision::KeptLists<Vec<read::Row>>,
    open_order_cache: supervision::KeptLists<supervision::OpenOrder>,
    signal_list_cache: supervision::KeptLists<Vec<i64>>,
    /// Told of every SQLite commit, for the WAL checkpoint task.
    wal_dirty: Arc<tokio::sync::Notify>,
}

impl Store {
    /// Runs the migrations, then opens the pool.
    pub async fn open(options: StoreOptions) -> Result<Store> {
        let backend = Backend::from_url(&options.url)?;
        db::migrate(&options.url).await?;
        let pool = db::connect(&options.url, options.max_connections).await?;
        let checkpointer = Checkpointer::new(&options.checkpoint_dir, &options.node_name)?;
        let wal_dirty = Arc::new(tokio::sync::Notify::new());
        let inner = Arc::new(Inner {
            pool,
            backend,
            key: options.audit_key,
            checkpointer,
            hash_cost: options.hash_cost,
            urge_interval_ms: std::sync::atomic::AtomicI64::new(24 * 3_600_000),
            files_dir: options.files_dir,
            attachment_max_bytes: std::sync::atomic::AtomicU64::new(attachments::DEFAULT_MAX_BYTES),
            write_gate: (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
            board_cache: boards::BoardCache::default(),
            calendar_cache: calendar::CalendarCache::default(),
            readers: (backend == Backend::Sqlite).then(|| read::Readers::for_url(&options.url)),
            sum_cache: supervision::KeptLists::with_capacity(tallies::KEPT_SUMS),
            open_order_cache: supervision::KeptLists::default(),
            signal_list_cache: supervision::KeptLists::default(),
            wal_dirty: wal_dirty.clone(),
        });
        if backend == Backend::Sqlite {
            tokio::spawn(checkpoint_wal(Arc::downgrade(&inner), wal_dirty));
        }
        Ok(Store { inner })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub(crate) fn readers(&self) -> Option<&read::Readers> {
        self.inner.readers.as_ref()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// The pool, for the store's own integration tests (connection settings); not an API.
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.inner.pool
    }

    pub(crate) fn hash_cost(&self) -> HashCost {
        self.inner.hash_cost
    }

    /// Sets the shortest time between two 催办 of one item.
    pub fn set_urge_interval_minutes(&self, minutes: i64) {
        self.inner.urge_interval_ms.store(
            minutes.saturating_mul(60_000),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    pub(crate) fn urge_interval_ms(&self) -> i64 {
        self.inner
            .urge_interval_ms
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Begins a write: one transaction, into which the change's audit events go.
    pub(crate) async fn write(&self) -> Result<Write<'_>> {
        // Queue first, then take a connection: a writer waiting its turn holds none.
        let gate = match &self.inner.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        Ok(Write {
            tx: db::begin_write(&self.inner.pool, self.inner.backend).await?,
            store: self,
            head: None,
            items: std::collections::BTreeSet::new(),
            reports: std::collections::BTreeSet::new(),
            progressed: std::collections::BTreeSet::new(),
            _gate: gate,
        })
    }

    /// Records a security event (failed login, refused permission…) on its own.
    pub async fn record_security_event(
        &self,
        viewer: &Viewer,
        code: AuditCode,
        target: &str,
        detail: Option<serde_json::Value>,
    ) -> Result<()> {
        let mut w = self.write().await?;
        w.audit(viewer, code, target, None, detail).await?;
        w.commit().await
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }
}

/// An open write transaction. `commit` writes the chain checkpoint after the commit succeeds.
pub(crate) struct Write<'s> {
    pub tx: sqlx::Transaction<'static, sqlx::Any>,
    store: &'s Store,
    head: Option<ChainHead>,
    /// Items this transaction changed: their tallies and search entries are brought up to date
    /// just before it commits, inside it.
    items: std::collections::BTreeSet<i64>,
    /// Progress reports this transaction added, for the search index.
    reports: std::collections::BTreeSet<i64>,
    /// Items whose state, units or reports changed but not their text: tallies only.
    progressed: std::collections::BTreeSet<i64>,
    /// This process's turn to write (SQLite), held until the transaction ends: declared last,
    /// so a dropped write rolls back before the next writer's turn.
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Write<'_> {
    /// Appends an audit event inside this transaction; an error here fails the change.
    pub async fn audit(
        &mut self,
        viewer: &Viewer,
        code: AuditCode,
        target: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<()> {
        let head = audit::append(
            &mut self.tx,
            &self.store.inner.key,
            viewer,
            code,
            target,
            before,
            after,
        )
        .await?;
        self.head = Some(head);
        Ok(())
    }

    /// Marks an item as changed by this transaction (its state, dates, units, reports or
    /// queues): see [`Write::commit`].
    pub fn item_changed(&mut self, id: i64) {
        self.items.insert(id);
    }

    /// Marks an item whose state, units, queues or reports changed but whose text did not: its
    /// tallies are brought up to date, its search entry is left as it is.
    pub fn item_progressed(&mut self, id: i64) {
        self.progressed.insert(id);
    }

    /// Marks a progress report as added by this transaction (and its item as progressed).
    pub fn report_added(&mut self, report_id: i64, item_id: i64) {
        self.reports.insert(report_id);
        self.progressed.insert(item_id);
    }

    /// Brings what is derived from the changed items up to date, then commits.
    pub async fn commit(mut self) -> Result<()> {
        if !self.items.is_empty() || !self.progressed.is_empty() {
            let counted: Vec<i64> = self.items.union(&self.progressed).copied().collect();
            tallies::refresh(
                &mut self.tx,
                &counted,
                self.store.backend() == Backend::Postgres,
            )
            .await?;
        }
        if !self.items.is_empty() || !self.reports.is_empty() {
            let items: Vec<i64> = self.items.iter().copied().collect();
            let reports: Vec<i64> = self.reports.iter().copied().collect();
            search::index(&mut self.tx, &items, &reports).await?;
        }
        self.tx.commit().await?;
        // The next writer may begin while this one writes its checkpoint.
        drop(self._gate);
        if self.store.backend() == Backend::Sqlite {
            self.store.inner.wal_dirty.notify_one();
        }
        if let Some(head) = self.head {
            self.store.inner.checkpointer.advance(&head);
        }
        Ok(())
    }
}

/// How long the WAL checkpoint task lets commits gather before it copies them in.
const WAL_CHECKPOINT_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

/// Copies committed WAL frames into the SQLite database file, off the writers' path
/// (docs/decisions.md): woken by commits, it lets a burst of them gather, then runs a passive
/// checkpoint, which never waits for readers or writers. The pool's connections checkpoint
/// only as a net, past 20,000 frames. The task ends once the store is closed or dropped;
/// closing the last connection checkpoints what is left.
async fn checkpoint_wal(store: std::sync::Weak<Inner>, dirty: Arc<tokio::sync::Notify>) {
    loop {
        // Woken by a commit, or now and then to notice that the store is gone.
        let woken = tokio::time::timeout(std::time::Duration::from_secs(5), dirty.notified())
            .await
            .is_ok();
        if store.upgrade().is_none_or(|s| s.pool.is_closed()) {
            return;
        }
        if !woken {
            continue;
        }
        tokio::time::sleep(WAL_CHECKPOINT_DELAY).await;
        let Some(inner) = store.upgrade() else {
            return;
        };
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&inner.pool)
            .await
        {
            if inner.pool.is_closed() {
                return;
            }
            tracing::warn!("SQLite 日志检查点失败：{e}");
        }
    }
}

impl Store {
    /// A consistent online copy of the SQLite database (`VACUUM INTO`); PostgreSQL deployments
    /// back up with `pg_dump` (docs/operations.md).
    pub async fn backup_to(&self, file: &std::path::Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(Error::invalid(
                "backup",
                "PostgreSQL 请使用 pg_dump 备份，见 docs/operations.md",
            ));
        }
        if file.exists() {
            return Err(Error::invalid(
                "backup",
                format!("{} 已存在，请换一个文件名", file.display()),
            ));
        }
        if let Some(dir) = file.parent()
            && !dir.as_os_str().is_empty()
            && !dir.is_dir()
        {
            return Err(Error::invalid(
                "backup",
                format!("目录 {} 不存在，请先创建", dir.display()),
            ));
        }
        let target = file.to_string_lossy().replace('\'', "''");
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{target}'")))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
