//! Polite HTTP: robots.txt, per-host pacing, conditional GET, retries, charset, outcome classification.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::config::FetchConfig;
use serde::{Deserialize, Serialize};

/// What one request amounted to; every request is logged with one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A page with content.
    Ok,
    /// 304: unchanged since the validators we sent.
    NotModified,
    /// 404 or 410.
    Gone,
    /// A redirect to the error page, or the error page served with 200.
    SoftGone,
    /// A challenge (412/521 or a script-only page): leave the host alone for hours.
    Blocked,
    /// 5xx, 429, timeouts, resets, truncated or oversized bodies: try again later.
    Transient,
    /// Fetched fine but the layout was not recognized.
    Unparseable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotModified => "not_modified",
            Outcome::Gone => "gone",
            Outcome::SoftGone => "soft_gone",
            Outcome::Blocked => "blocked",
            Outcome::Transient => "transient",
            Outcome::Unparseable => "unparseable",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [
            Outcome::Ok,
            Outcome::NotModified,
            Outcome::Gone,
            Outcome::SoftGone,
            Outcome::Blocked,
            Outcome::Transient,
            Outcome::Unparseable,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == text)
    }
}

/// HTTP validators of a stored response, sent back as `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot build the HTTP client: {source}")]
    Client { source: reqwest::Error },
    #[error("not an http(s) URL with a host: {url}")]
    BadUrl { url: String },
}

/// The user agent: `briefwatch/<version> (+<contact>)`.
pub fn user_agent(contact: &str) -> String {
    format!("briefwatch/{} (+{contact})", env!("CARGO_PKG_VERSION"))
}

/// Whether a body is a script-only challenge page (a JavaScript cookie challenge): a short page
/// that is all script and no visible text.
pub fn is_challenge(body: &[u8]) -> bool {
    if body.len() > 16 * 1024 {
        return false;
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    if !text.contains("<script") {
        return false;
    }
    let mut visible = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<script") {
        visible.push_str(&rest[..start]);
        rest = match rest[start..].find("</script>") {
            Some(end) => &rest[start + end + "</script>".len()..],
            None => "",
        };
    }
    visible.push_str(rest);
    let mut outside_tags = String::new();
    let mut in_tag = false;
    for c in visible.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => outside_tags.push(c),
            _ => {}
        }
    }
    outside_tags.chars().count() < 40
}

fn location_is_error_page(location: &str) -> bool {
    let path = Url::parse(location)
        .map(|url| url.path().to_string())
        .unwrap_or_else(|_| location.split(['?', '#']).next().unwrap_or("").to_string());
    path.rsplit('/')
        .next()
        .is_some_and(|file| file.starts_with("error."))
}

/// Classifies a final response. Pure: status, headers and body in, outcome out.
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Outcome {
    match status {
        304 => Outcome::NotModified,
        200..=299 => {
            if is_challenge(body) {
                Outcome::Blocked
            } else if crate::site::is_soft_404_bytes(body) {
                Outcome::SoftGone
            } else {
                Outcome::Ok
            }
        }
        // Redirects that reach us were not followed: to the error page (a soft 404) or off the
        // configured hosts; either way the URL no longer serves the document.
        300..=399 => match headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
            Some(_) => Outcome::SoftGone,
            None => Outcome::Transient,
        },
        404 | 410 => Outcome::Gone,
        412 | 521 => Outcome::Blocked,
        400..=499 if is_challenge(body) => Outcome::Blocked,
        _ => Outcome::Transient,
    }
}

/// `Retry-After` as a duration: delta-seconds or an HTTP date relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Delay before attempt `attempt + 1` (attempt counts from 1): full-jitter exponential backoff,
/// `random` in [0, 1) times `min(cap, base * 2^(attempt-1))`, but never less than `Retry-After`.
pub fn next_delay(
    attempt: u32,
    retry_after: Option<Duration>,
    base: Duration,
    cap: Duration,
    random: f64,
) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let ceiling = base.saturating_mul(1u32 << exponent).min(cap);
    let jittered = ceiling.mul_f64(random.clamp(0.0, 1.0));
    match retry_after {
        Some(wait) => wait.max(jittered),
        None => jittered,
    }
}

/// What robots.txt says about a host.
#[derive(Debug)]
pub enum RobotsRules {
    /// No usable robots.txt (4xx, or an HTML page instead of rules): everything allowed.
    AllowAll,
    /// robots.txt unreachable (5xx, network failure): nothing may be fetched until it is read.
    Unreachable,
    Rules(Box<texting_robots::Robot>),
}

