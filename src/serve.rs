//! HTTP server: feeds with conditional GET, health, the web view.
//!
//! Feeds are served from the pre-rendered [`FeedSet`](crate::feed::FeedSet): a request only looks
//! up bytes and compares validators, never touches the archive.

use std::future::Future;
use std::net::SocketAddr;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::feed::{RenderedFeed, SharedFeeds};

/// Where the server listens unless the config says otherwise: loopback, for a reverse proxy.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

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
}

/// The `[http]` section of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The URL readers reach this server at (behind a reverse proxy, its public address); feeds
    /// use it for their self links and for links to the diff view. Default: `http://<listen>`.
    pub public_url: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: DEFAULT_LISTEN
                .parse()
                .expect("default listen address parses"),
            public_url: None,
        }
    }
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
        self.public_url().map(drop)
    }
}

/// What the handlers share. Cloned per request, so it holds only handles.
#[derive(Debug, Clone, Default)]
pub struct ServeState {
    pub feeds: SharedFeeds,
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

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Serve { source })
}

async fn healthz(State(state): State<ServeState>) -> Response {
    let feeds = state.feeds.load().len();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("ok\nfeeds: {feeds}\n"),
    )
        .into_response()
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
        assert!(toml::from_str::<HttpConfig>("listen = \"localhost\"").is_err());
    }
}
