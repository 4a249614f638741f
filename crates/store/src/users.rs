//! People: accounts, roles, passwords. The system administrator creates accounts and resets
//! passwords; only the security administrator grants roles (三员分立).

use crate::error::{Error, Result};
use crate::{HashCost, Store, db::now_ms};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde_json::json;
use sqlx::Row;
use zhongshu_domain::access::{Role, SecurityAdmin, SysAdmin, UserLister, Viewer};
use zhongshu_domain::audit::AuditCode;
use zhongshu_domain::ids::{UnitId, UserId};
use zhongshu_domain::password::PasswordPolicy;

/// A user as the admin pages show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub title: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub roles: Vec<Role>,
    pub must_change_password: bool,
    pub locked_until: Option<i64>,
    pub disabled: bool,
    pub version: i64,
    /// Where reminders are e-mailed ("" = none).
    pub email: String,
}

/// A new account, parsed at the edge.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub title: String,
    pub unit_id: UnitId,
    pub password: String,
    pub roles: Vec<Role>,
    /// Created accounts change their password at first sign-in; demo accounts do not.
    pub must_change_password: bool,
}

/// Checks a username: 2–32 characters of lower-case letters, digits, `_`, `.`, `-`.
pub fn check_username(name: &str) -> std::result::Result<(), String> {
    let len = name.chars().count();
    if !(2..=32).contains(&len) {
        return Err("用户名须为2至32个字符".to_owned());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
    {
        return Err("用户名只能包含小写字母、数字和 _ . -".to_owned());
    }
    Ok(())
}

/// Checks an e-mail address ("" clears it): ASCII `local@domain`, at most 254 characters, the
/// domain made of letters, digits and hyphens between dots (intranet names like `gov.local`
/// pass; a single label too, since some relays deliver to bare host names).
pub fn check_email(email: &str) -> std::result::Result<(), String> {
    const BAD: &str = "电子邮箱格式不正确，应形如 zhangsan@gov.local";
    if email.is_empty() {
        return Ok(());
    }
    if email.len() > 254 {
        return Err("电子邮箱过长（最多254个字符）".to_owned());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(BAD.to_owned());
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-!#$&'*/=?^`{|}~".contains(c));
    let domain_ok = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(BAD.to_owned())
    }
}

/// Hashes a password with argon2id (PHC string). CPU-heavy: call it off the async threads.
pub fn hash_password(cost: HashCost, password: &str) -> Result<String> {
    let params = argon2::Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| Error::Internal(format!("口令参数错误：{e}")))?;
    let hasher = Argon2::from(params);
    hasher
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("口令散列失败：{e}")))
}

/// Checks a password against its stored hash (the parameters come from the hash itself).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A random password that meets the default policy, for resets and `init`.
pub fn random_password() -> Result<String> {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"#%+=@";
    let mut bytes = [0u8; 14];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("无法生成随机数：{e}")))?;
    let sets = [LOWER, UPPER, DIGIT, SYMBOL];
    let password = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let set = sets[i % sets.len()];
            char::from(set[usize::from(*b) % set.len()])
        })
        .collect();
    Ok(password)
}

async fn hash_off_thread(cost: HashCost, password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(cost, &password))
        .await
        .map_err(|e| Error::Internal(format!("口令散列任务失败：{e}")))?
}

const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.title, u.unit_id, \
    un.name AS unit_name, u.must_change_password, u.locked_until, u.disabled, u.version, \
    u.email FROM users u JOIN units un ON un.id = u.unit_id";

pub(crate) fn user_from_row(row: &sqlx::any::AnyRow, roles: Vec<Role>) -> Result<User> {
    Ok(User {
        id: UserId::from_db(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        title: row.try_get("title")?,
        unit_id: UnitId::from_db(row.try_get("unit_id")?),
        unit_name: row.try_get("unit_name")?,
        roles,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        locked_until: row.try_get("locked_until")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        version: row.try_get("version")?,
        email: row.try_get("email")?,
    })
}

pub(crate) async fn roles_of<'e, E>(executor: E, user: UserId) -> Result<Vec<Role>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
        .bind(user.get())
        .fetch_all(executor)
        .await?;
    let mut roles = Vec::new();
    for row in rows {
        let code: String = row.try_get("role")?;
        roles.extend(Role::from_code(&code));
    }
    roles.sort();
    Ok(roles)
}