impl RobotsRules {
    /// Rules from a robots.txt answer, as RFC 9309 asks: 2xx rules apply, 4xx allows everything,
    /// 5xx or no answer disallows everything. The ministry answers with a redirect to an HTML error
    /// page; that is no rules at all.
    pub fn from_response(status: Option<u16>, body: &[u8], agent: &str) -> RobotsRules {
        match status {
            Some(200..=299) => {
                let head =
                    String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
                if head.contains("<html") || head.contains("<!doctype") {
                    return RobotsRules::AllowAll;
                }
                match texting_robots::Robot::new(agent, body) {
                    Ok(robot) => RobotsRules::Rules(Box::new(robot)),
                    Err(_) => RobotsRules::AllowAll,
                }
            }
            Some(300..=499) => RobotsRules::AllowAll,
            _ => RobotsRules::Unreachable,
        }
    }

    pub fn allows(&self, url: &str) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::Unreachable => false,
            RobotsRules::Rules(robot) => robot.allowed(url),
        }
    }
}

/// The answer to one page request, after retries.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    /// Where redirects ended.
    pub final_url: String,
    pub status: Option<u16>,
    pub outcome: Outcome,
    /// The body as received (empty unless the outcome is `Ok`, `SoftGone` or `Blocked` with a body).
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// Server's `Retry-After`, if it asked for more patience than a retry within the cycle allows.
    pub retry_after: Option<Duration>,
    pub attempts: u32,
    pub elapsed: Duration,
    pub error: Option<String>,
}

impl Fetched {
    /// The body decoded to text (BOM, HTTP charset, `<meta>`, UTF-8, GB18030).
    pub fn text(&self) -> String {
        crate::charset::decode_html(&self.body, self.content_type.as_deref())
    }

    fn failed(url: &str, outcome: Outcome, error: String) -> Fetched {
        Fetched {
            url: url.to_string(),
            final_url: url.to_string(),
            status: None,
            outcome,
            body: Vec::new(),
            content_type: None,
            validators: Validators::default(),
            retry_after: None,
            attempts: 0,
            elapsed: Duration::ZERO,
            error: Some(error),
        }
    }
}

/// The HTTP client with its per-host pacing and robots cache.
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    agent: String,
    /// Host → earliest time of the next request.
    next_request: Mutex<HashMap<String, Instant>>,
    robots: Mutex<HashMap<String, RobotsRules>>,
}

