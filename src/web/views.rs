//! What each page shows, read from the archive into plain values the templates render.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::WebError;
use super::params::{ParamError, Params};
use crate::model::{Kind, Lang};
use crate::search::Query;
use crate::search::{self, SearchFilter, SearchResults, TrendSeries};
use crate::store::{
    BriefingQuery, BriefingSummary, Document, DocumentKey, Event, EventDocumentRef, Revision,
    RevisionMeta, SourceSummary, Store,
};

/// Briefings per page of the index.
pub const PAGE_SIZE: i64 = 50;
/// Search results per page.
pub const RESULTS_PER_PAGE: usize = 20;
/// Events per page of the timeline.
pub const EVENTS_PER_PAGE: i64 = 100;
/// Most terms one trends page compares.
pub const MAX_TREND_TERMS: usize = 4;

/// The filters of the index page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub lang: Option<Lang>,
    pub kind: Option<Kind>,
    pub spokesperson: Option<String>,
    pub month: Option<String>,
    pub page: i64,
}

impl ListFilter {
    pub fn from_params(params: &Params) -> Result<ListFilter, ParamError> {
        params.only(&["lang", "kind", "spokesperson", "month", "page"])?;
        Ok(ListFilter {
            lang: params.lang()?,
            kind: params.kind()?,
            spokesperson: params.get("spokesperson").map(str::to_string),
            month: params.month("month")?,
            page: params.positive("page", 1, 100_000)?,
        })
    }

    /// The query string of this filter on another page number.
    pub fn with_page(&self, page: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(lang) = self.lang {
            query.append_pair("lang", lang.as_str());
        }
        if let Some(kind) = self.kind {
            query.append_pair("kind", kind.as_str());
        }
        if let Some(name) = &self.spokesperson {
            query.append_pair("spokesperson", name);
        }
        if let Some(month) = &self.month {
            query.append_pair("month", month);
        }
        query.append_pair("page", &page.to_string());
        query.finish()
    }
}

/// The index page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BriefingList {
    pub rows: Vec<BriefingSummary>,
    pub total: i64,
    pub pages: i64,
    /// Months that have briefings, newest first, for the month filter.
    pub months: Vec<String>,
}

/// Archived briefings (at least one revision), newest first, filtered.
pub fn briefing_list(store: &Store, filter: &ListFilter) -> Result<BriefingList, WebError> {
    let (since, until) = match filter.month.as_deref().map(month_days) {
        Some(Some((first, last))) => (Some(first), Some(last)),
        _ => (None, None),
    };
    let query = BriefingQuery {
        lang: filter.lang,
        kind: filter.kind,
        since,
        until,
        spokesperson_names: filter
            .spokesperson
            .as_deref()
            .map(search::spokesperson_names)
            .unwrap_or_default(),
        after: None,
        offset: u32::try_from((filter.page - 1) * PAGE_SIZE).unwrap_or(u32::MAX),
        limit: PAGE_SIZE as u32,
    };
    let total = store.count_briefings(&query)?;
    Ok(BriefingList {
        rows: store.briefing_summaries(&query)?,
        total,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        months: store.briefing_months()?,
    })
}

/// The first and last day of a month given as `YYYY-MM`.
fn month_days(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let last = first
        .checked_add_months(chrono::Months::new(1))?
        .pred_opt()?;
    Some((first, last))
}

/// The same day's briefing in the other language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterpart {
    pub id: i64,
    pub lang: Lang,
    pub title: Option<String>,
}

/// One briefing page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BriefingView {
    pub document: Document,
    pub revision: Revision,
    pub revisions: Vec<RevisionMeta>,
    pub counterpart: Option<Counterpart>,
}

impl BriefingView {
    pub fn latest_seq(&self) -> i64 {
        self.revisions.last().map_or(0, |r| r.seq)
    }
}

fn archived_document(store: &Store, id: i64) -> Result<Document, WebError> {
    store
        .document(DocumentKey::Id(id))?
        .filter(|document| document.revisions > 0)
        .ok_or_else(|| WebError::NotFound(format!("there is no briefing {id}")))
}

/// A briefing at its latest revision, or at revision `seq`.
pub fn briefing(store: &Store, id: i64, seq: Option<i64>) -> Result<BriefingView, WebError> {
    let document = archived_document(store, id)?;
    let revision = match seq {
        Some(seq) => store.revision(id, seq)?.ok_or_else(|| {
            WebError::NotFound(format!(
                "briefing {id} has no revision {seq} (it has {})",
                document.revisions
            ))
        })?,
        None => store
            .latest_revision(id)?
            .ok_or_else(|| WebError::NotFound(format!("there is no briefing {id}")))?,
    };
    let revisions = store.revisions(id)?;
    let counterpart = counterpart(store, &document)?;
    Ok(BriefingView {
        document,
        revision,
        revisions,
        counterpart,
    })
}

