//! The engine's manners toward the site: whether a request may go out (on the site, host not
//! blocked or unreachable, robots.txt read and allowing), and what a block or an outage teaches.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::{Engine, Outage, Report, host_of, later, status_field};
use crate::fetch::{Cause, Fetched, Outcome};
use crate::store::{FetchRecord, PageKind};

impl Engine {
    /// Whether requests to the URL's host may go out now: on the site, not blocked, reachable
    /// (or due for another try), robots.txt read and allowing.
    pub(super) async fn may_fetch(
        &mut self,
        source: &str,
        url: &str,
        page: PageKind,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> bool {
        let Some(host) = host_of(url) else {
            return false;
        };
        if !self.fetcher.origins().allows(url) {
            tracing::debug!(source, url, "off the site; not fetched");
            report.off_site += 1;
            return false;
        }
        if let Some(until) = self.blocked.get(&host) {
            if *until > now {
                report.skipped += 1;
                return false;
            }
        }
        if let Some(outage) = self
            .outages
            .get_mut(&host)
            .filter(|outage| outage.retry_at > now)
        {
            // A listing left unasked says why in the fetch log (no request went out: attempts 0),
            // once per outage, so that every source of the host shows the cause, not only the
            // one that asked.
            if page == PageKind::Listing && outage.logged.insert(url.to_string()) {
                let error = format!("not requested: {}", outage.error);
                self.log_unrequested(source, url, page, Outcome::Transient, error, now);
            }
            report.unreachable += 1;
            return false;
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
                        .map(|at| later(at, self.robots_fresh_for(state.robots_status)));
                    let until = match stored_until {
                        Some(until) if until > now => {
                            let body = state.robots_body.unwrap_or_default();
                            self.fetcher.set_robots(&host, state.robots_status, &body);
                            until
                        }
                        _ => match self.refresh_robots(source, url, &host, now).await {
                            Some(status) => later(now, self.robots_fresh_for(status)),
                            None => {
                                report.unreachable += 1;
                                return false;
                            }
                        },
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
        match self.fetcher.robots_verdict(url) {
            crate::fetch::RobotsVerdict::Allowed => true,
            crate::fetch::RobotsVerdict::Unavailable => {
                // robots.txt answered with a server error: RFC 9309 forbids everything until it
                // is read; the host is treated as out of reach meanwhile.
                let retry = later(now, self.config.fetch.backoff_max);
                self.note_outage(&host, Cause::RobotsUnavailable, None, now, Some(retry));
                report.unreachable += 1;
                false
            }
            crate::fetch::RobotsVerdict::Disallowed => {
                tracing::info!(
                    source,
                    url,
                    outcome = "disallowed",
                    "robots.txt disallows this page; not fetched"
                );
                if page == PageKind::Listing && self.disallowed_logged.insert(url.to_string()) {
                    let error = "robots.txt disallows this page; not requested".to_string();
                    self.log_unrequested(source, url, page, Outcome::Disallowed, error, now);
                }
                report.skipped += 1;
                false
            }
        }
    }

    /// Logs a page that was not requested, and why (a `fetch_log` row with 0 attempts).
    fn log_unrequested(
        &mut self,
        source: &str,
        url: &str,
        page: PageKind,
        outcome: Outcome,
        error: String,
        now: DateTime<Utc>,
    ) {
        let record = FetchRecord {
            at: now,
            source: Some(source.to_string()),
            url: url.to_string(),
            page,
            status: None,
            outcome,
            bytes: 0,
            duration: Duration::ZERO,
            attempts: 0,
            error: Some(error),
        };
        if let Err(error) = self.store.log_fetch(&record) {
            tracing::error!(url, %error, "cannot log a page left unasked");
        }
    }

    /// How long a robots.txt answer is trusted: a day for rules (or their absence), a short while
    /// for a failed answer, which forbids everything until it is read again.
    fn robots_fresh_for(&self, status: Option<u16>) -> Duration {
        match status {
            Some(500..) | None => self.config.fetch.backoff_max,
            Some(_) => self.config.fetch.robots_refresh,
        }
    }

    /// Fetches and stores a host's robots.txt for `source`; returns the answer's status, or
    /// `None` when the host could not be reached (nothing stored; the outage is noted).
    async fn refresh_robots(
        &mut self,
        source: &str,
        url: &str,
        host: &str,
        now: DateTime<Utc>,
    ) -> Option<Option<u16>> {
        let Ok(base) = Url::parse(url) else {
            return Some(None);
        };
        let fetched = self.fetcher.fetch_robots(&base).await;
        let record = self.fetch_record(
            Some(source),
            &fetched,
            PageKind::Robots,
            now,
            fetched.outcome,
        );
        if let Err(error) = self.store.log_fetch(&record) {
            tracing::error!(url, %error, "cannot log a robots.txt request");
        }
        if fetched.status.is_none() {
            let cause = fetched.cause();
            self.note_outage(host, cause, fetched.error.as_deref(), now, None);
            return None;
        }
        if !matches!(fetched.status, Some(500..)) {
            // A server error keeps the host out of reach (RFC 9309): the outage goes on.
            self.host_answered(host, now);
        }
        self.fetcher.set_robots(host, fetched.status, &fetched.body);
        tracing::info!(url = %fetched.url, status = %status_field(fetched.status), "robots.txt read");
        if let Err(error) = self
            .store
            .set_robots(host, fetched.status, Some(&fetched.body), now)
        {
            tracing::error!(url, %error, "cannot store robots.txt");
        }
        Some(fetched.status)
    }

    /// Notes that `host` could not be reached: the first failure of an outage is a warning that
    /// names the cause; later ones are quiet, and the host is asked again after a pause that
    /// doubles from `fetch.backoff_max` up to `fetch.outage_backoff_max` (or at `retry_at`).
    fn note_outage(
        &mut self,
        host: &str,
        cause: Cause,
        error: Option<&str>,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) {
        let fetch = &self.config.fetch;
        let outage = self.outages.entry(host.to_string()).or_insert(Outage {
            since: now,
            failures: 0,
            retry_at: now,
            error: String::new(),
            logged: HashSet::new(),
        });
        outage.failures += 1;
        outage.error = match error {
            Some(error) if error.starts_with(cause.describe()) => error.to_string(),
            Some(error) => format!("{}: {error}", cause.describe()),
            None => cause.describe().to_string(),
        };
        let pause = fetch
            .backoff_max
            .saturating_mul(1u32 << (outage.failures - 1).min(16))
            .min(fetch.outage_backoff_max.max(fetch.backoff_max));
        outage.retry_at = retry_at.unwrap_or_else(|| later(now, pause));
        if outage.failures == 1 {
            tracing::warn!(
                host,
                cause = cause.as_str(),
                error = error.unwrap_or(""),
                outcome = "unreachable",
                "{host}: {}; backing off (said once per outage)",
                cause.describe()
            );
        } else {
            tracing::debug!(
                host,
                cause = cause.as_str(),
                failures = outage.failures,
                "still cannot reach the host"
            );
        }
    }

    /// Notes that `host` answered: an outage, if any, is over.
    fn host_answered(&mut self, host: &str, now: DateTime<Utc>) {
        if let Some(outage) = self.outages.remove(host) {
            let lasted = (now - outage.since).to_std().unwrap_or_default();
            tracing::info!(
                host,
                lasted = %humantime::format_duration(Duration::from_secs(lasted.as_secs())),
                "{host} answers again"
            );
        }
    }

    /// After a page request: an answer ends an outage, a network failure starts or extends one.
    pub(super) fn note_reachability(&mut self, fetched: &Fetched, now: DateTime<Utc>) {
        let Some(host) = host_of(&fetched.url) else {
            return;
        };
        if fetched.status.is_some() {
            self.host_answered(&host, now);
        } else if fetched.cause().is_unreachable() {
            self.note_outage(&host, fetched.cause(), fetched.error.as_deref(), now, None);
        }
    }

    /// Records a block once and keeps away from the host for `blocked_backoff`.
    pub(super) fn note_blocked(&mut self, fetched: &Fetched, now: DateTime<Utc>) {
        let Some(host) = host_of(&fetched.url) else {
            return;
        };
        let until = later(now, self.config.fetch.blocked_backoff);
        self.blocked.insert(host.clone(), until);
        match self
            .store
            .set_host_blocked(&host, Some(until), &fetched.url, now)
        {
            Ok(true) => {
                tracing::warn!(url = %fetched.url, status = %status_field(fetched.status), outcome = "blocked", until = %until, "host answers with a challenge; backing off")
            }
            Ok(false) => {}
            Err(error) => tracing::error!(url = %fetched.url, %error, "cannot record a block"),
        }
    }
}
