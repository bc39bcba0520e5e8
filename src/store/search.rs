//! The full-text index's SQL: its migrations, how a revision is indexed and the index rebuilt,
//! and the reads the search engine (`crate::search`) makes, which hands over FTS5 expressions
//! ready to run.
//!
//! Two FTS5 tables with external content hold both languages: `exchange_search` over the
//! `exchanges` rows (`question`, `answer`; row id `search_rowid`, the revision and ordinal in one
//! integer) and `text_search` over `revision_texts` (`title`, `opening`; row id the revision's).
//! They store no text of their own: `highlight()` reads it from those rows. Both use the store's
//! tokenizer (see [`super::tokenizer`]).
//!
//! A passage that several revisions of a briefing have word for word is indexed once, in the
//! latest revision that has it: that is the one a search shows, and searches need not merge the
//! copies. (So the index holds every row of its content tables except those earlier copies.)

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, date_at, lang_at, sql};
use crate::model::{Briefing, Kind, Lang};

/// The first index: one contentless table of exchanges, and the spokesperson column the filters
/// use. (Replaced since; kept so that every archive goes through the same steps.)
pub(super) const CONTENTLESS_MIGRATION: &str = "
CREATE VIRTUAL TABLE exchange_search USING fts5(
    body, content='', columnsize=0,
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TABLE search_spans (
    first_rowid INTEGER PRIMARY KEY,
    revision_id INTEGER NOT NULL UNIQUE REFERENCES revisions(id),
    span INTEGER NOT NULL
);
ALTER TABLE documents ADD COLUMN spokesperson TEXT;
";

/// The contentless index merged its segments once eight of a size had piled up. (Replaced since.)
pub(super) const MERGE_MIGRATION: &str =
    "INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);";

/// The contentless index with a column of words in capitals and a row for each briefing's own
/// text. (Replaced since: the index of external content is built from the text rows.)
pub(super) const PASSAGES_MIGRATION: &str = "
DROP TABLE exchange_search;
CREATE VIRTUAL TABLE exchange_search USING fts5(
    body, capitals, content='', columnsize=0,
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);
ALTER TABLE search_spans ADD COLUMN text_hash TEXT;
";

/// Today's index: FTS5 with external content over the text rows, built by [`fill_hook`].
pub(super) const EXTERNAL_CONTENT_MIGRATION: &str =
    include_str!("migrations/0013_search_external_content.sql");

/// Fills the index from the text rows (SQLite reads every row) and takes the earlier copies of
/// passages out, then sets each document's spokesperson for the filters.
const FILL: &str = "
INSERT INTO exchange_search(exchange_search) VALUES ('rebuild');
INSERT INTO text_search(text_search) VALUES ('rebuild');
INSERT INTO exchange_search (exchange_search, rowid, question, answer)
SELECT 'delete', e.search_rowid, e.question, e.answer
FROM exchanges e JOIN revisions r ON r.id = e.revision_id
WHERE EXISTS (
    SELECT 1 FROM revisions later JOIN exchanges copy ON copy.revision_id = later.id
    WHERE later.document_id = r.document_id AND later.seq > r.seq
      AND copy.question_hash = e.question_hash AND copy.answer_hash = e.answer_hash);
INSERT INTO text_search (text_search, rowid, title, opening)
SELECT 'delete', t.revision_id, t.title, t.opening
FROM revision_texts t JOIN revisions r ON r.id = t.revision_id
WHERE EXISTS (
    SELECT 1 FROM revisions later JOIN revision_texts copy ON copy.revision_id = later.id
    WHERE later.document_id = r.document_id AND later.seq > r.seq
      AND copy.title = t.title AND copy.opening = t.opening);
INSERT INTO exchange_search(exchange_search) VALUES ('optimize');
INSERT INTO text_search(text_search) VALUES ('optimize');
UPDATE documents SET spokesperson = (
    SELECT t.spokesperson FROM revisions r JOIN revision_texts t ON t.revision_id = r.id
    WHERE r.document_id = documents.id ORDER BY r.seq DESC LIMIT 1
);
";

/// Migration hook: builds the index the migration created from the text rows.
pub(super) fn fill_hook(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    tx.execute_batch(FILL).map_err(|error| {
        rusqlite_migration::HookError::Hook(format!("building the search index: {error}"))
    })
}

/// Adds one new revision, whose text rows are written, to the index, and takes out the copies
/// of its passages that earlier revisions of the document have; called inside the ingest
/// transaction.
pub(super) fn index_revision(
    conn: &Connection,
    revision_id: i64,
    document_id: i64,
    briefing: &Briefing,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE documents SET spokesperson = ?2 WHERE id = ?1")?
        .execute(params![document_id, briefing.spokesperson])?;
    conn.prepare_cached(
        "INSERT INTO exchange_search (rowid, question, answer)
         SELECT search_rowid, question, answer FROM exchanges WHERE revision_id = ?1",
    )?
    .execute([revision_id])?;
    conn.prepare_cached(
        "INSERT INTO text_search (rowid, title, opening)
         SELECT revision_id, title, opening FROM revision_texts WHERE revision_id = ?1",
    )?
    .execute([revision_id])?;
    // The copies still indexed are those no revision between has.
    conn.prepare_cached(
        "INSERT INTO exchange_search (exchange_search, rowid, question, answer)
         SELECT 'delete', e.search_rowid, e.question, e.answer
         FROM revisions new
         JOIN revisions r ON r.document_id = new.document_id AND r.seq < new.seq
         JOIN exchanges e ON e.revision_id = r.id
         WHERE new.id = ?1
           AND EXISTS (
               SELECT 1 FROM exchanges copy WHERE copy.revision_id = new.id
                 AND copy.question_hash = e.question_hash AND copy.answer_hash = e.answer_hash)
           AND NOT EXISTS (
               SELECT 1 FROM revisions middle JOIN exchanges copy ON copy.revision_id = middle.id
               WHERE middle.document_id = new.document_id
                 AND middle.seq > r.seq AND middle.seq < new.seq
                 AND copy.question_hash = e.question_hash AND copy.answer_hash = e.answer_hash)",
    )?
    .execute([revision_id])?;
    conn.prepare_cached(
        "INSERT INTO text_search (text_search, rowid, title, opening)
         SELECT 'delete', t.revision_id, t.title, t.opening
         FROM revisions new
         JOIN revisions r ON r.document_id = new.document_id AND r.seq < new.seq
         JOIN revision_texts t ON t.revision_id = r.id
         JOIN revision_texts newest ON newest.revision_id = new.id
         WHERE new.id = ?1 AND newest.title = t.title AND newest.opening = t.opening
           AND NOT EXISTS (
               SELECT 1 FROM revisions middle
               JOIN revision_texts copy ON copy.revision_id = middle.id
               WHERE middle.document_id = new.document_id
                 AND middle.seq > r.seq AND middle.seq < new.seq
                 AND copy.title = t.title AND copy.opening = t.opening)",
    )?
    .execute([revision_id])?;
    Ok(())
}

/// Rebuilds both indexes from the text rows. Returns the number of revisions indexed.
pub(super) fn rebuild(conn: &Connection) -> Result<u64> {
    conn.execute_batch(FILL)
        .map_err(sql("rebuilding the search index"))?;
    conn.query_row("SELECT COUNT(*) FROM revisions", [], |row| row.get(0))
        .map_err(sql("counting the revisions indexed"))
}

/// Which documents a search looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    pub lang: Option<Lang>,
    /// Briefing dates, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The spokesperson's names (any of them).
    pub spokespersons: Option<Vec<String>>,
}

