-- Platform: regions, units, users, roles, sessions, API tokens, audit chain, calendar years.
-- Instants are BIGINT unix milliseconds (UTC), civil dates TEXT YYYY-MM-DD, flags INTEGER 0/1,
-- so that sqlx's Any driver decodes both backends the same way.

CREATE TABLE regions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    region_id BIGINT NOT NULL REFERENCES regions(id),
    parent_id BIGINT REFERENCES units(id),
    name TEXT NOT NULL,
    unit_type TEXT NOT NULL,
    key_reporting INTEGER NOT NULL DEFAULT 0 CHECK (key_reporting IN (0, 1)),
    sort_order BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged')),
    merged_into BIGINT REFERENCES units(id),
    -- Materialised path of ids, '/3/17/', so a subtree is one indexed prefix match.
    path TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX units_active_name_under_parent
    ON units (region_id, COALESCE(parent_id, 0), name) WHERE status = 'active';
CREATE INDEX units_path ON units (path);
CREATE INDEX units_name ON units (name);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    unit_id BIGINT NOT NULL REFERENCES units(id),
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    client_addr TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- The chain head: one row, moved forward inside every audited transaction. Updating it first
-- serialises writers on PostgreSQL (row lock) as BEGIN IMMEDIATE does on SQLite, so event ids
-- are gapless chain positions.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_events (
    id BIGINT PRIMARY KEY,
    code BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL,
    actor_unit_id BIGINT,
    target TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    client_addr TEXT,
    occurred_at BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_code ON audit_events (code);
CREATE INDEX audit_events_actor ON audit_events (actor_name);

-- 网络安全法 第二十一条: logs are kept at least six months. The application has no delete path;
-- these triggers stop an accidental UPDATE or early DELETE through SQL as well. A determined
-- attacker can drop them, which is what the keyed chain is for.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, '审计记录不可修改');
END;
CREATE TRIGGER audit_events_keep_six_months BEFORE DELETE ON audit_events
WHEN old.occurred_at > (CAST(strftime('%s', 'now') AS INTEGER) - 183 * 86400) * 1000
BEGIN
    SELECT RAISE(ABORT, '六个月内的审计记录不可删除');
END;

-- An administrator's correction or addition of a year's official holidays, in the text format
-- of the shipped calendar (crates/domain/data/calendar-cn.txt); it replaces the shipped year.
CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
