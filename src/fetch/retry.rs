//! How long to wait before asking again: a server's `Retry-After`, bounded, and full-jitter
//! exponential backoff.

use std::time::Duration;

use reqwest::header::{self, HeaderMap};

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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{self, HeaderValue};

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
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
}
