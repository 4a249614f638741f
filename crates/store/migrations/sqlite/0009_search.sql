-- Full-text search (ARCHITECTURE §3: search lives in the database). The application cuts the
-- Chinese text of each item and progress report into words with jieba (crate::search) and
-- writes them here, joined by spaces, in the transaction that writes the row; `unicode61`
-- splits on those spaces. The FTS rowid is the row's id, always given explicitly (an FTS5
-- INSERT … RETURNING rowid without one returns -1).
--
-- Contentless (content=''): the words are only needed to find rows; a snippet is cut from the
-- row's own text. contentless_delete=1 lets a changed item's entry be deleted by rowid and
-- written again.
CREATE VIRTUAL TABLE item_search USING fts5(
    tokens,
    tokenize = 'unicode61',
    content = '',
    contentless_delete = 1
);
CREATE VIRTUAL TABLE report_search USING fts5(
    tokens,
    tokenize = 'unicode61',
    content = '',
    contentless_delete = 1
);
