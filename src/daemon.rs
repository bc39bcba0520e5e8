//! The watch itself: the [`Engine`] that polls listings and re-checks documents, and the loop
//! that drives it.
//!
//! [`Engine`] does one unit of I/O at a time: fetch a page and hand it to the ingest pipeline
//! ([`crate::ingest`]), which classifies and extracts it and writes it in one transaction;
//! `admit_items` decides which listing items are followed. [`run`] is the only loop: a skipping
//! interval, a poll cycle per tick, and a shutdown future that ends it. When things are due is
//! [`schedule`]'s pure arithmetic; what `systemctl status` and `/healthz` say is [`status`] and
//! [`health`]. The process around it (runtime, tasks, signals, systemd) is the `service` module,
//! which builds on this one (never the reverse).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use url::Url;

use crate::config::{Config, SourceConfig};
use crate::fetch::{Fetched, Fetcher, Outcome, SiteOrigins, Validators};
use crate::ingest::{self, ArticleFetch, ListingFetch};
use crate::model::Listing;
use crate::site::{Profile, SiteError};
use crate::store::{FetchRecord, PageKind, Store, StoreError};

pub use admission::{Admission, admit_items};
pub use report::{ProgressHook, Report, Step};
use schedule::{
    document_age, later, listing_page_extension, listing_page_url, next_check, next_listing_poll,
    next_retry, published_instant, sweep_slot,
};

mod admission;
pub mod health;
mod import;
pub mod manifest;
mod politeness;
mod report;
pub mod schedule;
pub mod status;

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

/// A log field for an HTTP status: `200`, or `none` when no answer came.
pub fn status_field(status: Option<u16>) -> String {
    status.map_or_else(|| "none".to_string(), |status| status.to_string())
}

/// What runs a cycle: configuration, archive, HTTP client and the compiled site profiles.
pub struct Engine {
    config: Config,
    store: Store,
    fetcher: Fetcher,
    profiles: HashMap<String, Profile>,
    /// Hosts found blocked in this process, with the time the block ends.
    blocked: HashMap<String, DateTime<Utc>>,
    /// How pages are ingested: gone threshold, suspect hold, diff settings, alerts.
    settings: ingest::Settings,
    /// 304 answers waiting to be written together (see [`ingest::articles`]).
    unchanged: Vec<Unchanged>,
    /// Told of each page a backfill or an import handles (`None`: nobody watches).
    progress: Option<ProgressHook>,
    /// Until when the robots.txt rules loaded for a host are trusted.
    robots_valid_until: HashMap<String, DateTime<Utc>>,
    /// Beaten whenever the archive took a write, so the watchdog sees the loop make progress.
    heartbeat: Heartbeat,
    /// During a backfill, the pages fetched from one listing page, written together (`None`
    /// outside a backfill: each page is then written as soon as it is fetched).
    backfill_batch: Option<Vec<HeldArticle>>,
    /// Hosts that cannot be reached right now, by host.
    outages: HashMap<String, Outage>,
    /// New listing items admitted in the current cycle (see `fetch.max_new_per_cycle`).
    new_this_cycle: usize,
    /// Listing pages whose refusal by robots.txt is already in the fetch log.
    disallowed_logged: HashSet<String>,
}

