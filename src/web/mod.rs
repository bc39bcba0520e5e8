//! The web view: server-rendered pages over the archive, its search and trends.
//!
//! Handlers read through a small pool of their own read connections (WAL lets them read while the
//! daemon writes) on blocking threads, and render with `maud`, which escapes every value it is
//! given: nothing stored is ever emitted as HTML.

pub mod chart;
pub mod compare;
pub mod pages;
pub mod params;
pub mod views;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::Markup;

use crate::search::SearchError;
use crate::store::{Store, StoreError};
use params::ParamError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// An unknown briefing, revision or page.
    #[error("{0}")]
    NotFound(String),
    /// A query parameter that cannot be used.
    #[error("{0}")]
    BadRequest(String),
    #[error("archive error: {0}")]
    Store(#[from] StoreError),
    #[error("search error: {0}")]
    Search(SearchError),
}

impl From<ParamError> for WebError {
    fn from(error: ParamError) -> WebError {
        WebError::BadRequest(error.to_string())
    }
}

impl From<SearchError> for WebError {
    fn from(error: SearchError) -> WebError {
        match error {
            SearchError::Query(query) => WebError::BadRequest(format!("q: {query}")),
            other => WebError::Search(other),
        }
    }
}

/// Read connections for the pages. Each is a full [`Store`] so the archive's typed reads work;
/// a request takes whichever is free.
///
/// Nothing a request read stays resident after it: each connection drops its page cache when its
/// request is done, and the last request running hands the freed heap back to the system. A page
/// of the twenty-year archive then reads its few hundred pages again from the operating system's
/// cache (a millisecond or two), and the idle daemon does not keep the peak of its busiest page.
pub struct Readers {
    stores: Vec<Mutex<Store>>,
    next: AtomicUsize,
    /// Requests being served.
    running: AtomicUsize,
}

impl Readers {
    pub fn new(stores: Vec<Store>) -> Readers {
        assert!(!stores.is_empty(), "the web view needs at least one store");
        Readers {
            stores: stores.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
        }
    }

    /// Opens `count` connections to the database at `path`.
    pub fn open(path: &Path, count: usize) -> Result<Readers, StoreError> {
        let stores = (0..count.max(1))
            .map(|_| Store::open(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Readers::new(stores))
    }

    /// How many connections the pool holds.
    pub fn len(&self) -> usize {
        self.stores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    pub(crate) fn with<T>(&self, work: impl FnOnce(&Store) -> T) -> T {
        self.running.fetch_add(1, Ordering::AcqRel);
        let result = self.with_free(|store| {
            let result = work(store);
            // Only memory is released: a failure costs nothing but that memory.
            let _ = store.release_memory();
            result
        });
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            crate::daemon::release_free_memory();
        }
        result
    }

    fn with_free<T>(&self, work: impl FnOnce(&Store) -> T) -> T {
        for slot in &self.stores {
            if let Ok(store) = slot.try_lock() {
                return work(&store);
            }
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.stores.len();
        let store = self.stores[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&store)
    }
}

/// The current time, passed in so that pages showing "blocked until" are testable.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What the web handlers share.
#[derive(Clone)]
pub struct WebState {
    pub readers: Arc<Readers>,
    pub clock: Clock,
}

impl WebState {
    pub fn new(readers: Readers) -> WebState {
        WebState {
            readers: Arc::new(readers),
            clock: Arc::new(Utc::now),
        }
    }
}

/// The pages, to merge into the feed server's router.
pub fn routes(state: WebState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/b/:id", get(briefing))
        .route("/b/:id/diff", get(diff))
        .route("/events", get(events))
        .route("/search", get(search_page))
        .route("/trends", get(trends))
        .route("/status", get(status))
        .route("/assets/briefwatch.css", get(stylesheet))
        .fallback(not_found)
        .with_state(state)
}

async fn render<F>(state: WebState, page: F) -> Response
where
    F: FnOnce(&Store, DateTime<Utc>) -> Result<Markup, WebError> + Send + 'static,
{
    render_with_status(state, move |store, now| {
        page(store, now).map(|markup| (StatusCode::OK, markup))
    })
    .await
}

/// [`render`] for a page that chooses its own status (a search form that explains a bad query).
async fn render_with_status<F>(state: WebState, page: F) -> Response
where
    F: FnOnce(&Store, DateTime<Utc>) -> Result<(StatusCode, Markup), WebError> + Send + 'static,
{
    let now = (state.clock)();
    let readers = state.readers.clone();
    let result = tokio::task::spawn_blocking(move || readers.with(|store| page(store, now))).await;
    match result {
        Ok(Ok((status, markup))) => html(status, markup),
        Ok(Err(error)) => error_page(&error),
        Err(join) => {
            tracing::error!(error = %join, "web page handler failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be built",
                ),
            )
        }
    }
}

fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'",
            ),
        ],
        markup.into_string(),
    )
        .into_response()
}

