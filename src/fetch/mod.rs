//! Polite HTTP: robots.txt, per-host pacing, conditional GET, retries, charset, outcome
//! classification, and the fence around the site (which hosts, ports and addresses may be asked).
//!
//! The client and its pacing are here; `classify` says what an answer amounted to, `retry`
//! how long to wait before asking again, `fence` where requests may go, `robots` what
//! robots.txt allows.

mod classify;
mod fence;
mod retry;
mod robots;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header;
use url::Url;

use crate::config::FetchConfig;
use classify::location_is_error_page;
pub use classify::{Cause, classify, failure_cause, is_challenge};
use fence::SiteResolver;
pub use fence::{Origin, Refusal, SiteOrigins, is_local_address};
pub use retry::{bounded_wait, next_delay, retry_after};
pub use robots::{RobotsRules, RobotsVerdict};

pub use crate::model::{Outcome, Validators};

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
    /// Server's `Retry-After`, already cut down to `fetch.blocked_backoff`.
    pub retry_after: Option<Duration>,
    pub attempts: u32,
    pub elapsed: Duration,
    pub error: Option<String>,
    /// A failure that asking again within the cycle cannot mend (a refused target, a broken answer).
    pub final_failure: bool,
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
            final_failure: false,
        }
    }

    /// The cause of a failed fetch.
    pub fn cause(&self) -> Cause {
        failure_cause(self.outcome.as_str(), self.status, self.error.as_deref())
    }
}

/// The HTTP client with its per-host pacing and robots cache.
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    origins: SiteOrigins,
    agent: String,
    /// Host → earliest time of the next request.
    next_request: Mutex<HashMap<String, Instant>>,
    robots: Mutex<HashMap<String, RobotsRules>>,
}

impl Fetcher {
    /// A client that sends the briefwatch user agent, follows redirects only within `origins`,
    /// and never connects to the machine's own networks unless a source points there.
    pub fn new(config: &FetchConfig, origins: SiteOrigins) -> Result<Fetcher, FetchError> {
        let agent = user_agent(&config.contact);
        let fence = origins.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else if fence.check(attempt.url()).is_err()
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
            .dns_resolver(Arc::new(SiteResolver {
                allow_local: origins.allow_local(),
            }))
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .pool_max_idle_per_host(2)
            .build()
            .map_err(|source| FetchError::Client { source })?;
        Ok(Fetcher {
            client,
            config: config.clone(),
            origins,
            agent,
            next_request: Mutex::new(HashMap::new()),
            robots: Mutex::new(HashMap::new()),
        })
    }

    /// Where requests may go.
    pub fn origins(&self) -> &SiteOrigins {
        &self.origins
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

    /// What the loaded robots.txt says about the URL; `Unavailable` when it could not be read.
    pub fn robots_verdict(&self, url: &str) -> RobotsVerdict {
        let Some(host) = Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        else {
            return RobotsVerdict::Disallowed;
        };
        match self.robots.lock().expect("robots lock").get(&host) {
            None | Some(RobotsRules::Unreachable) => RobotsVerdict::Unavailable,
            Some(rules) if rules.allows(url) => RobotsVerdict::Allowed,
            Some(_) => RobotsVerdict::Disallowed,
        }
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
            if fetched.outcome != Outcome::Transient
                || fetched.final_failure
                || attempt >= self.config.max_attempts
            {
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
        let parsed = Url::parse(url).ok();
        let Some(host) = parsed
            .as_ref()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        else {
            return Fetched::failed(
                url,
                Outcome::Unparseable,
                format!("not an http(s) URL: {url}"),
            );
        };
        if let Some(Err(refusal)) = parsed.as_ref().map(|u| self.origins.check(u)) {
            let mut fetched = Fetched::failed(
                url,
                Outcome::Transient,
                format!("refused: off the site ({})", refusal.as_str()),
            );
            fetched.final_failure = true;
            return fetched;
        }
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
                let chain = error_chain(&error);
                let cause = failure_cause(Outcome::Transient.as_str(), None, Some(&chain));
                fetched.error = Some(if error.is_connect() && cause.is_unreachable() {
                    format!("{}: {chain}", cause.describe())
                } else {
                    chain
                });
                fetched.elapsed = started.elapsed();
                return fetched;
            }
        };
        let status = response.status();
        fetched.status = Some(status.as_u16());
        fetched.final_url = response.url().to_string();
        let headers = response.headers().clone();
        if let Some(asked) = retry_after(&headers, std::time::SystemTime::now()) {
            let (honoured, clamped) = bounded_wait(asked, self.config.blocked_backoff);
            if clamped {
                tracing::warn!(
                    url,
                    status = status.as_u16(),
                    asked_secs = asked.as_secs(),
                    honoured = %humantime::format_duration(honoured),
                    "Retry-After longer than fetch.blocked_backoff; honoured up to it"
                );
            }
            fetched.retry_after = Some(honoured);
        }
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
        let location = header_text(header::LOCATION);
        fetched.error = match fetched.outcome {
            Outcome::Ok | Outcome::NotModified => None,
            Outcome::SoftGone if status.is_redirection() => {
                location.as_ref().map(|l| format!("redirect to {l}"))
            }
            Outcome::SoftGone => Some("error page".to_string()),
            Outcome::Blocked => Some(format!("challenge ({status})")),
            _ => Some(status_text(status)),
        };
        if status.is_redirection() {
            // A redirect reaches us only when the policy stopped it: to the error page (a soft
            // 404), or off the site, which is refused rather than taken for the page.
            let target = location
                .as_deref()
                .and_then(|l| Url::parse(url).ok()?.join(l).ok());
            if let Some(target) = target.filter(|t| !location_is_error_page(t.as_str())) {
                if let Err(refusal) = self.origins.check(&target) {
                    fetched.outcome = Outcome::Transient;
                    fetched.error = Some(format!(
                        "redirect to {target} refused: off the site ({})",
                        refusal.as_str()
                    ));
                    fetched.final_failure = true;
                }
            }
        }
        if fetched.outcome == Outcome::NotModified
            && validators.etag.is_none()
            && validators.last_modified.is_none()
        {
            fetched.outcome = Outcome::Transient;
            fetched.error = Some("HTTP 304 Not Modified to a request without validators".into());
            fetched.final_failure = true;
        }
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
