//! HTTP server: feeds with conditional GET, health, the web view, and the connections themselves.
//!
//! Feeds are served from the pre-rendered [`FeedSet`](crate::feed::FeedSet): a request only looks
//! up bytes and compares validators, never touches the archive.
//!
//! The server keeps its own house, so that clients that hold connections open cannot starve it
//! of file descriptors (which `/healthz`, the archive and the systemd notifications need too):
//! request headers must arrive within `header_timeout` (the same limit ends an idle keep-alive
//! connection), a connection serves at most `max_requests_per_connection` requests, and at most
//! `max_connections` are open at once, fewer when the process's descriptor limit is low. A new
//! connection beyond the cap closes the one that has waited longest without a request in
//! progress; when every connection is busy, the new one is closed at once.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};

use crate::config::HttpConfig;
use crate::feed::{RenderedFeed, SharedFeeds};

/// Descriptors kept for everything but HTTP clients: the archive and its readers (database, WAL
/// and shared-memory files each), requests to the ministry, SMTP, the journal, sd_notify.
pub const RESERVED_DESCRIPTORS: u64 = 128;

/// How long in-flight requests get to finish once the server is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP server failed: {source}")]
    Serve { source: std::io::Error },
    #[error("[http] public_url must be an absolute http(s) URL, got {0:?}")]
    InvalidPublicUrl(String),
    #[error("[http] {0} must be at least 1")]
    ZeroLimit(&'static str),
}

impl HttpConfig {
    /// The public base URL, checked to be absolute http(s), without a trailing slash.
    pub fn public_url(&self) -> Result<String, ServeError> {
        let Some(configured) = &self.public_url else {
            return Ok(format!("http://{}", self.listen));
        };
        match url::Url::parse(configured) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(url.as_str().trim_end_matches('/').to_string())
            }
            _ => Err(ServeError::InvalidPublicUrl(configured.clone())),
        }
    }

    pub fn validate(&self) -> Result<(), ServeError> {
        if self.max_connections == 0 {
            return Err(ServeError::ZeroLimit("max_connections"));
        }
        if self.max_requests_per_connection == 0 {
            return Err(ServeError::ZeroLimit("max_requests_per_connection"));
        }
        if self.header_timeout.is_zero() {
            return Err(ServeError::ZeroLimit("header_timeout"));
        }
        self.public_url().map(drop)
    }

    /// The connection cap in force: `max_connections`, or fewer when the soft descriptor limit
    /// (`descriptors`) leaves less room after [`RESERVED_DESCRIPTORS`].
    pub fn connection_cap(&self, descriptors: Option<u64>) -> usize {
        let room = descriptors.map_or(u64::MAX, |limit| {
            limit.saturating_sub(RESERVED_DESCRIPTORS).max(1)
        });
        self.max_connections
            .min(usize::try_from(room).unwrap_or(usize::MAX))
            .max(1)
    }
}

/// The process's soft limit on open descriptors (`RLIMIT_NOFILE`), if it can be read.
pub fn descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// What the handlers share. Cloned per request, so it holds only handles.
#[derive(Debug, Clone, Default)]
pub struct ServeState {
    pub feeds: SharedFeeds,
    /// Whether the watch works, set by the daemon after every cycle.
    pub health: HealthBoard,
}

/// What `/healthz` reports, set by the daemon after every cycle: `None` while healthy, else why.
#[derive(Debug, Clone, Default)]
pub struct HealthBoard(Arc<RwLock<Option<String>>>);

impl HealthBoard {
    pub fn set(&self, verdict: Option<String>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = verdict;
        }
    }

    /// Why the service is unhealthy, or `None`.
    pub fn verdict(&self) -> Option<String> {
        self.0.read().ok().and_then(|slot| slot.clone())
    }
}

/// The routes: `GET /feeds/<name>.xml` (also `keywords/<rule>.xml`) and `GET /healthz`. Further
/// routes (the web view) merge into the returned router.
pub fn router(state: ServeState) -> Router {
    Router::new()
        .route("/feeds/*path", get(feed))
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// Binds the listener; call before reporting readiness so that a port clash fails the start.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// [`bind`] for a caller outside async code, inside a runtime's context (`Runtime::enter`): the
/// listener is registered with that runtime.
pub fn bind_now(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    // As `TcpListener::bind` does: the address reusable at once after a restart, a backlog of 1024.
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    };
    socket
        .and_then(|socket| {
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)
        })
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Serves `router` on `listener` with the default limits until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(listener, router, &HttpConfig::default(), shutdown).await
}

/// One open connection, as the accept loop sees it.
struct Open {
    abort: AbortHandle,
    /// Milliseconds since the server started at which the connection last became idle (waiting
    /// for a request's headers); `u64::MAX` while a request is being served.
    idle_since: Arc<AtomicU64>,
}

