//! The long-running service: schedules, polling, signals and systemd notification.
//!
//! The pure schedule functions (`listing_interval`, `next_listing_poll`, `recheck_interval`,
//! `next_check`, `listing_page_url`) take the clock as an argument. [`Engine`] does one unit of I/O
//! at a time: fetch a page, extract it, hand it to the store in one transaction. [`run`] is the
//! only loop: a skipping interval, a poll cycle per tick, and a shutdown future that ends it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::Rng;
use serde::Serialize;
use url::Url;

use crate::config::{Config, ScheduleConfig, SourceConfig};
use crate::fetch::{Fetched, Fetcher, Outcome, Validators};
use crate::model::Listing;
use crate::site::{Profile, SiteError};
use crate::store::{ArticleFetch, FetchRecord, ListingFetch, PageKind, Store, StoreError};

pub mod health;
pub mod manifest;

/// Why the engine could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    #[error("source {source_name}: {error}")]
    Profile {
        source_name: String,
        error: SiteError,
    },
    #[error("unknown source {0:?}")]
    UnknownSource(String),
    #[error("cannot read manifest {path}: {source}")]
    Manifest {
        path: String,
        source: std::io::Error,
    },
    #[error("manifest {path} line {line}: {message}")]
    ManifestRow {
        path: String,
        line: usize,
        message: String,
    },
}

/// The time source, passed in so schedules can be tested.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// The listing poll interval at `now`: shorter in the briefing window, longer at night and on days
/// outside the window, the source's own interval otherwise.
pub fn listing_interval(
    now: DateTime<Utc>,
    source_interval: Duration,
    schedule: &ScheduleConfig,
) -> Duration {
    let local = now.with_timezone(&schedule.utc_offset);
    let time = local.time();
    let working_day = schedule.window_days.contains(&local.weekday());
    let in_window = working_day && time >= schedule.window_start && time <= schedule.window_end;
    let at_night = if schedule.night_start <= schedule.night_end {
        time >= schedule.night_start && time < schedule.night_end
    } else {
        time >= schedule.night_start || time < schedule.night_end
    };
    if in_window {
        source_interval.min(schedule.window_interval)
    } else if at_night || !working_day {
        source_interval.max(schedule.quiet_interval)
    } else {
        source_interval
    }
}

fn jittered(now: DateTime<Utc>, interval: Duration, jitter: f64, random: f64) -> DateTime<Utc> {
    now + chrono_duration(interval + interval.mul_f64(jitter * random.clamp(0.0, 1.0)))
}

/// When a listing is polled next; `random` in [0, 1) spreads the time by `schedule.jitter`.
pub fn next_listing_poll(
    now: DateTime<Utc>,
    source_interval: Duration,
    schedule: &ScheduleConfig,
    random: f64,
) -> DateTime<Utc> {
    jittered(
        now,
        listing_interval(now, source_interval, schedule),
        schedule.jitter,
        random,
    )
}

/// How often a document of that age is re-checked: the first step whose `until` exceeds the age,
/// or the sweep interval.
pub fn recheck_interval(doc_age: Duration, schedule: &ScheduleConfig) -> Duration {
    schedule
        .recheck
        .iter()
        .find(|step| doc_age < step.until)
        .map_or(schedule.sweep, |step| step.every)
}

/// When a document of age `doc_age` is checked next.
pub fn next_check(
    doc_age: Duration,
    now: DateTime<Utc>,
    schedule: &ScheduleConfig,
    random: f64,
) -> DateTime<Utc> {
    jittered(
        now,
        recheck_interval(doc_age, schedule),
        schedule.jitter,
        random,
    )
}

/// When to try again after a failed fetch: soon (but not sooner than the server asked), and never
/// later than the document's normal re-check.
pub fn next_retry(
    doc_age: Duration,
    now: DateTime<Utc>,
    schedule: &ScheduleConfig,
    retry_after: Option<Duration>,
    random: f64,
) -> DateTime<Utc> {
    let normal = recheck_interval(doc_age, schedule);
    let soon = normal.min(Duration::from_secs(15 * 60));
    let wait = retry_after.map_or(soon, |asked| asked.max(soon));
    jittered(now, wait, schedule.jitter, random)
}

/// URL of listing page `page` (0 is the listing URL itself): `default.shtml` → `default_N.shtml`,
/// `index.html` → `index_N.html`, a directory → `index_N.<extension>`.
pub fn listing_page_url(listing_url: &Url, page: u32, extension: &str) -> Url {
    if page == 0 {
        return listing_url.clone();
    }
    let path = listing_url.path();
    let (directory, file) = path.rsplit_once('/').unwrap_or(("", path));
    let name = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}_{page}.{ext}"),
        _ => format!("index_{page}.{extension}"),
    };
    let mut url = listing_url.clone();
    url.set_path(&format!("{directory}/{name}"));
    url.set_query(None);
    url
}

/// Extension of numbered listing pages when the listing URL is a directory.
pub fn listing_page_extension(profile: &str) -> &'static str {
    match profile {
        "mfa-zh" => "shtml",
        _ => "html",
    }
}

/// Counts of one cycle, one backfill or one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Requests by outcome.
    pub outcomes: BTreeMap<String, u64>,
    pub listings: u64,
    pub articles: u64,
    pub new_documents: u64,
    pub new_revisions: u64,
    /// Articles fetched (or answered 304) whose content had not changed.
    pub unchanged: u64,
    pub events: u64,
    /// Pages skipped because robots.txt disallows them or their host is blocked.
    pub skipped: u64,
    /// Pages whose processing failed in the archive (logged, the loop went on).
    pub errors: u64,
}

impl Report {
    fn count(&mut self, outcome: Outcome) {
        *self
            .outcomes
            .entry(outcome.as_str().to_string())
            .or_default() += 1;
    }

