//! Polite HTTP: robots.txt, per-host pacing, conditional GET, retries, charset, outcome
//! classification, and the fence around the site (which hosts, ports and addresses may be asked).

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::config::FetchConfig;
use serde::{Deserialize, Serialize};

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

/// `Retry-After` as a duration: delta-seconds or an HTTP date relative to `now`. Unbounded (a
/// server may ask for centuries); [`bounded_wait`] clamps it before it reaches a schedule.
pub fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time", not "no answer".
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A server-asked wait honoured up to `ceiling`: the wait, and whether it was cut down.
pub fn bounded_wait(asked: Duration, ceiling: Duration) -> (Duration, bool) {
    if asked > ceiling {
        (ceiling, true)
    } else {
        (asked, false)
    }
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

/// One allowed host and port: `host` alone stands for the scheme's default port (80 or 443).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub host: String,
    /// `None`: the default port of http or https.
    pub port: Option<u16>,
}

impl Origin {
    /// `host` or `host:port` (a bracketed IPv6 literal for IPv6).
    pub fn parse(text: &str) -> Option<Origin> {
        let url = Url::parse(&format!("http://{}/", text.trim())).ok()?;
        if url.path() != "/" || !url.username().is_empty() || url.query().is_some() {
            return None;
        }
        Some(Origin {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port(),
        })
    }

    fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port(),
        })
    }
}

/// Where requests may go: `http`/`https` on a host and port of the sources or of
/// `fetch.redirect_hosts`. Addresses of the machine's own networks (loopback, private,
/// link-local) are refused unless a source's own host is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteOrigins {
    origins: BTreeSet<Origin>,
    allow_local: bool,
}

/// Why a URL is not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `http` or `https` (`file:`, `data:`, `javascript:`, `mailto:` …).
    Scheme,
    /// A host or port that is not one of the site's.
    OffSite,
    /// An address of the machine's own networks.
    LocalAddress,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Scheme => "not an http(s) URL",
            Refusal::OffSite => "not a host and port of the sources or fetch.redirect_hosts",
            Refusal::LocalAddress => "an address of the local network",
        }
    }
}

impl SiteOrigins {
    pub fn new<'a>(
        sources: impl IntoIterator<Item = &'a Url>,
        redirect_hosts: &[String],
    ) -> SiteOrigins {
        let mut origins = BTreeSet::new();
        let mut allow_local = false;
        for url in sources {
            if let Some(origin) = Origin::of(url) {
                allow_local |= host_is_local(&origin.host);
                origins.insert(origin);
            }
        }
        origins.extend(redirect_hosts.iter().filter_map(|text| Origin::parse(text)));
        SiteOrigins {
            origins,
            allow_local,
        }
    }

    /// Whether the site's own fence lets this URL through; `Err` says why not.
    pub fn check(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme);
        }
        let Some(origin) = Origin::of(url) else {
            return Err(Refusal::Scheme);
        };
        if !self.allow_local && host_is_local(&origin.host) {
            return Err(Refusal::LocalAddress);
        }
        if self.origins.contains(&origin) {
            Ok(())
        } else {
            Err(Refusal::OffSite)
        }
    }

    pub fn allows(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|url| self.check(&url).is_ok())
    }

    /// Whether addresses of the machine's own networks may be reached (a source points there).
    pub fn allow_local(&self) -> bool {
        self.allow_local
    }
}

/// Whether a host name is an address literal of the machine's own networks, or `localhost`.
fn host_is_local(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => is_local_address(ip),
        Err(_) => bare == "localhost" || bare.ends_with(".localhost"),
    }
}

/// Loopback, private (RFC 1918, unique local), link-local, shared (RFC 6598), unspecified and
/// broadcast addresses: never the ministry's.
pub fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_local_address(IpAddr::V4(v4)))
        }
    }
}

/// Resolves names as the system does, then drops addresses of the machine's own networks unless
/// a source points there, so that a name of the site cannot lead a request inside.
struct SiteResolver {
    allow_local: bool,
}

