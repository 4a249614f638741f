-- Supervision, extended: 特急 items counted in hours, and the deadline history of an item with
-- its extension requests (申请延期). Dates TEXT YYYY-MM-DD, instants BIGINT unix ms.

-- A 特急 item is due this instant (24 hours after it is assigned); NULL for the others.
ALTER TABLE items ADD COLUMN due_at BIGINT;

-- Every request to move an item's deadline, and its outcome: the lead unit asks for a new
-- deadline with a reason, the supervision office approves (the item's deadline changes) or
-- refuses (it stays). At most one request per item is pending at a time.
CREATE TABLE item_deadline_changes (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES items(id),
    unit_id BIGINT REFERENCES units(id),
    old_deadline_text TEXT NOT NULL DEFAULT '',
    old_due_date TEXT,
    new_deadline_text TEXT NOT NULL,
    new_due_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by BIGINT REFERENCES users(id),
    requested_by_name TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by_name TEXT,
    decided_at BIGINT,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX item_deadline_changes_item ON item_deadline_changes (item_id, id);
CREATE UNIQUE INDEX item_deadline_changes_pending ON item_deadline_changes (item_id)
    WHERE status = 'pending';
