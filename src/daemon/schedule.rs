//! When things are due: listing polls, document re-checks, retries and the slow sweep, as pure
//! arithmetic over the time passed in; and the URLs of a listing's numbered pages.

use std::time::Duration;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use url::Url;

use crate::config::ScheduleConfig;

/// The furthest ahead any schedule looks: longer waits (a configured sweep of centuries, a
/// server's whim) are cut to it, so that no time computed here can overflow.
pub const MAX_AHEAD: Duration = Duration::from_secs(20 * 366 * 24 * 3600);

/// `now + wait`, with the wait cut to [`MAX_AHEAD`]: never panics, never wraps.
pub fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let wait = chrono::Duration::from_std(wait.min(MAX_AHEAD)).unwrap_or(chrono::Duration::zero());
    now.checked_add_signed(wait).unwrap_or(now)
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
    let fraction = jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
    let extra = Duration::try_from_secs_f64(interval.min(MAX_AHEAD).as_secs_f64() * fraction)
        .unwrap_or_default();
    later(now, interval.saturating_add(extra))
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

/// Whether a document of that age is past every step: in the slow sweep.
pub fn in_sweep(doc_age: Duration, schedule: &ScheduleConfig) -> bool {
    schedule.recheck.iter().all(|step| doc_age >= step.until)
}

/// When a document was published, for its age: the page's publication time, else its date at
/// noon (`utc_offset` time). `None` when neither is known.
pub fn published_instant(
    date: Option<NaiveDate>,
    at: Option<DateTime<FixedOffset>>,
    utc_offset: FixedOffset,
) -> Option<DateTime<Utc>> {
    if let Some(at) = at {
        return Some(at.with_timezone(&Utc));
    }
    let noon = date?.and_hms_opt(12, 0, 0)?;
    Some(
        noon.and_local_timezone(utc_offset)
            .single()?
            .with_timezone(&Utc),
    )
}

/// A document posted up to this long after its publication date (an English transcript posted
/// the next day) counts its age from when it appeared: its first hours online are when it is
/// edited.
pub const LATE_POSTING: Duration = Duration::from_secs(3 * 24 * 3600);

/// A document's age for the re-check schedule: since it was published when that is known (a
/// transcript of 2018 archived today is old), else since it was first seen; for a recent
/// document (published less than [`LATE_POSTING`] ago), the younger of the two.
pub fn document_age(
    now: DateTime<Utc>,
    published: Option<DateTime<Utc>>,
    first_seen: DateTime<Utc>,
) -> Duration {
    let since = |at: DateTime<Utc>| (now - at).to_std().unwrap_or_default();
    let seen_age = since(first_seen);
    match published.map(since) {
        Some(age) if age < LATE_POSTING => age.min(seen_age),
        Some(age) => age,
        None => seen_age,
    }
}

