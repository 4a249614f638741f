//! Full-text search over supervision items and progress reports (ARCHITECTURE §3: search lives
//! in the database).
//!
//! Chinese is written without spaces, and neither SQLite's `unicode61` tokenizer nor
//! PostgreSQL's `simple` configuration can find its word boundaries. So the application cuts the
//! text into words with jieba in search mode (a long word also yields its shorter dictionary
//! words: 督查督办 → 督查, 督办, 督查督办), and the database indexes those words joined by
//! spaces: an FTS5 table on SQLite, a `tsvector` with a GIN index on PostgreSQL, keyed by the
//! row's id. [`index`] writes the entries of the items and reports a write touched, called by
//! [`crate::Write::commit`] inside the same transaction, so an entry never lags its row;
//! [`Store::rebuild_search_index`] writes them all again (after bulk generation, or as a repair).
//!
//! A query is cut the same way and every one of its words must match. Words reach the database
//! only as runs of letters and digits, quoted one by one (FTS5) or as plain text
//! (`plainto_tsquery`), so nothing a person types is read as query syntax. Snippets are cut in
//! Rust from the rows' own text, so both engines show the same ones. Who sees which hits is the
//! ledger list's rule (`supervision::item_where`): a unit sees only its own items and their
//! reports, and the hit counts are counted under the same rule.

use crate::Store;
use crate::bulk::{self, Arg};
use crate::db::{self, Backend};
use crate::error::{Error, Result};
use crate::supervision::{Bind, ItemFilter, bound, item_where};
use jieba_rs::Jieba;
use sqlx::Row;
use std::collections::HashSet;
use std::sync::LazyLock;
use zhongshu_domain::access::Viewer;
use zhongshu_domain::supervision::ItemState;

/// Domain words jieba's dictionary lacks or would cut apart, one a line (`#` starts a comment).
const DOMAIN_WORDS: &str = include_str!("../data/search-words.txt");

/// The segmenter, built on first use: loading the dictionary takes about 150 ms, so the server
/// calls [`warm_up`] at start rather than make the first search or write wait.
static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    for word in DOMAIN_WORDS
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty() && !w.starts_with('#'))
    {
        // No frequency: jieba suggests one just high enough to keep the word whole.
        jieba.add_word(word, None, None);
    }
    jieba
});

/// The longest query accepted, in characters: a search box, not a document.
const MAX_QUERY_CHARS: usize = 100;
/// Ids per statement when reading texts or deleting entries (written into the statement, not
/// bound).
const CHUNK: usize = 1000;
/// Texts from which segmentation is spread over the cores.
const PARALLEL_TEXTS: usize = 2000;
/// Rows per transaction when rebuilding the whole index.
const REBUILD_BATCH: i64 = 1000;
/// Characters of context shown before the first match in a snippet, and the snippet's length.
const SNIPPET_BEFORE: usize = 16;
const SNIPPET_CHARS: usize = 80;

/// Loads the segmenter's dictionary now (call it at server start, off the request path).
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// The words a text is indexed (or a query searched) by: jieba's search-mode cut, without HMM,
/// split into runs of letters and digits, lowercased, each once, in order.
///
/// Without HMM, a word missing from the dictionary falls apart into single characters the same
/// way wherever it appears, while HMM's guess at an unknown word depends on its neighbours, so a
/// name could be cut one way in a report and another in the query. Punctuation and spaces are
/// dropped: they are not words, and on PostgreSQL the `simple` parser would keep a CJK
/// punctuation mark as part of a word. Letters and digits only also means a word can carry no
/// quote or operator into a query.
pub fn words(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for token in JIEBA.cut_for_search(text, false) {
        for run in token.word.split(|c: char| !c.is_alphanumeric()) {
            if run.is_empty() {
                continue;
            }
            let run = run.to_lowercase();
            if seen.insert(run.clone()) {
                out.push(run);
            }
        }
    }
    out
}

/// The words of a query, or the reason it cannot be searched.
fn query_words(query: &str) -> Result<Vec<String>> {
    let query = query.trim();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::invalid(
            "q",
            format!("搜索词不能超过{MAX_QUERY_CHARS}个字"),
        ));
    }
    let words = words(query);
    if words.is_empty() {
        return Err(Error::invalid("q", "请输入要搜索的词"));
    }
    Ok(words)
}