    pub fn summary(&self) -> String {
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{} listing pages, {} articles: {} new documents, {} new revisions, {} unchanged, {} events, {} skipped, {} errors [{}]",
            self.listings,
            self.articles,
            self.new_documents,
            self.new_revisions,
            self.unchanged,
            self.events,
            self.skipped,
            self.errors,
            outcomes.join(" ")
        )
    }
}

/// What runs a cycle: configuration, archive, HTTP client and the compiled site profiles.
pub struct Engine {
    config: Config,
    store: Store,
    fetcher: Fetcher,
    profiles: HashMap<String, Profile>,
    /// Hosts found blocked in this process, with the time the block ends.
    blocked: HashMap<String, DateTime<Utc>>,
    /// 304 answers waiting to be written together (see [`Store::ingest_articles`]).
    unchanged: Vec<Unchanged>,
    /// Until when the robots.txt rules loaded for a host are trusted.
    robots_valid_until: HashMap<String, DateTime<Utc>>,
    /// Beaten whenever the archive took a write, so the watchdog sees the loop make progress.
    heartbeat: Heartbeat,
    /// During a backfill, the pages fetched from one listing page, written together (`None`
    /// outside a backfill: each page is then written as soon as it is fetched).
    backfill_batch: Option<Vec<HeldArticle>>,
}

/// A fetched article page waiting to be written with the others of its listing page. Each page
/// stays its own unit of work inside the batch's transaction; a crash before the commit loses
/// only pages not yet written, which the next backfill fetches again (it skips archived ones).
struct HeldArticle {
    source: String,
    lang: crate::model::Lang,
    record: FetchRecord,
    body: Vec<u8>,
    validators: Validators,
    briefing: Option<crate::model::Briefing>,
    next_check: DateTime<Utc>,
}

/// A 304 answer to write later: it cannot make a revision, so it need not cost a commit of its own.
struct Unchanged {
    source: String,
    lang: crate::model::Lang,
    record: FetchRecord,
    validators: Validators,
    next_check: DateTime<Utc>,
}

const UNCHANGED_BATCH: usize = 128;

/// Longest one page's extraction may take before the fetch counts as `unparseable`. Pages are
/// bounded before parsing (see [`crate::site::MAX_DEPTH`]), so this is a backstop far above what
/// any page costs.
pub const EXTRACTION_BUDGET: Duration = Duration::from_secs(20);

/// Runs an extraction on a blocking thread, so the loop keeps answering signals meanwhile, and
/// gives up on it after [`EXTRACTION_BUDGET`]. A stop abandons the wait, never the process's exit:
/// the runtime is shut down without waiting for blocking threads. A parser panic is an error
/// naming the page, not a crash.
async fn extract_off_thread<T: Send + 'static>(
    url: &str,
    work: impl FnOnce() -> Result<T, SiteError> + Send + 'static,
) -> Result<T, SiteError> {
    let too_complex = |reason: String| SiteError::TooComplex {
        url: url.to_string(),
        reason,
    };
    match tokio::time::timeout(EXTRACTION_BUDGET, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(failed)) => Err(too_complex(format!("extraction failed: {failed}"))),
        Err(_) => Err(too_complex(format!(
            "extraction took longer than {}",
            humantime::format_duration(EXTRACTION_BUDGET)
        ))),
    }
}

