//! The `fetch_log` table: one row per request, with its outcome, and what `status` reads of it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::time::Duration;

use super::{Result, Store, Tx, execute_cached, format_time, query_all, query_row_cached, sql};
use crate::model::{Briefing, FoundBy, Outcome};

/// Which page of the site a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    Listing,
    Article,
    Robots,
}

impl PageKind {
    fn as_str(self) -> &'static str {
        match self {
            PageKind::Listing => "listing",
            PageKind::Article => "article",
            PageKind::Robots => "robots",
        }
    }
}

/// One request as it goes into `fetch_log`.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    pub at: DateTime<Utc>,
    pub source: Option<String>,
    pub url: String,
    pub page: PageKind,
    pub status: Option<u16>,
    pub outcome: Outcome,
    pub bytes: u64,
    pub duration: Duration,
    pub attempts: u32,
    pub error: Option<String>,
}

/// The last request of some outcome class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedFetch {
    pub at: String,
    pub url: String,
    pub status: Option<u16>,
    pub outcome: String,
    pub error: Option<String>,
}

/// What `status` shows for one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    pub source: String,
    pub documents: i64,
    pub archived: i64,
    pub pending: i64,
    pub gone: i64,
    pub revisions: i64,
    pub last_success: Option<LoggedFetch>,
    pub last_error: Option<LoggedFetch>,
    /// Requests per outcome class over the whole log.
    pub outcomes: Vec<(String, i64)>,
}

impl Store {
    /// Writes one request to `fetch_log` on its own (robots.txt, pages not ingested otherwise).
    pub fn log_fetch(&mut self, record: &FetchRecord) -> Result<()> {
        let tx = self.begin()?;
        insert_fetch_log(&tx, record, None)?;
        tx.commit().map_err(sql("committing a fetch log row"))
    }

    /// Per-source counts and the last success and error from the fetch log.
    pub fn source_summaries(&self, sources: &[&str]) -> Result<Vec<SourceSummary>> {
        sources
            .iter()
            .map(|source| self.source_summary(source))
            .collect()
    }

    fn source_summary(&self, source: &str) -> Result<SourceSummary> {
        let (documents, archived, gone, revisions): (i64, i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT COUNT(*),
                        COALESCE(SUM(EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)), 0),
                        COALESCE(SUM(state = 'gone'), 0),
                        (SELECT COUNT(*) FROM revisions r JOIN documents e ON e.id = r.document_id WHERE e.source = ?1)
                 FROM documents d WHERE source = ?1",
                [source],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(sql("counting documents"))?;
        let last = |outcomes: &str| -> Result<Option<LoggedFetch>> {
            self.conn
                .query_row(
                    &format!(
                        "SELECT at, url, status, outcome, error FROM fetch_log
                         WHERE source = ?1 AND outcome IN ({outcomes}) ORDER BY id DESC LIMIT 1"
                    ),
                    [source],
                    |row| {
                        Ok(LoggedFetch {
                            at: row.get(0)?,
                            url: row.get(1)?,
                            status: row.get(2)?,
                            outcome: row.get(3)?,
                            error: row.get(4)?,
                        })
                    },
                )
                .optional()
                .map_err(sql("reading the fetch log"))
        };
        let last_success = last("'ok', 'not_modified'")?;
        let last_error = last("'transient', 'blocked', 'unparseable', 'disallowed'")?;
        let outcomes = query_all(
            &self.conn,
            "SELECT outcome, COUNT(*) FROM fetch_log WHERE source = ?1 GROUP BY outcome ORDER BY outcome",
            [source],
            |row| Ok((row.get(0)?, row.get(1)?)),
            "counting outcomes",
        )?;
        Ok(SourceSummary {
            source: source.to_string(),
            documents,
            archived,
            pending: documents - archived,
            gone,
            revisions,
            last_success,
            last_error,
            outcomes,
        })
    }
}

/// Logs a fetch; `found` is how the page's record was found, for an extracted article.
fn insert_fetch_log(
    tx: &rusqlite::Connection,
    record: &FetchRecord,
    found: Option<&Briefing>,
) -> Result<()> {
    execute_cached(
        tx,
        "INSERT INTO fetch_log (at, source, url, page, status, outcome, bytes, duration_ms, attempts, error, found_by, selector)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            format_time(record.at),
            record.source,
            record.url,
            record.page.as_str(),
            record.status,
            record.outcome.as_str(),
            record.bytes as i64,
            record.duration.as_millis() as i64,
            record.attempts,
            record.error,
            found.and_then(|briefing| briefing.found_by).map(FoundBy::as_str),
            found.and_then(|briefing| briefing.selector.as_deref()),
        ],
    )
    .map_err(sql("writing the fetch log"))?;
    Ok(())
}

impl Tx<'_> {
    /// Logs a fetch; `found` is the extracted record of an article, whose way of being found
    /// (selector or fallback) the layout-drift alarm reads. Returns the row's id.
    pub fn log_fetch(&self, record: &FetchRecord, found: Option<&Briefing>) -> Result<i64> {
        insert_fetch_log(&self.tx, record, found)?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Replaces the error noted on a fetch log row.
    pub fn note_fetch_error(&self, log_id: i64, error: &str) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE fetch_log SET error = ?2 WHERE id = ?1",
            params![log_id, error],
        )
        .map_err(sql("writing the fetch log"))?;
        Ok(())
    }

    /// The outcome of the extraction before the latest fetch of a URL (`ok` or `unparseable`),
    /// if it was ever extracted before.
    pub fn previous_extraction(&self, url: &str) -> Result<Option<Outcome>> {
        let outcome: Option<String> = query_row_cached(
            &self.tx,
            "SELECT outcome FROM fetch_log WHERE url = ?1 AND id < (SELECT MAX(id) FROM fetch_log WHERE url = ?1)
             AND outcome IN ('ok', 'unparseable') ORDER BY id DESC LIMIT 1",
            [url],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading the fetch log"))?;
        Ok(outcome.as_deref().and_then(Outcome::parse))
    }
}