/// An FTS5 query that requires every word: each quoted as a phrase, so `OR`, `NEAR`, `*`, `:`
/// or a column name typed by a person are searched for as words, never obeyed.
fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// One index: items or progress reports.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Item,
    Report,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Item => "item_search",
            Kind::Report => "report_search",
        }
    }

    /// The column holding the row's id: FTS5 keys by its rowid.
    fn key(self, backend: Backend) -> &'static str {
        match (backend, self) {
            (Backend::Sqlite, _) => "rowid",
            (Backend::Postgres, Kind::Item) => "item_id",
            (Backend::Postgres, Kind::Report) => "report_id",
        }
    }
}

/// The text an item is found by: its 具体措施, content, 重点任务, note, deadline text and lead
/// unit. Groups (重点任务) get no entry of their own; their title is in each measure's.
async fn item_texts(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT i.id, i.title, i.content, i.note, i.deadline_text, \
             COALESCE(p.title, '') AS parent_title, COALESCE(u.name, '') AS lead_unit \
             FROM items i LEFT JOIN items p ON p.id = i.parent_id \
             LEFT JOIN units u ON u.id = i.lead_unit_id \
             WHERE i.is_group = 0 AND i.id IN ({})",
            bulk::id_list(chunk)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for r in q.fetch_all(&mut *conn).await? {
            let text = [
                "title",
                "content",
                "parent_title",
                "note",
                "deadline_text",
                "lead_unit",
            ]
            .iter()
            .map(|c| r.try_get::<String, _>(*c))
            .collect::<Result<Vec<_>, _>>()?
            .join("\n");
            out.push((r.try_get("id")?, text));
        }
    }
    Ok(out)
}

/// The text a progress report is found by: what was done, problems, coordination, next steps.
async fn report_texts(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, done, problems, coordination, next_steps FROM progress_reports \
             WHERE id IN ({})",
            bulk::id_list(chunk)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for r in q.fetch_all(&mut *conn).await? {
            let text = ["done", "problems", "coordination", "next_steps"]
                .iter()
                .map(|c| r.try_get::<String, _>(*c))
                .collect::<Result<Vec<_>, _>>()?
                .join("\n");
            out.push((r.try_get("id")?, text));
        }
    }
    Ok(out)
}

/// Cuts each text into its words, joined by spaces, on a blocking thread: a large import or a
/// rebuild batch is tens of milliseconds of CPU, and the first cut loads the dictionary. Many
/// texts (an import) are cut on every core: segmentation was a third of a 10,000-row import.
async fn segment(texts: Vec<(i64, String)>) -> Result<Vec<(i64, String)>> {
    tokio::task::spawn_blocking(move || {
        let cut = |part: &[(i64, String)]| -> Vec<(i64, String)> {
            part.iter()
                .map(|(id, text)| (*id, words(text).join(" ")))
                .filter(|(_, words)| !words.is_empty())
                .collect()
        };
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        if texts.len() < PARALLEL_TEXTS || cores < 2 {
            return Ok(cut(&texts));
        }
        let per = texts.len().div_ceil(cores);
        std::thread::scope(|scope| {
            let parts: Vec<_> = texts
                .chunks(per)
                .map(|part| scope.spawn(move || cut(part)))
                .collect();
            let mut out = Vec::with_capacity(texts.len());
            for part in parts {
                out.extend(
                    part.join()
                        .map_err(|_| Error::Internal("分词线程中断".to_owned()))?,
                );
            }
            Ok(out)
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("分词任务失败：{e}")))?
}

/// Deletes the entries of `ids`, then writes `entries` (id, words).
async fn write_entries(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
    ids: &[i64],
    entries: &[(i64, String)],
) -> Result<()> {
    let backend = bulk::backend_of(conn);
    let (table, key) = (kind.table(), kind.key(backend));
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN ({})",
            bulk::id_list(chunk)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(false)
            .execute(&mut *conn)
            .await?;
    }
    let rows: Vec<Vec<Arg>> = entries
        .iter()
        .map(|(id, words)| vec![Arg::from(*id), Arg::from(words.as_str())])
        .collect();
    bulk::insert_with(
        conn,
        &format!("INSERT INTO {table} ({key}, tokens)"),
        "",
        &rows,
        |column, p| match (backend, column) {
            (Backend::Postgres, 1) => format!("to_tsvector('simple', {p})"),
            _ => p,
        },
    )
    .await?;
    Ok(())
}

/// Brings the search entries of these items up to date (an item that no longer exists or is a
/// group gets none) and indexes these newly added progress reports, inside the caller's
/// transaction. Called by [`crate::Write::commit`] for what the write touched.
pub(crate) async fn index(
    conn: &mut sqlx::AnyConnection,
    items: &[i64],
    reports: &[i64],
) -> Result<()> {
    if !items.is_empty() {
        let texts = item_texts(conn, items).await?;
        let entries = segment(texts).await?;
        write_entries(conn, Kind::Item, items, &entries).await?;
    }
    if !reports.is_empty() {
        let texts = report_texts(conn, reports).await?;
        let entries = segment(texts).await?;
        write_entries(conn, Kind::Report, reports, &entries).await?;
    }
    Ok(())
}

/// How many entries a rebuild wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reindexed {
    pub items: u64,
    pub reports: u64,
}

