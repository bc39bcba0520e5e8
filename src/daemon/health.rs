//! Freshness and breakage alarms, and each source's current failure: whether the watch has gone
//! blind and why. Pure decisions over what the archive saw, with the clock passed in;
//! [`source_health`] and [`source_failure`] take those facts from the archive's fetch log.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::config::{ScheduleConfig, ServiceConfig};
use crate::fetch::{Cause, failure_cause};
use crate::store::{Store, StoreError, format_time};

/// What the archive knows about one source's recent health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceHealth {
    pub source: String,
    /// Briefing date of the newest archived press conference.
    pub latest_press_conference: Option<NaiveDate>,
    /// Last fetch whose page was understood (`ok` or `not_modified`).
    pub last_good: Option<DateTime<Utc>>,
    /// First `unparseable` or `blocked` fetch after `last_good`, and its outcome.
    pub first_broken: Option<(DateTime<Utc>, String)>,
    /// First page found by the content fallback since a selector last found one.
    pub drift: Option<Drift>,
}

/// Pages of a source no longer found by the selectors: the layout changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// The first page the fallback found.
    pub since: DateTime<Utc>,
    pub url: String,
    /// The body selector that found the pages before, if any did.
    pub last_selector: Option<String>,
}

/// A problem an operator should hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    pub source: String,
    /// `stale` (no press conference by the expected hour) or `broken` (nothing understood).
    pub kind: &'static str,
    /// When the problem started: the expected hour, or the first failing fetch.
    pub since: DateTime<Utc>,
    pub message: String,
}

/// On a briefing day after `fresh_by` (local time), a source whose newest press conference is older
/// than today is stale. Holidays without a conference raise it too: the operator can tell.
pub fn stale_alarm(
    now: DateTime<Utc>,
    health: &SourceHealth,
    service: &ServiceConfig,
    schedule: &ScheduleConfig,
) -> Option<Alarm> {
    let local = now.with_timezone(&schedule.utc_offset);
    let today = local.date_naive();
    if !schedule.window_days.contains(&today.weekday()) || local.time() < service.fresh_by {
        return None;
    }
    if health
        .latest_press_conference
        .is_some_and(|date| date >= today)
    {
        return None;
    }
    let since = today
        .and_time(service.fresh_by)
        .and_local_timezone(schedule.utc_offset)
        .single()?
        .with_timezone(&Utc);
    let latest = health
        .latest_press_conference
        .map_or("none archived".to_string(), |date| date.to_string());
    Some(Alarm {
        source: health.source.clone(),
        kind: "stale",
        since,
        message: format!(
            "no press conference of {today} by {} (newest: {latest})",
            service.fresh_by.format("%H:%M")
        ),
    })
}

/// A source whose every understood-or-not fetch since `first_broken` failed to parse or was blocked,
/// for at least `broken_after`, is broken. Transient failures neither start nor end the streak.
pub fn broken_alarm(
    now: DateTime<Utc>,
    health: &SourceHealth,
    service: &ServiceConfig,
) -> Option<Alarm> {
    let (since, outcome) = health.first_broken.as_ref()?;
    let lasting = (now - *since).to_std().unwrap_or_default();
    if lasting < service.broken_after {
        return None;
    }
    Some(Alarm {
        source: health.source.clone(),
        kind: "broken",
        since: *since,
        message: format!(
            "every page {outcome} since {} ({})",
            format_time(*since),
            humantime::format_duration(std::time::Duration::from_secs(lasting.as_secs()))
        ),
    })
}

/// A source whose pages are found by the content fallback since a given page, and no longer by
/// a selector, has changed its layout: raised at once, cleared when a selector finds a page again.
pub fn drift_alarm(health: &SourceHealth) -> Option<Alarm> {
    let drift = health.drift.as_ref()?;
    let before = match &drift.last_selector {
        Some(selector) => format!("the body selector `{selector}` found the pages before"),
        None => "no selector found its pages before".to_string(),
    };
    Some(Alarm {
        source: health.source.clone(),
        kind: "layout_drift",
        since: drift.since,
        message: format!(
            "the layout changed: pages are found by the content fallback since {}, first {}; {before}; \
             `briefwatch extract --explain {} FILE` prints selectors for `[sites.<profile>]`",
            format_time(drift.since),
            drift.url,
            drift.url
        ),
    })
}

