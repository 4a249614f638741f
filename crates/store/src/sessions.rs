//! Sign-in, server-side sessions and API tokens.
//!
//! Session and API tokens are 256-bit random values; only their SM3 hash is stored, so a copy of
//! the database does not let anyone sign in. Sessions live in the database so several nodes
//! share them; the last-seen time is written at most once a minute, so reading pages does not
//! become writing.

use crate::error::{Error, Result};
use crate::read::Bind;
use crate::users::{roles_of, verify_password};
use crate::{Store, db::now_ms};
use serde_json::json;
use sqlx::Row;
use zhongshu_domain::access::{Role, SysAdmin, Viewer};
use zhongshu_domain::audit::{AuditCode, sm3_hex};
use zhongshu_domain::ids::{TokenId, UnitId, UserId};

/// Lockout and session rules, all settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInPolicy {
    /// Failed attempts in a row that lock the account.
    pub max_failures: i64,
    pub lockout_minutes: i64,
    pub idle_minutes: i64,
    /// A session ends this long after sign-in even if active.
    pub max_session_hours: i64,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            max_failures: 5,
            lockout_minutes: 15,
            idle_minutes: 30,
            max_session_hours: 12,
        }
    }
}

/// A new session: the token goes into the cookie and is never stored.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub must_change_password: bool,
}

/// What a session token resolves to.
#[derive(Clone, Debug)]
pub enum SessionState {
    Active {
        viewer: Viewer,
        must_change_password: bool,
    },
    /// Idle too long or past its lifetime; the row is gone now.
    Expired,
    Unknown,
}

/// A session as "my sessions" lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SessionInfo {
    pub created_at: i64,
    pub last_seen_at: i64,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

/// Makes a new random token (64 hex characters).
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("无法生成随机数：{e}")))?;
    Ok(hex::encode(bytes))
}

const REFUSED: &str = "用户名或密码不正确";