fn counterpart(store: &Store, document: &Document) -> Result<Option<Counterpart>, WebError> {
    let Some(date) = document.briefing_date else {
        return Ok(None);
    };
    let other = match document.lang {
        Lang::En => Lang::Zh,
        Lang::Zh => Lang::En,
    };
    Ok(store
        .counterpart(date, other, document.kind)?
        .map(|found| Counterpart {
            id: found.id,
            lang: other,
            title: found.title,
        }))
}

/// A row of the timeline with the briefing it concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub event: Event,
    pub document: Option<EventDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventDocument {
    pub id: i64,
    pub lang: Lang,
    pub date: Option<NaiveDate>,
    pub title: Option<String>,
    pub url: String,
}

impl From<EventDocumentRef> for EventDocument {
    fn from(document: EventDocumentRef) -> EventDocument {
        EventDocument {
            id: document.id,
            lang: document.lang,
            date: document.date,
            title: document.title,
            url: document.url,
        }
    }
}

/// The timeline page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventList {
    pub rows: Vec<EventRow>,
    /// `before` of the next (older) page, when there is one.
    pub older: Option<i64>,
}

/// Events except first archiving (`new`), newest first.
pub fn events(store: &Store, before: Option<i64>) -> Result<EventList, WebError> {
    let mut rows: Vec<EventRow> = store
        .timeline_page(before, EVENTS_PER_PAGE as u32 + 1)?
        .into_iter()
        .map(|(event, document)| EventRow {
            event,
            document: document.map(EventDocument::from),
        })
        .collect();
    let older = if rows.len() as i64 > EVENTS_PER_PAGE {
        rows.truncate(EVENTS_PER_PAGE as usize);
        rows.last().map(|row| row.event.id)
    } else {
        None
    };
    Ok(EventList { rows, older })
}

/// The search form as submitted.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub q: String,
    pub query: Option<Query>,
    /// Why `q` cannot be searched (an unclosed quote…), shown above the form that holds it.
    pub error: Option<String>,
    pub filter: SearchFilter,
    pub page: i64,
}

impl SearchForm {
    pub fn from_params(params: &Params) -> Result<SearchForm, WebError> {
        params.only(&["q", "lang", "from", "to", "spokesperson", "page"])?;
        let filter = SearchFilter {
            lang: params.lang()?,
            from: params.date("from")?,
            to: params.date("to")?,
            spokesperson: params.get("spokesperson").map(str::to_string),
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from > to {
                return Err(WebError::BadRequest(format!(
                    "parameters from and to: from ({from}) is after to ({to})"
                )));
            }
        }
        let q = params.get("q").unwrap_or("").to_string();
        let (query, error) = if q.is_empty() {
            (None, None)
        } else {
            match Query::parse(&q) {
                Ok(query) => (Some(query), None),
                Err(error) => (None, Some(error.to_string())),
            }
        };
        Ok(SearchForm {
            q,
            query,
            error,
            filter,
            page: params.positive("page", 1, 10_000)?,
        })
    }

    /// The query string of this search's feed (`/feeds/search.xml`): the words and filters, no page.
    pub fn feed_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("q", &self.q);
        if let Some(lang) = self.filter.lang {
            query.append_pair("lang", lang.as_str());
        }
        if let Some(name) = &self.filter.spokesperson {
            query.append_pair("spokesperson", name);
        }
        if let Some(from) = self.filter.from {
            query.append_pair("from", &from.to_string());
        }
        if let Some(to) = self.filter.to {
            query.append_pair("to", &to.to_string());
        }
        query.finish()
    }

    /// The query string of this search on another page.
    pub fn with_page(&self, page: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("q", &self.q);
        if let Some(lang) = self.filter.lang {
            query.append_pair("lang", lang.as_str());
        }
        if let Some(from) = self.filter.from {
            query.append_pair("from", &from.to_string());
        }
        if let Some(to) = self.filter.to {
            query.append_pair("to", &to.to_string());
        }
        if let Some(name) = &self.filter.spokesperson {
            query.append_pair("spokesperson", name);
        }
        query.append_pair("page", &page.to_string());
        query.finish()
    }
}

/// Runs the form's search, if it has a query.
pub fn search(store: &Store, form: &SearchForm) -> Result<Option<SearchResults>, WebError> {
    let Some(query) = &form.query else {
        return Ok(None);
    };
    let offset = (form.page as usize - 1) * RESULTS_PER_PAGE;
    Ok(Some(search::search(
        store.connection(),
        query,
        &form.filter,
        offset,
        RESULTS_PER_PAGE,
    )?))
}