impl Fetcher {
    /// A client that sends the briefwatch user agent and follows redirects only within `allowed_hosts`.
    pub fn new(
        config: &FetchConfig,
        allowed_hosts: BTreeSet<String>,
    ) -> Result<Fetcher, FetchError> {
        let agent = user_agent(&config.contact);
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let host = attempt.url().host_str().map(str::to_ascii_lowercase);
            if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else if !host.is_some_and(|host| allowed_hosts.contains(&host))
                || location_is_error_page(attempt.url().as_str())
            {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(agent.clone())
            .redirect(policy)
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .pool_max_idle_per_host(2)
            .build()
            .map_err(|source| FetchError::Client { source })?;
        Ok(Fetcher {
            client,
            config: config.clone(),
            agent,
            next_request: Mutex::new(HashMap::new()),
            robots: Mutex::new(HashMap::new()),
        })
    }

    pub fn user_agent(&self) -> &str {
        &self.agent
    }

    /// Whether robots.txt rules for `host` are loaded.
    pub fn has_robots(&self, host: &str) -> bool {
        self.robots.lock().expect("robots lock").contains_key(host)
    }

    /// Installs robots.txt rules for a host from a stored or fresh answer.
    pub fn set_robots(&self, host: &str, status: Option<u16>, body: &[u8]) {
        let rules = RobotsRules::from_response(status, body, "briefwatch");
        self.robots
            .lock()
            .expect("robots lock")
            .insert(host.to_string(), rules);
    }

    /// Whether robots.txt allows the URL; `None` when the host's robots.txt is not loaded yet.
    pub fn robots_allows(&self, url: &str) -> Option<bool> {
        let host = Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
        self.robots
            .lock()
            .expect("robots lock")
            .get(&host)
            .map(|rules| rules.allows(url))
    }

    /// Fetches `https://host/robots.txt` once (no retries) and returns the raw answer; redirects
    /// are not followed, so the ministry's redirect to its error page reads as "no rules".
    pub async fn fetch_robots(&self, base: &Url) -> Fetched {
        let mut robots_url = base.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        self.attempt(robots_url.as_str(), &Validators::default())
            .await
    }

    /// GETs a page: waits its turn for the host, sends validators, retries transient failures with
    /// backoff, and classifies the answer. Never fails: failures are outcomes.
    pub async fn get(&self, url: &str, validators: &Validators) -> Fetched {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut fetched = self.attempt(url, validators).await;
            fetched.attempts = attempt;
            fetched.elapsed = started.elapsed();
            if fetched.outcome != Outcome::Transient || attempt >= self.config.max_attempts {
                return fetched;
            }
            let delay = next_delay(
                attempt,
                fetched.retry_after,
                self.config.backoff_base,
                self.config.backoff_max,
                rand::thread_rng().r#gen::<f64>(),
            );
            if delay > self.config.backoff_max {
                // The server asked for more patience than a retry inside this cycle allows.
                return fetched;
            }
            tracing::debug!(
                url,
                attempt,
                delay_ms = delay.as_millis() as u64,
                outcome = "transient",
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn pace(&self, host: &str) {
        let interval = self.config.min_request_interval;
        if interval.is_zero() {
            return;
        }
        let wait = {
            let mut next = self.next_request.lock().expect("pacing lock");
            let now = Instant::now();
            let slot = next.get(host).copied().unwrap_or(now).max(now);
            let jitter = interval.mul_f64(rand::thread_rng().r#gen::<f64>() * 0.5);
            next.insert(host.to_string(), slot + interval + jitter);
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: &str, validators: &Validators) -> Fetched {
        let started = Instant::now();
        let Some(host) = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        else {
            return Fetched::failed(
                url,
                Outcome::Unparseable,
                format!("not an http(s) URL: {url}"),
            );
        };
        self.pace(&host).await;
        let mut request = self.client.get(url);
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        let mut fetched = Fetched::failed(url, Outcome::Transient, String::new());
        fetched.attempts = 1;
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                fetched.error = Some(error_chain(&error));
                fetched.elapsed = started.elapsed();
                return fetched;
            }
        };
        let status = response.status();
        fetched.status = Some(status.as_u16());
        fetched.final_url = response.url().to_string();
        let headers = response.headers().clone();
        fetched.retry_after = retry_after(&headers, std::time::SystemTime::now());
        let header_text = |name| {
            headers
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        fetched.content_type = header_text(header::CONTENT_TYPE);
        fetched.validators = Validators {
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
        };
        if let Some(length) = response.content_length() {
            if length > self.config.max_body_bytes {
                fetched.error = Some(format!(
                    "body of {length} bytes exceeds the cap of {}",
                    self.config.max_body_bytes
                ));
                fetched.elapsed = started.elapsed();
                return fetched;
            }
        }
        match read_capped(response, self.config.max_body_bytes).await {
            Ok(body) => fetched.body = body,
            Err(error) => {
                fetched.error = Some(error);
                fetched.elapsed = started.elapsed();
                return fetched;
            }
        }
        fetched.outcome = classify(status.as_u16(), &headers, &fetched.body);
        fetched.error = match fetched.outcome {
            Outcome::Ok | Outcome::NotModified => None,
            Outcome::SoftGone if status.is_redirection() => {
                header_text(header::LOCATION).map(|l| format!("redirect to {l}"))
            }
            Outcome::SoftGone => Some("error page".to_string()),
            Outcome::Blocked => Some(format!("challenge ({status})")),
            _ => Some(status_text(status)),
        };
        if !matches!(
            fetched.outcome,
            Outcome::Ok | Outcome::SoftGone | Outcome::Blocked
        ) {
            fetched.body.clear();
        }
        fetched.elapsed = started.elapsed();
        fetched
    }
}

fn status_text(status: StatusCode) -> String {
    format!("HTTP {status}")
}

/// The error and its causes on one line (reqwest hides the interesting part in the source chain).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn read_capped(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, String> {
    let mut body =
        Vec::with_capacity(response.content_length().unwrap_or(16 * 1024).min(cap) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > cap {
                    return Err(format!("body exceeds the cap of {cap} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => {
                return Err(format!(
                    "body cut short after {} bytes: {}",
                    body.len(),
                    error_chain(&error)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const ARTICLE: &[u8] = b"<html><body><div class=content><p>CCTV: A question?</p><p>Zhao Lijian: An answer that is long enough to be visible text.</p></div></body></html>";
    const CHALLENGE: &[u8] = b"<html><script>var x={};document.cookie='__jsl_clearance=1';location.href=location.href</script></html>";

    #[test]
    fn classify_covers_every_outcome() {
        let none = HeaderMap::new();
        assert_eq!(classify(200, &none, ARTICLE), Outcome::Ok);
        assert_eq!(classify(304, &none, b""), Outcome::NotModified);
        assert_eq!(classify(404, &none, b"not found"), Outcome::Gone);
        assert_eq!(classify(410, &none, b""), Outcome::Gone);
        let to_error = headers(&[(header::LOCATION, "https://www.fmprc.gov.cn/error.htm")]);
        assert_eq!(classify(302, &to_error, b""), Outcome::SoftGone);
        let error_page = "<html><body>对不起，我们没有找到您要的网页</body></html>";
        assert_eq!(
            classify(200, &none, error_page.as_bytes()),
            Outcome::SoftGone
        );
        assert_eq!(classify(412, &none, CHALLENGE), Outcome::Blocked);
        assert_eq!(classify(521, &none, b""), Outcome::Blocked);
        assert_eq!(classify(200, &none, CHALLENGE), Outcome::Blocked);
        assert_eq!(classify(403, &none, CHALLENGE), Outcome::Blocked);
        assert_eq!(classify(500, &none, b"oops"), Outcome::Transient);
        assert_eq!(classify(503, &none, b""), Outcome::Transient);
        assert_eq!(classify(429, &none, b""), Outcome::Transient);
    }

    #[test]
    fn a_real_page_with_scripts_is_not_a_challenge() {
        let page = [
            b"<html><script>var countPage = 13;</script>".as_slice(),
            ARTICLE,
        ]
        .concat();
        assert!(!is_challenge(&page));
        assert!(!is_challenge(b"plain text"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let seconds = headers(&[(header::RETRY_AFTER, "7")]);
        assert_eq!(retry_after(&seconds, now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        let dated = headers(&[(header::RETRY_AFTER, &date)]);
        assert_eq!(retry_after(&dated, now), Some(Duration::from_secs(90)));
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let base = Duration::from_secs(2);
        let cap = Duration::from_secs(60);
        assert_eq!(next_delay(1, None, base, cap, 0.999_999).as_secs(), 1);
        assert_eq!(next_delay(3, None, base, cap, 0.5), Duration::from_secs(4));
        assert_eq!(next_delay(20, None, base, cap, 1.0), cap);
        assert_eq!(next_delay(4, None, base, cap, 0.0), Duration::ZERO);
        let wait = Some(Duration::from_secs(30));
        assert_eq!(next_delay(1, wait, base, cap, 0.5), Duration::from_secs(30));
        assert_eq!(
            next_delay(5, Some(Duration::from_secs(1)), base, cap, 1.0),
            Duration::from_secs(32)
        );
    }

    #[test]
    fn robots_follow_rfc_9309() {
        let rules = "User-agent: *\nDisallow: /private/\n";
        let robots = RobotsRules::from_response(Some(200), rules.as_bytes(), "briefwatch");
        assert!(robots.allows("https://h/public/a.html"));
        assert!(!robots.allows("https://h/private/a.html"));
        assert!(
            RobotsRules::from_response(Some(404), b"", "briefwatch").allows("https://h/private/")
        );
        // The ministry: a redirect to the error page, or that page itself.
        assert!(RobotsRules::from_response(Some(302), b"", "briefwatch").allows("https://h/x"));
        let html = b"<!DOCTYPE HTML PUBLIC><html><title>302 Found</title></html>";
        assert!(RobotsRules::from_response(Some(200), html, "briefwatch").allows("https://h/x"));
        assert!(!RobotsRules::from_response(Some(503), b"", "briefwatch").allows("https://h/x"));
        assert!(!RobotsRules::from_response(None, b"", "briefwatch").allows("https://h/x"));
    }

    #[test]
    fn user_agent_names_version_and_contact() {
        assert_eq!(
            user_agent("mailto:ops@example.org"),
            format!(
                "briefwatch/{} (+mailto:ops@example.org)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
