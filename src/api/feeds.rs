//! The feed of any search (`/feeds/search.xml?q=…`) and the OPML list of every feed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::{ApiError, ApiState, read, text_error, validated};
use crate::feed::{self, Mark, Part, RenderedFeed, SearchEntry};
use crate::model::{Briefing, Exchange, Kind, TEXT_PASSAGE};
use crate::search::Query;
use crate::search::{self, Highlighted, Passage, SearchFilter, SearchHit};
use crate::store::Store;
use crate::web::params::Params;

/// The parameters of the search feed, in the order its canonical query string writes them.
const PARAMETERS: &[&str] = &["q", "lang", "kind", "spokesperson", "asker", "from", "to"];

/// Most matching passages looked at for one feed when `kind` or `asker` leave many out.
const MAX_SCANNED: usize = 5_000;

/// A search feed request, checked.
struct SearchFeedRequest {
    q: String,
    query: Query,
    filter: SearchFilter,
    kind: Option<Kind>,
    /// Part of the asker's name, compared without case.
    asker: Option<String>,
    /// The parameters in a fixed order: the cache key and the feed's self link.
    canonical: String,
}

impl SearchFeedRequest {
    fn parse(raw: Option<&str>) -> Result<SearchFeedRequest, ApiError> {
        let params = Params::parse(raw);
        params.only(PARAMETERS)?;
        let (q, query, filter) = super::search_request(&params)?;
        let mut canonical = url::form_urlencoded::Serializer::new(String::new());
        for name in PARAMETERS {
            if let Some(value) = params.get(name) {
                canonical.append_pair(name, value);
            }
        }
        Ok(SearchFeedRequest {
            q,
            query,
            filter,
            kind: params.kind()?,
            asker: params.get("asker").map(str::to_lowercase),
            canonical: canonical.finish(),
        })
    }

    fn keeps(&self, hit: &SearchHit) -> bool {
        self.kind.is_none_or(|kind| hit.kind == kind)
            && self.asker.as_deref().is_none_or(|asker| {
                hit.passage == Passage::Exchange && hit.asker.to_lowercase().contains(asker)
            })
    }
}

pub(super) async fn search_feed(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let max_age = state.settings.poll_interval;
    let cache = state.search_feeds.clone();
    let settings = state.settings.clone();
    let result = read(&state, move |store| {
        let request = SearchFeedRequest::parse(raw.as_deref())?;
        let stamp = store.archive_stamp()?;
        if let Some(feed) = cache
            .lock()
            .ok()
            .and_then(|cache| cache.get(&request.canonical, stamp))
        {
            return Ok(feed);
        }
        let entries = search_entries(store, &settings, &request)?;
        let meta = settings.search_meta(&request.q, &request.canonical);
        let xml = feed::render(&meta, entries.iter().map(SearchEntry::to_item).collect())
            .map_err(|error| ApiError::internal(&error))?;
        let last_modified = stamp.fetched_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let feed = Arc::new(RenderedFeed::from_body(xml, last_modified));
        if let Ok(mut cache) = cache.lock() {
            cache.put(request.canonical, stamp, feed.clone());
        }
        Ok(feed)
    })
    .await;
    match result {
        Ok(feed) => crate::serve::feed_response(&feed, max_age, &headers),
        Err(error) => text_error(&error),
    }
}

/// A revision's record and when it was fetched, which date its items.
type DatedRecord = (Briefing, Option<DateTime<Utc>>);

/// The newest passages that match, one per exchange (the latest revision that has it matching),
/// dated like the other feeds; at most the feeds' item count.
fn search_entries(
    store: &Store,
    settings: &feed::FeedSettings,
    request: &SearchFeedRequest,
) -> Result<Vec<SearchEntry>, ApiError> {
    let search_error = |error: search::SearchError| match error {
        search::SearchError::Query(error) => ApiError::bad_request(format!("parameter q: {error}")),
        other => ApiError::internal(&other),
    };
    let wanted = settings.items;
    let chunk = (wanted * 2).max(50);
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    let mut records: HashMap<(i64, i64), Option<DatedRecord>> = HashMap::new();
    let mut offset = 0;
    while entries.len() < wanted && offset < MAX_SCANNED {
        let results = search::search(
            store.connection(),
            &request.query,
            &request.filter,
            offset,
            chunk,
        )
        .map_err(search_error)?;
        for hit in results.hits.iter().filter(|hit| request.keeps(hit)) {
            if entries.len() >= wanted {
                break;
            }
            let record = records
                .entry((hit.document_id, hit.seq))
                .or_insert_with(|| match store.revision(hit.document_id, hit.seq) {
                    Ok(Some(revision)) => Some((
                        revision.briefing,
                        crate::store::parse_time(&revision.meta.fetched_at),
                    )),
                    Ok(None) => None,
                    Err(error) => {
                        tracing::warn!(document = hit.document_id, %error, "search feed: revision unreadable, left out");
                        None
                    }
                });
            let Some((briefing, fetched_at)) = record else {
                continue;
            };
            // Undated documents stay out of the date-ordered feeds.
            let Some(date) = feed::document_date(briefing, hit.date, *fetched_at) else {
                continue;
            };
            let entry = entry(settings, hit, date);
            if seen.insert(entry.guid()) {
                entries.push(entry);
            }
        }
        offset += chunk;
        if offset >= results.total {
            break;
        }
    }
    Ok(entries)
}

/// Paragraphs from highlighted segments, and the marks over them.
fn unmark(paragraphs: &[Highlighted], part: Part, marks: &mut Vec<Mark>) -> Vec<String> {
    paragraphs
        .iter()
        .enumerate()
        .map(|(index, segments)| {
            let mut text = String::new();
            for segment in segments {
                let start = text.len();
                text.push_str(&segment.text);
                if segment.marked {
                    marks.push(Mark {
                        part,
                        paragraph: index,
                        range: start..text.len(),
                    });
                }
            }
            text
        })
        .collect()
}

fn entry(
    settings: &feed::FeedSettings,
    hit: &SearchHit,
    date: chrono::DateTime<chrono::FixedOffset>,
) -> SearchEntry {
    let mut marks = Vec::new();
    let question = unmark(&hit.question, Part::Question, &mut marks);
    let answer = unmark(&hit.answer, Part::Answer, &mut marks);
    let asker = if hit.ordinal == TEXT_PASSAGE {
        hit.kind.text_label(hit.lang).to_string()
    } else {
        hit.asker.clone()
    };
    let exchange = Exchange {
        ordinal: hit.ordinal,
        asker,
        question,
        answer,
        after_conference: false,
    };
    SearchEntry {
        exchange_key: feed::exchange_key(&hit.url, &exchange),
        date,
        url: hit.url.clone(),
        view: settings.url(hit.view.trim_start_matches('/')),
        lang: hit.lang,
        title: hit.title.clone().unwrap_or_default(),
        spokesperson: hit.spokesperson.clone(),
        exchange,
        marks,
    }
}

/// Every feed the server renders, as OPML.
pub(super) async fn opml(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(error) = Params::parse(raw.as_deref()).only(&[]) {
        return text_error(&error.into());
    }
    let set = state.feeds.load();
    let body = feed::opml(&state.settings, set.names());
    validated(
        StatusCode::OK,
        "text/x-opml; charset=utf-8",
        body.into_bytes(),
        &headers,
    )
}
