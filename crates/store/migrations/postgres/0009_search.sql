-- Full-text search (ARCHITECTURE §3: search lives in the database). The application cuts the
-- Chinese text of each item and progress report into words with jieba (crate::search) and
-- writes them here as a `tsvector` of the 'simple' configuration (no stemming, no stop words:
-- the words are already words), in the transaction that writes the row. No zhparser or
-- pg_jieba: this works on any stock PostgreSQL and its domestic derivatives.
CREATE TABLE item_search (
    item_id BIGINT PRIMARY KEY REFERENCES items(id),
    tokens tsvector NOT NULL
);
CREATE INDEX item_search_tokens ON item_search USING GIN (tokens);

CREATE TABLE report_search (
    report_id BIGINT PRIMARY KEY REFERENCES progress_reports(id),
    tokens tsvector NOT NULL
);
CREATE INDEX report_search_tokens ON report_search USING GIN (tokens);