fn error_page(error: &WebError) -> Response {
    let status = match error {
        WebError::NotFound(_) => StatusCode::NOT_FOUND,
        WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %error, "web page failed");
    }
    html(status, pages::error(status, &error.to_string()))
}

async fn not_found() -> Response {
    error_page(&WebError::NotFound("there is no such page".into()))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

fn document_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| WebError::NotFound(format!("there is no briefing {id:?}")))
}

async fn index(State(state): State<WebState>, RawQuery(raw): RawQuery) -> Response {
    render(state, move |store, _| {
        let params = params::Params::parse(raw.as_deref());
        let filter = views::ListFilter::from_params(&params)?;
        let list = views::briefing_list(store, &filter)?;
        Ok(pages::index(&filter, &list))
    })
    .await
}

async fn briefing(
    State(state): State<WebState>,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    render(state, move |store, _| {
        let id = document_id(&id)?;
        let params = params::Params::parse(raw.as_deref());
        params.only(&["rev"])?;
        let rev = params
            .get("rev")
            .map(|_| params.positive("rev", 1, i64::MAX))
            .transpose()?;
        let view = views::briefing(store, id, rev)?;
        Ok(pages::briefing(&view))
    })
    .await
}

async fn diff(
    State(state): State<WebState>,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    render(state, move |store, _| {
        let id = document_id(&id)?;
        let params = params::Params::parse(raw.as_deref());
        params.only(&["from", "to", "cosmetic"])?;
        let revision = |name: &str| {
            params
                .get(name)
                .map(|_| params.required_positive(name, i64::MAX))
                .transpose()
        };
        let (from, to) = (revision("from")?, revision("to")?);
        let show_cosmetic = params.get("cosmetic") == Some("1");
        let view = compare::diff_view(store, id, from, to)?;
        Ok(compare::diff_page(&view, show_cosmetic))
    })
    .await
}

async fn events(State(state): State<WebState>, RawQuery(raw): RawQuery) -> Response {
    render(state, move |store, _| {
        let params = params::Params::parse(raw.as_deref());
        params.only(&["before"])?;
        let before = params
            .get("before")
            .map(|_| params.positive("before", 1, i64::MAX))
            .transpose()?;
        let list = views::events(store, before)?;
        Ok(pages::events(&list))
    })
    .await
}

async fn search_page(State(state): State<WebState>, RawQuery(raw): RawQuery) -> Response {
    render_with_status(state, move |store, _| {
        let params = params::Params::parse(raw.as_deref());
        let form = views::SearchForm::from_params(&params)?;
        // A query that cannot be searched comes back in the form, with what is wrong with it.
        let status = if form.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let results = views::search(store, &form)?;
        Ok((status, pages::search(&form, results.as_ref())))
    })
    .await
}

async fn trends(State(state): State<WebState>, RawQuery(raw): RawQuery) -> Response {
    render(state, move |store, _| {
        let params = params::Params::parse(raw.as_deref());
        params.only(&["q"])?;
        let terms = views::trend_terms(&params)?;
        let view = views::trends(store, &terms)?;
        Ok(pages::trends(&terms, &view))
    })
    .await
}

async fn status(State(state): State<WebState>) -> Response {
    render(state, move |store, now| {
        let view = views::status(store, now)?;
        Ok(pages::status(&view))
    })
    .await
}