fn host_of(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

impl Engine {
    pub fn new(config: Config, mut store: Store) -> Result<Engine, DaemonError> {
        let fetcher = Fetcher::new(&config.fetch, config.allowed_hosts())?;
        let mut profiles = HashMap::new();
        for source in &config.sources {
            let compiled = Profile::builtin(&source.profile).and_then(|profile| {
                match config.sites.get(&source.profile) {
                    Some(overrides) => profile.with_overrides(overrides),
                    None => Ok(profile),
                }
            });
            let profile = compiled.map_err(|error| DaemonError::Profile {
                source_name: source.name.clone(),
                error,
            })?;
            profiles.insert(source.name.clone(), profile);
        }
        store.set_gone_after(config.archive.gone_after);
        store.set_suspect_recheck(Some(config.archive.suspect_recheck));
        store.set_diff_config(config.diff.clone());
        Ok(Engine {
            config,
            store,
            fetcher,
            profiles,
            blocked: HashMap::new(),
            unchanged: Vec::new(),
            robots_valid_until: HashMap::new(),
            heartbeat: Heartbeat::new(),
            backfill_batch: None,
        })
    }

    /// Shares a heartbeat with a watchdog pinger (see [`spawn_watchdog`]).
    pub fn set_heartbeat(&mut self, heartbeat: Heartbeat) {
        self.heartbeat = heartbeat;
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn into_store(self) -> Store {
        self.store
    }

    fn random() -> f64 {
        rand::thread_rng().r#gen::<f64>()
    }

    /// Whether requests to the URL's host may go out now: not blocked, robots.txt read and allowing.
    async fn may_fetch(&mut self, url: &str, now: DateTime<Utc>, report: &mut Report) -> bool {
        let Some(host) = host_of(url) else {
            return false;
        };
        if let Some(until) = self.blocked.get(&host) {
            if *until > now {
                report.skipped += 1;
                return false;
            }
        }
        match self.store.host_state(&host) {
            Ok(state) => {
                if let Some(until) = state.blocked_until.filter(|until| *until > now) {
                    self.blocked.insert(host.clone(), until);
                    report.skipped += 1;
                    return false;
                }
                let loaded = self
                    .robots_valid_until
                    .get(&host)
                    .is_some_and(|until| *until > now);
                if !loaded {
                    let stored_until = state
                        .robots_fetched_at
                        .map(|at| at + chrono_duration(self.robots_fresh_for(state.robots_status)));
                    let until = match stored_until {
                        Some(until) if until > now => {
                            let body = state.robots_body.unwrap_or_default();
                            self.fetcher.set_robots(&host, state.robots_status, &body);
                            until
                        }
                        _ => {
                            let status = self.refresh_robots(url, &host, now).await;
                            now + chrono_duration(self.robots_fresh_for(status))
                        }
                    };
                    self.robots_valid_until.insert(host.clone(), until);
                }
            }
            Err(error) => {
                tracing::error!(url, %error, "cannot read host state");
                report.errors += 1;
                return false;
            }
        }
        let allowed = self.fetcher.robots_allows(url).unwrap_or(false);
        if !allowed {
            tracing::info!(
                url,
                outcome = "disallowed",
                "robots.txt disallows or is unreachable; skipped"
            );
            report.skipped += 1;
        }
        allowed
    }

    /// How long a robots.txt answer is trusted: a day for rules (or their absence), a short while
    /// for a failed answer, which forbids everything until it is read again.
    fn robots_fresh_for(&self, status: Option<u16>) -> Duration {
        match status {
            Some(500..) | None => self.config.fetch.backoff_max,
            Some(_) => self.config.fetch.robots_refresh,
        }
    }

    /// Fetches and stores a host's robots.txt; returns the answer's status.
    async fn refresh_robots(&mut self, url: &str, host: &str, now: DateTime<Utc>) -> Option<u16> {
        let Ok(base) = Url::parse(url) else {
            return None;
        };
        let fetched = self.fetcher.fetch_robots(&base).await;
        self.fetcher.set_robots(host, fetched.status, &fetched.body);
        tracing::info!(url = %fetched.url, status = ?fetched.status, "robots.txt read");
        let record = self.fetch_record(None, &fetched, PageKind::Robots, now, fetched.outcome);
        let stored = self
            .store
            .set_robots(host, fetched.status, Some(&fetched.body), now)
            .and_then(|()| self.store.log_fetch(&record));
        if let Err(error) = stored {
            tracing::error!(url, %error, "cannot store robots.txt");
        }
        fetched.status
    }

    fn fetch_record(
        &self,
        source: Option<&str>,
        fetched: &Fetched,
        page: PageKind,
        at: DateTime<Utc>,
        outcome: Outcome,
    ) -> FetchRecord {
        FetchRecord {
            at,
            source: source.map(str::to_string),
            url: fetched.url.clone(),
            page,
            status: fetched.status,
            outcome,
            bytes: fetched.body.len() as u64,
            duration: fetched.elapsed,
            attempts: fetched.attempts.max(1),
            error: fetched.error.clone(),
        }
    }

    /// Records a block once and keeps away from the host for `blocked_backoff`.
    fn note_blocked(&mut self, fetched: &Fetched, now: DateTime<Utc>) {
        let Some(host) = host_of(&fetched.url) else {
            return;
        };
        let until = now + chrono_duration(self.config.fetch.blocked_backoff);
        self.blocked.insert(host.clone(), until);
        match self
            .store
            .set_host_blocked(&host, Some(until), &fetched.url, now)
        {
            Ok(true) => {
                tracing::warn!(url = %fetched.url, status = ?fetched.status, outcome = "blocked", until = %until, "host answers with a challenge; backing off")
            }
            Ok(false) => {}
            Err(error) => tracing::error!(url = %fetched.url, %error, "cannot record a block"),
        }
    }

    fn source_config(&self, name: &str) -> Option<SourceConfig> {
        self.config.source(name).cloned()
    }

    /// Fetches and ingests one listing page. Returns the parsed listing when there was one.
    async fn poll_listing(
        &mut self,
        source: &SourceConfig,
        page: u32,
        url: &str,
        conditional: bool,
        clock: &dyn Clock,
        report: &mut Report,
    ) -> (Outcome, Option<Listing>) {
        if !self.may_fetch(url, clock.now(), report).await {
            return (Outcome::Transient, None);
        }
        let validators = match (conditional, self.store.listing_state(url)) {
            (true, Ok(Some(state))) => state.validators,
            _ => Validators::default(),
        };
        let fetched = self.fetcher.get(url, &validators).await;
        let now = clock.now();
        let mut outcome = fetched.outcome;
        let mut listing = None;
        let mut fetched = fetched;
        if outcome == Outcome::Ok {
            let profile = self.profiles[&source.name].clone();
            let (text, owned_url) = (fetched.text(), url.to_string());
            let parsed =
                extract_off_thread(url, move || profile.parse_listing(&text, &owned_url)).await;
            match parsed {
                Ok(parsed) => listing = Some(parsed),
                Err(error) => {
                    outcome = Outcome::Unparseable;
                    fetched.error = Some(error.to_string());
                }
            }
        }
        if outcome == Outcome::Blocked {
            self.note_blocked(&fetched, now);
        }
        report.listings += 1;
        report.count(outcome);
        tracing::info!(source = %source.name, url, status = ?fetched.status, outcome = outcome.as_str(), "listing");
        let next = next_listing_poll(
            now,
            source.poll_interval,
            &self.config.schedule,
            Self::random(),
        );
        let record = self.fetch_record(
            Some(&source.name),
            &fetched,
            PageKind::Listing,
            now,
            outcome,
        );
        let ingested = self.store.ingest_listing(&ListingFetch {
            source: &source.name,
            lang: source.lang,
            page,
            log: record,
            validators: fetched.validators.clone(),
            listing: listing.as_ref(),
            next_check: next,
        });
        match ingested {
            Ok(result) => {
                self.heartbeat.beat();
                report.new_documents += result.new_documents.len() as u64;
                for url in &result.delisted {
                    tracing::warn!(source = %source.name, url, event = "delisted", "item removed from the listing; re-checking it");
                }
            }
            Err(error) => {
                tracing::error!(url, %error, "cannot store a listing");
                report.errors += 1;
            }
        }
        (outcome, listing)
    }

    /// Fetches, extracts and ingests one article page.
    async fn check_article(
        &mut self,
        source: &SourceConfig,
        url: &str,
        validators: &Validators,
        first_seen: DateTime<Utc>,
        clock: &dyn Clock,
        report: &mut Report,
    ) -> Outcome {
        if !self.may_fetch(url, clock.now(), report).await {
            return Outcome::Transient;
        }
        let mut fetched = self.fetcher.get(url, validators).await;
        let now = clock.now();
        let mut outcome = fetched.outcome;
        let mut briefing = None;
        if outcome == Outcome::Ok {
            let profile = self.profiles[&source.name].clone();
            let (text, owned_url) = (fetched.text(), url.to_string());
            let parsed =
                extract_off_thread(url, move || profile.parse_article(&text, &owned_url)).await;
            match parsed {
                Ok(parsed) => briefing = Some(parsed),
                Err(SiteError::NotATranscript { reason, .. }) => {
                    outcome = Outcome::SoftGone;
                    fetched.error = Some(reason);
                }
                Err(error) => {
                    outcome = Outcome::Unparseable;
                    fetched.error = Some(error.to_string());
                }
            }
        }
        if outcome == Outcome::Blocked {
            self.note_blocked(&fetched, now);
        }
        report.articles += 1;
        report.count(outcome);
        let age = (now - first_seen).to_std().unwrap_or_default();
        let next = match outcome {
            Outcome::Ok
            | Outcome::NotModified
            | Outcome::Gone
            | Outcome::SoftGone
            | Outcome::Unparseable => next_check(age, now, &self.config.schedule, Self::random()),
            Outcome::Transient | Outcome::Blocked => next_retry(
                age,
                now,
                &self.config.schedule,
                fetched.retry_after,
                Self::random(),
            ),
        };
        let record = self.fetch_record(
            Some(&source.name),
            &fetched,
            PageKind::Article,
            now,
            outcome,
        );
        if outcome == Outcome::NotModified {
            report.unchanged += 1;
            self.unchanged.push(Unchanged {
                source: source.name.clone(),
                lang: source.lang,
                record,
                validators: fetched.validators.clone(),
                next_check: next,
            });
            if self.unchanged.len() >= UNCHANGED_BATCH {
                self.flush_unchanged(report);
            }
            return outcome;
        }
        tracing::debug!(source = %source.name, url, status = ?fetched.status, outcome = outcome.as_str(), "article");
        let held = HeldArticle {
            source: source.name.clone(),
            lang: source.lang,
            record,
            body: fetched.body,
            validators: fetched.validators,
            briefing,
            next_check: next,
        };
        match &mut self.backfill_batch {
            Some(batch) => batch.push(held),
            None => self.store_articles(vec![held], report),
        }
        outcome
    }

    fn article_fetch(held: &HeldArticle) -> ArticleFetch<'_> {
        ArticleFetch {
            source: &held.source,
            lang: held.lang,
            log: held.record.clone(),
            raw: held.briefing.as_ref().map(|_| held.body.as_slice()),
            validators: held.validators.clone(),
            briefing: held.briefing.as_ref(),
            next_check: held.next_check,
        }
    }

    /// Writes fetched article pages in one transaction; if that fails, each on its own, so one
    /// page that cannot be stored does not take the others with it.
    fn store_articles(&mut self, batch: Vec<HeldArticle>, report: &mut Report) {
        if batch.is_empty() {
            return;
        }
        if batch.len() > 1 {
            let fetches: Vec<ArticleFetch<'_>> = batch.iter().map(Self::article_fetch).collect();
            match self.store.ingest_articles(&fetches) {
                Ok(results) => {
                    self.heartbeat.beat();
                    for (held, result) in batch.iter().zip(results) {
                        Self::count_stored(held, &result, report);
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, pages = batch.len(), "cannot store a batch of articles; storing each alone");
                }
            }
        }
        for held in &batch {
            match self.store.ingest_article(&Self::article_fetch(held)) {
                Ok(result) => {
                    self.heartbeat.beat();
                    Self::count_stored(held, &result, report)
                }
                Err(error) => {
                    tracing::error!(url = %held.record.url, %error, "cannot store an article");
                    report.errors += 1;
                }
            }
        }
    }

    fn count_stored(held: &HeldArticle, result: &crate::store::IngestOutcome, report: &mut Report) {
        report.events += result.events.len() as u64;
        if let Some(reason) = &result.held {
            tracing::warn!(source = %held.source, url = %held.record.url, event = "suspect", reason = %reason, "new version looks like a glitch; held until a second fetch agrees");
        } else if result.new_revision.is_some() {
            report.new_revisions += 1;
        } else if matches!(held.record.outcome, Outcome::Ok | Outcome::NotModified) {
            report.unchanged += 1;
        }
        for event in &result.events {
            tracing::info!(source = %held.source, url = %held.record.url, event = event.kind, "event");
        }
    }

    /// Writes the pages a backfill holds; they stay held (batching continues) afterwards.
    fn flush_backfill_batch(&mut self, report: &mut Report) {
        if let Some(batch) = self.backfill_batch.as_mut() {
            let batch = std::mem::take(batch);
            self.store_articles(batch, report);
        }
    }

    /// Writes the 304 answers held back, in one transaction.
    fn flush_unchanged(&mut self, report: &mut Report) {
        if self.unchanged.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.unchanged);
        let fetches: Vec<ArticleFetch<'_>> = batch
            .iter()
            .map(|held| ArticleFetch {
                source: &held.source,
                lang: held.lang,
                log: held.record.clone(),
                raw: None,
                validators: held.validators.clone(),
                briefing: None,
                next_check: held.next_check,
            })
            .collect();
        match self.store.ingest_articles(&fetches) {
            Ok(outcomes) => {
                self.heartbeat.beat();
                for (held, outcome) in batch.iter().zip(outcomes) {
                    report.events += outcome.events.len() as u64;
                    for event in &outcome.events {
                        tracing::info!(source = %held.source, url = %held.record.url, event = event.kind, "event");
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, pages = batch.len(), "cannot store unchanged pages");
                report.errors += 1;
            }
        }
    }

    /// One cycle: every due listing, then every due document (`all`: everything, now). Answers
    /// held back are written before it returns.
    pub async fn poll_cycle(&mut self, clock: &dyn Clock, all: bool) -> Report {
        let mut report = self.poll_cycle_unflushed(clock, all).await;
        self.flush_unchanged(&mut report);
        report
    }

    async fn poll_cycle_unflushed(&mut self, clock: &dyn Clock, all: bool) -> Report {
        let mut report = Report::default();
        let sources = self.config.sources.clone();
        for source in &sources {
            let url = source.listing_url.to_string();
            let due = all
                || match self.store.listing_state(&url) {
                    Ok(Some(state)) => state.next_check <= clock.now(),
                    Ok(None) => true,
                    Err(error) => {
                        tracing::error!(url, %error, "cannot read listing state");
                        true
                    }
                };
            if due {
                self.poll_listing(source, 0, &url, true, clock, &mut report)
                    .await;
            }
        }
        let due = if all {
            self.store.all_documents_for_check()
        } else {
            self.store.due_documents(clock.now(), 10_000)
        };
        let due = match due {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, "cannot read due documents");
                report.errors += 1;
                return report;
            }
        };
        for document in due {
            let Some(source) = self.source_config(&document.source) else {
                continue;
            };
            let validators = if document.has_revision {
                document.validators.clone()
            } else {
                Validators::default()
            };
            self.check_article(
                &source,
                &document.url,
                &validators,
                document.first_seen,
                clock,
                &mut report,
            )
            .await;
        }
        report
    }

    /// Walks every listing page of the sources (or one) and fetches every item not yet archived.
    /// Resumable: archived items are skipped. A listing page that is missing ends the walk.
    /// The pages of one listing page are written in one transaction (one commit, one fsync),
    /// each still as its own unit of work.
    pub async fn backfill(
        &mut self,
        only: Option<&str>,
        since: Option<NaiveDate>,
        clock: &dyn Clock,
    ) -> Result<Report, DaemonError> {
        if let Some(name) = only {
            if self.config.source(name).is_none() {
                return Err(DaemonError::UnknownSource(name.to_string()));
            }
        }
        let mut report = Report::default();
        self.backfill_batch = Some(Vec::new());
        let walked = self.backfill_walk(only, since, clock, &mut report).await;
        self.flush_backfill_batch(&mut report);
        self.backfill_batch = None;
        walked.map(|()| report)
    }

    async fn backfill_walk(
        &mut self,
        only: Option<&str>,
        since: Option<NaiveDate>,
        clock: &dyn Clock,
        report: &mut Report,
    ) -> Result<(), DaemonError> {
        let sources: Vec<SourceConfig> = self
            .config
            .sources
            .iter()
            .filter(|source| only.is_none_or(|name| source.name == name))
            .cloned()
            .collect();
        for source in &sources {
            let archived: HashSet<String> = self.store.archived_urls(&source.name)?;
            let extension = listing_page_extension(&source.profile);
            let mut page_count = 1;
            let mut page = 0;
            while page < page_count {
                let url = listing_page_url(&source.listing_url, page, extension).to_string();
                let (outcome, listing) = self
                    .poll_listing(source, page, &url, false, clock, report)
                    .await;
                let Some(listing) = listing else {
                    tracing::info!(source = %source.name, url, outcome = outcome.as_str(), "listing page unavailable; walk ends");
                    break;
                };
                if page == 0 {
                    page_count = listing.page_count.unwrap_or(1).max(1);
                }
                let mut older_than_since = 0;
                for item in &listing.items {
                    if let (Some(since), Some(date)) = (since, item.date) {
                        if date < since {
                            older_than_since += 1;
                            continue;
                        }
                    }
                    if archived.contains(&item.url) {
                        continue;
                    }
                    let first_seen = match self
                        .store
                        .document(crate::store::DocumentKey::Url(&item.url))
                    {
                        Ok(Some(document)) => {
                            crate::store::parse_time(&document.first_seen).unwrap_or(clock.now())
                        }
                        _ => clock.now(),
                    };
                    self.check_article(
                        source,
                        &item.url,
                        &Validators::default(),
                        first_seen,
                        clock,
                        report,
                    )
                    .await;
                }
                self.flush_backfill_batch(report);
                if !listing.items.is_empty() && older_than_since == listing.items.len() {
                    break;
                }
                page += 1;
            }
        }
        Ok(())
    }

    /// Imports saved pages listed in a corpus manifest (`url status location file bytes sha256
    /// content_type fetched_date`) as fetches made at their original time. Every row is checked
    /// first ([`manifest::read_manifest`]): a manifest with one bad row imports nothing.
    pub fn import_manifest(
        &mut self,
        manifest: &Path,
        clock: &dyn Clock,
    ) -> Result<Report, DaemonError> {
        let path_text = manifest.display().to_string();
        let rows = manifest::read_manifest(manifest)?;
        // Saved pages are not fetched again, so no version can wait for a second look.
        self.store.set_suspect_recheck(None);
        let mut report = Report::default();
        for row in rows {
            let (url, content_type, fetched_at) =
                (row.url.as_str(), row.content_type.as_str(), row.fetched_at);
            let Some(file) = row.file.as_ref().filter(|_| row.status == "200") else {
                report.skipped += 1;
                continue;
            };
            let body = std::fs::read(file).map_err(|error| DaemonError::ManifestRow {
                path: path_text.clone(),
                line: row.line,
                message: format!("cannot read {}: {error}", file.display()),
            })?;
            let html = crate::charset::decode_html(&body, Some(content_type));
            if crate::site::is_soft_404(&html) {
                report.skipped += 1;
                continue;
            }
            let Some((source_name, lang, profile)) = self.import_source(url, &html) else {
                report.skipped += 1;
                continue;
            };
            let fetched = Fetched {
                url: url.to_string(),
                final_url: url.to_string(),
                status: Some(200),
                outcome: Outcome::Ok,
                body,
                content_type: Some(content_type.to_string()),
                validators: Validators::default(),
                retry_after: None,
                attempts: 1,
                elapsed: Duration::ZERO,
                error: None,
            };
            let stored = if crate::site::is_listing_url(url) {
                let page = url
                    .rsplit_once('_')
                    .and_then(|(_, tail)| tail.split('.').next()?.parse().ok())
                    .unwrap_or(0);
                let (outcome, listing) = match profile.parse_listing(&html, url) {
                    Ok(listing) => (Outcome::Ok, Some(listing)),
                    Err(_) => (Outcome::Unparseable, None),
                };
                report.listings += 1;
                report.count(outcome);
                let record = self.fetch_record(
                    Some(&source_name),
                    &fetched,
                    PageKind::Listing,
                    fetched_at,
                    outcome,
                );
                self.store
                    .ingest_listing(&ListingFetch {
                        source: &source_name,
                        lang,
                        page,
                        log: record,
                        validators: Validators::default(),
                        listing: listing.as_ref(),
                        next_check: clock.now(),
                    })
                    .map(|result| report.new_documents += result.new_documents.len() as u64)
            } else {
                let (outcome, briefing) = match profile.parse_article(&html, url) {
                    Ok(briefing) => (Outcome::Ok, Some(briefing)),
                    Err(_) => (Outcome::Unparseable, None),
                };
                report.articles += 1;
                report.count(outcome);
                let now = clock.now();
                let age = (now - fetched_at).to_std().unwrap_or_default();
                let record = self.fetch_record(
                    Some(&source_name),
                    &fetched,
                    PageKind::Article,
                    fetched_at,
                    outcome,
                );
                self.store
                    .ingest_article(&ArticleFetch {
                        source: &source_name,
                        lang,
                        log: record,
                        raw: briefing.as_ref().map(|_| fetched.body.as_slice()),
                        validators: Validators::default(),
                        briefing: briefing.as_ref(),
                        next_check: next_check(age, now, &self.config.schedule, Self::random()),
                    })
                    .map(|result| {
                        report.events += result.events.len() as u64;
                        if result.new_revision.is_some() {
                            report.new_revisions += 1;
                        } else {
                            report.unchanged += 1;
                        }
                    })
            };
            if let Err(error) = stored {
                tracing::error!(url, %error, "cannot import a page");
                report.errors += 1;
            }
        }
        Ok(report)
    }

    /// The source an imported page belongs to: a configured source whose listing directory holds
    /// the URL, else one with the page's profile, else the profile's name.
    fn import_source(
        &self,
        url: &str,
        html: &str,
    ) -> Option<(String, crate::model::Lang, Profile)> {
        for source in &self.config.sources {
            let listing = source.listing_url.as_str();
            let directory = &listing[..listing.rfind('/').map_or(listing.len(), |i| i + 1)];
            if url.starts_with(directory) {
                return Some((
                    source.name.clone(),
                    source.lang,
                    self.profiles[&source.name].clone(),
                ));
            }
        }
        let detected = Profile::detect(url, html).ok()?;
        let configured = self
            .config
            .sources
            .iter()
            .find(|source| source.profile == detected.name);
        match configured {
            Some(source) => Some((
                source.name.clone(),
                source.lang,
                self.profiles[&source.name].clone(),
            )),
            None => Some((detected.name.clone(), detected.lang, detected)),
        }
    }
}