/// Filters of the user list.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Part of a username or display name.
    pub query: Option<String>,
    pub unit_id: Option<UnitId>,
    pub role: Option<Role>,
}

impl Store {
    /// Creates an account. Roles may be given only with the security administrator's proof.
    pub async fn create_user(
        &self,
        admin: SysAdmin<'_>,
        grant: Option<SecurityAdmin<'_>>,
        new: NewUser,
        policy: &PasswordPolicy,
    ) -> Result<UserId> {
        let mut problems = Vec::new();
        if let Err(m) = check_username(&new.username) {
            problems.push(crate::FieldProblem::new("username", m));
        }
        if new.display_name.trim().is_empty() || new.display_name.chars().count() > 40 {
            problems.push(crate::FieldProblem::new(
                "display_name",
                "姓名须为1至40个字",
            ));
        }
        for m in policy.problems(&new.password, &new.username) {
            problems.push(crate::FieldProblem::new("password", m));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        if !new.roles.is_empty() && grant.is_none() {
            return Err(Error::invalid("roles", "只有安全管理员可以授予角色"));
        }
        let hash = hash_off_thread(self.hash_cost(), new.password.clone()).await?;
        self.insert_user(admin.viewer(), &new, &hash).await
    }

    /// Inserts an account whose password hash is already made (demo and generated data share one).
    pub(crate) async fn insert_user(
        &self,
        actor: &Viewer,
        new: &NewUser,
        hash: &str,
    ) -> Result<UserId> {
        let mut w = self.write().await?;
        let id = insert_user_row(&mut w.tx, new, hash).await?;
        w.audit(
            actor,
            AuditCode::UserCreated,
            &format!("user:{id}"),
            None,
            Some(json!({
                "username": new.username,
                "display_name": new.display_name,
                "unit_id": new.unit_id,
                "roles": new.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
            })),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// The user list for administrators.
    pub async fn list_users(
        &self,
        _lister: UserLister<'_>,
        filter: &UserFilter,
        limit: i64,
    ) -> Result<Vec<User>> {
        let mut sql = format!("{USER_SELECT} WHERE 1 = 1");
        let mut n = 0;
        if filter.query.is_some() {
            n += 1;
            sql.push_str(&format!(
                " AND (u.username LIKE ${n} OR u.display_name LIKE ${n})"
            ));
        }
        if filter.unit_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND u.unit_id = ${n}"));
        }
        if filter.role.is_some() {
            n += 1;
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ${n})"
            ));
        }
        n += 1;
        sql.push_str(&format!(" ORDER BY u.username LIMIT ${n}"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(text) = &filter.query {
            q = q.bind(format!("%{}%", text.trim()));
        }
        if let Some(unit) = filter.unit_id {
            q = q.bind(unit.get());
        }
        if let Some(role) = filter.role {
            q = q.bind(role.code());
        }
        let rows = q.bind(limit.clamp(1, 1000)).fetch_all(self.pool()).await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = UserId::from_db(row.try_get("id")?);
            users.push(user_from_row(row, roles_of(self.pool(), id).await?)?);
        }
        Ok(users)
    }

    pub async fn user_count(&self, _viewer: &Viewer) -> Result<i64> {
        self.read_count("SELECT COUNT(*) AS n FROM users WHERE disabled = 0", &[])
            .await
    }

    pub async fn get_user(&self, _lister: UserLister<'_>, id: UserId) -> Result<User> {
        self.load_user(id).await
    }

