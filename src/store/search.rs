//! The full-text index's SQL: its migrations, how a revision is indexed and the index rebuilt,
//! and the reads the search engine (`crate::search`) makes, which hands over FTS5 expressions
//! ready to run.
//!
//! Two FTS5 tables with external content hold both languages: `exchange_search` over the
//! `exchanges` rows (`question`, `answer`; row id `search_rowid`, the revision and ordinal in one
//! integer) and `text_search` over `revision_texts` (`title`, `opening`; row id the revision's).
//! They store no text of their own: `highlight()` reads it from those rows. Both use the store's
//! tokenizer (see [`super::tokenizer`]).

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

/// Today's index: FTS5 with external content over the text rows, built by the migration.
pub(super) const EXTERNAL_CONTENT_MIGRATION: &str =
    include_str!("migrations/0012_search_external_content.sql");

/// Adds one new revision, whose text rows are written, to the index; called inside the ingest
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
    Ok(())
}

/// Rebuilds both indexes from the text rows. Returns the number of revisions indexed.
pub(super) fn rebuild(conn: &Connection) -> Result<u64> {
    conn.execute_batch(
        "INSERT INTO exchange_search(exchange_search) VALUES ('rebuild');
         INSERT INTO text_search(text_search) VALUES ('rebuild');
         INSERT INTO exchange_search(exchange_search) VALUES ('optimize');
         INSERT INTO text_search(text_search) VALUES ('optimize');",
    )
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

/// A revision of a document that passes a filter: what a match needs to be sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchableRevision {
    pub revision_id: i64,
    pub document_id: i64,
    pub seq: i64,
    pub date: Option<NaiveDate>,
}

/// Every revision of the documents that pass `filter`. Revisions are few (one or two a day) next
/// to the matches of a common word, so a search reads them once and places its matches in memory.
pub fn searchable_revisions(
    conn: &Connection,
    filter: &DocumentFilter,
) -> Result<Vec<SearchableRevision>> {
    let spokespersons = filter
        .spokespersons
        .as_ref()
        .map(|names| serde_json::Value::from(names.clone()).to_string());
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.id, r.document_id, r.seq, d.briefing_date
             FROM documents d JOIN revisions r ON r.document_id = d.id
             WHERE (?1 IS NULL OR d.lang = ?1)
               AND (?2 IS NULL OR d.briefing_date >= ?2)
               AND (?3 IS NULL OR d.briefing_date <= ?3)
               AND (?4 IS NULL OR d.spokesperson IN (SELECT value FROM json_each(?4)))",
        )
        .map_err(sql("preparing the search"))?;
    stmt.query_map(
        params![
            filter.lang.map(Lang::as_str),
            filter.from.map(|d| d.to_string()),
            filter.to.map(|d| d.to_string()),
            spokespersons,
        ],
        |row| {
            Ok(SearchableRevision {
                revision_id: row.get(0)?,
                document_id: row.get(1)?,
                seq: row.get(2)?,
                date: date_at(row, 3)?,
            })
        },
    )
    .and_then(Iterator::collect)
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

/// Whether a later revision of the same document has this exchange, question and answer word
/// for word.
pub fn exchange_in_later_revision(
    conn: &Connection,
    revision_id: i64,
    ordinal: u32,
) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (
             SELECT 1 FROM exchanges e
             JOIN revisions r ON r.id = e.revision_id
             JOIN revisions later ON later.document_id = r.document_id AND later.seq > r.seq
             JOIN exchanges copy ON copy.revision_id = later.id
              AND copy.question_hash = e.question_hash AND copy.answer_hash = e.answer_hash
             WHERE e.revision_id = ?1 AND e.ordinal = ?2)",
    )
    .and_then(|mut stmt| stmt.query_row(params![revision_id, ordinal], |row| row.get(0)))
    .map_err(sql("comparing an exchange with later revisions"))
}

/// Whether a later revision of the same document has this revision's own text (title and
/// opening) as it is.
pub fn text_in_later_revision(conn: &Connection, revision_id: i64) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (
             SELECT 1 FROM revision_texts t
             JOIN revisions r ON r.id = t.revision_id
             JOIN revisions later ON later.document_id = r.document_id AND later.seq > r.seq
             JOIN revision_texts copy ON copy.revision_id = later.id
              AND copy.title = t.title AND copy.opening = t.opening
             WHERE t.revision_id = ?1)",
    )
    .and_then(|mut stmt| stmt.query_row([revision_id], |row| row.get(0)))
    .map_err(sql("comparing a briefing's text with later revisions"))
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