/// The daemon loop: a poll cycle at every tick (missed ticks skipped), until `shutdown` resolves.
/// A cycle in progress is abandoned at its next await point; every page already handled is in the
/// archive, and none is half-written.
pub async fn run(engine: &mut Engine, clock: &dyn Clock, shutdown: impl Future<Output = ()>) {
    run_with(engine, clock, shutdown, |_, _| {}).await
}

/// [`run`], calling `after_cycle` with the engine and the report of every finished cycle (the
/// feeds are re-rendered there when the cycle stored something).
pub async fn run_with(
    engine: &mut Engine,
    clock: &dyn Clock,
    shutdown: impl Future<Output = ()>,
    mut after_cycle: impl FnMut(&Engine, &Report),
) {
    let mut ticker = tokio::time::interval(engine.config.schedule.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = ticker.tick() => {
                tokio::select! {
                    _ = &mut shutdown => break,
                    report = engine.poll_cycle(clock, false) => {
                        if report.listings + report.articles > 0 {
                            tracing::info!(summary = %report.summary(), "cycle done");
                        }
                        // A cycle that could read and write the archive is progress, idle or not.
                        if report.errors == 0 {
                            engine.heartbeat.beat();
                        }
                        after_cycle(engine, &report);
                        if report.listings + report.articles > 0 {
                            release_free_memory();
                        }
                    }
                }
            }
        }
    }
    // A cycle cut short may hold 304 answers back; they are worth their log rows.
    engine.flush_unchanged(&mut Report::default());
    tracing::info!("shutting down");
}

