-- In-app notifications (站内消息), addressed to users; an idempotency key makes each one
-- enqueued exactly once, so a retried change or a restart never shows it twice. Leaders'
-- instructions (批示) on items, and the urge (催办) count and time per item.

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    item_id BIGINT REFERENCES items(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE item_instructions (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES items(id),
    leader_user_id BIGINT REFERENCES users(id),
    leader_name TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX item_instructions_item ON item_instructions (item_id);

ALTER TABLE items ADD COLUMN urge_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN last_urged_at BIGINT;
