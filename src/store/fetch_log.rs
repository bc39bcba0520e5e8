//! The `fetch_log` table: one row per request, with its outcome, and what `status` reads of it.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::time::Duration;

use super::{
    Result, Store, Tx, execute_cached, format_time, parse_time, query_all, query_row_cached, sql,
};
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

/// What the fetch log and the documents say of one source's recent health, for the alarms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceHealthFacts {
    /// Briefing date of the newest archived press conference.
    pub latest_press_conference: Option<NaiveDate>,
    /// Last fetch whose page was understood (`ok` or `not_modified`).
    pub last_good: Option<DateTime<Utc>>,
    /// First `unparseable` or `blocked` fetch after `last_good`, and its outcome.
    pub first_broken: Option<(DateTime<Utc>, String)>,
    /// The latest page found by a selector: when, and which selector.
    pub last_selector: Option<(DateTime<Utc>, Option<String>)>,
    /// The first page found by the content fallback after `last_selector`: when, and its URL.
    pub first_fallback: Option<(DateTime<Utc>, String)>,
}

/// A run of failed requests of a source, up to its latest request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureStreak {
    /// Failed requests in the run.
    pub failures: u64,
    /// The first of them.
    pub since: DateTime<Utc>,
    /// The latest request: when, its URL, status, outcome and error.
    pub at: DateTime<Utc>,
    pub url: String,
    pub status: Option<u16>,
    pub outcome: String,
    pub error: Option<String>,
}

/// Outcomes that count as a failure of a source: no usable answer came.
const FAILING: &str = "'transient', 'blocked', 'unparseable', 'disallowed'";

impl Store {
    /// A source's health facts (see [`SourceHealthFacts`]).
    pub fn source_health_facts(&self, source: &str) -> Result<SourceHealthFacts> {
        let conn = &self.conn;
        let error = sql("reading source health");
        let read = || -> rusqlite::Result<SourceHealthFacts> {
            let latest_press_conference: Option<String> = conn.query_row(
                "SELECT MAX(d.briefing_date) FROM documents d
                  WHERE d.source = ?1 AND d.kind = 'press_conference'
                    AND EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)",
                params![source],
                |row| row.get(0),
            )?;
            let last_good: Option<String> = conn.query_row(
                "SELECT MAX(at) FROM fetch_log WHERE source = ?1 AND outcome IN ('ok', 'not_modified')",
                params![source],
                |row| row.get(0),
            )?;
            let first_broken: Option<(String, String)> = conn
                .query_row(
                    "SELECT at, outcome FROM fetch_log
                      WHERE source = ?1 AND outcome IN ('unparseable', 'blocked') AND at > ?2
                      ORDER BY at LIMIT 1",
                    params![source, last_good.as_deref().unwrap_or("")],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let last_selector: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT at, selector FROM fetch_log WHERE source = ?1 AND found_by = 'selector'
                      ORDER BY at DESC LIMIT 1",
                    params![source],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let first_fallback: Option<(String, String)> = conn
                .query_row(
                    "SELECT at, url FROM fetch_log WHERE source = ?1 AND found_by = 'fallback' AND at > ?2
                      ORDER BY at LIMIT 1",
                    params![
                        source,
                        last_selector.as_ref().map_or("", |(at, _)| at.as_str())
                    ],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            Ok(SourceHealthFacts {
                latest_press_conference: latest_press_conference
                    .and_then(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()),
                last_good: last_good.as_deref().and_then(parse_time),
                first_broken: first_broken
                    .and_then(|(at, outcome)| parse_time(&at).map(|at| (at, outcome))),
                last_selector: last_selector
                    .and_then(|(at, selector)| parse_time(&at).map(|at| (at, selector))),
                first_fallback: first_fallback
                    .and_then(|(at, url)| parse_time(&at).map(|at| (at, url))),
            })
        };
        read().map_err(error)
    }

    /// The source's current run of failed requests, if its latest request failed.
    pub fn failure_streak(&self, source: &str) -> Result<Option<FailureStreak>> {
        let conn = &self.conn;
        let read = || -> rusqlite::Result<Option<FailureStreak>> {
            let last_fine: i64 = conn.query_row(
                &format!(
                    "SELECT COALESCE(MAX(id), 0) FROM fetch_log WHERE source = ?1 AND outcome NOT IN ({FAILING})"
                ),
                params![source],
                |row| row.get(0),
            )?;
            let streak: Option<(i64, String)> = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*), MIN(at) FROM fetch_log
                          WHERE source = ?1 AND id > ?2 AND outcome IN ({FAILING}) HAVING COUNT(*) > 0"
                    ),
                    params![source, last_fine],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((failures, since)) = streak else {
                return Ok(None);
            };
            let (at, url, status, outcome, error) = conn.query_row(
                "SELECT at, url, status, outcome, error FROM fetch_log
                  WHERE source = ?1 AND id > ?2 ORDER BY id DESC LIMIT 1",
                params![source, last_fine],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<u16>>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )?;
            let (Some(since), Some(at)) = (parse_time(&since), parse_time(&at)) else {
                return Ok(None);
            };
            Ok(Some(FailureStreak {
                failures: failures as u64,
                since,
                at,
                url,
                status,
                outcome,
                error,
            }))
        };
        read().map_err(sql("reading source failures"))
    }
}
