//! The `documents` table: one row per article URL, with its state (live, gone), its schedule and
//! the facts its latest revision gave (kind, date, title).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{
    Result, Store, Tx, date_at, execute_cached, format_time, kind_at, lang_at, parse_time,
    query_all, query_row_cached, sql,
};
use crate::model::{Kind, Lang, Validators};

/// One row of `documents` with its revision count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub id: i64,
    pub source: String,
    pub url: String,
    pub lang: Lang,
    pub kind: Option<Kind>,
    pub briefing_date: Option<NaiveDate>,
    pub title: Option<String>,
    pub first_seen: String,
    pub last_seen: Option<String>,
    pub last_checked: Option<String>,
    pub next_check: String,
    pub state: String,
    pub gone_count: i64,
    pub listed: bool,
    pub revisions: i64,
    #[serde(skip)]
    pub validators: Validators,
}

/// How to find a document.
#[derive(Debug, Clone)]
pub enum DocumentKey<'a> {
    Id(i64),
    Url(&'a str),
}

/// A document that is due for a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDocument {
    pub id: i64,
    pub source: String,
    pub url: String,
    pub first_seen: DateTime<Utc>,
    /// The briefing's date, once a revision gave it.
    pub briefing_date: Option<NaiveDate>,
    pub has_revision: bool,
    pub validators: Validators,
}

impl Store {
    /// Documents the ministry no longer serves, latest briefing date first, at most `limit`.
    pub fn gone_documents(&self, limit: u32) -> Result<Vec<super::EventDocumentRef>> {
        query_all(
            self.connection(),
            "SELECT id, url, lang, briefing_date, title FROM documents WHERE state = 'gone'
             ORDER BY briefing_date DESC LIMIT ?1",
            [limit],
            |row| super::reads::event_document_at(row, 0),
            "reading gone briefings",
        )
    }

    /// Documents due for a fetch at `now`, soonest first; documents never fetched come first.
    pub fn due_documents(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<DueDocument>> {
        self.query_documents_due("WHERE d.next_check <= ?1", Some(now), limit)
    }

    /// Every document, for a forced full re-check.
    pub fn all_documents_for_check(&self) -> Result<Vec<DueDocument>> {
        self.query_documents_due("", None, u32::MAX)
    }

    fn query_documents_due(
        &self,
        filter: &str,
        now: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<DueDocument>> {
        let query = format!(
            "SELECT d.id, d.source, d.url, d.first_seen, d.etag, d.last_modified,
                    EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id), d.briefing_date
             FROM documents d {filter}
             ORDER BY EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id), d.next_check, d.id
             LIMIT {limit}"
        );
        let mut stmt = self
            .conn
            .prepare(&query)
            .map_err(sql("reading due documents"))?;
        let map = |row: &rusqlite::Row<'_>| {
            Ok(DueDocument {
                id: row.get(0)?,
                source: row.get(1)?,
                url: row.get(2)?,
                first_seen: parse_time(&row.get::<_, String>(3)?).unwrap_or_default(),
                validators: Validators {
                    etag: row.get(4)?,
                    last_modified: row.get(5)?,
                },
                has_revision: row.get(6)?,
                briefing_date: date_at(row, 7)?,
            })
        };
        let rows = match now {
            Some(now) => stmt.query_map([format_time(now)], map),
            None => stmt.query_map([], map),
        }
        .and_then(Iterator::collect)
        .map_err(sql("reading due documents"))?;
        Ok(rows)
    }

    /// URLs of a source's documents that have at least one revision.
    pub fn archived_urls(&self, source: &str) -> Result<HashSet<String>> {
        query_all(
            &self.conn,
            "SELECT url FROM documents d WHERE source = ?1
                 AND EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)",
            [source],
            |row| row.get(0),
            "reading archived urls",
        )
    }

    /// Which of these URLs the archive already has a document for.
    pub fn existing_urls(&self, urls: &[String]) -> Result<HashSet<String>> {
        let mut known = HashSet::new();
        for url in urls {
            let exists: bool = query_row_cached(
                &self.conn,
                "SELECT EXISTS (SELECT 1 FROM documents WHERE url = ?1)",
                [url],
                |row| row.get(0),
            )
            .map_err(sql("finding a document"))?;
            if exists {
                known.insert(url.clone());
            }
        }
        Ok(known)
    }

    /// Documents, newest briefing first, optionally of one source.
    pub fn list_documents(&self, source: Option<&str>) -> Result<Vec<Document>> {
        query_all(
            &self.conn,
            &format!(
                "{DOCUMENT_COLUMNS} WHERE ?1 IS NULL OR d.source = ?1
                 ORDER BY d.briefing_date DESC NULLS LAST, d.first_seen DESC, d.id DESC"
            ),
            [source],
            document_from_row,
            "listing documents",
        )
    }

    /// One document by id or URL.
    pub fn document(&self, key: DocumentKey<'_>) -> Result<Option<Document>> {
        let (condition, value): (&str, rusqlite::types::Value) = match key {
            DocumentKey::Id(id) => ("d.id = ?1", id.into()),
            DocumentKey::Url(url) => ("d.url = ?1", url.to_string().into()),
        };
        query_row_cached(
            &self.conn,
            &format!("{DOCUMENT_COLUMNS} WHERE {condition}"),
            [value],
            document_from_row,
        )
        .optional()
        .map_err(sql("reading a document"))
    }

    /// Sets when a document is next fetched (the daemon's re-check schedule).
    pub fn set_next_check(&mut self, document_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE documents SET next_check = ?2 WHERE id = ?1",
                params![document_id, format_time(at)],
            )
            .map_err(sql("scheduling a document"))?;
        Ok(())
    }
}

