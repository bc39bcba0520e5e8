//! Read-only queries for the web view, the JSON API and the search feed: briefings page by page,
//! events page by page, one day's documents, and a stamp that moves whenever the archive's
//! content does.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{
    DOCUMENT_COLUMNS, Document, EVENT_COLUMNS, Event, Result, Store, date_at, document_from_row,
    event_from_row, format_time, kind_at, lang_at, query_all, sql,
};
use crate::model::{Kind, Lang};

/// Which archived briefings to list, and from where.
#[derive(Debug, Clone, Default)]
pub struct BriefingQuery {
    pub lang: Option<Lang>,
    pub kind: Option<Kind>,
    /// Briefing dates from `since` to `until`, both included.
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Every stored spelling of one spokesperson's name; empty for all.
    pub spokesperson_names: Vec<String>,
    /// Only briefings after this one in the listing order (briefing date descending, undated last,
    /// then id descending): `(date, id)` of the last briefing of the previous page.
    pub after: Option<(Option<NaiveDate>, i64)>,
    /// Briefings skipped before the first one listed (after `after`, when both are given).
    pub offset: u32,
    pub limit: u32,
}

/// One archived briefing as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BriefingSummary {
    pub id: i64,
    pub url: String,
    pub lang: Lang,
    pub kind: Option<Kind>,
    pub date: Option<NaiveDate>,
    pub title: Option<String>,
    pub spokesperson: Option<String>,
    /// `active`, `gone`, …: whether the ministry still serves the page.
    pub state: String,
    pub revisions: i64,
    /// Exchanges in the latest revision.
    pub exchanges: i64,
    /// When the latest revision was fetched.
    pub fetched_at: String,
}

/// The document an event concerns, as an event list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventDocumentRef {
    pub id: i64,
    pub url: String,
    pub lang: Lang,
    pub date: Option<NaiveDate>,
    pub title: Option<String>,
}

/// The latest revision of one archived document with the dates it gives, from which the feeds
/// date the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestDates {
    pub document_id: i64,
    pub lang: Lang,
    /// The date the archive holds for the document (`documents.briefing_date`).
    pub archive_date: Option<NaiveDate>,
    pub revision_id: i64,
    pub fetched_at: Option<DateTime<Utc>>,
    /// What the page is, and the briefing date and publication time it shows.
    pub kind: Option<Kind>,
    pub date: Option<NaiveDate>,
    pub published_at: Option<DateTime<FixedOffset>>,
}

/// The latest revision of a document as a heading names it, from the plain text rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionHeading {
    pub seq: i64,
    /// `None` when the revision has no text row.
    pub title: Option<String>,
    pub spokesperson: Option<String>,
}

/// A document's id and title: the same day's briefing in the other language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentTitle {
    pub id: i64,
    pub title: Option<String>,
}

/// What changes whenever anything a reader sees changes: the newest revision and event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArchiveStamp {
    pub revision_id: i64,
    pub event_id: i64,
    /// When the newest revision was fetched; `None` for an empty archive.
    pub fetched_at: Option<DateTime<Utc>>,
}

/// The filters of a [`BriefingQuery`] on `documents d`, parameters `?1` to `?5`: language, kind,
/// first and last date, spokesperson names as a JSON array.
const BRIEFING_FILTER: &str = "EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)
    AND (?1 IS NULL OR d.lang = ?1) AND (?2 IS NULL OR d.kind = ?2)
    AND (?3 IS NULL OR d.briefing_date >= ?3) AND (?4 IS NULL OR d.briefing_date <= ?4)
    AND (?5 IS NULL OR d.spokesperson IN (SELECT value FROM json_each(?5)))";

/// The query's spokesperson names as a JSON array, `None` for all.
fn spokesperson_json(query: &BriefingQuery) -> Option<String> {
    (!query.spokesperson_names.is_empty())
        .then(|| serde_json::Value::from(query.spokesperson_names.clone()).to_string())
}

