-- Reminders and the outbox (发件箱). Instants BIGINT unix ms.
--
-- The external targets in effect (webhook, 企业微信/钉钉 group robots), written from the
-- [notify] settings at startup; each in-app notification enqueues one outbox row per target in
-- the same transaction.
CREATE TABLE outbox_targets (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'wecom', 'dingtalk')),
    url TEXT NOT NULL,
    UNIQUE (channel, url)
);

-- One message for one external target, delivered at least once by a background worker: a
-- worker claims due rows (attempts + 1, next_attempt_at pushed out by the lease, a fresh
-- claim_token), posts them with the Idempotency-Key header, then marks them delivered or
-- failed with the next attempt after an exponential backoff. A crashed worker's claim simply
-- comes due again when its lease runs out. Rows with attempts at the configured maximum are
-- given up (kept, with their last error).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'wecom', 'dingtalk')),
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claim_token TEXT,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- The last scheduled reminder of each kind per item and unit: the scan sends a reminder only
-- when its key differs from the last one and the minimum interval has passed.
CREATE TABLE item_reminders (
    item_id BIGINT NOT NULL REFERENCES items(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    last_key TEXT NOT NULL,
    last_sent_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, unit_id, kind)
);
