-- Tallies (ARCHITECTURE §2: totals on busy lists are counters kept by the writing transaction).
-- The ledger page shows, for a year of 50,000 items, its total, the supervisor's four queues and
-- the red and yellow counts; counting them on every request costs tens of milliseconds. Each
-- write that changes an item re-derives the item's row in `item_counted` (what it is counted as)
-- and moves the tallies by the difference, in the same transaction, so a tally always equals a
-- fresh count (`Store::check_tallies` compares them; a test does it after every kind of write).

-- What each measure item (not a 重点任务 group) is counted as. `due_date` only for open items
-- that are not 特急 (those count by the hour, from `items.due_at`): the red and yellow counts
-- for a day are sums over the due-date tallies before and after it.
CREATE TABLE item_counted (
    item_id BIGINT PRIMARY KEY REFERENCES items(id),
    ledger_year BIGINT NOT NULL,
    state TEXT NOT NULL,
    due_date TEXT,
    unacknowledged INTEGER NOT NULL DEFAULT 0,
    coordination INTEGER NOT NULL DEFAULT 0,
    extension INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX item_counted_unacknowledged ON item_counted (ledger_year, item_id) WHERE unacknowledged = 1;
CREATE INDEX item_counted_coordination ON item_counted (ledger_year, item_id) WHERE coordination = 1;
CREATE INDEX item_counted_extension ON item_counted (ledger_year, item_id) WHERE extension = 1;

-- Items per ledger year by name: 'state:<state>' and 'queue:<queue>'.
CREATE TABLE item_tallies (
    ledger_year BIGINT NOT NULL,
    name TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (ledger_year, name)
);

-- Open, non-特急 items per ledger year, due date and state.
CREATE TABLE item_due_tallies (
    ledger_year BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (ledger_year, due_date, state)
);

-- 特急 items are few; their red and yellow counts are fresh counts over this index.
CREATE INDEX items_critical_due ON items (ledger_year, due_at) WHERE urgency = 'critical' AND due_at IS NOT NULL;

-- The rows of a database that existed before this migration.
INSERT INTO item_counted (item_id, ledger_year, state, due_date, unacknowledged, coordination, extension)
SELECT i.id, i.ledger_year, i.state,
    CASE WHEN i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested')
        AND NOT (i.urgency = 'critical' AND i.due_at IS NOT NULL) THEN i.due_date END,
    CASE WHEN i.state = 'assigned' AND EXISTS (SELECT 1 FROM item_units qa
        WHERE qa.item_id = i.id AND qa.role = 'lead' AND qa.acknowledged_at IS NULL) THEN 1 ELSE 0 END,
    CASE WHEN i.state IN ('assigned', 'in_progress', 'closure_requested')
        AND EXISTS (SELECT 1 FROM progress_reports qr WHERE qr.item_id = i.id
        AND qr.coordination <> '' AND qr.id = (SELECT MAX(qm.id) FROM progress_reports qm
        WHERE qm.item_id = i.id AND qm.unit_id = qr.unit_id)) THEN 1 ELSE 0 END,
    CASE WHEN EXISTS (SELECT 1 FROM item_deadline_changes qe WHERE qe.item_id = i.id
        AND qe.status = 'pending') THEN 1 ELSE 0 END
FROM items i WHERE i.is_group = 0;

INSERT INTO item_tallies (ledger_year, name, n)
SELECT ledger_year, 'state:' || state, COUNT(*) FROM item_counted GROUP BY ledger_year, state;
INSERT INTO item_tallies (ledger_year, name, n)
SELECT ledger_year, 'queue:unacknowledged', COUNT(*) FROM item_counted WHERE unacknowledged = 1 GROUP BY ledger_year;
INSERT INTO item_tallies (ledger_year, name, n)
SELECT ledger_year, 'queue:coordination', COUNT(*) FROM item_counted WHERE coordination = 1 GROUP BY ledger_year;
INSERT INTO item_tallies (ledger_year, name, n)
SELECT ledger_year, 'queue:extension', COUNT(*) FROM item_counted WHERE extension = 1 GROUP BY ledger_year;
INSERT INTO item_due_tallies (ledger_year, due_date, state, n)
SELECT ledger_year, due_date, state, COUNT(*) FROM item_counted WHERE due_date IS NOT NULL
GROUP BY ledger_year, due_date, state;
