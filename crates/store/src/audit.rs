//! The audit log: appending events inside the caller's transaction, the chain checkpoint kept
//! outside the database, listing for the audit administrator, and verification.
//!
//! Event ids are gapless chain positions taken from the one-row `audit_head` table inside the
//! writing transaction, so a deleted event leaves a hole that names it, and the checkpoint file
//! (written after each commit) names the newest events even if they are deleted together with
//! the head row being rewound.

use crate::Store;
use crate::db::now_ms;
use crate::error::{Error, Result};
use sqlx::Row;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zhongshu_domain::access::{AuditAdmin, Viewer};
use zhongshu_domain::audit::{AuditCode, ChainedFields, chain_hash};

/// The secret the chain is keyed with, kept in a file only the service user can read.
#[derive(Clone)]
pub struct AuditKey(Vec<u8>);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

impl AuditKey {
    pub fn from_bytes(bytes: Vec<u8>) -> AuditKey {
        AuditKey(bytes)
    }

    /// Reads the key file, or creates it (32 random bytes, hex, mode 0600) if it is missing.
    pub fn load_or_create(path: &Path) -> Result<AuditKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|_| {
                    Error::Internal(format!("审计密钥文件 {} 格式不正确", path.display()))
                })?;
                if bytes.len() < 16 {
                    return Err(Error::Internal(format!(
                        "审计密钥文件 {} 太短",
                        path.display()
                    )));
                }
                Ok(AuditKey(bytes))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; 32];
                getrandom::fill(&mut bytes)
                    .map_err(|e| Error::Internal(format!("无法生成随机数：{e}")))?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
                }
                write_private(path, hex::encode(&bytes).as_bytes())?;
                Ok(AuditKey(bytes))
            }
            Err(err) => Err(io_error(path)(err)),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |err| Error::Internal(format!("{}：{err}", path.display()))
}

/// Writes a file readable by its owner only, atomically (temp file, fsync, rename).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    // A name of this process's own: a server and a command-line run may write at once.
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io_error(&tmp))?;
    file.write_all(bytes).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_error(path))?;
    Ok(())
}

/// The newest link of the chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// Writes this node's checkpoint after each audited commit, never moving it backwards.
///
/// Writing it costs a file write and an fsync. Concurrent committers do not queue for it: the
/// one writing takes up the newest head posted meanwhile when it is done, so the file always
/// ends at the newest committed head, and a committer never waits for another's checkpoint.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    path: PathBuf,
    state: Mutex<CheckpointState>,
}

#[derive(Debug, Default)]
struct CheckpointState {
    /// The head the file holds.
    written: i64,
    /// A newer head to write, posted while a write was in progress.
    pending: Option<ChainHead>,
    /// Whether some committer is writing the file now.
    writing: bool,
}

impl Checkpointer {
    pub fn new(dir: &Path, node: &str) -> Result<Checkpointer> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let node: String = node
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        Ok(Checkpointer {
            path: dir.join(format!("checkpoint-{node}.json")),
            state: Mutex::new(CheckpointState::default()),
        })
    }

    pub fn advance(&self, head: &ChainHead) {
        {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let newest = state.pending.as_ref().map_or(state.written, |p| p.seq);
            if head.seq <= newest.max(state.written) {
                return;
            }
            state.pending = Some(head.clone());
            if state.writing {
                return;
            }
            state.writing = true;
        }
        loop {
            let next = match self.state.lock() {
                Ok(mut state) => match state.pending.take() {
                    // A head posted while a newer one was being written (an earlier commit
                    // whose writer came late) must not move the file back.
                    Some(next) if next.seq <= state.written => continue,
                    Some(next) => next,
                    None => {
                        state.writing = false;
                        return;
                    }
                },
                Err(_) => return,
            };
            // The change is committed already; a checkpoint that cannot be written weakens
            // detection of tail deletion but must not turn a saved change into an error.
            let outcome = serde_json::to_vec(&next)
                .map_err(|e| Error::Internal(e.to_string()))
                .and_then(|json| write_private(&self.path, &json));
            match self.state.lock() {
                Ok(mut state) => match outcome {
                    Ok(()) => state.written = state.written.max(next.seq),
                    Err(err) => tracing::error!("审计检查点写入失败：{err}"),
                },
                Err(_) => return,
            }
        }
    }
}

/// Reads every node's checkpoint in the directory; the furthest one is what the chain must reach.
pub fn read_checkpoints(dir: &Path) -> Result<Vec<(PathBuf, ChainHead)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(err) => return Err(io_error(dir)(err)),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("checkpoint-") && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
            let head: ChainHead = serde_json::from_str(&text)
                .map_err(|_| Error::Internal(format!("审计检查点 {} 已损坏", path.display())))?;
            found.push((path, head));
        }
    }
    Ok(found)
}

pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    key: &AuditKey,
    viewer: &Viewer,
    code: AuditCode,
    target: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<ChainHead> {
    // Moving the head first takes its row lock (PostgreSQL), so concurrent writers take
    // positions one after another and each links to the one before.
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = row.try_get("seq")?;
    let prev: String = row.try_get("hash")?;
    let before = before.map(|v| v.to_string());
    let after = after.map(|v| v.to_string());
    let fields = ChainedFields {
        id: seq,
        code: code.code(),
        actor_user_id: viewer.user_id.map(|id| id.get()),
        actor_name: &viewer.username,
        actor_unit_id: viewer.unit_id.map(|id| id.get()),
        target,
        before: before.as_deref(),
        after: after.as_deref(),
        client_addr: viewer.client_addr.as_deref(),
        occurred_at: now_ms(),
        prev_hash: &prev,
    };
    let hash = chain_hash(key.bytes(), &fields);
    sqlx::query(
        "INSERT INTO audit_events (id, code, actor_user_id, actor_name, actor_unit_id, target, \
         before_json, after_json, client_addr, occurred_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(fields.id)
    .bind(fields.code)
    .bind(fields.actor_user_id)
    .bind(fields.actor_name)
    .bind(fields.actor_unit_id)
    .bind(fields.target)
    .bind(fields.before)
    .bind(fields.after)
    .bind(fields.client_addr)
    .bind(fields.occurred_at)
    .bind(fields.prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(ChainHead { seq, hash })
}

/// One event as the audit page shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub code: i64,
    pub label: &'static str,
    pub actor_name: String,
    pub actor_unit_id: Option<i64>,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub client_addr: Option<String>,
    pub occurred_at: i64,
}

/// Filters of the audit page; all optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub code: Option<i64>,
    pub actor: Option<String>,
    pub target: Option<String>,
    /// Unix ms, inclusive.
    pub from: Option<i64>,
    /// Unix ms, exclusive.
    pub to: Option<i64>,
    /// Keyset paging: events with a smaller id than this.
    pub before_id: Option<i64>,
}

/// What `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    Intact {
        events: i64,
    },
    /// The first event (by chain position) that was edited, inserted, deleted or reordered.
    Broken {
        first_bad_id: i64,
        reason: String,
    },
}