pub(super) const DOCUMENT_COLUMNS: &str =
    "SELECT d.id, d.source, d.url, d.lang, d.kind, d.briefing_date, d.title,
    d.first_seen, d.last_seen, d.last_checked, d.next_check, d.state, d.gone_count, d.listed,
    (SELECT COUNT(*) FROM revisions r WHERE r.document_id = d.id), d.etag, d.last_modified
    FROM documents d";

pub(super) fn document_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        id: row.get(0)?,
        source: row.get(1)?,
        url: row.get(2)?,
        lang: lang_at(row, 3)?,
        kind: kind_at(row, 4)?,
        briefing_date: date_at(row, 5)?,
        title: row.get(6)?,
        first_seen: row.get(7)?,
        last_seen: row.get(8)?,
        last_checked: row.get(9)?,
        next_check: row.get(10)?,
        state: row.get(11)?,
        gone_count: row.get(12)?,
        listed: row.get(13)?,
        revisions: row.get(14)?,
        validators: Validators {
            etag: row.get(15)?,
            last_modified: row.get(16)?,
        },
    })
}

/// A document as a page or a listing item first names it.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub source: &'a str,
    pub lang: Lang,
    pub url: &'a str,
    /// The listing's title, kept until a revision gives the page's own.
    pub title: Option<&'a str>,
    /// The listing's date, kept until a revision gives the page's own.
    pub listed_date: Option<NaiveDate>,
    /// Whether a listing names it (an imported or re-checked page does not say).
    pub listed: bool,
    pub now: DateTime<Utc>,
}

/// What the ingest pipeline reads of a document before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentState {
    /// `live` or `gone`.
    pub state: String,
    /// Consecutive gone answers so far.
    pub gone_count: u32,
    /// The last known title.
    pub title: Option<String>,
}

/// A listing's document that was delisted since it last came back: (id, title).
const DELISTED_DOCUMENT: &str = "SELECT d.id, d.title FROM documents d
    WHERE d.url = ?1 AND d.listed = 0
      AND (SELECT MAX(id) FROM events WHERE document_id = d.id AND type = 'delisted')
          > COALESCE((SELECT MAX(id) FROM events WHERE document_id = d.id AND type = 'restored'), 0)";