/// A piece of a snippet: plain text, or a searched word to mark.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// A short piece of a row's text around the first searched word, in parts, so a page marks the
/// words with a template and never builds HTML from strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Snippet {
    /// Which text it comes from: 事项内容, 存在问题…
    pub field: &'static str,
    pub parts: Vec<SnippetPart>,
}

/// An item found by its text.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemHit {
    pub item_id: i64,
    pub title: String,
    /// The 重点任务 it belongs to.
    pub parent_title: String,
    pub ledger_year: i64,
    pub lead_unit: String,
    pub state: ItemState,
    pub snippet: Snippet,
}

/// A progress report found by its text, with the item it reports on.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReportHit {
    pub report_id: i64,
    pub item_id: i64,
    pub item_title: String,
    pub ledger_year: i64,
    pub lead_unit: String,
    pub state: ItemState,
    /// The unit that reported.
    pub unit: String,
    pub reported_at: i64,
    pub snippet: Snippet,
}

/// What a search found, newest ledger year first, with the number of all hits of each kind the
/// viewer may see (the lists stop at the limit).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SearchResults {
    pub query: String,
    /// The words searched for, after segmentation.
    pub words: Vec<String>,
    pub items: Vec<ItemHit>,
    pub item_count: i64,
    pub reports: Vec<ReportHit>,
    pub report_count: i64,
}

/// A query with the visibility binds first and the search words last.
fn with_words(
    sql: String,
    binds: &[Bind],
    needle: &str,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    bound(sql, binds.iter().cloned()).bind(needle.to_owned())
}

