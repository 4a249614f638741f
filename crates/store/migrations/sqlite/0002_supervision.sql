-- Supervision (督查督办): the year's ledger, items accountable to units, progress reports and
-- each item's history. Dates TEXT YYYY-MM-DD, instants BIGINT unix ms, flags INTEGER 0/1.

CREATE TABLE ledgers (
    year BIGINT PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at BIGINT NOT NULL,
    opened_by TEXT NOT NULL,
    closed_at BIGINT
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    ledger_year BIGINT NOT NULL REFERENCES ledgers(year),
    parent_id BIGINT REFERENCES items(id),
    -- A 重点任务 that groups its measures; it carries no deadline of its own.
    is_group INTEGER NOT NULL DEFAULT 0 CHECK (is_group IN (0, 1)),
    seq TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'decision',
    source_ref TEXT NOT NULL DEFAULT '',
    urgency TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent', 'critical')),
    lead_unit_id BIGINT REFERENCES units(id),
    leader_text TEXT NOT NULL DEFAULT '',
    leader_user_id BIGINT REFERENCES users(id),
    person_text TEXT NOT NULL DEFAULT '',
    deadline_text TEXT NOT NULL DEFAULT '',
    deadline_kind TEXT NOT NULL DEFAULT 'date',
    due_date TEXT,
    milestones TEXT NOT NULL DEFAULT '',
    cadence TEXT,
    working_days BIGINT,
    note TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'registered',
    assigned_at BIGINT,
    closed_at BIGINT,
    -- 重点任务|具体措施|牵头单位: an item already in the ledger is refused as a duplicate.
    dedup_key TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX items_dedup ON items (ledger_year, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX items_ledger_state_due ON items (ledger_year, state, due_date, id);
CREATE INDEX items_parent ON items (parent_id);
CREATE INDEX items_lead ON items (lead_unit_id);

CREATE TABLE item_units (
    item_id BIGINT NOT NULL REFERENCES items(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'co')),
    acknowledged_at BIGINT,
    last_report_at BIGINT,
    PRIMARY KEY (item_id, unit_id)
);
CREATE INDEX item_units_unit ON item_units (unit_id, item_id);

CREATE TABLE progress_reports (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES items(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    author_id BIGINT REFERENCES users(id),
    author_name TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    done TEXT NOT NULL DEFAULT '',
    problems TEXT NOT NULL DEFAULT '',
    coordination TEXT NOT NULL DEFAULT '',
    next_steps TEXT NOT NULL DEFAULT '',
    percent BIGINT
);
CREATE INDEX progress_reports_item ON progress_reports (item_id, reported_at);

CREATE TABLE item_history (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES items(id),
    action TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    unit_id BIGINT,
    from_state TEXT,
    to_state TEXT,
    note TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL
);
CREATE INDEX item_history_item ON item_history (item_id, at);