const BUSY: u64 = u64::MAX;

/// [`serve`] with the limits of `config` (see the module documentation).
pub async fn serve_with<F>(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: F,
) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let cap = config.connection_cap(descriptor_limit());
    tracing::debug!(max_connections = cap, "HTTP connection cap");
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    let http = Arc::new(http);
    let max_requests = config.max_requests_per_connection;
    let origin = Instant::now();
    let (stop_connections, stopping) = tokio::sync::watch::channel(false);
    let mut tasks: JoinSet<u64> = JoinSet::new();
    let open: Arc<Mutex<HashMap<u64, Open>>> = Arc::default();
    let mut next_id = 0u64;
    let mut refused_logged = false;
    let mut accept_error_logged = false;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while let Some(done) = tasks.try_join_next() {
            if let Ok(id) = done {
                lock(&open).remove(&id);
            }
        }
        let stream = match accepted {
            Ok((stream, _)) => {
                accept_error_logged = false;
                stream
            }
            Err(error) => {
                // Out of descriptors (EMFILE, ENFILE) or a connection reset before it was
                // accepted: pause briefly instead of spinning, and say so once per burst.
                if !accept_error_logged {
                    tracing::warn!(%error, "cannot accept an HTTP connection");
                    accept_error_logged = true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        {
            let mut open = lock(&open);
            if open.len() >= cap {
                let oldest_idle = open
                    .iter()
                    .filter(|(_, connection)| connection.idle_since.load(Ordering::Relaxed) != BUSY)
                    .min_by_key(|(_, connection)| connection.idle_since.load(Ordering::Relaxed))
                    .map(|(id, _)| *id);
                match oldest_idle.and_then(|id| open.remove(&id)) {
                    Some(evicted) => evicted.abort.abort(),
                    None => {
                        if !refused_logged {
                            tracing::warn!(
                                max_connections = cap,
                                "every HTTP connection is busy; closing new ones"
                            );
                            refused_logged = true;
                        }
                        drop(stream);
                        continue;
                    }
                }
            }
            refused_logged = false;
        }
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        let idle_since = Arc::new(AtomicU64::new(elapsed_millis(origin)));
        let connection_idle = idle_since.clone();
        let served = Arc::new(AtomicU64::new(0));
        let router = router.clone();
        let service = hyper::service::service_fn(move |request| {
            connection_idle.store(BUSY, Ordering::Relaxed);
            let count = served.fetch_add(1, Ordering::Relaxed) + 1;
            let idle = connection_idle.clone();
            let mut router = router.clone();
            async move {
                let mut response = match tower_service::Service::call(&mut router, request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                if count >= u64::from(max_requests) {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                idle.store(elapsed_millis(origin), Ordering::Relaxed);
                Ok::<_, Infallible>(response)
            }
        });
        let http = http.clone();
        let mut stopping = stopping.clone();
        let abort = tasks.spawn(async move {
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stop = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stop => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            id
        });
        lock(&open).insert(id, Open { abort, idle_since });
    }
    drop(listener);
    let _ = stop_connections.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tasks.abort_all();
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn elapsed_millis(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_millis()).unwrap_or(BUSY - 1)
}

/// `ok` (200) while the watch works; `unhealthy` (503) with the reason once every source has
/// failed for `service.unhealthy_after`.
async fn healthz(State(state): State<ServeState>) -> Response {
    let feeds = state.feeds.load().len();
    match state.health.verdict() {
        None => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("ok\nfeeds: {feeds}\n"),
        )
            .into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("unhealthy\n{reason}\nfeeds: {feeds}\n"),
        )
            .into_response(),
    }
}

async fn feed(
    State(state): State<ServeState>,
    Path(path): Path<String>,
    request_headers: HeaderMap,
) -> Response {
    let Some(name) = path.strip_suffix(".xml") else {
        return not_found();
    };
    let set = state.feeds.load();
    let Some(feed) = set.get(name) else {
        return not_found();
    };
    feed_response(feed, set.max_age, &request_headers)
}

/// A feed document with its validators and caching headers: gzip when the client takes it, 304
/// when its validators say the client's copy is current; `max_age` tells clients how long to cache.
pub fn feed_response(
    feed: &RenderedFeed,
    max_age: std::time::Duration,
    request_headers: &HeaderMap,
) -> Response {
    let gzip = accepts_gzip(request_headers);
    let (body, etag) = if gzip {
        (&feed.gzip, &feed.gzip_etag)
    } else {
        (&feed.body, &feed.etag)
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/rss+xml; charset=utf-8"),
    );
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    let last_modified = SystemTime::from(feed.last_modified);
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(last_modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    if let Ok(cache) = HeaderValue::from_str(&format!("public, max-age={}", max_age.as_secs())) {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if not_modified(request_headers, feed) {
        // A 304 carries the validators but no body and no Content-Type.
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::CONTENT_ENCODING);
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (StatusCode::OK, headers, body.clone()).into_response()
}

/// Whether `Accept-Encoding` admits gzip (`gzip`, `x-gzip` or `*`, with a non-zero q).
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let zero_q = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            matches!(name.as_str(), "gzip" | "x-gzip" | "*") && !zero_q
        })
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "no such feed\n",
    )
        .into_response()
}

