//! `[archive]`, `[fetch]`, `[schedule]`, `[[source]]` and `[sites.<profile>]`: what is watched, and how
//! politely and how often it is fetched.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{FixedOffset, NaiveTime, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::model::Lang;

/// `[archive]`: where the state lives and when a page counts as taken down.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// Directory of the database (created if missing).
    pub state_dir: PathBuf,
    /// Database file name inside `state_dir`.
    pub database: String,
    /// Consecutive `gone`/`soft_gone` fetches before a document is declared gone.
    pub gone_after: u32,
    /// A new version that looks like a glitch (garbled text, no date, most exchanges gone) is
    /// held and the page fetched again after this long; it is stored when that fetch agrees.
    #[serde(with = "humantime_serde")]
    pub suspect_recheck: Duration,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            state_dir: PathBuf::from("state"),
            database: "briefwatch.sqlite3".to_string(),
            gone_after: 2,
            suspect_recheck: Duration::from_secs(10 * 60),
        }
    }
}

impl ArchiveConfig {
    pub fn database_path(&self) -> PathBuf {
        self.state_dir.join(&self.database)
    }
}

/// `[fetch]`: how politely and how patiently pages are fetched.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Contact (URL or mail address) sent in the user agent: `briefwatch/<version> (+<contact>)`.
    pub contact: String,
    /// Least time between two requests to one host; a random extra of up to half of it is added.
    #[serde(with = "humantime_serde")]
    pub min_request_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Whole request, body included.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Larger bodies are cut off and counted as transient failures.
    pub max_body_bytes: u64,
    /// Attempts per page and cycle (first try included) for transient failures.
    pub max_attempts: u32,
    /// Base and cap of the full-jitter exponential backoff between attempts.
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long a host that served a challenge (412/521, script-only page) is left alone.
    #[serde(with = "humantime_serde")]
    pub blocked_backoff: Duration,
    /// How long a fetched robots.txt is trusted.
    #[serde(with = "humantime_serde")]
    pub robots_refresh: Duration,
    /// Hosts besides those of the sources that listing links and redirects may lead to: `host`
    /// (its default ports) or `host:port`.
    pub redirect_hosts: Vec<String>,
    /// New items followed per listing page fetched; the rest wait for the next cycle.
    pub max_new_per_page: usize,
    /// New items followed per poll cycle, over every listing.
    pub max_new_per_cycle: usize,
    /// Longest pause between two attempts to reach a host that cannot be reached (DNS, refused
    /// connections, timeouts); the pause doubles from `backoff_max` up to this.
    #[serde(with = "humantime_serde")]
    pub outage_backoff_max: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            contact: String::new(),
            min_request_interval: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_body_bytes: 4 * 1024 * 1024,
            max_attempts: 4,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(120),
            blocked_backoff: Duration::from_secs(6 * 3600),
            robots_refresh: Duration::from_secs(24 * 3600),
            redirect_hosts: vec!["www.fmprc.gov.cn".to_string(), "www.mfa.gov.cn".to_string()],
            max_new_per_page: 50,
            max_new_per_cycle: 100,
            outage_backoff_max: Duration::from_secs(30 * 60),
        }
    }
}

/// `[schedule]`: when listings are polled and known documents re-checked.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// How often the daemon wakes up to look for due work.
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    /// Offset of the ministry's clock (Beijing time).
    #[serde(
        deserialize_with = "deserialize_offset",
        serialize_with = "serialize_offset"
    )]
    pub utc_offset: FixedOffset,
    /// Days and local hours in which transcripts are usually posted.
    pub window_days: Vec<Weekday>,
    pub window_start: NaiveTime,
    pub window_end: NaiveTime,
    /// Listing poll interval inside the briefing window (if shorter than the source's own).
    #[serde(with = "humantime_serde")]
    pub window_interval: Duration,
    /// Local hours of the night, and the interval used then and on days outside the window.
    pub night_start: NaiveTime,
    pub night_end: NaiveTime,
    #[serde(with = "humantime_serde")]
    pub quiet_interval: Duration,
    /// Random spread added to every computed time, as a fraction of the interval (0 to 1).
    pub jitter: f64,
    /// Re-check intervals by document age: the first step whose `until` exceeds the age applies.
    pub recheck: Vec<RecheckStep>,
    /// Interval for documents older than the last step: the slow full-archive sweep.
    #[serde(with = "humantime_serde")]
    pub sweep: Duration,
}

/// One step of the decaying re-check schedule.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecheckStep {
    #[serde(with = "humantime_serde")]
    pub until: Duration,
    #[serde(with = "humantime_serde")]
    pub every: Duration,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid constant time");
        ScheduleConfig {
            tick: Duration::from_secs(30),
            utc_offset: FixedOffset::east_opt(8 * 3600).expect("valid constant offset"),
            window_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            window_start: time(15, 0),
            window_end: time(23, 59),
            window_interval: Duration::from_secs(10 * 60),
            night_start: time(0, 0),
            night_end: time(7, 0),
            quiet_interval: hours(3),
            jitter: 0.1,
            recheck: vec![
                RecheckStep {
                    until: hours(12),
                    every: hours(1),
                },
                RecheckStep {
                    until: hours(3 * 24),
                    every: hours(6),
                },
                RecheckStep {
                    until: hours(30 * 24),
                    every: hours(24),
                },
                RecheckStep {
                    until: hours(180 * 24),
                    every: hours(7 * 24),
                },
                RecheckStep {
                    until: hours(365 * 24),
                    every: hours(30 * 24),
                },
            ],
            sweep: hours(365 * 24),
        }
    }
}

/// `[[source]]`: one listing of one language.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Short unique name, stored with every document.
    pub name: String,
    /// Built-in site profile (`mfa-en`, `mfa-zh`).
    pub profile: String,
    /// First page of the listing.
    pub listing_url: Url,
    pub lang: Lang,
    /// Listing poll interval outside the briefing window and the night.
    #[serde(with = "humantime_serde", default = "default_poll_interval")]
    pub poll_interval: Duration,
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(30 * 60)
}

fn deserialize_offset<'de, D: Deserializer<'de>>(deserializer: D) -> Result<FixedOffset, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse::<FixedOffset>().map_err(|_| {
        serde::de::Error::custom(format!("expected an offset like \"+08:00\", got {text:?}"))
    })
}

fn serialize_offset<S: Serializer>(offset: &FixedOffset, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&offset.to_string())
}

/// Selector chains from the config file, tried before the built-in ones. Every field is optional;
/// a missing field keeps the built-in chain as it is.
///
/// ```toml
/// [sites.mfa-en]
/// body = [".article-body", "#News_Body_Txt_A"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorOverrides {
    /// Links of a listing page (`a` elements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_items: Option<Vec<String>>,
    /// The article title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Vec<String>>,
    /// The publication time (element text, or the `content` of a `<meta>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Vec<String>>,
    /// The element holding the transcript paragraphs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Vec<String>>,
}