impl Store {
    /// Archived briefings (at least one revision), newest briefing date first, undated last.
    pub fn briefing_summaries(&self, query: &BriefingQuery) -> Result<Vec<BriefingSummary>> {
        let (after_date, after_id, after_dated) = match query.after {
            Some((date, id)) => (date.map(|d| d.to_string()), Some(id), Some(date.is_some())),
            None => (None, None, None),
        };
        // The page's briefings are chosen first and counted after: counting the revisions and
        // exchanges of every briefing before sorting them cost a fifth of a second on a
        // twenty-year archive.
        query_all(
            self.connection(),
            &format!(
                "SELECT d.id, d.url, d.lang, d.kind, d.briefing_date, d.title, d.spokesperson, d.state,
                        (SELECT COUNT(*) FROM revisions r WHERE r.document_id = d.id),
                        (SELECT COUNT(*) FROM exchanges e WHERE e.revision_id = l.id),
                        l.fetched_at
                 FROM (SELECT d.id FROM documents d
                       WHERE {BRIEFING_FILTER}
                         AND (?6 IS NULL
                              OR (?8 = 1 AND (d.briefing_date < ?7 OR (d.briefing_date = ?7 AND d.id < ?6)
                                              OR d.briefing_date IS NULL))
                              OR (?8 = 0 AND d.briefing_date IS NULL AND d.id < ?6))
                       ORDER BY d.briefing_date DESC NULLS LAST, d.id DESC LIMIT ?9 OFFSET ?10) page
                 JOIN documents d ON d.id = page.id
                 JOIN revisions l ON l.id =
                     (SELECT r.id FROM revisions r WHERE r.document_id = d.id ORDER BY r.seq DESC LIMIT 1)
                 ORDER BY d.briefing_date DESC NULLS LAST, d.id DESC"
            ),
            params![
                query.lang.map(Lang::as_str),
                query.kind.map(Kind::as_str),
                query.since.map(|d| d.to_string()),
                query.until.map(|d| d.to_string()),
                spokesperson_json(query),
                after_id,
                after_date,
                after_dated,
                query.limit,
                query.offset,
            ],
            |row| {
                Ok(BriefingSummary {
                    id: row.get(0)?,
                    url: row.get(1)?,
                    lang: lang_at(row, 2)?,
                    kind: kind_at(row, 3)?,
                    date: date_at(row, 4)?,
                    title: row.get(5)?,
                    spokesperson: row.get(6)?,
                    state: row.get(7)?,
                    revisions: row.get(8)?,
                    exchanges: row.get(9)?,
                    fetched_at: row.get(10)?,
                })
            },
            "listing briefings",
        )
    }

    /// How many archived briefings match the query's filters (its position and limit aside).
    pub fn count_briefings(&self, query: &BriefingQuery) -> Result<i64> {
        self.connection()
            .query_row(
                &format!("SELECT COUNT(*) FROM documents d WHERE {BRIEFING_FILTER}"),
                params![
                    query.lang.map(Lang::as_str),
                    query.kind.map(Kind::as_str),
                    query.since.map(|d| d.to_string()),
                    query.until.map(|d| d.to_string()),
                    spokesperson_json(query),
                ],
                |row| row.get(0),
            )
            .map_err(sql("counting briefings"))
    }

    /// The months (`YYYY-MM`) that have documents, newest first.
    pub fn briefing_months(&self) -> Result<Vec<String>> {
        query_all(
            self.connection(),
            "SELECT DISTINCT substr(briefing_date, 1, 7) FROM documents
             WHERE briefing_date IS NOT NULL ORDER BY 1 DESC",
            [],
            |row| row.get(0),
            "listing months",
        )
    }