impl Tx<'_> {
    /// The document of a URL, created (due at once, no revision) if it is new. Returns (id,
    /// created). A listing's title and date fill the document's until the page gives its own.
    pub fn ensure_document(&self, new: &NewDocument<'_>) -> Result<(i64, bool)> {
        let existing: Option<i64> = query_row_cached(
            &self.tx,
            "SELECT id FROM documents WHERE url = ?1",
            [new.url],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("finding a document"))?;
        if let Some(id) = existing {
            if new.listed {
                execute_cached(
                    &self.tx,
                    "UPDATE documents SET listed = 1, title = COALESCE(title, ?2),
                            briefing_date = COALESCE(briefing_date, ?3) WHERE id = ?1",
                    params![id, new.title, new.listed_date.map(|d| d.to_string())],
                )
                .map_err(sql("updating a document"))?;
            }
            return Ok((id, false));
        }
        execute_cached(
            &self.tx,
            "INSERT INTO documents (source, url, lang, title, first_seen, next_check, listed, briefing_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            params![
                new.source,
                new.url,
                new.lang.as_str(),
                new.title,
                format_time(new.now),
                new.listed,
                new.listed_date.map(|d| d.to_string())
            ],
        )
        .map_err(sql("creating a document"))?;
        Ok((self.tx.last_insert_rowid(), true))
    }

    /// A document's state, gone count and title.
    pub fn document_state(&self, document_id: i64) -> Result<DocumentState> {
        query_row_cached(
            &self.tx,
            "SELECT state, gone_count, title FROM documents WHERE id = ?1",
            [document_id],
            |row| {
                Ok(DocumentState {
                    state: row.get(0)?,
                    gone_count: row.get(1)?,
                    title: row.get(2)?,
                })
            },
        )
        .map_err(sql("reading a document"))
    }

    /// The page answered with its content (`replace`: a full answer, whose validators replace the
    /// stored ones, clearing those it lacks) or confirmed it (a 304, which may omit them): the
    /// document is live.
    pub fn mark_found(
        &self,
        document_id: i64,
        now: DateTime<Utc>,
        validators: &Validators,
        replace: bool,
    ) -> Result<()> {
        let statement = if replace {
            "UPDATE documents SET state = 'live', gone_count = 0, last_seen = ?2,
                    etag = ?3, last_modified = ?4
             WHERE id = ?1"
        } else {
            "UPDATE documents SET state = 'live', gone_count = 0, last_seen = ?2,
                    etag = COALESCE(?3, etag), last_modified = COALESCE(?4, last_modified)
             WHERE id = ?1"
        };
        execute_cached(
            &self.tx,
            statement,
            params![
                document_id,
                format_time(now),
                validators.etag,
                validators.last_modified
            ],
        )
        .map_err(sql("updating a document"))?;
        Ok(())
    }

    /// Counts consecutive gone answers.
    pub fn set_gone_count(&self, document_id: i64, count: u32) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE documents SET gone_count = ?2 WHERE id = ?1",
            params![document_id, count],
        )
        .map_err(sql("counting a gone answer"))?;
        Ok(())
    }

    /// Declares a document gone.
    pub fn mark_gone(&self, document_id: i64) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE documents SET state = 'gone' WHERE id = ?1",
            [document_id],
        )
        .map_err(sql("marking a document gone"))?;
        Ok(())
    }

    /// When a document was checked and when it is checked next.
    pub fn schedule_document(
        &self,
        document_id: i64,
        checked: DateTime<Utc>,
        next_check: DateTime<Utc>,
    ) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE documents SET last_checked = ?2, next_check = ?3 WHERE id = ?1",
            params![document_id, format_time(checked), format_time(next_check)],
        )
        .map_err(sql("scheduling a document"))?;
        Ok(())
    }

    /// Schedules the check that confirms or clears a held version, forgetting the validators: that
    /// check must see a full answer.
    pub fn schedule_full_check(
        &self,
        document_id: i64,
        checked: DateTime<Utc>,
        next_check: DateTime<Utc>,
    ) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE documents SET last_checked = ?2, next_check = ?3, etag = NULL, last_modified = NULL
             WHERE id = ?1",
            params![document_id, format_time(checked), format_time(next_check)],
        )
        .map_err(sql("scheduling a suspect page"))?;
        Ok(())
    }

    /// The briefing date a document has, by URL.
    pub fn document_date(&self, url: &str) -> Result<Option<NaiveDate>> {
        let date: Option<String> = query_row_cached(
            &self.tx,
            "SELECT briefing_date FROM documents WHERE url = ?1",
            [url],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a neighbour's date"))?
        .flatten();
        Ok(date.and_then(|date| NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok()))
    }

    /// A URL's document if it was delisted since the last time it came back, not merely never
    /// listed (an imported page): (id, title).
    pub fn delisted_document(&self, url: &str) -> Result<Option<(i64, Option<String>)>> {
        query_row_cached(&self.tx, DELISTED_DOCUMENT, [url], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .map_err(sql("finding a delisted document"))
    }

    /// A URL's document: (id, title, state).
    pub fn document_by_url(&self, url: &str) -> Result<Option<(i64, Option<String>, String)>> {
        query_row_cached(
            &self.tx,
            "SELECT id, title, state FROM documents WHERE url = ?1",
            [url],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(sql("reading a document"))
    }

    /// A document left the listing: it is re-checked at once.
    pub fn mark_delisted(&self, url: &str, now: DateTime<Utc>) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE documents SET listed = 0, next_check = ?2 WHERE url = ?1",
            params![url, format_time(now)],
        )
        .map_err(sql("marking a document delisted"))?;
        Ok(())
    }

    /// The latest revision of the press conference of `date` in `lang`: (document id, revision
    /// id), the other language's transcript pairing reads.
    pub fn press_conference_of_day(
        &self,
        lang: Lang,
        date: NaiveDate,
    ) -> Result<Option<(i64, i64)>> {
        query_row_cached(
            &self.tx,
            "SELECT d.id, r.id FROM documents d JOIN revisions r ON r.document_id = d.id
             WHERE d.lang = ?1 AND d.briefing_date = ?2 AND d.kind = 'press_conference'
             ORDER BY r.seq DESC LIMIT 1",
            params![lang.as_str(), date.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql("finding the other language's transcript"))
    }
}