impl Store {
    /// Items and progress reports whose text contains every word of `query`, among those the
    /// viewer may see (the ledger list's rule), newest ledger year first, at most `limit` of
    /// each kind, with the number of all such hits. An empty or punctuation-only query is
    /// refused; a viewer who sees no items gets no hits.
    pub async fn search(&self, viewer: &Viewer, query: &str, limit: i64) -> Result<SearchResults> {
        let words = query_words(query)?;
        let mut results = SearchResults {
            query: query.trim().to_owned(),
            words,
            ..SearchResults::default()
        };
        let Some((visible, binds)) = item_where(viewer, &ItemFilter::default()) else {
            return Ok(results);
        };
        let limit = limit.clamp(1, 200);
        let n = binds.len() + 1;
        let (items_from, reports_from, matches_item, matches_report, needle) = match self.backend()
        {
            Backend::Sqlite => (
                "item_search JOIN items i ON i.id = item_search.rowid",
                "report_search JOIN progress_reports r ON r.id = report_search.rowid",
                format!("item_search MATCH ${n}"),
                format!("report_search MATCH ${n}"),
                fts5_query(&results.words),
            ),
            Backend::Postgres => (
                "item_search s JOIN items i ON i.id = s.item_id",
                "report_search s JOIN progress_reports r ON r.id = s.report_id",
                format!("s.tokens @@ plainto_tsquery('simple', ${n})"),
                format!("s.tokens @@ plainto_tsquery('simple', ${n})"),
                // Letters and digits separated by spaces: plain text, ANDed by PostgreSQL.
                results.words.join(" "),
            ),
        };
        let item_where_sql = format!("WHERE {matches_item} AND i.is_group = 0 {visible}");
        results.item_count = with_words(
            format!("SELECT COUNT(*) AS n FROM {items_from} {item_where_sql}"),
            &binds,
            &needle,
        )
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        let rows = with_words(
            format!(
                "SELECT i.id, i.title, i.ledger_year, i.state, i.content, i.note, \
                 i.deadline_text, COALESCE(p.title, '') AS parent_title, \
                 COALESCE(u.name, '') AS lead_unit \
                 FROM {items_from} LEFT JOIN items p ON p.id = i.parent_id \
                 LEFT JOIN units u ON u.id = i.lead_unit_id {item_where_sql} \
                 ORDER BY i.ledger_year DESC, i.id LIMIT {limit}"
            ),
            &binds,
            &needle,
        )
        .fetch_all(self.pool())
        .await?;
        for r in rows {
            let title: String = r.try_get("title")?;
            let parent_title: String = r.try_get("parent_title")?;
            let lead_unit: String = r.try_get("lead_unit")?;
            let content: String = r.try_get("content")?;
            let note: String = r.try_get("note")?;
            let deadline: String = r.try_get("deadline_text")?;
            let snippet = snippet(
                &[
                    ("事项内容", &content),
                    ("备注", &note),
                    ("具体措施", &title),
                    ("重点任务", &parent_title),
                    ("完成时限", &deadline),
                    ("牵头单位", &lead_unit),
                ],
                &results.words,
            );
            results.items.push(ItemHit {
                item_id: r.try_get("id")?,
                ledger_year: r.try_get("ledger_year")?,
                state: state_of(&r)?,
                title,
                parent_title,
                lead_unit,
                snippet,
            });
        }
        let report_where_sql = format!("WHERE {matches_report} AND i.is_group = 0 {visible}");
        results.report_count = with_words(
            format!(
                "SELECT COUNT(*) AS n FROM {reports_from} JOIN items i ON i.id = r.item_id \
                 {report_where_sql}"
            ),
            &binds,
            &needle,
        )
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        let rows = with_words(
            format!(
                "SELECT r.id, r.item_id, r.reported_at, r.done, r.problems, r.coordination, \
                 r.next_steps, COALESCE(ru.name, '') AS unit_name, i.title, i.ledger_year, \
                 i.state, COALESCE(u.name, '') AS lead_unit \
                 FROM {reports_from} JOIN items i ON i.id = r.item_id \
                 LEFT JOIN units ru ON ru.id = r.unit_id \
                 LEFT JOIN units u ON u.id = i.lead_unit_id {report_where_sql} \
                 ORDER BY i.ledger_year DESC, r.reported_at DESC, r.id DESC LIMIT {limit}"
            ),
            &binds,
            &needle,
        )
        .fetch_all(self.pool())
        .await?;
        for r in rows {
            let done: String = r.try_get("done")?;
            let problems: String = r.try_get("problems")?;
            let coordination: String = r.try_get("coordination")?;
            let next_steps: String = r.try_get("next_steps")?;
            let snippet = snippet(
                &[
                    ("已完成", &done),
                    ("存在问题", &problems),
                    ("需协调事项", &coordination),
                    ("下步打算", &next_steps),
                ],
                &results.words,
            );
            results.reports.push(ReportHit {
                report_id: r.try_get("id")?,
                item_id: r.try_get("item_id")?,
                item_title: r.try_get("title")?,
                ledger_year: r.try_get("ledger_year")?,
                lead_unit: r.try_get("lead_unit")?,
                state: state_of(&r)?,
                unit: r.try_get("unit_name")?,
                reported_at: r.try_get("reported_at")?,
                snippet,
            });
        }
        Ok(results)
    }