    pub(crate) async fn load_user(&self, id: UserId) -> Result<User> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{USER_SELECT} WHERE u.id = $1"
        )))
        .bind(id.get())
        .fetch_optional(self.pool())
        .await?
        .ok_or(Error::NotFound("用户"))?;
        user_from_row(&row, roles_of(self.pool(), id).await?)
    }

    /// Finds an account by username (for the command line).
    pub async fn find_user(&self, _lister: UserLister<'_>, username: &str) -> Result<User> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{USER_SELECT} WHERE u.username = $1"
        )))
        .bind(username.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| Error::invalid("username", format!("用户“{}”不存在", username.trim())))?;
        let id = UserId::from_db(row.try_get("id")?);
        user_from_row(&row, roles_of(self.pool(), id).await?)
    }

    /// Replaces a user's roles; signs the user out everywhere so the change takes effect now.
    pub async fn set_roles(
        &self,
        admin: SecurityAdmin<'_>,
        id: UserId,
        roles: &[Role],
        version: i64,
    ) -> Result<()> {
        let before = self.load_user(id).await?;
        let mut w = self.write().await?;
        let bumped = sqlx::query(
            "UPDATE users SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3",
        )
        .bind(now_ms())
        .bind(id.get())
        .bind(version)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if bumped == 0 {
            return Err(Error::StaleVersion);
        }
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?;
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        for role in &roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id.get())
                .bind(role.code())
                .execute(&mut *w.tx)
                .await?;
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            admin.viewer(),
            AuditCode::RolesChanged,
            &format!("user:{id}"),
            Some(json!({ "username": before.username, "roles": before.roles.iter().map(|r| r.code()).collect::<Vec<_>>() })),
            Some(json!({ "username": before.username, "roles": roles.iter().map(|r| r.code()).collect::<Vec<_>>() })),
        )
        .await?;
        w.commit().await
    }

    /// Sets a new one-time password (changed at next sign-in), clears the lock, ends sessions.
    /// Returns the new password to hand to the user.
    pub async fn reset_password(&self, admin: SysAdmin<'_>, id: UserId) -> Result<String> {
        let user = self.load_user(id).await?;
        let password = random_password()?;
        let hash = hash_off_thread(self.hash_cost(), password.clone()).await?;
        let mut w = self.write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 1, failed_logins = 0, \
             locked_until = NULL, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(&hash)
        .bind(now_ms())
        .bind(id.get())
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            admin.viewer(),
            AuditCode::PasswordReset,
            &format!("user:{id}"),
            None,
            Some(json!({ "username": user.username })),
        )
        .await?;
        w.commit().await?;
        Ok(password)
    }

    /// Lifts a lockout early.
    pub async fn unlock_user(&self, admin: SysAdmin<'_>, id: UserId) -> Result<()> {
        let user = self.load_user(id).await?;
        let mut w = self.write().await?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            admin.viewer(),
            AuditCode::UserUnlocked,
            &format!("user:{id}"),
            None,
            Some(json!({ "username": user.username })),
        )
        .await?;
        w.commit().await
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    pub async fn set_disabled(
        &self,
        admin: SysAdmin<'_>,
        id: UserId,
        disabled: bool,
    ) -> Result<()> {
        let user = self.load_user(id).await?;
        if admin.viewer().user_id == Some(id) && disabled {
            return Err(Error::invalid("disabled", "不能停用自己的账号"));
        }
        let mut w = self.write().await?;
        sqlx::query("UPDATE users SET disabled = $1, version = version + 1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id.get())
            .execute(&mut *w.tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.get())
                .execute(&mut *w.tx)
                .await?;
        }
        let code = if disabled {
            AuditCode::UserDisabled
        } else {
            AuditCode::UserEnabled
        };
        w.audit(
            admin.viewer(),
            code,
            &format!("user:{id}"),
            None,
            Some(json!({ "username": user.username })),
        )
        .await?;
        w.commit().await
    }

    /// The system administrator sets a user's e-mail address ("" clears it).
    pub async fn set_user_email(&self, admin: SysAdmin<'_>, id: UserId, email: &str) -> Result<()> {
        self.write_email(admin.viewer(), id, email).await
    }

    /// The signed-in user sets their own e-mail address ("" clears it).
    pub async fn set_own_email(&self, viewer: &Viewer, email: &str) -> Result<()> {
        let id = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        self.write_email(viewer, id, email).await
    }

    /// The e-mail address of the signed-in user ("" when none).
    pub async fn own_email(&self, viewer: &Viewer) -> Result<String> {
        let id = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        let row = sqlx::query("SELECT email FROM users WHERE id = $1")
            .bind(id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("用户"))?;
        Ok(row.try_get("email")?)
    }

    async fn write_email(&self, actor: &Viewer, id: UserId, email: &str) -> Result<()> {
        let email = email.trim();
        check_email(email).map_err(|m| Error::invalid("email", m))?;
        let mut w = self.write().await?;
        let before: String = sqlx::query("SELECT email FROM users WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(Error::NotFound("用户"))?
            .try_get("email")?;
        if before == email {
            return Ok(());
        }
        sqlx::query(
            "UPDATE users SET email = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(email)
        .bind(now_ms())
        .bind(id.get())
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            actor,
            AuditCode::UserUpdated,
            &format!("user:{id}"),
            Some(json!({ "email": before })),
            Some(json!({ "email": email })),
        )
        .await?;
        w.commit().await
    }

    /// The signed-in user changes their own password (checking the current one).
    pub async fn change_own_password(
        &self,
        viewer: &Viewer,
        current: &str,
        new: &str,
        policy: &PasswordPolicy,
    ) -> Result<()> {
        let id = viewer.user_id.ok_or(Error::NotFound("用户"))?;
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("用户"))?;
        let stored: String = row.try_get("password_hash")?;
        let (current, stored_clone) = (current.to_owned(), stored.clone());
        let matches = tokio::task::spawn_blocking(move || verify_password(&current, &stored_clone))
            .await
            .map_err(|e| Error::Internal(format!("口令校验任务失败：{e}")))?;
        let mut problems = Vec::new();
        if !matches {
            problems.push(crate::FieldProblem::new("current", "当前密码不正确"));
        }
        for m in policy.problems(new, &viewer.username) {
            problems.push(crate::FieldProblem::new("new", m));
        }
        if matches && verify_password(new, &stored) {
            problems.push(crate::FieldProblem::new("new", "新密码不能与当前密码相同"));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let hash = hash_off_thread(self.hash_cost(), new.to_owned()).await?;
        let mut w = self.write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, version = version + 1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(&hash)
        .bind(now_ms())
        .bind(id.get())
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            viewer,
            AuditCode::PasswordChanged,
            &format!("user:{id}"),
            None,
            None,
        )
        .await?;
        w.commit().await
    }
}

pub(crate) async fn insert_user_row(
    conn: &mut sqlx::AnyConnection,
    new: &NewUser,
    hash: &str,
) -> Result<UserId> {
    let taken = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(&new.username)
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Err(Error::invalid(
            "username",
            format!("用户名“{}”已存在", new.username),
        ));
    }
    let unit = sqlx::query("SELECT status FROM units WHERE id = $1")
        .bind(new.unit_id.get())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::invalid("unit", "所属单位不存在"))?;
    let status: String = unit.try_get("status")?;
    if status != "active" {
        return Err(Error::invalid("unit", "所属单位已被合并"));
    }
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO users (username, display_name, title, unit_id, password_hash, \
         must_change_password, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING id",
    )
    .bind(&new.username)
    .bind(new.display_name.trim())
    .bind(new.title.trim())
    .bind(new.unit_id.get())
    .bind(hash)
    .bind(i64::from(new.must_change_password))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = UserId::from_db(row.try_get("id")?);
    for role in &new.roles {
        sqlx::query(
            "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id.get())
        .bind(role.code())
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}
