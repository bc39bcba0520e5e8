//! Read-only queries for the JSON API and the search feed: briefings page by page, events page
//! by page, one day's documents, and a stamp that moves whenever the archive's content does.

use chrono::{DateTime, NaiveDate, Utc};
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

/// What changes whenever anything a reader sees changes: the newest revision and event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArchiveStamp {
    pub revision_id: i64,
    pub event_id: i64,
    /// When the newest revision was fetched; `None` for an empty archive.
    pub fetched_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Archived briefings (at least one revision), newest briefing date first, undated last.
    pub fn briefing_summaries(&self, query: &BriefingQuery) -> Result<Vec<BriefingSummary>> {
        let names = (!query.spokesperson_names.is_empty())
            .then(|| serde_json::Value::from(query.spokesperson_names.clone()).to_string());
        let (after_date, after_id, after_dated) = match query.after {
            Some((date, id)) => (date.map(|d| d.to_string()), Some(id), Some(date.is_some())),
            None => (None, None, None),
        };
        query_all(
            self.connection(),
            "SELECT d.id, d.url, d.lang, d.kind, d.briefing_date, d.title, d.spokesperson, d.state,
                    (SELECT COUNT(*) FROM revisions r WHERE r.document_id = d.id),
                    (SELECT COUNT(*) FROM exchanges e WHERE e.revision_id = l.id),
                    l.fetched_at
             FROM documents d
             JOIN revisions l ON l.id =
                 (SELECT r.id FROM revisions r WHERE r.document_id = d.id ORDER BY r.seq DESC LIMIT 1)
             WHERE (?1 IS NULL OR d.lang = ?1) AND (?2 IS NULL OR d.kind = ?2)
               AND (?3 IS NULL OR d.briefing_date >= ?3) AND (?4 IS NULL OR d.briefing_date <= ?4)
               AND (?5 IS NULL OR d.spokesperson IN (SELECT value FROM json_each(?5)))
               AND (?7 IS NULL
                    OR (?8 = 1 AND (d.briefing_date < ?6 OR (d.briefing_date = ?6 AND d.id < ?7)
                                    OR d.briefing_date IS NULL))
                    OR (?8 = 0 AND d.briefing_date IS NULL AND d.id < ?7))
             ORDER BY d.briefing_date DESC NULLS LAST, d.id DESC LIMIT ?9",
            params![
                query.lang.map(Lang::as_str),
                query.kind.map(Kind::as_str),
                query.since.map(|d| d.to_string()),
                query.until.map(|d| d.to_string()),
                names,
                after_date,
                after_id,
                after_dated,
                query.limit,
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
                    Some(id) => Some(EventDocumentRef {
                        id,
                        url: row.get(7)?,
                        lang: lang_at(row, 8)?,
                        date: date_at(row, 9)?,
                        title: row.get(10)?,
                    }),
                    None => None,
                };
                Ok((event_from_row(row)?, document))
            },
            "reading events",
        )
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