    /// Writes every search entry again from the rows, in transactions of about a thousand rows,
    /// and removes entries whose row is gone: after bulk generation (which writes rows without
    /// the per-write hook) and as a repair. Search keeps working meanwhile, as entries are
    /// replaced one batch at a time rather than dropped first. An item changed while its batch
    /// is being written is indexed again by its own write.
    pub async fn rebuild_search_index(&self) -> Result<Reindexed> {
        let backend = self.backend();
        let mut tx = db::begin_write(self.pool(), backend).await?;
        let orphans: [&str; 2] = match backend {
            Backend::Sqlite => [
                "DELETE FROM item_search WHERE NOT EXISTS (SELECT 1 FROM items i \
                 WHERE i.id = item_search.rowid AND i.is_group = 0)",
                "DELETE FROM report_search WHERE NOT EXISTS (SELECT 1 FROM progress_reports r \
                 WHERE r.id = report_search.rowid)",
            ],
            Backend::Postgres => [
                "DELETE FROM item_search s WHERE NOT EXISTS (SELECT 1 FROM items i \
                 WHERE i.id = s.item_id AND i.is_group = 0)",
                "DELETE FROM report_search s WHERE NOT EXISTS (SELECT 1 FROM progress_reports r \
                 WHERE r.id = s.report_id)",
            ],
        };
        for sql in orphans {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let mut done = Reindexed::default();
        for kind in [Kind::Item, Kind::Report] {
            let next_ids = match kind {
                Kind::Item => {
                    "SELECT id FROM items WHERE id > $1 AND is_group = 0 ORDER BY id LIMIT $2"
                }
                Kind::Report => {
                    "SELECT id FROM progress_reports WHERE id > $1 ORDER BY id LIMIT $2"
                }
            };
            let mut after = 0_i64;
            loop {
                let mut tx = db::begin_write(self.pool(), backend).await?;
                let ids: Vec<i64> = sqlx::query(next_ids)
                    .bind(after)
                    .bind(REBUILD_BATCH)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?;
                let Some(&last) = ids.last() else {
                    tx.commit().await?;
                    break;
                };
                let texts = match kind {
                    Kind::Item => item_texts(&mut tx, &ids).await?,
                    Kind::Report => report_texts(&mut tx, &ids).await?,
                };
                let entries = segment(texts).await?;
                write_entries(&mut tx, kind, &ids, &entries).await?;
                tx.commit().await?;
                let written = u64::try_from(entries.len()).unwrap_or(u64::MAX);
                match kind {
                    Kind::Item => done.items += written,
                    Kind::Report => done.reports += written,
                }
                after = last;
            }
        }
        Ok(done)
    }
}

fn state_of(r: &sqlx::any::AnyRow) -> Result<ItemState> {
    let code: String = r.try_get("state")?;
    Ok(ItemState::from_code(&code).unwrap_or(ItemState::Registered))
}

/// Where the searched words occur in `text` (as char ranges, in order, not overlapping): at
/// each place the longest word that starts there. ASCII letters match either case, as the
/// indexes fold case.
fn find_words(text: &[char], words: &[Vec<char>]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let hit = words.iter().find(|w| {
            !w.is_empty()
                && text.len() - i >= w.len()
                && text[i..i + w.len()]
                    .iter()
                    .zip(w.iter())
                    .all(|(a, b)| a.to_lowercase().eq(std::iter::once(*b)))
        });
        match hit {
            Some(w) => {
                found.push((i, i + w.len()));
                i += w.len();
            }
            None => i += 1,
        }
    }
    found
}

/// A field's text with where the searched words occur in it.
struct Candidate {
    /// How many different words occur.
    distinct: usize,
    field: &'static str,
    text: Vec<char>,
    found: Vec<(usize, usize)>,
}