impl Store {
    /// Checks a username and password and opens a session. Every outcome is audited: success,
    /// failure, and the lockout that the fifth failure in a row triggers.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client_addr: Option<String>,
        user_agent: Option<String>,
        policy: &SignInPolicy,
    ) -> Result<NewSession> {
        let username = username.trim().to_owned();
        let anonymous = Viewer::anonymous(&username).with_client_addr(client_addr.clone());
        let row = sqlx::query(
            "SELECT id, password_hash, locked_until, disabled, must_change_password \
             FROM users WHERE username = $1",
        )
        .bind(&username)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            self.record_security_event(
                &anonymous,
                AuditCode::LoginFailed,
                &format!("username:{username}"),
                Some(json!({ "reason": "用户不存在" })),
            )
            .await?;
            return Err(Error::Unauthenticated(REFUSED.to_owned()));
        };
        let id = UserId::from_db(row.try_get("id")?);
        let target = format!("user:{id}");
        let now = now_ms();
        if let Some(until) = row.try_get::<Option<i64>, _>("locked_until")?
            && until > now
        {
            self.record_security_event(
                &anonymous,
                AuditCode::LoginFailed,
                &target,
                Some(json!({ "reason": "账号已锁定" })),
            )
            .await?;
            let minutes = (until - now + 59_999) / 60_000;
            return Err(Error::Unauthenticated(format!(
                "账号因多次密码错误已被锁定，请{minutes}分钟后再试，或联系系统管理员解锁"
            )));
        }
        if row.try_get::<i64, _>("disabled")? != 0 {
            self.record_security_event(
                &anonymous,
                AuditCode::LoginFailed,
                &target,
                Some(json!({ "reason": "账号已停用" })),
            )
            .await?;
            return Err(Error::Unauthenticated(
                "账号已停用，请联系系统管理员".to_owned(),
            ));
        }
        let hash: String = row.try_get("password_hash")?;
        let attempt = password.to_owned();
        // argon2 is CPU-heavy: run it off the async threads and outside any transaction.
        let matches = tokio::task::spawn_blocking(move || verify_password(&attempt, &hash))
            .await
            .map_err(|e| Error::Internal(format!("口令校验任务失败：{e}")))?;
        let mut w = self.write().await?;
        if !matches {
            let failures: i64 = sqlx::query(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 \
                 RETURNING failed_logins",
            )
            .bind(id.get())
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("failed_logins")?;
            w.audit(
                &anonymous,
                AuditCode::LoginFailed,
                &target,
                None,
                Some(json!({ "reason": "密码错误", "failures": failures })),
            )
            .await?;
            let message = if failures >= policy.max_failures {
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                    .bind(now + policy.lockout_minutes * 60_000)
                    .bind(id.get())
                    .execute(&mut *w.tx)
                    .await?;
                w.audit(
                    &anonymous,
                    AuditCode::AccountLocked,
                    &target,
                    None,
                    Some(json!({ "minutes": policy.lockout_minutes })),
                )
                .await?;
                format!(
                    "密码连续错误{}次，账号已锁定{}分钟",
                    policy.max_failures, policy.lockout_minutes
                )
            } else {
                format!(
                    "{REFUSED}（再错{}次将锁定账号）",
                    policy.max_failures - failures
                )
            };
            w.commit().await?;
            return Err(Error::Unauthenticated(message));
        }
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?;
        let token = new_token()?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, \
             client_addr, user_agent) VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(sm3_hex(token.as_bytes()))
        .bind(id.get())
        .bind(now)
        .bind(now + policy.max_session_hours * 3_600_000)
        .bind(client_addr.clone())
        .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
        .execute(&mut *w.tx)
        .await?;
        let mut actor = Viewer::anonymous(&username).with_client_addr(client_addr);
        actor.user_id = Some(id);
        w.audit(&actor, AuditCode::LoginSucceeded, &target, None, None)
            .await?;
        w.commit().await?;
        Ok(NewSession {
            token,
            must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        })
    }

    /// Resolves a session cookie. An idle or outlived session is deleted and reported expired.
    pub async fn session(&self, token: &str, policy: &SignInPolicy) -> Result<SessionState> {
        let token_hash = sm3_hex(token.as_bytes());
        // The session, its user and the user's roles in one read: one row per role.
        let rows = self
            .read(
                "SELECT s.id AS session_id, s.last_seen_at, s.expires_at, u.id, u.username, \
                 u.display_name, u.unit_id, un.name AS unit_name, u.must_change_password, \
                 u.disabled, r.role FROM sessions s JOIN users u ON u.id = s.user_id \
                 JOIN units un ON un.id = u.unit_id \
                 LEFT JOIN user_roles r ON r.user_id = u.id WHERE s.token_hash = $1",
                &[Bind::S(token_hash)],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(SessionState::Unknown);
        };
        let now = now_ms();
        let session_id: i64 = row.try_get("session_id")?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        let expires: i64 = row.try_get("expires_at")?;
        if now - last_seen > policy.idle_minutes * 60_000
            || now > expires
            || row.try_get::<i64>("disabled")? != 0
        {
            sqlx::query("DELETE FROM sessions WHERE id = $1")
                .bind(session_id)
                .execute(self.pool())
                .await?;
            return Ok(SessionState::Expired);
        }
        if now - last_seen > 60_000 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(session_id)
                .execute(self.pool())
                .await?;
        }
        let id = UserId::from_db(row.try_get("id")?);
        let mut roles = Vec::new();
        for r in &rows {
            if let Some(code) = r.try_get::<Option<String>>("role")? {
                roles.extend(Role::from_code(&code));
            }
        }
        roles.sort();
        Ok(SessionState::Active {
            viewer: Viewer::user(
                id,
                row.try_get("username")?,
                row.try_get("display_name")?,
                UnitId::from_db(row.try_get("unit_id")?),
                row.try_get("unit_name")?,
                roles,
            ),
            must_change_password: row.try_get::<i64>("must_change_password")? != 0,
        })
    }

    /// Ends one session (sign out).
    pub async fn end_session(&self, viewer: &Viewer, token: &str) -> Result<()> {
        let mut w = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(sm3_hex(token.as_bytes()))
            .execute(&mut *w.tx)
            .await?;
        let target = viewer
            .user_id
            .map_or_else(String::new, |id| format!("user:{id}"));
        w.audit(viewer, AuditCode::LoggedOut, &target, None, None)
            .await?;
        w.commit().await
    }

    /// Ends every session of the viewer ("log out everywhere").
    pub async fn end_all_sessions(&self, viewer: &Viewer) -> Result<u64> {
        let id = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        let mut w = self.write().await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        w.audit(
            viewer,
            AuditCode::LoggedOutEverywhere,
            &format!("user:{id}"),
            None,
            Some(json!({ "sessions": ended })),
        )
        .await?;
        w.commit().await?;
        Ok(ended)
    }

    /// The viewer's open sessions.
    pub async fn my_sessions(&self, viewer: &Viewer) -> Result<Vec<SessionInfo>> {
        let id = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        let rows = sqlx::query(
            "SELECT created_at, last_seen_at, client_addr, user_agent FROM sessions \
             WHERE user_id = $1 ORDER BY last_seen_at DESC",
        )
        .bind(id.get())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionInfo {
                    created_at: row.try_get("created_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    client_addr: row.try_get("client_addr")?,
                    user_agent: row.try_get("user_agent")?,
                })
            })
            .collect()
    }

    /// Creates an API token for a user; returns the token, shown once.
    pub async fn create_token(
        &self,
        admin: SysAdmin<'_>,
        user: UserId,
        name: &str,
    ) -> Result<(TokenId, String)> {
        self.insert_token(admin.viewer(), user, name).await
    }

    /// The signed-in user creates a token for their own integrations.
    pub async fn create_own_token(&self, viewer: &Viewer, name: &str) -> Result<(TokenId, String)> {
        let user = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        self.insert_token(viewer, user, name).await
    }

    async fn insert_token(
        &self,
        actor: &Viewer,
        user: UserId,
        name: &str,
    ) -> Result<(TokenId, String)> {
        if name.trim().is_empty() || name.trim().chars().count() > 40 {
            return Err(Error::invalid("name", "令牌名称须为1至40个字"));
        }
        let owner = self.load_user(user).await?;
        let token = new_token()?;
        let mut w = self.write().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(user.get())
        .bind(sm3_hex(token.as_bytes()))
        .bind(name.trim())
        .bind(now_ms())
        .fetch_one(&mut *w.tx)
        .await?;
        let id = TokenId::from_db(row.try_get("id")?);
        w.audit(
            actor,
            AuditCode::TokenCreated,
            &format!("token:{id}"),
            None,
            Some(json!({ "username": owner.username, "name": name.trim() })),
        )
        .await?;
        w.commit().await?;
        Ok((id, token))
    }

    /// Resolves a bearer token to its owner; `None` for an unknown or revoked token.
    pub async fn token_viewer(&self, token: &str) -> Result<Option<Viewer>> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.last_used_at, u.id, u.username, u.display_name, u.unit_id, \
             un.name AS unit_name FROM api_tokens t JOIN users u ON u.id = t.user_id \
             JOIN units un ON un.id = u.unit_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(sm3_hex(token.as_bytes()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now = now_ms();
        let last_used: Option<i64> = row.try_get("last_used_at")?;
        if last_used.is_none_or(|t| now - t > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.try_get::<i64, _>("token_id")?)
                .execute(self.pool())
                .await?;
        }
        let id = UserId::from_db(row.try_get("id")?);
        let roles = roles_of(self.pool(), id).await?;
        Ok(Some(Viewer::user(
            id,
            row.try_get("username")?,
            row.try_get("display_name")?,
            UnitId::from_db(row.try_get("unit_id")?),
            row.try_get("unit_name")?,
            roles,
        )))
    }
}
