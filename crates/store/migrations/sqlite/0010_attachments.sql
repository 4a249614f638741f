-- Attachments (附件): files of progress reports and closure evidence (佐证材料). The bytes live
-- on disk under files/ab/cd/<sm3 hex>, named by their SM3 hash (ARCHITECTURE §10), so the same
-- file uploaded twice is stored once; each upload is one row here, written in the transaction
-- of the report or closure request it belongs to. The file is written before that transaction:
-- a rollback can leave an unreferenced file, never a row without its file.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    sm3 TEXT NOT NULL,
    size BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_by_name TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    uploaded_at BIGINT NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items(id),
    report_id BIGINT REFERENCES progress_reports(id),
    kind TEXT NOT NULL CHECK (kind IN ('report', 'closure'))
);
CREATE INDEX attachments_item ON attachments (item_id, id);
CREATE INDEX attachments_sm3 ON attachments (sm3);