impl Store {
    /// The audit page: newest first, at most `limit` events.
    pub async fn list_audit(
        &self,
        _admin: AuditAdmin<'_>,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEvent>> {
        let mut sql = String::from(
            "SELECT id, code, actor_name, actor_unit_id, target, before_json, after_json, \
             client_addr, occurred_at FROM audit_events WHERE 1 = 1",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if filter.code.is_some() {
            sql.push_str(&format!(" AND code = ${}", next()));
        }
        if filter.actor.is_some() {
            sql.push_str(&format!(" AND actor_name = ${}", next()));
        }
        if filter.target.is_some() {
            sql.push_str(&format!(" AND target LIKE ${}", next()));
        }
        if filter.from.is_some() {
            sql.push_str(&format!(" AND occurred_at >= ${}", next()));
        }
        if filter.to.is_some() {
            sql.push_str(&format!(" AND occurred_at < ${}", next()));
        }
        if filter.before_id.is_some() {
            sql.push_str(&format!(" AND id < ${}", next()));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", next()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(code) = filter.code {
            q = q.bind(code);
        }
        if let Some(actor) = &filter.actor {
            q = q.bind(actor.clone());
        }
        if let Some(target) = &filter.target {
            q = q.bind(format!("%{target}%"));
        }
        if let Some(from) = filter.from {
            q = q.bind(from);
        }
        if let Some(to) = filter.to {
            q = q.bind(to);
        }
        if let Some(before) = filter.before_id {
            q = q.bind(before);
        }
        q = q.bind(limit.clamp(1, 500));
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let code: i64 = row.try_get("code")?;
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    code,
                    label: AuditCode::from_code(code).map_or("未知事件", AuditCode::label),
                    actor_name: row.try_get("actor_name")?,
                    actor_unit_id: row.try_get("actor_unit_id")?,
                    target: row.try_get("target")?,
                    before: row.try_get("before_json")?,
                    after: row.try_get("after_json")?,
                    client_addr: row.try_get("client_addr")?,
                    occurred_at: row.try_get("occurred_at")?,
                })
            })
            .collect()
    }

    /// Walks the whole chain with the key and checks it reaches every checkpoint in `dir`.
    ///
    /// When the chain is shorter than a checkpoint (the newest events were deleted), that is
    /// what is reported, even if the remaining events were also re-hashed with a guessed key:
    /// the checkpoint is evidence from outside the database, and the deletion is what such a
    /// re-hash tries to hide. Otherwise the first event that fails its link is reported.
    pub async fn verify_audit(&self, _admin: AuditAdmin<'_>, dir: &Path) -> Result<Verification> {
        let walk = self.walk_chain().await?;
        let last: i64 =
            sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS n FROM audit_events")
                .fetch_one(self.pool())
                .await?
                .try_get("n")?;
        let head = sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        let head_seq: i64 = match head {
            Some(row) => row.try_get("seq")?,
            None => 0,
        };
        let checkpoints = read_checkpoints(dir)?;
        let furthest = checkpoints.iter().map(|(_, c)| c.seq).max().unwrap_or(0);
        let expected_end = furthest.max(head_seq);
        if expected_end > last {
            let mut reason = format!(
                "最新的第{}至{}号审计记录缺失（已被删除）：检查点或链头记录到第{}号，数据库只到第{}号",
                last + 1,
                expected_end,
                expected_end,
                last
            );
            if let Some((id, other)) = &walk {
                reason.push_str(&format!("；另外第{id}号起的记录也未通过校验（{other}）"));
            }
            return Ok(Verification::Broken {
                first_bad_id: last + 1,
                reason,
            });
        }
        if let Some((first_bad_id, reason)) = walk {
            return Ok(Verification::Broken {
                first_bad_id,
                reason,
            });
        }
        for (path, checkpoint) in checkpoints {
            let row = sqlx::query("SELECT hash FROM audit_events WHERE id = $1")
                .bind(checkpoint.seq)
                .fetch_optional(self.pool())
                .await?;
            if let Some(row) = row {
                let hash: String = row.try_get("hash")?;
                if hash != checkpoint.hash {
                    return Ok(Verification::Broken {
                        first_bad_id: checkpoint.seq,
                        reason: format!(
                            "第{}号审计记录与检查点 {} 不符",
                            checkpoint.seq,
                            path.display()
                        ),
                    });
                }
            }
        }
        Ok(Verification::Intact { events: last })
    }

    /// The first event whose id, link or keyed hash is wrong, with the reason; `None` if the
    /// stored chain is whole.
    async fn walk_chain(&self) -> Result<Option<(i64, String)>> {
        let key = self.inner.key.bytes();
        let mut expected_id = 1i64;
        let mut prev_hash = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT id, code, actor_user_id, actor_name, actor_unit_id, target, before_json, \
                 after_json, client_addr, occurred_at, prev_hash, hash FROM audit_events \
                 WHERE id >= $1 ORDER BY id LIMIT 5000",
            )
            .bind(expected_id)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                if id != expected_id {
                    return Ok(Some((
                        expected_id,
                        format!("第{expected_id}号审计记录缺失（已被删除）"),
                    )));
                }
                let actor_name: String = row.try_get("actor_name")?;
                let target: String = row.try_get("target")?;
                let before: Option<String> = row.try_get("before_json")?;
                let after: Option<String> = row.try_get("after_json")?;
                let client_addr: Option<String> = row.try_get("client_addr")?;
                let stored_prev: String = row.try_get("prev_hash")?;
                let stored_hash: String = row.try_get("hash")?;
                let fields = ChainedFields {
                    id,
                    code: row.try_get("code")?,
                    actor_user_id: row.try_get("actor_user_id")?,
                    actor_name: &actor_name,
                    actor_unit_id: row.try_get("actor_unit_id")?,
                    target: &target,
                    before: before.as_deref(),
                    after: after.as_deref(),
                    client_addr: client_addr.as_deref(),
                    occurred_at: row.try_get("occurred_at")?,
                    prev_hash: &prev_hash,
                };
                if stored_prev != prev_hash || chain_hash(key, &fields) != stored_hash {
                    return Ok(Some((
                        id,
                        format!("第{id}号审计记录被修改、插入或调换了顺序"),
                    )));
                }
                prev_hash = stored_hash;
                expected_id += 1;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_posted_late_by_an_earlier_commit_never_moves_the_file_back() {
        // Eight committers post heads 1..=8 at once, the later commits first: whoever writes,
        // and in whatever order the others arrive, the file ends at 8.
        for _ in 0..20 {
            let dir = tempfile::TempDir::new().unwrap();
            let checkpointer = Checkpointer::new(dir.path(), "node").unwrap();
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|scope| {
                for seq in (1..=8).rev() {
                    let (checkpointer, start) = (&checkpointer, &start);
                    scope.spawn(move || {
                        start.wait();
                        checkpointer.advance(&ChainHead {
                            seq,
                            hash: format!("h{seq}"),
                        });
                    });
                }
            });
            let found = read_checkpoints(dir.path()).unwrap();
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].1.seq, 8, "{found:?}");
        }
    }
}