/// Hands the heap a cycle freed back to the system. glibc keeps freed memory in its arenas (one
/// per thread that allocated), so between polls the daemon would sit on the peak of its last
/// cycle and feed render: a few megabytes, most of its resident memory.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only returns free pages of the allocator's own
    // arenas to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What a signal asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM (systemctl stop) or SIGINT (Ctrl-C).
    Stop,
    /// SIGHUP (systemctl reload): re-read the configuration.
    Reload,
}

/// The signals the daemon reacts to, registered once at start so none is lost between waits.
pub struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.terminate.recv() => Signal::Stop,
            _ = self.interrupt.recv() => Signal::Stop,
            _ = self.hangup.recv() => Signal::Reload,
        }
    }
}

/// Tells systemd (`Type=notify`) about a state change; a no-op when not started by systemd.
pub fn notify(state: sd_notify::NotifyState<'_>) {
    if let Err(error) = sd_notify::notify(false, &[state]) {
        tracing::warn!(%error, "cannot notify systemd");
    }
}

/// When the poll loop last made progress: a cycle that reached the archive, or a page stored.
/// Cloned handles share one clock reading; monotonic, so a clock step cannot fake or hide progress.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    origin: Instant,
    last_millis: Arc<AtomicU64>,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat::new()
    }
}