impl reqwest::dns::Resolve for SiteResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|error| format!("dns error: cannot resolve {host}: {error}"))?
                .collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| allow_local || !is_local_address(addr.ip()))
                .collect();
            if kept.is_empty() {
                let message = if found.is_empty() {
                    format!("dns error: {host} has no address")
                } else {
                    format!(
                        "dns error: {host} resolves only to addresses of the local network; refused"
                    )
                };
                return Err(message.into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a request failed, as an operator needs to hear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The name does not resolve (or only to the local network).
    Dns,
    /// Nothing listens on the port.
    ConnectionRefused,
    /// No route to the host or network.
    Unreachable,
    /// No connection within `fetch.connect_timeout`.
    Timeout,
    /// Connected, but the answer did not come within `fetch.timeout`.
    SlowAnswer,
    Tls,
    /// The connection dropped mid-answer.
    ConnectionReset,
    /// robots.txt disallows the page.
    RobotsDisallowed,
    /// robots.txt answered with a server error: nothing may be fetched until it is read.
    RobotsUnavailable,
    /// A redirect (or link) off the site's hosts and ports.
    OffSite,
    /// An HTTP error status.
    HttpError,
    /// A challenge page (412/521, script-only).
    Blocked,
    /// A page whose layout was not recognized.
    Unparseable,
    /// A body over `fetch.max_body_bytes`.
    TooLarge,
    /// An answer that breaks HTTP (a 304 to an unconditional request, a redirect without a target).
    BadAnswer,
    Other,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Dns => "dns",
            Cause::ConnectionRefused => "connection_refused",
            Cause::Unreachable => "unreachable",
            Cause::Timeout => "timeout",
            Cause::SlowAnswer => "slow_answer",
            Cause::Tls => "tls",
            Cause::ConnectionReset => "connection_reset",
            Cause::RobotsDisallowed => "robots_disallowed",
            Cause::RobotsUnavailable => "robots_unavailable",
            Cause::OffSite => "off_site",
            Cause::HttpError => "http_error",
            Cause::Blocked => "blocked",
            Cause::Unparseable => "unparseable",
            Cause::TooLarge => "too_large",
            Cause::BadAnswer => "bad_answer",
            Cause::Other => "other",
        }
    }

    /// A phrase for logs and `status`.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::Dns => "the host cannot be reached: its name does not resolve (DNS)",
            Cause::ConnectionRefused => "the host cannot be reached: connection refused",
            Cause::Unreachable => "the host cannot be reached: no route to it",
            Cause::Timeout => "the host cannot be reached: timed out",
            Cause::SlowAnswer => "the server did not answer within fetch.timeout",
            Cause::Tls => "the host cannot be reached: TLS handshake or certificate failed",
            Cause::ConnectionReset => "the connection was cut",
            Cause::RobotsDisallowed => "refused by robots.txt",
            Cause::RobotsUnavailable => {
                "robots.txt unavailable (server error): nothing is fetched until it is read"
            }
            Cause::OffSite => "refused: off the site",
            Cause::HttpError => "the server answered with an error",
            Cause::Blocked => "the host answers with a challenge",
            Cause::Unparseable => "the page was not understood",
            Cause::TooLarge => "the page is larger than fetch.max_body_bytes",
            Cause::BadAnswer => "the server broke HTTP",
            Cause::Other => "failed",
        }
    }

    /// A network failure: the host was not reached at all (an outage, not an answer).
    pub fn is_unreachable(self) -> bool {
        matches!(
            self,
            Cause::Dns
                | Cause::ConnectionRefused
                | Cause::Unreachable
                | Cause::Timeout
                | Cause::Tls
        )
    }
}

