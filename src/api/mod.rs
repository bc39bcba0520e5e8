//! What feed readers and other programs ask of the archive: the read-only JSON API under
//! `/api/v1/` (described by the OpenAPI file beside this module), the feed of any search and the
//! OPML list of every feed.
//!
//! Every answer carries an `ETag` (a hash of its body) and answers `If-None-Match` with 304; the
//! API allows any origin. Handlers read through the web view's pool of read connections on
//! blocking threads.

mod feeds;
mod v1;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::config::DiffConfig;
use crate::feed::{FeedSettings, RenderedFeed, SharedFeeds};
use crate::search::Query;
use crate::search::SearchFilter;
use crate::store::{ArchiveStamp, Store, StoreError};
use crate::web::Readers;
use crate::web::params::{ParamError, Params};

/// The OpenAPI 3 description of `/api/v1/`, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

/// Every path of the API below [`PREFIX`], as the OpenAPI file writes them.
pub const PATHS: &[&str] = &[
    "/briefings",
    "/briefings/{id}",
    "/briefings/{id}/revisions",
    "/briefings/{id}/diff",
    "/events",
    "/search",
    "/pairs/{date}",
    "/openapi.json",
];

/// What the API and the search feed share.
#[derive(Clone)]
pub struct ApiState {
    pub readers: Arc<Readers>,
    /// The rendered fixed and keyword feeds, which the OPML lists.
    pub feeds: SharedFeeds,
    pub settings: FeedSettings,
    pub diff: DiffConfig,
    search_feeds: Arc<Mutex<SearchFeedCache>>,
    /// One permit per read connection: a request waits here, as a task, rather than on a
    /// blocking thread of its own (hundreds of waiting threads cost memory, not speed).
    gate: Arc<Semaphore>,
}

impl ApiState {
    pub fn new(
        readers: Arc<Readers>,
        feeds: SharedFeeds,
        settings: FeedSettings,
        diff: DiffConfig,
    ) -> ApiState {
        ApiState {
            gate: Arc::new(Semaphore::new(readers.len())),
            readers,
            feeds,
            settings,
            diff,
            search_feeds: Arc::default(),
        }
    }
}

/// Search feeds rendered lately, each with the archive stamp it was rendered at: a feed reader
/// polls the same query again and again, and the archive changes a few times a day.
#[derive(Default)]
struct SearchFeedCache {
    entries: HashMap<String, (ArchiveStamp, Arc<RenderedFeed>)>,
}

/// Most search feeds kept rendered; past it the cache starts over.
const SEARCH_FEED_CACHE: usize = 256;

impl SearchFeedCache {
    fn get(&self, key: &str, stamp: ArchiveStamp) -> Option<Arc<RenderedFeed>> {
        self.entries
            .get(key)
            .filter(|(at, _)| *at == stamp)
            .map(|(_, feed)| feed.clone())
    }

    fn put(&mut self, key: String, stamp: ArchiveStamp, feed: Arc<RenderedFeed>) {
        if self.entries.len() >= SEARCH_FEED_CACHE {
            self.entries.clear();
        }
        self.entries.insert(key, (stamp, feed));
    }
}

/// The API, the search feed and the OPML list, to merge into the server's router.
pub fn routes(state: ApiState) -> Router {
    let mut router = Router::new();
    for path in PATHS {
        router = router.route(&format!("{PREFIX}{}", axum_path(path)), v1::handler(path));
    }
    router
        .route(&format!("{PREFIX}/*rest"), get(v1::unknown))
        .route(PREFIX, get(v1::unknown))
        .route("/feeds/search.xml", get(feeds::search_feed))
        .route("/feeds.opml", get(feeds::opml))
        .with_state(state)
}

/// `/briefings/{id}` as axum writes it: `/briefings/:id`.
fn axum_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(name) => format!(":{}", name.trim_end_matches('}')),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Why a request cannot be answered: a status and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// A failure of the server: logged with its cause, answered without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "API request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "the archive could not be read; the server log has the cause".to_string(),
        }
    }
}

impl From<ParamError> for ApiError {
    fn from(error: ParamError) -> ApiError {
        ApiError::bad_request(error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::internal(&error)
    }
}

/// Runs `work` on a read connection on a blocking thread.
async fn read<T, F>(state: &ApiState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let Ok(_permit) = state.gate.acquire().await else {
        return Err(ApiError::internal(&"the server is shutting down"));
    };
    let readers = state.readers.clone();
    tokio::task::spawn_blocking(move || readers.with(work))
        .await
        .unwrap_or_else(|join| Err(ApiError::internal(&join)))
}

/// The search that `q`, `lang`, `from`, `to` and `spokesperson` ask for, shared by the API's
/// search and the feed of a search: the query as written, parsed, and its filter.
fn search_request(params: &Params) -> Result<(String, Query, SearchFilter), ApiError> {
    let q = params
        .get("q")
        .ok_or_else(|| ApiError::bad_request("parameter q: is required (the words to find)"))?
        .to_string();
    let query =
        Query::parse(&q).map_err(|error| ApiError::bad_request(format!("parameter q: {error}")))?;
    let filter = SearchFilter {
        lang: params.lang()?,
        from: params.date("from")?,
        to: params.date("to")?,
        spokesperson: params.get("spokesperson").map(str::to_string),
    };
    Ok((q, query, filter))
}

/// Quoted hex of the body's SHA-256 prefix: a strong validator.
fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// Whether `If-None-Match` names `etag` (weak comparison, `*` included).
fn matches_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(|candidate| candidate.trim().trim_start_matches("W/"))
                .any(|candidate| candidate == "*" || candidate == etag)
        })
}

/// `body` with its `ETag`, or 304 when the client has it; `Access-Control-Allow-Origin: *`.
fn validated(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    request: &HeaderMap,
) -> Response {
    let etag = etag_of(&body);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // Clients may keep an answer but ask again each time: the ETag makes asking cheap.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if status.is_success() && matches_etag(request, &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (status, headers, body).into_response()
}

/// A JSON answer, or the JSON error.
fn json<T: Serialize>(result: Result<T, ApiError>, request: &HeaderMap) -> Response {
    let (status, body) = match result
        .and_then(|value| serde_json::to_vec(&value).map_err(|error| ApiError::internal(&error)))
    {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => (error.status, error_body(&error)),
    };
    validated(status, "application/json", body, request)
}

fn error_body(error: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "error": error.message })).unwrap_or_default()
}

/// A plain-text error, for the feeds.
fn text_error(error: &ApiError) -> Response {
    (
        error.status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{}\n", error.message),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_axum_paths() {
        assert_eq!(axum_path("/briefings/{id}/diff"), "/briefings/:id/diff");
        assert_eq!(axum_path("/events"), "/events");
    }

    #[test]
    fn etags_compare_weakly_and_star_matches() {
        let etag = etag_of(b"{}");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert!(matches_etag(&with(&etag), &etag));
        assert!(matches_etag(&with(&format!("\"x\", W/{etag}")), &etag));
        assert!(matches_etag(&with("*"), &etag));
        assert!(!matches_etag(&with("\"x\""), &etag));
        assert!(!matches_etag(&HeaderMap::new(), &etag));
    }
}