/// A host that cannot be reached: warned about once, then asked again after a growing pause.
#[derive(Debug, Clone)]
struct Outage {
    since: DateTime<Utc>,
    failures: u32,
    retry_at: DateTime<Utc>,
    /// The latest failure, in words and with its error.
    error: String,
    /// Listing pages whose skip this outage is already in the fetch log.
    logged: HashSet<String>,
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

impl Engine {
    /// Extracts a fetched page with its source's profile through `extract` (one of the ingest
    /// pipeline's classifiers): a page with content off the loop (see [`extract_off_thread`]),
    /// any other answer at once.
    async fn extract<T: Send + 'static>(
        &self,
        source: &str,
        url: &str,
        fetched: &Fetched,
        extract: fn(&Profile, &str, Outcome, &str) -> ingest::Extracted<T>,
    ) -> ingest::Extracted<T> {
        let profile = &self.profiles[source];
        if fetched.outcome != Outcome::Ok {
            return extract(profile, url, fetched.outcome, "");
        }
        let profile = profile.clone();
        let (text, owned_url) = (fetched.text(), url.to_string());
        extract_off_thread(url, move || {
            Ok(extract(&profile, &owned_url, Outcome::Ok, &text))
        })
        .await
        .unwrap_or_else(ingest::unreadable)
    }
}

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
    pub fn new(config: Config, store: Store) -> Result<Engine, DaemonError> {
        let fetcher = Fetcher::new(&config.fetch, SiteOrigins::of(&config))?;
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
        let settings = ingest::Settings {
            gone_after: config.archive.gone_after.max(1),
            suspect_recheck: Some(config.archive.suspect_recheck),
            diff: config.diff.clone(),
            alerts: None,
        };
        Ok(Engine {
            config,
            store,
            settings,
            fetcher,
            profiles,
            blocked: HashMap::new(),
            unchanged: Vec::new(),
            progress: None,
            robots_valid_until: HashMap::new(),
            heartbeat: Heartbeat::new(),
            backfill_batch: None,
            outages: HashMap::new(),
            new_this_cycle: 0,
            disallowed_logged: HashSet::new(),
        })
    }

    /// Queues alerts for what ingestion stores (none until set; see `IngestAlerts::set_enabled`).
    pub fn set_alerts(&mut self, alerts: Option<crate::alert::IngestAlerts>) {
        self.settings.alerts = alerts;
    }

    /// Tells `hook` of each page the next backfills and imports handle.
    pub fn set_progress(&mut self, hook: ProgressHook) {
        self.progress = Some(hook);
    }

    fn step(&mut self, url: &str, total: Option<u64>) {
        if let Some(hook) = self.progress.as_mut() {
            hook(Step { url, total });
        }
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

    fn source_config(&self, name: &str) -> Option<SourceConfig> {
        self.config.source(name).cloned()
    }

    /// Fetches and ingests one listing page, following at most `budget` new items. Returns the
    /// listing as admitted (links off the site and new items over the budget left out).
    #[allow(clippy::too_many_arguments)]
    async fn poll_listing(
        &mut self,
        source: &SourceConfig,
        page: u32,
        url: &str,
        conditional: bool,
        budget: usize,
        clock: &dyn Clock,
        report: &mut Report,
    ) -> (Outcome, Option<Listing>) {
        if !self
            .may_fetch(&source.name, url, PageKind::Listing, clock.now(), report)
            .await
        {
            return (Outcome::Transient, None);
        }
        let validators = match (conditional, self.store.listing_state(url)) {
            (true, Ok(Some(state))) => state.validators,
            _ => Validators::default(),
        };
        let fetched = self.fetcher.get(url, &validators).await;
        let now = clock.now();
        self.note_reachability(&fetched, now);
        let mut fetched = fetched;
        let extracted = self
            .extract(&source.name, url, &fetched, ingest::extract_listing)
            .await;
        let outcome = extracted.outcome;
        let mut listing = extracted.value;
        if extracted.error.is_some() {
            fetched.error = extracted.error;
        }
        if outcome == Outcome::Blocked {
            self.note_blocked(&fetched, now);
        }
        report.listings += 1;
        report.count(outcome);
        tracing::info!(source = %source.name, url, status = %status_field(fetched.status), outcome = outcome.as_str(), "listing");
        let mut next = next_listing_poll(
            now,
            source.poll_interval,
            &self.config.schedule,
            Self::random(),
        );
        if let Some(wait) = fetched
            .retry_after
            .filter(|_| outcome == Outcome::Transient)
        {
            // The server asked for patience (already cut down to `fetch.blocked_backoff`).
            next = next.max(later(now, wait));
        }
        let mut validators = fetched.validators.clone();
        if let Some(parsed) = listing.as_mut() {
            let admission = self.admit(&source.name, url, parsed, budget, report);
            if admission.deferred > 0 {
                // Asked again at the next tick, in full: a 304 would hide the items left over.
                validators = Validators::default();
                next = now;
            }
        }
        if outcome != Outcome::Ok {
            if let Some(error) = &fetched.error {
                tracing::debug!(source = %source.name, url, error, "listing not fetched");
            }
        }
        let record = self.fetch_record(
            Some(&source.name),
            &fetched,
            PageKind::Listing,
            now,
            outcome,
        );
        let ingested = ingest::listing(
            &mut self.store,
            &ListingFetch {
                source: &source.name,
                lang: source.lang,
                page,
                log: record,
                validators,
                listing: listing.as_ref(),
                next_check: next,
            },
        );
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

    /// Keeps the items of a parsed listing page that may be followed (see [`admit_items`]),
    /// reporting what was left out once per listing page.
    fn admit(
        &mut self,
        source: &str,
        url: &str,
        listing: &mut Listing,
        budget: usize,
        report: &mut Report,
    ) -> Admission {
        let urls: Vec<String> = listing.items.iter().map(|item| item.url.clone()).collect();
        let known = match self.store.existing_urls(&urls) {
            Ok(known) => known,
            Err(error) => {
                tracing::error!(url, %error, "cannot read known documents");
                report.errors += 1;
                HashSet::new()
            }
        };
        let admission = admit_items(&listing.items, self.fetcher.origins(), &known, budget);
        if let Some((example, refusal)) = admission.off_site.first() {
            tracing::warn!(
                source,
                url,
                ignored = admission.off_site.len(),
                example = %example,
                reason = refusal.as_str(),
                "listing links off the site ignored"
            );
        }
        if admission.deferred > 0 {
            tracing::warn!(
                source,
                url,
                admitted = admission.admitted,
                deferred = admission.deferred,
                "more new items than fetch.max_new_per_page or fetch.max_new_per_cycle allow; the rest wait for the next cycle"
            );
        }
        report.off_site += admission.off_site.len() as u64;
        report.deferred += admission.deferred as u64;
        self.new_this_cycle += admission.admitted;
        listing.items = admission.kept.clone();
        admission
    }

    /// Fetches, extracts and ingests one article page. `published` is the date known so far
    /// (the archive's or the listing's), for the document's age; the page's own wins.
    #[allow(clippy::too_many_arguments)]
    async fn check_article(
        &mut self,
        source: &SourceConfig,
        url: &str,
        validators: &Validators,
        first_seen: DateTime<Utc>,
        published: Option<NaiveDate>,
        clock: &dyn Clock,
        report: &mut Report,
    ) -> Outcome {
        if !self
            .may_fetch(&source.name, url, PageKind::Article, clock.now(), report)
            .await
        {
            return Outcome::Transient;
        }
        let mut fetched = self.fetcher.get(url, validators).await;
        let now = clock.now();
        self.note_reachability(&fetched, now);
        let extracted = self
            .extract(&source.name, url, &fetched, ingest::extract_article)
            .await;
        let outcome = extracted.outcome;
        let briefing = extracted.value;
        if extracted.error.is_some() {
            fetched.error = extracted.error;
        }
        if outcome == Outcome::Blocked {
            self.note_blocked(&fetched, now);
        }
        report.articles += 1;
        report.count(outcome);
        let offset = self.config.schedule.utc_offset;
        let published = match &briefing {
            Some(b) => published_instant(b.date.or(published), b.published_at, offset),
            None => published_instant(published, None, offset),
        };
        let age = document_age(now, published, first_seen);
        let next = match outcome {
            Outcome::Ok
            | Outcome::NotModified
            | Outcome::Gone
            | Outcome::SoftGone
            | Outcome::Unparseable
            | Outcome::Disallowed => {
                next_check(age, now, &self.config.schedule, url, Self::random())
            }
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
        tracing::debug!(source = %source.name, url, status = %status_field(fetched.status), outcome = outcome.as_str(), "article");
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
            match ingest::articles(&mut self.store, &fetches, &self.settings) {
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
            match ingest::article(&mut self.store, &Self::article_fetch(held), &self.settings) {
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

    fn count_stored(held: &HeldArticle, result: &ingest::IngestOutcome, report: &mut Report) {
        report.events += result.events.len() as u64;
        if let Some(reason) = &result.held {
            tracing::warn!(source = %held.source, url = %held.record.url, event = "suspect", reason = %reason, "new version looks like a glitch; held until a second fetch agrees");
        } else if result.new_revision.is_some() {
            report.new_revisions += 1;
        } else if matches!(held.record.outcome, Outcome::Ok | Outcome::NotModified) {
            report.unchanged += 1;
        }
        for event in &result.events {
            tracing::info!(source = %held.source, url = %held.record.url, event = event.kind.as_str(), "event");
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
        match ingest::articles(&mut self.store, &fetches, &self.settings) {
            Ok(outcomes) => {
                self.heartbeat.beat();
                for (held, outcome) in batch.iter().zip(outcomes) {
                    report.events += outcome.events.len() as u64;
                    for event in &outcome.events {
                        tracing::info!(source = %held.source, url = %held.record.url, event = event.kind.as_str(), "event");
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
        self.new_this_cycle = 0;
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
                let budget = self.config.fetch.max_new_per_page.min(
                    self.config
                        .fetch
                        .max_new_per_cycle
                        .saturating_sub(self.new_this_cycle),
                );
                self.poll_listing(source, 0, &url, true, budget, clock, &mut report)
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
            if !self.fetcher.origins().allows(&document.url) {
                // Archived before the fence (or the config) changed: left to the sweep.
                let at = sweep_slot(clock.now(), self.config.schedule.sweep, &document.url);
                tracing::warn!(url = %document.url, "document off the site's hosts and ports; not fetched");
                report.off_site += 1;
                if let Err(error) = self.store.set_next_check(document.id, at) {
                    tracing::error!(url = %document.url, %error, "cannot reschedule a document");
                    report.errors += 1;
                }
                continue;
            }
            self.check_article(
                &source,
                &document.url,
                &validators,
                document.first_seen,
                document.briefing_date,
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
                let budget = self.config.fetch.max_new_per_page;
                let (outcome, listing) = self
                    .poll_listing(source, page, &url, false, budget, clock, report)
                    .await;
                let Some(listing) = listing else {
                    tracing::info!(source = %source.name, url, outcome = outcome.as_str(), "listing page unavailable; walk ends");
                    break;
                };
                self.step(&url, None);
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
                        item.date,
                        clock,
                        report,
                    )
                    .await;
                    self.step(&item.url, None);
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