/// The cause of a logged failure, from its outcome, status and error text.
pub fn failure_cause(outcome: &str, status: Option<u16>, error: Option<&str>) -> Cause {
    let text = error.unwrap_or("").to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| text.contains(needle));
    if outcome == Outcome::Disallowed.as_str() || has(&["robots.txt disallows"]) {
        Cause::RobotsDisallowed
    } else if has(&["robots.txt unavailable"]) {
        Cause::RobotsUnavailable
    } else if outcome == Outcome::Blocked.as_str() {
        Cause::Blocked
    } else if outcome == Outcome::Unparseable.as_str() {
        Cause::Unparseable
    } else if has(&["off the site"]) {
        Cause::OffSite
    } else if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no address associated",
        "name resolution",
    ]) {
        Cause::Dns
    } else if has(&["connection refused"]) {
        Cause::ConnectionRefused
    } else if has(&[
        "no route to host",
        "network is unreachable",
        "host is unreachable",
    ]) {
        Cause::Unreachable
    } else if has(&["timed out", "timeout", "deadline has elapsed"]) {
        if has(&["connect", "cannot be reached"]) {
            Cause::Timeout
        } else {
            Cause::SlowAnswer
        }
    } else if has(&["certificate", "tls", "handshake"]) {
        Cause::Tls
    } else if has(&["exceeds the cap"]) {
        Cause::TooLarge
    } else if has(&["without validators", "redirect without"]) {
        Cause::BadAnswer
    } else if has(&[
        "connection reset",
        "connection closed",
        "broken pipe",
        "cut short",
        "unexpected eof",
        "incomplete",
    ]) {
        Cause::ConnectionReset
    } else if status.is_some() {
        Cause::HttpError
    } else {
        Cause::Other
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

/// What robots.txt says about one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotsVerdict {
    Allowed,
    /// The rules forbid it.
    Disallowed,
    /// robots.txt could not be read (a server error): nothing may be fetched meanwhile.
    Unavailable,
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
    fn retry_after_of_any_size_is_read_and_bounded() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for value in [
            "18446744073709551615",
            "99999999999999999999999",
            "10000000000000",
        ] {
            let asked = retry_after(&headers(&[(header::RETRY_AFTER, value)]), now).unwrap();
            assert!(asked > Duration::from_secs(6 * 3600), "{value}");
            let ceiling = Duration::from_secs(6 * 3600);
            assert_eq!(bounded_wait(asked, ceiling), (ceiling, true));
        }
        let year_9999 = headers(&[(header::RETRY_AFTER, "Fri, 31 Dec 9999 23:59:59 GMT")]);
        assert!(retry_after(&year_9999, now).unwrap() > Duration::from_secs(3600 * 24 * 365));
        let past = headers(&[(header::RETRY_AFTER, "Thu, 01 Jan 1970 00:00:00 GMT")]);
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers(&[(header::RETRY_AFTER, "soon")]), now),
            None
        );
        assert_eq!(
            bounded_wait(Duration::from_secs(5), Duration::from_secs(60)),
            (Duration::from_secs(5), false)
        );
    }

    #[test]
    fn the_fence_admits_only_the_sites_hosts_and_ports() {
        let source = Url::parse("http://127.0.0.1:8080/list/").unwrap();
        let origins = SiteOrigins::new([&source], &["www.site.invalid".to_string()]);
        let check = |url: &str| origins.check(&Url::parse(url).unwrap());
        assert_eq!(check("http://127.0.0.1:8080/a"), Ok(()));
        assert_eq!(check("http://127.0.0.1:8081/a"), Err(Refusal::OffSite));
        assert_eq!(check("http://127.0.0.2:8080/a"), Err(Refusal::OffSite));
        assert_eq!(check("http://[::1]:8080/a"), Err(Refusal::OffSite));
        assert_eq!(check("https://www.site.invalid/a"), Ok(()));
        assert_eq!(check("http://www.site.invalid/a"), Ok(()));
        assert_eq!(check("http://www.site.invalid:81/a"), Err(Refusal::OffSite));
        assert_eq!(check("ftp://www.site.invalid/a"), Err(Refusal::Scheme));
        assert_eq!(check("file:///etc/passwd"), Err(Refusal::Scheme));
        // A site on the internet never reaches loopback, even when configured to redirect there.
        let public = Url::parse("https://www.site.invalid/list/").unwrap();
        let fenced = SiteOrigins::new(
            [&public],
            &["127.0.0.1:8080".to_string(), "localhost".to_string()],
        );
        assert!(!fenced.allow_local());
        assert_eq!(
            fenced.check(&Url::parse("http://127.0.0.1:8080/a").unwrap()),
            Err(Refusal::LocalAddress)
        );
        assert_eq!(
            fenced.check(&Url::parse("http://localhost/a").unwrap()),
            Err(Refusal::LocalAddress)
        );
        assert!(origins.allow_local());
        assert!(is_local_address("127.0.0.2".parse().unwrap()));
        assert!(is_local_address("::1".parse().unwrap()));
        assert!(is_local_address("::ffff:127.0.0.1".parse().unwrap()));
        assert_eq!(Origin::parse("host.invalid:8443").unwrap().port, Some(8443));
        assert_eq!(Origin::parse("host.invalid/path"), None);
    }

    #[tokio::test]
    async fn names_that_resolve_inside_are_refused_unless_a_source_is_inside() {
        use reqwest::dns::Resolve;
        let fenced = SiteResolver { allow_local: false };
        let error = fenced
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost refused");
        assert!(error.to_string().contains("local network"), "{error}");
        let open = SiteResolver { allow_local: true };
        let addrs: Vec<SocketAddr> = open
            .resolve("localhost".parse().unwrap())
            .await
            .expect("localhost allowed")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        let missing = fenced.resolve("nowhere.invalid".parse().unwrap()).await;
        let error = missing.err().expect(".invalid never resolves").to_string();
        assert_eq!(
            failure_cause("transient", None, Some(&error)),
            Cause::Dns,
            "{error}"
        );
    }

    #[test]
    fn failures_are_told_by_their_cause() {
        let cause = |outcome, status, error: &str| failure_cause(outcome, status, Some(error));
        assert_eq!(
            cause(
                "transient",
                None,
                "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            Cause::ConnectionRefused
        );
        assert_eq!(
            cause(
                "transient",
                None,
                "client error (Connect): dns error: failed to lookup address information: Name or service not known"
            ),
            Cause::Dns
        );
        assert_eq!(
            cause(
                "transient",
                None,
                "client error (Connect): operation timed out"
            ),
            Cause::Timeout
        );
        assert_eq!(
            cause("transient", None, "operation timed out"),
            Cause::SlowAnswer
        );
        assert!(!Cause::SlowAnswer.is_unreachable());
        assert_eq!(
            cause("transient", None, "invalid peer certificate: UnknownIssuer"),
            Cause::Tls
        );
        assert_eq!(
            cause("transient", Some(503), "HTTP 503 Service Unavailable"),
            Cause::HttpError
        );
        assert_eq!(
            cause("disallowed", None, "robots.txt disallows this page"),
            Cause::RobotsDisallowed
        );
        assert_eq!(
            cause("blocked", Some(412), "challenge (412)"),
            Cause::Blocked
        );
        assert!(
            Cause::ConnectionRefused
                .describe()
                .contains("cannot be reached")
        );
        assert!(!Cause::RobotsDisallowed.describe().contains("reached"));
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