/// Every alarm of these sources at `now`.
pub fn alarms(
    now: DateTime<Utc>,
    healths: &[SourceHealth],
    service: &ServiceConfig,
    schedule: &ScheduleConfig,
) -> Vec<Alarm> {
    healths
        .iter()
        .flat_map(|health| {
            [
                stale_alarm(now, health, service, schedule),
                broken_alarm(now, health, service),
                drift_alarm(health),
            ]
        })
        .flatten()
        .collect()
}

/// Whether an alarm mail may go out: never sent for this problem, or not within `repeat`.
pub fn alarm_mail_due(
    now: DateTime<Utc>,
    last_sent: Option<DateTime<Utc>>,
    repeat: std::time::Duration,
) -> bool {
    last_sent.is_none_or(|sent| (now - sent).to_std().unwrap_or_default() >= repeat)
}

/// One line for `systemctl status` and logs: `mfa-en stale: …; mfa-zh broken: …`.
pub fn alarm_summary(alarms: &[Alarm]) -> String {
    alarms
        .iter()
        .map(|alarm| format!("{} {}: {}", alarm.source, alarm.kind, alarm.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads a source's health facts from the archive.
pub fn source_health(store: &Store, source: &str) -> Result<SourceHealth, StoreError> {
    let facts = store.source_health_facts(source)?;
    let drift = facts.first_fallback.map(|(since, url)| Drift {
        since,
        url,
        last_selector: facts.last_selector.and_then(|(_, selector)| selector),
    });
    Ok(SourceHealth {
        drift,
        source: source.to_string(),
        latest_press_conference: facts.latest_press_conference,
        last_good: facts.last_good,
        first_broken: facts.first_broken,
    })
}

/// Every configured source's health, then its alarms.
pub fn check(
    store: &Store,
    now: DateTime<Utc>,
    sources: &[&str],
    service: &ServiceConfig,
    schedule: &ScheduleConfig,
) -> Result<Vec<Alarm>, StoreError> {
    let healths = sources
        .iter()
        .map(|source| source_health(store, source))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(alarms(now, &healths, service, schedule))
}

/// A source whose latest requests failed: since when, how often, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFailure {
    pub source: String,
    /// First failure after the last answer the source got (or the first failure ever).
    pub since: DateTime<Utc>,
    /// The latest failure.
    pub last_at: DateTime<Utc>,
    /// Failed requests since `since`.
    pub failures: u64,
    pub cause: Cause,
    /// The cause in words (`the host cannot be reached: connection refused`).
    pub description: String,
    pub url: String,
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl SourceFailure {
    /// How long the failure has lasted at `now`, in words (`2h 5m`).
    pub fn lasting(&self, now: DateTime<Utc>) -> String {
        let seconds = (now - self.since).num_seconds().max(0) as u64;
        let rounded = if seconds >= 3600 {
            seconds / 60 * 60
        } else {
            seconds
        };
        humantime::format_duration(std::time::Duration::from_secs(rounded)).to_string()
    }
}

/// The source's current failure, if its latest request failed: read from the fetch log.
pub fn source_failure(store: &Store, source: &str) -> Result<Option<SourceFailure>, StoreError> {
    let Some(streak) = store.failure_streak(source)? else {
        return Ok(None);
    };
    let cause = failure_cause(&streak.outcome, streak.status, streak.error.as_deref());
    Ok(Some(SourceFailure {
        source: source.to_string(),
        since: streak.since,
        last_at: streak.at,
        failures: streak.failures,
        cause,
        description: cause.describe().to_string(),
        url: streak.url,
        status: streak.status,
        error: streak.error,
    }))
}

/// Why `/healthz` should not say ok: every source (there is at least one) has been failing for
/// `unhealthy_after` or longer. One source still fetching, or a failure younger than that, is
/// healthy: the alarms and `status` tell about single sources.
pub fn unhealthy(
    now: DateTime<Utc>,
    failures: &[(String, Option<SourceFailure>)],
    unhealthy_after: std::time::Duration,
) -> Option<String> {
    if failures.is_empty() {
        return None;
    }
    let mut reasons = Vec::new();
    for (source, failure) in failures {
        let failure = failure.as_ref()?;
        if (now - failure.since).to_std().unwrap_or_default() < unhealthy_after {
            return None;
        }
        reasons.push(format!(
            "{source}: {} since {} ({})",
            failure.description,
            format_time(failure.since),
            failure.lasting(now)
        ));
    }
    Some(format!("every source is failing: {}", reasons.join("; ")))
}

/// Every configured source's current failure.
pub fn failures(
    store: &Store,
    sources: &[&str],
) -> Result<Vec<(String, Option<SourceFailure>)>, StoreError> {
    sources
        .iter()
        .map(|source| Ok((source.to_string(), source_failure(store, source)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn health(latest: Option<&str>) -> SourceHealth {
        SourceHealth {
            source: "mfa-en".into(),
            latest_press_conference: latest.map(date),
            ..SourceHealth::default()
        }
    }

    #[test]
    fn a_weekday_without_todays_conference_is_stale_only_after_the_hour() {
        let service = ServiceConfig::default();
        let schedule = ScheduleConfig::default();
        let yesterday = health(Some("2020-07-01"));
        // Thursday 2 July 2020, 20:59 Beijing (12:59 UTC): not yet.
        assert_eq!(
            stale_alarm(utc("2020-07-02T12:59:00Z"), &yesterday, &service, &schedule),
            None
        );
        // 21:00 Beijing: stale since exactly then.
        let alarm = stale_alarm(utc("2020-07-02T13:00:00Z"), &yesterday, &service, &schedule)
            .expect("stale");
        assert_eq!(alarm.kind, "stale");
        assert_eq!(alarm.since, utc("2020-07-02T13:00:00Z"));
        assert!(alarm.message.contains("2020-07-02"), "{}", alarm.message);
        assert!(alarm.message.contains("2020-07-01"), "{}", alarm.message);
        // Today's conference archived: fresh.
        let today = health(Some("2020-07-02"));
        assert_eq!(
            stale_alarm(utc("2020-07-02T15:00:00Z"), &today, &service, &schedule),
            None
        );
        // Nothing archived at all is stale too.
        assert!(
            stale_alarm(
                utc("2020-07-02T15:00:00Z"),
                &health(None),
                &service,
                &schedule
            )
            .is_some()
        );
    }

    #[test]
    fn weekends_are_never_stale_and_the_hour_is_beijing_time() {
        let service = ServiceConfig::default();
        let schedule = ScheduleConfig::default();
        let old = health(Some("2020-06-01"));
        // Saturday 4 July 2020, 23:00 Beijing.
        assert_eq!(
            stale_alarm(utc("2020-07-04T15:00:00Z"), &old, &service, &schedule),
            None
        );
        // Sunday 5 July 17:00 UTC is Monday 6 July 01:00 Beijing: before the hour.
        assert_eq!(
            stale_alarm(utc("2020-07-05T17:00:00Z"), &old, &service, &schedule),
            None
        );
        let early = ServiceConfig {
            fresh_by: chrono::NaiveTime::from_hms_opt(0, 30, 0).unwrap(),
            ..ServiceConfig::default()
        };
        assert!(stale_alarm(utc("2020-07-05T17:00:00Z"), &old, &early, &schedule).is_some());
    }

    #[test]
    fn broken_needs_the_whole_configured_time() {
        let service = ServiceConfig::default();
        let mut broken = health(Some("2020-07-02"));
        broken.first_broken = Some((utc("2020-07-02T08:00:00Z"), "unparseable".into()));
        assert_eq!(
            broken_alarm(utc("2020-07-02T13:59:59Z"), &broken, &service),
            None
        );
        let alarm = broken_alarm(utc("2020-07-02T14:00:00Z"), &broken, &service).expect("broken");
        assert_eq!(alarm.kind, "broken");
        assert_eq!(alarm.since, utc("2020-07-02T08:00:00Z"));
        assert!(alarm.message.contains("unparseable"), "{}", alarm.message);
        assert_eq!(
            broken_alarm(utc("2020-07-03T14:00:00Z"), &health(None), &service),
            None
        );
    }

    #[test]
    fn pages_found_by_the_fallback_raise_layout_drift_until_a_selector_finds_one() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.connection();
        let log = |at: &str, url: &str, found_by: &str, selector: Option<&str>| {
            conn.execute(
                "INSERT INTO fetch_log (at, source, url, page, outcome, found_by, selector)
                 VALUES (?1, 'mfa-en', ?2, 'article', 'ok', ?3, ?4)",
                params![at, url, found_by, selector],
            )
            .unwrap();
        };
        log(
            "2020-07-02T01:00:00Z",
            "https://a.test/1",
            "selector",
            Some(".content_mod div.content"),
        );
        assert_eq!(drift_alarm(&source_health(&store, "mfa-en").unwrap()), None);
        log("2020-07-02T02:00:00Z", "https://a.test/2", "fallback", None);
        log("2020-07-02T03:00:00Z", "https://a.test/3", "fallback", None);
        let alarm = drift_alarm(&source_health(&store, "mfa-en").unwrap()).expect("drift");
        assert_eq!(alarm.kind, "layout_drift");
        assert_eq!(alarm.since, utc("2020-07-02T02:00:00Z"));
        assert!(
            alarm.message.contains("https://a.test/2"),
            "{}",
            alarm.message
        );
        assert!(
            alarm.message.contains(".content_mod div.content"),
            "{}",
            alarm.message
        );
        // The configured selectors find the pages again: cleared.
        log(
            "2020-07-02T04:00:00Z",
            "https://a.test/4",
            "selector",
            Some("main .text"),
        );
        assert_eq!(drift_alarm(&source_health(&store, "mfa-en").unwrap()), None);
        assert_eq!(source_health(&store, "mfa-zh").unwrap().drift, None);
    }

    #[test]
    fn alarm_mails_repeat_at_most_once_per_period() {
        let day = std::time::Duration::from_secs(24 * 3600);
        let now = utc("2020-07-02T14:00:00Z");
        assert!(alarm_mail_due(now, None, day));
        assert!(!alarm_mail_due(now, Some(utc("2020-07-01T14:00:01Z")), day));
        assert!(alarm_mail_due(now, Some(utc("2020-07-01T14:00:00Z")), day));
    }

    #[test]
    fn health_facts_come_from_the_fetch_log_and_documents() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.connection();
        let log = |at: &str, outcome: &str| {
            conn.execute(
                "INSERT INTO fetch_log (at, source, url, page, outcome) VALUES (?1, 'mfa-en', 'u', 'listing', ?2)",
                params![at, outcome],
            )
            .unwrap();
        };
        log("2020-07-02T01:00:00Z", "blocked");
        log("2020-07-02T02:00:00Z", "ok");
        log("2020-07-02T03:00:00Z", "transient");
        log("2020-07-02T04:00:00Z", "unparseable");
        log("2020-07-02T05:00:00Z", "blocked");
        let facts = source_health(&store, "mfa-en").unwrap();
        assert_eq!(facts.last_good, Some(utc("2020-07-02T02:00:00Z")));
        assert_eq!(
            facts.first_broken,
            Some((utc("2020-07-02T04:00:00Z"), "unparseable".to_string()))
        );
        assert_eq!(facts.latest_press_conference, None);
        let quiet = source_health(&store, "mfa-zh").unwrap();
        assert_eq!(quiet.first_broken, None);
    }
}