/// The documents that pass `filter`, with their briefing date. Without a spokesperson to look
/// for, an index holds all it reads.
pub fn searchable_documents(
    conn: &Connection,
    filter: &DocumentFilter,
) -> Result<Vec<(i64, Option<NaiveDate>)>> {
    const DATES: &str = "(?1 IS NULL OR lang = ?1)
        AND (?2 IS NULL OR briefing_date >= ?2) AND (?3 IS NULL OR briefing_date <= ?3)";
    let statement = match filter.spokespersons {
        None => format!("SELECT id, briefing_date FROM documents WHERE {DATES}"),
        Some(_) => format!(
            "SELECT id, briefing_date FROM documents WHERE {DATES}
             AND spokesperson IN (SELECT value FROM json_each(?4))"
        ),
    };
    let spokespersons = filter
        .spokespersons
        .as_ref()
        .map(|names| serde_json::Value::from(names.clone()).to_string());
    let mut stmt = conn
        .prepare_cached(&statement)
        .map_err(sql("preparing the search"))?;
    let lang = filter.lang.map(Lang::as_str);
    let (from, to) = (
        filter.from.map(|d| d.to_string()),
        filter.to.map(|d| d.to_string()),
    );
    let read = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, date_at(row, 1)?));
    match spokespersons {
        None => stmt.query_map(params![lang, from, to], read),
        Some(names) => stmt.query_map(params![lang, from, to, names], read),
    }
    .and_then(Iterator::collect)
    .map_err(sql("reading the documents to search"))
}