/// A stable number for a URL (the first 8 bytes of its SHA-256), to spread documents over time.
fn url_hash(url: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(url.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"))
}

/// The sweep's time for a document: each URL owns a fixed offset within the sweep period (from
/// its hash), so the archive's old documents are spread evenly over the period, whenever they
/// were fetched. The next such time at least half a period after `now` (so between half a period
/// and one and a half periods away).
pub fn sweep_slot(now: DateTime<Utc>, sweep: Duration, url: &str) -> DateTime<Utc> {
    let period = sweep.min(MAX_AHEAD).as_secs().max(1) as i64;
    let offset = (url_hash(url) % period as u64) as i64;
    let earliest = now.timestamp().saturating_add(period / 2);
    let at_or_before = earliest - (earliest - offset).rem_euclid(period);
    let slot = if at_or_before < earliest {
        at_or_before.saturating_add(period)
    } else {
        at_or_before
    };
    DateTime::from_timestamp(slot, 0).unwrap_or_else(|| later(now, sweep))
}

/// When the document at `url`, of age `doc_age`, is checked next: its step's interval with
/// jitter, or its slot in the sweep.
pub fn next_check(
    doc_age: Duration,
    now: DateTime<Utc>,
    schedule: &ScheduleConfig,
    url: &str,
    random: f64,
) -> DateTime<Utc> {
    if in_sweep(doc_age, schedule) {
        return sweep_slot(now, schedule.sweep, url);
    }
    jittered(
        now,
        recheck_interval(doc_age, schedule),
        schedule.jitter,
        random,
    )
}

/// When to try again after a failed fetch: soon, but not sooner than the server asked (its
/// `Retry-After`, already cut down to `fetch.blocked_backoff` by the fetcher).
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

/// Requests a day that re-checking sends, on average, for documents published at `published`
/// (seen from `now`): the sum over documents of one over their re-check interval.
pub fn recheck_requests_per_day(
    published: impl IntoIterator<Item = DateTime<Utc>>,
    now: DateTime<Utc>,
    schedule: &ScheduleConfig,
) -> RecheckLoad {
    let day = 86_400.0;
    let mut load = RecheckLoad::default();
    for at in published {
        let age = document_age(now, Some(at), at);
        let per_day = day / recheck_interval(age, schedule).as_secs_f64().max(1.0);
        load.documents += 1;
        if in_sweep(age, schedule) {
            load.sweep_documents += 1;
            load.sweep_per_day += per_day;
        } else {
            load.recent_per_day += per_day;
        }
    }
    load
}

/// The steady re-check load of an archive (see [`recheck_requests_per_day`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RecheckLoad {
    pub documents: u64,
    pub sweep_documents: u64,
    /// Requests a day for documents still on the decaying schedule (the recent ones).
    pub recent_per_day: f64,
    /// Requests a day of the slow sweep over older documents.
    pub sweep_per_day: f64,
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
            next_check(2 * HOUR, now, &schedule, "https://h/a.html", 0.0),
            now + chrono::Duration::hours(1)
        );
    }

    #[test]
    fn age_counts_from_publication_not_from_the_archive() {
        let schedule = ScheduleConfig::default();
        let now = utc("2026-12-01T08:00:00Z");
        let first_seen = utc("2026-12-01T07:00:00Z");
        let offset = schedule.utc_offset;
        let old = published_instant(NaiveDate::from_ymd_opt(2018, 7, 2), None, offset);
        assert_eq!(old, Some(utc("2018-07-02T04:00:00Z")));
        let age = document_age(now, old, first_seen);
        assert!(in_sweep(age, &schedule));
        // Archived an hour ago, published in 2018: never the hourly step.
        let at = next_check(age, now, &schedule, "https://h/t1.html", 0.0);
        assert!(at >= later(now, schedule.sweep / 2), "{at}");
        // Unknown date: the age is the archive's.
        assert_eq!(document_age(now, None, first_seen), HOUR);
        // Published today: the hourly step.
        let today = published_instant(NaiveDate::from_ymd_opt(2026, 12, 1), None, offset);
        let young = document_age(now, today, first_seen);
        assert_eq!(recheck_interval(young, &schedule), HOUR);
        // Yesterday's transcript posted an hour ago: hourly too, from when it appeared.
        let yesterday = published_instant(NaiveDate::from_ymd_opt(2026, 11, 30), None, offset);
        assert_eq!(document_age(now, yesterday, first_seen), HOUR);
    }

    #[test]
    fn the_sweep_spreads_documents_evenly_and_deterministically() {
        let sweep = Duration::from_secs(365 * 24 * 3600);
        let now = utc("2026-12-01T08:00:00Z");
        let urls: Vec<String> = (0..5000).map(|i| format!("https://h/t{i}.shtml")).collect();
        let slots: Vec<DateTime<Utc>> = urls.iter().map(|u| sweep_slot(now, sweep, u)).collect();
        // Same URL, same slot; every slot between half a period and one and a half away.
        assert_eq!(sweep_slot(now, sweep, &urls[0]), slots[0]);
        for slot in &slots {
            assert!(*slot >= later(now, sweep / 2) && *slot < later(now, sweep * 3 / 2));
        }
        // Spread: each of the 12 "months" of the year ahead holds 5000/12 ± 25 %.
        let month = sweep.as_secs() as i64 / 12;
        let start = later(now, sweep / 2).timestamp();
        let mut buckets = [0u32; 12];
        for slot in &slots {
            buckets[((slot.timestamp() - start) / month).min(11) as usize] += 1;
        }
        for count in buckets {
            assert!((312..=521).contains(&count), "{buckets:?}");
        }
        // A document checked at its slot gets the same offset one period later.
        let next = sweep_slot(slots[0], sweep, &urls[0]);
        assert_eq!((next - slots[0]).num_seconds(), sweep.as_secs() as i64);
    }

    #[test]
    fn steady_load_of_an_archive_is_the_sum_of_its_rates() {
        let schedule = ScheduleConfig::default();
        let now = utc("2026-12-01T08:00:00Z");
        let day = chrono::Duration::days(1);
        // One document of today (hourly), one of 2018 (the sweep, once a year).
        let load = recheck_requests_per_day([now, now - day * 3000], now, &schedule);
        assert_eq!(load.documents, 2);
        assert_eq!(load.sweep_documents, 1);
        assert!((load.recent_per_day - 24.0).abs() < 1e-9);
        assert!((load.sweep_per_day - 1.0 / 365.0).abs() < 1e-9);
    }

    mod retry_after_property {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a server sends as Retry-After, the retry lands between now and the ceiling
            /// (plus jitter), and its stored form sorts after now.
            #[test]
            fn any_retry_after_gives_a_bounded_sortable_retry(
                value in prop_oneof![
                    "[0-9]{1,30}",
                    "\\PC{0,40}",
                    (0u64..u64::MAX).prop_map(|n| n.to_string()),
                    (1u32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| {
                        let date = NaiveDate::from_ymd_opt(y as i32, m, d).unwrap();
                        date.and_hms_opt(1, 2, 3).unwrap().and_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
                    }),
                ],
                random in 0.0f64..1.0,
            ) {
                let schedule = ScheduleConfig::default();
                let ceiling = Duration::from_secs(6 * 3600);
                let now = utc("2026-12-01T08:00:00Z");
                let mut headers = reqwest::header::HeaderMap::new();
                if let Ok(header) = reqwest::header::HeaderValue::from_str(&value) {
                    headers.insert(reqwest::header::RETRY_AFTER, header);
                }
                let asked = crate::fetch::retry_after(&headers, now.into());
                let honoured = asked.map(|asked| crate::fetch::bounded_wait(asked, ceiling).0);
                let at = next_retry(Duration::ZERO, now, &schedule, honoured, random);
                prop_assert!(at > now);
                prop_assert!(at <= later(now, ceiling.mul_f64(1.0 + schedule.jitter)));
                prop_assert!(crate::store::format_time(at) > crate::store::format_time(now));
            }

            /// Whatever date a page claims (year -262143 to 262142), its next check is a time
            /// after now that stores and sorts as one.
            #[test]
            fn any_page_date_gives_a_bounded_sortable_check(
                days in i64::from(NaiveDate::MIN.num_days_from_ce())..=i64::from(NaiveDate::MAX.num_days_from_ce()),
                random in 0.0f64..1.0,
            ) {
                let schedule = ScheduleConfig::default();
                let now = utc("2026-12-01T08:00:00Z");
                let date = NaiveDate::from_num_days_from_ce_opt(days as i32).unwrap();
                let published = published_instant(Some(date), None, schedule.utc_offset);
                let age = document_age(now, published, now);
                let at = next_check(age, now, &schedule, "https://h/t.html", random);
                prop_assert!(at > now);
                prop_assert!(at <= later(now, schedule.sweep * 2));
                prop_assert!(crate::store::format_time(at) > crate::store::format_time(now));
            }
        }
    }

    #[test]
    fn stored_times_sort_even_at_the_end_of_time() {
        let now = utc("2026-12-01T08:00:00Z");
        let far = later(now, Duration::MAX);
        assert!(crate::store::format_time(far) > crate::store::format_time(now));
        assert_eq!(
            crate::store::format_time(DateTime::<Utc>::MAX_UTC),
            "9999-12-31T23:59:59Z"
        );
        let huge = next_retry(
            Duration::ZERO,
            now,
            &ScheduleConfig::default(),
            Some(Duration::MAX),
            1.0,
        );
        assert!(crate::store::format_time(huge) > crate::store::format_time(now));
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