    /// Events of the given types (all when empty) created at or after `since`, with an id below
    /// `before`, newest first, each with its document.
    pub fn events_page(
        &self,
        types: &[String],
        since: Option<DateTime<Utc>>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(Event, Option<EventDocumentRef>)>> {
        let types = serde_json::to_string(types).unwrap_or_else(|_| "[]".into());
        let columns = EVENT_COLUMNS
            .split(", ")
            .map(|column| format!("e.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        query_all(
            self.connection(),
            &format!(
                "SELECT {columns}, d.id, d.url, d.lang, d.briefing_date, d.title
                 FROM events e LEFT JOIN documents d ON d.id = e.document_id
                 WHERE (?1 IS NULL OR e.id < ?1) AND (?2 IS NULL OR e.created_at >= ?2)
                   AND (json_array_length(?3) = 0 OR e.type IN (SELECT value FROM json_each(?3)))
                 ORDER BY e.id DESC LIMIT ?4"
            ),
            params![before, since.map(format_time), types, limit],
            |row| {
                let document = match row.get::<_, Option<i64>>(6)? {
                    Some(_) => Some(event_document_at(row, 6)?),
                    None => None,
                };
                Ok((event_from_row(row)?, document))
            },
            "reading events",
        )
    }

    /// Events except first archiving (`new`) with an id below `before`, newest first, each with
    /// its document: the web view's timeline.
    pub fn timeline_page(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(Event, Option<EventDocumentRef>)>> {
        query_all(
            self.connection(),
            // The event's columns in the order of `EVENT_COLUMNS`, then its document.
            "SELECT e.id, e.document_id, e.revision_id, e.type, e.created_at, e.payload,
                    d.id, d.url, d.lang, d.briefing_date, d.title
             FROM events e LEFT JOIN documents d ON d.id = e.document_id
             WHERE e.type != 'new' AND (?1 IS NULL OR e.id < ?1)
             ORDER BY e.id DESC LIMIT ?2",
            params![before, limit],
            |row| {
                let document = match row.get::<_, Option<i64>>(6)? {
                    Some(_) => Some(event_document_at(row, 6)?),
                    None => None,
                };
                Ok((event_from_row(row)?, document))
            },
            "reading events",
        )
    }

    /// The archived briefing (at least one revision) of `date` in `lang`, of the same `kind` if
    /// there is one, else the first archived of that day.
    pub fn counterpart(
        &self,
        date: NaiveDate,
        lang: Lang,
        kind: Option<Kind>,
    ) -> Result<Option<DocumentTitle>> {
        self.connection()
            .query_row(
                "SELECT d.id, d.title FROM documents d
                 WHERE d.briefing_date = ?1 AND d.lang = ?2
                   AND EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)
                 ORDER BY d.kind IS ?3 DESC, d.id LIMIT 1",
                params![date.to_string(), lang.as_str(), kind.map(Kind::as_str)],
                |row| {
                    Ok(DocumentTitle {
                        id: row.get(0)?,
                        title: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(sql("finding the other language"))
    }

    /// Every source the archive knows of (from its documents, listing pages and fetch log), by
    /// name.
    pub fn source_names(&self) -> Result<Vec<String>> {
        query_all(
            self.connection(),
            "SELECT source FROM documents UNION SELECT source FROM listing_pages
             UNION SELECT source FROM fetch_log WHERE source IS NOT NULL ORDER BY 1",
            [],
            |row| row.get(0),
            "listing sources",
        )
    }

    /// The earliest check due: of a first listing page, or of a document not gone.
    pub fn next_check(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<String> = self
            .connection()
            .query_row(
                "SELECT MIN(at) FROM (SELECT MIN(next_check) AS at FROM listing_pages WHERE page = 0
                  UNION ALL SELECT MIN(next_check) FROM documents WHERE state != 'gone')",
                [],
                |row| row.get(0),
            )
            .map_err(sql("reading the service status"))?;
        Ok(at.as_deref().and_then(super::parse_time))
    }

    /// The event types the archive holds, for checking a filter.
    pub fn event_types(&self) -> Result<Vec<String>> {
        query_all(
            self.connection(),
            "SELECT DISTINCT type FROM events ORDER BY type",
            [],
            |row| row.get(0),
            "listing event types",
        )
    }

    /// Archived documents (at least one revision) with this briefing date.
    pub fn documents_on(&self, date: NaiveDate) -> Result<Vec<Document>> {
        query_all(
            self.connection(),
            &format!(
                "{DOCUMENT_COLUMNS} WHERE d.briefing_date = ?1
                   AND EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)
                 ORDER BY d.id"
            ),
            [date.to_string()],
            document_from_row,
            "listing the documents of a day",
        )
    }

    /// Every archived document's latest revision with its dates, read from the plain text rows
    /// (no record is decoded).
    pub fn latest_dates(&self) -> Result<Vec<LatestDates>> {
        query_all(
            self.connection(),
            // Every column read here is in these indexes (see `read_indexes.sql`): named, because
            // the planner would read the rows themselves, ten times as many pages.
            "SELECT d.id, d.lang, d.briefing_date, r.id, r.fetched_at, t.kind, t.date, t.published_at
             FROM documents d INDEXED BY documents_listing
             JOIN revisions r INDEXED BY revisions_fetched ON r.document_id = d.id
              AND r.seq = (SELECT MAX(seq) FROM revisions WHERE document_id = d.id)
             JOIN revision_texts t INDEXED BY revision_texts_dates ON t.revision_id = r.id",
            [],
            |row| {
                Ok(LatestDates {
                    document_id: row.get(0)?,
                    lang: lang_at(row, 1)?,
                    archive_date: date_at(row, 2)?,
                    revision_id: row.get(3)?,
                    fetched_at: row.get::<_, String>(4).map(|text| super::parse_time(&text))?,
                    kind: kind_at(row, 5)?,
                    date: date_at(row, 6)?,
                    published_at: row
                        .get::<_, Option<String>>(7)?
                        .and_then(|text| DateTime::parse_from_rfc3339(&text).ok()),
                })
            },
            "reading the dates of the latest revisions",
        )
    }

    /// The number, title and spokesperson of a document's latest revision (no record is decoded).
    pub fn latest_heading(&self, document_id: i64) -> Result<Option<RevisionHeading>> {
        self.connection()
            .prepare_cached(
                "SELECT r.seq, t.title, t.spokesperson
                 FROM revisions r LEFT JOIN revision_texts t ON t.revision_id = r.id
                 WHERE r.document_id = ?1 ORDER BY r.seq DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([document_id], |row| {
                    Ok(RevisionHeading {
                        seq: row.get(0)?,
                        title: row.get(1)?,
                        spokesperson: row.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(sql("reading the latest revision's heading"))
    }

    /// The sequence number (1 for the first) of a revision.
    pub fn revision_seq(&self, revision_id: i64) -> Result<Option<i64>> {
        self.connection()
            .prepare_cached("SELECT seq FROM revisions WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([revision_id], |row| row.get(0)).optional())
            .map_err(sql("reading a revision's number"))
    }

    /// The archive's [`ArchiveStamp`].
    pub fn archive_stamp(&self) -> Result<ArchiveStamp> {
        let (revision_id, fetched_at, event_id): (Option<i64>, Option<String>, Option<i64>) = self
            .connection()
            .prepare_cached(
                "SELECT (SELECT MAX(id) FROM revisions), (SELECT MAX(fetched_at) FROM revisions),
                        (SELECT MAX(id) FROM events)",
            )
            .and_then(|mut stmt| {
                stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .optional()
            })
            .map_err(sql("reading the archive's stamp"))?
            .unwrap_or((None, None, None));
        Ok(ArchiveStamp {
            revision_id: revision_id.unwrap_or(0),
            event_id: event_id.unwrap_or(0),
            fetched_at: fetched_at.as_deref().and_then(super::parse_time),
        })
    }
}

/// An [`EventDocumentRef`] from five consecutive columns starting at `first`: the document's id,
/// `url`, `lang`, `briefing_date` and `title`.
pub(super) fn event_document_at(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<EventDocumentRef> {
    Ok(EventDocumentRef {
        id: row.get(first)?,
        url: row.get(first + 1)?,
        lang: lang_at(row, first + 2)?,
        date: date_at(row, first + 3)?,
        title: row.get(first + 4)?,
    })
}
