-- E-mail (电子邮件) as an outbox channel.
--
-- Each user may have an e-mail address ('' = none); a notification to a user with an address
-- is also e-mailed when the [notify] settings name an SMTP relay. The relay in effect is one
-- row of outbox_targets (channel 'email', url 'smtp://host:port'), written at startup like the
-- robots; an e-mail row of the outbox holds the recipient's address in url.
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- SQLite cannot change a CHECK constraint in place, so both outbox tables are rebuilt with
-- 'email' allowed (the documented twelve-step way; nothing references them). Two columns
-- come along for the outbox page: the recipient user of a per-person row, and the
-- notification's title (rows written before this migration have neither).
CREATE TABLE outbox_targets_new (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'wecom', 'dingtalk', 'email')),
    url TEXT NOT NULL,
    UNIQUE (channel, url)
);
INSERT INTO outbox_targets_new (id, channel, url) SELECT id, channel, url FROM outbox_targets;
DROP TABLE outbox_targets;
ALTER TABLE outbox_targets_new RENAME TO outbox_targets;

CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'wecom', 'dingtalk', 'email')),
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claim_token TEXT,
    delivered_at BIGINT,
    last_error TEXT,
    user_id BIGINT,
    title TEXT NOT NULL DEFAULT ''
);
INSERT INTO outbox_new (id, idempotency_key, channel, url, payload, created_at,
    next_attempt_at, attempts, claim_token, delivered_at, last_error)
SELECT id, idempotency_key, channel, url, payload, created_at, next_attempt_at, attempts,
    claim_token, delivered_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