/// The snippet of the field where the most distinct searched words occur (the first such
/// field on a tie), around the first of them; the first non-empty field, unmarked, if none
/// occurs (the index folds some characters the snippet compares as they are, say).
fn snippet(fields: &[(&'static str, &str)], words: &[String]) -> Snippet {
    let mut words: Vec<Vec<char>> = words.iter().map(|w| w.chars().collect()).collect();
    // Longest first, so 督查督办 is marked whole rather than as 督查 then 督办.
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut best: Option<Candidate> = None;
    for (field, text) in fields {
        // One line: line breaks and runs of spaces would not show in a list anyway.
        let text: Vec<char> = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .collect();
        if text.is_empty() {
            continue;
        }
        let found = find_words(&text, &words);
        let distinct = found
            .iter()
            .map(|&(a, b)| text[a..b].iter().collect::<String>().to_lowercase())
            .collect::<HashSet<_>>()
            .len();
        if best.as_ref().is_none_or(|b| distinct > b.distinct) {
            best = Some(Candidate {
                distinct,
                field,
                text,
                found,
            });
        }
    }
    let Some(Candidate {
        field, text, found, ..
    }) = best
    else {
        return Snippet::default();
    };
    let start = found
        .first()
        .map_or(0, |&(a, _)| a.saturating_sub(SNIPPET_BEFORE));
    let mut end = (start + SNIPPET_CHARS).min(text.len());
    // Never cut a marked word in two.
    if let Some(&(_, b)) = found.iter().find(|&&(a, b)| a < end && b > end) {
        end = b;
    }
    let mut parts = Vec::new();
    let mut plain = String::new();
    if start > 0 {
        plain.push('…');
    }
    let mut at = start;
    for &(a, b) in found.iter().filter(|&&(a, _)| a >= start && a < end) {
        plain.extend(&text[at..a]);
        if !plain.is_empty() {
            parts.push(SnippetPart {
                text: std::mem::take(&mut plain),
                hit: false,
            });
        }
        parts.push(SnippetPart {
            text: text[a..b].iter().collect(),
            hit: true,
        });
        at = b;
    }
    plain.extend(&text[at..end]);
    if end < text.len() {
        plain.push('…');
    }
    if !plain.is_empty() {
        parts.push(SnippetPart {
            text: plain,
            hit: false,
        });
    }
    Snippet { field, parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &Snippet) -> String {
        s.parts
            .iter()
            .map(|p| {
                if p.hit {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn a_domain_word_is_kept_whole_and_its_parts_are_offered_too() {
        let w = words("建立督查督办工作机制");
        for expected in ["督查督办", "督查", "督办", "工作", "机制"] {
            assert!(w.contains(&expected.to_owned()), "{expected} not in {w:?}");
        }
    }

    #[test]
    fn punctuation_and_spaces_are_not_words_and_letters_are_lowercased() {
        let w = words("整改， 「销号」！ WES-5.4 OR \"x\" NEAR( * : '");
        assert!(w.contains(&"整改".to_owned()), "{w:?}");
        assert!(w.contains(&"销号".to_owned()), "{w:?}");
        assert!(w.contains(&"wes".to_owned()), "{w:?}");
        assert!(w.contains(&"or".to_owned()), "{w:?}");
        assert!(
            w.iter().all(|t| t.chars().all(char::is_alphanumeric)),
            "{w:?}"
        );
        assert!(words("，。！？ … \"*:").is_empty());
    }

    #[test]
    fn an_empty_or_punctuation_only_query_is_refused_in_chinese() {
        for q in ["", "   ", "，。！", "\"*"] {
            match query_words(q) {
                Err(Error::Invalid(p)) => {
                    assert_eq!(p[0].field, "q");
                    assert_eq!(p[0].message, "请输入要搜索的词");
                }
                other => panic!("{q:?} gave {other:?}"),
            }
        }
        assert!(query_words(&"督".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }

    #[test]
    fn each_fts5_word_is_a_quoted_phrase() {
        let q = fts5_query(&["督办".to_owned(), "or".to_owned()]);
        assert_eq!(q, "\"督办\" AND \"or\"");
    }

    #[test]
    fn a_snippet_marks_every_searched_word_around_the_first() {
        let words = vec!["督办".to_owned(), "督查督办".to_owned(), "整改".to_owned()];
        let text = format!("{}加强督查督办，抓好整改落实，督办到底。", "前".repeat(40));
        let s = snippet(&[("备注", ""), ("事项内容", &text)], &words);
        assert_eq!(s.field, "事项内容");
        let m = marked(&s);
        assert!(m.starts_with('…'), "{m}");
        assert!(
            m.contains("加强[督查督办]，抓好[整改]落实，[督办]到底"),
            "{m}"
        );
        assert!(m.chars().count() <= SNIPPET_CHARS + 10, "{m}");
    }

    #[test]
    fn the_field_with_the_most_searched_words_is_shown() {
        let words = vec!["资金".to_owned(), "到位".to_owned()];
        let s = snippet(
            &[("已完成", "资金已申请"), ("存在问题", "资金到位较慢")],
            &words,
        );
        assert_eq!(s.field, "存在问题");
        assert_eq!(marked(&s), "[资金][到位]较慢");
    }

    #[test]
    fn ascii_words_are_marked_in_either_case() {
        let s = snippet(&[("备注", "上线 WES 系统")], &["wes".to_owned()]);
        assert_eq!(marked(&s), "上线 [WES] 系统");
    }
}