/// Every revision as (id, document id, sequence number), read from an index.
pub fn revision_numbers(conn: &Connection) -> Result<Vec<(i64, i64, i64)>> {
    conn.prepare_cached("SELECT id, document_id, seq FROM revisions")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect()
        })
        .map_err(sql("reading the revisions to search"))
}

/// The exchanges that match an FTS5 expression over `exchange_search`, as (revision id,
/// ordinal).
pub fn matching_exchanges(conn: &Connection, fts: &str) -> Result<Vec<(i64, u32)>> {
    conn.prepare_cached(
        "SELECT rowid / 65536, rowid % 65536 FROM exchange_search WHERE exchange_search MATCH ?1",
    )
    .and_then(|mut stmt| {
        stmt.query_map([fts], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    })
    .map_err(sql("searching the exchanges"))
}

/// The revisions whose own text (title, opening) matches an FTS5 expression over `text_search`.
pub fn matching_texts(conn: &Connection, fts: &str) -> Result<Vec<i64>> {
    conn.prepare_cached("SELECT rowid FROM text_search WHERE text_search MATCH ?1")
        .and_then(|mut stmt| stmt.query_map([fts], |row| row.get(0))?.collect())
        .map_err(sql("searching the briefings' own text"))
}

/// An exchange that matched, its question and answer with each match between `open` and
/// `close` (FTS5's `highlight()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedExchange {
    pub asker: String,
    pub question: String,
    pub answer: String,
}

/// The exchange `ordinal` of a revision, marked where the FTS5 expression matches it; `None` when
/// it does not match.
pub fn marked_exchange(
    conn: &Connection,
    fts: &str,
    (revision_id, ordinal): (i64, u32),
    (open, close): (char, char),
) -> Result<Option<MarkedExchange>> {
    let marked: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT highlight(exchange_search, 0, ?4, ?5), highlight(exchange_search, 1, ?4, ?5)
             FROM exchange_search
             WHERE exchange_search MATCH ?1 AND rowid = ?2 * 65536 + ?3",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    fts,
                    revision_id,
                    ordinal,
                    open.to_string(),
                    close.to_string()
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
        })
        .map_err(sql("marking the matches of an exchange"))?;
    let Some((question, answer)) = marked else {
        return Ok(None);
    };
    let asker: String = conn
        .prepare_cached("SELECT asker FROM exchanges WHERE revision_id = ?1 AND ordinal = ?2")
        .and_then(|mut stmt| stmt.query_row(params![revision_id, ordinal], |row| row.get(0)))
        .map_err(sql("reading an exchange's asker"))?;
    Ok(Some(MarkedExchange {
        asker,
        question,
        answer,
    }))
}

/// A revision's title and opening, marked where the FTS5 expression matches them; `None` when
/// they do not match.
pub fn marked_text(
    conn: &Connection,
    fts: &str,
    revision_id: i64,
    (open, close): (char, char),
) -> Result<Option<(String, String)>> {
    conn.prepare_cached(
        "SELECT highlight(text_search, 0, ?3, ?4), highlight(text_search, 1, ?3, ?4)
         FROM text_search WHERE text_search MATCH ?1 AND rowid = ?2",
    )
    .and_then(|mut stmt| {
        stmt.query_row(
            params![fts, revision_id, open.to_string(), close.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
    })
    .map_err(sql("marking the matches of a briefing's text"))
}

/// What a hit shows of its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitDocument {
    pub url: String,
    pub kind: Kind,
    pub lang: Lang,
    pub date: Option<NaiveDate>,
    pub title: Option<String>,
    pub spokesperson: Option<String>,
}

pub fn hit_document(conn: &Connection, document_id: i64) -> Result<HitDocument> {
    conn.prepare_cached(
        "SELECT url, kind, lang, briefing_date, title, spokesperson FROM documents WHERE id = ?1",
    )
    .and_then(|mut stmt| {
        stmt.query_row([document_id], |row| {
            Ok(HitDocument {
                url: row.get(0)?,
                kind: row
                    .get::<_, Option<String>>(1)?
                    .as_deref()
                    .and_then(Kind::parse)
                    .unwrap_or(Kind::Other),
                lang: lang_at(row, 2)?,
                date: date_at(row, 3)?,
                title: row.get(4)?,
                spokesperson: row.get(5)?,
            })
        })
    })
    .map_err(sql("reading a hit's document"))
}

/// The earliest and the latest briefing date of the archive.
pub fn briefing_date_range(conn: &Connection) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let (first, last): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT MIN(briefing_date), MAX(briefing_date) FROM documents WHERE briefing_date IS NOT NULL",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(sql("reading the date range"))?;
    let parse = |text: Option<String>| text.and_then(|t| t.parse::<NaiveDate>().ok());
    Ok(parse(first).zip(parse(last)))
}