/// The terms of a trends request: repeated `q`, each possibly a comma-separated list.
pub fn trend_terms(params: &Params) -> Result<Vec<(String, Query)>, WebError> {
    let mut terms = Vec::new();
    for value in params.all("q") {
        for term in value
            .split([',', '，'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let query = Query::parse(term)
                .map_err(|error| WebError::BadRequest(format!("q: term {term:?}: {error}")))?;
            terms.push((term.to_string(), query));
        }
    }
    if terms.len() > MAX_TREND_TERMS {
        return Err(WebError::BadRequest(format!(
            "q: at most {MAX_TREND_TERMS} terms can be compared, got {}",
            terms.len()
        )));
    }
    Ok(terms)
}

/// The trends page: one series per term over every month of the archive.
pub fn trends(store: &Store, terms: &[(String, Query)]) -> Result<Vec<TrendSeries>, WebError> {
    let conn = store.connection();
    let months = search::archive_months(conn)?;
    terms
        .iter()
        .map(|(term, query)| Ok(search::trend(conn, term, query, &months)?))
        .collect()
}

/// The operator's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusView {
    pub now: DateTime<Utc>,
    pub sources: Vec<SourceSummary>,
    /// Each source's current failure (cause, since when), in the order of `sources`.
    pub failing: Vec<Option<crate::daemon::health::SourceFailure>>,
    pub listing_pages: Vec<ListingRow>,
    pub blocked_hosts: Vec<(String, String)>,
    pub gone: Vec<EventDocument>,
    /// Latest extractor failures (event time, URL, error).
    pub extractor_failures: Vec<(String, String, String)>,
    /// `None` when alerts are not set up in this database.
    pub outbox: Option<Vec<OutboxRow>>,
    pub outbox_errors: Vec<(String, i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingRow {
    pub source: String,
    pub url: String,
    pub page: i64,
    pub last_checked: Option<String>,
    pub last_success: Option<String>,
    pub next_check: String,
    /// Why a check whose time has passed has not happened.
    pub overdue: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub state: String,
    pub count: i64,
    pub next_due: Option<String>,
}

pub fn status(store: &Store, now: DateTime<Utc>) -> Result<StatusView, WebError> {
    let names = store.source_names()?;
    let sources = store.source_summaries(&names.iter().map(String::as_str).collect::<Vec<_>>())?;
    let failing = names
        .iter()
        .map(|name| crate::daemon::health::source_failure(store, name))
        .collect::<Result<Vec<_>, _>>()?;
    let mut listing_pages: Vec<ListingRow> = store
        .listing_pages_to_watch()?
        .into_iter()
        .map(|page| ListingRow {
            source: page.source,
            url: page.url,
            page: page.page,
            last_checked: page.last_checked,
            last_success: page.last_success,
            next_check: page.next_check,
            overdue: None,
        })
        .collect();
    let now_text = crate::store::format_time(now);
    for row in &mut listing_pages {
        if row.next_check > now_text {
            continue;
        }
        let failure = names
            .iter()
            .zip(&failing)
            .find(|(name, _)| **name == row.source)
            .and_then(|(_, failure)| failure.as_ref());
        row.overdue = Some(if row.page > 0 {
            "later pages are walked only by `briefwatch backfill`".to_string()
        } else if let Some(failure) = failure {
            format!(
                "{} since {}",
                failure.description,
                crate::store::format_time(failure.since)
            )
        } else {
            "due at the daemon's next tick (is it running?)".to_string()
        });
    }
    let gone = store
        .gone_documents(50)?
        .into_iter()
        .map(EventDocument::from)
        .collect();
    let extractor_failures = store
        .extractor_failures(20)?
        .into_iter()
        .map(|failure| (failure.at, failure.url, failure.error))
        .collect();
    let (outbox, outbox_errors) = if store.has_outbox()? {
        let rows = store
            .outbox_state_counts()?
            .into_iter()
            .map(|row| OutboxRow {
                state: row.state,
                count: row.count,
                next_due: row.next_due,
            })
            .collect();
        let errors = store
            .outbox_failures(10)?
            .into_iter()
            .map(|failure| (failure.recipient, failure.attempts, failure.error))
            .collect();
        (Some(rows), errors)
    } else {
        (None, vec![])
    };
    Ok(StatusView {
        now,
        sources,
        failing,
        listing_pages,
        blocked_hosts: store.blocked_hosts(now)?,
        gone,
        extractor_failures,
        outbox,
        outbox_errors,
    })
}
