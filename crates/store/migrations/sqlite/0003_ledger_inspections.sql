-- The ledger's year steps (台账：年初建账，平时管账，年中查账，年底结账) and inspections (督查).
-- Dates TEXT YYYY-MM-DD, instants BIGINT unix ms, flags INTEGER 0/1.

-- Who closed a year, and how its unfinished items were dealt with (carry_over | conclude).
ALTER TABLE ledgers ADD COLUMN closed_by TEXT;
ALTER TABLE ledgers ADD COLUMN close_mode TEXT;
ALTER TABLE ledgers ADD COLUMN close_note TEXT NOT NULL DEFAULT '';

-- An item carried over (结转) from the previous year's ledger points at the item it continues.
ALTER TABLE items ADD COLUMN carried_from BIGINT REFERENCES items(id);
CREATE INDEX items_carried_from ON items (carried_from);

-- A closed year accepts no new items: neither an import nor a rectification item.
CREATE TRIGGER items_refuse_closed_ledger BEFORE INSERT ON items
WHEN (SELECT status FROM ledgers WHERE year = new.ledger_year) = 'closed'
BEGIN
    SELECT RAISE(ABORT, '该年度台账已结账，不能再添加事项');
END;

-- 查账 (and the figures frozen at 结账): completion counted on a day, by lead unit and by
-- category, kept exactly as counted. The application has no update or delete path; the
-- triggers refuse one through SQL as well.
CREATE TABLE ledger_snapshots (
    id INTEGER PRIMARY KEY,
    ledger_year BIGINT NOT NULL REFERENCES ledgers(year),
    kind TEXT NOT NULL CHECK (kind IN ('audit', 'close')),
    label TEXT NOT NULL,
    as_of TEXT NOT NULL,
    taken_at BIGINT NOT NULL,
    taken_by TEXT NOT NULL
);
CREATE INDEX ledger_snapshots_year ON ledger_snapshots (ledger_year, id);

CREATE TABLE ledger_snapshot_lines (
    id INTEGER PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES ledger_snapshots(id),
    dimension TEXT NOT NULL CHECK (dimension IN ('total', 'unit', 'category')),
    ordinal BIGINT NOT NULL,
    label TEXT NOT NULL,
    unit_id BIGINT,
    item_count BIGINT NOT NULL,
    closed_count BIGINT NOT NULL,
    on_time_count BIGINT NOT NULL,
    overdue_count BIGINT NOT NULL,
    in_progress_count BIGINT NOT NULL
);
CREATE INDEX ledger_snapshot_lines_snapshot ON ledger_snapshot_lines (snapshot_id, dimension, ordinal);

CREATE TRIGGER ledger_snapshots_no_update BEFORE UPDATE ON ledger_snapshots
BEGIN
    SELECT RAISE(ABORT, '查账记录不可修改');
END;
CREATE TRIGGER ledger_snapshots_no_delete BEFORE DELETE ON ledger_snapshots
BEGIN
    SELECT RAISE(ABORT, '查账记录不可删除');
END;
CREATE TRIGGER ledger_snapshot_lines_no_update BEFORE UPDATE ON ledger_snapshot_lines
BEGIN
    SELECT RAISE(ABORT, '查账记录不可修改');
END;
CREATE TRIGGER ledger_snapshot_lines_no_delete BEFORE DELETE ON ledger_snapshot_lines
BEGIN
    SELECT RAISE(ABORT, '查账记录不可删除');
END;

-- 督查: an inspection of some units by some bodies; each finding opens a rectification item
-- (整改) in the ledger of its deadline's year; a finding may be referred (移交) for
-- 不作为/慢作为/乱作为 to discipline inspection (纪检) or the organisation department (组织部).
CREATE TABLE inspections (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('special', 'unannounced', 'joint', 'on_site')),
    inspected_on TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inspections_date ON inspections (inspected_on, id);

CREATE TABLE inspection_bodies (
    inspection_id BIGINT NOT NULL REFERENCES inspections(id),
    body TEXT NOT NULL
        CHECK (body IN ('office', 'discipline', 'organisation', 'congress', 'cppcc', 'media')),
    PRIMARY KEY (inspection_id, body)
);

CREATE TABLE inspection_units (
    inspection_id BIGINT NOT NULL REFERENCES inspections(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    PRIMARY KEY (inspection_id, unit_id)
);
CREATE INDEX inspection_units_unit ON inspection_units (unit_id);

CREATE TABLE inspection_findings (
    id INTEGER PRIMARY KEY,
    inspection_id BIGINT NOT NULL REFERENCES inspections(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    problem TEXT NOT NULL,
    deadline TEXT NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inspection_findings_inspection ON inspection_findings (inspection_id, id);
CREATE INDEX inspection_findings_item ON inspection_findings (item_id);

CREATE TABLE inspection_referrals (
    id INTEGER PRIMARY KEY,
    finding_id BIGINT NOT NULL REFERENCES inspection_findings(id),
    referred_to TEXT NOT NULL CHECK (referred_to IN ('discipline', 'organisation')),
    conduct TEXT NOT NULL CHECK (conduct IN ('inaction', 'slow_action', 'misconduct')),
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (finding_id, referred_to)
);