impl Heartbeat {
    /// A heartbeat that has just beaten.
    pub fn new() -> Heartbeat {
        Heartbeat {
            origin: Instant::now(),
            last_millis: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn beat(&self) {
        let millis = self.origin.elapsed().as_millis() as u64;
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        let now = self.origin.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_millis.load(Ordering::Relaxed)))
    }
}

/// The longest the loop may legitimately go without a beat: a whole tick of waiting, then two
/// pages (a robots.txt and the page) each spending every retry on timeouts and the longest backoff,
/// after the per-host pause.
pub fn heartbeat_allowance(config: &Config) -> Duration {
    let fetch = &config.fetch;
    let attempts = fetch.max_attempts.max(1);
    let page = fetch.timeout * attempts
        + fetch.backoff_max * (attempts - 1)
        + fetch.min_request_interval.mul_f64(1.5);
    config.schedule.tick + page * 2
}

/// Whether the watchdog may be told all is well: the loop beat within its allowance.
pub fn watchdog_should_ping(heartbeat_age: Duration, allowance: Duration) -> bool {
    heartbeat_age <= allowance
}

/// Pings the systemd watchdog at half its period while the poll loop's heartbeat is fresh: a loop
/// stuck on a lock or a database that fails every write stops the pings, and systemd restarts the
/// service. `None` when no watchdog is set (not under systemd, or `WatchdogSec=` off).
pub fn spawn_watchdog(
    heartbeat: Heartbeat,
    allowance: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut usec = 0;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return None;
    }
    let period = Duration::from_micros(usec / 2);
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stalled = false;
        loop {
            ticker.tick().await;
            let age = heartbeat.age();
            if watchdog_should_ping(age, allowance) {
                if stalled {
                    tracing::info!(event = "progress", "the poll loop makes progress again");
                    stalled = false;
                }
                notify(sd_notify::NotifyState::Watchdog);
            } else if !stalled {
                stalled = true;
                tracing::error!(
                    event = "stalled",
                    age = %humantime::format_duration(Duration::from_secs(age.as_secs())),
                    "the poll loop has made no progress; withholding watchdog pings"
                );
            }
        }
    }))
}