/// RFC 9110 §13.2.2: `If-None-Match` decides when present (weak comparison); otherwise
/// `If-Modified-Since`, at whole-second precision.
fn not_modified(request: &HeaderMap, feed: &RenderedFeed) -> bool {
    if let Some(if_none_match) = request.get(header::IF_NONE_MATCH) {
        let Ok(list) = if_none_match.to_str() else {
            return false;
        };
        // Either representation's validator names the same version of the feed.
        return list.split(',').map(str::trim).any(|candidate| {
            let candidate = candidate.trim_start_matches("W/");
            candidate == "*" || candidate == feed.etag || candidate == feed.gzip_etag
        });
    }
    if let Some(since) = request.get(header::IF_MODIFIED_SINCE) {
        let Some(since) = since
            .to_str()
            .ok()
            .and_then(|text| httpdate::parse_http_date(text).ok())
        else {
            return false;
        };
        return SystemTime::from(feed.last_modified) <= since;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn the_connection_cap_leaves_descriptors_for_the_rest() {
        let config = HttpConfig::default();
        assert_eq!(config.connection_cap(None), 512);
        assert_eq!(config.connection_cap(Some(1024)), 512);
        assert_eq!(config.connection_cap(Some(256)), 128);
        assert_eq!(config.connection_cap(Some(10)), 1);
    }
    use chrono::{TimeZone, Utc};

    fn rendered() -> RenderedFeed {
        RenderedFeed {
            body: Bytes::from_static(b"<rss/>"),
            etag: "\"abc\"".to_string(),
            gzip: Bytes::from_static(b"gz"),
            gzip_etag: "\"abc-gz\"".to_string(),
            last_modified: Utc.with_ymd_and_hms(2020, 7, 3, 13, 19, 0).unwrap(),
        }
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn if_none_match_takes_precedence_and_compares_weakly() {
        let feed = rendered();
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"abc\"")]),
            &feed
        ));
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"x\", W/\"abc\"")]),
            &feed
        ));
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "*")]),
            &feed
        ));
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"abc-gz\"")]),
            &feed
        ));
        assert!(!not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"ab\"")]),
            &feed
        ));
        assert!(!not_modified(
            &headers(&[
                (header::IF_NONE_MATCH, "\"old\""),
                (header::IF_MODIFIED_SINCE, "Fri, 03 Jul 2020 13:19:00 GMT"),
            ]),
            &feed
        ));
    }

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        let accept = |value| headers(&[(header::ACCEPT_ENCODING, value)]);
        assert!(accepts_gzip(&accept("gzip, deflate, br")));
        assert!(accepts_gzip(&accept("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&accept("*")));
        assert!(!accepts_gzip(&accept("gzip;q=0, identity")));
        assert!(!accepts_gzip(&accept("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_modified_since_compares_whole_seconds() {
        let feed = rendered();
        let since = |date| headers(&[(header::IF_MODIFIED_SINCE, date)]);
        assert!(not_modified(&since("Fri, 03 Jul 2020 13:19:00 GMT"), &feed));
        assert!(not_modified(&since("Sat, 04 Jul 2020 00:00:00 GMT"), &feed));
        assert!(!not_modified(
            &since("Fri, 03 Jul 2020 13:18:59 GMT"),
            &feed
        ));
        assert!(!not_modified(&since("yesterday"), &feed));
        assert!(!not_modified(&HeaderMap::new(), &feed));
    }

    #[test]
    fn http_config_defaults_to_loopback_and_checks_the_public_url() {
        let config: HttpConfig = toml::from_str("").unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(config.public_url().unwrap(), "http://127.0.0.1:8787");
        let config: HttpConfig = toml::from_str(
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://feeds.example.org/bw/\"",
        )
        .unwrap();
        assert_eq!(config.public_url().unwrap(), "https://feeds.example.org/bw");
        let config: HttpConfig = toml::from_str("public_url = \"feeds.example.org\"").unwrap();
        assert!(config.validate().is_err());
        assert!(toml::from_str::<HttpConfig>("port = 80").is_err());
        let config: HttpConfig = toml::from_str("max_connections = 0").unwrap();
        assert!(config.validate().is_err());
        assert!(toml::from_str::<HttpConfig>("listen = \"localhost\"").is_err());
    }
}