/// What `systemctl status` shows after a cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusFacts {
    pub last_poll: Option<DateTime<Utc>>,
    /// Earliest listing or document check due.
    pub next_poll: Option<DateTime<Utc>>,
    pub queued_mails: u64,
    pub blocked_hosts: Vec<String>,
    /// One line of every alarm raised, empty when all is well.
    pub alarms: String,
}

/// The `STATUS=` text: short, in the order a person scans it.
pub fn status_line(facts: &StatusFacts, now: DateTime<Utc>) -> String {
    let time = |at: Option<DateTime<Utc>>| {
        at.map_or("never".to_string(), |at| {
            at.format("%Y-%m-%d %H:%M UTC").to_string()
        })
    };
    let next = match facts.next_poll {
        Some(at) if at <= now => "now".to_string(),
        Some(at) => {
            let wait = (at - now).to_std().unwrap_or_default();
            format!(
                "in {}",
                humantime::format_duration(Duration::from_secs(wait.as_secs().max(1) / 60 * 60))
            )
            .replace("in 0s", "in under a minute")
        }
        None => "nothing scheduled".to_string(),
    };
    let blocked = if facts.blocked_hosts.is_empty() {
        "none".to_string()
    } else {
        facts.blocked_hosts.join(", ")
    };
    let mut line = format!(
        "last poll {}; next {next}; {} mail(s) queued; blocked: {blocked}",
        time(facts.last_poll),
        facts.queued_mails
    );
    if !facts.alarms.is_empty() {
        line = format!("ALARM {} | {line}", facts.alarms);
    }
    line
}

impl Engine {
    /// Gathers [`StatusFacts`] from the archive; `last_poll` is the caller's.
    pub fn status_facts(&self, now: DateTime<Utc>) -> Result<StatusFacts, StoreError> {
        let conn = self.store.connection();
        let sql = |error| StoreError::Sql {
            context: "reading the service status",
            source: error,
        };
        let next_poll: Option<String> = conn
            .query_row(
                "SELECT MIN(at) FROM (SELECT MIN(next_check) AS at FROM listing_pages
                  UNION ALL SELECT MIN(next_check) FROM documents WHERE state != 'gone')",
                [],
                |row| row.get(0),
            )
            .map_err(sql)?;
        let queued_mails: u64 = conn
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')",
                [],
                |row| row.get(0),
            )
            .map_err(sql)?;
        let blocked_hosts = self
            .store
            .blocked_hosts(now)?
            .into_iter()
            .map(|(host, until)| format!("{host} until {until}"))
            .collect();
        let alarms = self.alarms(now)?;
        Ok(StatusFacts {
            last_poll: None,
            next_poll: next_poll.as_deref().and_then(crate::store::parse_time),
            queued_mails,
            blocked_hosts,
            alarms: health::alarm_summary(&alarms),
        })
    }

    /// The alarms at `now` (see [`health`]).
    pub fn alarms(&self, now: DateTime<Utc>) -> Result<Vec<health::Alarm>, StoreError> {
        let names: Vec<&str> = self
            .config
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        health::check(
            self.store.connection(),
            now,
            &names,
            &self.config.service,
            &self.config.schedule,
        )
        .map_err(|error| StoreError::Sql {
            context: "reading source health",
            source: error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn listing_polls_more_often_in_the_window_and_less_at_night_and_weekends() {
        let schedule = ScheduleConfig::default();
        let base = Duration::from_secs(30 * 60);
        // Thursday 2 July 2020, 16:00 Beijing = 08:00 UTC: briefing window.
        assert_eq!(
            listing_interval(utc("2020-07-02T08:00:00Z"), base, &schedule),
            schedule.window_interval
        );
        // 23:59 Beijing is still in the window; 10:00 is an ordinary hour.
        assert_eq!(
            listing_interval(utc("2020-07-02T15:59:00Z"), base, &schedule),
            schedule.window_interval
        );
        assert_eq!(
            listing_interval(utc("2020-07-02T02:00:00Z"), base, &schedule),
            base
        );
        // 03:00 Beijing: night.
        assert_eq!(
            listing_interval(utc("2020-07-01T19:00:00Z"), base, &schedule),
            schedule.quiet_interval
        );
        // Saturday 4 July 2020, 16:00 Beijing: weekend.
        assert_eq!(
            listing_interval(utc("2020-07-04T08:00:00Z"), base, &schedule),
            schedule.quiet_interval
        );
    }

    #[test]
    fn listing_poll_jitter_stays_within_its_fraction() {
        let schedule = ScheduleConfig::default();
        let now = utc("2020-07-02T02:00:00Z");
        let base = Duration::from_secs(30 * 60);
        assert_eq!(
            next_listing_poll(now, base, &schedule, 0.0),
            now + chrono::Duration::minutes(30)
        );
        assert_eq!(
            next_listing_poll(now, base, &schedule, 1.0),
            now + chrono::Duration::minutes(33)
        );
    }

    #[test]
    fn recheck_decays_with_age() {
        let schedule = ScheduleConfig::default();
        assert_eq!(recheck_interval(Duration::ZERO, &schedule), HOUR);
        assert_eq!(recheck_interval(11 * HOUR, &schedule), HOUR);
        assert_eq!(recheck_interval(12 * HOUR, &schedule), 6 * HOUR);
        assert_eq!(recheck_interval(10 * 24 * HOUR, &schedule), 24 * HOUR);
        assert_eq!(recheck_interval(100 * 24 * HOUR, &schedule), 7 * 24 * HOUR);
        assert_eq!(
            recheck_interval(1000 * 24 * HOUR, &schedule),
            schedule.sweep
        );
        let now = utc("2020-07-02T02:00:00Z");
        assert_eq!(
            next_check(2 * HOUR, now, &schedule, 0.0),
            now + chrono::Duration::hours(1)
        );
    }

    #[test]
    fn retry_is_soon_but_honours_retry_after() {
        let schedule = ScheduleConfig::default();
        let now = utc("2020-07-02T02:00:00Z");
        assert_eq!(
            next_retry(Duration::ZERO, now, &schedule, None, 0.0),
            now + chrono::Duration::minutes(15)
        );
        assert_eq!(
            next_retry(Duration::ZERO, now, &schedule, Some(2 * HOUR), 0.0),
            now + chrono::Duration::hours(2)
        );
    }

    #[test]
    fn the_watchdog_is_fed_only_while_the_heartbeat_is_within_its_allowance() {
        let config = Config::default();
        // 30 s tick, then twice (4 × 60 s timeouts + 3 × 120 s backoff + 3 s pause).
        assert_eq!(
            heartbeat_allowance(&config),
            Duration::from_secs(30 + 2 * 603)
        );
        let allowance = Duration::from_secs(60);
        assert!(watchdog_should_ping(Duration::from_secs(59), allowance));
        assert!(watchdog_should_ping(allowance, allowance));
        assert!(!watchdog_should_ping(Duration::from_secs(61), allowance));
        let heartbeat = Heartbeat::new();
        heartbeat.beat();
        assert!(heartbeat.age() < Duration::from_secs(1));
    }

    #[test]
    fn the_status_line_reads_as_a_sentence() {
        let now = utc("2020-07-02T08:00:00Z");
        let facts = StatusFacts {
            last_poll: Some(utc("2020-07-02T07:59:30Z")),
            next_poll: Some(utc("2020-07-02T08:10:00Z")),
            queued_mails: 2,
            blocked_hosts: vec![],
            alarms: String::new(),
        };
        assert_eq!(
            status_line(&facts, now),
            "last poll 2020-07-02 07:59 UTC; next in 10m; 2 mail(s) queued; blocked: none"
        );
        let alarmed = StatusFacts {
            blocked_hosts: vec!["www.fmprc.gov.cn until 2020-07-02T14:00:00Z".into()],
            alarms: "mfa-en stale: no press conference".into(),
            next_poll: Some(utc("2020-07-02T07:00:00Z")),
            ..facts
        };
        assert_eq!(
            status_line(&alarmed, now),
            "ALARM mfa-en stale: no press conference | last poll 2020-07-02 07:59 UTC; next now; 2 mail(s) queued; blocked: www.fmprc.gov.cn until 2020-07-02T14:00:00Z"
        );
    }

    #[test]
    fn listing_pages_follow_the_site_patterns() {
        let url = |text: &str| Url::parse(text).unwrap();
        let old = url(
            "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/default.shtml",
        );
        assert_eq!(listing_page_url(&old, 0, "html"), old);
        assert_eq!(
            listing_page_url(&old, 3, "html").as_str(),
            "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/default_3.shtml"
        );
        let en = url("https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/");
        assert_eq!(
            listing_page_url(&en, 1, listing_page_extension("mfa-en")).as_str(),
            "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/index_1.html"
        );
        let zh = url("https://www.mfa.gov.cn/web/wjdt_674879/fyrbt_674889/");
        assert_eq!(
            listing_page_url(&zh, 2, listing_page_extension("mfa-zh")).as_str(),
            "https://www.mfa.gov.cn/web/wjdt_674879/fyrbt_674889/index_2.shtml"
        );
        let index = url("https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/index.html");
        assert_eq!(
            listing_page_url(&index, 5, "shtml").as_str(),
            "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/index_5.html"
        );
    }
}
